"""The Python builder produces the same AST as the text parser."""

from __future__ import annotations

from typing import Any

import pytest

from cxmodel.errors import TriggerSyntaxError
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import RuleSet, Unless, agg, col, count, lit, parse, trigger


class TestBuilder:
    def test_acceptance_rules_built_equal_parsed(self) -> None:
        """Each of the six acceptance rules built in Python equals the parsed text."""
        built = RuleSet(
            (
                trigger("churn_risk")
                .when_inactive("90 days")
                .emit("churn_risk_alert")
                .once_per_customer(every="90 days")
                .build(),
                trigger("detractor_follow_up")
                .when("survey", as_="r", where=(col("r.metric") == "nps") & (col("r.score") <= 6))
                .emit("follow_up_task", priority="high", score=col("r.score"))
                .build(),
                trigger("vip_opportunity")
                .when(
                    "purchase",
                    as_="p",
                    where=(count("purchase", before="p") >= 1)
                    & (col("p.value") > agg("max", "purchase", "value", before="p")),
                )
                .emit("vip_opportunity", order=col("p.order_id"), value=col("p.value"))
                .build(),
                trigger("browse_abandonment")
                .when("product_view", as_="v")
                .then_no("purchase", where=col("product") == col("v.product"), for_="7 days")
                .emit("limited_discount", product=col("v.product"))
                .cooldown("30 days")
                .requires_consent("marketing")
                .build(),
                trigger("satisfaction_check")
                .when("purchase", as_="p")
                .then_after("7 days")
                .unless("survey", where=col("order_id") == col("p.order_id"))
                .emit("satisfaction_check", order=col("p.order_id"))
                .build(),
                trigger("payment_escalation")
                .when("ticket_opened", as_="t", where=col("t.topic") == "payment")
                .if_(count("ticket_opened", where=col("topic") == "payment", within="30 days") > 3)
                .emit("escalate", topic=col("t.topic"))
                .cooldown("30 days")
                .build(),
            )
        )
        assert built == parse(ACCEPTANCE)

    def test_bool_raises_with_hint(self) -> None:
        """Using `and` / `if` on an expression raises a TypeError that says to use &."""
        with pytest.raises(TypeError, match="use `a & b`"):
            bool(col("value") > 100)

    def test_operators(self) -> None:
        """Arithmetic, is_in, fill_null and ~ print like the text language."""
        expr = ~((col("value") * 2 + 1).fill_null(0) > 10) | col("channel").is_in(["web"])
        assert str(expr) == 'not value * 2 + 1 ?? 0 > 10 or channel in ["web"]'
        assert str(lit("7d")) == "7 days"


class TestBuilderValidation:
    def test_unless_is_one_clause(self) -> None:
        """unless() builds one Unless equal to the parsed one."""
        built = (
            trigger("r")
            .when("purchase", as_="p")
            .then_after("7 days")
            .unless("survey", where=col("order_id") == col("p.order_id"))
            .emit("ask")
            .build()
        )
        text = (
            "trigger r:\n    when purchase as p then after 7 days\n"
            "    unless survey where order_id == p.order_id\n    emit ask"
        )
        assert built == parse(text)["r"]
        assert built.unless == Unless("survey", col("order_id").__eq__(col("p.order_id")).node)

    @pytest.mark.parametrize(
        "build",
        [
            lambda: trigger("r").when_no("purchase", for_="0 days"),
            lambda: trigger("r").when_inactive("200 years"),
            lambda: trigger("r").when_inactive("1000000000000 days"),
            lambda: trigger("two words").when("purchase").emit("a"),
            lambda: trigger("r").when("purchase").emit("a", k=object()),
            lambda: trigger("r").when("purchase").emit("a").quiet_hours("8:00", "8:00"),
            lambda: trigger("r").when("purchase").emit("a").quiet_hours("²:00", "8:00"),
            lambda: trigger("r").when("purchase").unless("survey").emit("a"),
            lambda: trigger("r").when("purchase", where=col("a.b.c") > 1),
        ],
    )
    def test_bad_input_is_a_cxmodel_error(self, build: Any) -> None:
        """Every invalid builder call raises a CXModelError (TriggerSyntaxError)."""
        with pytest.raises(TriggerSyntaxError):
            build()
