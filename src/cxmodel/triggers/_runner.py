"""Compiled rules run over customers' states in event time: the streaming engine's work.

:class:`RuleRunner` takes released interactions one at a time into their customer's
:class:`~cxmodel.triggers._customer.CustomerState`, runs the :class:`RulePlan` of every rule
that reads the interaction's kind, keeps one queue of timers (firings falling due, anchors
running out, firings waiting for quiet hours to end), and decides each firing found with the
rule's policies. Catalogue events (no customer) wait on the same queue for their time and
are decided by its :class:`~cxmodel.triggers._catalogue_stream.CatalogueRunner`. The engine
(``_engine.py``) feeds it in time order (through its delivery, ``_delivery.py``), commits what
it changed and answers the host.
"""

from __future__ import annotations

import bisect
import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np

from cxmodel._time import us_to_datetime
from cxmodel.triggers._alert_stream import AlertMonitor
from cxmodel.triggers._alerts import numeric_fields as alert_numeric_fields
from cxmodel.triggers._calendar import _zone_name
from cxmodel.triggers._catalogue_stream import CatalogueRunner
from cxmodel.triggers._contact import ContactPolicy, blocking, contact_reason, remember
from cxmodel.triggers._customer import (
    NO_TIME,
    Anchor,
    Bookkeeping,
    CustomerState,
    RuleState,
    Waiting,
)
from cxmodel.triggers._firings import Firing, FiringBlock, firing_id
from cxmodel.triggers._ingest import CATALOGUE, NUMBER_FIELDS, Row
from cxmodel.triggers._operators import (
    AggregatePlan,
    Candidate,
    Reader,
    RulePlan,
    iso_text,
    numeric_fields,
    numeric_traits,
)
from cxmodel.triggers._policies import (
    customer_consent,
    policy_reason,
    quiet_until,
    take_consent,
)
from cxmodel.triggers._rules import RuleSet
from cxmodel.triggers._timer_columns import NEVER, TimerColumns, held_on_arrays
from cxmodel.triggers._truths import record_checks, truth_uses

__all__ = ["DECISION", "TIMER", "RuleRunner"]

TIMER, DECISION = 0, 1
_NO_SNAPSHOTS: dict[str, dict[str, Any]] = {}
_NO_SNAPSHOT: dict[str, Any] = {}  # read only: a rule without ``before x`` aggregates


class RuleRunner:
    """The rules' state over all customers, and the work of one engine call on it.

    ``touched`` collects the customers a call changed (``before`` their states before it, for
    a rollback, when not ``None``); ``emitted`` and ``suppressed`` the firings it decided
    (``suppressed`` is ``None`` in a call that returns only the emitted ones: suppressed
    firings are then not built).
    """

    def __init__(self, rules: RuleSet, customers: Mapping[str, Any]) -> None:
        self.customers = customers
        self.traits: dict[str, dict[str, Any]] = {}
        self.readers: dict[str, Reader] = {}
        self.aggregates: dict[str, AggregatePlan] = {}
        self.plans: dict[str, RulePlan] = {}
        for rule in rules:
            self.plans[rule.name] = RulePlan(rule, self.aggregates)
        self.contact: dict[str, ContactPolicy] = {}  # rule name -> the policy it follows
        self.use_policies(rules)
        self.alerts = AlertMonitor(rules.alerts)  # over everyone: its state is in the meta
        self.states: dict[str, CustomerState] = {}
        #: every customer's latest time and tie count, which their states read
        self.book = Bookkeeping()
        #: the rules whose state is held as columns (see ``_timer_columns.py``): changed in
        #: place, since every customer's state refers to it
        self.held: dict[str, TimerColumns] = {}
        self.held_list: list[TimerColumns] = []
        #: the columns of rules a change of the rules removed, until it is committed: a
        #: change rolled back takes them back (see ``_engine_rules.change_rules``)
        self.held_gone: dict[str, TimerColumns] = {}
        #: the customers whose states may remember interaction ids (every one that does is
        #: here), each with a time at or before its earliest id, the time it is queued at in
        #: :attr:`id_queue` (in no order between two sweeps, sorted by each): forgetting ids
        #: looks only at those whose time has come
        self.remembering: dict[str, int] = {}
        self.id_queue: list[tuple[int, str]] = []
        #: likewise, the customers whose states may hold values in windows, kept rows or
        #: catalogue join buffers, which :meth:`trim_buffers` trims
        self.buffering: set[str] = set()
        self.catalogue = CatalogueRunner()
        self.timers: list[tuple[int, int, int, str, str]] = []
        self.seq = 0
        self.touched: set[str] = set()
        self.before: dict[str, CustomerState | None] | None = None
        self.emitted: list[Firing] = []
        self.suppressed: list[Firing] | None = []  # None: the call returns none of them
        #: firings a large micro-batch decided on arrays, kept as columns (emitted, suppressed)
        self.emitted_blocks: list[FiringBlock] = []
        self.suppressed_blocks: list[FiringBlock] = []
        self.index()

    def index(self) -> None:
        """Which plans and aggregates each kind of interaction concerns."""
        #: whether a rule is in customer time: only then is a customer's ``timezone`` read
        self.zoned = any(plan.rule.in_customer_time for plan in self.plans.values())
        self.readers.clear()  # a zone read, or not, as the rules now say
        self.aggregates_by_kind: dict[str, list[AggregatePlan]] = {}
        self.rows_kept: dict[str, int | None] = {}  # kind -> look-back of the rows kept (None: all)
        used: set[str] = set()
        for plan in self.plans.values():
            used.update(plan.aggregates)
        for key in used:
            agg = self.aggregates[key]
            if agg.mode == "pairs":
                old = self.rows_kept.get(agg.kind, 0)
                self.rows_kept[agg.kind] = (
                    None if old is None or agg.lookback is None else max(old, agg.lookback)
                )
            elif all(
                agg.store_key != a.store_key for a in self.aggregates_by_kind.get(agg.kind, [])
            ):
                self.aggregates_by_kind.setdefault(agg.kind, []).append(agg)
        self.every_kind: list[RulePlan] = []  # inactive / no ... for: every kind concerns them
        self._by_kind: dict[str, list[RulePlan]] = {}
        self._hold()
        for plan in self.plans.values():
            if plan.rule.when.reach is not None:  # a catalogue rule: see self.catalogue
                continue
            if plan.name in self.held:  # restarted on its columns (held_list)
                continue
            if plan.when_mode != "event":
                self.every_kind.append(plan)
                if plan.when_mode == "absent":
                    continue
            kinds = {plan.when_kind, plan.then_kind, plan.block_kind} - {None}
            for kind in kinds:
                assert kind is not None
                self._by_kind.setdefault(kind, []).append(plan)
        #: properties some rule computes with -> one such rule's name
        self.numeric: dict[str, str] = {}
        for plan in self.plans.values():
            for name in numeric_fields(plan.rule):
                self.numeric.setdefault(name, plan.name)
        for alert_plan in self.alerts.plans.values():
            for name in alert_numeric_fields(alert_plan.alert):
                self.numeric.setdefault(name, alert_plan.name)
        #: properties some rule reads as true/false, or compares with text or a number
        self.truths = truth_uses(
            (plan.rule for plan in self.plans.values()),
            (plan.alert for plan in self.alerts.plans.values()),
        )
        #: what the engine checks of each record (numeric and truths: see record_checks)
        self.record_checks = record_checks(self.numeric, self.truths)
        #: customer traits some rule computes with or compares with a number -> one such
        #: rule's name (a customer's text there is refused: see TriggerEngine)
        self.numeric_traits = numeric_traits(plan.rule for plan in self.plans.values())
        #: whether a call can fail part way through, once it has changed states: an
        #: aggregate (of a rule or an alert) orders a property that may hold text beside
        #: numbers, which only the customer's values say (see TriggerEngine._call)
        ordered = [self.aggregates[key] for key in used]
        ordered += [a for plan in self.alerts.plans.values() for a in plan.aggregates.values()]
        self.may_fail = any(
            agg.function.orders and agg.field not in NUMBER_FIELDS and agg.field not in self.numeric
            for agg in ordered
        )
        self._windows = {
            kind: [a for a in lst if a.mode == "window"]
            for kind, lst in self.aggregates_by_kind.items()
        }
        self._snapshots: dict[str, list[RulePlan]] = {}
        for plan in self.plans.values():
            if plan.snapshots and plan.when_kind is not None and plan.rule.when.reach is None:
                self._snapshots.setdefault(plan.when_kind, []).append(plan)
        self.catalogue.plan(self.plans, self.states)
        #: how often (microseconds of event time) :meth:`trim_buffers` runs: the longest
        #: look-back of a window, kept rows or a join buffer (``None``: none is trimmed), so
        #: that a sweep looks at about the customers who brought values in one period
        self.buffer_period: int | None = max(
            [a.lookback for aggs in self._windows.values() for a in aggs if a.lookback]
            + [j.lookback for joins in self.catalogue.joins.values() for j in joins]
            + [back for back in self.rows_kept.values() if back is not None],
            default=None,
        )
        if self.buffer_period is None:  # no rule keeps a buffer: tidy drops every one
            self.buffering.clear()
        #: the kinds whose interactions add to a window, kept rows or a join buffer
        self.buffered_kinds = {*self._windows, *self.catalogue.joins, *self.rows_kept}
        #: the values some active rule reads: running values and windows by store key (a
        #: catalogue rule's join buffers among them), kept rows by kind
        self._held_running = {
            a.store_key for a in self.aggregates.values() if a.key in used and a.mode != "pairs"
        }
        self._held_windows = self._held_running | {
            j.store_key for joins in self.catalogue.joins.values() for j in joins
        }

    def _hold(self) -> None:
        """Hold the state of the rules :func:`held_on_arrays` says as columns: a rule that
        becomes one has its customers' states taken into its columns, one that stops being
        one (still active: a contact policy now decides it) has them put back."""
        wanted = {
            name: plan
            for name, plan in self.plans.items()
            if plan.rule.when.reach is None and held_on_arrays(plan, self.contact)
        }
        for name, columns in list(self.held.items()):
            if wanted.get(name) is columns.plan:
                continue
            del self.held[name]
            if self.plans.get(name) is not columns.plan:  # the rule went, with its state
                self.held_gone[name] = columns
                for cid in [c for c in columns.slots if columns.rule_state(c) is not None]:
                    if cid in self.states:
                        self.touch(cid)  # (so that the store drops it too)
                continue
            for cid in list(columns.slots):  # still active: back into the states
                state, rs = self.states.get(cid), columns.rule_state(cid)
                if state is not None and rs is not None:
                    state.rules[name] = rs
                    self.schedule(state, only=name)
        for name, plan in wanted.items():
            if name in self.held:
                continue
            gone = self.held_gone.pop(name, None)
            if gone is not None and gone.plan is plan:  # a removal rolled back
                self.held[name] = gone
                gone.queued = NEVER
                self.queue_held(gone)
            else:
                self.held[name] = TimerColumns(plan)
                for state in self.states.values():
                    if name in state.rules:
                        self.schedule(state, only=name)
        self.held_list = list(self.held.values())

    def rule_state(self, state: CustomerState, name: str) -> RuleState | None:
        """The customer's state of rule ``name``, from their state or the rule's columns."""
        rs = state.rules.get(name)
        if rs is None and name in self.held:
            rs = self.held[name].rule_state(state.customer)
        return rs

    def use_policies(self, rules: RuleSet) -> None:
        """Follow the contact policies of ``rules`` (the engine's rules, after a change)."""
        self.contact = {name: p for p in rules.policies for name in p.rules}
        #: the policies in use, whose counts the customers' states keep
        self.policies = frozenset(p.name for p in self.contact.values())

    def schedule(self, state: CustomerState, only: str | None = None) -> None:
        """Put a customer's timers and waiting firings (of rule ``only``, or every active
        rule) on the timer queue."""
        cid = state.customer
        state.held = self.held
        self.book.adopt(state)
        if state.seen:
            self.remember(cid, next(iter(state.seen.values())))
        if _holds_buffers(state):
            self.buffering.add(cid)
        self.catalogue.register(state)
        for name, rs in list(state.rules.items()):
            if name not in self.plans if only is None else name != only:
                continue
            columns = self.held.get(name)
            if columns is not None:  # taken into the rule's columns
                del state.rules[name]
                self.queue_held_at(name, columns.adopt(cid, rs, self.before))
                continue
            if rs.timer is not None and rs.timer.due is not None:
                heapq.heappush(self.timers, (rs.timer.due, TIMER, rs.timer.row.seq, cid, name))
            for seq, anchor in rs.anchors.items():
                if anchor.due is not None:
                    heapq.heappush(self.timers, (anchor.due, TIMER, seq, cid, name))
            for waiting in rs.waiting:
                heapq.heappush(self.timers, (waiting.due, DECISION, waiting.order, cid, name))

    def tidy(self, state: CustomerState, gone: frozenset[str] = frozenset()) -> None:
        """Drop from a customer's state the states of rules no longer active (or in ``gone``:
        rules whose text changed), the values no active rule reads any longer and the counts
        of contact policies no longer in use, touching the customer first when anything
        goes. A value no rule kept up to date has missed interactions: a rule that reads it
        again must find it empty, not stale."""
        plans = self.plans
        stale_rules = [name for name in state.rules if name in gone or name not in plans]
        running = [k for k in state.running if k not in self._held_running]
        windows = [k for k in state.windows if k not in self._held_windows]
        kept = [k for k in state.kept if k not in self.rows_kept]
        contacts = [name for name in state.contacts if name not in self.policies]
        if not (stale_rules or running or windows or kept or contacts):
            return
        self.touch(state.customer)
        for name in stale_rules:
            del state.rules[name]
        for key in running:
            del state.running[key]
        for key in windows:
            del state.windows[key]
        for kind in kept:
            del state.kept[kind]
        for name in contacts:
            del state.contacts[name]

    def touch(self, cid: str) -> CustomerState:
        state = self.states.get(cid)
        if cid not in self.touched:
            self.touched.add(cid)
            if self.before is not None:  # a copy to roll back to if the call's commit fails
                self.before[cid] = None if state is None else state.copy()
        if state is None:
            state = self.states[cid] = CustomerState(cid, self.held, self.book)
        return state

    def touch_all(self, cids: list[str]) -> list[CustomerState]:
        """:meth:`touch` each of ``cids`` (distinct), in order; return their states. With
        no copy to keep for a rollback, the customers are looked up and marked touched
        together."""
        if self.before is not None:
            return list(map(self.touch, cids))
        states = self.states
        found = list(map(states.get, cids))
        if None in found:  # new customers, found by list.index (a scan in C)
            held, book, j = self.held, self.book, -1
            for _ in range(found.count(None)):
                j = found.index(None, j + 1)
                cid = cids[j]
                found[j] = states[cid] = CustomerState(cid, held, book)
        self.touched.update(cids)
        return cast("list[CustomerState]", found)  # (no None left)

    def remember(self, cid: str, time: int) -> None:
        """Note that customer ``cid`` remembers an interaction id taken at ``time``, so that
        :meth:`forget_ids` looks at them once ids of that time are to go."""
        queued = self.remembering.get(cid)
        if queued is None or time < queued:
            self.remembering[cid] = time
            self.id_queue.append((time, cid))

    def forget_ids(self, before: int) -> None:
        """Forget every customer's and the catalogue's interaction ids of times before
        ``before`` (they can no longer be re-delivered without being late); the customers
        changed are touched, so the call commits them (the catalogue's are in the meta). A
        customer's ids are in release order, so time order: the first says whether any is to
        go. Only the customers queued (:attr:`remembering`) at a time before ``before`` are
        looked at; those who still remember ids are queued again at their earliest. The queue
        is sorted here, where it is mostly in order already (the entries left by the last
        sweep, sorted, then those added since, in about time order), rather than kept as a
        heap at every interaction."""
        self.catalogue.forget_ids(before)
        states, remembering, queue = self.states, self.remembering, self.id_queue
        queue.sort()
        due = bisect.bisect_left(queue, (before,))
        if not due:
            return
        looked, queue[:due] = queue[:due], []
        touched = self.touched
        for queued, cid in looked:
            if remembering.get(cid) != queued:
                continue  # queued again at an earlier time, or erased
            state = states.get(cid)
            seen = None if state is None else state.seen
            if seen and next(iter(seen.values())) < before:
                if cid not in touched:
                    self.touch(cid)  # (a copy kept first, if the call may roll back)
                if next(reversed(seen.values())) < before:  # the usual case: all of them
                    seen.clear()
                else:
                    for key in [k for k, t in seen.items() if t < before]:
                        del seen[key]
            if seen:
                first = remembering[cid] = next(iter(seen.values()))
                queue.append((first, cid))
            else:  # forgotten, or erased
                del remembering[cid]

    def trim_buffers(self, now: int) -> None:
        """Trim every customer's windows, kept rows and catalogue join buffers as an
        interaction of their kind at ``now`` would: a customer trims a buffer as the kind's
        interactions arrive, and one who has none any more (who went quiet, or stopped
        buying) would otherwise keep values no query at ``now`` or later reads. The customers
        changed are touched; only those who may hold such values (:attr:`buffering`) are
        looked at. Run once per :attr:`buffer_period` of event time, at multiples of it
        (see :meth:`Delivery.trim_buffers <cxmodel.triggers._delivery.Delivery.trim_buffers>`),
        so that any cut of a stream into calls trims alike."""
        if not self.buffering:
            return
        windows = [agg for aggs in self._windows.values() for agg in aggs]
        joins = [join for js in self.catalogue.joins.values() for join in js]
        kept = [(kind, back) for kind, back in self.rows_kept.items() if back is not None]
        states, done = self.states, []
        for cid in self.buffering:
            state = states.get(cid)
            if state is None or not _holds_buffers(state):
                done.append(cid)
                continue
            if (
                any(_older(state.windows.get(a.store_key), now, a.lookback) for a in windows)
                or any(_older(state.windows.get(j.store_key), now, j.lookback) for j in joins)
                or any(_older_rows(state.kept.get(kind), now - back) for kind, back in kept)
            ):
                state = self.touch(cid)  # (a copy kept first, if the call may roll back)
                for agg in windows:
                    agg.trim(state, now)
                for join in joins:
                    self.catalogue.trim(state, join, now)
                for kind, back in kept:
                    _trim_rows(state.kept.get(kind), now - back)
                if not _holds_buffers(state):
                    done.append(cid)
        self.buffering.difference_update(done)

    def holding(self, customers: Iterable[str]) -> None:
        """Note ``customers`` as ones who may hold values :meth:`trim_buffers` may trim (the
        customers of interactions of :attr:`buffered_kinds` a call took a rule at a time)."""
        self.buffering.update(customers)

    def forget(self, cid: str) -> None:
        """Erase customer ``cid``: their state and traits, and every reference the runner
        keeps to them (the catalogue's index, alerts' windows of customer ids). The timers
        queued for them leave the queue when they fall due, firing nothing."""
        state = self.states.pop(cid, None)
        if state is not None:
            self.catalogue.unregister(state)
        self.book.forget(cid)
        for columns in [*self.held_list, *self.held_gone.values()]:
            columns.forget(cid)
        self.remembering.pop(cid, None)
        self.buffering.discard(cid)
        self.traits.pop(cid, None)
        self.readers.pop(cid, None)
        self.alerts.forget(cid)

    def refuse_held(self, held: list[Row]) -> None:
        """Refuse interactions ``held`` back for lateness (in release order) that an
        aggregate ordering its values (of a rule or an alert) could not order against the
        values beside them once released: text beside numbers. Refused in the call that
        brings them, which is put back, rather than in every call that would release them."""
        traits = self.traits
        for aggs in self.aggregates_by_kind.values():
            for agg in aggs:
                agg.refuse_held(self.states, held, traits)
        self.alerts.refuse_held(held, traits)

    def put_back(self) -> None:
        """Put the customers a call touched back as :meth:`touch` copied them (``before``),
        their timers scheduled again: the call failed."""
        assert self.before is not None
        for columns in self.held_list:
            columns.roll_back(self.before)
            columns.queued = NEVER
            self.queue_held(columns)
        for cid, state in self.before.items():
            if state is None:
                self.states.pop(cid, None)
                self.book.forget(cid)
            else:
                self.states[cid] = state
                self.schedule(state)

    def reader(self, cid: str) -> Reader:
        """What evaluations for customer ``cid`` read besides its state (cached)."""
        reader = self.readers.get(cid)
        if reader is None:
            traits = self.traits.get(cid, {})
            zone = (
                _zone_name(cid, traits.get("timezone"), "(in customer timezone)")
                if self.zoned
                else None
            )
            reader = self.readers[cid] = Reader(traits, zone)
        return reader

    def release(self, row: Row) -> None:
        """Take one interaction into its customer's state and run the rules it concerns."""
        time = row.time
        timers = self.timers
        if timers and timers[0][0] < time:
            self.advance(time, inclusive=False)
        cid = row.customer
        if cid == CATALOGUE:  # decided at its time, once every interaction is in
            row.seq = self.seq
            self.seq += 1
            self.catalogue.release(row, timers, TIMER)
            return
        state = self.states.get(cid)
        if state is None or cid not in self.touched:
            state = self.touch(cid)
        slot, book = state.slot, state.book
        last_time = book.last_time[slot]
        first = last_time == NO_TIME
        if last_time == time:
            row.rank = book.tie_count[slot]
            book.tie_count[slot] += 1
        else:
            row.rank = 0
            book.tie_count[slot] = 1
        row.seq = self.seq
        self.seq += 1
        kind = row.kind
        reader = self.readers.get(cid) or self.reader(cid)
        snapshots = (
            {p.name: p.snapshot(state) for p in self._snapshots[kind]}
            if kind in self._snapshots
            else _NO_SNAPSHOTS
        )
        if kind in self.aggregates_by_kind:
            for agg in self.aggregates_by_kind[kind]:
                agg.update(state, row, cid, reader.traits)
        if kind in self._windows:
            for agg in self._windows[kind]:
                agg.trim(state, time)
            self.buffering.add(cid)
        if kind in self.catalogue.joins:
            self.catalogue.take(state, row)
            self.buffering.add(cid)
        if kind in self.rows_kept:
            self.buffering.add(cid)
            kept = state.kept.get(kind)
            if kept is None:
                kept = state.kept[kind] = deque()
            kept.append(row)
            back = self.rows_kept[kind]
            if back is not None:
                _trim_rows(kept, time - back)
        if kind == "consent_granted" or kind == "consent_revoked":
            take_consent(state, kind, row.fields.get("purpose"))
        book.last_time[slot] = time
        ident = row.interaction_id
        if ident is not None:  # forgotten by forget_ids once it can only be late
            # in time order, which forget_ids reads: an id taken again (further apart than
            # the redelivery window: another interaction) moves to the end
            seen = state.seen
            seen.pop(ident, None)
            seen[ident] = time
            self.remember(cid, time)
        for plan in self.every_kind:
            self.restart(plan, state, row, first, reader)
        for columns in self.held_list:
            when = columns.restart(cid, row, self.before)
            if when is not None:
                self.queue_held_at(columns.name, when)
        if kind in self._by_kind:
            for plan in self._by_kind[kind]:
                if plan.when_mode == "event":
                    self.on_event(plan, state, row, snapshots.get(plan.name, {}), reader)
        if self.alerts.plans:
            self.decided(self.alerts.take(row, reader.traits))

    def decided(self, firings: tuple[list[Firing], list[Firing]]) -> None:
        """Add firings decided elsewhere (an alert's) to the call's output."""
        self.emitted.extend(firings[0])
        if self.suppressed is not None:
            self.suppressed.extend(firings[1])

    def restart(
        self, plan: RulePlan, state: CustomerState, row: Row, first: bool, reader: Reader
    ) -> None:
        """``inactive for D`` (every interaction restarts the clock) and ``no E for D``
        (the first interaction and every matching E do)."""
        time = row.time
        if plan.when_mode == "absent":
            match = row.kind == plan.when_kind and (
                plan.when_where is None
                or bool(plan.when_where(plan.env(state, row, time, None, _NO_SNAPSHOT, reader)))
            )
            if not (match or first):
                return
        rs = state.rules.get(plan.name) or state.rule(plan.name)
        tested = {}
        if plan.ev_when:
            env = plan.env(state, row, time, row, _NO_SNAPSHOT, reader)
            tested = plan.tested(plan.ev_when, env, row, reader)
        if plan.bare_anchor:
            row = row.bare()
        timer = rs.timer
        if timer is not None and timer.row.time == time:
            timer.row = row  # the same time: the later interaction anchors it
            timer.tested = tested
            return
        due = time + plan.delay if plan.delay is not None else plan.due(time, reader)
        if timer is not None:
            # the queue holds an entry at or before the old due time, which moves on to the
            # new one when it comes; a calendar month can make a later restart fall due
            # earlier (Jan 30 + 1 month = Feb 29 = Jan 31 + 1 month), and then it needs its own
            if timer.due is None or due < timer.due:
                heapq.heappush(self.timers, (due, TIMER, row.seq, state.customer, plan.name))
            timer.row, timer.due, timer.tested = row, due, tested
            return
        rs.timer = Anchor(row, due, {}, tested)
        heapq.heappush(self.timers, (due, TIMER, row.seq, state.customer, plan.name))

    def on_event(
        self,
        plan: RulePlan,
        state: CustomerState,
        row: Row,
        snapshot: dict[str, Any],
        reader: Reader,
    ) -> None:
        kind = row.kind
        rs = state.rules.get(plan.name)
        if rs is not None and rs.anchors:
            if plan.then_mode == "event" and kind == plan.then_kind:
                for seq, anchor in list(rs.anchors.items()):
                    if anchor.due is not None and anchor.due < row.time:
                        del rs.anchors[seq]
                        continue
                    if anchor.row.time >= row.time:
                        continue
                    then_tested = plan.completes(state, row, anchor, reader)
                    if then_tested is not None:
                        del rs.anchors[seq]
                        found = plan.candidate(state, row.time, anchor, row, then_tested, reader)
                        self.found(plan, state, found, reader)
            elif plan.then_mode in ("absent", "after") and kind == plan.block_kind:
                for seq, anchor in list(rs.anchors.items()):
                    due = anchor.due
                    assert due is not None
                    if anchor.row.time < row.time <= due and plan.blocks(
                        state, row, anchor, reader
                    ):
                        del rs.anchors[seq]
        if kind != plan.when_kind:
            return
        tested = plan.anchor_test(state, row, snapshot, reader)
        if tested is None:
            return
        if plan.then_mode is None:
            anchor = Anchor(row, None, snapshot, tested)
            self.found(plan, state, self.candidate(plan, state, row.time, anchor, reader), reader)
            return
        if rs is None:
            rs = state.rule(plan.name)
        if plan.then_mode == "event":
            until = plan.limit(row.time, reader)
        else:
            until = row.time + plan.delay if plan.delay is not None else plan.due(row.time, reader)
        rs.anchors[row.seq] = Anchor(row, until, snapshot, tested)
        if until is not None:
            heapq.heappush(self.timers, (until, TIMER, row.seq, state.customer, plan.name))

    def timers_due(self, time: int, at_least: int) -> bool:
        """Whether at least ``at_least`` entries of the timer queue fall due at or before
        ``time``: the heap is walked from its root through due entries only, so the work
        is at most ``at_least`` entries, however long the queue.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> runner = RuleRunner(parse("trigger t:\\n    when view\\n    emit x"), {})
        >>> runner.timers = [(1, 0, 0, "a", "t"), (5, 0, 1, "b", "t"), (2, 0, 2, "c", "t")]
        >>> runner.timers_due(2, 2), runner.timers_due(2, 3)
        (True, False)
        """
        for columns in self.held_list:  # (their entries on the queue count too: at most one)
            at_least -= int(np.count_nonzero(columns.view("due") <= time))
        if at_least <= 0:
            return True
        heap = self.timers
        size = len(heap)
        stack = [0] if size and heap[0][0] <= time else []
        found = 0
        while stack:  # a subtree's root falls due before any entry under it
            at = stack.pop()
            found += 1
            if found >= at_least:
                return True
            stack.extend(c for c in (2 * at + 1, 2 * at + 2) if c < size and heap[c][0] <= time)
        return False

    def advance(self, limit: int, *, inclusive: bool) -> None:
        """Fire the timers and decide the waiting firings due before ``limit`` (at or
        before, when ``inclusive``), in time order; evaluate the alerts up to ``limit``."""
        if self.alerts.plans:
            self.decided(self.alerts.advance(limit, inclusive=inclusive))
        timers = self.timers
        states, plans, touched = self.states, self.plans, self.touched
        while timers and (timers[0][0] < limit or (inclusive and timers[0][0] == limit)):
            due, phase, order, cid, name = heapq.heappop(timers)
            if cid == CATALOGUE:
                if name:  # a rule's timers held as columns
                    self.fire_held(name, limit + 1 if inclusive else limit)
                else:
                    self.catalogue.fire(self, order)
                continue
            state = states.get(cid)
            plan = plans.get(name)
            if state is None or plan is None:
                continue
            rs = state.rules.get(name)
            if rs is None:
                continue
            if phase == DECISION:
                policy = self.contact.get(name)
                if policy is not None:
                    self.decide_together(policy, state, due)
                    continue
                for j, waiting in enumerate(rs.waiting):
                    if waiting.due == due and waiting.order == order:
                        if cid not in touched:
                            self.touch(cid)
                        rs.waiting = rs.waiting[:j] + rs.waiting[j + 1 :]
                        self.decide(plan, state, waiting.due, waiting.parts, waiting.consent)
                        break
                continue
            if plan.when_mode != "event":
                timer = self.timer_due(rs, due, order, cid, name)
                if timer is not None:
                    reader = self.readers.get(cid) or self.reader(cid)
                    self.found(plan, state, self.candidate(plan, state, due, timer, reader), reader)
                continue
            anchor = rs.anchors.get(order)
            if anchor is None or anchor.due != due:
                continue
            if cid not in touched:
                self.touch(cid)
            del rs.anchors[order]
            if plan.then_mode == "event":
                continue  # 'within D' ran out
            reader = self.readers.get(cid) or self.reader(cid)
            self.found(plan, state, self.candidate(plan, state, due, anchor, reader), reader)

    def fire_held(self, name: str, limit: int) -> None:
        """Fire the timers of rule ``name`` (held as columns) falling due before ``limit``,
        in time order, and queue the rule's entry again at its next timer."""
        columns = self.held.get(name)
        if columns is None:  # the rule went
            return
        columns.queued = NEVER  # (this entry left the queue)
        slots, blocks = columns.due_soon(limit)
        if len(slots):
            if self.before is not None:
                columns.save(slots, self.before)
            plan, due, names = columns.plan, columns.due, columns.names
            for slot in slots.tolist():
                when, cid, anchor = due[slot], names[slot], columns.anchor(slot)
                due[slot] = NEVER
                assert cid is not None
                state = self.touch(cid)
                reader = self.readers.get(cid) or self.reader(cid)
                self.found(plan, state, self.candidate(plan, state, when, anchor, reader), reader)
        columns.refresh(blocks)
        self.queue_held(columns)

    def queue_held(self, columns: TimerColumns) -> None:
        """Queue an entry for the earliest timer of ``columns``, unless one is queued."""
        when = columns.queue_at(columns.earliest())
        self.queue_held_at(columns.name, None if when == NEVER else when)

    def queue_held_at(self, name: str, when: int | None) -> None:
        """Queue the entry of rule ``name`` (held as columns) at ``when`` (``None``: none
        needed; see :meth:`TimerColumns.queue_at
        <cxmodel.triggers._timer_columns.TimerColumns.queue_at>`)."""
        if when is not None:
            heapq.heappush(self.timers, (when, TIMER, -1, CATALOGUE, name))

    def timer_due(self, rs: RuleState, due: int, order: int, cid: str, name: str) -> Anchor | None:
        """The ``when inactive`` / ``when no`` timer of rule ``name`` popped from the queue
        as due at ``due``, taken off the customer's rule state ``rs`` (the customer touched),
        if it still falls due then; ``None`` when it went or was restarted since (a restarted
        timer is queued again at its new due time)."""
        timer = rs.timer
        if timer is None or timer.due is None or timer.due < due:
            return None
        if timer.due > due:  # restarted since: wait for the new due time
            heapq.heappush(self.timers, (timer.due, TIMER, order, cid, name))
            return None
        if cid not in self.touched:
            self.touch(cid)
        rs.timer = None
        return timer

    def candidate(
        self, plan: RulePlan, state: CustomerState, time: int, anchor: Anchor, reader: Reader
    ) -> Candidate | None:
        """The firing ``anchor`` makes at ``time`` if the rule's ``if`` holds
        (:meth:`RulePlan.candidate <cxmodel.triggers._operators.RulePlan.candidate>`); ``None``
        also when the call returns no suppressed firings and the rule's policies would
        suppress it (:meth:`stopped`): such a firing changes nothing, so it is not made. One
        made after that look is ``cleared``: :meth:`found` decides it at once, and its policies
        are not asked again."""
        if self.suppressed is None and plan.immediate and plan.name not in self.contact:
            if self.stopped(plan, state, time, reader):
                return None
            found = plan.candidate(state, time, anchor, None, None, reader)
            if found is not None:  # decided at once, at this time: its policies hold
                found.cleared = True
            return found
        return plan.candidate(state, time, anchor, None, None, reader)

    def stopped(self, plan: RulePlan, state: CustomerState, time: int, reader: Reader) -> bool:
        """Whether the policies of ``plan`` (decided at once: no quiet hours, no contact
        policy) suppress a firing for ``state``'s customer at ``time``, as :meth:`decide`
        finds."""
        zone = reader.zone if plan.customer_time else None
        return self.policy_reason(plan, state, time, self.consent(plan, state), zone) is not None

    def policy_reason(
        self, plan: RulePlan, state: CustomerState, time: int, consent: bool, zone: str | None
    ) -> str | None:
        """Why rule ``plan``'s policies suppress a firing for ``state``'s customer at ``time``
        (:func:`~cxmodel.triggers._policies.policy_reason`, from the rule's last emitted
        time); ``None``: they let it through."""
        cid = state.customer
        last = self.last_emitted(plan, state.rules.get(plan.name), cid)
        return policy_reason(plan.rule, last, time, consent, zone, cid)

    def last_emitted(self, plan: RulePlan, rs: RuleState | None, cid: str) -> int | None:
        """When rule ``plan`` last emitted for customer ``cid`` (``None``: never), from its
        rule state ``rs``, or from its columns when the rule's state is held so."""
        if rs is not None:
            return rs.last_emitted
        columns = self.held.get(plan.name)
        slot = None if columns is None else columns.slots.get(cid)
        return None if columns is None or slot is None else columns.last_emitted(slot)

    def found(
        self, plan: RulePlan, state: CustomerState, found: Candidate | None, reader: Reader
    ) -> None:
        """A firing found (its ``if`` held): decide it now, or when quiet hours end."""
        if found is None:
            return
        rule = plan.rule
        time = found.time
        due = (
            time
            if rule.quiet is None
            else quiet_until(rule, time, reader.zone if plan.customer_time else None)
        )
        consent: bool | None = True
        if rule.consent is not None and not found.cleared:
            consent = self.consent(plan, state) if due == time else None
        if plan.immediate and plan.name not in self.contact:
            # its parts are made once it is decided, and only when it is kept
            self.decide(plan, state, due, found, consent)
            return
        parts = found.parts(plan.absent)
        if due != time:
            parts["because"]["quiet_hours_delayed_from"] = iso_text(time)
        rs = state.rules.get(plan.name) or state.rule(plan.name)
        rs.waiting += (Waiting(due, found.anchor.seq, parts, consent),)
        heapq.heappush(self.timers, (due, DECISION, found.anchor.seq, state.customer, plan.name))

    def consent(self, plan: RulePlan, state: CustomerState) -> bool:
        """The customer's consent for the purpose rule ``plan`` requires, as of now (see
        :meth:`consent_of`; ``True`` when it requires none)."""
        purpose, key = plan.rule.consent, plan.consent_key
        if purpose is None or key is None:
            return True
        return self.consent_of(state, key, state.customer, purpose)

    def consent_of(self, state: CustomerState | None, key: str, cid: str, purpose: str) -> bool:
        """Consent for ``purpose`` (``key``: as :func:`~cxmodel.triggers._policies.consent_key`
        gives it) of customer ``cid`` whose state is ``state`` (``None``: none yet) as of
        now: the latest consent interaction their state took for it, else a revocation of
        every purpose, else their customer record (``Customer.consent``)."""
        granted = None if state is None else state.consent.get(key, state.consent_default)
        return customer_consent(self.customers, cid, purpose) if granted is None else granted

    def decide(
        self,
        plan: RulePlan,
        state: CustomerState,
        due: int,
        parts: dict[str, Any] | Candidate,
        consent: bool | None,
    ) -> None:
        """Decide a firing due at ``due`` by the rule's policies: its JSON-ready ``parts``
        (:meth:`Candidate.parts <cxmodel.triggers._operators.Candidate.parts>`), or the
        candidate to make them from when it is kept (emitted, or suppressed in a call that
        returns the suppressed ones)."""
        rule = plan.rule
        if consent is None:
            consent = self.consent(plan, state)
        rs = state.rules.get(plan.name)
        cid = state.customer
        columns = self.held.get(plan.name) if rs is None else None
        if isinstance(parts, Candidate) and parts.cleared:
            reason = None  # (see candidate)
        else:
            zone = self.reader(cid).zone if plan.customer_time else None
            reason = self.policy_reason(plan, state, due, consent, zone)
        suppressed = self.suppressed
        if reason is not None and suppressed is None:
            return  # a suppressed firing that no one reads
        if isinstance(parts, Candidate):
            parts = parts.parts(plan.absent)
        ident = firing_id(rule.name, cid, parts["key"])
        policy = self.contact.get(rule.name)
        if reason is None and policy is not None:
            sent = state.contacts.get(policy.name, [])
            stopped_by = blocking(policy, [entry[0] for entry in sent], due)
            if stopped_by is not None:
                reason = contact_reason(policy, [(sent[i][1], sent[i][2]) for i in stopped_by])
            else:
                state.contacts[policy.name] = remember(policy, sent, [due, rule.name, ident])
        firing = Firing(
            trigger=rule.name,
            customer_id=cid,
            time=us_to_datetime(due),
            action=rule.emit.action,
            payload=parts["payload"],
            because=parts["because"],
            firing_id=ident,
            reason=reason,
        )
        if reason is None:
            if columns is not None:
                if plan.keeps_last_emitted:
                    columns.last[columns.slot(cid)] = due
            elif plan.keeps_last_emitted:
                (rs or state.rule(plan.name)).last_emitted = due
            self.emitted.append(firing)
        elif suppressed is not None:
            suppressed.append(firing)

    def decide_together(self, policy: ContactPolicy, state: CustomerState, due: int) -> None:
        """Decide every firing of ``policy``'s rules waiting for ``due`` for this customer, in
        the policy's priority order (then in the order of their anchoring interactions): at
        ``due`` every interaction up to it is in, so no firing at that time is still to come."""
        found = [
            (rank, name)
            for rank, name in enumerate(policy.rules)
            if name in self.plans
            and name in state.rules
            and any(w.due == due for w in state.rules[name].waiting)
        ]
        if not found:
            return
        self.touch(state.customer)
        ready: list[tuple[int, int, RulePlan, Waiting]] = []
        for rank, name in found:
            rs = state.rules[name]
            ready += [(rank, w.order, self.plans[name], w) for w in rs.waiting if w.due == due]
            rs.waiting = tuple(w for w in rs.waiting if w.due != due)
        ready.sort(key=lambda item: (item[0], item[1]))
        for _, _, plan, waiting in ready:
            self.decide(plan, state, due, waiting.parts, waiting.consent)


def _holds_buffers(state: CustomerState) -> bool:
    """Whether a customer's state holds values in a window, kept rows or a join buffer."""
    return any(state.windows.values()) or any(state.kept.values())


def _older(buffer: deque[tuple[int, int, Any]] | None, now: int, lookback: int | None) -> bool:
    """Whether a window or join ``buffer`` holds a value older than ``lookback`` before
    ``now`` (``None``: it keeps everything)."""
    return (
        buffer is not None
        and len(buffer) > 0
        and lookback is not None
        and (buffer[0][0] < now - lookback)
    )


def _trim_rows(rows: deque[Row] | None, limit: int) -> None:
    """Drop the kept ``rows`` before ``limit``."""
    while rows and rows[0].time < limit:
        rows.popleft()


def _older_rows(rows: deque[Row] | None, limit: int) -> bool:
    """Whether kept ``rows`` hold one before ``limit``."""
    return rows is not None and len(rows) > 0 and rows[0].time < limit
