"""NPS, CSAT and CES with intervals and breakdowns, through mergeable accumulators.

Each metric is an accumulator: :meth:`~ScoreAccumulator.partial` counts a chunk's answers per
group, :meth:`~ScoreAccumulator.merge` adds counts, and :meth:`SurveyAccumulator.finalize`
(a table) or :meth:`SurveyAccumulator.result` (one answer) computes the values and intervals
once from the merged counts. :func:`nps`, :func:`csat` and :func:`ces` are one partial and
its summary; :mod:`cxmodel.dask` runs the same partials over partitions.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar, overload

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from cxmodel._arguments import got, integer, random_seed
from cxmodel._periods import index_labels
from cxmodel._result import Result
from cxmodel._stats import fpc_factor, mean_t_bounds, proportion_bounds, sample_moments, z_value
from cxmodel._tables import (
    FLAT_MEAN,
    MetricTable,
    check_key_names,
    warn_flat_intervals,
    warn_small_groups,
)
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.metrics._accumulators import ScoreAccumulator, ScoreCounts, ordered_scale
from cxmodel.metrics._answers import MISSING, held_metrics, refuse_unanswered

__all__ = [
    "CESAccumulator",
    "CESResult",
    "CSATAccumulator",
    "IntervalOptions",
    "NPSAccumulator",
    "NPSResult",
    "ProportionResult",
    "SurveyAccumulator",
    "ces",
    "csat",
    "nps",
    "nps_statistics",
]

NAN = float("nan")
_BOOTSTRAP = 2000
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@attrs.frozen(repr=False)
class NPSResult(Result):
    """Net Promoter Score in points (-100..100) with its standard error and interval."""

    value: float
    se: float
    ci: tuple[float, float]
    n: int
    promoters: int
    passives: int
    detractors: int
    method: str
    level: float
    population: int | None


@attrs.frozen(repr=False)
class ProportionResult(Result):
    """A share in [0, 1] (CSAT top-two-box, CES agree share) with its interval."""

    value: float
    se: float
    ci: tuple[float, float]
    n: int
    successes: int
    method: str
    level: float
    population: int | None


@attrs.frozen(repr=False)
class CESResult(Result):
    """Customer Effort Score: agree share (``value``, proportion) and mean with a t-interval."""

    value: float
    se: float
    ci: tuple[float, float]
    n: int
    successes: int
    mean: float
    mean_se: float
    mean_ci: tuple[float, float]
    method: str
    level: float
    population: int | None


# ---------------------------------------------------------------------- options
def _level(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    z_value(value)  # raises a SchemaError naming the level


def _population(instance: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2
    ):
        raise SchemaError(f"population must be a whole number >= 2 or None; got {value!r}")


def _seed(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    random_seed(value, "the bootstrap", "random_state", generator=False)


@attrs.frozen
class IntervalOptions:
    """How a survey metric's intervals are computed.

    Attributes
    ----------
    ci : str
        The interval method: ``"wald"``, ``"adjusted-wald"``, ``"wilson"`` (proportions only)
        or ``"bootstrap"`` (seeded by ``random_state``).
    level : float
        The confidence level, in (0, 1).
    population : int or None
        The size of the surveyed population, for the finite population correction.
    random_state : int
        The seed of the bootstrap.

    Examples
    --------
    >>> IntervalOptions("wald", 0.9).z
    1.6448536269514722
    """

    ci: str
    level: float = attrs.field(default=0.95, validator=_level)
    population: int | None = attrs.field(default=None, validator=_population)
    random_state: int = attrs.field(default=0, validator=_seed)

    @property
    def z(self) -> float:
        """The two-sided normal quantile of :attr:`level`."""
        return z_value(self.level)

    def fpc(self, n: npt.ArrayLike) -> FloatArray:
        """The finite population correction ``(N - n) / (N - 1)`` of group sizes ``n``.

        Raises
        ------
        SchemaError
            When a group has more answers than the population.
        """
        return np.asarray(fpc_factor(n, self.population), dtype=np.float64)

    def bootstrap_bounds(self, draws: FloatArray) -> tuple[float, float]:
        """The equal-tailed bootstrap interval of ``draws`` at :attr:`level`."""
        alpha = 2 * (1 - stats.norm.cdf(self.z))
        low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
        return float(low), float(high)


# ---------------------------------------------------------------------- statistics
R = TypeVar("R", NPSResult, ProportionResult, CESResult)
R_co = TypeVar("R_co", NPSResult, ProportionResult, CESResult, covariant=True)


class _Statistics(Protocol[R_co]):
    def columns(self) -> dict[str, npt.NDArray[Any]]: ...

    def result(self, options: IntervalOptions) -> R_co: ...


def _first(values: npt.NDArray[Any], empty: float | int) -> Any:
    return values[0].item() if len(values) else empty


@attrs.frozen(eq=False)
class NPSStatistics:
    """NPS per group: counts, value in points, standard error and interval bounds."""

    n: IntArray
    promoters: IntArray
    passives: IntArray
    detractors: IntArray
    value: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The table columns, in table order."""
        return attrs.asdict(self, recurse=False)

    def result(self, options: IntervalOptions) -> NPSResult:
        """The only group as an :class:`NPSResult` (NaN with ``n = 0`` for no group)."""
        return NPSResult(
            _first(self.value, NAN), _first(self.se, NAN),
            (_first(self.ci_low, NAN), _first(self.ci_high, NAN)), _first(self.n, 0),
            _first(self.promoters, 0), _first(self.passives, 0), _first(self.detractors, 0),
            options.ci, options.level, options.population,
        )  # fmt: skip


def _scale(scale: Any, where: str) -> tuple[int, int]:
    """``scale`` as a ``(lowest, highest)`` pair of integers (their order is checked later)."""
    if isinstance(scale, (tuple, list)) and len(scale) == 2:
        return integer(scale[0], where, "scale[0]"), integer(scale[1], where, "scale[1]")
    raise ValueTypeError(
        f"{where}: scale must be a (lowest, highest) pair of integers; got {got(scale)}"
    )


def nps_statistics(counts: IntArray, options: IntervalOptions) -> NPSStatistics:
    """The NPS of each row of answer counts on 0..10, with its interval (the one NPS formula).

    With p, d the promoter (9-10) and detractor (0-6) shares: NPS = 100 (p - d), SE = 100
    sqrt((p + d - (p - d)^2) fpc / n). ``"wald"``: NPS +- z SE; ``"adjusted-wald"`` (Lewis &
    Sauro): the same on n + 3 answers with 3/4 added to promoters and detractors;
    ``"bootstrap"``: quantiles of 2,000 seeded multinomial resamples. With a finite
    population the correction fpc = (N - n) / (N - 1) of the n answers also scales the
    adjusted Wald's added answers (n + 3 fpc, 3/4 fpc) and the bootstrap's spread around the
    NPS (``NPS + sqrt(fpc) (draw - NPS)``), so a census (fpc 0) has no width with every
    method. Bounds are clipped to -100..100; a group without answers is NaN.

    Examples
    --------
    >>> counts = np.zeros((1, 11), dtype=np.int64)
    >>> counts[0, [10, 8, 3]] = [50, 30, 20]
    >>> s = nps_statistics(counts, IntervalOptions("wald"))
    >>> s.value.tolist(), s.se.round(2).tolist(), s.ci_low.round(2).tolist()
    ([30.0], [7.81], [14.69])
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, 11)
    det, pas, pro = (counts[:, s].sum(axis=1) for s in (slice(0, 7), slice(7, 9), slice(9, None)))
    n = det + pas + pro
    z = options.z
    answered = n > 0
    fpc = options.fpc(n[answered])
    value = np.full(len(n), NAN)
    se = np.full(len(n), NAN)
    low = np.full(len(n), NAN)
    high = np.full(len(n), NAN)
    k = n[answered]
    p, d = pro[answered] / k, det[answered] / k
    value[answered] = 100.0 * (p - d)
    se[answered] = 100.0 * np.sqrt((p + d - (p - d) * (p - d)) * fpc / k)
    if options.ci == "wald":
        low[answered] = value[answered] - z * se[answered]
        high[answered] = value[answered] + z * se[answered]
    elif options.ci == "adjusted-wald":
        k2 = k + 3.0 * fpc  # the added answers shrink with the correction: none in a census
        p2, d2 = (pro[answered] + 0.75 * fpc) / k2, (det[answered] + 0.75 * fpc) / k2
        centre = 100.0 * (p2 - d2)
        se2 = 100.0 * np.sqrt((p2 + d2 - (p2 - d2) * (p2 - d2)) * fpc / k2)
        low[answered], high[answered] = centre - z * se2, centre + z * se2
    else:  # bootstrap: resamples per group, each from the same seed
        spread = np.sqrt(options.fpc(n))
        for i in np.flatnonzero(answered).tolist():
            # the passive share from its own count: 1 - p - d rounds below 0 without passives
            shares = np.array([pro[i], pas[i], det[i]], dtype=np.float64) / n[i]
            rng = np.random.default_rng(options.random_state)
            draws = rng.multinomial(n[i], shares, _BOOTSTRAP)
            scores = 100.0 * (draws[:, 0] - draws[:, 2]) / n[i]
            low[i], high[i] = options.bootstrap_bounds(value[i] + spread[i] * (scores - value[i]))
    return NPSStatistics(
        n, pro, pas, det, value, se, np.maximum(-100.0, low), np.minimum(100.0, high)
    )


@attrs.frozen(eq=False)
class ShareStatistics:
    """A share per group (answers at or above the top box): counts, value, SE and interval."""

    n: IntArray
    successes: IntArray
    value: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The table columns, in table order."""
        return attrs.asdict(self, recurse=False)

    def result(self, options: IntervalOptions) -> ProportionResult:
        """The only group as a :class:`ProportionResult` (NaN with ``n = 0`` for no group)."""
        return ProportionResult(
            _first(self.value, NAN), _first(self.se, NAN),
            (_first(self.ci_low, NAN), _first(self.ci_high, NAN)), _first(self.n, 0),
            _first(self.successes, 0), options.ci, options.level, options.population,
        )  # fmt: skip


def share_statistics(successes: IntArray, n: IntArray, options: IntervalOptions) -> ShareStatistics:
    """The share ``successes / n`` of each group with its interval.

    ``"wald"`` and ``"adjusted-wald"`` (Agresti-Coull) are clipped to [0, 1]; ``"wilson"`` and
    the Agresti-Coull pseudo-counts take the finite population correction through z^2;
    ``"bootstrap"`` is 2,000 seeded binomial resamples, their spread around the share scaled
    by the square root of the correction. A group without answers is NaN.
    """
    successes, n = np.asarray(successes, np.int64), np.asarray(n, np.int64)
    answered = n > 0
    value = np.full(len(n), NAN)
    value[answered] = successes[answered] / n[answered]
    bootstrap = options.ci == "bootstrap"  # keeps the Wald standard error
    se, low, high = proportion_bounds(
        successes, n, options.z, "wald" if bootstrap else options.ci, options.fpc(n)
    )
    if bootstrap:
        spread = np.sqrt(options.fpc(n))
        for i in np.flatnonzero(answered).tolist():
            rng = np.random.default_rng(options.random_state)
            draws = rng.binomial(n[i], successes[i] / n[i], size=_BOOTSTRAP) / n[i]
            low[i], high[i] = options.bootstrap_bounds(value[i] + spread[i] * (draws - value[i]))
    return ShareStatistics(n, successes, value, se, low, high)


@attrs.frozen(eq=False)
class CESStatistics:
    """CES per group: the agree share and the mean with its Student-t interval."""

    share: ShareStatistics
    mean: FloatArray
    mean_se: FloatArray
    mean_ci_low: FloatArray
    mean_ci_high: FloatArray

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The table columns: the share's, then the mean's."""
        return self.share.columns() | {
            "mean": self.mean,
            "mean_se": self.mean_se,
            "mean_ci_low": self.mean_ci_low,
            "mean_ci_high": self.mean_ci_high,
        }

    def result(self, options: IntervalOptions) -> CESResult:
        """The only group as a :class:`CESResult` (NaN with ``n = 0`` for no group)."""
        s = self.share
        return CESResult(
            _first(s.value, NAN), _first(s.se, NAN), (_first(s.ci_low, NAN), _first(s.ci_high, NAN)),
            _first(s.n, 0), _first(s.successes, 0), _first(self.mean, NAN),
            _first(self.mean_se, NAN), (_first(self.mean_ci_low, NAN), _first(self.mean_ci_high, NAN)),
            options.ci, options.level, options.population,
        )  # fmt: skip


def _mean_statistics(
    counts: IntArray, points: FloatArray, options: IntervalOptions
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean of each row of answer counts and its Student-t interval (NaN below 2 answers),
    clipped to the scale ``points`` spans."""
    n = counts.sum(axis=1)
    mean, var = sample_moments(n, counts @ points, counts @ (points**2))
    scale = (float(points[0]), float(points[-1]))
    return (mean, *mean_t_bounds(n, mean, var, options.level, options.fpc(n), scale))


# ---------------------------------------------------------------------- accumulators
@attrs.frozen
class SurveyAccumulator(ScoreAccumulator, Generic[R], abc.ABC):
    """A score accumulator that computes a survey metric from its merged state.

    :meth:`finalize` gives a table with one row per group, :meth:`result` the single answer of
    a state without group keys, and :meth:`summarise` whichever of the two the state calls
    for, as :func:`nps`, :func:`csat` and :func:`ces` return it.
    """

    methods: ClassVar[tuple[str, ...]] = ("wald", "adjusted-wald", "bootstrap")
    default_ci: ClassVar[str] = "wald"
    # what makes an interval of the metric flat, and the remedy (warn_flat_intervals)
    flat_reason: ClassVar[str] = (
        "every answer is in the top box, or none is, and the {method} interval has no spread "
        "there; ci='wilson' or ci='adjusted-wald' gives an interval that allows for the answers "
        "the sample did not show"
    )

    def options(
        self,
        ci: str | None = None,
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> IntervalOptions:
        """The interval options, checked: ``ci`` must be one of :attr:`methods`."""
        method = self.default_ci if ci is None else ci
        if method not in self.methods:
            raise SchemaError(
                f"ci must be one of {self.methods!r} for {self.metric.upper()}; got {ci!r}"
            )
        return IntervalOptions(method, level, population, random_state)

    @abc.abstractmethod
    def _statistics(self, counts: IntArray, options: IntervalOptions) -> _Statistics[R]:
        """The metric of each row of ``counts`` (one row per group)."""

    def finalize(
        self,
        state: ScoreCounts,
        *,
        ci: str | None = None,
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> MetricTable:
        """One row per group: the group keys (labels and periods decoded), then the metric's
        columns. Groups of a :meth:`partial` state are first completed (:meth:`complete`)."""
        options = self.options(ci, level, population, random_state)
        state = self.complete(state)
        columns: dict[str, npt.NDArray[Any]] = {}
        for j, name in enumerate(state.key_names):
            keys = state.keys[:, j]
            if j == 0 and state.labels is not None:
                keys = np.append(state.labels.astype(object), MISSING)[keys.astype(np.int64)]
            elif name == "period" and state.period is not None:
                keys = index_labels(keys.astype(np.int64), state.period)
            columns[name] = keys.copy()
        statistics = self._statistics(state.counts, options).columns()
        check_key_names(state.key_names, statistics, self.metric.upper())
        columns |= statistics
        return MetricTable(self.metric.upper(), columns)

    def result(
        self,
        state: ScoreCounts,
        *,
        ci: str | None = None,
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> R:
        """The metric of a state without group keys (NaN with ``n = 0`` when it is empty)."""
        if state.key_names:
            raise SchemaError(
                f"result() needs a state without group keys; this one is keyed by "
                f"{state.key_names!r}: use finalize() for a table"
            )
        options = self.options(ci, level, population, random_state)
        return self._statistics(state.counts, options).result(options)

    def summarise(
        self,
        state: ScoreCounts,
        *,
        ci: str | None = None,
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> R | MetricTable:
        """:meth:`result` for a state without group keys, else :meth:`finalize`; warns
        :class:`~cxmodel.metrics.SmallSampleWarning` for groups of fewer than 30 answers."""
        what = self.metric.upper()
        if not state.key_names:
            answer = self.result(
                state, ci=ci, level=level, population=population, random_state=random_state
            )
            warn_small_groups([answer.n], what)
            single: dict[str, Any] = {
                "n": answer.n,
                "ci_low": answer.ci[0],
                "ci_high": answer.ci[1],
            }
            if isinstance(answer, CESResult):
                single |= {"mean_ci_low": answer.mean_ci[0], "mean_ci_high": answer.mean_ci[1]}
            self._warn_flat(single, answer.method, population)
            return answer
        table = self.finalize(
            state, ci=ci, level=level, population=population, random_state=random_state
        )
        warn_small_groups(table["n"], what)
        self._warn_flat(table.columns, self.options(ci).ci, population)
        return table

    def _warn_flat(self, columns: Mapping[str, Any], method: str, population: int | None) -> None:
        """Warn DataWarning for groups of 30 or more answers whose interval has zero width
        (and that are not a census of the ``population``), once per kind of interval."""
        n = np.atleast_1d(np.asarray(columns["n"]))
        census = None if population is None else n == population
        what = self.metric.upper()
        low, high = columns["ci_low"], columns["ci_high"]
        why = self.flat_reason.format(method=method)
        warn_flat_intervals(n, low, high, what, why, census=census)
        if "mean_ci_low" in columns:
            warn_flat_intervals(
                n, columns["mean_ci_low"], columns["mean_ci_high"], f"{what} mean", FLAT_MEAN,
                census=census,
            )  # fmt: skip


@attrs.frozen
class NPSAccumulator(SurveyAccumulator[NPSResult]):
    """Mergeable NPS state: answer counts 0..10 per group; ``finalize`` gives the table."""

    metric: str = "nps"
    low: int = 0
    high: int = 10

    flat_reason: ClassVar[str] = (
        "every answer is a promoter, every answer a passive or every answer a detractor, and "
        "the {method} interval has no spread there; ci='adjusted-wald' gives an interval that "
        "allows for the answers the sample did not show"
    )

    def _statistics(self, counts: IntArray, options: IntervalOptions) -> NPSStatistics:
        return nps_statistics(counts, options)


def _on_scale(instance: Any, attribute: attrs.Attribute[int], top: int) -> None:
    if not instance.low <= top <= instance.high:
        raise SchemaError(
            f"{instance.metric}(): {instance.top_name} {top!r} is not a point of the scale "
            f"{instance.low}..{instance.high}; the top box would hold every answer or none"
        )


@attrs.frozen
class CSATAccumulator(SurveyAccumulator[ProportionResult]):
    """Mergeable CSAT state: answer counts per group on ``low..high``; top box from ``top``."""

    methods: ClassVar[tuple[str, ...]] = ("wald", "adjusted-wald", "wilson", "bootstrap")
    default_ci: ClassVar[str] = "wilson"
    top_name: ClassVar[str] = "top"
    metric: str = "csat"
    low: int = 1
    high: int = attrs.field(default=5, validator=ordered_scale)
    top: int = attrs.field(default=4, validator=_on_scale)

    def _statistics(self, counts: IntArray, options: IntervalOptions) -> ShareStatistics:
        top = counts[:, self.top - self.low :].sum(axis=1)
        return share_statistics(top, counts.sum(axis=1), options)


@attrs.frozen
class CESAccumulator(SurveyAccumulator[CESResult]):
    """Mergeable CES state (1..7 agreement); agree share from ``top`` = 5, plus the mean."""

    methods: ClassVar[tuple[str, ...]] = ("wald", "adjusted-wald", "wilson", "bootstrap")
    default_ci: ClassVar[str] = "wilson"
    top_name: ClassVar[str] = "agree_from"
    metric: str = "ces"
    low: int = 1
    high: int = attrs.field(default=7, validator=ordered_scale)
    top: int = attrs.field(default=5, validator=_on_scale)

    def _statistics(self, counts: IntArray, options: IntervalOptions) -> CESStatistics:
        share = share_statistics(
            counts[:, self.top - self.low :].sum(axis=1), counts.sum(axis=1), options
        )
        points = np.arange(self.low, self.high + 1, dtype=np.float64)
        return CESStatistics(share, *_mean_statistics(counts, points, options))


# ---------------------------------------------------------------------- the functions
def _answers(
    acc: SurveyAccumulator[Any],
    data: InteractionLog | npt.ArrayLike,
    by: str | npt.ArrayLike | None,
    period: str | None,
    timezone: str | None,
    timestamps: npt.ArrayLike | None,
    by_rated: bool,
) -> ScoreCounts:
    """The partial of the whole ``data``; a log with rows but no answer to the metric is
    refused (:func:`~cxmodel.metrics._answers.refuse_unanswered`)."""
    state = acc.partial(
        data, by=by, period=period, timezone=timezone, timestamps=timestamps, by_rated=by_rated
    )
    if isinstance(data, InteractionLog) and len(data) and not state.counts.any():
        refuse_unanswered(acc.metric, 0, len(data), held_metrics(data), caller=f"{acc.metric}()")
    return state


@overload
def nps(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> NPSResult: ...
@overload
def nps(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
@overload
def nps(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
def nps(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> NPSResult | MetricTable:
    """Net Promoter Score: 100 (promoters - detractors) / n on answers 0..10.

    Promoters answer 9 or 10, detractors 0 to 6 (:func:`nps_statistics` gives the standard
    error and the intervals). Without ``by`` and ``period`` the answer is one
    :class:`NPSResult`; with either, a :class:`MetricTable` with one row per group, sorted by
    key (missing last). Scores without answers, or a log without rows, give NaN with
    ``n == 0``; a log with rows but no answer to the metric is refused (a NaN there would read
    as a quiet survey), whether or not ``by`` or ``period`` is given.

    Parameters
    ----------
    data : InteractionLog or array-like
        A log (its ``survey`` rows whose ``metric`` is ``"nps"``, scores in ``score``) or the
        scores themselves, whole numbers 0..10.
    by : str or array-like, optional
        A column of the log (a text column gives a row to each of its values, answered or
        not) or one label per log row or per score; a missing label (None, or NaN in a
        numeric column) is the group ``"(missing)"``, last.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the calendar period of each answer, in ``timezone``.
    timezone : str, optional
        IANA zone of the calendar periods; default UTC.
    timestamps : array-like, optional
        The time of each score, when ``data`` is an array and ``period`` is given.
    ci : {"wald", "adjusted-wald", "bootstrap"}, default "wald"
        The interval method: Wald, adjusted Wald (Lewis & Sauro) or a seeded bootstrap.
    level : float, default 0.95
        The confidence level of the interval, in (0, 1).
    population : int, optional
        The size of the surveyed population, for the finite population correction; with
        ``by`` or ``period``, of each group.
    random_state : int, default 0
        The seed of the bootstrap.
    by_rated : bool, default False
        Group each answer by the ``by`` column of the interaction it rates (its ``rates`` id,
        else an ``order_id`` or ``ticket_id`` it shares; see :func:`rated_interactions`);
        answers that rate nothing found are the group ``"(unrated)"``.

    Returns
    -------
    NPSResult or MetricTable
        The score, its standard error, interval and counts: one result, or one row per group
        (key columns, then ``n``, ``promoters``, ``passives``, ``detractors``, ``value``,
        ``se``, ``ci_low``, ``ci_high``).

    Raises
    ------
    SchemaError
        For a score off the scale (naming its row), an unknown ``ci`` or ``period``, a level
        outside (0, 1), a population smaller than the answers, or labels that do not match
        the scores one to one.
    DataError
        For a log with rows but no answer to the metric, naming the metrics its survey rows
        answer (with a did-you-mean) or that it holds no survey rows.

    Warns
    -----
    SmallSampleWarning
        When a group has answers, but fewer than 30.
    DataWarning
        When a group of 30 or more answers has an interval of zero width (every answer alike,
        with a Wald or bootstrap interval; for CES also every answer the same point, for the
        mean's interval), naming the count of groups and a method that has width.

    Examples
    --------
    >>> r = nps([10] * 50 + [7] * 30 + [0] * 20)
    >>> r.value, round(r.se, 2), tuple(round(x, 2) for x in r.ci)
    (30.0, 7.81, (14.69, 45.31))
    """
    acc = NPSAccumulator()
    state = _answers(acc, data, by, period, timezone, timestamps, by_rated)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )


@overload
def csat(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> ProportionResult: ...
@overload
def csat(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
@overload
def csat(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
def csat(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    by_rated: bool = False,
) -> ProportionResult | MetricTable:
    """CSAT: share of answers in the top two boxes (>= ``top``, default 4 on 1..5).

    Takes the data and breakdowns of :func:`nps`; the share is a proportion with a Wilson
    interval by default. Without ``by`` and ``period`` the answer is one
    :class:`ProportionResult`, with either a :class:`MetricTable` with one row per group.

    Parameters
    ----------
    data : InteractionLog or array-like
        A log (its ``survey`` rows whose ``metric`` is ``"csat"``, scores in ``score``) or the
        scores themselves, whole numbers on ``scale``.
    by : str or array-like, optional
        A column of the log or one label per log row or per score, as in :func:`nps`.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the calendar period of each answer, in ``timezone``.
    timezone : str, optional
        IANA zone of the calendar periods; default UTC.
    timestamps : array-like, optional
        The time of each score, when ``data`` is an array and ``period`` is given.
    ci : {"wilson", "wald", "adjusted-wald", "bootstrap"}, default "wilson"
        The interval method: Wilson score, Wald, adjusted Wald (Agresti-Coull) or a seeded
        bootstrap.
    level : float, default 0.95
        The confidence level of the interval, in (0, 1).
    population : int, optional
        The size of the surveyed population, for the finite population correction; with
        ``by`` or ``period``, of each group.
    scale : tuple of int, default (1, 5)
        The lowest and highest answer.
    top : int, optional
        The lowest satisfied answer; default the second-highest answer of ``scale``.
    random_state : int, default 0
        The seed of the bootstrap.
    by_rated : bool, default False
        Group each answer by the ``by`` column of the interaction it rates, as in :func:`nps`.

    Returns
    -------
    ProportionResult or MetricTable
        The share, its standard error, interval and counts: one result, or one row per group
        (key columns, then ``n``, ``successes``, ``value``, ``se``, ``ci_low``, ``ci_high``).

    Raises
    ------
    SchemaError
        As :func:`nps`, for answers off ``scale``.
    DataError
        As :func:`nps`, for a log with rows but no answer to the metric.

    Warns
    -----
    SmallSampleWarning
        When a group has answers, but fewer than 30.
    DataWarning
        When a group of 30 or more answers has an interval of zero width (every answer alike,
        with a Wald or bootstrap interval; for CES also every answer the same point, for the
        mean's interval), naming the count of groups and a method that has width.

    Examples
    --------
    >>> r = csat([5] * 170 + [2] * 30)
    >>> r.value, tuple(round(x, 3) for x in r.ci)
    (0.85, (0.794, 0.893))
    """
    low, high = _scale(scale, "csat()")
    top = high - 1 if top is None else integer(top, "csat()", "top")
    acc = CSATAccumulator("csat", low, high, top)
    state = _answers(acc, data, by, period, timezone, timestamps, by_rated)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )


@overload
def ces(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    by_rated: bool = False,
) -> CESResult: ...
@overload
def ces(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
@overload
def ces(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    by_rated: bool = False,
) -> MetricTable: ...
def ces(
    data: InteractionLog | npt.ArrayLike,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    by_rated: bool = False,
) -> CESResult | MetricTable:
    """Customer Effort Score (CES 2.0, 1..7 agreement): agree share (>= 5) and mean.

    The agree share is a proportion with the ``ci`` interval (as :func:`csat`); the mean
    has a Student-t interval, clipped to the scale (NaN below 2 answers). Higher is easier on
    the default scale.
    Without ``by`` and ``period`` the answer is one :class:`CESResult`, with either a
    :class:`MetricTable` with one row per group.

    Parameters
    ----------
    data : InteractionLog or array-like
        A log (its ``survey`` rows whose ``metric`` is ``"ces"``, scores in ``score``) or the
        scores themselves, whole numbers on ``scale``.
    by : str or array-like, optional
        A column of the log or one label per log row or per score, as in :func:`nps`.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the calendar period of each answer, in ``timezone``.
    timezone : str, optional
        IANA zone of the calendar periods; default UTC.
    timestamps : array-like, optional
        The time of each score, when ``data`` is an array and ``period`` is given.
    ci : {"wilson", "wald", "adjusted-wald", "bootstrap"}, default "wilson"
        The interval method of the agree share, as in :func:`csat`.
    level : float, default 0.95
        The confidence level of both intervals, in (0, 1).
    population : int, optional
        The size of the surveyed population, for the finite population correction; with
        ``by`` or ``period``, of each group.
    scale : tuple of int, default (1, 7)
        The lowest and highest answer.
    agree_from : int, default 5
        The lowest answer that counts as agreeing.
    random_state : int, default 0
        The seed of the bootstrap.
    by_rated : bool, default False
        Group each answer by the ``by`` column of the interaction it rates, as in :func:`nps`.

    Returns
    -------
    CESResult or MetricTable
        The agree share and the mean with their intervals: one result, or one row per group
        (the columns of :func:`csat`, then ``mean``, ``mean_se``, ``mean_ci_low``,
        ``mean_ci_high``).

    Raises
    ------
    SchemaError
        As :func:`nps`, for answers off ``scale``.
    DataError
        As :func:`nps`, for a log with rows but no answer to the metric.

    Warns
    -----
    SmallSampleWarning
        When a group has answers, but fewer than 30.
    DataWarning
        When a group of 30 or more answers has an interval of zero width (every answer alike,
        with a Wald or bootstrap interval; for CES also every answer the same point, for the
        mean's interval), naming the count of groups and a method that has width.

    Examples
    --------
    >>> r = ces([7, 6, 5, 2] * 10)
    >>> r.value, r.mean
    (0.75, 5.0)
    """
    low, high = _scale(scale, "ces()")
    acc = CESAccumulator("ces", low, high, integer(agree_from, "ces()", "agree_from"))
    state = _answers(acc, data, by, period, timezone, timestamps, by_rated)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )
