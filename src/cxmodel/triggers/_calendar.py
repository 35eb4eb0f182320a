"""Calendar arithmetic in customers' time zones, for rules that say ``in customer timezone``.

A rule in customer time computes every calendar-month duration on the customer's local wall
clock (the ``timezone`` trait, an IANA name): the UTC instant is read as local wall time, the
months are added there (the day clamped to the target month's end, as in UTC) and the result is
read back as an instant. A wall time that does not exist (skipped when clocks go forward) or
exists twice (repeated when they go back) is read with the UTC offset in force *before* the
change, which is Python's ``fold=0``: 02:30 on a spring-forward night in New York is 07:30 UTC
(03:30 daylight time) and 01:30 on a fall-back night is the first 01:30 (daylight time).

Offsets are computed per distinct time zone with arrays. A zone's offset is looked up once per
UTC day touched (cached) and, on a day when it changes, the instant of the change is found by
bisection, so results are exact provided a zone's offset changes at most once in any two days
(true of every zone in the tz database since 1900: the closest changes are about four days
apart).
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt
from dateutil.relativedelta import relativedelta

from cxmodel._time import US_PER_DAY, add_duration, resolve_timezone
from cxmodel.errors import SchemaError

if TYPE_CHECKING:  # it imports this module
    from cxmodel.triggers._rules import Rule

__all__ = [
    "CustomerTime",
    "Zones",
    "add_local_months",
    "add_months",
    "local_to_utc",
    "refuse_bad_zones",
    "utc_offsets",
]

IntArray = npt.NDArray[np.int64]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_DATE = date(1970, 1, 1)
_NO_CHANGE = np.iinfo(np.int64).max


@attrs.frozen(eq=False)
class Zones:
    """The time zone of each element of a time array: ``names[code[i]]``; code -1 is UTC."""

    code: IntArray
    names: tuple[str, ...]

    def groups(self) -> Iterator[tuple[str, IntArray]]:
        """(zone name, element indices) for each zone used; UTC elements are left out."""
        if not self.names or not len(self.code):
            return
        order = np.argsort(self.code, kind="stable")
        ordered = self.code[order]
        bounds = np.searchsorted(ordered, np.arange(len(self.names) + 1))
        for z, name in enumerate(self.names):
            if bounds[z + 1] > bounds[z]:
                yield name, order[bounds[z] : bounds[z + 1]]


def _offset_at(zone: tzinfo, us: int) -> int:
    """The UTC offset (microseconds) of ``zone`` at the instant ``us``."""
    offset = (_EPOCH + timedelta(microseconds=us)).astimezone(zone).utcoffset()
    return 0 if offset is None else offset // timedelta(microseconds=1)


@functools.lru_cache(maxsize=1 << 16)
def _day(name: str, day: int) -> tuple[int, int, int]:
    """(offset at the day's start, instant the offset changes or a sentinel, offset after it)
    for UTC day ``day`` (days since the epoch) in zone ``name``."""
    zone = resolve_timezone(name)
    assert zone is not None
    lo, hi = day * US_PER_DAY, (day + 1) * US_PER_DAY
    first, last = _offset_at(zone, lo), _offset_at(zone, hi)
    if first == last:
        return first, int(_NO_CHANGE), first
    while hi - lo > 1:  # invariant: offset(lo) == first, offset(hi) == last
        mid = (lo + hi) // 2
        if _offset_at(zone, mid) == first:
            lo = mid
        else:
            hi = mid
    return first, hi, last


def _offset(name: str, us: int) -> int:
    """:func:`_zone_offsets` of one instant: the UTC offset of zone ``name`` at ``us``."""
    before, change, after = _day(name, us // US_PER_DAY)
    return after if us >= change else before


def add_months(us: int, months: int, zone: str | None = None) -> int:
    """Add calendar ``months`` to one UTC instant ``us`` (microseconds): what
    :func:`~cxmodel._time.add_duration` (``zone`` ``None``, the UTC calendar) and
    :func:`add_local_months` (on ``zone``'s wall clock) give for it, computed without arrays
    for the streaming engine, which asks for one instant at a time.

    Examples
    --------
    >>> from cxmodel._time import to_us, us_to_datetime
    >>> t = to_us("2024-01-31T03:00:00Z")
    >>> us_to_datetime(add_months(t, 1)).isoformat()
    '2024-02-29T03:00:00+00:00'
    >>> us_to_datetime(add_months(t, 1, "America/Los_Angeles")).isoformat()
    '2024-03-01T03:00:00+00:00'
    """
    wall = us if zone is None else us + _offset(zone, us)
    days, intraday = divmod(wall, US_PER_DAY)
    day = _EPOCH_DATE + timedelta(days=days)
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]  # the day clamped to the month's end
    moved = date(year, month + 1, min(day.day, last))
    local = (moved - _EPOCH_DATE).days * US_PER_DAY + intraday
    if zone is None:
        return local
    # read back as local_to_utc does: the offset in force before a change of offset
    before, after = _offset(zone, local - US_PER_DAY), _offset(zone, local + US_PER_DAY)
    early, late = local - before, local - after
    if before != after and _offset(zone, early) == after and _offset(zone, late) == after:
        return late
    return early


def _zone_offsets(name: str, times: IntArray) -> IntArray:
    """UTC offsets (microseconds) of zone ``name`` at UTC microsecond ``times``."""
    days = np.floor_divide(times, US_PER_DAY)
    distinct, inverse = np.unique(days, return_inverse=True)
    table = np.array([_day(name, d) for d in distinct.tolist()], dtype=np.int64).reshape(-1, 3)
    before, change, after = table[inverse, 0], table[inverse, 1], table[inverse, 2]
    out: IntArray = np.where(times >= change, after, before).astype(np.int64)
    return out


def utc_offsets(times: IntArray, zones: Zones) -> IntArray:
    """The UTC offset (microseconds) of each element's zone at its UTC time.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([1_704_067_200_000_000, 1_719_792_000_000_000])  # 2024-01-01, 2024-07-01
    >>> utc_offsets(t, Zones(np.array([0, 0]), ("Europe/Paris",))) // 3_600_000_000
    array([1, 2])
    """
    times = np.asarray(times, dtype=np.int64)
    out = np.zeros(len(times), dtype=np.int64)
    for name, idx in zones.groups():
        out[idx] = _zone_offsets(name, times[idx])
    return out


def local_to_utc(local: IntArray, zones: Zones) -> IntArray:
    """Read local wall times (microseconds, as if UTC) in each element's zone as instants.

    A wall time skipped or repeated by a change of offset takes the offset in force before
    the change (``fold=0``).
    """
    local = np.asarray(local, dtype=np.int64)
    out: IntArray = local.copy()
    for name, idx in zones.groups():
        wall = local[idx]
        m = len(wall)
        # at most one change lies within a day of the wall time: its offsets before and after
        around = _zone_offsets(name, np.concatenate([wall - US_PER_DAY, wall + US_PER_DAY]))
        before, after = around[:m], around[m:]
        early, late = wall - before, wall - after
        seen = _zone_offsets(name, np.concatenate([early, late]))
        # the later reading only when the earlier one is past the change and the later is a
        # real reading (not a skipped wall time)
        use_late = (before != after) & (seen[:m] == after) & (seen[m:] == after)
        out[idx] = np.where(use_late, late, early)
    return out


def add_local_months(times: IntArray, months: int, zones: Zones) -> IntArray:
    """Add calendar ``months`` to UTC ``times`` on each element's local wall clock.

    The day is clamped to the target month's end (Jan 31 + 1 month is Feb 29 in 2024); the
    local result is read back with :func:`local_to_utc`.

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel._time import to_us, us_to_datetime
    >>> t = np.array([to_us("2024-01-31T03:00:00Z")])
    >>> la = Zones(np.array([0]), ("America/Los_Angeles",))
    >>> us_to_datetime(int(add_local_months(t, 1, la)[0])).isoformat()
    '2024-03-01T03:00:00+00:00'
    """
    times = np.asarray(times, dtype=np.int64)
    offsets = utc_offsets(times, zones)
    shifted = add_duration(times + offsets, relativedelta(months=months))
    return local_to_utc(shifted, zones)


def _zone_name(customer: str, value: Any, rule: str) -> str | None:
    """The IANA name of a ``timezone`` trait value; ``None`` for UTC, a missing or an empty
    value."""
    if value is None or (isinstance(value, str) and value.strip().upper() in ("", "UTC")):
        return None
    if not isinstance(value, str):
        raise SchemaError(
            f"customer {customer!r}: the 'timezone' trait must be an IANA time zone name such "
            f"as 'Europe/Paris' (got {value!r} that is a {type(value).__name__}); rule {rule!r} "
            "is in customer timezone"
        )
    try:
        resolve_timezone(value)
    except SchemaError as error:
        raise SchemaError(
            f"customer {customer!r}: {error}; rule {rule!r} is in customer timezone (fix the "
            "customer's 'timezone' trait, or remove it to use UTC)"
        ) from None
    return value


def refuse_bad_zones(traits: Mapping[str, Mapping[str, Any]], rules: Iterable[Rule]) -> None:
    """Refuse (``SchemaError`` naming the customer and the value) a ``timezone`` trait that
    is not an IANA zone name when one of ``rules`` is in customer time; a rule set with none
    ignores the trait, as batch evaluation does."""
    zoned = next((rule.name for rule in rules if rule.in_customer_time), None)
    if zoned is None:
        return
    for cid, given in traits.items():
        if "timezone" in given:
            _zone_name(cid, given["timezone"], zoned)


class CustomerTime:
    """The time zones of a log's customers for one rule, looked up on first use.

    Parameters
    ----------
    customers
        The log's customer ids by customer code.
    traits
        Customer id -> traits; the ``timezone`` trait names the customer's zone.
    rule
        The rule's name, for error messages.
    """

    def __init__(
        self, customers: Sequence[Any], traits: Mapping[str, Mapping[str, Any]], rule: str
    ) -> None:
        self._customers = customers
        self._traits = traits
        self._rule = rule
        self._code = np.full(len(customers), -2, dtype=np.int64)  # -2: not looked up yet
        self._names: dict[str, int] = {}

    def zones(self, cust: IntArray) -> Zones:
        """The zone of each customer code in ``cust``.

        Raises
        ------
        SchemaError
            When a customer's ``timezone`` trait is not a known IANA name.
        """
        cust = np.asarray(cust, dtype=np.int64)
        new = np.unique(cust[self._code[cust] == -2]) if len(cust) else cust
        for c in new.tolist():  # once per distinct customer
            cid = str(self._customers[c])
            name = _zone_name(cid, self._traits.get(cid, {}).get("timezone"), self._rule)
            self._code[c] = -1 if name is None else self._names.setdefault(name, len(self._names))
        return Zones(self._code[cust], tuple(self._names))
