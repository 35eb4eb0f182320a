"""A firing's ``because`` shows the values its clauses tested."""

from __future__ import annotations

from typing import Any

from cxmodel.domain import Customer
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, parse
from tests.triggers.helpers import evaluate_complete

AS_OF = "2024-03-01T00:00:00Z"


def _log(rows: list[tuple[str, str, str, dict[str, Any]]]) -> InteractionLog:
    return InteractionLog.from_records(
        [
            {"customer_id": c, "timestamp": f"2024-01-{d}T00:00:00Z", "kind": k, **extra}
            for c, d, k, extra in rows
        ]
    )


def _because(text: str, log: InteractionLog, **kw: Any) -> list[dict[str, Any]]:
    firings = evaluate_complete(parse(text), log, as_of=AS_OF, **kw)
    engine = TriggerEngine(parse(text), customers=kw.get("customers"))
    streamed = list(engine.process_many(log)) + engine.advance_to(AS_OF)
    assert [f.because for f in streamed] == [f.because for f in firings]  # one semantics
    return [f.because for f in firings]


def test_when_fields_and_aggregates_at_the_anchor() -> None:
    log = _log(
        [
            ("a", "01", "purchase", {"value": 50.0}),
            ("a", "02", "purchase", {"value": 80.0}),
            ("a", "03", "purchase", {"value": 120.0}),
        ]
    )
    text = (
        "trigger vip:\n    when purchase as p where count(purchase before p) >= 1 and "
        "p.value > max(purchase.value before p)\n    emit vip"
    )
    got = _because(text, log)
    assert [b["when"]["values"] for b in got] == [
        {"count(purchase before p)": 1.0, "value": 80.0, "max(purchase.value before p)": 50.0},
        {"count(purchase before p)": 2.0, "value": 120.0, "max(purchase.value before p)": 80.0},
    ]
    assert got[0]["when"]["kind"] == "purchase" and "if" not in got[0]


def test_if_aggregates_at_the_firing_time_and_traits() -> None:
    log = _log(
        [
            ("a", "01", "ticket_opened", {"topic": "payment"}),
            ("a", "02", "ticket_opened", {"topic": "delivery"}),
            ("a", "03", "ticket_opened", {"topic": "payment"}),
        ]
    )
    text = (
        'trigger escalate:\n    when ticket_opened as t where t.topic == "payment"\n'
        '    if count(ticket_opened where topic == "payment" within 30 days) > 1 '
        'and customer.plan == "gold"\n    emit escalate'
    )
    customers = {"a": Customer("a", traits={"plan": "gold"})}
    got = _because(text, log, customers=customers)
    assert got == [
        {
            "when": {"kind": "ticket_opened", "time": "2024-01-03T00:00:00+00:00",
                     "values": {"topic": "payment"}},
            "if": {'count(ticket_opened where topic == "payment" within 30 days)': 2.0,
                   "customer.plan": "gold"},
        }
    ]  # fmt: skip


def test_then_values_at_the_completing_interaction() -> None:
    log = _log(
        [
            ("a", "01", "product_view", {"product": "p1", "value": 10.0}),
            ("a", "02", "purchase", {"product": "p2", "value": 5.0}),
            ("a", "03", "purchase", {"product": "p1", "value": 30.0}),
        ]
    )
    text = (
        "trigger bought:\n    when product_view as v then purchase where product == v.product "
        "and value > v.value within 7 days\n    emit thanks"
    )
    (got,) = _because(text, log)
    assert got["when"]["values"] == {"product": "p1", "value": 10.0}
    assert got["then"]["kind"] == "purchase" and got["then"]["time"].startswith("2024-01-03")
    assert got["then"]["values"] == {"product": "p1", "value": 30.0}


def test_missing_values_are_none_and_timers_keep_their_anchor() -> None:
    log = _log([("a", "01", "purchase", {}), ("b", "01", "purchase", {"value": 9.0})])
    text = "trigger later:\n    when purchase as p then after 7 days\n    if p.value ?? 0 >= 0\n    emit x"
    got = _because(text, log)
    assert [b["when"]["values"] for b in got] == [{"value": None}, {"value": 9.0}]


def test_timers_name_what_did_not_happen_and_when() -> None:
    log = _log(
        [
            ("a", "01", "product_view", {"product": "p1"}),
            ("a", "03", "purchase", {"product": "p2"}),
        ]
    )
    day = "2024-01-{}T00:00:00+00:00".format
    rules = {
        "trigger a:\n    when product_view as v then no purchase where product == v.product "
        "for 7 days\n    emit x": {
            "kind": "purchase", "where": "product == v.product", "from": day("01"),
            "until": day("08"),
        },
        "trigger a:\n    when inactive for 7 days\n    emit x": {
            "kind": None, "from": day("03"), "until": day("10"),
        },
        "trigger a:\n    when no survey for 7 days\n    emit x": {
            "kind": "survey", "from": day("01"), "until": day("08"),
        },
        "trigger a:\n    when product_view as v then after 7 days\n    unless ticket_opened\n"
        "    emit x": {"kind": "ticket_opened", "from": day("01"), "until": day("08")},
    }  # fmt: skip
    for text, expected in rules.items():
        got = _because(text, log)
        assert [b["no"] for b in got][:1] == [expected], text


def test_quiet_hours_keep_the_due_time_in_no() -> None:
    log = _log([("a", "01", "product_view", {})])
    text = "trigger a:\n    when product_view as v then after 1 days\n    emit x\n    quiet hours 00:00-08:00"
    (got,) = _because(text, log)
    assert got["quiet_hours_delayed_from"] == "2024-01-02T00:00:00+00:00"
    assert "no" not in got  # 'then after' alone waits for nothing


def test_described_in_words() -> None:
    from cxmodel.triggers import describe_because

    because = {
        "when": {"kind": "product_view", "time": "T0", "values": {"product": "p1"}},
        "no": {"kind": "purchase", "where": "product == v.product", "from": "T0", "until": "T7"},
        "if": {"count(purchase)": 2.0, "customer.plan": "gold"},
        "quiet_hours_delayed_from": "T7",
    }
    assert describe_because(because) == (
        "product_view at T0 (product = 'p1'); no purchase where product == v.product after it "
        "until T7; if (count(purchase) = 2.0, customer.plan = 'gold'); delayed by quiet hours "
        "from T7"
    )
    inactive = {"when": {"kind": "view", "time": "T0"}, "no": {"kind": None, "until": "T9"}}
    assert describe_because(inactive) == "view at T0; no interaction after it until T9"
