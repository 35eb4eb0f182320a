"""Comparing two survey results: the difference of NPS scores and the two-proportion z-test."""

from __future__ import annotations

import math

import pytest

from cxmodel.errors import SchemaError
from cxmodel.metrics import compare_nps, compare_proportions, nps
from tests.metrics.helpers import GOLDEN_NPS


class TestCompare:
    def test_compare_nps(self) -> None:
        """z = (NPS1 - NPS2) / sqrt(SE1^2 + SE2^2)."""
        a, b = nps(GOLDEN_NPS), nps([10] * 30 + [8] * 30 + [3] * 40)
        c = compare_nps(a, b)
        assert c.difference == pytest.approx(40.0)
        assert c.statistic == pytest.approx(40.0 / math.hypot(a.se, b.se))

    def test_compare_proportions(self) -> None:
        """Pooled two-proportion z-test against the textbook value."""
        c = compare_proportions((170, 200), (150, 200))
        pool = 320 / 400
        z = 0.1 / math.sqrt(pool * (1 - pool) * (2 / 200))
        assert c.statistic == pytest.approx(z)

    def test_compare_bad_input(self) -> None:
        """A pair with successes > n is rejected."""
        with pytest.raises(SchemaError, match="successes"):
            compare_proportions((5, 3), (1, 2))
