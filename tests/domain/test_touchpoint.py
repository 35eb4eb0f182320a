"""Touchpoints and the touchpoint catalogue."""

from __future__ import annotations

import pytest

from cxmodel import DEFAULT_CATALOGUE, Stage, Touchpoint, TouchpointCatalogue
from cxmodel.errors import NotFoundError, SchemaError, ValueTypeError


class TestCatalogue:
    def test_extend_returns_new_catalogue(self) -> None:
        """Extending the default catalogue leaves it unchanged."""
        extended = DEFAULT_CATALOGUE.extend([Touchpoint("kiosk", "store", "purchase")])
        assert extended["kiosk"].stage is Stage.PURCHASE
        assert "kiosk" not in DEFAULT_CATALOGUE
        assert len(extended) == len(DEFAULT_CATALOGUE) + 1

    def test_lookup_by_a_key_that_is_not_text(self) -> None:
        """A key of another type is simply not there: ``in`` and ``get`` answer as a mapping's
        do, and ``[]`` raises NotFoundError naming the key."""
        assert 5 not in DEFAULT_CATALOGUE
        assert DEFAULT_CATALOGUE.get(None) is None
        with pytest.raises(NotFoundError, match="touchpoint 5 is not in the catalogue"):
            DEFAULT_CATALOGUE[5]  # type: ignore[index]


@pytest.mark.parametrize(
    ("channel", "stage", "match"),
    [
        pytest.param("webb", "purchase", "did you mean 'web'", id="channel"),
        pytest.param("web", "purchse", "did you mean 'purchase'", id="stage"),
    ],
)
def test_a_misspelt_channel_or_stage_suggests_the_member(
    channel: str, stage: str, match: str
) -> None:
    """A typo is a SchemaError with a did-you-mean (it was enum's raw ValueError)."""
    with pytest.raises(SchemaError, match=match):
        Touchpoint("kiosk", channel, stage)  # type: ignore[arg-type]


class TestCatalogueContents:
    def test_a_name_declared_twice_is_refused(self) -> None:
        """Two touchpoints of one name: one was silently dropped, the catalogue said so nowhere."""
        with pytest.raises(SchemaError, match="'kiosk' is declared twice"):
            TouchpointCatalogue(
                [Touchpoint("kiosk", "store", "purchase"), Touchpoint("kiosk", "app", "purchase")]
            )

    def test_extend_still_replaces(self) -> None:
        """extend() replaces a touchpoint of the same name, as documented."""
        catalogue = DEFAULT_CATALOGUE.extend([Touchpoint("website", "app", "purchase")])
        assert catalogue["website"].channel.value == "app"
        assert len(catalogue) == len(DEFAULT_CATALOGUE)

    def test_non_touchpoints_are_refused(self) -> None:
        """A string in the list is named (it was an AttributeError), in extend() too."""
        with pytest.raises(ValueTypeError, match=r"touchpoints\[0\] is str 'kiosk'"):
            TouchpointCatalogue(["kiosk"])  # type: ignore[list-item]
        with pytest.raises(ValueTypeError, match=r"touchpoints\[0\] is str 'kiosk'"):
            DEFAULT_CATALOGUE.extend(["kiosk"])  # type: ignore[list-item]

    def test_a_blank_name_is_refused(self) -> None:
        """A name of spaces is no name."""
        with pytest.raises(SchemaError, match="'name' must be a non-empty string"):
            Touchpoint(" ", "web", "purchase")
