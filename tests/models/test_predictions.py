"""Predictions: agreement with lifetimes on CDNOW, probability identities, numerical robustness."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)

DATA = Path(__file__).parent / "data"
MODELS = [BetaGeo, ModifiedBetaGeo, ParetoNBD]


@pytest.fixture(scope="module")
def cdnow() -> np.ndarray:
    return np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )


@pytest.fixture(scope="module")
def fitted(cdnow: np.ndarray) -> dict[type, Any]:
    return {m: m().fit(frequency=cdnow["x"], recency=cdnow["t_x"], T=cdnow["T"]) for m in MODELS}


def _lifetimes_twin(model: Any) -> Any:
    """A lifetimes fitter carrying our parameters (lifetimes is only a test oracle)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf = pytest.importorskip("lifetimes")
        pd = pytest.importorskip("pandas")
    cls = {
        "BetaGeo": lf.BetaGeoFitter,
        "ModifiedBetaGeo": lf.ModifiedBetaGeoFitter,
        "ParetoNBD": lf.ParetoNBDFitter,
    }[type(model).__name__]
    twin = cls()
    twin.params_ = pd.Series(model.params_)
    return twin


class TestAgainstLifetimes:
    @pytest.mark.parametrize("model", MODELS)
    def test_probability_alive_and_conditional(
        self, fitted: dict[type, Any], cdnow: np.ndarray, model: type
    ) -> None:
        """P(alive) and E[Y(t) | history] equal lifetimes' closed forms to 1e-10."""
        m = fitted[model]
        twin = _lifetimes_twin(m)
        x, t_x, big_t = cdnow["x"], cdnow["t_x"], cdnow["T"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pa = twin.conditional_probability_alive(x, t_x, big_t)
            ce = twin.conditional_expected_number_of_purchases_up_to_time(10.0, x, t_x, big_t)
            ex = twin.expected_number_of_purchases_up_to_time(np.array([1.0, 10.0, 52.0]))
        np.testing.assert_allclose(m.probability_alive(x, t_x, big_t), pa, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            m.conditional_expected_purchases(10.0, x, t_x, big_t), ce, rtol=1e-9, atol=1e-12
        )
        np.testing.assert_allclose(m.expected_purchases([1.0, 10.0, 52.0]), ex, rtol=1e-10)

    @pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
    def test_pmf_matches_lifetimes(self, fitted: dict[type, Any], model: type) -> None:
        """P(X(t) = n) equals lifetimes' for BG/NBD and MBG/NBD."""
        m = fitted[model]
        twin = _lifetimes_twin(m)
        for n in (0, 1, 3, 7):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = twin.probability_of_n_purchases_up_to_time(20.0, n)
            assert m.probability_of_purchases(n, 20.0)[0] == pytest.approx(want, rel=1e-10)


class TestIdentities:
    @pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
    def test_pmf_sums_to_one_with_mean_e_x(self, fitted: dict[type, Any], model: type) -> None:
        """sum_n P(X(t)=n) = 1 and sum_n n P(X(t)=n) = E[X(t)]."""
        m = fitted[model]
        n = np.arange(0, 4000.0)
        p = m.probability_of_purchases(n, 20.0)
        assert p.sum() == pytest.approx(1.0, abs=1e-10)
        assert (n * p).sum() == pytest.approx(m.expected_purchases(20.0)[0], rel=1e-9)

    @settings(max_examples=80, deadline=None)
    @given(
        x=st.integers(0, 5000),
        frac=st.floats(0.0, 1.0),
        big_t=st.floats(1.0, 20000.0),
        t=st.floats(0.0, 5000.0),
    )
    def test_robust_finite(
        self, fitted: dict[type, Any], x: int, frac: float, big_t: float, t: float
    ) -> None:
        """Any valid history (frequency to 5000, T to ~55 years in days) gives finite outputs."""
        t_x = 0.0 if x == 0 else frac * big_t
        for m in fitted.values():
            pa = m.probability_alive(x, t_x, big_t)
            ce = m.conditional_expected_purchases(t, x, t_x, big_t)
            ll = m.log_likelihood(x, t_x, big_t)
            assert np.all(np.isfinite(pa)) and np.all((pa >= 0) & (pa <= 1))
            assert np.all(np.isfinite(ce)) and np.all(ce >= -1e-12)
            assert np.all(np.isfinite(ll))

    @pytest.mark.parametrize("model", MODELS)
    def test_monotone_in_horizon(self, fitted: dict[type, Any], model: type) -> None:
        """E[X(t)] and E[Y(t) | history] increase with t; zero at t = 0."""
        m = fitted[model]
        t = np.linspace(0, 100, 11)
        ex = m.expected_purchases(t)
        ce = m.conditional_expected_purchases(t, 3.0, 20.0, 30.0)
        assert ex[0] == 0 and ce[0] == 0
        assert np.all(np.diff(ex) > 0) and np.all(np.diff(ce) > 0)

    @pytest.mark.parametrize("model", MODELS)
    def test_high_frequency_recent_is_alive(self, fitted: dict[type, Any], model: type) -> None:
        """A customer with thousands of purchases, the last at T, is alive with no overflow."""
        pa = fitted[model].probability_alive(3000.0, 520.0, 520.0)
        assert np.isfinite(pa[0]) and pa[0] > 0.9

    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.filterwarnings("ignore::cxmodel.errors.ConvergenceWarning")  # boundary optima
    def test_identical_histories_fit(self, model: type) -> None:
        """All-identical histories fit without NaN (the optimum may sit on a boundary)."""
        m = model().fit(
            frequency=np.full(200, 3.0), recency=np.full(200, 5.0), T=np.full(200, 10.0)
        )
        assert all(np.isfinite(v) for v in m.params_.values())
        assert np.isfinite(m.log_likelihood_)

    @pytest.mark.parametrize("model", MODELS)
    @pytest.mark.filterwarnings("ignore::cxmodel.errors.ConvergenceWarning")  # boundary optima
    def test_extreme_data_sets_fit(self, model: type) -> None:
        """Frequencies in the thousands over 30 years of days fit finite.

        The optimum may lie on a boundary (``convergence_`` says so); nothing overflows or is NaN.
        (All-zero frequencies have no estimable parameters: see test_transaction.py.)
        """
        rng = np.random.default_rng(0)
        big_t = np.full(200, 3650 * 3.0)
        heavy = model().fit(
            frequency=rng.integers(1000, 5000, 200).astype(float),
            recency=big_t * rng.uniform(0.5, 1.0, 200),
            T=big_t,
        )
        assert all(np.isfinite(v) and v > 0 for v in heavy.params_.values())
        assert np.isfinite(heavy.log_likelihood_)
        assert np.isfinite(heavy.convergence_.gradient_norm)
        assert np.all(
            np.isfinite(heavy.conditional_expected_purchases(52.0, 3000.0, 10000.0, 10950.0))
        )

    @pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
    def test_a_equal_one_is_the_limit(self, model: type) -> None:
        """At a = 1 (0/0 in the closed forms) predictions are the continuous limit, not inf/NaN."""
        vals = []
        for a in (0.999, 1.0, 1.001):
            m = model()
            m.params_ = {"r": 0.3, "alpha": 4.0, "a": a, "b": 2.0}
            vals.append(
                (
                    m.expected_purchases(10.0)[0],
                    m.conditional_expected_purchases(10.0, 3, 20.0, 30.0)[0],
                )
            )
        for j in range(2):
            assert min(vals[0][j], vals[2][j]) < vals[1][j] < max(vals[0][j], vals[2][j])


class TestOtherModels:
    def test_gamma_gamma_spend(self, cdnow: np.ndarray) -> None:
        """Conditional spend is a credibility-weighted mean: between population mean and zbar."""
        m = GammaGamma().fit(frequency=cdnow["x"], monetary_value=cdnow["zbar"])
        p, q, g = m.params_["p"], m.params_["q"], m.params_["gamma"]
        pop = p * g / (q - 1)
        assert m.conditional_expected_spend(0, 0)[0] == pytest.approx(pop)
        e = m.conditional_expected_spend(cdnow["x"], cdnow["zbar"])
        rep = cdnow["x"] > 0
        zbar = cdnow["zbar"][rep]
        assert np.all(e[rep] >= np.minimum(zbar, pop) - 1e-9)
        assert np.all(e[rep] <= np.maximum(zbar, pop) + 1e-9)
        assert np.all(np.isfinite(e))

    def test_bgbb_probability_alive_and_expectations(self) -> None:
        """BG/BB: P(alive) in [0, 1]; E[X(n)] increases; conditional expectations finite."""
        v = np.genfromtxt(DATA / "donations.csv", delimiter=",", names=True)
        m = BetaGeoBetaBinom().fit(
            frequency=v["frequency"],
            recency=v["recency"],
            n_periods=v["periods"],
            weights=v["weights"],
        )
        pa = m.probability_alive(v["frequency"], v["recency"], v["periods"])
        assert np.all((pa > 0) & (pa <= 1))
        assert pa[-1] > pa[1]  # 6 of 6 is likelier alive than 1 at the first opportunity
        ex = m.expected_purchases(np.arange(0, 11.0))
        assert ex[0] == 0 and np.all(np.diff(ex) > 0)
        ce = m.conditional_expected_purchases(5.0, v["frequency"], v["recency"], v["periods"])
        assert np.all(np.isfinite(ce) & (ce >= 0))
        k = np.arange(0, 11.0)
        pmf = m.probability_of_purchases(k, 10.0)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert (k * pmf).sum() == pytest.approx(m.expected_purchases(10.0)[0], rel=1e-10)

    def test_bgbb_gamma_one_and_gg_q_below_one(self) -> None:
        """BG/BB at gamma = 1 is the continuous limit; Gamma-Gamma with q <= 1 gives inf, not < 0."""
        vals = []
        for g in (0.999, 1.0, 1.001):
            m = BetaGeoBetaBinom()
            m.params_ = {"alpha": 1.2, "beta": 0.75, "gamma": g, "delta": 2.8}
            vals.append(
                m.expected_purchases(6.0)[0] + m.conditional_expected_purchases(5.0, 2, 4, 6)[0]
            )
        assert min(vals[0], vals[2]) < vals[1] < max(vals[0], vals[2])
        gg = GammaGamma()
        gg.params_ = {"p": 2.0, "q": 0.8, "gamma": 10.0}
        with pytest.warns(DataWarning, match=r"1 of 3 customers get an infinite expected spend"):
            out = gg.conditional_expected_spend([0, 1, 3], [0.0, 20.0, 30.0])
        assert out[0] == np.inf and np.all(np.isfinite(out[1:])) and np.all(out[1:] > 0)

    def test_sbg_survival_and_retention(self) -> None:
        """S(0) = 1, S decreasing, r(t) = S(t)/S(t-1) and increasing (survivor selection)."""
        m = ShiftedBetaGeo().fit(survivors=[1000, 869, 743, 653, 593, 551, 517, 491])
        t = np.arange(0, 13.0)
        s = m.survival(t)
        assert s[0] == pytest.approx(1.0)
        assert np.all(np.diff(s) < 0)
        np.testing.assert_allclose(m.retention(t[1:]), s[1:] / s[:-1], rtol=1e-12)
        assert np.all(np.diff(m.retention(t[1:])) > 0)
