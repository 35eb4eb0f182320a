"""Rules changed on a running engine and between runs on one store: ``add_rule`` (with and
without a backfill), ``remove_rule``, a rule's text changed or gone for a run, and restarts
after each; every change is committed, and a restored engine equals one that ran the rules
as the store was last told."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import SchemaError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, RuleSet, SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._contact import without_rule
from cxmodel.triggers._engine_rules import add_alert, add_rule, change_rules, remove
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import RuleRunner
from tests.triggers.helpers import FailingStore, evaluate_complete, key, random_rule_set, records

BASE = parse("trigger seen:\n    when view as v\n    emit k")
LATER = parse("trigger later:\n    when purchase as p then after 3 days\n    emit y")["later"]
COUNTED = parse("trigger counted:\n    when view as v\n    emit x(n = count(purchase))")["counted"]
AS_OF = "2024-01-10T00:00:00Z"


def rec(customer: str, hour: int, kind: str, ident: str, **fields: Any) -> dict[str, Any]:
    """An interaction ``hour`` hours after 2024-01-01T00:00Z."""
    stamp = (datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(hours=hour)).isoformat()
    return {"customer_id": customer, "timestamp": stamp, "kind": kind,
            "interaction_id": ident, **fields}  # fmt: skip


RECS = [
    rec("a", 1, "purchase", "1", value=10.0),
    rec("b", 2, "purchase", "2", value=20.0),
    rec("b", 3, "view", "3"),
]


def ids(firings: Any, trigger: str | None = None) -> list[str]:
    return sorted(f.firing_id for f in firings if trigger is None or f.trigger == trigger)


def sqlite(path: Path, rules: Any, **kw: Any) -> tuple[SQLiteStore, TriggerEngine]:
    store = SQLiteStore(path)
    return store, TriggerEngine(rules, store=store, max_future=None, **kw)


class TestChangeFunctions:
    """The changes on a runner, without an engine: each returns the rules then active."""

    def test_add_and_remove_return_the_active_rules(self) -> None:
        """A rule and an alert added, then removed: the rules returned and the runner's
        plans agree at each step; the removed rule's state goes from each customer."""
        runner = RuleRunner(BASE, {})
        rules = add_rule(BASE, runner, LATER, None)
        runner.release(Row("a", 0, "purchase", {"kind": "purchase"}))
        alert = parse("alert spike:\n    when count(purchase within 1 days) > 5\n    emit s")
        rules = add_alert(rules, runner, alert.alerts[0], None)
        assert (rules.names, sorted(runner.plans)) == (("seen", "later"), ["later", "seen"])
        assert [a.name for a in rules.alerts] == ["spike"] and "spike" in runner.alerts.plans
        assert "later" in runner.states["a"].rules
        rules = remove(remove(rules, runner, "spike"), runner, "later")
        assert (rules.names, rules.alerts, sorted(runner.plans)) == (("seen",), (), ["seen"])
        assert "later" not in runner.states["a"].rules

    def test_a_failed_change_puts_the_runner_back(self) -> None:
        """When the commit fails, the runner is as it was with the old rules, the customers
        it changed included, and the error is raised."""
        runner = RuleRunner(RuleSet((BASE["seen"], LATER)), {})
        runner.release(Row("a", 0, "purchase", {"kind": "purchase"}))
        before = runner.states["a"].to_dict()
        store = FailingStore(InMemoryStore())
        store.fail = 1
        rules = RuleSet((BASE["seen"], LATER))

        def without_later() -> RuleSet:
            return remove(rules, runner, "later")

        def meta(active: RuleSet) -> dict[str, Any]:
            return {"rules": list(active.names)}

        with pytest.raises(StoreError):
            change_rules(rules, runner, store, without_later, meta)
        assert sorted(runner.plans) == ["later", "seen"] and runner.before is None
        assert runner.states["a"].to_dict() == before
        assert change_rules(rules, runner, store, without_later, meta).names == ("seen",)
        assert store.commits == 1


class TestAddRule:
    def test_backfilled_state_survives_a_restart(self, tmp_path: Path) -> None:
        """After ``add_rule(rule, backfill=...)`` and a restart with the rule, its timers
        for every customer fire, as batch says (the backfill was committed; before, only
        customers touched by a later call kept it, and here none was)."""
        store, engine = sqlite(tmp_path / "s.db", BASE)
        engine.process_many(RECS)
        engine.add_rule(LATER, backfill=RECS)
        store.close()
        both = RuleSet((*BASE.rules, LATER))
        store, engine = sqlite(tmp_path / "s.db", both)
        got = engine.advance_to(AS_OF)
        store.close()
        batch = evaluate_complete(both, InteractionLog.from_records(RECS), as_of=AS_OF)
        assert ids(got) == ids(batch, "later") and len(got) == 2

    def test_rule_added_without_backfill_survives_a_restart(self, tmp_path: Path) -> None:
        """A rule added without a backfill, then an anchor, then a restart: the anchor
        fires."""
        store, engine = sqlite(tmp_path / "s.db", BASE)
        engine.add_rule(LATER)
        engine.process(RECS[0])
        store.close()
        store, engine = sqlite(tmp_path / "s.db", RuleSet((*BASE.rules, LATER)))
        assert [f.trigger for f in engine.advance_to(AS_OF)] == ["later"]
        store.close()

    def test_backfill_reads_what_advance_to_released(self) -> None:
        """With allowed lateness, ``advance_to`` releases interactions after the watermark;
        the backfill reads them too (it stopped at the watermark and missed one)."""
        engine = TriggerEngine(BASE, allowed_lateness="2 hours", max_future=None)
        engine.process_many(RECS)
        engine.advance_to("2024-01-01T04:00:00Z")
        engine.add_rule(LATER, backfill=RECS)
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["a", "b"]

    def test_backfill_in_any_order(self) -> None:
        """A backfill is history, whatever its order: read in time order."""
        engine = TriggerEngine(BASE, max_future=None)
        engine.process_many(RECS)
        engine.add_rule(LATER, backfill=list(reversed(RECS)))
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["a", "b"]

    def test_failed_commit_leaves_the_engine_as_before(self) -> None:
        """``add_rule`` and ``remove_rule`` commit; when the commit fails, StoreError is
        raised, the rule is not active (or still is), and trying again works."""
        store = FailingStore(InMemoryStore())
        engine = TriggerEngine(BASE, store=store, max_future=None)
        engine.process_many(RECS)
        store.fail = 1
        with pytest.raises(StoreError):
            engine.add_rule(LATER, backfill=RECS)
        assert [r.name for r in engine.rules] == ["seen"] and engine.stats()["pending_timers"] == 0
        engine.add_rule(LATER, backfill=RECS)
        store.fail = 1
        with pytest.raises(StoreError):
            engine.remove_rule("later")
        assert [r.name for r in engine.rules] == ["seen", "later"]
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["a", "b"]

    def test_backfill_of_the_wrong_type_is_refused_and_changes_nothing(self) -> None:
        """A backfill carrying text where the new rule computes with a number is refused as
        a call would be, naming the record and field; the rule is not added."""
        rule = parse("trigger big:\n    when purchase as p where p.qty * 2 > 3\n    emit b")["big"]
        engine = TriggerEngine(BASE, max_future=None)
        engine.process_many(RECS)
        bad = [*RECS, rec("a", 4, "purchase", "4", qty="many")]
        engine.process(bad[-1])
        with pytest.raises(SchemaError, match="record 4: qty 'many'"):
            engine.add_rule(rule, backfill=bad)
        assert [r.name for r in engine.rules] == ["seen"]

    def test_backfill_longer_than_the_engine_has_run(self) -> None:
        """A backfill of ten purchases into an engine that has released one interaction:
        the anchors it hands over keep their place when the engine's own purchases come
        (before, they shared release numbers and were overwritten)."""
        hist = [rec("a", 24 + d, "purchase", f"h{d}") for d in range(10)]
        engine = TriggerEngine(BASE, max_future=None)
        engine.process(rec("z", 34, "view", "z1"))
        engine.add_rule(LATER, backfill=hist)
        later = [rec("a", 35 + h, "purchase", f"l{h}") for h in range(10)]
        got = [*engine.process_many(later), *engine.advance_to(AS_OF)]
        both = RuleSet((*BASE.rules, LATER))
        log = InteractionLog.from_records([*hist, rec("z", 34, "view", "z1"), *later])
        batch = evaluate_complete(both, log, as_of=AS_OF)
        assert ids(got, "later") == ids(batch, "later") and len(got) == 20

    def test_timers_due_before_now_are_not_returned(self) -> None:
        """With allowed lateness, the engine has fired every timer due before its
        watermark; a backfilled rule's timers due then are not returned later either (they
        were, at the next call, as if the rule had missed them)."""
        engine = TriggerEngine(BASE, allowed_lateness="6 hours", max_future=None)
        engine.process_many([rec("a", 24, "purchase", "1"), rec("a", 24 + 80, "view", "2")])
        assert engine.watermark is not None and engine.watermark.isoformat().startswith(
            "2024-01-05T02"
        )
        engine.add_rule(LATER, backfill=[rec("a", 24, "purchase", "1")])
        assert engine.process(rec("a", 24 + 81, "view", "3")) == []
        assert [f.trigger for f in engine.advance_to(AS_OF)] == ["seen", "seen"]

    @pytest.mark.parametrize("block", range(4))
    def test_added_mid_stream_equals_batch(self, block: int, tmp_path: Path) -> None:
        """Seeded sweep: random rules, one added mid-stream with the history so far as its
        backfill (sometimes after a tick, sometimes with lateness, sometimes restarted from
        SQLite right after): the other rules' firings are batch's, the added rule's are
        batch's after the time the engine had released when it was added (and at it, for
        a firing still to be decided then)."""
        for case in range(block * 8, block * 8 + 8):
            _check_added_mid_stream(case, tmp_path / f"{case}.db")


class TestRemoveRule:
    @pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
    def test_aggregate_counts_afresh_when_a_rule_comes_back(
        self, restart: bool, tmp_path: Path
    ) -> None:
        """A rule removed and added again without a backfill counts from its return: the
        purchase made while no rule counted is not missing from a stale count of 1 (it was
        0 or 2, neither; before, the count resumed with a gap)."""
        store, engine = sqlite(tmp_path / "s.db", BASE)
        engine.add_rule(COUNTED)
        engine.process(RECS[0])
        engine.remove_rule("counted")
        engine.process(rec("a", 2, "purchase", "5"))
        engine.add_rule(COUNTED)
        if restart:
            store.close()
            store, engine = sqlite(tmp_path / "s.db", RuleSet((*BASE.rules, COUNTED)))
        got = engine.process(rec("a", 3, "view", "6"))
        store.close()
        assert [f.payload for f in got if f.trigger == "counted"] == [{"n": 0.0}]


class TestRulesBetweenRuns:
    def test_rule_gone_for_a_run_and_back_with_other_text_starts_afresh(
        self, tmp_path: Path
    ) -> None:
        """Run 1 has ``r`` anchored on purchases, run 2 does not have ``r``, run 3 has an
        ``r`` anchored on views: run 1's purchase anchor does not fire as run 3's rule (the
        customer, untouched in run 2, kept it in the store)."""
        first = parse("trigger r:\n    when purchase as p then after 3 days\n    emit a")
        third = parse("trigger r:\n    when view as p then after 3 days\n    emit b")
        store, engine = sqlite(tmp_path / "s.db", RuleSet((*first.rules, *BASE.rules)))
        engine.process(RECS[0])
        store.close()
        store, engine = sqlite(tmp_path / "s.db", BASE)
        engine.process(RECS[1])
        store.close()
        store, engine = sqlite(tmp_path / "s.db", RuleSet((*third.rules, *BASE.rules)))
        assert engine.stats()["pending_anchors"] == 0
        assert engine.advance_to(AS_OF) == []
        store.close()

    def test_aggregate_not_kept_up_for_a_run_counts_afresh(self, tmp_path: Path) -> None:
        """A run without the rule that reads ``count(purchase)`` does not keep the count
        up: the next run with it counts from its start, not from a stale count."""
        with_count = RuleSet((*BASE.rules, COUNTED))
        store, engine = sqlite(tmp_path / "s.db", with_count)
        engine.process(RECS[0])
        store.close()
        store, engine = sqlite(tmp_path / "s.db", BASE)
        engine.process(rec("a", 2, "purchase", "5"))
        store.close()
        store, engine = sqlite(tmp_path / "s.db", with_count)
        engine.process(rec("a", 4, "purchase", "7"))
        got = engine.process(rec("a", 5, "view", "8"))
        store.close()
        assert [f.payload for f in got if f.trigger == "counted"] == [{"n": 1.0}]

    def test_unchanged_rules_restore_everything(self, tmp_path: Path) -> None:
        """Restarting with the same rules keeps every rule's state and aggregate (nothing
        is dropped or rewritten)."""
        rules = RuleSet((*BASE.rules, COUNTED, LATER))
        store, engine = sqlite(tmp_path / "s.db", rules)
        engine.process_many(RECS)
        before = engine.stats()
        store.close()
        store, engine = sqlite(tmp_path / "s.db", rules)
        assert engine.stats() == before
        got = engine.process(rec("b", 5, "view", "9"))
        store.close()
        assert [f.payload for f in got if f.trigger == "counted"] == [{"n": 1.0}]


def _check_added_mid_stream(case: int, path: Path) -> None:
    rng = random.Random(7919 * case + 3)
    rules = parse(random_rule_set(rng))
    added = rules.rules[-1]
    base = without_rule(rules, added.name)  # which also leaves its contact policy
    recs = [
        {**r, "timestamp": r["timestamp"].isoformat()}
        for r in records(case, rng.randint(5, 60), n_customers=rng.randint(1, 4), days=30)
    ]
    cut = rng.randrange(len(recs) + 1)
    lateness = rng.choice([0, "6 hours"])
    store = SQLiteStore(path)
    engine = TriggerEngine(base, store=store, max_future=None, allowed_lateness=lateness)
    got = list(engine.process_many(recs[:cut]))
    ticked = 0 < cut < len(recs) and recs[cut]["timestamp"] > recs[cut - 1]["timestamp"]
    if ticked:
        got += engine.advance_to(recs[cut - 1]["timestamp"])
    released = engine.watermark
    # a firing at the released time itself is still to come unless a tick closed that time,
    # or the rule fires at its own interaction (no quiet hours, no 'then') and that came first
    waits = not ticked and not (
        added.then is None and added.when.mode == "event" and added.quiet is None
    )
    early = {r["interaction_id"] for r in recs[:cut]}
    engine.add_rule(added, backfill=recs[:cut])
    if rng.random() < 0.5:
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(
            engine.rules, store=store, max_future=None, allowed_lateness=lateness
        )
    got += engine.process_many(recs[cut:])
    got += engine.advance_to("2024-02-15T00:00:00Z")
    store.close()
    rules = engine.rules  # the added rule follows no contact policy
    batch = evaluate_complete(
        rules, InteractionLog.from_records(recs), as_of="2024-02-15T00:00:00Z"
    )
    context = (case, str(rules), cut, lateness)
    assert key([f for f in got if f.trigger != added.name]) == key(
        [f for f in batch if f.trigger != added.name]
    ), context
    assert key([f for f in got if f.trigger == added.name]) == key(
        [
            f
            for f in batch
            if f.trigger == added.name
            and (
                released is None
                or f.time > released
                or (
                    f.time == released
                    and (waits or f.because["when"]["interaction_id"] not in early)
                )
            )
        ]
    ), context
