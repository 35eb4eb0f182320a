"""Tests of the aggregate registry: each function's reduction and its running value."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.expr import AGGREGATE_FUNCTIONS, AGGREGATES, exact_sum
from cxmodel.expr._aggregates import RunningValue


class TestRegistry:
    def test_names_come_from_the_registry(self) -> None:
        """The parser's aggregate names are the registry's."""
        assert tuple(sorted(AGGREGATE_FUNCTIONS)) == AGGREGATES

    @pytest.mark.parametrize(
        ("name", "values", "expected"),
        [
            ("median", [5.0, 1.0, 3.0], 3.0),
            ("median", [4.0, 1.0, 3.0, 2.0], 2.5),
            ("count", [1.0, 1.0], 2.0),
            ("distinct", ["a", "b", "a"], 2.0),
            ("min", ["b", "a"], "a"),
            ("avg", [1.0, 2.0], 1.5),
        ],
    )
    def test_reductions(self, name: str, values: list[Any], expected: Any) -> None:
        """Each function's reference reduction."""
        assert expected == AGGREGATE_FUNCTIONS[name].of(values)

    def test_running_values_equal_the_reduction(self) -> None:
        """Adding values one by one gives the reduction of all of them, for every function."""
        from cxmodel.expr._aggregates import RunningValue

        rng = random.Random(3)
        for function in AGGREGATE_FUNCTIONS.values():
            values = [float(rng.randrange(20)) for _ in range(rng.randrange(0, 12))]
            running = RunningValue(function)
            for value in values:
                running.add(function, value)
            assert function.of(values) == running.value(function), function.name
            again = RunningValue.from_list(function, running.to_list())
            assert running.value(function) == again.value(function)


_HUGE = [1.7976931348623157e308, 1.7e308, 1e308, 3e307, 1.0, 0.1, 5e-324, 1e16]


class TestSumsNearTheFloatRange:
    """Sums of values near 1.8e308: the exact sum correctly rounded, infinite (with its
    sign) beyond the float range, in batch (``exact_sum``) and in the running state
    alike, in any order (before, both raised: ``OverflowError`` from ``math.fsum``, and
    ``ValueError: -inf + inf`` from the running partials)."""

    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            ([1.7e308, 1.7e308], math.inf),
            ([-1.7e308, -1.7e308], -math.inf),
            ([1.7e308, 1.7e308, -1.7e308], 1.7e308),
            ([1.7976931348623157e308, 1e291], 1.7976931348623157e308),
            ([1.7976931348623157e308, 1e300], math.inf),
        ],
    )
    def test_hand_computed(self, values: list[float], expected: float) -> None:
        """Each case against its exact value, by every path and the mean too."""
        for function, want in (("sum", expected), ("avg", expected / len(values))):
            running = RunningValue(AGGREGATE_FUNCTIONS[function])
            for value in values:
                running.add(AGGREGATE_FUNCTIONS[function], value)
            restored = RunningValue.from_list(
                AGGREGATE_FUNCTIONS[function], json.loads(json.dumps(running.to_list()))
            )
            got = {
                AGGREGATE_FUNCTIONS[function].of(values),
                running.value(AGGREGATE_FUNCTIONS[function]),
                restored.value(AGGREGATE_FUNCTIONS[function]),
            }
            assert got == {want}, function
        assert exact_sum(iter(values)) == expected

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        st.lists(
            st.tuples(st.sampled_from(_HUGE), st.sampled_from([1.0, -1.0, 0.5])),
            min_size=1,
            max_size=10,
        )
    )
    def test_running_sum_is_the_exact_sum(self, drawn: list[tuple[float, float]]) -> None:
        """For any values (big, small, of both signs): the running sum, and batch's, are
        the exact rational sum rounded (infinite beyond the range), in any order."""
        values = [a * b for a, b in drawn]
        exact = sum(Fraction(v) for v in values)
        try:
            want = exact.numerator / exact.denominator
        except OverflowError:
            want = math.inf if exact > 0 else -math.inf
        sums = AGGREGATE_FUNCTIONS["sum"]
        for order in (values, values[::-1]):
            running = RunningValue(sums)
            for value in order:
                running.add(sums, value)
            assert running.value(sums) == want == sums.of(order)
