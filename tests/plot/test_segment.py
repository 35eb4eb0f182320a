"""Plots of the segmentation results, on the synthetic world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes

from cxmodel.errors import SchemaError
from cxmodel.log import CustomerTable
from cxmodel.segment import SegmentMap, SegmentRule, contrast, rfm_scores, rfm_segments

Check = Callable[[Callable[..., Any]], Axes]
AS_OF = "2025-01-01T00:00Z"


def test_rfm_segment_map(world: Any, check: Check) -> None:
    scores = rfm_scores(world.log, as_of=AS_OF)
    segments = rfm_segments(scores)
    ax = check(segments.plot)
    names = {t.get_text().split("\n")[0] for t in ax.texts}
    assert names == set(segments.segment_map.names)
    counts = segments.counts()
    assert any(f"{counts['Hibernating']:,} (" in t.get_text() for t in ax.texts)
    with_cells = check(lambda ax=None: segments.plot(ax, scores=scores))
    assert len(with_cells.texts) == len(ax.texts) + 25  # one count per cell


def test_rfm_map_that_uses_m(world: Any, check: Check) -> None:
    scores = rfm_scores(world.log, as_of=AS_OF, n_bins=3)
    rules = [SegmentRule("big spenders", m=(3, 3)), SegmentRule("others")]
    segments = rfm_segments(scores, SegmentMap(rules, n_bins=3))
    ax = check(segments.plot)
    assert "most common over M" in ax.get_title()
    with pytest.raises(SchemaError):
        segments.plot(scores=rfm_scores(world.log, as_of=AS_OF))


def test_contrast_forest_of_lifts(world: Any, check: Check) -> None:
    table = CustomerTable.from_log(world.log, as_of=AS_OF)
    churned = np.asarray(world.truth.churned)
    buyers = table.column("frequency") > 0
    c = contrast(table, churned & buyers, ~churned & buyers)
    ax = check(lambda ax=None: c.plot(ax, top=8))
    assert 0 < len(ax.get_yticklabels()) <= 8
    assert "1 = no difference" in ax.get_xlabel()
    assert any(line.get_xdata()[0] == 1.0 for line in ax.lines)  # the reference line
