"""The streaming engine: interactions one at a time or in micro-batches, in event time, with
the same firings as batch, bounded state, and a durable snapshot instead of a history."""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import operator
import threading
import time as _wall
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from cxmodel._arguments import got, of_type
from cxmodel._time import TimeLike, duration_to_us, to_us, us_to_datetime
from cxmodel.domain._kinds import Question, question_catalogue
from cxmodel.errors import (
    NotFoundError,
    SchemaError,
    StoreError,
    TriggerSyntaxError,
    ValueTypeError,
)
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._api import refuse_on_any_log
from cxmodel.triggers._arguments import customer_records, rule_or_alert, rule_set, state_store
from cxmodel.triggers._backfill import adopt, released_rows
from cxmodel.triggers._calendar import _zone_name
from cxmodel.triggers._contact import without_rule
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._firings import Firing, Firings
from cxmodel.triggers._ingest import CATALOGUE, Row, row_of, rows_from
from cxmodel.triggers._operators import RulePlan
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._store import InMemoryStore, Quarantined, StateChange, StateStore
from cxmodel.triggers._truths import refuse_misread_truths, refuse_text_numbers

__all__ = ["TriggerEngine"]

_FORMAT = 3  # 2 kept alerts' windows in the meta
_NO_SNAPSHOTS: dict[str, dict[str, Any]] = {}
_TIMER, _DECISION = 0, 1


def _rule_hash(rule: Rule) -> str:
    return hashlib.sha1(str(rule).encode(), usedforsecurity=False).hexdigest()[:16]


def _check_traits(customer: str, traits: Mapping[str, Any]) -> dict[str, Any]:
    """A customer's traits, checked: a ``timezone`` must be an IANA zone name."""
    out = dict(traits)
    if "timezone" in out:
        _zone_name(customer, out["timezone"], "(any rule in customer timezone)")
    return out


class _Changed(Mapping[str, Any]):
    """The changed customers' states for a store, serialised only if the store reads them."""

    def __init__(self, states: dict[str, CustomerState], ids: set[str]) -> None:
        self._states = states
        self._ids = ids

    def __getitem__(self, key: str) -> Any:
        if key not in self._ids:
            raise NotFoundError(key)
        state = self._states.get(key)
        return None if state is None else state.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


#: the order of a call's firings: time, customer, trigger, id
_firing_order = operator.attrgetter("time", "customer_id", "trigger", "firing_id")


class _Meta(Mapping[str, Any]):
    """The engine's meta state for a store, built only if the store reads it."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        self._data: dict[str, Any] | None = None

    def reset(self) -> _Meta:
        """Forget the meta built so far (the engine moved on); return this mapping."""
        self._data = None
        return self

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._build()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class TriggerEngine:
    """Evaluate rules over a live stream of interactions, in event time.

    Feed interactions one at a time with :meth:`process` or in micro-batches with
    :meth:`process_many`; :meth:`advance_to` declares that everything up to a time has been
    delivered and fires the timers due by then. For the same interactions, ``advance_to(T)``
    leaves exactly the firings batch :func:`~cxmodel.triggers.evaluate` returns with
    ``as_of=T``, however the stream was cut.

    Each rule is compiled into per-customer operators whose state is bounded by what the rule
    can still read (see :doc:`the streaming guide <guide/streaming>`): work per interaction is
    proportional to the rules that read its kind, in plain Python. Each call commits the state
    it changed and the firings it emitted to ``store`` in one transaction; a restart loads
    that state and never replays history.

    Parameters
    ----------
    rules
        The rules to run. What batch :func:`~cxmodel.triggers.evaluate` refuses whatever the
        log (``timestamp - p.timestamp``, a name bound nowhere) is refused here, with its
        :class:`~cxmodel.errors.TriggerTypeError`; so is it by :meth:`add_rule`.
    store
        Where state, firings, late and refused interactions are kept
        (:class:`~cxmodel.triggers.InMemoryStore` by default; :class:`SQLiteStore` to survive
        a restart). A store is held by one engine at a time.
    allowed_lateness
        How far behind the latest time seen an interaction may arrive and still be processed
        in time order; older ones are late (kept in ``store.late()``).
    customers
        Customer id -> :class:`~cxmodel.domain.Customer`, for ``customer.x`` traits and
        consent without consent interactions; traits are checked here.
    max_future
        An interaction more than this ahead of ``clock`` is refused (kept in
        ``store.rejected()``): clock skew, or epoch milliseconds read as seconds. ``None``
        accepts any time.
    clock
        The host's clock (a callable returning an aware ``datetime`` or epoch seconds);
        the wall clock by default. Only ``max_future`` reads it.
    redelivery_window
        How long after the watermark an interaction id is remembered, so that a re-delivered
        interaction is ignored rather than reported late.
    questions
        Survey questions besides NPS, CSAT and CES (:class:`~cxmodel.domain.Question`), whose
        answers are checked as a log's rows are.

    Examples
    --------
    >>> from cxmodel.domain import Interaction
    >>> from cxmodel.triggers import parse
    >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
    >>> [f.action for f in engine.process(Interaction("a", "2024-01-01T00:00:00Z", "purchase", value=500.0))]
    ['thanks']
    """

    def __init__(
        self,
        rules: RuleSet | Rule,
        *,
        store: StateStore | None = None,
        allowed_lateness: str | timedelta | int = 0,
        customers: Mapping[str, Any] | None = None,
        max_future: str | timedelta | None = "1 day",
        clock: Callable[[], Any] | None = None,
        redelivery_window: str | timedelta = "1 day",
        questions: Iterable[Question] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.rules = rule_set(rules, "TriggerEngine()")
        refuse_on_any_log(self.rules)
        store = state_store(store, "TriggerEngine()")
        self.store: StateStore = store if store is not None else InMemoryStore()
        self.lateness = duration_to_us(allowed_lateness) if allowed_lateness else 0
        self.max_future = None if max_future is None else duration_to_us(max_future)
        self.redelivery = duration_to_us(redelivery_window)
        if clock is not None and not callable(clock):
            raise ValueTypeError(
                "TriggerEngine(): clock must be a function returning the time (e.g. "
                f"lambda: datetime.now(timezone.utc)); got {got(clock)}"
            )
        self._clock = clock
        self.questions = question_catalogue(questions)
        self.customers: dict[str, Any] = {}
        self._runner = RuleRunner(self.rules, self.customers, self.redelivery + self.lateness)
        for cid, customer in customer_records(customers, "TriggerEngine()").items():
            self._register(cid, customer)
        self._lazy_meta = _Meta(self._meta)  # read by an in-memory store when it reopens
        self._hashed: RuleSet | None = None
        self._hash_cache: dict[str, str] = {}
        self._buffer: list[tuple[int, int, Row]] = []
        # (customer, interaction id) of the buffered rows: ids are unique per customer
        self._buffered_ids: set[tuple[str, str]] = set()
        self._max_seen: int | None = None
        self._watermark: int | None = None  # interactions before it are late
        self._closed: int | None = None  # advance_to: everything at or before it is final
        self._arrivals = 0
        self.duplicates = 0
        self._restore(self.store.open())

    # -- set-up ------------------------------------------------------------------------------
    def _register(self, cid: str, customer: Any) -> None:
        traits = getattr(customer, "traits", None)
        self._runner.traits[cid] = _check_traits(cid, dict(traits or {}))
        self.customers[cid] = customer
        self._runner.readers.pop(cid, None)

    def set_customer(self, customer: Any) -> None:
        """Add or replace one :class:`~cxmodel.domain.Customer` (traits checked)."""
        cid = getattr(customer, "customer_id", None)
        if not isinstance(cid, str) or not cid:
            raise ValueTypeError(
                f"set_customer(): expected a Customer (with a customer_id and traits); got "
                f"{got(customer)}"
            )
        with self._lock:
            self._register(cid, customer)

    def _restore(self, stored: Any) -> None:
        try:
            self._restore_state(stored)
        except StoreError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise StoreError(
                f"{self.store!r}: the engine state it holds cannot be read ({exc!r}); restore a "
                "backup or start a new store"
            ) from exc

    def _restore_state(self, stored: Any) -> None:
        meta = stored.meta
        if not meta:
            return
        if meta.get("format") != _FORMAT:
            raise StoreError(
                f"{self.store!r} holds engine state of format {meta.get('format')!r}; this "
                f"version reads format {_FORMAT}: start a new store"
            )
        self._max_seen = meta.get("max_seen")
        self._watermark = meta.get("watermark")
        self._closed = meta.get("closed")
        self._runner.seq = int(meta.get("seq", 0))
        self._arrivals = int(meta.get("arrivals", 0))
        self._runner.catalogue.restore(meta.get("catalogue"), self._runner.timers, TIMER)
        for time, arrival, row in meta.get("buffer", ()):
            item = Row.from_list(row)
            heapq.heappush(self._buffer, (int(time), int(arrival), item))
            if item.interaction_id is not None:
                self._buffered_ids.add((item.customer, item.interaction_id))
        self._runner.alerts.restore(meta.get("alerts", {}), stored.alert_values)
        # a rule's stored state is its own only if the store was last committed with the
        # same text active: a rule removed in an earlier run and back with another text, or
        # never committed, starts afresh
        hashes = meta.get("rules", {})
        changed = frozenset(r.name for r in self.rules if hashes.get(r.name) != _rule_hash(r))
        runner = self._runner
        runner.touched = set()
        for cid, data in stored.customers.items():
            state = runner.states[cid] = CustomerState.from_dict(cid, data)
            runner.tidy(state, changed)
            runner.schedule(state)
        if runner.touched:  # what was dropped goes from the store too, before any call
            self.store.commit(
                StateChange(
                    meta=self._meta(),
                    customers=_Changed(runner.states, runner.touched),
                    alerts=runner.alerts.changes(),
                )
            )
            runner.alerts.committed()

    # -- rules at runtime ------------------------------------------------------------------
    def add_rule(self, rule: Rule | Alert, *, backfill: Any = None) -> None:
        """Start evaluating ``rule`` (a :class:`Rule` or an :class:`Alert`).

        Without ``backfill`` the rule sees the interactions released from now on (its
        aggregates count from now, unless an active rule already reads the same aggregate).
        With ``backfill`` (an :class:`~cxmodel.log.InteractionLog` of the history, or
        anything :meth:`process_many` takes), the rule's state is first built from the
        backfill's interactions up to the time the engine has released, as if it had run all
        along; firings due before now are not returned, firings still pending are. An
        alert's backfill fills its windows and episode (an episode under way when it is
        added does not fire again). The change is committed to the store, so a restart with
        the rule finds its state; if the commit fails, the engine is as before the call.
        """
        rule = rule_or_alert(rule, "add_rule()")
        refuse_on_any_log(RuleSet(alerts=(rule,)) if isinstance(rule, Alert) else RuleSet((rule,)))
        with self._lock:
            if rule.name in self._runner.plans or rule.name in self._runner.alerts.plans:
                raise TriggerSyntaxError(
                    f"a rule named {rule.name!r} is already active; remove it first"
                )
            rows = None if backfill is None else self._history(rule, backfill)
            if isinstance(rule, Alert):
                self._change_rules(lambda: self._add_alert(rule, rows))
            else:
                self._change_rules(lambda: self._add_rule(rule, rows))

    def _history(self, rule: Rule | Alert, backfill: Any) -> list[Row]:
        """The backfill's checked rows that the engine has released, in time order."""
        kinds = set(self._runner.catalogue.kinds)
        if isinstance(rule, Rule) and rule.when.reach is not None and rule.when.kind is not None:
            kinds.add(rule.when.kind)
        marks = [m for m in (self._watermark, self._closed) if m is not None]
        return released_rows(
            rows_from(backfill, self.questions, kinds), max(marks) if marks else None, rule
        )

    def _replay(self, rules: RuleSet, rows: list[Row]) -> RuleRunner:
        """A runner of ``rules`` alone after ``rows`` and the engine's clock ticks. Its
        release numbers run up to the engine's next one: what it hands over (anchors, window
        entries, all keyed or ordered by release number) comes before what the engine
        releases from now on and never takes the number of an anchor still to come."""
        helper = TriggerEngine(rules, customers=self.customers, max_future=None)
        helper._runner.seq = self._runner.seq - len(rows)
        helper._run(rows)
        # its timers as far as the engine's went: what fell due before now is not returned
        if self._watermark is not None:
            helper._runner.advance(self._watermark, inclusive=False)
        if self._closed is not None:
            helper._runner.advance(self._closed, inclusive=True)
        return helper._runner

    def _add_alert(self, alert: Alert, rows: list[Row] | None) -> None:
        """Add an alert; with ``rows``, its windows and episode are built from them (the
        firings found there are not returned)."""
        self.rules = RuleSet(self.rules.rules, self.rules.policies, (*self.rules.alerts, alert))
        self._runner.alerts.add(alert)
        if rows:
            helper = self._replay(RuleSet(alerts=(alert,)), rows)
            self._runner.alerts.states[alert.name] = helper.alerts.states[alert.name]
        self._runner.index()

    def _add_rule(self, rule: Rule, rows: list[Row] | None) -> None:
        """Add a rule; with ``rows``, its state (and the values of aggregates no active rule
        read yet) is built from them."""
        runner = self._runner
        plan = RulePlan(rule, runner.aggregates)
        held = {k for p in runner.plans.values() for k in p.aggregates}
        self.rules = RuleSet((*self.rules.rules, rule), self.rules.policies, self.rules.alerts)
        runner.plans[rule.name] = plan
        runner.index()
        if not rows:
            return
        adopt(runner, self._replay(RuleSet((rule,)), rows), plan, held)

    def remove_rule(self, name: str) -> None:
        """Stop evaluating the rule or alert called ``name`` and drop its state, and the
        values of aggregates no other active rule reads (a rule added again later starts
        them afresh). The change is committed to the store."""
        of_type(name, str, "remove_rule()", "name", "a rule's name (text)")
        with self._lock:
            if name not in self._runner.alerts.plans:
                self.rules[name]  # raises KeyError with the known names
            self._change_rules(lambda: self._remove(name))

    def _remove(self, name: str) -> None:
        runner = self._runner
        if name in runner.alerts.plans:
            alerts = tuple(a for a in self.rules.alerts if a.name != name)
            self.rules = RuleSet(self.rules.rules, self.rules.policies, alerts)
            runner.alerts.remove(name)
            runner.index()
            return
        self.rules = without_rule(self.rules, name)
        runner.use_policies(self.rules)
        del runner.plans[name]
        runner.index()
        for state in list(runner.states.values()):
            runner.tidy(state)

    def _change_rules(self, change: Callable[[], None]) -> None:
        """Make a change to the active rules and commit it (the meta and the customers it
        changed); if the change or its commit fails, put everything back."""
        runner = self._runner
        runner.touched = set()
        runner.before = {}
        saved = (self.rules, dict(runner.plans), runner.alerts.watched())
        try:
            try:
                change()
                change_ = StateChange(
                    meta=self._meta(),
                    customers=_Changed(runner.states, runner.touched),
                    alerts=runner.alerts.changes(),
                )
            except BaseException:
                self._unchange_rules(saved)
                raise
            try:
                self.store.commit(change_)
            except StoreError:
                self._unchange_rules(saved)
                raise
            except Exception as exc:  # a store of the host's own that failed otherwise
                self._unchange_rules(saved)
                raise StoreError(f"the store could not commit: {exc}") from exc
            runner.alerts.committed()
        finally:
            runner.before = None

    def _unchange_rules(self, saved: tuple[Any, ...]) -> None:
        runner = self._runner
        self.rules, plans, watched = saved
        runner.plans.clear()
        runner.plans.update(plans)
        runner.use_policies(self.rules)
        runner.alerts.watch(watched)
        runner.index()
        assert runner.before is not None
        for cid, state in runner.before.items():
            if state is None:
                runner.states.pop(cid, None)
            else:
                runner.states[cid] = state
                runner.schedule(state)

    # -- processing ----------------------------------------------------------------------
    def process(self, interaction: Any) -> list[Firing]:
        """Process one interaction; return the firings that became final.

        ``interaction`` is a :class:`~cxmodel.domain.Interaction`, or a record (a mapping
        with ``customer_id``, ``timestamp``, ``kind`` and any fields, as decoded from JSON),
        checked as a row of :meth:`InteractionLog.from_records
        <cxmodel.log.InteractionLog.from_records>` is. A record without ``customer_id`` whose
        kind a rule reads as a catalogue kind (``when KIND as x for customers with ...``) is
        a catalogue event: it is decided at its time, once every interaction up to it has
        arrived (a later interaction, or :meth:`advance_to`).
        """
        row = row_of(interaction, self.questions, self._runner.catalogue.kinds)
        with self._lock:
            refuse_text_numbers([row], self._runner.numeric)
            refuse_misread_truths([row], self._runner.truths)
            return self._call([row], None)[0]

    def process_many(self, interactions: Any) -> Firings:
        """Process a micro-batch in delivery order; return the firings that became final.

        ``interactions`` is an :class:`~cxmodel.log.InteractionLog` (its input order), a
        mapping of columns as for :meth:`InteractionLog.from_arrays
        <cxmodel.log.InteractionLog.from_arrays>`, or an iterable of interaction objects or
        records (catalogue events among them, as :meth:`process` takes them). The result is
        the same as processing them one by one.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
        >>> got = engine.process_many({"customer_id": ["a", "b"], "kind": ["purchase", "purchase"],
        ...     "timestamp": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], "value": [50.0, 500.0]})
        >>> [(f.customer_id, f.action) for f in got]
        [('b', 'thanks')]
        """
        rows = rows_from(interactions, self.questions, self._runner.catalogue.kinds)
        with self._lock:
            refuse_text_numbers(rows, self._runner.numeric)
            refuse_misread_truths(rows, self._runner.truths)
            return Firings(*self._call(rows, None))

    def advance_to(self, time: TimeLike) -> list[Firing]:
        """Declare that every interaction up to ``time`` has been delivered; fire due timers.

        Afterwards an interaction at or before ``time`` is late. A ``time`` more than
        ``max_future`` ahead of the clock is refused (:class:`~cxmodel.errors.SchemaError`,
        nothing changed), as an interaction that far ahead is: it would fire every timer up
        to it and make every later interaction late, also after a restart. A ``time`` before
        one given earlier declares nothing new.
        """
        t = to_us(time)
        with self._lock:
            if self.max_future is not None:
                now = self._now()
                if t > now + self.max_future:
                    raise SchemaError(
                        f"advance_to(): {us_to_datetime(t).isoformat()} is more than "
                        f"{timedelta(microseconds=self.max_future)} ahead of the clock "
                        f"({us_to_datetime(now).isoformat()}); nothing was fired. Check the "
                        "caller's clock or the time's unit (milliseconds read as seconds?), "
                        "or give the engine max_future=None to replay old streams"
                    )
            return self._call([], t)[0]

    async def aprocess(self, interaction: Any) -> list[Firing]:
        """:meth:`process` on a worker thread, for asyncio services."""
        return await asyncio.to_thread(self.process, interaction)

    async def aprocess_many(self, interactions: Any) -> Firings:
        """:meth:`process_many` on a worker thread, for asyncio services."""
        return await asyncio.to_thread(self.process_many, interactions)

    async def aadvance_to(self, time: TimeLike) -> list[Firing]:
        """:meth:`advance_to` on a worker thread, for asyncio services."""
        return await asyncio.to_thread(self.advance_to, time)

    def forget(self, customer_id: str) -> None:
        """Erase a customer: their state, pending firings, buffered, late and refused
        interactions and unacknowledged firings, from memory and the store, in one step.

        The store erases first: if it fails (:class:`~cxmodel.errors.StoreError`), the
        engine still holds the customer; call ``forget`` again. A customer the engine does
        not know is erased from the store all the same (their late or refused interactions).
        """
        if isinstance(customer_id, int) and not isinstance(customer_id, bool):
            customer_id = str(customer_id)  # as an interaction's integer customer_id is read
        of_type(customer_id, str, "forget()", "customer_id", "a customer's id (text)")
        with self._lock:
            kept = [item for item in self._buffer if item[2].customer != customer_id]
            meta = self._meta()
            if len(kept) != len(self._buffer):
                meta["buffer"] = [[t, a, r.to_list()] for t, a, r in kept]
            self.store.forget(customer_id, meta)
            self._runner.states.pop(customer_id, None)
            self.customers.pop(customer_id, None)
            self._runner.traits.pop(customer_id, None)
            self._runner.readers.pop(customer_id, None)
            self._runner.alerts.forget(customer_id)
            if len(kept) != len(self._buffer):
                heapq.heapify(kept)
                self._buffer = kept
                self._buffered_ids = {
                    (r.customer, r.interaction_id)
                    for _, _, r in kept
                    if r.interaction_id is not None
                }

    @property
    def watermark(self) -> datetime | None:
        """The event time up to which interactions have been processed (``None`` at start):
        an interaction before it is late, and so is one at it after :meth:`advance_to`."""
        marks = [m for m in (self._watermark, self._closed) if m is not None]
        return us_to_datetime(max(marks)) if marks else None

    @property
    def catalogue_kinds(self) -> frozenset[str]:
        """The kinds the active rules read as catalogue kinds (``when KIND as x for customers
        with ...``): a record without ``customer_id`` must be of one of them."""
        return self._runner.catalogue.kinds

    @property
    def late(self) -> list[Quarantined]:
        """Interactions that arrived late, with their reasons (kept in the store)."""
        return self.store.late()

    def stats(self) -> dict[str, Any]:
        """Customers held, timers and firings pending, interactions buffered, catalogue events
        waiting for their time, and the bytes of the serialised state (what a durable store
        keeps)."""
        import json

        with self._lock:
            anchors = waiting = timers = 0
            size = 0
            for state in self._runner.states.values():
                size += len(json.dumps(state.to_dict(), separators=(",", ":"), default=str))
                for rs in state.rules.values():
                    anchors += len(rs.anchors)
                    waiting += len(rs.waiting)
                    timers += rs.timer is not None
            return {
                "customers": len(self._runner.states),
                "pending_anchors": anchors,
                "pending_timers": timers
                + sum(
                    1
                    for s in self._runner.states.values()
                    for rs in s.rules.values()
                    for a in rs.anchors.values()
                    if a.due is not None
                ),
                "waiting_firings": waiting,
                "buffered": len(self._buffer),
                "pending_catalogue_events": len(self._runner.catalogue.pending),
                "alert_window_values": self._runner.alerts.entries(),
                "duplicates_ignored": self.duplicates,
                "state_bytes": size,
                "bytes_per_customer": size / len(self._runner.states)
                if self._runner.states
                else 0.0,
            }

    # -- one call ----------------------------------------------------------------------------
    def _now(self) -> int:
        if self._clock is None:
            return int(_wall.time() * 1_000_000)
        value = self._clock()
        return to_us(value)

    def _call(self, rows: list[Row], advance: int | None) -> tuple[list[Firing], list[Firing]]:
        """Run one call and commit it: (emitted, suppressed), each sorted by time, customer,
        trigger and id."""
        durable = type(self.store) is not InMemoryStore  # a commit that can fail
        self._runner.touched = set()
        self._runner.before = {} if durable else None
        saved = (
            self._max_seen, self._watermark, self._closed, self._runner.seq, self._arrivals,
            list(self._buffer), set(self._buffered_ids), self.duplicates,
            self._runner.catalogue.to_dict(),
            self._runner.alerts.begin(),
        ) if durable else ()  # fmt: skip
        self._runner.emitted, self._runner.suppressed = [], []
        try:
            late, rejected = self._run(rows)
            if advance is not None:
                self._release_upto(advance)
                self._runner.advance(advance, inclusive=True)
                if self._closed is None or advance > self._closed:
                    self._closed = advance
            emitted, suppressed = self._runner.emitted, self._runner.suppressed
            if len(emitted) > 1:
                emitted.sort(key=_firing_order)
            if len(suppressed) > 1:
                suppressed.sort(key=_firing_order)
            change = StateChange(
                meta=self._lazy_meta.reset() if not durable else self._meta(),
                customers=_Changed(self._runner.states, self._runner.touched),
                firings=emitted,
                late=late,
                rejected=rejected,
                alerts=self._runner.alerts.changes(),
            )
        except BaseException:  # the host's clock, or a fault: the call did not happen
            self._rollback(saved)
            self._runner.before = None
            raise
        try:
            self.store.commit(change)
        except StoreError:
            self._rollback(saved)
            raise
        except Exception as exc:  # a store of the host's own that failed otherwise
            self._rollback(saved)
            raise StoreError(f"the store could not commit: {exc}") from exc
        else:
            self._runner.alerts.committed()
        finally:
            self._runner.before = None
        return emitted, suppressed

    def _rollback(self, saved: tuple[Any, ...]) -> None:
        """Put the engine back as it was before the call that failed (with a store whose
        commit can fail; an in-memory store keeps nothing to roll back)."""
        if not saved:  # an in-memory store keeps nothing to roll back
            return
        (
            self._max_seen, self._watermark, self._closed, self._runner.seq, self._arrivals,
            self._buffer, self._buffered_ids, self.duplicates, catalogue, alerts,
        ) = saved  # fmt: skip
        self._runner.catalogue.restore(catalogue, self._runner.timers, TIMER)
        self._runner.alerts.rollback(alerts)
        assert self._runner.before is not None
        for cid, state in self._runner.before.items():
            if state is None:
                self._runner.states.pop(cid, None)
            else:
                self._runner.states[cid] = state
                self._runner.schedule(state)

    def _run(self, rows: list[Row]) -> tuple[list[Quarantined], list[Quarantined]]:
        """Check, buffer and release ``rows``; fire what they make due."""
        late: list[Quarantined] = []
        rejected: list[Quarantined] = []
        if not rows:
            return late, rejected
        limit = None if self.max_future is None else self._now() + self.max_future
        accepted: list[Row] = []
        top = self._max_seen
        states = self._runner.states
        buffered = self._buffered_ids
        # a row before the watermark, or at or before advance_to's time, is late
        on_time = self._watermark
        if self._closed is not None and (on_time is None or self._closed >= on_time):
            on_time = self._closed + 1
        for row in rows:
            time = row.time
            if limit is not None and time > limit:
                rejected.append(
                    Quarantined(
                        row.record(),
                        f"refused: {us_to_datetime(time).isoformat()} is more than "
                        f"{timedelta(microseconds=self.max_future or 0)} ahead of the clock "
                        f"({us_to_datetime(limit - (self.max_future or 0)).isoformat()}); check "
                        "the sender's clock or the timestamp's unit (milliseconds read as seconds?)",
                        row.customer or None,
                    )
                )
                continue
            ident = row.interaction_id
            if ident is not None:
                if (row.customer, ident) in buffered:
                    duplicate = True
                elif row.customer == CATALOGUE:
                    duplicate = ident in self._runner.catalogue.seen
                else:
                    state = states.get(row.customer)
                    duplicate = state is not None and ident in state.seen
                if duplicate:
                    self.duplicates += 1
                    continue
            if on_time is not None and time < on_time:
                reason = self._lateness(time)
                if reason is not None:
                    late.append(Quarantined(row.record(), reason, row.customer or None))
                    continue
            if ident is not None:
                buffered.add((row.customer, ident))
            accepted.append(row)
            if top is None or time > top:
                top = time
        self._max_seen = top
        if top is None:
            return late, rejected
        frontier = top - self.lateness
        in_order = not self._buffer and (
            len(accepted) < 2
            or all(accepted[j].time <= accepted[j + 1].time for j in range(len(accepted) - 1))
        )
        if in_order and (not accepted or accepted[-1].time <= frontier):
            for row in accepted:
                self._release(row)
        else:
            for row in accepted:
                heapq.heappush(self._buffer, (row.time, self._arrivals, row))
                self._arrivals += 1
            self._release_upto(frontier)
        self._runner.advance(frontier, inclusive=False)
        if self._watermark is None or frontier > self._watermark:
            self._watermark = frontier
        return late, rejected

    def _lateness(self, time: int) -> str | None:
        if self._closed is not None and time <= self._closed:
            return (
                f"late: {us_to_datetime(time).isoformat()} is at or before "
                f"{us_to_datetime(self._closed).isoformat()}, which advance_to declared complete"
            )
        if self._watermark is not None and time < self._watermark:
            return (
                f"late: {us_to_datetime(time).isoformat()} is before the watermark "
                f"{us_to_datetime(self._watermark).isoformat()} (allowed lateness "
                f"{timedelta(microseconds=self.lateness)})"
            )
        return None

    def _release(self, row: Row) -> None:
        if row.interaction_id is not None:
            self._buffered_ids.discard((row.customer, row.interaction_id))
        self._runner.release(row)

    def _release_upto(self, frontier: int) -> list[Row]:
        out = []
        buffer = self._buffer
        while buffer and buffer[0][0] <= frontier:
            row = heapq.heappop(buffer)[2]
            self._release(row)
            out.append(row)
        return out

    # -- the work ----------------------------------------------------------------------------
    def _hashes(self) -> dict[str, str]:
        """Each active rule's fingerprint (a rule whose text changed starts afresh)."""
        if self._hashed is not self.rules:
            self._hash_cache = {r.name: _rule_hash(r) for r in self.rules}
            self._hashed = self.rules
        return self._hash_cache

    def _meta(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "max_seen": self._max_seen,
            "watermark": self._watermark,
            "closed": self._closed,
            "seq": self._runner.seq,
            "arrivals": self._arrivals,
            "buffer": [[t, a, r.to_list()] for t, a, r in self._buffer],
            "rules": self._hashes(),
            "catalogue": self._runner.catalogue.to_dict(),
            "alerts": self._runner.alerts.to_dict(),
        }
