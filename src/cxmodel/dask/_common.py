"""Shared helpers: lazy dask import, partition -> log conversion, tree merge of partials."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got, is_integer, mapping_value
from cxmodel._optional import import_optional
from cxmodel.errors import RowSchemaError, SchemaError
from cxmodel.journey._common import MISSING_LABEL, session_codes
from cxmodel.journey._groups import by_codes, first_rows, unit_masks
from cxmodel.log import InteractionLog
from cxmodel.log._columns import renamed, show

__all__ = [
    "FAN_IN",
    "GroupKey",
    "Piece",
    "check_fan_in",
    "check_frame",
    "dask_modules",
    "declared_columns",
    "extreme",
    "group_keys",
    "group_logs",
    "merge_keyed",
    "numbered_partitions",
    "partition_log",
    "renamed_in_partition",
    "row_origin",
    "shuffle_method",
    "source_column",
    "tree_merge",
]

FAN_IN = 8
S = TypeVar("S")
K = TypeVar("K")
# A by= group key: (0, value) for a value of the column, (1, "(missing)"): sorts as the labels.
GroupKey = tuple[int, Any]
# A partition's number and its pandas frame (dask.delayed computes the frame inside the tuple).
Piece = tuple[int, Any]


def group_keys(labels: Any) -> list[GroupKey]:
    """Keys of the labels of ``cxmodel.journey._groups.by_codes`` (missing group last)."""
    values = list(labels.tolist())
    keys: list[GroupKey] = [(0, v) for v in values]
    if values and values[-1] == MISSING_LABEL:
        keys[-1] = (1, MISSING_LABEL)
    return keys


def group_logs(log: InteractionLog, by: str, by_session: bool) -> dict[GroupKey, InteractionLog]:
    """The whole units (sessions with ``by_session``, else customers) of each ``by`` group of
    a partition's log, as the one-process breakdown: a unit belongs to the group of its first
    event."""
    codes, labels = by_codes(log, by)
    unit = session_codes(log) if by_session else log.customer_codes.astype(np.int64)
    present, masks = unit_masks(codes, labels, unit, first_rows(unit))
    key = dict(zip(labels.tolist(), group_keys(labels), strict=True))
    return {key[label]: log.filter(m) for label, m in zip(present.tolist(), masks, strict=True)}


def merge_keyed(a: Mapping[K, S], b: Mapping[K, S], merge: Callable[[S, S], S]) -> dict[K, S]:
    """Two keyed states as one: the states under a key both hold are merged, the others kept.

    Examples
    --------
    >>> merge_keyed({"x": 1, "y": 2}, {"y": 3, "z": 4}, lambda p, q: p + q)
    {'x': 1, 'y': 5, 'z': 4}
    """
    out = dict(a)
    for key, state in b.items():
        out[key] = merge(out[key], state) if key in out else state
    return out


def source_column(mapping: Mapping[str, str] | None, target: str) -> str:
    """The frame's name of the log column ``target`` under ``mapping`` (``target`` itself when
    ``mapping`` does not rename it).

    Examples
    --------
    >>> source_column({"user": "customer_id"}, "customer_id"), source_column(None, "kind")
    ('user', 'kind')
    """
    for source, name in (mapping or {}).items():
        if name == target:
            return source
    return target


def dask_modules(feature: str) -> tuple[Any, Any]:
    """``(dask, dask.dataframe)``, imported lazily with an error naming the ``dask`` extra."""
    dask = import_optional("dask", feature)
    dd = import_optional("dask.dataframe", feature)
    return dask, dd


def check_frame(ddf: object, feature: str, mapping: Mapping[str, str] | None = None) -> None:
    """Raise SchemaError unless ``ddf`` is a Dask DataFrame with the log's core columns (under
    the names ``mapping`` gives them, when it renames them), and ValueTypeError for a
    ``mapping`` that is not one, as one process does."""
    _, dd = dask_modules(feature)
    if not isinstance(ddf, dd.DataFrame):
        raise SchemaError(f"{feature}: ddf must be a dask.dataframe.DataFrame; got {type(ddf)!r}")
    source = {target: name for name, target in mapping_value(mapping, feature, "mapping").items()}
    core = [source.get(c, c) for c in ("customer_id", "timestamp", "kind")]
    missing = [c for c in core if c not in ddf.columns]
    if missing:
        raise SchemaError(
            f"{feature}: ddf has no column(s) {missing!r}; expected the log columns "
            "customer_id, timestamp and kind (as from InteractionLog.to_pandas())"
        )


def _aligned(frame: Any, meta: Any) -> Any:
    """The partition with the frame's declared columns, in their order."""
    columns = list(meta.columns)
    if list(frame.columns) == columns:
        return frame
    out = frame.reindex(columns=columns)
    for name in columns:
        if name not in frame.columns:
            # a dtype without missing values (int64, bool) keeps the NaN column
            with contextlib.suppress(TypeError, ValueError):
                out[name] = out[name].astype(meta[name].dtype)
    return out


def declared_columns(ddf: Any) -> Any:
    """``ddf`` with every partition holding the frame's declared columns, in their order.

    A partition that lacks a column the frame declares (files written at different times,
    ``dd.from_delayed`` of frames with other columns) gets it as missing values, as
    ``ddf.compute()`` concatenates such partitions; a column only some partitions have and the
    frame does not declare is dropped. Without this, the shuffle would fail on the mismatch
    inside Dask, and a partition read alone would not see a ``by`` column the others have.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> a = pd.DataFrame({"customer_id": ["a"], "kind": ["view"], "channel": ["web"]})
    >>> ddf = dd.from_delayed([dask.delayed(a), dask.delayed(a.drop(columns="channel"))],
    ...                       meta=a.iloc[:0], verify_meta=False)
    >>> declared_columns(ddf).partitions[1].compute(scheduler="sync")["channel"].isna().tolist()
    [True]
    """
    return ddf.map_partitions(_aligned, ddf._meta, meta=ddf._meta)


_LOCAL = {"sync", "synchronous", "single-threaded", "threads", "threading", "processes"}


def shuffle_method(dask: Any) -> str | None:
    """``"tasks"`` when a local scheduler is configured explicitly (a peer-to-peer shuffle needs
    the distributed scheduler, even when a Client exists); else Dask's default."""
    return "tasks" if dask.config.get("scheduler", None) in _LOCAL else None


def extreme(pick: Callable[[int, int], int], a: int | None, b: int | None) -> int | None:
    """``pick(a, b)`` of two partial states' times, or the one that is not ``None`` (``None``:
    that partition saw no time).

    Examples
    --------
    >>> extreme(min, 3, 1), extreme(max, None, 2), extreme(max, None, None)
    (1, 2, None)
    """
    if a is None or b is None:
        return b if a is None else a
    return pick(a, b)


def numbered_partitions(ddf: Any) -> list[Piece]:
    """The partitions of a Dask DataFrame as delayed frames with their numbers, each with the
    frame's declared columns (:func:`declared_columns`)."""
    return list(enumerate(declared_columns(ddf).to_delayed()))


def partition_log(
    frame: Any,
    mapping: Mapping[str, str] | None,
    timezone: str | None,
    number: int,
    origin: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
    time_format: str | None = None,
) -> InteractionLog | None:
    """The partition as an InteractionLog, or None for an empty partition.

    A bad row raises the one-process :class:`~cxmodel.errors.SchemaError` (the same reason) with
    the row named as the user knows it: its partition, its label in the frame's index and its
    row number in the partition, e.g. ``partition 3, index 1234 (row 2 of the partition): ...``.
    ``number`` is the partition's number; ``origin``, for rows a shuffle gathered from several
    partitions, gives each row's input partition and position in it (the frame's index still
    the input's).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["a", "b"], "kind": ["view", "view"],
    ...     "timestamp": ["2024-01-01", "someday"]}, index=[40, 41])
    >>> partition_log(frame, None, "UTC", 3)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: partition 3, index 41 (row 2 of the partition): timestamp 'someday' is not an ISO-8601 time (expected e.g. '2024-03-01T10:00:00+00:00')
    """
    if len(frame) == 0:
        return None
    try:
        return InteractionLog.from_pandas(
            frame, mapping=mapping, timezone=timezone, time_format=time_format
        )
    except RowSchemaError as error:
        raise renamed_in_partition(error, frame, number, origin) from None


def row_origin(
    frame: Any,
    number: int,
    origin: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each row's input partition and position in it: ``origin`` for rows a shuffle gathered,
    else partition ``number`` and the rows' positions in ``frame``."""
    if origin is not None:
        return origin
    return np.full(len(frame), number, dtype=np.int64), np.arange(len(frame), dtype=np.int64)


def renamed_in_partition(
    error: RowSchemaError,
    frame: Any,
    number: int,
    origin: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> SchemaError:
    """``error`` about a row of a partition's log, with the row named as the user knows it:
    its partition, its label in the frame's index and its row number in the partition
    (``number`` and ``origin`` as in :func:`partition_log`).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"kind": ["view", "survey"]}, index=["e1", "e2"])
    >>> error = RowSchemaError("row 1: score nan ...", 1, "score nan ...", 0)
    >>> renamed_in_partition(error, frame, 4)
    SchemaError("partition 4, index 'e2' (row 2 of the partition): score nan ...")
    """
    partitions, positions = row_origin(frame, number, origin)
    index = frame.index

    def label(row: int) -> str:
        return show(index[row : row + 1].tolist()[0])

    def heading(row: int) -> str:
        return (
            f"partition {partitions[row]}, index {label(row)} "
            f"(row {positions[row] + 1} of the partition)"
        )

    def ref(row: int) -> str:
        return f"{positions[row] + 1} of partition {partitions[row]} (index {label(row)})"

    return renamed(error, heading, ref)


def _merge_many(
    merge: Callable[[S, S], S], combine: Callable[[Sequence[S]], S] | None, *states: S
) -> S:
    if combine is not None:
        return combine(states)
    out = states[0]
    for state in states[1:]:
        out = merge(out, state)
    return out


def check_by(by: object, feature: str) -> None:
    """Refuse a ``by`` that is not a column name: on Dask, groups come from a column of the
    frame (one label per row cannot follow the rows through the shuffle).

    Examples
    --------
    >>> check_by(["a", "b"], "cxmodel.dask.paths()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: cxmodel.dask.paths(): by must be a column name (text) for Dask input; got list ['a', 'b']
    """
    if by is not None and not isinstance(by, str):
        raise SchemaError(
            f"{feature}: by must be a column name (text) for Dask input; got {got(by)}"
        )


def check_fan_in(fan_in: object, feature: str) -> None:
    """Refuse a ``fan_in`` that is not an int of at least 2 (inputs per merge task).

    Examples
    --------
    >>> check_fan_in("8", "cxmodel.dask.paths()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: cxmodel.dask.paths(): fan_in must be an int >= 2 (partial states merged per task); got str '8'
    """
    if not is_integer(fan_in) or fan_in < 2:
        raise SchemaError(
            f"{feature}: fan_in must be an int >= 2 (partial states merged per task); "
            f"got {got(fan_in)}"
        )


def tree_merge(
    merge: Callable[[S, S], S],
    partials: Sequence[Any],
    fan_in: int = FAN_IN,
    *,
    combine: Callable[[Sequence[S]], S] | None = None,
) -> Any:
    """Merge delayed partial states in a tree with ``fan_in`` inputs per task (a delayed state).

    Each task folds its inputs with ``merge(a, b)``; with ``combine``, it merges them in one
    call instead (``combine(states)``, which must equal the fold), for states whose merge costs
    as much as both inputs' sizes: a fold would cost ``fan_in / 2`` times more.

    Parameters
    ----------
    merge : callable
        Merges two partial states into one (associative).
    partials : sequence of dask.delayed
        The partial states, one per partition.
    fan_in : int, default 8
        Inputs per merge task.
    combine : callable, optional
        Merges a task's inputs in one call (``combine(states)``, equal to the fold).

    Examples
    --------
    >>> import dask
    >>> parts = [dask.delayed(i) for i in range(20)]
    >>> tree_merge(lambda a, b: a + b, parts, fan_in=3).compute(scheduler="sync")
    190
    >>> tree_merge(lambda a, b: a + b, parts, combine=sum).compute(scheduler="sync")
    190
    """
    dask = import_optional("dask", "cxmodel.dask.tree_merge()")
    check_fan_in(fan_in, "cxmodel.dask.tree_merge()")
    if not partials:
        raise SchemaError("tree_merge() needs at least one partial state")
    level = list(partials)
    while len(level) > 1:
        level = [
            dask.delayed(_merge_many, pure=True)(merge, combine, *level[i : i + fan_in])
            for i in range(0, len(level), fan_in)
        ]
    return level[0]
