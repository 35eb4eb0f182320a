"""Path variants over customer partitions: variants hashed into buckets, each merged in a tree."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag
from cxmodel._progress import dask_compute
from cxmodel.dask._common import (
    FAN_IN,
    GroupKey,
    check_by,
    check_fan_in,
    dask_modules,
    group_logs,
    tree_merge,
)
from cxmodel.dask._partitions import customer_logs
from cxmodel.dask._steps import StepVocabulary
from cxmodel.dask._types import check_logs_by
from cxmodel.dask._warnings import raise_caught, recorded
from cxmodel.journey import Paths
from cxmodel.journey._common import MISSING_LABEL
from cxmodel.journey._funnel import Step, split_step
from cxmodel.journey._paths import (
    Variants,
    check_options,
    group_sequences,
    paths_result,
    sequence_hash,
    top_variants,
    variants,
)
from cxmodel.log import InteractionLog

__all__ = [
    "PathState",
    "PathsPartial",
    "combine_paths",
    "merge_paths",
    "path_candidates",
    "paths",
    "paths_of",
    "paths_partial",
]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
# A label key: (0, category) or (1, "(missing)"), so that a category spelt "(missing)" stays
# apart from missing values, as in one process.
Label = tuple[int, str]


@attrs.frozen(eq=False)
class PathState:
    """Mergeable state of :func:`paths`: every variant of some customers' units.

    Variant ``v`` is the label sequence ``values[offsets[v] : offsets[v + 1]]`` (codes into
    ``labels``), followed by ``counts[v]`` units of which ``converted[v]`` converted; its first
    unit in log order is unit number ``first_number[v]`` (0 for customers; the session's number
    among the customer's sessions) of customer ``first_customer[v]``. ``n_units`` counts the
    units and ``others`` the variants left out (:meth:`candidates`). ``merge`` is exact when the
    two states hold different customers.
    """

    labels: tuple[Label, ...]
    values: IntArray
    lengths: IntArray
    counts: IntArray
    converted: IntArray
    first_customer: ObjectArray
    first_number: IntArray
    n_units: int
    others: int = 0

    @classmethod
    def empty(cls) -> PathState:
        """The identity state."""
        none = np.zeros(0, dtype=np.int64)
        return cls((), none, none, none, none, np.empty(0, dtype=object), none, 0)

    @property
    def n_variants(self) -> int:
        """Distinct variants, those left out included."""
        return len(self.counts) + self.others

    def take(self, keep: IntArray, n_units: int, others: int) -> PathState:
        """The variants ``keep``, with ``n_units`` units and ``others`` variants left out."""
        offsets = np.cumsum(self.lengths) - self.lengths
        return PathState(
            labels=self.labels,
            values=self.values[_ranges(offsets[keep], self.lengths[keep])],
            lengths=self.lengths[keep],
            counts=self.counts[keep],
            converted=self.converted[keep],
            first_customer=self.first_customer[keep],
            first_number=self.first_number[keep],
            n_units=n_units,
            others=others,
        )

    def buckets(self, n: int) -> list[PathState]:
        """The variants split into ``n`` states by a hash of their labels, the same in every
        process, so that equal variants of different partitions fall in the same bucket."""
        if n == 1 or not len(self.counts):
            return [self, *(PathState.empty() for _ in range(n - 1))]
        ids = np.array([_label_id(key) for key in self.labels], dtype=np.uint64)
        starts = np.cumsum(self.lengths) - self.lengths
        bucket = sequence_hash(ids[self.values], starts, self.lengths) % np.uint64(n)
        out = []
        for b in range(n):
            keep = np.flatnonzero(bucket == b)
            out.append(self.take(keep, int(self.counts[keep].sum()), 0))
        return out

    def rank(self) -> IntArray:
        """Each variant's place in the order of first units (customer id, then session)."""
        order = np.lexsort((self.first_number, self.first_customer.astype(str)))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank

    def candidates(self, top: int) -> PathState:
        """The ``top`` variants only (as :func:`cxmodel.journey.paths` picks them): no other
        variant of these units can be among the top ones, wherever else they are counted."""
        keep = np.sort(top_variants(self.counts, self.rank(), top))
        return self.take(keep, self.n_units, self.others + len(self.counts) - len(keep))

    @classmethod
    def of(cls, found: Variants, customers: ObjectArray, n_categories: int) -> PathState:
        """The state of one log's variants (``customers``: the log's customer ids;
        ``n_categories``: how many of ``found.labels`` are categories, not ``"(missing)"``)."""
        labels = [(0, str(x)) for x in found.labels[:n_categories].tolist()]
        labels += [(1, MISSING_LABEL)] * (len(found.labels) - n_categories)
        first = found.first
        lengths = found.lengths[first]
        counts = found.counts
        converted = np.zeros(len(counts), dtype=np.int64)
        if found.converted is not None:
            converted = np.bincount(found.variant, found.converted, len(counts)).astype(np.int64)
        owner = found.owner[first]
        return cls(
            labels=tuple(labels),
            values=found.values[_ranges(found.starts[first], lengths)],
            lengths=lengths,
            counts=counts,
            converted=converted,
            first_customer=np.asarray(customers[owner], dtype=object),
            first_number=first - np.searchsorted(found.owner, owner, side="left"),
            n_units=len(found.variant),
        )

    def merge(self, other: PathState) -> PathState:
        """The variants of both states' units: equal sequences become one variant whose counts
        add and whose first unit is the earlier of the two."""
        return PathState.combine([self, other])

    @classmethod
    def combine(cls, states: Sequence[PathState]) -> PathState:
        """Any number of states merged at once (what folding :meth:`merge` gives, in one
        grouping of their variants)."""
        n_units = sum(s.n_units for s in states)
        others = sum(s.others for s in states)
        found = [s for s in states if len(s.counts)]
        if len(found) < 2:
            state = found[0] if found else cls.empty()
            return attrs.evolve(state, n_units=n_units, others=others)
        labels = tuple(sorted(set().union(*(s.labels for s in found))))
        index = {key: i for i, key in enumerate(labels)}
        values = np.concatenate(
            [np.array([index[k] for k in s.labels], dtype=np.int64)[s.values] for s in found]
        )
        lengths = np.concatenate([s.lengths for s in found])
        starts = np.cumsum(lengths) - lengths
        variant, first = group_sequences(values, starts, lengths)
        n = len(first)
        customers = np.concatenate([s.first_customer for s in found])
        numbers = np.concatenate([s.first_number for s in found])
        order = np.lexsort((numbers, customers.astype(str)))
        earliest = order[np.unique(variant[order], return_index=True)[1]]
        return cls(
            labels=labels,
            values=values[_ranges(starts[first], lengths[first])],
            lengths=lengths[first],
            counts=_sum(variant, np.concatenate([s.counts for s in found]), n),
            converted=_sum(variant, np.concatenate([s.converted for s in found]), n),
            first_customer=customers[earliest],
            first_number=numbers[earliest],
            n_units=n_units,
            others=others,
        )


def _label_id(key: Label) -> int:
    """A 64-bit id of a label, the same in every process (Python's ``hash`` is salted)."""
    digest = hashlib.blake2b(f"{key[0]}:{key[1]}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """The positions ``starts[i] .. starts[i] + lengths[i] - 1``, range after range."""
    ends = np.cumsum(lengths)
    out: IntArray = np.repeat(starts - (ends - lengths), lengths) + np.arange(
        int(ends[-1]) if len(ends) else 0
    )
    return out


def _sum(groups: IntArray, values: IntArray, n: int) -> IntArray:
    """Per group the sum of the values (counts: exact below 2**53)."""
    out: IntArray = np.bincount(groups, values, n).astype(np.int64)
    return out


def _top(state: PathState, top: int, conversion: bool) -> Paths:
    """The ``top`` variants of a merged state, ties to the variant whose first unit comes first
    in log order (customer id, then session)."""
    counts = state.counts
    chosen = top_variants(counts, state.rank(), top)
    offsets = np.concatenate([[0], np.cumsum(state.lengths)])
    text = [label for _, label in state.labels]
    sequences = tuple(
        tuple(text[c] for c in state.values[offsets[v] : offsets[v + 1]].tolist())
        for v in chosen.tolist()
    )
    converted = state.converted[chosen].astype(np.float64) if conversion else None
    return paths_result(sequences, counts[chosen], converted, state.n_units, state.n_variants)


_Options = tuple[int | None, bool, Step | None, str, bool]
# The partitions' variants, those of each by= group, what they know of the conversion step.
PathsPartial = tuple[PathState, dict[GroupKey, PathState], StepVocabulary]


def _state(log: InteractionLog, options: _Options) -> PathState:
    found = variants(log, *options)
    return PathState.of(found, log.customers, len(log.categorical(options[3])[1]))


def paths_partial(
    log: InteractionLog | None, options: _Options, by: str | None, n_buckets: int = 1
) -> tuple[PathsPartial, ...]:
    """One partition's variants, those of each ``by`` group's units (a unit belongs to the
    group of its first event, as in one process) and what it knows of the conversion step,
    split into ``n_buckets`` partials by variant (:meth:`PathState.buckets`)."""
    if log is None:
        return tuple((PathState.empty(), {}, StepVocabulary.empty()) for _ in range(n_buckets))
    conversion = options[2]
    vocabulary = StepVocabulary.of(log, [] if conversion is None else [conversion])
    whole = _state(log, options).buckets(n_buckets)
    groups: list[dict[GroupKey, PathState]] = [{} for _ in range(n_buckets)]
    if by is not None:
        for key, sub in group_logs(log, by, options[4]).items():
            for b, state in enumerate(_state(sub, options).buckets(n_buckets)):
                groups[b][key] = state
    return tuple((w, g, vocabulary) for w, g in zip(whole, groups, strict=True))


def merge_paths(a: PathsPartial, b: PathsPartial) -> PathsPartial:
    """Two partials as one."""
    return combine_paths([a, b])


def path_candidates(partial: PathsPartial, top: int) -> PathsPartial:
    """A merged bucket's top variants, overall and per group (what travels to the client)."""
    whole, groups, vocabulary = partial
    return (
        whole.candidates(top),
        {key: state.candidates(top) for key, state in groups.items()},
        vocabulary,
    )


def combine_paths(partials: Sequence[PathsPartial]) -> PathsPartial:
    """Any number of partials as one, each state merged once (:meth:`PathState.combine`)."""
    groups: dict[GroupKey, list[PathState]] = {}
    for _, mine, _ in partials:
        for key, state in mine.items():
            groups.setdefault(key, []).append(state)
    vocabulary = StepVocabulary.empty()
    for partial in partials:
        vocabulary = vocabulary.merge(partial[2])
    return (
        PathState.combine([p[0] for p in partials]),
        {key: PathState.combine(states) for key, states in groups.items()},
        vocabulary,
    )


def paths(
    data: Any,
    *,
    top: int = 20,
    max_length: int | None = None,
    collapse_repeats: bool = False,
    conversion: Step | None = None,
    level: str = "kind",
    by_session: bool = False,
    by: str | None = None,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
    progress: bool = False,
) -> Paths:
    """:func:`cxmodel.journey.paths` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition groups its units' paths into variants (a :class:`PathState`:
    every distinct variant with its units, converted units and first unit) and splits them into
    buckets by a hash of their labels, about one per ``fan_in`` partitions; each bucket's
    states are merged in a tree of ``fan_in`` (equal sequences are matched exactly, as in one
    process), so a variant's units all meet in one bucket and no task holds more than about a
    bucket's share of the variants. Only each bucket's ``top`` variants travel to the client,
    which picks the top ones among them. The result equals the one-process one: the same
    variants, counts, shares, coverage, number of variants and conversion rates, with ties
    going to the variant whose first unit comes first in log order (customer id, then
    session). The states hold every distinct variant, as many as the units when paths rarely
    repeat: ``max_length`` and ``collapse_repeats`` keep them small.

    ``conversion`` is checked against the kinds and values of all partitions together, with
    the one-process error and warning. ``by`` must be a column name (a unit belongs to the
    group of its first event) and ``segment`` is not taken: filter the frame first.
    ``progress=True`` shows Dask's progress bar while the partitions are computed.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, or the logs of :func:`from_dask`.
    top, max_length, collapse_repeats, conversion, level, by_session
        As in :func:`cxmodel.journey.paths`.
    by : str, optional
        Column whose value at each unit's first event breaks the variants down.
    mapping, timezone : optional
        As in :func:`from_dask`, when ``data`` is a frame.
    fan_in : int, default 8
        Inputs per merge task.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed (needs the ``progress``
        extra).

    Returns
    -------
    Paths

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "kind": ["view", "purchase", "view", "purchase", "view"],
    ...     "timestamp": pd.to_datetime([0, 1, 0, 1, 0], unit="s", utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     p = cxd.paths(dd.from_pandas(frame, npartitions=2), conversion="purchase")
    >>> p.paths, p.counts.tolist(), p.conversion_rate.tolist()
    ((('view', 'purchase'), ('view',)), [2, 1], [1.0, 0.0])
    """
    top, max_length = check_options(top, max_length, "cxmodel.dask.paths()")
    collapse_repeats = flag(collapse_repeats, "cxmodel.dask.paths()", "collapse_repeats")
    by_session = flag(by_session, "cxmodel.dask.paths()", "by_session")
    if conversion is not None:
        split_step(conversion)
    check_by(by, "cxmodel.dask.paths()")
    check_fan_in(fan_in, "cxmodel.dask.paths()")
    options: _Options = (max_length, collapse_repeats, conversion, level, by_session)
    dask, _ = dask_modules("cxmodel.dask.paths()")
    parts = customer_logs(data, mapping, timezone)
    check_logs_by(parts, by, "cxmodel.dask.paths()")
    n = max(1, -(-parts.npartitions // fan_in))  # buckets: each ends with about 1/n of them
    tasks, caught = recorded(dask, paths_partial, parts.logs, options, by, n)
    finals = [
        dask.delayed(path_candidates, pure=True)(
            tree_merge(merge_paths, [task[b] for task in tasks], fan_in, combine=combine_paths),
            top,
        )
        for b in range(n if tasks else 0)
    ]
    *candidates, warned = dask_compute(dask, *finals, caught, progress=progress)
    raise_caught(warned or {})
    partial = combine_paths(candidates) if candidates else paths_partial(None, options, by)[0]
    if conversion is not None:
        partial[2].check(
            [conversion], argument="paths() conversion", meaning="every conversion rate is 0"
        )
    return paths_of(partial, top, conversion is not None, by is not None)


def paths_of(partial: PathsPartial, top: int, conversion: bool, by: bool) -> Paths:
    """The :class:`~cxmodel.journey.Paths` of a merged partial (``conversion``, ``by``: whether
    they were asked): the top variants, and those of each group with ``by``."""
    whole, groups, _ = partial
    result = _top(whole, top, conversion)
    if not by:
        return result
    keys = sorted(groups)
    return attrs.evolve(
        result,
        by_labels=np.array([label for _, label in keys], dtype=object),
        groups=tuple(_top(groups[k], top, conversion) for k in keys),
    )
