"""Transitions over customer partitions: per-partition edge states merged in a tree."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.dask._common import FAN_IN, GroupKey, group_keys, merge_keyed
from cxmodel.dask._whole import map_reduce
from cxmodel.errors import SchemaError
from cxmodel.journey import Transitions
from cxmodel.journey._common import MISSING_LABEL, level_codes, session_codes
from cxmodel.journey._groups import by_codes, first_rows, unit_masks
from cxmodel.journey._transitions import END, START, transition_edges, unique_customers
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
    log: InteractionLog | None, level: str, start_end: bool, by_session: bool, with_times: bool
) -> EdgeState:
    """One partition's edges, as ``_transitions`` counts them, keyed by labels (and their gap
    samples ``with_times``: only quantiles need them)."""
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
    edge, who, dt_us = transition_edges(codes, unit, cust, t, k, start_end)
    counts = np.bincount(edge, minlength=k * k)
    customers = unique_customers(who, edge, log.n_customers, k).reshape(-1)
    edges = {
        (keys[e // k], keys[e % k]): (int(counts[e]), int(customers[e]))
        for e in np.flatnonzero(counts).tolist()
    }
    times = _gap_samples(edge[: len(dt_us)], dt_us, keys) if with_times else {}
    return EdgeState(frozenset(keys), edges, times)


def _gap_samples(
    edge: IntArray, gaps: IntArray, keys: list[Label]
) -> dict[Edge, tuple[IntArray, IntArray]]:
    """Per edge its distinct gaps (microseconds, ascending) and how often each occurs."""
    if not len(edge):
        return {}
    k = len(keys)
    span = int(gaps.max()) + 1
    if k * k * span < 2**62:  # one sort of a combined key
        both = np.sort(edge.astype(np.int64) * span + gaps)
        e, d = both // span, both % span
    else:
        order = np.lexsort((gaps, edge))
        e, d = edge[order], gaps[order].astype(np.int64)
    new = np.ones(len(e), dtype=bool)
    new[1:] = (e[1:] != e[:-1]) | (d[1:] != d[:-1])
    firsts = np.flatnonzero(new)
    n_at = np.diff(np.append(firsts, len(e))).astype(np.int64)
    e, d = e[firsts], d[firsts]
    bounds = [0, *(np.flatnonzero(np.diff(e)) + 1).tolist(), len(e)]
    return {
        (keys[int(e[lo]) // k], keys[int(e[lo]) % k]): (d[lo:hi], n_at[lo:hi])
        for lo, hi in pairwise(bounds)
    }


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
    """The partition's edges, and those of each ``by`` group's units (as the one-process
    breakdown: a unit belongs to the group of its first event)."""
    if log is None:
        return EdgeState.empty(), {}
    whole = _edge_state(log, level, start_end, by_session, with_times)
    codes, labels = by_codes(log, by)
    unit = session_codes(log) if by_session else log.customer_codes.astype(np.int64)
    present, masks = unit_masks(codes, labels, unit, first_rows(unit))
    keys = dict(zip(group_keys(labels), labels.tolist(), strict=True))
    by_label = {label: key for key, label in keys.items()}
    groups = {
        by_label[label]: _edge_state(log.filter(m), level, start_end, by_session, with_times)
        for label, m in zip(present.tolist(), masks, strict=True)
    }
    return whole, groups


def _merge_grouped(a: _Grouped, b: _Grouped) -> _Grouped:
    return a[0].merge(b[0]), merge_keyed(a[1], b[1], EdgeState.merge)


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


def _result(
    state: EdgeState,
    start_end: bool,
    quantiles: tuple[float, ...],
    labels: frozenset[Label] | None = None,
) -> Transitions:
    """The matrices and exact quantiles of a merged state, over ``labels`` (default: the
    state's own)."""
    present = set(state.labels if labels is None else labels)
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
    and the sample of gaps, as distinct microsecond values with counts); the states are merged
    in a tree of ``fan_in`` and the matrices and exact quantiles are computed once on the
    client. The result equals the one-process one (labels, counts, customers, probabilities,
    quantiles).

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
    for q in quantiles:
        if not 0.0 <= q <= 1.0:
            raise SchemaError(f"quantiles must lie in [0, 1], got {q!r}")
    if by is not None and not isinstance(by, str):
        raise SchemaError(f"cxmodel.dask.transitions(): by must be a column name; got {type(by)!r}")
    feature = "cxmodel.dask.transitions()"
    qs = tuple(quantiles)
    if by is None:
        state = map_reduce(
            data,
            _edge_state,
            _merge,
            (level, start_end, by_session, bool(qs)),
            mapping=mapping,
            timezone=timezone,
            fan_in=fan_in,
            feature=feature,
            progress=progress,
        )
        return _result(state if state is not None else EdgeState.empty(), start_end, qs)
    merged = map_reduce(
        data,
        _grouped_state,
        _merge_grouped,
        (level, start_end, by_session, bool(qs), by),
        mapping=mapping,
        timezone=timezone,
        fan_in=fan_in,
        feature=feature,
        progress=progress,
    )
    whole, groups = merged if merged is not None else (EdgeState.empty(), {})
    vocabulary = frozenset(key for key in whole.labels if key[0] != 2)  # without "(missing)"
    keys = sorted(groups)
    return attrs.evolve(
        _result(whole, start_end, qs),
        by_labels=np.array([label for _, label in keys], dtype=object),
        groups=tuple(
            _result(groups[k], start_end, qs, vocabulary | groups[k].labels) for k in keys
        ),
    )
