"""Tests of the rule parser, printer, JSON form and syntax diagnostics."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import Binary, Literal, Name
from cxmodel.triggers import (
    EXAMPLE_RULES,
    Pattern,
    RuleSet,
    parse,
)
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from tests.triggers.helpers import SCHEMA, one_rule

BAD = [
    # (text, code, line, column)
    (one_rule("    when inactive for days\n    emit a"), "E102", 2, 23),
    (one_rule("    when inactive for 90 parsecs\n    emit a"), "E102", 2, 26),
    (one_rule("    when purchase as p where p.value > \n    emit a"), "E105", 3, 5),
    (one_rule("    when purchase as p where p.value > $5\n    emit a"), "E101", 2, 40),
    (one_rule('    when survey as r where r.metric == "nps\n    emit a'), "E103", 2, 40),
    ("rule t:\n    when purchase\n    emit a", "E201", 1, 1),
    ("trigger t\n    when purchase\n    emit a", "E106", 1, 10),
    ("trigger :\n    when purchase\n    emit a", "E107", 1, 9),
    (one_rule("    when purchase"), "E204", 1, 1),
    (one_rule("    emit a"), "E203", 1, 1),
    (one_rule("    when purchase\n    emit a\n    emit b"), "E206", 4, 5),
    (one_rule("    when purchase\n    frobnicate\n    emit a"), "E205", 3, 5),
    (one_rule("    when purchase\n    emit a\n    cooldown 30"), "E102", 4, 14),
    (one_rule("    when purchase\n    emit a\n    once customer"), "E106", 4, 10),
    (one_rule("    when purchase\n    emit a\n    requires marketing"), "E106", 4, 14),
    (one_rule("    when purchase\n    emit a\n    quiet hours 25:00-08:00"), "E208", 4, 17),
    (one_rule("    when purchase\n    emit a\n    quiet hours 22-08"), "E208", 4, 17),
    (one_rule("    when purchase then after 7 days\n    emit a"), "E211", 2, 19),
    (one_rule("    when purchase as p\n    unless survey\n    emit a"), "E210", 1, 1),
    (one_rule("    when purchase as p\n    emit a(x = 1, x = 2)"), "E212", 3, 19),
    (one_rule("    when purchase as p\n    emit a(x 1)"), "E106", 3, 14),
    (one_rule("    when purchase as p where foo(p.value) > 1\n    emit a"), "E107", 2, 30),
    (one_rule("    when purchase as p where p.value > 1 < 2\n    emit a"), "E105", 2, 42),
    (one_rule("    when purchase as p where count(purchase.value) > 1\n    emit a"), "E108", 2, 36),
    (
        "trigger t:\n    when purchase\n    emit a\ntrigger t:\n    when purchase\n    emit b",
        "E209",
        4,
        1,
    ),
    (one_rule("    when purchase as p where x.value > 1\n    emit a"), "E304", 2, 30),
    (
        one_rule("    when purchase as p where count(purchase before q) > 1\n    emit a"),
        "E304",
        2,
        30,
    ),
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
        a = parse(one_rule("    when inactive for 90d\n    emit x"))
        b = parse(one_rule("    when inactive for 90 days\n    emit x"))
        assert a == b


class TestDiagnostics:
    @pytest.mark.parametrize(("text", "code", "line", "column"), BAD)
    def test_syntax_and_scope_errors(self, text: str, code: str, line: int, column: int) -> None:
        """Each malformed rule fails with the expected code at the expected place."""
        with pytest.raises((TriggerSyntaxError, TriggerTypeError)) as info:
            parse(text)
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


# -- hostile input ------------------------------------------------------------------------------
def _first(exc: pytest.ExceptionInfo[Any]) -> Any:
    return exc.value.errors[0]


class TestHostileText:
    @pytest.mark.parametrize("text", ["value > ²", "value > ٣", "value > １", "x²y > 1"])
    def test_unicode_digits_are_syntax_errors(self, text: str) -> None:
        """Unicode digits never reach int(): a positioned E101."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse(one_rule(f"    when purchase where {text}\n    emit a"))
        assert _first(info).code == "E101" and _first(info).line == 2

    def test_huge_integer_literal(self) -> None:
        """An integer over 4,300 digits is E109, not a ValueError from int()."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse(one_rule(f"    when purchase where value > {'9' * 5000}\n    emit a"))
        assert _first(info).code == "E109"

    @pytest.mark.parametrize(
        "duration", ["1000000000000 days", "36526 days", "1201 months", "0 days"]
    )
    def test_durations_bounded_and_positive(self, duration: str) -> None:
        """Durations are positive and at most 100 years, checked at parse time."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse(one_rule(f"    when inactive for {duration}\n    emit a"))
        assert _first(info).code == "E102"
        assert "100 years" in str(info.value) or "positive" in str(info.value)

    @pytest.mark.parametrize("n", [329, 600, 5000])
    def test_long_flat_chains(self, n: int) -> None:
        """Long chains parse, check, print and round-trip without RecursionError."""
        products = " or ".join(f'product == "p{i}"' for i in range(n))
        values = " + ".join(["value"] * n)
        rules = parse(
            one_rule(f"    when purchase where {products}\n    if {values} > 1\n    emit a"),
            schema=SCHEMA,
        )
        assert parse(str(rules)) == rules
        assert RuleSet.from_json(rules.to_json()) == rules

    def test_deep_nesting_is_bounded_for_every_node(self) -> None:
        """Right-nested chains deeper than the limit are E104, not a RecursionError."""
        text = "a + (" * 39 + "a" + ")" * 39
        parse(one_rule(f"    when purchase where {text} > 1\n    emit a"))
        built = Name("a")
        for _ in range(200):
            built = Binary("+", Name("a"), built)  # type: ignore[assignment]
        with pytest.raises(TriggerSyntaxError, match="nested"):
            Pattern("event", "purchase", where=Binary(">", built, Literal(1)))

    def test_missing_colon_is_reported_after_the_name(self) -> None:
        """The caret points where ':' belongs, on the trigger line."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse("trigger a\n    when purchase\n    emit x")
        assert (_first(info).line, _first(info).column) == (1, 10)
        assert "trigger a\n             ^" in str(info.value)

    def test_missing_action_at_end_of_text_has_a_caret(self) -> None:
        """A missing action name after 'emit' at the very end still shows a caret."""
        text = "trigger a:\n    when purchase\n    emit\n"
        with pytest.raises(TriggerSyntaxError) as info:
            parse(text)
        assert (_first(info).line, _first(info).column) == (3, 9)
        assert "emit\n        ^" in str(info.value)


EXAMPLE_JSON = json.loads(parse(EXAMPLE_RULES).to_json())


def _mutated(path: list[Any], value: Any, *, drop: bool = False) -> str:
    data = json.loads(json.dumps(EXAMPLE_JSON))
    node = data
    for part in path[:-1]:
        node = node[part]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(data)


class TestHostileJson:
    @pytest.mark.parametrize(
        ("path", "value", "where"),
        [
            (["rules", 1, "when", "where", "left", "op"], "**", "rules[1].when.where.left.op"),
            (["rules", 1, "if"], {"type": "call", "func": "eval", "args": []}, "rules[1].if.func"),
            (
                ["rules", 1, "if"],
                {"type": "call", "func": "__import__", "args": []},
                "rules[1].if.func",
            ),
            (["rules", 0, "when", "mode"], "evnt", "rules[0].when.mode"),
            (["rules", 0, "when", "duration", "amount"], "90", "rules[0].when.duration.amount"),
            (["rules", 0, "when", "duration", "amount"], 10**13, "rules[0].when.duration"),
            (["rules", 2, "emit", "payload"], [["k"]], "rules[2].emit.payload[0]"),
            (["rules", 0, "once"], "yes", "rules[0].once"),
            (["rules", 0, "quiet"], {"start": 0, "end": 0}, "rules[0].quiet"),
            (["rules", 0, "name"], "two words", "rules[0].name"),
            (["rules", 0, "unknown"], 1, "rules[0].unknown"),
            (["rules", 0], [], "rules[0]"),
            (["rules"], {}, "rules"),
        ],
    )
    def test_wrong_shapes_name_the_json_path(self, path: list[Any], value: Any, where: str) -> None:
        """Wrong shapes, unknown operators and functions: TriggerSyntaxError with the path."""
        with pytest.raises(TriggerSyntaxError, match="^" + re.escape(where) + ":"):
            RuleSet.from_json(_mutated(path, value))

    def test_missing_key(self) -> None:
        """A dropped required key names the object that lacks it."""
        with pytest.raises(TriggerSyntaxError, match=r"rules\[0\].when: missing key 'mode'"):
            RuleSet.from_json(_mutated(["rules", 0, "when", "mode"], None, drop=True))

    def test_json_runs_the_checks_parse_runs(self) -> None:
        """An unbound qualifier is refused from JSON exactly as from text."""
        bad = {"type": "name", "name": "value", "qualifier": "q"}
        with pytest.raises(TriggerTypeError, match="rule 'vip_opportunity'.*'q' is not bound"):
            RuleSet.from_json(_mutated(["rules", 2, "if"], bad))

    def test_not_json_and_too_deep(self) -> None:
        """Broken or absurdly nested JSON is a TriggerSyntaxError."""
        with pytest.raises(TriggerSyntaxError, match="not valid JSON"):
            RuleSet.from_json("{")
        deep = '{"type": "unary", "op": "not", "operand": ' * 5000 + "true" + "}" * 5000
        with pytest.raises(TriggerSyntaxError):
            RuleSet.from_json(_mutated(["rules", 1, "if"], "@").replace('"@"', deep))
        with pytest.raises(TriggerSyntaxError, match="nested more than"):
            deep = '{"type": "unary", "op": "not", "operand": ' * 300
            deep += '{"type": "literal", "value": true}' + "}" * 300
            RuleSet.from_json(_mutated(["rules", 1, "if"], "@").replace('"@"', deep))
