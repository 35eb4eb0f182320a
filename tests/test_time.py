"""Time handling: UTC conversion, time zones, epoch seconds, and durations (parsing, fixed
lengths, calendar months added with the day clamped, canonical text)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from dateutil.relativedelta import relativedelta

from cxmodel._time import (
    add_duration,
    duration_to_us,
    epoch_seconds_to_us,
    format_duration,
    parse_duration,
    resolve_timezone,
    to_us,
    to_utc,
    us_to_datetime,
)
from cxmodel.errors import SchemaError

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


class TestInstants:
    def test_epoch_is_zero(self) -> None:
        """Microseconds count from 1970-01-01T00:00Z, both ways."""
        assert to_us("1970-01-02T00:00:00Z") == DAY_US
        assert us_to_datetime(DAY_US + 1) == datetime(1970, 1, 2, 0, 0, 0, 1, tzinfo=timezone.utc)

    def test_offsets_become_utc(self) -> None:
        """An offset of +05:30 is subtracted: 10:00+05:30 is 04:30Z."""
        got = to_utc("2024-03-01T10:00:00+05:30")
        assert got == datetime(2024, 3, 1, 4, 30, tzinfo=timezone.utc)

    def test_naive_text_needs_a_zone(self) -> None:
        """A naive time is refused, and read in the zone given by timezone_name."""
        with pytest.raises(SchemaError):
            to_us("2024-07-01T12:00:00")
        got = to_utc("2024-07-01T12:00:00", timezone_name="Europe/Paris")  # summer: UTC+2
        assert got == datetime(2024, 7, 1, 10, tzinfo=timezone.utc)

    @pytest.mark.parametrize(
        "value",
        [
            "9999-12-31T23:59:59.5Z",
            datetime(9999, 12, 31, 23, 59, 59, 500_000, tzinfo=timezone.utc),
            np.datetime64("9999-12-31T23:59:59.500000"),
            np.datetime64("9999-12-31T23:59:59.000001"),
        ],
        ids=["text", "datetime", "datetime64", "datetime64-one-us"],
    )
    def test_nothing_after_the_last_second(self, value: object) -> None:
        """Every input refuses a time after 9999-12-31T23:59:59 UTC and says so: a log that
        held one could be written but not read back (datetime64 used to accept it)."""
        import cxmodel as cx

        last = to_us("9999-12-31T23:59:59Z")
        assert us_to_datetime(last) == datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
        with pytest.raises(SchemaError, match="after 9999-12-31T23:59:59 UTC"):
            cx.InteractionLog.from_arrays(
                customer_id=["a"],
                timestamp=np.array([value], dtype=object)
                if not isinstance(value, np.datetime64)
                else np.array([value]),
                kind=["view"],
            )

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2024-06-01+02:00", datetime(2024, 5, 31, 22, tzinfo=timezone.utc)),
            ("2024-06-01-05:00", datetime(2024, 6, 1, 5, tzinfo=timezone.utc)),
            ("2024-06-01-0500", datetime(2024, 6, 1, 5, tzinfo=timezone.utc)),
            ("2024-06-01+02", datetime(2024, 5, 31, 22, tzinfo=timezone.utc)),
            ("2024-06-01Z", datetime(2024, 6, 1, tzinfo=timezone.utc)),
            ("20240601+02:00", datetime(2024, 5, 31, 22, tzinfo=timezone.utc)),
        ],
    )
    def test_date_with_offset_is_midnight_at_that_offset(
        self, text: str, expected: datetime
    ) -> None:
        """A date with an offset is midnight at that offset, never the offset read as a clock
        time (Python alone reads '2024-06-01+02:00' as 02:00, naive), whatever the zone."""
        assert to_utc(text) == expected
        assert to_utc(text, timezone_name="UTC") == expected
        assert to_utc(text, timezone_name="Asia/Tokyo") == expected

    def test_date_with_offset_in_a_log(self) -> None:
        """A log read with timezone= keeps the written offset of a date-only timestamp."""
        from cxmodel.log import InteractionLog

        log = InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "2024-06-01+02:00", "kind": "x"}], timezone="UTC"
        )
        assert us_to_datetime(int(log.timestamps[0])) == datetime(
            2024, 5, 31, 22, tzinfo=timezone.utc
        )


class TestDaylightSavingWallTimes:
    @pytest.mark.parametrize(
        ("text", "zone", "fragments"),
        [
            (
                "2024-03-10T02:30:00",
                "America/New_York",
                ["does not exist in America/New_York", "UTC-05:00 to UTC-04:00"],
            ),
            (
                "2024-11-03T01:30:00",
                "America/New_York",
                [
                    "happens twice",
                    "'2024-11-03T01:30:00-04:00' (the first)",
                    "-05:00' (the second)",
                ],
            ),
            ("2024-03-31T02:15:00", "Europe/Paris", ["does not exist in Europe/Paris"]),
            ("2024-10-27T02:15:00", "Europe/Paris", ["happens twice", "+02:00' (the first)"]),
        ],
        ids=["ny-skipped", "ny-repeated", "paris-skipped", "paris-repeated"],
    )
    def test_wall_time_without_one_instant_is_refused(
        self, text: str, zone: str, fragments: list[str]
    ) -> None:
        """A naive time skipped or repeated by a daylight-saving change is refused with the
        offsets to write, not read with a guessed offset (02:30 used to become 03:30)."""
        with pytest.raises(SchemaError) as info:
            to_us(text, timezone_name=zone)
        for fragment in fragments:
            assert fragment in str(info.value)

    def test_wall_times_around_a_change_are_read(self) -> None:
        """The hours either side of a change keep their own offsets."""
        before = to_us("2024-11-03T00:30:00", timezone_name="America/New_York")
        after = to_us("2024-11-03T02:30:00", timezone_name="America/New_York")
        assert after - before == 3 * HOUR_US  # 00:30 EDT (04:30Z) to 02:30 EST (07:30Z)


class TestResolveTimezone:
    @pytest.mark.parametrize(
        ("name", "offset"),
        [("UTC", 0), ("Z", 0), ("+02:00", 2 * 60), ("-0530", -(5 * 60 + 30)), ("UTC+01:00", 60)],
    )
    def test_fixed_offsets(self, name: str, offset: int) -> None:
        """UTC and fixed offsets become fixed-offset zones (offset in minutes)."""
        zone = resolve_timezone(name)
        assert zone is not None
        assert zone.utcoffset(None) == timedelta(minutes=offset)

    @pytest.mark.parametrize("name", ["", "/etc/localtime", "CET-1CEST,M3.5.0", "+24:00", "Mars/X"])
    def test_refused(self, name: str) -> None:
        """Empty text, paths, POSIX TZ strings, offsets of a day and unknown names are refused."""
        with pytest.raises(SchemaError, match="timezone"):
            resolve_timezone(name)

    def test_none_stays_none(self) -> None:
        """No zone is no zone, not the machine's."""
        assert resolve_timezone(None) is None

    @pytest.mark.parametrize(
        ("name", "meant"),
        [
            ("europe/paris", "Europe/Paris"),  # the case
            ("paris", "Europe/Paris"),  # the city alone
            ("New York", "America/New_York"),  # a space for the underscore
            ("Europe/Pariss", "Europe/Paris"),  # a typo
        ],
    )
    def test_refusal_names_the_zone_meant(self, name: str, meant: str) -> None:
        """A zone written as people write it is refused with the IANA name to use."""
        with pytest.raises(SchemaError, match=f"did you mean '{meant}'"):
            resolve_timezone(name)

    @pytest.mark.parametrize("name", ["CEST", "PST", "Mars/X"])
    def test_abbreviations_get_no_far_guess(self, name: str) -> None:
        """'CEST' (UTC+2) is close in spelling to 'EST' (UTC-5): no guess is better than that."""
        with pytest.raises(SchemaError) as caught:
            resolve_timezone(name)
        assert "did you mean" not in str(caught.value)


class TestEpochSeconds:
    def test_whole_and_fractional_seconds(self) -> None:
        """Integers convert exactly; floats round to the microsecond."""
        assert epoch_seconds_to_us(1_700_000_000) == 1_700_000_000_000_000
        assert epoch_seconds_to_us(0.0000015) == 2

    @pytest.mark.parametrize(
        "value",
        [1_700_000_000_000, -2_300_000_000, float("nan"), True, "1700000000"],
        ids=["milliseconds", "before-1900", "nan", "bool", "text"],
    )
    def test_refused(self, value: object) -> None:
        """Values outside 1900..2200, non-finite values, booleans and text are refused."""
        with pytest.raises(SchemaError, match="timestamp"):
            epoch_seconds_to_us(value)


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("90d", timedelta(days=90)),
            ("90 days", timedelta(days=90)),
            ("30m", timedelta(minutes=30)),
            ("1.5h", timedelta(minutes=90)),
            ("2w", timedelta(days=14)),
            ("3 months", relativedelta(months=3)),
            ("1 years", relativedelta(months=12)),
            (45, timedelta(seconds=45)),
        ],
    )
    def test_parse(self, text: str | int, expected: timedelta | relativedelta) -> None:
        """Fixed units become timedeltas; months and years calendar months; numbers seconds."""
        assert parse_duration(text) == expected

    @pytest.mark.parametrize(
        "text", ["0d", "-1d", "1.5 months", "3 fortnights", "soon", timedelta(0), 0, None]
    )
    def test_parse_refuses(self, text: object) -> None:
        """Non-positive, fractional-month, unknown-unit and unreadable durations are refused."""
        with pytest.raises(SchemaError, match="duration"):
            parse_duration(text)  # type: ignore[arg-type]

    def test_fixed_length(self) -> None:
        """A fixed duration in microseconds; a calendar duration has no fixed length."""
        assert duration_to_us("1d") == DAY_US
        assert duration_to_us(timedelta(hours=1, microseconds=5)) == HOUR_US + 5
        with pytest.raises(SchemaError, match="calendar duration"):
            duration_to_us("1 months")

    def test_add_months_clamps_the_day(self) -> None:
        """Jan 31 + 1 month is the last day of February (29th in 2024, 28th in 2023); the time
        of day is kept."""
        times = np.array(
            [
                to_us("2024-01-31T10:30:00Z"),
                to_us("2023-01-31T00:00:00Z"),
                to_us("2024-03-15T00:00:00Z"),
            ],
            dtype=np.int64,
        )
        got = add_duration(times, "1 months").tolist()
        expected = [
            to_us("2024-02-29T10:30:00Z"),
            to_us("2023-02-28T00:00:00Z"),
            to_us("2024-04-15T00:00:00Z"),
        ]
        assert got == expected

    def test_add_fixed(self) -> None:
        """A fixed duration is added as microseconds."""
        times = np.array([0, DAY_US], dtype=np.int64)
        assert add_duration(times, "2h").tolist() == [2 * HOUR_US, DAY_US + 2 * HOUR_US]

    @pytest.mark.parametrize(
        ("duration", "text"),
        [
            (timedelta(days=14), "14 days"),
            (timedelta(seconds=1.5), "1500000 us"),
            (timedelta(days=90), "90 days"),
            (timedelta(hours=1), "1 hour"),
            (timedelta(minutes=90), "90 minutes"),
            (relativedelta(months=1), "1 month"),
            (relativedelta(years=1, months=2), "14 months"),
        ],
    )
    def test_format(self, duration: timedelta | relativedelta, text: str) -> None:
        """The largest unit that divides the duration (weeks written as days), singular for
        one; microseconds when no unit divides it."""
        assert format_duration(duration) == text
