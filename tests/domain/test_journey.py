"""Journeys: one customer's interactions in time order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cxmodel import Interaction, Journey, SchemaError
from cxmodel.errors import ValueTypeError


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


class TestBadInteractions:
    def test_any_iterable_of_interactions(self) -> None:
        """from_interactions takes a generator too (it raised a raw TypeError)."""
        items = [
            Interaction("c", "2024-01-02T00:00:00Z", "purchase"),
            Interaction("c", "2024-01-01T00:00:00Z", "view"),
        ]
        assert Journey.from_interactions(iter(items)).kinds == ("view", "purchase")

    @pytest.mark.parametrize(
        "items",
        [
            pytest.param(["view"], id="text"),
            pytest.param([{"kind": "view"}], id="record"),
        ],
    )
    def test_non_interactions_are_refused(self, items: list[object]) -> None:
        """An item that is not an Interaction is named (it was an AttributeError)."""
        with pytest.raises(ValueTypeError, match=r"interactions\[0\] is"):
            Journey("c", items)  # type: ignore[arg-type]

    def test_the_customer_id_is_text(self) -> None:
        """Journey(5, []) is refused, as a Customer's id is."""
        with pytest.raises(SchemaError, match="'customer_id' must be a non-empty string"):
            Journey(5, [])  # type: ignore[arg-type]

    def test_offsets_and_dst_sort_on_the_instant(self) -> None:
        """Interactions written in different offsets (across a DST change) sort by the instant."""
        journey = Journey.from_interactions(
            [
                Interaction("c", "2024-03-31T03:30:00+02:00", "purchase"),  # 01:30 UTC
                Interaction("c", "2024-03-31T01:30:00+01:00", "view"),  # 00:30 UTC
                Interaction("c", "2024-03-31T00:45:00Z", "click"),
            ]
        )
        assert journey.kinds == ("view", "click", "purchase")
        assert journey.duration == timedelta(hours=1)
