"""Tests of the shared expression core: parsing, printing, JSON, checking, evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import EvaluationLimitError, TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import (
    Binary,
    Duration,
    InList,
    Literal,
    Name,
    Unary,
    check_expr,
    count_nodes,
    evaluate,
    expr_from_dict,
    expr_to_dict,
    parse_expr,
    walk,
)

names = st.sampled_from(["value", "score", "channel"]).map(Name)
leaves = st.one_of(
    names,
    st.integers(-50, 50).map(Literal),
    st.sampled_from(["web", "app", 'say "hi"']).map(Literal),
    st.booleans().map(Literal),
    st.builds(Duration, st.integers(1, 99), st.sampled_from(["days", "hours"])),
)
ops = st.sampled_from(["and", "or", "==", "!=", "<", "<=", "+", "-", "*", "/", "??"])
trees = st.recursive(leaves, lambda inner: st.builds(Binary, ops, inner, inner), max_leaves=12)


class TestParsePrint:
    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(trees)
    def test_print_reparses_to_equal_tree(self, tree: object) -> None:
        """str(node) parses back to an equal node, for any operator nesting."""
        assert parse_expr(str(tree)) == tree

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(trees)
    def test_json_round_trip(self, tree: object) -> None:
        """expr_to_dict / expr_from_dict through JSON is lossless."""
        data = json.loads(json.dumps(expr_to_dict(tree)))  # type: ignore[arg-type]
        assert expr_from_dict(data) == tree

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


class TestEvaluate:
    def test_missing_comparisons_are_false(self) -> None:
        """Comparisons with NaN or None are false, including '!='."""
        cols = {
            "v": np.array([1.0, np.nan]),
            "c": np.array(["a", None], dtype=object),
        }
        assert evaluate(parse_expr("v != 5"), cols).tolist() == [True, False]
        assert evaluate(parse_expr('c != "b"'), cols).tolist() == [True, False]
        assert evaluate(parse_expr('c in ["a"]'), cols).tolist() == [True, False]

    def test_arithmetic_and_default(self) -> None:
        """Arithmetic propagates missing; ?? fills it."""
        cols = {"v": np.array([2.0, np.nan])}
        assert evaluate(parse_expr("(v * 2 ?? -1) + 1"), cols).tolist() == [5.0, 0.0]

    def test_functions(self) -> None:
        """Whitelisted functions work elementwise, keeping missing."""
        cols = {"c": np.array(["Web", None], dtype=object)}
        assert evaluate(parse_expr('lower(c) == "web"'), cols).tolist() == [True, False]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(st.lists(st.floats(-100, 100) | st.just(float("nan")), min_size=1, max_size=20))
    def test_matches_rowwise_reference(self, values: list[float]) -> None:
        """The vectorised result equals a plain per-row Python evaluation."""
        expr = parse_expr("v > 10 or v * 2 < -5")
        got = evaluate(expr, {"v": np.array(values)}).tolist()
        want = [(v > 10 or v * 2 < -5) if v == v else False for v in values]
        assert got == want

    def test_cost_bound(self) -> None:
        """Too many rows x nodes raises EvaluationLimitError."""
        with pytest.raises(EvaluationLimitError):
            evaluate(parse_expr("v > 1"), {"v": np.zeros(10)}, max_cells=5)


class TestHostileExpressions:
    def test_walk_and_count_without_recursion(self) -> None:
        """A 5,000-term chain walks, counts, compares, hashes and prints."""
        expr = parse_expr(" or ".join(f'product == "p{i}"' for i in range(5000)))
        assert count_nodes(expr) == len(list(walk(expr))) == 3 * 5000 + 4999
        again = parse_expr(str(expr))
        assert again == expr and hash(again) == hash(expr)
        assert repr(expr).startswith("Binary(op='or', left=Binary(")

    def test_json_writes_long_chains_flat(self) -> None:
        """Long chains are written as one 'chain' object and read back."""
        expr = parse_expr(" + ".join(["value"] * 600) + " > 1")
        data = expr_to_dict(expr)
        assert data["type"] == "chain" and len(data["rest"]) == 600  # the whole left spine
        assert expr_from_dict(json.loads(json.dumps(data, indent=1))) == expr
        small = expr_to_dict(parse_expr("a + b + c"))
        assert small["type"] == "binary"  # short chains keep the nested form

    def test_print_parses_back_for_python_built_nodes(self) -> None:
        """Nodes built in Python print as text that parses to the same nodes."""
        built = [
            Unary("-", Literal(5)),
            Literal(1e-7),
            InList(Name("x"), (Binary("or", Name("a"), Name("b")),)),
            Binary("-", Name("a"), Literal(-5)),
        ]
        for node in built:
            assert parse_expr(str(node)) == node, str(node)

    def test_arithmetic_on_text_is_a_type_error(self) -> None:
        """'+' over a text column raises TriggerTypeError, not a raw ValueError."""
        with pytest.raises(TriggerTypeError):
            evaluate(parse_expr("product + 1"), {"product": np.array(["p1"], dtype=object)})

    def test_unknown_json_operator_names_its_path(self) -> None:
        """'**' in JSON is refused with the path of the op, never evaluated as division."""
        data = {"type": "binary", "op": "**", "left": {"type": "literal", "value": 2},
                "right": {"type": "literal", "value": 3}}  # fmt: skip
        with pytest.raises(TriggerSyntaxError, match=r"^expr\.op: unknown operator"):
            expr_from_dict(data)
