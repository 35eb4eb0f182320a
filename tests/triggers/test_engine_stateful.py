"""Stateful test of the streaming trigger engine across lifetimes.

A hypothesis state machine plays a host running a :class:`TriggerEngine` on a
:class:`SQLiteStore` file the way the streaming guide says, and interleaves every operation
the engine promises to survive: ``process``, ``process_many`` (records, interactions, a log, a
mapping of columns), ``advance_to`` ticks, a kill before or after a call's commit, a failed
commit that the host retries, a clean restart, re-delivery from the last acknowledged point,
and ``forget``.

The host keeps a ledger: the firings it received (returned by a call, or listed by
``store.pending()`` after a restart, each acknowledged at once) and the offset of the last
record whose call returned; after a kill it re-delivers from that offset. At the end it calls
``advance_to(T_end)``, and what it received must be what batch ``evaluate`` returns over every
interaction the engine committed, for the customers never forgotten, with no firing received
twice and none for a forgotten customer after ``forget``.

A kill is simulated in the process: the engine is dropped without another call, and its
store's connection and OS lock are let go as the OS would let them go when the process dies
(``SQLiteStore.close``, which commits nothing). A kill inside a call, before its commit, is a
commit that fails and an engine that is then dropped.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import closing
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from cxmodel.errors import StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, SQLiteStore, TriggerEngine, parse
from tests.triggers.helpers import (
    REDELIVERY,
    FailingStore,
    evaluate_complete,
    interaction,
    random_rule_set,
    records,
)

Step = TypeVar("Step", bound=Callable[..., None])

FORMS = ["records", "iso", "interactions", "log", "columns"]
CALLS = [("process", f) for f in FORMS[:3]] + [("process_many", f) for f in FORMS]
#: the engines' redelivery window (``REDELIVERY``): ids the host may re-deliver are this recent
WINDOW = timedelta(days=30)


def iso(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON carries it (ISO-8601 timestamp)."""
    return {**rec, "timestamp": rec["timestamp"].isoformat()}


def shaped(chunk: list[dict[str, Any]], form: str) -> Any:
    """``chunk`` in one of the input forms ``process_many`` takes."""
    if form == "iso":
        return [iso(r) for r in chunk]
    if form == "interactions":
        return [interaction(r) for r in chunk]
    if form == "log":
        return InteractionLog.from_records(chunk)
    if form == "columns":
        names = sorted({name for r in chunk for name in r})
        return {name: [r.get(name) for r in chunk] for name in names}
    return list(chunk)


def whole(firing: Any) -> str:
    """A firing compared whole (trigger, customer, time, action, payload, because, id and
    reason), as JSON so that a firing read back from the store compares equal."""
    return json.dumps(firing.to_dict(), sort_keys=True, default=str)


def checked(step: Step) -> Step:
    """Mark the machine as failed while ``step`` runs, so that the teardown compares with
    batch only after a run whose every step passed."""

    @wraps(step)
    def run(machine: Any, *args: Any, **kwargs: Any) -> None:
        machine.failed = True
        step(machine, *args, **kwargs)
        machine.failed = False

    return run  # type: ignore[return-value]


class EngineLifetimes(RuleBasedStateMachine):
    """A host and its engine, over random interleavings of calls, kills and restarts."""

    lateness_hours = 0

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="cxmodel-stateful-"))
        self.path = self.folder / "state.db"
        self.failed = False
        self.store: Any = None
        self.engine: Any = None
        self.rules: Any = None
        self.text = ""
        self.plan: list[dict[str, Any]] = []  # the records in delivery order
        self.position: dict[str, int] = {}  # interaction id -> position in the plan
        self.t_end: datetime | None = None
        self.offset = 0  # records before it went in a call that returned
        self.committed: dict[str, int] = {}  # interaction id -> position in the plan
        self.sent: Counter[str] = Counter()  # deliveries per interaction id
        self.returned: list[str] = []  # firing ids returned by the engine's calls
        self.received: list[Any] = []  # firings the host received (returned or pending)
        self.forgotten: set[str] = set()
        self.n_customers = 1
        self.before_kill: dict[str, Any] = {}  # the engine's stats when it was stopped

    # -- the host ---------------------------------------------------------------------------
    def start(self) -> None:
        """A new engine on the file; the host first takes what is pending."""
        self.store = FailingStore(SQLiteStore(self.path))
        self.engine = TriggerEngine(
            self.rules,
            store=self.store,
            allowed_lateness=timedelta(hours=self.lateness_hours),
            redelivery_window=REDELIVERY,
        )
        self.take(self.store.inner.pending(), returned=False)

    def kill(self) -> None:
        """The process dies: no call on the engine; the OS closes the file and its lock."""
        self.store.inner.close()
        self.store = self.engine = None

    def take(self, firings: Iterable[Any], *, returned: bool = True) -> None:
        """Receive firings and acknowledge them at once."""
        got = list(firings)
        for firing in got:
            assert firing.customer_id not in self.forgotten, (
                f"{firing!r} names a customer forgotten earlier"
            )
        ids = [f.firing_id for f in got]
        if returned:
            self.returned += ids
        self.received += got
        if ids:
            self.store.acknowledge(ids)

    def next_records(self, k: int) -> tuple[list[dict[str, Any]], int]:
        """The next ``k`` records of the plan the host sends (none of a forgotten customer),
        and the offset after them."""
        stop = min(len(self.plan), self.offset + k)
        chunk = [r for r in self.plan[self.offset : stop] if r["customer_id"] not in self.forgotten]
        return chunk, stop

    def send(self, chunk: list[dict[str, Any]], form: str, *, one: bool = False) -> list[Any]:
        """One call with ``chunk`` (``process`` if ``one``); the records count as committed
        once it returns."""
        self.sent.update(r["interaction_id"] for r in chunk)
        if one:
            got = list(self.engine.process(shaped(chunk, form)[0]))
        else:
            got = list(self.engine.process_many(shaped(chunk, form)))
        self.commit(chunk)
        return got

    def commit(self, chunk: list[dict[str, Any]]) -> None:
        """The host's record of what the engine committed: id -> position in the plan."""
        for rec in chunk:
            ident = rec["interaction_id"]
            self.committed.setdefault(ident, self.position[ident])

    def tick_limit(self) -> datetime:
        """A tick stays before every record still to be sent (else that record is late)."""
        assert self.t_end is not None
        rest = [r["timestamp"] for r in self.plan[self.offset :]]
        return min(rest) if rest else self.t_end + timedelta(microseconds=1)

    def comparable_stats(self) -> dict[str, Any]:
        """What the host can see of the engine's state: its stats and watermark."""
        stats = dict(self.engine.stats())
        del stats["duplicates_ignored"]  # counted per engine lifetime, not stored
        stats["watermark"] = self.engine.watermark
        return stats

    def restart_and_compare(self) -> None:
        """Start again on the file: the state loaded is the state last committed."""
        self.start()
        assert self.comparable_stats() == self.before_kill

    # -- set-up -----------------------------------------------------------------------------
    @initialize(
        seed=st.integers(0, 2**32 - 1),
        n=st.integers(5, 80),
        n_customers=st.integers(2, 6),
        examples=st.booleans(),
        tail_days=st.integers(0, 12),
    )
    @checked
    def begin(self, seed: int, n: int, n_customers: int, examples: bool, tail_days: int) -> None:
        rng = random.Random(seed)
        self.n_customers = n_customers
        self.text = EXAMPLE_RULES if examples else random_rule_set(rng)
        self.rules = parse(self.text)
        recs = records(seed, n, n_customers=n_customers, days=30)
        minutes = self.lateness_hours * 60
        jitter = [
            timedelta(minutes=rng.randrange(minutes)) if minutes else timedelta(0) for _ in recs
        ]
        order = sorted(range(len(recs)), key=lambda j: recs[j]["timestamp"] + jitter[j])
        self.plan = [recs[j] for j in order]  # out of order by less than the lateness
        self.position = {r["interaction_id"]: j for j, r in enumerate(self.plan)}
        self.t_end = max(r["timestamp"] for r in recs) + timedelta(days=tail_days)
        self.start()

    # -- operations -------------------------------------------------------------------------
    @precondition(lambda self: self.offset < len(self.plan))
    @rule(k=st.integers(1, 12), call=st.sampled_from(CALLS), again=st.integers(0, 2))
    @checked
    def deliver(self, k: int, call: tuple[str, str], again: int) -> None:
        """Send the next ``k`` records: one ``process`` call each, or one ``process_many``
        call in one of its input forms. The first ``again`` of them are sent again at the end
        of the same call (an at-least-once queue), except in a log or columns, whose ids
        must be unique."""
        method, form = call
        chunk, stop = self.next_records(k)
        if form not in ("log", "columns"):
            chunk += chunk[:again]
        if method == "process":
            for rec in chunk:
                self.take(self.send([rec], form, one=True))
        elif chunk or form in ("records", "interactions"):  # an empty call is a call too
            self.take(self.send(chunk, form))
        self.offset = stop

    @rule(back=st.integers(1, 4 * 24 * 60))
    @checked
    def tick(self, back: int) -> None:
        """``advance_to`` a time ``back`` minutes before the next record to send (after the
        last one sent, or before it when ``back`` is large)."""
        self.take(self.engine.advance_to(self.tick_limit() - timedelta(minutes=back)))

    @rule(
        how=st.sampled_from(["restart", "kill", "kill after a call", "kill after a tick"]),
        k=st.integers(0, 8),
    )
    @checked
    def stop(self, how: str, k: int) -> None:
        """Close the store and start again, or kill the process: between two calls, or
        after a call (``k`` records, or a tick) committed but before the host saw its
        firings. The host's offset stays; it takes what is pending and sends from there."""
        if how == "kill after a call":
            chunk, _ = self.next_records(k)
            self.send(chunk, "iso")  # committed; the firings are lost with the process
        elif how == "kill after a tick":
            self.engine.advance_to(self.tick_limit() - timedelta(minutes=1 + k))
        self.before_kill = self.comparable_stats()
        if how == "restart":
            self.store.close()
        else:
            self.kill()
        self.restart_and_compare()

    @rule(k=st.integers(0, 8), killed=st.booleans())
    @checked
    def commit_fails(self, k: int, killed: bool) -> None:
        """A call (``k`` records, or a tick when ``k == 0``) whose commit fails (the process
        killed inside it, or a full disk): the engine is as before; the host restarts, or
        keeps the engine and sends again."""
        chunk, _ = self.next_records(k)
        self.before_kill = self.comparable_stats()
        self.store.fail = 1
        with pytest.raises(StoreError):
            if k:
                self.engine.process_many([iso(r) for r in chunk])
            else:
                self.engine.advance_to(self.tick_limit() - timedelta(minutes=1))
        self.store.fail = 0
        assert self.comparable_stats() == self.before_kill
        if killed:
            self.kill()
            self.restart_and_compare()

    @precondition(lambda self: self.offset > 0)
    @rule(k=st.integers(1, 10))
    @checked
    def redeliver(self, k: int) -> None:
        """The host goes back ``k`` records: the next calls send duplicates. It goes back
        no further than the redelivery window behind the watermark, as the guide says: the
        engine has forgotten the ids before it, so those records would be late (and warned
        of), not ignored."""
        offset = max(0, self.offset - k)
        mark = self.engine.watermark
        if mark is not None:
            while offset < self.offset and self.plan[offset]["timestamp"] < mark - WINDOW:
                offset += 1
        self.offset = offset

    @precondition(
        lambda self: self.committed and len(self.forgotten) < min(2, self.n_customers - 1)
    )
    @rule(which=st.integers(0, 5))
    @checked
    def forget(self, which: int) -> None:
        """Erase a customer (at most two, and never all, so that others remain to compare);
        the host sends nothing of theirs from now on."""
        customer = f"c{which % self.n_customers}"
        self.engine.forget(customer)
        self.forgotten.add(customer)
        assert customer not in self.engine._runner.states
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            for table in ("customers", "outbox", "late", "rejected", "alert_values"):
                query = f"SELECT count(*) FROM {table} WHERE customer_id = ?"
                assert db.execute(query, (customer,)).fetchone() == (0,), table

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    @checked
    def nothing_twice(self) -> None:
        """No firing is returned twice, nor received twice across lifetimes."""
        assert len(self.returned) == len(set(self.returned))
        ids = [f.firing_id for f in self.received]
        assert len(ids) == len(set(ids))

    @invariant()
    @checked
    def state_is_consistent(self) -> None:
        """Everything received is acknowledged; nothing is kept of a forgotten customer;
        only a re-delivered interaction may be late; with no lateness nothing waits."""
        if self.engine is None:
            return
        assert self.store.inner.pending() == []
        states = self.engine._runner.states
        assert not self.forgotten & set(states)
        assert not self.forgotten & {f.customer_id for f in self.store.inner.firings()}
        stats = self.engine.stats()
        known = {r["customer_id"] for r in self.plan if r["interaction_id"] in self.committed}
        assert stats["customers"] <= len(known - self.forgotten)
        late = {q.record["interaction_id"] for q in self.store.inner.late()}
        assert late <= {ident for ident, n in self.sent.items() if n > 1}
        if not self.lateness_hours:
            assert stats["buffered"] == 0

    # -- the end ----------------------------------------------------------------------------
    def teardown(self) -> None:
        try:
            if self.engine is not None and not self.failed:
                self.compare_with_batch()
        finally:
            if self.store is not None:
                self.store.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def compare_with_batch(self) -> None:
        """The host sends the rest from its offset, then ``advance_to(T_end)``: it received
        exactly batch's firings."""
        chunk, self.offset = self.next_records(len(self.plan))
        self.take(self.send(chunk, "records"))
        self.take(self.engine.advance_to(self.t_end))
        self.nothing_twice()
        self.state_is_consistent()
        first = sorted(self.committed.values())  # in the order the engine first took them
        delivered = sorted((self.plan[j] for j in first), key=lambda r: r["timestamp"])
        kept = [f for f in self.received if f.customer_id not in self.forgotten]
        if delivered:
            log = InteractionLog.from_records(delivered)
            batch = evaluate_complete(self.rules, log, as_of=self.t_end)
            expected = [f for f in batch if f.customer_id not in self.forgotten]
        else:
            expected = []
        assert Counter(map(whole, kept)) == Counter(map(whole, expected)), self.text


class LateEngineLifetimes(EngineLifetimes):
    """The same host, with a day's allowed lateness and records out of order within it."""

    lateness_hours = 24


SETTINGS = settings(
    max_examples=int(os.environ.get("CXMODEL_STATEFUL_EXAMPLES", "50")),
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

TestEngineLifetimes = EngineLifetimes.TestCase
TestEngineLifetimes.settings = SETTINGS
TestLateEngineLifetimes = LateEngineLifetimes.TestCase
TestLateEngineLifetimes.settings = SETTINGS
