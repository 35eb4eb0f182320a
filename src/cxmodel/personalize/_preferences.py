"""Per-customer preferences: channel by response rate, favourites, purchase rhythm, timing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, mapping_value, real
from cxmodel._pieces import warn
from cxmodel._result import Result, column, columns
from cxmodel._time import US_PER_DAY, TimeLike, as_of_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log._observed import check_as_of, first_time, warn_after_data

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["DEFAULT_OUTREACH", "Preferences", "preferences"]

DEFAULT_OUTREACH: dict[str, tuple[str, str]] = {
    "email": ("email_sent", "email_opened"),
    "push": ("push_sent", "push_opened"),
}
"""Channel -> (kind of the outreach, kind of the response)."""

_ENGAGEMENT = ("email_opened", "email_clicked", "push_opened")
_US_PER_HOUR = 3_600_000_000

Codes = npt.NDArray[np.int64]


@attrs.frozen(eq=False, repr=False)
class Preferences(Result):
    """One row per customer of the log (as of ``as_of``).

    Attributes
    ----------
    customer_id : ndarray of str
    preferred_channel : ndarray of str or None
        Channel with the highest smoothed response rate; None when nothing was sent.
    response_rate : dict of str to ndarray
        Smoothed response rate per outreach channel (NaN when nothing was sent on it).
    favourite_category, favourite_product : ndarray of str or None
        Most purchased ``category`` / ``product`` (ties to the alphabetically first).
    purchase_interval_days : ndarray of float
        Median gap between consecutive purchases; purchases at the same time (the lines of
        one order) are one purchase (NaN with fewer than 2 purchase times).
    next_purchase : ndarray of datetime64[us]
        Last purchase + the median gap (NaT with fewer than 2 purchase times).
    best_hour, best_weekday : ndarray of int
        UTC hour (0-23) and weekday (0 = Monday) when the customer most often engages (opens
        and clicks; all their interactions if they never engaged); -1 without interactions.
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    preferred_channel: npt.NDArray[np.object_] = attrs.field(metadata=column())
    response_rate: dict[str, npt.NDArray[np.float64]] = attrs.field(
        metadata=columns("response_rate_")
    )
    favourite_category: npt.NDArray[np.object_] = attrs.field(metadata=column())
    favourite_product: npt.NDArray[np.object_] = attrs.field(metadata=column())
    purchase_interval_days: npt.NDArray[np.float64] = attrs.field(metadata=column())
    next_purchase: npt.NDArray[np.datetime64] = attrs.field(metadata=column())
    best_hour: npt.NDArray[np.int64] = attrs.field(metadata=column())
    best_weekday: npt.NDArray[np.int64] = attrs.field(metadata=column())


def _warn_due_unobserved(due: Codes, until: int | None, cutoff: int) -> None:
    """Warn (:func:`~cxmodel.log._observed.warn_after_data`) when ``as_of`` (``cutoff``) is
    after the data's end (``until``) and some customers' next purchase (``due``) falls in the
    span between: they look overdue as of ``as_of``, though the data cannot say whether they
    bought then."""
    if until is None or cutoff <= until:
        return
    overdue = int(np.count_nonzero((due > until) & (due <= cutoff)))
    if overdue:
        who = "1 customer's" if overdue == 1 else f"{overdue:,} customers'"
        consequence = (
            f"{who} next_purchase falls in it, so they look overdue at as_of though the data "
            "cannot say whether they bought"
        )
        warn_after_data(until, cutoff, consequence, caller="preferences()")


def _mode(codes: Codes, values: Codes, n: int, k: int) -> Codes:
    """Per customer, the most frequent value code (ties to the smallest); -1 when none.

    Only the (customer, value) pairs that occur are counted, not a dense customers x values
    table, which a large catalogue (60,000 customers x 60,000 products) would not fit in memory.
    """
    out = np.full(n, -1, dtype=np.int64)
    ok = values >= 0
    if not k or not ok.any():
        return out
    pairs, counts = np.unique(codes[ok] * k + values[ok], return_counts=True)
    owner, value = pairs // k, pairs % k
    order = np.lexsort((value, -counts, owner))  # per customer, most frequent then smallest
    owner, value = owner[order], value[order]
    first = np.ones(owner.shape[0], dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    out[owner[first]] = value[first]
    return out


def _channels(outreach: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The outreach channels, each a pair (sent kind, response kind)."""
    if not outreach:
        raise SchemaError("outreach must name at least one channel (got an empty mapping)")
    out: dict[str, tuple[str, str]] = {}
    for channel, pair in outreach.items():
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise SchemaError(
                f"outreach[{channel!r}] must be a pair (sent kind, response kind), e.g. "
                f"('email_sent', 'email_opened'); got {pair!r}"
            )
        out[channel] = (pair[0], pair[1])
    return out


def _favourite(log: InteractionLog, name: str, buy: npt.NDArray[np.bool_], codes: Codes) -> Any:
    n = log.n_customers
    out = np.full(n, None, dtype=object)
    if name not in log or not buy.any():
        return out
    if log.schema.get(name) != "string":  # category codes read as numbers
        warn(
            f"preferences(): column {name!r} holds {log.schema.get(name)} values, not text, so "
            f"favourite_{name} is None for every customer; give the column as text (strings, "
            f"or a reader's dtypes={{{name!r}: 'string'}}) to count them",
            DataWarning,
        )
        return out
    vcodes, cats = log.categorical(name)
    best = _mode(codes[buy], vcodes[buy].astype(np.int64), n, cats.shape[0])
    out[best >= 0] = cats[best[best >= 0]]
    return out


def _median_gap(codes: Codes, times: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.float64]:
    """Per customer, the median gap (days) between consecutive distinct purchase times; rows
    sharing a time (the lines of one order) are one purchase. NaN with fewer than two."""
    same = (codes[1:] == codes[:-1]) & (times[1:] != times[:-1])
    gaps = (times[1:] - times[:-1])[same] / US_PER_DAY
    owner = codes[1:][same]
    order = np.lexsort((gaps, owner))
    gaps, owner = gaps[order], owner[order]
    counts = np.bincount(owner, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    out = np.full(n, np.nan)
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    out[has] = (gaps[lo[has]] + gaps[hi[has]]) / 2
    return out


def preferences(
    log: InteractionLog,
    *,
    as_of: TimeLike,
    outreach: Mapping[str, tuple[str, str]] | None = None,
    smoothing: float = 2.0,
) -> Preferences:
    """Each customer's preferences from their interactions at or before ``as_of``.

    The preferred channel is chosen by response rate, not volume: for each outreach channel
    ``(sent kind, response kind)`` the rate is ``(responses + smoothing * p) / (sent + smoothing)``
    where ``p`` is the channel's population rate (shrinkage towards the population, so one
    lucky open does not decide). Ties go to the first channel of ``outreach``.

    Parameters
    ----------
    log : InteractionLog
    as_of : time-like
    outreach : mapping of channel to (sent kind, response kind), optional
        Default :data:`DEFAULT_OUTREACH` (email and push).
    smoothing : float, default 2.0
        Pseudo-count of the shrinkage; 0 gives raw rates.

    Returns
    -------
    Preferences

    Raises
    ------
    DataError
        If ``as_of`` is before the log's first interaction (nobody had been seen yet).

    Warns
    -----
    DataWarning
        When ``as_of`` is after the log's :attr:`~cxmodel.log.InteractionLog.observed_until`
        and some customers' ``next_purchase`` falls between the two (counted: they look overdue
        though nothing there was observed); a log whose export covers ``as_of`` says so with
        :meth:`~cxmodel.log.InteractionLog.with_observed_until`.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a"] * 6,
    ...     timestamp=[f"2024-01-0{d}T09:00Z" for d in range(1, 7)],
    ...     kind=["email_sent", "email_sent", "push_sent", "push_opened", "purchase", "purchase"])
    >>> p = preferences(log, as_of="2024-01-06T09:00Z", smoothing=0)
    >>> p.preferred_channel.tolist(), p.purchase_interval_days.tolist(), p.best_hour.tolist()
    (['push'], [1.0], [9])
    """
    log = interaction_log(log, "preferences()")
    outreach = None if outreach is None else mapping_value(outreach, "preferences()", "outreach")
    smoothing = real(smoothing, "preferences()", "smoothing")
    if smoothing < 0:
        raise SchemaError(f"smoothing must be a finite number >= 0 (got {smoothing!r})")
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="preferences()")
    until = log.observed_until  # honours with_observed_until
    visible = log.timestamps <= cutoff
    if not visible.all():
        log = log.filter(visible)
    channels = _channels(DEFAULT_OUTREACH if outreach is None else outreach)
    n = log.n_customers
    codes = log.customer_codes.astype(np.int64)
    times = log.timestamps
    rates: dict[str, npt.NDArray[np.float64]] = {}
    for channel, (sent_kind, response_kind) in channels.items():
        sent = np.bincount(codes[log.kind_mask(sent_kind)], minlength=n).astype(np.float64)
        resp = np.bincount(codes[log.kind_mask(response_kind)], minlength=n).astype(np.float64)
        resp = np.minimum(resp, sent)  # several opens of one message count once
        prior = resp.sum() / sent.sum() if sent.sum() else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            rates[channel] = np.where(
                sent > 0, (resp + smoothing * prior) / (sent + smoothing), np.nan
            )
    stacked = np.column_stack(list(rates.values()))
    any_sent = ~np.isnan(stacked).all(axis=1)
    best = np.nanargmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=1)
    names = np.array(list(rates), dtype=object)
    preferred = names[best]
    preferred[~any_sent] = None
    buy = log.kind_mask("purchase")
    buy_codes = codes[buy]
    gap = _median_gap(buy_codes, times[buy], n)
    last = np.full(n, -1, dtype=np.int64)
    if buy_codes.size:
        is_last = np.ones(buy_codes.shape[0], dtype=bool)
        is_last[:-1] = buy_codes[1:] != buy_codes[:-1]
        last[buy_codes[is_last]] = times[buy][is_last]
    next_us = last + np.round(np.nan_to_num(gap) * US_PER_DAY).astype(np.int64)
    next_purchase = next_us.astype("datetime64[us]")
    next_purchase[np.isnan(gap)] = np.datetime64("NaT", "us")
    _warn_due_unobserved(next_us[~np.isnan(gap)], until, cutoff)
    engaged = log.kind_mask(*_ENGAGEMENT)
    has_engaged = np.bincount(codes[engaged], minlength=n) > 0
    use = engaged | ~has_engaged[codes]
    hours = (times // _US_PER_HOUR) % 24
    weekdays = (times // US_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday
    return Preferences(
        customer_id=log.customers,
        preferred_channel=preferred,
        response_rate=rates,
        favourite_category=_favourite(log, "category", buy, codes),
        favourite_product=_favourite(log, "product", buy, codes),
        purchase_interval_days=gap,
        next_purchase=next_purchase,
        best_hour=_mode(codes[use], hours[use], n, 24),
        best_weekday=_mode(codes[use], weekdays[use], n, 7),
    )
