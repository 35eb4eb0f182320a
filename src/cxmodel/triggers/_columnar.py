"""The streaming engine's path for large micro-batches: the same work as one interaction at a
time, done a column or a rule at a time.

The per-interaction path (``_delivery.py`` and :meth:`RuleRunner.release
<cxmodel.triggers._runner.RuleRunner.release>`) takes each interaction through every step and
every rule that reads it. A large micro-batch is taken apart instead:

1. **admission** on arrays: refused (too far ahead of the clock), late (behind the watermark
   or at or before ``advance_to``'s time) and re-delivered rows are decided, and the rows the
   call releases (in time order, then arrival order) are found, exactly as the delivery
   decides them one by one;
2. **the customer's bookkeeping** for every released row: release numbers, ranks among equal
   times, the latest time and the interaction ids that may still be re-delivered;
3. **rule by rule**: each (customer, rule) state depends only on that customer's
   interactions, the aggregates the rule reads and consent, so each rule runs alone over the
   rows it reads, with its own timers. The aggregates it reads and the consent it asks for
   are replayed from their state before the call as it goes, so each evaluation reads them
   as they were at that point. ``when inactive for D`` without aggregates or ``where`` is
   decided on arrays (a timer falls due where the gap between two interactions exceeds ``D``);
   ``where`` clauses without aggregates are decided on columns before any per-row work.

Alerts, catalogue rules, contact policies and aggregates comparing with the bound
interaction make a call take the per-interaction path (:func:`columnar_ready`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from cxmodel._time import us_to_datetime
from cxmodel.triggers._customer import Anchor, CustomerState
from cxmodel.triggers._delivery import Delivery
from cxmodel.triggers._ingest import CATALOGUE, Row
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._store import Quarantined

__all__ = ["COLUMNAR_FROM", "columnar_ready", "take_many"]

#: The smallest micro-batch taken on the columnar path (chosen by measurement: below it the
#: per-call set-up costs more than the per-interaction path it saves).
COLUMNAR_FROM = 512

_CONSENT = ("consent_granted", "consent_revoked")

Timer = tuple[int, int, int, str, str]


def columnar_ready(runner: RuleRunner) -> bool:
    """Whether the active rules can run on the columnar path: no alert, no catalogue rule
    or catalogue event waiting, no contact policy, no aggregate whose ``where`` compares with
    the bound interaction."""
    catalogue = runner.catalogue
    return not (
        runner.alerts.plans
        or catalogue.joins
        or catalogue.rules
        or catalogue.pending
        or runner.contact
        or runner._kept
        or any(plan.rule.when.reach is not None for plan in runner.plans.values())
    )


# -- 1. admission ---------------------------------------------------------------------------
def _refusal(row: Row, limit: int, max_future: int) -> Quarantined:
    return Quarantined(
        row.record(),
        f"refused: {us_to_datetime(row.time).isoformat()} is more than "
        f"{timedelta(microseconds=max_future)} ahead of the clock "
        f"({us_to_datetime(limit - max_future).isoformat()}); check "
        "the sender's clock or the timestamp's unit (milliseconds read as seconds?)",
        row.customer or None,
    )


def _admit(
    delivery: Delivery, runner: RuleRunner, rows: list[Row], now: Callable[[], int]
) -> tuple[list[Row], list[Quarantined], list[Quarantined]]:
    """The rows accepted, late and refused, decided as :meth:`Delivery.take` decides them:
    refused first, then re-delivered (ignored), then late."""
    n = len(rows)
    times = np.fromiter((r.time for r in rows), dtype=np.int64, count=n)
    rejected: list[Quarantined] = []
    ok = np.ones(n, dtype=bool)
    if delivery.max_future is not None:
        limit = now() + delivery.max_future
        refused = times > limit
        if refused.any():
            ok &= ~refused
            rejected = [
                _refusal(rows[j], limit, delivery.max_future) for j in np.flatnonzero(refused)
            ]
    on_time = delivery.watermark
    if delivery.closed is not None and (on_time is None or delivery.closed >= on_time):
        on_time = delivery.closed + 1
    late_mask = (times < on_time) if on_time is not None else np.zeros(n, dtype=bool)
    buffered = delivery.buffered_ids
    states = runner.states
    duplicates = 0
    for j in np.flatnonzero(ok).tolist():
        row = rows[j]
        ident = row.interaction_id
        if ident is None:
            continue
        cid = row.customer
        if (cid, ident) in buffered:
            duplicate = True
        elif cid == CATALOGUE:
            duplicate = ident in runner.catalogue.seen
        else:
            state = states.get(cid)
            duplicate = state is not None and ident in state.seen
        if duplicate:
            duplicates += 1
            ok[j] = False
        elif not late_mask[j]:
            buffered.add((cid, ident))
    delivery.duplicates += duplicates
    late: list[Quarantined] = []
    for j in np.flatnonzero(ok & late_mask).tolist():
        row = rows[j]
        reason = delivery.late_reason(row.time)
        if reason is not None:
            late.append(Quarantined(row.record(), reason, row.customer or None))
        else:  # not late after all (at the watermark itself): accepted
            late_mask[j] = False
            if row.interaction_id is not None:
                buffered.add((row.customer, row.interaction_id))
    ok &= ~late_mask
    accepted = [rows[j] for j in np.flatnonzero(ok).tolist()]
    return accepted, late, rejected


def _released(delivery: Delivery, accepted: list[Row], frontier: int) -> list[Row]:
    """The rows released by this call, in the order the delivery releases them; the rest
    stay buffered (the heap kept as pushing and popping them one by one leaves it)."""
    times = np.fromiter((r.time for r in accepted), dtype=np.int64, count=len(accepted))
    in_order = not delivery.buffer and bool(np.all(times[1:] >= times[:-1]))
    if in_order and (not accepted or accepted[-1].time <= frontier):
        out = accepted
    else:
        buffer = delivery.buffer
        for row in accepted:
            heapq.heappush(buffer, (row.time, delivery.arrivals, row))
            delivery.arrivals += 1
        out = []
        while buffer and buffer[0][0] <= frontier:
            out.append(heapq.heappop(buffer)[2])
    buffered = delivery.buffered_ids
    for row in out:
        if row.interaction_id is not None:
            buffered.discard((row.customer, row.interaction_id))
    return out


# -- 2. the customers' bookkeeping ------------------------------------------------------------
def _book(runner: RuleRunner, released: list[Row]) -> tuple[dict[str, CustomerState], set[int]]:
    """Number the released rows, rank them among their customer's interactions at the same
    time, and keep each customer's latest time and the ids that may still be re-delivered.
    Return the customers' states and the release numbers of customers' first interactions."""
    n = len(released)
    start = runner.seq
    runner.seq += n
    codes: dict[str, int] = {}
    cust = np.fromiter(
        (codes.setdefault(r.customer, len(codes)) for r in released), dtype=np.int64, count=n
    )
    times = np.fromiter((r.time for r in released), dtype=np.int64, count=n)
    order = np.lexsort((np.arange(n), cust))  # by customer, then release order
    c_sorted, t_sorted = cust[order], times[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = c_sorted[1:] != c_sorted[:-1]
    new_run = new_group.copy()
    new_run[1:] |= t_sorted[1:] != t_sorted[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    rank = np.arange(n) - run_start
    group_start = np.flatnonzero(new_group)
    group_end = np.append(group_start[1:], n)
    names = list(codes)
    states: dict[str, CustomerState] = {}
    first: set[int] = set()
    touched = runner.touched
    for lo, hi in zip(group_start.tolist(), group_end.tolist(), strict=True):
        cid = names[int(c_sorted[lo])]
        state = runner.states.get(cid)
        if state is None or cid not in touched:
            state = runner.touch(cid)
        states[cid] = state
        head = int(order[lo])
        if state.last_time is None:
            first.add(start + head)
        elif state.last_time == int(t_sorted[lo]):  # continues the customer's last tie
            run = slice(lo, int(np.searchsorted(run_start[lo:hi], lo, side="right")) + lo)
            rank[run] += state.tie_count
        state.tie_count = int(rank[hi - 1]) + 1
        state.last_time = int(t_sorted[hi - 1])
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = rank
    remember = runner.remember_ids
    for j, (row, r) in enumerate(zip(released, ranks.tolist(), strict=True)):
        row.seq = start + j
        row.rank = r
        ident = row.interaction_id
        if ident is not None:
            state = states[row.customer]
            seen = state.seen
            seen[ident] = row.time
            if len(seen) > 64 and len(seen) % 64 == 1:
                oldest = row.time - remember
                state.seen = {k: t for k, t in seen.items() if t >= oldest}
    return states, first


# -- 3. rule by rule ---------------------------------------------------------------------------
def take_many(
    delivery: Delivery, runner: RuleRunner, rows: list[Row], now: Callable[[], int]
) -> tuple[list[Quarantined], list[Quarantined]]:
    """What :meth:`Delivery.take` does with ``rows``, a rule at a time (see the module
    docstring): the same firings in ``runner.emitted`` and ``runner.suppressed``, the same
    state afterwards. Return the late and the refused rows."""
    if not rows:
        return [], []
    accepted, late, rejected = _admit(delivery, runner, rows, now)
    top = delivery.max_seen
    if accepted:
        newest = max(r.time for r in accepted)
        top = newest if top is None or newest > top else top
    delivery.max_seen = top
    if top is None:
        return late, rejected
    frontier = top - delivery.lateness
    released = _released(delivery, accepted, frontier)
    _run(runner, released, frontier)
    if delivery.watermark is None or frontier > delivery.watermark:
        delivery.watermark = frontier
    return late, rejected


def _run(runner: RuleRunner, released: list[Row], frontier: int) -> None:
    """Release ``released`` (in order) to ``runner`` and fire what falls due before
    ``frontier``, a rule at a time."""
    states, first = _book(runner, released) if released else ({}, set())
    timers: dict[str, list[Timer]] = {name: [] for name in runner.plans}
    rest: list[Timer] = []
    for entry in runner.timers:
        timers.get(entry[4], rest).append(entry)
    batch = _Batch(released, first)
    initial = _Initial(states)
    try:
        for name, plan in runner.plans.items():
            heap = timers[name]
            heapq.heapify(heap)
            runner.timers = heap
            if _inactivity_on_arrays(plan):
                timers[name] = _inactivity(runner, plan, batch, states)
                runner.advance(frontier, inclusive=False)
                timers[name] = runner.timers
            else:
                _rule_pass(runner, plan, batch, frontier, initial)
    finally:
        merged = rest
        for heap in timers.values():
            merged.extend(heap)
        heapq.heapify(merged)
        runner.timers = merged
    initial.finish(runner, batch)


class _Batch:
    """The released rows, with their kinds as codes (so that a rule finds the rows it reads
    with one ``isin``) and the release numbers of customers' first interactions."""

    def __init__(self, rows: list[Row], first: set[int]) -> None:
        self.rows = rows
        self.first = first
        names: dict[str, int] = {}
        self.kind_codes = np.fromiter(
            (names.setdefault(r.kind, len(names)) for r in rows), dtype=np.int64, count=len(rows)
        )
        self.kinds = names

    def reading(self, kinds: set[str]) -> list[Row]:
        """The rows of ``kinds``, in release order."""
        codes = [self.kinds[k] for k in kinds if k in self.kinds]
        if len(codes) == len(self.kinds):
            return self.rows
        rows = self.rows
        return [rows[j] for j in np.flatnonzero(np.isin(self.kind_codes, codes)).tolist()]


def _inactivity_on_arrays(plan: Any) -> bool:
    """Whether ``plan`` is a ``when inactive for D`` decided on arrays: a fixed ``D``, and
    nothing it reads at its firings (aggregates, consent) or decides later (quiet hours)."""
    rule = plan.rule
    return (
        plan.when_mode == "inactive"
        and plan.delay is not None
        and not plan.aggregates
        and not plan.ev_when
        and rule.consent is None
        and rule.quiet is None
    )


def _inactivity(
    runner: RuleRunner, plan: Any, batch: _Batch, states: dict[str, CustomerState]
) -> list[Timer]:
    """``when inactive for D`` over the batch: a customer's timer falls due ``D`` after each
    of their interactions and fires where the next one comes later than that (or the timer
    before the call fell due before their first one). Return the rule's timers with each
    batch customer's pending one."""
    rows = batch.rows
    name, delay = plan.name, plan.delay
    heap = [entry for entry in runner.timers if entry[3] not in states]
    if not rows:
        return heap
    n = len(rows)
    codes: dict[str, int] = {}
    cust = np.fromiter(
        (codes.setdefault(r.customer, len(codes)) for r in rows), dtype=np.int64, count=n
    )
    times = np.fromiter((r.time for r in rows), dtype=np.int64, count=n)
    order = np.argsort(cust, kind="stable")  # by customer, then release order
    c_sorted, t_sorted = cust[order], times[order]
    same = np.zeros(n, dtype=bool)
    same[1:] = c_sorted[1:] == c_sorted[:-1]
    gap = np.zeros(n, dtype=bool)  # the timer of the row before falls due before this one
    gap[1:] = same[1:] & (t_sorted[1:] > t_sorted[:-1] + delay)
    fired: dict[str, list[int]] = {}
    for j in np.flatnonzero(gap).tolist():
        fired.setdefault(rows[int(order[j])].customer, []).append(int(order[j - 1]))
    heads = np.flatnonzero(~same)
    ends = np.append(heads[1:], n) - 1
    for head, end in zip(heads.tolist(), ends.tolist(), strict=True):
        first_row = rows[int(order[head])]
        cid = first_row.customer
        state = states[cid]
        reader = runner.readers.get(cid) or runner.reader(cid)
        rs = state.rules.get(name) or state.rule(name)
        timer = rs.timer
        if timer is not None and timer.due is not None and timer.due < first_row.time:
            rs.timer = None
            runner.found(
                plan, state, plan.candidate(state, timer.due, timer, None, None, reader), reader
            )
        for j in fired.get(cid, ()):
            anchor = Anchor(rows[j], rows[j].time + delay, {}, {})
            runner.found(
                plan, state, plan.candidate(state, anchor.due, anchor, None, None, reader), reader
            )
        last = rows[int(order[end])]
        if rs.timer is not None and rs.timer.row.time == last.time:
            rs.timer = Anchor(last, rs.timer.due, {}, {})
        else:
            rs.timer = Anchor(last, last.time + delay, {}, {})
        assert rs.timer.due is not None
        heap.append((rs.timer.due, TIMER, last.seq, cid, name))
    heapq.heapify(heap)
    runner.timers = heap
    return heap


class _Initial:
    """The customers' aggregates and consent as they were before the call, so that each
    rule's pass replays them from there (the last pass leaves them as the call does)."""

    def __init__(self, states: dict[str, CustomerState]) -> None:
        self.states = states
        self.running = {
            cid: {k: v.copy() for k, v in s.running.items()} for cid, s in states.items()
        }
        self.windows = {
            cid: {k: list(v) for k, v in s.windows.items()} for cid, s in states.items()
        }
        self.consent = {cid: (dict(s.consent), s.consent_default) for cid, s in states.items()}
        self.replayed: set[str] = set()  # store keys some pass replayed
        self.consent_replayed = False

    def reset(self, keys: set[str], consent: bool) -> None:
        """Put the aggregates under ``keys`` (and consent) back as they were."""
        from collections import deque

        for cid, state in self.states.items():
            running, windows = self.running[cid], self.windows[cid]
            for key in keys:
                if key in running:
                    state.running[key] = running[key].copy()
                else:
                    state.running.pop(key, None)
                if key in windows:
                    state.windows[key] = deque(windows[key])
                else:
                    state.windows.pop(key, None)
            if consent:
                state.consent = dict(self.consent[cid][0])
                state.consent_default = self.consent[cid][1]

    def finish(self, runner: RuleRunner, batch: _Batch) -> None:
        """Bring up to date what no pass replayed: consent, and aggregates no rule read."""
        keys = {a.store_key for aggs in runner._agg_by_kind.values() for a in aggs}
        missing = keys - self.replayed
        if self.consent_replayed and not missing:
            return
        consent = not self.consent_replayed
        self.reset(missing, consent)
        by_kind = _by_kind(runner, missing)
        for row in batch.reading(set(by_kind) | (set(_CONSENT) if consent else set())):
            state = self.states[row.customer]
            kind = row.kind
            if kind in by_kind:
                _update(runner, by_kind[kind], state, row)
            if consent and kind in _CONSENT:
                _consent(state, row)


def _by_kind(runner: RuleRunner, keys: set[str]) -> dict[str, list[Any]]:
    """The runner's aggregates (one per store key) under ``keys``, by the kind they count."""
    out: dict[str, list[Any]] = {}
    for kind, aggs in runner._agg_by_kind.items():
        mine = [a for a in aggs if a.store_key in keys]
        if mine:
            out[kind] = mine
    return out


def _update(runner: RuleRunner, aggs: list[Any], state: CustomerState, row: Row) -> None:
    """Take ``row`` into the aggregates ``aggs`` (of its kind), trimming their windows, as
    :meth:`RuleRunner.release` does."""
    traits = runner.traits.get(state.customer, {})
    for agg in aggs:
        agg.update(state, row, state.customer, traits)
    for agg in aggs:
        if agg.mode == "window" and agg.lookback is not None:
            buffer = state.windows.get(agg.store_key)
            if buffer:
                oldest = row.time - agg.lookback
                while buffer and buffer[0][0] < oldest:
                    buffer.popleft()


def _consent(state: CustomerState, row: Row) -> None:
    """Take a consent interaction into the customer's consent, as release does."""
    from cxmodel.triggers._policies import consent_key

    purpose = row.fields.get("purpose")
    if isinstance(purpose, str) and purpose.strip():
        state.consent[consent_key(purpose)] = row.kind == "consent_granted"
    elif row.kind == "consent_revoked":
        state.consent.clear()
        state.consent_default = False


def _rule_pass(
    runner: RuleRunner,
    plan: Any,
    batch: _Batch,
    frontier: int,
    initial: _Initial,
) -> None:
    """Run one rule over the released rows it reads (with ``runner.timers`` its timers),
    then fire its timers due before ``frontier``."""
    keys = {a.store_key for a in plan.aggregates.values()}
    consent = plan.rule.consent is not None
    if keys or consent:
        initial.reset(keys & initial.replayed, consent and initial.consent_replayed)
        initial.replayed |= keys
        initial.consent_replayed |= consent
    aggs = _by_kind(runner, keys)
    every = plan in runner._every
    kinds = {plan.when_kind, plan.then_kind, plan.block_kind} - {None}
    event = plan.when_mode == "event"
    read = set(aggs) | kinds | (set(_CONSENT) if consent else set())
    first = batch.first
    states = runner.states
    readers = runner.readers
    heap = runner.timers
    snapshots = bool(plan.snapshots)
    for row in batch.rows if every else batch.reading(read):
        kind = row.kind
        time = row.time
        if heap and heap[0][0] < time:
            runner.advance(time, inclusive=False)
            heap = runner.timers
        cid = row.customer
        state = states[cid]
        reader = readers.get(cid) or runner.reader(cid)
        snapshot = plan.snapshot(state) if snapshots and kind == plan.when_kind else {}
        if kind in aggs:
            _update(runner, aggs[kind], state, row)
        if consent and kind in _CONSENT:
            _consent(state, row)
        if every:
            runner.restart(plan, state, row, row.seq in first, reader)
        elif event and kind in kinds:
            runner.on_event(plan, state, row, snapshot, reader)
    runner.advance(frontier, inclusive=False)
