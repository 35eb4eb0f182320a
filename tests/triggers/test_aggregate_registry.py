"""The aggregate registry: every function declared once, read by the parser, the type
checker, batch evaluation and the streaming engine alike (``median`` is one entry)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
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
