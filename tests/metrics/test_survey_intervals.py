"""Survey intervals beyond Wald: the adjusted Wald and bootstrap intervals of NPS, CSAT, CES.

The finite population correction of every interval. A survey of n of a population of N answers has the correction f = (N - n) / (N - 1) on its
variance. The Wald and Wilson intervals always took it; the adjusted Wald (NPS: Lewis & Sauro;
CSAT/CES: Agresti-Coull) took it on the wrong n or not on its pseudo-answers, and the
bootstrap ignored it, so a census (f = 0) was reported with sampling error it does not have.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel.metrics import IntervalOptions, ces, csat, nps
from cxmodel.metrics._survey import nps_statistics
from tests.metrics.helpers import GOLDEN_NPS

CSAT_170_OF_200 = [5] * 170 + [2] * 30


class TestAdjustedWald:
    @pytest.mark.parametrize("population", [100, 101, 102])
    def test_nps_near_a_census_is_answered(self, population: int) -> None:
        """100 answers of a population of 100..102: before, the correction was taken on
        n + 3 = 103 answers, and every such population raised 'population must be >= the
        number of answers (103)' although it held all 100."""
        r = nps(GOLDEN_NPS, ci="adjusted-wald", population=population)
        assert r.ci[0] <= 30.0 <= r.ci[1]

    def test_nps_census_is_the_nps(self) -> None:
        """A census (N = n) has no width: the interval is the census NPS 30 itself; with 3
        pseudo-answers it would sit at the adjusted centre 29.13, excluding the known value."""
        assert nps(GOLDEN_NPS, ci="adjusted-wald", population=100).ci == (30.0, 30.0)

    def test_nps_pseudo_answers_scale_with_the_correction(self) -> None:
        """N = 200, n = 100: f = 100/199; n' = 100 + 3f, P' = 50 + 3f/4, D' = 20 + 3f/4, and
        the Wald interval of the adjusted counts with the variance times f (Lewis & Sauro's
        adjustment at f = 1)."""
        f = 100 / 199
        k = 100 + 3 * f
        p, d = (50 + 0.75 * f) / k, (20 + 0.75 * f) / k
        centre, se = 100 * (p - d), 100 * math.sqrt((p + d - (p - d) ** 2) * f / k)
        r = nps(GOLDEN_NPS, ci="adjusted-wald", population=200)
        assert r.ci == pytest.approx((centre - 1.959964 * se, centre + 1.959964 * se), rel=1e-6)

    def test_nps_coverage_near_a_census(self) -> None:
        """4,000 samples of 190 without replacement from 200 customers (50 detractors, 60
        passives, 90 promoters: NPS 20): the adjusted interval holds 20 as often as Wald's
        (92.6 % each, seed 0). With the unscaled adjustment it held it about 89 % of the time."""
        rng = np.random.default_rng(0)
        draws = rng.multivariate_hypergeometric([50, 60, 90], 190, size=4000)
        counts = np.zeros((4000, 11), dtype=np.int64)
        counts[:, [0, 7, 10]] = draws
        held = {}
        for method in ("wald", "adjusted-wald"):
            s = nps_statistics(counts, IntervalOptions(method, population=200))
            held[method] = float(np.mean((s.ci_low <= 20 + 1e-9) & (s.ci_high >= 20 - 1e-9)))
        assert held["adjusted-wald"] >= 0.92
        assert held["adjusted-wald"] == pytest.approx(held["wald"], abs=0.01)

    @pytest.mark.parametrize("metric", [csat, ces], ids=["csat", "ces"])
    def test_proportion_census_is_the_share(self, metric: Callable[..., Any]) -> None:
        """CSAT 170 of 200 (or a CES agree share) when the population is those 200: the
        interval is 0.85 exactly. The unscaled Agresti-Coull pseudo-counts put it at 0.8434,
        a zero-width interval excluding the known share."""
        answers = [5] * 170 + [2] * 30 if metric is csat else [6] * 170 + [2] * 30
        r = metric(answers, ci="adjusted-wald", population=200)
        assert r.ci == (0.85, 0.85)

    def test_proportion_pseudo_counts_scale_with_the_correction(self) -> None:
        """Agresti-Coull with z^2 f in place of z^2, as the Wilson interval takes the
        correction: N = 400, n = 200, f = 200/399."""
        z2 = 1.959963984540054**2 * (200 / 399)
        k = 200 + z2
        p = (170 + z2 / 2) / k
        half = 1.959963984540054 * math.sqrt(p * (1 - p) * (200 / 399) / k)
        r = csat(CSAT_170_OF_200, ci="adjusted-wald", population=400)
        assert r.ci == pytest.approx((p - half, p + half), rel=1e-12)

    def test_without_population_unchanged(self) -> None:
        """No population: Lewis & Sauro's n + 3 and Agresti-Coull's z^2 as before."""
        p, d = 50.75 / 103, 20.75 / 103
        centre, se = 100 * (p - d), 100 * math.sqrt((p + d - (p - d) ** 2) / 103)
        r = nps(GOLDEN_NPS, ci="adjusted-wald")
        assert r.ci == pytest.approx((centre - 1.959964 * se, centre + 1.959964 * se), rel=1e-6)


class TestBootstrap:
    def test_nps_census_has_no_width(self) -> None:
        """A census with ci='bootstrap' was reported as about 14.98..45.00, the interval of a
        sample from an infinite population; it is the NPS itself."""
        assert nps(GOLDEN_NPS, ci="bootstrap", population=100).ci == (30.0, 30.0)

    def test_nps_spread_scales_by_the_root_of_the_correction(self) -> None:
        """Same seed, N = 400: each bound is NPS + sqrt(300/399) (bound - NPS) of the bootstrap
        without a population (percentiles move with the draws)."""
        plain = nps(GOLDEN_NPS, ci="bootstrap", random_state=5)
        finite = nps(GOLDEN_NPS, ci="bootstrap", random_state=5, population=400)
        root = math.sqrt(300 / 399)
        assert finite.ci == pytest.approx(tuple(30 + root * (b - 30) for b in plain.ci))

    @pytest.mark.parametrize("metric", [csat, ces], ids=["csat", "ces"])
    def test_share_census_has_no_width(self, metric: Callable[..., Any]) -> None:
        """The binomial bootstrap of a census share is the share itself (was 0.80..0.90)."""
        answers = [5] * 170 + [2] * 30 if metric is csat else [6] * 170 + [2] * 30
        r = metric(answers, ci="bootstrap", population=200)
        assert r.ci == pytest.approx((0.85, 0.85), abs=1e-12)

    def test_share_spread_scales_by_the_root_of_the_correction(self) -> None:
        """CSAT 170 of 200 from 800: bounds 0.85 + sqrt(600/799) (bound - 0.85)."""
        plain = csat(CSAT_170_OF_200, ci="bootstrap", random_state=2)
        finite = csat(CSAT_170_OF_200, ci="bootstrap", random_state=2, population=800)
        root = math.sqrt(600 / 799)
        assert finite.ci == pytest.approx(tuple(0.85 + root * (b - 0.85) for b in plain.ci))


class TestBootstrapWithoutPassives:
    @pytest.mark.parametrize(("promoters", "detractors"), [(4, 1), (9, 1), (2, 9), (40, 10)])
    def test_no_passive_answers(self, promoters: int, detractors: int) -> None:
        """Without passives, 1 - P/n - D/n rounds to -1.1e-16 for these counts, and the
        multinomial resampling raised numpy's 'pvals < 0' ValueError instead of answering."""
        import warnings

        from cxmodel.metrics import SmallSampleWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            r = nps([10] * promoters + [0] * detractors, ci="bootstrap")
        assert r.passives == 0 and r.ci[0] <= r.value <= r.ci[1]
