"""Fused likelihood/gradient evaluations agree with the per-customer terms and finite differences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.models import BetaGeo, ParetoNBD
from cxmodel.models._base import compress

DATA = Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv"

POINTS = [
    (0.243, 4.41, 0.793, 2.43),
    (1.3, 0.2, 3.0, 0.5),
    (0.05, 50.0, 0.1, 30.0),
    (2.0, 1.0, 1.0, 1.0),
]


@pytest.fixture(scope="module")
def history() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = np.genfromtxt(DATA, delimiter=",", names=True)
    w = np.random.default_rng(7).uniform(0.5, 2.0, d.shape[0])
    return d["x"], d["t_x"], d["T"], w


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


class TestCompress:
    @settings(max_examples=50, deadline=None)
    @given(st.integers(0, 2**32 - 1), st.integers(0, 60))
    def test_same_as_numpy_unique(self, seed: int, n: int) -> None:
        """compress returns numpy's unique rows (same order) and the summed weights."""
        rng = np.random.default_rng(seed)
        cols = [rng.integers(0, k, n).astype(float) for k in (3, 4, 2)]
        w = rng.random(n)
        got = compress(*cols, weights=w)
        uniq, inv = np.unique(np.column_stack(cols).reshape(n, 3), axis=0, return_inverse=True)
        np.testing.assert_array_equal(np.column_stack(got[:3]).reshape(-1, 3), uniq)
        np.testing.assert_allclose(got[3], np.bincount(inv.ravel(), weights=w, minlength=len(uniq)))


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


class TestBfgs:
    def test_rosenbrock(self) -> None:
        """The fused-objective BFGS finds the Rosenbrock minimum and reports success."""
        from cxmodel.models._base import _bfgs

        def rosen(v: np.ndarray) -> tuple[float, np.ndarray]:
            x, y = v
            f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
            g = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
            return float(f), g

        res = _bfgs(rosen, np.array([-1.2, 1.0]), gtol=1e-9, maxiter=2000)
        assert res.success
        np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)

    def test_flat_objective_stops(self) -> None:
        """A constant objective with a non-zero gradient stops as not converged, not at maxiter."""
        from cxmodel.models._base import _bfgs

        res = _bfgs(lambda v: (0.0, np.ones(2)), np.zeros(2), gtol=1e-9, maxiter=2000)
        assert not res.success
        assert res.nit < 2000


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
