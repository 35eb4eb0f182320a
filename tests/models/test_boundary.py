"""A fit is converged only at a maximum: customers simulated from moderate parameters fit to
one, silently; data that do not determine the parameters (one customer, customers with
identical histories) leave the likelihood rising, or level, towards the edge of the parameter
space, and the fit says so (a ConvergenceWarning naming the parameters, converged False)
however flat the optimiser's gradient was where it stopped."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import ConvergenceWarning, DataError
from cxmodel.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)
from cxmodel.models._boundary import outward_direction

SEED = 20260101


def _simulated_transactions(model: type, params: dict[str, float]) -> Callable[[], Any]:
    def fit() -> Any:
        sim = model()
        sim.params_ = dict(params)
        return model().fit(sim.sample(5000, T=39.0, random_state=SEED))

    return fit


def _simulated_spend() -> Any:
    sim = GammaGamma()
    sim.params_ = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    frequency = np.random.default_rng(SEED).integers(1, 10, 5000)
    x, m = sim.sample(5000, frequency=frequency, random_state=SEED)
    return GammaGamma().fit(frequency=x, monetary_value=m)


def _simulated_bgbb() -> Any:
    sim = BetaGeoBetaBinom()
    sim.params_ = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    data = sim.sample(5000, n_periods=6, random_state=SEED)
    return BetaGeoBetaBinom().fit(frequency=data.frequency, recency=data.recency, n_periods=data.T)


def _simulated_sbg() -> Any:
    sim = ShiftedBetaGeo()
    sim.params_ = {"alpha": 0.668, "beta": 3.806}
    return ShiftedBetaGeo().fit(survivors=sim.sample(5000, periods=7, random_state=SEED))


SIMULATED = [
    pytest.param(
        _simulated_transactions(BetaGeo, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        id="BetaGeo",
    ),
    pytest.param(
        _simulated_transactions(
            ModifiedBetaGeo, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
        ),
        id="ModifiedBetaGeo",
    ),
    pytest.param(
        _simulated_transactions(
            ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
        ),
        id="ParetoNBD",
    ),
    pytest.param(_simulated_spend, id="GammaGamma"),
    pytest.param(_simulated_bgbb, id="BetaGeoBetaBinom"),
    pytest.param(_simulated_sbg, id="ShiftedBetaGeo"),
]


@pytest.mark.parametrize("fit", SIMULATED)
def test_simulated_customers_fit_to_a_maximum(fit: Callable[[], Any]) -> None:
    """5,000 customers (a cohort of 5,000 for sBG) simulated from the published parameters:
    converged, nothing unbounded, no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit()
    assert model.convergence_.converged
    assert model.convergence_.unbounded == ()


TRANSACTION_MODELS = (BetaGeo, ModifiedBetaGeo, ParetoNBD)

ONE_CUSTOMER = [
    *(
        pytest.param(m, {"frequency": [3], "recency": [20.0], "T": [30.0]}, id=m.__name__)
        for m in TRANSACTION_MODELS
    ),
    pytest.param(GammaGamma, {"frequency": [3], "monetary_value": [20.0]}, id="GammaGamma"),
    pytest.param(
        BetaGeoBetaBinom,
        {"frequency": [3], "recency": [5], "n_periods": [6]},
        id="BetaGeoBetaBinom",
    ),
    # a cohort of one, who left in the second period
    pytest.param(ShiftedBetaGeo, {"survivors": [1, 1, 0]}, id="ShiftedBetaGeo"),
]

IDENTICAL = [
    *(
        pytest.param(
            m,
            {
                "frequency": np.full(200, 3.0),
                "recency": np.full(200, 20.0),
                "T": np.full(200, 30.0),
            },
            id=m.__name__,
        )
        for m in TRANSACTION_MODELS
    ),
    pytest.param(
        GammaGamma,
        {"frequency": np.full(50, 3.0), "monetary_value": np.full(50, 20.0)},
        id="GammaGamma",
    ),
    pytest.param(
        BetaGeoBetaBinom,
        {"frequency": np.full(50, 3.0), "recency": np.full(50, 5.0), "n_periods": np.full(50, 6.0)},
        id="BetaGeoBetaBinom",
    ),
    # every customer churning with probability 1/2 each period: no spread of churn to see
    pytest.param(
        ShiftedBetaGeo, {"survivors": [10000, 5000, 2500, 1250, 625]}, id="ShiftedBetaGeo"
    ),
]


def _run_off(model: type, data: dict[str, Any]) -> Any:
    """The fit of ``data``: it must warn that it ran off and say so in ``convergence_``."""
    with pytest.warns(ConvergenceWarning, match=r"the likelihood does not fall as .* so the data"):
        fitted = model().fit(**data)
    assert not fitted.convergence_.converged
    assert fitted.convergence_.unbounded
    assert all(np.isfinite(v) for v in fitted.params_.values())
    return fitted


@pytest.mark.parametrize(("model", "data"), ONE_CUSTOMER)
def test_one_customer_is_not_a_converged_fit(model: type, data: dict[str, Any]) -> None:
    """One customer's history determines no spread across customers."""
    _run_off(model, data)


@pytest.mark.parametrize(("model", "data"), IDENTICAL)
def test_identical_histories_are_not_a_converged_fit(model: type, data: dict[str, Any]) -> None:
    """Customers with one history between them show no spread across customers either."""
    _run_off(model, data)


NO_REPEAT = [
    *(
        pytest.param(
            m,
            {"frequency": np.zeros(50), "recency": np.zeros(50), "T": np.full(50, 30.0)},
            id=m.__name__,
        )
        for m in TRANSACTION_MODELS
    ),
    pytest.param(
        GammaGamma, {"frequency": np.zeros(50), "monetary_value": np.zeros(50)}, id="GammaGamma"
    ),
    pytest.param(
        BetaGeoBetaBinom,
        {"frequency": np.zeros(50), "recency": np.zeros(50), "n_periods": np.full(50, 6.0)},
        id="BetaGeoBetaBinom",
    ),
    # the contractual counterpart: nobody churned
    pytest.param(ShiftedBetaGeo, {"survivors": [50, 50, 50]}, id="ShiftedBetaGeo"),
]


@pytest.mark.parametrize(("model", "data"), NO_REPEAT)
def test_no_repeat_purchases_are_refused(model: type, data: dict[str, Any]) -> None:
    """No repeat purchase at all (no churn for sBG): refused before fitting, never a fit."""
    with pytest.raises(DataError):
        model().fit(**data)


class TestWarning:
    def test_names_the_parameters_and_what_the_data_lack(self) -> None:
        """One BG/NBD customer: r and alpha run off together, a to 0, b to infinity; the data
        lack the spread of purchase rates and any drop-out."""
        with pytest.warns(ConvergenceWarning) as seen:
            BetaGeo().fit(frequency=[3], recency=[20.0], T=[30.0])
        message = str(seen[0].message)
        assert "r and alpha grow without bound at a fixed ratio" in message
        assert "a shrinks towards 0 and b grows without bound" in message
        assert "do not determine the spread of purchase rates across customers" in message
        assert "the mean of the drop-out probabilities (it tends to 0)" in message
        assert "penalizer_coef > 0 keeps r, alpha and b finite" in message

    def test_no_penalty_advice_for_parameters_shrinking_to_zero(self) -> None:
        """The penalty is on the parameters' squares: it keeps none of them from 0, so a fit
        whose parameters only shrink (four customers, penalised: a and b) is not told to use
        it."""
        with pytest.warns(ConvergenceWarning) as seen:
            BetaGeo(penalizer_coef=0.01).fit(
                frequency=[2, 0, 5, 1], recency=[30.4, 0, 35, 10], T=[38.9] * 4
            )
        message = str(seen[0].message)
        assert "shrink towards 0" in message and "grow" not in message
        assert "penalizer_coef" not in message

    def test_sbg_suggests_no_penalty(self) -> None:
        """ShiftedBetaGeo takes no penalizer_coef."""
        with pytest.warns(ConvergenceWarning) as seen:
            ShiftedBetaGeo().fit(survivors=[10000, 5000, 2500, 1250, 625])
        message = str(seen[0].message)
        assert "alpha and beta grow without bound at a fixed ratio" in message
        assert "penalizer_coef" not in message


def test_predictions_keep_their_limit() -> None:
    """One customer with 3 repeat purchases in 30 weeks: in the limit every customer buys at
    the rate 3 / 30 and none drops out, so 10 more weeks hold 1 purchase and P(alive) is 1."""
    with pytest.warns(ConvergenceWarning):
        fitted = BetaGeo().fit(frequency=[3], recency=[20.0], T=[30.0])
    expected = fitted.conditional_expected_purchases(10.0, 3, 20.0, 30.0)
    assert expected[0] == pytest.approx(1.0, rel=1e-4)
    assert fitted.probability_alive(3, 20.0, 30.0)[0] == pytest.approx(1.0, abs=1e-4)


class TestOutwardDirection:
    def test_maximum(self) -> None:
        """A quadratic in log-parameters with its maximum at (1, 2): no direction."""
        centre = np.array([1.0, 2.0])

        def loglik(p: np.ndarray) -> float:
            return -float(np.sum((np.log(p) - centre) ** 2))

        assert outward_direction(loglik, centre, bound=25.0) is None

    def test_weak_but_determined_maximum(self) -> None:
        """A maximum whose curvature is small (log-likelihood 0.01 lower a factor e away, on
        a log-likelihood of -1e4) is still a maximum."""

        def loglik(p: np.ndarray) -> float:
            return -1e4 - 0.01 * float(np.log(p[0]) ** 2)

        assert outward_direction(loglik, np.zeros(1), bound=25.0) is None

    def test_ridge_at_a_fixed_ratio(self) -> None:
        """Rising as x and y grow at a fixed ratio and level in z: the ridge and z, moved away
        from 1 (the way they ran off)."""

        def loglik(p: np.ndarray) -> float:
            return -1.0 / p[0] - 1.0 / p[1] - float(np.log(p[0] / p[1]) ** 2)

        theta = np.log([1e4, 1e4, 0.5])
        assert outward_direction(loglik, theta, bound=25.0).tolist() == [1.0, 1.0, -1.0]

    def test_probe_stays_in_the_search_range(self) -> None:
        """A parameter 0.2 from the edge is probed a step of 0.2 outwards, not beyond."""
        seen: list[float] = []

        def loglik(p: np.ndarray) -> float:
            seen.append(float(np.log(p[0])))
            return -(float(np.log(p[0]) - 24.8) ** 2)

        assert outward_direction(loglik, np.array([24.8]), bound=25.0) is None
        assert max(seen) <= 25.0
