"""Touchpoints and the touchpoint catalogue."""

from __future__ import annotations

from cxmodel import DEFAULT_CATALOGUE, Stage, Touchpoint


class TestCatalogue:
    def test_extend_returns_new_catalogue(self) -> None:
        """Extending the default catalogue leaves it unchanged."""
        extended = DEFAULT_CATALOGUE.extend([Touchpoint("kiosk", "store", "purchase")])
        assert extended["kiosk"].stage is Stage.PURCHASE
        assert "kiosk" not in DEFAULT_CATALOGUE
        assert len(extended) == len(DEFAULT_CATALOGUE) + 1
