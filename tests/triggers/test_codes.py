"""Object columns and first-seen codes of the columnar path (``_codes.py``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.triggers._codes import first_seen_codes, first_seen_recoded, object_array


class TestCodes:
    def test_text_keeps_trailing_nuls(self) -> None:
        """Values that numpy's text type would merge stay apart."""
        codes, names = first_seen_codes(object_array(["a", "a\x00", "a"]))
        assert codes.tolist() == [0, 1, 0]
        assert list(names) == ["a", "a\x00"]

    def test_extending_a_coding_keeps_its_codes(self) -> None:
        codes, names = first_seen_codes(np.array(["x", "b"], dtype=object), {"b": 0})
        assert codes.tolist() == [1, 0]
        assert names == {"b": 0, "x": 1}

    def test_one_slot_per_value(self) -> None:
        out = object_array(iter([(1, 2), [3], None]))
        assert out.shape == (3,)
        assert out.tolist() == [(1, 2), [3], None]
        assert first_seen_codes([])[0].tolist() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.integers(7, 9))
def test_recoded_from_codes_equals_coded_from_values(codes: list[int], labels: int) -> None:
    """Recoding a log's codes gives what coding the values they stand for gives."""
    names = object_array([f"v{j}" for j in range(labels)])
    array = np.array(codes, dtype=np.int64)
    got, got_names = first_seen_recoded(array, names)
    want, want_names = first_seen_codes(names[array])
    assert got.tolist() == want.tolist() and got_names == want_names
    assert got.dtype == np.int64
