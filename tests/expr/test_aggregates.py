"""Tests of the aggregate registry: each function's reduction and its running value."""

from __future__ import annotations

import random
from typing import Any

import pytest

from cxmodel.expr import AGGREGATE_FUNCTIONS, AGGREGATES


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
