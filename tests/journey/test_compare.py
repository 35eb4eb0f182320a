"""Tests of compare_funnels(): one funnel in two segments, with a Newcombe interval."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
from cxmodel.journey import compare_funnels
from cxmodel.log import InteractionLog
from tests.journey.helpers import log_of


class TestCompareFunnels:
    def test_difference_and_interval(self) -> None:
        """Segment A converts 2/2, B 1/2: difference 0.5 with an interval containing it."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "purchase"),
            ("b", 0, "view"),
            ("b", 1, "purchase"),
            ("c", 0, "view"),
            ("c", 1, "purchase"),
            ("d", 0, "view"),
        ]
        log = log_of(rows)
        c = compare_funnels(
            log, ["view", "purchase"], log.customer_codes < 2, log.customer_codes >= 2
        )
        assert c.difference.tolist() == [0.0, 0.5]
        assert c.low[1] < 0.5 < c.high[1]
        assert len(c.to_pandas()) == 2 and "<table>" in c._repr_html_()

    def test_bad_mask(self) -> None:
        """Masks of the wrong shape raise."""
        log = log_of([("a", 0, "view")])
        with pytest.raises(SchemaError, match="segment"):
            compare_funnels(log, ["view"], np.array([True, False]), np.array([True]))


def test_compare_funnels_checks_its_masks_as_the_other_comparisons() -> None:
    """``segment=`` in the options and a missing mask are SchemaErrors, as in
    ``compare_transitions`` and the rest (before: a TypeError, and None meant the whole log)."""
    log = InteractionLog.from_arrays(["a", "a", "b"], [0, 1, 0], ["view", "purchase", "view"])
    mask = np.array([True, True, False])
    with pytest.raises(SchemaError, match="segment= cannot be combined"):
        compare_funnels(log, ["view", "purchase"], mask, ~mask, segment=mask)
    with pytest.raises(SchemaError, match="must be boolean row masks, got None"):
        compare_funnels(log, ["view", "purchase"], None, mask)
