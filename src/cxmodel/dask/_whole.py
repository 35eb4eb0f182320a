"""Analyses that need whole customers: per partition of a CustomerPartitions, then merged.

Per-customer results (RFM summaries, lifetimes) are concatenated in the one-process customer
order; sums of per-customer contributions (cohort counts) travel as small keyed states merged
in a tree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from cxmodel._periods import period_index
from cxmodel._progress import dask_compute
from cxmodel._time import US_PER_DAY, TimeLike, as_of_us, duration_to_us
from cxmodel.dask._common import FAN_IN, check_fan_in, dask_modules, extreme, tree_merge
from cxmodel.dask._partitions import customer_logs
from cxmodel.dask._types import check_logs_by
from cxmodel.dask._warnings import raise_caught, recorded
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import check_kinds, kind_rows
from cxmodel.log._observed import check_as_of, first_time
from cxmodel.metrics import CohortRetention
from cxmodel.metrics._retention import cohort_matrix
from cxmodel.metrics._survival import (
    CustomerLifetimes,
    churned_by_silence,
    lifetimes_of,
    warn_churned_by_silence,
)
from cxmodel.models import RFMSummary
from cxmodel.models._rfm import (
    as_of_period,
    period_ordinals,
    summarise_purchases,
    warn_unobserved_periods,
)

__all__ = ["cohort_retention", "customer_lifetimes", "map_reduce", "rfm_summary"]

S = TypeVar("S")
Kinds = frozenset[str]


def map_reduce(
    data: Any,
    partial: Callable[..., S],
    merge: Callable[[S, S], S] | None,
    args: tuple[Any, ...],
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
    feature: str,
    progress: bool = False,
    combine: Callable[[Sequence[S]], S] | None = None,
    warn: bool = True,
    by: str | None = None,
) -> Any:
    """``partial(log_or_None, *args)`` on every customer partition; merged in a tree of
    ``fan_in`` when ``merge`` is given (one state; ``combine`` as in :func:`tree_merge`), else
    the list of partials. ``progress`` shows Dask's progress bar while the tasks run.

    The warnings the partials raise are merged (counts added) and raised here, at the caller
    of the public function that calls this; ``warn=False`` drops them (a later pass over the
    same partitions). A ``by`` column that partitions typed differently is refused first
    (:func:`~cxmodel.dask._types.check_logs_by`)."""
    dask, _ = dask_modules(feature)
    if merge is not None:
        check_fan_in(fan_in, feature)  # before the shuffle, not after it
    parts = customer_logs(data, mapping, timezone)
    check_logs_by(parts, by, feature)
    tasks, caught = recorded(dask, partial, parts.logs, *args)
    if not tasks:
        return [] if merge is None else None
    if merge is None:
        *states, warned = dask_compute(dask, *tasks, caught, progress=progress)
    else:
        tree = tree_merge(merge, tasks, fan_in, combine=combine)
        states, warned = dask_compute(dask, tree, caught, progress=progress)
    if warn:
        raise_caught(warned)
    return states


def kinds_of(log: InteractionLog | None) -> Kinds:
    """The kind vocabulary of a partition."""
    return frozenset() if log is None else frozenset(str(k) for k in log.kinds.tolist())


def customer_order(ids: list[npt.NDArray[Any]]) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """Concatenated customer ids and the stable order that sorts them as a log sorts them."""
    if not ids:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.intp)
    allids = np.concatenate(ids)
    return allids, np.argsort(allids, kind="stable")


# ------------------------------------------------------------------ rfm_summary


def _rfm_part(
    log: InteractionLog | None, as_of: Any, freq: str, kind: str, value: str, zone: str | None
) -> tuple[RFMSummary | None, int | None, Kinds, int | None]:
    """The partition's summary, its last purchase period (for a global ``as_of=None``), kinds
    and last interaction (for the warning about an ``as_of`` after the data)."""
    if log is None:
        return None, None, frozenset(), None
    vocabulary = kinds_of(log)
    until = log.observed_until
    sub = log.filter(kind_rows(log, [kind]))
    if as_of is not None:
        end = as_of_period(as_of, freq, zone)
        sub = sub.filter(period_ordinals(sub.timestamps, freq, zone) <= end)
    if len(sub) == 0:
        return None, None, vocabulary, until
    summary = summarise_purchases(
        sub, as_of=as_of, freq=freq, kind=kind, value=value, timezone=zone
    )
    last = int(period_ordinals(sub.timestamps, freq, zone).max())
    return summary, last, vocabulary, until


def rfm_summary(
    data: Any,
    *,
    as_of: Any = None,
    freq: str = "D",
    kind: str = "purchase",
    value: str = "value",
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    progress: bool = False,
) -> RFMSummary:
    """:func:`cxmodel.models.rfm_summary` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition is summarised locally; the summaries are concatenated in the
    one-process customer order. Without ``as_of`` the observation end is the last purchase
    period of all partitions, so ``T`` is shifted to it on the client. The result equals the
    one-process summary (ids, order, values, dtypes), so ``BetaGeo().fit(...)`` fits the same
    model.
    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows (shuffled by customer first, with :func:`from_dask`), or partitions
        already shuffled (then ``mapping`` and ``timezone`` are not used).
    as_of : time-like, optional
        Observation end; default the last purchase period of all partitions. A naive time is
        read in ``timezone``, and refused without one.
    freq : {"D", "W", "M", "h"}, default "D"
        The period unit of frequency, recency and ``T``.
    kind : str, default "purchase"
        The kind of the transactions.
    value : str, default "value"
        The column of the transactions' value.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    timezone : str, optional
        Zone of naive timestamps and of the calendar periods, as ``timezone`` of
        :func:`cxmodel.models.rfm_summary`; default UTC.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed.

    Raises
    ------
    SchemaError
        ``kind`` neither in the data nor a standard kind, or an unknown ``timezone``.
    DataError
        No ``kind`` rows to summarise.

    Warns
    -----
    DataWarning
        As the one-process summary: purchases without a value (counted over all partitions),
        and an ``as_of`` period after the period of the data's last interaction.
    """
    # a bad freq or zone raises before any work
    period_ordinals(np.zeros(0, dtype=np.int64), freq, timezone)
    parts = map_reduce(
        data,
        _rfm_part,
        None,
        (as_of, freq, kind, value, timezone),
        mapping=mapping,
        timezone=timezone,
        feature="cxmodel.dask.rfm_summary()",
        progress=progress,
    )
    vocabulary = frozenset().union(*(p[2] for p in parts))
    check_kinds(sorted(vocabulary), [kind], argument="kind_mask()")
    found = [(s, last) for s, last, _, _ in parts if s is not None and last is not None]
    if not found:
        raise DataError(f"no {kind!r} interactions to summarise")
    if as_of is not None:
        until = max((p[3] for p in parts if p[3] is not None), default=None)
        customers = sum(len(s) for s, _ in found)
        caller = "cxmodel.dask.rfm_summary()"
        warn_unobserved_periods(until, as_of, freq, customers, caller=caller, timezone=timezone)
    end = max(last for _, last in found)
    ids, order = customer_order([s.customer_id for s, _ in found])

    def column(name: str) -> npt.NDArray[np.float64]:
        return np.concatenate([getattr(s, name) for s, _ in found])[order]

    if as_of is None:
        shift = np.concatenate([np.full(len(s), float(end - last)) for s, last in found])
        t = (np.concatenate([s.T for s, _ in found]) + shift)[order]
    else:
        t = column("T")
    return RFMSummary(
        customer_id=np.asarray(ids[order], dtype=object),
        frequency=column("frequency"),
        recency=column("recency"),
        T=t,
        monetary_value=column("monetary_value"),
        freq=freq,
    )


# ------------------------------------------------------------------ customer_lifetimes


def _lifetimes_part(log: InteractionLog | None, cutoff: int, window: int) -> Any:
    """The partition's lifetimes with each customer's last activity, and the partition's
    first and last interaction times (the checks are made on all partitions')."""
    if log is None:
        return None
    lifetimes, last = lifetimes_of(log, cutoff, window)
    return lifetimes, last, first_time(log), log.observed_until


def customer_lifetimes(
    data: Any,
    as_of: Any,
    *,
    inactivity: str = "90d",
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    progress: bool = False,
) -> CustomerLifetimes:
    """:func:`cxmodel.metrics.customer_lifetimes` over a Dask DataFrame or
    :class:`CustomerPartitions`: per customer partition, concatenated in customer order.

    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows (shuffled by customer first, with :func:`from_dask`), or partitions
        already shuffled (then ``mapping`` and ``timezone`` are not used).
    as_of : time-like
        Observation end: rows after it are ignored.
    inactivity : str, default "90d"
        Silence before ``as_of`` after which a customer counts as churned.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    timezone : str, optional
        Zone of naive timestamps.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed.
    """
    cutoff = as_of_us(as_of)
    window = duration_to_us(inactivity)
    parts = map_reduce(
        data,
        _lifetimes_part,
        None,
        (cutoff, window),
        mapping=mapping,
        timezone=timezone,
        feature="cxmodel.dask.customer_lifetimes()",
        progress=progress,
    )
    found = [p for p in parts if p is not None]
    lifetimes = [p[0] for p in found]
    lasts = [p[1] for p in found]
    firsts = [p[2] for p in found if p[2] is not None]
    untils = [p[3] for p in found if p[3] is not None]
    caller = "cxmodel.dask.customer_lifetimes()"
    check_as_of(min(firsts, default=None), cutoff, caller=caller)
    ids, order = customer_order([lt.customers for lt in lifetimes])
    if found:
        durations = np.concatenate([lt.durations for lt in lifetimes])[order]
        observed = np.concatenate([lt.observed for lt in lifetimes])[order]
    else:
        durations, observed = np.empty(0, dtype=np.float64), np.empty(0, dtype=bool)
    until = max(untils, default=None)
    if until is not None and cutoff > until:
        flipped = sum(
            churned_by_silence(lt.observed, last, until, window)
            for lt, last in zip(lifetimes, lasts, strict=True)
        )
        warn_churned_by_silence(flipped, until, cutoff, caller)
    return CustomerLifetimes(
        ids[order], durations, observed, np.datetime64(cutoff, "us"), window / US_PER_DAY
    )


# ------------------------------------------------------------------ cohort_retention

# counts, first and last interaction, the end of the observation, kinds
_Cohorts = tuple["Counter[tuple[int, int]]", int | None, int | None, int | None, Kinds]


def _cohort_part(
    log: InteractionLog | None,
    period: str,
    kinds: tuple[str, ...],
    timezone: str | None,
    end: int | None,
) -> _Cohorts:
    """Per (cohort period, periods since) the number of customers; the first and last times;
    the end of the observation; the kinds."""
    if log is None:
        return Counter(), None, None, None, frozenset()
    times = log.timestamps
    first_seen = int(times.min()) if len(log) else None
    last = int(times.max()) if len(log) else None
    mask = kind_rows(log, kinds)
    if end is not None:
        mask &= times <= end
    sub = log.filter(mask)
    counts: Counter[tuple[int, int]] = Counter()
    if len(sub):
        idx = period_index(sub.timestamps, period, timezone)
        first = idx[sub.offsets[:-1]]
        codes = sub.customer_codes.astype(np.int64)
        since = idx - first[codes]
        width = int(since.max()) + 1
        pairs = np.unique(codes * width + since)
        cohort = first[pairs // width]
        keys, n = np.unique(np.stack([cohort, pairs % width]), axis=1, return_counts=True)
        counts.update({(int(c), int(k)): int(m) for (c, k), m in zip(keys.T, n, strict=True)})
    return counts, first_seen, last, log.observed_until, kinds_of(log)


def _merge_cohorts(a: _Cohorts, b: _Cohorts) -> _Cohorts:
    return (
        a[0] + b[0],
        extreme(min, a[1], b[1]),
        extreme(max, a[2], b[2]),
        extreme(max, a[3], b[3]),
        a[4] | b[4],
    )


def cohort_retention(
    data: Any,
    *,
    period: str = "month",
    kinds: tuple[str, ...] = ("purchase",),
    timezone: str | None = None,
    as_of: TimeLike | None = None,
    mapping: Mapping[str, str] | None = None,
    fan_in: int = FAN_IN,
    progress: bool = False,
) -> CohortRetention:
    """:func:`cxmodel.metrics.cohort_retention` over a Dask DataFrame or
    :class:`CustomerPartitions`.

    Each customer partition counts its customers per (cohort, periods since); these small
    counters are merged in a tree of ``fan_in`` and the matrix is built once on the client.
    ``timezone`` is both the zone of the periods and the zone naive timestamps are read in
    (when ``data`` is a DataFrame).
    ``progress=True`` shows Dask's progress bar while the partitions are computed
    (``dask.diagnostics.ProgressBar``, or ``distributed.progress`` under a running client).

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows (shuffled by customer first, with :func:`from_dask`), or partitions
        already shuffled (then ``mapping`` and ``timezone`` are not used).
    period : {"day", "week", "month", "quarter"}, default "month"
        Calendar period of the cohorts and of the periods since, in ``timezone``.
    kinds : tuple of str, default ("purchase",)
        The kinds that make a customer active in a period (the first one joins the cohort).
    timezone : str, optional
        Zone of the periods, and of naive timestamps when ``data`` is a DataFrame; default UTC.
    as_of : time-like, optional
        Observation end; default the last interaction of all partitions. A naive time is read
        in ``timezone``, and refused without one.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    fan_in : int, default 8
        Partial states merged per task of the merge tree.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed.
    """
    end = None
    if as_of is not None:
        end = as_of_us(as_of, zone=timezone, zone_arg="timezone")
    period_index(np.zeros(0, dtype=np.int64), period, timezone)  # a bad period raises first
    state = map_reduce(
        data,
        _cohort_part,
        _merge_cohorts,
        (period, tuple(kinds), timezone, end),
        mapping=mapping,
        timezone=timezone,
        fan_in=fan_in,
        feature="cxmodel.dask.cohort_retention()",
        progress=progress,
    )
    empty: _Cohorts = (Counter(), None, None, None, frozenset())
    counter, first, last, until, vocabulary = state if state is not None else empty
    check_kinds(sorted(vocabulary), kinds, argument="kind_mask()")
    if end is None:
        end = last if last is not None else 0
    else:
        check_as_of(first, end, caller="cxmodel.dask.cohort_retention()")
    keys = np.array(sorted(counter), dtype=np.int64).reshape(-1, 2)
    values = np.array([counter[(int(c), int(k))] for c, k in keys], dtype=np.int64)
    return cohort_matrix(
        keys[:, 0],
        keys[:, 1],
        values,
        period=period,
        timezone=timezone,
        end=end,
        until=until,
        caller="cxmodel.dask.cohort_retention()",
    )
