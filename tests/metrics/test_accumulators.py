"""Property tests: survey accumulators merge exactly, empty is identity, order is irrelevant."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    CESAccumulator,
    CSATAccumulator,
    NPSAccumulator,
    ScoreAccumulator,
    ScoreCounts,
)

ACCUMULATORS = [NPSAccumulator(), CSATAccumulator(), CESAccumulator()]


@st.composite
def chunks(draw: st.DrawFn) -> tuple[ScoreAccumulator, list[int], list[str], list[int]]:
    """An accumulator, scores on its scale, group labels and split points."""
    acc = draw(st.sampled_from(ACCUMULATORS))
    n = draw(st.integers(0, 60))
    scores = draw(st.lists(st.integers(acc.low, acc.high), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    return acc, scores, groups, cuts


def _same(a: ScoreCounts, b: ScoreCounts) -> bool:
    return (
        a.key_names == b.key_names
        and a.keys.tolist() == b.keys.tolist()
        and np.array_equal(a.counts, b.counts)
    )


class TestScoreAccumulators:
    @settings(max_examples=60, deadline=None)
    @given(chunks())
    def test_merge_of_any_split_equals_one_shot(
        self, case: tuple[ScoreAccumulator, list[int], list[str], list[int]]
    ) -> None:
        """Updating chunk by chunk and merging, in reverse order, equals one update."""
        acc, scores, groups, cuts = case
        whole = acc.update(acc.empty(["g"]), scores, [groups])
        bounds = [0, *cuts, len(scores)]
        parts = [
            acc.update(acc.empty(["g"]), scores[lo:hi], [groups[lo:hi]])
            for lo, hi in itertools.pairwise(bounds)
        ]
        merged = acc.empty(["g"])
        for part in reversed(parts):
            merged = acc.merge(part, merged)
        assert _same(merged, whole)

    @settings(max_examples=40, deadline=None)
    @given(chunks())
    def test_empty_is_identity(
        self, case: tuple[ScoreAccumulator, list[int], list[str], list[int]]
    ) -> None:
        """merge(empty, s) == merge(s, empty) == s."""
        acc, scores, groups, _ = case
        s = acc.update(acc.empty(["g"]), scores, [groups])
        assert _same(acc.merge(acc.empty(["g"]), s), s)
        assert _same(acc.merge(s, acc.empty(["g"])), s)

    @settings(max_examples=40, deadline=None)
    @given(chunks(), st.randoms(use_true_random=False))
    def test_row_order_invariance(
        self, case: tuple[ScoreAccumulator, list[int], list[str], list[int]], rnd: object
    ) -> None:
        """Shuffling the rows leaves the finalized table unchanged."""
        acc, scores, groups, _ = case
        order = list(range(len(scores)))
        rnd.shuffle(order)  # type: ignore[attr-defined]
        a = acc.update(acc.empty(["g"]), scores, [groups])
        b = acc.update(acc.empty(["g"]), [scores[i] for i in order], [[groups[i] for i in order]])
        ta = acc.finalize(a).to_dict()  # type: ignore[attr-defined]
        tb = acc.finalize(b).to_dict()  # type: ignore[attr-defined]
        for name in ta:
            assert np.array_equal(ta[name], tb[name], equal_nan=ta[name].dtype.kind == "f")

    def test_merge_rejects_different_keys(self) -> None:
        """States keyed by different columns cannot be merged."""
        acc = NPSAccumulator()
        with pytest.raises(SchemaError, match="cannot merge"):
            acc.merge(acc.update(acc.empty(["a"]), [1], [["x"]]), acc.update(acc.empty(), [1]))

    def test_update_rejects_label_count(self) -> None:
        """update() needs one label per score."""
        acc = NPSAccumulator()
        with pytest.raises(SchemaError, match="one label per score"):
            acc.update(acc.empty(["g"]), [1, 2], [["x"]])

    @settings(max_examples=60, deadline=None)
    @given(
        st.sampled_from(ACCUMULATORS),
        st.integers(0, 2**32 - 1),
        st.integers(1, 300),
        st.sampled_from([np.int8, np.int64, np.uint16]),
    )
    def test_dense_path_equals_general_path(
        self, acc: ScoreAccumulator, seed: int, n: int, key_dtype: type
    ) -> None:
        """Integer keys (dense bincount path) give the same state as the same keys as str."""
        rng = np.random.default_rng(seed)
        scores = rng.integers(acc.low, acc.high + 1, n)
        a = rng.integers(3, 9, n).astype(key_dtype)
        b = rng.integers(0, 40, n)
        dense = acc.update(acc.empty(["a", "b"]), scores, [a, b])
        general = acc.update(
            acc.empty(["a", "b"]), scores.astype(float), [a.astype(object), b.astype(object)]
        )
        assert _same(dense, general)
        assert dense.counts.sum() == n

    @pytest.mark.parametrize("scores", [[11], [-1], [3.5]], ids=["high", "low", "fraction"])
    def test_integer_and_float_scores_checked(self, scores: list[float]) -> None:
        """Out-of-scale scores are rejected whatever their dtype, naming the row."""
        acc = NPSAccumulator()
        with pytest.raises(SchemaError, match="row 2: score"):
            acc.update(acc.empty(), [5, *scores])


def _answers(n: int, seed: int) -> dict[str, list[object]]:
    """Survey rows (NPS and CSAT answers, a region with missing values) and a purchase."""
    rng = np.random.default_rng(seed)
    metric = rng.choice(["nps", "csat"], n).tolist()
    score = [float(rng.integers(0, 11) if m == "nps" else rng.integers(1, 6)) for m in metric]
    regions = np.array(["north", "south", "east", None], dtype=object)
    return {
        "customer_id": [f"c{i % 7}" for i in range(n)],
        "timestamp": (1_700_000_000 + rng.integers(0, 90 * 86_400, n)).tolist(),
        "kind": ["survey"] * n,
        "metric": metric,
        "score": score,
        "region": regions[rng.integers(0, 4, n)].tolist(),
    }


def _log(columns: dict[str, list[object]], lo: int, hi: int) -> InteractionLog:
    return InteractionLog.from_arrays(**{k: v[lo:hi] for k, v in columns.items()})


class TestPartials:
    @settings(max_examples=40, deadline=None)
    @given(
        st.sampled_from(ACCUMULATORS),
        st.integers(1, 80),
        st.integers(0, 2**16),
        st.lists(st.integers(0, 80), max_size=4),
        st.sampled_from([(None, None), ("region", None), ("region", "month"), (None, "week")]),
    )
    def test_partials_of_any_split_merge_to_the_whole(
        self,
        acc: ScoreAccumulator,
        n: int,
        seed: int,
        cuts: list[int],
        grouping: tuple[str | None, str | None],
    ) -> None:
        """Partials of separately built pieces of a log (each with its own category codes),
        merged from the right, finalize to the same table as the partial of the whole log."""
        by, period = grouping
        columns = _answers(n, seed)
        bounds = [0, *sorted(min(c, n) for c in cuts), n]
        pieces = [_log(columns, lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]
        whole = acc.partial(_log(columns, 0, n), by=by, period=period)
        merged = acc.partial(pieces[-1], by=by, period=period)
        for piece in reversed(pieces[:-1]):
            merged = acc.merge(acc.partial(piece, by=by, period=period), merged)
        a = acc.finalize(merged).to_dict()  # type: ignore[attr-defined]
        b = acc.finalize(whole).to_dict()  # type: ignore[attr-defined]
        assert list(a) == list(b)
        for name in a:
            assert np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"), name

    def test_a_category_without_answers_in_any_piece_is_a_row(self) -> None:
        """Every category of the by column in some piece is a row, with n = 0 if unanswered."""
        acc = NPSAccumulator()
        one = InteractionLog.from_arrays(
            customer_id=["a", "b"], timestamp=[0, 1], kind=["survey", "view"],
            metric=["nps", None], score=[9.0, None], region=["north", "west"],
        )  # fmt: skip
        two = InteractionLog.from_arrays(
            customer_id=["c"], timestamp=[2], kind=["survey"], metric=["nps"], score=[3.0],
            region=[None],
        )  # fmt: skip
        table = acc.finalize(
            acc.merge(acc.partial(one, by="region"), acc.partial(two, by="region"))
        )
        assert table["region"].tolist() == ["north", "west", "(missing)"]
        assert table["n"].tolist() == [1, 0, 1]

    def test_raw_and_labelled_states_do_not_mix(self) -> None:
        """A state from update() (raw keys) cannot be merged with one from partial()."""
        acc = NPSAccumulator()
        raw = acc.update(acc.empty(["by"]), [9], [["x"]])
        with pytest.raises(SchemaError, match="raw keys"):
            acc.merge(raw, acc.partial([3], by=["y"]))
