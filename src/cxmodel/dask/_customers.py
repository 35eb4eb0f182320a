"""Per-customer work on Dask: partition by customer, and two-phase RFM."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional
from cxmodel._time import US_PER_DAY, TimeLike, to_us
from cxmodel.dask._common import check_frame, dask_modules, partition_log, tree_merge
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import check_kinds
from cxmodel.segment import RFMScores, rank_scores
from cxmodel.segment._rfm import _check_n_bins

__all__ = ["CustomerTotals", "map_customers", "rfm_scores"]


@attrs.frozen(eq=False)
class CustomerTotals:
    """Keyed monoid state of RFM: per customer (sorted ids) last time, count and value sum."""

    customer_id: npt.NDArray[np.object_]
    last: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    total: npt.NDArray[np.float64]

    @classmethod
    def empty(cls) -> CustomerTotals:
        """The identity state."""
        return cls(
            np.empty(0, dtype=object),
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.float64),
        )

    def merge(self, other: CustomerTotals) -> CustomerTotals:
        """Combine two states: max of times, sums of counts and values (exact up to rounding)."""
        if len(other.customer_id) == 0:
            return self
        if len(self.customer_id) == 0:
            return other
        ids = np.concatenate([self.customer_id, other.customer_id])
        uniq, inverse = np.unique(ids.astype(str), return_inverse=True)
        inverse = inverse.reshape(-1)
        n = len(uniq)
        last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, inverse, np.concatenate([self.last, other.last]))
        count = np.bincount(inverse, np.concatenate([self.count, other.count]), minlength=n)
        total = np.bincount(inverse, np.concatenate([self.total, other.total]), minlength=n)
        return CustomerTotals(
            uniq.astype(object), last, count.astype(np.int64), total.astype(np.float64)
        )


_Partial = tuple[CustomerTotals, frozenset[str]]


def _merge_totals(a: _Partial, b: _Partial) -> _Partial:
    return a[0].merge(b[0]), a[1] | b[1]


def _rfm_partial(
    frame: Any,
    cutoff: int,
    kinds: tuple[str, ...],
    mapping: Mapping[str, str] | None,
) -> _Partial:
    """One partition's totals and the kinds it holds (the kinds are checked on the client
    against the union of every partition's kinds: one partition may lack a kind the data has)."""
    log = partition_log(frame, mapping, None)
    if log is None:
        return CustomerTotals.empty(), frozenset()
    kind_codes, vocabulary = log.categorical("kind")
    wanted = np.isin(vocabulary, list(kinds))[kind_codes] if vocabulary.size else kind_codes >= 0
    rows = np.flatnonzero(wanted & (log.timestamps <= cutoff))
    codes = log.customer_codes[rows].astype(np.int64)
    n_all = log.n_customers
    count = np.bincount(codes, minlength=n_all)
    if "value" in log:
        values = log.numeric("value")[rows]
        values = np.where(np.isnan(values), 0.0, values)
    else:
        values = np.zeros(rows.shape[0])
    total = np.bincount(codes, weights=values, minlength=n_all)
    present = count > 0
    # Rows are sorted by (customer, time): a customer's last selected row is its latest purchase.
    is_last = np.ones(rows.shape[0], dtype=bool)
    is_last[:-1] = codes[1:] != codes[:-1]
    last = log.timestamps[rows[is_last]]
    totals = CustomerTotals(
        log.customers[present].astype(object),
        last.astype(np.int64),
        count[present].astype(np.int64),
        total[present].astype(np.float64),
    )
    return totals, frozenset(str(k) for k in vocabulary.tolist())


def rfm_scores(
    ddf: Any,
    *,
    as_of: TimeLike,
    n_bins: int = 5,
    kind: str | Sequence[str] = "purchase",
    mapping: Mapping[str, str] | None = None,
    fan_in: int = 8,
) -> RFMScores:
    """:func:`cxmodel.segment.rfm_scores` over a Dask DataFrame, in two phases; the same result.

    Phase one is a keyed monoid per partition (per customer: latest purchase time, count and
    value sum), merged in a tree of ``fan_in``; phase two ranks the small customer table
    exactly on the client with :func:`cxmodel.segment.rank_scores` (equal quantities share a
    score). A customer's rows may be spread over any partitions. ``kind`` is checked against
    the kinds of all partitions together, as :meth:`InteractionLog.kind_mask` checks it: a
    kind that is neither in the data nor a standard kind raises
    :class:`~cxmodel.errors.SchemaError` with a did-you-mean.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Interaction rows, in any partitioning.
    as_of : time-like
        Reference time: purchases after it are ignored.
    n_bins : int, default 5
        Score levels (2 to 10).
    kind : str or sequence of str, default "purchase"
        The kind(s) that count as purchases.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    fan_in : int, default 8
        Partial states merged per task of the merge tree.
    """
    feature = "cxmodel.dask.rfm_scores()"
    dask, _ = dask_modules(feature)
    check_frame(ddf, feature)
    bins = _check_n_bins(n_bins)
    cutoff = to_us(as_of, what="as_of")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    parts = [
        dask.delayed(_rfm_partial, pure=True)(p, cutoff, kinds, mapping) for p in ddf.to_delayed()
    ]
    ((state, vocabulary),) = dask.compute(tree_merge(_merge_totals, parts, fan_in))
    check_kinds(sorted(vocabulary), kinds, argument="cxmodel.dask.rfm_scores() kind")
    monetary = np.round(state.total, 9)
    return RFMScores(
        customer_id=state.customer_id,
        recency_days=((cutoff - state.last) / US_PER_DAY).astype(np.float64),
        frequency=state.count,
        monetary=monetary.astype(np.float64),
        r=rank_scores(state.last, bins),
        f=rank_scores(state.count, bins),
        m=rank_scores(monetary, bins),
        n_bins=bins,
        as_of=cutoff,
    )


def _apply(
    frame: Any,
    fn: Callable[[InteractionLog], Any],
    mapping: Mapping[str, str] | None,
    timezone: str | None,
) -> Any:
    log = partition_log(frame, mapping, timezone)
    if log is None:
        return None
    out = fn(log)
    return out.to_pandas() if hasattr(out, "to_pandas") else out


def map_customers(
    ddf: Any,
    fn: Callable[[InteractionLog], Any],
    *,
    sort_by: str | Sequence[str] | None = "customer_id",
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> Any:
    """Run ``fn`` on the whole history of every customer, partitioned by customer.

    The frame is shuffled on ``customer_id`` so that each customer's rows sit in exactly one
    partition; each partition becomes an :class:`~cxmodel.log.InteractionLog` and ``fn`` runs on
    it locally (journeys, triggers, any per-customer function). ``fn`` returns a pandas
    DataFrame or an object with ``to_pandas()``; the results are concatenated (an empty
    DataFrame when no partition has rows) and, when the
    ``sort_by`` column(s) are present, stably sorted by them (index reset). The result is the
    same as ``fn`` on the whole log whenever ``fn``'s rows depend only on each customer's rows.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Interaction rows, in any partitioning.
    fn : callable
        Called with each partition's :class:`~cxmodel.log.InteractionLog`; returns a pandas
        DataFrame or an object with ``to_pandas()``.
    sort_by : str or sequence of str, optional, default "customer_id"
        Column(s) the concatenated result is stably sorted by, when present; ``None`` keeps the
        partition order.
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    timezone : str, optional
        Zone of naive timestamps.
    """
    feature = "cxmodel.dask.map_customers()"
    dask, _ = dask_modules(feature)
    pd = import_optional("pandas", feature)
    check_frame(ddf, feature)
    shuffled = ddf.shuffle(on="customer_id")
    tasks = [
        dask.delayed(_apply, pure=True)(p, fn, mapping, timezone) for p in shuffled.to_delayed()
    ]
    results = [r for r in dask.compute(*tasks) if r is not None]
    if not results:
        return pd.DataFrame()
    frame = pd.concat(results, ignore_index=True)
    keys = [sort_by] if isinstance(sort_by, str) else list(sort_by or [])
    if keys and all(k in frame.columns for k in keys):
        frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return frame
