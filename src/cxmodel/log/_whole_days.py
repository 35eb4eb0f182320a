"""Dates without a time of day: an export of them observes whole days.

A daily export writes ``2024-03-31`` (or ``20240331``) for everything that happened that day.
Read as an instant, that is midnight at the start of the day, so a log whose observation ended
at its last interaction would end at 00:00 of the export's last day, although the export covers
all of it. When every timestamp of a log is such a date, the log is observed until the last
microsecond of its last day instead, in the zone the dates were read in (a date written with an
offset, ``2024-03-31+02:00``, is a day at that offset). A column holding one time of day among
its dates is not a column of dates. The same holds for a column of ``datetime.date`` values
(Arrow's ``date32``, a frame's dates), read in the zone given as ``timezone=``.

The test is made on the distinct texts of the column (a column of dates has few), once the
row holding the latest time has shown a date: a column of times stops there.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._time import US_PER_DAY, timestamps_to_us, to_us, us_to_datetime
from cxmodel._time_format import TimeFormat
from cxmodel.log._columns import Encoded

__all__ = ["date_texts", "day_end", "whole_days_end"]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_WIDTH = 16
"""Characters of the longest date without a time: ``YYYY-MM-DD+hh:mm``."""
_DIGIT_0, _DIGIT_9 = ord("0"), ord("9")


def date_texts(texts: npt.ArrayLike) -> tuple[BoolArray, BoolArray]:
    """Which texts are dates without a time of day, and which of those carry a UTC offset.

    A date is ``YYYY-MM-DD`` or ``YYYYMMDD``, alone or followed by an offset (``Z``, ``+hh``,
    ``+hhmm``, ``+hh:mm``), or an ISO week date (``YYYY-Www-D``, ``YYYYWwwD``, ``YYYY-Www``),
    with surrounding whitespace allowed: the date-only shapes that
    :func:`cxmodel._time.parse_iso` reads. Anything that is not a ``str`` is not a date.
    The test runs on all texts at once, on their characters as a matrix.

    Examples
    --------
    >>> dated, offset = date_texts(["2024-03-31", "19970101", "2024-03-31Z",
    ...     "2024-03-31T00:00", "2024-03-31 10", "2024-W13-7", None])
    >>> dated.tolist(), offset.tolist()
    ([True, True, True, False, False, True, False], [False, False, True, False, False, False, False])
    """
    values = np.asarray(texts, dtype=object)
    if values.ndim != 1:
        values = values.reshape(-1)
    none = np.zeros(values.shape[0], dtype=bool)
    if not values.size:
        return none, none.copy()
    written = values.astype(str)
    is_text = written.astype(object) == values  # str(x) == x only for texts
    stripped = np.strings.strip(written)
    length = np.strings.str_len(stripped)
    short = is_text & (length <= _WIDTH)
    if not short.any():
        return none, none.copy()
    chars = (
        np.where(short, stripped, "")
        .astype(f"<U{_WIDTH}")
        .view(np.uint32)
        .reshape(-1, _WIDTH)
        .astype(np.int64)
    )
    digit = (chars >= _DIGIT_0) & (chars <= _DIGIT_9)

    def digits(start: int, stop: int) -> BoolArray:
        return np.asarray(digit[:, start:stop].all(axis=1), dtype=bool)

    def char(at: int, mark: str) -> BoolArray:
        return np.asarray(chars[:, at] == ord(mark), dtype=bool)

    extended = digits(0, 4) & char(4, "-") & digits(5, 7) & char(7, "-") & digits(8, 10)
    basic = digits(0, 8) & ~extended
    body = np.where(extended, 10, np.where(basic, 8, 0))
    tail = length - body
    picks = np.minimum(body[:, None] + np.arange(6), _WIDTH - 1)
    after = np.take_along_axis(chars, picks, axis=1)
    after_digit = (after >= _DIGIT_0) & (after <= _DIGIT_9)
    sign = (after[:, 0] == ord("+")) | (after[:, 0] == ord("-"))
    hours = sign & after_digit[:, 1] & after_digit[:, 2]
    zone_tail = (
        ((tail == 1) & ((after[:, 0] == ord("Z")) | (after[:, 0] == ord("z"))))
        | (hours & (tail == 3))
        | (hours & (tail == 5) & after_digit[:, 3] & after_digit[:, 4])
        | (hours & (tail == 6) & (after[:, 3] == ord(":")) & after_digit[:, 4] & after_digit[:, 5])
    )
    calendar = short & (body > 0) & ((tail == 0) | zone_tail)
    week = short & (
        (
            digits(0, 4)
            & char(4, "-")
            & char(5, "W")
            & digits(6, 8)
            & ((length == 8) | ((length == 10) & char(8, "-") & digits(9, 10)))
        )
        | (
            digits(0, 4)
            & char(4, "W")
            & digits(5, 7)
            & ((length == 7) | ((length == 8) & digits(7, 8)))
        )
    )
    return calendar | week, calendar & (tail > 0)


def day_end(midnight: int, zone: tzinfo) -> int:
    """The last microsecond (UTC) of the day in ``zone`` that holds the instant ``midnight``:
    the next local midnight, less 1 µs, so a day on which the clocks change lasts 23 or 25
    hours.

    Examples
    --------
    >>> from cxmodel._time import resolve_timezone, to_us
    >>> paris = resolve_timezone("Europe/Paris")
    >>> start = to_us("2024-03-31", timezone_name=paris)  # the clocks go forward that night
    >>> us_to_datetime(day_end(start, paris)).isoformat()
    '2024-03-31T21:59:59.999999+00:00'
    """
    day = us_to_datetime(midnight).astimezone(zone).date() + timedelta(days=1)
    return to_us(datetime(day.year, day.month, day.day, tzinfo=zone)) - 1


def whole_days_end(
    stamps: Encoded | npt.NDArray[Any],
    times: IntArray,
    keep: BoolArray | None,
    zone: tzinfo | None,
    time_format: TimeFormat | None = None,
) -> int | None:
    """The end of the last day of a timestamp column of dates, or ``None`` when some kept
    value is not a date without a time of day (or the column is not text, or not all
    ``datetime.date`` values, as Arrow's ``date32`` and a frame's dates are read).

    Parameters
    ----------
    stamps
        The timestamp column as the builder received it.
    times
        Its times in microseconds since the epoch (UTC), row for row.
    keep
        The rows the log keeps (``None``: all of them); rejected rows do not count.
    zone
        The zone naive dates were read in.
    time_format
        The format the texts were read with, if not ISO-8601: its values are dates when it
        reads no time of day (``%d.%m.%Y``).

    Examples
    --------
    >>> from cxmodel._time import resolve_timezone
    >>> stamps = np.array(["2024-03-30", "2024-03-31"], dtype=object)
    >>> times = np.array([to_us(s, timezone_name="UTC") for s in stamps])
    >>> us_to_datetime(whole_days_end(stamps, times, None, resolve_timezone("UTC"))).isoformat()
    '2024-03-31T23:59:59.999999+00:00'
    >>> whole_days_end(stamps.astype("datetime64[us]"), times, None, None) is None
    True
    >>> days = np.array([date(2024, 3, 30), date(2024, 3, 31)], dtype=object)
    >>> us_to_datetime(whole_days_end(days, times, None, resolve_timezone("UTC"))).isoformat()
    '2024-03-31T23:59:59.999999+00:00'
    """
    if not isinstance(stamps, Encoded) and stamps.dtype.kind not in "OU":
        return None  # datetime64, epoch numbers: instants, not days
    rows = np.arange(times.shape[0]) if keep is None else np.flatnonzero(keep)
    if not rows.size:
        return None
    latest = int(rows[np.argmax(times[rows])])
    if time_format is not None:
        return _formatted_days_end(stamps, rows, int(times[latest]), zone, time_format)
    if _is_day(stamps[latest]):  # datetime.date values (Arrow date32, a frame's dates)
        distinct = _distinct(stamps, rows)
        if distinct is None or zone is None or not all(map(_is_day, distinct.tolist())):
            return None
        return day_end(int(times[latest]), zone)
    if not date_texts([stamps[latest]])[0][0]:  # a column of times stops here
        return None
    distinct = _distinct(stamps, rows)
    if distinct is None:
        return None
    dated, offset = date_texts(distinct)
    if not dated.all():
        return None
    parsed, bad = timestamps_to_us(distinct, timezone_name=zone)
    if bad:  # not reached: every kept row was read
        return None
    ends = []
    if offset.any():  # a day at a fixed offset lasts 24 hours
        ends.append(int(parsed[offset].max()) + US_PER_DAY - 1)
    if (~offset).any() and zone is not None:
        ends.append(day_end(int(parsed[~offset].max()), zone))
    return max(ends) if ends else None


def _is_day(value: object) -> bool:
    """Whether ``value`` is a ``datetime.date`` (a day), not a ``datetime`` (an instant)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def _formatted_days_end(
    stamps: Encoded | npt.NDArray[Any],
    rows: npt.NDArray[np.intp],
    latest: int,
    zone: tzinfo | None,
    time_format: TimeFormat,
) -> int | None:
    """:func:`whole_days_end` of texts read with ``time_format``: every kept value is a date
    when the format reads no time of day and every value is text (a datetime among them is
    an instant)."""
    if not time_format.whole_days:
        return None
    if not isinstance(stamps, Encoded):
        distinct = _distinct(stamps, rows)
        if distinct is None or not all(isinstance(v, str) for v in distinct.tolist()):
            return None
    if time_format.has_offset:  # a day at a fixed offset lasts 24 hours
        return latest + US_PER_DAY - 1
    return None if zone is None else day_end(latest, zone)


def _distinct(stamps: Encoded | npt.NDArray[Any], rows: npt.NDArray[np.intp]) -> Any:
    """The distinct values of ``stamps`` at ``rows`` (``None`` when some value cannot be
    hashed, which a text always can)."""
    if isinstance(stamps, Encoded):
        codes = stamps.codes[rows]
        present = np.zeros(stamps.categories.shape[0] + 1, dtype=bool)
        present[codes] = True  # a missing row (-1) marks the spare last slot
        return stamps.categories[present[:-1]]
    try:  # hashing, not sorting: a column of dates repeats few values many times
        return np.array(list(dict.fromkeys(stamps[rows].tolist())), dtype=object)
    except TypeError:  # an unhashable value: not a date
        return None
