"""Tests of BetaGeo: the fused likelihood and gradient agree with the per-customer terms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataError
from cxmodel.models import BetaGeo, ModifiedBetaGeo, ParetoNBD

POINTS = [
    (0.243, 4.41, 0.793, 2.43),
    (1.3, 0.2, 3.0, 0.5),
    (0.05, 50.0, 0.1, 30.0),
    (2.0, 1.0, 1.0, 1.0),
]


class TestBetaGeoFused:
    @pytest.mark.parametrize("point", POINTS)
    def test_matches_terms_and_gradient(
        self, history: tuple[np.ndarray, ...], point: tuple[float, ...]
    ) -> None:
        """The fused value and gradient equal the weighted sums of the per-customer forms."""
        x, t_x, big_t, w = history
        p = np.array(point)
        fused = BetaGeo()._value_and_gradient(x, t_x, big_t, w)
        assert fused is not None
        val, grad = fused(p)
        want = float(np.sum(w * BetaGeo._loglik_terms(p, x, t_x, big_t)))
        want_g = np.sum(w[:, None] * BetaGeo._loglik_grad(p, x, t_x, big_t), axis=0)
        assert val == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose(grad, want_g, rtol=1e-9, atol=1e-8)

    @pytest.mark.parametrize("point", POINTS)
    def test_gradient_matches_finite_differences(
        self, history: tuple[np.ndarray, ...], point: tuple[float, ...]
    ) -> None:
        """The fused gradient equals central differences of the fused value."""
        x, t_x, big_t, w = history
        p = np.array(point)
        fused = BetaGeo()._value_and_gradient(x, t_x, big_t, w)
        assert fused is not None
        _, grad = fused(p)
        for i in range(4):
            h = 1e-6 * p[i]
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            fd = (fused(up)[0] - fused(down)[0]) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-5, abs=1e-3)


def _with(cls: type[BetaGeo], **params: float) -> BetaGeo:
    model = cls()
    model.params_ = dict(params)
    return model


class TestProbabilityAlive:
    def test_betageo_hand_computed(self) -> None:
        """BG/NBD, r = alpha = a = 1, b = 2, x = 1, t_x = 1, T = 3:
        1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)) = 1 / (1 + 2) = 1/3;
        a customer without repeat purchases is alive for sure."""
        m = _with(BetaGeo, r=1.0, alpha=1.0, a=1.0, b=2.0)
        assert m.probability_alive(1, 1, 3)[0] == pytest.approx(1 / 3, rel=1e-12)
        assert m.probability_alive(0, 0, 3)[0] == 1.0

    def test_modified_betageo_hand_computed(self) -> None:
        """MBG/NBD may die at time 0: 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) **
        (r + x)) is 1 / (1 + 4/3) = 3/7 for x = 1 and 1 / (1 + 2) = 1/3 for x = 0."""
        m = _with(ModifiedBetaGeo, r=1.0, alpha=1.0, a=1.0, b=2.0)
        assert m.probability_alive(1, 1, 3)[0] == pytest.approx(3 / 7, rel=1e-12)
        assert m.probability_alive(0, 0, 3)[0] == pytest.approx(1 / 3, rel=1e-12)


class TestArguments:
    @pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo], ids=["BetaGeo", "MBG"])
    def test_fractional_purchase_count(self, model: type) -> None:
        """P(X(t) = 1.5) has no meaning: refused, where a probability of 0.14 came back."""
        m = _with(model, r=0.24, alpha=4.4, a=0.79, b=2.4)
        with pytest.raises(DataError, match=r"n must be whole numbers of purchases, got 1\.5"):
            m.probability_of_purchases([1, 1.5], 3.0)

    def test_sample_negative_T(self) -> None:
        """A negative observation length is a DataError, not numpy's 'lam < 0' ValueError."""
        pareto = ParetoNBD()
        pareto.params_ = {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}
        for m in (_with(BetaGeo, r=0.24, alpha=4.4, a=0.79, b=2.4), pareto):
            with pytest.raises(DataError, match=r"T must be >= 0 .*got -3\.0"):
                m.sample(5, T=-3.0, random_state=1)
