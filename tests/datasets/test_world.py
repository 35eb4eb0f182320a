"""SyntheticTruth and SyntheticWorld: the parameters, the planted service rates, and the
result conversions, on a hand-built two-customer truth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cxmodel.datasets import SyntheticTruth, SyntheticWorld
from cxmodel.datasets import _service as service
from cxmodel.log import InteractionLog

T = np.array(["2024-01-01T00:00", "2024-02-01T12:00"], dtype="datetime64[us]")
NAT = np.array(["NaT", "NaT"], dtype="datetime64[us]")


def truth() -> SyntheticTruth:
    """Two customers: A bought on 1 Jan and churned on 1 Feb, B signed up and never bought."""
    f = np.array([0.5, 0.25])
    i = np.array([1, 0], dtype=np.int64)
    b = np.array([True, False])
    return SyntheticTruth(
        time_unit="week",
        r=np.float64(0.25),  # a NumPy scalar, as the generator stores it
        alpha=4.0,
        a=0.75,
        b=2.5,
        p=6.0,
        q=3.5,
        gamma=15.0,
        customers=np.array(["A", "B"], dtype=object),
        signup=T,
        first_purchase=np.array([T[0], np.datetime64("NaT")], dtype="datetime64[us]"),
        purchase_rate=f,
        dropout_probability=f,
        spend_rate=f,
        mean_spend=np.array([12.0, 24.0]),
        churned=b,
        death_time=np.array([T[1], np.datetime64("NaT")], dtype="datetime64[us]"),
        friction=f,
        satisfaction=f,
        final_satisfaction=f,
        late_deliveries=i,
        unresolved_tickets=i,
        preferred_channel=np.array(["email", "sms"], dtype=object),
        email_open_probability=f,
        push_open_probability=f,
        marketing_consent=b,
        offer_purchases=i,
        exit_time=NAT,
    )


def world() -> SyntheticWorld:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True),
            "kind": ["purchase", "view", "view"],
        }
    )
    return SyntheticWorld(InteractionLog.from_pandas(frame), truth())


class TestSyntheticTruth:
    def test_parameters(self) -> None:
        """The seven model parameters by name, as Python floats."""
        got = truth().parameters
        expected = {"r": 0.25, "alpha": 4.0, "a": 0.75, "b": 2.5, "p": 6.0, "q": 3.5, "gamma": 15.0}
        assert expected == got
        assert all(type(v) is float for v in got.values())

    def test_service_parameters(self) -> None:
        """The generator's planted after-sales rates, by name."""
        expected = {
            "transfer_rate": service.TRANSFER_RATE,
            "reopen_rate": service.REOPEN_RATE,
            "return_rate_on_time": service.RETURN_RATE_ON_TIME,
            "return_rate_late": service.RETURN_RATE_LATE,
            "offer_share": service.OFFER_SHARE,
            "offer_take_up": service.OFFER_TAKE_UP,
            "offer_value": service.OFFER_VALUE,
            "offer_delay_days": service.OFFER_DELAY_DAYS,
            "notice_share": service.NOTICE_SHARE,
            "exit_probability": service.EXIT_PROBABILITY,
        }
        assert expected == truth().service_parameters

    def test_to_dict(self) -> None:
        """Columns as plain lists (datetimes as ISO text, NaT as 'NaT'), then the time unit
        and the parameters."""
        got = truth().to_dict()
        expected: dict[str, Any] = {
            "customers": ["A", "B"],
            "first_purchase": ["2024-01-01T00:00:00.000000", "NaT"],
            "death_time": ["2024-02-01T12:00:00.000000", "NaT"],
            "churned": [True, False],
            "late_deliveries": [1, 0],
            "mean_spend": [12.0, 24.0],
            "time_unit": "week",
            "r": 0.25,
            "gamma": 15.0,
        }
        assert expected == {k: got[k] for k in expected}
        assert len(got) == 28  # 20 columns, the time unit and 7 parameters

    def test_repr_shows_the_parameters(self) -> None:
        """A short summary: rows, time unit and parameters on the first lines."""
        text = repr(truth())
        assert text.startswith("SyntheticTruth(2 rows, time_unit=week, r=0.25, alpha=4")
        assert "gamma=15" in text


class TestSyntheticWorld:
    def test_to_dict(self) -> None:
        """The log's summary and the truth's dict."""
        w = world()
        expected = {"log": w.log.summary(), "truth": w.truth.to_dict()}
        assert expected == w.to_dict()

    def test_to_pandas_is_the_log(self) -> None:
        """The frame is the log's: three rows, its columns."""
        w = world()
        got = w.to_pandas()
        assert list(w.log.to_pandas().columns) == list(got.columns)
        assert got["customer_id"].astype(str).tolist() == ["A", "A", "B"]

    def test_repr_and_html(self) -> None:
        """Both name the counts of interactions and customers."""
        w = world()
        expected = "SyntheticWorld(3 interactions, 2 customers)"
        assert expected == repr(w)
        assert expected in w._repr_html_()

    def test_traits_default_empty(self) -> None:
        assert world().traits == {}
