"""Tests of paths(): path variants with counts, coverage and conversion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.journey import paths
from tests.journey.helpers import ROWS, log_of


class TestPaths:
    def test_variants_counts_coverage_conversion(self) -> None:
        """Hand-counted variants, coverage and conversion."""
        p = paths(log_of(ROWS), conversion="purchase")
        assert p.paths[0] == ("view", "view", "purchase")
        assert p.counts.tolist() == [2, 1, 1]
        assert p.coverage.tolist() == pytest.approx([0.5, 0.75, 1.0])
        assert p.conversion_rate is not None
        assert p.conversion_rate.tolist() == [1.0, 1.0, 0.0]
        assert p.n_variants == 3 and p.n_units == 4

    def test_collapse_and_max_length(self) -> None:
        """Collapsing repeats and truncating merge variants."""
        p = paths(log_of(ROWS), collapse_repeats=True, max_length=1)
        assert dict(zip(p.paths, p.counts.tolist(), strict=True)) == {("view",): 3, ("search",): 1}
        p2 = paths(log_of(ROWS), collapse_repeats=True, top=1)
        assert p2.paths == (("view", "purchase"),) and p2.counts.tolist() == [2]
        assert len(p2.to_pandas()) == 1 and "n_variants" in p2.to_dict()

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"top": 0}, "top"),
            ({"max_length": 0}, "max_length"),
            ({"max_length": True}, "max_length"),
        ],
        ids=["top-0", "max_length-0", "max_length-True"],
    )
    def test_bad_arguments(self, kwargs: dict[str, int], match: str) -> None:
        """Non-positive sizes, and a bool for a length (not quietly 1), are rejected."""
        with pytest.raises(SchemaError, match=match):
            paths(log_of(ROWS), **kwargs)  # type: ignore[arg-type]

    def test_numpy_integer_sizes(self) -> None:
        """``top`` and ``max_length`` computed with numpy (``np.int64``) act as ints."""
        log = log_of(ROWS)
        p = paths(log, top=np.int64(2), max_length=np.int64(2))
        assert p.to_dict() == paths(log, top=2, max_length=2).to_dict()

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
        p = paths(log_of(rows), top=100)
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
        full = paths(log_of(rows), top=1000)
        cut = paths(log_of(rows), top=top)
        assert cut.paths == full.paths[:top]
        assert cut.counts.tolist() == full.counts[:top].tolist()
