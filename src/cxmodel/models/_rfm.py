"""Recency-frequency-monetary summaries of an InteractionLog, with lifetimes' semantics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log
from cxmodel._periods import local_us
from cxmodel._pieces import warn_counted
from cxmodel._result import Result, column
from cxmodel._sums import run_sums
from cxmodel._time import (
    US_PER_DAY,
    TimeLike,
    as_of_us,
    resolve_timezone,
    to_us,
    us_to_datetime,
)
from cxmodel.errors import DataError, DataWarning, SchemaError, did_you_mean
from cxmodel.log._observed import check_period, warn_after_data
from cxmodel.log._orders import order_numbers, order_totals

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = [
    "RFMSummary",
    "calibration_holdout_split",
    "period_ordinals",
    "period_start",
    "rfm_summary",
    "summarise_purchases",
    "warn_unobserved_periods",
]

FloatArray = npt.NDArray[np.float64]
_FIXED_US = {"D": US_PER_DAY, "h": US_PER_DAY // 24, "H": US_PER_DAY // 24, "W": 7 * US_PER_DAY}
_UNITS = {"D": "day", "h": "hour", "H": "hour", "W": "week", "M": "month"}


@attrs.frozen(eq=False, repr=False)
class RFMSummary(Result):
    """Per-customer repeat frequency, recency, age and mean repeat value.

    Attributes
    ----------
    customer_id : ndarray of object
        Customer ids, sorted.
    frequency : ndarray of float
        Number of periods with a purchase, after the first one (repeat periods).
    recency : ndarray of float
        Last purchase period minus first purchase period, in periods.
    T : ndarray of float
        Observation end period minus first purchase period, in periods.
    monetary_value : ndarray of float
        Mean value of the repeat periods (0 when frequency is 0).
    freq : str
        The period unit ("D", "W", "M", "h"); "" when not from a log.
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    frequency: FloatArray = attrs.field(metadata=column())
    recency: FloatArray = attrs.field(metadata=column())
    T: FloatArray = attrs.field(metadata=column())
    monetary_value: FloatArray = attrs.field(metadata=column())
    freq: str = "D"

    _dict_lists = True
    _frame_index = "customer_id"  # as in lifetimes

    def __len__(self) -> int:
        return int(self.frequency.shape[0])

    def subset(self, mask: Any) -> RFMSummary:
        """The customers selected by a boolean mask or an index array.

        Examples
        --------
        >>> import numpy as np
        >>> s = RFMSummary(np.array(["a", "b"], dtype=object), np.array([0.0, 2]),
        ...                np.array([0.0, 3]), np.array([5.0, 5]), np.array([0.0, 9.5]), "W")
        >>> s.subset(s.frequency > 0).customer_id.tolist()
        ['b']
        """
        sel = np.asarray(mask)
        return RFMSummary(
            customer_id=self.customer_id[sel],
            frequency=self.frequency[sel],
            recency=self.recency[sel],
            T=self.T[sel],
            monetary_value=self.monetary_value[sel],
            freq=self.freq,
        )


_SPOKEN_FREQ = {
    **dict.fromkeys(("d", "day", "days", "daily"), "D"),
    **dict.fromkeys(("w", "week", "weeks", "weekly"), "W"),
    **dict.fromkeys(("m", "month", "months", "monthly", "me", "ms"), "M"),
    **dict.fromkeys(("hour", "hours", "hourly"), "h"),
}


def period_ordinals(
    us: npt.NDArray[np.int64], freq: str, timezone: str | None = None
) -> npt.NDArray[np.int64]:
    """Period ordinal of each microsecond timestamp (weeks end on Sunday, as pandas 'W'), the
    calendar periods of zone ``timezone`` (default UTC).

    Examples
    --------
    >>> period_ordinals(np.array([0, 86_400_000_000 * 40]), "M").tolist()
    [0, 1]
    """
    if freq in ("D", "W", "M"):  # hours stay absolute: a DST change neither merges nor drops one
        us = local_us(us, timezone)
    elif timezone is not None:
        local_us(us[:0], timezone)  # an unknown zone is refused whatever the unit
    if freq == "W":
        # 1970-01-05 (day 4) is a Monday: weeks run Monday..Sunday like pandas W-SUN periods.
        return np.floor_divide(us - 4 * US_PER_DAY, _FIXED_US["W"])
    if isinstance(freq, str) and freq in _FIXED_US:
        return np.floor_divide(us, _FIXED_US[freq])
    if freq == "M":
        months = us.astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        return months
    spoken = _SPOKEN_FREQ.get(freq.strip().lower(), "") if isinstance(freq, str) else ""
    hint = f"; did you mean {spoken!r}?" if spoken else ""
    raise SchemaError(f"freq must be one of 'D', 'W', 'M', 'h', got {freq!r}{hint}")


def period_start(ordinal: int, freq: str, timezone: str | None = None) -> int:
    """The first microsecond (UTC) of the period ``ordinal`` of :func:`period_ordinals` in
    zone ``timezone`` (default UTC): local midnight of its first day, as an instant.

    Examples
    --------
    >>> period_start(1, "M") == 31 * 86_400_000_000
    True
    >>> us_to_datetime(period_start(1, "M", "Europe/Paris")).isoformat()
    '1970-01-31T23:00:00+00:00'
    """
    if freq == "M":
        wall = int(
            np.array(ordinal, dtype="datetime64[M]").astype("datetime64[us]").astype(np.int64)
        )
    else:
        wall = ordinal * _FIXED_US[freq] + (4 * US_PER_DAY if freq == "W" else 0)
    if timezone is None or freq not in ("D", "W", "M"):  # hours are absolute
        return wall
    day = us_to_datetime(wall).date()
    return to_us(datetime(day.year, day.month, day.day, tzinfo=resolve_timezone(timezone)))


def as_of_period(as_of: TimeLike, freq: str, timezone: str | None) -> int:
    """The ordinal of the ``freq`` period in zone ``timezone`` holding ``as_of`` (a naive
    ``as_of`` read in ``timezone``, and refused without one).

    Examples
    --------
    >>> as_of_period("1970-01-31T23:30Z", "M", None), as_of_period("1970-02-01", "M", "+01:00")
    (0, 1)
    """
    us = np.array([as_of_us(as_of, zone=timezone, zone_arg="timezone")], dtype=np.int64)
    return int(period_ordinals(us, freq, timezone)[0])


def _value_columns(log: InteractionLog, value: str, caller: str) -> list[str]:
    """``[value]`` when the log has that column, ``[]`` for a log without the default
    ``"value"`` column; any other missing name is taken for a typo."""
    if value in log:
        return [value]
    if value == "value":
        return []
    raise SchemaError(
        f"{caller}: value column {value!r} is not in the log (columns: {list(log.columns)})"
        f"{did_you_mean(value, log.columns)}"
    )


def purchase_orders(
    log: InteractionLog, kind: str, names: list[str], *, caller: str
) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.int64], FloatArray]:
    """Customer codes, times and values (column ``names[0]``; zeros without one) of the
    orders of ``kind``, one per order and in log order.

    Lines of one order (:meth:`~cxmodel.log.InteractionLog.orders`' rule: rows of one
    customer sharing an ``order_id``, or without one at the same instant) are one purchase
    at its first line's time, with the value summed over its lines (missing only when every
    line's is), as in ``log.orders()``: so a summary answers the same on the lines and on the
    orders, even when an order's lines carry different times. Without an ``order_id`` column
    the lines of an order share an instant, and so a period: the rows are read as they are.
    An order's sum past the float range is a :class:`~cxmodel.errors.DataError` naming
    ``caller``, the column and the customer.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "a"], [0, 86_400, 90_000], ["purchase"] * 3,
    ...     order_id=["o1", "o2", "o1"], value=[10.0, 5.0, 2.0])
    >>> codes, times, values = purchase_orders(log, "purchase", ["value"], caller="f()")
    >>> codes.tolist(), (times // 1_000_000).tolist(), values.tolist()
    ([0, 0], [0, 86400], [12.0, 5.0])
    """
    if "order_id" not in log:
        codes, times, values = log._kind_rows(kind, names, "kind_mask()")
        return codes, times, values[names[0]] if names else np.zeros(codes.shape[0])
    rows = np.flatnonzero(log.kind_mask(kind)).astype(np.int64)
    lines = log.numeric(names[0])[rows] if names else np.zeros(rows.shape[0])
    numbers, firsts = order_numbers(log, rows)
    if firsts.shape[0] < rows.shape[0]:  # some rows are further lines of an order
        customers = log.customers[log.customer_codes[rows[firsts]]]
        name = names[0] if names else "value"
        totals = order_totals(
            lines, numbers, firsts.shape[0], name=name, customers=customers, where=caller
        )
        first_lines = np.sort(firsts)  # in log order
        lines = totals[numbers[first_lines]]
        rows = rows[first_lines]
    return log.customer_codes[rows], log.timestamps[rows], lines


def _valued(values: FloatArray, kind: str, value: str, caller: str) -> FloatArray:
    """``values`` with NaN as 0, warning with the number of purchases that had no value."""
    template = (
        f"{caller}: {{missing:,}} of {{rows:,}} {kind!r} rows have no {value!r} (NaN); "
        "they count as purchases of value 0, which lowers monetary_value (and a "
        "Gamma-Gamma fit refuses a repeat buyer whose monetary_value is 0)"
    )
    missing = int(np.isnan(values).sum())
    warn_counted(DataWarning, template, missing=missing, rows=values.shape[0])
    return np.nan_to_num(values, nan=0.0)


def warn_unobserved_periods(
    until: int | None,
    as_of: TimeLike,
    freq: str,
    customers: int,
    *,
    caller: str,
    timezone: str | None = None,
) -> None:
    """Warn when the ``as_of`` period is after the period of ``until``, the data's last
    interaction (:attr:`~cxmodel.log.InteractionLog.observed_until`; ``None``: no data):
    the ``T`` of each of the ``customers`` then counts periods nobody observed, which a
    model fitted on the summary reads as silence.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_unobserved_periods(0, "1970-03-01T00:00Z", "M", 3, caller="f()")
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    f(): as_of 1970-03-01T00:00:00Z is 59.0 days after the log's last interaction
    (1970-01-01T00:00:00Z), a span in which nothing was seen: the T of each of the 3 customers
    counts 2 months nobody observed, which a model fitted on the summary reads as silence
    (dropping out); if the data end earlier than as_of, pass an as_of at or before
    log.observed_until
    """
    if until is None:
        return
    cutoff = as_of_us(as_of, zone=timezone, zone_arg="timezone")
    times = np.array([cutoff, until], dtype=np.int64)
    unseen = int(period_ordinals(times, freq, timezone) @ [1, -1])
    if unseen <= 0:
        return
    unit = _UNITS[freq] + ("" if unseen == 1 else "s")
    who = "the 1 customer" if customers == 1 else f"each of the {customers:,} customers"
    consequence = (
        f"the T of {who} counts {unseen:,} {unit} nobody observed, which a model fitted on "
        "the summary reads as silence (dropping out)"
    )
    warn_after_data(until, cutoff, consequence, caller=caller)


def rfm_summary(
    log: InteractionLog,
    *,
    as_of: TimeLike | None = None,
    freq: str = "D",
    timezone: str | None = None,
    kind: str = "purchase",
    value: str = "value",
) -> RFMSummary:
    """Summarise purchases per customer as lifetimes' ``summary_data_from_transaction_data``.

    Timestamps are floored to ``freq`` periods; purchases in the same period collapse into one
    (values summed); rows after the ``as_of`` period are ignored; customers without purchases are
    left out. The lines of an order (rows of one customer sharing an ``order_id``, or without
    one at the same instant, as :meth:`~cxmodel.log.InteractionLog.orders` merges them) are one
    purchase at its first line's time, worth the sum of their values: the summary of a
    line-item export equals that of its ``log.orders()``.

    Parameters
    ----------
    log : InteractionLog
    as_of : datetime-like, optional
        Observation end (default: the last purchase). A naive time is read in ``timezone``,
        and refused without one.
    freq : {"D", "W", "M", "h"}
        The period unit of frequency, recency and T.
    timezone : str, optional
        IANA zone of the calendar periods (a purchase at 23:30 UTC on 31 January is in
        February in Europe/Paris); default UTC. Days, weeks and months follow the zone's clock
        across daylight-saving changes (a day of 23 or 25 hours is one day); hours are absolute.
    kind : str
        Interaction kind that counts as a purchase.
    value : str, default "value"
        Numeric column with the purchase value. A purchase without a value (NaN) counts as 0,
        with a :class:`~cxmodel.errors.DataWarning` counting them; a log without the default
        ``"value"`` column gives zeros, while any other name must be a column of the log.

    Raises
    ------
    SchemaError
        For a ``value`` column the log does not have (other than the default), with a
        did-you-mean, a ``kind`` neither in the log nor a standard kind, or an unknown
        ``timezone``.
    DataError
        When no purchase is at or before ``as_of``.

    Warns
    -----
    DataWarning
        When purchases have no value (NaN): the count, which are summed as 0. When the
        ``as_of`` period is after the period of the log's last interaction
        (``log.observed_until``): ``T`` then counts periods nobody observed, for every
        customer (as :func:`~cxmodel.metrics.customer_lifetimes` warns).

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.models import rfm_summary
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=np.array(["a", "a", "a", "b"]),
    ...     timestamp=np.array(["2024-01-01", "2024-01-01T12", "2024-01-04", "2024-01-03"],
    ...                        dtype="datetime64[us]"),
    ...     kind=np.array(["purchase"] * 4), value=np.array([1.0, 2.0, 5.0, 7.0]))
    >>> s = rfm_summary(log, as_of="2024-01-04T00:00:00Z")
    >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary_value.tolist()
    ([1.0, 0.0], [3.0, 0.0], [3.0, 1.0], [5.0, 0.0])
    """
    log = interaction_log(log, "rfm_summary()")
    summary = summarise_purchases(
        log, as_of=as_of, freq=freq, kind=kind, value=value, timezone=timezone
    )
    if as_of is not None:
        until = log.observed_until
        warn_unobserved_periods(
            until, as_of, freq, len(summary), caller="rfm_summary()", timezone=timezone
        )
    return summary


def summarise_purchases(
    log: InteractionLog,
    *,
    as_of: TimeLike | None,
    freq: str,
    kind: str,
    value: str,
    timezone: str | None = None,
) -> RFMSummary:
    """:func:`rfm_summary` of a checked log, without the warning about an ``as_of`` after the
    data (the Dask version warns once, for all partitions)."""
    # the purchases alone, in log order: a log not sorted yet is not sorted for a summary
    names = _value_columns(log, value, "rfm_summary()")
    codes, ts, vals = purchase_orders(log, kind, names, caller="rfm_summary()")
    per = period_ordinals(ts, freq, timezone)
    if as_of is not None:
        end = as_of_period(as_of, freq, timezone)
        keep = per <= end
        if ts.shape[0] and not keep.any():  # purchases, all after as_of: not "none at all"
            earliest = us_to_datetime(int(ts.min())).isoformat().replace("+00:00", "Z")
            moment = as_of_us(as_of, zone=timezone, zone_arg="timezone")
            when = us_to_datetime(moment).isoformat().replace("+00:00", "Z")
            raise DataError(
                f"rfm_summary(): as_of {when} is before the log's first {kind!r} interaction "
                f"({earliest}, in its {freq!r} period): no purchase had been made yet; check the "
                "year, or pass a later as_of"
            )
        codes, per, vals = codes[keep], per[keep], vals[keep]
    if codes.shape[0] == 0:
        raise DataError(f"no {kind!r} interactions to summarise")
    vals = _valued(vals, kind, value, "rfm_summary()")
    if as_of is None:
        end = int(per.max())
    # rows are sorted by (customer, time), so (customer, period) runs are contiguous
    new = np.ones(codes.shape[0], dtype=bool)
    new[1:] = (codes[1:] != codes[:-1]) | (per[1:] != per[:-1])
    starts = np.flatnonzero(new)
    g_codes = codes[starts]
    g_per = per[starts]
    who = log.customers[g_codes]
    g_val = run_sums(vals, starts, column=value, where="rfm_summary()", names=who)
    cust_new = np.ones(g_codes.shape[0], dtype=bool)
    cust_new[1:] = g_codes[1:] != g_codes[:-1]
    c_starts = np.flatnonzero(cust_new)
    c_ends = np.append(c_starts[1:], g_codes.shape[0]) - 1
    n_periods = (c_ends - c_starts + 1).astype(np.float64)
    first = g_per[c_starts]
    last = g_per[c_ends]
    total = run_sums(g_val, c_starts, column=value, where="rfm_summary()", names=who[c_starts])
    frequency = n_periods - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - g_val[c_starts]) / frequency, 0.0)
    return RFMSummary(
        customer_id=np.asarray(log.customers[g_codes[c_starts]], dtype=object),
        frequency=frequency,
        recency=(last - first).astype(np.float64),
        T=(end - first).astype(np.float64),
        monetary_value=np.asarray(monetary, dtype=np.float64),
        freq=freq,
    )


def calibration_holdout_split(
    log: InteractionLog,
    calibration_end: TimeLike,
    observation_end: TimeLike,
    *,
    freq: str = "D",
    timezone: str | None = None,
    kind: str = "purchase",
    value: str = "value",
) -> tuple[RFMSummary, FloatArray, float]:
    """Split a log into a calibration summary and hold-out purchase counts.

    Returns ``(calibration, holdout_frequency, holdout_duration)``: the summary of purchases up to
    the ``calibration_end`` period, the number of purchase periods of each of those customers in
    the periods after it up to the ``observation_end`` period, and the number of those periods.
    Both ends name whole periods: the ``freq`` period holding ``calibration_end`` is the last of
    the calibration, purchases later in it included (as :func:`rfm_summary` reads ``as_of``),
    and the hold-out is made of whole periods, so ``holdout_frequency <= holdout_duration``.
    lifetimes' ``calibration_and_holdout_data`` cuts at the instants instead: it counts the
    purchases after ``calibration_end`` in its period as hold-out purchase periods while
    ``duration_holdout`` leaves that period out (a customer can get 2 hold-out purchase
    periods in a hold-out of 1). The two agree when each end closes its period (daily
    periods of date-only data, a Sunday for weeks).

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    calibration_end : datetime-like
        End of the calibration period. A naive time is read in ``timezone``, and refused
        without one.
    observation_end : datetime-like
        End of the hold-out period, read as ``calibration_end`` is.
    freq : {"D", "W", "M", "h"}, default "D"
        The period unit.
    timezone : str, optional
        IANA zone of the calendar periods, as in :func:`rfm_summary` (default UTC), and of a
        naive ``calibration_end`` or ``observation_end``.
    kind : str, default "purchase"
        Interaction kind that counts as a purchase.
    value : str, default "value"
        Numeric column with the purchase value, as in :func:`rfm_summary`.

    Raises
    ------
    SchemaError
        When ``calibration_end`` or ``observation_end`` has no time zone and ``timezone`` is
        not given.
    DataError
        When ``observation_end`` is not after ``calibration_end``, or the hold-out starts
        when the log's observation has ended (nothing in it was seen).

    Warns
    -----
    DataWarning
        When the hold-out ends after the log's last interaction: those periods count in
        ``holdout_duration`` while no purchase in them could be seen.

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "a", "b"], kind=["purchase"] * 4, value=[1.0, 2.0, 5.0, 7.0],
    ...     timestamp=["2024-01-01", "2024-01-02", "2024-01-06", "2024-01-03"], timezone="UTC")
    >>> cal, holdout, days = calibration_holdout_split(log, "2024-01-03", "2024-01-06",
    ...                                                timezone="UTC")
    >>> cal.frequency.tolist(), holdout.tolist(), days
    ([1.0, 0.0], [1.0, 0.0], 3.0)
    """
    log = interaction_log(log, "calibration_holdout_split()")
    calibration_us = as_of_us(
        calibration_end, zone=timezone, zone_arg="timezone", what="calibration_end"
    )
    observation_us = as_of_us(
        observation_end, zone=timezone, zone_arg="timezone", what="observation_end"
    )
    # a calibration end after the data is refused below (the hold-out then saw nothing)
    cal = summarise_purchases(
        log,
        as_of=us_to_datetime(calibration_us),
        freq=freq,
        kind=kind,
        value=value,
        timezone=timezone,
    )
    ends = period_ordinals(
        np.array([calibration_us, observation_us], dtype=np.int64), freq, timezone
    )
    cal_end, obs_end = int(ends[0]), int(ends[1])
    if obs_end <= cal_end:
        raise DataError(
            f"observation_end must be after calibration_end, got {observation_end!r} <= "
            f"{calibration_end!r}"
        )
    check_period(
        log,
        period_start(cal_end + 1, freq, timezone),
        observation_us,
        caller="calibration_holdout_split()",
        unknown="purchases then are missing from holdout_frequency while holdout_duration "
        "counts those periods",
    )
    codes, times, _ = purchase_orders(log, kind, [], caller="calibration_holdout_split()")
    per = period_ordinals(times, freq, timezone)
    keep = (per > cal_end) & (per <= obs_end)
    codes, per = codes[keep], per[keep]
    new = np.ones(codes.shape[0], dtype=bool)
    new[1:] = (codes[1:] != codes[:-1]) | (per[1:] != per[:-1])
    counts = np.bincount(codes[new], minlength=log.n_customers).astype(np.float64)
    index = np.searchsorted(log.customers, cal.customer_id)
    return cal, counts[index], float(obs_end - cal_end)
