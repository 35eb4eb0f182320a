"""Support operations: ticket lifecycles, reply/resolution times (censored), one-touch, FCR."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._periods import index_labels, period_index
from cxmodel._stats import mean_t_interval
from cxmodel._tables import MetricTable, result_html
from cxmodel._time import to_us
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics._retention import RateResult, _rate
from cxmodel.metrics._survival import SurvivalCurve, kaplan_meier

__all__ = [
    "TicketLifecycles",
    "TicketTimes",
    "first_contact_resolution",
    "one_touch_rate",
    "sentiment_by_topic",
    "ticket_lifecycles",
    "ticket_times",
    "ticket_volume",
]

_US_PER_HOUR = 3_600_000_000
_BIG = np.iinfo(np.int64).max
_KINDS = ("ticket_opened", "ticket_replied", "ticket_resolved")


@attrs.frozen(eq=False)
class TicketLifecycles:
    """One row per ticket that has a ``ticket_opened`` row; times in hours from opening.

    Unreplied / unresolved tickets have NaN times and are right-censored at ``as_of`` by
    :func:`ticket_times`.
    """

    ticket_id: npt.NDArray[np.object_]
    customer_id: npt.NDArray[np.object_]
    opened: npt.NDArray[np.int64]
    first_reply: npt.NDArray[np.float64]
    first_resolution: npt.NDArray[np.float64]
    full_resolution: npt.NDArray[np.float64]
    replies: npt.NDArray[np.int64]
    resolutions: npt.NDArray[np.int64]
    as_of: int

    @property
    def resolved(self) -> npt.NDArray[np.bool_]:
        """Tickets with at least one ``ticket_resolved`` row."""
        return self.resolutions > 0

    def to_dict(self) -> dict[str, Any]:
        """Columns as a dict of arrays."""
        return {
            f.name: getattr(self, f.name) for f in attrs.fields(type(self)) if f.name != "as_of"
        }

    def to_pandas(self) -> Any:
        """One row per ticket (needs pandas)."""
        return MetricTable("tickets", self.to_dict()).to_pandas()

    def _repr_html_(self) -> str:
        return result_html("TicketLifecycles", {"tickets": len(self.ticket_id)})


def ticket_lifecycles(
    log: InteractionLog, *, ticket_column: str = "ticket_id", as_of: Any = None
) -> TicketLifecycles:
    """Join ``ticket_opened`` / ``ticket_replied`` / ``ticket_resolved`` rows on ``ticket_column``.

    First reply = first reply at or after opening; first resolution = first ``ticket_resolved``;
    full resolution = last ``ticket_resolved`` (Zendesk definitions). ``as_of`` (default: the
    log's last time) is where open tickets are censored.

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
    if ticket_column not in log:
        raise SchemaError(f"ticket_column {ticket_column!r} is not a column of the log")
    codes, cats = log.categorical(ticket_column)
    kind_codes, kinds = log.categorical("kind")
    which = np.full(len(kinds), -1)
    for j, k in enumerate(_KINDS):
        which[np.flatnonzero(kinds == k)] = j
    row_kind = which[kind_codes] if len(kinds) else np.zeros(0, dtype=np.int64)
    rows = (codes >= 0) & (row_kind >= 0)
    ts, tcode, rk = log.timestamps[rows], codes[rows], row_kind[rows]
    cust = log.customer_codes[rows]
    m = len(cats)
    opened = np.full(m, _BIG, dtype=np.int64)
    np.minimum.at(opened, tcode[rk == 0], ts[rk == 0])
    owner = np.full(m, -1, dtype=np.int64)
    owner[tcode[rk == 0]] = cust[rk == 0]
    is_reply = (rk == 1) & (ts >= opened[tcode])
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
        return np.where(ok, (t - opened) / _US_PER_HOUR, np.nan)[keep]

    cutoff = int(log.timestamps.max()) if as_of is None and len(log) else to_us(as_of or 0)
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
    )


@attrs.frozen(eq=False)
class TicketTimes:
    """Kaplan-Meier summary of a ticket time in hours (open tickets right-censored)."""

    what: str
    curve: SurvivalCurve
    median: float
    percentiles: dict[float, float]
    n: int
    censored: int

    def to_dict(self) -> dict[str, Any]:
        """Summary fields as a dict."""
        return {"what": self.what, "median": self.median, "n": self.n, "censored": self.censored}

    def _repr_html_(self) -> str:
        return result_html("TicketTimes", self.to_dict())


def ticket_times(
    tickets: TicketLifecycles, which: str = "first_resolution", *, percentiles: Any = (0.5, 0.9)
) -> TicketTimes:
    """Median and percentiles of ``which`` (first_reply, first_resolution, full_resolution).

    Tickets without the event are censored at ``as_of`` rather than dropped.

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
    """
    allowed = ("first_reply", "first_resolution", "full_resolution")
    if which not in allowed:
        raise SchemaError(f"which must be one of {allowed!r}; got {which!r}")
    times = getattr(tickets, which)
    seen = ~np.isnan(times)
    censor_at = np.maximum((tickets.as_of - tickets.opened) / _US_PER_HOUR, 0.0)
    durations = np.where(seen, times, censor_at)
    curve = kaplan_meier(durations, seen)
    return TicketTimes(
        which,
        curve,
        curve.median,
        {float(p): curve.percentile(float(p)) for p in percentiles},
        len(times),
        int((~seen).sum()),
    )


def one_touch_rate(tickets: TicketLifecycles, *, level: float = 0.95) -> RateResult:
    """Resolved tickets with fewer than 2 agent replies / resolved tickets (Zendesk)."""
    solved = tickets.resolved
    return _rate(
        int((solved & (tickets.replies < 2)).sum()),
        int(solved.sum()),
        "replies < 2 / resolved",
        level,
    )


def first_contact_resolution(tickets: TicketLifecycles, *, level: float = 0.95) -> RateResult:
    """Resolved once and never reopened / resolved (approximates Freshservice's FCR: the
    log has no customer-reply kind, so a second ``ticket_resolved`` marks further contact)."""
    solved = tickets.resolved
    return _rate(
        int((tickets.resolutions == 1).sum()),
        int(solved.sum()),
        "resolved once (never reopened) / resolved",
        level,
    )


def ticket_volume(
    log: InteractionLog, *, by: str = "topic", period: str = "week", timezone: str | None = None
) -> MetricTable:
    """Count of ``ticket_opened`` rows by ``by`` column and calendar period."""
    if by not in log:
        raise SchemaError(f"by {by!r} is not a column of the log")
    sub = log.filter(log.kind_mask("ticket_opened"))
    codes, cats = sub.categorical(by)
    labels = np.append(cats.astype(object), "(missing)")
    group = np.where(codes < 0, len(cats), codes).astype(np.int64)
    idx = period_index(sub.timestamps, period, timezone)
    lo = int(idx.min()) if idx.size else 0
    flat = group * (int(idx.max()) - lo + 1 if idx.size else 1) + (idx - lo)
    used, counts = np.unique(flat, return_counts=True)
    width = int(idx.max()) - lo + 1 if idx.size else 1
    return MetricTable(
        "ticket volume",
        {
            by: labels[used // width],
            "period": index_labels(used % width + lo, period),
            "tickets": counts.astype(np.int64),
        },
    )


def sentiment_by_topic(
    log: InteractionLog, *, by: str = "topic", level: float = 0.95
) -> MetricTable:
    """Mean ``sentiment`` of ticket rows by ``by`` with Student-t intervals (NaN ignored)."""
    for name in (by, "sentiment"):
        if name not in log:
            raise SchemaError(f"column {name!r} is not in the log")
    mask = log.kind_mask(*_KINDS)
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
    mean = s / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.maximum((ss - n * mean**2) / (n - 1), 0.0)
    ci = [
        mean_t_interval(float(a), float(b), float(c), level, 1.0)
        for a, b, c in zip(n, mean, var, strict=True)
    ]
    return MetricTable(
        "sentiment",
        {
            by: labels[used],
            "n": n.astype(np.int64),
            "mean": mean,
            "se": np.array([c[0] for c in ci]),
            "ci_low": np.array([c[1] for c in ci]),
            "ci_high": np.array([c[2] for c in ci]),
        },
    )
