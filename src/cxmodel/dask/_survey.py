"""NPS, CSAT and CES over a Dask DataFrame: partials per partition, tree merge, finalize."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cxmodel.dask._common import check_frame, dask_modules, partition_log, tree_merge
from cxmodel.errors import SchemaError
from cxmodel.metrics import MetricTable
from cxmodel.metrics._periods import index_labels
from cxmodel.metrics._survey import (
    CESAccumulator,
    CESResult,
    CSATAccumulator,
    NPSAccumulator,
    NPSResult,
    ProportionResult,
    _scalar,
    _survey_input,
    _warn_small,
)

__all__ = ["ces", "csat", "nps"]

_MISSING = "_cxmodel_missing"


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
) -> Any:
    """State of one partition with partition-independent keys.

    ``by`` codes are local to a partition, so they are decoded to labels; a missing label of a
    string column gets flag 1 so that it sorts after every category, as in the one-shot table.
    Period indexes are global integers and stay as they are.
    """
    state = acc.empty(_key_names(by, period))
    log = partition_log(frame, mapping, timezone)
    if log is None:
        return state
    scores, _names, keys, decoders, _rows = _survey_input(
        log, acc.metric, by, period, timezone, None
    )
    columns: list[Any] = []
    if by is not None:
        decoder = decoders[0]
        labels = keys[0] if decoder is None else decoder(keys[0].astype(np.int64))
        labels = np.asarray(labels, dtype=object)
        flag = np.zeros(len(labels), dtype=np.int64)
        if log.schema.get(by) == "string":
            flag[labels == "(missing)"] = 1
        columns += [flag, labels]
    if period is not None:
        columns.append(keys[-1])
    return acc.update(state, scores, columns)


def _run(
    acc: NPSAccumulator | CSATAccumulator,
    ddf: Any,
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
    fan_in: int,
    options: dict[str, Any],
) -> MetricTable:
    feature = f"cxmodel.dask.{acc.metric}()"
    dask, _ = dask_modules(feature)
    check_frame(ddf, feature)
    if by is not None and not isinstance(by, str):
        raise SchemaError(f"by must be a column name (str) for Dask input; got {by!r}")
    parts = [
        dask.delayed(_partial, pure=True)(p, acc, by, period, timezone, mapping)
        for p in ddf.to_delayed()
    ]
    (state,) = dask.compute(tree_merge(acc.merge, parts, fan_in))
    table = acc.finalize(state, **options)
    columns = dict(table.to_dict())
    columns.pop(_MISSING, None)
    if period is not None:
        columns["period"] = index_labels(columns["period"].astype(np.int64), period)
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
) -> NPSResult | MetricTable:
    """:func:`cxmodel.metrics.nps` over a Dask DataFrame of log rows; the same result.

    Each partition becomes an :class:`~cxmodel.log.InteractionLog` (``mapping`` and
    ``timezone`` as in ``InteractionLog.from_pandas``) whose answer counts per group are one
    delayed task; the partials are merged in a tree of ``fan_in`` and finalized once. ``by``
    must be a column name.
    """
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(NPSAccumulator(), ddf, by, period, timezone, mapping, fan_in, options)
    if by is not None or period is not None:
        return table
    row = _scalar(table)
    return NPSResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["promoters"],
        row["passives"], row["detractors"], ci, level, population,
    )  # fmt: skip


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
) -> ProportionResult | MetricTable:
    """:func:`cxmodel.metrics.csat` over a Dask DataFrame (as :func:`nps`)."""
    acc = CSATAccumulator("csat", scale[0], scale[1], scale[1] - 1 if top is None else top)
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, ddf, by, period, timezone, mapping, fan_in, options)
    if by is not None or period is not None:
        return table
    row = _scalar(table)
    return ProportionResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["successes"],
        ci, level, population,
    )  # fmt: skip


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
) -> CESResult | MetricTable:
    """:func:`cxmodel.metrics.ces` over a Dask DataFrame (as :func:`nps`)."""
    acc = CESAccumulator("ces", scale[0], scale[1], agree_from)
    options = {"ci": ci, "level": level, "population": population, "random_state": random_state}
    table = _run(acc, ddf, by, period, timezone, mapping, fan_in, options)
    if by is not None or period is not None:
        return table
    row = _scalar(table)
    return CESResult(
        row["value"], row["se"], (row["ci_low"], row["ci_high"]), row["n"], row["successes"],
        row["mean"], row["mean_se"], (row["mean_ci_low"], row["mean_ci_high"]),
        ci, level, population,
    )  # fmt: skip
