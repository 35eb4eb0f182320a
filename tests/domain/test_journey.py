"""Journeys: one customer's interactions in time order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxmodel import Interaction, Journey, SchemaError


class TestJourney:
    def test_order_duration_first_last(self) -> None:
        """Journeys sort by time, keep ties in the given order, and answer first/last."""
        items = [
            Interaction("c", "2024-01-03T00:00:00Z", "purchase", touchpoint="checkout"),
            Interaction("c", "2024-01-01T00:00:00Z", "view", touchpoint="website"),
            Interaction("c", "2024-01-01T00:00:00Z", "search", touchpoint="website"),
        ]
        journey = Journey.from_interactions(items)
        assert journey.kinds == ("view", "search", "purchase")
        assert journey.duration == timedelta(days=2)
        assert journey.touchpoints == ("website", "checkout")
        assert journey.first("purchase") is items[0]
        assert journey.last("view") is items[1]
        assert len(journey.between("2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z")) == 1

    def test_mixed_customers_rejected(self) -> None:
        """A journey holds one customer's interactions."""
        with pytest.raises(SchemaError, match="journey of 'a'"):
            Journey("a", [Interaction("b", "2024-01-01T00:00:00Z", "view")])
