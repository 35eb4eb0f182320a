"""Step matrices over customer partitions: per-label counts at each step, merged in a tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.dask._common import FAN_IN, GroupKey, check_by, group_keys, merge_keyed
from cxmodel.dask._steps import StepVocabulary
from cxmodel.dask._whole import map_reduce
from cxmodel.journey import END, START, StepMatrix
from cxmodel.journey._common import MISSING_LABEL
from cxmodel.journey._funnel import Step, split_step
from cxmodel.journey._groups import by_codes
from cxmodel.journey._step_matrix import (
    ANCHOR_ABSENT,
    anchored_groups,
    check_steps_argument,
    step_counts,
)
from cxmodel.log import InteractionLog

__all__ = [
    "StepMatrixPartial",
    "StepState",
    "merge_step_matrices",
    "step_matrix",
    "step_matrix_of",
    "step_matrix_partial",
]

IntArray = npt.NDArray[np.int64]
# A row key: (0, category), (1, "(missing)"), (2, "START"), (3, "END"): sorts as the rows.
Label = tuple[int, str]
_START, _END = (2, START), (3, END)


@attrs.frozen(eq=False)
class StepState:
    """Mergeable state of :func:`step_matrix`: the units at each row label at each step.

    ``counts[i]`` is the row of ``labels[i]``; ``labels`` holds the partitions' categories of
    the level (all of them, as the one-process rows), ``"(missing)"`` when a unit had a missing
    value, and ``"START"``/``"END"``. ``merge`` is exact when the two states hold different
    customers.
    """

    labels: tuple[Label, ...]
    counts: IntArray
    n_units: int

    @classmethod
    def empty(cls, n_steps: int) -> StepState:
        """The identity state of ``n_steps`` columns."""
        return cls((), np.zeros((0, n_steps), dtype=np.int64), 0)

    @classmethod
    def of(cls, matrix: StepMatrix, n_categories: int, anchored: bool) -> StepState:
        """The state of one log's matrix (``n_categories``: how many rows are categories)."""
        labels = [(0, str(x)) for x in matrix.labels[:n_categories].tolist()]
        n_missing = len(matrix.labels) - n_categories - (2 if anchored else 1)
        labels += [(1, MISSING_LABEL)] * n_missing + ([_START, _END] if anchored else [_END])
        return cls(tuple(labels), matrix.counts, matrix.n_units)

    def merge(self, other: StepState) -> StepState:
        """The units of both states: rows of the same label add."""
        labels = tuple(sorted(set(self.labels) | set(other.labels)))
        index = {key: i for i, key in enumerate(labels)}
        counts = np.zeros((len(labels), self.counts.shape[1]), dtype=np.int64)
        for state in (self, other):
            rows = np.array([index[key] for key in state.labels], dtype=np.int64)
            counts[rows] += state.counts
        return StepState(labels, counts, self.n_units + other.n_units)


def _matrix(
    state: StepState, steps: int, anchored: bool, labels: frozenset[Label] | None = None
) -> StepMatrix:
    """The matrix of a merged state, over its labels and ``labels`` (the rows the one-process
    matrix shows even when no unit is there)."""
    keys = sorted(set(state.labels) | (labels or set()) | ({_START, _END} if anchored else {_END}))
    index = {key: i for i, key in enumerate(keys)}
    counts = np.zeros((len(keys), 2 * steps + 1 if anchored else steps), dtype=np.int64)
    if state.labels:
        counts[[index[key] for key in state.labels]] = state.counts
    n_units = state.n_units
    return StepMatrix(
        labels=np.array([label for _, label in keys], dtype=object),
        steps=np.arange(-steps if anchored else 1, steps + 1, dtype=np.int64),
        counts=counts,
        shares=counts / n_units if n_units else np.zeros(counts.shape),
        n_units=n_units,
    )


# The partitions' counts, those of each by= group, what they know of the anchor.
StepMatrixPartial = tuple[StepState, dict[GroupKey, StepState], StepVocabulary]


def _state(log: InteractionLog, anchor: Step | None, steps: int, level: str) -> StepState:
    matrix = step_counts(log, anchor, steps, level)
    return StepState.of(matrix, len(log.categorical(level)[1]), anchor is not None)


def step_matrix_partial(
    log: InteractionLog | None, anchor: Step | None, steps: int, level: str, by: str | None
) -> StepMatrixPartial:
    """One partition's counts, those of each ``by`` group's customers (the group of the event
    that anchors them, as in one process) and what it knows of the anchor."""
    if log is None:
        return StepState.empty(2 * steps + 1 if anchor else steps), {}, StepVocabulary.empty()
    vocabulary = StepVocabulary.of(log, [] if anchor is None else [anchor])
    whole = _state(log, anchor, steps, level)
    if by is None:
        return whole, {}, vocabulary
    codes, labels = by_codes(log, by)
    present, masks = anchored_groups(log, codes, labels, anchor)
    key = dict(zip(labels.tolist(), group_keys(labels), strict=True))
    groups = {
        key[label]: _state(log.filter(m), anchor, steps, level)
        for label, m in zip(present.tolist(), masks, strict=True)
    }
    return whole, groups, vocabulary


def merge_step_matrices(a: StepMatrixPartial, b: StepMatrixPartial) -> StepMatrixPartial:
    return a[0].merge(b[0]), merge_keyed(a[1], b[1], StepState.merge), a[2].merge(b[2])


def step_matrix(
    data: Any,
    *,
    anchor: Step | None = None,
    steps: int = 10,
    level: str = "kind",
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
    progress: bool = False,
) -> StepMatrix:
    """:func:`cxmodel.journey.step_matrix` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition counts its customers at each label at each step (a small
    :class:`StepState`: labels by steps); the states are merged in a tree of ``fan_in`` and the
    matrix is built once on the client. The result equals the one-process one: the same rows
    (every category of the level, ``"(missing)"`` when present, ``"START"`` with an anchor,
    ``"END"``), steps, counts and shares. A misspelt anchor kind raises, against the kinds of
    all partitions together, as in one process.

    With ``by`` (a column name) each partition also counts each group's customers (a customer
    belongs to the group of the event that anchors them: their first anchor event, or their
    first event); ``groups`` holds the groups with at least one customer, each over every
    category of the level, as in one process. ``segment`` is not taken: filter the frame first.
    ``progress=True`` shows Dask's progress bar while the partitions are computed.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, or the logs of :func:`from_dask`.
    anchor, steps, level
        As in :func:`cxmodel.journey.step_matrix`.
    by : str, optional
        Column whose value at each customer's anchoring event breaks the matrix down.
    mapping, timezone : optional
        As in :func:`from_dask`, when ``data`` is a frame.
    fan_in : int, default 8
        Inputs per merge task.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed (needs the ``progress``
        extra).

    Returns
    -------
    StepMatrix

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "kind": ["view", "purchase", "view"],
    ...     "timestamp": pd.to_datetime([0, 1, 0], unit="s", utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     m = cxd.step_matrix(dd.from_pandas(frame, npartitions=2), steps=2)
    >>> m.labels.tolist(), m.counts.tolist()
    (['purchase', 'view', 'END'], [[0, 1], [2, 0], [0, 1]])
    """
    steps = check_steps_argument(steps, "cxmodel.dask.step_matrix()")
    if anchor is not None:
        split_step(anchor)
    check_by(by, "cxmodel.dask.step_matrix()")
    merged = map_reduce(
        data,
        step_matrix_partial,
        merge_step_matrices,
        (anchor, steps, level, by),
        mapping=mapping,
        timezone=timezone,
        fan_in=fan_in,
        feature="cxmodel.dask.step_matrix()",
        progress=progress,
        by=by,
    )
    partial = merged if merged is not None else step_matrix_partial(None, anchor, steps, level, by)
    if anchor is not None:
        partial[2].check([anchor], argument="step_matrix() anchor", meaning=ANCHOR_ABSENT)
    return step_matrix_of(partial, steps, anchor is not None, by is not None)


def step_matrix_of(partial: StepMatrixPartial, steps: int, anchored: bool, by: bool) -> StepMatrix:
    """The :class:`~cxmodel.journey.StepMatrix` of a merged partial (``anchored``, ``by``:
    whether an anchor and a breakdown were asked); each group's matrix has a row for every
    category of the level, as in one process."""
    whole, groups, _ = partial
    result = _matrix(whole, steps, anchored)
    if not by:
        return result
    categories = frozenset(key for key in whole.labels if key[0] == 0)
    keys = sorted(groups)
    return attrs.evolve(
        result,
        by_labels=np.array([label for _, label in keys], dtype=object),
        groups=tuple(_matrix(groups[k], steps, anchored, categories) for k in keys),
    )
