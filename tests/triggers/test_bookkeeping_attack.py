"""The streaming engine's per-customer bookkeeping columns attacked: every customer's latest
interaction time and tie count held in two ``array.array`` columns, a slot per customer
(``Bookkeeping`` in ``_customer.py``), read and written one slot at a time by ``release`` and
over all of a large micro-batch's slots with numpy (``_columnar._book``).

Attacked: slots freed by ``forget`` and taken by a new customer (or the same one again), on
the columnar path and one interaction at a time; ties at one timestamp cut across calls,
``forget``, restarts and failed commits (ranks continue; firing ids carry them); failed
commits of calls that create customers (their slots freed again) and of calls after a
``forget``; ``forget`` failing in a locked SQLite file; restarts from SQLite and in-memory
stores; ``stats()``; rules added with a backfill, removed, changed across a restart; two
threads and asyncio tasks on one engine; stored tie counts out of the columns' range; and
random sequences of all of it around the columnar threshold.

Every case checks the columns' invariants (each state reads its own slot of the engine's
columns, slots and free slots partition the columns) and compares with independent
expectations: batch ``evaluate`` over the whole log, the per-interaction engine, and the
stored JSON of each customer's state.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import random
import sqlite3
import threading
from ast import literal_eval
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxmodel.errors import CXModelError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._customer import NO_TIME, CustomerState
from cxmodel.triggers._stored import DamagedState
from tests.triggers.helpers import (
    PER_ROW,
    T0,
    FailingStore,
    engine_of,
    epoch_us,
    evaluate_complete,
    state_of,
    whole,
)

#: an anchored rule (firing id keyed by the anchor's time and rank), one waiting for a
#: completing interaction, ``no ... for`` (the customer's first interaction starts it) and
#: ``inactive for`` (held as columns): all run on the columnar path
RULES = parse(
    """trigger buy:
    when purchase as p
    emit thank(v = p.value)

trigger follow:
    when purchase as p then survey within 2 days
    emit follow(v = p.value)

trigger lapse:
    when no purchase for 3 days
    emit nudge

trigger idle:
    when inactive for 5 days
    emit winback
"""
)

END = T0 + timedelta(days=90)


def recs(
    customers: list[str], n: int, start_h: int, span_h: int, seed: int, prefix: str
) -> list[dict[str, Any]]:
    """``n`` interactions of ``customers`` at whole hours from ``start_h`` over ``span_h``
    hours (few distinct times: many ties), in time order; half of them with an id of their
    own, half without (a firing anchored on one without is keyed by its time and rank)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        hour = start_h + rng.randrange(span_h)
        kind = rng.choice(["purchase", "purchase", "survey", "product_view"])
        rec = {
            "customer_id": rng.choice(customers),
            "timestamp": (T0 + timedelta(hours=hour)).isoformat(),
            "kind": kind,
            "value": float(rng.randrange(10, 500)),
        }
        if rng.random() < 0.5:
            rec["interaction_id"] = f"{prefix}{i}"
        out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


def check_book(engine: TriggerEngine) -> None:
    """The columns' invariants: each customer's state reads its own slot of the engine's
    columns, and the customers' slots and the free ones are every slot, once each."""
    runner = engine._runner
    book = runner.book
    assert set(book.slots) == set(runner.states)
    for cid, state in runner.states.items():
        assert state.book is book, cid
        assert book.slots[cid] == state.slot, cid
    used = list(book.slots.values())
    assert len(set(used)) == len(used)
    assert len(set(book.free)) == len(book.free)
    assert sorted(used + book.free) == list(range(len(book.last_time)))
    assert len(book.last_time) == len(book.tie_count)


def batch(records: list[dict[str, Any]], as_of: datetime, rules: Any = RULES) -> list[Any]:
    """Batch ``evaluate`` over ``records`` (complete until ``as_of``), whole and sorted."""
    if not records:
        return []
    return sorted(
        whole(evaluate_complete(rules, InteractionLog.from_records(records), as_of=as_of))
    )


def of(firings: Any, customers: set[str]) -> list[Any]:
    """The firings of ``customers``, whole and sorted."""
    return sorted(whole([f for f in firings if f.customer_id in customers]))


def one_by_one(engine: TriggerEngine, records: list[dict[str, Any]]) -> list[Any]:
    return [f for r in records for f in engine.process(r)]


def stored(engine: TriggerEngine, cid: str) -> dict[str, Any]:
    return engine._runner.states[cid].to_dict()


# -- forget, and the slot taken again ---------------------------------------------------------
class TestFreedSlots:
    def run(self, feed: str) -> tuple[list[TriggerEngine], list[list[Any]], dict[str, Any]]:
        """Three engines (columnar by size, per interaction, one at a time) fed: 1,200
        interactions of a-d, ``forget("b")``, 1,200 of e (new), b (again) and a, c at later
        times, then ``advance_to(END)``."""
        first = recs(["a", "b", "c", "d"], 1200, 0, 240, 1, "x")
        second = recs(["e", "b", "a", "c"], 1200, 240, 240, 2, "y")
        engines = [
            engine_of(RULES, 1000),  # the columnar path from 1,000 interactions
            engine_of(RULES, PER_ROW),
            engine_of(RULES, PER_ROW),
        ]
        got: list[list[Any]] = [[], [], []]
        slots: dict[str, Any] = {}
        for j, engine in enumerate(engines):
            for part in (first, second):
                if part is second:
                    slots[f"b{j}"] = engine._runner.book.slots["b"]
                    engine.forget("b")
                    check_book(engine)
                    assert "b" not in engine._runner.book.slots
                    assert engine._runner.book.free == [slots[f"b{j}"]]
                if j == 2 or feed == "one":
                    got[j] += one_by_one(engine, part)
                else:
                    got[j] += list(engine.process_many(part))
                check_book(engine)
            got[j] += engine.advance_to(END)
            check_book(engine)
        return engines, got, {"first": first, "second": second, **slots}

    @pytest.mark.parametrize("feed", ["many", "one"])
    def test_new_and_returning_customer_take_the_freed_slot(self, feed: str) -> None:
        """The freed slot is taken (the columns grow by one slot for two new customers), and
        what e and b fire and keep is what an engine that never saw b's first life gives;
        a, c and d fire as batch over the whole log."""
        engines, got, data = self.run(feed)
        first, second = data["first"], data["second"]
        for j, engine in enumerate(engines):
            assert len(engine._runner.book.last_time) == 5  # a-d, then e or b in b's slot
            assert data[f"b{j}"] in {engine._runner.book.slots[c] for c in ("b", "e")}
        assert [sorted(whole(g)) for g in got[1:]] == [sorted(whole(got[0]))] * 2
        assert state_of(engines[0]) == state_of(engines[1]) == state_of(engines[2])
        # independent expectations
        full = batch(first + second, END)
        assert of(got[0], {"a", "c", "d"}) == [f for f in full if literal_eval(f[1]) in "acd"]
        later = [r for r in second if r["customer_id"] in ("b", "e")]
        assert of(got[0], {"e"}) == [f for f in batch(later, END) if literal_eval(f[1]) == "e"]
        # b's first life fired before the forget, at times before the second part's
        b_after = of([f for f in got[0] if f.time >= T0 + timedelta(hours=240)], {"b"})
        assert b_after == [f for f in batch(later, END) if literal_eval(f[1]) == "b"]
        fresh = engine_of(RULES, PER_ROW)
        fresh.process_many(later)
        for cid in ("b", "e"):
            assert {k: stored(engines[0], cid)[k] for k in ("last_time", "tie_count")} == {
                k: stored(fresh, cid)[k] for k in ("last_time", "tie_count")
            }

    def test_forgotten_slot_values_do_not_leak(self) -> None:
        """A forgotten customer's latest time and tie count stay in the freed slot until it
        is taken: a new customer taking it starts with no interaction (its first interaction
        starts ``no purchase for``), on the columnar path and one at a time."""
        for path in (1000, PER_ROW):
            engine = engine_of(RULES, path)
            engine.process_many(recs(["old"], 1000, 0, 3, 5, "o"))
            slot = engine._runner.book.slots["old"]
            assert engine._runner.book.last_time[slot] != NO_TIME
            engine.forget("old")
            rows = [
                {
                    "customer_id": f"n{i}",
                    "timestamp": (T0 + timedelta(hours=2)).isoformat(),
                    "kind": "survey",
                    "interaction_id": f"n{i}",
                }
                for i in range(1000)
            ]
            engine.process_many(rows)
            check_book(engine)
            taker = next(c for c, s in engine._runner.book.slots.items() if s == slot)
            assert stored(engine, taker)["tie_count"] == 1
            assert stored(engine, taker)["last_time"] is not None
            fired = engine.advance_to(T0 + timedelta(days=4))
            assert Counter(f.trigger for f in fired if f.customer_id == taker) == {"lapse": 1}

    def test_many_freed_slots_taken_in_one_batch(self) -> None:
        """Half of 600 customers forgotten, then one batch of 1,500 interactions of 450
        new customers and 150 kept ones: the freed slots are taken first (the columns grow
        only by the newcomers past them), and the new customers fire and keep what batch and the per-interaction
        engine give."""
        old = [f"o{i}" for i in range(600)]
        new = [f"n{i}" for i in range(450)]
        first = recs(old, 1800, 0, 3, 91, "f")
        second = recs(new + old[:150], 1500, 3, 3, 92, "s")
        engines = [engine_of(RULES, 1000), engine_of(RULES, PER_ROW)]
        fired: list[list[Any]] = [[], []]
        for j, engine in enumerate(engines):
            fired[j] += engine.process_many(first)
            book = engine._runner.book
            width, known = len(book.last_time), set(book.slots)
            for cid in [*old[150:450], "never-seen"]:
                engine.forget(cid)
            freed = len(known & set(old[150:450]))
            assert len(book.free) == freed > 250
            newcomers = len({r["customer_id"] for r in second} - (known - set(old[150:450])))
            fired[j] += engine.process_many(second)
            assert len(book.last_time) == width + max(0, newcomers - freed)
            fired[j] += engine.advance_to(END)
            check_book(engine)
        assert sorted(whole(fired[0])) == sorted(whole(fired[1]))
        assert state_of(engines[0]) == state_of(engines[1])
        fresh = [r for r in second if r["customer_id"] in new]
        assert of(fired[0], set(new)) == batch(fresh, END)


# -- ties across calls ---------------------------------------------------------------------
class TestTies:
    def tie_records(self) -> list[dict[str, Any]]:
        """3,000 interactions of three customers at three times: long runs of ties."""
        return recs(["a", "b", "c"], 3000, 0, 3, 7, "t")

    @pytest.mark.parametrize("cut", [(1000, 2000), (500, 1700), (1, 2999), (1500, 1501)])
    def test_ranks_continue_across_calls(self, cut: tuple[int, int]) -> None:
        """Cut inside runs of ties (a small call between large ones): firing ids (keyed by
        rank) equal batch's and the per-interaction engine's, and the tie counts stored."""
        data = self.tie_records()
        parts = [data[: cut[0]], data[cut[0] : cut[1]], data[cut[1] :]]
        engines = [engine_of(RULES, 1000), engine_of(RULES, PER_ROW)]
        out = []
        for engine in engines:
            fired = [f for part in parts for f in engine.process_many(part)]
            fired += engine.advance_to(END)
            out.append(sorted(whole(fired)))
            check_book(engine)
        assert out[0] == out[1] == batch(data, END)
        assert state_of(engines[0]) == state_of(engines[1])
        counts = Counter((r["customer_id"], r["timestamp"]) for r in data)
        for cid in "abc":
            last = max(r["timestamp"] for r in data if r["customer_id"] == cid)
            assert stored(engines[0], cid)["tie_count"] == counts[cid, last]

    @pytest.mark.parametrize("store", ["sqlite", "memory"])
    def test_ranks_continue_after_a_restart(self, store: str, tmp_path: Path) -> None:
        """A restart in the middle of a run of ties: the tie count read back from the
        store ranks the next interactions at that time after the earlier ones."""
        data = self.tie_records()
        fired: list[Any] = []
        mem = InMemoryStore()

        def start() -> TriggerEngine:
            s = SQLiteStore(tmp_path / "s.db") if store == "sqlite" else mem
            return engine_of(RULES, 1000, store=s)

        engine = start()
        for lo, hi in ((0, 1200), (1200, 1250), (1250, 2600), (2600, 3000)):
            fired += engine.process_many(data[lo:hi])
            before = {c: stored(engine, c) for c in engine._runner.states}
            engine.store.close()
            engine = start()
            check_book(engine)
            assert {c: stored(engine, c) for c in engine._runner.states} == before
        fired += engine.advance_to(END)
        engine.store.close()
        assert sorted(whole(fired)) == batch(data, END)

    def test_forget_in_a_run_of_ties(self) -> None:
        """``forget`` between two parts of a run of ties: the customer back at that same
        time ranks from 0 again (a new life), on both paths alike; the others continue."""
        t = (T0 + timedelta(hours=1)).isoformat()

        def rows(prefix: str, n: int, who: list[str]) -> list[dict[str, Any]]:
            return [
                {
                    "customer_id": who[i % len(who)],
                    "timestamp": t,
                    "kind": "purchase",
                    "value": 1.0,
                    "interaction_id": f"{prefix}{i}",
                }
                for i in range(n)
            ]

        out = []
        engines = [engine_of(RULES, 1000), engine_of(RULES, PER_ROW), engine_of(RULES, PER_ROW)]
        for j, engine in enumerate(engines):
            fired: list[Any] = []
            feed = (
                (lambda part, e=engine: one_by_one(e, part))
                if j == 2
                else (lambda part, e=engine: list(e.process_many(part)))
            )
            fired += feed(rows("p", 1000, ["a", "b"]))
            engine.forget("a")
            fired += feed(rows("q", 1000, ["b", "a"]))
            check_book(engine)
            assert stored(engine, "a")["tie_count"] == 500
            assert stored(engine, "b")["tie_count"] == 1000
            out.append(sorted(whole(fired)))
        assert out[0] == out[1] == out[2]


# -- failed commits --------------------------------------------------------------------------
def _failing_and_twin(
    first: list[dict[str, Any]], *forgotten: str
) -> tuple[FailingStore, TriggerEngine, TriggerEngine]:
    """An engine on a store whose commits can be made to fail, and its twin on one whose
    never do, both after ``first`` and the erasure of ``forgotten``."""
    store = FailingStore(InMemoryStore())
    engine = engine_of(RULES, 1000, store=store)
    twin = engine_of(RULES, 1000)
    for e in (engine, twin):
        e.process_many(first)
        for cid in forgotten:
            e.forget(cid)
    return store, engine, twin


class TestFailedCommits:
    @pytest.mark.parametrize("feed", ["many", "one"])
    def test_failed_call_creating_customers_then_retry(self, feed: str) -> None:
        """A call creating new customers (one in a slot ``forget`` freed) fails at commit:
        their states and slots go (the columns as before the call), and the retry returns
        and keeps what an engine whose commit never failed does."""
        first = recs(["a", "b", "c"], 1100, 0, 48, 11, "f")
        second = recs(["a", "n1", "n2", "n3", "b"], 1100, 48, 48, 12, "g")
        store, engine, twin = _failing_and_twin(first, "c")

        def call(e: TriggerEngine) -> list[Any]:
            if feed == "one":
                return one_by_one(e, second[:40]) + list(e.process_many(second[40:]))
            return list(e.process_many(second))

        book = engine._runner.book
        columns_before = (
            list(book.last_time),
            list(book.tie_count),
            dict(book.slots),
            list(book.free),
        )
        states_before = state_of(engine)
        store.fail = 1
        with pytest.raises(StoreError):
            call(engine)
        check_book(engine)
        assert state_of(engine) == states_before
        # the new customers' slots are free again (the columns may have grown: the retry
        # takes the slots they grew by)
        assert dict(book.slots) == columns_before[2]
        assert set(book.free) >= set(columns_before[3])
        for _cid, slot in book.slots.items():
            assert (book.last_time[slot], book.tie_count[slot]) == (
                columns_before[0][slot],
                columns_before[1][slot],
            )
        got, expected = call(engine), call(twin)
        assert sorted(whole(got)) == sorted(whole(expected))
        check_book(engine)
        assert book.free == [] and len(book.last_time) == len(twin._runner.book.last_time) == 5
        assert state_of(engine) == state_of(twin)
        got, expected = engine.advance_to(END), twin.advance_to(END)
        assert whole(got) == whole(expected)
        ids = [f.firing_id for f in store.firings()]
        assert len(ids) == len(set(ids))

    def test_failed_one_by_one_call_of_a_new_customer(self) -> None:
        """``process`` of a new customer's interaction fails at commit: no state and no
        slot is left for them; the retry ranks and fires as a run without the failure."""
        store = FailingStore(InMemoryStore())
        engine = engine_of(RULES, PER_ROW, store=store)
        twin = engine_of(RULES, PER_ROW)
        rec = {
            "customer_id": "z",
            "timestamp": T0.isoformat(),
            "kind": "purchase",
            "value": 3.0,
            "interaction_id": "z1",
        }
        store.fail = 1
        with pytest.raises(StoreError):
            engine.process(rec)
        assert engine._runner.book.slots == {} and engine._runner.book.free == [0]
        check_book(engine)
        for i in range(3):
            again = dict(rec, interaction_id=f"z{i + 2}")
            assert whole(engine.process(again)) == whole(twin.process(again))
        assert stored(engine, "z") == stored(twin, "z")
        assert stored(engine, "z")["tie_count"] == 3

    def test_rollback_after_a_forget(self) -> None:
        """Forget a customer, then a call bringing them back (a new slot) and touching the
        others fails twice before it commits: every rollback leaves the columns consistent,
        and the outcome equals a run without the failures."""
        first = recs(["a", "b", "c"], 1200, 0, 24, 21, "h")
        second = recs(["b", "c", "a", "d"], 1200, 24, 24, 22, "k")
        store, engine, twin = _failing_and_twin(first, "b", "a")
        store.fail = 2
        for _ in range(2):
            with pytest.raises(StoreError):
                engine.process_many(second)
            check_book(engine)
            assert set(engine._runner.states) == {"c"}
        assert sorted(whole(engine.process_many(second))) == sorted(
            whole(twin.process_many(second))
        )
        assert whole(engine.advance_to(END)) == whole(twin.advance_to(END))
        assert state_of(engine)[0] == state_of(twin)[0]
        check_book(engine)

    def test_failed_advance_to_keeps_the_columns(self) -> None:
        """A failing ``advance_to`` (timers fire, states touched) is put back: the columns
        and states read as before, and the retry fires as the twin does."""
        data = recs(["a", "b", "c", "d"], 1500, 0, 72, 31, "m")
        store, engine, twin = _failing_and_twin(data)
        before = state_of(engine)
        store.fail = 1
        with pytest.raises(StoreError):
            engine.advance_to(END)
        check_book(engine)
        assert state_of(engine) == before
        assert whole(engine.advance_to(END)) == whole(twin.advance_to(END))
        assert state_of(engine)[0] == state_of(twin)[0]

    @pytest.mark.parametrize("path", [1000, PER_ROW])
    def test_call_failing_part_way_with_new_customers(self, path: int | None) -> None:
        """With the in-memory store, a call that raises part way (an ordering aggregate
        meets text beside numbers) after it made new customers (one in a freed slot) is
        put back: no slot is left for them, and the corrected call equals a twin's."""
        rules = parse(
            "trigger t:\n    when purchase as p where min(purchase.b) >= 0\n    emit x(v = p.value)"
        )

        def rows(prefix: str, who: list[str], hour: int, bad: Any) -> list[dict[str, Any]]:
            out = [
                {
                    "customer_id": who[i % len(who)],
                    "kind": "purchase",
                    "value": 1.0,
                    "b": 1.0,
                    "timestamp": (T0 + timedelta(hours=hour, minutes=i % 7)).isoformat(),
                }
                for i in range(1200)
            ]
            out.sort(key=lambda r: r["timestamp"])
            out[-1] = dict(out[-1], b=bad, interaction_id=f"{prefix}last")
            return out

        engine, twin = engine_of(rules, path), engine_of(rules, path)
        assert engine._runner.may_fail
        for e in (engine, twin):
            e.process_many(rows("a", ["a", "b", "gone"], 0, 2.0))
            e.forget("gone")
        before = state_of(engine)
        who = ["a", "n1", "n2", "b"]
        bad, good = rows("b", who, 1, "x"), rows("b", who, 1, 3.0)

        def call(e: TriggerEngine, part: list[dict[str, Any]]) -> list[Any]:
            return list(e.process_many(part))

        with pytest.raises(CXModelError):
            call(engine, bad)
        check_book(engine)
        assert state_of(engine) == before
        assert set(engine._runner.book.slots) == {"a", "b"}
        assert sorted(whole(call(engine, good))) == sorted(whole(call(twin, good)))
        check_book(engine)
        assert state_of(engine) == state_of(twin)

    def test_sqlite_locked_during_a_call_with_new_customers(self, tmp_path: Path) -> None:
        """A SQLite file locked by another connection: the call creating customers fails,
        leaves no slot behind, and once the lock is gone the same call fires as a twin."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path, timeout=0.05)
        engine = engine_of(RULES, 1000, store=store)
        twin = engine_of(RULES, 1000)
        first = recs(["a", "b"], 1000, 0, 24, 41, "l")
        second = recs(["a", "new1", "new2"], 1000, 24, 24, 42, "r")
        for e in (engine, twin):
            e.process_many(first)
        other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
        try:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreError, match="locked"):
                engine.process_many(second)
            check_book(engine)
            assert set(engine._runner.book.slots) == {"a", "b"}
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert sorted(whole(engine.process_many(second))) == sorted(
            whole(twin.process_many(second))
        )
        assert state_of(engine)[0] == state_of(twin)[0]
        store.close()

    def test_forget_in_a_locked_sqlite_file(self, tmp_path: Path) -> None:
        """``forget`` whose store erase fails (the file locked) keeps the customer, slot and
        all; called again once the lock is gone, it frees the slot for the next customer."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path, timeout=0.05)
        engine = engine_of(RULES, PER_ROW, store=store)
        engine.process_many(recs(["a", "b"], 50, 0, 5, 43, "u"))
        slot = engine._runner.book.slots["a"]
        kept = stored(engine, "a")
        other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
        try:
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StoreError):
                engine.forget("a")
            other.execute("ROLLBACK")
        finally:
            other.close()
        check_book(engine)
        assert stored(engine, "a") == kept and engine._runner.book.slots["a"] == slot
        engine.forget("a")
        engine.process(
            {
                "customer_id": "c",
                "timestamp": (T0 + timedelta(hours=6)).isoformat(),
                "kind": "survey",
            }
        )
        assert engine._runner.book.slots["c"] == slot
        check_book(engine)
        store.close()
        again = SQLiteStore(path)
        restarted = engine_of(RULES, PER_ROW, store=again)
        assert set(restarted._runner.states) == {"b", "c"}
        assert stored(restarted, "c")["last_time"] is not None
        check_book(restarted)
        again.close()


# -- restarts, stats, snapshots ----------------------------------------------------------------
class TestRestarts:
    @pytest.mark.parametrize("store", ["sqlite", "memory"])
    def test_many_calls_restarts_and_forgets(self, store: str, tmp_path: Path) -> None:
        """Twelve calls (large and small), a ``forget`` every few and a restart every
        third: the columnar and per-interaction engines' snapshots and stats are equal
        throughout, the stored JSON reads back unchanged, and everything fired equals
        batch for the customers never forgotten."""
        rng = random.Random(51)
        mems = [InMemoryStore(), InMemoryStore()]
        paths = [1000, PER_ROW]

        def start(j: int) -> TriggerEngine:
            s = SQLiteStore(tmp_path / f"s{j}.db") if store == "sqlite" else mems[j]
            return engine_of(RULES, paths[j], store=s)

        engines = [start(0), start(1)]
        everyone = [f"c{i}" for i in range(8)]
        fired: list[list[Any]] = [[], []]
        log: list[dict[str, Any]] = []
        forgotten: set[str] = set()
        hour = 0
        for call in range(12):
            n = rng.choice([1, 40, 999, 1000, 1300])
            part = recs(everyone, n, hour, 6, 100 + call, f"k{call}_")
            hour += 6
            log += part
            for j in (0, 1):
                fired[j] += engines[j].process_many(part)
            if call % 4 == 3:
                gone = rng.choice(everyone)
                forgotten.add(gone)
                for e in engines:
                    e.forget(gone)
            if call % 3 == 2:
                for j in (0, 1):
                    engines[j].store.close()
                    engines[j] = start(j)
            for e in engines:
                check_book(e)
            assert state_of(engines[0]) == state_of(engines[1])
            assert engines[0].stats() == engines[1].stats()
        for j in (0, 1):
            fired[j] += engines[j].advance_to(END)
        assert sorted(whole(fired[0])) == sorted(whole(fired[1]))
        kept = set(everyone) - forgotten
        assert of(fired[0], kept) == [f for f in batch(log, END) if literal_eval(f[1]) in kept]
        stats = engines[0].stats()
        assert stats["customers"] == len(engines[0]._runner.book.slots)
        for e in engines:
            e.store.close()

    def test_restart_compacts_the_columns(self, tmp_path: Path) -> None:
        """After forgets, a restart reads back only the customers kept: one slot each, no
        free slot, the same latest times and tie counts."""
        store = SQLiteStore(tmp_path / "s.db")
        engine = engine_of(RULES, 1000, store=store)
        engine.process_many(recs([f"c{i}" for i in range(20)], 1200, 0, 4, 61, "z"))
        for i in range(0, 20, 3):
            engine.forget(f"c{i}")
        before = {c: stored(engine, c) for c in engine._runner.states}
        store.close()
        store = SQLiteStore(tmp_path / "s.db")
        engine = engine_of(RULES, 1000, store=store)
        assert {c: stored(engine, c) for c in engine._runner.states} == before
        assert engine._runner.book.free == [] and len(engine._runner.book.last_time) == 13
        check_book(engine)
        store.close()


# -- rules changed at runtime ----------------------------------------------------------------
class TestRuleChanges:
    def test_add_rule_with_a_backfill(self) -> None:
        """``add_rule`` with the history as backfill, on an engine that forgot a customer
        and met new ones since: customers the backfill knows but the engine does not take
        its latest time and tie count; everything fires as batch with the rule all along
        (for customers never forgotten)."""
        extra = parse("trigger big:\n    when purchase as p where p.value > 300\n    emit big")
        both = parse(str(RULES) + "\n\n" + str(extra))
        first = recs(["a", "b", "c"], 1200, 0, 24, 71, "p")
        second = recs(["a", "c", "d"], 1200, 24, 24, 72, "q")
        third = recs(["a", "b", "c", "d", "e"], 1200, 48, 24, 73, "s")
        for path in (1000, PER_ROW):
            engine = engine_of(RULES, path)
            fired = list(engine.process_many(first))
            engine.forget("b")
            fired += engine.process_many(second)
            backfill = InteractionLog.from_records(first + second)
            engine.add_rule(extra["big"], backfill=backfill)
            check_book(engine)
            # the backfill holds b's history: b is taken in again, with its latest time
            b_last = max(r["timestamp"] for r in first if r["customer_id"] == "b")
            assert engine._runner.states["b"].last_time == epoch_us(datetime.fromisoformat(b_last))
            fired += engine.process_many(third)
            fired += engine.advance_to(END)
            check_book(engine)
            full = batch(first + second + third, END, both)
            keep = {"a", "c", "d", "e"}
            got = [f for f in of(fired, keep) if literal_eval(f[0]) != "big"]
            assert got == [
                f for f in full if literal_eval(f[1]) in keep and literal_eval(f[0]) != "big"
            ]
            since = T0 + timedelta(hours=48)
            big_after = of([f for f in fired if f.trigger == "big"], keep)
            expected = evaluate_complete(
                both, InteractionLog.from_records(first + second + third), as_of=END
            )
            assert big_after == of(
                [f for f in expected if f.trigger == "big" and f.time >= since], keep
            )

    def test_add_rule_backfill_brings_new_customers(self) -> None:
        """A backfill holding customers the engine never met: they are taken in with the
        backfill's latest time and tie count (ties at the watermark continue), on both
        paths alike, and a failed commit of the change leaves no slot for them."""
        extra = parse("trigger big:\n    when purchase as p\n    emit big")
        t = T0 + timedelta(hours=5)
        history = [
            {
                "customer_id": c,
                "timestamp": t.isoformat(),
                "kind": "purchase",
                "value": 1.0,
                "interaction_id": f"h{c}{i}",
            }
            for c in ("a", "ghost")
            for i in range(3)
        ]
        results = []
        for path in (1000, PER_ROW):
            store = FailingStore(InMemoryStore())
            engine = engine_of(RULES, path, store=store)
            engine.process_many(history[:3])  # a's three; the engine never saw ghost
            store.fail = 1
            with pytest.raises(StoreError):
                engine.add_rule(extra["big"], backfill=history)
            check_book(engine)
            assert set(engine._runner.book.slots) == {"a"}
            engine.add_rule(extra["big"], backfill=history)
            check_book(engine)
            assert stored(engine, "ghost")["tie_count"] == 3
            assert stored(engine, "ghost")["last_time"] == stored(engine, "a")["last_time"]
            more = [dict(r, interaction_id=r["interaction_id"] + "x") for r in history]
            fired = engine.process_many(more)
            results.append((sorted(whole(fired)), state_of(engine)[0]))
        assert results[0] == results[1]
        big = [f for f in fired if f.trigger == "big"]
        assert Counter(f.customer_id for f in big) == {"a": 3, "ghost": 3}
        # batch with the rule all along: the firings of ranks 3-5 at t (ids keyed by rank)
        both = parse(str(RULES) + "\n\n" + str(extra))
        everything = Counter(
            b for b in batch(history + more, t, both) if literal_eval(b[0]) == "big"
        )
        earlier = Counter(b for b in batch(history, t, both) if literal_eval(b[0]) == "big")
        assert sorted(whole(big)) == sorted((everything - earlier).elements())

    def test_remove_rule_and_changed_text_across_restart(self, tmp_path: Path) -> None:
        """Remove a rule, restart with one rule's text changed: the bookkeeping (not a
        rule's state) survives both; the columns read back equal the stored JSON, and
        the engines on both paths agree."""
        changed = parse(str(RULES).replace("3 days", "4 days"))
        first = recs(["a", "b", "c"], 1200, 0, 24, 81, "v")
        second = recs(["a", "b", "c", "d"], 1200, 24, 24, 82, "w")
        snaps = []
        for j, path in enumerate((1000, PER_ROW)):
            store = SQLiteStore(tmp_path / f"r{j}.db")
            engine = engine_of(RULES, path, store=store)
            engine.process_many(first)
            engine.remove_rule("idle")
            times = {
                c: (stored(engine, c)["last_time"], stored(engine, c)["tie_count"])
                for c in engine._runner.states
            }
            store.close()
            store = SQLiteStore(tmp_path / f"r{j}.db")
            engine = engine_of(changed, path, store=store)
            check_book(engine)
            assert {
                c: (stored(engine, c)["last_time"], stored(engine, c)["tie_count"])
                for c in engine._runner.states
            } == times
            fired = list(engine.process_many(second)) + engine.advance_to(END)
            check_book(engine)
            snaps.append((sorted(whole(fired)), state_of(engine)))
            store.close()
        assert snaps[0] == snaps[1]


# -- threads and asyncio -------------------------------------------------------------------------
class _Recorded:
    """An engine whose calls are recorded in the order they took its lock (their tag from
    a context variable), so that a sequential replay can be compared."""

    tag: contextvars.ContextVar[Any] = contextvars.ContextVar("tag", default=None)

    def __init__(self, engine: TriggerEngine) -> None:
        self.engine = engine
        self.order: list[Any] = []
        inner_call, inner_one, inner_forget = engine._call, engine._call_one, engine.forget

        def call(rows: Any, advance: Any) -> Any:
            self.order.append(self.tag.get())
            return inner_call(rows, advance)

        def call_one(row: Any) -> Any:
            self.order.append(self.tag.get())
            return inner_one(row)

        def forget(customer_id: str) -> None:
            with engine._lock:
                self.order.append(("forget", customer_id))
                inner_forget(customer_id)

        engine._call = call  # type: ignore[method-assign]
        engine._call_one = call_one  # type: ignore[method-assign]
        engine.forget = forget  # type: ignore[method-assign]


def _thread_work() -> dict[Any, Any]:
    """Batches (large and small) of disjoint customers per worker, all at the same few
    hours, and a forget of a third worker's customer between."""
    work: dict[Any, Any] = {}
    for w in range(2):
        for k in range(4):
            n = 1000 if k % 2 == 0 else 7
            work[w, k] = recs(
                [f"w{w}c{i}" for i in range(3)], n, 3 * k, 3, 1000 * w + k, f"w{w}k{k}_"
            )
    return work


def _replay(order: list[Any], work: dict[Any, Any]) -> tuple[list[Any], Any]:
    engine = engine_of(RULES, PER_ROW)
    fired: list[Any] = []
    for item in order:
        if item is None:
            continue
        if item[0] == "forget":
            engine.forget(item[1])
        else:
            fired += engine.process_many(work[item])
    return sorted(whole(fired)), state_of(engine)[0]


class TestConcurrency:
    def test_two_threads_on_one_engine(self, quiet: None) -> None:
        """Two threads feed one engine (large micro-batches, small ones, forgets, stats);
        the engine's lock orders them: what it fired and keeps equals a per-interaction
        engine fed the same calls in the order they took the lock."""
        work = _thread_work()
        engine = engine_of(RULES, 1000)
        rec = _Recorded(engine)
        fired: list[Any] = []
        errors: list[BaseException] = []

        def worker(w: int) -> None:
            try:
                for k in range(4):
                    rec.tag.set((w, k))
                    fired.extend(engine.process_many(work[w, k]))
                    engine.stats()
                    if k == 1:
                        engine.forget(f"w{1 - w}c0")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        check_book(engine)
        assert (sorted(whole(fired)), state_of(engine)[0]) == _replay(rec.order, work)

    def test_asyncio_helpers(self, quiet: None) -> None:
        """``aprocess_many`` / ``aprocess`` / ``aadvance_to`` gathered on one engine: the
        same as the calls replayed in the order they ran."""
        work = _thread_work()
        engine = engine_of(RULES, 1000)
        rec = _Recorded(engine)

        async def feed(w: int) -> list[Any]:
            out: list[Any] = []
            for k in range(4):
                rec.tag.set((w, k))
                if k == 3:
                    for r in work[w, k]:
                        out += await engine.aprocess(r)
                else:
                    out += await engine.aprocess_many(work[w, k])
            return out

        async def main() -> list[Any]:
            got = await asyncio.gather(feed(0), feed(1))
            return [f for part in got for f in part] + await engine.aadvance_to(END)

        fired = asyncio.run(main())
        check_book(engine)
        order = [item for item in rec.order if item is not None]  # (aadvance_to: last)
        replay = engine_of(RULES, PER_ROW)
        expected: list[Any] = []
        done: Counter[Any] = Counter()
        for item in order:
            w, k = item
            if k == 3:
                expected += replay.process(work[w, k][done[item]])
                done[item] += 1
            else:
                expected += replay.process_many(work[w, k])
        expected += replay.advance_to(END)
        assert sorted(whole(fired)) == sorted(whole(expected))
        assert state_of(engine)[0] == state_of(replay)[0]


# -- stored tie counts ---------------------------------------------------------------------------
class TestStoredRange:
    @pytest.mark.parametrize("count", [2**63, 2**64, 10**30])
    def test_tie_count_past_the_columns_range_is_damaged_state(self, count: int) -> None:
        """A stored tie count the 64-bit column cannot hold is refused as damaged state
        naming it, as any out-of-range value is (not an OverflowError from the column)."""
        with pytest.raises(DamagedState, match=r"customers\['a'\]\.tie_count"):
            CustomerState.from_dict("a", {"last_time": 5, "tie_count": count})

    def test_restart_from_a_store_with_such_a_count(self) -> None:
        """A restart from a store holding one is a StoreError naming the value."""
        store = InMemoryStore()
        engine = engine_of(RULES, PER_ROW, store=store)
        engine.process({"customer_id": "a", "timestamp": T0.isoformat(), "kind": "survey"})
        store.close()
        data = dict(store.open().customers["a"])
        data["tie_count"] = 2**63
        store._customers = {"a": {"a": data}}
        store.close()
        with pytest.raises(StoreError, match="tie_count"):
            engine_of(RULES, PER_ROW, store=store)

    @pytest.mark.parametrize(("at", "value"), [(3, 2**63), (3, -(2**63) - 1), (4, 2**63)])
    def test_held_rule_anchor_past_the_columns_range(self, at: int, value: int) -> None:
        """The same for a stored anchor's release number or rank of a rule held as columns
        (``inactive for``): a StoreError naming the value, not an OverflowError."""
        store = InMemoryStore()
        engine = engine_of(RULES, PER_ROW, store=store)
        engine.process({"customer_id": "a", "timestamp": T0.isoformat(), "kind": "survey"})
        store.close()
        data = copy.deepcopy(dict(store.open().customers["a"]))
        data["rules"]["idle"]["timer"][0][at] = value
        store._customers = {"a": {"a": data}}
        store.close()
        with pytest.raises(StoreError, match=rf"rules\['idle'\]\.timer\[0\]\[{at}\]"):
            engine_of(RULES, PER_ROW, store=store)

    def test_largest_count_read_back(self) -> None:
        c = CustomerState.from_dict("a", {"last_time": 5, "tie_count": 2**63 - 1})
        assert c.tie_count == 2**63 - 1


# -- random sequences --------------------------------------------------------------------------
CUSTOMERS = ["a", "b", "c"]

op = st.one_of(
    # mostly at the hour the last call ended (0): runs of ties across calls
    st.tuples(
        st.just("many"),
        st.sampled_from([3, 999, 1000, 1000, 1001, 1100]),
        st.sampled_from([0, 0, 1]),
        st.integers(0, 10**6),
    ),
    st.tuples(st.just("many"), st.sampled_from([1000, 1100]), st.just(0), st.integers(0, 10**6)),
    st.tuples(st.just("one"), st.integers(1, 5), st.sampled_from([0, 0, 1]), st.integers(0, 10**6)),
    st.tuples(st.just("advance"), st.integers(0, 3), st.just(0), st.just(0)),
    st.tuples(st.just("forget"), st.integers(0, 2), st.just(0), st.just(0)),
    st.tuples(st.just("restart"), st.just(0), st.just(0), st.just(0)),
    st.tuples(st.just("fail"), st.integers(1, 2), st.just(0), st.just(0)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(op, min_size=3, max_size=9))
def test_random_sequences(ops: list[tuple[str, int, int, int]]) -> None:
    """Random calls over three customers with many equal timestamps: the columnar-by-size
    engine (whose commits fail now and then, each failing call retried) and the
    per-interaction engine return the same firings call by call (ids included), keep the
    same state JSON, never fire an id twice, and fire as batch for customers never
    forgotten."""
    stores = [FailingStore(InMemoryStore()), InMemoryStore()]
    engines = [engine_of(RULES, 1000, store=stores[0]), engine_of(RULES, PER_ROW, store=stores[1])]
    hour = 0
    log: list[dict[str, Any]] = []
    fired: list[Any] = []
    forgotten: set[str] = set()
    ids: Counter[str] = Counter()
    serial = 0
    for what, a, b, seed in ops:
        calls: list[Any] = []
        if what in ("many", "one"):
            hour += b  # 0: at the same hour as the last call (ties continue)
            part = recs(CUSTOMERS, a, hour, 2, seed, f"i{serial}_")
            serial += 1
            last = max(datetime.fromisoformat(r["timestamp"]) for r in part)
            hour = max(hour, int((last - T0).total_seconds() // 3600))
            log += part
            if what == "many":
                calls.append(lambda e, p=part: list(e.process_many(p)))
            else:
                calls += [lambda e, r=r: e.process(r) for r in part]
        elif what == "advance":
            hour += a + 1
            t = T0 + timedelta(hours=hour)
            calls.append(lambda e, t=t: e.advance_to(t))
            hour += 1  # what comes next is after the time declared complete
        elif what == "forget":
            cid = CUSTOMERS[a]
            forgotten.add(cid)
            for e in engines:
                e.forget(cid)
        elif what == "restart":
            stores[0].fail = 0
            for j in (0, 1):
                stores[j].close()
            engines = [
                engine_of(RULES, 1000, store=stores[0]),
                engine_of(RULES, PER_ROW, store=stores[1]),
            ]
        else:
            stores[0].fail = a  # the next calls' commits
        for call in calls:
            out = None
            for _ in range(3):  # failing commits: the same call again
                try:
                    out = call(engines[0])
                    break
                except StoreError:
                    check_book(engines[0])
            assert out is not None
            expected = call(engines[1])
            assert sorted(whole(out)) == sorted(whole(expected))
            fired += out
        for e in engines:
            check_book(e)
        assert state_of(engines[0]) == state_of(engines[1])
    stores[0].fail = 0
    end = T0 + timedelta(hours=hour + 24 * 10)
    out = engines[0].advance_to(end)
    assert whole(out) == whole(engines[1].advance_to(end))
    fired += out
    kept = set(CUSTOMERS) - forgotten
    for f in fired:
        if f.customer_id in kept:
            ids[f.firing_id] += 1
    assert not [i for i, n in ids.items() if n > 1]
    assert of(fired, kept) == [f for f in batch(log, end) if literal_eval(f[1]) in kept]
