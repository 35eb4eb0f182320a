"""Tests of rule type checking against a schema and the kinds of a log: codes and places of
type errors, did-you-mean kinds, sources not given left unchecked."""

from __future__ import annotations

import pytest

from cxmodel.errors import TriggerTypeError
from cxmodel.triggers import parse
from cxmodel.triggers._check import STANDARD_KINDS, check_rules
from tests.triggers.helpers import SCHEMA, one_rule

BAD_TYPED = [
    (one_rule('    when survey as r where r.score <= "six"\n    emit a'), "E303", 2, 36),
    (one_rule("    when purchse as p\n    emit a"), "E301", 2, 10),
    (one_rule("    when purchase as p where p.valeu > 1\n    emit a"), "E302", 2, 30),
    (one_rule("    when purchase as p where p.value > 3 days\n    emit a"), "E305", 2, 38),
    (one_rule("    when purchase as p where p.value + 1\n    emit a"), "E306", 2, 38),
    (
        one_rule("    when purchase as p\n    if sum(purchase.product) > 1\n    emit a"),
        "E303",
        3,
        8,
    ),
    (one_rule("    when purchase as p then no purchse for 7 days\n    emit a"), "E301", 2, 32),
]


class TestDiagnostics:
    @pytest.mark.parametrize(("text", "code", "line", "column"), BAD_TYPED)
    def test_type_errors(self, text: str, code: str, line: int, column: int) -> None:
        """Ill-typed rules fail against the schema with code, line, column."""
        with pytest.raises(TriggerTypeError) as info:
            parse(text, schema=SCHEMA, kinds=[])
        first = info.value.errors[0]
        assert (first.code, first.line, first.column) == (code, line, column)  # type: ignore[attr-defined]

    def test_did_you_mean_kind(self) -> None:
        """Unknown kinds suggest the closest known kind."""
        with pytest.raises(TriggerTypeError) as info:
            parse(one_rule("    when prodcut_view\n    emit a"), schema=SCHEMA, kinds=[])
        assert "did you mean 'product_view'?" in str(info.value)


class TestCheckRules:
    def test_a_clean_rule_has_no_diagnostics(self) -> None:
        """A rule whose kinds, properties and types agree with the schema checks clean."""
        rules = parse(one_rule("    when purchase as p where p.value > 10\n    emit a"))
        assert check_rules(rules, schema=SCHEMA, kinds=["purchase"]) == ()

    def test_sources_not_given_are_not_checked(self) -> None:
        """Without kinds an unknown kind passes; without a schema an unknown property passes."""
        rules = parse(one_rule("    when purchse as p where p.valeu > 1\n    emit a"))
        assert check_rules(rules) == ()
        assert [d.code for d in check_rules(rules, kinds=["purchase"])] == ["E301"]
        assert [d.code for d in check_rules(rules, schema=SCHEMA)] == ["E302"]

    def test_standard_kinds_are_always_known(self) -> None:
        """A standard kind checks against a log that does not list it."""
        assert "ticket_opened" in STANDARD_KINDS
        rules = parse(one_rule("    when ticket_opened\n    emit a"))
        assert check_rules(rules, kinds=["purchase"]) == ()

    def test_unknown_property_names_its_subject(self) -> None:
        """E302 carries the property, without its alias, as its subject, and a did-you-mean."""
        rules = parse(one_rule("    when purchase as p where p.valeu > 1\n    emit a"))
        (d,) = check_rules(rules, schema=SCHEMA, kinds=["purchase"])
        assert (d.code, d.subject, d.hint) == ("E302", "valeu", "did you mean p.value?")
