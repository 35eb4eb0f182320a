"""Domain interactions: validation on construction, UTC times, read-only properties."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest

from cxmodel import Interaction, SchemaError


class TestInteraction:
    def test_times_become_utc(self) -> None:
        """An offset timestamp is converted to UTC."""
        i = Interaction("c1", "2024-03-01T10:00:00+02:00", "view")
        assert i.timestamp == datetime(2024, 3, 1, 8, tzinfo=timezone.utc)

    def test_naive_datetime_rejected(self) -> None:
        """A naive datetime has no defined instant and is refused with a hint."""
        with pytest.raises(SchemaError, match="no time zone; write it with an offset"):
            Interaction("c1", datetime(2024, 1, 1), "view")  # which has no timezone= argument

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"metric": "nps", "score": 11}, "score 11.0 is outside the NPS scale 0..10"),
            ({"metric": "csat", "score": 0}, "score 0.0 is outside the CSAT scale 1..5"),
            ({"metric": "ces", "score": 8}, "outside the CES scale 1..7"),
            ({"metric": "stars", "score": 3}, "metric 'stars' is unknown"),
            ({"sentiment": 1.5}, "sentiment 1.5 is outside -1..1"),
        ],
        ids=["nps-11", "csat-0", "ces-8", "unknown-metric", "sentiment"],
    )
    def test_scales_checked(self, kwargs: dict[str, object], message: str) -> None:
        """Scores, metrics and sentiment are validated against their scales."""
        with pytest.raises(SchemaError, match=message):
            Interaction("c1", "2024-01-01T00:00:00Z", "survey", **kwargs)  # type: ignore[arg-type]

    def test_negative_purchase_rejected(self) -> None:
        """Money amounts are positive; the kind says the direction."""
        with pytest.raises(SchemaError, match="value -5.0 is negative for a 'purchase'"):
            Interaction("c1", "2024-01-01T00:00:00Z", "purchase", value=-5)

    def test_empty_customer_rejected(self) -> None:
        """A customer id must be a non-empty string."""
        with pytest.raises(SchemaError, match="'customer_id' must be a non-empty string"):
            Interaction("", "2024-01-01T00:00:00Z", "view")

    def test_properties_are_read_only_and_compared(self) -> None:
        """Properties are frozen and take part in equality."""
        a = Interaction("c1", "2024-01-01T00:00:00Z", "view", properties={"sku": "A"})
        b = Interaction("c1", "2024-01-01T00:00:00Z", "view", properties={"sku": "B"})
        assert a != b
        with pytest.raises(TypeError):
            a.properties["sku"] = "C"  # type: ignore[index]


class TestNumbers:
    def test_numpy_integers_are_numbers(self) -> None:
        """A value from an integer column (numpy int64) is a number (it was refused)."""
        assert (
            Interaction("c1", "2024-01-01T00:00:00Z", "purchase", value=np.int64(12)).value == 12.0
        )

    @pytest.mark.parametrize("field", ["value", "score", "sentiment"])
    def test_infinite_numbers_are_refused(self, field: str) -> None:
        """An infinite amount or score is no measurement (a purchase of inf was accepted)."""
        with pytest.raises(SchemaError, match="finite number"):
            Interaction("c1", "2024-01-01T00:00:00Z", "purchase", **{field: math.inf})

    @pytest.mark.parametrize("name", ["kind", "value", "customer_id"])
    def test_a_property_named_like_a_field_is_refused(self, name: str) -> None:
        """properties={"value": 5}: get() read the field, to_record() wrote the property."""
        with pytest.raises(SchemaError, match=f"property '{name}' has the name of an Interaction"):
            Interaction("c1", "2024-01-01T00:00:00Z", "view", properties={name: 5})
