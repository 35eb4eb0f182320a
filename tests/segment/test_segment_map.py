"""Tests of segment maps: rules over RFM score cells, checked for gaps and unreachable rules when built, and the segments they assign."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.segment import (
    DEFAULT_SEGMENT_MAP,
    SegmentMap,
    SegmentRule,
    rfm_scores,
    rfm_segments,
)

# The widely copied 11-segment "R vs mean(F, M)" table, in its published order.
ELEVEN = [
    SegmentRule("Champions", r=(4, 5), fm=(4, 5)),
    SegmentRule("Loyal Customers", r=(2, 5), fm=(3, 5)),
    SegmentRule("Potential Loyalist", r=(3, 5), fm=(1, 3)),
    SegmentRule("Recent Customers", r=(4, 5), fm=(0, 1)),
    SegmentRule("Promising", r=(3, 4), fm=(0, 1)),
    SegmentRule("Customers Needing Attention", r=(2, 3), fm=(2, 3)),
    SegmentRule("About To Sleep", r=(2, 3), fm=(0, 2)),
    SegmentRule("At Risk", r=(0, 2), fm=(2, 5)),
    SegmentRule("Can't Lose Them", r=(0, 1), fm=(4, 5)),
    SegmentRule("Hibernating", r=(1, 2), fm=(1, 2)),
    SegmentRule("Lost", r=(0, 2), fm=(0, 2)),
]


class TestSegmentMap:
    def test_eleven_segment_map_rejected_naming_unreachable(self) -> None:
        """The overlapping 11-segment map is rejected, naming its four unreachable segments."""
        with pytest.raises(SchemaError, match="unreachable") as info:
            SegmentMap(ELEVEN)
        message = str(info.value)
        for name in ("Recent Customers", "Promising", "Can't Lose Them", "Lost"):
            assert repr(name) in message
        for name in ("Champions", "Hibernating", "At Risk"):
            assert repr(name) not in message

    def test_gap_rejected_naming_cells(self) -> None:
        """A map that misses score cells is rejected, listing them."""
        with pytest.raises(SchemaError, match=r"does not cover 25 score cells: \(r=1, f=1, m=1\)"):
            SegmentMap([SegmentRule("recent", r=(2, 5))])

    @pytest.mark.parametrize(
        ("rules", "match"),
        [
            ([], "at least one rule"),
            ([SegmentRule("a"), SegmentRule("a")], "duplicate"),
            (["not a rule"], "SegmentRule"),
        ],
    )
    def test_bad_maps(self, rules: list[SegmentRule], match: str) -> None:
        """Empty maps, duplicate names and non-rules are rejected."""
        with pytest.raises(SchemaError, match=match):
            SegmentMap(rules)

    @pytest.mark.parametrize("rng", [(5, 1), "ab", (1,)])
    def test_bad_ranges(self, rng: object) -> None:
        """A range must be an ordered (low, high) pair."""
        with pytest.raises(SchemaError, match="range"):
            SegmentRule("x", r=rng)  # type: ignore[arg-type]

    def test_default_map_covers_every_cell(self) -> None:
        """The default map assigns one of its ten names to all 125 cells."""
        cells = np.array(np.meshgrid(*[np.arange(1, 6)] * 3)).reshape(3, -1)
        labels = DEFAULT_SEGMENT_MAP.assign(*cells)
        assert set(labels) == set(DEFAULT_SEGMENT_MAP.names)
        assert len(DEFAULT_SEGMENT_MAP.names) == 10

    def test_n_bins_mismatch(self) -> None:
        """The default 5-level map refuses 3-level scores."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"],
            timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
            kind=["purchase"] * 2,
        )
        with pytest.raises(SchemaError, match="n_bins=3"):
            rfm_segments(rfm_scores(log, as_of="2024-02-01T00:00Z", n_bins=3))

    def test_custom_rule_list(self) -> None:
        """A plain rule list is built into a map with the scores' n_bins."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"],
            timestamp=["2024-01-01T00:00Z", "2024-01-20T00:00Z"],
            kind=["purchase"] * 2,
        )
        scores = rfm_scores(log, as_of="2024-02-01T00:00Z", n_bins=2)
        seg = rfm_segments(scores, [SegmentRule("recent", r=(2, 2)), SegmentRule("lapsed")])
        assert seg.labels.tolist() == ["lapsed", "recent"]
        assert "<table>" in seg._repr_html_() and "<table>" in scores._repr_html_()
