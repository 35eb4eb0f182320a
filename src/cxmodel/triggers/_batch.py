"""The batch evaluator: every rule over a whole :class:`~cxmodel.log.InteractionLog`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._time import TimeLike, to_us
from cxmodel.errors import SchemaError
from cxmodel.expr import Duration, Expr
from cxmodel.triggers._api import refuse_unchecked
from cxmodel.triggers._calendar import Zones, local_to_utc, utc_offsets
from cxmodel.triggers._context import (
    LogContext,
    add,
    aggregates_in,
    check_pairs,
    names_in,
    pair_budget,
)
from cxmodel.triggers._evidence import evidence
from cxmodel.triggers._firings import FiringBlock, Firings
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = [
    "NEVER_EMITTED",
    "Candidates",
    "apply_policies",
    "consent_at",
    "evaluate",
    "evaluate_us",
    "horizon",
    "reads",
    "rule_candidates",
]

IntArray = npt.NDArray[np.int64]
_NONE = np.zeros(0, dtype=np.int64)
_DAY = 86_400_000_000
#: Slack on a month look-back in customer time: local and UTC differ by at most 26 hours
#: (UTC-12 to UTC+14), so two days keep the streaming engine's windows supersets.
_LOCAL_SLACK = 2 * _DAY


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


def _upper(ctx: LogContext, cust: IntArray, times: IntArray) -> IntArray:
    """Index one past the customer's last row with time <= ``times``."""
    return ctx.lower_bound(cust, times, strict=True)


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
    stop = ctx.offsets[cust + 1] if limit is None else _upper(ctx, cust, limit)
    kind_mask = ctx.kind_mask(kind)
    uses_alias = any(n.qualifier is not None for n in names_in(where))
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


def horizon(rule: Rule) -> int | None:
    """The longest time (microseconds) between a candidate's anchor and its firing, quiet
    hours included; ``None`` when unbounded (``then B`` without ``within``)."""
    day = _DAY
    quiet = 2 * day if rule.quiet is not None else 0
    if rule.when.mode in ("inactive", "absent"):
        delay = rule.when.duration
    elif rule.then is None:
        return quiet
    else:
        delay = rule.then.duration
    if delay is None:
        return None
    if delay.unit == "months":
        slack = _LOCAL_SLACK if rule.in_customer_time else 0
        return int(delay.amount) * 31 * day + slack + quiet
    return int(delay.to_us()) + quiet


def reads(rule: Rule) -> list[tuple[str | None, int | None]]:
    """What history ``rule`` reads around its candidates: (kind, lookback) pairs.

    A kind of ``None`` means every kind; the lookback (microseconds before the earliest
    anchor) is ``None`` when unbounded. Rows matching no pair cannot change the rule's
    firings, so the streaming engine leaves them out of its re-evaluation.
    """
    day = _DAY
    slack = _LOCAL_SLACK if rule.in_customer_time else 0
    when, then = rule.when, rule.then
    out: list[tuple[str | None, int | None]] = []
    if when.mode == "inactive":
        out.append((None, 0))
    elif when.mode == "absent":  # restarts at each customer's first interaction
        out.append((None, None))
    else:
        out.append((when.kind, 0))
    if then is not None and then.kind is not None:
        out.append((then.kind, 0))
    if rule.unless is not None:
        out.append((rule.unless.kind, 0))
    for expr in (
        when.where,
        None if then is None else then.where,
        None if rule.unless is None else rule.unless.where,
        rule.condition,
        *(e for _, e in rule.emit.payload),
    ):
        for node in aggregates_in(expr):
            within = node.within
            if within is None:
                out.append((node.kind, None))
            elif within.unit == "months":
                out.append((node.kind, int(within.amount) * 31 * day + slack))
            else:
                out.append((node.kind, int(within.to_us())))
    if rule.consent is not None:
        out.extend([("consent_granted", None), ("consent_revoked", None)])
    return out


def rule_candidates(
    ctx: LogContext, rule: Rule, as_of: int, *, anchor_from: int | None = None
) -> Candidates:
    """The firings of ``rule`` before ``if`` and policies, for every customer.

    ``anchor_from`` keeps only candidates anchored at or after that time (the streaming
    engine's re-evaluation of what is not yet decided). Month durations are in customer time
    when the rule is (:attr:`~cxmodel.triggers.Rule.in_customer_time`).
    """
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    return _candidates(ctx, rule, as_of, anchor_from)


def _candidates(ctx: LogContext, rule: Rule, as_of: int, anchor_from: int | None) -> Candidates:
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
        if anchor_from is not None:
            keep &= ctx.ts >= anchor_from
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
        if anchor_from is not None:
            restarts = restarts[ctx.ts[restarts] >= anchor_from]
        cust = ctx.codes[restarts]
        fire = _after(ctx, cust, ctx.ts[restarts], when.duration)
        # next matching row strictly after the restart time
        pos = np.searchsorted(matches, ctx.tie_end()[restarts])
        has = pos < len(matches)
        nxt = matches[np.minimum(pos, max(len(matches) - 1, 0))] if len(matches) else pos
        blocked = has & (ctx.codes[nxt] == cust) & (ctx.ts[nxt] <= fire) if len(matches) else has
        keep = ~blocked & (fire <= as_of)
        restarts, cust, fire = restarts[keep], cust[keep], fire[keep]
        end = _upper(ctx, cust, fire) - 1
        return Candidates(cust, fire, restarts, end, np.full(len(restarts), -1), restart=True)
    assert when.kind is not None
    anchors = np.flatnonzero(ctx.kind_mask(when.kind)).astype(np.int64)
    if anchor_from is not None:
        anchors = anchors[ctx.ts[anchors] >= anchor_from]
    if when.where is not None and len(anchors):
        ok = ctx.evaluate(when.where, anchors, alias=rule.alias, alias_rows=anchors)
        anchors = anchors[ok.astype(bool)]
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
    assert then.duration is not None
    fire = _after(ctx, cust, ctx.ts[anchors], then.duration)
    due = fire <= as_of
    anchors, fire, cust = anchors[due], fire[due], cust[due]
    if then.mode == "absent":
        assert then.kind is not None
        blocker = _first_after(ctx, rule, anchors, then.kind, then.where, fire)
    elif rule.unless is not None:
        blocker = _first_after(ctx, rule, anchors, rule.unless.kind, rule.unless.where, fire)
    else:
        blocker = np.full(len(anchors), -1, dtype=np.int64)
    keep = blocker < 0
    anchors, fire, cust = anchors[keep], fire[keep], cust[keep]
    end = _upper(ctx, cust, fire) - 1
    return Candidates(cust, fire, anchors, end, np.full(len(anchors), -1))


def _quiet(ctx: LogContext, rule: Rule, cust: IntArray, times: IntArray) -> IntArray:
    """Firing times after quiet hours: in UTC, or on the customer's wall clock when the rule
    is in customer time (the window's end is the local wall time, read with the offset in
    force then; a repeated wall time is its first occurrence unless that is not later than
    the firing, then its second)."""
    zones = None if rule.quiet is None else ctx.zones(cust)
    if zones is None:
        return _quiet_delay(times, rule)
    offsets = utc_offsets(times, zones)
    local = times + offsets
    target = _quiet_delay(local, rule)
    moved = np.flatnonzero(target != local)
    out: IntArray = times.copy()
    if len(moved):
        ends = local_to_utc(target[moved], Zones(zones.code[moved], zones.names))
        out[moved] = np.where(ends > times[moved], ends, target[moved] - offsets[moved])
    return out


def _quiet_delay(times: IntArray, rule: Rule) -> IntArray:
    if rule.quiet is None:
        return times
    day = _DAY
    minute = 60_000_000
    tod = times % day
    start, end = rule.quiet.start * minute, rule.quiet.end * minute
    if start <= end:
        inside = (tod >= start) & (tod < end)
        target = times - tod + end
    else:
        inside = (tod >= start) | (tod < end)
        target = np.where(tod >= start, times - tod + day + end, times - tod + end)
    return np.where(inside, target, times)


def consent_at(
    ctx: LogContext, purpose: str, cust: IntArray, last: IntArray, customers: Mapping[str, Any]
) -> npt.NDArray[np.bool_]:
    """Consent for ``purpose`` of each customer as of each row ``last`` of the log (the end of
    the history a firing sees): the latest ``consent_granted`` / ``consent_revoked`` for the
    purpose up to and including that row in log order, else ``Customer.consent``."""
    out = np.zeros(len(cust), dtype=bool)
    if len(cust) == 0:
        return out
    grant = ctx.kind_mask("consent_granted")
    events = np.flatnonzero(grant | ctx.kind_mask("consent_revoked"))
    if "purpose" in ctx.log:
        events = events[ctx.column_at("purpose", events) == purpose]
    else:
        events = events[:0]
    found = np.zeros(len(cust), dtype=bool)
    if len(events):
        pos = np.searchsorted(events, last, side="right") - 1
        row = events[np.maximum(pos, 0)]
        found = (pos >= 0) & (ctx.codes[row] == cust) & (last >= ctx.offsets[cust])
        out[found] = grant[row[found]]
    missing = np.flatnonzero(~found)
    if len(missing) and customers:  # no consent event: the customer's record decides
        codes, inverse = np.unique(cust[missing], return_inverse=True)
        allowed = np.zeros(len(codes), dtype=bool)
        for j, c in enumerate(codes.tolist()):
            consent = getattr(customers.get(str(ctx.customers[c])), "consent", None)
            allowed[j] = consent is not None and consent.allows(purpose)
        out[missing] = allowed[inverse]
    return out


def _minus(times: IntArray, duration: Duration, zones: Zones | None) -> IntArray:
    zones = zones if duration.unit == "months" else None
    return add(times, attrs.evolve(duration, amount=-duration.amount), zones)


NEVER_EMITTED = np.iinfo(np.int64).min


def _policies(
    rule: Rule,
    cust: IntArray,
    times: IntArray,
    consent: npt.NDArray[np.bool_],
    previous: IntArray,
    zones: Zones | None = None,
) -> npt.NDArray[Any]:
    """The policy verdict per candidate (in customer, time order): ``None`` to emit, else the
    reason. ``previous`` (per customer code, the last emitted time or ``NEVER_EMITTED``) is
    read and updated; ``zones`` (each candidate's zone) puts month look-backs in customer
    time. A customer's only candidate is decided with array operations; several candidates
    of one customer are decided in order, each seeing the ones before."""
    m = len(times)
    reasons = np.full(m, None, dtype=object)
    refused = f"no consent for {rule.consent}"
    if not rule.once and rule.cooldown is None:
        reasons[~consent] = refused
        return reasons
    once_limit = None if rule.once_every is None else _minus(times, rule.once_every, zones)
    cool_limit = None if rule.cooldown is None else _minus(times, rule.cooldown, zones)
    once_reason = (
        "once per customer"
        if rule.once_every is None
        else f"once per customer every {rule.once_every}"
    )
    cool_reason = f"cooldown {rule.cooldown}"
    alone = np.ones(m, dtype=bool)
    if m > 1:
        same = cust[1:] == cust[:-1]
        alone[1:] &= ~same
        alone[:-1] &= ~same
    # customers with one candidate: all at once
    prev = previous[cust]
    has = prev != NEVER_EMITTED
    nothing = np.zeros(m, dtype=bool)
    once_hit = nothing
    if rule.once:
        once_hit = has if once_limit is None else has & (prev > once_limit)
    cool_hit = nothing if cool_limit is None else ~once_hit & has & (prev > cool_limit)
    refused_hit = ~once_hit & ~cool_hit & ~consent
    reasons[alone & once_hit] = once_reason
    reasons[alone & cool_hit] = cool_reason
    reasons[alone & refused_hit] = refused
    emitted = alone & ~once_hit & ~cool_hit & ~refused_hit
    previous[cust[emitted]] = times[emitted]
    # customers with several candidates: in order
    rest = np.flatnonzero(~alone)
    if len(rest):
        c_list = cust[rest].tolist()
        t_list = times[rest].tolist()
        ok_list = consent[rest].tolist()
        once_list = None if once_limit is None else once_limit[rest].tolist()
        cool_list = None if cool_limit is None else cool_limit[rest].tolist()
        last: dict[int, int] = {}
        for i, j in enumerate(rest.tolist()):
            c = c_list[i]
            before = last.get(c, int(previous[c]))
            if before != NEVER_EMITTED:
                if rule.once and (once_list is None or before > once_list[i]):
                    reasons[j] = once_reason
                    continue
                if cool_list is not None and before > cool_list[i]:
                    reasons[j] = cool_reason
                    continue
            if not ok_list[i]:
                reasons[j] = refused
                continue
            last[c] = t_list[i]
        for c, t in last.items():
            previous[c] = t
    return reasons


def _block(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    idx: IntArray,
    times: IntArray,
    payloads: dict[str, Any],
    reason: npt.NDArray[Any] | None,
    ranked: bool = True,
    tested: dict[str, dict[str, npt.NDArray[Any]]] | None = None,
) -> FiringBlock:
    anchor = cand.anchor[idx]
    cust = cand.cust[idx]
    kinds = np.asarray(ctx._kind_names, dtype=object)
    has_ids = "interaction_id" in ctx.log
    matched = cand.matched[idx]
    then_kind = then_time = then_id = None
    if (matched >= 0).any():
        safe = np.maximum(matched, 0)
        then_kind = kinds[ctx._kind_codes[safe]]
        then_kind[matched < 0] = None
        then_time = ctx.ts[safe]
        then_id = ctx.column_at("interaction_id", safe) if has_ids else None
    return FiringBlock(
        trigger=rule.name,
        action=rule.emit.action,
        customer=np.asarray(ctx.customers, dtype=object)[cust],
        rank=cust,
        time=times,
        when_kind=kinds[ctx._kind_codes[anchor]],
        when_time=ctx.ts[anchor],
        when_id=ctx.column_at("interaction_id", anchor) if has_ids else None,
        anchor_rank=ctx.tie_rank_at(anchor),
        restart=cand.restart,
        then_kind=then_kind,
        then_time=then_time,
        then_id=then_id,
        delayed_from=cand.time[idx] if rule.quiet is not None else None,
        payload=payloads,
        reason=reason,
        anchor=anchor,
        ranked=ranked,
        tested=tested or {},
        absent=_absence(rule),
    )


def _absence(rule: Rule) -> dict[str, Any] | None:
    """What must not have happened for ``rule`` to fire: the kind (``None``: any interaction)
    and the condition's text, or ``None`` for rules that wait for nothing."""
    when, then = rule.when, rule.then
    if when.mode == "inactive":
        return {"kind": None}
    if when.mode == "absent":
        kind, where = when.kind, when.where
    elif then is not None and then.mode == "absent":
        kind, where = then.kind, then.where
    elif rule.unless is not None:
        kind, where = rule.unless.kind, rule.unless.where
    else:
        return None
    return {"kind": kind} if where is None else {"kind": kind, "where": str(where)}


def apply_policies(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    as_of: int,
    customers: Mapping[str, Any],
    *,
    previous: IntArray | None = None,
    undecided: npt.NDArray[np.bool_] | None = None,
    pending: list[tuple[IntArray, IntArray]] | None = None,
    ranked: bool = True,
) -> tuple[FiringBlock, FiringBlock]:
    """The ``if`` clause, quiet hours and policies over ``cand``: (emitted, suppressed).

    For the streaming engine: ``previous`` carries each customer's last emitted time of this
    rule in and out (per customer code of the log; ``NEVER_EMITTED`` for none); ``undecided`` drops candidates decided earlier; ``pending`` receives
    (customer, time) of the candidates due after ``as_of``; ``ranked=False`` says the log's
    customer codes do not follow id order. Month look-backs and quiet hours are in customer
    time when the rule is (:attr:`~cxmodel.triggers.Rule.in_customer_time`).
    """
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    return _apply_policies(ctx, rule, cand, as_of, customers, previous, undecided, pending, ranked)


def _apply_policies(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    as_of: int,
    customers: Mapping[str, Any],
    previous: IntArray | None,
    undecided: npt.NDArray[np.bool_] | None,
    pending: list[tuple[IntArray, IntArray]] | None,
    ranked: bool,
) -> tuple[FiringBlock, FiringBlock]:
    idx = np.arange(len(cand.cust)) if undecided is None else np.flatnonzero(undecided)
    times = _quiet(ctx, rule, cand.cust[idx], cand.time[idx])
    due = times <= as_of
    if pending is not None and not due.all():
        # 'if' is judged when a firing falls due, over the history up to then
        pending.append((cand.cust[idx[~due]], times[~due]))
    idx, times = idx[due], times[due]
    if rule.condition is not None and len(idx):
        holds = ctx.evaluate(
            rule.condition,
            cand.anchor[idx],
            alias=rule.alias,
            alias_rows=cand.anchor[idx],
            end=cand.end[idx],
            now=cand.time[idx],
        ).astype(bool)
        idx, times = idx[holds], times[holds]
    order = np.lexsort((cand.anchor[idx], times, cand.cust[idx]))
    idx, times = idx[order], times[order]
    if rule.consent is not None:
        # as of the history the firing sees: up to its anchoring row in log order when it
        # fires at that row's time, else every row at or before the (delayed) firing time
        delayed = times != cand.time[idx]
        last = np.where(delayed, _upper(ctx, cand.cust[idx], times) - 1, cand.end[idx])
        consent = consent_at(ctx, rule.consent, cand.cust[idx], last, customers)
    else:
        consent = np.ones(len(idx), dtype=bool)
    if previous is None:
        previous = np.full(len(ctx.offsets) - 1, NEVER_EMITTED, dtype=np.int64)
    months = any(d is not None and d.unit == "months" for d in (rule.cooldown, rule.once_every))
    zones = ctx.zones(cand.cust[idx]) if months else None
    reasons = _policies(rule, cand.cust[idx], times, consent, previous, zones)
    emitted = np.array([r is None for r in reasons.tolist()], dtype=bool)
    tested = evidence(ctx, rule, cand.anchor[idx], cand.matched[idx], cand.end[idx], cand.time[idx])
    payloads: dict[str, Any] = {}
    for key, expr in rule.emit.payload:
        payloads[key] = ctx.evaluate(
            expr,
            cand.anchor[idx],
            alias=rule.alias,
            alias_rows=cand.anchor[idx],
            end=cand.end[idx],
            now=cand.time[idx],
        )
    out = []
    for part, reason in ((emitted, None), (~emitted, reasons)):
        out.append(
            _block(
                ctx,
                rule,
                cand,
                idx[part],
                times[part],
                {k: v[part] for k, v in payloads.items()},
                None if reason is None else reason[part],
                ranked,
                {c: {k: v[part] for k, v in values.items()} for c, values in tested.items()},
            )
        )
    return out[0], out[1]


def evaluate(
    rules: RuleSet | Rule,
    log: Any,
    *,
    as_of: TimeLike,
    customers: Mapping[str, Any] | None = None,
) -> Firings:
    """Evaluate ``rules`` over ``log`` as of event time ``as_of``.

    Only interactions at or before ``as_of`` (an aware time: a datetime with a time zone or
    an ISO-8601 string with an offset such as ``Z``) are seen; timers fire when due at or
    before ``as_of``. ``customers`` (id -> :class:`~cxmodel.domain.Customer`) supplies traits
    for ``customer.x`` and consent when the log has no consent events for a purpose.

    Raises
    ------
    TriggerTypeError
        If :func:`~cxmodel.triggers.check` refuses the rules against ``log`` (an unknown kind
        or property, a type mismatch); the diagnostics name each rule.
    EvaluationLimitError
        If one aggregate or condition would compare more than
        :data:`~cxmodel.triggers._context.MAX_PAIRS` (query, row) pairs, or the whole call more
        than :data:`~cxmodel.triggers._context.MAX_TOTAL_PAIRS`.
    SchemaError
        If ``as_of`` is not an aware time.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 50.0},
    ...     {"customer_id": "a", "timestamp": "2024-02-01T00:00:00Z", "kind": "purchase", "value": 500.0},
    ... ])
    >>> rules = parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks(v = p.value)")
    >>> [(f.customer_id, f.payload) for f in evaluate(rules, log, as_of="2024-12-31T00:00:00Z")]
    [('a', {'v': 500.0})]
    """
    cutoff = as_of_us(as_of)
    if isinstance(rules, Rule):
        rules = RuleSet((rules,))
    refuse_unchecked(rules, log)
    return evaluate_us(rules, log, cutoff, customers=customers)


def as_of_us(as_of: TimeLike) -> int:
    """``as_of`` in microseconds since the epoch; a naive time is refused with a hint that
    fits ``evaluate`` and ``explain`` (which take no time zone argument).

    Examples
    --------
    >>> as_of_us("1970-01-02T00:00:00Z")
    86400000000
    >>> as_of_us("2024-12-31T00:00:00")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: as_of '2024-12-31T00:00:00' has no time zone; give an aware time, e.g. as_of='2024-12-31T00:00:00Z' (UTC) or a datetime with tzinfo
    """
    naive = False
    if isinstance(as_of, datetime):
        naive = as_of.utcoffset() is None
    elif isinstance(as_of, str) and not as_of.strip().endswith(("Z", "z")):
        try:
            naive = datetime.fromisoformat(as_of.strip()).utcoffset() is None
        except ValueError:
            naive = False  # to_us names the problem
    if naive:
        text = as_of.isoformat() if isinstance(as_of, datetime) else str(as_of).strip()
        raise SchemaError(
            f"as_of {text!r} has no time zone; give an aware time, e.g. "
            f"as_of='{text}Z' (UTC) or a datetime with tzinfo"
        )
    return to_us(as_of, what="as_of")


def evaluate_us(
    rules: RuleSet | Rule,
    log: Any,
    cutoff: int,
    *,
    customers: Mapping[str, Any] | None = None,
) -> Firings:
    """:func:`evaluate` with ``as_of`` in microseconds since the epoch (UTC)."""
    if isinstance(rules, Rule):
        rules = RuleSet((rules,))
    visible = np.asarray(log.timestamps) <= cutoff
    if not visible.all():
        log = log.filter(visible)
    traits = {k: dict(getattr(v, "traits", {})) for k, v in (customers or {}).items()}
    ctx = LogContext(log, traits)
    emitted: list[FiringBlock] = []
    suppressed: list[FiringBlock] = []
    if ctx.n:
        with pair_budget():  # one bound on the pairs compared over the whole call
            for rule in rules:
                cand = rule_candidates(ctx, rule, cutoff)
                e, s = apply_policies(ctx, rule, cand, cutoff, customers or {})
                emitted.append(e)
                suppressed.append(s)
    return Firings.from_blocks(emitted, suppressed)
