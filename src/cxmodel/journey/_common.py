"""Shared helpers of the journey views: level codes, units, quantiles and HTML tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import boolean_mask, float_array, got, known_options
from cxmodel._pieces import warn
from cxmodel._time import duration_to_us
from cxmodel.errors import DataWarning, SchemaError, ValueTypeError, counted_warning

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = [
    "MISSING_LABEL",
    "duration_us",
    "level_codes",
    "next_occurrence",
    "quantile_levels",
    "row_mask",
    "segment_masks",
    "session_codes",
    "sorted_quantiles",
    "step_list",
    "value_codes",
    "window_us",
]

MISSING_LABEL = "(missing)"

IntArray = npt.NDArray[np.int64]


def string_column(log: InteractionLog, level: str) -> None:
    """Raise unless ``level`` is a string column of ``log``."""
    if not isinstance(level, str) or level not in log:
        raise SchemaError(f"level={level!r} is not a column of the log; columns: {log.columns}")
    if log.schema.get(level) != "string":
        raise SchemaError(f"level={level!r} must be a string column, got {log.schema.get(level)!r}")


def level_codes(log: InteractionLog, level: str) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Codes ``0..K-1`` for a string column; missing values get an extra ``"(missing)"`` label."""
    string_column(log, level)
    codes32, categories = log.categorical(level)
    codes = codes32.astype(np.int64)
    labels = np.asarray(categories, dtype=object)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(labels)
        labels = np.append(labels, np.array([MISSING_LABEL], dtype=object))
    return codes, labels


def value_codes(log: InteractionLog, name: str) -> tuple[IntArray, int]:
    """Integer codes ``0..G-1`` and ``G`` for any string or numeric column (missing is a value)."""
    if not isinstance(name, str) or name not in log:
        raise SchemaError(f"column {name!r} is not in the log; columns: {log.columns}")
    if log.schema.get(name) == "string":
        codes, labels = level_codes(log, name)
        return codes, len(labels)
    if log.schema.get(name) != "float":
        raise SchemaError(f"column {name!r} must be a string or numeric column")
    values = log.numeric(name)
    missing = np.isnan(values)
    uniq, inverse = np.unique(np.where(missing, 0.0, values), return_inverse=True)
    codes = inverse.ravel().astype(np.int64)
    codes[missing] = len(uniq)
    return codes, len(uniq) + 1


def session_codes(log: InteractionLog) -> IntArray:
    """Per-row session codes ``0..S-1`` from the ``session_id`` column, contiguous per unit.

    ``session_id`` may be of any type: the numbers :func:`sessions` writes, or the strings
    (or numbers) of an export. A session is a run of consecutive events (log order) of one
    customer with the same ``session_id``; ids are compared as values, so equal ids of
    different customers are different sessions. When one customer's events of one id are
    split by events of another id, each run counts as a session of its own and a
    :class:`~cxmodel.errors.DataWarning` says how many ids were split.

    Raises
    ------
    SchemaError
        No ``session_id`` column, or missing session ids.
    """
    if "session_id" not in log:
        raise SchemaError(
            "this view needs a session_id column: call cxmodel.journey.sessions(log) first"
        )
    if log.schema["session_id"] == "string":
        raw_codes, _ = log.categorical("session_id")
        raw = raw_codes.astype(np.int64)
        missing = raw < 0
    else:
        values = log.numeric("session_id")
        missing = np.isnan(values)
        raw = np.unique(np.where(missing, 0.0, values), return_inverse=True)[1].ravel()
    if missing.any():
        row = int(log.row_order[np.flatnonzero(missing)[0]]) + 1
        raise SchemaError(
            f"session_id is missing in {int(missing.sum())} row(s) (first: row {row} of the "
            "input); fill it, or call cxmodel.journey.sessions(log, overwrite=True) to derive "
            "sessions from time gaps"
        )
    if len(raw) == 0:
        return np.zeros(0, dtype=np.int64)
    cust = log.customer_codes.astype(np.int64)
    change = np.ones(len(raw), dtype=bool)
    change[1:] = (raw[1:] != raw[:-1]) | (cust[1:] != cust[:-1])
    codes = np.cumsum(change).astype(np.int64) - 1
    starts = np.flatnonzero(change)
    pairs = np.unique(cust[starts] * (int(raw.max()) + 1) + raw[starts])
    if len(pairs) < len(starts):
        message = counted_warning(
            DataWarning,
            "session_id: {runs} run(s) of events continue a session id the same customer used "
            "before another id came in between; each run counts as a session of its own (sort "
            "or re-derive sessions with cxmodel.journey.sessions(log, overwrite=True) if they "
            "should be one)",
            runs=len(starts) - len(pairs),
        )
        warn(message)
    return codes


def row_mask(log: InteractionLog, segment: npt.ArrayLike | None) -> npt.NDArray[np.bool_] | None:
    """Validate a boolean row mask (``None`` passes through)."""
    if segment is None:
        return None
    return boolean_mask(segment, len(log), "segment")


def segment_masks(
    log: InteractionLog,
    segment_a: Any,
    segment_b: Any,
    options: Mapping[str, Any],
    analysis: Callable[..., Any] | None = None,
    *,
    where: str = "",
    sets: Iterable[str] = (),
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The two row masks of a two-segment comparison, checked; ``options`` (passed on to the
    ``analysis``) may not hold ``segment`` or ``by``, which the comparison sets itself (as it
    does the arguments named in ``sets``), nor a keyword the analysis does not take (a typo is
    named with a did-you-mean, as an error of ``where``). A mask
    selecting no row of a non-empty log warns (:class:`~cxmodel.errors.DataWarning`): its side
    is empty and the comparison all NaN.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "b"], [0, 1], ["view", "view"])
    >>> segment_masks(log, [True, False], [False, True], {})[1].tolist()
    [False, True]
    >>> segment_masks(log, None, [False, True], {})
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: segment_a and segment_b must be boolean row masks, got None
    """
    for name in ("segment", "by"):
        if name in options:
            raise SchemaError(f"{name}= cannot be combined with a two-segment comparison")
    if analysis is not None:
        known_options(options, analysis, where, set_here=["log", "segment", "by", *sets])
    mask_a, mask_b = row_mask(log, segment_a), row_mask(log, segment_b)
    if mask_a is None or mask_b is None:
        raise SchemaError("segment_a and segment_b must be boolean row masks, got None")
    for name, mask in (("segment_a", mask_a), ("segment_b", mask_b)):
        if len(log) and not mask.any():
            warn(
                f"{name} selects none of the log's {len(log):,} rows: that side of the "
                "comparison is empty, so every difference and interval is NaN",
                DataWarning,
            )
    return mask_a, mask_b


def window_us(value: Any, name: str) -> int | None:
    """A fixed duration in microseconds, or ``None``."""
    if value is None:
        return None
    try:
        return duration_to_us(value)
    except (SchemaError, TypeError, ValueError) as exc:
        raise SchemaError(
            f"{name}={value!r} is not a fixed duration such as '7d' or '30m' ({exc})"
        ) from exc


def duration_us(value: Any, where: str, name: str) -> int:
    """A required fixed duration in microseconds (``None`` is refused)."""
    us = None if value is None else window_us(value, name)
    if us is None:
        raise ValueTypeError(
            f"{where}: {name} must be a fixed duration such as '7d' or '30m'; got {got(value)}"
        )
    return us


def step_list(value: Any, where: str, name: str, *, ordered: bool = False) -> list[Any]:
    """``value`` as a list of steps (kind names or ``(column, value)`` pairs), if it is a
    collection of them and not text or a mapping; the steps themselves are checked later.
    With ``ordered`` (a funnel's steps) a set is refused too: its order follows string
    hashing, so it could change from one run to the next."""
    if ordered and isinstance(value, AbstractSet):
        raise ValueTypeError(
            f"{where}: {name} must be a list or tuple of steps in order; got {got(value)}, "
            "whose order may change from one run to the next"
        )
    if isinstance(value, Iterable) and not isinstance(value, (str, Mapping)):
        return list(value)
    raise ValueTypeError(
        f"{where}: {name} must be a list of steps (kind names or (column, value) pairs); "
        f"got {got(value)}"
    )


def quantile_levels(value: Any, where: str, name: str) -> tuple[float, ...]:
    """``value`` as a tuple of quantile levels, each in [0, 1]."""
    levels = float_array(value, where, name, ndim=1)
    if not np.all((levels >= 0.0) & (levels <= 1.0)):  # NaN fails too
        raise SchemaError(f"{where}: {name} must lie in [0, 1]; got {levels.tolist()!r}")
    return tuple(levels.tolist())


def next_occurrence(
    candidates: npt.NDArray[np.bool_],
    group: IntArray,
    query_rows: IntArray,
    query_group: IntArray,
) -> IntArray:
    """For each query, the first candidate row ``>= query_rows`` with the same group, else -1.

    ``group`` is per row; rows must be sorted so that a group's candidate rows are
    found by position order (groups need not be contiguous: the key is (group, row)).
    """
    n = len(candidates) + 1
    rows = np.flatnonzero(candidates).astype(np.int64, copy=False)
    keys = group[rows] * n + rows
    if len(keys) > 1 and not bool(np.all(keys[1:] >= keys[:-1])):
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        rows = rows[order]
    wanted = query_group * n + query_rows
    idx = np.searchsorted(keys, wanted, side="left")
    found = idx < len(keys)
    safe = np.minimum(idx, max(len(keys) - 1, 0))
    if len(keys):
        found &= keys[safe] // n == query_group
    else:
        found[:] = False
    out = np.full(len(query_rows), -1, dtype=np.int64)
    if len(keys):
        out[found] = rows[safe[found]]
    return out


def sorted_quantiles(
    values: npt.NDArray[np.float64],
    groups: IntArray,
    n_groups: int,
    qs: tuple[float, ...],
    *,
    presorted: bool = False,
) -> npt.NDArray[np.float64]:
    """Linear-interpolated quantiles of ``values`` per group; shape ``(len(qs), n_groups)``, NaN if empty.

    With ``presorted`` the inputs are already sorted by (group, value).
    """
    v = values if presorted else values[np.lexsort((values, groups))]
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    out = np.full((len(qs), n_groups), np.nan)
    has = sizes > 0
    for i, q in enumerate(qs):
        pos = starts[has] + q * (sizes[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        out[i, has] = v[lo] + (pos - lo) * (v[hi] - v[lo])
    return out
