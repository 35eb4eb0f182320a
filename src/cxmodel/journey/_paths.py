"""Path variants: distinct event sequences with counts, coverage and conversion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag, interaction_log, positive_integer
from cxmodel._result import Result
from cxmodel.errors import DataError
from cxmodel.journey._common import level_codes, row_mask, session_codes
from cxmodel.journey._funnel import Step, check_steps, step_mask
from cxmodel.journey._groups import By, Grouped, by_codes, unit_groups

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = [
    "Paths",
    "Variants",
    "check_options",
    "group_sequences",
    "paths",
    "paths_result",
    "sequence_hash",
    "top_variants",
    "variants",
]

IntArray = npt.NDArray[np.int64]

_B1 = np.uint64(0x9E3779B97F4A7C15)
_B2 = np.uint64(0xC2B2AE3D27D4EB4F)


@attrs.frozen(eq=False, repr=False)
class Paths(Grouped["Paths"], Result):
    """Result of :func:`paths`.

    Attributes
    ----------
    paths : tuple of tuple of str
        The ``top`` most frequent variants, most frequent first (ties: the variant whose
        first unit comes first in log order, i.e. customer-id order for customers).
    counts : ndarray of int64
        Units (customers, or sessions with ``by_session=True``) following each variant.
    shares : ndarray of float64
        ``counts / n_units``.
    coverage : ndarray of float64
        Cumulative share covered by the first ``i + 1`` variants.
    conversion_rate : ndarray of float64 or None
        Share of the variant's units with a conversion event anywhere in the unit.
    n_units : int
        Units (customers or sessions) with at least one event.
    n_variants : int
        Distinct variants overall.
    by_labels : ndarray or None
        Group labels with ``by=``.
    groups : tuple of Paths or None
        One result per group, with ``by=``.
    """

    paths: tuple[tuple[str, ...], ...]
    counts: npt.NDArray[np.int64]
    shares: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]
    conversion_rate: npt.NDArray[np.float64] | None
    n_units: int
    n_variants: int

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per variant."""
        out: dict[str, Any] = {
            "path": [" > ".join(p) for p in self.paths],
            "count": self.counts.tolist(),
            "share": self.shares.tolist(),
            "coverage": self.coverage.tolist(),
        }
        if self.conversion_rate is not None:
            out["conversion_rate"] = self.conversion_rate.tolist()
        return out

    def _details(self) -> dict[str, Any]:
        return {"n_units": self.n_units, "n_variants": self.n_variants}

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the top paths as horizontal bars (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_paths`.
        """
        from cxmodel.plot import plot_paths

        return plot_paths(self, ax, **kwargs)


def _powers(base: np.uint64, n: int) -> npt.NDArray[np.uint64]:
    """``base ** i`` modulo 2**64 for ``i < n``."""
    out = np.full(max(n, 1), base, dtype=np.uint64)
    out[0] = 1
    result: npt.NDArray[np.uint64] = np.cumprod(out, dtype=np.uint64)
    return result


def sequence_hash(
    values: npt.NDArray[np.uint64],
    starts: IntArray,
    lengths: IntArray,
    pos: IntArray | None = None,
    *,
    base: np.uint64 = _B1,
) -> npt.NDArray[np.uint64]:
    """A 64-bit polynomial hash of each sequence ``values[starts[i] : starts[i] + lengths[i]]``
    (sequences back to back, none empty; ``pos``: each value's position in its sequence)."""
    if pos is None:
        pos = np.arange(len(values), dtype=np.int64) - np.repeat(starts, lengths)
    with np.errstate(over="ignore"):
        out: npt.NDArray[np.uint64] = np.add.reduceat(
            values * _powers(base, int(lengths.max()))[pos], starts
        )
    return out


def group_sequences(
    values: IntArray, starts: IntArray, lengths: IntArray
) -> tuple[IntArray, IntArray]:
    """Identical sequences grouped exactly: each sequence's group, and each group's first sequence.

    Sequence ``i`` is ``values[starts[i] : starts[i] + lengths[i]]`` (non-negative codes); the
    sequences follow one another without gaps and none is empty. They are grouped by a 128-bit
    hash and then checked element by element, so grouping is exact. Groups are numbered in a
    deterministic order; a group's first sequence is its lowest-numbered one.

    Examples
    --------
    >>> group, first = group_sequences(np.array([1, 2, 3, 1, 2]), np.array([0, 2, 3]),
    ...                                np.array([2, 1, 2]))
    >>> bool(group[0] == group[2]), bool(group[0] == group[1]), first[group].tolist()
    (True, False, [0, 1, 0])
    """
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pos = np.arange(len(values), dtype=np.int64) - np.repeat(starts, lengths)
    vals = (values + 1).astype(np.uint64)
    k1 = sequence_hash(vals, starts, lengths, pos)
    k2 = sequence_hash(vals, starts, lengths, pos, base=_B2)
    # group equal (length, h1, h2); stable, so a group's first member has the lowest number.
    # One sort on h1 suffices unless two different sequences share h1 (then sort on all three)
    by_key = np.argsort(k1, kind="stable")
    s1 = k1[by_key]
    same_h1 = s1[1:] == s1[:-1]
    if same_h1.any() and (
        (lengths[by_key][1:][same_h1] != lengths[by_key][:-1][same_h1]).any()
        or (k2[by_key][1:][same_h1] != k2[by_key][:-1][same_h1]).any()
    ):
        by_key = np.lexsort((k2, k1, lengths))
    new_group = np.ones(len(by_key), dtype=bool)
    new_group[1:] = (
        (np.diff(lengths[by_key]) != 0) | (np.diff(k1[by_key]) != 0) | (np.diff(k2[by_key]) != 0)
    )
    group = np.empty(len(by_key), dtype=np.int64)
    group[by_key] = np.cumsum(new_group) - 1
    first = by_key[new_group].astype(np.int64)
    same = np.repeat(starts[first[group]], lengths) + pos
    if not np.array_equal(values, values[same]):
        raise DataError("path hash collision; please report this with the data")  # pragma: no cover
    return group, first


def top_variants(counts: IntArray, first: IntArray, top: int) -> IntArray:
    """The ``top`` most frequent variants, most frequent first; ties go to the variant with the
    lowest ``first`` (its first unit in log order)."""
    if top < len(counts):  # only variants as frequent as the top-th can be chosen
        kth = np.partition(counts, len(counts) - top)[len(counts) - top]
        above = np.flatnonzero(counts > kth)
        tied = np.flatnonzero(counts == kth)
        need = top - len(above)
        if need < len(tied):  # the tied variants with the lowest first units
            tied = tied[np.argpartition(first[tied], need - 1)[:need]]
        cand = np.concatenate([above, tied])
        chosen: IntArray = cand[np.lexsort((first[cand], -counts[cand]))][:top]
    else:
        chosen = np.lexsort((first, -counts))[:top].astype(np.int64)
    return chosen


def paths_result(
    variants: tuple[tuple[str, ...], ...],
    counts: IntArray,
    converted: npt.NDArray[np.float64] | None,
    n_units: int,
    n_variants: int,
) -> Paths:
    """The :class:`Paths` of the chosen variants: ``counts`` units each, ``converted`` of which
    converted (``None`` without a conversion step)."""
    counts = counts.astype(np.int64)
    shares = counts / n_units if n_units else np.zeros(0)
    return Paths(
        paths=variants,
        counts=counts,
        shares=shares,
        coverage=np.cumsum(shares),
        conversion_rate=None if converted is None else converted / counts,
        n_units=n_units,
        n_variants=n_variants,
    )


def check_options(top: int, max_length: int | None, where: str) -> tuple[int, int | None]:
    """``top`` and ``max_length`` as ints (numpy integers taken); SchemaError for a bad one."""
    return (
        positive_integer(top, where, "top"),
        None if max_length is None else positive_integer(max_length, where, "max_length"),
    )


def paths(
    log: InteractionLog,
    *,
    top: int = 20,
    max_length: int | None = None,
    collapse_repeats: bool = False,
    conversion: Step | None = None,
    level: str = "kind",
    by_session: bool = False,
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
) -> Paths:
    """Most frequent journey variants.

    A customer's path is the sequence of ``level`` values of their events in log order
    (with ``by_session=True`` each session's, read from the ``session_id`` column: the
    export's own ids of any type, or those of :func:`sessions`);
    with ``collapse_repeats`` runs of one value become one; with ``max_length`` only the
    first ``max_length`` values (after collapsing) are kept. Identical sequences are
    grouped by a 128-bit hash and then checked element by element, so grouping is exact.

    With ``by`` (a column name, one value per row in log order, or one per customer) each
    customer (or session) belongs to the group of its first event; ``groups`` holds the
    variants of each group's units (top ``top`` per group).

    A ``conversion`` kind that is neither in the log nor a standard kind raises
    :class:`~cxmodel.errors.SchemaError` with a did-you-mean; one that never occurs in the
    log warns (:class:`~cxmodel.errors.DataWarning`), as every conversion rate is then 0.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    top : int, default 20
        Variants kept, most frequent first.
    max_length : int, optional
        Keep only the first ``max_length`` values of each path (after collapsing).
    collapse_repeats : bool, default False
        Runs of one value count once.
    conversion : str or (column, value), optional
        An event whose presence anywhere in a unit counts as a conversion (``conversion_rate``).
    level : str, default "kind"
        The string column whose values make the path.
    by_session : bool, default False
        Units are sessions (the ``session_id`` column) instead of customers.
    by : str or array, optional
        Breakdown: a column name, one value per row (log order) or per customer; results in
        ``groups``.
    segment : bool array, optional
        Keep only these rows before building the paths.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b", "b", "c"],
    ...     timestamp=[0, 1, 0, 1, 0], kind=["view", "purchase", "view", "purchase", "view"])
    >>> p = paths(log, conversion="purchase")
    >>> p.paths, p.counts.tolist(), p.conversion_rate.tolist()
    ((('view', 'purchase'), ('view',)), [2, 1], [1.0, 0.0])
    >>> paths(log, by=["x", "x", "y"]).group("x").counts.tolist()
    [2]

    Per session, with an export's string session ids:

    >>> s = log.with_column("session_id", ["s1", "s2", "s3", "s3", "s4"])
    >>> paths(s, by_session=True).paths
    (('view',), ('purchase',), ('view', 'purchase'))
    """
    log = interaction_log(log, "paths()")
    top, max_length = check_options(top, max_length, "paths()")
    collapse_repeats = flag(collapse_repeats, "paths()", "collapse_repeats")
    by_session = flag(by_session, "paths()", "by_session")
    if conversion is not None:
        check_steps(
            log, [conversion], argument="paths() conversion", meaning="every conversion rate is 0"
        )
    mask = row_mask(log, segment)
    row_groups = by_codes(log, by) if by is not None else None
    if mask is not None:
        log = log.filter(mask)
    options = (top, max_length, collapse_repeats, conversion, level, by_session)
    result = _paths(log, *options)
    if row_groups is None:
        return result
    present, masks = unit_groups(log, row_groups, mask, by_session)
    groups = tuple(_paths(log.filter(m), *options) for m in masks)
    return attrs.evolve(result, by_labels=present, groups=groups)


@attrs.frozen(eq=False)
class Variants:
    """The distinct variants of one log's units, before the top ones are chosen.

    Units (customers, or sessions) with events are numbered ``0..U-1`` in log order; unit
    ``u`` follows ``values[starts[u] : starts[u] + lengths[u]]`` (codes into ``labels``), is a
    unit of customer code ``owner[u]`` and follows variant ``variant[u]``. ``first[v]`` is the
    first unit of variant ``v``; ``converted[u]`` whether the unit converted.
    """

    labels: npt.NDArray[np.object_]
    values: IntArray
    starts: IntArray
    lengths: IntArray
    owner: IntArray
    variant: IntArray
    first: IntArray
    converted: npt.NDArray[np.bool_] | None

    @property
    def counts(self) -> IntArray:
        """Units following each variant."""
        counts: IntArray = np.bincount(self.variant, minlength=len(self.first)).astype(np.int64)
        return counts

    def sequence(self, unit: int) -> tuple[str, ...]:
        """The labels a unit follows."""
        lo = int(self.starts[unit])
        return tuple(str(x) for x in self.labels[self.values[lo : lo + int(self.lengths[unit])]])


def variants(
    log: InteractionLog,
    max_length: int | None,
    collapse_repeats: bool,
    conversion: Step | None,
    level: str,
    by_session: bool,
) -> Variants:
    """Every variant of one log's units (no segment, no breakdown), grouped exactly."""
    codes, cats = level_codes(log, level)
    if by_session:  # "cust" is the unit from here on: sessions are contiguous, numbered 0..S-1
        cust = session_codes(log)
        n_cust = int(cust.max()) + 1 if len(cust) else 0
    else:
        cust = log.customer_codes.astype(np.int64)
        n_cust = log.n_customers
    converted = None
    if conversion is not None:  # the caller has checked the step
        converted = np.zeros(n_cust, dtype=bool)
        converted[cust[step_mask(log, conversion, check=False)]] = True
    keep = np.ones(len(codes), dtype=bool)
    if collapse_repeats and len(codes) > 1:
        keep[1:] = (codes[1:] != codes[:-1]) | (cust[1:] != cust[:-1])
    if keep.all():  # every row: positions come from the unit offsets
        rows = np.arange(len(codes), dtype=np.int64)
        c = cust
        if by_session:
            starts = np.searchsorted(c, np.arange(n_cust), side="left").astype(np.int64)
        else:
            starts = np.asarray(log.offsets[:-1], dtype=np.int64)
    else:
        rows = np.flatnonzero(keep)
        c = cust[rows]
        starts = np.searchsorted(c, np.arange(n_cust), side="left")
    if max_length is not None:
        pos = np.arange(len(rows)) - starts[c]
        sel = pos < max_length
        rows, c = rows[sel], c[sel]
        starts = np.searchsorted(c, np.arange(n_cust), side="left")
    lengths = np.bincount(c, minlength=n_cust)
    ids = np.flatnonzero(lengths > 0)
    values = codes[rows]
    unit_starts = starts[ids].astype(np.int64)
    unit_lengths = lengths[ids].astype(np.int64)
    variant, first = group_sequences(values, unit_starts, unit_lengths)
    if by_session:
        owner = log.customer_codes[rows[unit_starts]].astype(np.int64)
    else:
        owner = ids.astype(np.int64)
    return Variants(
        labels=cats,
        values=values,
        starts=unit_starts,
        lengths=unit_lengths,
        owner=owner,
        variant=variant,
        first=first,
        converted=None if converted is None else converted[ids],
    )


def _paths(
    log: InteractionLog,
    top: int,
    max_length: int | None,
    collapse_repeats: bool,
    conversion: Step | None,
    level: str,
    by_session: bool,
) -> Paths:
    """The top variants of one log (no segment, no breakdown); units are customers or sessions."""
    found = variants(log, max_length, collapse_repeats, conversion, level, by_session)
    counts = found.counts
    chosen = top_variants(counts, found.first, top)
    converted = None
    if found.converted is not None:
        per_variant = np.bincount(found.variant, weights=found.converted, minlength=len(counts))
        converted = per_variant[chosen].astype(np.float64)
    return paths_result(
        tuple(found.sequence(int(u)) for u in found.first[chosen]),
        counts[chosen],
        converted,
        len(found.variant),
        len(counts),
    )
