"""Plot of trigger firings over time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from matplotlib.axes import Axes

from cxmodel.errors import SchemaError
from cxmodel.triggers import EXAMPLE_RULES, Firings, evaluate, parse

Check = Callable[[Callable[..., Any]], Axes]


@pytest.fixture(scope="module")
def firings(world: Any) -> Firings:
    return evaluate(parse(EXAMPLE_RULES), world.log, as_of="2025-01-01T00:00Z")


def test_firings_and_suppressions_per_trigger(firings: Firings, check: Check) -> None:
    assert len(firings) and len(firings.suppressed)
    ax = check(firings.plot)
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert {f.trigger for f in firings} <= set(texts)
    assert any(t.endswith("(suppressed)") for t in texts)
    assert ax.get_ylabel() == "Firings per week"
    total = sum(line.get_ydata().sum() for line in ax.lines if line.get_linestyle() != "--")
    assert total == len(firings)


def test_firings_options(firings: Firings, check: Check) -> None:
    ax = check(lambda ax=None: firings.plot(ax, period="month", suppressed=False))
    assert ax.get_ylabel() == "Firings per month"
    assert not any(line.get_linestyle() == "--" for line in ax.lines)
    with pytest.raises(SchemaError):
        firings.plot(period="year")


def test_no_firings() -> None:
    ax = Firings().plot()
    assert [t.get_text() for t in ax.texts] == ["No firings"]
