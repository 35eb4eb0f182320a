"""Recency, frequency and monetary scores computed from the columnar log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._tables import columns_to_html, columns_to_pandas
from cxmodel._time import US_PER_DAY, TimeLike, to_us
from cxmodel.errors import SchemaError

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["RFMScores", "rank_scores", "rfm_scores"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class RFMScores:
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

    customer_id: npt.NDArray[np.object_]
    recency_days: FloatArray
    frequency: IntArray
    monetary: FloatArray
    r: IntArray
    f: IntArray
    m: IntArray
    n_bins: int
    as_of: int

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])

    def to_dict(self) -> dict[str, npt.NDArray[Any]]:
        """The columns as a dict of arrays."""
        return {
            "customer_id": self.customer_id,
            "recency_days": self.recency_days,
            "frequency": self.frequency,
            "monetary": self.monetary,
            "r": self.r,
            "f": self.f,
            "m": self.m,
        }

    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per customer (needs pandas)."""
        return columns_to_pandas(self.to_dict(), "RFMScores.to_pandas()")

    def _repr_html_(self) -> str:
        return columns_to_html(f"RFMScores (n_bins={self.n_bins})", self.to_dict())


def rank_scores(quantity: npt.ArrayLike, n_bins: int) -> IntArray:
    """Rank-based scores in which equal quantities share a score.

    The value at 0-based position ``i`` of the ``N`` values sorted ascending scores
    ``1 + floor(i * n_bins / N)``, and every value equal to it takes the score of the lowest
    such position: ``i`` is pandas' ``rank(method="min") - 1``, the number of strictly smaller
    values. So identical customers always share a score (and a segment), the input order never
    matters, and a large tie may leave some scores unused (``N`` one-time buyers among
    ``N + 1`` customers all score 1). NaN ranks above every number.

    Examples
    --------
    >>> rank_scores([10.0, 5.0, 5.0, 1.0], 2).tolist()
    [2, 1, 1, 1]
    >>> rank_scores([3, 1, 2, 4], 4).tolist()
    [3, 1, 2, 4]
    """
    values = np.asarray(quantity)
    if values.dtype.kind not in "iuf":
        values = values.astype(np.float64)
    n = values.shape[0]
    ordered = np.sort(values)  # NaN last, and searchsorted puts NaN there too
    below = np.searchsorted(ordered, values, side="left").astype(np.int64)
    scores: IntArray = 1 + (below * n_bins) // max(n, 1)
    return scores


def _check_n_bins(n_bins: object) -> int:
    if (
        isinstance(n_bins, bool)
        or not isinstance(n_bins, (int, np.integer))
        or not (2 <= int(n_bins) <= 100)
    ):
        raise SchemaError(
            "The 'n_bins' parameter of rfm_scores must be an int in the range [2, 100]. "
            f"Got {n_bins!r} instead."
        )
    return int(n_bins)


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
    that floating-point summation order cannot split equal totals.

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
    bins = _check_n_bins(n_bins)
    cutoff = to_us(as_of, what="as_of")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    mask = log.kind_mask(*kinds) & (log.timestamps <= cutoff)
    rows = np.flatnonzero(mask)
    codes = log.customer_codes[rows].astype(np.int64)
    n_all = log.n_customers
    frequency_all = np.bincount(codes, minlength=n_all)
    if "value" in log:
        values = log.numeric("value")[rows]
        values = np.where(np.isnan(values), 0.0, values)
    else:
        values = np.zeros(rows.shape[0])
    monetary_all = np.bincount(codes, weights=values, minlength=n_all)
    present = frequency_all > 0
    # Codes are non-decreasing and times non-decreasing within a customer: the last selected row
    # of each customer holds its latest purchase.
    is_last = np.ones(rows.shape[0], dtype=bool)
    is_last[:-1] = codes[1:] != codes[:-1]
    last = log.timestamps[rows[is_last]]
    recency = (cutoff - last) / US_PER_DAY
    frequency = frequency_all[present]
    # Round away summation-order noise (1e-9) so equal totals tie and share a score.
    monetary = np.round(monetary_all[present], 9)
    return RFMScores(
        customer_id=log.customers[present],
        recency_days=recency.astype(np.float64),
        frequency=frequency.astype(np.int64),
        monetary=monetary.astype(np.float64),
        r=rank_scores(last, bins),  # later last purchase = more recent = higher score
        f=rank_scores(frequency, bins),
        m=rank_scores(monetary, bins),
        n_bins=bins,
        as_of=cutoff,
    )
