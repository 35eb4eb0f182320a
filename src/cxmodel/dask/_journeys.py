"""Transitions over customer partitions: per-partition edge states merged in a tree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.dask._common import FAN_IN
from cxmodel.dask._whole import map_reduce
from cxmodel.errors import SchemaError
from cxmodel.journey import Transitions
from cxmodel.journey._common import MISSING_LABEL, level_codes, session_codes
from cxmodel.journey._transitions import END, START
from cxmodel.log import InteractionLog

__all__ = ["EdgeState", "transitions"]

IntArray = npt.NDArray[np.int64]
# A label key: (0, "START"), (1, category), (2, "(missing)"), (3, "END"): sorts as the labels.
Label = tuple[int, str]
Edge = tuple[Label, Label]


def _merge_values(a: tuple[IntArray, IntArray], b: tuple[IntArray, IntArray]) -> Any:
    """Two (sorted distinct values, counts) samples as one."""
    values, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), np.concatenate([a[1], b[1]]), minlength=len(values))
    return values, counts.astype(np.int64)


@attrs.frozen(eq=False)
class EdgeState:
    """Mergeable state of :func:`transitions`: per edge the count, the customers and the
    sample of times (distinct microsecond gaps with their counts), plus the level's labels.

    ``merge`` is exact and commutative when the two states hold different customers (customer
    partitions), which is how :func:`transitions` uses it.
    """

    labels: frozenset[Label]
    edges: dict[Edge, tuple[int, int]]
    times: dict[Edge, tuple[IntArray, IntArray]]

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
        times = dict(self.times)
        for edge, sample in other.times.items():
            times[edge] = _merge_values(times[edge], sample) if edge in times else sample
        return EdgeState(self.labels | other.labels, edges, times)


def _keys(labels: npt.NDArray[np.object_], start_end: bool, missing: bool) -> list[Label]:
    keys = [(1, str(label)) for label in labels[: len(labels) - int(missing)]]
    if missing:
        keys.append((2, MISSING_LABEL))
    return [(0, START), *keys, (3, END)] if start_end else keys


def _edge_state(
    log: InteractionLog | None, level: str, start_end: bool, by_session: bool
) -> EdgeState:
    """One partition's edges, as ``_transitions`` counts them, keyed by labels."""
    if log is None:
        return EdgeState.empty()
    codes, cats = level_codes(log, level)
    missing = len(cats) > len(log.categorical(level)[1])  # level_codes added "(missing)"
    keys = _keys(cats, start_end, missing)
    cust = log.customer_codes.astype(np.int64)
    unit = session_codes(log) if by_session else cust
    t = log.timestamps
    k = len(keys)
    if start_end:
        codes = codes + 1
    n = len(codes)
    same = unit[1:] == unit[:-1]
    src, dst, who = codes[:-1][same], codes[1:][same], cust[:-1][same]
    dt_us = (t[1:] - t[:-1])[same]
    if start_end and n:
        first = np.ones(n, dtype=bool)
        first[1:] = ~same
        last = np.ones(n, dtype=bool)
        last[:-1] = ~same
        src = np.concatenate([src, np.zeros(int(first.sum()), dtype=np.int64), codes[last]])
        dst = np.concatenate([dst, codes[first], np.full(int(last.sum()), k - 1, dtype=np.int64)])
        who = np.concatenate([who, cust[first], cust[last]])
    edge = src * k + dst
    counts = np.bincount(edge, minlength=k * k)
    distinct = np.unique(who * (k * k) + edge) % (k * k)
    customers = np.bincount(distinct, minlength=k * k)
    edges = {
        (keys[e // k], keys[e % k]): (int(counts[e]), int(customers[e]))
        for e in np.flatnonzero(counts).tolist()
    }
    times: dict[Edge, tuple[IntArray, IntArray]] = {}
    timed = edge[: len(dt_us)]
    dt_sorted = dt_us
    pairs, n_at = np.unique(np.stack([timed, dt_sorted]), axis=1, return_counts=True)
    for e in np.unique(timed).tolist():
        sel = pairs[0] == e
        times[(keys[e // k], keys[e % k])] = (pairs[1][sel].astype(np.int64), n_at[sel])
    labels = frozenset(keys)
    return EdgeState(labels, edges, times)


def _merge(a: EdgeState, b: EdgeState) -> EdgeState:
    return a.merge(b)


def _quantiles(
    state: EdgeState, keys: list[Label], quantiles: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """Per-edge quantiles as ``sorted_quantiles`` computes them on the whole sorted sample
    (positions are offset by the sizes of the edges before, as there)."""
    k = len(keys)
    index = {key: i for i, key in enumerate(keys)}
    out = np.full((len(quantiles), k * k), np.nan)
    samples = sorted(
        ((index[s] * k + index[d], sample) for (s, d), sample in state.times.items()),
        key=lambda item: item[0],
    )
    start = 0
    for e, (values, counts) in samples:
        size = int(counts.sum())
        cum = np.cumsum(counts)
        v = values.astype(np.float64) / 1e6
        for i, q in enumerate(quantiles):
            pos = start + q * (size - 1)
            lo, hi = int(np.floor(pos)), int(np.ceil(pos))
            v_lo = v[np.searchsorted(cum, lo - start, side="right")]
            v_hi = v[np.searchsorted(cum, hi - start, side="right")]
            out[i, e] = v_lo + (pos - lo) * (v_hi - v_lo)
        start += size
    return out.reshape(len(quantiles), k, k)


def transitions(
    data: Any,
    *,
    level: str = "kind",
    start_end: bool = True,
    by_session: bool = False,
    quantiles: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9),
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
    progress: bool = False,
) -> Transitions:
    """:func:`cxmodel.journey.transitions` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition builds an :class:`EdgeState` (per edge: count, distinct customers
    and the sample of gaps, as distinct microsecond values with counts); the states are merged
    in a tree of ``fan_in`` and the matrices and exact quantiles are computed once on the
    client. The result equals the one-process one (labels, counts, customers, probabilities,
    quantiles). ``by`` and ``segment`` are not supported here: filter the frame first.
    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).
    """
    for q in quantiles:
        if not 0.0 <= q <= 1.0:
            raise SchemaError(f"quantiles must lie in [0, 1], got {q!r}")
    state = map_reduce(
        data,
        _edge_state,
        _merge,
        (level, start_end, by_session),
        mapping=mapping,
        timezone=timezone,
        fan_in=fan_in,
        feature="cxmodel.dask.transitions()",
        progress=progress,
    )
    state = state if state is not None else EdgeState.empty()
    present = set(state.labels)
    if start_end:
        present |= {(0, START), (3, END)}
    keys = sorted(present)
    k = len(keys)
    index = {key: i for i, key in enumerate(keys)}
    counts = np.zeros((k, k), dtype=np.int64)
    customers = np.zeros((k, k), dtype=np.int64)
    for (s, d), (n, c) in state.edges.items():
        counts[index[s], index[d]] = n
        customers[index[s], index[d]] = c
    out_sum = counts.sum(axis=1, keepdims=True)
    in_sum = counts.sum(axis=0)
    p_next = np.divide(counts, out_sum, out=np.zeros((k, k)), where=out_sum > 0)
    p_previous = np.divide(
        counts.T, in_sum[:, None], out=np.zeros((k, k)), where=in_sum[:, None] > 0
    )
    return Transitions(
        labels=np.array([label for _, label in keys], dtype=object),
        counts=counts,
        customers=customers,
        p_next=p_next,
        p_previous=p_previous,
        quantiles=tuple(float(q) for q in quantiles),
        time_quantiles=_quantiles(state, keys, tuple(quantiles)),
    )
