"""Calendar period labels (day/week/month/quarter) of UTC microsecond times in a time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._time import US_PER_DAY, US_PER_SECOND, resolve_timezone
from cxmodel.errors import SchemaError, did_you_mean

__all__ = ["PERIODS", "index_labels", "local_us", "period_index", "period_labels", "period_name"]

PERIODS = ("day", "week", "month", "quarter")
# how the periods are often written elsewhere (pandas aliases, report wording)
_SPOKEN = {
    "daily": "day",
    "d": "day",
    "weekly": "week",
    "w": "week",
    "monthly": "month",
    "m": "month",
    "me": "month",
    "ms": "month",
    "quarterly": "quarter",
    "q": "quarter",
    "qe": "quarter",
    "qs": "quarter",
}
_QUARTER_US = 15 * 60 * US_PER_SECOND
_ONE_US = timedelta(microseconds=1)


def period_name(period: object, allowed: tuple[str, ...] = PERIODS) -> str:
    """Return ``period`` if it is one of ``allowed``, else raise naming the period it resembles.

    Examples
    --------
    >>> period_name("month")
    'month'
    >>> period_name("Monthly")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: period must be one of (...); got 'Monthly'; did you mean 'month'?
    """
    if isinstance(period, str) and period in allowed:
        return period
    hint = ""
    if isinstance(period, str):
        plain = period.strip().lower()
        plain = _SPOKEN.get(plain, plain)
        hint = f"; did you mean {plain!r}?" if plain in allowed else did_you_mean(plain, allowed)
    raise SchemaError(f"period must be one of {allowed!r}; got {period!r}{hint}")


def local_us(us: npt.NDArray[np.int64], tz: str | None) -> npt.NDArray[np.int64]:
    """UTC microsecond times as the wall-clock microseconds of zone ``tz`` (default UTC),
    the times calendar periods are cut from; an unknown zone raises ``SchemaError``."""
    zone = resolve_timezone(tz or "UTC")
    if zone is None or zone is timezone.utc:
        return us
    # UTC offsets change on quarter-hour boundaries: look each distinct quarter-hour up once.
    slots, inverse = np.unique(us // _QUARTER_US, return_inverse=True)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    moments = (epoch + timedelta(microseconds=int(s) * _QUARTER_US) for s in slots)
    offsets = np.array(
        [(m.astimezone(zone).utcoffset() or timedelta(0)) // _ONE_US for m in moments],
        dtype=np.int64,
    )
    local: npt.NDArray[np.int64] = us + offsets[inverse.reshape(-1)]
    return local


def period_labels(
    us: npt.NDArray[np.int64], period: str, timezone_name: str | None = None
) -> npt.NDArray[Any]:
    """Label each time with its calendar period in ``timezone_name`` (default UTC).

    Labels sort chronologically: day ``2024-03-05``, week = its Monday ``2024-03-04``,
    month ``2024-03``, quarter ``2024Q1``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0, 90 * 86_400_000_000], dtype=np.int64)
    >>> period_labels(t, "quarter").tolist()
    ['1970Q1', '1970Q2']
    >>> period_labels(t, "day", "America/New_York").tolist()
    ['1969-12-31', '1970-03-31']
    """
    period_name(period)
    local = local_us(np.asarray(us, dtype=np.int64), timezone_name)
    days = np.floor_divide(local, US_PER_DAY)
    if period == "day":
        return days.astype("datetime64[D]").astype(str).astype(object)
    if period == "week":
        monday = (days + 3) // 7 * 7 - 3  # 1970-01-01 was a Thursday
        return monday.astype("datetime64[D]").astype(str).astype(object)
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    if period == "month":
        return months.astype(str).astype(object)
    m = months.astype(np.int64)
    year = 1970 + m // 12
    quarter = m % 12 // 3 + 1
    return np.char.add(np.char.add(year.astype(str), "Q"), quarter.astype(str)).astype(object)


def period_index(
    us: npt.NDArray[np.int64], period: str, timezone_name: str | None = None
) -> npt.NDArray[np.int64]:
    """Integer index of each time's calendar period (consecutive periods differ by 1).

    Examples
    --------
    >>> import numpy as np
    >>> period_index(np.array([0, 40 * 86_400_000_000]), "month").tolist()
    [0, 1]
    """
    period_name(period)
    days = np.floor_divide(local_us(np.asarray(us, dtype=np.int64), timezone_name), US_PER_DAY)
    if period == "day":
        return days
    if period == "week":
        return (days + 3) // 7
    if days.size == 0:
        return days
    # Months of the (few) distinct days through a lookup table: one gather instead of a
    # calendar conversion per row.
    lo = int(days.min())
    span = np.arange(lo, int(days.max()) + 1)
    table = span.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    days -= lo  # in place: days is a fresh array here
    months: npt.NDArray[np.int64] = table[days]
    return months if period == "month" else months // 3


def index_labels(index: npt.NDArray[np.int64], period: str) -> npt.NDArray[Any]:
    """Labels (as :func:`period_labels`) of period indexes from :func:`period_index`."""
    day = {"day": 1, "week": 7}
    if period in day:
        start = index * day[period] - (3 if period == "week" else 0)
        return start.astype("datetime64[D]").astype(str).astype(object)
    if period == "month":
        return index.astype("datetime64[M]").astype(str).astype(object)
    first_month = index * 3
    return period_labels(
        first_month.astype("datetime64[M]").astype("datetime64[us]").astype(np.int64), "quarter"
    )
