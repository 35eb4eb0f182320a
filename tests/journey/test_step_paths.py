"""Tests of step_matrix() and paths()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.journey import paths, step_matrix
from cxmodel.log import InteractionLog


def _log(rows: list[tuple[str, int, str]]) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
    )


ROWS = [
    ("a", 0, "view"),
    ("a", 1, "view"),
    ("a", 2, "purchase"),
    ("b", 0, "search"),
    ("b", 1, "purchase"),
    ("b", 2, "view"),
    ("c", 0, "view"),
    ("c", 1, "view"),
    ("c", 2, "purchase"),
    ("d", 0, "view"),
]


class TestStepMatrix:
    def test_plain_steps(self) -> None:
        """Columns count each customer's s-th event; END after the journey."""
        m = step_matrix(_log(ROWS), steps=3)
        assert m.labels.tolist() == ["purchase", "search", "view", "END"]
        assert m.counts.tolist() == [[0, 1, 2], [1, 0, 0], [3, 2, 1], [0, 1, 1]]
        assert np.allclose(m.shares.sum(axis=0), 1.0)

    def test_anchor_negative_steps(self) -> None:
        """Around the first anchor event: START before, END after; customers without it drop."""
        m = step_matrix(_log(ROWS), anchor="purchase", steps=2)
        assert m.steps.tolist() == [-2, -1, 0, 1, 2]
        assert m.n_units == 3
        table = dict(zip(m.labels.tolist(), m.counts.tolist(), strict=True))
        assert table["purchase"] == [0, 0, 3, 0, 0]
        assert table["view"] == [2, 2, 0, 1, 0]
        assert table["START"] == [1, 0, 0, 0, 0]
        assert table["search"] == [0, 1, 0, 0, 0]
        assert table["END"] == [0, 0, 0, 2, 3]
        assert m.to_pandas().shape == (5, 5) and "<table>" in m._repr_html_()

    @pytest.mark.parametrize("steps", [0, -1, 2.5, True])
    def test_bad_steps(self, steps: object) -> None:
        """Steps must be a positive integer."""
        with pytest.raises(SchemaError, match="steps"):
            step_matrix(_log(ROWS), steps=steps)  # type: ignore[arg-type]


class TestPaths:
    def test_variants_counts_coverage_conversion(self) -> None:
        """Hand-counted variants, coverage and conversion."""
        p = paths(_log(ROWS), conversion="purchase")
        assert p.paths[0] == ("view", "view", "purchase")
        assert p.counts.tolist() == [2, 1, 1]
        assert p.coverage.tolist() == pytest.approx([0.5, 0.75, 1.0])
        assert p.conversion_rate is not None
        assert p.conversion_rate.tolist() == [1.0, 1.0, 0.0]
        assert p.n_variants == 3 and p.n_units == 4

    def test_collapse_and_max_length(self) -> None:
        """Collapsing repeats and truncating merge variants."""
        p = paths(_log(ROWS), collapse_repeats=True, max_length=1)
        assert dict(zip(p.paths, p.counts.tolist(), strict=True)) == {("view",): 3, ("search",): 1}
        p2 = paths(_log(ROWS), collapse_repeats=True, top=1)
        assert p2.paths == (("view", "purchase"),) and p2.counts.tolist() == [2]
        assert len(p2.to_pandas()) == 1 and "n_variants" in p2.to_dict()

    @pytest.mark.parametrize(
        ("kwargs", "match"), [({"top": 0}, "top"), ({"max_length": 0}, "max_length")]
    )
    def test_bad_arguments(self, kwargs: dict[str, int], match: str) -> None:
        """Non-positive sizes are rejected."""
        with pytest.raises(SchemaError, match=match):
            paths(_log(ROWS), **kwargs)  # type: ignore[arg-type]

    @settings(max_examples=30, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(
                st.sampled_from("abcdef"), st.integers(0, 50), st.sampled_from(["x", "y", "z"])
            ),
            min_size=1,
            max_size=40,
        )
    )
    def test_matches_python_grouping(self, rows: list[tuple[str, int, str]]) -> None:
        """Variant counts equal a plain Python grouping of sorted journeys."""
        order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
        seqs: dict[str, list[str]] = {}
        for i in order:
            seqs.setdefault(rows[i][0], []).append(rows[i][2])
        expected: dict[tuple[str, ...], int] = {}
        for s in seqs.values():
            expected[tuple(s)] = expected.get(tuple(s), 0) + 1
        p = paths(_log(rows), top=100)
        assert dict(zip(p.paths, p.counts.tolist(), strict=True)) == expected

    @settings(max_examples=40, deadline=None)
    @given(
        rows=st.lists(
            st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 20), st.sampled_from("xy")),
            min_size=1,
            max_size=60,
        ),
        top=st.integers(1, 6),
    )
    def test_top_is_a_prefix_of_the_full_ranking(
        self, rows: list[tuple[str, int, str]], top: int
    ) -> None:
        """The ``top`` variants are the first ``top`` of the full ranking (count, then the
        variant of the lowest customer), however many tie at the cut."""
        full = paths(_log(rows), top=1000)
        cut = paths(_log(rows), top=top)
        assert cut.paths == full.paths[:top]
        assert cut.counts.tolist() == full.counts[:top].tolist()
