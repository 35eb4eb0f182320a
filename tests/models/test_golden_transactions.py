"""Golden tests from the raw CDNOW transactions: the 2,357-customer sample read with the public
CSV reader, summarised with ``rfm_summary`` and fitted, as a user who downloads the published
file would, reproduces the published summary and estimates.

The published summary measures ``t_x`` and ``T`` in weeks of 7 days from the first purchase to
the end of week 39 (1997-09-30), with the purchases of one day counted once: a summary in days
divided by 7. (``freq="W"`` floors to calendar weeks and counts a week's purchases once: a
different summary, with 2,248 repeat weeks instead of 2,457 repeat days.)
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from cxmodel.io import read_csv
from cxmodel.log import InteractionLog
from cxmodel.models import BetaGeo, GammaGamma, RFMSummary, rfm_summary
from tests.models.helpers import DATA, close_to_published


@pytest.fixture(scope="module")
def purchases(tmp_path_factory: pytest.TempPathFactory) -> InteractionLog:
    """The sample file as published (whitespace separated, without a header or a kind column),
    given a header line and read as purchases, with a date column and the UTC zone."""
    text = gzip.decompress((DATA / "CDNOW_sample.txt.gz").read_bytes()).decode("ascii")
    path: Path = tmp_path_factory.mktemp("cdnow") / "sample.txt"
    path.write_text("master_id customer_id date quantity value\n" + text, encoding="ascii")
    return read_csv(
        path,
        delimiter="whitespace",
        kind="purchase",
        mapping={"date": "timestamp"},
        timezone="UTC",
    )


@pytest.fixture(scope="module")
def calibration(purchases: InteractionLog) -> RFMSummary:
    return rfm_summary(purchases, as_of="1997-09-30T00:00Z", freq="D")


@pytest.fixture(scope="module")
def published() -> np.ndarray:
    return np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )


class TestFromTransactions:
    def test_the_file_reads_whole(self, purchases: InteractionLog) -> None:
        """Every one of the 6,919 rows is read, for 2,357 customers, 1997-01-01 .. 1998-06-30."""
        assert (len(purchases), purchases.n_customers, len(purchases.rejected)) == (6919, 2357, 0)
        stamps = purchases.column("timestamp")
        assert (str(stamps.min()), str(stamps.max())) == (
            "1997-01-01T00:00:00.000000",
            "1998-06-30T00:00:00.000000",
        )

    def test_summary_in_days_over_7_is_the_published_summary(
        self, calibration: RFMSummary, published: np.ndarray
    ) -> None:
        """Per customer: x equal, t_x and T within the 2-decimal rounding of the published file,
        zbar within half a cent."""
        order = np.argsort(calibration.customer_id.astype(int))
        assert np.array_equal(calibration.frequency[order], published["x"])
        assert np.abs(calibration.recency[order] / 7 - published["t_x"]).max() <= 0.005
        assert np.abs(calibration.T[order] / 7 - published["T"]).max() <= 0.005
        assert np.abs(calibration.monetary_value[order] - published["zbar"]).max() <= 0.0051

    def test_bg_nbd_in_weeks_is_the_published_fit(self, calibration: RFMSummary) -> None:
        """r 0.243, alpha 4.414 (per week), a 0.793, b 2.426, log-likelihood -9582.4."""
        model = BetaGeo().fit(
            frequency=calibration.frequency, recency=calibration.recency / 7, T=calibration.T / 7
        )
        for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
            assert close_to_published(model.params_[name], value, 3), (name, model.params_)
        assert abs(model.log_likelihood_ - -9582.4) <= 0.1
        # the expectation Fader, Hardie & Lee work through: x 2, t_x 30.43, T 38.86, 39 weeks on
        expected = model.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86)
        assert np.asarray(expected).tolist() == [pytest.approx(1.226, abs=5e-4)]

    def test_gamma_gamma_on_the_repeat_buyers(self, calibration: RFMSummary) -> None:
        """The 946 repeat buyers: p 6.25, q 3.74, gamma 15.44."""
        buyers = calibration.subset(calibration.frequency > 0)
        assert len(buyers) == 946
        model = GammaGamma().fit(buyers)
        for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
            assert close_to_published(model.params_[name], value, 2), (name, model.params_)
