"""Churn, retention, repeat purchase and cohort retention on an InteractionLog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, name_sequence
from cxmodel._periods import index_labels, period_index
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._stats import proportion_interval, z_value
from cxmodel._time import TimeLike, as_of_us, duration_to_us, to_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.log._observed import (
    check_as_of,
    check_period,
    check_period_order,
    first_time,
    warn_after_data,
)
from cxmodel.log._orders import warn_order_lines

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CohortRetention",
    "RateResult",
    "churn_rate",
    "cohort_retention",
    "repeat_purchase_rate",
    "retention_rate",
]

DEFINITIONS = ("activity", "cancel")


@attrs.frozen(repr=False)
class RateResult(Result):
    """A rate in [0, 1] with its Wilson interval, counts and the definition used."""

    value: float
    ci: tuple[float, float]
    numerator: int
    n: int
    definition: str


def rate_result(numerator: int, n: int, definition: str, level: float) -> RateResult:
    """The rate ``numerator / n`` with its Wilson interval at ``level`` (NaN with ``n = 0``,
    which the public rates warn about with :func:`warn_empty_rate`).

    Examples
    --------
    >>> r = rate_result(170, 200, "satisfied / asked", 0.95)
    >>> r.value, tuple(round(x, 3) for x in r.ci)
    (0.85, (0.794, 0.893))
    """
    if n == 0:
        nan = float("nan")
        return RateResult(nan, (nan, nan), 0, 0, definition)
    _, low, high = proportion_interval(numerator, n, z_value(level), "wilson", 1.0)
    return RateResult(numerator / n, (low, high), numerator, n, definition)


def warn_empty_rate(n: int, definition: str, *, caller: str) -> None:
    """Warn (when ``n`` is 0) that the rate ``definition`` of ``caller`` has an empty
    denominator, so its value and interval are NaN.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_empty_rate(0, "replies < 2 / resolved", caller="one_touch_rate()")
    >>> print(caught[0].message)
    one_touch_rate(): 0 items in the denominator of the rate (replies < 2 / resolved), so its value and interval are NaN; check the data and the period it covers
    """
    if n == 0:
        warn(
            f"{caller}: 0 items in the denominator of the rate ({definition}), so its value "
            "and interval are NaN; check the data and the period it covers",
            DataWarning,
        )


def _customers_with(log: InteractionLog, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    out = np.zeros(log.n_customers, dtype=bool)
    out[log.customer_codes[mask]] = True
    return out


def _churn_counts(
    log: InteractionLog,
    start: Any,
    end: Any,
    definition: str,
    lookback: str | None,
    caller: str,
) -> tuple[int, int, str]:
    if definition not in DEFINITIONS:
        raise SchemaError(f"definition must be one of {DEFINITIONS!r}; got {definition!r}")
    t0, t1 = to_us(start, what="start"), to_us(end, what="end")
    check_period_order(t0, t1, caller=caller)
    unknown = (
        "customers who came back then count as churned"
        if definition == "activity"
        else "cancellations then are not counted"
    )
    check_period(log, t0, t1, caller=caller, unknown=unknown)
    ts = log.timestamps
    if definition == "activity":
        back = t0 - (t1 - t0 if lookback is None else duration_to_us(lookback))
        base = _customers_with(log, (ts >= back) & (ts < t0))
        active = _customers_with(log, (ts >= t0) & (ts < t1))
        churned = base & ~active
        text = (
            "non-contractual: active in the look-back window before start, "
            "no activity in [start, end)"
        )
    else:
        cancel = log.kind_mask("cancel")
        base = _customers_with(log, ts < t0) & ~_customers_with(log, cancel & (ts < t0))
        churned = base & _customers_with(log, cancel & (ts >= t0) & (ts < t1))
        text = "contractual: 'cancel' in [start, end) among customers not cancelled at start"
    return int(churned.sum()), int(base.sum()), text


def churn_rate(
    log: InteractionLog,
    start: Any,
    end: Any,
    *,
    definition: str = "activity",
    lookback: str | None = None,
    level: float = 0.95,
) -> RateResult:
    """Share of the customers at ``start`` who churned during ``[start, end)``.

    ``definition="activity"`` (non-contractual): the base is customers with any activity in
    the ``lookback`` window before ``start`` (default: as long as the period); churned =
    no activity in the period. ``definition="cancel"`` (contractual): the base is customers
    seen before ``start`` without a ``cancel``; churned = a ``cancel`` in the period.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    start, end : time-like
        The period ``[start, end)``.
    definition : {"activity", "cancel"}, default "activity"
        Non-contractual (churned: no activity in the period) or contractual (churned: a
        ``cancel`` in the period).
    lookback : str, optional
        With ``"activity"``: the window before ``start`` in which a customer must be active to
        count; default as long as the period.
    level : float, default 0.95
        Confidence level of the interval.

    Raises
    ------
    SchemaError
        If ``end`` is at or before ``start`` (the period holds no time).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "a", "a"], kind=["login"] * 4,
    ...     timestamp=["2024-01-05T00:00Z", "2024-01-06T00:00Z", "2024-02-03T00:00Z",
    ...                "2024-03-02T00:00Z"])
    >>> churn_rate(log, "2024-02-01T00:00Z", "2024-03-01T00:00Z", lookback="31d").value
    0.5
    """
    log = interaction_log(log, "churn_rate()")
    churned, base, text = _churn_counts(log, start, end, definition, lookback, "churn_rate()")
    warn_empty_rate(base, text, caller="churn_rate()")
    return rate_result(churned, base, text, level)


def retention_rate(
    log: InteractionLog,
    start: Any,
    end: Any,
    *,
    definition: str = "activity",
    lookback: str | None = None,
    level: float = 0.95,
) -> RateResult:
    """1 - :func:`churn_rate` with the same definition: retained / customers at start.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    start, end : time-like
        The period ``[start, end)``.
    definition : {"activity", "cancel"}, default "activity"
        Non-contractual (churned: no activity in the period) or contractual (churned: a
        ``cancel`` in the period).
    lookback : str, optional
        With ``"activity"``: the window before ``start`` in which a customer must be active to
        count; default as long as the period.
    level : float, default 0.95
        Confidence level of the interval.

    Raises
    ------
    SchemaError
        If ``end`` is at or before ``start`` (the period holds no time).
    """
    log = interaction_log(log, "retention_rate()")
    churned, base, text = _churn_counts(log, start, end, definition, lookback, "retention_rate()")
    warn_empty_rate(base, text, caller="retention_rate()")
    return rate_result(base - churned, base, text, level)


def repeat_purchase_rate(
    log: InteractionLog, start: Any = None, end: Any = None, *, level: float = 0.95
) -> RateResult:
    """Share of purchasing customers in ``[start, end)`` with two or more purchases.

    Each ``purchase`` row counts as a purchase. A line-item export writes an order as several
    rows (its lines): count orders on :meth:`InteractionLog.orders`, or a one-order customer
    with three lines has "bought again".

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    start, end : time-like, optional
        The period ``[start, end)``; either bound may be left open.
    level : float, default 0.95
        Confidence level of the interval.

    Raises
    ------
    SchemaError
        If both bounds are given and ``end`` is at or before ``start``.

    Warns
    -----
    DataWarning
        When some purchases of the period are further lines of an order (same customer and
        ``order_id``, or same instant; see :meth:`InteractionLog.orders`), with their count.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "b", "b"], [0, 0, 0, 86_400],
    ...                                  ["purchase"] * 4, order_id=["x", "x", "y", "z"])
    >>> repeat_purchase_rate(log.orders()).value
    0.5
    """
    log = interaction_log(log, "repeat_purchase_rate()")
    t0 = None if start is None else to_us(start, what="start")
    t1 = None if end is None else to_us(end, what="end")
    check_period_order(t0, t1, caller="repeat_purchase_rate()")
    check_period(
        log,
        t0,
        t1,
        caller="repeat_purchase_rate()",
        unknown="second purchases then are not counted",
    )
    read_kinds(
        log.kinds,
        ["purchase"],
        argument="repeat_purchase_rate()",
        meaning="there is no buyer and the rate is NaN",
    )
    window = log.between(start, end)
    buys = window.kind_mask("purchase")
    warn_order_lines(window, np.flatnonzero(buys), caller="repeat_purchase_rate()")
    per = np.bincount(window.customer_codes[buys], minlength=window.n_customers)
    buyers = int((per >= 1).sum())
    if "purchase" in log.kinds.tolist():  # else read_kinds said so
        warn_empty_rate(buyers, "purchases >= 2 / >= 1", caller="repeat_purchase_rate()")
    return rate_result(int((per >= 2).sum()), buyers, "purchases >= 2 / >= 1", level)


@attrs.frozen(eq=False, repr=False)
class CohortRetention(Result):
    """Cohort (first-purchase period) x periods since: active counts and rates.

    ``counts[i, k]`` customers of cohort ``cohorts[i]`` with a qualifying interaction ``k``
    periods after their first; ``rates = counts / sizes``; column 0 is the cohort itself.
    A cell whose period starts after the observation end (``as_of``, default the log's last
    interaction) has not happened yet: ``observed[i, k]`` is false, ``counts[i, k]`` is 0
    and ``rates[i, k]`` is NaN (missing, not 0 % retained), so ``np.nanmean`` over a column
    averages only the cohorts that reached that age. The period holding ``as_of`` is in
    progress and counts as observed.
    """

    cohorts: npt.NDArray[np.object_]
    sizes: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    rates: npt.NDArray[np.float64]
    period: str
    observed: npt.NDArray[np.bool_] | None = None

    @classmethod
    def empty(cls, period: str) -> CohortRetention:
        """No cohorts (no customer bought)."""
        none = np.zeros((0, 0))
        return cls(
            np.empty(0, dtype=object),
            np.zeros(0, np.int64),
            none.astype(np.int64),
            none,
            period,
            np.zeros((0, 0), dtype=bool),
        )

    _frame_index = "cohort"

    def _rows(self) -> dict[Any, Any]:
        """Rates as a cohort x periods-since table (NaN: not yet observed); ``to_pandas``
        indexes it by cohort."""
        return {"cohort": self.cohorts, **dict(enumerate(self.rates.T))}

    def to_dict(self) -> dict[str, Any]:
        """Columns: cohort, size, then one rate column per period since (NaN: not yet)."""
        out: dict[str, Any] = {"cohort": self.cohorts, "size": self.sizes}
        for k in range(self.counts.shape[1]):
            out[f"{self.period}_{k}"] = self.rates[:, k]
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the cohort x period heatmap, annotated with percentages (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_cohort_retention`.
        """
        from cxmodel.plot import plot_cohort_retention

        return plot_cohort_retention(self, ax, **kwargs)


def cohort_retention(
    log: InteractionLog,
    *,
    period: str = "month",
    kinds: tuple[str, ...] = ("purchase",),
    timezone: str | None = None,
    as_of: TimeLike | None = None,
) -> CohortRetention:
    """Cohort retention matrix: cohort = period of a customer's first ``kinds`` row.

    Periods are calendar periods in ``timezone`` (default UTC); a customer counts once per
    period with at least one ``kinds`` row in it. Only rows at or before ``as_of`` count
    (default: the log's last interaction; a naive ``as_of`` is read in ``timezone``). A cohort's periods that start after ``as_of``
    have not happened yet: their rates are NaN ("missing"), not 0, and
    :attr:`CohortRetention.observed` is false there. The matrix spans from the earliest
    cohort to the period holding ``as_of``. An ``as_of`` after the log's last interaction
    declares the months between observed (with no one retained) and warns with their number;
    one before the first interaction is refused.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    period : {"day", "week", "month", "quarter"}, default "month"
        Calendar period of the cohorts and of the periods since, in ``timezone``.
    kinds : tuple of str, default ("purchase",)
        The kinds that make a customer active in a period (the first one joins the cohort).
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    as_of : time-like, optional
        Observation end; default the log's last interaction. A naive time is read in
        ``timezone``, and refused without one.

    Raises
    ------
    SchemaError
        A ``kinds`` entry that is neither in the log nor a standard kind (with a
        did-you-mean), a bad ``period`` or ``as_of``.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "a", "c"],
    ...     kind=["purchase"] * 4,
    ...     timestamp=["2024-01-05T00:00Z", "2024-01-06T00:00Z", "2024-02-03T00:00Z",
    ...                "2024-02-10T00:00Z"])
    >>> r = cohort_retention(log)
    >>> r.cohorts.tolist(), r.rates.tolist()
    (['2024-01', '2024-02'], [[1.0, 0.5], [1.0, nan]])
    """
    log = interaction_log(log, "cohort_retention()")
    kinds = name_sequence(kinds, "cohort_retention()", "kinds")
    read_kinds(
        log.kinds,
        kinds,
        argument="cohort_retention() kinds",
        meaning="no customer joins a cohort and the matrix is empty",
    )
    end = None
    if as_of is not None:
        end = as_of_us(as_of, zone=timezone, zone_arg="timezone")
        check_as_of(first_time(log), end, caller="cohort_retention()")
    mask = log.kind_mask(*kinds)
    if end is None:
        end = int(log.timestamps.max()) if len(log) else 0
    else:
        mask &= log.timestamps <= end
    sub = log.filter(mask)
    if len(sub) == 0:
        return CohortRetention.empty(period)
    idx = period_index(sub.timestamps, period, timezone)
    first = idx[sub.offsets[:-1]]
    codes = sub.customer_codes.astype(np.int64)
    since = idx - first[codes]
    width = int(since.max()) + 1
    pairs = np.unique(codes * width + since)  # each customer once per period since
    cust, k = pairs // width, pairs % width
    return cohort_matrix(
        first[cust],
        k,
        np.ones(len(k), dtype=np.int64),
        period=period,
        timezone=timezone,
        end=end,
        until=log.observed_until,
        caller="cohort_retention()",
    )


def cohort_matrix(
    cohort: npt.NDArray[np.int64],
    since: npt.NDArray[np.int64],
    customers: npt.NDArray[np.int64],
    *,
    period: str,
    timezone: str | None,
    end: int,
    until: int | None,
    caller: str,
) -> CohortRetention:
    """The cohort matrix from ``customers`` counted per (``cohort`` period, periods
    ``since``), observed up to the period holding ``end``; the data's last interaction
    ``until`` says which of those periods only ``as_of`` declared observed (a warning counts
    them). One-process and partitioned counts end here alike.

    Examples
    --------
    >>> m = cohort_matrix(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([4, 2, 3]),
    ...     period="month", timezone=None, end=31 * 86_400_000_000, until=None, caller="f()")
    >>> m.cohorts.tolist(), m.counts.tolist(), m.rates.tolist()
    (['1970-01', '1970-02'], [[4, 2], [3, 0]], [[1.0, 0.5], [1.0, nan]])
    """
    if not len(cohort):
        return CohortRetention.empty(period)
    end_idx = int(period_index(np.array([end], dtype=np.int64), period, timezone)[0])
    cohort_values, cohort_of = np.unique(cohort, return_inverse=True)
    width = max(int(since.max()), end_idx - int(cohort_values.min())) + 1
    counts = np.zeros((len(cohort_values), width), dtype=np.int64)
    np.add.at(counts, (cohort_of.reshape(-1), since), customers)
    sizes = counts[:, 0].copy()
    periods = cohort_values[:, None] + np.arange(width)[None, :]
    observed = periods <= end_idx
    rates = np.where(observed, counts / sizes[:, None], np.nan)
    if until is not None and end > until:  # as_of declares the periods after the data observed
        until_idx = int(period_index(np.array([until], dtype=np.int64), period, timezone)[0])
        declared = int((observed & (periods > until_idx)).sum())
        if declared:
            consequence = (
                f"{declared:,} cohort period{'s' if declared != 1 else ''} after it count as "
                "observed, with no customer retained"
            )
            warn_after_data(until, end, consequence, caller=caller)
    return CohortRetention(
        index_labels(cohort_values, period), sizes, counts, rates, period, observed
    )
