"""Tests for the bundled CDNOW data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel._time import to_us
from cxmodel.datasets import cdnow, cdnow_summary
from cxmodel.errors import DataWarning
from cxmodel.metrics import churn_rate


class TestCdnow:
    def test_shape_and_range(self) -> None:
        """The master file has 69,659 purchases by 23,570 customers over 1997-01-01..1998-06-30."""
        log = cdnow()
        assert len(log) == 69659
        assert log.n_customers == 23570
        stamps = log.column("timestamp")
        assert stamps.min() == np.datetime64("1997-01-01T00:00:00", "us")
        assert stamps.max() == np.datetime64("1998-06-30T00:00:00", "us")

    def test_columns(self) -> None:
        """Every row is a purchase at midnight UTC with a positive CD count and a value."""
        log = cdnow()
        assert set(log.column("kind").tolist()) == {"purchase"}
        assert (log.timestamps % 86_400_000_000 == 0).all()
        assert (log.numeric("quantity") >= 1).all()
        assert (log.numeric("value") >= 0).all()
        assert round(float(log.numeric("value").sum()), 2) == 2500315.63

    def test_observed_until_the_end_of_the_last_day(self) -> None:
        """A date-only export observes its whole last day, as the raw file read with read_csv
        does: observed until 1998-06-30T23:59:59.999999 UTC, not midnight at its start."""
        assert cdnow().observed_until == to_us("1998-06-30T23:59:59.999999Z")

    def test_the_last_quarter_does_not_warn(self) -> None:
        """Q2 1998 ends with the export's last day: fully observed, no warning. A period one
        day longer still warns about that day."""
        log = cdnow()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            churn_rate(log, "1998-04-01Z", "1998-07-01Z")
        with pytest.warns(DataWarning, match=r"1\.0 days after the log's observation ends"):
            churn_rate(log, "1998-04-01Z", "1998-07-02Z")

    def test_first_customer(self) -> None:
        """Customer 00001 bought once, 1 CD for $11.77 on 1997-01-01."""
        log = cdnow()
        journey = log.journey("00001")
        assert len(journey) == 1
        assert journey.interactions[0].value == 11.77


class TestCdnowSummary:
    def test_summary(self) -> None:
        """The summary has 2,357 customers, 946 repeat buyers and a 38.86-week horizon at most."""
        s = cdnow_summary()
        assert len(s) == 2357
        assert int((s.x > 0).sum()) == 946
        assert float(s.x.sum()) == 2457.0
        assert float(s.T.max()) == 38.86
        assert (s.t_x <= s.T).all()
        assert set(s.to_dict()) == {"customer_id", "x", "t_x", "T", "zbar"}
        assert s.to_pandas().shape == (2357, 5)
        assert "2,357" in s._repr_html_()
