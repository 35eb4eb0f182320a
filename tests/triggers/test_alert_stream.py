"""Alerts in the streaming engine equal batch: hand cases one at a time and in micro-batches,
when a firing becomes final, restarts from SQLite between the rise and the crossing (and a
killed process), failed commits, rules added and removed at runtime, and a seeded sweep of
random alerts beside random rules in random cuts, out-of-order delivery and restarts."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import SchemaError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    Firings,
    InMemoryStore,
    SQLiteStore,
    StateChange,
    TriggerEngine,
    parse,
)
from tests.triggers.helpers import (
    AS_OF,
    CHILD,
    PAY,
    REDELIVERY,
    SPIKE,
    TICKETS,
    _records,
    at,
    evaluate_complete,
    first_delivery_order,
    host_messages,
    interaction,
    log_of,
    plan,
    random_rule_set,
    records,
)
from tests.triggers.test_alert_batch import TestBaseline, TestSegment

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CASES = int(os.environ.get("CXMODEL_ALERT_CASES", "90"))
CALM = "alert calm:\n    when count(ticket_opened within 1 hours) < 2\n    emit ok\n"
CUSTOMERS = {c: Customer(c, traits={"plan": "pro"}) for c in ("a", "b", "c", "d")} | {
    "e": Customer("e", traits={"plan": "basic"})
}


def whole(firings: Any) -> Counter[Any]:
    """Firings compared whole, reason included."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id, f.reason)
        for f in firings
    )


def recs_of(events: list[tuple[str, float, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The events as records with ids, in time order (as a host would deliver them)."""
    recs = [
        {"customer_id": c, "timestamp": at(m), "kind": k, "interaction_id": f"i{j}", **fields}
        for j, (c, m, k, fields) in enumerate(events)
    ]
    return sorted(recs, key=lambda r: r["timestamp"])


HAND = {
    "spike": (SPIKE, TICKETS),
    "calm": (CALM, TICKETS),
    "cooldown": (SPIKE + "    cooldown 3 hours\n", TICKETS),
    "once": (SPIKE + "    once\n", TICKETS),
    "sustained": (
        SPIKE,
        [
            *((f"c{i}", 10 * i, "ticket_opened", PAY) for i in range(5)),
            ("z", 85, "ticket_opened", PAY),
        ],
    ),
    "baseline": (
        TestBaseline.RULE,
        [(f"c{d}", d * 1440 + 720, "ticket_opened", {}) for d in range(7)]
        + [(f"x{h}", 7 * 1440 + 60 * h, "ticket_opened", {}) for h in (9, 10, 11)],
    ),
    "segment": (TestSegment.RULE, TICKETS),
    "distinct": (
        "alert many:\n    when distinct(ticket_opened.customer_id within 1 hours) >= 3\n"
        "    emit page(tickets = count(ticket_opened within 1 hours))",
        [*TICKETS, ("a", 185, "ticket_opened", PAY)],
    ),
}


@pytest.mark.parametrize("case", sorted(HAND))
def test_hand_cases_stream_as_batch(case: str) -> None:
    """One at a time (records and Interaction objects) and as one micro-batch, the engine
    advanced to ``as_of`` returns batch's firings, suppressed ones included."""
    text, events = HAND[case]
    rules, recs = parse(text), recs_of(events)
    batch = evaluate_complete(rules, log_of(events), as_of=AS_OF, customers=CUSTOMERS)
    one = TriggerEngine(rules, customers=CUSTOMERS, max_future=None)
    got: list[Any] = []
    for j, rec in enumerate(recs):
        got += one.process(interaction(rec) if j % 2 else rec)
    got += one.advance_to(AS_OF)
    assert whole(got) == whole(batch)
    many = TriggerEngine(rules, customers=CUSTOMERS, max_future=None)
    part = many.process_many(recs)
    assert len(many.process_many([])) == 0  # an empty call changes nothing
    rest = many.advance_to(AS_OF)
    assert whole([*part, *rest]) == whole(batch)
    assert whole(part.suppressed) <= whole(batch.suppressed)


class TestWhenFinal:
    def test_a_crossing_waits_for_its_time_to_pass(self) -> None:
        """The third ticket at 00:45 may be followed by more at 00:45: the firing is final
        when a later interaction arrives or ``advance_to`` reaches 00:45."""
        engine = TriggerEngine(parse(SPIKE), max_future=None)
        recs = recs_of(TICKETS)
        assert [f for r in recs[:3] for f in engine.process(r)] == []
        assert [f.time for f in engine.advance_to(at(45))] == [at(45)]
        assert engine.advance_to(at(46)) == []

    def test_a_window_exit_fires_once_its_microsecond_passed(self) -> None:
        """The drop at 01:30:00.000001 is decided by ``advance_to`` at that time, not before."""
        engine = TriggerEngine(parse(CALM), max_future=None)
        engine.process_many(recs_of(TICKETS[:3]))
        assert engine.advance_to(at(90)) == []
        got = engine.advance_to(at(90) + timedelta(microseconds=1))
        assert [f.time for f in got] == [at(90) + timedelta(microseconds=1)]

    def test_state_is_bounded_by_the_window(self) -> None:
        """Only the last hour's values are kept, however long the stream."""
        engine = TriggerEngine(parse(SPIKE), max_future=None)
        engine.process_many(
            [
                {
                    "customer_id": f"c{i % 7}",
                    "timestamp": at(5 * i),
                    "kind": "ticket_opened",
                    "topic": "payment",
                }
                for i in range(2_000)
            ]
        )
        assert engine.stats()["alert_window_values"] <= 2 * 13  # two aggregates, 13 in an hour


class TestRestart:
    def test_restart_between_the_rise_and_the_crossing(self, tmp_path: Path) -> None:
        """Two tickets, a restart from SQLite, the third: the alert fires once, at 00:45,
        as if nothing had happened; a restart after the crossing but before it is final
        loses nothing either, and re-delivered tickets are ignored."""
        rules, recs = parse(SPIKE), recs_of(TICKETS)
        path = tmp_path / "alerts.db"
        got: list[Any] = []
        for chunk, redeliver in (((0, 2), ()), ((2, 3), (1,)), ((3, 6), (2, 1))):
            store = SQLiteStore(path)
            engine = TriggerEngine(rules, store=store, max_future=None)
            for j in redeliver:  # a host re-delivering from its last acknowledged point
                got += engine.process(recs[j])
            for rec in recs[chunk[0] : chunk[1]]:
                got += engine.process(rec)
            store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store, max_future=None)
        got += engine.advance_to(AS_OF)
        assert [f.time for f in got] == [at(45), at(198)]
        assert [f.firing_id for f in store.firings()] == [f.firing_id for f in got]
        assert whole(got) == whole(evaluate_complete(rules, log_of(TICKETS), as_of=AS_OF))
        store.close()

    def test_a_changed_alert_starts_afresh(self, tmp_path: Path) -> None:
        """After a restart with the alert's text changed, its windows start empty."""
        path = tmp_path / "alerts.db"
        store = SQLiteStore(path)
        TriggerEngine(parse(SPIKE), store=store, max_future=None).process_many(recs_of(TICKETS[:2]))
        store.close()
        store = SQLiteStore(path)
        changed = parse(SPIKE.replace(">= 3", ">= 2"))
        engine = TriggerEngine(changed, store=store, max_future=None)
        engine.process_many(recs_of(TICKETS)[2:3])
        assert engine.advance_to(at(50)) == []  # one ticket counted since the change
        store.close()

    def test_a_failed_commit_rolls_the_alert_back(self) -> None:
        """A commit that fails leaves the alert as before the call: retried, the call's
        crossing fires once."""

        class Flaky(InMemoryStore):  # a durable store to the engine: it rolls back
            fail = False

            def commit(self, change: StateChange) -> None:
                if self.fail:
                    raise StoreError("disk full")
                super().commit(change)

        store = Flaky()
        engine = TriggerEngine(parse(SPIKE), store=store, max_future=None)
        recs = recs_of(TICKETS)
        engine.process_many(recs[:3])
        store.fail = True
        with pytest.raises(StoreError):
            engine.advance_to(at(45))
        store.fail = False
        assert [f.time for f in engine.advance_to(at(45))] == [at(45)]

    def test_sigkill_and_restart(self, tmp_path: Path) -> None:
        """A process killed mid-stream and restarted from SQLite, re-delivering a few
        records, returns each alert firing once; with what was pending, they equal batch."""
        recs = _records(4, 260)
        text = (
            "alert busy:\n    when count(purchase within 2 days) >= 4\n    emit a\n\n"
            "alert lull:\n    when count(product_view within 1 days) < 1 and "
            "count(product_view within 7 days) >= 2\n    emit b\n    cooldown 3 days\n"
        )
        as_of = "2024-06-15T00:00:00+00:00"
        data, db, rules_file = tmp_path / "recs.json", tmp_path / "state.db", tmp_path / "r.cx"
        data.write_text(json.dumps(recs))
        rules_file.write_text(text)
        fired: list[str] = []
        offset = 0
        for stop in (60, 150, None):
            args = [sys.executable, "-c", CHILD, str(data), str(db), str(rules_file), as_of]
            with subprocess.Popen(
                [*args, str(offset)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as child:
                assert child.stdout is not None and child.stderr is not None
                lines: list[str] = []
                while stop is None or sum(line.startswith("ok") for line in lines) < stop:
                    line = child.stdout.readline()
                    if not line:
                        break
                    lines.append(line)
                if stop is not None:
                    child.kill()
                lines += child.stdout.read().splitlines(keepends=True)
                err = child.stderr.read()
                child.wait(timeout=120)
            assert stop is not None or child.returncode == 0, err
            for what, rest in host_messages(lines):
                if what in ("fired", "pending"):
                    fired.append(rest)
                elif what == "ok":
                    offset = int(rest) + 1
            offset = max(0, offset - 5)
        batch = evaluate_complete(parse(text), InteractionLog.from_records(recs), as_of=as_of)
        assert len(fired) == len(set(fired))
        assert set(fired) == batch.ids()
        assert len(batch) >= 5


class TestRuntime:
    def test_add_with_backfill_and_remove(self) -> None:
        """An alert added mid-stream with the history as backfill continues as if it had
        run all along (an episode under way does not fire again); removed, it stops."""
        recs = recs_of(TICKETS)
        engine = TriggerEngine(parse("trigger t:\n    when purchase\n    emit x"), max_future=None)
        engine.process_many(recs[:3])
        engine.advance_to(at(50))
        alert = parse(SPIKE).alerts[0]
        engine.add_rule(alert, backfill=recs[:3])
        assert [a.name for a in engine.rules.alerts] == ["spike"]
        got = engine.process_many(recs[3:])
        got_more = engine.advance_to(AS_OF)
        assert [f.time for f in [*got, *got_more]] == [at(198)]
        with pytest.raises(ValueError, match="already active"):
            engine.add_rule(alert)
        engine.remove_rule("spike")
        assert engine.rules.alerts == ()
        # after AS_OF (not late): with the alert removed, a spike fires nothing
        assert engine.process_many(recs_of([("q", 45_000, "ticket_opened", PAY)] * 3)).firings == ()
        assert engine.advance_to(at(46_000)) == [] and engine.late == []

    def test_removing_a_rule_keeps_the_alerts(self) -> None:
        """Taking a rule out leaves the alerts running."""
        engine = TriggerEngine(
            parse("trigger t:\n    when purchase\n    emit x\n\n" + SPIKE), max_future=None
        )
        engine.remove_rule("t")
        engine.process_many(recs_of(TICKETS[:3]))
        assert [f.trigger for f in engine.advance_to(AS_OF)] == ["spike"]

    def test_forget_drops_a_customer_from_windows_of_ids(self) -> None:
        """``forget`` erases a customer's id from the windows that hold customer ids."""
        rules = parse(HAND["distinct"][0])
        engine = TriggerEngine(rules, max_future=None)
        engine.process_many(recs_of(TICKETS[:2]))
        engine.forget("a")
        engine.process_many(recs_of(TICKETS[2:3]))
        assert engine.advance_to(at(46)) == []  # b and c: two customers now

    def test_text_where_an_alert_computes_is_refused(self) -> None:
        """An alert summing ``qty`` refuses an interaction whose ``qty`` is text, naming it."""
        engine = TriggerEngine(
            parse("alert big:\n    when sum(purchase.qty within 1 days) > 9\n    emit x"),
            max_future=None,
        )
        with pytest.raises(SchemaError, match="rule 'big' computes with it"):
            engine.process(
                {"customer_id": "a", "timestamp": at(0), "kind": "purchase", "qty": "ten"}
            )


# -- a seeded sweep ---------------------------------------------------------------------------
ALERT_KINDS = ["purchase", "survey", "ticket_opened", "product_view"]
WINDOWS = ["90 minutes", "12 hours", "1 days", "36 hours", "3 days", "7 days"]


def random_alerts(rng: random.Random) -> str:
    """One to three alerts of every aggregate the language allows, thresholds, baselines,
    drops, segments and policies."""
    texts = []
    for i in range(rng.randint(1, 3)):

        def aggregate() -> str:
            k, w = rng.choice(ALERT_KINDS), rng.choice(WINDOWS)
            return rng.choice(
                [
                    f"count({k} within {w})",
                    f"count({k} where value >= 100 within {w})",
                    f"sum({k}.value within {w})",
                    f"avg({k}.value within {w})",
                    f"max({k}.value within {w})",
                    f"min({k}.value within {w})",
                    f"median({k}.value within {w})",
                    f"distinct({k}.customer_id within {w})",
                    f"distinct({k}.product within {w})",
                ]
            )

        a, b = aggregate(), aggregate()
        condition = rng.choice(
            [
                f"{a} >= {rng.randint(1, 4)}",
                f"{a} < {rng.randint(1, 3)}",
                f"{a} > 2 * ({b} - {a}) / 3 and {b} >= 2",
                f"({a} ?? 0) > 120 or {b} <= 1",
                f"{a} != {b}",
            ]
        )
        lines = [f"alert al{i}:", f"    when {condition}"]
        if rng.random() < 0.3:
            lines.append('    for customers where customer.plan == "pro"')
        lines.append(rng.choice(["    emit act", f"    emit act(v = {b}, n = {a} + 1)"]))
        if rng.random() < 0.3:
            lines.append(f"    cooldown {rng.choice(WINDOWS)}")
        if rng.random() < 0.2:
            lines.append("    once")
        texts.append("\n".join(lines))
    if rng.random() < 0.5:
        texts.append(random_rule_set(rng))
    return "\n\n".join(texts)


def check_case(case: int, tmp_path: Path) -> None:
    rng = random.Random(7_919 * case + 3)
    text = random_alerts(rng)
    rules = parse(text)
    n_customers = rng.randint(1, 6)
    customers = {
        f"c{i}": Customer(f"c{i}", traits={"plan": rng.choice(["pro", "basic"])})
        for i in range(n_customers)
        if rng.random() < 0.8
    }
    recs = records(case, rng.randint(5, 120), n_customers=n_customers, days=rng.choice([5, 20]))
    as_of = T0 + timedelta(days=rng.choice([3, 10, 25]))
    visible = [r for r in recs if r["timestamp"] <= as_of]
    lateness_h = rng.choice([0, 6, 24])
    lateness = f"{lateness_h} hours" if lateness_h else 0
    steps = plan(rng, visible, lateness_h, as_of)
    delivered = first_delivery_order(steps)
    batch = evaluate_complete(
        rules, InteractionLog.from_records(delivered), as_of=as_of, customers=customers
    )
    context = (case, text, lateness_h)

    engine = TriggerEngine(
        rules, customers=customers, allowed_lateness=lateness, redelivery_window=REDELIVERY
    )
    single: list[Any] = []
    for j, (what, arg) in enumerate(steps):
        if what == "tick":
            single += engine.advance_to(arg)
        else:
            single += engine.process(interaction(arg) if j % 2 else arg)
    single += engine.advance_to(as_of)
    assert whole(single) == whole(batch), context

    path = tmp_path / f"a{case}.db" if case % 3 == 0 else None

    def start() -> tuple[Any, TriggerEngine]:
        store = SQLiteStore(path) if path is not None else None
        return store, TriggerEngine(
            rules,
            store=store,
            customers=customers,
            allowed_lateness=lateness,
            redelivery_window=REDELIVERY,
        )

    store, engine = start()
    emitted: list[Any] = []
    suppressed: list[Any] = []
    pos = 0
    try:
        while pos < len(steps):
            if steps[pos][0] == "tick":
                got = Firings(engine.advance_to(steps[pos][1]))
                pos += 1
            else:
                stop = pos
                size = rng.randint(1, 25)
                while stop < len(steps) and steps[stop][0] == "rec" and stop - pos < size:
                    stop += 1
                got = engine.process_many([rec for _, rec in steps[pos:stop]])
                pos = stop
            emitted += got
            suppressed += got.suppressed
            if store is not None and rng.random() < 0.3:
                store.close()
                store, engine = start()
        emitted += engine.advance_to(as_of)
    finally:
        if store is not None:
            store.close()
    assert whole(emitted) == whole(batch), context
    assert len({f.firing_id for f in emitted}) == len(emitted), context
    # advance_to returns emitted firings only: the suppressed ones seen in micro-batches
    assert whole(suppressed) <= whole(batch.suppressed), context


@pytest.mark.parametrize("block", range(3))
def test_random_alerts_stream_as_batch(block: int, tmp_path: Path) -> None:
    """Random alerts (with random rules) over random logs, delivered out of order within
    the allowed lateness, re-delivered, cut into calls and restarted from SQLite, equal
    batch (the size is ``CXMODEL_ALERT_CASES``, 90 by default)."""
    for case in range(block, CASES, 3):
        check_case(case, tmp_path)
