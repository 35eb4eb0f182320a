"""Tests of transitions()."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.journey import sessions, transitions
from tests.journey.helpers import log_of

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d"]),
        st.integers(0, 5000),
        st.sampled_from(["view", "search", "purchase"]),
    ),
    min_size=1,
    max_size=40,
)


def _pandas_counts(rows: list[tuple[str, int, str]], labels: list[str]) -> np.ndarray:
    df = pd.DataFrame(rows, columns=["c", "t", "k"])
    df["o"] = np.arange(len(df))
    df = df.sort_values(["c", "t", "o"])
    df["nxt"] = df.groupby("c")["k"].shift(-1).fillna("END")
    df["prv"] = df.groupby("c")["k"].shift(1)
    edges = [(k, n) for k, n in zip(df["k"], df["nxt"], strict=True)]
    edges += [("START", k) for k in df.loc[df["prv"].isna(), "k"]]
    index = {lab: i for i, lab in enumerate(labels)}
    out = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in edges:
        out[index[a], index[b]] += 1
    return out


class TestTransitions:
    def test_known_counts_customers_probabilities_times(self) -> None:
        """Hand-computed counts, unique customers, P(next), P(previous) and median time."""
        log = log_of(
            [
                ("a", 0, "view"),
                ("a", 10, "view"),
                ("a", 40, "purchase"),
                ("b", 0, "view"),
                ("b", 20, "purchase"),
            ]
        )
        t = transitions(log)
        assert t.labels.tolist() == ["START", "purchase", "view", "END"]
        assert t.counts.tolist() == [[0, 0, 2, 0], [0, 0, 0, 2], [0, 2, 1, 0], [0, 0, 0, 0]]
        assert t.customers[2, 1] == 2 and t.customers[2, 2] == 1
        assert t.p_next[2].tolist() == pytest.approx([0, 2 / 3, 1 / 3, 0])
        # previous of purchase: view twice
        assert t.p_previous[1, 2] == 1.0
        assert t.median_seconds[2, 1] == 25.0
        assert np.isnan(t.median_seconds[0, 2])

    def test_no_start_end_and_by_session(self) -> None:
        """Without markers only inner edges count; sessions cut edges at gaps."""
        log = sessions(log_of([("a", 0, "view"), ("a", 10_000, "purchase")]), gap="1h")
        assert transitions(log, start_end=False).counts.tolist() == [[0, 0], [1, 0]]
        assert transitions(log, start_end=False, by_session=True).counts.sum() == 0
        assert transitions(log, by_session=True).counts[0].sum() == 2

    def test_segment_and_pandas(self) -> None:
        """A row mask filters first; to_pandas lists non-zero edges."""
        log = log_of([("a", 0, "view"), ("a", 1, "purchase"), ("b", 0, "view")])
        t = transitions(log, segment=log.customer_codes == 0)
        assert t.counts.sum() == 3
        assert len(t.to_pandas()) == 3 and "<table>" in t._repr_html_()

    @pytest.mark.parametrize("level", ["nope", "timestamp", 3])
    def test_bad_level(self, level: object) -> None:
        """Unknown or non-string levels raise naming the level."""
        with pytest.raises(SchemaError, match="level"):
            transitions(log_of([("a", 0, "view")]), level=level)  # type: ignore[arg-type]

    def test_by_session_needs_sessions(self) -> None:
        """by_session without a session_id column says what to do."""
        with pytest.raises(SchemaError, match="sessions"):
            transitions(log_of([("a", 0, "view")]), by_session=True)

    @settings(max_examples=40, deadline=None)
    @given(rows=rows_strategy, seed=st.integers(0, 2**16))
    def test_equals_pandas_and_row_order_invariant(
        self, rows: list[tuple[str, int, str]], seed: int
    ) -> None:
        """Counts equal a pandas groupby/shift computation and do not depend on input order
        (up to ties, which keep input order: the shuffle preserves the order of tied rows)."""
        t = transitions(log_of(rows))
        assert t.counts.tolist() == _pandas_counts(rows, t.labels.tolist()).tolist()
        # shuffle rows with distinct (customer, time) keys only
        keys = {(c, ts) for c, ts, _ in rows}
        if len(keys) == len(rows):
            perm = np.random.default_rng(seed).permutation(len(rows))
            shuffled = [rows[i] for i in perm]
            t2 = transitions(log_of(shuffled))
            assert t2.counts.tolist() == t.counts.tolist()
            assert t2.customers.tolist() == t.customers.tolist()
