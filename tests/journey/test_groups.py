"""Tests of by= breakdowns: group codes from a column, a per-row or a per-customer array."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.journey import (
    friction,
    funnel,
    paths,
    sessions,
    step_matrix,
    transitions,
)
from tests.journey.helpers import log_of

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
        t = transitions(log_of(ROWS, plan=PLAN), by="plan", start_end=False)
        assert t.by_labels is not None and t.by_labels.tolist() == ["free", "pro"]
        assert t.labels.tolist() == ["purchase", "search", "view"]
        assert t.group("free").counts.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
        assert t.group("pro").counts.tolist() == [[0, 0, 0], [2, 0, 0], [0, 1, 0]]

    def test_column_row_array_and_customer_array_agree(self) -> None:
        """A column, the same values per row, and one value per customer give one result."""
        log = log_of(ROWS, plan=PLAN)
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
        log = log_of(ROWS, plan=["free", "pro", "pro", "free", "free", "pro", "pro"])
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
        log = sessions(log_of(rows, src=["ad", "ad", "mail", "mail"]), gap="30m")
        t = transitions(log, by="src", by_session=True, start_end=False)
        assert t.group("ad").counts.sum() == 1 and t.group("mail").counts.sum() == 1

    def test_funnel_accepts_arrays(self) -> None:
        """funnel's by= takes the same arrays as the other views."""
        f = funnel(log_of(ROWS), ["view", "search"], by=["x", "y", "z"])
        assert f.by_labels is not None and f.by_counts is not None
        assert f.by_labels.tolist() == ["x", "y", "z"]
        assert f.by_counts.tolist() == [[1, 1], [1, 0], [0, 0]]

    def test_groups_to_pandas(self) -> None:
        """Group tables stack with the group as the outer index level."""
        pytest.importorskip("pandas")
        df = transitions(log_of(ROWS, plan=PLAN), by="plan").groups_to_pandas()
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
            transitions(log_of(ROWS), by=by)

    def test_group_lookup_errors(self) -> None:
        """Unknown labels and results without groups raise."""
        t = transitions(log_of(ROWS, plan=PLAN), by="plan")
        with pytest.raises(SchemaError, match="no group 'gold'"):
            t.group("gold")
        with pytest.raises(SchemaError, match="by="):
            transitions(log_of(ROWS)).group("pro")


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
    log = log_of(rows)
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
