"""Comparing two survey results: the difference of NPS scores and the two-proportion z-test."""

from __future__ import annotations

import math

import pytest

from cxmodel.errors import DataWarning, SchemaError
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

    @pytest.mark.parametrize(
        "pair", [(2.7, 10), ("a", 10), (True, 3)], ids=["fraction", "text", "bool"]
    )
    def test_counts_must_be_whole_numbers(self, pair: tuple[object, int]) -> None:
        """A (successes, n) pair of non-integers is a SchemaError naming the pair; before, a
        fraction was truncated quietly (2.7 -> 2) and text raised a raw ValueError."""
        with pytest.raises(SchemaError, match=r"a must be .* pair of whole numbers.*got"):
            compare_proportions(pair, (1, 10))

    def test_proportions_without_variance_warn(self) -> None:
        """50 of 50 against 60 of 60: SE 0, interval (0, 0), test undefined; it warns
        DataWarning naming the counts."""
        with pytest.warns(DataWarning, match=r"a: 50 of 50, b: 60 of 60.*z-test is undefined"):
            c = compare_proportions((50, 50), (60, 60))
        assert (c.difference, c.se, c.ci) == (0.0, 0.0, (0.0, 0.0))
        assert math.isnan(c.p_value)

    def test_one_flat_group_is_quiet(self) -> None:
        """When one group varies, the difference has a standard error and nothing warns."""
        c = compare_proportions((50, 50), (40, 60))
        assert c.ci[0] < c.difference < c.ci[1]

    def test_nps_without_variance_warns(self) -> None:
        """Two NPS results of promoters only: the comparison's interval is flat and warns
        (each result also warns its own zero-width interval)."""
        with pytest.warns(DataWarning, match="zero width"):
            a, b = nps([10] * 50), nps([10] * 60)
        with pytest.warns(DataWarning, match=r"compare_nps\(\): .*NPS \+100 of 50 answers"):
            c = compare_nps(a, b)
        assert c.ci == (0.0, 0.0)

    def test_censuses_are_quiet(self) -> None:
        """Two censuses (population = n) have no sampling error: no warning."""
        c = compare_nps(nps([10] * 50, population=50), nps([10] * 60, population=60))
        assert c.se == 0.0


class TestEmptyGroups:
    def test_nps_without_answers_warns(self) -> None:
        """An empty group made every figure NaN without a word; now a DataWarning names it."""
        with pytest.warns(DataWarning, match=r"a has no answers \(n_a = 0, n_b = 40\)"):
            c = compare_nps(nps([]), nps([10] * 20 + [0] * 20))
        assert math.isnan(c.difference) and math.isnan(c.p_value)

    def test_proportions_without_answers_warn(self) -> None:
        with pytest.warns(DataWarning, match=r"a and b have no answers"):
            c = compare_proportions((0, 0), (0, 0))
        assert math.isnan(c.difference) and (c.n_a, c.n_b) == (0, 0)
