"""Tests of the discrete-time models: BG/BB and sBG reproduce the published estimates.

Published values are printed to 3 decimals and compared at that precision (see
``tests.models.helpers.close_to_published``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cxmodel.errors import CXModelError, DataError
from cxmodel.models import (
    BetaGeoBetaBinom,
    ShiftedBetaGeo,
)
from tests.models.helpers import DATA, close_to_published


@pytest.fixture(scope="module")
def donations() -> np.ndarray:
    return np.genfromtxt(DATA / "donations.csv", delimiter=",", names=True)


class TestDiscrete:
    def test_bgbb_donations(self, donations: np.ndarray) -> None:
        """BG/BB on the donations data: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783."""
        m = BetaGeoBetaBinom().fit(
            frequency=donations["frequency"],
            recency=donations["recency"],
            n_periods=donations["periods"],
            weights=donations["weights"],
        )
        published = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
        for name, value in published.items():
            assert close_to_published(m.params_[name], value, 3), (name, m.params_[name])

    @pytest.mark.parametrize(
        ("survivors", "alpha", "beta"),
        [
            ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),
            ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),
        ],
    )
    def test_sbg_cohorts(self, survivors: list[int], alpha: float, beta: float) -> None:
        """sBG on the high-end and regular cohorts of Fader & Hardie (2007)."""
        m = ShiftedBetaGeo().fit(survivors=survivors)
        assert close_to_published(m.params_["alpha"], alpha, 3)
        assert close_to_published(m.params_["beta"], beta, 3)


class TestClosedForms:
    def test_sbg_survival_and_retention(self) -> None:
        """sBG with alpha = beta = 1: S(t) = B(1, 1 + t) / B(1, 1) = 1 / (1 + t) and
        r(t) = S(t) / S(t - 1) = t / (t + 1)."""
        m = ShiftedBetaGeo()
        m.params_ = {"alpha": 1.0, "beta": 1.0}
        np.testing.assert_allclose(m.survival([0, 1, 3]), [1.0, 0.5, 0.25], rtol=1e-12)
        np.testing.assert_allclose(m.retention([1, 2]), [0.5, 2 / 3], rtol=1e-12)

    def test_bgbb_expected_purchases(self) -> None:
        """BG/BB with alpha = beta = delta = 1, gamma = 2: E[X(n)] = 1/2 * (1 - 2 / (2 + n)),
        so 0 at n = 0 and 1/4 at n = 2."""
        m = BetaGeoBetaBinom()
        m.params_ = {"alpha": 1.0, "beta": 1.0, "gamma": 2.0, "delta": 1.0}
        np.testing.assert_allclose(m.expected_purchases([0, 2]), [0.0, 0.25], atol=1e-12)


class TestNoInformation:
    @pytest.mark.parametrize(
        ("data", "match"),
        [
            pytest.param(
                {"frequency": [0] * 20, "recency": [0] * 20, "n_periods": [6] * 20},
                r"none of the 20 customers made a repeat purchase",
                id="no-transactions",
            ),
            pytest.param(
                {"frequency": [0, 1], "recency": [0, 1], "n_periods": [6, 6], "weights": [0, 0]},
                r"every one of the 2 weights is 0",
                id="zero-weights",
            ),
            pytest.param(
                {"frequency": [0] * 3, "recency": [0] * 3, "n_periods": [0] * 3},
                r"every one of the 3 customers has n_periods = 0 .* measure n_periods up to",
                id="no-opportunities",
            ),
            pytest.param(
                {"frequency": [0, 1], "recency": [0, 1], "n_periods": [6, 6], "weights": [1]},
                r"weights must have 2 entries, got 1",
                id="short-weights",
            ),
            pytest.param(
                {"frequency": [0, 1, 2], "recency": [0, 2], "n_periods": [6, 6, 6]},
                r"same length, got 3, 2 and 3",
                id="short-recency",
            ),
            pytest.param(
                {"frequency": [1, 0], "recency": [2, 3], "n_periods": [6, 6]},
                r"recency must be 0 when frequency is 0 .*got recency 3\.0 at 1",
                id="recency-without-transactions",
            ),
        ],
    )
    def test_bgbb_refuses(self, data: dict[str, list[int]], match: str) -> None:
        """BG/BB histories without information raise instead of a 'converged' start point or
        boundary (and short weights are a DataError, not an IndexError)."""
        with pytest.raises(DataError, match=match):
            BetaGeoBetaBinom().fit(**data)


class TestWholeOpportunities:
    def test_fractional_horizon_is_refused(self) -> None:
        """1.5 opportunities (a CLV period of freq=1.5) gave an interpolated number of
        purchases; whole numbers still work."""
        m = BetaGeoBetaBinom()
        m.params_ = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}
        with pytest.raises(DataError, match=r"t must be whole numbers of opportunities, got 1\.5"):
            m.conditional_expected_purchases(1.5, 2, 4, 6)
        with pytest.raises(DataError, match=r"n must be whole numbers of opportunities"):
            m.expected_purchases([2, 2.5])
        assert m.conditional_expected_purchases(2, 2, 4, 6)[0] > 0


class TestShiftedBetaGeoRefuses:
    @pytest.mark.parametrize(
        ("survivors", "match"),
        [
            pytest.param([100, 100, 100], "none of the 100 customers churned in 2", id="no-churn"),
            pytest.param([100, 0, 0], "all 100 customers churned in the first", id="all-at-once"),
            pytest.param([0, 0], r"the cohort is empty", id="empty-cohort"),
            pytest.param(
                [1.0, 0.869, 0.743],
                r"whole numbers of customers, got 0\.869 .*not shares",
                id="shares",
            ),
        ],
    )
    def test_fit(self, survivors: list[float], match: str) -> None:
        """Cohorts whose likelihood peaks on a boundary (no churn, all churn at once) or is
        flat (empty) raise; before, the fit returned the boundary point (alpha 3e-5,
        beta 2e4), or the starting point (1, 1) as converged. Shares instead of counts
        gave standard errors for a cohort of one customer."""
        with pytest.raises(DataError, match=match):
            ShiftedBetaGeo().fit(survivors=survivors)

    def test_one_churned_customer_is_enough(self) -> None:
        """A cohort that lost some customers over the periods fits (finite optimum)."""
        m = ShiftedBetaGeo().fit(survivors=[100, 90, 80, 75])
        assert m.convergence_ is not None and m.convergence_.converged


class TestSampleArguments:
    @pytest.mark.parametrize(
        ("call", "match"),
        [
            pytest.param(
                lambda m, s: m.sample(-5, n_periods=3), "n must be at least 0", id="bgbb-n"
            ),
            pytest.param(
                lambda m, s: m.sample(5, n_periods=-1),
                "n_periods must be at least 0",
                id="bgbb-periods",
            ),
            pytest.param(
                lambda m, s: m.sample(5, n_periods=3, random_state="x"),
                "random_state",
                id="bgbb-seed",
            ),
            pytest.param(lambda m, s: s.sample(-5, periods=3), "n must be at least 0", id="sbg-n"),
            pytest.param(
                lambda m, s: s.sample(5, periods=2.5),
                "periods must be an integer",
                id="sbg-periods",
            ),
        ],
    )
    def test_bad_arguments(self, call: Any, match: str) -> None:
        """Bad simulation sizes and seeds raise a CXModelError naming the argument, not
        numpy's 'negative dimensions are not allowed'."""
        bgbb = BetaGeoBetaBinom()
        bgbb.params_ = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.78}
        sbg = ShiftedBetaGeo()
        sbg.params_ = {"alpha": 0.668, "beta": 3.806}
        with pytest.raises(CXModelError, match=match):
            call(bgbb, sbg)
