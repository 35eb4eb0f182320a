"""Two-segment comparisons of the journey views: transitions, step matrices, paths, friction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel._stats import newcombe_bounds
from cxmodel.errors import SchemaError
from cxmodel.journey import (
    compare_friction,
    compare_paths,
    compare_step_matrices,
    compare_transitions,
)
from cxmodel.segment import newcombe_interval
from tests.journey.helpers import log_of

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
        log = log_of(TWO)
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
        log = log_of(TWO)
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
        log = log_of(TWO)
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

    def test_numpy_integer_counts(self) -> None:
        """``top`` and ``steps`` computed with numpy (``np.int64``) act as ints."""
        log = log_of(TWO)
        a, b = log.customer_codes < 2, log.customer_codes >= 2
        p = compare_paths(log, a, b, top=np.int64(1))
        assert p.keys == compare_paths(log, a, b, top=1).keys
        m = compare_step_matrices(log, a, b, steps=np.int64(2))
        assert (
            m.difference.tolist() == compare_step_matrices(log, a, b, steps=2).difference.tolist()
        )

    def test_rows_sorted_and_tables(self) -> None:
        """Rows come largest absolute difference first (undefined ones last); tables render."""
        log = log_of(TWO)
        c = compare_transitions(log, log.customer_codes < 2, log.customer_codes >= 2)
        assert np.isnan(c.difference[-1])  # search -> END: no search in A
        d = np.nan_to_num(np.abs(c.difference), nan=-1.0)
        assert np.all(d[:-1] >= d[1:])
        assert "<table>" in c._repr_html_() and "p_next_a" in c.to_dict()

    def test_segment_option_is_rejected(self) -> None:
        """A comparison takes its two masks, not segment= or by=."""
        log = log_of(TWO)
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
