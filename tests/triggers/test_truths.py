"""truth_uses: which properties rules read as true/false, and which they compare with text or
numbers (the engine's refusals built on them are tested in test_bool_properties.py)."""

from __future__ import annotations

import pytest

from cxmodel.triggers import parse
from cxmodel.triggers._truths import truth_uses


def uses_of(where: str, extra: str = "") -> tuple[dict[str, str], dict[str, tuple[str, object]]]:
    rules = parse(f"trigger t:\n    when purchase as p where {where}\n{extra}    emit x")
    uses = truth_uses(rules)
    return uses.conditions, uses.compared


class TestTruthUses:
    @pytest.mark.parametrize(
        ("where", "conditions"),
        [
            ("p.vip", {"vip"}),
            ("not p.vip", {"vip"}),
            ("p.vip and p.new or p.old", {"vip", "new", "old"}),
            ("p.vip == true", {"vip"}),
            ("false != p.vip", {"vip"}),
            ("p.vip in [true]", {"vip"}),
            ("p.vip ?? p.old", {"vip", "old"}),
            ("count(purchase where seen) > 1", {"seen"}),
            ("p.value > 1", set()),
        ],
    )
    def test_conditions(self, where: str, conditions: set[str]) -> None:
        """A property used as a condition or compared with true/false, each named once."""
        found, _ = uses_of(where)
        assert set(found) == conditions
        assert set(found.values()) <= {"t"}

    def test_compared_with_text_or_numbers(self) -> None:
        """A property compared with a text or number literal, with the first literal; the
        standard fields, whose type is fixed, are left out."""
        _, compared = uses_of('p.plan == "gold" and p.qty > 2 and p.value > 1 and p.plan != "x"')
        assert compared == {"plan": ("t", "gold"), "qty": ("t", 2)}

    def test_if_and_traits(self) -> None:
        """The 'if' condition counts; customer traits are not the interactions' properties."""
        found, _ = uses_of("customer.vip", "    if p.vip\n")
        assert set(found) == {"vip"}
        assert not truth_uses(parse("trigger t:\n    when purchase\n    emit x"))
