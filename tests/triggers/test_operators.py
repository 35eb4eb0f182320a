"""Rules compiled for the streaming engine: how each aggregate is kept and read, when timers
fall due, what a found firing shows, and which properties a rule computes with."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from typing import Any

import pytest

from cxmodel.triggers import parse
from cxmodel.triggers._customer import Anchor, CustomerState
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._operators import AggregatePlan, Candidate, Reader, RulePlan, numeric_fields

DAY = 86_400_000_000
UTC = Reader({}, None)


def rule(text: str) -> Any:
    return parse(f"trigger t:\n    {text}\n    emit x")["t"]


def plans(condition: str) -> dict[str, AggregatePlan]:
    """The aggregate plans of a rule anchored on views with ``condition`` as its ``if``."""
    return RulePlan(rule(f"when view as v\n    if {condition}"), {}).aggregates


def row(time: int, kind: str = "purchase", seq: int = 0, **fields: Any) -> Row:
    return Row("a", time, kind, {"kind": kind, **fields}, seq, 0)


def us(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp()) * 1_000_000


class TestAggregatePlanModes:
    @pytest.mark.parametrize(
        ("aggregate", "mode", "store_key", "lookback"),
        [
            ("count(purchase)", "running", "count|purchase|None|None", None),
            ("max(purchase.value before v)", "running", "max|purchase|value|None", None),
            ("sum(purchase.value within 7 days)", "window", "sum|purchase|value|None|7 days",
             7 * DAY),
            ("count(view within 2 months)", "window", "count|view|None|None|2 months", 64 * DAY),
            ("count(purchase where product == v.product)", "pairs", "purchase", None),
            ("count(purchase where product == v.product within 3 days)", "pairs", "purchase",
             3 * DAY),
        ],
        ids=["running", "before", "window", "months", "pairs", "pairs-window"],
    )  # fmt: skip
    def test_mode_chosen(self, aggregate: str, mode: str, store_key: str, lookback: Any) -> None:
        """No window and no bound name: running values; 'within D': a buffer looking back D
        (months as 31 days each plus 2); a 'where' naming the bound interaction: kept rows."""
        plan = plans(f"{aggregate} > 0")[aggregate]
        assert (mode, store_key, lookback) == (plan.mode, plan.store_key, plan.lookback)

    def test_plans_shared_between_rules(self) -> None:
        """Two rules reading the same aggregate share one plan."""
        shared: dict[str, AggregatePlan] = {}
        a = RulePlan(rule("when view\n    if count(purchase) > 1"), shared)
        b = RulePlan(rule("when survey\n    if count(purchase) > 2"), shared)
        assert a.aggregates["count(purchase)"] is b.aggregates["count(purchase)"]
        assert list(shared) == ["count(purchase)"]


class TestAggregatePlanValues:
    def test_running_count_and_sum(self) -> None:
        """Three purchases, one without a value: count 3, sum 10 + 5 = 15."""
        found = plans("count(purchase) > 0 and sum(purchase.value) > 0")
        count, total = found["count(purchase)"], found["sum(purchase.value)"]
        state = CustomerState("a")
        for i, value in enumerate([10.0, None, 5.0]):
            r = row(i * DAY, seq=i) if value is None else row(i * DAY, seq=i, value=value)
            count.update(state, r, "a", {})
            total.update(state, r, "a", {})
        assert (count.running_value(state), total.running_value(state)) == (3, 15.0)

    def test_running_before_reads_the_snapshot(self) -> None:
        plan = plans("max(purchase.value before v) > 0")["max(purchase.value before v)"]
        got = plan.value(CustomerState("a"), DAY, None, {plan.key: 42.0}, {}, None)
        assert got == 42.0

    def test_empty_running_value(self) -> None:
        """Before any purchase the count is 0 (the function's empty value)."""
        assert (
            plans("count(purchase) > 0")["count(purchase)"].running_value(CustomerState("a")) == 0
        )

    def test_window_keeps_the_last_days(self) -> None:
        """Values 1, 2, 4 at days 0, 5, 9; at day 10 a 7-day window starts at day 3: 2 + 4."""
        plan = plans("sum(purchase.value within 7 days) > 0")["sum(purchase.value within 7 days)"]
        state = CustomerState("a")
        for i, (day, value) in enumerate([(0, 1.0), (5, 2.0), (9, 4.0)]):
            plan.update(state, row(day * DAY, seq=i, value=value), "a", {})
        assert plan.value(state, 10 * DAY, None, {}, {}, None) == 6.0
        assert plan.value(state, 20 * DAY, None, {}, {}, None) == 0

    def test_pairs_compare_with_the_bound_interaction(self) -> None:
        """Kept purchases of p1, p2, p1: two match a view of p1, one a view of p2."""
        key = "count(purchase where product == v.product)"
        plan = plans(f"{key} > 0")[key]
        state = CustomerState("a")
        state.kept["purchase"] = deque(
            row(d * DAY, seq=d, product=p) for d, p in enumerate(["p1", "p2", "p1"])
        )
        views = [row(5 * DAY, "view", 9, product=p) for p in ("p1", "p2")]
        assert [plan.value(state, 5 * DAY, v, {}, {}, None) for v in views] == [2, 1]

    def test_where_filters_updates(self) -> None:
        plan = plans('count(purchase where product == "p1") > 0')[
            'count(purchase where product == "p1")'
        ]
        state = CustomerState("a")
        for i, p in enumerate(["p1", "p2", "p1"]):
            plan.update(state, row(i, seq=i, product=p), "a", {})
        assert plan.running_value(state) == 2


class TestRulePlanTimes:
    @pytest.mark.parametrize(
        ("text", "delay"),
        [
            ("when inactive for 90 days", 90 * DAY),
            ("when no purchase for 36 hours", 36 * 3_600_000_000),
            ("when purchase as p then after 7 days", 7 * DAY),
            ("when view as v then no purchase for 2 days", 2 * DAY),
        ],
    )
    def test_due_after_a_fixed_delay(self, text: str, delay: int) -> None:
        plan = RulePlan(rule(text), {})
        assert (plan.delay, plan.due(DAY, UTC)) == (delay, DAY + delay)

    def test_due_after_calendar_months(self) -> None:
        """A month after 31 January 2024 is 29 February (no fixed delay)."""
        plan = RulePlan(rule("when inactive for 1 months"), {})
        assert plan.delay is None
        assert plan.due(us(2024, 1, 31), UTC) == us(2024, 2, 29)

    def test_limit_of_then_within(self) -> None:
        """'then B within 2 days' may complete up to two days later; without a window, any
        time (None)."""
        within = RulePlan(rule("when view as v then purchase within 2 days"), {})
        unbounded = RulePlan(rule("when view as v then purchase"), {})
        assert (within.limit(DAY, UTC), unbounded.limit(DAY, UTC)) == (3 * DAY, None)

    def test_blocking_kind_and_immediacy(self) -> None:
        """'then no B' is blocked by B, 'then after ... unless U' by U. A firing found at
        its anchor or by a timer is decided at once; one completed by 'then B' (found in
        B's order, not its anchor's) or held by quiet hours waits for the decision queue."""
        absent = RulePlan(rule("when view as v then no purchase for 2 days"), {})
        after = RulePlan(rule("when purchase as p then after 7 days\n    unless survey"), {})
        plain = RulePlan(rule("when purchase"), {})
        inactive = RulePlan(rule("when inactive for 30 days"), {})
        then = RulePlan(rule("when view as v then purchase within 2 days"), {})
        quiet = RulePlan(rule("when purchase\n    quiet hours 22:00-08:00"), {})
        got = [(p.block_kind, p.immediate) for p in (absent, after, plain, inactive, then, quiet)]
        assert got == [
            ("purchase", True),
            ("survey", True),
            (None, True),
            (None, True),
            (None, False),
            (None, False),
        ]


class TestCandidate:
    def test_keys(self) -> None:
        """A restart is keyed by its time; an interaction by its id, else time and rank."""
        with_id = Row("a", 5, "purchase", {"kind": "purchase", "interaction_id": "i1"}, 0, 0)
        without = Row("a", 5, "purchase", {"kind": "purchase"}, 0, 2)
        keys = [
            Candidate(5, with_id, None, True, {}, {}).key,
            Candidate(5, with_id, None, False, {}, {}).key,
            Candidate(5, without, None, False, {}, {}).key,
        ]
        assert keys == ["t=5", "id=i1", "t=5#2"]

    def test_parts_of_a_completed_firing(self) -> None:
        """'because' shows the anchoring and the completing interaction with their tested
        values, and the 'if' values."""
        view = Row("a", 0, "view", {"kind": "view", "interaction_id": "v1"}, 0, 0)
        bought = Row("a", DAY, "purchase", {"kind": "purchase"}, 1, 0)
        tested = {"when": {"v.product": "p1"}, "then": {"value": 3.0}, "if": {"n": 1.0}}
        parts = Candidate(DAY, view, bought, False, {"p": "p1"}, tested).parts(None)
        expected = {
            "payload": {"p": "p1"},
            "because": {
                "when": {"kind": "view", "time": "1970-01-01T00:00:00+00:00",
                         "interaction_id": "v1", "values": {"v.product": "p1"}},
                "then": {"kind": "purchase", "time": "1970-01-02T00:00:00+00:00",
                         "values": {"value": 3.0}},
                "if": {"n": 1.0},
            },
            "key": "id=v1",
            "time": DAY,
        }  # fmt: skip
        assert expected == parts

    def test_rule_plan_candidate_checks_the_condition(self) -> None:
        """'if count(purchase) > 1': no firing after one purchase, a firing after two, with
        the payload computed at the firing."""
        plan = RulePlan(
            parse("trigger t:\n    when purchase as p\n    if count(purchase) > 1\n"
                  "    emit x(v = p.value)")["t"],
            {},
        )  # fmt: skip
        state = CustomerState("a")
        counter = plan.aggregates["count(purchase)"]
        got = []
        for i in range(2):
            r = row(i * DAY, seq=i, value=float(i + 1))
            counter.update(state, r, "a", {})
            found = plan.candidate(state, r.time, Anchor(r, None, {}, {}), None, None, UTC)
            got.append(None if found is None else found.payload)
        assert got == [None, {"v": 2.0}]


class TestNumericFields:
    def test_fields_computed_with(self) -> None:
        """Arithmetic, negation, abs/round and numeric aggregates name numeric fields;
        comparisons, counts and other qualifiers do not."""
        text = (
            'trigger t:\n    when purchase as p where p.value * 2 > 10 and p.kind == "purchase"\n'
            "    if sum(purchase.amount) > 3 and -p.discount < 0 and count(view) > 0\n"
            "    emit x(n = round(p.score), m = max(purchase.label))"
        )
        assert numeric_fields(parse(text)["t"]) == {"value", "amount", "discount", "score"}


def test_an_inactivity_timer_keeps_only_what_its_firing_reads() -> None:
    """``when inactive`` keeps the interaction it restarted on: only its kind and id when no
    clause reads its properties (less state, and less personal data in a store), the whole
    interaction when the payload reads one; on both paths, firing as batch does."""
    from cxmodel.log import InteractionLog
    from cxmodel.triggers import TriggerEngine, evaluate, parse
    from tests.triggers.helpers import COLUMNAR, PER_ROW, engine_of

    recs = [
        {"customer_id": f"c{j % 3}", "timestamp": f"2024-01-0{1 + j % 5}T0{j % 7}:00:00Z",
         "kind": "purchase", "product": f"p{j}", "interaction_id": f"i{j}"}
        for j in range(30)
    ]  # fmt: skip
    as_of = "2024-02-01T00:00:00Z"
    for payload, kept in [("", {"kind", "interaction_id"}), ("(p = product)", None)]:
        rules = parse(f"trigger t:\n    when inactive for 3 days\n    emit x{payload}")
        log = InteractionLog.from_records(recs).with_observed_until(as_of)
        expected = [f.payload for f in evaluate(rules, log, as_of=as_of)]
        for path in (COLUMNAR, PER_ROW):
            engine: TriggerEngine = engine_of(rules, path, max_future=None)
            engine.process_many(recs)
            runner = engine._runner  # (a rule without payload holds its timers as columns)
            timer = runner.rule_state(runner.states["c0"], "t").timer
            fields = timer.row.fields
            assert set(fields) == (kept or {"kind", "interaction_id", "product"})
            assert [f.payload for f in engine.advance_to(as_of)] == expected
