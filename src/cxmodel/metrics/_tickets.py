"""Ticket lifecycles: one row per ticket, joined from its opened / replied / resolved rows."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log
from cxmodel._pieces import warn
from cxmodel._result import Result, column
from cxmodel._time import US_PER_DAY, US_PER_SECOND, TimeLike, as_of_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.log._observed import check_as_of, first_time, warn_after_data
from cxmodel.metrics._groups import MISSING, missing_as_label

__all__ = ["TICKET_KINDS", "TicketLifecycles", "ticket_lifecycles"]

US_PER_HOUR = 3_600_000_000
_BIG = np.iinfo(np.int64).max
TICKET_KINDS = ("ticket_opened", "ticket_replied", "ticket_resolved")


@attrs.frozen(eq=False, repr=False)
class TicketLifecycles(Result):
    """One row per ticket that has a ``ticket_opened`` row; times in hours from opening.

    Unreplied / unresolved tickets have NaN times and are right-censored at ``as_of`` by
    :func:`ticket_times`. ``source`` (the log the tickets were read from) and ``ticket_codes``
    (each ticket's code in its ``ticket_column``) let the support metrics group tickets by
    any column of the log (:meth:`labels`).
    """

    ticket_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    opened: npt.NDArray[np.int64] = attrs.field(metadata=column())
    first_reply: npt.NDArray[np.float64] = attrs.field(metadata=column())
    first_resolution: npt.NDArray[np.float64] = attrs.field(metadata=column())
    full_resolution: npt.NDArray[np.float64] = attrs.field(metadata=column())
    replies: npt.NDArray[np.int64] = attrs.field(metadata=column())
    resolutions: npt.NDArray[np.int64] = attrs.field(metadata=column())
    as_of: int
    source: InteractionLog | None = attrs.field(default=None, repr=False)
    ticket_column: str = "ticket_id"
    ticket_codes: npt.NDArray[np.int64] | None = attrs.field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.ticket_id.shape[0])

    @property
    def resolved(self) -> npt.NDArray[np.bool_]:
        """Tickets with at least one ``ticket_resolved`` row."""
        return self.resolutions > 0

    def labels(self, by: str | npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Each ticket's group: the value of column ``by`` on its ``ticket_opened`` row.

        When the opening row has no value (an ``agent`` is only known once someone replies),
        the ticket takes the value of its earliest row that has one (in log order: by time,
        then input order); ``"(missing)"`` when none has. ``by`` may also be an array with
        one label per ticket.

        Raises
        ------
        SchemaError
            A column the log does not have, or labels of the wrong length.
        """
        if not isinstance(by, str):
            labels = np.asarray(by, dtype=object).reshape(-1)
            if labels.shape != (len(self),):
                raise SchemaError(
                    f"by has {labels.shape[0]} labels for {len(self)} tickets; expected one "
                    "label per ticket or a column name"
                )
            return missing_as_label(labels)
        log = self.source
        if log is None or self.ticket_codes is None:
            raise SchemaError(
                "these tickets were not read from a log: pass by= one label per ticket, or "
                "build them with ticket_lifecycles(log)"
            )
        if by not in log:
            raise log._unknown(by)
        codes, _ = log.categorical(self.ticket_column)
        if log.schema[by] == "string":
            value_codes, vocabulary = log.categorical(by)
            present = value_codes >= 0
        else:
            numbers = log.column(by)
            present = (
                ~np.isnan(log.numeric(by))
                if log.schema[by] in ("float", "bool")
                else np.ones(len(log), bool)
            )
        rows = np.flatnonzero((codes >= 0) & present & log.kind_mask(*TICKET_KINDS))
        not_opening = ~log.kind_mask("ticket_opened")[rows]
        # per ticket code: opening rows first, then by time and input order
        order = np.lexsort((log.row_order[rows], log.timestamps[rows], not_opening, codes[rows]))
        picked = rows[order]
        ticket_of = codes[picked]
        first = np.r_[True, ticket_of[1:] != ticket_of[:-1]]
        best = np.full(int(codes.max()) + 1 if codes.size else 0, -1, dtype=np.int64)
        best[ticket_of[first]] = picked[first]
        row = best[self.ticket_codes]
        out = np.full(len(self), MISSING, dtype=object)
        found = row[row >= 0]
        if log.schema[by] == "string":
            out[row >= 0] = vocabulary[value_codes[found]]
        else:
            out[row >= 0] = numbers[found]
        return out


def ticket_lifecycles(
    log: InteractionLog, *, ticket_column: str = "ticket_id", as_of: TimeLike | None = None
) -> TicketLifecycles:
    """Join ``ticket_opened`` / ``ticket_replied`` / ``ticket_resolved`` rows on ``ticket_column``.

    First reply = first ``ticket_replied``; first resolution = first ``ticket_resolved``;
    full resolution = last ``ticket_resolved`` (Zendesk definitions). ``as_of`` is where open
    tickets are censored; by default the log's :attr:`~cxmodel.log.InteractionLog.observed_until`,
    which is the end of the data the log was read from even after ``log.filter(...)``, so
    filtering the log first (to one topic, say) does not move the censoring time. An earlier
    ``as_of`` reads the tickets as they stood then: rows after it are ignored.

    A reply or resolution timestamped before its ticket's opening (clocks of two systems
    disagree) counts at the opening (0 h), with a :class:`~cxmodel.errors.DataWarning`
    counting such rows; tickets with replies or resolutions but no ``ticket_opened`` row
    (opened before the export began) are left out, with a warning counting them. A reply or
    resolution repeating another of the same ticket, kind and time (a duplicated export)
    counts once, and a ticket id opened by two customers is one ticket, each with a warning
    counting them.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    ticket_column : str, default "ticket_id"
        The column joining a ticket's rows.
    as_of : time-like, optional
        Where open tickets are censored; default the log's ``observed_until``.

    Raises
    ------
    DataError
        ``as_of`` is before the log's first interaction.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a"] * 3, ticket_id=["t1"] * 3,
    ...     kind=["ticket_opened", "ticket_replied", "ticket_resolved"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-01T02:00Z", "2024-01-01T05:00Z"])
    >>> lc = ticket_lifecycles(log)
    >>> lc.first_reply.tolist(), lc.full_resolution.tolist()
    ([2.0], [5.0])
    """
    log = interaction_log(log, "ticket_lifecycles()")
    if ticket_column not in log:
        raise SchemaError(f"ticket_column {ticket_column!r} is not a column of the log")
    read_kinds(
        log.kinds,
        ["ticket_opened"],
        argument="ticket_lifecycles()",
        meaning="there is no ticket to follow",
    )
    codes, cats = log.categorical(ticket_column)
    kind_codes, kinds = log.categorical("kind")
    which = np.full(len(kinds), -1)
    for j, k in enumerate(TICKET_KINDS):
        which[np.flatnonzero(kinds == k)] = j
    row_kind = which[kind_codes] if len(kinds) else np.zeros(0, dtype=np.int64)
    rows = (codes >= 0) & (row_kind >= 0)
    if as_of is not None:
        cutoff = as_of_us(as_of)
        check_as_of(first_time(log), cutoff, caller="ticket_lifecycles()")
        rows &= log.timestamps <= cutoff
    else:
        cutoff = log.observed_until if log.observed_until is not None else 0
    ts, tcode, rk = log.timestamps[rows], codes[rows], row_kind[rows]
    cust = log.customer_codes[rows]
    once = _first_of_repeats(tcode, rk, ts)  # before early rows move to their opening
    ts, tcode, rk, cust = ts[once], tcode[once], rk[once], cust[once]
    m = len(cats)
    opened = np.full(m, _BIG, dtype=np.int64)
    np.minimum.at(opened, tcode[rk == 0], ts[rk == 0])
    owner = np.full(m, -1, dtype=np.int64)
    owner[tcode[rk == 0]] = cust[rk == 0]
    ts = _not_before_opening(ts, opened[tcode], rk)
    _warn_unopened(tcode, opened, m)
    _warn_shared(tcode[rk == 0], cust[rk == 0], cats)
    is_reply = rk == 1
    first_reply = np.full(m, _BIG, dtype=np.int64)
    np.minimum.at(first_reply, tcode[is_reply], ts[is_reply])
    replies = np.bincount(tcode[is_reply], minlength=m)
    res = rk == 2
    first_res = np.full(m, _BIG, dtype=np.int64)
    np.minimum.at(first_res, tcode[res], ts[res])
    last_res = np.full(m, -_BIG, dtype=np.int64)
    np.maximum.at(last_res, tcode[res], ts[res])
    resolutions = np.bincount(tcode[res], minlength=m)
    keep = opened < _BIG

    def hours(t: npt.NDArray[np.int64], ok: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        return np.where(ok, (t - opened) / US_PER_HOUR, np.nan)[keep]

    if as_of is not None:
        still_open = int(np.count_nonzero(keep & (resolutions == 0)))
        if still_open:
            who = f"{still_open:,} unresolved ticket(s) count as open through it"
            warn_after_data(log.observed_until, cutoff, who, caller="ticket_lifecycles()")
    return TicketLifecycles(
        cats[keep],
        log.customers[owner[keep]],
        opened[keep],
        hours(first_reply, first_reply < _BIG),
        hours(first_res, first_res < _BIG),
        hours(last_res, resolutions > 0),
        replies[keep].astype(np.int64),
        resolutions[keep].astype(np.int64),
        cutoff,
        log,
        ticket_column,
        np.flatnonzero(keep).astype(np.int64),
    )


def _not_before_opening(
    ts: npt.NDArray[np.int64], opened: npt.NDArray[np.int64], kind: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Ticket row times with replies and resolutions before their ticket's opening moved to
    the opening, with a warning counting them (``opened`` is each row's ticket's opening,
    ``_BIG`` for a ticket without one; ``kind`` 0 = opened, 1 = replied, 2 = resolved)."""
    early = (kind > 0) & (opened < _BIG) & (ts < opened)
    n_early = int(np.count_nonzero(early))
    if not n_early:
        return ts
    gap = int((opened[early] - ts[early]).max())
    warn(
        f"ticket_lifecycles(): {n_early:,} ticket_replied/ticket_resolved row(s) are timestamped "
        f"before their ticket's ticket_opened row (by up to {_duration(gap)}; clocks of two "
        "systems disagree?); they count at the opening (0 h)",
        DataWarning,
    )
    return np.where(early, opened, ts)


def _first_of_repeats(
    tcode: npt.NDArray[np.integer[Any]], kind: npt.NDArray[np.int64], ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Rows to keep: a reply or resolution that repeats another of the same ticket, kind and
    time (a duplicated export) counts once, with a warning counting the repeats; two
    resolutions at one instant are not a reopening."""
    order = np.lexsort((ts, kind, tcode))
    t, k, when = tcode[order], kind[order], ts[order]
    same = (t[1:] == t[:-1]) & (k[1:] == k[:-1]) & (when[1:] == when[:-1]) & (k[1:] > 0)
    keep = np.ones(ts.shape[0], dtype=bool)
    keep[order[1:][same]] = False
    repeats = int(np.count_nonzero(same))
    if repeats:
        warn(
            f"ticket_lifecycles(): {repeats:,} ticket_replied/ticket_resolved row(s) repeat "
            "another row of the same ticket, kind and time (a duplicated export?); each counts "
            "once, as one reply or resolution",
            DataWarning,
        )
    return keep


def _warn_shared(
    tcode: npt.NDArray[np.integer[Any]],
    customer: npt.NDArray[np.integer[Any]],
    cats: npt.NDArray[Any],
) -> None:
    """Warn about tickets opened by more than one customer (``tcode`` and ``customer`` of the
    ``ticket_opened`` rows): ticket ids reused across customers merge their tickets."""
    pairs = np.unique(np.stack([tcode.astype(np.int64), customer.astype(np.int64)]), axis=1)
    tickets, counts = np.unique(pairs[0], return_counts=True)
    shared = tickets[counts > 1]
    if shared.size:
        warn(
            f"ticket_lifecycles(): {shared.size:,} ticket id(s) are opened by more than one "
            f"customer (e.g. {cats[shared[0]]!r}); their rows are joined as one ticket, "
            "owned by the last opener: make the ids unique (prefix the customer) if they are "
            "numbered per customer",
            DataWarning,
        )


def _warn_unopened(
    tcode: npt.NDArray[np.integer[Any]], opened: npt.NDArray[np.int64], m: int
) -> None:
    """Warn about tickets (codes ``tcode`` of their rows) without a ``ticket_opened`` row."""
    seen = np.zeros(m, dtype=bool)
    seen[tcode] = True
    unopened = int(np.count_nonzero(seen & (opened == _BIG)))
    if unopened:
        warn(
            f"ticket_lifecycles(): {unopened:,} ticket(s) have ticket_replied/ticket_resolved "
            "rows but no ticket_opened row (opened before the data begin?); they are left out",
            DataWarning,
        )


def _duration(us: int) -> str:
    """``us`` microseconds in the largest unit that keeps it >= 1 (seconds at least)."""
    for unit, size in (
        ("days", US_PER_DAY),
        ("hours", US_PER_HOUR),
        ("minutes", 60 * US_PER_SECOND),
    ):
        if us >= size:
            return f"{us / size:,.1f} {unit}"
    return f"{us / US_PER_SECOND:g} seconds"
