"""NPS, CSAT and CES over a Dask DataFrame: the metrics' own partials per partition, merged in
a tree and summarised once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, overload

from cxmodel._periods import PERIODS
from cxmodel._progress import dask_compute
from cxmodel._tables import MetricTable
from cxmodel.dask._common import check_frame, dask_modules, partition_log, tree_merge
from cxmodel.errors import SchemaError
from cxmodel.metrics import (
    CESAccumulator,
    CESResult,
    CSATAccumulator,
    NPSAccumulator,
    NPSResult,
    ProportionResult,
    ScoreCounts,
    SurveyAccumulator,
)

__all__ = ["ces", "csat", "nps"]

R = TypeVar("R", NPSResult, ProportionResult, CESResult)


def _partial(
    frame: Any,
    acc: SurveyAccumulator[Any],
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
) -> ScoreCounts:
    """The accumulator's partial of one partition (an empty state for an empty partition)."""
    log = partition_log(frame, mapping, timezone)
    if log is None:
        names = ([] if by is None else [by]) + ([] if period is None else ["period"])
        return acc.empty(names)
    if by is not None and by not in log:
        raise SchemaError(f"by={by!r} is not a column of the data; columns: {log.columns!r}")
    return acc.partial(log, by=by, period=period, timezone=timezone)


def _run(
    acc: SurveyAccumulator[R],
    ddf: Any,
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
    fan_in: int,
    progress: bool,
) -> ScoreCounts:
    """The merged state of every partition."""
    feature = f"cxmodel.dask.{acc.metric}()"
    dask, _ = dask_modules(feature)
    check_frame(ddf, feature, mapping)
    if by is not None and not isinstance(by, str):
        raise SchemaError(f"by must be a column name (str) for Dask input; got {by!r}")
    if period is not None and period not in PERIODS:
        raise SchemaError(f"period must be one of {PERIODS!r}; got {period!r}")
    parts = [
        dask.delayed(_partial, pure=True)(p, acc, by, period, timezone, mapping)
        for p in ddf.to_delayed()
    ]
    (state,) = dask_compute(dask, tree_merge(acc.merge, parts, fan_in), progress=progress)
    merged: ScoreCounts = state
    return merged


@overload
def nps(
    ddf: Any,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> NPSResult: ...
@overload
def nps(
    ddf: Any,
    *,
    by: str,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
@overload
def nps(
    ddf: Any,
    *,
    by: str | None = None,
    period: str,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
def nps(
    ddf: Any,
    *,
    by: str | None = None,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wald",
    level: float = 0.95,
    population: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> NPSResult | MetricTable:
    """:func:`cxmodel.metrics.nps` over a Dask DataFrame of log rows; the same result.

    Each partition becomes an :class:`~cxmodel.log.InteractionLog` (``mapping`` and
    ``timezone`` as in ``InteractionLog.from_pandas``) whose
    :meth:`~cxmodel.metrics.NPSAccumulator.partial` is one delayed task; the partials are
    merged in a tree of ``fan_in`` and summarised once, exactly as :func:`cxmodel.metrics.nps`
    summarises the partial of a whole log. ``by`` must be a column name.
    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).
    """
    acc = NPSAccumulator()
    state = _run(acc, ddf, by, period, timezone, mapping, fan_in, progress)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )


@overload
def csat(
    ddf: Any,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> ProportionResult: ...
@overload
def csat(
    ddf: Any,
    *,
    by: str,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
@overload
def csat(
    ddf: Any,
    *,
    by: str | None = None,
    period: str,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
def csat(
    ddf: Any,
    *,
    by: str | None = None,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 5),
    top: int | None = None,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> ProportionResult | MetricTable:
    """:func:`cxmodel.metrics.csat` over a Dask DataFrame (as :func:`nps`, ``progress`` too)."""
    acc = CSATAccumulator("csat", scale[0], scale[1], scale[1] - 1 if top is None else top)
    state = _run(acc, ddf, by, period, timezone, mapping, fan_in, progress)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )


@overload
def ces(
    ddf: Any,
    *,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> CESResult: ...
@overload
def ces(
    ddf: Any,
    *,
    by: str,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
@overload
def ces(
    ddf: Any,
    *,
    by: str | None = None,
    period: str,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> MetricTable: ...
def ces(
    ddf: Any,
    *,
    by: str | None = None,
    period: str | None = None,
    timezone: str | None = None,
    mapping: Mapping[str, str] | None = None,
    ci: str = "wilson",
    level: float = 0.95,
    population: int | None = None,
    scale: tuple[int, int] = (1, 7),
    agree_from: int = 5,
    random_state: int = 0,
    fan_in: int = 8,
    progress: bool = False,
) -> CESResult | MetricTable:
    """:func:`cxmodel.metrics.ces` over a Dask DataFrame (as :func:`nps`, ``progress`` too)."""
    acc = CESAccumulator("ces", scale[0], scale[1], agree_from)
    state = _run(acc, ddf, by, period, timezone, mapping, fan_in, progress)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )
