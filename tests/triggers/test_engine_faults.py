"""Fault tests for the streaming trigger engine, run as a service would run it.

Each test compares what the host *received* from the engine's calls (returned firings, and
after a restart the store's pending ones) with batch ``evaluate``, not only what was stored.
Tests marked ``xfail(strict=True)`` pin a bug found while writing them: each says what is
wrong, so that the fix turns it into a pass (and the strict mark then fails the suite until
the mark is removed).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from test_triggers_engine import interaction, records
from test_triggers_microbatch import random_rule_set

from cxmodel.domain import Consent, Customer, Interaction
from cxmodel.errors import CXModelError, SchemaError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    EXAMPLE_RULES,
    InMemoryStore,
    Quarantined,
    SQLiteStore,
    StateChange,
    TriggerEngine,
    evaluate,
    explain,
    parse,
)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
EXAMPLES = parse(EXAMPLE_RULES)
SRC = str(Path(__file__).resolve().parents[2] / "src")


# -- helpers -------------------------------------------------------------------------------------
def full_key(firings: Iterable[Any]) -> Counter[Any]:
    """Firings compared whole: trigger, customer, time, payload, because and id."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id)
        for f in firings
    )


def batch_of(rules: Any, recs: list[dict[str, Any]], as_of: Any, **kw: Any) -> Any:
    """Batch ``evaluate`` over ``recs`` (in time order) as of ``as_of``."""
    ordered = sorted(recs, key=lambda r: r["timestamp"])
    return evaluate(rules, InteractionLog.from_records(ordered), as_of=as_of, **kw)


def iso(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON would carry it (ISO-8601 timestamp)."""
    out = dict(rec)
    if isinstance(out["timestamp"], datetime):
        out["timestamp"] = out["timestamp"].isoformat()
    return out


def files_of(path: Path) -> list[Path]:
    """The SQLite file and its sidecars that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Any]:
    """Make SQLiteStores that are closed at teardown, whatever the test did."""
    made: list[SQLiteStore] = []

    def make(path: Path | str, **kw: Any) -> SQLiteStore:
        store = SQLiteStore(path, **kw)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


class FailingStore:
    """A store wrapper (not an InMemoryStore) whose next ``fail`` commits raise StoreError."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail = 0
        self.commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open(self) -> Any:
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def commit(self, change: StateChange) -> None:
        if self.fail:
            self.fail -= 1
            raise StoreError("simulated: the disk is full")
        self.commits += 1
        self.inner.commit(change)

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        self.inner.forget(customer_id, meta)


# -- 1. exactly once across engine lifetimes ------------------------------------------------------
class _Host:
    """A host that runs an engine on a SQLiteStore file the way the streaming guide says:
    it delivers what the engine returns and acknowledges it, and after every restart first
    delivers ``store.pending()`` then re-delivers input from its last acknowledged offset."""

    def __init__(self, rules: Any, path: Path, lateness: str | int, **kw: Any) -> None:
        self.rules, self.path, self.lateness, self.kw = rules, path, lateness, kw
        self.received: list[str] = []
        self.returned: list[str] = []
        self.calls = Counter[str]()
        self.store: Any = None
        self.engine: Any = None
        self.start()

    def start(self, *, failing: bool = False) -> None:
        inner = SQLiteStore(self.path)
        self.store = FailingStore(inner) if failing else inner
        self.engine = TriggerEngine(
            self.rules, store=self.store, allowed_lateness=self.lateness, **self.kw
        )
        self.deliver(inner.pending(), returned=False)
        self.calls["start"] += 1

    def stop(self) -> None:
        self.store.close()
        self.store = self.engine = None

    def deliver(self, firings: Iterable[Any], *, returned: bool = True) -> None:
        ids = [f.firing_id for f in firings]
        self.received.extend(ids)
        if returned:
            self.returned.extend(ids)
        if ids:
            self.store.acknowledge(ids)


def _deliver_randomly(
    rules: Any, recs: list[dict[str, Any]], as_of: datetime, seed: int, path: Path
) -> _Host:
    """Stream ``recs`` (time order) through a host that is randomly cut, ticked, restarted,
    killed before or after a commit, and that re-delivers overlapping input."""
    rng = random.Random(seed)
    host = _Host(rules, path, rng.choice([0, 0, "1 days"]))
    acked = 0  # the host's offset: records before it were handed over in a call that returned
    first_new = 0  # records from here on were never committed by the engine
    n = len(recs)
    while acked < n:
        roll = rng.random()
        if roll < 0.08:  # a clean restart, re-delivering from a little before the offset
            host.stop()
            host.start()
            acked = max(0, acked - rng.randint(0, 6))
            continue
        if roll < 0.14 and first_new < n:  # a tick: never before an undelivered interaction
            limit = recs[first_new]["timestamp"]
            tick = limit - timedelta(minutes=rng.randint(1, 60 * 36))
            host.deliver(host.engine.advance_to(tick))
            host.calls["advance_to"] += 1
            continue
        stop = min(n, acked + rng.randint(1, 8))
        part = recs[acked:stop]
        form = rng.random()
        if roll < 0.20:  # killed after the commit, before the host saw the result
            host.engine.process_many([iso(r) for r in part])
            host.stop()
            host.start()
            first_new = max(first_new, stop)
            acked = max(0, acked - rng.randint(0, 3))
            host.calls["kill_after_commit"] += 1
            continue
        if roll < 0.26:  # killed inside the call, before its commit
            host.stop()
            host.start(failing=True)
            host.store.fail = 1
            with pytest.raises(StoreError):
                host.engine.process_many([interaction(r) for r in part])
            host.stop()
            host.start()
            acked = max(0, acked - rng.randint(0, 3))
            host.calls["kill_before_commit"] += 1
            continue
        if form < 0.4:
            for rec in part:
                host.deliver(host.engine.process(interaction(rec)))
        elif form < 0.7:
            host.deliver(host.engine.process_many([iso(r) for r in part]))
        else:
            host.deliver(host.engine.process_many(InteractionLog.from_records(part)))
        host.calls["process"] += 1
        first_new = max(first_new, stop)
        acked = stop
        if rng.random() < 0.2:  # the host re-delivers an overlap in its next call
            acked = max(0, acked - rng.randint(1, 5))
    host.deliver(host.engine.advance_to(as_of))
    host.stop()
    host.start()  # a last restart: whatever is pending is delivered
    host.stop()
    return host


class TestExactlyOnceAcrossRestarts:
    def test_tick_then_restart_with_redelivery_returns_no_timer_firing_again(
        self, tmp_path: Path
    ) -> None:
        """The issue's case: advance_to(T) emits timer firings; the engine is restarted and
        the host re-delivers from its last acknowledged offset: nothing comes back twice."""
        rules = parse(
            "trigger idle:\n    when inactive for 1 days\n    emit nudge\n\n"
            "trigger later:\n    when purchase as p then after 2 days\n    emit ask"
        )
        recs = [
            {
                "customer_id": f"c{j % 3}",
                "timestamp": T0 + timedelta(hours=12 * j),
                "kind": "purchase",
                "interaction_id": f"i{j}",
            }
            for j in range(12)
        ]
        path = tmp_path / "s.db"
        received: list[str] = []
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store)
        for rec in recs[:8]:
            received += [f.firing_id for f in engine.process(iso(rec))]
        tick = recs[8]["timestamp"] - timedelta(minutes=1)
        fired = engine.advance_to(tick)
        assert fired, "the tick fires timers"
        received += [f.firing_id for f in fired]
        store.acknowledge(received)
        store.close()
        for overlap in (0, 3, 8):  # restart, re-deliver from a little or a lot before
            store = SQLiteStore(path)
            engine = TriggerEngine(rules, store=store)
            assert store.pending() == []
            for rec in recs[8 - overlap : 8]:
                assert engine.process(iso(rec)) == []
            assert engine.advance_to(tick) == []
            store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store)
        for rec in recs[8:]:
            received += [f.firing_id for f in engine.process(iso(rec))]
        as_of = T0 + timedelta(days=10)
        received += [f.firing_id for f in engine.advance_to(as_of)]
        store.close()
        assert len(received) == len(set(received))
        assert Counter(received) == Counter(batch_of(rules, recs, as_of).ids())

    @pytest.mark.parametrize("block", range(4))
    def test_random_cuts_ticks_kills_and_redelivery(self, block: int, tmp_path: Path) -> None:
        """Seeded random host lifetimes: the firing ids received across every call and every
        restart have no duplicates and are exactly batch's; after acknowledging everything
        received, nothing is pending."""
        totals: Counter[str] = Counter()
        for seed in range(block * 40, (block + 1) * 40):
            rng = random.Random(7_000 + seed)
            text = EXAMPLE_RULES if seed % 3 == 0 else random_rule_set(rng)
            rules = parse(text)
            recs = records(seed, rng.randint(20, 90), n_customers=rng.randint(1, 5), days=60)
            as_of = T0 + timedelta(days=rng.choice([30, 70]))
            visible = [r for r in recs if r["timestamp"] <= as_of]
            host = _deliver_randomly(rules, visible, as_of, seed, tmp_path / f"s{seed}.db")
            batch = batch_of(rules, visible, as_of)
            assert len(host.returned) == len(set(host.returned)), (seed, "returned twice")
            assert len(host.received) == len(set(host.received)), (seed, "received twice")
            assert Counter(host.received) == Counter(batch.ids()), seed
            store = SQLiteStore(tmp_path / f"s{seed}.db")
            assert store.pending() == [], seed
            store.close()
            totals.update(host.calls)
        assert min(totals.values()) >= 10, totals  # every kind of step happened


# -- 2. a failed commit ---------------------------------------------------------------------------
_SHARED = (
    "the rollback snapshot (_before, CustomerState.to_dict()) shares the live 'seen' and "
    "'consent' dicts and the running 'values' lists, so a failed call's interaction ids, "
    "consent changes and sum/avg values survive the rollback: the retry is ignored as a "
    "duplicate (firings lost) or aggregates count a value twice"
)


_WAITING = (
    "a firing waiting to be decided (quiet hours, or 'A then B' completed at B's time) is "
    "lost when the call that decides it fails to commit: _advance deletes it from "
    "rs.waiting before _touch() takes the customer's rollback snapshot"
)


def _snapshot(engine: Any, store: Any) -> Any:
    """What the host can see of an engine and its store."""
    return (
        engine.stats(),
        engine.watermark,
        [f.firing_id for f in store.firings()],
        [f.firing_id for f in store.pending()],
        [(q.record, q.reason) for q in store.late()],
        [(q.record, q.reason) for q in store.rejected()],
    )


def _ids(firings: Iterable[Any]) -> list[str]:
    return sorted(f.firing_id for f in firings)


_FAIL_RULES = parse(
    "trigger thanks:\n    when purchase as p\n    emit thanks(v = p.value)\n\n"
    "trigger ask:\n    when purchase as p then after 2 days\n    unless survey\n    emit ask\n\n"
    "trigger idle:\n    when inactive for 3 days\n    emit nudge\n\n"
    "trigger big:\n    when purchase as p\n    if sum(purchase.value within 7 days) > 300\n"
    "    emit big\n    cooldown 2 days"
)


def _fail_recs(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for j in range(n):
        out.append(
            {
                "customer_id": f"c{rng.randrange(4)}",
                "timestamp": (T0 + timedelta(hours=7 * j)).isoformat(),
                "kind": rng.choice(["purchase", "purchase", "survey", "view"]),
                "interaction_id": f"i{j}",
                "value": float(rng.randrange(10, 300)),
            }
        )
    return out


def _calls(recs: list[dict[str, Any]], rng: random.Random) -> list[tuple[str, Any]]:
    """A random mix of process, process_many and advance_to calls over ``recs``."""
    calls: list[tuple[str, Any]] = []
    j = 0
    while j < len(recs):
        step = rng.randint(1, 6)
        part = recs[j : j + step]
        calls.append(("process", part[0]) if step == 1 else ("process_many", part))
        j += step
        if j < len(recs) and rng.random() < 0.3:
            calls.append(
                ("advance_to", datetime.fromisoformat(recs[j]["timestamp"]) - timedelta(minutes=1))
            )
    return calls


def _decided_later(rule: Any) -> bool:
    """Whether a firing of ``rule`` found at an interaction waits for a later call to be
    decided (``then B`` completions, quiet hours)."""
    return rule.quiet is not None or (rule.then is not None and str(rule.then.mode) == "event")


def _call(engine: Any, call: tuple[str, Any]) -> list[Any]:
    what, arg = call
    return list(getattr(engine, what)(arg))


def _inner_store(kind: str, path: Path, make: Any) -> Any:
    return InMemoryStore() if kind == "memory" else make(path)


class TestFailedCommit:
    @pytest.mark.parametrize(
        "failing",
        [
            "advance_to",
            pytest.param("process", marks=pytest.mark.xfail(strict=True, reason=_SHARED)),
            pytest.param("process_many", marks=pytest.mark.xfail(strict=True, reason=_SHARED)),
        ],
    )
    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_each_call_kind_fails_cleanly_and_the_retry_returns_its_firings(
        self, kind: str, failing: str, tmp_path: Path, sqlite_store: Any
    ) -> None:
        """Every call of one kind fails once at commit: StoreError (a CXModelError), nothing
        the host can see changes, and the retry returns exactly what a twin engine that never
        failed returned for that call; in the end the host received batch's firings once."""
        recs = _fail_recs(80, 1)
        store = FailingStore(_inner_store(kind, tmp_path / "a.db", sqlite_store))
        twin_store = _inner_store(kind, tmp_path / "b.db", sqlite_store)
        engine = TriggerEngine(_FAIL_RULES, store=store)
        twin = TriggerEngine(_FAIL_RULES, store=twin_store)
        received: list[str] = []
        failures = 0
        for call in _calls(recs, random.Random(2)):
            if call[0] == failing:
                before = _snapshot(engine, store)
                store.fail = 1
                with pytest.raises(StoreError) as caught:
                    _call(engine, call)
                assert isinstance(caught.value, CXModelError)
                assert _snapshot(engine, store) == before, call
                failures += 1
            got = _call(engine, call)
            expected = _call(twin, call)
            assert _ids(got) == _ids(expected), call
            received += [f.firing_id for f in got]
        as_of = T0 + timedelta(days=40)
        store.fail = 1
        with pytest.raises(StoreError):
            engine.advance_to(as_of)
        received += [f.firing_id for f in engine.advance_to(as_of)]
        assert failures > 5
        assert len(received) == len(set(received))
        batch = batch_of(_FAIL_RULES, [iso(r) for r in recs], as_of)
        assert Counter(received) == Counter(batch.ids())

    @pytest.mark.xfail(strict=True, reason=_SHARED)
    def test_retried_interaction_is_not_taken_for_a_duplicate(self) -> None:
        """Minimal repro: the retry of a failed process() is ignored as a re-delivery."""
        rules = parse("trigger thanks:\n    when purchase as p\n    emit thanks")
        store = FailingStore(InMemoryStore())
        engine = TriggerEngine(rules, store=store)
        first = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        engine.process({**first, "interaction_id": "i1"})
        second = {**first, "timestamp": "2024-01-02T00:00:00Z", "interaction_id": "i2"}
        store.fail = 1
        with pytest.raises(StoreError):
            engine.process(second)
        assert [f.trigger for f in engine.process(second)] == ["thanks"]

    @pytest.mark.xfail(strict=True, reason=_SHARED)
    def test_running_average_is_not_changed_by_a_failed_commit(self) -> None:
        """Minimal repro without ids: avg(purchase.value) over all history counts the value of
        the failed call once more after the retry (the rolled-back count is restored, the
        shared list of values is not), so a rule fires that batch never fires."""
        rules = parse(
            "trigger big_spender:\n    when view as v\n    if avg(purchase.value) > 300\n"
            "    emit offer"
        )
        store = FailingStore(InMemoryStore())
        engine = TriggerEngine(rules, store=store)
        recs = [
            {
                "customer_id": "a",
                "timestamp": "2024-01-01T00:00:00Z",
                "kind": "purchase",
                "value": 50.0,
            },
            {
                "customer_id": "a",
                "timestamp": "2024-01-02T00:00:00Z",
                "kind": "purchase",
                "value": 500.0,
            },
            {"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "view"},
        ]
        engine.process(recs[0])
        store.fail = 1
        with pytest.raises(StoreError):
            engine.process(recs[1])
        received = engine.process(recs[1]) + engine.process(recs[2])
        assert list(batch_of(rules, recs, "2024-02-01T00:00:00Z")) == []  # avg 275
        assert received == []

    @pytest.mark.parametrize(
        "failing",
        [
            "advance_to",
            pytest.param("process_many", marks=pytest.mark.xfail(strict=True, reason=_SHARED)),
        ],
    )
    def test_database_locked_by_another_connection(
        self, failing: str, tmp_path: Path, sqlite_store: Any
    ) -> None:
        """A second raw connection holds BEGIN EXCLUSIVE: the commit times out with a
        StoreError naming the file, the engine is as before, and once the lock is gone the
        same call returns the firings (the stored outbox has them once)."""
        path = tmp_path / "s.db"
        store = sqlite_store(path, timeout=0.05)
        engine = TriggerEngine(_FAIL_RULES, store=store)
        twin = TriggerEngine(_FAIL_RULES)
        recs = _fail_recs(30, 3)
        for eng in (engine, twin):
            eng.process_many(recs[:20])
            if failing == "advance_to":
                eng.process_many(recs[20:])
        call = (
            ("advance_to", T0 + timedelta(days=30))
            if failing == "advance_to"
            else ("process_many", recs[20:])
        )
        before = _snapshot(engine, store)
        other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
        try:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreError, match=path.name) as caught:
                _call(engine, call)
            assert "locked" in str(caught.value)
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert _snapshot(engine, store) == before
        got = _call(engine, call)
        expected = _call(twin, call)
        assert got and full_key(got) == full_key(expected)
        outbox = [f.firing_id for f in store.firings()]
        assert len(outbox) == len(set(outbox))

    @pytest.mark.parametrize(
        "failing",
        [
            "advance_to",
            pytest.param("any", marks=pytest.mark.xfail(strict=True, reason=_SHARED)),
        ],
    )
    @pytest.mark.parametrize("block", range(2))
    def test_random_rule_sets_with_failing_commits(self, block: int, failing: str) -> None:
        """Random rule sets, random calls, a third of them (of the kind ``failing``) failing
        once at commit and retried: the retries return what a twin returned, and everything
        received equals batch. (Rules whose firings wait for a later call to be decided are
        left out of the passing case: see the xfail tests below.)"""
        done = 0
        for seed in range(block * 60, (block + 1) * 60):
            rng = random.Random(90_000 + seed)
            rules = parse(random_rule_set(rng))
            if failing != "any" and any(_decided_later(r) for r in rules):
                continue  # pinned by test_waiting_firing_survives_a_failed_commit
            recs = [iso(r) for r in records(seed, rng.randint(10, 80), rng.randint(1, 5), 40)]
            as_of = T0 + timedelta(days=45)
            store = FailingStore(InMemoryStore())
            engine, twin = TriggerEngine(rules, store=store), TriggerEngine(rules)
            received: list[str] = []
            for call in [*_calls(recs, rng), ("advance_to", as_of)]:
                if failing in ("any", call[0]) and rng.random() < 0.35:
                    store.fail = 1
                    with pytest.raises(StoreError):
                        _call(engine, call)
                got = _call(engine, call)
                assert _ids(got) == _ids(_call(twin, call)), (seed, call)
                received += [f.firing_id for f in got]
            assert Counter(received) == Counter(batch_of(rules, recs, as_of).ids()), seed
            done += 1
        assert done > 20

    @pytest.mark.xfail(strict=True, reason=_WAITING)
    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_quiet_hours_firing_survives_a_failed_commit(
        self, kind: str, tmp_path: Path, sqlite_store: Any
    ) -> None:
        """Minimal repro: a firing delayed by quiet hours, decided by a failing advance_to."""
        rules = parse(
            "trigger thanks:\n    when purchase as p\n    emit thanks\n    quiet hours 22:00-06:00"
        )
        store = FailingStore(_inner_store(kind, tmp_path / "s.db", sqlite_store))
        engine = TriggerEngine(rules, store=store)
        purchase = {"customer_id": "a", "timestamp": "2024-01-01T23:00:00Z", "kind": "purchase"}
        assert engine.process(purchase) == []  # inside quiet hours: waits until 06:00
        store.fail = 1
        with pytest.raises(StoreError):
            engine.advance_to("2024-01-02T07:00:00Z")
        assert engine.stats()["waiting_firings"] == 1
        got = engine.advance_to("2024-01-02T07:00:00Z")
        assert [(f.trigger, f.time) for f in got] == [
            ("thanks", datetime(2024, 1, 2, 6, tzinfo=timezone.utc))
        ]

    @pytest.mark.xfail(strict=True, reason=_WAITING)
    def test_then_completion_survives_a_failed_commit(self) -> None:
        """Minimal repro: ``A then B`` completed by B waits until event time passes B; the
        call that decides it (another customer's interaction) fails to commit."""
        rules = parse("trigger follow:\n    when product_view as v then purchase\n    emit nudge")
        store = FailingStore(InMemoryStore())
        engine = TriggerEngine(rules, store=store)
        engine.process(
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "product_view"}
        )
        assert (
            engine.process(
                {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase"}
            )
            == []
        )  # final once event time is past 2024-01-02
        other = {"customer_id": "b", "timestamp": "2024-01-03T00:00:00Z", "kind": "view"}
        store.fail = 1
        with pytest.raises(StoreError):
            engine.process(other)
        assert [f.customer_id for f in engine.process(other)] == ["a"]

    @pytest.mark.xfail(
        strict=True,
        reason="_call only rolls back when the store is not an InMemoryStore "
        "(isinstance): a store subclassing InMemoryStore whose commit fails leaves the "
        "engine half-advanced and the retry returns nothing",
    )
    def test_store_subclassing_in_memory_store_is_rolled_back(self) -> None:
        class Flaky(InMemoryStore):
            fail = 0

            def commit(self, change: StateChange) -> None:
                if self.fail:
                    self.fail -= 1
                    raise StoreError("simulated: replication to the standby failed")
                super().commit(change)

        rules = parse("trigger ask:\n    when purchase as p then after 1 days\n    emit ask")
        store = Flaky()
        engine = TriggerEngine(rules, store=store)
        engine.process(
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        )
        store.fail = 1
        with pytest.raises(StoreError):
            engine.advance_to("2024-01-03T00:00:00Z")
        assert [f.trigger for f in engine.advance_to("2024-01-03T00:00:00Z")] == ["ask"]
