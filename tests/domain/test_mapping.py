"""The read-only mappings of domain objects (customer traits, interaction properties)."""

from __future__ import annotations

import pytest

from cxmodel import Interaction
from cxmodel.domain._mapping import frozen_mapping
from cxmodel.errors import SchemaError, ValueTypeError


def test_a_copy_that_cannot_be_changed() -> None:
    """The mapping is copied: changing the caller's dict changes nothing."""
    source = {"plan": "pro"}
    frozen = frozen_mapping(source, "traits")
    source["plan"] = "free"
    assert frozen["plan"] == "pro"
    with pytest.raises(TypeError):
        frozen["plan"] = "x"  # type: ignore[index]


def test_interaction_properties_are_checked() -> None:
    """Properties that are not a mapping with text names are a CXModelError."""
    with pytest.raises(ValueTypeError, match="'properties' must be a mapping"):
        Interaction("c", 0, "view", properties=None)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="got int 3"):
        Interaction("c", 0, "view", properties={3: "x"})
