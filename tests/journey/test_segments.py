"""Breakdowns with by= and two-segment comparisons of the journey views."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._stats import newcombe_bounds
from cxmodel.errors import SchemaError
from cxmodel.journey import (
    compare_friction,
    compare_paths,
    compare_step_matrices,
    compare_transitions,
    friction,
    funnel,
    paths,
    sessions,
    step_matrix,
    transitions,
)
from cxmodel.log import InteractionLog
from cxmodel.segment import newcombe_interval


def _log(rows: list[tuple[str, int, str]], **extra: list[Any]) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        **extra,
    )


ROWS = [
    ("a", 0, "view"),
    ("a", 1, "search"),
    ("a", 2, "purchase"),
    ("b", 0, "view"),
    ("b", 1, "view"),
    ("c", 0, "search"),
    ("c", 1, "purchase"),
]
PLAN = ["pro", "pro", "free", "free", "free", "pro", "pro"]  # a's plan changes after 2 events


class TestBy:
    def test_transitions_group_by_first_event(self) -> None:
        """a and c start on "pro", b on "free"; each group counts its customers' whole
        journeys, with the labels of the whole log."""
        t = transitions(_log(ROWS, plan=PLAN), by="plan", start_end=False)
        assert t.by_labels is not None and t.by_labels.tolist() == ["free", "pro"]
        assert t.labels.tolist() == ["purchase", "search", "view"]
        assert t.group("free").counts.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
        assert t.group("pro").counts.tolist() == [[0, 0, 0], [2, 0, 0], [0, 1, 0]]

    def test_column_row_array_and_customer_array_agree(self) -> None:
        """A column, the same values per row, and one value per customer give one result."""
        log = _log(ROWS, plan=PLAN)
        by_col = paths(log, by="plan")
        by_rows = paths(log, by=np.array(PLAN, dtype=object))
        by_cust = paths(log, by=["pro", "free", "pro"])
        for res in (by_rows, by_cust):
            assert res.by_labels is not None and res.by_labels.tolist() == ["free", "pro"]
            assert res.group("pro").paths == by_col.group("pro").paths
            assert res.group("pro").counts.tolist() == [1, 1]

    def test_step_matrix_anchor_group_and_friction(self) -> None:
        """With an anchor the group is read at the first anchor event; friction groups share
        the overall slow threshold."""
        log = _log(ROWS, plan=["free", "pro", "pro", "free", "free", "pro", "pro"])
        m = step_matrix(log, anchor="search", steps=1, by="plan")
        assert m.by_labels is not None and m.by_labels.tolist() == ["pro"]
        assert m.group("pro").n_units == 2
        f = friction(log, by="plan", errors=())
        assert f.groups is not None
        assert {g.slow_seconds for g in f.groups} == {f.slow_seconds}
        assert f.group("free").events.sum() == 5  # a (first event free) and b

    def test_sessions_are_units(self) -> None:
        """With by_session each session is put in the group of its own first event."""
        rows = [("a", 0, "view"), ("a", 10, "search"), ("a", 10_000, "view"), ("a", 10_010, "view")]
        log = sessions(_log(rows, src=["ad", "ad", "mail", "mail"]), gap="30m")
        t = transitions(log, by="src", by_session=True, start_end=False)
        assert t.group("ad").counts.sum() == 1 and t.group("mail").counts.sum() == 1

    def test_funnel_accepts_arrays(self) -> None:
        """funnel's by= takes the same arrays as the other views."""
        f = funnel(_log(ROWS), ["view", "search"], by=["x", "y", "z"])
        assert f.by_labels is not None and f.by_counts is not None
        assert f.by_labels.tolist() == ["x", "y", "z"]
        assert f.by_counts.tolist() == [[1, 1], [1, 0], [0, 0]]

    def test_groups_to_pandas(self) -> None:
        """Group tables stack with the group as the outer index level."""
        pytest.importorskip("pandas")
        df = transitions(_log(ROWS, plan=PLAN), by="plan").groups_to_pandas()
        assert df.index.names[0] == "group"
        assert set(df.index.get_level_values(0)) == {"free", "pro"}

    @pytest.mark.parametrize(
        ("by", "match"),
        [("tier", "not a column"), ([1, 2], "one per row"), ([[1], [2]], "1-d")],
        ids=["unknown-column", "wrong-length", "two-d"],
    )
    def test_bad_by(self, by: Any, match: str) -> None:
        """Bad by= values raise SchemaError saying what was expected."""
        with pytest.raises(SchemaError, match=match):
            transitions(_log(ROWS), by=by)

    def test_group_lookup_errors(self) -> None:
        """Unknown labels and results without groups raise."""
        t = transitions(_log(ROWS, plan=PLAN), by="plan")
        with pytest.raises(SchemaError, match="no group 'gold'"):
            t.group("gold")
        with pytest.raises(SchemaError, match="by="):
            transitions(_log(ROWS)).group("pro")


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("abcde"),
            st.integers(0, 50),
            st.sampled_from(["view", "search", "purchase"]),
        ),
        min_size=1,
        max_size=30,
    ),
    seg=st.lists(st.sampled_from(["x", "y", "z"]), min_size=30, max_size=30),
)
def test_groups_add_up_to_the_whole(rows: list[tuple[str, int, str]], seg: list[str]) -> None:
    """Every unit is in exactly one group, so group counts sum to the overall counts."""
    log = _log(rows)
    by = np.array(seg[: len(rows)], dtype=object)
    t = transitions(log, by=by)
    assert t.groups is not None
    np.testing.assert_array_equal(sum(g.counts for g in t.groups), t.counts)
    m = step_matrix(log, steps=3, by=by)
    assert m.groups is not None
    np.testing.assert_array_equal(sum(g.counts for g in m.groups), m.counts)
    p = paths(log, by=by)
    assert p.groups is not None and sum(g.n_units for g in p.groups) == p.n_units
    f = friction(log, by=by, errors=())
    assert f.groups is not None
    assert sum(int(g.exits.sum()) for g in f.groups) == int(f.exits.sum())


TWO = [
    ("a", 0, "view"),
    ("a", 1, "purchase"),
    ("b", 0, "view"),
    ("b", 1, "purchase"),
    ("c", 0, "view"),
    ("c", 1, "search"),
    ("d", 0, "view"),
    ("d", 1, "search"),
    ("e", 0, "view"),
    ("e", 1, "purchase"),
]


class TestCompare:
    def test_transitions_difference_with_newcombe(self) -> None:
        """view -> purchase: A (a, b) 2 of 2, B (c, d, e) 1 of 3; Newcombe interval."""
        log = _log(TWO)
        a, b = log.customer_codes < 2, log.customer_codes >= 2
        c = compare_transitions(log, a, b, start_end=False)
        row = c.keys["target"].index("purchase")
        assert (c.x_a[row], c.n_a[row], c.x_b[row], c.n_b[row]) == (2, 2, 1, 3)
        assert c.difference[row] == pytest.approx(2 / 3)
        assert (c.low[row], c.high[row]) == pytest.approx(newcombe_interval(2, 2, 1, 3))
        assert c.keys["source"] == ["view", "view"]
        assert not c.significant.any()

    def test_friction_exit_rates(self) -> None:
        """Exit rate of purchase is 1 in both; search exits only in B (2 of 2); view 0."""
        log = _log(TWO)
        c = compare_friction(log, log.customer_codes < 2, log.customer_codes >= 2, errors=())
        got = dict(
            zip(
                c.keys["label"],
                zip(c.x_a.tolist(), c.n_a.tolist(), c.x_b.tolist(), c.n_b.tolist(), strict=True),
                strict=True,
            )
        )
        assert got == {"purchase": (2, 2, 1, 1), "search": (0, 0, 2, 2), "view": (0, 2, 0, 3)}
        assert c.a.slow_seconds == c.b.slow_seconds

    def test_step_matrix_and_paths(self) -> None:
        """Step 2: purchase share 2/2 vs 1/3; path view > purchase 2/2 vs 1/3."""
        log = _log(TWO)
        a, b = log.customer_codes < 2, log.customer_codes >= 2
        m = compare_step_matrices(log, a, b, steps=2)
        cell = next(
            i
            for i, (lab, s) in enumerate(zip(m.keys["label"], m.keys["step"], strict=True))
            if lab == "purchase" and s == 2
        )
        assert m.difference[cell] == pytest.approx(2 / 3)
        p = compare_paths(log, a, b)
        assert p.keys["path"] == ["view > purchase", "view > search"]  # tie: A's top first
        assert p.difference.tolist() == pytest.approx([2 / 3, -2 / 3])
        assert p.x_b.tolist() == [1, 2]

    def test_rows_sorted_and_tables(self) -> None:
        """Rows come largest absolute difference first (undefined ones last); tables render."""
        log = _log(TWO)
        c = compare_transitions(log, log.customer_codes < 2, log.customer_codes >= 2)
        assert np.isnan(c.difference[-1])  # search -> END: no search in A
        d = np.nan_to_num(np.abs(c.difference), nan=-1.0)
        assert np.all(d[:-1] >= d[1:])
        assert "<table>" in c._repr_html_() and "p_next_a" in c.to_dict()

    def test_segment_option_is_rejected(self) -> None:
        """A comparison takes its two masks, not segment= or by=."""
        log = _log(TWO)
        mask = log.customer_codes < 2
        with pytest.raises(SchemaError, match="segment="):
            compare_transitions(log, mask, ~mask, segment=mask)
        with pytest.raises(SchemaError, match="boolean row masks"):
            compare_step_matrices(log, None, mask)
        with pytest.raises(SchemaError, match="top="):
            compare_paths(log, mask, ~mask, top=0)


@given(
    x_a=st.integers(0, 50),
    extra_a=st.integers(1, 50),
    x_b=st.integers(0, 50),
    extra_b=st.integers(1, 50),
)
def test_newcombe_bounds_match_scalar(x_a: int, extra_a: int, x_b: int, extra_b: int) -> None:
    """The vectorised Newcombe interval equals the scalar one of cxmodel.segment."""
    low, high = newcombe_bounds([x_a], [x_a + extra_a], [x_b], [x_b + extra_b])
    ref = newcombe_interval(x_a, x_a + extra_a, x_b, x_b + extra_b)
    assert (float(low[0]), float(high[0])) == pytest.approx(ref)
