"""The streaming engine: interactions one at a time or in micro-batches, in event time, with
the same firings as batch, bounded state, and a durable snapshot instead of a history."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time as _wall
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from cxmodel._arguments import got, of_type
from cxmodel._pieces import warn, warn_counted
from cxmodel._time import TimeLike, duration_to_us, is_zero_duration, to_us, us_to_datetime
from cxmodel.domain._kinds import Question, question_catalogue
from cxmodel.errors import (
    DataWarning,
    SchemaError,
    StoreError,
    TriggerSyntaxError,
    ValueTypeError,
)
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._api import refuse_on_any_log
from cxmodel.triggers._arguments import customer_records, rule_or_alert, rule_set, state_store
from cxmodel.triggers._backfill import alone, history
from cxmodel.triggers._calendar import refuse_bad_zones
from cxmodel.triggers._collector import collector_paused
from cxmodel.triggers._columnar import (
    COLUMNAR_FROM,
    RowColumns,
    Source,
    columnar_ready,
    fire_due,
    refuse,
    take_many,
)
from cxmodel.triggers._declared import declared_data
from cxmodel.triggers._delivery import ID_TAKEN, Delivery
from cxmodel.triggers._engine_rules import add_alert, add_rule, change_rules, remove
from cxmodel.triggers._firings import Firing, Firings, firing_rows, firing_sort_key
from cxmodel.triggers._ingest import Row, columns_from, record_columns, row_of, rows_from
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._snapshot import (
    ChangedStates,
    LatestStates,
    LazyMeta,
    RuleHashes,
    engine_meta,
    restore,
    stored_buffer,
)
from cxmodel.triggers._store import (
    InMemoryStore,
    Quarantined,
    StateChange,
    StateStore,
    commit,
    not_kept_again,
)
from cxmodel.triggers._truths import refuse_misread, refuse_misread_one, refuse_text_traits

__all__ = ["TriggerEngine"]


def _size(interactions: object) -> int:
    """How many interactions a micro-batch holds, as far as its length tells (0 unknown)."""
    if isinstance(interactions, Mapping):  # columns: the first column's length
        interactions = next(iter(interactions.values()), None)
    try:
        return len(interactions)  # type: ignore[arg-type]
    except TypeError:
        return 0


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
        in time order; older ones are late (kept in ``store.late()``). Zero (the default)
        may be written as any duration is: ``0``, ``timedelta(0)``, ``"0 days"``.
    customers
        Customer id -> :class:`~cxmodel.domain.Customer`, for ``customer.x`` traits and
        consent without consent interactions; traits are checked here. The mapping is read
        once, here: give a customer added or changed later with :meth:`set_customer`.
    max_future
        An interaction more than this ahead of ``clock`` is refused (kept in
        ``store.rejected()``): clock skew, or epoch milliseconds read as seconds. ``None``
        accepts any time.
    clock
        The host's clock (a callable returning an aware ``datetime`` or epoch seconds);
        the wall clock by default. Only ``max_future`` reads it.
    redelivery_window
        How long after the watermark an interaction id is remembered, so that a re-delivered
        interaction is ignored rather than reported late. Every customer's older ids are
        forgotten as the watermark moves (a sweep per quarter window, committed with the call
        that made it): an id is kept at most 1.25 windows.
    questions
        Survey questions besides NPS, CSAT and CES (:class:`~cxmodel.domain.Question`), whose
        answers are read and checked as a log's rows are (yes/no stored as 1.0 or 0.0,
        choices as text in the question's order; see ``questions`` of
        :meth:`InteractionLog.from_arrays <cxmodel.log.InteractionLog.from_arrays>`).
    kinds, schema
        The data the stream carries, when the host knows it: ``kinds``, the kinds of
        interaction besides :data:`~cxmodel.triggers.STANDARD_KINDS`; ``schema``, each
        property besides the standard fields with its type (``"string"``, ``"float"`` or
        ``"bool"``, as :attr:`InteractionLog.schema <cxmodel.log.InteractionLog.schema>`
        gives them). Given, the rules (here and in :meth:`add_rule`) are refused as batch
        :func:`~cxmodel.triggers.evaluate` refuses them over a log holding exactly that data
        (:class:`~cxmodel.errors.TriggerTypeError`: E301 for a kind, E302 for a property,
        E303 for a type), and an interaction (or catalogue event) of another kind, or with a
        property not declared or of another type, is refused
        (:class:`~cxmodel.errors.SchemaError` naming it, nothing processed). Without them, kinds and properties are not checked: an unknown
        kind is taken in and read by no rule.

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
        kinds: Iterable[str] | None = None,
        schema: Mapping[str, str] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.rules = rule_set(rules, "TriggerEngine()")
        refuse_on_any_log(self.rules)
        self._declared = declared_data(kinds, schema, "TriggerEngine()")
        if self._declared is not None:
            self._declared.refuse_rules(self.rules)
        store = state_store(store, "TriggerEngine()")
        self.store: StateStore = store if store is not None else InMemoryStore()
        self.redelivery = duration_to_us(redelivery_window)
        self._delivery = Delivery(
            0 if is_zero_duration(allowed_lateness) else duration_to_us(allowed_lateness),
            None if max_future is None else duration_to_us(max_future),
            self.redelivery,
        )
        if clock is not None and not callable(clock):
            raise ValueTypeError(
                "TriggerEngine(): clock must be a function returning the time (e.g. "
                f"lambda: datetime.now(timezone.utc)); got {got(clock)}"
            )
        self._clock = clock
        self.questions = question_catalogue(questions)
        self.customers: dict[str, Any] = {}
        self._runner = RuleRunner(self.rules, self.customers)
        for cid, customer in customer_records(customers, "TriggerEngine()").items():
            self._register(cid, customer)
        #: the interactions this engine kept as late and refused (its store keeps them)
        self._set_aside = {"late": 0, "refused": 0}
        #: the smallest micro-batch taken on the columnar path (``None``: never; tests force
        #: either path with it)
        self._columnar_from: int | None = COLUMNAR_FROM
        self._lazy_meta = LazyMeta(self._meta)  # read by an in-memory store when it reopens
        self._latest = LatestStates(self._runner.states)  # likewise, the customers' states
        self._hashes = RuleHashes()
        with collector_paused():  # the state read back: many objects, no cycles
            restore(
                self.store, self.store.open(), self.rules, self._runner, self._delivery, self._meta
            )
        #: the opening of an in-memory store this engine holds (see ``_hold``)
        self._opening = self.store.holder() if isinstance(self.store, InMemoryStore) else None

    def _hold(self) -> None:
        """Refuse a call that would change an in-memory store this engine no longer holds
        (closed, and maybe opened by another engine since), before anything changes: two
        engines would otherwise both deliver into one outbox."""
        store = self.store
        if isinstance(store, InMemoryStore) and store.holder() != self._opening:
            raise StoreError(
                "this engine's InMemoryStore was closed (an engine may have opened it since); "
                "an engine takes no more calls once its store is closed: build a new "
                "TriggerEngine on the store to go on from what it holds"
            )

    # -- set-up ------------------------------------------------------------------------------
    def _register(self, cid: str, customer: Any) -> None:
        checked = dict(getattr(customer, "traits", None) or {})
        refuse_bad_zones({cid: checked}, self.rules)
        refuse_text_traits({cid: checked}, self._runner.numeric_traits)
        self._runner.traits[cid] = checked
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
        only = alone(rule)
        refuse_on_any_log(only)
        if self._declared is not None:
            self._declared.refuse_rules(only)
        with self._lock:
            if rule.name in self._runner.plans or rule.name in self._runner.alerts.plans:
                raise TriggerSyntaxError(
                    f"a rule named {rule.name!r} is already active; remove it first"
                )
            rows = None
            if backfill is not None:
                rows = history(
                    backfill,
                    rule,
                    self.questions,
                    self._runner.catalogue.kinds,
                    self._delivery.released,
                )
            replay = None if not rows else partial(self._replay, rows=rows)
            if isinstance(rule, Alert):
                change = partial(add_alert, self.rules, self._runner, rule, replay)
            else:
                change = partial(add_rule, self.rules, self._runner, rule, replay)
            self._change_rules(change)

    def _replay(self, rules: RuleSet, rows: list[Row]) -> RuleRunner:
        """A runner of ``rules`` alone after ``rows`` and the engine's clock ticks. Its
        release numbers run up to the engine's next one: what it hands over (anchors, window
        entries, all keyed or ordered by release number) comes before what the engine
        releases from now on and never takes the number of an anchor still to come."""
        helper = TriggerEngine(rules, customers=self.customers, max_future=None)
        helper._runner.seq = self._runner.seq - len(rows)
        helper._delivery.take(rows, helper._runner, helper._now)
        # its timers as far as the engine's went: what fell due before now is not returned
        if self._delivery.watermark is not None:
            helper._runner.advance(self._delivery.watermark, inclusive=False)
        if self._delivery.closed is not None:
            helper._runner.advance(self._delivery.closed, inclusive=True)
        return helper._runner

    def remove_rule(self, name: str) -> None:
        """Stop evaluating the rule or alert called ``name`` and drop its state, and the
        values of aggregates no other active rule reads (a rule added again later starts
        them afresh). The change is committed to the store."""
        of_type(name, str, "remove_rule()", "name", "a rule's name (text)")
        with self._lock:
            if name not in self._runner.alerts.plans:
                self.rules[name]  # raises KeyError with the known names
            self._change_rules(lambda: remove(self.rules, self._runner, name))

    def _change_rules(self, change: Callable[[], RuleSet]) -> None:
        """Make a change to the active rules and commit it; if the change or its commit
        fails, everything is as before. Interactions held back for lateness are checked
        against the new rules as a call that brings them is (:meth:`RuleRunner.refuse_held
        <cxmodel.triggers._runner.RuleRunner.refuse_held>`)."""

        def checked() -> RuleSet:
            changed = change()
            self._refuse_held()
            return changed

        self._hold()
        self.rules = change_rules(self.rules, self._runner, self.store, checked, self._meta)

    def _refuse_held(self) -> None:
        """Check the interactions held back for lateness against the rules' ordering
        aggregates (:meth:`RuleRunner.refuse_held
        <cxmodel.triggers._runner.RuleRunner.refuse_held>`), when one may fail."""
        if self._runner.may_fail and self._delivery.buffer:
            self._runner.refuse_held(self._delivery.held())

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
        runner = self._runner
        row = row_of(interaction, self.questions, runner.catalogue.rules)  # by catalogue kind
        with self._lock:
            if runner.record_checks:
                refuse_misread_one(row, runner.record_checks, runner.numeric, runner.truths)
            if self._declared is not None:
                self._declared.refuse([row])
            if type(self.store) is InMemoryStore and not runner.may_fail:
                return self._call_one(row)
            return list(self._call([row], None))

    def process_many(self, interactions: Any) -> Firings:
        """Process a micro-batch in delivery order; return the firings that became final.

        ``interactions`` is an :class:`~cxmodel.log.InteractionLog` (its input order), a
        mapping of columns as for :meth:`InteractionLog.from_arrays
        <cxmodel.log.InteractionLog.from_arrays>`, or an iterable of interaction objects or
        records (catalogue events among them, as :meth:`process` takes them). A micro-batch
        arrives at once: an interaction in it is late only when it is behind the watermark
        earlier calls set (or at or before ``advance_to``'s time), and the batch is taken in
        time order, so the result is the same as processing its interactions one by one in
        time order. A micro-batch of 1,000 interactions or more
        is taken a rule at a time over columns (a log, a mapping of columns or a list of
        plain records stays columns until a rule reads an interaction; rules anchored on
        interactions are decided with the batch evaluator's array kernels), with the same
        result; alerts, catalogue rules and contact policies keep every call on the
        per-interaction path.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
        >>> got = engine.process_many({"customer_id": ["a", "b"], "kind": ["purchase", "purchase"],
        ...     "timestamp": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], "value": [50.0, 500.0]})
        >>> [(f.customer_id, f.action) for f in got]
        [('b', 'thanks')]
        """
        least = self._columnar_from
        large = least is not None and _size(interactions) >= least
        # the checks of a large micro-batch make many objects too (see take_many)
        with collector_paused() if large else contextlib.nullcontext():
            columns: Source | None = columns_from(interactions, self.questions)  # a log, ...
            rows = None
            if columns is None and type(interactions) is list and large:
                # records of a large micro-batch, checked as columns (else one by one below)
                kinds = self._runner.catalogue.kinds
                columns = record_columns(interactions, self.questions, kinds)
            if columns is None:
                rows = rows_from(interactions, self.questions, self._runner.catalogue.kinds)
            with self._lock:
                return self._call(self._batch(columns, rows), None)

    def _batch(self, columns: Source | None, rows: list[Row] | None) -> list[Row] | Source:
        """A micro-batch as the path that takes it wants it, checked: columns for the
        columnar path (at least ``_columnar_from`` interactions, rules it can run, no
        declared data), rows for the per-interaction path."""
        n = len(rows) if rows is not None else columns.n if columns is not None else 0
        runner = self._runner
        least = self._columnar_from
        columnar = least is not None and n >= least and self._declared is None
        if columnar and columnar_ready(runner):
            source = columns if columns is not None else RowColumns(rows or [])
            refuse(source, runner)
            return source
        if rows is None:
            assert columns is not None
            rows = columns.rows(np.arange(columns.n))
        refuse_misread(rows, runner.numeric, runner.truths)
        if self._declared is not None:
            self._declared.refuse(rows)
        return rows

    def advance_to(self, time: TimeLike) -> list[Firing]:
        """Declare that every interaction up to ``time`` has been delivered; fire due timers.

        Afterwards an interaction at or before ``time`` is late. A ``time`` more than
        ``max_future`` ahead of the clock is refused (:class:`~cxmodel.errors.SchemaError`,
        nothing changed), as an interaction that far ahead is: it would fire every timer up
        to it and make every later interaction late, also after a restart. A ``time`` before
        one given earlier declares nothing new.
        """
        t = to_us(time, what="advance_to(): time")
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
            return list(self._call([], t))

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
        interactions, the outbox's firings (acknowledged or not) and their id in alerts'
        windows of ``customer_id``, from memory and the store, in one step.

        The store erases first: if it fails (:class:`~cxmodel.errors.StoreError`), the
        engine still holds the customer; call ``forget`` again. A customer the engine does
        not know is erased from the store all the same (their late or refused interactions).
        """
        if isinstance(customer_id, int) and not isinstance(customer_id, bool):
            customer_id = str(customer_id)  # as an interaction's integer customer_id is read
        of_type(customer_id, str, "forget()", "customer_id", "a customer's id (text)")
        with self._lock:
            self._hold()
            kept = self._delivery.without(customer_id)
            meta = self._meta()
            if kept is not None:
                meta["buffer"] = stored_buffer(kept)
            self.store.forget(customer_id, meta)
            self._runner.forget(customer_id)
            self.customers.pop(customer_id, None)
            if kept is not None:
                self._delivery.keep(kept)

    @property
    def watermark(self) -> datetime | None:
        """The event time up to which interactions have been processed (``None`` at start):
        an interaction before it is late, and so is one at it after :meth:`advance_to`."""
        released = self._delivery.released
        return None if released is None else us_to_datetime(released)

    @property
    def lateness(self) -> int:
        """The allowed lateness, in microseconds."""
        return self._delivery.lateness

    @property
    def max_future(self) -> int | None:
        """How far ahead of the clock an interaction may be, in microseconds (``None``: any)."""
        return self._delivery.max_future

    @property
    def duplicates(self) -> int:
        """The re-delivered interactions ignored so far."""
        return self._delivery.duplicates

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
        waiting for their time, the bytes of the serialised state (what a durable store
        keeps), and the interactions not processed: ``duplicates_ignored`` (re-delivered),
        ``late`` and ``refused`` (more than ``max_future`` ahead of the clock).

        It serialises every customer's state under the engine's lock (about a second for
        100,000 customers of the example rules), so other calls wait meanwhile: call it to
        look at the state, not on every metrics scrape.

        The three counts are this engine's, since it was created: they are not kept in the
        snapshot, and start at 0 after a restart. The late and refused interactions
        themselves are kept in the store, with their reasons, across restarts
        (``store.late()``, ``store.rejected()``)."""
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
                    timers += sum(1 for a in rs.anchors.values() if a.due is not None)
            timers += sum(columns.pending() for columns in self._runner.held_list)
            return {
                "customers": len(self._runner.states),
                "pending_anchors": anchors,
                "pending_timers": timers,
                "waiting_firings": waiting,
                "buffered": len(self._delivery.buffer),
                "pending_catalogue_events": len(self._runner.catalogue.pending),
                "alert_window_values": self._runner.alerts.entries(),
                "duplicates_ignored": self.duplicates,
                "late": self._set_aside["late"],
                "refused": self._set_aside["refused"],
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
        # named as the clock's: a host reading "timestamp ... has no time zone" looks at its
        # interactions, not at the clock it gave
        return to_us(value, what="TriggerEngine(clock=...): the time the clock returned")

    def _call(self, rows: list[Row] | Source, advance: int | None) -> Firings:
        """Run one call and commit it; return its firings, emitted and suppressed, each
        sorted by time, customer, trigger and id. Those a large micro-batch decided as
        columns stay columns (committed so to an in-memory store) until they are read."""
        self._hold()
        durable = type(self.store) is not InMemoryStore  # a commit that can fail
        runner = self._runner
        runner.touched = set()
        # what to put back if the commit fails, or the rules can fail part way through
        guarded = durable or runner.may_fail
        runner.before = {} if guarded else None
        saved = (
            self._delivery.save(), runner.seq, runner.catalogue.to_dict(), runner.alerts.begin()
        ) if guarded else ()  # fmt: skip
        runner.emitted, runner.suppressed = [], []
        runner.emitted_blocks, runner.suppressed_blocks = [], []
        try:
            if isinstance(rows, list):
                late, rejected = self._delivery.take(rows, runner, self._now)
            else:  # a large micro-batch (see process_many)
                late, rejected = take_many(self._delivery, runner, rows, self._now, self.redelivery)
            late, rejected, again = not_kept_again(self.store, late, rejected)
            self._delivery.duplicates += again
            if advance is not None:
                self._delivery.close(advance, runner, self._fire_on_arrays(advance))
            self._refuse_held()
            self._delivery.forget_ids(runner, self.redelivery)
            self._delivery.trim_buffers(runner)
            emitted, suppressed = runner.emitted, runner.suppressed
            assert suppressed is not None
            if runner.emitted_blocks or runner.suppressed_blocks:  # some kept as columns
                out = Firings.from_parts(
                    emitted, runner.emitted_blocks, suppressed, runner.suppressed_blocks
                )
                decided: Sequence[Firing] = firing_rows(out)
            else:
                if len(emitted) > 1:
                    emitted.sort(key=firing_sort_key)
                if len(suppressed) > 1:
                    suppressed.sort(key=firing_sort_key)
                out = Firings(emitted, suppressed)
                decided = emitted
            change = StateChange(
                meta=self._lazy_meta.reset() if not durable else self._meta(),
                customers=ChangedStates(runner.states, runner.touched),
                firings=decided,
                late=late,
                rejected=rejected,
                alerts=runner.alerts.changes(),
            )
        except BaseException:  # the host's clock, or a fault: the call did not happen
            self._rollback(saved)
            runner.before = None
            raise
        try:
            commit(self.store, change)
        except StoreError:
            self._rollback(saved)
            raise
        else:
            runner.alerts.committed()
        finally:
            runner.before = None
        if late or rejected or (isinstance(self.store, InMemoryStore) and self.store.dropping):
            self._committed(len(late), rejected)
        return out

    def _fire_on_arrays(self, time: int) -> Callable[[int], None] | None:
        """How ``advance_to(time)`` fires its timers: a rule at a time when at least
        ``_columnar_from`` fall due and the rules can run on the columnar path (as a large
        micro-batch's do), else one by one (``None``)."""
        least = self._columnar_from
        runner = self._runner
        if least is None or self._declared is not None or not columnar_ready(runner):
            return None
        return partial(fire_due, runner) if runner.timers_due(time, least) else None

    def _call_one(self, row: Row) -> list[Firing]:
        """:meth:`_call` of one interaction with an :class:`InMemoryStore`, which keeps
        references and has nothing to roll back: the same firings, state and commit, without
        the set-up a batch or a store whose commit can fail needs. Return the emitted
        firings (the suppressed ones are not returned, so not built)."""
        self._hold()
        runner = self._runner
        runner.touched = set()
        emitted: list[Firing] = []
        runner.emitted, runner.suppressed = emitted, None  # process() returns no suppressed
        runner.emitted_blocks, runner.suppressed_blocks = [], []
        late, rejected = self._delivery.take_one(row, runner, self._now)
        self._delivery.forget_ids(runner, self.redelivery)
        self._delivery.trim_buffers(runner)
        if late or rejected:
            new_late, new_rejected, again = not_kept_again(self.store, late, rejected)
            late, rejected = tuple(new_late), tuple(new_rejected)
            self._delivery.duplicates += again
        if len(emitted) > 1:
            emitted.sort(key=firing_sort_key)
        store = self.store
        assert isinstance(store, InMemoryStore)
        store.keep(
            self._lazy_meta.reset(),
            ChangedStates(runner.states, runner.touched),
            emitted,
            late,
            rejected,
            runner.alerts.changes(),
            self._latest,
        )
        runner.alerts.committed()
        if late or rejected or store.dropping:
            self._committed(len(late), rejected)
        return emitted

    def _committed(self, late: int, rejected: Sequence[Quarantined]) -> None:
        """After a call's commit: count the interactions it kept as late and refused, then
        warn of what the in-memory store dropped past its limit in the call, and of those
        kept aside. Counted first and the drops warned of first: with warnings turned into
        errors, the call that dropped raises of its drops (its set-aside interactions counted
        all the same), and no later call does."""
        reused = [item for item in rejected if item.reason.startswith(ID_TAKEN)]
        ahead = len(rejected) - len(reused)
        self._set_aside["late"] += late
        self._set_aside["refused"] += len(rejected)
        store = self.store
        if isinstance(store, InMemoryStore) and store.dropping:
            self._dropped(store)
        if late or ahead:
            self._kept_aside(late, ahead)
        if reused:
            first = reused[0]
            warn(
                f"{len(reused):,} interaction(s) came under the interaction id of another "
                "interaction of the same customer, taken at another time (the first: "
                f"{first.record.get('interaction_id')!r} of customer "
                f"{first.customer_id!r}); they were refused and not processed, and each is "
                "kept with its reason in store.rejected(). Give each interaction its own id "
                "(a re-delivery repeats the interaction's time)",
                DataWarning,
            )

    @staticmethod
    def _kept_aside(late: int, refused: int) -> None:
        """Warn once of the interactions a call kept as late and refused (committed to the
        store), with the counts and where they are (the caller of ``process`` or
        ``process_many``)."""
        if late:
            template = (
                "{late:,} interaction(s) arrived late and were not processed (behind the "
                "watermark, or at or before a time advance_to declared complete); each is "
                "kept with its reason in engine.late (store.late())"
            )
            if refused:
                template += (
                    ", and {refused:,} more than max_future ahead of the clock were refused "
                    "(kept in store.rejected())"
                )
            warn_counted(DataWarning, template, late=late, refused=refused)
        else:
            warn_counted(
                DataWarning,
                "{refused:,} interaction(s) more than max_future ahead of the clock were "
                "refused and not processed; each is kept with its reason in "
                "store.rejected() (check the sender's clock or the timestamp's unit)",
                refused=refused,
            )

    @staticmethod
    def _dropped(store: InMemoryStore) -> None:
        """Warn, with the counts, when the in-memory store dropped its oldest firings, late
        or refused interactions past its ``max_kept`` in the call (after the commit)."""
        firings, late, refused = store.take_dropped()
        warn_counted(
            DataWarning,
            "the in-memory store keeps at most {most:,} firings, late and refused interactions "
            "each: it dropped its oldest {firings:,} firing(s) (acknowledged or not), "
            "{late:,} late and {refused:,} refused interaction(s); acknowledge and prune the "
            "firings you have handled (store.acknowledge, store.prune), take the others "
            "(store.take_late, store.take_rejected), or give InMemoryStore(max_kept=...) "
            "or a SQLiteStore",
            dropped=firings + late + refused,
            most=store.max_kept or 0,
            firings=firings,
            late=late,
            refused=refused,
        )

    def _rollback(self, saved: tuple[Any, ...]) -> None:
        """Put the engine back as it was before the call that failed (kept when the store's
        commit can fail or the rules can fail part way: ``runner.may_fail``; otherwise
        nothing can fail once a call has changed anything, and nothing was kept)."""
        if not saved:
            return
        delivery, self._runner.seq, catalogue, alerts = saved
        self._delivery.restore(delivery)
        self._runner.catalogue.restore(catalogue, self._runner.timers, TIMER)
        self._runner.alerts.rollback(alerts)
        self._runner.put_back()

    def _meta(self, rules: RuleSet | None = None) -> dict[str, Any]:
        """The engine's meta, with ``rules`` active (the active rules by default)."""
        hashes = self._hashes(self.rules if rules is None else rules)
        return engine_meta(self._delivery, self._runner, hashes)
