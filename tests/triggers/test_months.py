"""Calendar-month durations in policies: cooldown 1 month looks back one calendar month."""

from __future__ import annotations

from cxmodel.domain import Interaction
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, evaluate, parse

RULES = parse(
    """trigger big_purchase:
    when purchase as p where p.value > 100
    emit thanks(value = p.value)
    cooldown 1 months
"""
)
TIMES = ["2024-01-31T00:00:00Z", "2024-02-20T00:00:00Z", "2024-02-29T00:00:00Z",
         "2024-03-31T00:00:00Z"]  # fmt: skip


def _log() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a"] * 4, timestamp=TIMES, kind=["purchase"] * 4, value=[200.0] * 4
    )


def test_month_cooldown_in_batch() -> None:
    """Jan 31 fires; Feb 20 and Feb 29 are within a calendar month of it; Mar 31 fires again."""
    firings = evaluate(RULES, _log(), as_of="2024-12-31T00:00:00Z")
    assert [f.time.isoformat()[:10] for f in firings] == ["2024-01-31", "2024-03-31"]
    suppressed = list(firings.suppressed)
    assert [f.time.isoformat()[:10] for f in suppressed] == ["2024-02-20", "2024-02-29"]
    assert all(str(f.reason).startswith("cooldown") for f in suppressed)


def test_month_cooldown_streaming_equals_batch() -> None:
    """The streaming engine emits the same firings as batch."""
    engine = TriggerEngine(RULES)
    emitted = []
    for t in TIMES:
        emitted += engine.process(Interaction("a", t, "purchase", value=200.0))
    emitted += engine.advance_to("2024-12-31T00:00:00Z")
    batch = evaluate(RULES, _log(), as_of="2024-12-31T00:00:00Z")
    assert [f.firing_id for f in emitted] == [f.firing_id for f in batch]
