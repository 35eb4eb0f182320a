"""Customers and their consent."""

from __future__ import annotations

from typing import Any

import pytest

from cxmodel import Consent, Customer
from cxmodel.errors import SchemaError, ValueTypeError


class TestCustomer:
    def test_consent_defaults_to_nothing(self) -> None:
        """No record means no consent."""
        assert not Customer("c1").consent.allows("marketing")
        assert Customer("c1", consent=Consent(granted={"marketing"})).consent.allows("marketing")

    def test_customers_with_different_traits_differ(self) -> None:
        """Equality compares the traits too (it ignored them); equal customers hash equal."""
        pro = Customer("c1", traits={"plan": "pro"})
        assert pro != Customer("c1", traits={"plan": "free"})
        twin = Customer("c1", traits={"plan": "pro"})
        assert pro == twin and hash(pro) == hash(twin)
        assert hash(Customer("c1", traits={"tags": ["a"]})) == hash(Customer("c1"))

    @pytest.mark.parametrize(
        ("traits", "error", "match"),
        [
            pytest.param(None, ValueTypeError, "'traits' must be a mapping", id="none"),
            pytest.param([("plan", "pro")], ValueTypeError, "got list", id="pairs"),
            pytest.param({1: "x"}, SchemaError, "got int 1", id="int-name"),
            pytest.param({" ": "x"}, SchemaError, "non-empty string", id="blank-name"),
        ],
    )
    def test_bad_traits_are_refused(self, traits: Any, error: type[Exception], match: str) -> None:
        """Traits are a mapping of names to values; anything else is a CXModelError."""
        with pytest.raises(error, match=match):
            Customer("c1", traits=traits)


class TestConsent:
    def test_purposes_are_kept_as_compared(self) -> None:
        """Consent compares purposes trimmed and case-folded, and so does equality."""
        assert Consent(granted={"Email", "email "}) == Consent(granted={"email"})
        assert Consent(granted="Marketing").granted == frozenset({"marketing"})

    @pytest.mark.parametrize(
        ("granted", "error"),
        [
            pytest.param(None, ValueTypeError, id="none"),
            pytest.param(5, ValueTypeError, id="number"),
            pytest.param([["a"]], SchemaError, id="nested-list"),
            pytest.param({" "}, SchemaError, id="blank"),
        ],
    )
    def test_bad_purposes_are_refused(self, granted: Any, error: type[Exception]) -> None:
        """Purposes are non-empty strings; a raw TypeError escaped for None or a number."""
        with pytest.raises(error):
            Consent(granted=granted)

    def test_allows_a_non_text_purpose_is_refused(self) -> None:
        """allows(5) names the bad purpose (it was an AttributeError)."""
        with pytest.raises(ValueTypeError, match="got int 5"):
            Consent(granted={"email"}).allows(5)  # type: ignore[arg-type]

    def test_a_mapping_of_flags_is_refused(self) -> None:
        """{"marketing": False} granted marketing (its keys were read as the purposes)."""
        with pytest.raises(ValueTypeError, match="got a mapping"):
            Consent(granted={"marketing": False, "email": True})  # type: ignore[arg-type]
