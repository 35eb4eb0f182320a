"""Customers and their consent."""

from __future__ import annotations

from cxmodel import Consent, Customer


class TestCustomer:
    def test_consent_defaults_to_nothing(self) -> None:
        """No record means no consent."""
        assert not Customer("c1").consent.allows("marketing")
        assert Customer("c1", consent=Consent(granted={"marketing"})).consent.allows("marketing")
