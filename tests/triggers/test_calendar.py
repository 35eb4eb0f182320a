"""Calendar arithmetic in customers' time zones: offsets, months added on the wall clock and
wall times read back, against the standard library, near every offset change."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._time import add_duration, to_us, us_to_datetime
from cxmodel.triggers import parse
from cxmodel.triggers._calendar import (
    Zones,
    add_local_months,
    add_months,
    local_to_utc,
    utc_offsets,
)
from cxmodel.triggers._context import aggregates_in
from cxmodel.triggers._operators import AggregatePlan

ZONES = ["America/New_York", "Asia/Kolkata", "America/Los_Angeles", "Europe/Paris",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo"]  # fmt: skip


def _reference_offset(t: int, zone: str) -> int:
    offset = us_to_datetime(t).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    return offset // timedelta(microseconds=1)


def _reference_add(t: int, months: int, zone: str) -> int:
    """Local wall time + months (day clamped), read back with fold=0, by the standard library."""
    local = us_to_datetime(t).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    moved = (local + relativedelta(months=months)).replace(tzinfo=ZoneInfo(zone), fold=0)
    return to_us(moved.astimezone(timezone.utc))


def _transitions(zone: str) -> list[int]:
    """Instants near which ``zone`` changes offset in 2023-2025 (hour resolution)."""
    out = []
    hour = 3_600_000_000
    start = to_us("2023-01-01T00:00:00Z")
    for h in range(0, 3 * 366 * 24, 1):
        t = start + h * hour
        if _reference_offset(t, zone) != _reference_offset(t + hour, zone):
            out.append(t + hour)
    return out


_NEAR = {zone: _transitions(zone) for zone in ZONES}


@st.composite
def instants(draw: st.DrawFn) -> tuple[int, str]:
    """(UTC microseconds, zone): often within two days of one of the zone's changes."""
    zone = draw(st.sampled_from(ZONES))
    day = 86_400_000_000
    if _NEAR[zone] and draw(st.booleans()):
        base = draw(st.sampled_from(_NEAR[zone]))
        return base + draw(st.integers(-2 * day, 2 * day)), zone
    return draw(st.integers(to_us("2000-01-01T00:00:00Z"), to_us("2035-01-01T00:00:00Z"))), zone


class TestCalendar:
    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(instants(), min_size=1, max_size=20))
    def test_offsets_match_the_standard_library(self, items: list[tuple[int, str]]) -> None:
        """utc_offsets equals astimezone(...).utcoffset() per element, at changes too."""
        times = np.array([t for t, _ in items], dtype=np.int64)
        names = tuple(sorted({z for _, z in items}))
        zones = Zones(np.array([names.index(z) for _, z in items], dtype=np.int64), names)
        assert utc_offsets(times, zones).tolist() == [_reference_offset(t, z) for t, z in items]

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(instants(), min_size=1, max_size=20), st.integers(-14, 14))
    def test_add_months_matches_the_standard_library(
        self, items: list[tuple[int, str]], months: int
    ) -> None:
        """add_local_months equals wall time + relativedelta read back with fold=0."""
        times = np.array([t for t, _ in items], dtype=np.int64)
        names = tuple(sorted({z for _, z in items}))
        zones = Zones(np.array([names.index(z) for _, z in items], dtype=np.int64), names)
        got = add_local_months(times, months, zones).tolist()
        assert got == [_reference_add(t, months, z) for t, z in items]

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.lists(instants(), min_size=1, max_size=20))
    def test_local_to_utc_is_fold_zero(self, items: list[tuple[int, str]]) -> None:
        """Wall times (as if UTC) read back as zoneinfo does with fold=0; UTC elements stay."""
        walls = np.array([t for t, _ in items], dtype=np.int64)
        names = tuple(sorted({z for _, z in items}))
        code = np.array([names.index(z) for _, z in items], dtype=np.int64)
        code[::3] = -1  # some elements in UTC
        got = local_to_utc(walls, Zones(code, names)).tolist()
        expected = []
        for j, (t, z) in enumerate(items):
            if code[j] < 0:
                expected.append(t)
                continue
            naive = us_to_datetime(t).replace(tzinfo=None)
            expected.append(to_us(naive.replace(tzinfo=ZoneInfo(z), fold=0)))
        assert got == expected

    def test_month_windows_keep_a_slack(self) -> None:
        """A ``within N months`` window keeps 31 days a month and two days more, so that it
        covers the longest month on any customer's wall clock."""
        day = 86_400_000_000
        rule = parse("trigger t:\n    when purchase as p where count(view within 1 months) > 0"
                     " then after 2 months\n    in customer timezone\n    emit x")["t"]  # fmt: skip
        assert rule.when.where is not None
        (node,) = aggregates_in(rule.when.where)
        assert 31 * day + 2 * day == AggregatePlan(node, "p").lookback


_ZONES = [
    None, "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia",
    "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Africa/Casablanca",
]  # fmt: skip
#: 1900 to 2100, and every instant within a day of a change of offset in New York in 2024
_NEAR_CHANGES = [to_us("2024-03-10T07:00:00Z"), to_us("2024-11-03T06:00:00Z")]


class TestAddMonthsOfOneInstant:
    """``add_months`` (one instant, for the streaming engine) gives what the array functions
    give: ``add_duration`` on the UTC calendar, ``add_local_months`` on a zone's wall clock."""

    @settings(max_examples=400, deadline=None)
    @given(
        st.one_of(
            st.integers(to_us("1900-01-01T00:00:00Z"), to_us("2100-01-01T00:00:00Z")),
            st.sampled_from(_NEAR_CHANGES).flatmap(
                lambda t: st.integers(t - 86_400_000_000, t + 86_400_000_000)
            ),
        ),
        st.integers(-40, 40),
        st.sampled_from(_ZONES),
    )
    def test_equals_the_array_functions(self, us: int, months: int, zone: str | None) -> None:
        times = np.array([us], dtype=np.int64)
        if zone is None:
            want = int(add_duration(times, relativedelta(months=months))[0])
        else:
            want = int(add_local_months(times, months, Zones(np.array([0]), (zone,)))[0])
        assert add_months(us, months, zone) == want

    def test_month_ends_and_skipped_wall_times(self) -> None:
        """Jan 31 plus a month is the end of February; a wall time skipped by the change to
        daylight time is read with the offset before it."""
        jan31 = to_us("2024-01-31T12:00:00Z")
        assert us_to_datetime(add_months(jan31, 1)).isoformat() == "2024-02-29T12:00:00+00:00"
        skipped = to_us("2024-02-10T07:30:00Z")  # 02:30 in New York, a month before the change
        got = us_to_datetime(add_months(skipped, 1, "America/New_York"))
        assert got.isoformat() == "2024-03-10T07:30:00+00:00"
