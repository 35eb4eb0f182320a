"""Time handling: UTC conversion, timestamp parsing and durations.

Internally every instant is an ``int64`` count of microseconds since the Unix epoch, UTC.
Naive datetimes and naive timestamp strings are rejected unless a time zone is named;
numpy ``datetime64`` values are UTC by numpy's own convention.
"""

from __future__ import annotations

import difflib
import math
import re
import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, TypeAlias

import numpy as np
from dateutil.relativedelta import relativedelta

from cxmodel._arguments import missing_label
from cxmodel._spelling import Argument, ArgumentHintError
from cxmodel._time_format import TimeFormat
from cxmodel.errors import SchemaError

__all__ = [
    "EPOCH",
    "EPOCH_SECONDS_RANGE",
    "MAX_DURATION_DAYS",
    "US_PER_DAY",
    "DurationLike",
    "TimeLike",
    "add_duration",
    "as_of_us",
    "duration_to_us",
    "format_duration",
    "is_utc",
    "is_zero_duration",
    "parse_duration",
    "parse_iso",
    "resolve_timezone",
    "timestamps_to_us",
    "to_us",
    "to_utc",
    "us_to_datetime",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND

TimeLike: TypeAlias = "datetime | str | np.datetime64 | int | float | date"
DurationLike: TypeAlias = "str | timedelta | relativedelta | int | float"

_UNITS_US = {
    "us": 1,
    "ms": 1000,
    "s": US_PER_SECOND,
    "sec": US_PER_SECOND,
    "second": US_PER_SECOND,
    "seconds": US_PER_SECOND,
    "m": 60 * US_PER_SECOND,
    "min": 60 * US_PER_SECOND,
    "minute": 60 * US_PER_SECOND,
    "minutes": 60 * US_PER_SECOND,
    "h": 3600 * US_PER_SECOND,
    "hour": 3600 * US_PER_SECOND,
    "hours": 3600 * US_PER_SECOND,
    "d": US_PER_DAY,
    "day": US_PER_DAY,
    "days": US_PER_DAY,
    "w": 7 * US_PER_DAY,
    "week": 7 * US_PER_DAY,
    "weeks": 7 * US_PER_DAY,
}
_MONTH_UNITS = {"mo": 1, "month": 1, "months": 1, "y": 12, "year": 12, "years": 12}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")
# The longest duration taken, as in the trigger language: 100 years, as 36,525 days of fixed
# length or 1,200 calendar months. Longer ones are no customer's history and overflow the
# microsecond arithmetic (or, as months, the calendar's) instead of answering.
_TICKS_PER_US = {"ns": 1_000, "ps": 10**6, "fs": 10**9, "as": 10**12}
MAX_DURATION_DAYS = 36_525
"""The longest duration taken, in days of fixed length (100 years)."""
_MAX_DURATION_US = MAX_DURATION_DAYS * US_PER_DAY
_MAX_DURATION_MONTHS = 1_200
_TOO_LONG = "durations are limited to 100 years (36,525 days or 1,200 months)"


_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$", re.IGNORECASE)
_IANA_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$")

EPOCH_SECONDS_RANGE = (-2_208_988_800, 7_258_118_400)
"""Epoch numbers are seconds between 1900-01-01 and 2200-01-01 UTC; others are rejected."""

#: epoch seconds written as text: nine or more digits (1973 onwards; eight digits are an
#: ISO-8601 basic date such as 20240301), an optional sign and fraction
_EPOCH_TEXT = re.compile(r"[+-]?[0-9]{9,}(?:\.[0-9]+)?")


def epoch_text_number(text: Any) -> Any:
    """``text`` made the number it writes when it is epoch seconds written as text (an
    ``int``, or a ``float`` with a fraction), which the time rules read as epoch seconds with
    their range check; anything else as it is.

    Examples
    --------
    >>> [epoch_text_number(t) for t in ("1704067200", " 1704067200.5", "20240301", 5)]
    [1704067200, 1704067200.5, '20240301', 5]
    """
    if isinstance(text, str) and _EPOCH_TEXT.fullmatch(stripped := text.strip()):
        return float(stripped) if "." in stripped else int(stripped)
    return text


_DATETIME_SECONDS_RANGE = (-62_135_596_800, 253_402_300_799)  # years 1..9999
_PAST_LAST = "is after 9999-12-31T23:59:59 UTC, the last time a log holds"
_OFFSET_TAIL = re.compile(r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")
# a date with an offset and no time: Python alone reads '2024-06-01+02:00' as 02:00, naive
_DATE_WITH_OFFSET = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})([+-]\d{2}(?::?\d{2})?)$")


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def is_utc(zone: tzinfo | None) -> bool:
    """Whether ``zone`` is none, or its wall times are UTC's: UTC, a zero offset, or a zone
    at offset 0 in winter and summer (``Etc/UTC``). A numpy ``datetime64``, read as UTC, can
    be given with such a ``timezone=``: it agrees with it.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> is_utc(None), is_utc(timezone.utc), is_utc(ZoneInfo("Etc/UTC"))
    (True, True, True)
    >>> is_utc(ZoneInfo("Europe/London")), is_utc(resolve_timezone("+01:00"))
    (False, False)
    """
    if zone is None:
        return True
    probes = (datetime(2000, 1, 1), datetime(2000, 7, 1))  # winter and summer
    return all(zone.utcoffset(p) == timedelta(0) for p in probes)


def resolve_timezone(name: str | tzinfo | None) -> tzinfo | None:
    """Return a ``tzinfo`` for ``"UTC"``, an IANA name, a fixed offset, or a ``tzinfo``.

    Only these forms are accepted: ``"UTC"``; an IANA time zone name such as
    ``"Europe/Paris"``; a fixed offset ``"+02:00"``, ``"-0530"`` or ``"UTC+02:00"``. File paths,
    POSIX TZ strings (``"CET-1CEST,M3.5.0"``) and the empty string are rejected, so the machine's
    own zone is never used by accident. ``None`` stays ``None``.

    Examples
    --------
    >>> resolve_timezone("UTC")
    datetime.timezone.utc
    >>> resolve_timezone("+02:00")
    datetime.timezone(datetime.timedelta(seconds=7200))
    >>> resolve_timezone("/etc/localtime")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: timezone '/etc/localtime' is not an IANA time zone name ...
    """
    if name is None:
        return name
    if isinstance(name, tzinfo):
        return _without_pytz(name)
    if not isinstance(name, str):
        raise SchemaError(
            f"timezone {name!r} is a {type(name).__name__}; expected an IANA name such as "
            "'Europe/Paris', 'UTC' or a fixed offset such as '+02:00'"
        )
    text = name.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    offset = _OFFSET_RE.match(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta >= timedelta(hours=24) or int(minutes) >= 60:
            raise SchemaError(f"timezone {name!r} is not a valid UTC offset (-23:59..+23:59)")
        return timezone(-delta if sign == "-" else delta)
    zone = _zone(text) if _IANA_RE.match(text) and ".." not in text else None
    if zone is None:
        raise SchemaError(
            f"timezone {name!r} is not an IANA time zone name (e.g. 'Europe/Paris'), 'UTC' or a "
            "fixed offset such as '+02:00'; file paths, POSIX TZ strings and '' are not accepted"
            + _zone_hint(text)
        )
    return zone


def _without_pytz(zone: tzinfo) -> tzinfo:
    """A pytz zone as the ``zoneinfo`` zone of its name: attached to a time with ``replace``
    (as every reader does) a pytz zone is its first entry in the tz database, local mean
    time (Paris +00:09), not the offset of that date; any other ``tzinfo`` as it is.

    Examples
    --------
    >>> _without_pytz(timezone.utc)
    datetime.timezone.utc
    """
    name = getattr(zone, "zone", None)
    if type(zone).__module__.startswith("pytz") and isinstance(name, str):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise SchemaError(
                f"timezone {zone!r} is a pytz zone this machine's tz database does not hold; "
                "pass its IANA name as text, e.g. 'Europe/Paris'"
            ) from None
    return zone


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """The IANA zone names of this machine, by their case-folded spelling."""
    return {n.casefold(): n for n in sorted(zoneinfo.available_timezones())}


def _zone_hint(text: str) -> str:
    """``; did you mean 'Europe/Paris'?`` for a zone written in the wrong case, by its city
    alone (``"paris"``, ``"New York"``) or misspelt (``"Europe/Pariss"``); else an empty string.
    """
    names = _zone_names()
    folded = text.casefold().replace(" ", "_")
    if folded in names:
        return f"; did you mean {names[folded]!r}?"
    cities = [n for k, n in names.items() if k.rsplit("/", 1)[-1] == folded and "/" in k]
    if cities:
        return f"; did you mean {cities[0]!r}?"
    if "/" not in folded:  # an abbreviation such as 'CEST' is no place: 'EST' is not near it
        return ""
    regions = [k for k in names if "/" in k]
    close = difflib.get_close_matches(folded, regions, n=1, cutoff=0.8)
    return f"; did you mean {names[close[0]]!r}?" if close else ""


def to_utc(value: TimeLike, *, timezone_name: str | tzinfo | None = None) -> datetime:
    """Convert a time-like value to an aware UTC ``datetime``.

    Naive datetimes and strings are rejected unless ``timezone_name`` names their zone.

    Examples
    --------
    >>> to_utc("2024-03-01T10:00:00+02:00")
    datetime.datetime(2024, 3, 1, 8, 0, tzinfo=datetime.timezone.utc)
    """
    return us_to_datetime(to_us(value, timezone_name=timezone_name))


def zone_hint(setting: str) -> str:
    """The advice for naive timestamps, with the zone ``setting`` as the caller writes it.

    Examples
    --------
    >>> zone_hint("--timezone UTC")
    'pass --timezone UTC (or the zone the data were recorded in) to interpret naive timestamps'
    """
    return f"pass {setting} (or the zone the data were recorded in) to interpret naive timestamps"


def _naive_hint(text: str, timezone_arg: str | None) -> str:
    """What to do about a naive time: name the caller's zone argument only when it has one."""
    if timezone_arg is not None:
        return zone_hint(f"{timezone_arg}='UTC'")
    return (
        f"write it with an offset, e.g. {text + 'Z'!r} or {text + '+02:00'!r}, or pass an "
        "aware datetime"
    )


def _datetime_to_us(
    value: datetime,
    zone: tzinfo | None,
    what: str,
    timezone_arg: str | None = None,
    written: object | None = None,
) -> int:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        if zone is None:
            text = value.isoformat()
            shown = text if written is None else written
            if timezone_arg == Argument.TIMEZONE.value:  # a front end may word it as its own
                raise ArgumentHintError(
                    lambda say: (
                        f"{what} {shown!r} has no time zone; "
                        + zone_hint(say(Argument.TIMEZONE, "UTC"))
                    )
                )
            raise SchemaError(
                f"{what} {shown!r} has no time zone; {_naive_hint(text, timezone_arg)}"
            )
        value = value.replace(tzinfo=zone)
        _check_wall_time(value, what, value.isoformat() if written is None else written)
    try:
        delta = value - EPOCH
    except OverflowError:  # an offset pushing year 1 or 9999 out of range
        raise SchemaError(
            f"{what} {value if written is None else written!r} is outside years 1..9999 in UTC"
        ) from None
    us = (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds
    if (
        not _DATETIME_SECONDS_RANGE[0] * US_PER_SECOND
        <= us
        <= _DATETIME_SECONDS_RANGE[1] * US_PER_SECOND
    ):
        shown = value if written is None else written
        if us // US_PER_SECOND == _DATETIME_SECONDS_RANGE[1]:
            raise SchemaError(f"{what} {shown!r} {_PAST_LAST}")
        raise SchemaError(f"{what} {shown!r} is outside years 1..9999 in UTC")
    return us


def _check_wall_time(local: datetime, what: str, written: object) -> None:
    """Raise unless the naive time ``local`` (given its zone) names exactly one instant.

    In a zone with daylight saving, a wall time in the hour skipped when the clocks go forward
    does not exist, and one in the hour repeated when they go back exists twice; neither can be
    placed without its UTC offset, so both are refused with the offsets to write.
    """
    before = local.replace(fold=0).utcoffset()
    after = local.replace(fold=1).utcoffset()
    if before is None or after is None or before == after:
        return
    wall = local.replace(tzinfo=None).isoformat()
    change = f"{_offset_text(before)} to {_offset_text(after)}"
    if before < after:
        raise SchemaError(
            f"{what} {written!r} does not exist in {local.tzinfo}: the clocks skip it when "
            f"they move from {change}; write the time with its UTC offset"
        )
    raise SchemaError(
        f"{what} {written!r} happens twice in {local.tzinfo}, whose clocks go back from "
        f"{change}; write it with its offset: {wall + _offset_text(before)[3:]!r} (the first) "
        f"or {wall + _offset_text(after)[3:]!r} (the second)"
    )


def _offset_text(offset: timedelta) -> str:
    """``UTC+02:00`` for a UTC offset."""
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _unit_hint(seconds: float) -> str:
    """Which unit an out-of-range epoch number is probably in."""
    low, high = EPOCH_SECONDS_RANGE
    for unit, scale in (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9)):
        if low <= seconds / scale < high:
            return f"it looks like epoch {unit}: divide by {scale:,.0f} to get seconds"
    return "expected epoch seconds between 1900 and 2200, or an ISO-8601 time"


def epoch_seconds_to_us(value: object, what: str = "timestamp") -> int:
    """Epoch seconds (``int`` or ``float``, any magnitude) to microseconds, within the bounds.

    Values outside :data:`EPOCH_SECONDS_RANGE` (1900..2200) are rejected with the likely unit.

    Examples
    --------
    >>> epoch_seconds_to_us(1.5)
    1500000
    >>> epoch_seconds_to_us(1_700_000_000_000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: timestamp 1700000000000 is not a plausible epoch time in seconds ...
    """
    if isinstance(value, (bool, np.bool_)):
        raise SchemaError(f"{what} {value!r} is a bool; expected a time")
    if isinstance(value, (int, np.integer)):
        number: float = float(value) if abs(int(value)) < 2**1000 else float("inf")
    elif isinstance(value, (float, np.floating)):
        number = float(value)
        if not np.isfinite(number):
            raise SchemaError(f"{what} {value!r} is not a finite epoch time")
    else:
        raise SchemaError(f"{what} {value!r} is a {type(value).__name__}; expected a number")
    low, high = EPOCH_SECONDS_RANGE
    if not low <= number < high:
        raise SchemaError(
            f"{what} {value!r} is not a plausible epoch time in seconds (1900..2200); "
            + _unit_hint(number)
        )
    if isinstance(value, (int, np.integer)):
        return int(value) * US_PER_SECOND
    return round(number * US_PER_SECOND)


def parse_iso(text: str) -> datetime:
    """ISO-8601 text as a ``datetime``: ``Z`` is UTC, ``yyyymmdd`` a date, and a date with an
    offset (``2024-06-01+02:00``, ``2024-06-01Z``) is midnight at that offset.

    ``datetime.fromisoformat`` alone would read the offset of ``2024-06-01+02:00`` as the
    clock time 02:00 (any character may separate date and time), a naive time hours away
    from the instant written.

    Examples
    --------
    >>> parse_iso("2024-06-01+02:00")
    datetime.datetime(2024, 6, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200)))
    >>> parse_iso("2024-06-01Z").isoformat()
    '2024-06-01T00:00:00+00:00'
    """
    stripped = text.strip()
    if stripped.endswith(("Z", "z")):
        stripped = stripped[:-1] + "+00:00"
    if len(stripped) == 8 and stripped.isdigit():  # yyyymmdd
        stripped = f"{stripped[:4]}-{stripped[4:6]}-{stripped[6:]}"
    dated = _DATE_WITH_OFFSET.match(stripped)
    if dated:
        year, month, day, offset = dated.groups()
        stripped = f"{year}-{month}-{day}T00:00{offset}"
    return datetime.fromisoformat(stripped)


def to_us(
    value: TimeLike,
    *,
    timezone_name: str | tzinfo | None = None,
    what: str = "timestamp",
    timezone_arg: str | None = None,
) -> int:
    """Convert one time-like value to microseconds since the epoch, UTC.

    Accepts aware ``datetime``, ISO-8601 strings (with offset, or naive with ``timezone_name``),
    ``date`` (midnight in ``timezone_name``, UTC by default), ``numpy.datetime64`` (UTC) and
    epoch seconds (``int``/``float``).

    A naive value without ``timezone_name`` raises :class:`~cxmodel.errors.SchemaError`. Its hint
    names ``timezone_arg``, the caller's own argument that sets the zone (e.g. ``"timezone"``
    for the readers); without one (``log.between``, ``churn_rate``, ...) it says to write the
    time with an offset, as no argument of the caller could help.

    Examples
    --------
    >>> to_us("1970-01-02T00:00:00Z")
    86400000000
    >>> to_us("2024-03-01T10:00", what="start")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: start '2024-03-01T10:00' has no time zone; write it with an offset, e.g. '2024-03-01T10:00:00Z' or '2024-03-01T10:00:00+02:00', or pass an aware datetime
    """
    zone = resolve_timezone(timezone_name)
    if _is_nat(value):
        raise SchemaError(f"{what} is NaT; expected a time")
    if isinstance(value, np.datetime64):
        us, errors = _datetime64_to_us(np.array([value]), what)  # the one range check
        if errors:
            raise SchemaError(errors[0])
        return int(us[0])
    if isinstance(value, datetime):
        return _datetime_to_us(value, zone, what, timezone_arg)
    if isinstance(value, date):
        return _datetime_to_us(
            datetime(value.year, value.month, value.day), zone or timezone.utc, what
        )
    if isinstance(value, str):
        try:
            parsed = parse_iso(value)
        except ValueError:
            raise SchemaError(
                f"{what} {value!r} is not an ISO-8601 time (expected e.g. '2024-03-01T10:00:00+00:00')"
            ) from None
        return _datetime_to_us(parsed, zone, what, timezone_arg, written=value)
    if isinstance(value, (bool, np.bool_, int, float, np.integer, np.floating)):
        return epoch_seconds_to_us(value, what)
    raise SchemaError(
        f"{what} {value!r} is a {type(value).__name__}; expected a datetime, ISO-8601 string, "
        "numpy datetime64 or epoch seconds"
    )


def as_of_us(
    as_of: TimeLike,
    *,
    zone: str | tzinfo | None = None,
    zone_arg: str | None = None,
    what: str = "as_of",
) -> int:
    """``as_of`` in microseconds since the epoch, UTC: how every analysis reads its ``as_of``.

    Aware datetimes, ISO-8601 text with an offset, ``numpy.datetime64`` (UTC), dates (midnight
    in ``zone``, UTC by default) and epoch seconds are read as :func:`to_us` reads them. A naive
    datetime or text names no instant and is refused, with the same hint from every function,
    unless ``zone`` names the zone to read it in: the value of the caller's own argument
    ``zone_arg`` (``"timezone"``), which the hint then names too. ``what`` is the caller's name
    for the argument (an observation end other than ``as_of``, such as ``calibration_end``).

    Examples
    --------
    >>> as_of_us("1970-01-02T00:00:00Z")
    86400000000
    >>> as_of_us("1970-01-02T02:00:00", zone="+02:00", zone_arg="timezone")
    86400000000
    >>> as_of_us("2024-12-31")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: as_of '2024-12-31' has no time zone; give an aware time, e.g. as_of='2024-12-31T00:00:00Z' (UTC) or a datetime with tzinfo
    """
    naive = None if zone is not None else _naive(as_of)
    if naive is not None:
        shown = as_of.strip() if isinstance(as_of, str) else naive.isoformat()
        also = "" if zone_arg is None else f", or pass {zone_arg}='UTC' (or the zone it is in)"
        raise SchemaError(
            f"{what} {shown!r} has no time zone; give an aware time, e.g. "
            f"{what}='{naive.isoformat()}Z' (UTC) or a datetime with tzinfo{also}"
        )
    return to_us(as_of, timezone_name=zone, what=what, timezone_arg=zone_arg)


def _is_nat(value: object) -> bool:
    """Whether ``value`` is numpy's or pandas' not-a-time (pandas' ``NaT`` is a datetime whose
    every method fails, so it is told apart before any is called).

    Examples
    --------
    >>> _is_nat(np.datetime64("NaT")), _is_nat(datetime(2024, 1, 1)), _is_nat("NaT")
    (True, False, False)
    """
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return type(value).__name__ == "NaTType"


def _naive(value: object) -> datetime | None:
    """``value`` as a datetime when it is a datetime, or ISO-8601 text, without a UTC offset."""
    if _is_nat(value):
        return None  # to_us names the problem
    if isinstance(value, str):
        try:
            value = parse_iso(value)
        except ValueError:
            return None  # not a time: to_us names the problem
    if isinstance(value, datetime) and value.utcoffset() is None:
        return value
    return None


def us_to_datetime(us: int | np.integer[Any]) -> datetime:
    """Convert microseconds since the epoch to an aware UTC ``datetime``.

    Examples
    --------
    >>> us_to_datetime(0)
    datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    return EPOCH + timedelta(microseconds=int(us))


def timestamps_to_us(
    values: Sequence[Any] | np.ndarray[Any, Any],
    *,
    timezone_name: str | tzinfo | None = None,
    column: str = "timestamp",
    timezone_arg: str | None = "timezone",
    time_format: TimeFormat | None = None,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], dict[int, str]]:
    """Convert a column of times to int64 microseconds, UTC.

    Returns the converted array and a mapping ``row -> reason`` for the rows that failed
    (their slot holds 0). A ``date`` is midnight in ``timezone_name`` and, like naive text,
    fails without one (as UTC, a day of New York would start in the day before it). Strings
    are parsed once per distinct value: as ISO-8601 (nine or more digits, ``1704067200``, as
    the epoch seconds they write), or with
    ``time_format`` when given (a value that does not match it is a failed row). ``timezone_arg``
    is the caller's argument that sets the zone of naive times (``timezone`` for the readers and
    ``InteractionLog.from_*``; ``None`` when the caller has none), named by the hint.
    """
    arr = np.asarray(values)
    n = arr.shape[0] if arr.ndim else 0
    if arr.dtype.kind == "M":
        return _datetime64_to_us(arr, column)
    if arr.dtype.kind in "iuf":
        return _epoch_array_to_us(arr, column)
    zone = resolve_timezone(timezone_name)
    out = np.zeros(n, dtype=np.int64)
    errors: dict[int, str] = {}
    if n == 0:
        return out, errors
    fast = None if time_format is not None else _arrow_parse(arr)
    if fast is not None:
        return fast, errors
    obj = arr.astype(object)
    try:
        uniques, inverse = np.unique(obj, return_inverse=True)
    except TypeError:  # mixed types that cannot be ordered
        uniques, inverse = obj, np.arange(n)
    converted = np.zeros(len(uniques), dtype=np.int64)
    failed: dict[int, str] = {}
    for j, item in enumerate(uniques):
        # NaN, pandas' NaT and NA; numpy's NaT is left to to_us, which names it
        if _is_blank(item) or (not isinstance(item, np.datetime64) and missing_label(item)):
            failed[j] = f"{column} is missing; expected a time"
            continue
        try:
            if time_format is not None and isinstance(item, str):
                parsed = time_format.parse(item, column)
                converted[j] = _datetime_to_us(parsed, zone, column, timezone_arg, written=item)
            elif isinstance(item, np.datetime64) and not is_utc(zone) and timezone_arg:
                # UTC, as a datetime64 array is: the zone would not apply, and ignoring it
                # would read wall times meant in the zone hours off
                failed[j] = (
                    f"{column} {np.datetime_as_string(item)} is a numpy datetime64, read as "
                    f"UTC, so {timezone_arg}={str(zone)!r} would not apply to it; drop "
                    f"{timezone_arg}= for UTC times, or give wall times as datetimes or text"
                )
            elif isinstance(item, date) and not isinstance(item, datetime):
                # a day names no instant until its zone is said, as a date written as text
                day = datetime(item.year, item.month, item.day)
                converted[j] = _datetime_to_us(day, zone, column, timezone_arg, item.isoformat())
            else:  # epoch seconds written as text read as the number they write
                number = item if time_format is not None else epoch_text_number(item)
                converted[j] = to_us(
                    number, timezone_name=zone, what=column, timezone_arg=timezone_arg
                )
        except ArgumentHintError as exc:  # naive: the reason keeps the argument it asks for
            failed[j] = exc.reason()
        except SchemaError as exc:
            failed[j] = str(exc)
        except (TypeError, ValueError, OverflowError, RecursionError):
            failed[j] = (
                f"{column} {_short(item)} is a {type(item).__name__}; expected a datetime, "
                "ISO-8601 string or epoch seconds"
            )
    out = converted[inverse.ravel()]
    if failed:
        bad_codes = np.fromiter(failed, dtype=np.int64)
        for row in np.flatnonzero(np.isin(inverse.ravel(), bad_codes)):
            errors[int(row)] = failed[int(inverse.ravel()[row])]
    return out, errors


def _is_blank(item: object) -> bool:
    return isinstance(item, str) and item == ""


def _short(value: object, limit: int = 80) -> str:
    """``repr(value)``, shortened to ``limit`` characters."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 5] + " ...'"


def _datetime64_to_us(
    arr: np.ndarray[Any, Any], column: str
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], dict[int, str]]:
    """``datetime64`` of any unit to microseconds; NaT and times outside years 1..9999 fail.

    The last time is 9999-12-31T23:59:59 UTC, as for :func:`to_us`: a fraction of a second
    after it would be a log that cannot be written and read back.
    """
    low, high = _DATETIME_SECONDS_RANGE
    if arr.dtype == np.dtype("datetime64[us]") and arr.size:
        us = arr.view(np.int64)  # NaT is the smallest int64, below the range
        if low * US_PER_SECOND <= us.min() and us.max() <= high * US_PER_SECOND:
            return us.copy(), {}
    # the range is checked in the array's own unit, or in integer microseconds for a finer
    # one: numpy converts between units without a word about overflow (day 2**62 "is"
    # 1970-01-01 in seconds, some negative attoseconds turn positive) or not at all
    ticks = arr.view(np.int64)
    nat = np.isnat(arr)
    unit, count = np.datetime_data(arr.dtype)
    floored: np.ndarray[Any, np.dtype[np.int64]] | None = None
    if unit in _TICKS_PER_US:  # finer than a microsecond: floored to it
        per_us = _TICKS_PER_US[unit]
        if per_us % count == 0:
            floored = np.floor_divide(ticks, per_us // count)
        else:  # an odd multiple ('3as'): exact in Python integers
            floored = np.array([t * count // per_us for t in ticks.tolist()], dtype=np.int64)
        values = floored
        first, last, after = (x * US_PER_SECOND for x in (low, high, high + 1))
    else:
        values = ticks
        bounds = np.array([low, high, high + 1], dtype="datetime64[s]").astype(arr.dtype)
        first, last, after = bounds.view(np.int64).tolist()
    past_last = (values > last) & (values < after)  # a fraction of a second too late
    outside = ~nat & ((values < first) | (values > last))
    errors = {int(i): f"{column} is missing (NaT); expected a time" for i in np.flatnonzero(nat)}
    for i in np.flatnonzero(outside):
        where = _PAST_LAST if past_last[i] else "is outside years 1..9999"
        errors[int(i)] = f"{column} {arr[i]!r} {where}"
    fine = ~(nat | outside)
    out = np.zeros(arr.shape[0], dtype=np.int64)
    if floored is not None:
        out[fine] = floored[fine]
    else:
        out[fine] = arr[fine].astype("datetime64[us]").astype(np.int64)
    return out, errors


def _epoch_array_to_us(
    arr: np.ndarray[Any, Any], column: str
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], dict[int, str]]:
    """Epoch seconds (an int or float array) to microseconds within :data:`EPOCH_SECONDS_RANGE`."""
    as_float = arr.astype(np.float64)
    low, high = EPOCH_SECONDS_RANGE
    with np.errstate(invalid="ignore"):
        fine = np.isfinite(as_float) & (as_float >= low) & (as_float < high)
    out = np.zeros(arr.shape[0], dtype=np.int64)
    if arr.dtype.kind == "f":
        out[fine] = np.round(as_float[fine] * US_PER_SECOND).astype(np.int64)
    else:
        out[fine] = arr[fine].astype(np.int64) * US_PER_SECOND
    errors: dict[int, str] = {}
    for i in np.flatnonzero(~fine):
        try:
            epoch_seconds_to_us(arr[i].item(), column)
        except SchemaError as exc:
            errors[int(i)] = str(exc)
    return out, errors


def _arrow_parse(values: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.int64]] | None:
    """Vectorised parse of ISO-8601 strings that all carry an offset, when pyarrow is installed.

    Returns ``None`` (and the caller parses row by row, reporting each bad row) when pyarrow is
    missing or any value is missing, naive or malformed.
    """
    try:
        import pyarrow as pa
    except ImportError:
        return None
    if values.dtype.kind == "O" and not all(isinstance(v, str) for v in values[:64]):
        return None
    try:
        text = pa.array(values, type=pa.string())
        if not all(_has_offset(v) for v in text.slice(0, 64).to_pylist()):
            return None
        parsed = text.cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowException, TypeError, ValueError, UnicodeError, OverflowError):
        return None
    if parsed.null_count:
        return None
    out = np.asarray(parsed.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    low, high = _DATETIME_SECONDS_RANGE
    if out.size and (out.min() < low * US_PER_SECOND or out.max() > high * US_PER_SECOND):
        return None
    return out


def _has_offset(text: str | None) -> bool:
    return text is not None and bool(_OFFSET_TAIL.search(text.strip()))


def is_zero_duration(duration: object) -> bool:
    """Whether ``duration`` is a zero length however it is written: ``0`` (seconds),
    ``timedelta(0)`` or text such as ``"0 days"`` or ``"0s"`` (a known unit). A setting that
    takes zero (``allowed_lateness``) asks this before :func:`parse_duration`, which refuses
    it; anything else (``None``, ``""``, ``True``, an unknown unit) is not zero and is left to
    :func:`parse_duration` to refuse with its reason.

    Examples
    --------
    >>> [is_zero_duration(d) for d in (0, 0.0, timedelta(0), "0 days", " 0.0 h ", "0 months")]
    [True, True, True, True, True, True]
    >>> [is_zero_duration(d) for d in (None, "", False, "0 parsecs", "1s", timedelta(-1))]
    [False, False, False, False, False, False]
    """
    if isinstance(duration, bool):
        return False
    if isinstance(duration, (int, float, timedelta)):
        return not duration
    if isinstance(duration, str):
        match = _DURATION_RE.match(duration)
        if match is not None and float(match.group(1)) == 0:
            unit = match.group(2).lower()
            return unit in _UNITS_US or unit in _MONTH_UNITS
    return False


def parse_duration(text: DurationLike) -> timedelta | relativedelta:
    """Parse a duration: ``"90d"``, ``"90 days"``, ``"30m"``, ``"2 months"``, or a timedelta.

    Calendar months and years become a :class:`~dateutil.relativedelta.relativedelta`;
    everything else a :class:`~datetime.timedelta`. Non-positive durations raise, and so do
    durations longer than 100 years (36,525 days or 1,200 months, the trigger language's
    limit) and a ``relativedelta`` holding anything but whole months and years.

    Examples
    --------
    >>> parse_duration("90d")
    datetime.timedelta(days=90)
    >>> parse_duration("3 months")
    relativedelta(months=+3)
    >>> parse_duration("100000 days")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: duration '100000 days' is longer than 100 years; durations are limited to 100 years (36,525 days or 1,200 months)
    """
    if isinstance(text, relativedelta):
        return _calendar_months(text)
    if isinstance(text, timedelta):
        if text <= timedelta(0):
            raise SchemaError(f"duration {text!r} must be positive")
        if text > timedelta(microseconds=_MAX_DURATION_US):
            raise _too_long(repr(text))
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not math.isfinite(text):
            raise SchemaError(f"duration {text!r} must be a finite number of seconds")
        if text <= 0:
            raise SchemaError(f"duration {text!r} must be positive (seconds)")
        if text * US_PER_SECOND > _MAX_DURATION_US:
            raise _too_long(f"{text!r} seconds")
        return _at_least_a_microsecond(timedelta(seconds=float(text)), text)
    if not isinstance(text, str):
        raise SchemaError(f"duration {text!r} must be a string like '90d', a timedelta or seconds")
    match = _DURATION_RE.match(text)
    if not match:
        raise SchemaError(
            f"duration {text!r} is not understood; expected a number and a unit, e.g. '90d', "
            "'30 minutes', '2 months'"
        )
    amount, unit = float(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise SchemaError(f"duration {text!r} must be positive")
    if unit in _MONTH_UNITS:
        if amount != int(amount):
            raise SchemaError(f"duration {text!r}: calendar months must be a whole number")
        if amount * _MONTH_UNITS[unit] > _MAX_DURATION_MONTHS:
            raise _too_long(repr(text))
        return relativedelta(months=int(amount) * _MONTH_UNITS[unit])
    if unit not in _UNITS_US:
        raise SchemaError(
            f"duration {text!r} has unknown unit {unit!r}; expected one of "
            "s, m (minutes), h, d, w, months, years"
        )
    if amount * _UNITS_US[unit] > _MAX_DURATION_US:
        raise _too_long(repr(text))
    return _at_least_a_microsecond(timedelta(microseconds=amount * _UNITS_US[unit]), text)


def _too_long(shown: str) -> SchemaError:
    """The error for a duration ``shown`` past the 100-year limit."""
    return SchemaError(f"duration {shown} is longer than 100 years; {_TOO_LONG}")


def _at_least_a_microsecond(duration: timedelta, given: object) -> timedelta:
    """``duration`` unless it rounded to nothing: times are kept in microseconds."""
    if duration <= timedelta(0):
        raise SchemaError(
            f"duration {given!r} is shorter than a microsecond, the resolution of times"
        )
    return duration


def _calendar_months(duration: relativedelta) -> relativedelta:
    """``duration`` if it is a positive whole number of months (and years) up to 100 years:
    a calendar duration is added as months, so a day, an hour or an absolute field (``day=``,
    ``weekday=``) in it would be dropped without a word."""
    months = duration.months + 12 * duration.years
    if duration != relativedelta(months=months):
        raise SchemaError(
            f"duration {duration!r} holds more than whole months and years; a calendar "
            "duration is a number of months, e.g. relativedelta(months=3): give days, hours "
            "or weeks as a timedelta or text such as '5 days'"
        )
    if months <= 0:
        raise SchemaError(f"duration {duration!r} must be positive")
    if months > _MAX_DURATION_MONTHS:
        raise _too_long(repr(duration))
    return duration


def duration_to_us(duration: DurationLike) -> int:
    """Fixed-length duration in microseconds; calendar durations raise.

    Examples
    --------
    >>> duration_to_us("1h")
    3600000000
    """
    parsed = parse_duration(duration)
    if isinstance(parsed, relativedelta):
        raise SchemaError(
            f"duration {duration!r} is a calendar duration; a fixed length (days, hours) is needed here"
        )
    return (parsed.days * 86_400 + parsed.seconds) * US_PER_SECOND + parsed.microseconds


def add_duration(
    times_us: np.ndarray[Any, np.dtype[np.int64]], duration: DurationLike
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Add a duration to an array of instants; calendar months use UTC calendar arithmetic.

    A ``relativedelta`` is taken as the number of months it holds, negative ones too (the
    trigger language looks back calendar months); anything else is read by
    :func:`parse_duration`.
    """
    parsed = duration if isinstance(duration, relativedelta) else parse_duration(duration)
    if isinstance(parsed, timedelta):
        return times_us + duration_to_us(parsed)
    months = parsed.months + 12 * parsed.years
    as_dt = times_us.astype("datetime64[us]")
    month_start = as_dt.astype("datetime64[M]")
    offset_in_month = as_dt - month_start.astype("datetime64[us]")
    target_month = month_start + np.timedelta64(months, "M")
    next_month = target_month + np.timedelta64(1, "M")
    month_len = next_month.astype("datetime64[us]") - target_month.astype("datetime64[us]")
    # clamp the day to the target month's length (Jan 31 + 1 month -> Feb 28/29), as dateutil does
    day_part = offset_in_month.astype("timedelta64[D]")
    intraday = offset_in_month - day_part.astype("timedelta64[us]")
    last_day = (month_len.astype("timedelta64[D]") - np.timedelta64(1, "D")).astype(
        "timedelta64[D]"
    )
    clamped = np.minimum(day_part, last_day).astype("timedelta64[us]")
    result = target_month.astype("datetime64[us]") + clamped + intraday
    return np.asarray(result.astype(np.int64), dtype=np.int64)


def format_duration(duration: timedelta | relativedelta) -> str:
    """Format a duration in the trigger language's canonical form.

    Examples
    --------
    >>> format_duration(parse_duration("90d"))
    '90 days'
    """
    if isinstance(duration, relativedelta):
        months = duration.months + 12 * duration.years
        return f"{months} month" + ("" if months == 1 else "s")
    total = duration.days * US_PER_DAY + duration.seconds * US_PER_SECOND + duration.microseconds
    for unit, size in (
        ("week", 7 * US_PER_DAY),
        ("day", US_PER_DAY),
        ("hour", 3600 * US_PER_SECOND),
        ("minute", 60 * US_PER_SECOND),
        ("second", US_PER_SECOND),
    ):
        if total % size == 0:
            count = total // size
            if unit == "week":
                count, unit = count * 7, "day"
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{total} us"
