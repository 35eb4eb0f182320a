"""The aggregate registry: every function declared once, read by the parser, the type
checker, batch evaluation and the streaming engine alike (``median`` is one entry)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import AGGREGATE_FUNCTIONS, AGGREGATES
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, check, evaluate, parse
from tests.triggers.helpers import T0, key, records

MEDIANS = [
    "median(purchase.value) >= 100",
    "median(purchase.value within 10 days) >= 100",
    "median(purchase.value before x) >= 100",
    "median(purchase.value where product == x.product) >= 100",
    "median(purchase.value where value > 50 within 1 months) >= 100",
]


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

    def test_median_needs_a_numeric_property(self) -> None:
        """The checker reads the registry: median of text is a type error, median of nothing
        is a syntax error."""
        log = InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
              "value": 5.0, "product": "p1"}]
        )  # fmt: skip
        text = "trigger t:\n    when purchase as x where median(purchase.product) > 1\n    emit a"
        with pytest.raises(TriggerTypeError, match="median\\(\\) needs a number"):
            evaluate(parse(text), log, as_of="2024-02-01T00:00:00Z")
        with pytest.raises(TriggerTypeError):
            check(parse(text), log)
        with pytest.raises(TriggerSyntaxError):
            parse("trigger t:\n    when purchase as x where median(purchase) > 1\n    emit a")


@pytest.mark.parametrize("condition", MEDIANS)
def test_median_streams_as_batch(condition: str) -> None:
    """A rule with a median, streamed one at a time and in micro-batches, equals batch."""
    text = f"trigger m:\n    when purchase as x\n    if {condition}\n    emit a(v = median(purchase.value))"
    rules = parse(text)
    for seed in range(12):
        recs = records(seed, 80, n_customers=3, days=40)
        as_of = T0 + timedelta(days=45)
        batch = evaluate(rules, InteractionLog.from_records(recs), as_of=as_of)
        engine = TriggerEngine(rules)
        got = list(engine.process_many(recs[:40]))
        for rec in recs[40:]:
            got.extend(engine.process(rec))
        got.extend(engine.advance_to(as_of))
        assert key(got) == key(batch), seed
