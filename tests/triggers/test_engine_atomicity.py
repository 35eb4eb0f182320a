"""A call that fails leaves the engine exactly as before it, whatever fails: the store's
commit, the store's erasure in ``forget``, the work of the call itself, or a clock tick that
is refused."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import DataWarning, SchemaError, StoreError, ValueTypeError
from cxmodel.triggers import EXAMPLE_RULES, InMemoryStore, SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._runner import RuleRunner
from tests.triggers.helpers import FailingStore, key

RULES = parse(EXAMPLE_RULES)
LATER = parse("trigger later:\n    when purchase as p then after 3 days\n    emit y")
AS_OF = "2024-02-01T00:00:00Z"


def rec(customer: str, day: int, kind: str = "purchase", **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer, "timestamp": f"2024-01-{day:02d}T10:00:00Z",
            "kind": kind, "interaction_id": f"{customer}{day}{kind}", **fields}  # fmt: skip


class _ForgetFails(FailingStore):
    """A store whose next ``fail_forget`` erasures raise StoreError (nothing erased)."""

    fail_forget = 0

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        if self.fail_forget:
            self.fail_forget -= 1
            raise StoreError("simulated: the database is locked")
        self.inner.forget(customer_id, meta)


class TestForget:
    def test_failed_erasure_leaves_the_customer_in_engine_and_store(self) -> None:
        """When the store cannot erase, the engine still holds the customer too (before,
        the engine had dropped them while the store kept them: a restart brought them
        back); the retry erases both."""
        store = _ForgetFails(InMemoryStore())
        engine = TriggerEngine(LATER, store=store, max_future=None)
        engine.process_many([rec("a", 1), rec("b", 1)])
        store.fail_forget = 1
        with pytest.raises(StoreError):
            engine.forget("a")
        assert engine.stats()["customers"] == 2
        engine.forget("a")
        assert engine.stats()["customers"] == 1
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["b"]

    def test_integer_id_and_wrong_types(self) -> None:
        """An integer id is its digits, as in an interaction; anything else but text is
        refused naming the argument."""
        engine = TriggerEngine(LATER, max_future=None)
        engine.process(rec("12", 1) | {"customer_id": 12})
        engine.forget(12)
        assert engine.stats()["customers"] == 0
        for wrong in (None, 1.5, True, ["a"]):
            with pytest.raises(ValueTypeError, match="forget\\(\\): customer_id must be"):
                engine.forget(wrong)  # type: ignore[arg-type]

    def test_unknown_customer_erases_their_late_interactions(self, tmp_path: Path) -> None:
        """A customer the engine holds no state for may still have late interactions in
        the store: ``forget`` erases them, and is otherwise harmless."""
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(LATER, store=store, max_future=None)
        engine.process(rec("a", 5))
        with pytest.warns(DataWarning, match="late"):
            engine.process(rec("ghost", 1))  # late: before the watermark
        assert [q.customer_id for q in store.late()] == ["ghost"]
        engine.forget("ghost")
        engine.forget("never-seen")
        assert store.late() == [] and engine.stats()["customers"] == 1
        store.close()

    def test_buffered_then_redelivered(self) -> None:
        """Forgotten with interactions still in the lateness buffer: those go too; what is
        delivered again afterwards is new to the engine (the host asked it to forget)."""
        engine = TriggerEngine(LATER, allowed_lateness="2 days", max_future=None)
        engine.process_many([rec("a", 1), rec("b", 2)])
        assert engine.stats()["buffered"] == 2
        engine.forget("a")
        assert engine.stats()["buffered"] == 1
        engine.process(rec("a", 2))
        got = engine.advance_to(AS_OF)
        assert sorted((f.customer_id, f.time.day) for f in got) == [("a", 5), ("b", 5)]


class TestFailedWork:
    def test_fault_inside_a_call_leaves_the_engine_as_before(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """A fault in the middle of a micro-batch (after some of it was taken in) raises,
        and the engine is as before the call: the retry returns every firing, and the
        interactions taken in before the fault are not mistaken for repeats."""
        recs = [rec("a", 1, "survey", metric="nps", score=2.0), rec("b", 1),
                rec("c", 2, "survey", metric="nps", score=1.0)]  # fmt: skip
        expected = TriggerEngine(RULES, max_future=None)
        want = [*expected.process_many(recs), *expected.advance_to(AS_OF)]
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(RULES, store=store, max_future=None)
        release = RuleRunner.release
        calls = {"n": 0}

        def faulty(runner: RuleRunner, row: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("simulated fault")
            release(runner, row)

        monkeypatch.setattr(RuleRunner, "release", faulty)
        with pytest.raises(RuntimeError):
            engine.process_many(recs)
        assert engine.stats()["customers"] == 0 and engine.watermark is None
        monkeypatch.setattr(RuleRunner, "release", release)
        got = [*engine.process_many(recs), *engine.advance_to(AS_OF)]
        store.close()
        assert key(got) == key(want) and engine.duplicates == 0


class TestAdvanceTooFar:
    NOW = datetime(2024, 3, 1, tzinfo=timezone.utc)

    def test_time_far_ahead_of_the_clock_is_refused(self, tmp_path: Path) -> None:
        """``advance_to`` a time more than ``max_future`` ahead of the clock (epoch
        milliseconds read as seconds, a wrong clock) is refused and changes nothing: the
        timers it would have fired stay pending and a later real interaction is on time,
        also after a restart (before, every timer up to 2099 fired and every later
        interaction was late, for good)."""
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(LATER, store=store, clock=lambda: self.NOW)
        engine.process(rec("a", 20))
        with pytest.raises(
            SchemaError, match="advance_to\\(\\): 2099-01-01T00:00:00\\+00:00 is more"
        ):
            engine.advance_to("2099-01-01T00:00:00Z")
        assert engine.watermark == datetime(2024, 1, 20, 10, tzinfo=timezone.utc)
        store.close()
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(LATER, store=store, clock=lambda: self.NOW)
        assert engine.process(rec("b", 22)) == [] and engine.late == []
        assert [f.customer_id for f in engine.advance_to(self.NOW + timedelta(days=1))] == [
            "a",
            "b",
        ]
        store.close()

    def test_without_max_future_any_time_is_taken(self) -> None:
        """``max_future=None`` (replaying an old stream) takes any time."""
        engine = TriggerEngine(LATER, clock=lambda: self.NOW, max_future=None)
        engine.process(rec("a", 20))
        assert len(engine.advance_to("2099-01-01T00:00:00Z")) == 1
