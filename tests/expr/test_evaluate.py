"""Tests of vectorised expression evaluation: missing values, functions, limits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import EvaluationLimitError, TriggerTypeError
from cxmodel.expr import evaluate, parse_expr


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
    def test_arithmetic_on_text_is_a_type_error(self) -> None:
        """'+' over a text column raises TriggerTypeError, not a raw ValueError."""
        with pytest.raises(TriggerTypeError):
            evaluate(parse_expr("product + 1"), {"product": np.array(["p1"], dtype=object)})
