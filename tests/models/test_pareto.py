"""Tests of ParetoNBD: the batched likelihood agrees with the per-customer terms; the fit reaches the optimum."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import NotFittedError
from cxmodel.models import ParetoNBD

PARETO_POINTS = [
    (0.553, 10.58, 0.606, 11.67),
    (1.3, 0.2, 3.0, 0.5),
    (0.05, 50.0, 0.1, 30.0),
    (1.0, 2.0, 1.0, 2.0000001),
]


class TestParetoFused:
    @pytest.mark.parametrize("point", PARETO_POINTS)
    def test_value_matches_terms(
        self, history: tuple[np.ndarray, ...], point: tuple[float, ...]
    ) -> None:
        """The batched value (2F1 once per distinct pair) equals the per-customer terms."""
        x, t_x, big_t, w = history
        p = np.array(point)
        fused = ParetoNBD()._value_and_gradient(x, t_x, big_t, w)
        assert fused is not None
        val, _ = fused(p)
        want = float(np.sum(w * ParetoNBD._loglik_terms(p, x, t_x, big_t)))
        assert val == pytest.approx(want, rel=1e-12)

    @pytest.mark.parametrize("point", PARETO_POINTS)
    def test_gradient_matches_central_differences(
        self, history: tuple[np.ndarray, ...], point: tuple[float, ...]
    ) -> None:
        """The forward-difference gradient agrees with central differences of the terms."""
        x, t_x, big_t, w = history
        p = np.array(point)
        fused = ParetoNBD()._value_and_gradient(x, t_x, big_t, w)
        assert fused is not None
        _, grad = fused(p)

        def total(q: np.ndarray) -> float:
            return float(np.sum(w * ParetoNBD._loglik_terms(q, x, t_x, big_t)))

        for i in range(4):
            h = 1e-6 * p[i]
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            fd = (total(up) - total(down)) / (2 * h)
            assert grad[i] == pytest.approx(fd, rel=1e-4, abs=0.05)


class TestParetoOptimum:
    def test_reaches_polished_optimum(self, history: tuple[np.ndarray, ...]) -> None:
        """On CDNOW the fit lies within 1e-5 (relative) of a tight Nelder-Mead polish of it.

        The (s, beta) ridge is flat; a loose stopping rule left beta ~3e-4 short.
        """
        from scipy.optimize import minimize

        x, t_x, big_t, _ = history
        m = ParetoNBD().fit(frequency=x, recency=t_x, T=big_t)
        assert m.params_ is not None
        got = np.array(list(m.params_.values()))

        def neg(theta: np.ndarray) -> float:
            return -float(np.sum(ParetoNBD._loglik_terms(np.exp(theta), x, t_x, big_t)))

        res = minimize(
            neg,
            np.log(got) + 0.01,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20000},
        )
        np.testing.assert_allclose(got, np.exp(res.x), rtol=1e-5)


class TestProbabilityAlive:
    def test_equal_rates_hand_computed(self) -> None:
        """With alpha = beta the Pareto/NBD form is closed: 1 / (1 + s / (r + s + x) *
        (((alpha + T) / (alpha + t_x)) ** (r + s + x) - 1)); r = s = alpha = beta = 1, x = 1,
        t_x = 1, T = 3 gives 1 / (1 + 7/3) = 3/10."""
        m = ParetoNBD()
        m.params_ = {"r": 1.0, "alpha": 1.0, "s": 1.0, "beta": 1.0}
        assert m.probability_alive(1, 1, 3)[0] == pytest.approx(0.3, rel=1e-9)

    def test_unfitted(self) -> None:
        """Predicting before fitting raises NotFittedError."""
        with pytest.raises(NotFittedError, match="Call 'fit' first"):
            ParetoNBD().probability_alive(1, 1, 3)
