"""Mergeable score accumulators: per-group histograms of integer scores.

Every survey metric is a function of how many answers each group gave at each point of the
scale, so the state is a small integer matrix ``counts[group, score - low]``. ``merge`` adds the
matrices (after aligning group keys), which makes merging exact, associative, commutative and
independent of row order; ``empty()`` is the identity. :meth:`ScoreAccumulator.partial` builds
the state of a chunk of data (a log or an array of scores) with keys that mean the same in
every chunk, so the states of a log's pieces, merged in any grouping, equal the state of the
whole log: the one-process metrics and their Dask versions are the same computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.errors import RowSchemaError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics._answers import INT64_MAX, compact_range, factorize, survey_chunk

__all__ = ["MAX_GRID", "ScoreAccumulator", "ScoreCounts", "group_rows", "ordered_scale"]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

MAX_GRID = 1_000_000  # rows of a breakdown filled with its quiet periods, at most


@attrs.frozen(eq=False)
class ScoreCounts:
    """State of a :class:`ScoreAccumulator`: group keys and a score histogram per group.

    ``keys`` has shape ``(groups, len(key_names))`` (object), ``counts`` has shape
    ``(groups, high - low + 1)`` (int64), groups sorted by key.

    A state built by :meth:`ScoreAccumulator.partial` also knows what its keys mean:
    ``labels`` is the sorted vocabulary of the first key (a ``by`` label; its keys are codes
    into it, ``len(labels)`` for a missing value of a string column), and ``period`` the unit
    of the key ``"period"`` (calendar-period indexes). :meth:`ScoreAccumulator.merge` aligns
    the codes of two such states.
    """

    key_names: tuple[str, ...]
    keys: ObjectArray
    counts: IntArray
    labels: npt.NDArray[Any] | None = None
    period: str | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups seen so far."""
        return int(self.counts.shape[0])


def group_rows(columns: Sequence[npt.NDArray[Any]], n: int) -> tuple[ObjectArray, IntArray]:
    """Unique rows of the key ``columns`` (sorted) and each row's group index."""
    if not columns:
        keys = np.empty((1 if n else 0, 0), dtype=object)
        return keys, np.zeros(n, dtype=np.int64)
    uniques = []
    codes = []
    for col in columns:
        arr = np.asarray(col)
        if arr.dtype.kind == "O" and arr.size and isinstance(arr[0], int | np.integer):
            arr = arr.astype(np.int64)
        bounds = compact_range(arr)
        if bounds is not None:  # offsets are codes
            lo, hi = bounds
            uniques.append(np.arange(lo, hi + 1))
            codes.append((arr - lo).astype(np.int64))
            continue
        u, inv = factorize(arr)
        uniques.append(u)
        codes.append(inv)
    dims = tuple(max(len(u), 1) for u in uniques)
    flat = np.ravel_multi_index(tuple(codes), dims) if n else np.zeros(0, dtype=np.int64)
    used, inverse = factorize(flat.astype(np.int64))
    parts = np.unravel_index(used, dims)
    keys = np.empty((len(used), len(columns)), dtype=object)
    for j, (u, part) in enumerate(zip(uniques, parts, strict=True)):
        keys[:, j] = u[part]
    return keys, inverse


def ordered_scale(instance: ScoreAccumulator, attribute: attrs.Attribute[int], high: int) -> None:
    """attrs validator of an accumulator's ``high``: the scale is ``low < high`` (a reversed
    scale would otherwise fail deep in numpy) of at most :data:`MAX_SCALE_POINTS` points (the
    answers are counted in one column per point)."""
    if not instance.low < high:
        raise SchemaError(
            f"{instance.metric}(): scale ({instance.low}, {high}) must be a (lowest, highest) "
            f"pair with lowest < highest"
        )
    if high - instance.low + 1 > MAX_SCALE_POINTS:
        raise SchemaError(
            f"{instance.metric}(): scale ({instance.low}, {high}) has {high - instance.low + 1:,} "
            f"points; a rating scale has at most {MAX_SCALE_POINTS:,} (e.g. 0..1000)"
        )


#: The most points a survey metric's scale may have.
MAX_SCALE_POINTS = 1_001


def _signed(scores: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Unsigned integer scores as int64 (numpy's mixed unsigned and signed arithmetic goes
    through float64), or as float64 when some is past int64 (off every scale anyway)."""
    if scores.dtype.kind != "u":
        return scores
    if scores.size and int(scores.max()) > np.iinfo(np.int64).max:
        return scores.astype(np.float64)
    return scores.astype(np.int64)


@attrs.frozen
class ScoreAccumulator:
    """Histogram accumulator for integer scores on the scale ``low..high``.

    Attributes
    ----------
    metric : str
        Name used in error messages (``"nps"``, ``"csat"``, ``"ces"``).
    low : int
        Inclusive lower end of the answer scale.
    high : int
        Inclusive upper end of the answer scale.

    Examples
    --------
    >>> acc = ScoreAccumulator("nps", 0, 10)
    >>> a = acc.update(acc.empty(), [10, 9, 3])
    >>> b = acc.update(acc.empty(), [7])
    >>> acc.merge(a, b).counts.sum(axis=1).tolist()
    [4]
    """

    metric: str
    low: int
    high: int = attrs.field(validator=ordered_scale)

    @property
    def width(self) -> int:
        """Number of points on the scale."""
        return self.high - self.low + 1

    def _check_declared(self, log: InteractionLog) -> None:
        """Refuse a scale reaching beyond the one the log read this metric's answers on: no
        answer can be out there, so the top box would count none of them. A narrower scale
        (a 1-5 effort survey logged as ``ces``) is taken; answers off it are refused by row."""
        declared = log.questions.get(self.metric)
        scale = None if declared is None else declared.scale
        if scale is not None and not scale[0] <= self.low < self.high <= scale[1]:
            raise SchemaError(
                f"{self.metric}(): scale ({self.low}, {self.high}) reaches beyond the scale the "
                f"log read its {self.metric!r} answers on, {scale}, so no answer can be at its "
                f"ends; for a log, leave scale= out or give a scale within {scale}"
            )

    def empty(self, key_names: Sequence[str] = ()) -> ScoreCounts:
        """The identity state (no groups) for the given key columns."""
        names = tuple(key_names)
        return ScoreCounts(
            names,
            np.empty((0, len(names)), dtype=object),
            np.zeros((0, self.width), dtype=np.int64),
        )

    def check_scores(
        self, scores: npt.ArrayLike, rows: npt.NDArray[np.int64] | None = None
    ) -> IntArray:
        """Scores as int64 indexes into the scale; SchemaError naming the first bad row."""
        raw = _signed(np.asarray(scores).reshape(-1))
        # integer scores: two reductions validate the whole chunk, one pass shifts it
        if (
            raw.dtype.kind in "iu"
            and raw.size
            and int(raw.min()) >= self.low
            and int(raw.max()) <= self.high
        ):
            shifted: IntArray = np.subtract(raw, self.low, dtype=np.int64)
            return shifted
        values = np.asarray(raw, dtype=np.float64)
        bad = ~((values >= self.low) & (values <= self.high) & (values == np.round(values)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            row = i if rows is None else int(rows[i])
            if np.isnan(values[i]):
                reason = (
                    f"score is missing (None or NaN) among {self.metric!r} scores; expected "
                    f"whole numbers on the {self.metric.upper()} scale {self.low}..{self.high}: "
                    "drop the unanswered rows first"
                )
                raise RowSchemaError(f"row {row + 1}: {reason}", row, reason, 0)
            reason = (
                f"score {float(values[i])!r} is outside the {self.metric.upper()} scale "
                f"{self.low}..{self.high} (column 'score', metric {self.metric!r}); "
                "expected whole numbers on the scale"
            )
            raise RowSchemaError(f"row {row + 1}: {reason}", row, reason, 0)
        return (values - self.low).astype(np.int64)

    def update(
        self,
        state: ScoreCounts,
        scores: npt.ArrayLike,
        keys: Sequence[npt.ArrayLike] = (),
        rows: npt.NDArray[np.int64] | None = None,
    ) -> ScoreCounts:
        """Add a chunk of ``scores`` (with one key array per key column) to ``state``."""
        raw = _signed(np.asarray(scores).reshape(-1))
        on_scale = (
            raw.dtype.kind in "iu"
            and raw.size > 0
            and int(raw.min()) >= self.low
            and int(raw.max()) <= self.high
        )
        # integer scores already on the scale are used as they are (shifted inside the key)
        index = raw if on_scale else self.check_scores(raw, rows)
        shift = self.low if on_scale else 0
        columns = [np.asarray(k).reshape(-1) for k in keys]
        if len(columns) != len(state.key_names):
            raise SchemaError(
                f"update() got {len(columns)} key arrays for key columns {state.key_names!r}"
            )
        for name, col in zip(state.key_names, columns, strict=True):
            if len(col) != len(index):
                raise SchemaError(
                    f"key {name!r} has {len(col)} labels for {len(index)} scores; "
                    "expected one label per score"
                )
        chunk = self._dense_chunk(state.key_names, columns, index, shift)
        if chunk is None:
            if shift:
                index = np.subtract(index, shift, dtype=np.int64)
            group_keys, group = group_rows(columns, len(index))
            flat = np.bincount(group * self.width + index, minlength=len(group_keys) * self.width)
            counts = flat.reshape(len(group_keys), self.width).astype(np.int64)
            chunk = ScoreCounts(state.key_names, group_keys, counts)
        return self.merge(state, chunk)

    def _dense_chunk(
        self,
        names: tuple[str, ...],
        columns: list[npt.NDArray[Any]],
        index: npt.NDArray[Any],
        shift: int,
    ) -> ScoreCounts | None:
        """One bincount over a combined (key..., score) code when integer keys are compact.

        Same groups (sorted, only those seen) and counts as the general path, without
        factorising the per-row group code. None when a key is not integer or the key
        grid is too large to count densely.
        """
        n = len(index)
        if not columns or n == 0 or any(c.dtype.kind not in "iu" for c in columns):
            return None
        bounds = [(int(c.min()), int(c.max())) for c in columns]
        if any(hi > INT64_MAX for _, hi in bounds):  # unsigned ids past 2**63
            return None
        dims = [hi - lo + 1 for lo, hi in bounds]
        size = int(np.prod(dims, dtype=np.float64)) * self.width
        if size > max(4 * n, 1 << 20):
            return None
        # Horner over the key columns, then the score; all offsets folded into one constant
        flat = columns[0].astype(np.int64)
        offset = bounds[0][0]
        for col, (lo, _), dim in zip(columns[1:], bounds[1:], dims[1:], strict=True):
            flat *= dim
            np.add(flat, col, out=flat, casting="unsafe")
            offset = offset * dim + lo
        flat *= self.width
        np.add(flat, index, out=flat, casting="unsafe")
        flat -= offset * self.width + shift
        counts = np.bincount(flat, minlength=size).reshape(-1, self.width)
        used = np.flatnonzero(counts.any(axis=1))
        parts = np.unravel_index(used, tuple(dims))
        keys = np.empty((len(used), len(columns)), dtype=object)
        for j, (part, (lo, _)) in enumerate(zip(parts, bounds, strict=True)):
            keys[:, j] = part + lo
        return ScoreCounts(names, keys, counts[used].astype(np.int64))

    def partial(
        self,
        data: InteractionLog | npt.ArrayLike,
        *,
        by: str | npt.ArrayLike | None = None,
        period: str | None = None,
        timezone: str | None = None,
        timestamps: npt.ArrayLike | None = None,
        by_rated: bool = False,
    ) -> ScoreCounts:
        """The state of one chunk of data: its answers to this metric, by group.

        ``data`` and the grouping arguments are those of :func:`~cxmodel.metrics.nps`: a log
        (its ``survey`` rows whose ``metric`` is :attr:`metric`) or an array of scores. The
        keys do not depend on the chunk: a ``by`` label is a code into the state's
        ``labels`` (for a string column, every category of the column in the chunk), a period
        an index. So the partials of any split of a log, merged in any order, equal the
        partial of the whole log.

        Examples
        --------
        >>> acc = ScoreAccumulator("nps", 0, 10)
        >>> a = acc.partial([10, 9, 3], by=["x", "y", "y"])
        >>> b = acc.partial([0], by=["w"])
        >>> merged = acc.merge(a, b)
        >>> merged.labels.tolist(), merged.counts.sum(axis=1).tolist()
        (['w', 'x', 'y'], [1, 1, 2])
        """
        if isinstance(data, InteractionLog):
            self._check_declared(data)
        chunk = survey_chunk(
            data,
            self.metric,
            by=by,
            period=period,
            timezone=timezone,
            timestamps=timestamps,
            by_rated=by_rated,
        )
        state = self.update(self.empty(chunk.key_names), chunk.scores, chunk.keys, chunk.rows)
        labels = chunk.labels
        if chunk.labelled and not chunk.every_label:
            # the labels are those the answers carry: code the groups' keys into them
            seen = np.unique(state.keys[:, 0]) if state.n_groups else np.empty(0, object)
            keys = state.keys.copy()
            keys[:, 0] = np.searchsorted(seen, state.keys[:, 0])
            if labels is None:
                labels = seen.astype(object)
            else:  # the code of a missing label, len(labels), stays the one past the last
                labels = labels[seen[seen < len(labels)].astype(np.int64)]
            state = attrs.evolve(state, keys=keys)
        return attrs.evolve(state, labels=labels, period=chunk.period)

    def merge(self, a: ScoreCounts, b: ScoreCounts) -> ScoreCounts:
        """Combine two states (exact; order and grouping do not matter)."""
        if a.key_names != b.key_names:
            raise SchemaError(f"cannot merge states keyed by {a.key_names!r} and {b.key_names!r}")
        if a.period is not None and b.period is not None and a.period != b.period:
            raise SchemaError(f"cannot merge {a.period!r} periods with {b.period!r} periods")
        period = a.period if a.period is not None else b.period
        labels = _union(a, b)
        a_keys, b_keys = _recoded(a, labels), _recoded(b, labels)
        if b.n_groups == 0:
            return ScoreCounts(a.key_names, a_keys, a.counts, labels, period)
        if a.n_groups == 0:
            return ScoreCounts(a.key_names, b_keys, b.counts, labels, period)
        keys = np.concatenate([a_keys, b_keys])
        counts = np.concatenate([a.counts, b.counts])
        columns = [keys[:, j] for j in range(keys.shape[1])]
        group_keys, group = group_rows(columns, len(keys))
        out = np.zeros((len(group_keys), self.width), dtype=np.int64)
        np.add.at(out, group, counts)
        return ScoreCounts(a.key_names, group_keys, out, labels, period)

    def complete(self, state: ScoreCounts) -> ScoreCounts:
        """``state`` with a zero-count group for every label and period it does not hold.

        Only keys whose meaning the state knows are completed: every label of ``labels`` and
        every period from the first to the last seen, crossed with the other keys' values
        seen, when the grid has at most a million groups. So a category of the ``by`` column
        without answers, or a month without answers, is a row with ``n = 0``.
        """
        if state.n_groups == 0 or (state.labels is None and state.period is None):
            return state
        domains: list[npt.NDArray[Any]] = []
        for j, name in enumerate(state.key_names):
            seen: npt.NDArray[Any] = np.unique(state.keys[:, j])
            if name == "period" and state.period is not None:
                seen = np.arange(int(seen.min()), int(seen.max()) + 1)
            elif j == 0 and state.labels is not None:
                seen = np.union1d(seen.astype(np.int64), np.arange(len(state.labels)))
            domains.append(seen)
        size = int(np.prod([len(d) for d in domains]))
        if size > MAX_GRID or size == state.n_groups:
            return state
        grids = np.meshgrid(*domains, indexing="ij")
        keys = np.empty((size, len(domains)), dtype=object)
        for j, grid in enumerate(grids):
            keys[:, j] = grid.reshape(-1)
        zeros = attrs.evolve(state, keys=keys, counts=np.zeros((size, self.width), np.int64))
        return self.merge(state, zeros)


def _union(a: ScoreCounts, b: ScoreCounts) -> npt.NDArray[Any] | None:
    """The labels of both states (None when neither has labels)."""
    if a.labels is None:
        return b.labels
    if b.labels is None or np.array_equal(a.labels, b.labels):
        return a.labels
    merged: npt.NDArray[Any] = np.union1d(a.labels, b.labels).astype(object)
    return merged


def _recoded(state: ScoreCounts, labels: npt.NDArray[Any] | None) -> ObjectArray:
    """The keys of ``state`` with the first key recoded into ``labels``."""
    if labels is None or state.n_groups == 0 or state.labels is labels:
        return state.keys
    if state.labels is None:
        raise SchemaError(
            "cannot merge a state of raw keys (from update) with one of labelled keys "
            "(from partial); build both the same way"
        )
    # code len(state.labels) (a missing value) becomes len(labels)
    lookup = np.append(np.searchsorted(labels, state.labels), len(labels))
    keys: ObjectArray = state.keys.copy()
    keys[:, 0] = lookup[state.keys[:, 0].astype(np.int64)]
    return keys
