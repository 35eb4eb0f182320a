"""Rows grouped by a dense code: the radix grouping equals numpy's stable argsort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cxmodel._grouping import group_by_code

_TOPS = [0, 1, 2**16 - 1, 2**16, 2**16 + 5, 300_000, 2**31 - 1]


@pytest.mark.parametrize(
    ("top", "dtype"),
    [(top, dtype) for top in _TOPS for dtype in (np.int32, np.int64)] + [(2**32 - 1, np.int64)],
)
def test_group_by_code_is_stable_beyond_16_bits(top: int, dtype: type) -> None:
    rng = np.random.default_rng(top)
    codes: np.ndarray = rng.integers(0, top + 1, 5_000).astype(dtype)
    codes[0] = top
    expected = np.argsort(codes, kind="stable")
    assert group_by_code(codes).tolist() == expected.tolist()


@given(arrays(np.int64, st.integers(0, 200), elements=st.integers(0, 2**20)))
def test_group_by_code_equals_a_stable_argsort(codes: np.ndarray) -> None:
    assert group_by_code(codes).tolist() == np.argsort(codes, kind="stable").tolist()


def test_no_rows_no_order() -> None:
    assert group_by_code(np.zeros(0, dtype=np.int64)).tolist() == []
