"""The rules of a large micro-batch, one at a time (step 3 of the columnar path,
``_columnar.py``).

A (customer, rule) state depends only on the customer's interactions, the aggregates the rule
reads and consent (written by consent interactions only), never on another rule's state. So
each rule runs alone over the released interactions it reads, with only its own timers on the
runner's queue, through the same operators the per-interaction path runs
(:meth:`RuleRunner.on_event <cxmodel.triggers._runner.RuleRunner.on_event>`,
:meth:`~cxmodel.triggers._runner.RuleRunner.restart`,
:meth:`~cxmodel.triggers._runner.RuleRunner.advance`): a timer fires before the first of the
rule's interactions after it, which is when it fires one by one as far as the rule can tell.
The aggregates and the consent a rule reads are put back as they were before the call and
replayed as the rule goes, so that every evaluation reads them as they were at its point;
after the last replay they are what the call leaves.

On arrays:

- ``when inactive for D`` (a fixed D; no aggregate, consent or quiet hours): a timer falls due
  D after each interaction and fires where the customer's next interaction comes later;
- ``when K as x where C``: where ``C`` compares properties with constants, the interactions
  it certainly rejects are never made into rows nor visited (see :func:`maybe`).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from itertools import compress, count, repeat
from operator import attrgetter, is_
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from cxmodel.expr import Binary, Expr, Literal, Name
from cxmodel.expr._evaluate import COMPARISONS
from cxmodel.triggers._batch import CONSENT_KINDS
from cxmodel.triggers._codes import object_array
from cxmodel.triggers._columnar_aggregates import advance
from cxmodel.triggers._columnar_anchored import decide, on_arrays
from cxmodel.triggers._customer import Anchor, CustomerState, RuleState
from cxmodel.triggers._firings import FiringBlock
from cxmodel.triggers._ingest import Row, bare_fields
from cxmodel.triggers._operators import AggregatePlan, RulePlan
from cxmodel.triggers._policies import absence, policy_reason, take_consent
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._timer_columns import (
    NEVER,
    NO_TIME,
    TimerColumns,
    inactivity_on_arrays,
)

if TYPE_CHECKING:
    from cxmodel.triggers._columnar import Released
    from cxmodel.triggers._rules import Rule

__all__ = ["maybe", "run_rules"]

_CONSENT = frozenset(CONSENT_KINDS)
Timer = tuple[int, int, int, str, str]


def run_rules(
    runner: RuleRunner, released: Released, states: dict[str, CustomerState], frontier: int
) -> None:
    """Release ``released`` to the runner's rules, a rule at a time, and fire what falls due
    before ``frontier``."""
    timers: dict[str, list[Timer]] = {name: [] for name in runner.plans}
    # the entries of rules no longer active fire nothing: those falling due go, as
    # RuleRunner.advance drops them (no catalogue event waits on this path: columnar_ready)
    rest: list[Timer] = []
    for entry in runner.timers:
        heap = timers.get(entry[4], rest)
        if heap is not rest or entry[0] >= frontier:
            heap.append(entry)
    # decided first, reading the consent the customers had before the call
    decided = {
        name: found
        for name, plan in runner.plans.items()
        if on_arrays(plan)
        and (found := decide(runner, plan, released, states, timers[name], frontier))
    }
    initial = _Initial(
        states,
        [
            plan
            for plan in runner.plans.values()
            if not _inactivity_on_arrays(plan) and plan.name not in decided
        ],
    )
    heaps: set[str] = set()  # the rules whose timers are a heap after their pass
    try:
        for name, plan in runner.plans.items():
            heap = timers[name]
            if name in decided:  # its timers before the frontier were decided with it
                decided[name].apply(runner, released, heap, frontier)
                continue  # (its timers join the others' below)
            runner.timers = heap
            if name in runner.held:  # its state and queue are its columns
                _inactivity_held(runner, runner.held[name], released, frontier)
            elif _inactivity_on_arrays(plan):  # (takes its entries in any order)
                _inactivity(runner, plan, released, states, frontier)
            else:
                heapq.heapify(heap)
                _rule_pass(runner, plan, released, initial)
            runner.advance(frontier, inclusive=False)
            timers[name] = runner.timers
            heaps.add(name)
    finally:
        runner.timers = _merged(rest, timers, heaps)
    initial.finish(runner, released)
    if runner.buffered_kinds:  # the customers whose windows the call may have added to
        runner.holding(released.customers[released.reading(runner.buffered_kinds)].tolist())


def _merged(rest: list[Timer], timers: dict[str, list[Timer]], heaps: set[str]) -> list[Timer]:
    """The rules' timers (``timers``, those of the rules in ``heaps`` each a heap) and the
    entries ``rest`` of rules no longer active, as one heap: the other entries pushed onto
    the largest heap, whose entries (usually most of them) are not all read again, or all
    heapified when the others are many.

    Examples
    --------
    >>> heap = _merged([(3, 0, 0, "c", "gone")], {"a": [(1, 0, 1, "a", "a"), (5, 0, 2, "b", "a")],
    ...                "b": [(4, 0, 3, "d", "b"), (2, 0, 4, "e", "b")]}, {"a"})
    >>> [heapq.heappop(heap)[0] for _ in range(5)]
    [1, 2, 3, 4, 5]
    """
    merged = max((timers[name] for name in heaps), key=len, default=[])
    others = [entry for heap in (rest, *timers.values()) if heap is not merged for entry in heap]
    # pushing k entries costs at most k log n comparisons, most in the heap's upper levels,
    # which stay in cache; heapifying all n about 2 n, reading every entry
    if len(others) * 4 > len(merged):
        merged.extend(others)
        heapq.heapify(merged)
    else:
        for entry in others:
            heapq.heappush(merged, entry)
    return merged


# -- aggregates and consent, replayed ---------------------------------------------------------
class _Initial:
    """The customers' aggregates and consent as they were before the call, for each rule's
    pass to replay from; whatever no pass replayed is brought up to date by :meth:`finish`."""

    def __init__(self, states: dict[str, CustomerState], plans: list[RulePlan]) -> None:
        self.states = states
        # only what more than one pass replays is kept (the first replays the state itself)
        seen: set[str] = set()
        twice: set[str] = set()
        for plan in plans:
            keys = {a.store_key for a in plan.aggregates.values()}
            twice |= keys & seen
            seen |= keys
        consent = sum(plan.rule.consent is not None for plan in plans) > 1
        self.running: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, dict[str, list[Any]]] = {}
        if twice:
            for c, s in states.items():
                self.running[c] = {k: v.copy() for k, v in s.running.items() if k in twice}
                self.windows[c] = {k: list(v) for k, v in s.windows.items() if k in twice}
        self.consent = (
            {c: (dict(s.consent), s.consent_default) for c, s in states.items()} if consent else {}
        )
        self.replayed: set[str] = set()  # store keys a pass has replayed
        self.consent_replayed = False

    def begin(self, keys: set[str], consent: bool) -> None:
        """Before a pass replays the aggregates under ``keys`` (and consent): put back what
        an earlier pass replayed."""
        again = keys & self.replayed
        if again or (consent and self.consent_replayed):
            for cid, state in self.states.items():
                # kept only for the keys more than one pass replays (none: consent alone)
                running, windows = self.running.get(cid, {}), self.windows.get(cid, {})
                for key in again:
                    if key in running:
                        state.running[key] = running[key].copy()
                    else:
                        state.running.pop(key, None)
                    if key in windows:
                        state.windows[key] = deque(windows[key])
                    else:
                        state.windows.pop(key, None)
                if consent and self.consent_replayed:
                    state.consent = dict(self.consent[cid][0])
                    state.consent_default = self.consent[cid][1]
        self.replayed |= keys
        self.consent_replayed |= consent

    def finish(self, runner: RuleRunner, released: Released) -> None:
        """Replay what no pass replayed: consent, and the aggregates no pass read (on arrays
        where :func:`~cxmodel.triggers._columnar_aggregates.advance` can)."""
        keys = {a.store_key for aggs in runner.aggregates_by_kind.values() for a in aggs}
        missing = keys - self.replayed
        consent = not self.consent_replayed
        if not (missing or consent):
            return
        self.begin(missing, consent)
        unread = [a for aggs in _by_kind(runner, missing).values() for a in aggs]
        missing -= advance(unread, released, self.states, runner.traits)  # on arrays where it can
        by_kind = _by_kind(runner, missing)
        if consent and not by_kind:  # consent alone: read from the columns, no row made
            ks = released.reading(set(_CONSENT))
            purposes = released.column("purpose", ks)
            for cid, kind, purpose in zip(
                released.customers[ks].tolist(), released.kinds[ks].tolist(),
                [None] * len(ks) if purposes is None else purposes.tolist(), strict=True,
            ):  # fmt: skip
                take_consent(self.states[cid], kind, purpose)
            return
        kinds = set(by_kind) | (set(_CONSENT) if consent else set())
        for row in released.rows(released.reading(kinds)):
            state = self.states[row.customer]
            if row.kind in by_kind:
                _update(runner, by_kind[row.kind], state, row)
            if consent and row.kind in _CONSENT:
                take_consent(state, row.kind, row.fields.get("purpose"))


def _by_kind(runner: RuleRunner, keys: set[str]) -> dict[str, list[AggregatePlan]]:
    """The runner's aggregates (one per store key) under ``keys``, by the kind they count."""
    out: dict[str, list[AggregatePlan]] = {}
    for kind, aggs in runner.aggregates_by_kind.items():
        mine = [a for a in aggs if a.store_key in keys]
        if mine:
            out[kind] = mine
    return out


def _update(runner: RuleRunner, aggs: list[AggregatePlan], state: CustomerState, row: Row) -> None:
    """Take ``row`` into the aggregates ``aggs`` (of its kind) and trim their windows, as
    :meth:`RuleRunner.release` does."""
    traits = runner.traits.get(state.customer, {})
    for agg in aggs:
        agg.update(state, row, state.customer, traits)
    for agg in aggs:
        if agg.mode == "window":
            agg.trim(state, row.time)


# -- one rule ---------------------------------------------------------------------------------
def _rule_pass(runner: RuleRunner, plan: RulePlan, released: Released, initial: _Initial) -> None:
    """Run one rule over the released interactions it reads (``runner.timers`` holding its
    timers): aggregates and consent replayed, its operators as release runs them."""
    keys = {a.store_key for a in plan.aggregates.values()}
    consent = plan.rule.consent is not None
    initial.begin(keys, consent)
    aggs = _by_kind(runner, keys)
    every = plan in runner.every_kind
    kinds = {k for k in (plan.when_kind, plan.then_kind, plan.block_kind) if k is not None}
    event = plan.when_mode == "event"
    if every:
        ks = np.arange(released.n)
    else:
        ks = released.reading(set(aggs) | kinds | (set(_CONSENT) if consent else set()))
        # the anchoring kind read by nothing else (a `then`, `then no` or `unless` of the
        # same kind, an aggregate, consent): an anchor its `where` rejects changes nothing
        others = {k for k in (plan.then_kind, plan.block_kind) if k is not None}
        anchors_only = plan.when_kind not in (set(aggs) | _CONSENT | others)
        if event and anchors_only and plan.when_where is not None:
            ks = _anchors_that_may_hold(plan, released, ks)
    first = released.first
    states, readers = runner.states, runner.readers
    snapshots = bool(plan.snapshots)
    for row in released.rows(ks):
        kind = row.kind
        time = row.time
        heap = runner.timers
        if heap and heap[0][0] < time:
            runner.advance(time, inclusive=False)
        cid = row.customer
        state = states[cid]
        reader = readers.get(cid) or runner.reader(cid)
        snapshot = plan.snapshot(state) if snapshots and kind == plan.when_kind else {}
        if kind in aggs:
            _update(runner, aggs[kind], state, row)
        if consent and kind in _CONSENT:
            take_consent(state, kind, row.fields.get("purpose"))
        if every:
            runner.restart(plan, state, row, row.seq in first, reader)
        elif event and kind in kinds:
            runner.on_event(plan, state, row, snapshot, reader)


def _anchors_that_may_hold(plan: RulePlan, released: Released, ks: Any) -> Any:
    """``ks`` without the interactions of the anchoring kind whose ``where`` certainly fails
    (they change nothing for the rule: no anchor, no aggregate, no consent)."""
    anchoring = released.kinds[ks] == plan.when_kind
    if not anchoring.any():
        return ks
    where = plan.rule.when.where
    assert where is not None
    mask = maybe(where, plan.alias, lambda name: released.column(name, ks[anchoring]))
    if mask is None:
        return ks
    keep = ~anchoring
    keep[np.flatnonzero(anchoring)[mask]] = True
    return ks[keep]


def maybe(expr: Expr, alias: str | None, column: Callable[[str], Any]) -> Any:
    """Where ``expr`` may hold over the interactions whose properties ``column(name)``
    gives (each a property of the interaction itself, or of ``alias`` bound to it): a mask
    that is ``False`` only where it certainly does not, or ``None`` when nothing is certain.

    Decided on columns: ``and``, ``or``, and a property compared with a constant, as the
    per-interaction evaluator compares (missing: false; text against a number: only ``!=``
    holds). Anything else may hold.

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> values = {"score": np.array([3.0, 9.0, np.nan])}
    >>> maybe(parse_expr("r.score <= 6"), "r", values.get).tolist()
    [True, False, False]
    >>> maybe(parse_expr("r.score <= 6 or r.vip"), "r", values.get) is None
    True
    """
    if isinstance(expr, Binary) and expr.op in ("and", "or"):
        left = maybe(expr.left, alias, column)
        right = maybe(expr.right, alias, column)
        if expr.op == "and":
            return right if left is None else left if right is None else left & right
        return None if left is None or right is None else left | right
    if not (
        isinstance(expr, Binary)
        and expr.op in COMPARISONS
        and isinstance(expr.left, Name)
        and expr.left.qualifier in (None, alias)
        and expr.left.name not in ("customer_id", "timestamp")
        and isinstance(expr.right, Literal)
        and expr.right.value is not None
        and not isinstance(expr.right.value, bool)
    ):
        return None
    values = column(expr.left.name)
    if values is None:
        return None
    literal = expr.right.value
    compare = COMPARISONS[expr.op]
    text = isinstance(literal, str)
    if not text:
        literal = float(literal)
    if values.dtype.kind == "f":  # numbers, NaN missing
        if text:
            return np.full(len(values), expr.op == "!=") & ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            return np.asarray(compare(values, literal), dtype=bool) & ~np.isnan(values)
    out = np.zeros(len(values), dtype=bool)
    for j, value in enumerate(values.tolist()):
        if value is None or value != value:
            continue
        if isinstance(value, str) != text or isinstance(value, bool):
            out[j] = True  # unsure (text against a number, a bool): let the rule decide
            continue
        try:
            out[j] = bool(compare(value, literal))
        except TypeError:
            out[j] = True
    return out


# -- when inactive for D, on arrays --------------------------------------------------------------
_inactivity_on_arrays = inactivity_on_arrays


def _gaps(released: Released, delay: int) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """The released interactions by customer, then release order (``order``), their customer
    codes and times in that order, whether each has its customer's interaction before it
    (``same``) more than ``delay`` earlier (``gap``: the timer of the interaction before falls
    due first), and the positions of each customer's first and last interaction (``heads``,
    ``ends``) in that order."""
    n = released.n
    order = released.by_customer()
    c_sorted, t_sorted = released.customer_codes[order], released.times[order]
    same = np.zeros(n, dtype=bool)
    same[1:] = c_sorted[1:] == c_sorted[:-1]
    gap = np.zeros(n, dtype=bool)
    gap[1:] = same[1:] & (t_sorted[1:] > t_sorted[:-1] + delay)
    heads = np.flatnonzero(~same)
    ends = np.append(heads[1:], n) - 1
    return order, c_sorted, t_sorted, same, gap, heads, ends


def _inactivity_held(
    runner: RuleRunner, columns: TimerColumns, released: Released, frontier: int
) -> None:
    """``when inactive for D`` held as columns (``_timer_columns.py``) over the released
    interactions, on arrays: a customer's timer of before the call fires where it falls due
    before their first interaction, the timer of each interaction where their next one comes
    more than D later; then the timer moves on to their last interaction, and every timer
    falling due before ``frontier`` fires. The firings are decided by the rule's policies in
    each customer's time order and kept as columns.

    ``runner.timers`` holds the rule's entries on the queue, which its columns replace: one
    entry is queued again at the earliest timer left."""
    plan, delay, before = columns.plan, columns.delay, runner.before
    found = _HeldFirings(plan, columns, keep=runner.suppressed is not None)
    n = released.n
    if n:
        order, _, t_sorted, same, gap, heads, ends = _gaps(released, delay)
        slots = columns.slots_of(released.customers[order[heads]].tolist())
        if before is not None:
            columns.save(slots, before)
        old = columns.view("due")[slots]
        # the timers falling due before the customer's next interaction: those of before
        # the call (anchored as the columns say) and those of the interactions before a gap
        early = np.flatnonzero(old < t_sorted[heads])
        before_gap = np.flatnonzero(gap) - 1  # sorted positions
        at_gap = order[before_gap]
        if len(early) or len(at_gap):
            group = np.cumsum(~same) - 1  # sorted position -> the customer's place in slots
            mine = slots[early]
            found.add(
                np.concatenate([mine, slots[group[before_gap]]]),
                np.concatenate([old[early], released.times[at_gap] + delay]),
                np.concatenate([columns.view("time")[mine], released.times[at_gap]]),
                np.concatenate([columns.kind[mine], released.kinds[at_gap]]),
                np.concatenate([columns.ident[mine], released.id_column(at_gap)]),
                np.concatenate([columns.view("rank")[mine], released.ranks[at_gap]]),
            )
        at = order[ends]  # each customer's last interaction anchors their timer
        times = released.times[at]
        columns.view("due")[slots] = times + delay
        columns.view("time")[slots] = times
        columns.view("seq")[slots] = released.start + at
        columns.view("rank")[slots] = released.ranks[at]
        columns.kind[slots] = released.kinds[at]
        columns.ident[slots] = released.id_column(at)
    due = columns.due_before(frontier)  # in time order, as advance fires them
    if len(due):
        runner.touch_all([columns.names[slot] for slot in due.tolist()])
        if before is not None:
            columns.save(due, before)
        found.add(
            due,
            columns.view("due")[due],
            columns.view("time")[due],
            columns.kind[due],
            columns.ident[due],
            columns.view("rank")[due],
        )
        columns.view("due")[due] = NEVER
    columns.refresh()
    runner.timers = []
    columns.queued = NEVER
    runner.queue_held(columns)
    found.output(runner)


def _timer_block(
    rule: Rule,
    customers: Sequence[Any],
    dues: Sequence[int],
    times: Sequence[int],
    kinds: Sequence[Any],
    ids: Sequence[Any],
    ranks: Sequence[int],
    reasons: Sequence[Any] | None,
) -> FiringBlock:
    """The firings of a ``when inactive for D`` rule's timers that fell due at ``dues``, of
    ``customers``, anchored on interactions at ``times`` of ``kinds``, ``ids`` and ``ranks``,
    as a block (suppressed for ``reasons``, emitted when ``None``)."""
    return FiringBlock(
        trigger=rule.name,
        action=rule.emit.action,
        customer=object_array(customers),
        rank=np.zeros(len(customers), dtype=np.int64),
        time=np.array(dues, dtype=np.int64),
        when_kind=object_array(kinds),
        when_time=np.array(times, dtype=np.int64),
        when_id=object_array(ids) if any(i is not None for i in ids) else None,
        anchor_rank=np.array(ranks, dtype=np.int64),
        restart=False,
        reason=None if reasons is None else object_array(reasons),
        ranked=False,
        absent=absence(rule),
    )


class _HeldFirings:
    """The firings of a ``when inactive for D`` rule held as columns over one call, decided
    by its policies in each customer's time order and kept as columns (emitted, and
    suppressed when the call returns them: ``keep``)."""

    def __init__(self, plan: RulePlan, columns: TimerColumns, *, keep: bool) -> None:
        self.rule = plan.rule
        self.columns = columns
        self.keep = keep
        self.keeps_last_emitted = plan.keeps_last_emitted
        # per outcome (emitted, suppressed): slot, due, anchor time, kind, id, rank, reason
        self.found: tuple[list[tuple[Any, ...]], ...] = ([], [])

    def add(self, slots: Any, dues: Any, times: Any, kinds: Any, ids: Any, ranks: Any) -> None:
        """Timers fell due: at ``dues``, anchored on interactions at ``times`` of ``kinds``,
        ``ids`` and ``ranks``, of the customers of ``slots`` (a customer's in time order,
        but apart from the customer's last emitted time the rule's policies read nothing:
        each customer is decided in time order, whatever the order of the others)."""
        rule, columns, keep = self.rule, self.columns, self.keep
        last, names = columns.last, columns.names
        keeps = self.keeps_last_emitted
        emitted, suppressed = self.found
        order = np.lexsort((dues, slots))
        for slot, due, time, kind, ident, rank in zip(
            slots[order].tolist(), dues[order].tolist(), times[order].tolist(),
            kinds[order].tolist(), ids[order].tolist(), ranks[order].tolist(), strict=True,
        ):  # fmt: skip
            previous = last[slot]
            reason = policy_reason(
                rule, None if previous == NO_TIME else previous, due, True, None, names[slot]
            )
            if reason is None:
                if keeps:
                    last[slot] = due
                emitted.append((slot, due, time, kind, ident, rank, None))
            elif keep:
                suppressed.append((slot, due, time, kind, ident, rank, reason))

    def output(self, runner: RuleRunner) -> None:
        """Add the firings to the call's output as blocks."""
        rule, names = self.rule, self.columns.names
        for found, out in zip(
            self.found, (runner.emitted_blocks, runner.suppressed_blocks), strict=True
        ):
            if not found:
                continue
            slots, dues, times, kinds, ids, ranks, reasons = zip(*found, strict=True)
            suppressed = out is runner.suppressed_blocks
            customers = [names[slot] for slot in slots]
            out.append(_timer_block(rule, customers, dues, times, kinds, ids, ranks,
                                    reasons if suppressed else None))  # fmt: skip


def _inactivity(
    runner: RuleRunner,
    plan: RulePlan,
    released: Released,
    states: dict[str, CustomerState],
    frontier: int,
) -> None:
    """``when inactive for D`` over the released interactions: a customer's timer falls due
    D after each of their interactions and fires where the next one comes later (or where
    the timer before the call falls due before their first one).

    ``runner.timers`` holds the rule's timers (in any order; a heap after) and keeps them as
    one by one keeps them: each pending timer has an entry falling due at or before it (a
    restarted timer is queued again at its new time when its old entry comes up:
    :meth:`RuleRunner.timer_due <cxmodel.triggers._runner.RuleRunner.timer_due>`). The batch customers' entries are taken
    off the queue and each is queued again once, at the time its timer falls due after the
    call, so that no entry of theirs comes up stale in a later call.
    """
    name, delay = plan.name, plan.delay
    assert delay is not None
    rule = plan.rule
    # firings kept as columns, unless an `if` or a payload needs the per-interaction path
    plain = rule.condition is None and not rule.emit.payload and not plan.customer_time
    decided = _TimerFirings(plan, keep=runner.suppressed is not None) if plain else None
    due, heap = _split(runner.timers, states, frontier)
    # the other customers' timers falling due, as advance fires them (or will, after)
    heap += due if decided is None else _due_elsewhere(runner, plan, due, frontier, decided)
    runner.timers = heap  # (no longer a heap: made one again below)
    queued: list[Timer] = []
    n = released.n
    if n:
        order, c_sorted, t_sorted, _, gap, heads, ends = _gaps(released, delay)
        before_gap = np.flatnonzero(gap) - 1
        # rows are made only for each customer's last interaction and those before a gap
        fired: dict[int, list[Row]] = {}

        def made(ks: Any) -> list[Row]:  # as restart keeps them (RulePlan.bare_anchor)
            return released.bare_rows(ks) if plan.bare_anchor else released.rows(ks)

        gap_rows = made(order[before_gap]) if len(before_gap) else []
        for code, row in zip(c_sorted[before_gap].tolist(), gap_rows, strict=True):
            fired.setdefault(code, []).append(row)
        names = released.customers[order[heads]].tolist()
        at = order[ends]  # each customer's last interaction
        times = released.times[at]
        dues = (times + delay).tolist()
        seqs = (released.start + at).tolist()
        queued = list(zip(dues, repeat(TIMER), seqs, names, repeat(name)))
        # each customer's state and rule state, looked up together
        customer_states = list(map(states.__getitem__, names))
        found: list[RuleState | None] = list(
            map(dict.get, map(_RULES, customer_states), repeat(name))
        )
        for j in list(compress(count(), map(is_, found, repeat(None)))):
            found[j] = customer_states[j].rule(name)
        rule_states = cast("list[RuleState]", found)
        timers = list(map(_TIMER, rule_states))
        # the customers whose timer (of before the call, or of an interaction before a gap)
        # falls due, or who have none: one at a time; the others' timers move on below
        one_by_one = np.zeros(len(names), dtype=bool)
        one_by_one[list(compress(count(), map(is_, timers, repeat(None))))] = True
        if fired:
            gapped = np.zeros(len(released.customer_names), dtype=bool)
            gapped[c_sorted[before_gap]] = True
            one_by_one |= gapped[c_sorted[heads]]
        old_dues = list(map(getattr, timers, repeat("due"), repeat(None)))
        if None in old_dues:  # no timer, or one waiting with no time limit: never earlier
            old_dues = [_NEVER if d is None else d for d in old_dues]
        one_by_one |= np.array(old_dues, dtype=np.int64) < t_sorted[heads]
        kinds, ranks = released.kinds[at].tolist(), released.ranks[at].tolist()
        ids = released.ids
        idents = list(map(ids.__getitem__, at.tolist()))
        rows = None if plan.bare_anchor else released.rows(at)
        times_list = times.tolist()
        # a timer that did not fall due moves on to the customer's last interaction in place
        # when its row is its own (bare) and no copy of it is kept for a rollback
        in_place = rows is None and runner.before is None
        special = np.flatnonzero(one_by_one).tolist() if in_place else range(len(names))
        starts, codes = t_sorted[heads].tolist(), c_sorted[heads].tolist()
        for j in special:
            cid, rs, timer = names[j], rule_states[j], timers[j]
            state = customer_states[j]
            gaps = fired.get(codes[j])
            earlier = timer is not None and timer.due is not None and timer.due < starts[j]
            if gaps is not None or earlier:
                due_anchors = [Anchor(r, r.time + delay, {}, {}) for r in gaps or ()]
                if earlier:
                    assert timer is not None
                    due_anchors.insert(0, timer)
                reader = runner.readers.get(cid) or runner.reader(cid)
                for anchor in due_anchors:
                    assert anchor.due is not None
                    rs.timer = None
                    if decided is not None:
                        decided.add(cid, rs, anchor.row, anchor.due)
                        continue
                    candidate = plan.candidate(state, anchor.due, anchor, None, None, reader)
                    runner.found(plan, state, candidate, reader)
            due = dues[j]
            if rows is not None:
                rs.timer = Anchor(rows[j], due, {}, {})
                continue
            kind, ident = kinds[j], idents[j]
            fields = bare_fields(kind, ident)
            if in_place and rs.timer is not None:  # as Row.bare makes it, in place
                assert timer is not None
                row = timer.row
                row.time, row.kind, row.fields = times_list[j], kind, fields
                row.interaction_id, row.seq, row.rank = ident, seqs[j], ranks[j]
                timer.due = due
            else:
                row = Row(cid, times_list[j], kind, fields, seqs[j], ranks[j])
                rs.timer = Anchor(row, due, {}, {})
        if in_place:  # the rest move on in place, as Row.bare makes them, an attribute at a time
            moving = np.flatnonzero(~one_by_one).tolist()
            pick = partial(_picked, moving)
            moved = pick(timers)
            moved_rows = list(map(_ROW, moved))
            kind_list, ident_list = pick(kinds), pick(idents)
            for attribute, values in (
                ("time", pick(times_list)),
                ("kind", kind_list),
                ("fields", list(map(bare_fields, kind_list, ident_list))),
                ("interaction_id", ident_list),
                ("seq", pick(seqs)),
                ("rank", pick(ranks)),
            ):
                deque(map(setattr, moved_rows, repeat(attribute), values), maxlen=0)
            deque(map(setattr, moved, repeat("due"), pick(dues)), maxlen=0)
    heap.extend(queued)
    heapq.heapify(heap)
    runner.timers = heap
    if decided is not None:
        decided.output(runner)


_RULES = attrgetter("rules")
_TIMER = attrgetter("timer")
_ROW = attrgetter("row")
_NEVER = np.iinfo(np.int64).max


def _picked(positions: list[int], values: list[Any]) -> list[Any]:
    """The items of ``values`` at ``positions``."""
    return list(map(values.__getitem__, positions))


def _split(
    heap: list[Timer], batch: dict[str, CustomerState], frontier: int
) -> tuple[list[Timer], list[Timer]]:
    """The entries of ``heap`` (a rule's timers) falling due before ``frontier``, sorted,
    and the others, in one pass over the entries (whose tuples are read once), but those of
    the ``batch`` customers' timers (and of their waiting firings falling due)."""
    due: list[Timer] = []
    rest: list[Timer] = []
    early, late = due.append, rest.append
    for entry in heap:
        if entry[0] < frontier:
            if entry[3] not in batch:
                early(entry)
        elif entry[3] not in batch or entry[1] != TIMER:
            late(entry)
    due.sort()
    return due, rest


def _due_elsewhere(
    runner: RuleRunner,
    plan: RulePlan,
    due: list[Timer],
    frontier: int,
    decided: _TimerFirings,
) -> list[Timer]:
    """Fire the timers of ``due`` (the rule's timers falling due before ``frontier``, sorted;
    the batch customers' taken off) in time order as :meth:`RuleRunner.advance
    <cxmodel.triggers._runner.RuleRunner.advance>` does, into ``decided``. Return the
    entries restarted timers were queued again with, falling due from ``frontier`` on."""
    name, states = plan.name, runner.states
    runner.timers = heap = due  # a heap, which timer_due pushes the restarted timers onto
    while heap and heap[0][0] < frontier:
        when, _, order, cid, _ = heapq.heappop(heap)
        state = states.get(cid)
        rs = None if state is None else state.rules.get(name)
        timer = None if rs is None else runner.timer_due(rs, when, order, cid, name)
        if rs is not None and timer is not None:
            decided.add(cid, rs, timer.row, when)
    return heap


class _TimerFirings:
    """The firings of a ``when inactive for D`` rule's timers over one call, decided by the
    rule's policies as they fall due and kept as columns (:class:`FiringBlock`), emitted and
    suppressed (those only when the call returns them, ``keep``)."""

    def __init__(self, plan: RulePlan, *, keep: bool) -> None:
        self.rule = plan.rule
        self.keep = keep
        self.keeps_last_emitted = plan.keeps_last_emitted
        # per outcome (emitted, suppressed): customer, time, anchor row, reason
        self.found: tuple[list[tuple[str, int, Row, str | None]], ...] = ([], [])

    def add(self, cid: str, rs: RuleState, row: Row, due: int) -> None:
        """The timer anchored on ``row`` fell due at ``due``: decide it (as
        :meth:`RuleRunner.decide <cxmodel.triggers._runner.RuleRunner.decide>` does)."""
        reason = policy_reason(self.rule, rs.last_emitted, due, True, None, cid)
        if reason is None:
            if self.keeps_last_emitted:
                rs.last_emitted = due
            self.found[0].append((cid, due, row, None))
        elif self.keep:
            self.found[1].append((cid, due, row, reason))

    def output(self, runner: RuleRunner) -> None:
        """Add the firings to the call's output as blocks."""
        rule = self.rule
        for found, out in zip(
            self.found, (runner.emitted_blocks, runner.suppressed_blocks), strict=True
        ):
            if not found:
                continue
            cids, dues, rows, reasons = zip(*found, strict=True)
            suppressed = out is runner.suppressed_blocks
            out.append(
                _timer_block(
                    rule, cids, dues, [row.time for row in rows], [row.kind for row in rows],
                    [row.interaction_id for row in rows], [row.rank for row in rows],
                    reasons if suppressed else None,
                )
            )  # fmt: skip
