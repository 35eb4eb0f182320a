"""Tests of the expression tree: printing, JSON, walking, and the nodes' own validation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import TriggerSyntaxError
from cxmodel.expr import (
    Binary,
    Duration,
    InList,
    Literal,
    Name,
    Unary,
    count_nodes,
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

    def test_unknown_json_operator_names_its_path(self) -> None:
        """'**' in JSON is refused with the path of the op, never evaluated as division."""
        data = {"type": "binary", "op": "**", "left": {"type": "literal", "value": 2},
                "right": {"type": "literal", "value": 3}}  # fmt: skip
        with pytest.raises(TriggerSyntaxError, match=r"^expr\.op: unknown operator"):
            expr_from_dict(data)
