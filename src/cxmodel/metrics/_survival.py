"""Kaplan-Meier curves (Greenwood variance, log(-log) interval), the log-rank test, lifetimes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from cxmodel._arguments import (
    flat_labels,
    float_array,
    interaction_log,
    label_array,
    missing_labels,
    real,
    share,
)
from cxmodel._pieces import warn
from cxmodel._result import Result, column
from cxmodel._stats import z_value
from cxmodel._time import US_PER_DAY, TimeLike, as_of_us, duration_to_us
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._observed import check_as_of, first_time, warn_after_data

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "CustomerLifetimes",
    "LogRankResult",
    "MultiLogRankResult",
    "SurvivalCurve",
    "customer_lifetimes",
    "kaplan_meier",
    "logrank_test",
    "multivariate_logrank_test",
]

FloatArray = npt.NDArray[np.float64]


def durations_and_events(
    durations: npt.ArrayLike, observed: npt.ArrayLike | None, where: str, side: str = ""
) -> tuple[FloatArray, FloatArray]:
    """Checked durations (finite, >= 0; a bad one named by its position) and event flags
    (0/1, default all 1) as float arrays, for ``where`` (e.g. ``"kaplan_meier()"``)."""
    name = f"durations{side}"
    d = float_array(durations, where, name, ndim=1)
    # two reductions (NaN propagates through min) instead of three full-size masks
    if d.size and not (float(d.min()) >= 0.0 and float(d.max()) < np.inf):
        bad = ~np.isfinite(d) | (d < 0)
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(f"{name}[{i}] = {float(d[i])!r}: durations must be finite and >= 0")
    if observed is None:
        e = np.ones_like(d)
    else:
        raw = np.asarray(observed)
        e = float_array(observed, where, f"observed{side}", ndim=1)
        if e.shape != d.shape:
            raise SchemaError(
                f"observed has {e.size} values for {d.size} durations; expected one each"
            )
        if raw.dtype != np.bool_ and not ((e == 0.0) | (e == 1.0)).all():
            raise SchemaError("observed must be booleans (1 = event seen, 0 = censored)")
    return d, e


_SCALES = (1.0, 10.0, 100.0, 1000.0)
# S(t) is a product of ratios computed in floating point: on durations 1..6 the third step,
# exactly 0.5, comes out as 0.5000000000000001. A quantile reads the curve to within this
# tolerance, R's quantile.survfit default (sqrt of the machine epsilon).
QUANTILE_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))


def _grid_table(
    d: FloatArray, e: npt.NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Counting-sort table when every duration is ``k / s`` exactly for a compact int range.

    ``s`` is tried over 1, 10, 100, 1000 (whole days, rounded decimals); a duration is on the
    grid only if ``rint(d * s) / s == d`` bit for bit, so the returned times are the input
    values themselves. One ``np.bincount`` over ``2 * k + event`` replaces both sorts. Returns
    None (caller falls back to sorting) when no scale fits.
    """
    n = d.size
    lo, hi = float(d.min()), float(d.max())
    limit = max(4 * n, 1 << 16)
    probe = d[:1024]
    for s in _SCALES:
        if (hi - lo) * s > limit or hi * s >= 2.0**52:
            continue
        if not (np.rint(probe * s) / s == probe).all():
            continue
        y = d * s
        np.rint(y, out=y)
        exact = (y == d).all() if s == 1.0 else (y / s == d).all()
        if not exact:
            continue
        base = np.rint(lo * s)
        y -= base
        y *= 2.0
        y += e
        counts = np.bincount(y.astype(np.int64), minlength=2 * (int(np.rint(hi * s - base)) + 1))
        pairs = counts.reshape(-1, 2)
        total = pairs.sum(axis=1)
        present = np.flatnonzero(total)
        removed = np.cumsum(total)[present] - total[present]
        times = (present + base) / s
        return times, pairs[present, 1].astype(np.float64), (n - removed).astype(np.float64)
    return None


def _table(d: FloatArray, e: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unique times, events at each time and number at risk just before it.

    Two plain sorts (all durations, event durations) and binary searches: no argsort, no
    inverse index, no Python loop.
    """
    ordered = np.sort(d)
    n = len(ordered)
    starts = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1])
    times = ordered[starts]
    events = np.sort(d[e > 0])
    deaths = np.searchsorted(events, times, side="right") - np.searchsorted(events, times)
    at_risk = n - starts
    return times.astype(np.float64), deaths.astype(np.float64), at_risk.astype(np.float64)


@attrs.frozen(eq=False, repr=False)
class SurvivalCurve(Result):
    """A Kaplan-Meier curve, one point per distinct duration (events and censorings).

    ``survival[i]`` is S(t) for ``times[i] <= t < times[i + 1]``; ``ci_low``/``ci_high`` is the
    log(-log) interval from Greenwood's variance (as lifelines); ``at_risk``/``events`` are
    the counts behind each step.
    """

    times: FloatArray = attrs.field(metadata=column())
    survival: FloatArray = attrs.field(metadata=column())
    ci_low: FloatArray = attrs.field(metadata=column())
    ci_high: FloatArray = attrs.field(metadata=column())
    at_risk: FloatArray = attrs.field(metadata=column())
    events: FloatArray = attrs.field(metadata=column())
    level: float

    def at(self, t: float) -> float:
        """S(t): the curve's value at time ``t`` (1 before the first time).

        Raises
        ------
        ValueTypeError
            If ``t`` is not a number (text such as ``"2"`` included).
        SchemaError
            If ``t`` is NaN or infinite.

        Examples
        --------
        >>> kaplan_meier([1, 2, 3]).at(2.5)
        0.3333333333333333
        """
        t = real(t, "SurvivalCurve.at()", "t")
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def survival_time(self, q: float) -> float:
        """Smallest time with S(t) <= ``q`` (inf if the curve never gets there).

        S(t) is compared to within 1.5e-8 (R's ``quantile.survfit`` tolerance), so rounding
        in the product cannot carry a step that is exactly ``q`` past it: durations 1..6 have
        the median 3, where an exact comparison (as lifelines 0.30.3 makes) gives 4.

        Raises
        ------
        ValueTypeError, SchemaError
            If ``q`` is not a number in [0, 1] (NaN and text included).
        """
        q = share(q, "SurvivalCurve.survival_time()", "q")
        hit = np.flatnonzero(self.survival <= q + QUANTILE_TOLERANCE)
        return float(self.times[hit[0]]) if hit.size else float("inf")

    @property
    def median(self) -> float:
        """Median survival time: smallest t with S(t) <= 0.5 (inf if not reached)."""
        return self.survival_time(0.5)

    def percentile(self, p: float) -> float:
        """Time by which a share ``p`` of subjects had the event (``survival_time(1 - p)``).

        The ``p`` quantile of the durations: lifelines' ``percentile(p)`` is the opposite one,
        the time by which survival fell to ``p`` (here :meth:`survival_time`).

        Raises
        ------
        ValueTypeError, SchemaError
            If ``p`` is not a number in [0, 1] (NaN and text included; a percentage such as
            90 gets a did-you-mean of 0.9).
        """
        p = share(p, "SurvivalCurve.percentile()", "p")
        return self.survival_time(1.0 - p)

    def _figures(self) -> dict[str, Any]:
        return {"median": self.median, "level": self.level}

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the step curve with its confidence band (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_survival`.
        """
        from cxmodel.plot import plot_survival

        return plot_survival(self, ax, **kwargs)


def kaplan_meier(
    durations: npt.ArrayLike, observed: npt.ArrayLike | None = None, *, level: float = 0.95
) -> SurvivalCurve:
    """Kaplan-Meier estimate of the survival function.

    S(t) = prod over event times t_i <= t of (1 - d_i / n_i); Greenwood's variance
    V = sum d_i / (n_i (n_i - d_i)); the interval is exp(-exp(log(-log S) +- z sqrt(V) / log S)),
    1 where S = 1 (lifelines' convention). ``observed`` (default all true) marks events;
    false means right-censored. Ties: events at t are counted before censorings at t.

    Parameters
    ----------
    durations : array-like of float
        Time to the event or to censoring, one per subject.
    observed : array-like of bool, optional
        True where the event happened; default all.
    level : float, default 0.95
        Confidence level of the pointwise interval.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    >>> km.survival.round(4).tolist()
    [0.8, 0.6, 0.3, 0.3]
    >>> km.median, round(km.at(2.5), 4)
    (3.0, 0.6)
    """
    z = z_value(level)
    d, e = durations_and_events(durations, observed, "kaplan_meier()")
    if d.size == 0:
        raise DataError("kaplan_meier() got no durations; expected at least one")
    table = _grid_table(d, e > 0)
    times, deaths, at_risk = _table(d, e) if table is None else table
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.exp(np.cumsum(np.log(at_risk - deaths) - np.log(at_risk)))
        step = deaths / (at_risk * (at_risk - deaths))
        step[~np.isfinite(step)] = 0.0
        sd = np.sqrt(np.cumsum(step))
        v = np.log(survival)
        low = np.exp(-np.exp(np.log(-v) - z * sd / v))
        high = np.exp(-np.exp(np.log(-v) + z * sd / v))
    low[np.isnan(low)] = 1.0
    high[np.isnan(high)] = 1.0
    return SurvivalCurve(times, survival, low, high, at_risk, deaths, float(level))


def _warn_no_information(events: float, n: int, caller: str) -> None:
    """Warn that a log-rank test has no information (zero variance): its statistic and
    p-value are NaN. ``events`` of the ``n`` durations were events; with none, every subject
    was censored, else each event time had subjects at risk in one group only, or had every
    subject then at risk (of two groups or more) fail at once, leaving no survivor to weigh
    the groups' shares against."""
    if events == 0:
        why = f"none of the {n:,} durations is an event (every subject is censored)"
    else:
        count = f"{events:,.0f} event" + (" happened" if events == 1 else "s happened")
        why = (
            f"the {count} while only one group had subjects at risk, or took every subject "
            "then at risk at once (no survivor to compare the groups by)"
        )
    warn(
        f"{caller}: {why}, so the groups cannot be compared: statistic and p_value are NaN",
        DataWarning,
    )


@attrs.frozen(repr=False)
class LogRankResult(Result):
    """Log-rank test of equal survival in two groups (chi-square, 1 degree of freedom)."""

    statistic: float
    p_value: float
    observed_a: float
    expected_a: float


def logrank_test(
    durations_a: npt.ArrayLike,
    durations_b: npt.ArrayLike,
    observed_a: npt.ArrayLike | None = None,
    observed_b: npt.ArrayLike | None = None,
    *,
    strata_a: npt.ArrayLike | None = None,
    strata_b: npt.ArrayLike | None = None,
) -> LogRankResult:
    """Log-rank test (Mantel-Haenszel) that groups a and b share one survival curve.

    Argument order as lifelines' ``logrank_test``. Statistic = (O_a - E_a)^2 / V with the
    hypergeometric variance summed over the distinct event times. With ``strata_a`` and
    ``strata_b`` (one label per duration) the test is stratified: O_a - E_a and V are summed
    over strata, each stratum with its own risk sets (see :func:`multivariate_logrank_test`).

    Parameters
    ----------
    durations_a, durations_b : array-like of float
        Time to the event or to censoring in each group.
    observed_a, observed_b : array-like of bool, optional
        True where the event happened; default all.
    strata_a, strata_b : array-like, optional
        One stratum label per duration, for a stratified test (both or neither).

    Warns
    -----
    DataWarning
        When the test has no information (its variance is 0): no subject had the event (all
        censored), or no event happened while both groups had subjects at risk. The
        statistic and p-value are then NaN; ``observed_a`` and ``expected_a`` stand.

    Examples
    --------
    >>> r = logrank_test([1, 2, 3, 4], [5, 6, 7, 8])
    >>> round(r.statistic, 3), r.p_value < 0.05
    (7.344, True)
    >>> s = logrank_test([1, 2, 3, 4], [5, 6, 7, 8], strata_a=[0, 0, 1, 1], strata_b=[0, 0, 1, 1])
    >>> round(s.statistic, 3)
    5.765
    """
    da, ea = durations_and_events(durations_a, observed_a, "logrank_test()", "_a")
    db, eb = durations_and_events(durations_b, observed_b, "logrank_test()", "_b")
    if da.size == 0 or db.size == 0:
        raise DataError("logrank_test() needs at least one duration in each group")
    if strata_a is not None or strata_b is not None:
        if strata_a is None or strata_b is None:
            raise SchemaError("give both strata_a and strata_b, or neither")
        sa, sb = np.asarray(strata_a), np.asarray(strata_b)
        if sa.shape != da.shape or sb.shape != db.shape:
            raise SchemaError("strata_a and strata_b need one label per duration of their group")
        groups = np.r_[np.zeros(da.size, np.int64), np.ones(db.size, np.int64)]
        multi = _k_sample_test(
            np.r_[da, db], np.r_[ea, eb], groups, np.concatenate([sa, sb]), "logrank_test()"
        )
        return LogRankResult(
            multi.statistic, multi.p_value, float(multi.observed[0]), float(multi.expected[0])
        )
    d = np.concatenate([da, db])
    e = np.concatenate([ea, eb])
    times, deaths, at_risk = _table(d, e)
    inverse = np.searchsorted(times, da)
    deaths_a = np.bincount(inverse, weights=ea, minlength=len(times))
    leave_a = np.bincount(inverse, minlength=len(times)).astype(np.float64)
    at_risk_a = da.size - np.concatenate([[0.0], np.cumsum(leave_a)[:-1]])
    share = at_risk_a / at_risk
    expected = float(np.sum(deaths * share))
    with np.errstate(divide="ignore", invalid="ignore"):
        var_terms = deaths * share * (1 - share) * (at_risk - deaths) / (at_risk - 1)
    variance = float(np.nansum(var_terms))
    observed = float(deaths_a.sum())
    if not variance > 0:
        _warn_no_information(float(e.sum()), int(e.size), "logrank_test()")
        return LogRankResult(float("nan"), float("nan"), observed, expected)
    stat = (observed - expected) ** 2 / variance
    return LogRankResult(stat, float(stats.chi2.sf(stat, 1)), observed, expected)


@attrs.frozen(eq=False, repr=False)
class MultiLogRankResult(Result):
    """Log-rank test of equal survival across k groups (chi-square, k - 1 degrees of freedom).

    ``observed`` and ``expected`` are the events per group (in the order of ``groups``), summed
    over strata; ``variance`` is the k x k covariance matrix of observed - expected.
    """

    statistic: float
    p_value: float
    degrees_of_freedom: int
    groups: tuple[Any, ...] = attrs.field(metadata=column("group"))
    observed: FloatArray = attrs.field(metadata=column())
    expected: FloatArray = attrs.field(metadata=column())
    variance: FloatArray
    n_strata: int

    _frame_figures = True

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (arrays as lists); ``to_pandas`` has one row per group, with
        the test's figures in ``DataFrame.attrs``."""
        out = attrs.asdict(self)
        for name in ("observed", "expected", "variance"):
            out[name] = np.asarray(out[name]).tolist()
        out["groups"] = list(self.groups)
        return out


def _logrank_stratum(
    d: FloatArray, e: FloatArray, g: npt.NDArray[np.intp], k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Observed, expected (per group) and the k x k variance of one stratum."""
    times, deaths, at_risk = _table(d, e)
    m = times.size
    # at risk per group just before each time: group members with duration >= t
    risk_g = np.empty((m, k))
    for j in range(k):
        dj = np.sort(d[g == j])
        risk_g[:, j] = dj.size - np.searchsorted(dj, times, side="left")
    observed = np.bincount(g, weights=e, minlength=k).astype(np.float64)
    share = risk_g / at_risk[:, None]
    expected = deaths @ share
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 1, deaths * (at_risk - deaths) / (at_risk - 1), 0.0)
    variance = np.diag(factor @ share) - (share * factor[:, None]).T @ share
    return observed, expected, variance


def multivariate_logrank_test(
    durations: npt.ArrayLike,
    groups: npt.ArrayLike,
    observed: npt.ArrayLike | None = None,
    *,
    strata: npt.ArrayLike | None = None,
) -> MultiLogRankResult:
    """k-sample log-rank test that every group shares one survival curve, optionally stratified.

    For each distinct event time t with n_t at risk (n_jt in group j) and d_t events, the
    expected events of group j are E_j = sum d_t n_jt / n_t and the covariance of O - E is
    V_jl = sum d_t (n_jt / n_t)(delta_jl - n_lt / n_t)(n_t - d_t) / (n_t - 1) (Mantel 1966,
    as R's ``survdiff``). The statistic (O - E)' V^- (O - E) over the first k - 1 groups is
    chi-square with k - 1 degrees of freedom. With ``strata`` (one label per duration), risk
    sets are formed within each stratum and O - E and V are summed over strata (the stratified
    test of R's ``survdiff(... + strata(s))``). Without strata it equals lifelines'
    ``multivariate_logrank_test``.

    Parameters
    ----------
    durations : array-like
        Finite, >= 0.
    groups : array-like
        One group label per duration; at least two groups.
    observed : array-like of bool, optional
        Event flags (default all true).
    strata : array-like, optional
        One stratum label per duration.

    Warns
    -----
    DataWarning
        When the test has no information (its variance is 0): no subject had the event (all
        censored), or no event happened while two groups had subjects at risk. The
        statistic and p-value are then NaN; ``observed`` and ``expected`` stand.

    Examples
    --------
    >>> r = multivariate_logrank_test([1, 2, 3, 4, 5, 6], ["a", "a", "b", "b", "c", "c"])
    >>> round(r.statistic, 3), r.degrees_of_freedom, r.groups
    (7.25, 2, ('a', 'b', 'c'))
    >>> r.observed.tolist(), r.expected.round(3).tolist()
    ([2.0, 2.0, 2.0], [0.533, 1.567, 3.9])
    """
    d, e = durations_and_events(durations, observed, "multivariate_logrank_test()")
    return _k_sample_test(d, e, groups, strata, "multivariate_logrank_test()")


def _labels(values: npt.ArrayLike, name: str, n: int, caller: str) -> npt.NDArray[Any]:
    """One label per duration, none missing (None or NaN) and all of one sortable kind."""
    labels = flat_labels(label_array(values), caller, name)
    if labels.shape != (n,):
        raise SchemaError(f"{name} has {labels.size} labels for {n} durations")
    missing = missing_labels(labels)  # None, NaN, pandas' NA
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        shown = labels[i].item() if isinstance(labels[i], np.generic) else labels[i]
        raise SchemaError(
            f"{caller}: {name}[{i}] = {shown!r} is missing ({int(missing.sum()):,} of "
            f"{n:,} labels are); drop those subjects or give them a label of their own"
        )
    try:
        np.unique(labels)
    except TypeError as error:
        kinds = sorted({type(x).__name__ for x in labels})
        raise SchemaError(
            f"{caller}: {name} mixes labels of kinds {kinds} that cannot be ordered; give "
            "labels of one kind (e.g. all text)"
        ) from error
    return labels


def _k_sample_test(
    d: FloatArray, e: FloatArray, groups: npt.ArrayLike, strata: npt.ArrayLike | None, caller: str
) -> MultiLogRankResult:
    """:func:`multivariate_logrank_test` of checked durations ``d`` and events ``e``;
    ``caller`` names the public function in messages."""
    labels = _labels(groups, "groups", d.size, caller)
    levels, g = np.unique(labels, return_inverse=True)
    g = g.reshape(-1)
    k = levels.size
    if k < 2:
        raise DataError(f"{caller} needs at least two groups")
    if strata is None:
        s_codes = np.zeros(d.size, dtype=np.intp)
        n_strata = 1
    else:
        s_raw = _labels(strata, "strata", d.size, caller)
        s_levels, s_codes = np.unique(s_raw, return_inverse=True)
        s_codes = s_codes.reshape(-1)
        n_strata = int(s_levels.size)
    obs = np.zeros(k)
    exp = np.zeros(k)
    var = np.zeros((k, k))
    for s in range(n_strata):
        rows = s_codes == s
        o_s, e_s, v_s = _logrank_stratum(d[rows], e[rows], g[rows], k)
        obs += o_s
        exp += e_s
        var += v_s
    u = (obs - exp)[:-1]
    v = var[:-1, :-1]
    rank = int(np.linalg.matrix_rank(v)) if v.size else 0
    if rank == 0:
        _warn_no_information(float(e.sum()), int(e.size), caller)
        stat, p = float("nan"), float("nan")
    else:
        stat = float(u @ np.linalg.pinv(v) @ u)
        p = float(stats.chi2.sf(stat, k - 1))
    return MultiLogRankResult(
        stat,
        p,
        k - 1,
        tuple(x.item() if isinstance(x, np.generic) else x for x in levels),
        obs,
        exp,
        var,
        n_strata,
    )


@attrs.frozen(eq=False, repr=False)
class CustomerLifetimes(Result):
    """Per customer: lifetime in days and whether churn was observed (False = still active),
    as of ``as_of`` (UTC, microseconds)."""

    customers: npt.NDArray[np.object_] = attrs.field(metadata=column("customer_id"))
    durations: FloatArray = attrs.field(metadata=column("duration"))
    observed: npt.NDArray[np.bool_] = attrs.field(metadata=column())
    as_of: np.datetime64
    inactivity_days: float

    def kaplan_meier(self, *, level: float = 0.95) -> SurvivalCurve:
        """The Kaplan-Meier curve of these lifetimes."""
        return kaplan_meier(self.durations, self.observed, level=level)


def customer_lifetimes(
    log: InteractionLog, as_of: TimeLike, *, inactivity: str = "90d"
) -> CustomerLifetimes:
    """Lifetimes from activity: churned customers (no activity within ``inactivity`` before
    ``as_of``) live from first to last activity (observed); the others are right-censored at
    ``as_of`` (duration = as_of - first activity). Rows after ``as_of`` are ignored; days.
    Every row is activity, messages sent to the customer (``email_sent``, ``push_sent``) too:
    to count the customer's own actions only, pass ``log.filter(log.kind_mask(*kinds))``
    with ``kinds`` the :data:`cxmodel.models.ACTIVITY_KINDS` the log holds.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    as_of : time-like
        Observation end: rows after it are ignored.
    inactivity : str, default "90d"
        Silence before ``as_of`` after which a customer counts as churned.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b"], kind=["purchase"] * 3,
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-11T00:00Z", "2024-03-20T00:00Z"])
    >>> lt = customer_lifetimes(log, "2024-04-01T00:00Z", inactivity="30d")
    >>> lt.durations.tolist(), lt.observed.tolist()
    ([10.0, 12.0], [True, False])
    """
    log = interaction_log(log, "customer_lifetimes()")
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="customer_lifetimes()")
    window = duration_to_us(inactivity)
    result, last = lifetimes_of(log, cutoff, window)
    until = log.observed_until
    if until is not None and cutoff > until:
        flipped = churned_by_silence(result.observed, last, until, window)
        warn_churned_by_silence(flipped, until, cutoff, "customer_lifetimes()")
    return result


def lifetimes_of(
    log: InteractionLog, cutoff: int, window: int
) -> tuple[CustomerLifetimes, npt.NDArray[np.int64]]:
    """:func:`customer_lifetimes`' work without its checks (as of ``cutoff``, ``window``
    microseconds of inactivity): the lifetimes, and each customer's last activity."""
    kept = log.filter(log.timestamps <= cutoff)
    ts = kept.timestamps
    offsets = kept.offsets
    first = ts[offsets[:-1]]
    last = ts[offsets[1:] - 1]
    churned = (cutoff - last) > window
    end = np.where(churned, last, cutoff)
    lifetimes = CustomerLifetimes(
        kept.customers,
        (end - first) / US_PER_DAY,
        churned,
        np.datetime64(cutoff, "us"),
        window / US_PER_DAY,
    )
    return lifetimes, last


def churned_by_silence(
    churned: npt.NDArray[np.bool_], last: npt.NDArray[np.int64], until: int, window: int
) -> int:
    """The customers counted as ``churned`` who were active within ``window`` of ``until``,
    the data's last interaction: churned only by the silence after it."""
    return int((churned & ((until - last) <= window)).sum())


def warn_churned_by_silence(flipped: int, until: int, cutoff: int, caller: str) -> None:
    """Warn (when ``flipped`` > 0) that ``flipped`` customers count as churned only because
    ``as_of`` (``cutoff``) is after the data's last interaction ``until``."""
    if flipped:
        who = "1 customer counts" if flipped == 1 else f"{flipped:,} customers count"
        consequence = f"{who} as churned only because of it"
        warn_after_data(until, cutoff, consequence, caller=caller)
