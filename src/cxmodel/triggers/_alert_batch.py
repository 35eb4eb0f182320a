"""Alerts in batch: the condition evaluated over a time-ordered view of everyone's
interactions, its episodes found with array operations.

The view presents the segment's interactions of the kinds an alert reads as the history of
one customer, in time order, so the batch evaluator's window kernels
(:class:`~cxmodel.triggers._context.LogContext`) compute each aggregate at every time the
condition can change: each time a counted interaction arrives (``t``) or leaves a window of
length ``D`` (``t + D + 1`` microsecond).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.triggers._alerts import (
    ALERT_CUSTOMER_ID,
    Alert,
    alert_reason,
    condition_windows,
    read_aggregates,
    shown_aggregates,
    watched_kinds,
)
from cxmodel.triggers._context import LogContext
from cxmodel.triggers._firings import FiringBlock

__all__ = ["alert_firings", "segment_rows"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Array = npt.NDArray[Any]


class _Everyone:
    """Rows ``order`` of a context's log (in time order) as the history of one customer:
    what :class:`~cxmodel.triggers._context.LogContext` reads of a log."""

    def __init__(self, ctx: LogContext, order: IntArray) -> None:
        self._ctx = ctx
        self._order = order
        self.timestamps = ctx.ts[order]
        self.customer_codes = np.zeros(len(order), dtype=np.int64)
        self.offsets = np.array([0, len(order)], dtype=np.int64)
        self.customers = np.array([ALERT_CUSTOMER_ID], dtype=object)
        self.schema = ctx.schema

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._ctx.log

    def categorical(self, name: str) -> tuple[Any, Any]:
        codes, vocabulary = self._ctx.log.categorical(name)
        return np.asarray(codes)[self._order], vocabulary

    def column(self, name: str) -> Array:
        return self._ctx.column(name)[self._order]


class _EveryoneContext(LogContext):
    """A context over :class:`_Everyone` whose ``customer_id`` column is each interaction's
    own customer (``distinct(purchase.customer_id within 1 days)`` counts customers)."""

    def __init__(self, view: _Everyone, ids: Array) -> None:
        super().__init__(view)
        self._ids = ids

    def column(self, name: str) -> Array:
        if name == "customer_id":
            return self._ids
        return super().column(name)


def segment_rows(ctx: LogContext, alert: Alert) -> BoolArray:
    """The rows of customers in the alert's segment (every row without one): the segment is
    tested once per customer on the traits ``ctx`` holds; a missing trait fails it."""
    if alert.segment is None:
        return np.ones(ctx.n, dtype=bool)
    sizes = np.diff(ctx.offsets)
    held = np.flatnonzero(sizes > 0)
    inside = _truth(ctx.evaluate(alert.segment, ctx.offsets[held]))
    member = np.zeros(len(sizes), dtype=bool)
    member[held] = inside
    return np.repeat(member, sizes)


def _truth(values: Any) -> BoolArray:
    """A condition's values as booleans: missing (``None``, NaN) is false."""
    array = np.asarray(values)
    if array.dtype == bool:
        return array
    return np.array([v is not None and v == v and bool(v) for v in array.tolist()], dtype=bool)


def _kinds_mask(ctx: LogContext, kinds: frozenset[str] | set[str]) -> BoolArray:
    mask = np.zeros(ctx.n, dtype=bool)
    for kind in kinds:
        mask |= ctx.kind_mask(kind)
    return mask


def alert_firings(ctx: LogContext, alert: Alert, cutoff: int) -> tuple[FiringBlock, FiringBlock]:
    """The alert's firings (emitted, suppressed) over ``ctx``'s log up to ``cutoff``.

    The condition is evaluated at each time an interaction of a kind it counts (of a
    customer in the segment) arrives, and at that time plus each window length plus one
    microsecond (when it may leave a window), up to ``cutoff``; every change of the
    condition falls on one of them. An episode starts at a time it is true where the
    previous time was false (or at the first time); its firing is at that time, with the
    condition's aggregates in ``because`` and the payload read then, and ``once`` /
    ``cooldown`` decide in time order.
    """
    members = segment_rows(ctx, alert)
    watched = np.flatnonzero(members & _kinds_mask(ctx, watched_kinds(alert)))
    if not len(watched):
        return _block(alert, np.zeros(0, dtype=np.int64), {}, {}, None), _block(
            alert, np.zeros(0, dtype=np.int64), {}, {}, None
        )
    arrivals = ctx.ts[watched]
    times = [arrivals, *(arrivals + length + 1 for length in condition_windows(alert))]
    points = np.unique(np.concatenate(times))
    points = points[points <= cutoff]
    read = members & _kinds_mask(ctx, {node.kind for node in read_aggregates(alert)})
    rows = np.flatnonzero(read)
    order = rows[np.argsort(ctx.ts[rows], kind="stable")]
    view = _Everyone(ctx, order)
    everyone = _EveryoneContext(view, ctx.column("customer_id")[order])
    end = np.searchsorted(view.timestamps, points, side="right").astype(np.int64) - 1
    truth = _truth(everyone.evaluate(alert.when, end, end=end, now=points))
    rises = truth & ~np.concatenate([[False], truth[:-1]])
    starts, at = points[rises], end[rises]
    shown = {
        str(node): everyone.evaluate(node, at, end=at, now=starts)
        for node in shown_aggregates(alert)
    }
    payload = {
        key: everyone.evaluate(expr, at, end=at, now=starts) for key, expr in alert.emit.payload
    }
    reasons = np.full(len(starts), None, dtype=object)
    last: int | None = None
    for j, start in enumerate(starts.tolist()):  # one step per episode, in time order
        reason = alert_reason(alert, last, start)
        if reason is None:
            last = start
        reasons[j] = reason
    kept = np.asarray(reasons == None, dtype=bool)  # noqa: E711 (elementwise)
    emitted = _block(alert, starts[kept], _at(shown, kept), _at(payload, kept), None)
    suppressed = _block(
        alert, starts[~kept], _at(shown, ~kept), _at(payload, ~kept), reasons[~kept]
    )
    return emitted, suppressed


def _at(columns: dict[str, Array], rows: BoolArray) -> dict[str, Array]:
    return {key: np.asarray(values)[rows] for key, values in columns.items()}


def _block(
    alert: Alert,
    starts: IntArray,
    shown: dict[str, Array],
    payload: dict[str, Array],
    reasons: Array | None,
) -> FiringBlock:
    """Episode firings as a block: the alert's marker customer (ranked before every
    customer), keyed by the episode's start (``firing_id`` from alert and start)."""
    n = len(starts)
    return FiringBlock(
        trigger=alert.name,
        action=alert.emit.action,
        customer=np.full(n, ALERT_CUSTOMER_ID, dtype=object),
        rank=np.full(n, -1, dtype=np.int64),
        time=np.asarray(starts, dtype=np.int64),
        when_kind=np.full(n, None, dtype=object),
        when_time=np.asarray(starts, dtype=np.int64),
        when_id=None,
        anchor_rank=np.zeros(n, dtype=np.int64),
        restart=True,
        payload=payload,
        reason=reasons,
        tested={"when": shown} if shown else {},
    )
