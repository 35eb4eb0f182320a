"""Golden tests: published maximum-likelihood estimates on CDNOW, donations and the sBG cohorts.

Published values are printed to 3 (or 2) decimals, so each is compared at its printed precision:
``abs(fit - published) <= 1.5 * 10**-decimals`` or a relative difference of 1e-3, whichever is
looser. Log-likelihoods are compared to 0.1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxmodel.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    ShiftedBetaGeo,
)

DATA = Path(__file__).parent / "data"


def _close(got: float, published: float, decimals: int) -> bool:
    return abs(got - published) <= max(1.5 * 10.0**-decimals, 1e-3 * abs(published))


@pytest.fixture(scope="module")
def cdnow() -> np.ndarray:
    return np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )


@pytest.fixture(scope="module")
def donations() -> np.ndarray:
    return np.genfromtxt(DATA / "donations.csv", delimiter=",", names=True)


CDNOW_CASES = [
    (BetaGeo, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    (ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    (ModifiedBetaGeo, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None),
]


class TestCDNOW:
    @pytest.mark.parametrize(("model", "published", "ll"), CDNOW_CASES)
    def test_published_parameters(
        self, cdnow: np.ndarray, model: type, published: dict[str, float], ll: float | None
    ) -> None:
        """Each transaction model reproduces the published CDNOW estimates (weeks)."""
        m = model().fit(frequency=cdnow["x"], recency=cdnow["t_x"], T=cdnow["T"])
        for name, value in published.items():
            assert _close(m.params_[name], value, 3), (name, m.params_[name], value)
        if ll is not None:
            assert abs(m.log_likelihood_ - ll) <= 0.1
        assert m.convergence_.converged
        assert all(np.isfinite(v) and v > 0 for v in m.standard_errors_.values())

    def test_gamma_gamma(self, cdnow: np.ndarray) -> None:
        """Gamma-Gamma on the 946 repeat buyers: p 6.25, q 3.74, gamma 15.44."""
        assert int(np.sum(cdnow["x"] > 0)) == 946
        m = GammaGamma().fit(frequency=cdnow["x"], monetary_value=cdnow["zbar"])
        for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
            assert _close(m.params_[name], value, 2), (name, m.params_[name])

    def test_weights_equal_expanded_rows(self, cdnow: np.ndarray) -> None:
        """Fitting compressed (weighted) histories equals fitting the repeated rows."""
        x, t_x, big_t = cdnow["x"][:300], cdnow["t_x"][:300], cdnow["T"][:300]
        a = BetaGeo().fit(
            frequency=np.repeat(x, 2), recency=np.repeat(t_x, 2), T=np.repeat(big_t, 2)
        )
        b = BetaGeo().fit(frequency=x, recency=t_x, T=big_t, weights=np.full(300, 2.0))
        assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)


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
            assert _close(m.params_[name], value, 3), (name, m.params_[name])

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
        assert _close(m.params_["alpha"], alpha, 3)
        assert _close(m.params_["beta"], beta, 3)


class TestLazyStandardErrors:
    def test_computed_on_access_and_cached(self) -> None:
        """standard_errors_ is computed on first access, cached, and reset by a new fit."""
        from cxmodel.models import BetaGeo

        x = np.array([0, 1, 2, 0, 5, 1, 3, 0])
        t_x = np.array([0, 3.0, 5, 0, 9, 1, 8, 0])
        big_t = np.full(8, 10.0)
        m = BetaGeo().fit(frequency=x, recency=t_x, T=big_t)
        assert m._se is None
        se = m.standard_errors_
        assert se is not None and set(se) == {"r", "alpha", "a", "b"}
        assert m.standard_errors_ is se
        m.fit(frequency=x[:6], recency=t_x[:6], T=big_t[:6])
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
