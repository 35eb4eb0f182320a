"""The frozen rule AST: modes are enums that print and serialise as strings, and every clause
and rule checks its invariants when it is built."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cxmodel.errors import CXModelError, TriggerSyntaxError
from cxmodel.expr import Binary, Duration, Literal, Name
from cxmodel.triggers import (
    EXAMPLE_RULES,
    Emit,
    Pattern,
    QuietHours,
    Rule,
    Then,
    ThenMode,
    Unless,
    WhenMode,
    parse,
)

DAYS = Duration(7, "days")


class TestTypedAst:
    def test_modes_are_enums_that_print_and_serialise_as_strings(self) -> None:
        """Modes are str enums; text and JSON carry the plain values."""
        rules = parse(EXAMPLE_RULES)
        assert rules["churn_risk"].when.mode is WhenMode.INACTIVE
        assert rules["satisfaction_check"].then.mode is ThenMode.AFTER  # type: ignore[union-attr]
        assert WhenMode.EVENT == "event" and str(ThenMode.ABSENT) == "absent"
        data = json.loads(rules.to_json())
        assert {r["when"]["mode"] for r in data["rules"]} == {"event", "inactive"}
        assert Pattern("event", "purchase") == Pattern(WhenMode.EVENT, "purchase")

    def test_unknown_mode_names_value_and_valid_ones(self) -> None:
        """Pattern('evnt', ...) is refused with did-you-mean instead of silently accepted."""
        with pytest.raises(TriggerSyntaxError, match="'evnt'.*'event', 'inactive', 'absent'.*"
                           "did you mean 'event'"):  # fmt: skip
            Pattern("evnt", "purchase")
        with pytest.raises(CXModelError, match="then mode 'later'"):
            Then("later", duration=DAYS)

    @pytest.mark.parametrize(
        ("build", "needle"),
        [
            (lambda: Pattern("absent", "purchase"), "needs a duration"),
            (lambda: Pattern("inactive"), "needs a duration"),
            (lambda: Pattern("event"), "needs an interaction kind"),
            (lambda: Pattern("absent", duration=DAYS), "needs an interaction kind"),
            (lambda: Pattern("event", "purchase", duration=DAYS), "takes no duration"),
            (lambda: Pattern("inactive", duration=Duration(0, "days")), "must be positive"),
            (lambda: Then("after"), "needs a duration"),
            (lambda: Then("absent", "survey"), "needs a duration"),
            (lambda: Then("absent", duration=DAYS), "needs an interaction kind"),
            (lambda: Pattern("event", "not a name"), "is not a name"),
            (lambda: Pattern("event", "when"), "is a keyword"),
            (lambda: QuietHours(0, 1440), "0..1439"),
            (lambda: QuietHours(60, 60), "same time"),
            (lambda: Duration(36_526, "days"), "100 years"),
            (lambda: Binary("**", Name("a"), Literal(2)), "unknown operator '\\*\\*'"),
            (lambda: Literal(float("inf")), "out of range"),
        ],
    )
    def test_invariants_raise_cxmodel_errors(self, build: Any, needle: str) -> None:
        """Each broken invariant is a TriggerSyntaxError with a clear message."""
        with pytest.raises(TriggerSyntaxError, match=needle):
            build()

    def test_rule_level_invariants(self) -> None:
        """unless only with then after; once_every only with once; then needs 'as'."""
        when = Pattern("event", "purchase", "p")
        with pytest.raises(TriggerSyntaxError, match="'unless' needs a delay"):
            Rule("r", when, Emit("a"), unless=Unless("survey"))
        with pytest.raises(TriggerSyntaxError, match="once per customer every"):
            Rule("r", when, Emit("a"), once_every=DAYS)
        with pytest.raises(TriggerSyntaxError, match="needs the first event bound"):
            Rule("r", Pattern("event", "purchase"), Emit("a"), then=Then("after", duration=DAYS))
        ok = Rule("r", when, Emit("a"), then=Then("after", duration=DAYS), unless=Unless("x"))
        assert parse(str(ok))["r"] == ok

    def test_unless_json_format_unchanged(self) -> None:
        """The JSON form still writes "unless": {"kind": ..., "where": ...}."""
        rule = parse(EXAMPLE_RULES)["satisfaction_check"]
        assert rule.unless is not None and rule.unless.kind == "survey"
        assert set(rule.to_dict()["unless"]) == {"kind", "where"}
