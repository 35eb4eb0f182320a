"""Checked sums of the data's own numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._sums import check_sums, grouped_sums, run_sums
from cxmodel.errors import DataError


class TestCheckedSums:
    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.floats(-1e300, 1e300), max_size=30), st.integers(1, 4))
    def test_sums_in_range_are_numpys(self, values: list[float], size: int) -> None:
        """Within the float range the checked sums are numpy's, to the bit."""
        v = np.asarray(values, dtype=np.float64)
        group = np.arange(v.size) % size
        got = grouped_sums(group, v, size, column="value", where="f()")
        assert np.array_equal(got, np.bincount(group, weights=v, minlength=size))
        if v.size:
            starts = np.arange(0, v.size, size)
            got = run_sums(v, starts, column="value", where="f()")
            assert np.array_equal(got, np.add.reduceat(v, starts))

    def test_overflow_in_pairwise_summation_is_caught(self) -> None:
        """inf - inf (NaN) from values that are all finite is an overflow too."""
        with pytest.raises(DataError, match="for customer 'a'"):
            check_sums(
                np.array([np.nan]), np.array([1e308, 1e308, -1e308, -1e308]), column="value",
                where="f()", names=np.array(["a"]),
            )  # fmt: skip

    def test_missing_values_are_not_an_overflow(self) -> None:
        """A NaN sum where a value is NaN is the data's, not an overflow."""
        check_sums(np.array([np.nan]), np.array([1.0, np.nan]), column="value", where="f()")

    def test_run_sums_raise_no_numpy_warning(self) -> None:
        """reduceat's 'overflow encountered' RuntimeWarning becomes the named error."""
        with pytest.raises(DataError, match="column 'spend'"):
            run_sums(np.array([1e308, 1e308]), np.array([0]), column="spend", where="f()")
