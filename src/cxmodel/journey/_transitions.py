"""Transition matrices between consecutive events of a customer or session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag, interaction_log
from cxmodel._result import Result
from cxmodel.errors import DataError, SchemaError
from cxmodel.journey._common import (
    level_codes,
    quantile_levels,
    row_mask,
    session_codes,
    sorted_quantiles,
)
from cxmodel.journey._groups import By, Grouped, by_codes, unit_groups

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = [
    "END",
    "MAX_TRANSITION_LABELS",
    "START",
    "Transitions",
    "check_labels",
    "transition_edges",
    "transitions",
    "transitions_from_counts",
    "unique_customers",
]

START = "START"
END = "END"
MAX_TRANSITION_LABELS = 4_096
"""The most labels (``START`` and ``END`` included) a :class:`Transitions` holds: its
matrices are K x K (16.7 million cells, about 1 GiB of counts, shares and four time
quantiles, at the limit). More distinct values of ``level`` are refused, naming how many."""

Matrix = npt.NDArray[np.float64]


@attrs.frozen(eq=False, repr=False)
class Transitions(Grouped["Transitions"], Result):
    """Directly-follows counts between labels.

    Attributes
    ----------
    labels : ndarray of str
        Row and column labels; with ``start_end`` the first is ``"START"`` and the last ``"END"``.
    counts : ndarray of int64, shape (K, K)
        ``counts[i, j]`` = number of times an event labelled ``j`` directly follows one
        labelled ``i`` within a unit (customer, or session with ``by_session``).
    customers : ndarray of int64, shape (K, K)
        Number of distinct customers with at least one ``i -> j`` transition.
    p_next : ndarray of float64, shape (K, K)
        ``P(next = j | current = i)`` = ``counts[i, j] / counts[i, :].sum()`` (0 for empty rows).
    p_previous : ndarray of float64, shape (K, K)
        ``P(previous = j | current = i)`` = ``counts[j, i] / counts[:, i].sum()`` (0 when empty).
    quantiles : tuple of float
        Quantile levels of ``time_quantiles``.
    time_quantiles : ndarray of float64, shape (Q, K, K)
        Per-edge quantiles of the time between the two events, in seconds (NaN for edges
        without events and for START/END edges).
    by_labels : ndarray or None
        Group labels with ``by=``.
    groups : tuple of Transitions or None
        One result per group (same labels), with ``by=``.
    """

    labels: npt.NDArray[np.object_]
    counts: npt.NDArray[np.int64]
    customers: npt.NDArray[np.int64]
    p_next: Matrix
    p_previous: Matrix
    quantiles: tuple[float, ...]
    time_quantiles: Matrix

    @property
    def median_seconds(self) -> Matrix:
        """Per-edge median time in seconds (NaN where undefined)."""
        if 0.5 in self.quantiles:
            out: Matrix = self.time_quantiles[self.quantiles.index(0.5)]
            return out
        raise SchemaError("median_seconds needs 0.5 among the quantiles")

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """The edge table: one row per non-zero edge."""
        return self.edges()

    def edges(self) -> dict[str, Any]:
        """Non-zero edges as columns: source, target, count, customers, p_next, time quantiles."""
        i, j = np.nonzero(self.counts)
        out: dict[str, Any] = {
            "source": self.labels[i],
            "target": self.labels[j],
            "count": self.counts[i, j],
            "customers": self.customers[i, j],
            "p_next": self.p_next[i, j],
            "p_previous": self.p_previous[j, i],
        }
        for q, m in zip(self.quantiles, self.time_quantiles, strict=True):
            out[f"seconds_q{q:g}"] = m[i, j]
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a heatmap of the share of each next interaction (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_transitions`.
        """
        from cxmodel.plot import plot_transitions

        return plot_transitions(self, ax, **kwargs)


def check_labels(k: int, level: str, where: str) -> None:
    """Refuse ``k`` labels (``START`` and ``END`` included) of ``level`` past
    :data:`MAX_TRANSITION_LABELS`: the K x K matrices would not fit in memory.

    Examples
    --------
    >>> check_labels(10_002, "product", "transitions()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: transitions(): level='product' has 10,002 labels (with START and END), and transition matrices hold at most 4,096 (10,002 x 10,002 cells, about 5.96 GiB); count a coarser column as the level, or keep fewer rows with segment=
    """
    if k > MAX_TRANSITION_LABELS:
        gib = k * k * 64 / 2**30  # counts, customers, two shares, four quantiles: 8 bytes each
        raise DataError(
            f"{where}: level={level!r} has {k:,} labels (with START and END), and transition "
            f"matrices hold at most {MAX_TRANSITION_LABELS:,} ({k:,} x {k:,} cells, about "
            f"{gib:.2f} GiB); count a coarser column as the level, or keep fewer rows with "
            "segment="
        )


def transition_edges(
    codes: npt.NDArray[np.int64],
    unit: npt.NDArray[Any],
    cust: npt.NDArray[np.int64],
    t: npt.NDArray[np.int64],
    k: int,
    start_end: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each consecutive step of a unit (customer or session) as an edge ``src * k + dst``,
    with its customer and, for the steps between two events, the gap in microseconds
    (``edge[:len(gaps)]`` are those steps); with ``start_end`` each unit also gets an edge from
    START (code 0) to its first event and from its last event to END (code ``k - 1``).
    Rows are in log order; ``codes`` already count START when ``start_end``."""
    same = unit[1:] == unit[:-1]
    edge = (codes[:-1] * k + codes[1:])[same]
    who = cust[:-1][same]
    gaps = np.diff(t)[same]
    if start_end and len(codes):
        first = np.flatnonzero(np.concatenate(([True], ~same)))  # START (code 0) -> first
        last = np.flatnonzero(np.concatenate((~same, [True])))  # last -> END (code k - 1)
        edge = np.concatenate([edge, codes[first], codes[last] * k + (k - 1)])
        who = np.concatenate([who, cust[first], cust[last]])
    return edge, who, gaps


def transitions(
    log: InteractionLog,
    *,
    level: str = "kind",
    start_end: bool = True,
    by_session: bool = False,
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
    quantiles: tuple[float, ...] = (0.25, 0.5, 0.75, 0.9),
) -> Transitions:
    """Count transitions between consecutive events.

    Consecutive means adjacent in log order (customer, time, input order) within one
    customer, or one session with ``by_session=True`` (needs :func:`sessions` first).
    With ``start_end`` every unit contributes one ``START -> first`` and one
    ``last -> END`` transition. Missing values of ``level`` get the label ``"(missing)"``.

    With ``by`` each unit (customer or session) belongs to the group of its first event
    and the whole unit is counted in that group; every group's result has the same labels.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    level : str, default "kind"
        String column whose values are the states, e.g. ``"kind"``, ``"touchpoint"``.
    start_end : bool, default True
        Add START and END markers.
    by_session : bool, default False
        Units are sessions instead of customers.
    by : str or array, optional
        Breakdown: a column name, one value per row (log order) or per customer
        (``log.customers`` order); results in ``groups``.
    segment : bool array, optional
        Keep only these rows before counting.
    quantiles : tuple of float
        Levels of the per-edge time quantiles.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"],
    ...     timestamp=[0, 60, 0], kind=["view", "purchase", "view"])
    >>> t = transitions(log)
    >>> t.labels.tolist()
    ['START', 'purchase', 'view', 'END']
    >>> t.counts.tolist()
    [[0, 0, 2, 0], [0, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 0]]
    >>> t = transitions(log, by=["new", "returning"])  # one value per customer
    >>> t.by_labels.tolist(), t.group("returning").counts.tolist()
    (['new', 'returning'], [[0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])
    """
    log = interaction_log(log, "transitions()")
    start_end = flag(start_end, "transitions()", "start_end")
    by_session = flag(by_session, "transitions()", "by_session")
    quantiles = quantile_levels(quantiles, "transitions()", "quantiles")
    mask = row_mask(log, segment)
    row_groups = by_codes(log, by) if by is not None else None
    if mask is not None:
        log = log.filter(mask)
    result = _transitions(log, level, start_end, by_session, quantiles)
    if row_groups is None:
        return result
    present, masks = unit_groups(log, row_groups, mask, by_session)
    groups = tuple(
        _transitions(log.filter(m), level, start_end, by_session, quantiles) for m in masks
    )
    return attrs.evolve(result, by_labels=present, groups=groups)


def _transitions(
    log: InteractionLog,
    level: str,
    start_end: bool,
    by_session: bool,
    quantiles: tuple[float, ...],
) -> Transitions:
    """The transition counts of one log (no segment, no breakdown)."""
    codes, cats = level_codes(log, level)
    cust = log.customer_codes.astype(np.int64)
    unit = session_codes(log) if by_session else cust
    t = log.timestamps
    if start_end:
        labels = np.concatenate(
            [np.array([START], dtype=object), cats, np.array([END], dtype=object)]
        )
        codes = codes + 1
    else:
        labels = cats
    k = len(labels)
    check_labels(k, level, "transitions()")
    edge, who, dt_us = transition_edges(codes, unit, cust, t, k, start_end)
    counts = np.bincount(edge, minlength=k * k).reshape(k, k).astype(np.int64)
    customers = unique_customers(who, edge, log.n_customers, k)
    tq = _edge_quantiles(dt_us, edge[: len(dt_us)], k * k, quantiles).reshape(len(quantiles), k, k)
    return transitions_from_counts(labels, counts, customers, quantiles, tq)


def transitions_from_counts(
    labels: npt.NDArray[np.object_],
    counts: npt.NDArray[np.int64],
    customers: npt.NDArray[np.int64],
    quantiles: tuple[float, ...],
    time_quantiles: Matrix,
) -> Transitions:
    """The :class:`Transitions` of edge counts: ``p_next`` and ``p_previous`` from ``counts``
    (0 for a label without outgoing or incoming transitions)."""
    k = len(labels)
    out_sum = counts.sum(axis=1, keepdims=True)
    in_sum = counts.sum(axis=0)
    p_next = np.divide(counts, out_sum, out=np.zeros((k, k)), where=out_sum > 0)
    p_previous = np.divide(
        counts.T, in_sum[:, None], out=np.zeros((k, k)), where=in_sum[:, None] > 0
    )
    return Transitions(
        labels=labels,
        counts=counts,
        customers=customers,
        p_next=p_next,
        p_previous=p_previous,
        quantiles=tuple(float(q) for q in quantiles),
        time_quantiles=time_quantiles,
    )


def unique_customers(
    who: npt.NDArray[np.int64], edge: npt.NDArray[np.int64], n_cust: int, k: int
) -> npt.NDArray[np.int64]:
    """Distinct customers per edge: a dense seen-table when small, else a sort."""
    kk = k * k
    if n_cust * kk <= 64_000_000:
        seen = np.zeros(n_cust * kk, dtype=bool)
        seen[who * kk + edge] = True
        out: npt.NDArray[np.int64] = (
            seen.reshape(n_cust, kk).sum(axis=0).reshape(k, k).astype(np.int64)
        )
        return out
    keys = np.sort(who * kk + edge)
    distinct = np.ones(len(keys), dtype=bool)
    distinct[1:] = keys[1:] != keys[:-1]
    return np.bincount(keys[distinct] % kk, minlength=kk).reshape(k, k).astype(np.int64)


def _edge_quantiles(
    dt_us: npt.NDArray[np.int64], edge: npt.NDArray[np.int64], n_edges: int, qs: tuple[float, ...]
) -> Matrix:
    """Per-edge quantiles in seconds; sorts one combined integer key when it fits in int64."""
    if not qs:
        return np.zeros((0, n_edges))
    span = int(dt_us.max()) + 1 if len(dt_us) else 1
    if n_edges * span < 2**62:
        keys = np.sort(edge * span + dt_us)
        values = (keys % span).astype(np.float64) / 1e6
        groups = keys // span
        return sorted_quantiles(values, groups, n_edges, qs, presorted=True)
    return sorted_quantiles(dt_us.astype(np.float64) / 1e6, edge, n_edges, qs)
