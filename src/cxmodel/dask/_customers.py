"""Per-customer work on Dask: partition by customer, and two-phase RFM."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cxmodel._arguments import got, name_sequence
from cxmodel._optional import import_optional
from cxmodel._time import TimeLike, as_of_us
from cxmodel.dask._bad_rows import first_bad_row
from cxmodel.dask._common import (
    Piece,
    check_frame,
    dask_modules,
    numbered_partitions,
    partition_log,
)
from cxmodel.dask._ids import Digest, id_digest, merged_with_unique_ids
from cxmodel.dask._partitions import CustomerPartitions, customer_logs
from cxmodel.dask._types import TypesSeen, customer_column, id_types
from cxmodel.dask._warnings import raise_caught, recorded
from cxmodel.errors import ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.log._observed import check_as_of
from cxmodel.segment import RFMScores
from cxmodel.segment._rfm import RFMTotals, check_n_bins

__all__ = ["map_customers", "rfm_scores"]


def _rfm_partial(
    piece: Piece,
    cutoff: int,
    kinds: tuple[str, ...],
    mapping: Mapping[str, str] | None,
    timezone: str | None,
) -> tuple[RFMTotals, Digest, TypesSeen]:
    """One partition's RFM totals (the identity for an empty partition), the digest of its
    ids and the types of its customer ids."""
    number, frame = piece
    ids = id_types(frame, customer_column(mapping), number)
    log = partition_log(frame, mapping, timezone, number)
    if log is None:
        return RFMTotals.empty(cutoff, kinds), id_digest(None), ids
    return RFMTotals.partial(log, as_of=cutoff, kinds=kinds), id_digest(log), ids


def rfm_scores(
    ddf: Any,
    *,
    as_of: TimeLike,
    n_bins: int = 5,
    kind: str | Sequence[str] = "purchase",
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = 8,
) -> RFMScores:
    """:func:`cxmodel.segment.rfm_scores` over a Dask DataFrame, in two phases; the same result.

    Phase one is the keyed monoid of :func:`cxmodel.segment.rfm_scores` per partition (per
    customer: latest purchase time, count and value sum), merged in a tree of ``fan_in``;
    phase two ranks the small customer table exactly on the client, as the one-process
    function does (equal quantities share a score). A customer's rows may be spread over any
    partitions. An ``as_of`` before the data's first interaction raises
    :class:`~cxmodel.errors.DataError`, as in one process. ``kind`` is checked against the
    kinds of all partitions together, as :meth:`InteractionLog.kind_mask` checks it: a kind
    that is neither in the data nor a standard kind raises :class:`~cxmodel.errors.SchemaError` with a did-you-mean.
    Each row counts as a purchase, as in one process, whose warning about further lines of an
    order (:meth:`InteractionLog.orders`) is raised with the counts of all the partitions; the
    lines of one order that sit in different partitions are not seen as lines of one order
    there, so the count is at most the one-process count. Merge the lines before (one row per
    order) when the data are a line-item export.

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
    timezone : str, optional
        Zone of naive timestamps, as in :meth:`InteractionLog.from_pandas` (naive timestamps
        are refused without it).
    fan_in : int, default 8
        Partial states merged per task of the merge tree.
    """
    feature = "cxmodel.dask.rfm_scores()"
    dask, _ = dask_modules(feature)
    check_frame(ddf, feature, mapping)
    bins = check_n_bins(n_bins)
    cutoff = as_of_us(as_of)
    kinds = name_sequence(kind, feature, "kind")
    parts, caught = recorded(
        dask, _rfm_partial, numbered_partitions(ddf), cutoff, kinds, mapping, timezone
    )
    first = first_bad_row(
        ddf, mapping, timezone, None, _rfm_partial, cutoff, kinds, mapping, timezone
    )
    state, warned = merged_with_unique_ids(
        dask,
        RFMTotals.merge,
        parts,
        caught,
        ddf,
        mapping,
        fan_in=fan_in,
        first_bad_row=first,
        feature=feature,
    )
    raise_caught(warned)
    totals: RFMTotals = state
    check_as_of(totals.first, cutoff, caller="cxmodel.dask.rfm_scores()")
    return totals.scores(bins, argument="cxmodel.dask.rfm_scores() kind")


def _apply(log: InteractionLog | None, fn: Callable[[InteractionLog], Any]) -> Any:
    """``fn(log)`` as a pandas DataFrame (None for an empty partition); refused when it is
    neither a DataFrame nor has ``to_pandas()``."""
    if log is None:
        return None
    out = fn(log)
    frame = out.to_pandas() if hasattr(out, "to_pandas") else out
    pd = import_optional("pandas", "cxmodel.dask.map_customers()")
    if not isinstance(frame, pd.DataFrame):
        raise ValueTypeError(
            "cxmodel.dask.map_customers(): fn must return a pandas DataFrame or an object "
            f"with to_pandas(); got {got(out)}"
        )
    return frame


def map_customers(
    data: Any,
    fn: Callable[[InteractionLog], Any],
    *,
    sort_by: str | Sequence[str] | None = "customer_id",
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> Any:
    """Run ``fn`` on the whole history of every customer, partitioned by customer.

    A Dask DataFrame is shuffled by customer first, as :func:`from_dask` shuffles it
    (``mapping`` and ``timezone`` as there, rows at the same instant in input order), so that
    each customer's rows sit in exactly one partition; each partition is an
    :class:`~cxmodel.log.InteractionLog` and ``fn`` runs on it locally (journeys, triggers, any
    per-customer function). ``fn`` returns a pandas DataFrame or an object with
    ``to_pandas()``; the results are concatenated (an empty DataFrame when no partition has
    rows) and, when the ``sort_by`` column(s) are present, stably sorted by them (index reset).
    The result is the same as ``fn`` on the whole log whenever ``fn``'s rows depend only on
    each customer's rows. Warnings ``fn`` raises are raised here, once per message (counts
    of :func:`~cxmodel.errors.counted_warning` added up); cxmodel's own warnings inside ``fn``
    are kept for this whatever filters ``fn`` sets (filter them around this call).

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, in any partitioning, or partitions already shuffled by
        :func:`from_dask` (then ``mapping`` and ``timezone`` are not used).
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

    Raises
    ------
    ValueTypeError
        ``fn`` is not callable, or returns something other than a DataFrame or an object with
        ``to_pandas()``; ``sort_by`` is not a name or a sequence of names; ``mapping`` is not
        a mapping.
    """
    feature = "cxmodel.dask.map_customers()"
    dask, _ = dask_modules(feature)
    pd = import_optional("pandas", feature)
    if not callable(fn):
        raise ValueTypeError(f"{feature}: fn must be a function of a log; got {got(fn)}")
    keys = () if sort_by is None else name_sequence(sort_by, feature, "sort_by")
    if not isinstance(data, CustomerPartitions):
        check_frame(data, feature, mapping)
    parts = customer_logs(data, mapping, timezone)
    tasks, caught = recorded(dask, _apply, parts.logs, fn)
    *computed, warned = dask.compute(*tasks, caught)
    raise_caught(warned or {})
    results = [r for r in computed if r is not None]
    if not results:
        return pd.DataFrame()
    frame = pd.concat(results, ignore_index=True)
    if keys and all(k in frame.columns for k in keys):
        frame = frame.sort_values(list(keys), kind="stable").reset_index(drop=True)
    return frame
