"""Tests of expressions compiled for one interaction at a time: the vectorised evaluator's
semantics for missing values, text against numbers, division by zero, names, traits and
aggregates (hand-computed)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cxmodel.errors import SchemaError
from cxmodel.expr import parse_expr
from cxmodel.triggers._scalar import _CMP, Env, _compare, compile_expr, is_missing

ROW = {"value": 150.0, "channel": "web", "note": None, "code": "7"}


def run(text: str, row: dict[str, Any] = ROW, **env: Any) -> Any:
    """Evaluate ``text`` on one interaction ``row`` of customer c1 at time 5."""
    fields: dict[str, Any] = {"traits": {}} | env
    return compile_expr(parse_expr(text), "p")(Env(row, 5, "c1", **fields))


class TestSemantics:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('value > 100 and channel == "web"', True),
            ("value + 1", 151.0),
            ("value / 0", None),
            ("value % 7", 3.0),
            ("note + 1", None),
            ("note > 0", False),
            ("note < 0", False),
            ("note ?? 2", 2.0),
            ("value ?? 2", 150.0),
            ("code == 7", False),
            ("code != 7", True),
            ('channel in ["app", "web"]', True),
            ('note not in ["app"]', False),
            ("not note", True),
            ("-value", -150.0),
            ("abs(-2.5)", 2.5),
            ("upper(channel)", "WEB"),
            ("length(channel)", 3.0),
            ("round(2.6)", 3.0),
            ("missing_field == 1", False),
            ("customer_id", "c1"),
            ("timestamp", 5.0),
            ("1 + 2 + 3 + value", 156.0),
        ],
    )
    def test_expression(self, text: str, expected: Any) -> None:
        """Missing propagates through arithmetic, compares false, and is replaced by ??;
        text never equals a number; division by zero is missing."""
        assert expected == run(text)

    def test_duration_is_microseconds(self) -> None:
        """A duration literal reads as its length in microseconds."""
        assert run("1 days") == 86_400_000_000.0


class TestNames:
    def test_alias_reads_the_bound_interaction(self) -> None:
        """``p.value`` reads the bound interaction; without one it is missing."""
        assert run("p.value", alias={"value": 9.0}) == 9.0
        assert run("p.value") is None

    def test_traits_as_numbers(self) -> None:
        """A boolean or integer trait reads as a float; text as text; absent as missing."""
        traits = {"vip": True, "age": 31, "plan": "pro"}
        assert (run("customer.vip", traits=traits),
                                      run("customer.age", traits=traits),
                                      run("customer.plan", traits=traits)) == (1.0, 31.0, "pro")  # fmt: skip
        assert run("customer.tier", traits=traits) is None

    def test_unbound_qualifier_is_refused_when_compiled(self) -> None:
        """A qualifier that is neither the alias nor ``customer`` names nothing."""
        with pytest.raises(SchemaError, match="names no bound interaction"):
            compile_expr(parse_expr("q.value > 1"), "p")


class TestAggregates:
    def test_looked_up_by_their_text(self) -> None:
        """An aggregate's value comes from the environment, asked for by its printed text."""
        asked: list[str] = []

        def aggregate(key: str) -> float:
            asked.append(key)
            return 4.0

        assert run("count(purchase within 7 days) > 3", aggregate=aggregate) is True
        assert asked == ["count(purchase within 7 days)"]

    def test_needs_a_history(self) -> None:
        """Outside a rule there is no history to aggregate."""
        with pytest.raises(SchemaError, match="needs a history"):
            run("count(purchase within 7 days)")


class TestComparisonWithALiteral:
    """A comparison with a literal is compiled with what the literal decides worked out
    once; it must answer as the general comparison does for every kind of value."""

    VALUES = (None, math.nan, 0.0, 6.0, 7.0, -1.5, "", "6", "web", True, False)
    LITERALS = ("6", "-1.5", '"web"', '"6"', "true", "false", "null")

    @pytest.mark.parametrize("op", sorted(_CMP))
    @pytest.mark.parametrize("literal", LITERALS)
    def test_same_as_the_general_comparison(self, op: str, literal: str) -> None:
        """``x OP literal`` equals ``_compare`` on the same values, and so does the mirrored
        ``literal OP x``, which takes the general path."""
        compiled = compile_expr(parse_expr(f"x {op} {literal}"), None)
        right = compile_expr(parse_expr(literal), None)(Env({}, 0, "c1", {}))
        for value in self.VALUES:
            env = Env({"x": value}, 0, "c1", {})
            expected = _compare(_CMP[op], op == "!=", value, right)
            assert (value, expected) == (value, compiled(env))


def test_is_missing() -> None:
    """None and NaN are missing; zero and empty text are values."""
    assert (is_missing(None), is_missing(math.nan),
                                          is_missing(0.0), is_missing("")) == (True, True, False, False)  # fmt: skip


class TestBoundInteractionsOwnFields:
    """``x.customer_id`` and ``x.timestamp`` are the bound interaction's customer and time,
    as bare ``customer_id`` and ``timestamp`` are the current one's (the engine read them
    as missing: ``x.customer_id == "a"`` never held, a payload ``x.timestamp`` was empty)."""

    def test_compiled(self) -> None:
        """The bound interaction at time 3 of customer c1; none bound: missing."""
        env = {"alias": {"kind": "view"}, "alias_time": 3}
        assert run("p.customer_id", **env) == "c1"
        assert run("p.timestamp", **env) == 3.0
        assert run("p.timestamp < timestamp", **env) is True
        assert run("p.customer_id") is None and run("p.timestamp") is None

    @pytest.mark.parametrize(
        "when",
        [
            'product_view as x where x.customer_id == "a"',
            "product_view as x then purchase where x.customer_id == customer_id",
            "purchase as x where count(product_view where customer_id == x.customer_id) >= 1",
            "purchase as x where count(product_view where timestamp < x.timestamp) >= 1",
            "product_view as x then after 1 days",
        ],
    )
    def test_streaming_equals_batch(self, when: str) -> None:
        """Conditions and payloads reading them fire alike in both engines."""
        from cxmodel.log import InteractionLog
        from cxmodel.triggers import TriggerEngine, parse
        from tests.triggers.helpers import evaluate_complete

        text = f"trigger t:\n    when {when}\n    emit a(c = x.customer_id, t = x.timestamp)"
        rules = parse(text)
        recs = [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "product_view"},
            {"customer_id": "a", "timestamp": "2024-01-01T05:00:00Z", "kind": "purchase"},
            {"customer_id": "b", "timestamp": "2024-01-01T06:00:00Z", "kind": "product_view"},
        ]
        as_of = "2024-02-01T00:00:00Z"
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        engine = TriggerEngine(rules, max_future=None)
        got = [*engine.process_many(recs), *engine.advance_to(as_of)]
        assert sorted((f.firing_id, repr(f.payload)) for f in got) == sorted(
            (f.firing_id, repr(f.payload)) for f in batch
        )
        assert batch and all(f.payload["c"] == f.customer_id for f in batch)
