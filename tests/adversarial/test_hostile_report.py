"""The report, its figures and the sample data at the edges of time and size: a log in year 1,
one spanning years 1..9999 (a placeholder date in an export), a sample too large to hold."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from cxmodel import datasets, report
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog


def _report(log: InteractionLog) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return report.cx_report(log)


class TestReportAtTheEdgesOfTime:
    def test_a_log_in_year_one(self) -> None:
        """as_of in year 1 was an OverflowError: 90 days before it is no datetime."""
        log = InteractionLog.from_arrays(
            ["a", "a"], ["0001-01-01T00:00Z", "0001-02-01T00:00Z"], ["purchase"] * 2, value=[1, 2]
        )
        assert "Overview" in str(_report(log))

    def test_a_placeholder_date_in_year_one(self) -> None:
        """One row in year 1 among rows in 2024 drew a heatmap of 24,000 months (19 MB of SVG,
        two minutes), and a log reaching 9999 failed in matplotlib (dates before year 1 in the
        margins of the firings plot); the heatmap shows 36 months and the axis stays in range."""
        pytest.importorskip("matplotlib")
        log = InteractionLog.from_arrays(
            ["a", "b", "a", "c"],
            ["0001-01-01T00:00Z", "2024-12-31T23:59Z", "2024-06-01T00:00Z", "9999-12-31T00:00Z"],
            ["purchase"] * 4,
            value=[1.0, 2.0, 3.0, 4.0],
        )
        built = _report(log)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            html = built.to_html()
        assert len(html) < 1_000_000
        assert "the first 36 of" in html


def test_sample_size_is_bounded() -> None:
    """synthetic(10**11) was a MemoryError (745 GiB): exit status 3, 'a bug', on the CLI."""
    with pytest.raises(DataError, match="at most 10,000,000"):
        datasets.synthetic(10**11)
