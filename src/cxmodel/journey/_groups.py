"""Breakdowns by segment: group codes for ``by=`` and per-group results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import label_array, missing_labels
from cxmodel._optional import import_optional
from cxmodel.errors import SchemaError
from cxmodel.journey._common import MISSING_LABEL, level_codes, session_codes

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = [
    "By",
    "Grouped",
    "by_codes",
    "find_group",
    "first_rows",
    "groups_frame",
    "unit_groups",
    "unit_masks",
]

By = str | npt.ArrayLike
"""A column name, a per-row array (log order) or a per-customer array (``log.customers`` order)."""

IntArray = npt.NDArray[np.int64]
T = TypeVar("T")


def by_codes(log: InteractionLog, by: By) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Per-row group codes ``0..G-1`` and their labels for a ``by=`` argument.

    ``by`` is the name of a string or numeric column, an array with one value per row of the
    log (in log order, like ``segment``), or an array with one value per customer (in the
    order of ``log.customers``). Missing values (None or NaN) form the group
    ``"(missing)"``. Labels are sorted.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "view", "view"], plan=["pro", "pro", None])
    >>> codes, labels = by_codes(log, "plan")
    >>> codes.tolist(), labels.tolist()
    ([0, 0, 1], ['pro', '(missing)'])
    >>> by_codes(log, ["x", "y"])[0].tolist()  # one value per customer
    [0, 0, 1]
    """
    if isinstance(by, str):
        if by not in log:
            raise SchemaError(f"by={by!r} is not a column of the log; columns: {log.columns}")
        if log.schema.get(by) == "string":
            return level_codes(log, by)
        values: npt.NDArray[Any] = log.column(by)
    else:
        values = label_array(by)
        if values.ndim != 1:
            raise SchemaError(f"by must be a column name or a 1-d array, got shape {values.shape}")
        if len(values) == len(log):
            pass
        elif len(values) == log.n_customers:
            values = values[log.customer_codes]
        else:
            raise SchemaError(
                f"by has {len(values)} values; expected one per row ({len(log)}) "
                f"or one per customer ({log.n_customers})"
            )
    missing = missing_labels(values)  # None, NaN, NaT, pandas' NA
    present = values[~missing]
    try:
        labels, inverse = np.unique(present, return_inverse=True)
    except TypeError as exc:
        raise SchemaError(f"by values must be mutually comparable: {exc}") from exc
    codes = np.full(len(values), len(labels), dtype=np.int64)
    codes[~missing] = inverse.ravel()
    out_labels = np.asarray(labels, dtype=object)
    if missing.any():
        out_labels = np.append(out_labels, np.array([MISSING_LABEL], dtype=object))
    return codes, out_labels


def unit_masks(
    row_codes: IntArray,
    labels: npt.NDArray[np.object_],
    unit: IntArray,
    base_rows: IntArray,
) -> tuple[npt.NDArray[np.object_], list[npt.NDArray[np.bool_]]]:
    """Row masks selecting the whole units of each group.

    A unit (customer or session, ``unit`` per row, contiguous) belongs to the group of its
    ``base_rows`` entry (one row per unit: its first event, or its anchor event). Units
    without a base row are in no group. Only groups with at least one unit are returned.
    """
    n_units = int(unit.max()) + 1 if len(unit) else 0
    unit_group = np.full(n_units, -1, dtype=np.int64)
    unit_group[unit[base_rows]] = row_codes[base_rows]
    row_group = unit_group[unit] if len(unit) else np.zeros(0, dtype=np.int64)
    present = np.flatnonzero(np.bincount(unit_group[unit_group >= 0], minlength=len(labels)))
    return labels[present], [row_group == g for g in present.tolist()]


def unit_groups(
    log: InteractionLog,
    row_groups: tuple[IntArray, npt.NDArray[np.object_]],
    mask: npt.NDArray[np.bool_] | None,
    by_session: bool,
) -> tuple[npt.NDArray[np.object_], list[npt.NDArray[np.bool_]]]:
    """The groups of ``by=`` (``row_groups``, from :func:`by_codes` over the whole log) and
    their row masks over ``log``, the log already cut to ``mask``: each unit (customer, or
    session with ``by_session``) is in the group of its first row."""
    codes, labels = row_groups
    if mask is not None:
        codes = codes[mask]
    unit = session_codes(log) if by_session else log.customer_codes.astype(np.int64)
    return unit_masks(codes, labels, unit, first_rows(unit))


def first_rows(unit: IntArray) -> IntArray:
    """The first row of every unit (units are contiguous runs of ``unit``)."""
    if len(unit) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.ones(len(unit), dtype=bool)
    start[1:] = unit[1:] != unit[:-1]
    return np.flatnonzero(start).astype(np.int64)


def find_group(labels: npt.NDArray[np.object_] | None, groups: Sequence[T] | None, label: Any) -> T:
    """The group result with this label, or a SchemaError listing the labels."""
    if labels is None or groups is None:
        raise SchemaError("this result has no groups: pass by= to the view")
    hit = [i for i, lab in enumerate(labels.tolist()) if lab == label]
    if not hit:
        raise SchemaError(f"no group {label!r}; groups: {labels.tolist()}")
    return groups[hit[0]]


def groups_frame(
    labels: npt.NDArray[np.object_] | None, groups: Sequence[Any] | None, what: str
) -> Any:
    """Every group's ``to_pandas()`` stacked, with the group as the outer index level."""
    if labels is None or groups is None:
        raise SchemaError(f"{what} has no groups: pass by= to the view")
    pd = import_optional("pandas", f"{what}.groups_to_pandas()")
    return pd.concat(
        {lab: g.to_pandas() for lab, g in zip(labels.tolist(), groups, strict=True)},
        names=["group"],
    )


R = TypeVar("R")


@attrs.frozen(eq=False, repr=False)
class Grouped(Generic[R]):
    """The ``by=`` groups of a view result, with ``group()`` and ``groups_to_pandas()``.

    Keyword-only fields of every such result: ``by_labels`` (the group labels, or ``None``
    without ``by=``) and ``groups`` (one result per label, of the class ``R``: the result's
    own).
    """

    by_labels: npt.NDArray[np.object_] | None = attrs.field(default=None, kw_only=True)
    groups: tuple[R, ...] | None = attrs.field(default=None, kw_only=True)

    def group(self, label: Any) -> R:
        """The result of one ``by=`` group; a SchemaError lists the labels when absent."""
        return find_group(self.by_labels, self.groups, label)

    def groups_to_pandas(self) -> Any:
        """Every group's table, stacked with the group as the outer index level."""
        return groups_frame(self.by_labels, self.groups, type(self).__name__)
