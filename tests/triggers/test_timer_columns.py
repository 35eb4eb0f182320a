"""A ``when inactive for D`` rule whose state is held as columns (a slot per customer): the
same firings and the same stored state as a rule kept in each customer's state, on both
paths, across a restart, a failed commit, an erasure and a rule change."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import StoreError
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._timer_columns import NEVER, TimerColumns, held_on_arrays
from tests.triggers.helpers import COLUMNAR, PER_ROW, FailingStore, engine_of

DAY = 86_400_000_000
HELD = "trigger idle:\n    when inactive for 2 days\n    emit nudge\n    once per customer every 3 days"
# the same rule with a payload: kept in each customer's state, its timers each on the queue
KEPT = HELD.replace("emit nudge", "emit nudge(n = 1)")


START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def at(day: float) -> str:
    """The time ``day`` days after the start, as text."""
    return (START + timedelta(days=day)).isoformat()


def row(customer: str, day: float, kind: str = "view", **fields: Any) -> Row:
    return Row(customer, int(day * DAY), kind, {"kind": kind, **fields})


def records(n: int = 3000, customers: int = 300) -> list[dict[str, Any]]:
    """Interactions whose customers go quiet for a few days now and then, some with ids and
    some at the same time as the one before."""
    out = []
    for j in range(n):
        cid = f"c{(j * 7919) % customers}"
        day = (j // 40) * 0.25 + (j % 3) * 0.5 * (j % 11 == 0)
        rec = {"customer_id": cid, "timestamp": at(day), "kind": ("view", "buy")[j % 2]}
        if j % 3:
            rec["interaction_id"] = f"i{j}"
        out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


def states(engine: TriggerEngine) -> dict[str, Any]:
    """The customers' states as a store writes them (a copy)."""
    return copy.deepcopy({cid: s.to_dict() for cid, s in engine._runner.states.items()})


def outcome(firings: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (f.customer_id, f.time, f.because["when"].get("interaction_id"), f.firing_id)
        for f in firings
    )


class TestHeld:
    def test_which_rules_are_held(self) -> None:
        """A rule whose firing reads nothing of the interaction or the customer is held; a
        payload, an ``if``, customer time or a contact policy keeps it per customer."""
        runner = RuleRunner(parse(HELD), {})
        assert list(runner.held) == ["idle"]
        assert not RuleRunner(parse(KEPT), {}).held
        plan = runner.plans["idle"]
        assert held_on_arrays(plan, {}) and not held_on_arrays(plan, {"idle": None})

    def test_one_queue_entry_per_rule(self) -> None:
        """a at days 0 and 1, b at day 1: one entry, at a's first due time, fires both at
        day 3 (a's restarted timer and b's) and leaves nothing queued."""
        r = RuleRunner(parse(HELD), {})
        for x in (row("a", 0), row("a", 1), row("b", 1)):
            r.release(x)
        assert r.timers == [(2 * DAY, TIMER, -1, "", "idle")]
        r.advance(3 * DAY, inclusive=False)
        assert r.emitted == [] and r.timers == [(3 * DAY, TIMER, -1, "", "idle")]
        r.advance(3 * DAY, inclusive=True)
        assert [(f.customer_id, f.time.day) for f in r.emitted] == [("a", 4), ("b", 4)]
        assert r.timers == []
        assert r.held["idle"].pending() == 0

    def test_stored_state_is_taken_into_the_columns(self) -> None:
        """A state read back from its dict (as a kept rule writes it) is taken into a new
        runner's columns and fires there."""
        first = RuleRunner(parse(KEPT), {})
        first.release(row("a", 1))
        stored = CustomerState.from_dict("a", first.states["a"].to_dict())
        second = RuleRunner(parse(HELD), {})
        second.states["a"] = stored
        second.schedule(stored)
        assert "idle" not in stored.rules and second.held["idle"].pending() == 1
        assert stored.to_dict() == first.states["a"].to_dict()
        second.advance(3 * DAY, inclusive=True)
        assert [(f.customer_id, f.time.day) for f in second.emitted] == [("a", 4)]

    @pytest.mark.parametrize("customers", [300, 1500])
    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_same_as_a_kept_rule(self, path: int, customers: int) -> None:
        """The same firings and stored states as the rule kept per customer, cut into calls
        of every size (1,500 customers: their slots in several blocks)."""
        recs = records(customers=customers)
        held, kept = engine_of(parse(HELD), path), engine_of(parse(KEPT), PER_ROW)
        got, expected = [], []
        for size in (1, 7, 1500, 1492):
            batch, recs = recs[:size], recs[size:]
            got += outcome(held.process_many(batch))
            expected += outcome(kept.process_many(batch))
        end = at(40)
        got += outcome(held.advance_to(end))
        expected += outcome(kept.advance_to(end))
        assert got == expected and len(got) > 100
        assert states(held) == states(kept)
        assert held.stats()["pending_timers"] == kept.stats()["pending_timers"]

    @pytest.mark.parametrize("one_at_a_time", [False, True])
    def test_a_failed_commit_puts_the_columns_back(self, one_at_a_time: bool) -> None:
        """A call whose commit fails leaves the columns as they were; the call again does
        what it would have done. One at a time, each interaction's slot is kept alone (no
        arrays) and put back, the timer that fell due in the call included."""
        path = PER_ROW if one_at_a_time else COLUMNAR
        store = FailingStore(InMemoryStore())
        engine = engine_of(parse(HELD), path, store=store)
        twin = engine_of(parse(HELD), path)
        if one_at_a_time:
            calls = [([rec], j % 7 == 3) for j, rec in enumerate(records(600, 40))]
        else:
            recs = records()
            calls = [(recs[:1500], True), (recs[1500:], True)]

        def call(on: TriggerEngine, chunk: list[dict[str, Any]]) -> Any:
            return on.process(chunk[0]) if one_at_a_time else on.process_many(chunk)

        for chunk, failing in calls:
            if failing:
                before = states(engine)
                store.fail = 1
                with pytest.raises(StoreError):
                    call(engine, chunk)
                assert states(engine) == before
            assert outcome(call(engine, chunk)) == outcome(call(twin, chunk))
        assert states(engine) == states(twin)

    def test_restart_from_the_store(self) -> None:
        """An engine started on the store of another goes on as the other does."""
        recs = records()
        store = InMemoryStore()
        first = engine_of(parse(HELD), COLUMNAR, store=store)
        twin = engine_of(parse(HELD), COLUMNAR)
        first.process_many(recs[:2000])
        twin.process_many(recs[:2000])
        store.close()
        second = engine_of(parse(HELD), COLUMNAR, store=store)
        assert states(second) == states(twin)
        assert second._runner.held["idle"].pending() == twin._runner.held["idle"].pending()
        assert outcome(second.process_many(recs[2000:])) == outcome(twin.process_many(recs[2000:]))
        assert outcome(second.advance_to(at(40))) == outcome(twin.advance_to(at(40)))

    def test_forget_frees_the_slot(self) -> None:
        engine = engine_of(parse(HELD), PER_ROW)
        engine.process({"customer_id": "a", "timestamp": at(0), "kind": "view"})
        columns: TimerColumns = engine._runner.held["idle"]
        assert columns.pending() == 1
        engine.forget("a")
        assert "a" not in columns.slots and columns.pending() == 0
        assert columns.view("due")[columns.free[0]] == NEVER
        assert list(engine.advance_to(at(10))) == []

    def test_removed_and_added_back(self) -> None:
        """Removing the rule drops its columns; added back, it starts afresh."""
        engine = engine_of(parse(HELD), PER_ROW)
        engine.process({"customer_id": "a", "timestamp": at(0), "kind": "view"})
        engine.remove_rule("idle")
        assert not engine._runner.held
        engine.add_rule(parse(HELD).rules[0])
        assert engine._runner.held["idle"].pending() == 0
        assert list(engine.advance_to(at(10))) == []

    def test_a_removal_rolled_back_keeps_the_state(self, tmp_path: Path) -> None:
        """A removal whose commit fails leaves the rule with its state; a removal that
        commits drops the state from the store too."""
        store = FailingStore(SQLiteStore(tmp_path / "s.db"))
        engine = engine_of(parse(HELD), PER_ROW, store=store)
        engine.process({"customer_id": "a", "timestamp": at(0), "kind": "view"})
        kept = states(engine)
        store.fail = 1
        with pytest.raises(StoreError):
            engine.remove_rule("idle")
        assert states(engine) == kept and "idle" in kept["a"]["rules"]
        assert [f.customer_id for f in engine.advance_to(at(3))] == ["a"]
        engine.process({"customer_id": "a", "timestamp": at(4), "kind": "view"})
        engine.remove_rule("idle")
        store.close()
        again = SQLiteStore(tmp_path / "s.db")
        assert again.open().customers["a"]["rules"] == {}
        again.close()
