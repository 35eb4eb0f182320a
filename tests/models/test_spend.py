"""Tests of the Gamma-Gamma spend model: conditional spend (hand-computed), fit arguments."""

from __future__ import annotations

import pytest

from cxmodel.errors import DataError, DataWarning, NotFittedError
from cxmodel.models import GammaGamma


def fitted(p: float, q: float, gamma: float) -> GammaGamma:
    """A model carrying the given parameters (fitting is tested on CDNOW)."""
    model = GammaGamma()
    model.params_ = {"p": p, "q": q, "gamma": gamma}
    return model


class TestConditionalExpectedSpend:
    def test_hand_computed(self) -> None:
        """p 2, q 3, gamma 10: without history p gamma / (q - 1) = 10; with 2 purchases of mean
        25, p (gamma + 2 * 25) / (2 p + q - 1) = 120 / 6 = 20."""
        out = fitted(2.0, 3.0, 10.0).conditional_expected_spend([0, 2], [0.0, 25.0])
        assert out.tolist() == [10.0, 20.0]

    def test_many_purchases_approach_the_customer_mean(self) -> None:
        """The more purchases, the closer the estimate to the customer's own mean."""
        out = fitted(2.0, 3.0, 10.0).conditional_expected_spend([1, 10, 1000], [50.0] * 3)
        gaps = [abs(v - 50.0) for v in out.tolist()]
        assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 0.1

    def test_unfitted(self) -> None:
        """Predicting before fitting names the model and says to call fit."""
        with pytest.raises(NotFittedError, match="This GammaGamma instance is not fitted yet"):
            GammaGamma().conditional_expected_spend([1], [10.0])

    def test_q_below_one_warns_with_the_count(self) -> None:
        """q <= 1 makes the population mean infinite: the customers without repeat purchases
        get inf, and a warning counts them; with q > 1 nothing warns."""
        with pytest.warns(DataWarning, match=r"2 of 3 customers .* q = 0\.8 <= 1"):
            out = fitted(2.0, 0.8, 10.0).conditional_expected_spend([0, 0, 2], [0.0, 0.0, 25.0])
        assert out[:2].tolist() == [float("inf")] * 2
        assert out[2] == pytest.approx(2.0 * (10.0 + 50.0) / (4.0 + 0.8 - 1.0))


class TestFitArguments:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({}, "frequency= and monetary_value="),
            ({"frequency": [1, 2], "monetary_value": [5.0]}, "lengths differ"),
            ({"frequency": [1, 2], "monetary_value": [5.0, 0.0]}, "must be > 0"),
            ({"frequency": [0, 0], "monetary_value": [0.0, 0.0]}, "no repeat buyers"),
            ({"frequency": [1, -1], "monetary_value": [5.0, 5.0]}, "frequency must be >= 0"),
        ],
        ids=["nothing", "lengths", "zero-spend", "no-repeat-buyers", "negative"],
    )
    def test_bad_data(self, kwargs: dict[str, list[float]], match: str) -> None:
        """Bad data raise DataError saying what is wrong."""
        with pytest.raises(DataError, match=match):
            GammaGamma().fit(**kwargs)  # type: ignore[arg-type]

    def test_one_time_buyers_are_left_out(self) -> None:
        """Customers with frequency 0 do not enter the fit: adding them changes nothing."""
        x, m = [1.0, 2.0, 3.0, 1.0, 4.0], [10.0, 20.0, 15.0, 30.0, 12.0]
        a = GammaGamma(penalizer_coef=0.1).fit(frequency=x, monetary_value=m)
        b = GammaGamma(penalizer_coef=0.1).fit(
            frequency=[*x, 0.0, 0.0], monetary_value=[*m, 0.0, 0.0]
        )
        assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-12)
