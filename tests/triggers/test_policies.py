"""Policies not covered by the acceptance rules: quiet hours, once per customer, Customer consent."""

from __future__ import annotations

from datetime import datetime, timezone

from cxmodel.domain import Consent, Customer
from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from tests.triggers.helpers import evaluate_complete

LOG = InteractionLog.from_records(
    [
        {"customer_id": "a", "timestamp": "2024-01-01T23:30:00Z", "kind": "purchase"},
        {"customer_id": "a", "timestamp": "2024-01-02T12:00:00Z", "kind": "purchase"},
        {"customer_id": "b", "timestamp": "2024-01-01T12:00:00Z", "kind": "purchase"},
    ]
)
AS_OF = datetime(2024, 2, 1, tzinfo=timezone.utc)


class TestPolicies:
    def test_quiet_hours_delay_to_window_end(self) -> None:
        """A firing at 23:30 inside 22:00-08:00 moves to 08:00 the next day; others stay."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    quiet hours 22:00-08:00")
        times = sorted(f.time.isoformat() for f in evaluate_complete(rules, LOG, as_of=AS_OF))
        assert times == [
            "2024-01-01T12:00:00+00:00",
            "2024-01-02T08:00:00+00:00",
            "2024-01-02T12:00:00+00:00",
        ]

    def test_once_per_customer(self) -> None:
        """Only the first emitted firing per customer; the rest are suppressed with a reason."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    once per customer")
        got = evaluate_complete(rules, LOG, as_of=AS_OF)
        assert sorted(f.customer_id for f in got) == ["a", "b"]
        assert [f.reason for f in got.suppressed] == ["once per customer"]

    def test_consent_from_customer_objects(self) -> None:
        """Without consent events, Customer.consent decides; no record means no consent."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    requires consent marketing")
        customers = {"a": Customer("a", consent=Consent(granted={"marketing"}))}
        got = evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
        assert sorted(f.customer_id for f in got) == ["a", "a"]
        assert [f.reason for f in got.suppressed] == ["no consent for marketing"]

    def test_customer_traits_in_conditions(self) -> None:
        """customer.plan reads the customer's traits."""
        rules = parse('trigger t:\n    when purchase\n    if customer.plan == "gold"\n    emit x')
        customers = {"b": Customer("b", traits={"plan": "gold"})}
        got = evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
        assert [f.customer_id for f in got] == ["b"]

    def test_quiet_hours_in_customer_timezone(self) -> None:
        """With 'in customer timezone', the window is read in the customer's timezone trait."""
        rules = parse(
            "trigger t:\n    when purchase\n    emit x\n"
            "    quiet hours 09:00-17:00 in customer timezone"
        )
        customers = {"b": Customer("b", traits={"timezone": "Europe/Paris"})}
        got = [
            f
            for f in evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
            if f.customer_id == "b"
        ]
        # 12:00 UTC is 13:00 in Paris (winter, UTC+1): delayed to 17:00 Paris = 16:00 UTC
        assert [f.time.isoformat() for f in got] == ["2024-01-01T16:00:00+00:00"]
