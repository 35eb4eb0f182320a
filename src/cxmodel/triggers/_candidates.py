"""Finding a rule's firings in a whole log, before its ``if`` and policies (batch evaluation):
anchors, ``then`` completions, absences and timers, as parallel arrays of candidates."""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.expr import Duration, Expr
from cxmodel.triggers._context import LogContext, add, aggregates_in, check_pairs, names_in
from cxmodel.triggers._rules import Rule

__all__ = [
    "Candidates",
    "anchors_of",
    "cancellations",
    "firing_order",
    "rule_candidates",
    "tie_rank_of",
    "upper_bound",
    "waited",
]

IntArray = npt.NDArray[np.int64]


@attrs.frozen
class Candidates:
    """Firings of one rule before policies: parallel arrays, one entry per candidate."""

    cust: IntArray
    time: IntArray
    anchor: IntArray  # row bound by 'as' (or the restart row for timers)
    end: IntArray  # last row of the history the 'if' clause sees
    matched: IntArray  # row matched by 'then B' (-1 if none)
    restart: bool = False  # anchored on restart times ('when no ...'), not on interactions


def _after(ctx: LogContext, cust: IntArray, times: IntArray, duration: Duration) -> IntArray:
    """``times + duration`` for customers ``cust``: months in customer time when the rule being
    evaluated is (see :meth:`LogContext.in_customer_time`)."""
    zones = ctx.zones(cust) if duration.unit == "months" else None
    return add(times, duration, zones)


def upper_bound(ctx: LogContext, cust: IntArray, times: IntArray) -> IntArray:
    """Index one past the customer's last row with time <= ``times``."""
    return ctx.lower_bound(cust, times, strict=True)


def tie_rank_of(ctx: LogContext, rows: IntArray) -> IntArray:
    """``ctx.tie_rank_at(rows)`` (each row's position among its customer's rows at the same
    time) without ranking the whole log: a row is 0 unless the row before it has the same
    customer and time, and only such rows are looked up.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a", "a", "b"], [1, 1, 2, 1], ["view"] * 4)
    >>> tie_rank_of(LogContext(log), np.arange(4)).tolist()
    [0, 1, 0, 0]
    """
    rows = np.asarray(rows, dtype=np.int64)
    before = np.maximum(rows - 1, 0)
    tied = (rows > 0) & (ctx.codes[before] == ctx.codes[rows]) & (ctx.ts[before] == ctx.ts[rows])
    rank = np.zeros(len(rows), dtype=np.int64)
    if tied.any():
        at = rows[tied]
        rank[tied] = at - ctx.lower_bound(ctx.codes[at], ctx.ts[at])
    return rank


def firing_order(cust: IntArray, times: IntArray, anchor: IntArray) -> npt.NDArray[np.intp]:
    """The order of candidates by (customer, time, anchoring row): ``np.lexsort`` unless they
    are in that order already (a rule firing at its anchors, in log order).

    Examples
    --------
    >>> firing_order(np.array([0, 0, 1]), np.array([5, 3, 1]), np.array([0, 1, 2])).tolist()
    [1, 0, 2]
    """
    if len(cust) > 1:
        dc, dt, da = np.diff(cust), np.diff(times), np.diff(anchor)
        ordered = (dc > 0) | ((dc == 0) & ((dt > 0) | ((dt == 0) & (da >= 0))))
        if not ordered.all():
            return np.lexsort((anchor, times, cust))
    return np.arange(len(cust))


def _matching(ctx: LogContext, kind: str, where: Expr | None) -> IntArray:
    mask = ctx.kind_mask(kind)
    rows = np.flatnonzero(mask).astype(np.int64)
    if where is not None and len(rows):
        rows = rows[ctx.evaluate(where, rows).astype(bool)]
    return rows


def _first_after(
    ctx: LogContext,
    rule: Rule,
    anchors: IntArray,
    kind: str,
    where: Expr | None,
    limit: IntArray | None,
) -> IntArray:
    """For each anchor x, the first row of ``kind`` satisfying ``where`` (x bound) with
    time in (x.time, limit]; -1 when none."""
    out = np.full(len(anchors), -1, dtype=np.int64)
    if len(anchors) == 0:
        return out
    cust = ctx.codes[anchors]
    start = ctx.tie_end()[anchors]
    stop = ctx.offsets[cust + 1] if limit is None else upper_bound(ctx, cust, limit)
    kind_mask = ctx.kind_mask(kind)
    # x.name, customer.name, or an aggregate `before x`: evaluated per (anchor, row) pair
    uses_alias = any(n.qualifier is not None for n in names_in(where)) or any(
        node.before is not None for node in aggregates_in(where)
    )
    if not uses_alias:
        rows = _matching(ctx, kind, where)
        pos = np.searchsorted(rows, start)
        ok = pos < len(rows)
        hit = np.where(ok, rows[np.minimum(pos, max(len(rows) - 1, 0))] if len(rows) else -1, -1)
        return np.where(ok & (hit < stop), hit, -1).astype(np.int64)
    assert where is not None
    rows = np.flatnonzero(kind_mask).astype(np.int64)
    first = np.searchsorted(rows, start)
    counts = np.maximum(np.searchsorted(rows, stop) - first, 0)
    check_pairs(
        int(counts.sum()),
        f"rule {rule.name!r}: its condition on {kind} interactions after each {rule.alias}",
        "bound the wait with 'within D' or narrow the rule",
    )
    # every (anchor, later row of kind) pair, in chunks that bound memory
    chunk = 1 << 21
    q = 0
    while q < len(anchors):
        stop_q = q + max(1, int(np.searchsorted(np.cumsum(counts[q:]), chunk, side="right")))
        part = np.arange(q, min(stop_q, len(anchors)))
        n_pairs = int(counts[part].sum())
        if n_pairs:
            owner = np.repeat(part, counts[part])
            starts = np.repeat(np.cumsum(counts[part]) - counts[part], counts[part])
            pair_rows = rows[np.repeat(first[part], counts[part]) + np.arange(n_pairs) - starts]
            keep = ctx.evaluate(
                where, pair_rows, alias=rule.alias, alias_rows=anchors[owner]
            ).astype(bool)
            hits = np.flatnonzero(keep)
            owners, first_hit = np.unique(owner[hits], return_index=True)
            out[owners] = pair_rows[hits[first_hit]]
        q = int(part[-1]) + 1
    return out


def rule_candidates(ctx: LogContext, rule: Rule, as_of: int) -> Candidates:
    """The firings of ``rule`` before ``if`` and policies, for every customer.

    Month durations are in customer time
    when the rule is (:attr:`~cxmodel.triggers.Rule.in_customer_time`).
    """
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    return _candidates(ctx, rule, as_of)


def _candidates(ctx: LogContext, rule: Rule, as_of: int) -> Candidates:
    when = rule.when
    none: IntArray
    if when.mode == "inactive":
        assert when.duration is not None
        rows = np.arange(ctx.n, dtype=np.int64)
        same_next = np.zeros(ctx.n, dtype=bool)
        same_next[:-1] = ctx.codes[1:] == ctx.codes[:-1]
        next_ts = np.full(ctx.n, np.iinfo(np.int64).max)
        next_ts[:-1] = np.where(same_next[:-1], ctx.ts[1:], next_ts[:-1])
        fire = _after(ctx, ctx.codes, ctx.ts, when.duration)
        keep = (next_ts > ctx.ts) & (next_ts > fire) & (fire <= as_of)
        rows = rows[keep]
        return Candidates(ctx.codes[rows], fire[keep], rows, rows, np.full(len(rows), -1))
    if when.mode == "absent":
        assert when.duration is not None and when.kind is not None
        matches = _matching(ctx, when.kind, when.where)
        firsts = ctx.offsets[:-1][np.diff(ctx.offsets) > 0]
        restarts = np.unique(np.concatenate([firsts, matches]))
        # one restart per (customer, time): keep the last row at that time
        if len(restarts):
            later = np.zeros(len(restarts), dtype=bool)
            later[:-1] = (ctx.codes[restarts[1:]] == ctx.codes[restarts[:-1]]) & (
                ctx.ts[restarts[1:]] == ctx.ts[restarts[:-1]]
            )
            restarts = restarts[~later]
        cust = ctx.codes[restarts]
        fire = _after(ctx, cust, ctx.ts[restarts], when.duration)
        # next matching row strictly after the restart time
        pos = np.searchsorted(matches, ctx.tie_end()[restarts])
        has = pos < len(matches)
        nxt = matches[np.minimum(pos, max(len(matches) - 1, 0))] if len(matches) else pos
        blocked = has & (ctx.codes[nxt] == cust) & (ctx.ts[nxt] <= fire) if len(matches) else has
        keep = ~blocked & (fire <= as_of)
        restarts, cust, fire = restarts[keep], cust[keep], fire[keep]
        end = upper_bound(ctx, cust, fire) - 1
        return Candidates(cust, fire, restarts, end, np.full(len(restarts), -1), restart=True)
    anchors = anchors_of(ctx, rule)
    cust = ctx.codes[anchors]
    then = rule.then
    none = np.full(len(anchors), -1, dtype=np.int64)
    if then is None:
        return Candidates(cust, ctx.ts[anchors], anchors, anchors, none)
    if then.mode == "event":
        assert then.kind is not None
        limit = None if then.duration is None else _after(ctx, cust, ctx.ts[anchors], then.duration)
        hit = _first_after(ctx, rule, anchors, then.kind, then.where, limit)
        keep = hit >= 0
        a, h = anchors[keep], hit[keep]
        return Candidates(ctx.codes[a], ctx.ts[h], a, h, h)
    anchors, fire, blocker = waited(ctx, rule, as_of, anchors)
    keep = blocker < 0
    anchors, fire = anchors[keep], fire[keep]
    cust = ctx.codes[anchors]
    end = upper_bound(ctx, cust, fire) - 1
    return Candidates(cust, fire, anchors, end, np.full(len(anchors), -1))


def anchors_of(ctx: LogContext, rule: Rule) -> IntArray:
    """Rows of the rule's ``when`` kind where its ``when ... where`` holds."""
    when = rule.when
    assert when.kind is not None
    anchors = np.flatnonzero(ctx.kind_mask(when.kind)).astype(np.int64)
    if when.where is not None and len(anchors):
        ok = ctx.evaluate(when.where, anchors, alias=rule.alias, alias_rows=anchors)
        anchors = anchors[ok.astype(bool)]
    return anchors


def waited(
    ctx: LogContext, rule: Rule, as_of: int, anchors: IntArray, *, due_only: bool = True
) -> tuple[IntArray, IntArray, IntArray]:
    """For ``then after D [unless U]`` and ``then no B for D``: the anchors due by ``as_of``
    (every anchor without ``due_only``), their due times, and the row that cancelled each
    (the first matching ``U`` or ``B`` in ``(anchor, min(due, as_of)]``; -1 for none)."""
    then = rule.then
    assert then is not None and then.duration is not None
    fire = _after(ctx, ctx.codes[anchors], ctx.ts[anchors], then.duration)
    if due_only:
        due = fire <= as_of
        anchors, fire = anchors[due], fire[due]
    seen = np.minimum(fire, as_of)
    if then.mode == "absent":
        assert then.kind is not None
        blocker = _first_after(ctx, rule, anchors, then.kind, then.where, seen)
    elif rule.unless is not None:
        blocker = _first_after(ctx, rule, anchors, rule.unless.kind, rule.unless.where, seen)
    else:
        blocker = np.full(len(anchors), -1, dtype=np.int64)
    return anchors, fire, blocker


def cancellations(ctx: LogContext, rule: Rule, as_of: int) -> list[tuple[int, int]]:
    """(anchoring row, cancelling row) of each firing of a ``then after D ... unless U`` or
    ``then no B for D`` rule that an interaction cancelled by ``as_of``, due by then or not
    (empty for other rules), for explanations."""
    then = rule.then
    if rule.when.mode != "event" or then is None or then.mode == "event":
        return []
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    anchors, _, blocker = waited(ctx, rule, as_of, anchors_of(ctx, rule), due_only=False)
    hit = blocker >= 0
    return list(zip(anchors[hit].tolist(), blocker[hit].tolist(), strict=True))
