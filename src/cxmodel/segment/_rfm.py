"""Recency, frequency and monetary scores computed from the columnar log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import float_array, integer, interaction_log, is_integer, name_sequence
from cxmodel._pieces import warn, warn_counted
from cxmodel._result import Result, column
from cxmodel._sums import grouped_sums
from cxmodel._time import US_PER_DAY, TimeLike, as_of_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log._kinds import kind_rows, read_kinds
from cxmodel.log._observed import check_as_of, first_time
from cxmodel.log._orders import warn_order_lines

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["RFMScores", "RFMTotals", "check_n_bins", "rank_scores", "rfm_scores"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@attrs.frozen(eq=False, repr=False)
class RFMScores(Result):
    """Per-customer recency, frequency, monetary value and their 1..n_bins scores.

    Attributes
    ----------
    customer_id : ndarray of str
        Customers with at least one purchase at or before ``as_of``, sorted by id.
    recency_days : ndarray of float
        Days from the last purchase to ``as_of``.
    frequency : ndarray of int
        Number of purchases.
    monetary : ndarray of float
        Total purchase value (missing values count as 0).
    r, f, m : ndarray of int
        Rank-based scores 1..``n_bins``; ``r`` is highest for the most recent customers.
    n_bins : int
        Number of score levels.
    as_of : int
        The reference time, microseconds since the epoch (UTC).
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    recency_days: FloatArray = attrs.field(metadata=column())
    frequency: IntArray = attrs.field(metadata=column())
    monetary: FloatArray = attrs.field(metadata=column())
    r: IntArray = attrs.field(metadata=column())
    f: IntArray = attrs.field(metadata=column())
    m: IntArray = attrs.field(metadata=column())
    n_bins: int
    as_of: int

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])


_MAX_BINS = 2**31


def rank_scores(quantity: npt.ArrayLike, n_bins: int) -> IntArray:
    """Rank-based scores in which equal quantities share a score.

    The value at 0-based position ``i`` of the ``N`` values sorted ascending scores
    ``1 + floor(i * n_bins / N)``, and every value equal to it takes the score of the lowest
    such position: ``i`` is pandas' ``rank(method="min") - 1``, the number of strictly smaller
    values. So identical customers always share a score (and a segment), the input order never
    matters, and a large tie may leave some scores unused (``N`` one-time buyers among
    ``N + 1`` customers all score 1). NaN ranks above every number, so an unknown quantity
    takes a top score: a :class:`~cxmodel.errors.DataWarning` counts them.

    Examples
    --------
    >>> rank_scores([10.0, 5.0, 5.0, 1.0], 2).tolist()
    [2, 1, 1, 1]
    >>> rank_scores([3, 1, 2, 4], 4).tolist()
    [3, 1, 2, 4]
    """
    n_bins = integer(n_bins, "rank_scores()", "n_bins", minimum=1)
    if n_bins > _MAX_BINS:  # position x n_bins is computed in int64
        raise SchemaError(f"rank_scores(): n_bins must be at most {_MAX_BINS:,}; got {n_bins:,}")
    values = np.asarray(quantity)
    if values.dtype.kind not in "iuf" or values.ndim != 1:
        values = float_array(values, "rank_scores()", "quantity", ndim=1)
    n = values.shape[0]
    if values.dtype.kind == "f":
        warn_counted(
            DataWarning,
            "rank_scores(): {missing:,} of {values:,} quantities are NaN; they rank above every "
            "number and take the top scores (drop or fill them first)",
            missing=int(np.count_nonzero(np.isnan(values))),
            values=n,
        )
    # Each value's count of strictly smaller values is the position of the first of its equals
    # in sorted order (NaN sort last and tie with one another); ties need no stable sort.
    order = np.argsort(values)
    ordered = values[order]
    starts = np.ones(n, dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    if ordered.dtype.kind == "f":
        starts[1:] &= ~np.isnan(ordered[:-1])
    first = np.where(starts, np.arange(n, dtype=np.int64), 0)
    np.maximum.accumulate(first, out=first)
    below = np.empty(n, dtype=np.int64)
    below[order] = first
    scores: IntArray = 1 + (below * n_bins) // max(n, 1)
    return scores


def check_n_bins(n_bins: object) -> int:
    """``n_bins`` as an int, if it is a whole number in 2..100; else a SchemaError."""
    if not is_integer(n_bins) or not (2 <= int(n_bins) <= 100):
        raise SchemaError(
            "The 'n_bins' parameter of rfm_scores must be an int in the range [2, 100]. "
            f"Got {n_bins!r} instead."
        )
    return int(n_bins)


@attrs.frozen(eq=False)
class RFMTotals:
    """Mergeable first phase of RFM: per customer, the latest purchase time, the number of
    purchases and their value, over the rows of ``kinds`` at or before ``as_of``.

    A keyed monoid: :meth:`partial` of any pieces of a log, merged in any order, gives the
    totals of the whole log (sums of values up to floating-point order, which
    :meth:`scores` rounds away). The kinds each piece holds travel with the totals, so
    ``kinds`` is checked once, against the whole data, by :meth:`scores`.

    Attributes
    ----------
    customer_id : ndarray of str
        Customers with at least one purchase, sorted.
    last, count, total : ndarray
        Latest purchase time (microseconds, UTC), number of purchases, value sum.
    as_of : int
        The cutoff, microseconds since the epoch (UTC).
    kinds : tuple of str
        The kinds that count as purchases.
    seen : frozenset of str
        The kinds the pieces hold.
    first : int or None
        The pieces' first interaction of any kind (microseconds, UTC; ``None`` without rows),
        to refuse an ``as_of`` before the data as :func:`rfm_scores` does.
    """

    customer_id: npt.NDArray[np.object_]
    last: IntArray
    count: IntArray
    total: FloatArray
    as_of: int
    kinds: tuple[str, ...]
    seen: frozenset[str] = frozenset()
    first: int | None = None

    @classmethod
    def empty(cls, as_of: int, kinds: tuple[str, ...]) -> RFMTotals:
        """The identity: no customers."""
        return cls(
            np.empty(0, dtype=object),
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.float64),
            as_of,
            kinds,
        )

    @classmethod
    def partial(cls, log: InteractionLog, *, as_of: int, kinds: tuple[str, ...]) -> RFMTotals:
        """The totals of one log (or piece of a log); ``kinds`` is not checked here.

        Examples
        --------
        >>> from cxmodel.log import InteractionLog
        >>> log = InteractionLog.from_arrays(["a", "a", "b"], [0, 5, 3], ["purchase"] * 3,
        ...                                  value=[1.0, 2.0, 4.0])  # epoch seconds
        >>> t = RFMTotals.partial(log, as_of=10_000_000, kinds=("purchase",))
        >>> t.customer_id.tolist(), t.last.tolist(), t.count.tolist(), t.total.tolist()
        (['a', 'b'], [5000000, 3000000], [2, 1], [3.0, 4.0])
        """
        rows = np.flatnonzero(kind_rows(log, kinds) & (log.timestamps <= as_of))
        codes = log.customer_codes[rows].astype(np.int64)
        count = np.bincount(codes, minlength=log.n_customers)
        if "value" in log:
            values = log.numeric("value")[rows]
            template = (
                "rfm_scores(): {missing:,} of {rows:,} purchases have no 'value' (NaN); "
                "they count as purchases of value 0 in monetary and the m score"
            )
            warn_counted(
                DataWarning,
                template,
                missing=int(np.isnan(values).sum()),
                rows=int(rows.shape[0]),
            )
            values = np.where(np.isnan(values), 0.0, values)
        else:
            values = np.zeros(rows.shape[0])
        warn_order_lines(log, rows, caller="rfm_scores()", kinds=kinds)
        total = grouped_sums(
            codes,
            values,
            log.n_customers,
            column="value",
            where="rfm_scores()",
            names=log.customers,
        )
        present = count > 0
        # Codes are non-decreasing and times non-decreasing within a customer: the last
        # selected row of each customer holds its latest purchase.
        is_last = np.ones(rows.shape[0], dtype=bool)
        is_last[:-1] = codes[1:] != codes[:-1]
        return cls(
            log.customers[present],
            log.timestamps[rows[is_last]].astype(np.int64),
            count[present].astype(np.int64),
            total[present].astype(np.float64),
            as_of,
            kinds,
            frozenset(str(k) for k in log.kinds.tolist()),
            first_time(log),
        )

    def merge(self, other: RFMTotals) -> RFMTotals:
        """Combine two totals: latest of times, sums of counts and values."""
        if (self.as_of, self.kinds) != (other.as_of, other.kinds):
            raise SchemaError(
                f"cannot merge totals of {self.kinds!r} up to {self.as_of} with totals of "
                f"{other.kinds!r} up to {other.as_of}"
            )
        seen = self.seen | other.seen
        firsts = [t for t in (self.first, other.first) if t is not None]
        first = min(firsts) if firsts else None
        if len(other.customer_id) == 0:
            return attrs.evolve(self, seen=seen, first=first)
        if len(self.customer_id) == 0:
            return attrs.evolve(other, seen=seen, first=first)
        ids = np.concatenate([self.customer_id, other.customer_id])
        uniq, inverse = np.unique(ids.astype(str), return_inverse=True)
        inverse = inverse.reshape(-1)
        n = len(uniq)
        last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, inverse, np.concatenate([self.last, other.last]))
        count = np.bincount(inverse, np.concatenate([self.count, other.count]), minlength=n)
        total = grouped_sums(
            inverse,
            np.concatenate([self.total, other.total]),
            n,
            column="value",
            where="rfm_scores()",
            names=uniq,
        )
        return RFMTotals(
            uniq.astype(object),
            last,
            count.astype(np.int64),
            total,
            self.as_of,
            self.kinds,
            seen,
            first,
        )

    def scores(self, n_bins: int, *, argument: str = "rfm_scores() kind") -> RFMScores:
        """The second phase: recency, frequency, monetary and their rank scores.

        Raises
        ------
        SchemaError
            For a bad ``n_bins``, or a kind neither in the data nor a standard kind
            (``argument`` names it in the message).
        """
        bins = check_n_bins(n_bins)
        read_kinds(
            sorted(self.seen),
            self.kinds,
            argument=argument,
            meaning="no customer has a score",
        )
        # Round away summation-order noise (1e-9) so equal totals tie and share a score; a
        # total too large to scale by 1e9 (beyond 1.8e299) has no such noise and stays as it is
        with np.errstate(over="ignore", invalid="ignore"):
            rounded = np.round(self.total, 9)
        monetary = np.where(np.isfinite(rounded), rounded, self.total)
        _warn_same_recency(self.last, bins)
        return RFMScores(
            customer_id=self.customer_id,
            recency_days=((self.as_of - self.last) / US_PER_DAY).astype(np.float64),
            frequency=self.count,
            monetary=monetary.astype(np.float64),
            r=rank_scores(self.last, bins),  # later last purchase = more recent = higher score
            f=rank_scores(self.count, bins),
            m=rank_scores(monetary, bins),
            n_bins=bins,
            as_of=self.as_of,
        )


def _warn_same_recency(last: IntArray, bins: int) -> None:
    """Warn when every customer (two or more) made their last purchase at the same time: each
    r score is then 1, the least recent, however recent that time is (ten customers who all
    bought yesterday would all be 'Hibernating' in the default map)."""
    n = last.shape[0]
    if n >= 2 and np.all(last == last[0]):
        warn(
            f"rfm_scores(): all {n:,} customers made their last purchase at the same time, so "
            f"every r score is 1 of 1..{bins} (ties share the lowest score) and the recency "
            "score ranks nothing: segments read it as 'least recent'; score a longer period "
            "or segment on recency_days instead",
            DataWarning,
        )


def rfm_scores(
    log: InteractionLog,
    *,
    as_of: TimeLike,
    n_bins: int = 5,
    kind: str | Sequence[str] = "purchase",
) -> RFMScores:
    """Recency, frequency and monetary value per customer, with rank-based scores.

    Recency is the days from the last purchase to ``as_of``, frequency the number of purchases
    and monetary the total ``value`` of the purchases (missing values count as 0), all over rows
    of ``kind`` at or before ``as_of``. Each score sorts the customers by the quantity
    ascending -- recency through the last purchase time, so the most recent customers score
    highest -- and gives the customer at 0-based position i of N the score
    ``1 + floor(i * n_bins / N)``, where customers with equal quantities share the lowest position
    among them (pandas ``rank(method="min") - 1``; see :func:`rank_scores`). Identical customers
    therefore always get identical scores, whatever their ids or row order; a large tie, such as
    the one-time buyers of a frequency score, leaves some scores unused. Only customers with at
    least one purchase at or before ``as_of`` appear. Monetary totals are rounded to 9 decimals so
    that floating-point summation order cannot split equal totals. A purchase without a value
    (NaN) counts as 0, with a warning counting them. Each row counts as a purchase: score a
    line-item export (several rows per order) on :meth:`InteractionLog.orders`.

    Parameters
    ----------
    log : InteractionLog
        The interactions.
    as_of : datetime, str, datetime64 or epoch seconds
        The reference time; later purchases are ignored.
    n_bins : int, default 5
        Number of score levels, 2..100.
    kind : str or sequence of str, default "purchase"
        The kinds that count as purchases.

    Returns
    -------
    RFMScores

    Raises
    ------
    SchemaError
        For a bad ``n_bins`` or ``as_of``, or a ``kind`` that is neither in the log nor a
        standard kind (with a did-you-mean; see :meth:`InteractionLog.kind_mask`).

    Warns
    -----
    DataWarning
        When purchases have no value (NaN): their count. When every customer (two or more)
        made their last purchase at the same time: every ``r`` is then 1. When some purchases
        are further lines of an order (same customer and ``order_id``, or same instant; see
        :meth:`InteractionLog.orders`): their count, since each counts in ``frequency``.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b", "c"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-05T00:00Z", "2024-01-03T00:00Z",
    ...                "2024-01-02T00:00Z"],
    ...     kind=["purchase"] * 4, value=[10.0, 5.0, 30.0, 1.0])
    >>> s = rfm_scores(log, as_of="2024-01-10T00:00Z", n_bins=3)
    >>> s.customer_id.tolist(), s.recency_days.tolist(), s.r.tolist(), s.m.tolist()
    (['a', 'b', 'c'], [5.0, 7.0, 8.0], [3, 2, 1], [2, 3, 1])
    """
    log = interaction_log(log, "rfm_scores()")
    bins = check_n_bins(n_bins)
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="rfm_scores()")
    kinds = name_sequence(kind, "rfm_scores()", "kind")
    return RFMTotals.partial(log, as_of=cutoff, kinds=kinds).scores(bins)
