"""Durations and times at the edges: every public entry point answers or raises a
``CXModelError``, and never answers with a time it silently wrapped or a duration it dropped.

Durations are limited to 100 years (36,525 days, 1,200 calendar months), as in the trigger
language; numpy ``datetime64`` values of every unit are range-checked in their own unit (numpy
converts between units without a word about overflow).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from typing import Any

import numpy as np
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import datasets, journey, metrics, models
from cxmodel._time import parse_duration, to_us
from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import evaluate, parse

AS_OF = "2024-10-01T00:00:00Z"
HUNDRED_YEARS_US = 36_525 * 86_400 * 1_000_000
FIRST_US, LAST_US = -62_135_596_800 * 10**6, 253_402_300_799 * 10**6  # years 1..9999
US_PER_UNIT = {
    "W": 7 * 86_400 * 10**6, "D": 86_400 * 10**6, "h": 3_600 * 10**6, "m": 60 * 10**6,
    "s": 10**6, "ms": 10**3, "us": 1,
}  # fmt: skip
TICKS_PER_US = {"ns": 10**3, "ps": 10**6, "fs": 10**9, "as": 10**12}
UNITS = ["us", "ms", "s", "m", "h", "d", "days", "w", "mo", "months", "y", "years", "fortnights"]


@pytest.fixture(scope="module")
def world() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = datasets.synthetic(30, seed=0).log
        rules = parse("trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%")
        return log, evaluate(rules, log, as_of=AS_OF)


class TestDurationLimits:
    @pytest.mark.parametrize(
        ("duration", "message"),
        [
            pytest.param("100000000000 days", "longer than 100 years", id="text-days"),
            pytest.param("52596001 minutes", "longer than 100 years", id="text-minutes"),
            pytest.param("101 years", "longer than 100 years", id="text-years"),
            pytest.param("99999999 months", "longer than 100 years", id="text-months"),
            pytest.param(dt.timedelta(days=999_999_999), "longer than 100 years", id="timedelta"),
            pytest.param(1e30, "longer than 100 years", id="seconds"),
            pytest.param(relativedelta(months=1201), "longer than 100 years", id="relativedelta"),
            pytest.param(relativedelta(days=5), "more than whole months", id="relativedelta-days"),
            pytest.param(relativedelta(months=1, day=31), "more than whole months", id="day="),
            pytest.param(relativedelta(months=-3), "must be positive", id="negative-months"),
        ],
    )
    def test_refused(self, duration: Any, message: str) -> None:
        """A duration past 100 years, or a calendar duration holding days or a negative count,
        is a SchemaError saying so (it overflowed, or the days were dropped without a word)."""
        with pytest.raises(SchemaError, match=message):
            parse_duration(duration)

    @pytest.mark.parametrize(
        ("duration", "expected"),
        [
            pytest.param("36525 days", dt.timedelta(days=36_525), id="100-years-of-days"),
            pytest.param("1200 months", relativedelta(months=1200), id="1200-months"),
            pytest.param(relativedelta(years=2), relativedelta(months=24), id="years"),
            pytest.param(3_155_760_000, dt.timedelta(days=36_525), id="seconds"),
        ],
    )
    def test_the_limit_itself_is_taken(self, duration: Any, expected: Any) -> None:
        """Exactly 100 years is a duration."""
        assert parse_duration(duration) == expected

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda log, f: metrics.customer_lifetimes(log, AS_OF, inactivity=HUGE),
                         id="customer_lifetimes"),
            pytest.param(lambda log, f: metrics.churn_rate(log, "2024-04-01T00:00Z", AS_OF,
                                                           lookback=HUGE), id="churn_rate"),
            pytest.param(lambda log, f: metrics.recovery_rate(f, log, window=HUGE),
                         id="recovery_rate"),
            pytest.param(lambda log, f: metrics.action_effect(f, log, outcome="purchase",
                                                              window=HUGE, as_of=AS_OF),
                         id="action_effect"),
            pytest.param(lambda log, f: metrics.experience_drivers(log, window=HUGE),
                         id="experience_drivers"),
            pytest.param(lambda log, f: metrics.return_rate(log, window=HUGE), id="return_rate"),
            pytest.param(lambda log, f: models.churn_risk(log, as_of=AS_OF, horizon=HUGE),
                         id="churn_risk"),
            pytest.param(lambda log, f: journey.funnel(log, ["view", "purchase"], window=HUGE),
                         id="funnel"),
            pytest.param(lambda log, f: journey.sessions(log, gap=HUGE), id="sessions"),
        ],
    )  # fmt: skip
    def test_every_analysis_refuses_a_huge_duration(self, world: Any, call: Any) -> None:
        """'100000000000 days' was an OverflowError from each analysis taking a duration."""
        log, firings = world
        with pytest.raises(SchemaError, match="100 years"):
            call(log, firings)

    def test_calendar_days_are_not_dropped(self, world: Any) -> None:
        """recovery_rate(window=relativedelta(days=5)) measured a window of 0 months."""
        log, firings = world
        with pytest.raises(SchemaError, match="more than whole months"):
            metrics.recovery_rate(firings, log, window=relativedelta(days=5))

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(
        amount=st.one_of(
            st.integers(0, 10**40),
            st.floats(0, 1e40, allow_nan=False),
            st.sampled_from([36_525, 36_526, 1_200, 1_201, 100, 101, 5_218, 5_217]),
        ),
        unit=st.sampled_from(UNITS),
    )
    def test_any_text_duration(self, amount: float, unit: str) -> None:
        """Any amount of any unit: a positive duration of at most 100 years, or a SchemaError."""
        text = f"{amount} {unit}"
        try:
            parsed = parse_duration(text)
        except SchemaError as error:
            _assert_refusal(str(error), repr(text))
            return
        if isinstance(parsed, relativedelta):
            assert 0 < parsed.months + 12 * parsed.years <= 1200
        else:
            assert dt.timedelta(0) < parsed <= dt.timedelta(days=36_525)

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(st.one_of(st.timedeltas(), st.integers(-(10**20), 10**20), st.floats()))
    def test_any_timedelta_or_seconds(self, duration: Any) -> None:
        """Any timedelta or number of seconds: at most 100 years, or a SchemaError."""
        try:
            parsed = parse_duration(duration)
        except SchemaError as error:
            _assert_refusal(str(error), repr(duration))
            return
        assert dt.timedelta(0) < parsed <= dt.timedelta(days=36_525)


HUGE = "100000000000 days"


class TestDatetime64Units:
    @pytest.mark.parametrize(
        ("ticks", "unit"),
        [
            pytest.param(2**62, "D", id="day-2**62"),
            pytest.param(2**62, "Y", id="year-2**62"),
            pytest.param(2**62, "W", id="week-2**62"),
            pytest.param(2**40, "s", id="second-2**40"),
        ],
    )
    def test_far_times_are_refused_not_wrapped(self, ticks: int, unit: str) -> None:
        """Day 2**62 was read as 1970-01-01 (numpy wraps when it converts units): it is outside
        years 1..9999, in an array and as one value (as_of, a record)."""
        value = np.datetime64(ticks, unit)
        with pytest.raises(SchemaError, match=r"row 1: timestamp .* is outside years 1\.\.9999"):
            InteractionLog.from_arrays(["a"], np.array([value]), ["view"])
        with pytest.raises(SchemaError, match="outside years 1..9999"):
            to_us(value)
        with pytest.raises(SchemaError, match="outside years 1..9999"):
            InteractionLog.from_records([{"customer_id": "a", "timestamp": value, "kind": "v"}])

    @pytest.mark.parametrize("unit", ["ps", "fs", "as"])
    def test_units_finer_than_nanoseconds(self, unit: str) -> None:
        """Attoseconds were an OverflowError: numpy cannot convert them to seconds."""
        stamps = np.array([-1, 5, 2**62], dtype=f"datetime64[{unit}]")
        log = InteractionLog.from_arrays(["a", "b", "c"], stamps, ["view"] * 3)
        expected = [-1, 0, 2**62 // TICKS_PER_US[unit]]  # floored to the microsecond
        assert sorted(log.timestamps.tolist()) == sorted(expected)

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(
        ticks=st.one_of(
            st.integers(-(2**63) + 1, 2**63 - 1),
            st.integers(-(10**7), 10**7),
            st.sampled_from([2**62, -(2**62), 8029, 8030, -1970, -1969]),
        ),
        unit=st.sampled_from(["Y", "M", *US_PER_UNIT, *TICKS_PER_US, "100ns", "3as", "10D"]),
    )
    def test_any_tick_of_any_unit(self, ticks: int, unit: str) -> None:
        """A datetime64 of any unit is read exactly (floored to the microsecond) when it lies in
        years 1..9999, and refused by row otherwise; never wrapped."""
        stamp = np.array([ticks], dtype=f"datetime64[{unit}]")
        unit, count = np.datetime_data(stamp.dtype)
        ticks *= count  # in the base unit (Python integers: exact)
        if unit == "Y":
            expected = dt.datetime(1970 + ticks, 1, 1) if 1 <= 1970 + ticks <= 9999 else None
            expected_us = None if expected is None else _us(expected)
        elif unit == "M":
            year, month = divmod(ticks, 12)
            ok = 1 <= 1970 + year <= 9999
            expected_us = _us(dt.datetime(1970 + year, month + 1, 1)) if ok else None
        elif unit in TICKS_PER_US:
            us = ticks // TICKS_PER_US[unit]
            expected_us = us if FIRST_US <= us <= LAST_US else None
        else:
            us = ticks * US_PER_UNIT[unit]
            expected_us = us if FIRST_US <= us <= LAST_US else None
        try:
            log = InteractionLog.from_arrays(["a"], stamp, ["view"])
        except SchemaError as error:
            assert expected_us is None, (ticks, unit, str(error))
            assert "row 1: timestamp" in str(error)
            return
        assert log.timestamps.tolist() == [expected_us]


def _us(moment: dt.datetime) -> int:
    return (moment - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def test_no_exception_but_cxmodel_errors_from_durations(world: Any) -> None:
    """A sweep of hostile durations through funnel, sessions and customer_lifetimes: each
    answers or raises a CXModelError."""
    log, _ = world
    hostile = [
        "0d", "-1d", "nan days", "1e400 days", "٣ days", "1 fortnight", 0, -1.0, float("inf"),
        dt.timedelta(microseconds=1), dt.timedelta(days=36_526), relativedelta(), True, None,
        "9" * 5000 + " days",
    ]  # fmt: skip
    for duration in hostile:
        for call in (
            lambda d: journey.funnel(log, ["view", "purchase"], window=d),
            lambda d: journey.sessions(log, gap=d),
            lambda d: metrics.customer_lifetimes(log, AS_OF, inactivity=d),
        ):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                with contextlib.suppress(CXModelError):
                    call(duration)


#: why a duration is refused: each refusal says one of these
_DURATION_REASONS = (
    "must be positive",
    "longer than 100 years",
    "is not understood",
    "must be a whole number",
    "must be a finite number",
    "has unknown unit",
    "shorter than a microsecond",
)


def _assert_refusal(message: str, given: str) -> None:
    """A refused duration is named as given, with one of the reasons a duration is refused."""
    assert message.startswith(f"duration {given}"), message
    assert any(reason in message for reason in _DURATION_REASONS), message
