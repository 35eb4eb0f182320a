"""Tests of calendar period labels and indexes: days, Monday weeks, months and quarters of UTC
times read in a time zone (hand-computed), and labels of indexes agreeing with labels of times."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._periods import PERIODS, index_labels, period_index, period_labels
from cxmodel._time import to_us
from cxmodel.errors import SchemaError


def _us(*times: str) -> np.ndarray:
    return np.array([to_us(t) for t in times], dtype=np.int64)


class TestPeriodLabels:
    @pytest.mark.parametrize(
        ("period", "expected"),
        [
            ("day", ["2024-03-05", "2024-12-31"]),
            ("week", ["2024-03-04", "2024-12-30"]),  # Mondays (2024-12-31 is a Tuesday)
            ("month", ["2024-03", "2024-12"]),
            ("quarter", ["2024Q1", "2024Q4"]),
        ],
    )
    def test_utc(self, period: str, expected: list[str]) -> None:
        """A Tuesday in March and New Year's Eve, in UTC."""
        t = _us("2024-03-05T12:00:00Z", "2024-12-31T23:59:59Z")
        assert expected == period_labels(t, period).tolist()

    def test_time_zone_moves_the_day_across_a_year(self) -> None:
        """03:00 UTC on 1 January is still 31 December in New York (UTC-5)."""
        t = _us("2024-01-01T03:00:00Z")
        assert period_labels(t, "day", "America/New_York").tolist() == ["2023-12-31"]
        assert period_labels(t, "quarter", "America/New_York").tolist() == ["2023Q4"]
        assert period_labels(t, "quarter").tolist() == ["2024Q1"]

    def test_daylight_saving_offset(self) -> None:
        """Paris is UTC+1 in winter and UTC+2 from 31 March 2024: 22:30 UTC is the next day
        in summer, not in winter."""
        t = _us("2024-03-30T22:30:00Z", "2024-04-01T22:30:00Z")
        assert period_labels(t, "day", "Europe/Paris").tolist() == ["2024-03-30", "2024-04-02"]

    def test_unknown_period(self) -> None:
        """Only day, week, month and quarter exist."""
        with pytest.raises(SchemaError, match=r"period must be one of .*got 'year'"):
            period_labels(_us("2024-01-01T00:00:00Z"), "year")
        with pytest.raises(SchemaError, match="got 'year'"):
            period_index(_us("2024-01-01T00:00:00Z"), "year")

    @pytest.mark.parametrize(
        ("period", "meant"),
        [
            ("monthly", "month"),
            ("Month", "month"),
            ("daily", "day"),
            ("W", "week"),
            ("Q", "quarter"),
        ],
    )
    def test_misspelt_period_names_the_one_meant(self, period: str, meant: str) -> None:
        """Report wording and pandas aliases are refused with the period they mean."""
        with pytest.raises(SchemaError, match=f"got '{period}'; did you mean '{meant}'"):
            period_labels(_us("2024-01-01T00:00:00Z"), period)
        with pytest.raises(SchemaError, match=f"did you mean '{meant}'"):
            period_index(_us("2024-01-01T00:00:00Z"), period)


class TestPeriodIndex:
    def test_consecutive_periods_differ_by_one(self) -> None:
        """31 January and 1 February are months 648 and 649 after 1970-01 (54 years)."""
        t = _us("2024-01-31T00:00:00Z", "2024-02-01T00:00:00Z", "2024-04-01T00:00:00Z")
        assert period_index(t, "month").tolist() == [648, 649, 651]
        assert period_index(t, "quarter").tolist() == [216, 216, 217]

    def test_weeks_start_on_monday(self) -> None:
        """Sunday 3 March and Monday 4 March 2024 are in consecutive weeks."""
        t = _us("2024-03-03T12:00:00Z", "2024-03-04T00:00:00Z")
        a, b = period_index(t, "week").tolist()
        assert b - a == 1

    def test_empty(self) -> None:
        """No times, no indexes."""
        assert period_index(np.zeros(0, dtype=np.int64), "month").tolist() == []

    @settings(max_examples=60, deadline=None)
    @given(
        times=st.lists(st.integers(-(10**15), 4 * 10**15), min_size=1, max_size=20),
        period=st.sampled_from(PERIODS),
        zone=st.sampled_from([None, "Europe/Paris", "Asia/Kolkata", "America/New_York"]),
    )
    def test_labels_of_indexes_are_labels_of_times(
        self, times: list[int], period: str, zone: str | None
    ) -> None:
        """index_labels(period_index(t)) equals period_labels(t) in any zone."""
        us = np.array(times, dtype=np.int64)
        expected = period_labels(us, period, zone).tolist()
        assert expected == index_labels(period_index(us, period, zone), period).tolist()
