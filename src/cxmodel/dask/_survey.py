"""NPS, CSAT and CES over a Dask DataFrame: the metrics' own partials per partition, merged in
a tree and summarised once."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from cxmodel._periods import period_name
from cxmodel._tables import MetricTable
from cxmodel.dask._bad_rows import first_bad_row
from cxmodel.dask._common import (
    Piece,
    check_by,
    check_frame,
    dask_modules,
    numbered_partitions,
    partition_log,
    renamed_in_partition,
)
from cxmodel.dask._ids import Digest, id_digest, merged_with_unique_ids
from cxmodel.dask._types import (
    TypesSeen,
    by_types,
    check_by_types,
    conflict,
    customer_column,
    id_types,
    merge_types,
)
from cxmodel.dask._warnings import raise_caught, recorded
from cxmodel.errors import RowSchemaError
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
from cxmodel.metrics._answers import held_metrics, refuse_unanswered

__all__ = ["ces", "csat", "nps"]

R = TypeVar("R", NPSResult, ProportionResult, CESResult)


# A partition's answer counts (None once two partitions typed the ``by`` column differently)
# and the types of its ``by`` column (:func:`~cxmodel.dask._types.by_types`).
_Typed = tuple[ScoreCounts | None, TypesSeen]


def _partial(
    piece: Piece,
    acc: SurveyAccumulator[Any],
    by: str | None,
    period: str | None,
    timezone: str | None,
    mapping: Mapping[str, str] | None,
) -> tuple[_Typed, Digest, TypesSeen]:
    """The accumulator's partial of one partition (an empty state for an empty partition) with
    the type of its ``by`` column, the digest of its ids and the types of its customer ids."""
    number, frame = piece
    ids = id_types(frame, customer_column(mapping), number)
    log = partition_log(frame, mapping, timezone, number)
    if log is None:
        names = ([] if by is None else [by]) + ([] if period is None else ["period"])
        return (acc.empty(names), {}), id_digest(None), ids
    if by is not None and by not in log:  # the one-process message, with a did-you-mean
        raise log._unknown(by)
    try:
        state = acc.partial(log, by=by, period=period, timezone=timezone)
    except RowSchemaError as error:  # a bad answer, named by its row of the user's frame
        raise renamed_in_partition(error, frame, number) from None
    return (state, by_types(log, by, number)), id_digest(log), ids


def _merge_typed(
    merge: Callable[[ScoreCounts, ScoreCounts], ScoreCounts], a: _Typed, b: _Typed
) -> _Typed:
    """Two partitions' counts merged, unless their ``by`` groups are of different types
    (numbers in one, text in the other), which cannot be matched: then no counts, and the
    types travel on to be refused on the client."""
    types = merge_types(a[1], b[1])
    if a[0] is None or b[0] is None or conflict(types) is not None:
        return None, types
    return merge(a[0], b[0]), types


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
    check_by(by, feature)
    if period is not None:
        period_name(period)
    parts, caught = recorded(
        dask, _partial, numbered_partitions(ddf), acc, by, period, timezone, mapping
    )
    first = first_bad_row(
        ddf, mapping, timezone, None, _partial, acc, by, period, timezone, mapping
    )
    (state, types), warned = merged_with_unique_ids(
        dask,
        functools.partial(_merge_typed, acc.merge),
        parts,
        caught,
        ddf,
        mapping,
        fan_in=fan_in,
        progress=progress,
        first_bad_row=first,
        feature=feature,
    )
    if by is not None:
        check_by_types(types, by, feature)
    raise_caught(warned)
    merged: ScoreCounts = state
    if not merged.counts.any():  # the one-process refusal, for the whole frame
        counted = [
            dask.delayed(_held, pure=True)(p, mapping, timezone) for p in numbered_partitions(ddf)
        ]
        found = dask.compute(*counted)
        rows = sum(n for n, _ in found)
        held = sum((h for _, h in found), Counter[str]())
        refuse_unanswered(acc.metric, 0, rows, held, caller=feature)
    return merged


def _held(
    piece: Piece, mapping: Mapping[str, str] | None, timezone: str | None
) -> tuple[int, Counter[str]]:
    """The rows of one partition and its survey rows by metric (:func:`held_metrics`)."""
    number, frame = piece
    log = partition_log(frame, mapping, timezone, number)
    return (0, Counter()) if log is None else (len(log), held_metrics(log))


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
    summarises the partial of a whole log, so the result equals it (``==``), whatever the
    partitioning. ``by`` must be a column name.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Interaction rows (the columns of ``InteractionLog.to_pandas()``, or yours with
        ``mapping``); the ``survey`` rows whose ``metric`` is ``"nps"`` are the answers.
    by : str, optional
        A column whose value on each answer breaks the result down, one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the calendar period of each answer, in ``timezone``.
    timezone : str, optional
        Zone of naive timestamps and of the calendar periods; default UTC.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    ci, level, population, random_state
        The interval, as in :func:`cxmodel.metrics.nps`.
    fan_in : int, default 8
        Partial states merged per task of the merge tree.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed (``distributed.progress``
        under a running client).

    Returns
    -------
    NPSResult or MetricTable
        One result without ``by`` and ``period``, else one row per group, as
        :func:`cxmodel.metrics.nps` gives them.

    Raises
    ------
    SchemaError
        When ``ddf`` is not a Dask DataFrame, ``by`` is not one of its columns, ``period`` is
        not a known period, or as :func:`cxmodel.metrics.nps` raises.
    DataError
        As :func:`cxmodel.metrics.nps`, when the frame has rows but no answer to the metric.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)], "kind": "survey",
    ...     "timestamp": pd.Timestamp("2024-01-01", tz="UTC"), "metric": "nps",
    ...     "score": [10] * 20 + [8] * 10 + [3] * 10})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     r = cxd.nps(dd.from_pandas(frame, npartitions=3))
    >>> r.value, r.n
    (25.0, 40)
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
    """:func:`cxmodel.metrics.csat` over a Dask DataFrame; the same result.

    The partitions' partials are merged and summarised once, as in :func:`nps`.

    Parameters
    ----------
    ddf, by, period, timezone, mapping, fan_in, progress
        As in :func:`nps`; the answers are the ``survey`` rows whose ``metric`` is
        ``"csat"``.
    ci, level, population, scale, top, random_state
        The interval and the scale, as in :func:`cxmodel.metrics.csat`.

    Returns
    -------
    ProportionResult or MetricTable
        One result without ``by`` and ``period``, else one row per group, as
        :func:`cxmodel.metrics.csat` gives them.

    Raises
    ------
    SchemaError, DataError
        As :func:`nps`.
    """
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
    """:func:`cxmodel.metrics.ces` over a Dask DataFrame; the same result.

    The partitions' partials are merged and summarised once, as in :func:`nps`.

    Parameters
    ----------
    ddf, by, period, timezone, mapping, fan_in, progress
        As in :func:`nps`; the answers are the ``survey`` rows whose ``metric`` is
        ``"ces"``.
    ci, level, population, scale, agree_from, random_state
        The intervals and the scale, as in :func:`cxmodel.metrics.ces`.

    Returns
    -------
    CESResult or MetricTable
        One result without ``by`` and ``period``, else one row per group, as
        :func:`cxmodel.metrics.ces` gives them.

    Raises
    ------
    SchemaError, DataError
        As :func:`nps`.
    """
    acc = CESAccumulator("ces", scale[0], scale[1], agree_from)
    state = _run(acc, ddf, by, period, timezone, mapping, fan_in, progress)
    return acc.summarise(
        state, ci=ci, level=level, population=population, random_state=random_state
    )
