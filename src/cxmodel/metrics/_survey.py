"""NPS, CSAT and CES with intervals, breakdowns and two-group comparisons."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from cxmodel._periods import index_labels, period_index
from cxmodel._stats import fpc_factor, mean_t_interval, proportion_interval, z_value
from cxmodel._tables import (
    SMALL_N,
    MetricTable,
    SmallSampleWarning,
    result_html,
    result_to_pandas,
)
from cxmodel._time import timestamps_to_us
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics._accumulators import ScoreAccumulator, ScoreCounts

__all__ = [
    "CESAccumulator",
    "CESResult",
    "CSATAccumulator",
    "NPSAccumulator",
    "NPSResult",
    "ProportionResult",
    "ces",
    "csat",
    "nps",
]

NAN = float("nan")
_NPS_METHODS = ("wald", "adjusted-wald", "bootstrap")
_PROP_METHODS = ("wald", "adjusted-wald", "wilson", "bootstrap")
_BOOTSTRAP = 2000


class _Result:
    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict."""
        return attrs.asdict(self, recurse=False)  # type: ignore[arg-type]

    def to_pandas(self) -> Any:
        """One-row DataFrame (needs pandas)."""
        return result_to_pandas(self.to_dict(), f"{type(self).__name__}.to_pandas()")

    def _repr_html_(self) -> str:
        return result_html(type(self).__name__, self.to_dict())


@attrs.frozen
class NPSResult(_Result):
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


@attrs.frozen
class ProportionResult(_Result):
    """A share in [0, 1] (CSAT top-two-box, CES agree share) with its interval."""

    value: float
    se: float
    ci: tuple[float, float]
    n: int
    successes: int
    method: str
    level: float
    population: int | None


@attrs.frozen
class CESResult(_Result):
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


def _check_method(ci: str, allowed: tuple[str, ...], metric: str) -> None:
    if ci not in allowed:
        raise SchemaError(f"ci must be one of {allowed!r} for {metric}; got {ci!r}")


def _nps_row(
    counts: npt.NDArray[np.int64], ci: str, z: float, population: int | None, seed: int
) -> dict[str, Any]:
    det, pas, pro = int(counts[:7].sum()), int(counts[7:9].sum()), int(counts[9:].sum())
    n = det + pas + pro
    row: dict[str, Any] = {"n": n, "promoters": pro, "passives": pas, "detractors": det}
    if n == 0:
        return row | {"value": NAN, "se": NAN, "ci_low": NAN, "ci_high": NAN}
    fpc = fpc_factor(n, population)
    p, d = pro / n, det / n
    value = 100.0 * (p - d)
    se = 100.0 * math.sqrt((p + d - (p - d) ** 2) * fpc / n)
    if ci == "wald":
        low, high = value - z * se, value + z * se
    elif ci == "adjusted-wald":
        n2, p2, d2 = n + 3.0, (pro + 0.75) / (n + 3.0), (det + 0.75) / (n + 3.0)
        centre = 100.0 * (p2 - d2)
        se2 = 100.0 * math.sqrt((p2 + d2 - (p2 - d2) ** 2) * fpc_factor(n2, population) / n2)
        low, high = centre - z * se2, centre + z * se2
    else:
        draws = np.random.default_rng(seed).multinomial(n, [p, 1 - p - d, d], size=_BOOTSTRAP)
        boot = 100.0 * (draws[:, 0] - draws[:, 2]) / n
        alpha = 2 * (1 - stats.norm.cdf(z))
        low, high = (float(x) for x in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    return row | {
        "value": value,
        "se": se,
        "ci_low": max(-100.0, low),
        "ci_high": min(100.0, high),
    }


def _prop_row(
    successes: int, n: int, ci: str, z: float, population: int | None, seed: int
) -> dict[str, Any]:
    row: dict[str, Any] = {"n": n, "successes": successes}
    if n == 0:
        return row | {"value": NAN, "se": NAN, "ci_low": NAN, "ci_high": NAN}
    fpc = fpc_factor(n, population)
    p = successes / n
    if ci == "bootstrap":
        se = math.sqrt(p * (1 - p) * fpc / n)
        boot = np.random.default_rng(seed).binomial(n, p, size=_BOOTSTRAP) / n
        alpha = 2 * (1 - stats.norm.cdf(z))
        low, high = (float(x) for x in np.quantile(boot, [alpha / 2, 1 - alpha / 2]))
    else:
        se, low, high = proportion_interval(successes, n, z, ci, fpc)
    return row | {"value": p, "se": se, "ci_low": low, "ci_high": high}


def _table(
    name: str, state: ScoreCounts, rows: list[dict[str, Any]], template: dict[str, Any]
) -> MetricTable:
    columns: dict[str, npt.NDArray[Any]] = {
        key: state.keys[:, j].copy() for j, key in enumerate(state.key_names)
    }
    for field, blank in template.items():
        dtype = np.int64 if isinstance(blank, int) else np.float64
        columns[field] = np.array([r[field] for r in rows], dtype=dtype)
    return MetricTable(name, columns)


@attrs.frozen
class NPSAccumulator(ScoreAccumulator):
    """Mergeable NPS state: answer counts 0..10 per group; ``finalize`` gives the table."""

    metric: str = "nps"
    low: int = 0
    high: int = 10

    def finalize(
        self,
        state: ScoreCounts,
        *,
        ci: str = "wald",
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> MetricTable:
        """One row per group: value, se, ci_low, ci_high, n and the three counts."""
        _check_method(ci, _NPS_METHODS, "NPS")
        z = z_value(level)
        if ci == "wald" and population is None:
            return _nps_wald(state, z)
        rows = [_nps_row(c, ci, z, population, random_state) for c in state.counts]
        template = _nps_row(np.zeros(self.width, dtype=np.int64), ci, z, None, 0)
        return _table("NPS", state, rows, template)


def _nps_wald(state: ScoreCounts, z: float) -> MetricTable:
    """Vectorised :func:`_nps_row` for the plain Wald interval (same operations, same floats)."""
    counts = state.counts
    det, pas, pro = (counts[:, s].sum(axis=1) for s in (slice(0, 7), slice(7, 9), slice(9, None)))
    n = det + pas + pro
    with np.errstate(divide="ignore", invalid="ignore"):
        p, d = pro / n, det / n
        value = 100.0 * (p - d)
        se = 100.0 * np.sqrt((p + d - (p - d) * (p - d)) * 1.0 / n)
    columns: dict[str, npt.NDArray[Any]] = {
        key: state.keys[:, j].copy() for j, key in enumerate(state.key_names)
    }
    columns |= {"n": n, "promoters": pro, "passives": pas, "detractors": det}
    columns |= {
        "value": value,
        "se": se,
        "ci_low": np.maximum(-100.0, value - z * se),
        "ci_high": np.minimum(100.0, value + z * se),
    }
    return MetricTable("NPS", columns)


@attrs.frozen
class CSATAccumulator(ScoreAccumulator):
    """Mergeable CSAT state: answer counts per group on ``low..high``; top box from ``top``."""

    metric: str = "csat"
    low: int = 1
    high: int = 5
    top: int = 4

    def finalize(
        self,
        state: ScoreCounts,
        *,
        ci: str = "wilson",
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> MetricTable:
        """One row per group: value (share >= ``top``), se, ci_low, ci_high, n, successes."""
        _check_method(ci, _PROP_METHODS, self.metric.upper())
        z = z_value(level)
        top = self.top - self.low
        rows = [
            _prop_row(int(c[top:].sum()), int(c.sum()), ci, z, population, random_state)
            for c in state.counts
        ]
        template = _prop_row(0, 0, ci, z, None, 0)
        return _table(self.metric.upper(), state, rows, template)


@attrs.frozen
class CESAccumulator(CSATAccumulator):
    """Mergeable CES state (1..7 agreement); agree share from ``top`` = 5, plus the mean."""

    metric: str = "ces"
    low: int = 1
    high: int = 7
    top: int = 5

    def finalize(
        self,
        state: ScoreCounts,
        *,
        ci: str = "wilson",
        level: float = 0.95,
        population: int | None = None,
        random_state: int = 0,
    ) -> MetricTable:
        """Agree-share columns as in CSAT plus ``mean``, ``mean_se``, ``mean_ci_low/high``."""
        table = super().finalize(
            state, ci=ci, level=level, population=population, random_state=random_state
        )
        points = np.arange(self.low, self.high + 1, dtype=np.float64)
        n = state.counts.sum(axis=1).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = state.counts @ points / n
            sq = state.counts @ (points**2)
            var = (sq - n * mean**2) / (n - 1)
        extra = [
            mean_t_interval(
                float(k), float(m), max(float(v), 0.0), level, fpc_factor(k, population)
            )
            for k, m, v in zip(n, mean, var, strict=True)
        ]
        columns = table.to_dict()
        columns["mean"] = mean
        columns["mean_se"] = np.array([e[0] for e in extra])
        columns["mean_ci_low"] = np.array([e[1] for e in extra])
        columns["mean_ci_high"] = np.array([e[2] for e in extra])
        return MetricTable("CES", columns)


Decoder = Callable[[npt.NDArray[np.int64]], npt.NDArray[Any]]


def _take(labels: npt.NDArray[Any], codes: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    return labels[codes]


def _by_codes(labels: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], Decoder | None]:
    """Integer codes of labels (None -> '(missing)') and how to turn codes back into labels."""
    if labels.dtype.kind in "iub":
        return labels, None
    text = np.where(labels == None, "(missing)", labels).astype(str)  # noqa: E711
    categories, codes = np.unique(text, return_inverse=True)
    cats = categories.astype(object)
    return codes.reshape(-1), partial(_take, cats)


def _survey_input(
    data: Any,
    metric: str,
    by: Any,
    period: str | None,
    timezone: str | None,
    timestamps: Any,
    by_rated: bool = False,
) -> tuple[
    npt.NDArray[Any],
    list[str],
    list[npt.NDArray[Any]],
    list[Decoder | None],
    npt.NDArray[np.int64] | None,
    npt.NDArray[Any] | None,
]:
    keys: list[npt.NDArray[Any]] = []
    names: list[str] = []
    decoders: list[Decoder | None] = []
    every_category: npt.NDArray[Any] | None = None
    if isinstance(data, InteractionLog):
        mask = data.kind_mask("survey")
        if "metric" in data:
            codes, cats = data.categorical("metric")
            hit = np.flatnonzero(cats == metric)
            mask &= codes == (hit[0] if hit.size else -2)
        else:
            mask &= False
        scores = data.numeric("score")[mask] if "score" in data else np.zeros(0)
        rows = data.row_order[mask]
        times = data.timestamps[mask]
        if by_rated and not isinstance(by, str):
            raise SchemaError("by_rated=True needs by= a column name (e.g. by='touchpoint')")
        if by_rated:
            from cxmodel.metrics._questions import RATED_KEYS, _rated_labels

            names.append(by)
            key, decoder = _by_codes(_rated_labels(data, by, mask, RATED_KEYS))
            keys.append(key)
            decoders.append(decoder)
        elif by is not None:
            if isinstance(by, str):
                names.append(by)
                if data.schema.get(by) == "string":
                    codes, cats = data.categorical(by)
                    labels = np.append(cats.astype(object), "(missing)")
                    keys.append(np.where(codes < 0, len(cats), codes)[mask])
                    decoders.append(partial(_take, labels))
                    every_category = np.arange(len(cats))
                else:
                    key, decoder = _by_codes(data.column(by)[mask])
                    keys.append(key)
                    decoders.append(decoder)
            else:
                labels_in = np.asarray(by)
                if len(labels_in) != len(data):
                    raise SchemaError(
                        f"by has {len(labels_in)} labels for a log of {len(data)} rows; "
                        "expected one label per row or a column name"
                    )
                names.append("by")
                key, decoder = _by_codes(labels_in[mask])
                keys.append(key)
                decoders.append(decoder)
    else:
        if by_rated:
            raise SchemaError("by_rated=True needs a log (answers tied to what they rate)")
        scores = np.asarray(data).reshape(-1)
        if scores.dtype.kind not in "iu":  # integer scores stay as they are (no 8x copy)
            scores = scores.astype(np.float64)
        rows = None  # positions are the row numbers
        times = None
        stamps = None if timestamps is None else np.asarray(timestamps)
        if stamps is not None and stamps.dtype == np.dtype("datetime64[us]"):
            times = stamps.view(np.int64)
            if np.isnat(stamps).any():
                row = int(np.flatnonzero(np.isnat(stamps))[0])
                raise SchemaError(f"row {row}: timestamps is missing (NaT); expected a time")
        elif stamps is not None:
            times, errors = timestamps_to_us(stamps, column="timestamps", timezone_arg=None)
            if errors:
                row, reason = next(iter(errors.items()))
                raise SchemaError(f"row {row}: {reason}")
        if by is not None:
            if isinstance(by, str):
                raise SchemaError("by must be an array of labels when scores are an array")
            labels_in = np.asarray(by).reshape(-1)
            if len(labels_in) != len(scores):
                raise SchemaError(
                    f"by has {len(labels_in)} labels for {len(scores)} scores; expected one each"
                )
            names.append("by")
            key, decoder = _by_codes(labels_in)
            keys.append(key)
            decoders.append(decoder)
    if period is not None:
        if times is None or len(times) != len(scores):
            raise SchemaError("period= needs timestamps: pass a log or timestamps= of each score")
        names.append("period")
        keys.append(period_index(times, period, timezone))
        decoders.append(partial(index_labels, period=period))
    return scores, names, keys, decoders, rows, every_category


_MAX_GRID = 1_000_000


def _with_empty_groups(
    acc: ScoreAccumulator, state: ScoreCounts, categories: npt.NDArray[Any] | None
) -> ScoreCounts:
    """Add zero-count groups so every category x period in range gets a row (NaN, n = 0)."""
    if state.n_groups == 0 or not state.key_names:
        return state
    domains: list[npt.NDArray[Any]] = []
    for j, name in enumerate(state.key_names):
        seen: npt.NDArray[Any] = np.unique(state.keys[:, j])
        if name == "period":
            seen = np.arange(int(seen.min()), int(seen.max()) + 1)
        elif j == 0 and categories is not None:
            seen = np.union1d(seen.astype(np.int64), categories)
        domains.append(seen)
    size = int(np.prod([len(d) for d in domains]))
    if size > _MAX_GRID or size == state.n_groups:
        return state
    grids = np.meshgrid(*domains, indexing="ij")
    keys = np.empty((size, len(domains)), dtype=object)
    for j, grid in enumerate(grids):
        keys[:, j] = grid.reshape(-1)
    zeros = ScoreCounts(state.key_names, keys, np.zeros((size, acc.width), dtype=np.int64))
    return acc.merge(state, zeros)


def _warn_small(table: MetricTable, metric: str) -> None:
    n = np.asarray(table["n"])
    small = (n > 0) & (n < SMALL_N)
    if small.any():
        warnings.warn(
            f"{metric}: {int(small.sum())} group(s) have fewer than {SMALL_N} answers "
            f"(smallest n = {int(n[small].min())}); intervals are unreliable",
            SmallSampleWarning,
            stacklevel=3,
        )


def _run(
    acc: NPSAccumulator | CSATAccumulator,
    data: Any,
    by: Any,
    period: str | None,
    timezone: str | None,
    timestamps: Any,
    options: dict[str, Any],
    by_rated: bool = False,
) -> MetricTable:
    scores, names, keys, decoders, rows, categories = _survey_input(
        data, acc.metric, by, period, timezone, timestamps, by_rated
    )
    state = acc.update(acc.empty(names), scores, keys, rows)
    state = _with_empty_groups(acc, state, categories)
    table = acc.finalize(state, **options)
    columns = table.to_dict()
    for name, decoder in zip(names, decoders, strict=True):
        if decoder is not None:
            columns[name] = decoder(columns[name].astype(np.int64))
    table = MetricTable(table.name, columns)
    _warn_small(table, acc.metric.upper())
    return table


def _scalar(table: MetricTable) -> dict[str, Any]:
    if len(table):
        return {k: v[0].item() for k, v in table.columns.items()}
    return {k: (0 if v.dtype.kind == "i" else NAN) for k, v in table.columns.items()}


def nps_result(table: MetricTable, options: Mapping[str, Any]) -> NPSResult:
    """The single-group NPS table as an :class:`NPSResult` (``options``: ci, level, population)."""
    row = _scalar(table)
    return NPSResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["promoters"],
        row["passives"], row["detractors"], options["ci"], options["level"], options["population"],
    )  # fmt: skip


def proportion_result(table: MetricTable, options: Mapping[str, Any]) -> ProportionResult:
    """The single-group CSAT table as a :class:`ProportionResult`."""
    row = _scalar(table)
    return ProportionResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["successes"],
        options["ci"], options["level"], options["population"],
    )  # fmt: skip


def ces_result(table: MetricTable, options: Mapping[str, Any]) -> CESResult:
    """The single-group CES table as a :class:`CESResult` (agree share and mean)."""
    row = _scalar(table)
    return CESResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["successes"],
        row["mean"], row["mean_se"], (row["mean_ci_low"], row["mean_ci_high"]),
        options["ci"], options["level"], options["population"],
    )  # fmt: skip


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

    ``data`` is a log (its ``survey`` rows with ``metric == "nps"``) or an array of scores.
    Without ``by``/``period`` the result is an :class:`NPSResult`; with them a
    :class:`MetricTable` with one row per group (periods in ``timezone``, default UTC).
    ``ci`` is ``"wald"``, ``"adjusted-wald"`` (Lewis & Sauro) or ``"bootstrap"`` (seeded by
    ``random_state``); ``population`` applies the finite population correction. Fewer than
    30 answers warns :class:`SmallSampleWarning`; no answers gives NaN with ``n == 0``.
    ``by_rated=True`` (with ``by`` a column name) groups each answer by that column of the
    interaction it rates (its ``rates`` id, else an ``order_id``/``ticket_id`` it shares; see
    :func:`rated_interactions`); answers that rate nothing found are the group ``"(unrated)"``.

    Examples
    --------
    >>> r = nps([10] * 50 + [7] * 30 + [0] * 20)
    >>> r.value, round(r.se, 2), tuple(round(x, 2) for x in r.ci)
    (30.0, 7.81, (14.69, 45.31))
    """
    acc = NPSAccumulator()
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, data, by, period, timezone, timestamps, options, by_rated)
    if by is not None or period is not None:
        return table
    return nps_result(table, options)


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

    Same inputs and breakdowns as :func:`nps` (``by_rated`` too); ``ci`` is ``"wilson"`` (default), ``"wald"``,
    ``"adjusted-wald"`` (Agresti-Coull) or ``"bootstrap"``.

    Examples
    --------
    >>> r = csat([5] * 170 + [2] * 30)
    >>> r.value, tuple(round(x, 3) for x in r.ci)
    (0.85, (0.794, 0.893))
    """
    acc = CSATAccumulator("csat", scale[0], scale[1], scale[1] - 1 if top is None else top)
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, data, by, period, timezone, timestamps, options, by_rated)
    if by is not None or period is not None:
        return table
    return proportion_result(table, options)


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
    has a Student-t interval. Higher is easier on the default scale. ``by_rated`` as in
    :func:`nps`.

    Examples
    --------
    >>> r = ces([7, 6, 5, 2] * 10)
    >>> r.value, r.mean
    (0.75, 5.0)
    """
    acc = CESAccumulator("ces", scale[0], scale[1], agree_from)
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, data, by, period, timezone, timestamps, options, by_rated)
    if by is not None or period is not None:
        return table
    return ces_result(table, options)
