"""customer_lifetime_value: closed form at zero discount, discounting, units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cxmodel.errors import DataError, SchemaError
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
