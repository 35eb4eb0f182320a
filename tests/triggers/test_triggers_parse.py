"""Tests of the rule parser, printer, JSON form and diagnostics."""

from __future__ import annotations

import pytest
from tests_triggers_acceptance import ACCEPTANCE

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.triggers import RuleSet, parse

SCHEMA = {
    "value": "float",
    "score": "float",
    "metric": "string",
    "product": "string",
    "order_id": "string",
    "topic": "string",
    "channel": "string",
    "purpose": "string",
}


def _rule(body: str) -> str:
    return "trigger t:\n" + body


BAD = [
    # (text, code, line, column)
    (_rule("    when inactive for days\n    emit a"), "E102", 2, 23),
    (_rule("    when inactive for 90 parsecs\n    emit a"), "E102", 2, 26),
    (_rule("    when purchase as p where p.value > \n    emit a"), "E105", 3, 5),
    (_rule("    when purchase as p where p.value > $5\n    emit a"), "E101", 2, 40),
    (_rule('    when survey as r where r.metric == "nps\n    emit a'), "E103", 2, 40),
    ("rule t:\n    when purchase\n    emit a", "E201", 1, 1),
    ("trigger t\n    when purchase\n    emit a", "E106", 1, 10),
    ("trigger :\n    when purchase\n    emit a", "E107", 1, 9),
    (_rule("    when purchase"), "E204", 1, 1),
    (_rule("    emit a"), "E203", 1, 1),
    (_rule("    when purchase\n    emit a\n    emit b"), "E206", 4, 5),
    (_rule("    when purchase\n    frobnicate\n    emit a"), "E205", 3, 5),
    (_rule("    when purchase\n    emit a\n    cooldown 30"), "E102", 4, 14),
    (_rule("    when purchase\n    emit a\n    once customer"), "E106", 4, 10),
    (_rule("    when purchase\n    emit a\n    requires marketing"), "E106", 4, 14),
    (_rule("    when purchase\n    emit a\n    quiet hours 25:00-08:00"), "E208", 4, 17),
    (_rule("    when purchase\n    emit a\n    quiet hours 22-08"), "E208", 4, 17),
    (_rule("    when purchase then after 7 days\n    emit a"), "E211", 2, 19),
    (_rule("    when purchase as p\n    unless survey\n    emit a"), "E210", 1, 1),
    (_rule("    when purchase as p\n    emit a(x = 1, x = 2)"), "E212", 3, 19),
    (_rule("    when purchase as p\n    emit a(x 1)"), "E106", 3, 14),
    (_rule("    when purchase as p where foo(p.value) > 1\n    emit a"), "E107", 2, 30),
    (_rule("    when purchase as p where p.value > 1 < 2\n    emit a"), "E105", 2, 42),
    (_rule("    when purchase as p where count(purchase.value) > 1\n    emit a"), "E108", 2, 36),
    (
        "trigger t:\n    when purchase\n    emit a\ntrigger t:\n    when purchase\n    emit b",
        "E209",
        4,
        1,
    ),
    (_rule("    when purchase as p where x.value > 1\n    emit a"), "E304", 2, 30),
    (_rule("    when purchase as p where count(purchase before q) > 1\n    emit a"), "E304", 2, 30),
]

BAD_TYPED = [
    (_rule('    when survey as r where r.score <= "six"\n    emit a'), "E303", 2, 36),
    (_rule("    when purchse as p\n    emit a"), "E301", 2, 10),
    (_rule("    when purchase as p where p.valeu > 1\n    emit a"), "E302", 2, 30),
    (_rule("    when purchase as p where p.value > 3 days\n    emit a"), "E305", 2, 38),
    (_rule("    when purchase as p where p.value + 1\n    emit a"), "E306", 2, 38),
    (_rule("    when purchase as p\n    if sum(purchase.product) > 1\n    emit a"), "E303", 3, 8),
    (_rule("    when purchase as p then no purchse for 7 days\n    emit a"), "E301", 2, 32),
]


class TestAcceptance:
    def test_six_rules_parse_and_round_trip(self) -> None:
        """The six acceptance rules parse as written; text and JSON round trips are lossless."""
        rules = parse(ACCEPTANCE, schema=SCHEMA, kinds=[])
        assert rules.names == (
            "churn_risk",
            "detractor_follow_up",
            "vip_opportunity",
            "browse_abandonment",
            "satisfaction_check",
            "payment_escalation",
        )
        assert parse(str(rules)) == rules
        assert RuleSet.from_json(rules.to_json()) == rules
        for rule in rules:
            assert parse(str(rule)).rules == (rule,)

    def test_short_durations(self) -> None:
        """'90d' parses to the same rule as '90 days'."""
        a = parse(_rule("    when inactive for 90d\n    emit x"))
        b = parse(_rule("    when inactive for 90 days\n    emit x"))
        assert a == b


class TestDiagnostics:
    @pytest.mark.parametrize(("text", "code", "line", "column"), BAD)
    def test_syntax_and_scope_errors(self, text: str, code: str, line: int, column: int) -> None:
        """Each malformed rule fails with the expected code at the expected place."""
        with pytest.raises((TriggerSyntaxError, TriggerTypeError)) as info:
            parse(text)
        first = info.value.errors[0]
        assert (first.code, first.line, first.column) == (code, line, column)  # type: ignore[attr-defined]

    @pytest.mark.parametrize(("text", "code", "line", "column"), BAD_TYPED)
    def test_type_errors(self, text: str, code: str, line: int, column: int) -> None:
        """Ill-typed rules fail against the schema with code, line, column."""
        with pytest.raises(TriggerTypeError) as info:
            parse(text, schema=SCHEMA, kinds=[])
        first = info.value.errors[0]
        assert (first.code, first.line, first.column) == (code, line, column)  # type: ignore[attr-defined]

    def test_all_errors_reported_together(self) -> None:
        """Errors in several rules and clauses come back in one exception, with carets."""
        text = (
            "trigger a:\n    when inactive for days\n    emit x\n"
            "trigger b:\n    when purchase\n    emit y\n    cooldown 3\n"
        )
        with pytest.raises(TriggerSyntaxError) as info:
            parse(text)
        codes = [(e.code, e.line) for e in info.value.errors]  # type: ignore[attr-defined]
        assert codes == [("E102", 2), ("E102", 7)]
        message = str(info.value)
        assert "when inactive for days" in message and "^" in message and "hint:" in message

    def test_did_you_mean_kind(self) -> None:
        """Unknown kinds suggest the closest known kind."""
        with pytest.raises(TriggerTypeError) as info:
            parse(_rule("    when prodcut_view\n    emit a"), schema=SCHEMA, kinds=[])
        assert "did you mean 'product_view'?" in str(info.value)
