"""Tests of the transaction-model base: fits without information raise, fits that stop short
of converging warn, standard errors are computed lazily."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import ConvergenceWarning, DataError
from cxmodel.models import BetaGeo, ModifiedBetaGeo, ParetoNBD
from cxmodel.models._rfm import RFMSummary
from cxmodel.models._transaction import validate_history

MODELS = [
    pytest.param(BetaGeo, id="BetaGeo"),
    pytest.param(ModifiedBetaGeo, id="ModifiedBetaGeo"),
    pytest.param(ParetoNBD, id="ParetoNBD"),
]


def _simulated(n: int, seed: int) -> RFMSummary:
    """``n`` customers over 39 weeks from BG/NBD at CDNOW's parameters."""
    sim = BetaGeo()
    sim.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    summary: RFMSummary = sim.sample(n, T=39.0, random_state=seed)
    return summary


NO_INFORMATION = [
    pytest.param({"frequency": [0, 0, 0], "recency": [0, 0, 0], "T": [0, 0, 0]}, id="all-T-zero"),
    pytest.param({"frequency": [0.0], "recency": [0.0], "T": [0.0]}, id="one-new-customer"),
    pytest.param(
        {"frequency": [0, 2], "recency": [0, 5], "T": [0, 9], "weights": [4, 0]},
        id="only-weighted-customers-count",
    ),
]


class TestNoInformation:
    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.parametrize("data", NO_INFORMATION)
    def test_raises_data_error(self, model: type, data: dict[str, Any]) -> None:
        """Every T = 0: the likelihood is flat, so the fit refuses instead of 'converging'."""
        with pytest.raises(DataError, match=r"every one of the \d+ customers has T = 0"):
            model().fit(**data)

    @pytest.mark.parametrize("model", MODELS)
    def test_one_observed_customer_is_enough_to_try(self, model: type) -> None:
        """A single customer with T > 0 carries information: no DataError."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = model().fit(frequency=[0, 0, 1], recency=[0, 0, 3], T=[0, 0, 8])
        assert m.params_ is not None


class TestNoRepeatPurchases:
    @pytest.mark.parametrize("model", MODELS)
    def test_raises_data_error(self, model: type) -> None:
        """Every frequency 0: the likelihood is largest at a purchase rate of 0, which BG/NBD once
        reported as a converged fit with r = 1.6e-06 and a, b left at their start of 1."""
        with pytest.raises(DataError, match=r"none of the 50 customers made a repeat purchase"):
            model().fit(frequency=np.zeros(50), recency=np.zeros(50), T=np.linspace(5, 50, 50))

    @pytest.mark.parametrize("model", MODELS)
    def test_zero_weights_raise(self, model: type) -> None:
        """Weights that are all 0 count no customer: refused (the start point was returned)."""
        with pytest.raises(DataError, match=r"every one of the 3 weights is 0"):
            model().fit(frequency=[0, 1, 2], recency=[0, 3, 5], T=[10, 10, 10], weights=[0, 0, 0])


class TestConvergenceWarning:
    @pytest.mark.parametrize("model", [BetaGeo, ParetoNBD], ids=["BetaGeo", "ParetoNBD"])
    def test_boundary_fit_warns_and_reports(self, model: type) -> None:
        """Identical histories drive the parameters to a boundary: a warning, converged False."""
        with pytest.warns(ConvergenceWarning, match=r"does not fall as .*convergence_"):
            m = model().fit(
                frequency=np.full(200, 3.0), recency=np.full(200, 5.0), T=np.full(200, 10.0)
            )
        assert m.convergence_ is not None and not m.convergence_.converged
        assert m.convergence_.unbounded

    def test_parameter_at_the_edge_of_the_search_range_is_not_converged(self) -> None:
        """One customer: the optimiser reported success with a = 1.7e-11, at the edge of
        the range it searches; that is no optimum the data determine."""
        with pytest.warns(ConvergenceWarning, match=r"a=1.7\de-11.*a has reached the edge"):
            m = ModifiedBetaGeo().fit(frequency=[3], recency=[9], T=[10])
        assert m.convergence_ is not None and not m.convergence_.converged

    def test_converged_fit_is_silent(self) -> None:
        """A well-posed fit (customers simulated from BG/NBD) does not warn."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            m = BetaGeo().fit(_simulated(1000, seed=1))
        assert m.convergence_ is not None and m.convergence_.converged

    def test_histories_of_one_drop_out_probability_are_not_converged(self) -> None:
        """Poisson counts over the observation period, which BG/NBD fitted at a = 2.1e6,
        b = 9.1e6 and called converged: the likelihood keeps rising as a and b grow at a fixed
        ratio (every customer with the same drop-out probability), so a warning names them."""
        rng = np.random.default_rng(1)
        n = 300
        big_t = rng.uniform(20, 40, n)
        x = rng.poisson(2.0, n).astype(float)
        t_x = np.where(x > 0, big_t * rng.uniform(0.2, 1.0, n), 0.0)
        with pytest.warns(
            ConvergenceWarning,
            match="a and b grow without bound at a fixed ratio .* the spread of drop-out",
        ):
            m = BetaGeo().fit(frequency=x, recency=t_x, T=big_t)
        assert m.convergence_ is not None and m.convergence_.unbounded == ("a", "b")


class TestLazyStandardErrors:
    def test_computed_on_access_and_cached(self) -> None:
        """standard_errors_ is computed on first access, cached, and reset by a new fit."""
        from cxmodel.models import BetaGeo

        data = _simulated(600, seed=2)
        x, t_x, big_t = data.frequency, data.recency, data.T
        m = BetaGeo().fit(frequency=x, recency=t_x, T=big_t)
        assert m._se is None
        se = m.standard_errors_
        assert se is not None and set(se) == {"r", "alpha", "a", "b"}
        assert m.standard_errors_ is se
        m.fit(frequency=x[:500], recency=t_x[:500], T=big_t[:500])
        assert m.standard_errors_ is not se

    def test_pickle_before_access(self) -> None:
        """A fitted model pickles before its standard errors were computed, and they agree."""
        import pickle

        from cxmodel.models import ParetoNBD

        d = np.genfromtxt(
            Path(__file__).parent / "data" / "cdnow_customers_summary_with_transactions.csv",
            delimiter=",",
            names=True,
        )
        m = ParetoNBD().fit(frequency=d["x"], recency=d["t_x"], T=d["T"])
        copy = pickle.loads(pickle.dumps(m))
        assert copy.params_ == m.params_
        se = copy.standard_errors_
        assert se is not None and all(np.isfinite(v) and v > 0 for v in se.values())
        assert se == m.standard_errors_


class TestValidateHistory:
    def test_broadcasts_a_common_T(self) -> None:
        """One T for every customer is broadcast to the customers' length."""
        x, t_x, big_t = validate_history([0, 2], [0, 4], 10)
        assert (x.tolist(), t_x.tolist(), big_t.tolist()) == ([0.0, 2.0], [0.0, 4.0], [10.0, 10.0])

    @pytest.mark.parametrize(
        ("history", "match"),
        [
            (([1, 2], [1, 2, 3], [5, 5]), "same length, got 2, 3 and 2"),
            (([], [], []), "no customers"),
            (
                ([1, 1], [2, 6], [5, 5]),
                r"recency must be <= T, got recency .*6\.0.* > T .*5\.0.* at 1",
            ),
            (([0], [2], [5]), r"recency must be 0 when frequency is 0, got recency .*2\.0.* at 0"),
            (
                ([1, 0.5], [2, 1], [5, 5]),
                r"frequency must be whole numbers of repeat purchases .*got 0\.5 at 1",
            ),
        ],
        ids=["lengths", "empty", "recency-after-T", "recency-without-purchases", "fractional"],
    )
    def test_bad_histories(self, history: tuple[list[int], ...], match: str) -> None:
        """Inconsistent histories raise DataError naming the customer's position."""
        with pytest.raises(DataError, match=match):
            validate_history(*history)

    def test_empty_allowed(self) -> None:
        """allow_empty accepts no customers."""
        assert validate_history([], [], [], allow_empty=True)[0].size == 0
