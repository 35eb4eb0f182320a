"""Times written in a layout of the user's own (``time_format="%m/%d/%Y %H:%M"``).

Exports rarely write ISO-8601: ``12/1/2010 8:26`` (month first), ``01.12.2010`` (day first),
``2010-12-01 08:26:00 +0100``. Guessing the order of day and month from the data gives a silent
wrong answer on every date up to the 12th, so the readers never guess: they read ISO-8601, and
any other layout is said once with a ``strptime`` format, which every value must then match.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from cxmodel.errors import SchemaError

__all__ = ["TimeFormat", "time_format"]

_EXAMPLE = datetime(2024, 3, 1, 10, 0, 0, tzinfo=timezone.utc)  # an offset for %z
#: directives that read a time of day; a format without any of them writes whole days
_TIME_OF_DAY = re.compile(r"%[-#]?[HIMSfpXcTRrs]")
_OFFSET = re.compile(r"%[-#]?z")


class TimeFormat:
    """A checked ``strptime`` format for text timestamps.

    Parameters
    ----------
    text
        The format, as :meth:`datetime.strptime` reads it (``%Y``, ``%m``, ``%d``, ``%H``,
        ``%M``, ``%S``, ``%f``, ``%z``, ...). ``what`` names the argument in errors.

    Examples
    --------
    >>> fmt = TimeFormat("%m/%d/%Y %H:%M")
    >>> fmt.parse("12/1/2010 8:26", "timestamp")
    datetime.datetime(2010, 12, 1, 8, 26)
    >>> fmt.whole_days, TimeFormat("%d.%m.%Y").whole_days
    (False, True)
    >>> fmt.parse("13/1/2010 8:26", "timestamp")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: timestamp '13/1/2010 8:26' does not match time_format '%m/%d/%Y %H:%M' (e.g. '03/01/2024 10:00')
    """

    __slots__ = ("example", "has_offset", "text", "whole_days")

    def __init__(self, text: str, what: str = "time_format") -> None:
        if not isinstance(text, str) or "%" not in text:
            raise SchemaError(
                f"{what} must be a strptime format such as '%m/%d/%Y %H:%M' (with % directives); "
                f"got {text!r}"
            )
        try:
            written = _EXAMPLE.strftime(text)
            datetime.strptime(written, text)
        except ValueError as exc:
            raise SchemaError(f"{what} {text!r} is not a strptime format: {exc}") from None
        self.text = text
        self.example = written
        #: a format of dates alone: each value is a whole day, not the instant at its start
        self.whole_days = _TIME_OF_DAY.search(text) is None
        #: whether each value carries its UTC offset (``%z``)
        self.has_offset = _OFFSET.search(text) is not None

    def parse(self, value: str, what: str) -> datetime:
        """``value`` read with the format (naive unless the format has ``%z``); white space
        around it is ignored, as around ISO-8601 text."""
        try:
            return datetime.strptime(value.strip(), self.text)
        except ValueError:
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise SchemaError(
                f"{what} {shown!r} does not match time_format {self.text!r} (e.g. {self.example!r})"
            ) from None

    def __repr__(self) -> str:
        return f"TimeFormat({self.text!r})"


def time_format(value: str | TimeFormat | None) -> TimeFormat | None:
    """The readers' ``time_format`` argument, checked (``None``: ISO-8601 only).

    Examples
    --------
    >>> time_format("%d.%m.%Y")
    TimeFormat('%d.%m.%Y')
    >>> time_format("dd/mm/yyyy")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: time_format must be a strptime format such as '%m/%d/%Y %H:%M' (with % directives); got 'dd/mm/yyyy'
    """
    if value is None or isinstance(value, TimeFormat):
        return value
    return TimeFormat(value)
