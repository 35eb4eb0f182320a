"""Fulfilment: the return rate of orders and the on-time delivery rate, with Wilson intervals."""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log
from cxmodel._pieces import warn
from cxmodel._tables import MetricTable
from cxmodel._time import duration_to_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.metrics._groups import key_name, rate_breakdown
from cxmodel.metrics._retention import RateResult

__all__ = ["LATE_WORDS", "ON_TIME_WORDS", "on_time_delivery_rate", "return_rate"]

#: Text values of a ``late`` column that mean late / on time (compared trimmed, any case).
LATE_WORDS = frozenset({"yes", "y", "true", "t", "1", "late"})
ON_TIME_WORDS = frozenset({"no", "n", "false", "f", "0", "on time", "on_time", "ontime"})


def _labels(
    log: InteractionLog, rows: npt.NDArray[np.intp], by: str | npt.ArrayLike | None
) -> npt.NDArray[np.object_] | None:
    """The ``by`` label of each selected row: a column of the log or one label per log row."""
    if by is None:
        return None
    if isinstance(by, str):
        return np.asarray(log.column(by)[rows], dtype=object)
    labels = np.asarray(by, dtype=object).reshape(-1)
    if labels.shape != (len(log),):
        raise SchemaError(
            f"by has {labels.shape[0]} labels for a log of {len(log)} rows; expected one "
            "label per row or a column name"
        )
    return labels[rows]


@overload
def return_rate(
    log: InteractionLog,
    *,
    order_column: str = "order_id",
    window: str | None = None,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult: ...
@overload
def return_rate(
    log: InteractionLog,
    *,
    order_column: str = "order_id",
    window: str | None = None,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
@overload
def return_rate(
    log: InteractionLog,
    *,
    order_column: str = "order_id",
    window: str | None = None,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
def return_rate(
    log: InteractionLog,
    *,
    order_column: str = "order_id",
    window: str | None = None,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult | MetricTable:
    """Share of orders returned: orders with a ``return`` / orders, with a Wilson interval.

    An order is a customer's ``purchase`` with a value in ``order_column`` (several purchase
    rows of one customer with the same key are one order, timed and labelled by the first).
    It is returned when the same customer has a ``return`` row with the same key at or after
    the purchase, and, with ``window`` (e.g. ``"30 days"``), no later than ``window`` after
    it. With a window, orders whose window runs past the log's
    :attr:`~cxmodel.log.InteractionLog.observed_until` are left out: whether they come back
    is not known yet. Without one, recent orders count as kept although some may still be
    returned.

    ``by`` is a column of the purchase row (``product``, ``category``, ``touchpoint``, ...)
    or one label per log row; ``period`` the purchase's calendar period in ``timezone``.
    With either, the result is a :class:`MetricTable` (``value``, ``ci_low``, ``ci_high``,
    ``numerator``, ``n`` per group); otherwise a :class:`RateResult`.

    Warns
    -----
    DataWarning
        With the count of purchases without an order key (left out) and of returns that
        match no earlier purchase of the customer (not counted); when the log has no
        ``purchase``, or every order is younger than ``window`` (the rate is NaN).

    Raises
    ------
    SchemaError
        The log has no ``order_column``, or a bad ``window`` (not a positive duration),
        ``by`` or ``period``.

    Parameters
    ----------
    log : InteractionLog
        The interaction log, with ``purchase`` and ``return`` rows.
    order_column : str, default "order_id"
        The column joining a return to its order.
    window : duration, optional
        Count a return only within this time after the purchase (e.g. ``"30 days"``).
    by : str or array-like, optional
        A column of the row (see above) or one label per log row: one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Calendar period (see above): one row per period (and group).
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    level : float, default 0.95
        Confidence level of the Wilson interval.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "a", "b"], kind=["purchase", "purchase", "return", "purchase"],
    ...     order_id=["o1", "o2", "o2", "o3"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-09T00:00Z",
    ...                "2024-01-03T00:00Z"])
    >>> r = return_rate(log)
    >>> r.numerator, r.n
    (1, 3)
    """
    log = interaction_log(log, "return_rate()")
    if order_column not in log:
        raise SchemaError(
            f"return_rate(): order_column {order_column!r} is not a column of the log; returns "
            "are matched to their purchase by an order key (name yours with order_column=)"
        )
    span = None if window is None else duration_to_us(window)
    read_kinds(
        log.kinds,
        ["purchase"],
        argument="return_rate()",
        meaning="there is no order and the rate is NaN",
    )
    keys, _ = log.categorical(order_column)
    codes = log.customer_codes.astype(np.int64)
    buys = log.kind_mask("purchase")
    backs = log.kind_mask("return")
    width = np.int64(int(keys.max()) + 1 if keys.size else 1)
    pair = codes * width + keys.astype(np.int64)  # (customer, key), for rows with a key
    # an order is the first purchase row of its (customer, key): rows are in time order
    rows = np.flatnonzero(buys & (keys >= 0))
    order_pairs, first = np.unique(pair[rows], return_index=True)
    orders = rows[first]
    bought_at = log.timestamps[orders]
    # each return finds its order by (customer, key) and counts if it is not earlier
    ret_rows = np.flatnonzero(backs & (keys >= 0))
    never = np.iinfo(np.int64).max
    if orders.size:
        slot = np.minimum(np.searchsorted(order_pairs, pair[ret_rows]), orders.size - 1)
        gap = log.timestamps[ret_rows] - bought_at[slot]
        matched = (order_pairs[slot] == pair[ret_rows]) & (gap >= 0)
    else:
        slot = np.zeros(ret_rows.size, dtype=np.intp)
        gap = np.zeros(ret_rows.size, dtype=np.int64)
        matched = np.zeros(ret_rows.size, dtype=bool)
    first_gap = np.full(orders.size, never, dtype=np.int64)
    np.minimum.at(first_gap, slot[matched], gap[matched])
    returned = first_gap < never if span is None else first_gap <= span
    keep = np.ones(orders.size, dtype=bool)
    if span is not None:
        end = log.observed_until if log.observed_until is not None else 0
        keep = bought_at + span <= end
    labels = _labels(log, orders[keep], by)
    keyless = int((buys & (keys < 0)).sum())
    unmatched = int((backs & (keys < 0)).sum()) + int((~matched).sum())
    facts = [f"{keyless:,} purchase row(s) without {order_column!r} left out"] if keyless else []
    if unmatched:
        facts.append(
            f"{unmatched:,} return row(s) match no earlier purchase of the customer by "
            f"{order_column!r} and were not counted"
        )
    if orders.size and not keep.any():
        facts.append(
            f"all {orders.size:,} order(s) are younger than window={window!r} at the end of "
            "the data, so none can be judged yet and the rate is NaN"
        )
    if facts:
        warn(f"return_rate(): {'; '.join(facts)}", DataWarning)
    definition = f"orders with a 'return' of the same {order_column!r}"
    if window is not None:
        definition += f" within {window} (orders whose {window} have passed)"
    definition += " / orders"
    return rate_breakdown(
        returned[keep],
        definition=definition,
        caller=None,  # no purchase, no order key or every order too young: each is said above
        labels=labels,
        by_name=key_name(by),
        times=bought_at[keep],
        period=period,
        timezone=timezone,
        level=level,
        table_name="return rate",
    )


def _late_flags(
    log: InteractionLog, rows: npt.NDArray[np.intp], late: str
) -> npt.NDArray[np.float64]:
    """1.0 late, 0.0 on time, NaN unknown for each selected row of the ``late`` column."""
    if late not in log:
        raise SchemaError(
            f"on_time_delivery_rate(): late column {late!r} is not in the log; name the column "
            "that says whether a delivery was late (yes/no) or by how many days (a number) "
            "with late="
        )
    if log.schema[late] in ("float", "bool"):  # a delay in days, or a true/false flag
        delay = log.numeric(late)[rows]
        return np.where(np.isnan(delay), np.nan, (delay > 0).astype(np.float64))
    codes, vocabulary = log.categorical(late)
    words = np.array([str(v).strip().casefold() for v in vocabulary.tolist()], dtype=object)
    meaning = np.full(vocabulary.shape[0] + 1, np.nan)  # last slot: missing (code -1)
    meaning[:-1][np.isin(words, list(LATE_WORDS))] = 1.0
    meaning[:-1][np.isin(words, list(ON_TIME_WORDS))] = 0.0
    picked = codes[rows]
    unknown = (picked >= 0) & np.isnan(meaning[picked])
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise SchemaError(
            f"row {int(log.row_order[rows[i]]) + 1}: {late} {vocabulary[picked[i]]!r} is not a "
            f"late flag (column {late!r}); expected one of {sorted(LATE_WORDS)} for late or "
            f"{sorted(ON_TIME_WORDS)} for on time, or a delay in days"
        )
    return meaning[np.where(picked < 0, vocabulary.shape[0], picked)]


@overload
def on_time_delivery_rate(
    log: InteractionLog,
    *,
    late: str = "late",
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult: ...
@overload
def on_time_delivery_rate(
    log: InteractionLog,
    *,
    late: str = "late",
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
@overload
def on_time_delivery_rate(
    log: InteractionLog,
    *,
    late: str = "late",
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
def on_time_delivery_rate(
    log: InteractionLog,
    *,
    late: str = "late",
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult | MetricTable:
    """Share of ``delivery`` rows delivered on time, with a Wilson interval.

    ``late`` names the column that says whether each delivery was late: text (``yes``/``no``,
    ``true``/``false``, ``1``/``0``, ``late``/``on time``, any case) or a number, the delay in
    days (late when above 0; 0 or early is on time). Deliveries without a value are left out
    with a :class:`~cxmodel.errors.DataWarning` giving their count. ``by`` (a column of the
    delivery row, or one label per log row) and ``period`` (of the delivery, in ``timezone``)
    as in :func:`return_rate`.

    Raises
    ------
    SchemaError
        The ``late`` column is missing, or holds a word that is not a late flag (the message
        names the row and the value).

    Warns
    -----
    DataWarning
        With the count of deliveries without a ``late`` value (left out); when the log has no
        ``delivery`` (the rate is NaN).

    Parameters
    ----------
    log : InteractionLog
        The interaction log, with ``delivery`` rows.
    late : str, default "late"
        The column saying whether each delivery was late (text flag or delay in days).
    by : str or array-like, optional
        A column of the row (see above) or one label per log row: one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Calendar period (see above): one row per period (and group).
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    level : float, default 0.95
        Confidence level of the Wilson interval.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "b", "c", "d"], kind=["delivery"] * 4,
    ...     late=["no", "No", "yes", "no"], timestamp=["2024-01-05T00:00Z"] * 4)
    >>> r = on_time_delivery_rate(log)
    >>> r.value, r.numerator, r.n
    (0.75, 3, 4)
    """
    log = interaction_log(log, "on_time_delivery_rate()")
    read_kinds(
        log.kinds,
        ["delivery"],
        argument="on_time_delivery_rate()",
        meaning="there is no delivery and the rate is NaN",
    )
    rows = np.flatnonzero(log.kind_mask("delivery"))
    flags = _late_flags(log, rows, late)
    known = ~np.isnan(flags)
    if not known.all():
        warn(
            f"on_time_delivery_rate(): {int((~known).sum())} of {rows.size} deliveries have no "
            f"{late!r} value and were left out",
            DataWarning,
        )
    rows = rows[known]
    labels = _labels(log, rows, by)
    return rate_breakdown(
        flags[known] == 0.0,
        definition=f"'delivery' rows not late (column {late!r}) / deliveries with a value",
        caller=None,  # no delivery, or none with a flag: each is said above
        labels=labels,
        by_name=key_name(by),
        times=log.timestamps[rows],
        period=period,
        timezone=timezone,
        level=level,
        table_name="on-time delivery rate",
    )
