"""Times and numbers parsed from a text column (:class:`~cxmodel.log._columns.Encoded`).

The Python rules (:func:`cxmodel._time.timestamps_to_us`, :func:`to_float_column`) read each
distinct text once and name each bad row. A column read by Arrow (a CSV file, a string column
of an Arrow table) is parsed by Arrow first, at C speed, for what Arrow reads exactly as Python
does: ISO-8601 ``YYYY-MM-DD[T ]hh[:mm[:ss[.ffffff]]]`` with ``Z``, ``+hh``, ``+hhmm`` or
``+hh:mm`` (as ``datetime.fromisoformat``) and decimal numbers (as ``float()``, correctly
rounded). Every other row (a missing value, whitespace, a lowercase ``z``, ``1_000``, a naive
time in a zone with daylight saving, a value out of range, anything malformed) goes to the
Python rules, so values, errors and their messages are the same either way.

pyarrow is imported only when a column holds Arrow text.
"""

from __future__ import annotations

import sys
from datetime import timezone, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._time import timestamps_to_us
from cxmodel._time_format import TimeFormat
from cxmodel.log._columns import Encoded, RowErrors, to_float_column

__all__ = ["arrow_numbers", "arrow_times", "text_floats", "text_times"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CHUNK = 4096
"""Rows cast together once the whole column does not cast. A chunk that does not cast either
is halved while exactly one half fails (isolating a lone bad value in a dozen casts); when
both halves fail the bad values are many, and the chunk's rows go to the Python rules."""

_US = 1_000_000
_LOW_US = -62_135_596_800 * _US  # 0001-01-01T00:00:00Z, as cxmodel._time accepts
_HIGH_US = 253_402_300_799 * _US  # 9999-12-31T23:59:59Z


def text_times(
    column: Encoded, zone: tzinfo | None, time_format: TimeFormat | None = None
) -> tuple[IntArray, dict[int, str]]:
    """Microseconds since the epoch (UTC) of a text column, and ``row -> reason`` for the rows
    that are not times (their slot holds 0). With ``time_format`` every value is read with it
    (by the Python rules, once per distinct text).

    Examples
    --------
    >>> import pyarrow as pa
    >>> times, bad = text_times(Encoded.from_arrow(pa.array(["1970-01-01T00:00:01Z", "soon"])),
    ...                         None)
    >>> times.tolist(), bad
    ([1000000, 0], {1: "timestamp 'soon' is not an ISO-8601 time (expected e.g. '2024-03-01T10:00:00+00:00')"})
    """
    if column.text is None or time_format is not None:
        return _distinct_times(column, zone, time_format)
    times, read = arrow_times(column.text, zone)
    rest = np.flatnonzero(~read)
    if not rest.size:
        return times, {}
    slow, bad = _distinct_times(column.take(rest), zone, None)
    times[rest] = slow
    return times, {int(rest[row]): reason for row, reason in bad.items()}


def _distinct_times(
    column: Encoded, zone: tzinfo | None, time_format: TimeFormat | None
) -> tuple[IntArray, dict[int, str]]:
    """The Python rules, once per distinct text; a missing row is a bad row. Without a
    ``time_format``, text that is a number of nine or more digits (``1704067200``,
    ``1704067200.5``) is epoch seconds, read as the same number is
    (:func:`~cxmodel._time.epoch_text_number`)."""
    parsed, bad = timestamps_to_us(column.categories, timezone_name=zone, time_format=time_format)
    codes = column.codes
    times = np.append(parsed, 0)[codes]
    wrong = (codes < 0) | np.isin(codes, np.fromiter(bad, dtype=np.int64))
    return times, {
        row: bad.get(int(codes[row]), "timestamp is missing; expected a time")
        for row in np.flatnonzero(wrong).tolist()
    }


def text_floats(column: Encoded, name: str, errors: RowErrors) -> FloatArray:
    """A text column as float64 (NaN for missing), recording the rows that are not finite
    numbers in ``errors`` as :func:`~cxmodel.log._columns.to_float_column` does.

    Examples
    --------
    >>> import pyarrow as pa
    >>> errors = RowErrors()
    >>> text_floats(Encoded.from_arrow(pa.array(["1.5", None, "NA"])), "value", errors).tolist()
    [1.5, nan, nan]
    >>> errors.reasons
    {2: "value 'NA' is not a number (column 'value'); expected e.g. 12.5, or an empty field for missing"}
    """
    if column.text is None:
        return _distinct_floats(column, name, errors)
    values, read = arrow_numbers(column.text)
    rest = np.flatnonzero(~read)
    if rest.size:
        local = RowErrors()
        values[rest] = _distinct_floats(column.take(rest), name, local)
        errors.update({int(rest[row]): reason for row, reason in local.reasons.items()})
    return values


def _distinct_floats(column: Encoded, name: str, errors: RowErrors) -> FloatArray:
    """The Python rules, once per distinct text."""
    local = RowErrors()
    parsed = to_float_column(column.categories, name, local)
    codes = column.codes
    out = np.append(parsed, np.nan)[codes]
    if local:
        bad_codes = np.fromiter(local.reasons, dtype=np.int64)
        for row in np.flatnonzero(np.isin(codes, bad_codes)).tolist():
            errors.reasons.setdefault(row, local.reasons[int(codes[row])])
    return np.asarray(out, dtype=np.float64)


def arrow_times(text: Any, zone: tzinfo | None) -> tuple[IntArray, BoolArray]:
    """Microseconds since the epoch (UTC) of the rows of ``text`` that Arrow reads.

    A time with an offset is read as such; a naive time only when ``zone`` is a fixed offset
    (``"UTC"``, ``"+02:00"``), since Arrow's reading of times in a zone with daylight saving
    differs from Python's at the transitions. Rows not read (missing, malformed, out of years
    1..9999) are ``False`` in the second array and hold 0. Before Python 3.11,
    ``datetime.fromisoformat`` reads fewer shapes than Arrow (no ``Z``, no ``+hhmm``), so
    Arrow reads nothing there.

    Examples
    --------
    >>> import pyarrow as pa
    >>> us, read = arrow_times(pa.array(["1970-01-01T00:00:01Z", "1970-01-01 01:00", None]),
    ...                        timezone.utc)
    >>> us.tolist(), read.tolist()  # doctest: +SKIP
    ([1000000, 3600000000, 0], [True, True, False])
    >>> arrow_times(pa.array(["tomorrow"]), None)[1].tolist()
    [False]
    """
    import pyarrow as pa

    if sys.version_info < (3, 11):
        return np.zeros(len(text), dtype=np.int64), np.zeros(len(text), dtype=bool)
    offset = zone.utcoffset(None) if isinstance(zone, timezone) else None
    aware = pa.timestamp("us", tz="UTC")

    def read(part: Any) -> tuple[IntArray, BoolArray] | None:
        parsed = _cast(part, aware, pa)
        shift = 0
        if parsed is None and offset is not None:  # naive times in a fixed-offset zone
            parsed = _cast(part, pa.timestamp("us"), pa)
            shift = (offset.days * 86_400 + offset.seconds) * _US + offset.microseconds
        if parsed is None:
            return None
        values = _int64(parsed.cast(pa.int64()).fill_null(0))
        if shift:
            values = values - shift
        if (
            parsed.null_count == 0
            and values.size
            and int(values.min()) >= _LOW_US
            and int(values.max()) <= _HIGH_US
        ):  # every row read (the usual case): no masks to build
            return np.array(values, dtype=np.int64), np.ones(values.size, dtype=bool)
        inside = _valid(parsed) & (values >= _LOW_US) & (values <= _HIGH_US)
        return np.where(inside, values, 0), inside

    return _by_chunks(text, read, np.int64)


def arrow_numbers(text: Any) -> tuple[FloatArray, BoolArray]:
    """The numbers Arrow reads in ``text``: finite values, and NaN for missing rows.

    Rows not read (text Arrow does not read as a number, or a number that is not finite, such
    as ``inf``, ``nan`` or ``1e999``) are ``False`` in the second array.

    Examples
    --------
    >>> import pyarrow as pa
    >>> values, read = arrow_numbers(pa.array(["1.5", None, "1_000", "inf", "-.5e1"]))
    >>> values.tolist(), read.tolist()
    ([1.5, nan, 0.0, 0.0, -5.0], [True, True, False, False, True])
    """
    import pyarrow as pa

    def read(part: Any) -> tuple[FloatArray, BoolArray] | None:
        parsed = _cast(part, pa.float64(), pa)
        if parsed is None:
            return None
        values = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
        fine = ~_valid(parsed) | np.isfinite(values)
        return np.where(fine, values, 0.0), fine

    return _by_chunks(text, read, np.float64)


def _by_chunks(text: Any, read: Any, dtype: Any) -> tuple[Any, BoolArray]:
    """``read`` over the whole array, else over chunks, halving a chunk that does not cast."""
    n = len(text)
    whole = read(text)
    if whole is not None:
        return whole  # type: ignore[no-any-return]
    out = np.zeros(n, dtype=dtype)
    done = np.zeros(n, dtype=bool)
    failed = []
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        part = read(text.slice(start, stop - start)) if n > _CHUNK else None
        if part is None:
            failed.append((start, stop))
        else:
            out[start:stop], done[start:stop] = part
    while failed:
        start, stop = failed.pop()
        if stop - start < 2:
            continue
        middle = (start + stop) // 2
        halves = [(start, middle), (middle, stop)]
        parts = [read(text.slice(a, b - a)) for a, b in halves]
        for (a, b), part in zip(halves, parts, strict=True):
            if part is not None:
                out[a:b], done[a:b] = part
        if parts.count(None) == 1:
            failed.append(halves[parts.index(None)])
    return out, done


def _cast(part: Any, target: Any, pa: Any) -> Any:
    """``part`` cast to ``target``, or ``None`` when some value does not convert."""
    try:
        return part.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _int64(array: Any) -> IntArray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _valid(array: Any) -> BoolArray:
    """Which entries of an Arrow array are not null."""
    if array.null_count == 0:
        return np.ones(len(array), dtype=bool)
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
