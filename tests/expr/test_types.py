"""Tests of the expression type checker: unknown names, mismatches, wanted types."""

from __future__ import annotations

from cxmodel.expr import check_expr, parse_expr


class TestCheck:
    def test_did_you_mean(self) -> None:
        """Unknown names get a close-match hint."""
        _, errors = check_expr(parse_expr("valeu > 1"), {"value": "float"})
        assert errors[0].code == "E302" and errors[0].hint == "did you mean value?"

    def test_mismatch(self) -> None:
        """Comparing a number with a string is E303."""
        _, errors = check_expr(parse_expr('r.score <= "six"'), {"r.score": "float"})
        assert [e.code for e in errors] == ["E303"]

    def test_duration_where_number(self) -> None:
        """A duration compared with a number is E305."""
        _, errors = check_expr(parse_expr("value > 3 days"), {"value": "float"})
        assert errors[0].code == "E305"

    def test_unbound_qualifier(self) -> None:
        """x.name with x not bound is E304."""
        _, errors = check_expr(parse_expr("x.value > 1"), {}, qualifiers=frozenset({"p"}))
        assert errors[0].code == "E304"

    def test_condition_required(self) -> None:
        """want='bool' rejects a number."""
        _, errors = check_expr(parse_expr("value + 1"), {"value": "float"}, want="bool")
        assert errors[0].code == "E306"
