"""Hash encoding of text columns gives what row-by-row normalising and sorting gave."""

from __future__ import annotations

import re
import sys
import warnings
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.log._columns import (
    RowErrors,
    _all_text,
    _holds_nul,
    encode_strings,
    encode_text_column,
    hash_encode,
    to_bool_column,
    to_float_column,
    to_text_column,
    valid_text,
    valid_texts,
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
    """Categories are the distinct non-empty labels in ``sorted()`` order (NULs kept as
    written, where numpy's text would drop trailing ones), and each code points at its own
    label."""
    from cxmodel.log._columns import _sort_categories

    given_codes = [random.randrange(-1, len(labels)) for _ in range(50)] if labels else []
    codes, cats = _sort_categories(
        np.array(given_codes, dtype=np.int32), np.array(labels, dtype=object)
    )
    assert cats.tolist() == sorted({label for label in labels if label})
    for old, new in zip(given_codes, codes.tolist(), strict=True):
        if old == -1 or labels[old] == "":
            assert new == -1
        else:
            assert cats[new] == labels[old]


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


def _bools_row_by_row(values: np.ndarray, column: str) -> tuple[np.ndarray, dict[int, str]]:
    """The object path of ``to_bool_column`` as it was, one row at a time: the reference the
    vectorised one must equal, value for value and reason for reason."""
    import numbers

    from cxmodel.log._columns import _BOOL_TEXT, _not_bool, is_missing

    objects = values.astype(object)
    out = np.full(objects.shape[0], np.nan)
    reasons: dict[int, str] = {}
    for row in np.flatnonzero(~is_missing(objects)).tolist():
        item = objects[row]
        if isinstance(item, (bool, np.bool_)):
            out[row] = float(item)
            continue
        read: float | None = None
        if isinstance(item, str):
            read = _BOOL_TEXT.get(item.strip().lower())
        elif isinstance(item, numbers.Real) and item in (0, 1):
            read = float(item)
        if read is None:
            reasons[row] = _not_bool(column, item)
        else:
            out[row] = read
    return out, reasons


class _Flag(str):
    """A str subclass (as some readers hand out)."""


_BOOLISH = st.one_of(
    st.sampled_from(
        [
            "true",
            "FALSE",
            " True ",
            "1",
            "0",
            " 0\t",
            "yes",
            "1.0",
            "1\x00",
            "\u2003true",
            np.str_(" TRUE"),
        ]
    ),
    st.text(max_size=3),
    st.booleans(),
    st.booleans().map(np.bool_),
    st.integers(-2, 2),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, float("inf"), 2**53 + 1.0]),
    st.sampled_from([np.int64(1), np.uint8(0), np.float32(1.0), np.float64(0.25), np.int8(-1)]),
    st.sampled_from([Fraction(1), Fraction(1, 2), Decimal(1), _Flag("true"), _Flag("x")]),
    st.sampled_from([None, float("nan"), np.float64("nan"), ""]),
    st.sampled_from([b"1", [1], {"a": 1}, (0,), 1j, np.datetime64("2024-01-01")]),
)


class TestToBoolColumn:
    @settings(max_examples=300, deadline=None)
    @given(st.lists(_BOOLISH, max_size=40))
    def test_mixed_types_equal_the_row_by_row_reading(self, items: list[Any]) -> None:
        """On any mix of bools, text, numbers, missing markers and other objects, the
        vectorised reading gives the values and the bad rows' reasons (in row order) that
        reading row by row gave."""
        values = np.empty(len(items), dtype=object)
        values[:] = items
        errors = RowErrors()
        got = to_bool_column(values, "vip", errors)
        expected, reasons = _bools_row_by_row(values, "vip")
        np.testing.assert_array_equal(got, expected)
        assert list(errors.reasons.items()) == list(reasons.items())

    def test_earlier_reasons_win(self) -> None:
        """A row already rejected keeps its first reason."""
        errors = RowErrors()
        errors.reasons[1] = "customer_id is missing"
        values = np.array([True, "maybe", 2], dtype=object)
        assert to_bool_column(values, "vip", errors)[0] == 1.0
        assert errors.reasons == {
            1: "customer_id is missing",
            2: "vip 2 is not true or false (column 'vip'); expected true, false, 1 or 0, or an "
            "empty field for missing",
        }


@pytest.mark.parametrize(
    ("text", "comma"),
    [("12,50", True), ("1,000", True), ("-1.234,5", True), ("NA", False), ("1,a", False)],
)
def test_a_comma_in_a_number_is_named(text: str, comma: bool) -> None:
    """A number written with a decimal comma or thousands separators (an export from another
    locale) is rejected with what to write; other text keeps the usual reason."""
    errors = RowErrors()
    assert np.isnan(to_float_column(np.array([text], dtype=object), "value", errors)[0])
    reason = errors.reasons[0]
    assert reason.startswith(f"value {text!r} is not a number (column 'value')")
    assert ("it has a comma; write numbers with a decimal point" in reason) is comma


@pytest.mark.parametrize("size", [3, 60_000], ids=["small", "large"])
def test_text_with_a_nul_inside_is_not_cut_there(size: int) -> None:
    """pandas' hashing reads text up to its first NUL ("a" and "a\\x00b" would be one
    label); such a column is encoded without it, every label kept as written."""
    from cxmodel.log._columns import encode_strings, hash_encode

    labels = ["a", "a\x00b", "a\x00", None] * (size // 3 + 1)
    values = np.array(labels[:size], dtype=object)
    codes, cats = hash_encode(values)
    assert sorted(cats.tolist()) == ["a", "a\x00", "a\x00b"]
    codes, cats = encode_strings(values)
    assert cats.tolist() == ["a", "a\x00", "a\x00b"]
    read = [None if c < 0 else cats[c] for c in codes.tolist()]
    assert read == labels[:size]


def test_ids_with_a_nul_inside_are_distinct_customers() -> None:
    """Customers "a" and "a\\x00b" stay two customers in a log made from records."""
    from cxmodel.log import InteractionLog

    log = InteractionLog.from_records(
        [
            {"customer_id": c, "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
            for c in ("a", "a\x00b", "a")
        ]
    )
    assert log.customers.tolist() == ["a", "a\x00b"]
    assert sorted(log.customer_codes.tolist()) == [0, 0, 1]


class _Str(str):
    """Text of a class of its own (as numpy's ``str_`` is)."""


class _Untrue:
    """A value whose truth cannot be asked, as an array's or ``pd.NA``'s cannot."""

    def __bool__(self) -> bool:
        raise ValueError("no truth")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=3),
            st.none(),
            st.sampled_from(["", "\x00", "a\ud800", _Str("b\x00"), np.str_("c")]),
            st.sampled_from([0, 1.5, float("nan"), False, True, b"x"]),
            st.builds(_Untrue),
            st.just(np.array([1, 2])),
        ),
        max_size=12,
    )
)
def test_text_searched_whole_is_the_text_among_the_values(values: list[Any]) -> None:
    """The text a column is searched in at once (for NULs and unpaired surrogates) is
    exactly its text values joined, whatever else is among them; no value's truth is asked."""
    text = [v for v in values if isinstance(v, str)]
    assert _all_text(values) == "".join(text)
    assert valid_texts(values) == all(valid_text(v) for v in text)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    assert _holds_nul(column) == any("\x00" in v for v in text)


class TestIdColumns:
    """Ids read by :func:`~cxmodel.log._columns.id_text` whatever the constructor: a whole
    float is its integer's digits, a float with a fraction or a bool a bad row naming the
    row, the column and the value."""

    TIMES = ["2024-01-01T00:00:00Z"] * 3

    def _logs(self, field: str, ids: Any) -> dict[str, Any]:
        """A three-row log with ``ids`` in ``field`` (customers, or interaction ids of the
        customers a, b and c), from arrays, pandas and Arrow, under quarantine."""
        pd = pytest.importorskip("pandas")
        pa = pytest.importorskip("pyarrow")
        from cxmodel.log import InteractionLog

        columns = {"customer_id": ["a", "b", "c"], "timestamp": self.TIMES, "kind": ["view"] * 3}
        columns[field] = ids
        out = {}
        for how, make in {
            "arrays": lambda: InteractionLog.from_arrays(**columns, errors="quarantine"),
            "pandas": lambda: InteractionLog.from_pandas(
                pd.DataFrame(columns), errors="quarantine"
            ),
            "arrow": lambda: InteractionLog.from_arrow(pa.table(columns), errors="quarantine"),
        }.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[how] = make()
        return out

    @pytest.mark.parametrize("field", ["customer_id", "interaction_id"])
    @pytest.mark.parametrize(
        "ids",
        [np.array([7.0, 8.0, 9.0]), np.array([7.0, np.nan, 9.0]), np.array([7, 8, 9], np.float32)],
        ids=["whole", "one-missing", "float32"],
    )
    def test_whole_floats_are_their_digits(self, field: str, ids: Any) -> None:
        for how, log in self._logs(field, ids).items():
            if field == "customer_id":
                read = sorted(log.customers.tolist())
            else:
                read = [v for v in log.column(field).tolist() if v is not None]
            assert read == [str(int(v)) for v in ids if v == v], how
            assert len(log) + len(log.rejected) == 3

    @pytest.mark.parametrize("field", ["customer_id", "interaction_id"])
    @pytest.mark.parametrize(
        ("ids", "said"),
        [
            (np.array([7.0, 7.5, 9.0]), "7.5 is not a whole number"),
            (np.array([7.0, 2.0**60, 9.0]), "1.152921504606847e+18 is a float of 2**53 or more"),
            (np.array([7.0, np.inf, 9.0]), "inf is not a finite number"),
        ],
        ids=["fraction", "huge", "inf"],
    )
    def test_other_floats_are_bad_rows(self, field: str, ids: Any, said: str) -> None:
        for how, log in self._logs(field, ids).items():
            assert log.rejected.row.tolist() == [2], how
            assert log.rejected.reason[0].startswith(f"{field} {said}"), how
            assert f"(column {field!r})" in log.rejected.reason[0]

    @pytest.mark.parametrize("field", ["customer_id", "interaction_id"])
    def test_bools_are_bad_rows(self, field: str) -> None:
        from cxmodel.errors import RowSchemaError
        from cxmodel.log import InteractionLog

        columns: dict[str, Any] = {"customer_id": ["a", "b"], "timestamp": self.TIMES[:2]}
        columns[field] = np.array([True, False])
        with pytest.raises(RowSchemaError, match=rf"^row 1: {field} True is a bool \(column"):
            InteractionLog.from_arrays(**columns, kind="view")
        columns[field] = np.array(["x", True], dtype=object)
        with pytest.raises(RowSchemaError, match=rf"^row 2: {field} True is a bool \(column"):
            InteractionLog.from_arrays(**columns, kind="view")

    @pytest.mark.parametrize("odd", [Decimal("2"), Fraction(1, 2), float("inf")])
    def test_a_decimal_or_an_infinity_in_a_text_column_is_a_bad_row(self, odd: Any) -> None:
        """A property holds text, ints, floats or true/false: a ``Decimal`` (whose text a log
        read) or a ``Fraction`` is refused, and an infinite float beside text (read as
        ``'inf'``), as the streaming engine refuses them; in an amount a ``Fraction`` is
        refused too (a log read 0.5)."""
        errors = RowErrors()
        values = np.array(["x", odd], dtype=object)
        assert to_text_column(values, "order_id", errors).tolist() == ["x", None]
        assert list(errors.reasons) == [1] and "(column 'order_id')" in errors.reasons[1]
        errors = RowErrors()
        assert np.isnan(to_float_column(np.array([odd], dtype=object), "value", errors)[0])
        assert list(errors.reasons) == [0]


@pytest.mark.parametrize(
    "missing",
    [None, "", float("nan"), np.float32("nan"), Decimal("NaN"), Decimal("sNaN"),
     np.datetime64("NaT")],
    ids=["none", "empty", "nan", "numpy-nan", "decimal-nan", "decimal-snan", "numpy-nat"],
)  # fmt: skip
def test_missing_values_are_missing_in_every_column(missing: Any) -> None:
    """``None``, the empty text and a value not equal to itself are missing, in a text, a
    number and an id column alike (:func:`~cxmodel.log._columns.is_missing_value`)."""
    values = np.array(["x", missing], dtype=object)
    errors = RowErrors()
    assert to_text_column(values, "note", errors).tolist() == ["x", None]
    assert to_text_column(values, "interaction_id", errors).tolist() == ["x", None]
    numbers = np.array([1.5, missing], dtype=object)
    assert np.isnan(to_float_column(numbers, "value", errors)[1])
    assert errors.reasons == {}


class TestKindsAndStandardText:
    """A kind is text alone; the other standard text columns (``touchpoint``, ``channel``,
    ``stage``, ``metric``, ``purpose``, ``answer``, ``rates``) are read by the ids' rule, as
    the streaming engine reads them, whatever the constructor."""

    TIMES = ["2024-01-01T00:00:00Z"] * 3

    @pytest.mark.parametrize(
        "kinds",
        [
            np.array([5, 6, 7]),
            np.array([5.0, 6.0, np.nan]),
            np.array([True, False, True]),
            np.array([5, 6.0, True], dtype=object),
        ],
        ids=["ints", "floats", "bools", "objects"],
    )
    def test_a_kind_that_is_not_text_is_a_bad_row(self, kinds: Any) -> None:
        from cxmodel.errors import SchemaError
        from cxmodel.log import InteractionLog

        first = kinds.tolist()[0]
        with pytest.raises(SchemaError, match=rf"row 1: kind {first!r} is not text \(column"):
            InteractionLog.from_arrays(["a", "b", "c"], self.TIMES, kinds)
        mixed = np.array(["view", kinds.tolist()[1], "view"], dtype=object)
        with pytest.warns(DataWarning, match="1 of 3 rows rejected"):
            log = InteractionLog.from_arrays(
                ["a", "b", "c"], self.TIMES, mixed, errors="quarantine"
            )
        assert log.kinds.tolist() == ["view"] and log.rejected.row.tolist() == [2]
        said = log.rejected.reason[0]
        assert said.startswith(f"kind {kinds.tolist()[1]!r} is not text (column 'kind')")

    def test_a_kind_column_of_numbers_from_arrow_or_pandas_is_refused(self) -> None:
        from cxmodel.errors import SchemaError
        from cxmodel.log import InteractionLog

        pd = pytest.importorskip("pandas")
        pa = pytest.importorskip("pyarrow")
        columns = {"customer_id": ["a", "b", "c"], "timestamp": self.TIMES, "kind": [5, 6, 7]}
        for make in (
            lambda: InteractionLog.from_arrow(pa.table(columns)),
            lambda: InteractionLog.from_pandas(pd.DataFrame(columns)),
        ):
            with pytest.raises(SchemaError, match=r"kind 5 is not text \(column 'kind'\)"):
                make()

    @pytest.mark.parametrize(
        "field", ["touchpoint", "channel", "stage", "metric", "purpose", "answer", "rates"]
    )
    def test_the_ids_rule_in_every_standard_text_column(self, field: str) -> None:
        errors = RowErrors()
        values = np.array([5, 5.0, np.float32(6.0), "5.0", None, True, 5.5], dtype=object)
        read = to_text_column(values, field, errors)
        assert read[:5].tolist() == ["5", "5", "6", "5.0", None]
        assert sorted(errors.reasons) == [5, 6]
        assert errors.reasons[5].startswith(f"{field} True is a bool (column {field!r})")
        assert errors.reasons[6].startswith(f"{field} 5.5 is not a whole number (column")
        errors = RowErrors()
        assert encode_text_column(np.array([5.0, np.nan, 7.0]), field, errors)[1].tolist() == [
            "5",
            "7",
        ]
        to_text_column(np.array([True, False]), field, errors)
        assert sorted(errors.reasons) == [0, 1]

    def test_a_property_keeps_its_float_and_bool_text(self) -> None:
        """A property that is not a standard column keeps a float's text and a bool's."""
        errors = RowErrors()
        values = np.array([5, 5.0, True, "x"], dtype=object)
        assert to_text_column(values, "note", errors).tolist() == ["5", "5.0", "True", "x"]
        assert not errors


class TestMixedPropertiesAreSaid:
    """A property read as text though it holds values of other types is said, with a
    DataWarning naming the column and how many rows hold each type; a column of one type
    (missing values aside) is read without a word."""

    @staticmethod
    def _log(values: list[Any], name: str = "p") -> Any:
        from cxmodel.log import InteractionLog

        n = len(values)
        column = np.empty(n, dtype=object)
        column[:] = values
        return InteractionLog.from_arrays(
            [f"c{j}" for j in range(n)], ["2024-01-01T00:00:00Z"] * n, "view", **{name: column}
        )

    @pytest.mark.parametrize(
        ("values", "said"),
        [
            ([1, 2.5, "x"], "text in 1 row(s) and numbers in 2"),
            ([1, 2.5, True], "numbers in 2 row(s) and true/false in 1"),
            (["x", "y", np.bool_(False)], "text in 2 row(s) and true/false in 1"),
            (["x", 1, True, None], "text in 1 row(s), numbers in 1 and true/false in 1"),
        ],
    )
    def test_mixed(self, values: list[Any], said: str) -> None:
        with pytest.warns(DataWarning, match=re.escape(f"column 'p' holds {said}: it is read")):
            log = self._log(values)
        assert log.schema["p"] == "string"

    def test_true_or_false_in_a_column_named_like_a_key(self) -> None:
        """Numbers in a column named like a key are ids, read as their digits without a
        word; true/false there is said."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert self._log(["A1", 17, None], "order_id").column("order_id").tolist() == [
                "A1",
                "17",
                None,
            ]
        with pytest.warns(DataWarning, match=r"column 'order_id' holds text in 2 row\(s\) and"):
            self._log(["A1", "A2", True], "order_id")

    @pytest.mark.parametrize(
        "values",
        [["x", None, ""], [1, 2.5, float("nan")], [True, None, np.bool_(False)]],
        ids=["text", "numbers", "bools"],
    )
    def test_one_type_is_read_without_a_word(self, values: list[Any]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            self._log(values)

    @pytest.mark.parametrize(
        "values",
        [[2**60, 1, None], [2**53, 2.5], [-(2**70), np.int64(3)], np.array([2**60, 1])],
        ids=["2**60", "2**53", "-2**70", "int64-array"],
    )
    def test_integers_too_wide_for_a_float_are_said(self, values: Any) -> None:
        """Numbers with an integer a float cannot hold exactly are read as text (their
        digits, kept exact), which compares and sorts as text: said, with the count of
        such integers. In a column named like a key they are ids, read without a word; so
        are wide integers alone, which the stream reads as their digits too."""
        from cxmodel.log import InteractionLog

        n = len(values)

        def log(name: str) -> Any:
            column = values if isinstance(values, np.ndarray) else self._column(values)
            return InteractionLog.from_arrays(
                [f"c{j}" for j in range(n)], ["2024-01-01T00:00:00Z"] * n, "view", **{name: column}
            )

        with pytest.warns(DataWarning, match=r"column 'p' holds numbers, 1 of them integers of"):
            wide = log("p")
        assert wide.schema["p"] == "string"
        assert wide.column("p").tolist()[0] == str(int(values[0]))  # exact digits
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert log("order_id").schema["order_id"] == "string"
            alone = InteractionLog.from_arrays(["c"], ["2024-01-01T00:00:00Z"], "view", p=[2**60])
            assert alone.column("p").tolist() == [str(2**60)]

    @staticmethod
    def _column(values: list[Any]) -> Any:
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(width=64),
            st.floats(width=32),
            st.integers(-(2**54), 2**54).map(float),
            st.sampled_from([0.0, -0.0, 2.0**53, -(2.0**53) + 1, 7.0, 7.5]),
        ),
        max_size=10,
    )
)
def test_a_column_of_float_ids_reads_as_each_float_alone(values: list[float]) -> None:
    """Float ids read over arrays give what reading each float by ``id_text`` gives: the
    same texts and the same bad rows, with the same reasons."""
    floats = np.array(values, dtype=np.float64)
    whole, one_by_one = RowErrors(), RowErrors()
    got = to_text_column(floats, "customer_id", whole)
    want = to_text_column(floats.astype(object), "customer_id", one_by_one)
    assert got.tolist() == want.tolist()
    assert whole.reasons == one_by_one.reasons


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_a_rejected_value_from_an_array_is_written_as_the_number(dtype: Any) -> None:
    """A negative purchase amount given as a numpy array is named as the number the user
    wrote (``-19``), not as numpy's repr of its item (``np.float64(-19.0)``)."""
    from cxmodel import InteractionLog
    from cxmodel.errors import SchemaError

    with pytest.raises(SchemaError, match=r"row 1: value -19(\.0)? is negative") as caught:
        InteractionLog.from_arrays(
            customer_id=np.array(["a"]),
            timestamp=np.array(["2024-01-01T00:00:00"], dtype="datetime64[us]"),
            kind=np.array(["purchase"]),
            value=np.array([-19], dtype=dtype),
        )
    assert "np." not in str(caught.value)
