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


class TestComparePopulations:
    def test_proportions_keep_the_finite_population_correction(self) -> None:
        """CSAT 170 of 200 and 150 of 200, each from a population of 400: each variance term
        is multiplied by (400 - 200) / 399, as the results' own standard errors are (and as
        compare_nps does). Before, compare_proportions dropped it and reported the SE of an
        infinite population (0.0397 instead of 0.0281)."""
        from cxmodel.metrics import csat

        a = csat([5] * 170 + [1] * 30, population=400)
        b = csat([5] * 150 + [1] * 50, population=400)
        f = 200 / 399
        c = compare_proportions(a, b)
        se = math.sqrt((0.85 * 0.15 + 0.75 * 0.25) * f / 200)
        assert c.se == pytest.approx(se, rel=1e-12)
        assert c.se == pytest.approx(0.0281, abs=1e-4)
        assert c.statistic == pytest.approx(0.1 / math.sqrt(0.8 * 0.2 * f * 2 / 200))
        assert c.ci == pytest.approx((0.1 - 1.959964 * se, 0.1 + 1.959964 * se), rel=1e-6)

    def test_pairs_and_results_without_population_are_unchanged(self) -> None:
        """Without a population the correction is 1: a result and its (successes, n) pair
        give the same comparison."""
        from cxmodel.metrics import csat

        a = csat([5] * 170 + [1] * 30)
        assert compare_proportions(a, (150, 200)) == compare_proportions((170, 200), (150, 200))

    def test_two_census_proportions_have_no_sampling_error(self) -> None:
        """Two censuses: SE 0 and an interval of zero width around the true difference, with
        no warning (the difference is known exactly)."""
        import warnings

        from cxmodel.metrics import csat

        a = csat([5] * 170 + [1] * 30, population=200)
        b = csat([5] * 150 + [1] * 50, population=200)
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            c = compare_proportions(a, b)
        assert c.se == 0.0 and c.ci == pytest.approx((0.1, 0.1))
