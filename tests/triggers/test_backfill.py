"""A rule added with a backfill: the rows it reads (released, in time order, checked) and the
state handed over to the engine's customers (see test_engine_rules.py for the engine)."""

from __future__ import annotations

import pytest

from cxmodel.errors import SchemaError
from cxmodel.triggers import parse
from cxmodel.triggers._backfill import adopt, history, released_rows
from cxmodel.triggers._ingest import CATALOGUE, Row
from cxmodel.triggers._operators import RulePlan
from cxmodel.triggers._runner import RuleRunner

LATER = parse("trigger later:\n    when purchase as p then after 3 days\n    emit y")
DAY = 86_400_000_000


def purchase(customer: str, day: int, **fields: object) -> Row:
    return Row(customer, day * DAY, "purchase", {"kind": "purchase", **fields})


class TestReleasedRows:
    def test_only_what_was_released_in_time_order(self) -> None:
        """Rows after the released time are left out (they come through the engine); the
        rest are in time order, ties in the backfill's order; nothing released: none."""
        rows = [purchase("a", 3), purchase("b", 1), purchase("a", 1), purchase("a", 5)]
        got = released_rows(rows, 3 * DAY, LATER["later"])
        assert [(r.customer, r.time // DAY) for r in got] == [("b", 1), ("a", 1), ("a", 3)]
        assert released_rows(rows, None, LATER["later"]) == []

    def test_checked_as_a_call_is(self) -> None:
        """Text where the rule computes with a number is refused naming the record."""
        rule = parse("trigger big:\n    when purchase as p where p.qty * 2 > 3\n    emit b")["big"]
        rows = [purchase("a", 1, qty=2.0), purchase("a", 2, qty="two")]
        with pytest.raises(SchemaError, match="record 2: qty 'two' is not a number"):
            released_rows(rows, 5 * DAY, rule)


class TestHistory:
    def test_read_as_a_call_and_released_only(self) -> None:
        """Records are read as a call's are (a record without a customer of the catalogue
        kind the added rule reads is a catalogue event); only released rows are kept."""
        rule = parse(
            "trigger back:\n    when restock as r for customers with product_view where "
            "product == r.product within 30 days\n    emit b"
        )["back"]
        records = [
            {"customer_id": "a", "timestamp": "1970-01-02T00:00:00Z", "kind": "product_view",
             "product": "p"},
            {"timestamp": "1970-01-03T00:00:00Z", "kind": "restock", "product": "p"},
            {"customer_id": "a", "timestamp": "1970-01-09T00:00:00Z", "kind": "product_view",
             "product": "p"},
        ]  # fmt: skip
        got = history(records, rule, {}, (), 5 * DAY)
        assert [(r.customer, r.kind, r.time // DAY) for r in got] == [
            ("a", "product_view", 1),
            (CATALOGUE, "restock", 2),
        ]


class TestAdopt:
    def test_hands_over_the_rule_and_touches_its_customers(self) -> None:
        """The replay's state of the rule goes to each customer, who is touched (so it is
        committed) and whose timers are queued; a customer new to the engine keeps the
        replay's last time."""
        engine = RuleRunner(parse("trigger k:\n    when view\n    emit k"), {})
        engine.release(Row("a", 0, "view", {"kind": "view"}))
        engine.touched = set()
        helper = RuleRunner(LATER, {})
        for row in (purchase("a", 1), purchase("b", 2)):
            helper.release(row)
        engine.plans["later"] = plan = RulePlan(LATER["later"], engine.aggregates)
        engine.index()
        adopt(engine, helper, plan, set())
        assert engine.touched == {"a", "b"}
        assert engine.states["b"].last_time == 2 * DAY
        assert sorted((t[0] // DAY, t[3]) for t in engine.timers) == [(4, "a"), (5, "b")]
