"""Support operations: reply/resolution times (censored), one-touch and first-contact
resolution, by group and calendar period; ticket volume and sentiment by topic."""

from __future__ import annotations

from typing import Any, overload

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import float_array, got, interaction_log
from cxmodel._periods import index_labels, period_index
from cxmodel._result import Result
from cxmodel._stats import mean_t_bounds, sample_moments
from cxmodel._tables import MetricTable, check_key_names
from cxmodel.errors import DataError, SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import kind_rows, read_kinds
from cxmodel.metrics._groups import MAX_GRID, group_table, key_columns, key_name, rate_breakdown
from cxmodel.metrics._retention import RateResult
from cxmodel.metrics._survival import SurvivalCurve, kaplan_meier
from cxmodel.metrics._tickets import TICKET_KINDS, US_PER_HOUR, TicketLifecycles

__all__ = [
    "TicketTimes",
    "first_contact_resolution",
    "one_touch_rate",
    "sentiment_by_topic",
    "ticket_times",
    "ticket_volume",
]

TIMES = ("first_reply", "first_resolution", "full_resolution")


@attrs.frozen(eq=False, repr=False)
class TicketTimes(Result):
    """Kaplan-Meier summary of a ticket time in hours (open tickets right-censored)."""

    what: str
    curve: SurvivalCurve
    median: float
    percentiles: dict[float, float]
    n: int
    censored: int


def _lifecycles(tickets: Any, where: str) -> TicketLifecycles:
    """``tickets`` if they are :class:`TicketLifecycles`; a log gets a hint to read them."""
    if isinstance(tickets, TicketLifecycles):
        return tickets
    hint = "ticket_lifecycles(log)" if hasattr(tickets, "customer_codes") else "them"
    raise ValueTypeError(
        f"{where}: tickets must be TicketLifecycles (from ticket_lifecycles); got "
        f"{got(tickets)}: pass {hint}"
    )


def _percentile_name(p: float) -> str:
    return f"p{100 * p:g}"


def _shares(percentiles: Any) -> list[float]:
    """The ``percentiles`` of :func:`ticket_times` as shares in (0, 1], refusing percents."""
    levels: list[float] = float_array(percentiles, "ticket_times()", "percentiles", ndim=1).tolist()
    for p in levels:
        if not 0.0 < p <= 1.0:  # NaN fails too
            hint = f"; did you mean {p / 100:g}?" if 1.0 < p <= 100.0 else ""
            raise SchemaError(
                f"ticket_times(): percentiles are shares of tickets in (0, 1], e.g. 0.9 for "
                f"the 90th percentile; got {p!r}{hint}"
            )
    return levels


@overload
def ticket_times(
    tickets: TicketLifecycles,
    which: str = "first_resolution",
    *,
    percentiles: Any = (0.5, 0.9),
    by: None = None,
    period: None = None,
    timezone: str | None = None,
) -> TicketTimes: ...
@overload
def ticket_times(
    tickets: TicketLifecycles,
    which: str = "first_resolution",
    *,
    percentiles: Any = (0.5, 0.9),
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
) -> MetricTable: ...
@overload
def ticket_times(
    tickets: TicketLifecycles,
    which: str = "first_resolution",
    *,
    percentiles: Any = (0.5, 0.9),
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
) -> MetricTable: ...
def ticket_times(
    tickets: TicketLifecycles,
    which: str = "first_resolution",
    *,
    percentiles: Any = (0.5, 0.9),
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
) -> TicketTimes | MetricTable:
    """Median and percentiles of ``which`` (first_reply, first_resolution, full_resolution).

    Tickets without the event are censored at ``tickets.as_of`` (by default the end of the
    log they were read from; see :func:`ticket_lifecycles`) rather than dropped. Without
    ``by``/``period`` the result is a :class:`TicketTimes`; with them a :class:`MetricTable`
    with one Kaplan-Meier estimate per group: ``n``, ``censored``, ``median`` and one column
    per percentile (``p50``, ``p90``, ...); inf where a group's curve never gets there. ``by`` is a column of the log (the value on each ticket's opening row; see
    :meth:`TicketLifecycles.labels`) or one label per ticket; ``period`` is the calendar
    period of the opening, in ``timezone`` (default UTC). The censoring time is the same for
    every group.

    Parameters
    ----------
    tickets : TicketLifecycles
        From :func:`ticket_lifecycles`.
    which : {"first_reply", "first_resolution", "full_resolution"}, default "first_resolution"
        The time to summarise, in hours from opening.
    percentiles : sequence of float, default (0.5, 0.9)
        Shares of tickets whose time is reported (0.9: the time by which 90 % had the event),
        each in (0, 1]; a percent such as 90 is refused.
    by : str or array-like, optional
        A column of the log (the value on each ticket's opening row) or one label per ticket:
        one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Calendar period of the opening: one row per period (and group).
    timezone : str, optional
        Zone of the calendar periods; default UTC.

    Raises
    ------
    SchemaError
        An unknown ``which``, a percentile outside (0, 1] (a percent such as 90 gets a
        did-you-mean), or a bad ``by`` or ``period``.

    Examples
    --------
    >>> import numpy as np
    >>> lc = TicketLifecycles(np.array(["t1", "t2"], dtype=object),
    ...     np.array(["a", "b"], dtype=object), np.array([0, 0]), np.array([1.0, np.nan]),
    ...     np.array([2.0, np.nan]), np.array([2.0, np.nan]), np.array([1, 0]),
    ...     np.array([1, 0]), 10 * 3_600_000_000)
    >>> t = ticket_times(lc)
    >>> t.median, t.censored
    (2.0, 1)
    >>> ticket_times(lc, by=["email", "chat"])["median"].tolist()
    [inf, 2.0]
    """
    tickets = _lifecycles(tickets, "ticket_times()")
    if which not in TIMES:
        raise SchemaError(f"which must be one of {TIMES!r}; got {which!r}")
    levels = _shares(percentiles)
    times = getattr(tickets, which)
    seen = ~np.isnan(times)
    censor_at = np.maximum((tickets.as_of - tickets.opened) / US_PER_HOUR, 0.0)
    durations = np.where(seen, times, censor_at)
    if not len(times):
        raise DataError(
            "ticket_times(): the lifecycles hold no ticket (no 'ticket_opened' row with a "
            f"{tickets.ticket_column!r}), so there is no time to measure"
        )
    if by is None and period is None:
        curve = kaplan_meier(durations, seen)
        return TicketTimes(
            which,
            curve,
            curve.median,
            {p: curve.percentile(p) for p in levels},
            len(times),
            int((~seen).sum()),
        )
    labels = None if by is None else tickets.labels(by)
    names, columns = key_columns(key_name(by), labels, period, tickets.opened, timezone)
    statistics = ("n", "censored", "median", *map(_percentile_name, levels))
    check_key_names(names, statistics, f"ticket {which.replace('_', ' ')} time")
    keys, group, size = group_table(names, columns, len(tickets), period)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(size + 1))
    n = np.diff(bounds).astype(np.int64)
    censored = np.bincount(group, weights=~seen, minlength=size).astype(np.int64)
    stats = np.full((size, 1 + len(levels)), np.nan)
    for g in np.flatnonzero(n):  # one curve per group; each curve is vectorised
        rows = order[bounds[g] : bounds[g + 1]]
        curve = kaplan_meier(durations[rows], seen[rows])
        stats[g] = [curve.median, *(curve.percentile(p) for p in levels)]
    out = dict(keys) | {"n": n, "censored": censored, "median": stats[:, 0]}
    for j, p in enumerate(levels):
        out[_percentile_name(p)] = stats[:, 1 + j]
    return MetricTable(f"ticket {which.replace('_', ' ')} time (hours)", out)


def _ticket_rate(
    tickets: TicketLifecycles,
    success: npt.NDArray[np.bool_],
    definition: str,
    by: str | npt.ArrayLike | None,
    period: str | None,
    timezone: str | None,
    level: float,
    name: str,
    caller: str,
) -> RateResult | MetricTable:
    """The rate of ``success`` among the resolved tickets (a DataWarning when none is)."""
    solved = tickets.resolved
    labels = None if by is None else tickets.labels(by)[solved]
    return rate_breakdown(
        success[solved],
        definition=definition,
        caller=caller,
        labels=labels,
        by_name=key_name(by),
        times=tickets.opened[solved],
        period=period,
        timezone=timezone,
        level=level,
        table_name=name,
    )


@overload
def one_touch_rate(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
) -> RateResult: ...
@overload
def one_touch_rate(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
) -> MetricTable: ...
@overload
def one_touch_rate(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
) -> MetricTable: ...
def one_touch_rate(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
) -> RateResult | MetricTable:
    """Resolved tickets with fewer than 2 agent replies / resolved tickets (Zendesk).

    Wilson interval. ``by`` and ``period`` as in :func:`ticket_times` (a ticket counts in
    the period it was opened); with either the result is a :class:`MetricTable` with
    ``value``, ``ci_low``, ``ci_high``, ``numerator`` and ``n`` per group.

    Parameters
    ----------
    tickets : TicketLifecycles
        From :func:`ticket_lifecycles`.
    level : float, default 0.95
        Confidence level of the Wilson interval.
    by : str or array-like, optional
        A column of the log (the value on each ticket's opening row) or one label per ticket:
        one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Calendar period of the opening: one row per period (and group).
    timezone : str, optional
        Zone of the calendar periods; default UTC.

    Warns
    -----
    DataWarning
        When no ticket is resolved (an empty denominator): the value and interval are NaN
        with ``n = 0`` (with ``by`` or ``period``, a table without rows).

    Examples
    --------
    >>> import numpy as np
    >>> lc = TicketLifecycles(np.array(["t1", "t2", "t3"], dtype=object),
    ...     np.array(["a", "b", "c"], dtype=object), np.array([0, 0, 0]),
    ...     np.array([1.0, 1.0, 1.0]), np.array([2.0, 3.0, np.nan]), np.array([2.0, 3.0, np.nan]),
    ...     np.array([1, 3, 1]), np.array([1, 1, 0]), 10 * 3_600_000_000)
    >>> r = one_touch_rate(lc)
    >>> r.value, r.numerator, r.n
    (0.5, 1, 2)
    """
    tickets = _lifecycles(tickets, "one_touch_rate()")
    return _ticket_rate(
        tickets,
        tickets.replies < 2,
        "replies < 2 / resolved",
        by,
        period,
        timezone,
        level,
        "one-touch rate",
        "one_touch_rate()",
    )


@overload
def first_contact_resolution(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: None = None,
    period: None = None,
    timezone: str | None = None,
) -> RateResult: ...
@overload
def first_contact_resolution(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike,
    period: str | None = None,
    timezone: str | None = None,
) -> MetricTable: ...
@overload
def first_contact_resolution(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike | None = None,
    period: str,
    timezone: str | None = None,
) -> MetricTable: ...
def first_contact_resolution(
    tickets: TicketLifecycles,
    *,
    level: float = 0.95,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
) -> RateResult | MetricTable:
    """Resolved once and never reopened / resolved, with a Wilson interval.

    This approximates Freshservice's first-contact resolution ("resolved with no further
    customer interaction"): the standard kinds have no customer-reply kind, so a second
    ``ticket_resolved`` row marks a ticket that was reopened. ``by`` and ``period`` as in
    :func:`one_touch_rate`.

    Parameters
    ----------
    tickets : TicketLifecycles
        From :func:`ticket_lifecycles`.
    level : float, default 0.95
        Confidence level of the Wilson interval.
    by : str or array-like, optional
        A column of the log (the value on each ticket's opening row) or one label per ticket:
        one row per group.
    period : {"day", "week", "month", "quarter"}, optional
        Calendar period of the opening: one row per period (and group).
    timezone : str, optional
        Zone of the calendar periods; default UTC.

    Warns
    -----
    DataWarning
        When no ticket is resolved (an empty denominator): the value and interval are NaN
        with ``n = 0`` (with ``by`` or ``period``, a table without rows).

    Examples
    --------
    >>> import numpy as np
    >>> lc = TicketLifecycles(np.array(["t1", "t2"], dtype=object),
    ...     np.array(["a", "b"], dtype=object), np.array([0, 0]), np.array([1.0, 1.0]),
    ...     np.array([2.0, 3.0]), np.array([2.0, 9.0]), np.array([1, 1]), np.array([1, 2]),
    ...     10 * 3_600_000_000)
    >>> first_contact_resolution(lc).value
    0.5
    """
    tickets = _lifecycles(tickets, "first_contact_resolution()")
    return _ticket_rate(
        tickets,
        tickets.resolutions == 1,
        "resolved once (never reopened) / resolved",
        by,
        period,
        timezone,
        level,
        "first-contact resolution",
        "first_contact_resolution()",
    )


def ticket_volume(
    log: InteractionLog, *, by: str = "topic", period: str = "week", timezone: str | None = None
) -> MetricTable:
    """Count of ``ticket_opened`` rows by ``by`` column and calendar period.

    Every period from the first opening to the last is a row of each group, with 0 tickets
    when the group had none in it: a quiet week is a count of zero, not a gap that would lift
    the mean weekly volume and join the weeks either side on a chart. (Beyond a million rows
    only the periods with tickets are listed.)

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    by : str, default "topic"
        The column to break down by (missing values are the group ``"(missing)"``).
    period : {"day", "week", "month", "quarter"}, default "week"
        Calendar period of the opening, in ``timezone``; a week starts on Monday and is
        labelled by that day.
    timezone : str, optional
        Zone of the calendar periods; default UTC.

    Returns
    -------
    MetricTable
        Columns ``by``, ``period`` and ``tickets``, sorted by group then period. Empty, with a
        :class:`~cxmodel.errors.DataWarning`, when the log has no ``ticket_opened`` row.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=list("abc"),
    ...     timestamp=["2024-01-02T00:00Z", "2024-01-03T00:00Z", "2024-03-02T00:00Z"],
    ...     kind=["ticket_opened"] * 3, topic=["refund"] * 3)
    >>> t = ticket_volume(log, period="month")
    >>> t["period"].tolist(), t["tickets"].tolist()
    (['2024-01', '2024-02', '2024-03'], [2, 0, 1])
    """
    log = interaction_log(log, "ticket_volume()")
    if by not in log:
        raise SchemaError(f"by {by!r} is not a column of the log")
    check_key_names([by], ("period", "tickets"), "ticket volume")
    read_kinds(
        log.kinds, ["ticket_opened"], argument="ticket_volume()", meaning="the table is empty"
    )
    sub = log.filter(log.kind_mask("ticket_opened"))
    codes, cats = sub.categorical(by)
    labels = np.append(cats.astype(object), "(missing)")
    group = np.where(codes < 0, len(cats), codes).astype(np.int64)
    idx = period_index(sub.timestamps, period, timezone)
    lo = int(idx.min()) if idx.size else 0
    width = int(idx.max()) - lo + 1 if idx.size else 0
    present, row = np.unique(group, return_inverse=True)  # groups with at least one ticket
    flat = row.reshape(-1) * width + (idx - lo)
    if len(present) * width > MAX_GRID:  # too many for every quiet period: the busy ones
        used, tickets = np.unique(flat, return_counts=True)
        return MetricTable(
            "ticket volume",
            {
                by: labels[present][used // width],
                "period": index_labels(used % width + lo, period),
                "tickets": tickets.astype(np.int64),
            },
        )
    grid = np.bincount(flat, minlength=len(present) * width)  # each group over every period
    return MetricTable(
        "ticket volume",
        {
            by: np.repeat(labels[present], width),
            "period": np.tile(
                index_labels(np.arange(width, dtype=np.int64) + lo, period), len(present)
            ),
            "tickets": grid.astype(np.int64),
        },
    )


def sentiment_by_topic(
    log: InteractionLog, *, by: str = "topic", level: float = 0.95
) -> MetricTable:
    """Mean ``sentiment`` of ticket rows by ``by`` with Student-t intervals (NaN ignored).

    Only rows of the ticket kinds (``ticket_opened``, ``ticket_replied``, ``ticket_resolved``)
    count; a log none of whose ticket rows has a sentiment is refused rather than answered with
    an empty table.

    Parameters
    ----------
    log : InteractionLog
        The interaction log, with a ``sentiment`` column.
    by : str, default "topic"
        The column to break down by.
    level : float, default 0.95
        Confidence level of the Student-t intervals.

    Raises
    ------
    DataError
        No ticket row has a sentiment (e.g. only survey verbatims were scored); the message
        counts the rows of other kinds that have one.
    """
    log = interaction_log(log, "sentiment_by_topic()")
    for name in (by, "sentiment"):
        if name not in log:
            raise SchemaError(f"column {name!r} is not in the log")
    check_key_names([by], ("n", "mean", "se", "ci_low", "ci_high"), "sentiment")
    check_ticket_sentiment(log, "sentiment_by_topic()")
    return sentiment_groups(log, by, level)


def check_ticket_sentiment(log: InteractionLog, caller: str) -> None:
    """Refuse a log none of whose ticket rows has a sentiment: the table would be empty.

    Sentiment scored on survey verbatims (or any other kind) is named with its count, since
    the breakdown reads ticket rows only.
    """
    scored = ~np.isnan(log.numeric("sentiment"))
    tickets = kind_rows(log, TICKET_KINDS)
    if (scored & tickets).any():
        return
    kind_codes, kind_names = log.categorical("kind")
    others = sorted({str(k) for k in kind_names[np.unique(kind_codes[scored])]})
    where = (
        f"{int(np.count_nonzero(scored)):,} rows of kinds {others!r} have one"
        if others
        else "no row has one"
    )
    raise DataError(
        f"{caller}: no ticket row ({', '.join(TICKET_KINDS)}) has a sentiment; {where}. "
        "The breakdown reads ticket rows only: score the ticket texts, e.g. "
        "cxmodel.text.sentiment(log, kinds=['ticket_opened']).add_to(log)"
    )


def sentiment_groups(log: InteractionLog, by: str, level: float) -> MetricTable:
    """The table of :func:`sentiment_by_topic`, without its checks (a period of a checked log)."""
    mask = log.kind_mask(*TICKET_KINDS)
    values = log.numeric("sentiment")[mask]
    codes, cats = log.categorical(by)
    labels = np.append(cats.astype(object), "(missing)")
    group = np.where(codes < 0, len(cats), codes)[mask]
    ok = ~np.isnan(values)
    g, v = group[ok], values[ok]
    used = np.unique(g)
    n = np.bincount(g, minlength=len(labels))[used].astype(np.float64)
    s = np.bincount(g, weights=v, minlength=len(labels))[used]
    ss = np.bincount(g, weights=v * v, minlength=len(labels))[used]
    mean, var = sample_moments(n, s, ss)
    se, low, high = mean_t_bounds(n, mean, var, level)
    return MetricTable(
        "sentiment",
        {
            by: labels[used],
            "n": n.astype(np.int64),
            "mean": mean,
            "se": se,
            "ci_low": low,
            "ci_high": high,
        },
    )
