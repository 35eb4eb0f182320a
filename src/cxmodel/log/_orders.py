"""Orders and their lines: the rows of one kind of one customer that make one order.

The most common retail exports (UCI Online Retail, Olist order_items, Instacart) write one row
per product line, so that one order is several ``purchase`` rows of one customer at one instant
sharing an ``order_id``. Two rows of one kind and one customer are *lines of one order* when

* both carry the same ``order_id`` (the log has that column and neither value is missing), or
* neither carries an ``order_id`` (or the log has no such column) and they are at the same
  instant.

A row with an ``order_id`` and one without are never lines of one order. The first line of an
order in log order (its earliest, and among lines at one instant the first in the input) stands
for the order; the others are its *further lines*. An analysis that counts rows as orders
(repeat purchase, RFM frequency, the customer table's purchase counts) counts each further line
as an order of its own: :func:`warn_order_lines` says how many, and
:meth:`~cxmodel.log.InteractionLog.orders` (:func:`merge_order_lines`) makes each order one row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._pieces import warn_counted
from cxmodel._sums import grouped_sums
from cxmodel.errors import DataWarning

if TYPE_CHECKING:
    from cxmodel.log._log import InteractionLog

__all__ = [
    "further_lines",
    "merge_order_lines",
    "order_numbers",
    "order_totals",
    "warn_order_lines",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_SUMMED = ("value", "quantity")
"""The numeric columns whose merged value is the sum over an order's lines."""


def _order_ids(log: InteractionLog, rows: IntArray) -> IntArray | None:
    """The ``order_id`` of ``rows`` as codes (equal ids, equal codes; -1 for a missing id), or
    ``None`` when the log has no ``order_id`` column."""
    if "order_id" not in log:
        return None
    if log.schema["order_id"] == "string":
        return log.categorical("order_id")[0][rows].astype(np.int64)
    values = log.numeric("order_id")[rows]  # declared numbers (or booleans)
    present = ~np.isnan(values)
    codes = np.full(rows.shape[0], -1, dtype=np.int64)
    codes[present] = np.unique(values[present], return_inverse=True)[1].reshape(-1)
    return codes


_PACKED_SPAN = 1 << 62
"""Keys whose ranges multiply to less than this are packed into one int64 key."""


def _packed(keys: Sequence[IntArray]) -> list[IntArray]:
    """``keys`` (most significant first) with constant keys left out and neighbours packed into
    one int64 key while the product of their ranges fits: the same order and the same ties, in
    fewer (often one) keys to compare and sort."""
    out: list[IntArray] = []
    span = 0
    for key in keys:
        low, high = int(key.min()), int(key.max())
        if low == high:
            continue
        width = high - low + 1
        if out and span * width < _PACKED_SPAN:
            out[-1] = out[-1] * width + (key - low)
            span *= width
        else:  # a key too wide to pack with anything is kept as it is (key - low may overflow)
            out.append(key - low if width < _PACKED_SPAN else key)
            span = width
    return out or [np.zeros(keys[0].shape[0], dtype=np.int64)]


def _non_decreasing(keys: Sequence[IntArray]) -> bool:
    """Whether the rows' key tuples (most significant key first) are already in order."""
    ahead = np.zeros(keys[0].shape[0] - 1, dtype=bool)
    tied = np.ones(keys[0].shape[0] - 1, dtype=bool)
    for key in keys:
        ahead |= tied & (key[1:] > key[:-1])
        tied &= key[1:] == key[:-1]
    return bool((ahead | tied).all())


def _stable_order(keys: Sequence[IntArray]) -> npt.NDArray[np.intp] | None:
    """The stable order of the rows by ``keys``, or ``None`` when they are in order already."""
    if keys[0].shape[0] == 1 or _non_decreasing(keys):
        return None
    if len(keys) == 1:
        return np.argsort(keys[0], kind="stable")
    return np.lexsort(keys[::-1])


def order_numbers(log: InteractionLog, rows: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """The order each of ``rows`` is a line of, and the first line of each order.

    Parameters
    ----------
    log : InteractionLog
    rows : array of int
        Increasing row positions of ``log`` (in log order), e.g. ``np.flatnonzero(mask)``.

    Returns
    -------
    numbers : ndarray of int64
        For each of ``rows``, its order's number, from 0 to ``k - 1``.
    firsts : ndarray of int64
        For each order (by number), the index into ``rows`` of its first line.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "a", "b"], [0, 0, 5, 0], ["purchase"] * 4)
    >>> numbers, firsts = order_numbers(log, np.arange(4))
    >>> numbers.tolist(), firsts.tolist()
    ([0, 0, 1, 2], [0, 2, 3])
    """
    picked = np.asarray(rows, dtype=np.int64)
    n = picked.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    times = log.timestamps[picked]
    keys: list[IntArray] = [log.customer_codes[picked].astype(np.int64)]
    kinds = log.categorical("kind")[0][picked]
    if kinds.min() != kinds.max():
        keys.append(kinds.astype(np.int64))
    ids = _order_ids(log, picked)
    if ids is not None:
        keys.append(ids)
        times = np.where(ids >= 0, 0, times)  # an order_id, not the instant, names the order
    keys.append(times)
    keys = _packed(keys)
    # Rows in log order are sorted by (customer, time): without order ids (the usual line-item
    # export) and of one kind, the keys are in order already and no sort is needed.
    order = _stable_order(keys)
    ordered = keys if order is None else [key[order] for key in keys]
    starts = np.zeros(n, dtype=bool)
    starts[0] = True
    for key in ordered:
        starts[1:] |= key[1:] != key[:-1]
    sorted_numbers = np.cumsum(starts) - 1
    if order is None:
        return sorted_numbers, np.flatnonzero(starts).astype(np.int64)
    numbers = np.empty(n, dtype=np.int64)
    numbers[order] = sorted_numbers
    # a stable order: the first row of each run of equal keys is the order's earliest line
    return numbers, order[starts].astype(np.int64)


def further_lines(log: InteractionLog, rows: npt.ArrayLike) -> int:
    """How many of ``rows`` (increasing row positions of ``log``) are further lines of an order
    whose first line is among them.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "a"], [0, 0, 9], ["purchase"] * 3,
    ...                                  order_id=["o1", "o1", "o1"])
    >>> further_lines(log, [0, 1, 2])
    2
    """
    picked = np.asarray(rows, dtype=np.int64)
    return int(picked.shape[0] - order_numbers(log, picked)[1].shape[0])


def warn_order_lines(
    log: InteractionLog, rows: npt.ArrayLike, *, caller: str, kinds: Sequence[str] = ("purchase",)
) -> None:
    """Warn (a counted :class:`~cxmodel.errors.DataWarning`) that some of ``rows``, which
    ``caller`` counts as purchases of their own, are further lines of an order.

    ``rows`` are increasing row positions of ``log``, of the ``kinds`` the caller counts (the
    message calls them "purchases" when that is the one kind, and names the kinds otherwise). In one
    process nothing is raised when no row is a further line; a piece of a distributed analysis
    raises the warning at 0 too, so that the counts of all the pieces add up (lines of one order
    are counted when they are in one piece).

    Examples
    --------
    >>> import warnings
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "b"], [0, 0, 0], ["purchase"] * 3)
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_order_lines(log, [0, 1, 2], caller="f()")
    >>> print(seen[0].message)
    f(): 1 of 3 purchases are further lines of an order (same customer and order_id, or same instant): counted here as purchases of their own; collapse them with log.orders()
    >>> log = InteractionLog.from_arrays(["a", "a"], [0, 0], ["order"] * 2)
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_order_lines(log, [0, 1], caller="f()", kinds=("order",))
    >>> print(seen[0].message)
    f(): 1 of 2 rows of kind 'order' are further lines of an order (same customer and order_id, or same instant): counted here as purchases of their own; collapse them with log.orders(kind='order')
    """
    picked = np.asarray(rows, dtype=np.int64)
    named = ", ".join(map(repr, kinds))
    if len(kinds) == 1 and kinds[0] == "purchase":
        advice = "log.orders()"
        counted = "purchases"
    elif len(kinds) == 1:
        advice = f"log.orders(kind={kinds[0]!r})"
        counted = f"rows of kind {named}"
    else:
        advice = f"log.orders(kind=...) for each of {named}"
        counted = f"rows of kinds {named}"
    warn_counted(
        DataWarning,
        f"{caller}: {{lines:,}} of {{rows:,}} {counted} are further lines of an order (same "
        "customer and order_id, or same instant): counted here as purchases of their own; "
        f"collapse them with {advice}",
        lines=further_lines(log, picked),
        rows=int(picked.shape[0]),
    )


def order_totals(
    lines: FloatArray,
    numbers: IntArray,
    k: int,
    *,
    name: str,
    customers: npt.NDArray[Any],
    where: str,
) -> FloatArray:
    """The sum of ``lines`` (values of column ``name``, one per line) over each of the ``k``
    orders (``numbers``: each line's order, as :func:`order_numbers` gives it), missing only
    when every line's value is missing.

    ``customers`` holds each order's customer, named (with ``where``, the function) when the
    order's sum is past the float range (a :class:`~cxmodel.errors.DataError`, by
    :func:`~cxmodel._sums.grouped_sums`).

    Examples
    --------
    >>> order_totals(np.array([1.0, np.nan, 2.0]), np.array([0, 1, 0]), 2, name="value",
    ...     customers=np.array(["a", "b"]), where="f()").tolist()
    [3.0, nan]
    """
    present = ~np.isnan(lines)
    total = grouped_sums(
        numbers, np.where(present, lines, 0.0), k, column=name, where=where, names=customers
    )
    known = np.bincount(numbers[present], minlength=k) > 0
    return np.where(known, total, np.nan)


def merge_order_lines(log: InteractionLog, kind: str) -> InteractionLog:
    """:meth:`InteractionLog.orders`: the log with each order of ``kind`` one row.

    ``log`` itself when no row of ``kind`` is a further line of an order.
    """
    from cxmodel.log._log import InteractionLog, _kind_mask

    rows = log._rows
    picked = np.flatnonzero(_kind_mask(rows, (kind,), "orders()")).astype(np.int64)
    numbers, firsts = order_numbers(log, picked)
    if firsts.shape[0] == picked.shape[0]:
        return log
    keep = np.ones(len(log), dtype=bool)
    keep[picked] = False
    keep[picked[firsts]] = True
    numeric = dict(rows.numeric)
    customers = log.customers[rows.codes[picked[firsts]]]
    for name in _SUMMED:
        if name in numeric and name not in log._bools:
            column = numeric[name].copy()
            column[picked[firsts]] = order_totals(
                column[picked],
                numbers,
                firsts.shape[0],
                name=name,
                customers=customers,
                where="orders()",
            )
            numeric[name] = column
    return InteractionLog(
        customer_codes=rows.codes[keep],
        customers=log.customers,  # every customer keeps a row: the first line of each order
        timestamps=rows.timestamps[keep],
        row_order=rows.row_order[keep],
        strings={name: (codes[keep], cats) for name, (codes, cats) in rows.strings.items()},
        numeric={name: values[keep] for name, values in numeric.items()},
        rejected=log.rejected,
        questions=log._questions,
        observed_until=log.observed_until,
        bools=log._bools,
    )
