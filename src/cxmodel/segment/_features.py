"""Feature selection and group alignment over a CustomerTable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import missing_labels
from cxmodel._pieces import warn
from cxmodel.errors import DataWarning, SchemaError, counted_warning

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["feature_columns", "feature_matrix", "group_mask"]

MISSING_LEVEL = "(missing)"


def _levels(name: str, values: npt.NDArray[Any]) -> dict[str, npt.NDArray[np.bool_]]:
    """One indicator per value of a text column, ``name=value``, sorted; ``name=(missing)``
    for customers without one."""
    present = np.asarray(values != None, dtype=bool)  # noqa: E711
    text = np.where(present, values, MISSING_LEVEL).astype(str)
    levels, codes = np.unique(text, return_inverse=True)
    codes = codes.reshape(-1)
    return {f"{name}={level}": codes == j for j, level in enumerate(levels.tolist())}


def feature_columns(
    table: CustomerTable, features: Sequence[str] | None
) -> dict[str, npt.NDArray[Any]]:
    """The feature columns by name: the named columns, or by default every bool / numeric one.

    A text column (a trait such as ``plan``) named in ``features`` becomes one bool indicator
    per value, ``plan=basic``, ``plan=pro`` (and ``plan=(missing)``), so that its levels
    compare as proportions; by default text columns are left out.
    """
    if features is None:
        return {
            name: table.column(name)
            for name in table.columns[1:]
            if table.column(name).dtype.kind in "biuf"
        }
    names = list(features)
    if not names:
        raise SchemaError("features must name at least one column (got an empty list)")
    out: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        values = table.column(name)
        kind = values.dtype.kind
        if kind in "biuf":
            out[name] = values
        elif kind == "O" and name != "customer_id" and _is_text(values):
            out.update(_levels(name, values))
        else:
            raise SchemaError(
                f"feature {name!r} has dtype {values.dtype}; expected a bool, numeric or text "
                "column"
            )
    return out


def _is_text(values: npt.NDArray[Any]) -> bool:
    return all(v is None or isinstance(v, str) for v in values.tolist())


def feature_matrix(columns: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.float64]:
    """An (n_customers, n_features) float matrix of :func:`feature_columns`."""
    return np.column_stack([values.astype(np.float64) for values in columns.values()])


def group_mask(table: CustomerTable, group: Any, what: str) -> npt.NDArray[np.bool_]:
    """A boolean mask over the table from a mask or a collection of customer ids; ids that
    are not customers of the table are left out with a warning counting them (an error when
    none is)."""
    arr = np.asarray(group)
    if arr.dtype == np.bool_:
        if arr.shape != (len(table),):
            raise SchemaError(
                f"{what} is a boolean mask of shape {arr.shape}; expected ({len(table)},), one "
                "value per table row"
            )
        return arr
    ids = arr.astype(object).ravel()
    missing = missing_labels(ids)
    if missing.any():  # a nullable boolean mask with NA, or a missing id
        i = int(np.flatnonzero(missing)[0])
        raise SchemaError(
            f"{what}[{i}] is missing ({ids[i]!r}; {int(missing.sum()):,} of {ids.size:,} are); "
            "a group is a boolean mask with True or False for every table row, or customer ids"
        )
    mask = np.isin(table.customer_id, ids)
    if ids.size and not mask.any():
        raise SchemaError(f"{what} names no customer of the table (e.g. {ids[0]!r})")
    unknown = ~np.isin(ids, table.customer_id)
    if unknown.any():
        warn(
            counted_warning(
                DataWarning,
                f"{what}: {{unknown:,}} of {{ids:,}} customer ids are not in the table (e.g. "
                f"{ids[unknown][0]!r}) and are left out of the group",
                unknown=int(unknown.sum()),
                ids=int(ids.size),
            ),
        )
    return mask
