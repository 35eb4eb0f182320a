"""Plots of the journey views, on the synthetic world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes

from cxmodel.errors import SchemaError
from cxmodel.journey import (
    attribution,
    compare_funnels,
    compare_paths,
    compare_transitions,
    friction,
    funnel,
    paths,
    step_matrix,
    transitions,
)

Check = Callable[[Callable[..., Any]], Axes]
STEPS = ["view", "add_to_cart", "purchase"]


def _has_ticket(log: Any) -> Any:
    rows = log.kind_mask("ticket_opened")
    per = np.bincount(log.customer_codes[rows], minlength=log.n_customers) > 0
    return per[log.customer_codes]


def test_funnel_bars_label_conversion_and_drop_off(log: Any, check: Check) -> None:
    f = funnel(log, STEPS, window="7d")
    ax = check(f.plot)
    assert len(ax.patches) == 3
    texts = [t.get_text() for t in ax.texts]
    assert texts[0].endswith("100%")
    assert sum("drop off" in t for t in texts) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == STEPS


def test_funnel_groups_side_by_side(log: Any, check: Check) -> None:
    f = funnel(log, STEPS, window="7d", by="touchpoint")
    assert f.by_counts is not None
    entered = int((f.by_counts[:, 0] > 0).sum())
    ax = check(f.plot)
    assert len(ax.patches) == 3 * entered
    legend = ax.get_legend()
    assert legend is not None and len(legend.get_texts()) == entered
    ax = check(lambda ax=None: f.plot(ax, by=False))
    assert len(ax.patches) == 3


def test_funnel_comparison_forest(log: Any, check: Check) -> None:
    mask = _has_ticket(log)
    ax = check(compare_funnels(log, STEPS, mask, ~mask).plot)
    assert len(ax.get_yticklabels()) == 3


def test_transitions_heatmap(log: Any, check: Check) -> None:
    t = transitions(log)
    ax = check(t.plot)
    rows = [x.get_text() for x in ax.get_yticklabels()]
    assert rows[0] == "START" and "END" not in rows  # END is never followed
    assert ax.get_xlabel() == "Next interaction"
    assert not ax.texts  # too many labels to annotate
    small = transitions(log.filter(log.kind_mask("view", "add_to_cart", "purchase")))
    assert check(small.plot).texts


def test_step_matrix_heatmap(log: Any, check: Check) -> None:
    m = step_matrix(log, anchor="purchase", steps=3)
    ax = check(m.plot)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert ax.get_xlabel() == "Steps from the anchor event"


def test_paths_bars(log: Any, check: Check) -> None:
    p = paths(log, top=8, max_length=4, collapse_repeats=True, conversion="purchase")
    ax = check(lambda ax=None: p.plot(ax, top=5))
    assert len(ax.patches) == 5
    assert ax.get_yticklabels()[0].get_text() == " > ".join(p.paths[0])
    assert all("convert" in t.get_text() for t in ax.texts)


def test_attribution_one_series_per_model(log: Any, check: Check) -> None:
    a = attribution(log)
    ax = check(a.plot)
    assert len(ax.patches) == len(a.models) * len(a.channels)
    heights = np.array([p.get_height() for p in ax.patches]).reshape(len(a.models), -1)
    assert np.allclose(heights.sum(axis=1), 1.0)  # shares of the credit
    ax = check(lambda ax=None: a.plot(ax, models=("last", "markov")))
    assert len(ax.patches) == 2 * len(a.channels)
    with pytest.raises(SchemaError):
        a.plot(models=("nope",))


def test_friction_ranked_bars(log: Any, check: Check) -> None:
    f = friction(log, errors=())
    ax = check(f.plot)
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths, reverse=True)
    check(lambda ax=None: f.plot(ax, measure="backtrack_rate", top=5))
    with pytest.raises(SchemaError):
        f.plot(measure="nope")


@pytest.mark.parametrize("compare", [compare_transitions, compare_paths])
def test_journey_comparison_forest(log: Any, check: Check, compare: Any) -> None:
    mask = _has_ticket(log)
    c = compare(log, mask, ~mask)
    ax = check(lambda ax=None: c.plot(ax, top=8))
    assert len(ax.get_yticklabels()) == min(8, len(c.difference))
    assert "A minus B" in ax.get_xlabel()
