"""The batch evaluator: every rule over a whole :class:`~cxmodel.log.InteractionLog`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._time import TimeLike, resolve_timezone, to_us, us_to_datetime
from cxmodel.expr import Expr
from cxmodel.triggers._context import LogContext, add, names_in
from cxmodel.triggers._firings import Firing, Firings, firing_id
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = ["Candidates", "evaluate", "evaluate_us", "rule_candidates"]

IntArray = npt.NDArray[np.int64]
_NONE = np.zeros(0, dtype=np.int64)


@attrs.frozen
class Candidates:
    """Firings of one rule before policies: parallel arrays, one entry per candidate."""

    cust: IntArray
    time: IntArray
    anchor: IntArray  # row bound by 'as' (or the restart row for timers)
    end: IntArray  # last row of the history the 'if' clause sees
    matched: IntArray  # row matched by 'then B' (-1 if none)
    key: list[str]  # anchor key for the firing id


def _upper(ctx: LogContext, cust: IntArray, times: IntArray) -> IntArray:
    """Index one past the customer's last row with time <= ``times``."""
    return ctx.lower_bound(cust, times, strict=True)


def _anchor_keys(ctx: LogContext, rows: IntArray, suffix: str = "") -> list[str]:
    if len(rows) == 0:
        return []
    first_at_time = ctx.lower_bound(ctx.codes[rows], ctx.ts[rows])
    rank = rows - first_at_time
    ids = ctx.column("interaction_id")[rows] if "interaction_id" in ctx.log else None
    out = []
    for j, row in enumerate(rows.tolist()):
        ident = None if ids is None else ids[j]
        base = f"id={ident}" if isinstance(ident, str) else f"t={ctx.ts[row]}#{rank[j]}"
        out.append(base + suffix)
    return out


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
    start = _upper(ctx, cust, ctx.ts[anchors])
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
    for q in range(len(anchors)):
        idx = np.arange(start[q], stop[q], dtype=np.int64)
        idx = idx[kind_mask[idx]]
        if len(idx) == 0:
            continue
        keep = ctx.evaluate(
            where, idx, alias=rule.alias, alias_rows=np.full(len(idx), anchors[q])
        ).astype(bool)
        found = np.flatnonzero(keep)
        if len(found):
            out[q] = idx[found[0]]
    return out


def rule_candidates(ctx: LogContext, rule: Rule, as_of: int) -> Candidates:
    """The firings of ``rule`` before ``if`` and policies, for every customer."""
    when = rule.when
    if when.mode == "inactive":
        assert when.duration is not None
        rows = np.arange(ctx.n, dtype=np.int64)
        same_next = np.zeros(ctx.n, dtype=bool)
        same_next[:-1] = ctx.codes[1:] == ctx.codes[:-1]
        next_ts = np.full(ctx.n, np.iinfo(np.int64).max)
        next_ts[:-1] = np.where(same_next[:-1], ctx.ts[1:], next_ts[:-1])
        fire = add(ctx.ts, when.duration)
        keep = (next_ts > ctx.ts) & (next_ts > fire) & (fire <= as_of)
        rows = rows[keep]
        return Candidates(
            ctx.codes[rows], fire[keep], rows, rows, np.full(len(rows), -1), _anchor_keys(ctx, rows)
        )
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
        fire = add(ctx.ts[restarts], when.duration)
        # next matching row strictly after the restart time
        pos = np.searchsorted(matches, _upper(ctx, cust, ctx.ts[restarts]))
        has = pos < len(matches)
        nxt = matches[np.minimum(pos, max(len(matches) - 1, 0))] if len(matches) else pos
        blocked = has & (ctx.codes[nxt] == cust) & (ctx.ts[nxt] <= fire) if len(matches) else has
        keep = ~blocked & (fire <= as_of)
        restarts, cust, fire = restarts[keep], cust[keep], fire[keep]
        end = _upper(ctx, cust, fire) - 1
        keys = [f"t={t}" for t in ctx.ts[restarts].tolist()]
        return Candidates(cust, fire, restarts, end, np.full(len(restarts), -1), keys)
    assert when.kind is not None
    anchors = np.flatnonzero(ctx.kind_mask(when.kind)).astype(np.int64)
    if when.where is not None and len(anchors):
        ok = ctx.evaluate(when.where, anchors, alias=rule.alias, alias_rows=anchors)
        anchors = anchors[ok.astype(bool)]
    cust = ctx.codes[anchors]
    then = rule.then
    none = np.full(len(anchors), -1, dtype=np.int64)
    if then is None:
        return Candidates(cust, ctx.ts[anchors], anchors, anchors, none, _anchor_keys(ctx, anchors))
    if then.mode == "event":
        assert then.kind is not None
        limit = None if then.duration is None else add(ctx.ts[anchors], then.duration)
        hit = _first_after(ctx, rule, anchors, then.kind, then.where, limit)
        keep = hit >= 0
        a, h = anchors[keep], hit[keep]
        return Candidates(ctx.codes[a], ctx.ts[h], a, h, h, _anchor_keys(ctx, a))
    assert then.duration is not None
    fire = add(ctx.ts[anchors], then.duration)
    due = fire <= as_of
    anchors, fire, cust = anchors[due], fire[due], cust[due]
    if then.mode == "absent":
        assert then.kind is not None
        blocker = _first_after(ctx, rule, anchors, then.kind, then.where, fire)
    elif rule.unless_kind is not None:
        blocker = _first_after(ctx, rule, anchors, rule.unless_kind, rule.unless_where, fire)
    else:
        blocker = np.full(len(anchors), -1, dtype=np.int64)
    keep = blocker < 0
    anchors, fire, cust = anchors[keep], fire[keep], cust[keep]
    end = _upper(ctx, cust, fire) - 1
    return Candidates(
        cust, fire, anchors, end, np.full(len(anchors), -1), _anchor_keys(ctx, anchors)
    )


def _ref(ctx: LogContext, row: int) -> dict[str, Any]:
    ref: dict[str, Any] = {
        "kind": ctx._kind_names[int(ctx._kind_codes[row])],
        "time": us_to_datetime(int(ctx.ts[row])).isoformat(),
    }
    if "interaction_id" in ctx.log:
        ident = ctx.column("interaction_id")[row]
        if ident is not None:
            ref["interaction_id"] = ident
    return ref


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _local_offsets(ctx: LogContext, cust: IntArray, times: IntArray) -> IntArray:
    """UTC offset (microseconds) of each customer's ``timezone`` trait at each time (0 if none)."""
    out = np.zeros(len(cust), dtype=np.int64)
    for j, (c, t) in enumerate(zip(cust.tolist(), times.tolist(), strict=True)):
        name = ctx.traits.get(str(ctx.customers[c]), {}).get("timezone")
        zone = resolve_timezone(name) if isinstance(name, str) else None
        if zone is not None:
            offset = us_to_datetime(t).astimezone(zone).utcoffset()
            out[j] = 0 if offset is None else int(offset.total_seconds()) * 1_000_000
    return out


def _quiet_delay(times: IntArray, rule: Rule) -> IntArray:
    if rule.quiet is None:
        return times
    day = 86_400_000_000
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


def _consent(
    ctx: LogContext, purpose: str, cust: int, time: int, customers: Mapping[str, Any]
) -> bool:
    lo, stop = int(ctx.offsets[cust]), int(ctx.offsets[cust + 1])
    hi = lo + int(np.searchsorted(ctx.ts[lo:stop], time, side="right"))
    grant = ctx.kind_mask("consent_granted")[lo:hi]
    revoke = ctx.kind_mask("consent_revoked")[lo:hi]
    about = (
        ctx.column("purpose")[lo:hi] == purpose if "purpose" in ctx.log else np.zeros(hi - lo, bool)
    )
    events = np.flatnonzero((grant | revoke) & about)
    if len(events):
        return bool(grant[events[-1]])
    customer = customers.get(str(ctx.customers[cust]))
    consent = getattr(customer, "consent", None)
    return bool(consent is not None and consent.allows(purpose))


def _apply(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    as_of: int,
    customers: Mapping[str, Any],
) -> tuple[list[Firing], list[Firing]]:
    m = len(cand.cust)
    keep = np.ones(m, dtype=bool)
    if rule.condition is not None and m:
        keep = ctx.evaluate(
            rule.condition,
            cand.anchor,
            alias=rule.alias,
            alias_rows=cand.anchor,
            end=cand.end,
            now=cand.time,
        ).astype(bool)
    idx = np.flatnonzero(keep)
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
    if rule.quiet is not None and rule.quiet.customer_timezone:
        offsets = _local_offsets(ctx, cand.cust[idx], cand.time[idx])
        times = _quiet_delay(cand.time[idx] + offsets, rule) - offsets
    else:
        times = _quiet_delay(cand.time[idx], rule)
    due = times <= as_of
    order = np.lexsort((cand.anchor[idx], times, cand.cust[idx]))
    emitted: list[Firing] = []
    suppressed: list[Firing] = []
    last: dict[int, int] = {}
    for j in order.tolist():
        if not due[j]:
            continue
        i = int(idx[j])
        c = int(cand.cust[i])
        t = int(times[j])
        customer_id = str(ctx.customers[c])
        because: dict[str, Any] = {"when": _ref(ctx, int(cand.anchor[i]))}
        if cand.matched[i] >= 0:
            because["then"] = _ref(ctx, int(cand.matched[i]))
        if t != int(cand.time[i]):
            because["quiet_hours_delayed_from"] = us_to_datetime(int(cand.time[i])).isoformat()
        firing = Firing(
            trigger=rule.name,
            customer_id=customer_id,
            time=us_to_datetime(t),
            action=rule.emit.action,
            payload={k: _plain(v[j]) for k, v in payloads.items()},
            because=because,
            firing_id=firing_id(rule.name, customer_id, cand.key[i]),
        )
        reason = None
        previous = last.get(c)
        if rule.once and previous is not None:
            if rule.once_every is None:
                reason = "once per customer"
            elif previous > int(add(np.array([t]), _neg(rule.once_every))[0]):
                reason = f"once per customer every {rule.once_every}"
        if (
            reason is None
            and rule.cooldown is not None
            and previous is not None
            and previous > int(add(np.array([t]), _neg(rule.cooldown))[0])
        ):
            reason = f"cooldown {rule.cooldown}"
        if (
            reason is None
            and rule.consent is not None
            and not _consent(ctx, rule.consent, c, t, customers)
        ):
            reason = f"no consent for {rule.consent}"
        if reason is None:
            last[c] = t
            emitted.append(firing)
        else:
            suppressed.append(attrs.evolve(firing, reason=reason))
    return emitted, suppressed


def _neg(d: Any) -> Any:
    return attrs.evolve(d, amount=-d.amount)


def evaluate(
    rules: RuleSet | Rule,
    log: Any,
    *,
    as_of: TimeLike,
    customers: Mapping[str, Any] | None = None,
) -> Firings:
    """Evaluate ``rules`` over ``log`` as of event time ``as_of``.

    Only interactions at or before ``as_of`` are seen; timers fire when due at or before
    ``as_of``. ``customers`` (id -> :class:`~cxmodel.domain.Customer`) supplies traits for
    ``customer.x`` and consent when the log has no consent events for a purpose.

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
    return evaluate_us(rules, log, to_us(as_of), customers=customers)


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
    emitted: list[Firing] = []
    suppressed: list[Firing] = []
    if ctx.n:
        for rule in rules:
            e, s = _apply(ctx, rule, rule_candidates(ctx, rule, cutoff), cutoff, customers or {})
            emitted.extend(e)
            suppressed.extend(s)
    key = lambda f: (f.time, f.customer_id, f.trigger, f.firing_id)  # noqa: E731
    return Firings(tuple(sorted(emitted, key=key)), tuple(sorted(suppressed, key=key)))
