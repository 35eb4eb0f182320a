"""A rule's policies: holdouts, quiet hours, consent, ``once per customer`` and ``cooldown``,
and what ``because`` says did not happen.

Each policy is defined here twice over one semantics: one firing at a time for the streaming
engine (:func:`quiet_until`, :func:`policy_reason`, :func:`consent_key`) and over arrays of
firings for the batch evaluator (:func:`apply_policies`); the stream-equals-batch tests hold
them equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._grouping import group_by_code
from cxmodel._holdout import held_out_customers, holdout_fraction
from cxmodel.expr import Duration
from cxmodel.triggers._calendar import Zones, local_to_utc, utc_offsets
from cxmodel.triggers._candidates import Candidates, firing_order, tie_rank_of, upper_bound
from cxmodel.triggers._contact import ContactPolicy, blocking, contact_reason, remember
from cxmodel.triggers._context import LogContext, add, shift
from cxmodel.triggers._evidence import evidence
from cxmodel.triggers._firings import FiringBlock
from cxmodel.triggers._rules import Rule

if TYPE_CHECKING:
    from cxmodel.triggers._customer import CustomerState

__all__ = [
    "NEVER_EMITTED",
    "ConsentSeed",
    "PolicyInput",
    "absence",
    "apply_contact_policy",
    "apply_policies",
    "consent_at",
    "consent_key",
    "customer_consent",
    "held_out",
    "held_out_rows",
    "holdout_fraction",
    "month_zones",
    "policy_input",
    "policy_output",
    "policy_reason",
    "policy_verdicts",
    "quiet_times",
    "quiet_until",
    "take_consent",
    "verdict_parts",
]

IntArray = npt.NDArray[np.int64]
#: One side of :func:`verdict_parts`: mask, reasons, payload columns, ``because`` values.
_VerdictPart = tuple[
    npt.NDArray[np.bool_],
    npt.NDArray[Any] | None,
    dict[str, npt.NDArray[Any]],
    dict[str, dict[str, npt.NDArray[Any]]],
]

_DAY = 86_400_000_000
_MINUTE = 60_000_000


def consent_key(purpose: str) -> str:
    """A purpose as compared: trimmed and case-folded (``' Marketing '`` is ``marketing``)."""
    return purpose.strip().casefold()


def take_consent(state: CustomerState, kind: str, purpose: Any) -> None:
    """Take a consent interaction (``kind`` ``consent_granted`` or ``consent_revoked``,
    with its ``purpose`` property, any value or ``None``) into a customer's consent: a
    purpose given (text, not blank) is granted or revoked alone; a revocation without one
    revokes every purpose, those granted later aside.

    Examples
    --------
    >>> from cxmodel.triggers._customer import CustomerState
    >>> state = CustomerState("c1")
    >>> take_consent(state, "consent_granted", " Marketing ")
    >>> state.consent
    {'marketing': True}
    >>> take_consent(state, "consent_revoked", None)
    >>> state.consent, state.consent_default
    ({}, False)
    """
    if isinstance(purpose, str) and purpose.strip():
        state.consent[consent_key(purpose)] = kind == "consent_granted"
    elif kind == "consent_revoked":  # no purpose: every purpose
        state.consent.clear()
        state.consent_default = False


def _delay(time: int, start: int, end: int) -> int:
    tod = time % _DAY
    if start <= end:
        return time - tod + end if start <= tod < end else time
    if tod >= start:
        return time - tod + _DAY + end
    return time - tod + end if tod < end else time


HOLDOUT = "holdout"


def held_out(rule: Rule, customer_ids: Iterable[str]) -> npt.NDArray[np.bool_]:
    """Whether each customer is in ``rule``'s holdout (all false for a rule without one)."""
    ids = list(customer_ids)
    holdout = rule.holdout
    if holdout is None:
        return np.zeros(len(ids), dtype=bool)
    return held_out_customers(rule.name, holdout.salt, holdout.share, ids)


def held_out_rows(ctx: LogContext, rule: Rule, cust: IntArray) -> npt.NDArray[np.bool_] | None:
    """Whether the customer of each firing (codes ``cust`` of ``ctx``) is in ``rule``'s
    holdout, deciding each customer once; ``None`` for a rule without one."""
    if rule.holdout is None:
        return None
    codes, inverse = np.unique(cust, return_inverse=True)
    ids = np.asarray(ctx.customers, dtype=object)[codes].tolist()
    return held_out(rule, ids)[inverse.reshape(-1)]


def month_zones(ctx: LogContext, rule: Rule, cust: IntArray) -> Zones | None:
    """The time zones of customers ``cust`` when the rule's ``cooldown`` or ``once ...
    every`` counts calendar months in customer time; ``None`` otherwise (UTC)."""
    months = any(d is not None and d.unit == "months" for d in (rule.cooldown, rule.once_every))
    return ctx.zones(cust) if months else None


def verdict_parts(
    reasons: npt.NDArray[Any],
    payloads: Mapping[str, npt.NDArray[Any]],
    tested: Mapping[str, Mapping[str, npt.NDArray[Any]]],
) -> list[_VerdictPart]:
    """Firings split by verdict, the emitted (reason ``None``) then the suppressed: each
    part's mask, its reasons (``None`` for the emitted), payload and ``because`` values."""
    emitted = np.asarray(reasons == None, dtype=bool)  # noqa: E711 (elementwise)
    return [
        (
            part,
            None if reason is None else reason[part],
            {key: column[part] for key, column in payloads.items()},
            {c: {k: v[part] for k, v in values.items()} for c, values in tested.items()},
        )
        for part, reason in ((emitted, None), (~emitted, reasons))
    ]


def quiet_until(rule: Rule, time: int, zone: str | None) -> int:
    """When a firing at ``time`` may go out: the end of the rule's quiet hours if ``time``
    falls inside them (on the customer's wall clock in ``zone`` when the rule is in customer
    time; UTC otherwise), else ``time``."""
    quiet = rule.quiet
    if quiet is None:
        return time
    start, end = quiet.start * _MINUTE, quiet.end * _MINUTE
    if zone is None:
        return _delay(time, start, end)
    zones = Zones(np.zeros(1, dtype=np.int64), (zone,))
    offset = int(utc_offsets(np.array([time], dtype=np.int64), zones)[0])
    local = time + offset
    target = _delay(local, start, end)
    if target == local:
        return time
    ends = int(local_to_utc(np.array([target], dtype=np.int64), zones)[0])
    return ends if ends > time else target - offset


def policy_reason(
    rule: Rule,
    last_emitted: int | None,
    time: int,
    consent: bool,
    zone: str | None,
    customer: str = "",
) -> str | None:
    """Why a firing of ``customer`` at ``time`` is suppressed (``None``: it is emitted), given
    the customer's last emitted firing of the rule and its consent: the rule's holdout first
    (``"holdout"``, see :func:`held_out`), then ``once per customer [every D]``, then
    ``cooldown D`` (an earlier firing strictly after ``time - D``), then consent."""
    if rule.holdout is not None and held_out(rule, (customer,))[0]:
        return HOLDOUT
    if last_emitted is not None:
        if rule.once:
            every = rule.once_every
            if every is None:
                return "once per customer"
            if last_emitted > shift(time, every, zone, -1):
                return f"once per customer every {every}"
        if rule.cooldown is not None and last_emitted > shift(time, rule.cooldown, zone, -1):
            return f"cooldown {rule.cooldown}"
    if not consent:
        return f"no consent for {rule.consent}"
    return None


def customer_consent(customers: Mapping[str, Any], customer: str, purpose: str) -> bool:
    """Consent from the customer's record (when no consent interaction decides)."""
    consent = getattr(customers.get(customer), "consent", None)
    return consent is not None and bool(consent.allows(purpose))


def quiet_times(ctx: LogContext, rule: Rule, cust: IntArray, times: IntArray) -> IntArray:
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


@attrs.frozen(eq=False)
class ConsentSeed:
    """Consent where a log starts part-way through the customers' histories (a streaming
    micro-batch's log, which also holds rows from earlier calls): the rows that count as
    consent interactions (``counted``), and each customer's consent before them
    (``before(codes)``, customer codes of the log)."""

    counted: npt.NDArray[np.bool_]
    before: Callable[[IntArray], npt.NDArray[np.bool_]]


def consent_at(
    ctx: LogContext,
    purpose: str,
    cust: IntArray,
    last: IntArray,
    customers: Mapping[str, Any],
    seed: ConsentSeed | None = None,
) -> npt.NDArray[np.bool_]:
    """Consent for ``purpose`` of each customer as of each row ``last`` of the log (the end of
    the history a firing sees): the latest ``consent_granted`` / ``consent_revoked`` for the
    purpose (compared trimmed and case-folded; a revocation naming no purpose revokes every
    purpose) up to and including that row in log order, else ``Customer.consent``, or the
    consent ``seed`` gives (a streaming micro-batch's, before its log)."""
    out = np.zeros(len(cust), dtype=bool)
    if len(cust) == 0:
        return out
    grant = ctx.kind_mask("consent_granted")
    revoke = ctx.kind_mask("consent_revoked")
    taken = grant | revoke
    events = np.flatnonzero(taken if seed is None else taken & seed.counted)
    if "purpose" in ctx.log and len(events):
        # purposes compared trimmed and case-folded; a revocation without one revokes all
        codes, purposes = ctx.log.categorical("purpose")  # normalised once per distinct value
        keys = np.array(
            [*(consent_key(p) if isinstance(p, str) else "" for p in np.asarray(purposes)), ""],
            dtype=object,
        )
        key = keys[np.asarray(codes, dtype=np.int64)[events]]  # code -1 (missing): ""
        keep = (key == consent_key(purpose)) | ((key == "") & revoke[events])
        events = events[np.asarray(keep, dtype=bool)]
    else:
        events = events[revoke[events]]
    found = np.zeros(len(cust), dtype=bool)
    if len(events):
        pos = np.searchsorted(events, last, side="right") - 1
        row = events[np.maximum(pos, 0)]
        found = (pos >= 0) & (ctx.codes[row] == cust) & (last >= ctx.offsets[cust])
        out[found] = grant[row[found]]
    missing = np.flatnonzero(~found)
    if len(missing) and seed is not None:  # no consent event: as it was before the log
        out[missing] = seed.before(cust[missing])
    elif len(missing) and customers:  # no consent event: the customer's record decides
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


def policy_verdicts(
    rule: Rule,
    cust: IntArray,
    times: IntArray,
    consent: npt.NDArray[np.bool_],
    previous: IntArray,
    zones: Zones | None = None,
    held: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[Any]:
    """The policy verdict per candidate (in customer, time order): ``None`` to emit, else the
    reason. ``previous`` (per customer code, the last emitted time or ``NEVER_EMITTED``) is
    read and updated; ``zones`` (each candidate's zone) puts month look-backs in customer
    time; ``held`` marks candidates of held-out customers (suppressed first, as
    ``"holdout"``, and never counted as emitted). Each candidate sees the ones of its
    customer before it, as deciding them in order would (see :func:`_emitted`)."""
    m = len(times)
    reasons = np.full(m, None, dtype=object)
    refused = f"no consent for {rule.consent}"
    if held is None:
        held = np.zeros(m, dtype=bool)
    reasons[held] = HOLDOUT
    if not rule.once and rule.cooldown is None:
        reasons[~consent & ~held] = refused
        return reasons
    if not m:
        return reasons
    once_limit = None if rule.once_every is None else _minus(times, rule.once_every, zones)
    cool_limit = None if rule.cooldown is None else _minus(times, rule.cooldown, zones)
    # a candidate is blocked by the last emitted time `before` when before > limit
    limit: IntArray
    if rule.once and once_limit is None:
        limit = np.full(m, NEVER_EMITTED, dtype=np.int64)  # once ever: any emitted blocks
    elif once_limit is not None and cool_limit is not None:
        limit = np.minimum(once_limit, cool_limit)
    else:
        either = once_limit if once_limit is not None else cool_limit
        assert either is not None
        limit = either
    order = None
    if m > 1 and not bool(np.all(cust[1:] >= cust[:-1])):  # each customer's candidates together
        order = group_by_code(cust)
        cust, times, limit = cust[order], times[order], limit[order]
        consent, held = consent[order], held[order]
        once_limit = None if once_limit is None else once_limit[order]
    head = np.ones(m, dtype=bool)  # each customer's first candidate
    head[1:] = cust[1:] != cust[:-1]
    emitted = _emitted(cust, head, times, limit, ~held & consent, previous)
    # the time each candidate's customer last emitted before it
    last_at = np.empty(m, dtype=np.int64)
    last_at[0] = -1
    last_at[1:] = np.maximum.accumulate(np.where(emitted, np.arange(m), -1))[:-1]
    group_start = np.maximum.accumulate(np.where(head, np.arange(m), 0))
    mine = last_at >= group_start
    before = np.where(mine, times[np.maximum(last_at, 0)], previous[cust])
    blocked = ~held & ~emitted & (before != NEVER_EMITTED) & (before > limit)
    if rule.once:
        once_hit = blocked if once_limit is None else blocked & (before > once_limit)
    else:
        once_hit = np.zeros(m, dtype=bool)
    out = np.full(m, None, dtype=object)
    out[held] = HOLDOUT
    out[once_hit] = (
        "once per customer"
        if rule.once_every is None
        else f"once per customer every {rule.once_every}"
    )
    out[blocked & ~once_hit] = f"cooldown {rule.cooldown}"
    out[~held & ~emitted & ~blocked] = refused  # unblocked and not emitted: no consent
    sent = np.flatnonzero(emitted)
    if len(sent):  # each customer's last emitted time
        last = sent[np.append(cust[sent[1:]] != cust[sent[:-1]], True)]
        previous[cust[last]] = times[last]
    if order is None:
        return out
    reasons[order] = out  # back in the candidates' order
    return reasons


def _emitted(
    cust: IntArray,
    head: npt.NDArray[np.bool_],
    times: IntArray,
    limit: IntArray,
    eligible: npt.NDArray[np.bool_],
    previous: IntArray,
) -> npt.NDArray[np.bool_]:
    """Which candidates (each customer's together, in time order) are emitted: each
    customer's first ``eligible`` candidate not blocked by the last one emitted before it
    (``before > limit``; ``previous`` seeds it), found a customer's emitted candidate at a
    time for every customer at once. ``limit`` never decreases within a customer, so the
    candidates an emitted time blocks are the ones right after it. The few customers left
    after many rounds (a short cooldown) finish one candidate at a time. ``head`` marks each
    customer's first candidate."""
    m = len(times)
    emitted = np.zeros(m, dtype=bool)
    starts = np.flatnonzero(head)
    ends = np.append(starts[1:], m)
    same = ~head[1:]
    last = previous[cust[starts]]
    if not bool(np.all(limit[1:][same] >= limit[:-1][same])):  # pragma: no cover - defensive
        return _emitted_in_order(times, limit, eligible, last, starts, ends, emitted)
    # the first eligible candidate at or after each position (m: none)
    nxt = np.where(eligible, np.arange(m), m)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    nxt = np.append(nxt, m)
    pos, end = starts.copy(), ends
    while len(pos):
        if len(pos) <= _FEW:
            return _emitted_in_order(times, limit, eligible, last, pos, end, emitted)
        # the first candidate at or after pos that `last` does not block: limit >= last
        lo, hi = pos.copy(), end.copy()
        free = last == NEVER_EMITTED
        hi[free] = lo[free]
        while True:
            open_ = lo < hi
            if not open_.any():
                break
            mid = (lo + hi) // 2
            below = open_ & (limit[np.minimum(mid, m - 1)] < last)
            lo = np.where(below, mid + 1, lo)
            hi = np.where(open_ & ~below, mid, hi)
        found = nxt[lo]
        going = found < end
        emitted[found[going]] = True
        pos, end, last = found[going] + 1, end[going], times[found[going]]
    return emitted


#: customers left below which :func:`_emitted` finishes one candidate at a time
_FEW = 8


def _emitted_in_order(
    times: IntArray,
    limit: IntArray,
    eligible: npt.NDArray[np.bool_],
    last: IntArray,
    starts: IntArray,
    ends: IntArray,
    emitted: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """:func:`_emitted` one candidate at a time over the ranges ``starts`` to ``ends``
    (each a customer's candidates still to decide), ``last`` the time each last emitted."""
    t_list, l_list, e_list = times.tolist(), limit.tolist(), eligible.tolist()
    for lo, hi, before in zip(starts.tolist(), ends.tolist(), last.tolist(), strict=True):
        for j in range(lo, hi):
            if e_list[j] and (before == NEVER_EMITTED or before <= l_list[j]):
                emitted[j] = True
                before = t_list[j]
    return emitted


def _block(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    idx: IntArray,
    times: IntArray,
    payloads: dict[str, Any],
    reason: npt.NDArray[Any] | None,
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
        anchor_rank=tie_rank_of(ctx, anchor),
        restart=cand.restart,
        then_kind=then_kind,
        then_time=then_time,
        then_id=then_id,
        delayed_from=cand.time[idx] if rule.quiet is not None else None,
        payload=payloads,
        reason=reason,
        anchor=anchor,
        tested=tested or {},
        absent=absence(rule),
    )


def absence(rule: Rule) -> dict[str, Any] | None:
    """What must not have happened for ``rule`` to fire (shown in ``because["no"]``): the kind
    (``None``: any interaction) and the condition's text; ``None`` for rules that wait for
    nothing."""
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


@attrs.frozen(eq=False)
class PolicyInput:
    """A rule's candidates ready for its policies: those due by ``as_of`` whose ``if`` holds
    (``idx`` into the candidates), sorted by customer, firing time and anchor, with their
    firing times after quiet hours, their consent, their zones (month look-backs in customer
    time; ``None`` otherwise) and whether their customer is held out (``None``: no holdout)."""

    ctx: LogContext
    rule: Rule
    cand: Candidates
    idx: IntArray
    times: IntArray
    consent: npt.NDArray[np.bool_]
    zones: Zones | None
    held: npt.NDArray[np.bool_] | None

    @property
    def cust(self) -> IntArray:
        """The customer code of each candidate."""
        return self.cand.cust[self.idx]

    def limits(self) -> tuple[IntArray | None, IntArray | None]:
        """Per candidate, the time after which an earlier emitted firing stops it under
        ``once per customer every D`` and under ``cooldown D`` (``None``: no such clause)."""
        rule = self.rule
        once = None if rule.once_every is None else _minus(self.times, rule.once_every, self.zones)
        cool = None if rule.cooldown is None else _minus(self.times, rule.cooldown, self.zones)
        return once, cool


def apply_policies(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    as_of: int,
    customers: Mapping[str, Any],
) -> tuple[FiringBlock, FiringBlock]:
    """The ``if`` clause, quiet hours and policies over ``cand``: (emitted, suppressed).

    Month look-backs and quiet hours are in customer time when the rule is
    (:attr:`~cxmodel.triggers.Rule.in_customer_time`).
    """
    p = policy_input(ctx, rule, cand, as_of, customers)
    previous = np.full(len(p.ctx.offsets) - 1, NEVER_EMITTED, dtype=np.int64)
    reasons = policy_verdicts(rule, p.cust, p.times, p.consent, previous, p.zones, p.held)
    return policy_output(p, reasons)


def policy_input(
    ctx: LogContext,
    rule: Rule,
    cand: Candidates,
    as_of: int,
    customers: Mapping[str, Any],
    consent_seed: ConsentSeed | None = None,
) -> PolicyInput:
    """Quiet hours, ``as_of``, the ``if`` clause, consent and the holdout over ``cand``: what
    the rule's policies (and a contact policy) decide on; consent as :func:`consent_at`
    reads it, from ``consent_seed`` when given."""
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    idx = np.arange(len(cand.cust))
    times = quiet_times(ctx, rule, cand.cust[idx], cand.time[idx])
    due = times <= as_of
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
    order = firing_order(cand.cust[idx], times, cand.anchor[idx])
    idx, times = idx[order], times[order]
    if rule.consent is not None:
        # as of the history the firing sees: up to its anchoring row in log order when it
        # fires at that row's time, else every row at or before the (delayed) firing time
        delayed = times != cand.time[idx]
        last = np.where(delayed, upper_bound(ctx, cand.cust[idx], times) - 1, cand.end[idx])
        consent = consent_at(ctx, rule.consent, cand.cust[idx], last, customers, consent_seed)
    else:
        consent = np.ones(len(idx), dtype=bool)
    zones = month_zones(ctx, rule, cand.cust[idx])
    held = held_out_rows(ctx, rule, cand.cust[idx])
    return PolicyInput(ctx, rule, cand, idx, times, consent, zones, held)


def policy_output(p: PolicyInput, reasons: npt.NDArray[Any]) -> tuple[FiringBlock, FiringBlock]:
    """The firings of ``p`` as (emitted, suppressed) blocks, given each one's verdict
    (``None``: emitted, else the reason), with their payloads and ``because`` values."""
    ctx, rule, cand, idx, times = p.ctx, p.rule, p.cand, p.idx, p.times
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
    emitted, suppressed = (
        _block(ctx, rule, cand, idx[part], times[part], values, why, because)
        for part, why, values, because in verdict_parts(reasons, payloads, tested)
    )
    return emitted, suppressed


def apply_contact_policy(
    policy: ContactPolicy, members: list[PolicyInput]
) -> list[tuple[FiringBlock, FiringBlock]]:
    """The rules of ``policy`` (``members``, in its priority order) decided together: per
    customer, their firings in time order, at equal times by priority then anchor, each
    through its rule's policies (:func:`_policies`) and then the policy's limit (checked by
    :func:`~cxmodel.triggers._contact.blocking` as the streaming engine does). A customer
    with one firing of the group is decided with array operations. Returns (emitted,
    suppressed) per member."""
    n = [len(p.idx) for p in members]
    cust = np.concatenate([p.cust for p in members]) if members else np.zeros(0, np.int64)
    time = np.concatenate([p.times for p in members])
    anchor = np.concatenate([p.cand.anchor[p.idx] for p in members])
    member = np.repeat(np.arange(len(members)), n)
    pos = np.concatenate([np.arange(k) for k in n])
    order = np.lexsort((anchor, member, time, cust))
    reasons = [np.full(k, None, dtype=object) for k in n]
    sorted_cust = cust[order]
    alone = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        same = sorted_cust[1:] == sorted_cust[:-1]
        alone[1:] &= ~same
        alone[:-1] &= ~same
    for m, p in enumerate(members):  # one firing of the group: its rule's policies alone
        mine = order[alone & (member[order] == m)] - sum(n[:m])
        if len(mine):
            previous = np.full(len(p.ctx.offsets) - 1, NEVER_EMITTED, dtype=np.int64)
            held = None if p.held is None else p.held[mine]
            zones = None if p.zones is None else Zones(p.zones.code[mine], p.zones.names)
            reasons[m][mine] = policy_verdicts(
                p.rule, p.cust[mine], p.times[mine], p.consent[mine], previous, zones, held
            )
    limits = [p.limits() for p in members]
    last: dict[tuple[int, int], int] = {}  # (customer, member) -> last emitted time
    sent: dict[int, list[tuple[int, int, int]]] = {}  # customer -> emitted (time, member, pos)
    stopped: list[tuple[int, int, list[tuple[int, int, int]]]] = []
    for j in order[~alone].tolist():
        m, q, c, t = int(member[j]), int(pos[j]), int(cust[j]), int(time[j])
        p = members[m]
        rule = p.rule
        if p.held is not None and p.held[q]:
            reasons[m][q] = HOLDOUT
            continue
        before = last.get((c, m))
        once_limit, cool_limit = limits[m]
        if before is not None:
            if rule.once and (once_limit is None or before > once_limit[q]):
                reasons[m][q] = _once_reason(rule)
                continue
            if cool_limit is not None and before > cool_limit[q]:
                reasons[m][q] = f"cooldown {rule.cooldown}"
                continue
        if not p.consent[q]:
            reasons[m][q] = f"no consent for {rule.consent}"
            continue
        mine = sent.get(c, [])
        stopped_by = blocking(policy, [e[0] for e in mine], t)
        if stopped_by is not None:
            stopped.append((m, q, [mine[i] for i in stopped_by]))
            continue
        last[(c, m)] = t
        sent[c] = remember(policy, mine, (t, m, q))
    if stopped:  # name the firings that stopped them, by their ids
        blocks = [_block(p.ctx, p.rule, p.cand, p.idx, p.times, {}, None) for p in members]
        for m, q, by in stopped:
            named = [(members[b].rule.name, blocks[b].firing_id(i)) for _, b, i in by]
            reasons[m][q] = contact_reason(policy, named)
    return [policy_output(p, r) for p, r in zip(members, reasons, strict=True)]


def _once_reason(rule: Rule) -> str:
    every = rule.once_every
    return "once per customer" if every is None else f"once per customer every {every}"
