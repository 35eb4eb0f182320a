"""Parameter recovery from each model's simulator, and bad-input handling.

Recovery tolerance: every parameter within 4 standard errors (from the fitted Hessian) of the
value used to simulate. Seeds are fixed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cxmodel.errors import ConvergenceError, DataError, NotFittedError
from cxmodel.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)
from cxmodel.models._base import maximise_likelihood


def _within(fit: Any, truth: dict[str, float], k: float = 4.0) -> None:
    for name, value in truth.items():
        se = fit.standard_errors_[name]
        assert np.isfinite(se) and se > 0, name
        assert abs(fit.params_[name] - value) <= k * se, (name, fit.params_[name], value, se)


class TestRecovery:
    @pytest.mark.parametrize(
        ("model", "truth", "n"),
        [
            (BetaGeo, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, 50_000),
            (ModifiedBetaGeo, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}, 50_000),
            (ParetoNBD, {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7}, 50_000),
        ],
    )
    def test_transaction_models(self, model: type, truth: dict[str, float], n: int) -> None:
        """Simulate customers over 39 weeks, refit, recover every parameter within 4 SE."""
        sim = model()
        sim.params_ = dict(truth)
        data = sim.sample(n, T=39.0, random_state=20260101)
        assert np.all(data.recency <= data.T) and np.all(data.frequency >= 0)
        _within(model().fit(data), truth)

    def test_gamma_gamma(self) -> None:
        """Simulated mean spends of 30k repeat buyers recover (p, q, gamma) within 4 SE."""
        truth = {"p": 6.0, "q": 3.8, "gamma": 15.0}
        sim = GammaGamma()
        sim.params_ = dict(truth)
        freq = np.random.default_rng(5).integers(1, 10, 30_000)
        x, m = sim.sample(30_000, frequency=freq, random_state=6)
        _within(GammaGamma().fit(frequency=x, monetary_value=m), truth)

    def test_bgbb(self) -> None:
        """50k simulated donors over 6 opportunities recover (alpha, beta, gamma, delta) within 4 SE."""
        truth = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
        sim = BetaGeoBetaBinom()
        sim.params_ = dict(truth)
        data = sim.sample(50_000, n_periods=6, random_state=11)
        assert np.all(data.frequency <= data.recency) and np.all(data.recency <= 6)
        fit = BetaGeoBetaBinom().fit(
            frequency=data.frequency, recency=data.recency, n_periods=data.T
        )
        _within(fit, truth)
        observed = np.bincount(data.frequency.astype(int), minlength=7) / 50_000
        np.testing.assert_allclose(
            observed, sim.probability_of_purchases(np.arange(7.0), 6.0), atol=0.01
        )

    def test_shifted_beta_geo(self) -> None:
        """A simulated 50k cohort over 7 periods recovers (alpha, beta) within 4 SE."""
        truth = {"alpha": 0.7, "beta": 1.2}
        sim = ShiftedBetaGeo()
        sim.params_ = dict(truth)
        survivors = sim.sample(50_000, periods=7, random_state=7)
        assert survivors[0] == 50_000 and np.all(np.diff(survivors) <= 0)
        _within(ShiftedBetaGeo().fit(survivors=survivors), truth)


GOOD = {"frequency": [0.0, 2.0], "recency": [0.0, 5.0], "T": [10.0, 10.0]}
BAD_HISTORIES = [
    ({"recency": [0.0, 11.0]}, "recency must be <= T"),
    ({"frequency": [-1.0, 2.0]}, "frequency must be >= 0"),
    ({"T": [np.nan, 10.0]}, "T must be finite"),
    ({"recency": [1.0, 5.0]}, "recency must be 0 when frequency is 0"),
    ({"frequency": [], "recency": [], "T": []}, "no customers"),
    ({"T": [10.0, 10.0, 10.0]}, "same length"),
]


class TestBadInput:
    @pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
    @pytest.mark.parametrize(("change", "message"), BAD_HISTORIES)
    def test_histories(self, model: type, change: dict[str, Any], message: str) -> None:
        """Invalid histories raise DataError naming the problem."""
        with pytest.raises(DataError, match=message):
            model().fit(**{**GOOD, **change})

    @pytest.mark.parametrize(
        ("model", "call"),
        [
            (BetaGeo, lambda m: m.probability_alive(1, 1, 2)),
            (ModifiedBetaGeo, lambda m: m.expected_purchases(1)),
            (ParetoNBD, lambda m: m.conditional_expected_purchases(1, 1, 1, 2)),
            (GammaGamma, lambda m: m.conditional_expected_spend(1, 10)),
            (BetaGeoBetaBinom, lambda m: m.expected_purchases(3)),
            (ShiftedBetaGeo, lambda m: m.survival(2)),
        ],
    )
    def test_unfitted(self, model: type, call: Any) -> None:
        """Predicting before fit raises NotFittedError with the scikit-learn message."""
        name = model.__name__
        with pytest.raises(
            NotFittedError, match=f"This {name} instance is not fitted yet. Call 'fit' first."
        ):
            call(model())

    def test_gamma_gamma_and_discrete_inputs(self) -> None:
        """Gamma-Gamma needs repeat buyers with positive spend; BG/BB and sBG check their inputs."""
        with pytest.raises(DataError, match="no repeat buyers"):
            GammaGamma().fit(frequency=[0, 0], monetary_value=[0.0, 0.0])
        with pytest.raises(DataError, match="monetary_value must be > 0"):
            GammaGamma().fit(frequency=[1, 2], monetary_value=[0.0, 3.0])
        with pytest.raises(DataError, match="recency must be <= n_periods"):
            BetaGeoBetaBinom().fit(frequency=[1], recency=[7], n_periods=[6])
        with pytest.raises(DataError, match="frequency must be <= recency"):
            BetaGeoBetaBinom().fit(frequency=[3], recency=[2], n_periods=[6])
        with pytest.raises(DataError, match="non-increasing"):
            ShiftedBetaGeo().fit(survivors=[100, 90, 95])
        with pytest.raises(DataError, match="penalizer_coef"):
            BetaGeo(penalizer_coef=-1.0).fit(**GOOD)

    def test_convergence_error_when_every_start_fails(self) -> None:
        """A likelihood that is never finite raises ConvergenceError with per-start diagnostics."""
        starts = [np.zeros(2), np.ones(2)]
        with pytest.raises(ConvergenceError, match="any of 2 starts") as info:
            maximise_likelihood(lambda p: float("nan"), ("u", "v"), starts, model="Toy")
        assert isinstance(info.value.diagnostics, list) and len(info.value.diagnostics) == 2
