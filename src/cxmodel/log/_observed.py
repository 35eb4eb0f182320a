"""The one check of a time or a period an analysis is asked about, against what the log saw.

A log observes its customers from its first interaction until
:attr:`~cxmodel.log.InteractionLog.observed_until`: its last interaction, or the end of
its last day when every timestamp was read from a date without a time of day, unless declared
otherwise or cut earlier by :meth:`~cxmodel.log.InteractionLog.between`. Outside that span
the data say nothing, and an answer computed there is quietly wrong rather than empty: every
customer "churns" in a month after the export, because none of them is seen in it. So

* a period that ends at or before its start is refused (:class:`~cxmodel.errors.SchemaError`,
  :func:`check_period_order`): it holds no time, whatever the data;
* a period that begins at or after the end of the observation is refused
  (:class:`~cxmodel.errors.DataError`, naming both times);
* a period that ends after it is answered, with a :class:`~cxmodel.errors.DataWarning` naming
  the span nobody observed and what that does to the answer;
* an ``as_of`` before the first interaction is refused: nothing had happened yet;
* an ``as_of`` after the last interaction declares the data complete until then, and is
  answered so, with a warning counting what that span changed (:func:`warn_after_data`);
* a window that follows every start the analysis counts from past the last interaction is
  answered, with a warning: no outcome in it was fully observed (:func:`warn_windows_open`).

A log with no rows observed nothing; the analyses answer it as they document (the checks
here pass it through).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxmodel._pieces import warn
from cxmodel._time import us_to_datetime
from cxmodel.errors import DataError, DataWarning, SchemaError

if TYPE_CHECKING:
    from cxmodel.log._log import InteractionLog

__all__ = [
    "check_as_of",
    "check_observed_end",
    "check_period",
    "check_period_order",
    "declared_or_seen",
    "first_time",
    "last_time",
    "warn_after_data",
    "warn_windows_open",
]

_DAY = 86_400_000_000


def _when(us: int) -> str:
    return us_to_datetime(us).isoformat().replace("+00:00", "Z")


def _span(us: int) -> str:
    """A positive span in the largest unit that does not round it to 0.

    Examples
    --------
    >>> [_span(us) for us in (3 * _DAY, 5_400_000_000, 90_000_000, 1)]
    ['3.0 days', '1.5 hours', '90.0 seconds', '1 microsecond']
    """
    if us >= _DAY:
        return f"{us / _DAY:,.1f} days"
    if us >= 360_000_000:  # 0.1 hours
        return f"{us / 3_600_000_000:.1f} hours"
    if us >= 100_000:  # 0.1 seconds
        return f"{us / 1_000_000:.1f} seconds"
    return "1 microsecond" if us == 1 else f"{us:,} microseconds"


def check_period(
    log: InteractionLog, start: int | None, end: int | None, *, caller: str, unknown: str
) -> None:
    """Refuse a period ``[start, end)`` that begins after the log's observation ends; warn
    when it ends after it.

    Parameters
    ----------
    log
        The log the period is read from.
    start, end
        The period in microseconds since the epoch (UTC); ``None``: open on that side.
    caller
        How messages name the function, e.g. ``"churn_rate()"``.
    unknown
        What the unobserved span does to the answer, e.g. ``"customers who came back then
        count as churned"``.

    Raises
    ------
    DataError
        If ``start`` is at or after the end of the observation.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "b"], ["2024-01-01T00:00Z", "2024-01-31T00:00Z"],
    ...     ["view", "view"])
    >>> check_period(log, None, log.observed_until + 1, caller="f()", unknown="")
    >>> check_period(log, log.observed_until, None, caller="f()", unknown="")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): the period starts at 2024-01-31T00:00:00Z, when the log's observation has ended (its last interaction is at 2024-01-31T00:00:00Z): nothing in it was observed; choose a period within the data, or read a log that covers it
    """
    until = log.observed_until
    if until is None:
        return
    at_last = until == last_time(log)  # else declared, or the end of a day of dates
    if start is not None and start >= until:
        ended = (
            f"its last interaction is at {_when(until)}"
            if at_last
            else (f"it is observed until {_when(until)}")
        )
        raise DataError(
            f"{caller}: the period starts at {_when(start)}, when the log's observation has "
            f"ended ({ended}): nothing in it was observed; "
            "choose a period within the data, or read a log that covers it"
        )
    if end is not None and end - 1 > until:  # [start, end) ends a microsecond before end
        warn(
            f"{caller}: the period ends at {_when(end)}, {_span(end - 1 - until)} after the "
            f"log's {'last interaction' if at_last else 'observation ends'} ({_when(until)}); "
            f"nothing in that span was observed, so "
            f"{unknown}. The period holds the times before its end: to count the last "
            "interaction, end it just after log.observed_until (ending at it leaves that "
            "interaction out); if the export covers the span (dates read as instants, not as "
            "text, start at midnight of their day), declare it with log.with_observed_until(...)",
            DataWarning,
        )


def check_period_order(start: int | None, end: int | None, *, caller: str) -> None:
    """Refuse a period ``[start, end)`` that ends at or before its start: it holds no time, and
    an answer over it (a NaN rate, every customer churned) would blame the data for swapped
    arguments. Either bound ``None`` (open) passes.

    Examples
    --------
    >>> check_period_order(0, 86_400_000_000, caller="f()")
    >>> check_period_order(86_400_000_000, 0, caller="f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): end must be after start; got start=1970-01-02T00:00:00Z, end=1970-01-01T00:00:00Z: the period [start, end) holds no time; were start and end swapped?
    """
    if start is not None and end is not None and end <= start:
        hint = "were start and end swapped?" if end < start else "give the period a length"
        raise SchemaError(
            f"{caller}: end must be after start; got start={_when(start)}, end={_when(end)}: "
            f"the period [start, end) holds no time; {hint}"
        )


def check_observed_end(last: int | None, end: int, *, caller: str) -> None:
    """Refuse to declare data observed until ``end`` when an interaction is later: ``last``,
    the data's last interaction (``None``: no data, any end is taken).

    Examples
    --------
    >>> check_observed_end(86_400_000_000, 0, caller="with_observed_until()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: with_observed_until(): end 1970-01-01T00:00:00+00:00 is before the log's last interaction (1970-01-02T00:00:00+00:00); to drop the interactions after it use between(end=...)
    """
    if last is not None and end < last:
        raise DataError(
            f"{caller}: end {us_to_datetime(end).isoformat()} is before the log's last "
            f"interaction ({us_to_datetime(last).isoformat()}); to drop the interactions after "
            "it use between(end=...)"
        )


def declared_or_seen(
    declared: int, last: int | None, seen: int | None, *, source: str | None
) -> int | None:
    """The end a log read from an export is observed until: ``declared``, the export's own
    record of it (an Arrow table's schema metadata), unless an interaction of the data,
    ``last`` (``None``: no data), is later; then ``seen``, the end the rows alone show
    (``None``: their last interaction), with a :class:`~cxmodel.errors.DataWarning`, as the
    record is stale (rows were added to the table after it was written).

    Examples
    --------
    >>> import warnings
    >>> declared_or_seen(10, 5, None, source=None)
    10
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     declared_or_seen(0, 86_400_000_000, None, source="log.parquet")
    >>> print(caught[0].message)
    log.parquet: the data are declared observed until 1970-01-01T00:00:00Z, but their last interaction is later (1970-01-02T00:00:00Z): the declaration is ignored, and the log observed as its rows say; declare a later end with log.with_observed_until(...)
    """
    if last is None or declared >= last:
        return declared
    where = f"{source}: " if source else ""
    warn(
        f"{where}the data are declared observed until {_when(declared)}, but their last "
        f"interaction is later ({_when(last)}): the declaration is ignored, and the log "
        "observed as its rows say; declare a later end with log.with_observed_until(...)",
        DataWarning,
    )
    return seen


def first_time(log: InteractionLog) -> int | None:
    """The time of the log's first interaction (``None`` for an empty log), without sorting
    the log for it."""
    if not len(log):
        return None
    return int(log._rows_in_any_order().timestamps.min())


def last_time(log: InteractionLog) -> int | None:
    """The time of the log's last interaction (``None`` for an empty log), without sorting
    the log for it: :attr:`~cxmodel.log.InteractionLog.observed_until` is later when the log
    observes the whole of its last day."""
    if not len(log):
        return None
    return int(log._rows_in_any_order().timestamps.max())


def check_as_of(first: int | None, as_of: int, *, caller: str) -> None:
    """Refuse an ``as_of`` before ``first``, the time of the data's first interaction
    (:func:`first_time`; ``None``: no data, nothing to check): nothing had happened yet.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["view"])
    >>> check_as_of(first_time(log), log.observed_until, caller="f()")
    >>> check_as_of(first_time(log), 0, caller="f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): as_of 1970-01-01T00:00:00Z is before the log's first interaction (2024-01-01T00:00:00Z): no customer had been seen yet; check the year, or pass a later as_of
    """
    if first is not None and as_of < first:
        raise DataError(
            f"{caller}: as_of {_when(as_of)} is before the log's first interaction "
            f"({_when(first)}): no customer had been seen yet; check the year, or pass a "
            "later as_of"
        )


def warn_after_data(until: int | None, as_of: int, consequence: str, *, caller: str) -> None:
    """Warn that ``as_of`` is after ``until``, the data's last interaction (the log's
    :attr:`~cxmodel.log.InteractionLog.observed_until`), and what the span nobody
    observed does to the answer (``consequence``, with its count, e.g. ``"12 customers count
    as churned only because of it"``). An ``as_of`` declares the observation end, so the
    answer stands; the warning is for the reader who did not mean to declare it.

    Examples
    --------
    >>> import warnings
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["view"])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_after_data(log.observed_until, log.observed_until + 86_400_000_000 * 40,
    ...         "1 customer counts as churned only because of it", caller="f()")
    >>> print(caught[0].message)
    f(): as_of 2024-02-10T00:00:00Z is 40.0 days after the log's last interaction (2024-01-01T00:00:00Z), a span in which nothing was seen: 1 customer counts as churned only because of it; if the data end earlier than as_of, pass an as_of at or before log.observed_until
    """
    if until is None or as_of <= until:
        return
    warn(
        f"{caller}: as_of {_when(as_of)} is {_span(as_of - until)} after the log's last "
        f"interaction ({_when(until)}), a span in which nothing was seen: {consequence}; if "
        "the data end earlier than as_of, pass an as_of at or before log.observed_until",
        DataWarning,
    )


def warn_windows_open(
    earliest: int | None, until: int | None, window: int, *, caller: str, unknown: str
) -> None:
    """Warn that a window of ``window`` microseconds following each start an analysis counts
    from runs past the data's last interaction (``until``) for every start, because even the
    earliest start (``earliest``) is less than ``window`` before it; ``unknown`` says what that
    does to the answer. ``None`` for either time (nothing counted, no data): nothing to check.

    Examples
    --------
    >>> import warnings
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(["a", "a"], ["2024-01-01T00:00Z", "2024-01-03T00:00Z"],
    ...     ["view", "view"])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_windows_open(log.timestamps[0], log.observed_until, 7 * _DAY,
    ...         caller="f(window='7d')", unknown="late steps count as never reached")
    >>> print(caught[0].message)
    f(window='7d'): every window runs past the log's last interaction (2024-01-03T00:00:00Z), since even the earliest start (2024-01-01T00:00:00Z) is only 2.0 days before it: no window was over when the data end, so late steps count as never reached; use a window of at most 2.0 days, or a log that runs longer
    """
    if earliest is None or until is None or earliest + window <= until:
        return
    warn(
        f"{caller}: every window runs past the log's last interaction ({_when(until)}), since "
        f"even the earliest start ({_when(earliest)}) is only {_span(until - earliest)} before "
        f"it: no window was over when the data end, so {unknown}; use a window of at most "
        f"{_span(until - earliest)}, or a log that runs longer",
        DataWarning,
    )
