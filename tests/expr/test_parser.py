"""Tests of the expression parser: precedence, durations, positioned syntax errors."""

from __future__ import annotations

import pytest

from cxmodel.errors import TriggerSyntaxError
from cxmodel.expr import Binary, Duration, parse_expr


class TestParsePrint:
    def test_precedence(self) -> None:
        """'and' binds tighter than 'or', arithmetic tighter than comparison."""
        tree = parse_expr("a or b and c > 1 + 2 * 3")
        assert isinstance(tree, Binary) and tree.op == "or"
        assert str(tree) == "a or b and c > 1 + 2 * 3"

    def test_durations_both_spellings(self) -> None:
        """'90d' and '90 days' are the same duration."""
        assert parse_expr("90d") == parse_expr("90 days") == Duration(90, "days")

    @pytest.mark.parametrize(
        ("text", "code", "column"),
        [
            ("value >", "E105", 8),
            ("value > $3", "E101", 9),
            ('channel == "web', "E103", 12),
            ("foo(value)", "E107", 1),
            ("abs(1, 2)", "E108", 1),
            ("(value > 1", "E106", 11),
            ("a < b < c", "E105", 7),
            ("count(purchase.value)", "E108", 7),
        ],
    )
    def test_errors_have_code_and_position(self, text: str, code: str, column: int) -> None:
        """Malformed expressions raise with the expected code and column."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse_expr(text)
        first = info.value.errors[0]
        assert (first.code, first.line, first.column) == (code, 1, column)  # type: ignore[attr-defined]
        assert "^" in str(info.value)

    def test_nesting_bound(self) -> None:
        """Deep nesting is refused with E104 instead of a RecursionError."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse_expr("(" * 100 + "1" + ")" * 100)
        assert info.value.errors[0].code == "E104"  # type: ignore[attr-defined]
