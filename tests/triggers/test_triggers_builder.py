"""The Python builder produces the same AST as the text parser."""

from __future__ import annotations

import pytest
from tests_triggers_acceptance import ACCEPTANCE

from cxmodel.triggers import RuleSet, agg, col, count, lit, parse, trigger


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
