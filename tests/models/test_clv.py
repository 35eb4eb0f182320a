"""customer_lifetime_value: closed form at zero discount, discounting, units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.models import BetaGeo, GammaGamma, ParetoNBD, RFMSummary, customer_lifetime_value

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def setup() -> tuple[RFMSummary, BetaGeo, GammaGamma]:
    d = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    s = RFMSummary(
        customer_id=d["ID"].astype(int).astype(str).astype(object),
        frequency=d["x"],
        recency=d["t_x"],
        T=d["T"],
        monetary_value=d["zbar"],
        freq="W",
    )
    return s, BetaGeo().fit(s), GammaGamma().fit(s)


class TestCLV:
    def test_zero_discount_closed_form(self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]) -> None:
        """With discount 0 the value is spend x E[Y(horizon) | history]; flows sum to it."""
        s, bg, gg = setup
        clv = customer_lifetime_value(bg, gg, s, horizon=12, freq=4.0, discount_rate=0.0)
        want = gg.conditional_expected_spend(s.frequency, s.monetary_value) * (
            bg.conditional_expected_purchases(48.0, s.frequency, s.recency, s.T)
        )
        np.testing.assert_allclose(clv.value, want, rtol=1e-10)
        np.testing.assert_allclose(clv.cash_flows.sum(axis=1), clv.value, rtol=1e-12)
        assert np.all(clv.cash_flows >= 0)

    def test_discounting_per_period(self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]) -> None:
        """Period i's flow is the undiscounted incremental flow divided by (1 + d)^i."""
        s, bg, gg = setup
        flat = customer_lifetime_value(bg, gg, s, horizon=6, freq="M", discount_rate=0.0)
        disc = customer_lifetime_value(bg, gg, s, horizon=6, freq="M", discount_rate=0.01)
        factor = 1.01 ** -np.arange(1, 7)
        np.testing.assert_allclose(disc.cash_flows, flat.cash_flows * factor, rtol=1e-12)
        assert disc.period_length == pytest.approx(365.25 / 12 / 7)
        assert np.all(disc.value <= flat.value)

    def test_units_and_pandas(self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]) -> None:
        """freq="W" on a weekly summary is one week per period; to_pandas has clv + periods."""
        s, bg, gg = setup
        a = customer_lifetime_value(bg, gg, s, horizon=3, freq="W", discount_rate=0.0)
        b = customer_lifetime_value(bg, gg, s, horizon=3, freq=1.0, discount_rate=0.0)
        np.testing.assert_array_equal(a.value, b.value)
        df = a.to_pandas()
        assert list(df.columns) == ["clv", "period_1", "period_2", "period_3"]

    def test_pareto_transaction_model(self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]) -> None:
        """Any transaction model with conditional_expected_purchases works."""
        s, _, gg = setup
        pn = ParetoNBD().fit(s)
        clv = customer_lifetime_value(pn, gg, s, horizon=2, freq=26.0, discount_rate=0.05)
        assert np.all(np.isfinite(clv.value)) and clv.value.shape == (len(s),)

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"horizon": 0, "freq": "W", "discount_rate": 0.0}, DataError),
            ({"horizon": 2, "freq": "W", "discount_rate": -0.1}, DataError),
            ({"horizon": 2, "freq": "Q", "discount_rate": 0.0}, SchemaError),
            ({"horizon": 2, "freq": -1.0, "discount_rate": 0.0}, DataError),
        ],
    )
    def test_bad_arguments(
        self, setup: tuple[RFMSummary, BetaGeo, GammaGamma], kwargs: dict[str, object], error: type
    ) -> None:
        """Bad horizon, discount rate or period unit raise clear errors."""
        s, bg, gg = setup
        with pytest.raises(error):
            customer_lifetime_value(bg, gg, s, **kwargs)  # type: ignore[arg-type]


class TestSilentMistakes:
    @pytest.mark.parametrize(
        ("rate", "meant"),
        [pytest.param(10, r"0\.1 \(10%\)", id="10-percent"), pytest.param(1, r"0\.01", id="1")],
    )
    def test_discount_rate_as_a_percent(
        self, setup: tuple[RFMSummary, BetaGeo, GammaGamma], rate: float, meant: str
    ) -> None:
        """A rate of 1 or more is a percentage typed as a number: refused with a did-you-mean
        (10 per period once quietly divided the second month's value by 121)."""
        s, bg, gg = setup
        with pytest.raises(DataError, match=rf"did you mean discount_rate={meant}"):
            customer_lifetime_value(bg, gg, s, horizon=2, freq="M", discount_rate=rate)

    def test_summary_in_another_unit_than_the_fit(
        self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]
    ) -> None:
        """A model fitted in weeks and a summary in days: the recency and T would be read as
        weeks (7 times too long), so the call is refused naming both units."""
        s, bg, gg = setup
        days = RFMSummary(
            customer_id=s.customer_id,
            frequency=s.frequency,
            recency=s.recency * 7,
            T=s.T * 7,
            monetary_value=s.monetary_value,
            freq="D",
        )
        with pytest.raises(SchemaError, match=r"fitted on a summary in 'W'.*summary is in 'D'"):
            customer_lifetime_value(bg, gg, days, horizon=2, freq="M", discount_rate=0.01)

    def test_infinite_spend_is_counted(self, setup: tuple[RFMSummary, BetaGeo, GammaGamma]) -> None:
        """A spend model with q <= 1 gives one-time buyers an infinite value: a warning counts
        them instead of an unexplained inf in the total."""
        s, bg, _ = setup
        gg = GammaGamma()
        gg.params_ = {"p": 2.0, "q": 0.8, "gamma": 10.0}
        one_time = int(np.count_nonzero(s.frequency == 0))
        with pytest.warns(DataWarning, match=rf"{one_time:,} of {len(s):,} customers get an inf"):
            clv = customer_lifetime_value(bg, gg, s, horizon=2, freq="M", discount_rate=0.01)
        assert int(np.count_nonzero(np.isinf(clv.value))) == one_time


class TestLifetimesMonth:
    def test_lifetimes_month_is_4345_weeks(self) -> None:
        """lifetimes' customer_lifetime_value(..., time=12, discount_rate=0.01, freq="W")
        counts a month as 4.345 weeks (30 days for "D"); freq=4.345 reproduces it, while
        freq="M" uses 365.25 / 12 / 7 = 4.348 weeks. Reference: lifetimes 0.11.3 with the
        published CDNOW BG/NBD (r 0.243, alpha 4.414, a 0.793, b 2.426) and Gamma-Gamma
        (p 6.25, q 3.74, gamma 15.44) parameters set, not fitted."""
        bg, gg = BetaGeo(), GammaGamma()
        bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
        gg.params_ = {"p": 6.25, "q": 3.74, "gamma": 15.44}
        s = RFMSummary(
            customer_id=np.array(["a", "b", "c", "d"], dtype=object),
            frequency=np.array([0.0, 2, 7, 1]),
            recency=np.array([0.0, 30.43, 35.0, 2.0]),
            T=np.array([38.86, 38.86, 37.0, 32.0]),
            monetary_value=np.array([0.0, 25.0, 40.5, 12.0]),
            freq="W",
        )
        lifetimes = [8.369004358920185, 39.487295910529305, 226.58704631469638, 6.647643662841816]
        same = customer_lifetime_value(bg, gg, s, horizon=12, freq=4.345, discount_rate=0.01)
        np.testing.assert_allclose(same.value, lifetimes, rtol=1e-12)
        months = customer_lifetime_value(bg, gg, s, horizon=12, freq="M", discount_rate=0.01)
        assert months.period_length == pytest.approx(365.25 / 12 / 7)
        assert np.all(months.value > same.value)
