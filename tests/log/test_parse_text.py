"""Times and numbers parsed by Arrow equal the Python rules, values, bad rows and messages."""

from __future__ import annotations

import sys
import zoneinfo
from datetime import timedelta, timezone, tzinfo
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.log._columns import Encoded, RowErrors
from cxmodel.log._parse_text import arrow_numbers, arrow_times, text_floats, text_times

pa = pytest.importorskip("pyarrow")


def _python(values: list[str | None]) -> Encoded:
    """The column without its Arrow array: the Python rules, once per distinct text."""
    categories = sorted({v for v in values if v is not None})
    codes = [-1 if v is None else categories.index(v) for v in values]
    return Encoded(np.array(codes, dtype=np.int32), np.array(categories, dtype=object))


def _two(n: int, lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda v: f"{v:0{n}d}")


_DATE = st.tuples(_two(4, 0, 9999), _two(2, 0, 13), _two(2, 0, 32)).map("-".join)
_CLOCK = st.one_of(
    _two(2, 0, 24),
    st.tuples(_two(2, 0, 24), _two(2, 0, 60)).map(":".join),
    st.tuples(_two(2, 0, 24), _two(2, 0, 60), _two(2, 0, 60)).map(":".join),
    st.tuples(
        st.tuples(_two(2, 0, 23), _two(2, 0, 59), _two(2, 0, 60)).map(":".join),
        st.text("0123456789", min_size=0, max_size=9),
    ).map(".".join),
)
_ZONE = st.one_of(
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+24:00", "+05", "-0530", "+05:30:15"]),
    st.tuples(
        st.sampled_from("+-"), _two(2, 0, 25), st.sampled_from(["", ":"]), _two(2, 0, 60)
    ).map("".join),
)


def _written(moment: Any, sep: str, digits: int, offset: str) -> str:
    """A valid time written in one of the shapes exports use: to the hour, the minute, the
    second, or ``digits`` (1..6) digits of a second."""
    spec = {-2: "hours", -1: "minutes", 0: "seconds"}.get(digits, "microseconds")
    text = moment.isoformat(sep=sep, timespec=spec)
    if digits > 0:
        text = text[: len(text) - 6 + digits]
    return text + offset


VALID = st.builds(
    _written,
    st.datetimes(),
    st.sampled_from(["T", " "]),
    st.integers(-2, 6),
    st.sampled_from(["Z", "+00:00", "-07:00", "+0530", "+14", "-23:59", ""]),
)
ISO_LIKE = st.one_of(
    VALID,
    st.tuples(_DATE, st.sampled_from(["T", " ", "t", "x"]), _CLOCK, _ZONE).map("".join),
    _DATE,
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:30:00+00:30",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59.5Z",
            "9999-12-31T23:59:59-01:00",
            " 2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00Z ",
            "20240101",
            "2024-02-29T12:00Z",
            "2023-02-29T12:00Z",
            "",
        ]
    ),
    st.text(max_size=25),
)
ZONES: list[tzinfo | None] = [
    None,
    timezone.utc,
    timezone(timedelta(hours=-3, minutes=-30)),
    zoneinfo.ZoneInfo("Europe/Paris"),
]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(  # mostly valid (Arrow reads most rows), or anything
        st.lists(st.one_of(VALID, st.none()), max_size=40),
        st.lists(st.one_of(st.none(), ISO_LIKE), max_size=40),
    ),
    st.sampled_from(ZONES),
)
def test_times_read_by_arrow_equal_the_python_rules(
    values: list[str | None], zone: tzinfo | None
) -> None:
    """Same microseconds and the same bad rows with the same reasons."""
    fast = text_times(Encoded.from_arrow(pa.array(values, pa.string())), zone)
    slow = text_times(_python(values), zone)
    assert fast[0].tolist() == slow[0].tolist()
    assert fast[1] == slow[1]


NUMBER_LIKE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.from_regex(r"\A[+-]?[0-9]{0,25}(\.[0-9]{0,25})?([eE][+-]?[0-9]{1,4})?\Z"),
    st.sampled_from([" 1", "1 ", "1_000", "\u0661", "nan", "-inf", "Infinity", "1e999", "NA"]),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.one_of(st.none(), st.floats(allow_nan=False).map(repr)), max_size=40),
        st.lists(st.one_of(st.none(), NUMBER_LIKE), max_size=40),
    )
)
def test_numbers_read_by_arrow_equal_the_python_rules(values: list[str | None]) -> None:
    """Same float64 values (to the bit) and the same bad rows with the same reasons."""
    fast_errors, slow_errors = RowErrors(), RowErrors()
    fast = text_floats(Encoded.from_arrow(pa.array(values, pa.string())), "value", fast_errors)
    slow = text_floats(_python(values), "value", slow_errors)
    assert fast.view(np.int64).tolist() == slow.view(np.int64).tolist()
    assert fast_errors.reasons == slow_errors.reasons


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Arrow reads times from Python 3.11")
class TestArrowReads:
    def test_a_lone_bad_value_leaves_the_rest_to_arrow(self) -> None:
        """One malformed time among 10,000 is the only row left to the Python rules."""
        values = ["2024-01-01T00:00:00Z"] * 10_000
        values[7_777] = "2024-01-01T00:00:00"
        times, read = arrow_times(pa.array(values), None)
        assert np.flatnonzero(~read).tolist() == [7_777]
        assert times[0] == 1_704_067_200_000_000

    def test_chunked_columns_as_one(self) -> None:
        """A column in several chunks (as a CSV file is read) gives the same numbers."""
        chunked = pa.chunked_array([["1.5", None], ["x", "2"]])
        values, read = arrow_numbers(chunked)
        assert np.isnan(values[1])
        assert values[[0, 3]].tolist() == [1.5, 2.0]
        assert read.tolist() == [True, True, False, True]

    @pytest.mark.parametrize(
        ("text", "zone", "expected"),
        [
            ("2024-01-01T10:00:00+05:30", None, "2024-01-01T04:30:00"),
            ("2024-01-01 10:00", timezone(timedelta(hours=2)), "2024-01-01T08:00:00"),
            ("2024-01-01T10Z", None, "2024-01-01T10:00:00"),
            ("2024-01-01T10:00:00.25-01", None, "2024-01-01T11:00:00.250000"),
        ],
        ids=["offset", "naive-fixed-zone", "hour-only", "fraction-short-offset"],
    )
    def test_hand_computed(self, text: str, zone: Any, expected: str) -> None:
        times, read = arrow_times(pa.array([text]), zone)
        assert read.tolist() == [True]
        assert times.tolist() == [np.datetime64(expected, "us").astype(np.int64)]

    def test_naive_times_in_a_zone_with_daylight_saving_are_left_to_python(self) -> None:
        """Arrow and Python differ at DST gaps, so Arrow does not read them."""
        _, read = arrow_times(pa.array(["2024-03-31 02:30"]), zoneinfo.ZoneInfo("Europe/Paris"))
        assert read.tolist() == [False]
