"""Exact order statistics of integer samples spread over partitions, with bounded memory.

A sample (per key: an edge of a transition matrix, say) is never gathered. Each partition
sends a histogram of its values over logarithmic bins (exact below 64, then 32 bins per power
of two); the merged histograms locate the bin of every rank that is asked for. Later rounds
ask the partitions only for the values inside those bins: exactly, when few enough distinct
values can be there, else over 4096 finer bins of the bin, and so on until every rank is
resolved (at most six refinements for 63-bit values). Every message is a :data:`Sample`:
ascending distinct bin floors (or values) with their counts, merged by :func:`merge_samples`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "FETCH_BUDGET",
    "REFINE_BITS",
    "Query",
    "Sample",
    "bit_length",
    "log_floor",
    "log_width",
    "merge_samples",
    "order_statistics",
    "runs",
    "sample_in",
]

IntArray = npt.NDArray[np.int64]
Sample = tuple[IntArray, IntArray]  # ascending distinct floors (or values), their counts
# A request to the partitions: the key's values in [floor, floor + width), rounded down to
# multiples of 2**shift (shift 0: the values themselves).
Query = tuple[Hashable, int, int, int]

OCTAVE_BITS = 5  # log bins: 2**5 per power of two, values below 2**6 exact
REFINE_BITS = 12  # a refinement splits a bin into 2**12 bins
FETCH_BUDGET = 1 << 20  # distinct values fetched exactly per round, over all queries


def bit_length(values: IntArray) -> IntArray:
    """Bits of each non-negative value (0 for 0), as ``int.bit_length``.

    Examples
    --------
    >>> bit_length(np.array([0, 1, 2, 255, 256, 2**62], dtype=np.int64)).tolist()
    [0, 1, 2, 8, 9, 63]
    """
    out = np.zeros(len(values), dtype=np.int64)
    x = values.astype(np.int64, copy=True)
    for step in (32, 16, 8, 4, 2, 1):
        big = x >= (1 << step)
        out += big * step
        x = np.where(big, x >> step, x)
    return out + (x > 0)


def log_floor(values: IntArray) -> IntArray:
    """Each non-negative value rounded down to the floor of its logarithmic bin: values below
    ``2**6`` stay, larger ones keep their 6 leading bits (32 bins per power of two).

    Examples
    --------
    >>> log_floor(np.array([5, 63, 64, 65, 66, 1000], dtype=np.int64)).tolist()
    [5, 63, 64, 64, 66, 992]
    """
    shift = np.maximum(bit_length(values) - (OCTAVE_BITS + 1), 0)
    out: IntArray = (values >> shift) << shift
    return out


def log_width(floor: int) -> int:
    """Width of the logarithmic bin whose floor is ``floor``.

    Examples
    --------
    >>> log_width(5), log_width(64), log_width(992)
    (1, 2, 16)
    """
    return 1 << max(floor.bit_length() - (OCTAVE_BITS + 1), 0)


def runs(ordered: IntArray) -> Sample:
    """The distinct values of an ascending array and how often each occurs.

    Examples
    --------
    >>> [a.tolist() for a in runs(np.array([1, 1, 4, 9, 9, 9], dtype=np.int64))]
    [[1, 4, 9], [2, 1, 3]]
    """
    if not len(ordered):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    firsts = np.flatnonzero(new)
    counts = np.diff(np.append(firsts, len(ordered))).astype(np.int64)
    return ordered[firsts].astype(np.int64), counts


def merge_samples(a: Sample, b: Sample) -> Sample:
    """Two samples (distinct values with counts) as one.

    Examples
    --------
    >>> one = (np.array([1, 4]), np.array([2, 1]))
    >>> two = (np.array([4, 7]), np.array([5, 1]))
    >>> [x.tolist() for x in merge_samples(one, two)]
    [[1, 4, 7], [2, 6, 1]]
    """
    values, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.bincount(inverse.reshape(-1), np.concatenate([a[1], b[1]]), minlength=len(values))
    return values.astype(np.int64), counts.astype(np.int64)


def sample_in(ordered: IntArray, floor: int, width: int, shift: int) -> Sample:
    """The values of an ascending array in ``[floor, floor + width)``, rounded down to
    multiples of ``2**shift``, as a sample.

    Examples
    --------
    >>> [a.tolist() for a in sample_in(np.array([3, 8, 9, 12, 20]), 8, 8, 2)]
    [[8, 12], [2, 1]]
    """
    lo, hi = np.searchsorted(ordered, [floor, floor + width])
    part = ordered[lo:hi].astype(np.int64)
    return runs((part >> shift) << shift)


def _locate(sample: Sample, rank: int) -> tuple[int, int, int]:
    """The bin floor holding the ``rank``-th smallest value, the rank within that bin, and
    the number of values in the bin."""
    floors, counts = sample
    ends = np.cumsum(counts)
    j = int(np.searchsorted(ends, rank, side="right"))
    return int(floors[j]), rank - int(ends[j] - counts[j]), int(counts[j])


Fetch = Callable[[Sequence[Query]], Sequence[Sample]]


def order_statistics(
    histograms: Mapping[Hashable, Sample],
    ranks: Mapping[Hashable, IntArray],
    fetch: Fetch,
    *,
    budget: int = FETCH_BUDGET,
    refine_bits: int = REFINE_BITS,
) -> dict[Hashable, IntArray]:
    """The exact ``ranks``-th smallest values (0-based) of each key's sample.

    ``histograms`` holds each key's whole sample over the bins of :func:`log_floor`;
    ``fetch(queries)`` returns, for each query ``(key, floor, width, shift)``, the key's values
    in ``[floor, floor + width)`` rounded down to multiples of ``2**shift``, merged over all
    partitions. A round fetches values exactly while the distinct values it can receive stay
    within ``budget`` (the smallest bins first); larger bins are split into
    ``2**refine_bits`` bins instead. Bins of width 1 are resolved without a round.

    Examples
    --------
    >>> values = np.array([3, 70, 71, 900, 901, 901], dtype=np.int64)
    >>> hist = {"e": runs(np.sort(log_floor(values)))}
    >>> def fetch(queries):
    ...     return [sample_in(values, f, w, s) for _, f, w, s in queries]
    >>> order_statistics(hist, {"e": np.array([0, 2, 5])}, fetch)["e"].tolist()
    [3, 71, 901]
    """
    out = {key: np.zeros(len(r), dtype=np.int64) for key, r in ranks.items()}
    # each pending target: (key, position in ranks[key], rank in its bin, floor, width)
    pending: list[tuple[Hashable, int, int, int, int]] = []
    sizes: dict[tuple[Hashable, int, int], int] = {}
    for key, wanted in ranks.items():
        for i, rank in enumerate(wanted.tolist()):
            floor, within, count = _locate(histograms[key], rank)
            pending.append((key, i, within, floor, log_width(floor)))
            sizes[(key, floor, log_width(floor))] = count
    while True:
        unresolved = []
        for key, i, within, floor, width in pending:
            if width == 1:
                out[key][i] = floor
            else:
                unresolved.append((key, i, within, floor, width))
        if not unresolved:
            return out
        bins = list(dict.fromkeys((key, floor, width) for key, _, _, floor, width in unresolved))
        shifts, spent = {}, 0
        for b in sorted(bins, key=lambda b: min(sizes[b], b[2])):
            distinct = min(sizes[b], b[2])
            exact = spent + distinct <= budget
            spent += distinct if exact else 0
            shifts[b] = 0 if exact else max(b[2].bit_length() - 1 - refine_bits, 0)
        queries = [(key, floor, width, shifts[(key, floor, width)]) for key, floor, width in bins]
        samples = dict(zip(bins, fetch(queries), strict=True))
        pending = []
        for key, i, within, floor, width in unresolved:
            shift = shifts[(key, floor, width)]
            new_floor, new_within, count = _locate(samples[(key, floor, width)], within)
            pending.append((key, i, new_within, new_floor, 1 << shift))
            sizes[(key, new_floor, 1 << shift)] = count
