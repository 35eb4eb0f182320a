"""Hash encoding of text columns gives what row-by-row normalising and sorting gave."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.log._columns import (
    RowErrors,
    encode_strings,
    encode_text_column,
    hash_encode,
    to_text_column,
)

_ITEMS = st.one_of(
    st.sampled_from(["a", "b", "B", "ab", "", " a", "é", "\ud800x", "1", "NA", "z" * 30]),
    st.text(max_size=4),
    st.none(),
    st.just(float("nan")),
    st.just(np.float64("nan")),
)
_ODD = st.one_of(st.integers(-3, 3), st.booleans(), st.floats(allow_nan=False, width=32))


def _both(values: np.ndarray) -> tuple[Any, Any]:
    fast_errors, slow_errors = RowErrors(), RowErrors()
    fast = encode_text_column(values, "touchpoint", fast_errors)
    slow = encode_strings(to_text_column(values, "touchpoint", slow_errors))
    return (fast, fast_errors.reasons), (slow, slow_errors.reasons)


def _same(a: Any, b: Any) -> None:
    (codes_a, cats_a), reasons_a = a
    (codes_b, cats_b), reasons_b = b
    assert codes_a.dtype == np.int32
    assert codes_a.tolist() == codes_b.tolist()
    assert cats_a.tolist() == cats_b.tolist()
    assert reasons_a == reasons_b


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEMS, max_size=60), st.lists(_ODD, max_size=2))
def test_hash_path_equals_row_by_row(items: list[Any], odd: list[Any]) -> None:
    values = np.empty(len(items) + len(odd), dtype=object)
    values[:] = items + odd
    _same(*_both(values))


@pytest.mark.parametrize("pandas", [True, False])
def test_without_pandas_a_dict_encodes(monkeypatch: pytest.MonkeyPatch, pandas: bool) -> None:
    if not pandas:
        monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas raises ImportError
    rng = np.random.default_rng(3)
    words = np.array(["x", "y", "", None, float("nan"), "w\udc80", "é"], dtype=object)
    values = words[rng.integers(0, words.size, 5_000)]
    _same(*_both(values))
    _same(*_both(np.array(["b", "a", "b", ""])))  # fixed-width numpy text
    encoded = hash_encode(values)
    assert encoded is not None
    assert (encoded[0] >= -1).all()


@pytest.mark.parametrize(
    "odd",
    [1, True, 2.5, ["a"], {"a": 1}, b"a", np.datetime64("NaT"), np.str_("a")],
)
def test_other_values_take_the_row_by_row_path(odd: Any) -> None:
    values = np.empty(4, dtype=object)
    values[:] = ["a", odd, None, "a"]
    if not isinstance(odd, np.str_):
        assert hash_encode(values) is None
    _same(*_both(values))


def test_pandas_missing_markers_are_not_missing() -> None:
    pd = pytest.importorskip("pandas")
    assert hash_encode(np.array(["a", pd.NA, None], dtype=object)) is None
    values = np.array(["a", pd.NaT, None], dtype=object)
    assert hash_encode(values) is None
    _same(*_both(values))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(st.characters(codec="ascii"), max_size=9),  # short ASCII: integer keys
            st.text(max_size=4),
            st.sampled_from(["", "a", "a\x00", "ab", "b", "\x7f"]),
        ),
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_sorted_categories_are_the_distinct_labels_in_python_order(
    labels: list[str], random: Any
) -> None:
    """Categories are the distinct non-empty labels in ``sorted()`` order (trailing NULs
    dropped, as numpy's text does), and each code points at its own label."""
    from cxmodel.log._columns import _sort_categories

    given_codes = [random.randrange(-1, len(labels)) for _ in range(50)] if labels else []
    codes, cats = _sort_categories(
        np.array(given_codes, dtype=np.int32), np.array(labels, dtype=object)
    )
    assert cats.tolist() == sorted({label.rstrip("\x00") for label in labels if label})
    for old, new in zip(given_codes, codes.tolist(), strict=True):
        if old == -1 or labels[old] == "":
            assert new == -1
        else:
            assert cats[new] == labels[old].rstrip("\x00")


@pytest.mark.parametrize("size", [10, 60_000], ids=["small", "large"])
def test_encode_strings_does_not_depend_on_the_column_size(size: int) -> None:
    """A text column is hashed the same way whatever its size (no second encoder for large
    columns): missing values, empty strings, and text with an unpaired surrogate (kept, not an
    encoding error) get the codes and sorted categories that sorting the values gives."""
    words = np.array(["b", None, "a\ud800", "", float("nan"), "a"], dtype=object)
    values = words[np.arange(size) % words.size]
    codes, cats = encode_strings(values)
    assert cats.tolist() == ["a", "a\ud800", "b"]
    assert codes[: words.size].tolist() == [2, -1, 1, -1, -1, 0]
    assert codes.tolist() == np.tile(codes[: words.size], size // words.size + 1)[:size].tolist()


class TestRowSchemaError:
    """The error of a bad row keeps its position and reason so that it can be renamed."""

    def test_pickles_and_renames(self) -> None:
        """It survives pickling (it crosses processes) and renames its row and the rows its
        reason refers to; the one-process message is unchanged."""
        import pickle

        from cxmodel.errors import RowSchemaError, SchemaError
        from cxmodel.log import InteractionLog
        from cxmodel.log._columns import renamed

        with pytest.raises(RowSchemaError) as raised:
            InteractionLog.from_arrays(
                customer_id=["a", "a", "a"],
                timestamp=[0, 1, 2],
                kind=["view"] * 3,
                interaction_id=["x", "y", "x"],
            )
        error = raised.value
        assert str(error) == (
            "row 3: interaction_id 'x' is a duplicate of row 1 (column 'interaction_id'); ids "
            "must be unique"
        )
        copy = pickle.loads(pickle.dumps(error))
        assert (str(copy), copy.position, copy.reason, copy.more) == (
            str(error),
            2,
            error.reason,
            0,
        )
        named = renamed(error, lambda row: f"line {row + 10}", lambda row: f"{row + 10}")
        assert type(named) is SchemaError
        assert str(named) == (
            "line 12: interaction_id 'x' is a duplicate of row 10 (column 'interaction_id'); "
            "ids must be unique"
        )
