"""The evaluation cost bounds: a rule that would compare too many pairs fails clearly."""

from __future__ import annotations

import pytest

from cxmodel.errors import CXModelError, EvaluationLimitError
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, _context, evaluate, parse

RULE = """trigger answered:
    when purchase as p then survey where order_id == p.order_id
    emit thanks
"""


def _log(n: int) -> InteractionLog:
    """One customer: n purchases, then n surveys (n * n purchase-survey pairs)."""
    kinds = ["purchase"] * n + ["survey"] * n
    return InteractionLog.from_arrays(
        customer_id=["a"] * (2 * n),
        timestamp=[f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z" for i in range(2 * n)],
        kind=kinds,
        order_id=[f"o{i % n}" for i in range(2 * n)],
    )


def test_under_the_bound_it_evaluates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_context, "MAX_PAIRS", 100)
    got = evaluate(parse(RULE), _log(10), as_of="2024-02-01T00:00:00Z")
    assert len(got) == 10  # each purchase answered by the survey naming its order


def test_over_the_bound_names_rule_pairs_and_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_context, "MAX_PAIRS", 99)
    with pytest.raises(EvaluationLimitError) as info:
        evaluate(parse(RULE), _log(10), as_of="2024-02-01T00:00:00Z")
    message = str(info.value)
    assert "'answered'" in message and "survey interactions after each p" in message
    assert "100 pairs" in message
    assert "within D" in message
    assert isinstance(info.value, CXModelError)


def test_streaming_reads_one_customer_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The streaming engine tests each firing against its own customer's kept rows only, so
    the whole-log pair bound does not apply to it; it still equals batch."""
    monkeypatch.setattr(_context, "MAX_PAIRS", 99)
    engine = TriggerEngine(parse(RULE), max_future=None)
    got = engine.process_many(_log(10)).ids()
    got |= {f.firing_id for f in engine.advance_to("2030-01-01T00:00:00Z")}
    monkeypatch.setattr(_context, "MAX_PAIRS", 10**9)
    expected = evaluate(parse(RULE), _log(10), as_of="2030-01-01T00:00:00Z")
    assert {f.firing_id for f in expected} == got


def test_aggregate_over_pairs_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """An aggregate whose 'where' reads the bound interaction counts its pairs as well."""
    rule = parse(
        "trigger again:\n    when survey as s\n"
        "    if count(purchase where order_id == s.order_id before s) >= 1\n    emit x"
    )
    monkeypatch.setattr(_context, "MAX_PAIRS", 100)
    assert len(evaluate(rule, _log(10), as_of="2024-02-01T00:00:00Z")) == 10
    monkeypatch.setattr(_context, "MAX_PAIRS", 99)
    with pytest.raises(EvaluationLimitError, match=r"count\(purchase .*100 pairs.*within D"):
        evaluate(rule, _log(10), as_of="2024-02-01T00:00:00Z")
