"""NPS, CSAT and CES over a Dask DataFrame: partials per partition, tree merge, finalize."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._periods import PERIODS, index_labels, period_index
from cxmodel._progress import dask_compute
from cxmodel.dask._common import check_frame, dask_modules, partition_log, tree_merge
from cxmodel.errors import SchemaError
from cxmodel.metrics import MetricTable
from cxmodel.metrics import _survey as _one_shot
from cxmodel.metrics._accumulators import ScoreAccumulator, ScoreCounts
from cxmodel.metrics._survey import (
    CESAccumulator,
    CESResult,
    CSATAccumulator,
    NPSAccumulator,
    NPSResult,
    ProportionResult,
    _warn_small,
    ces_result,
    nps_result,
    proportion_result,
)

__all__ = ["ces", "csat", "nps"]

_MISSING = "_cxmodel_missing"
_NO_CATEGORIES = np.empty(0, dtype=object)


def _key_names(by: str | None, period: str | None) -> list[str]:
    names = [] if by is None else [_MISSING, by]
    return names + ([] if period is None else ["period"])


def _partial(
    frame: Any,
    acc: NPSAccumulator | CSATAccumulator,
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
) -> Partial:
    """State of one partition with partition-independent keys, and the ``by`` categories.

    ``by`` codes are local to a partition, so they are decoded to labels; a missing label of a
    string column gets flag 1 so that it sorts after every category, as in the one-shot table.
    Period indexes are global integers and stay as they are. The categories of a string ``by``
    column (over all rows of the partition) travel with the state so that the client can rebuild
    the one-shot category codes.
    """
    state = acc.empty(_key_names(by, period))
    log = partition_log(frame, mapping, timezone)
    if log is None:
        return state, _NO_CATEGORIES, False
    mask = log.kind_mask("survey")
    if "metric" in log:
        codes, cats = log.categorical("metric")
        hit = np.flatnonzero(cats == acc.metric)
        mask &= codes == (hit[0] if hit.size else -2)
    else:
        mask &= False
    scores = log.numeric("score")[mask] if "score" in log else np.zeros(0)
    columns: list[Any] = []
    categories, is_string = _NO_CATEGORIES, False
    if by is not None:
        if by not in log:
            raise SchemaError(f"by={by!r} is not a column of the data; columns: {log.columns!r}")
        if log.schema.get(by) == "string":
            is_string = True
            by_codes, categories = log.categorical(by)
            picked = by_codes[mask]
            flag = (picked < 0).astype(np.int64)
            labels = np.where(picked < 0, "(missing)", categories[np.maximum(picked, 0)])
        else:
            values = log.column(by)[mask]
            flag = np.zeros(len(values), dtype=np.int64)
            labels = np.where(values == None, "(missing)", values).astype(str)  # noqa: E711
        columns += [flag, np.asarray(labels, dtype=object)]
    if period is not None:
        columns.append(period_index(log.timestamps[mask], period, timezone))
    state = acc.update(state, scores, columns, log.row_order[mask])
    return state, np.asarray(categories, dtype=object), is_string


Partial = tuple[ScoreCounts, npt.NDArray[Any], bool]


def _merge_partials(acc: ScoreAccumulator) -> Callable[[Partial, Partial], Partial]:
    return partial(_merge_two, acc)


def _merge_two(acc: ScoreAccumulator, a: Partial, b: Partial) -> Partial:
    cats = np.union1d(a[1].astype(str), b[1].astype(str)).astype(object)
    return acc.merge(a[0], b[0]), cats, a[2] or b[2]


def _coded(
    merged: Partial, by: str | None, period: str | None
) -> tuple[ScoreCounts, list[Any], npt.NDArray[np.int64] | None]:
    """The merged state keyed by one-shot codes, the decoders and the category codes."""
    state, universe, is_string = merged
    names: list[str] = []
    columns: list[npt.NDArray[Any]] = []
    decoders: list[Any] = []
    categories: npt.NDArray[np.int64] | None = None
    if by is not None:
        flag = state.keys[:, 0].astype(np.int64)
        labels = state.keys[:, 1].astype(str)
        if is_string:
            cats = universe.astype(str)
            codes = np.where(flag == 1, len(cats), np.searchsorted(cats, labels))
            decoders.append(np.append(cats.astype(object), "(missing)"))
            categories = np.arange(len(cats))
        else:
            cats = np.unique(labels)
            codes = np.searchsorted(cats, labels)
            decoders.append(cats.astype(object))
        names.append(by)
        columns.append(codes.astype(np.int64))
    if period is not None:
        names.append("period")
        columns.append(state.keys[:, -1].astype(np.int64))
        decoders.append(period)
    keys = np.empty((state.n_groups, len(names)), dtype=object)
    for j, col in enumerate(columns):
        keys[:, j] = col
    return ScoreCounts(tuple(names), keys, state.counts), decoders, categories


def _run(
    acc: NPSAccumulator | CSATAccumulator,
    ddf: Any,
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
    fan_in: int,
    options: dict[str, Any],
    progress: bool = False,
) -> MetricTable:
    feature = f"cxmodel.dask.{acc.metric}()"
    dask, _ = dask_modules(feature)
    check_frame(ddf, feature)
    if by is not None and not isinstance(by, str):
        raise SchemaError(f"by must be a column name (str) for Dask input; got {by!r}")
    if period is not None and period not in PERIODS:
        raise SchemaError(f"period must be one of {PERIODS!r}; got {period!r}")
    parts = [
        dask.delayed(_partial, pure=True)(p, acc, by, period, timezone, mapping)
        for p in ddf.to_delayed()
    ]
    (merged,) = dask_compute(
        dask, tree_merge(_merge_partials(acc), parts, fan_in), progress=progress
    )
    state, decoders, categories = _coded(merged, by, period)
    # Same empty-group rule as the one-shot path, when cxmodel.metrics has one.
    fill = getattr(_one_shot, "_with_empty_groups", None)
    if fill is not None:
        state = fill(acc, state, categories)
    table = acc.finalize(state, **options)
    columns = dict(table.to_dict())
    for name, decoder in zip(state.key_names, decoders, strict=True):
        codes = columns[name].astype(np.int64)
        if isinstance(decoder, str):
            columns[name] = index_labels(codes, decoder)
        else:
            columns[name] = decoder[codes]
    out = MetricTable(table.name, columns)
    _warn_small(out, acc.metric.upper())
    return out


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
    ``timezone`` as in ``InteractionLog.from_pandas``) whose answer counts per group are one
    delayed task; the partials are merged in a tree of ``fan_in`` and finalized once. ``by``
    must be a column name.
    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).
    """
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(NPSAccumulator(), ddf, by, period, timezone, mapping, fan_in, options, progress)
    if by is not None or period is not None:
        return table
    return nps_result(table, options)


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
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, ddf, by, period, timezone, mapping, fan_in, options, progress)
    if by is not None or period is not None:
        return table
    return proportion_result(table, options)


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
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, ddf, by, period, timezone, mapping, fan_in, options, progress)
    if by is not None or period is not None:
        return table
    return ces_result(table, options)
