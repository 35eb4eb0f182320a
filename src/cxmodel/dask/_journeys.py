"""Transitions over customer partitions: per-partition edge states merged in a tree, then
the exact gap quantiles selected in bounded rounds."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeVar, cast

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag
from cxmodel.dask._common import FAN_IN, GroupKey, check_by, group_logs, merge_keyed
from cxmodel.dask._order_statistics import (
    FETCH_BUDGET,
    REFINE_BITS,
    Query,
    Sample,
    log_floor,
    merge_samples,
    order_statistics,
    runs,
    sample_in,
)
from cxmodel.dask._partitions import customer_logs
from cxmodel.dask._types import check_logs_by
from cxmodel.dask._whole import map_reduce
from cxmodel.journey import Transitions
from cxmodel.journey._common import MISSING_LABEL, level_codes, quantile_levels, session_codes
from cxmodel.journey._transitions import (
    END,
    START,
    check_labels,
    transition_edges,
    transitions_from_counts,
    unique_customers,
)
from cxmodel.log import InteractionLog

__all__ = ["EdgeState", "gap_answers", "merge_answers", "transitions", "transitions_of"]

IntArray = npt.NDArray[np.int64]
# A label key: (0, "START"), (1, category), (2, "(missing)"), (3, "END"): sorts as the labels.
Label = tuple[int, str]
Edge = tuple[Label, Label]
# An edge of the whole data (None) or of one ``by`` group.
Slot = tuple[GroupKey | None, Edge]
S = TypeVar("S")
# Runs ``partial(log, *args)`` on every partition and merges the states with ``merge``.
Run = Callable[[Callable[..., Any], Callable[[Any, Any], Any], tuple[Any, ...]], Any]


@attrs.frozen(eq=False)
class EdgeState:
    """Mergeable state of :func:`transitions`: per edge the count and the distinct customers,
    the histogram of its gaps over logarithmic bins (:func:`log_floor` of the microseconds,
    with counts), plus the level's labels.

    The histograms are bounded by the number of bins (32 per power of two), not by the data;
    the exact quantiles are selected from them in later rounds (:func:`order_statistics`).
    ``merge`` is exact and commutative when the two states hold different customers (customer
    partitions), which is how :func:`transitions` uses it.
    """

    labels: frozenset[Label]
    edges: dict[Edge, tuple[int, int]]
    times: dict[Edge, Sample]

    @classmethod
    def empty(cls) -> EdgeState:
        """The identity state."""
        return cls(frozenset(), {}, {})

    def merge(self, other: EdgeState) -> EdgeState:
        """The state of both partitions' customers."""
        edges = dict(self.edges)
        for edge, (n, c) in other.edges.items():
            m, d = edges.get(edge, (0, 0))
            edges[edge] = (m + n, d + c)
        return EdgeState(
            self.labels | other.labels, edges, merge_keyed(self.times, other.times, merge_samples)
        )


def _keys(labels: npt.NDArray[np.object_], start_end: bool, missing: bool) -> list[Label]:
    keys = [(1, str(label)) for label in labels[: len(labels) - int(missing)]]
    if missing:
        keys.append((2, MISSING_LABEL))
    return [(0, START), *keys, (3, END)] if start_end else keys


@attrs.frozen
class _Steps:
    """A log's steps as ``_transitions`` finds them: edge codes over ``keys`` (k = len(keys)),
    their customers, and the gaps of the steps between two events (``edge[:len(gaps)]``)."""

    keys: list[Label]
    edge: IntArray
    who: IntArray
    gaps: IntArray


def _steps(log: InteractionLog, level: str, start_end: bool, by_session: bool) -> _Steps:
    codes, cats = level_codes(log, level)
    missing = len(cats) > len(log.categorical(level)[1])  # level_codes added "(missing)"
    keys = _keys(cats, start_end, missing)
    cust = log.customer_codes.astype(np.int64)
    unit = session_codes(log) if by_session else cust
    if start_end:
        codes = codes + 1
    check_labels(len(keys), level, "cxmodel.dask.transitions()")
    edge, who, gaps = transition_edges(codes, unit, cust, log.timestamps, len(keys), start_end)
    return _Steps(keys, edge, who, gaps)


def _sorted_pairs(edge: IntArray, gaps: IntArray) -> tuple[IntArray, IntArray]:
    """The (edge, gap) pairs sorted by edge, then gap (one sort of a combined key when the
    product fits in int64)."""
    span = int(gaps.max()) + 1 if len(gaps) else 1
    n_edges = int(edge.max()) + 1 if len(edge) else 1
    if n_edges * span < 2**62:
        both = np.sort(edge.astype(np.int64) * span + gaps)
        return both // span, both % span
    order = np.lexsort((gaps, edge))
    return edge[order].astype(np.int64), gaps[order].astype(np.int64)


def _edge_state(
    log: InteractionLog | None, level: str, start_end: bool, by_session: bool, with_times: bool
) -> EdgeState:
    """One partition's edges, as ``_transitions`` counts them, keyed by labels (and their gap
    histograms ``with_times``: only quantiles need them)."""
    if log is None:
        return EdgeState.empty()
    steps = _steps(log, level, start_end, by_session)
    keys, edge = steps.keys, steps.edge
    k = len(keys)
    counts = np.bincount(edge, minlength=k * k)
    customers = unique_customers(steps.who, edge, log.n_customers, k).reshape(-1)
    edges = {
        (keys[e // k], keys[e % k]): (int(counts[e]), int(customers[e]))
        for e in np.flatnonzero(counts).tolist()
    }
    times = {}
    if with_times and len(steps.gaps):
        e, floors = _sorted_pairs(edge[: len(steps.gaps)], log_floor(steps.gaps))
        bounds = [0, *(np.flatnonzero(np.diff(e)) + 1).tolist(), len(e)]
        times = {
            (keys[int(e[lo]) // k], keys[int(e[lo]) % k]): runs(floors[lo:hi])
            for lo, hi in pairwise(bounds)
        }
    return EdgeState(frozenset(keys), edges, times)


def _merge(a: EdgeState, b: EdgeState) -> EdgeState:
    return a.merge(b)


_Grouped = tuple[EdgeState, dict[GroupKey, EdgeState]]


def _grouped_state(
    log: InteractionLog | None,
    level: str,
    start_end: bool,
    by_session: bool,
    with_times: bool,
    by: str,
) -> _Grouped:
    """The partition's edges, and those of each ``by`` group's units."""
    if log is None:
        return EdgeState.empty(), {}
    whole = _edge_state(log, level, start_end, by_session, with_times)
    groups = {
        key: _edge_state(sub, level, start_end, by_session, with_times)
        for key, sub in group_logs(log, by, by_session).items()
    }
    return whole, groups


def _merge_grouped(a: _Grouped, b: _Grouped) -> _Grouped:
    return a[0].merge(b[0]), merge_keyed(a[1], b[1], EdgeState.merge)


def gap_answers(
    log: InteractionLog | None,
    level: str,
    start_end: bool,
    by_session: bool,
    by: str | None,
    queries: tuple[Query, ...],
) -> list[Sample]:
    """One partition's answer to each query ``((group, edge), floor, width, shift)``: the
    edge's gaps (microseconds) in ``[floor, floor + width)``, rounded down to multiples of
    ``2**shift``, as a sample (see :func:`order_statistics`)."""
    empty = runs(np.zeros(0, dtype=np.int64))
    if log is None:
        return [empty] * len(queries)
    slots = [cast(Slot, query[0]) for query in queries]
    needed = {group for group, _ in slots}
    logs: dict[GroupKey | None, InteractionLog] = {None: log}
    if by is not None and needed - {None}:
        logs.update(group_logs(log, by, by_session).items())
    pairs = {}
    for group in needed & logs.keys():
        steps = _steps(logs[group], level, start_end, by_session)
        index = {key: i for i, key in enumerate(steps.keys)}
        pairs[group] = (index, *_sorted_pairs(steps.edge[: len(steps.gaps)], steps.gaps))
    out = []
    for (group, (source, target)), (_, floor, width, shift) in zip(slots, queries, strict=True):
        if group not in pairs or source not in pairs[group][0] or target not in pairs[group][0]:
            out.append(empty)
            continue
        index, edge, gaps = pairs[group]
        code = index[source] * len(index) + index[target]
        lo, hi = np.searchsorted(edge, [code, code + 1])
        out.append(sample_in(gaps[lo:hi], floor, width, shift))
    return out


def merge_answers(a: list[Sample], b: list[Sample]) -> list[Sample]:
    """Two partitions' answers to the same queries as one."""
    return [merge_samples(x, y) for x, y in zip(a, b, strict=True)]


def _label_keys(labels: frozenset[Label], start_end: bool) -> list[Label]:
    present = set(labels)
    if start_end:
        present |= {(0, START), (3, END)}
    return sorted(present)


def _time_quantiles(
    states: Mapping[GroupKey | None, tuple[EdgeState, list[Label]]],
    quantiles: tuple[float, ...],
    fetch: Callable[[Sequence[Query]], Sequence[Sample]],
    budget: int,
    refine_bits: int,
) -> dict[GroupKey | None, npt.NDArray[np.float64]]:
    """Per state its ``(Q, K, K)`` gap quantiles in seconds, as ``sorted_quantiles`` computes
    them on the whole sorted sample: the positions are offset by the sizes of the edges before
    (in the result's edge order), and the values at the two ranks around each position are
    selected exactly from the partitions."""
    qs = len(quantiles)
    plans = {}
    histograms: dict[Hashable, Sample] = {}
    ranks: dict[Hashable, IntArray] = {}
    for group, (state, keys) in states.items():
        k = len(keys)
        index = {key: i for i, key in enumerate(keys)}
        ordered = sorted((index[s] * k + index[d], (s, d)) for s, d in state.times)
        codes = np.array([code for code, _ in ordered], dtype=np.int64)
        sizes = np.array([int(state.times[e][1].sum()) for _, e in ordered], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        pos = np.array([starts + q * (sizes - 1) for q in quantiles]).reshape(qs, len(sizes))
        lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
        for j, (_, e) in enumerate(ordered):
            histograms[(group, e)] = state.times[e]
            ranks[(group, e)] = np.concatenate([lo[:, j], hi[:, j]]) - starts[j]
        plans[group] = (k, ordered, codes, pos, lo)
    values = (
        order_statistics(histograms, ranks, fetch, budget=budget, refine_bits=refine_bits)
        if ranks
        else {}
    )
    out = {}
    for group, (k, ordered, codes, pos, lo) in plans.items():
        matrix = np.full((qs, k * k), np.nan)
        if ordered:
            v = np.array([values[(group, e)] for _, e in ordered]).T.astype(np.float64) / 1e6
            v_lo, v_hi = v[:qs], v[qs:]
            matrix[:, codes] = v_lo + (pos - lo) * (v_hi - v_lo)
        out[group] = matrix.reshape(qs, k, k)
    return out


def _result(
    state: EdgeState,
    keys: list[Label],
    quantiles: tuple[float, ...],
    time_quantiles: npt.NDArray[np.float64],
) -> Transitions:
    """The matrices of a merged state over ``keys``, with its exact gap quantiles."""
    k = len(keys)
    index = {key: i for i, key in enumerate(keys)}
    counts = np.zeros((k, k), dtype=np.int64)
    customers = np.zeros((k, k), dtype=np.int64)
    for (s, d), (n, c) in state.edges.items():
        counts[index[s], index[d]] = n
        customers[index[s], index[d]] = c
    labels = np.array([label for _, label in keys], dtype=object)
    return transitions_from_counts(labels, counts, customers, quantiles, time_quantiles)


def transitions_of(
    run: Run,
    level: str,
    start_end: bool,
    by_session: bool,
    by: str | None,
    quantiles: tuple[float, ...],
    *,
    budget: int = FETCH_BUDGET,
    refine_bits: int = REFINE_BITS,
) -> Transitions:
    """The transitions of the partitions ``run`` reaches: their edge states merged, then the
    rounds that select the exact gap quantiles (``budget`` and ``refine_bits`` as in
    :func:`order_statistics`)."""
    with_times = bool(quantiles)
    groups: dict[GroupKey, EdgeState] = {}
    if by is None:
        merged = run(_edge_state, _merge, (level, start_end, by_session, with_times))
        whole = merged if merged is not None else EdgeState.empty()
    else:
        args = (level, start_end, by_session, with_times, by)
        whole, groups = run(_grouped_state, _merge_grouped, args) or (EdgeState.empty(), {})
    vocabulary = frozenset(key for key in whole.labels if key[0] != 2)  # without "(missing)"
    order = sorted(groups)
    check_labels(len(_label_keys(whole.labels, start_end)), level, "cxmodel.dask.transitions()")
    states: dict[GroupKey | None, tuple[EdgeState, list[Label]]] = {
        None: (whole, _label_keys(whole.labels, start_end)),
        **{g: (groups[g], _label_keys(vocabulary | groups[g].labels, start_end)) for g in order},
    }

    def fetch(queries: Sequence[Query]) -> Sequence[Sample]:
        answers: list[Sample] = run(
            gap_answers, merge_answers, (level, start_end, by_session, by, tuple(queries))
        )
        return answers

    times = _time_quantiles(states, tuple(quantiles), fetch, budget, refine_bits)
    result = _result(whole, states[None][1], quantiles, times[None])
    if by is None:
        return result
    return attrs.evolve(
        result,
        by_labels=np.array([label for _, label in order], dtype=object),
        groups=tuple(_result(groups[g], states[g][1], quantiles, times[g]) for g in order),
    )


def transitions(
    data: Any,
    *,
    level: str = "kind",
    start_end: bool = True,
    by_session: bool = False,
    by: str | None = None,
    quantiles: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9),
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
    progress: bool = False,
) -> Transitions:
    """:func:`cxmodel.journey.transitions` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition builds an :class:`EdgeState` (per edge: count, distinct customers
    and a histogram of the gaps over logarithmic bins); the states are merged in a tree of
    ``fan_in`` and the matrices are built once on the client. The quantiles interpolate
    between two ranks of each edge's sorted gaps, as in one process: the merged histograms
    locate the bins of those ranks, and one more pass brings only the gaps inside them (a bin
    with over a million distinct gaps is split into finer bins by another pass first), so no
    task holds more than a bounded number of gaps. The result equals the one-process one
    (labels, counts, customers, probabilities, quantiles, ties included).

    With ``by`` (a column name) each partition also builds one state per group of the column
    (a customer or session belongs to the group of its first event, as in one process); the
    group states are merged by group and ``by_labels`` and ``groups`` hold the groups with at
    least one unit, each over the labels of the whole data (plus ``"(missing)"`` when that
    group has missing values), as in one process. ``segment`` is not taken: filter the frame
    first. ``progress=True`` shows Dask's progress bar while the partitions are computed.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows (shuffled by customer first, with :func:`from_dask`), or partitions
        already shuffled (then ``mapping`` and ``timezone`` are not used).
    level : str, default "kind"
        The string column whose values are the labels.
    start_end : bool, default True
        Add ``"START"`` and ``"END"`` labels around each unit's events.
    by_session : bool, default False
        Units are sessions (the ``session_id`` column) instead of customers.
    by : str, optional
        A column whose values split the units into groups (each unit in its first event's).
    quantiles : tuple of float, default (0.25, 0.5, 0.75, 0.9)
        Levels of the per-edge time quantiles.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    timezone : str, optional
        Zone of naive timestamps.
    fan_in : int, default 8
        Partial states merged per task of the merge tree.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", "b"], "kind": ["view", "purchase", "view"],
    ...     "plan": ["new", "new", "returning"],
    ...     "timestamp": pd.to_datetime([0, 60, 0], unit="s", utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     t = cxd.transitions(dd.from_pandas(frame, npartitions=2), by="plan")
    >>> t.by_labels.tolist(), t.group("returning").counts.tolist()
    (['new', 'returning'], [[0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    """
    feature = "cxmodel.dask.transitions()"
    check_by(by, feature)
    start_end = flag(start_end, feature, "start_end")
    by_session = flag(by_session, feature, "by_session")
    quantiles = quantile_levels(quantiles, feature, "quantiles")
    parts = customer_logs(data, mapping, timezone)
    check_logs_by(parts, by, feature)

    def run(partial: Callable[..., S], merge: Callable[[S, S], S], args: tuple[Any, ...]) -> Any:
        return map_reduce(
            parts,
            partial,
            merge,
            args,
            fan_in=fan_in,
            feature=feature,
            progress=progress,
            warn=partial is not gap_answers,  # the first pass has raised them
        )

    return transitions_of(run, level, start_end, by_session, by, quantiles)
