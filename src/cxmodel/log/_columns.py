"""Column encoding and row validation for building an InteractionLog."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._spelling import ArgumentReason, Spelling, python_spelling
from cxmodel.domain._interaction import MONEY_KINDS
from cxmodel.errors import RowSchemaError, SchemaError

__all__ = [
    "EXACT_FLOAT_INT",
    "ID_COLUMNS",
    "ID_RULE_COLUMNS",
    "NAME_COLUMNS",
    "NUMERIC_STANDARD",
    "REQUIRED",
    "STRING_STANDARD",
    "Codes",
    "Encoded",
    "RowErrors",
    "encode_strings",
    "encode_text_column",
    "hash_encode",
    "id_refused",
    "id_text",
    "is_missing",
    "is_missing_value",
    "is_number",
    "joined_text",
    "name_refused",
    "number_class",
    "renamed",
    "to_bool_column",
    "to_float_column",
    "to_text_column",
    "valid_text",
    "valid_texts",
    "validate_rows",
]

Codes = npt.NDArray[np.int32]
REQUIRED = ("customer_id", "timestamp", "kind")
STRING_STANDARD = (
    "customer_id",
    "kind",
    "interaction_id",
    "touchpoint",
    "channel",
    "stage",
    "metric",
    "purpose",
    "answer",
    "rates",
)
NUMERIC_STANDARD = ("value", "score", "sentiment")


class Encoded:
    """A text column as its source holds it: codes and categories, or an Arrow string array.

    Codes are int32 with -1 for missing; categories need not be sorted or unique-checked. A
    column read by Arrow (:meth:`from_arrow`) keeps its array (:attr:`text`), so that times and
    numbers are parsed from it directly, and is dictionary-encoded only when its codes or
    categories are first read.

    Examples
    --------
    >>> import pyarrow as pa
    >>> column = Encoded.from_arrow(pa.array(["b", None, "b"]))
    >>> column[2], column.codes.tolist(), column.categories.tolist()
    ('b', [0, -1, 0], ['b'])
    """

    __slots__ = ("_categories", "_codes", "text")

    def __init__(self, codes: npt.NDArray[Any], categories: npt.NDArray[Any]) -> None:
        self._codes: Codes | None = np.asarray(codes, dtype=np.int32)
        self._categories: npt.NDArray[np.object_] | None = np.asarray(categories, dtype=object)
        self.text: Any = None

    @classmethod
    def from_arrow(cls, text: Any) -> Encoded:
        """A pyarrow string array or chunked array (null = missing), encoded on first use."""
        column = cls.__new__(cls)
        column._codes = column._categories = None
        column.text = text
        return column

    def _encoded(self) -> tuple[Codes, npt.NDArray[np.object_]]:
        if self._codes is None or self._categories is None:
            text = self.text
            if hasattr(text, "combine_chunks"):  # one dictionary for the whole column
                text = text.combine_chunks()
            encoded = text.dictionary_encode()
            indices = encoded.indices
            if indices.null_count:
                indices = indices.fill_null(-1)
            indices = indices.to_numpy(zero_copy_only=False)
            self._codes = np.asarray(indices, dtype=np.int32)
            self._categories = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
        return self._codes, self._categories

    @property
    def codes(self) -> Codes:
        return self._encoded()[0]

    @property
    def categories(self) -> npt.NDArray[np.object_]:
        return self._encoded()[1]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.text),) if self._codes is None else self._codes.shape

    @property
    def ndim(self) -> int:
        return 1

    def __getitem__(self, row: int) -> Any:
        if self._codes is None:
            return self.text[row].as_py()
        code = int(self.codes[row])
        return None if code < 0 else self.categories[code]

    def take(self, rows: npt.NDArray[np.intp]) -> Encoded:
        """The column at ``rows`` (an Arrow column stays one)."""
        if self._codes is None:
            return Encoded.from_arrow(self.text.take(rows))
        return Encoded(self.codes[rows], self.categories)

    def decode(self) -> npt.NDArray[np.object_]:
        """The values as an object array (``None`` for missing)."""
        lookup = np.concatenate([self.categories, np.array([None], dtype=object)])
        return lookup[self.codes]


_ROW_REF = re.compile("\x00row:(\\d+)\x00")


def row_ref(position: int) -> str:
    """A reference to another row inside a reason, rendered later as that row's file number."""
    return f"\x00row:{position}\x00"


def render_refs(reason: str, name: Callable[[int], str]) -> str:
    """``reason`` with each reference to another row written as ``name(position)``.

    Examples
    --------
    >>> render_refs(f"a duplicate of row {row_ref(3)}", lambda position: str(position + 1))
    'a duplicate of row 4'
    """
    return _ROW_REF.sub(lambda m: name(int(m.group(1))), reason)


class RowErrors:
    """Collects ``row -> reason`` for rejected rows (0-based input positions); first reason wins.

    ``row_numbers`` maps input positions to the row numbers shown to the user (1-based data rows
    by default; a reader passes the file's own numbering).
    """

    def __init__(self, row_numbers: npt.NDArray[np.int64] | None = None) -> None:
        self.reasons: dict[int, str] = {}
        self.row_numbers = row_numbers

    def number(self, position: int) -> int:
        """The row number shown for an input position."""
        if self.row_numbers is None:
            return position + 1
        return int(self.row_numbers[position])

    def render(self, position: int, spelling: Spelling = python_spelling) -> str:
        """The reason of one row with references to other rows as their row numbers, and the
        arguments an :class:`~cxmodel._spelling.ArgumentReason` asks for as ``spelling``
        writes them."""
        reason = self.reasons[position]
        if isinstance(reason, ArgumentReason):
            reason = reason.compose(spelling)
        return render_refs(reason, lambda ref: str(self.number(ref)))

    def add(self, rows: npt.NDArray[np.intp] | list[int], make: Callable[[int], str]) -> None:
        for row in rows:
            self.reasons.setdefault(int(row), make(int(row)))

    def update(self, reasons: dict[int, str]) -> None:
        for row, reason in reasons.items():
            self.reasons.setdefault(row, reason)

    def __bool__(self) -> bool:
        return bool(self.reasons)


def is_missing(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Missing entries of a column: ``None``, NaN, or the empty string."""
    if values.dtype.kind == "f":
        return np.asarray(np.isnan(values), dtype=bool)
    if values.dtype.kind in "US":
        return np.asarray(values == values.dtype.type(""), dtype=bool)
    if values.dtype.kind == "O":
        none = np.array([None], dtype=object)
        empty = np.array([""], dtype=object)
        try:
            with np.errstate(invalid="ignore"):
                missing = np.equal(values, none) | np.not_equal(values, values)
                missing |= np.equal(values, empty)
        except (ArithmeticError, TypeError, ValueError):
            # a signalling Decimal('sNaN') refuses to be compared; an array or pandas' NA
            # among the values compares to no one truth value
            missing = np.fromiter(map(is_missing_value, values.tolist()), bool, values.shape[0])
        return np.asarray(missing, dtype=bool)
    return np.zeros(values.shape[0], dtype=bool)


def is_missing_value(item: object) -> bool:
    """Whether one value is missing: :func:`is_missing`'s test, one value at a time, the one
    test of a log and of the streaming engine. ``None``, the empty text, and a value not
    equal to itself: a NaN (Python's, numpy's, a ``Decimal``'s, signalling too), ``NaT``
    (pandas' or numpy's). A value with no one truth value for ``item != item`` (an array of
    several values, pandas' ``NA``) is not missing (nor a property: it is refused).

    Examples
    --------
    >>> [is_missing_value(v) for v in (None, "", float("nan"), np.datetime64("NaT"))]
    [True, True, True, True]
    >>> [is_missing_value(v) for v in (0, " ", "nan", np.array([np.nan, 1.0]))]
    [False, False, False, False]
    """
    if item is None or (isinstance(item, str) and item == ""):
        return True
    is_nan = getattr(item, "is_nan", None)  # Decimal
    if callable(is_nan):
        return bool(is_nan())
    try:
        return bool(item != item)
    except (TypeError, ValueError):
        return False


def encode_strings(values: npt.NDArray[Any] | Encoded) -> tuple[Codes, npt.NDArray[np.object_]]:
    """Dictionary-encode a column: int32 codes (-1 = missing) and sorted string categories.

    Examples
    --------
    >>> codes, cats = encode_strings(np.array(["b", None, "a", "b"], dtype=object))
    >>> codes.tolist(), cats.tolist()
    ([1, -1, 0, 1], ['a', 'b'])
    """
    if isinstance(values, Encoded):
        return _sort_categories(values.codes, values.categories)
    n = values.shape[0]
    codes = np.full(n, -1, dtype=np.int32)
    if n == 0:
        return codes, np.empty(0, dtype=object)
    if values.dtype.kind in "iu" and n:
        low, high = int(values.min()), int(values.max())
        # dense integer ids: O(n) encoding by presence (uint64 ids past int64 are sorted)
        if high - low <= 4 * n and high <= np.iinfo(np.int64).max:
            present = np.zeros(high - low + 1, dtype=bool)
            present[values - low] = True
            uniq_ints = np.flatnonzero(present) + low
            dense = (np.cumsum(present) - 1).astype(np.int32)
            return _sort_categories(dense[values - low], uniq_ints.astype(str).astype(object))
    if values.dtype.kind in "iub":
        uniq, inverse = np.unique(values, return_inverse=True)
        labels = uniq.astype(str)
        order = np.argsort(labels, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return rank[inverse.ravel()].astype(np.int32), labels[order].astype(object)
    hashed = hash_encode(values)
    if hashed is not None:
        return _sort_categories(*hashed)
    missing = is_missing(values)
    present = values[~missing] if missing.any() else values
    if present.dtype.kind == "O":
        present = present.astype(str)
    few = _few_categories(present)
    if few is not None:
        codes[~missing] = few[0]
        return codes, few[1]
    uniq, inverse = np.unique(present, return_inverse=True)
    codes[~missing] = inverse.ravel()
    return codes, uniq.astype(object)


def _few_categories(
    values: npt.NDArray[Any], limit: int = 32
) -> tuple[Codes, npt.NDArray[np.object_]] | None:
    """Encode a low-cardinality string column by comparisons instead of a full sort.

    Candidates come from a sample; ``None`` when the sample shows many values or some row
    matches no candidate (the caller then sorts).
    """
    if values.shape[0] < 10_000:
        return None
    candidates = np.unique(values[:: max(values.shape[0] // 2000, 1)])
    if candidates.size > limit:
        return None
    codes = np.full(values.shape[0], -1, dtype=np.int32)
    for code, candidate in enumerate(candidates):
        codes[values == candidate] = code
    if (codes < 0).any():
        return None
    return codes, candidates.astype(object)


def _sort_categories(
    codes: npt.NDArray[np.int32], categories: npt.NDArray[Any]
) -> tuple[Codes, npt.NDArray[np.object_]]:
    """Sort categories as strings (merging duplicates) and remap codes; -1 stays -1.

    The sorted categories are the given ``str`` objects (not copies); ``""`` and ``None`` are
    missing.

    Examples
    --------
    >>> codes, cats = _sort_categories(np.array([0, 1, -1, 2], dtype=np.int32),
    ...                                np.array(["b", "a", "b"], dtype=object))
    >>> codes.tolist(), cats.tolist()
    ([1, 0, -1, 1], ['a', 'b'])
    """
    listed = categories.tolist()
    if set(map(type, listed)) <= {str}:  # text (hashed columns, Arrow)
        labels = np.asarray(categories, dtype=object)
        valid = np.asarray(labels != "", dtype=bool)
    else:
        labels = np.array([None if c is None else str(c) for c in listed], dtype=object)
        valid = np.array([c is not None and c == c and c != "" for c in labels], dtype=bool)
    remap = np.full(labels.size + 1, -1, dtype=np.int32)  # the last slot: code -1 stays -1
    if labels.size == 0:
        return np.asarray(codes, dtype=np.int32), np.empty(0, dtype=object)
    kept = np.flatnonzero(valid)
    present = labels if kept.size == labels.size else labels[kept]
    text: npt.NDArray[Any]
    if _holds_nul(present):
        # numpy's fixed-width text drops trailing NULs ("a" and "a\x00" would be one
        # label): the labels themselves are sorted and compared, kept as written
        text = present
        order = np.array(sorted(range(present.size), key=present.__getitem__), dtype=np.intp)
    elif (keys := _short_ascii_keys(present)) is None:
        text = present.astype(str)
        order = np.argsort(text, kind="stable")
    else:  # equal keys are equal labels: which one is kept does not matter
        text = keys
        order = np.argsort(keys)
    ordered = text[order]
    first = np.ones(order.size, dtype=bool)  # first of each run of equal labels
    first[1:] = ordered[1:] != ordered[:-1]
    remap[kept[order]] = np.cumsum(first, dtype=np.int32) - 1
    return remap[codes], present[order[first]]


def _short_ascii_keys(labels: npt.NDArray[np.object_]) -> npt.NDArray[np.uint64] | None:
    """Integers that sort as ``labels`` do, when every label is ASCII of at most 8 characters
    (``"c0012345"``): their bytes, zero-padded, read as big-endian 64-bit integers. Sorting
    these is ten times faster than sorting text. ``None`` for other labels (and for labels
    holding NUL, which the padding would confuse).

    Examples
    --------
    >>> keys = _short_ascii_keys(np.array(["b", "ab", "a"], dtype=object))
    >>> np.argsort(keys).tolist()
    [2, 1, 0]
    >>> _short_ascii_keys(np.array(["é"], dtype=object)) is None
    True
    """
    try:
        raw = labels.astype("S")
    except UnicodeEncodeError:
        return None
    if raw.dtype.itemsize > 8:
        return None
    return raw.astype("S8").view(">u8").astype(np.uint64)


#: an unpaired surrogate: what a JSON ``\ud800`` escape, or an undecodable byte read with
#: ``surrogateescape``, leaves in text; no UTF-8 text holds one
SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> bool:
    """Whether ``text`` holds no unpaired surrogate (:data:`SURROGATE`); ASCII text is
    not searched (``isascii`` reads a flag).

    Examples
    --------
    >>> valid_text("café"), valid_text("a" + chr(0xD800))
    (True, False)
    """
    return text.isascii() or SURROGATE.search(text) is None


def valid_texts(values: list[Any], types: AbstractSet[type] | None = None) -> bool:
    """:func:`valid_text` of all the text among ``values`` at once (one join; missing
    values and numbers left out); ``types``, the classes of ``values`` when the caller has
    them already, spares typing them again.

    Examples
    --------
    >>> valid_texts(["a", None, "b"]), valid_texts(["a", "b" + chr(0xDC80)])
    (True, False)
    >>> valid_texts(["a", None], {str, type(None)})
    True
    """
    return valid_text(_all_text(values, types))


#: the columns holding ids
ID_COLUMNS = ("customer_id", "interaction_id")
#: the columns holding names (a kind): text alone, a number or true/false is no name
NAME_COLUMNS = ("kind",)
#: the standard text columns read by the ids' rule (:func:`id_text`): the ids, and the
#: touchpoint, channel, stage, metric, purpose, answer and rated interaction, which a log and
#: the streaming engine read alike
ID_RULE_COLUMNS = tuple(name for name in STRING_STANDARD if name not in NAME_COLUMNS)
#: a whole number this large or larger is not exact as a float: a float of that size may have
#: rounded the id it was made from (refused), and an integer keeps its digits (a column of
#: such integers is text)
EXACT_FLOAT_INT = 2**53


_NUMBERS = (int, float, np.integer, np.floating)
_NOT_NUMBERS = (bool, np.bool_, np.timedelta64)


def is_number(value: object) -> bool:
    """Whether ``value`` is a number a property holds: an integer or a float, Python's or
    numpy's. Not a bool, a duration (numpy counts a ``timedelta64`` as an integer), a
    complex number, a ``Decimal`` or a ``Fraction``.

    The one test of a number of a log and of the streaming engine.

    Examples
    --------
    >>> [is_number(v) for v in (2, 2.5, np.int8(2), np.float32(2.5))]
    [True, True, True, True]
    >>> [is_number(v) for v in (True, np.bool_(False), np.timedelta64(1, "D"), 1j, "2")]
    [False, False, False, False, False]
    """
    return isinstance(value, _NUMBERS) and not isinstance(value, _NOT_NUMBERS)


def number_class(kind: type) -> bool:
    """Whether the values of class ``kind`` are numbers (:func:`is_number`).

    Examples
    --------
    >>> number_class(np.float32), number_class(bool), number_class(np.timedelta64)
    (True, False, False)
    """
    return issubclass(kind, _NUMBERS) and not issubclass(kind, _NOT_NUMBERS)


def id_text(value: object) -> str | None:
    """An id (a customer's or an interaction's) as text: the one reading of an id, by a log
    and by the streaming engine alike.

    Text is kept as it is; an integer (Python's or numpy's, not a bool) is its decimal
    digits; a float holding a whole number (``7.0``, numpy's too) is that integer's digits,
    ``"7"``: a column of integer ids with one missing becomes floats in pandas and numpy.
    Anything else is no id, and ``None`` is returned: a bool, a float with a fraction, an
    infinite one or one of 2**53 or more in size (which may have rounded the id it was made
    from), and every other type (``Decimal``, bytes, a list, ...). The missing values,
    ``None`` and NaN, are the caller's to look for first.

    Examples
    --------
    >>> [id_text(v) for v in ("007", 7, np.int64(7), 7.0, np.float32(-7.0))]
    ['007', '7', '7', '7', '-7']
    >>> [id_text(v) for v in (True, 7.5, float("inf"), 2.0**60, b"7")]
    [None, None, None, None, None]
    """
    if isinstance(value, str):
        return value
    if not is_number(value):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer() and abs(number) < EXACT_FLOAT_INT:
        return str(int(number))
    return None


def id_refused(column: str, item: object, place: str = "column") -> str:
    """Why ``item`` is no id (:func:`id_text` refused it) in ``column``, a log's column or
    (``place`` "field") a record's field.

    Examples
    --------
    >>> id_refused("touchpoint", 2.5)
    "touchpoint 2.5 is not a whole number (column 'touchpoint'); expected text or a whole number"
    >>> id_refused("interaction_id", True, "field")
    "interaction_id True is a bool (field 'interaction_id'); expected text or a whole number"
    """
    head = f"{column} {show(item)} is"
    tail = f"({place} {column!r}); expected text or a whole number"
    if not is_number(item):
        what = "a bool" if isinstance(item, (bool, np.bool_)) else _kind_of(item)
        return f"{head} {what} {tail}"
    number = float(item)  # type: ignore[arg-type]
    if number - number != 0.0:
        return f"{head} not a finite number {tail}"
    if not number.is_integer():
        return f"{head} not a whole number {tail}"
    return (
        f"{head} a float of 2**53 or more, which may have rounded the id it was made from "
        f"{tail}; write such ids as text"
    )


def name_refused(column: str, item: object, place: str = "column") -> str:
    """Why ``item``, which is not text, is no name (a kind) in ``column``, a log's column or
    (``place`` "field") a record's field.

    Examples
    --------
    >>> name_refused("kind", 5)
    "kind 5 is not text (column 'kind'); a kind is a name: write it as text, e.g. 'purchase'"
    """
    return (
        f"{column} {show(item)} is not text ({place} {column!r}); a kind is a name: write it "
        "as text, e.g. 'purchase'"
    )


_SHOW = 60


def name_not_text(what: str, name: str) -> str:
    """Why a field or column ``name`` (``what``: "field name", "column name") is refused:
    it holds an unpaired surrogate, which no file or store can write.

    Examples
    --------
    >>> print(name_not_text("column name", "bad" + chr(0xD800)))
    column name 'bad\\ud800' is not valid text: it holds an unpaired surrogate or an undecodable byte; send valid UTF-8 text
    """
    return (
        f"{what} {show(name)} is not valid text: it holds an unpaired surrogate or an "
        "undecodable byte; send valid UTF-8 text"
    )


def show(value: object) -> str:
    """``repr(value)`` shortened for messages (a 1 MB field is not quoted in full)."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _SHOW else f"{text[: _SHOW - 5]} ...' ({len(text):,} characters)"


def _kind_of(value: object) -> str:
    names: dict[type, str] = {
        dict: "a JSON object (dict)",
        list: "a list",
        tuple: "a tuple",
        bytes: "bytes",
    }
    return names.get(type(value), f"a {type(value).__name__}")


def _is_time(item: object) -> bool:
    # numpy counts a timedelta64 as an integer; neither it nor a datetime64 is an amount
    return isinstance(item, (np.timedelta64, np.datetime64))


def _refused_times(values: Any, column: str, errors: RowErrors) -> bool:
    """Whether ``values`` is a numpy time or duration array (``datetime64``, ``timedelta64``),
    whose present rows are then recorded as bad: only the timestamp column holds times, and
    numpy would give their tick counts as numbers."""
    if not (isinstance(values, np.ndarray) and values.dtype.kind in "mM"):
        return False
    what = "a time (datetime64)" if values.dtype.kind == "M" else "a duration (timedelta64)"
    errors.add(
        np.flatnonzero(~np.isnat(values)),
        lambda row: _time_refused(column, repr(values[row]), what),
    )
    return True


def _time_refused(column: str, shown: str, what: str) -> str:
    """The reason a value ``shown`` that is ``what`` (a time or a duration) is refused in
    ``column``, which is not the timestamp column."""
    return (
        f"{column} {shown} is {what} (column {column!r}); only the timestamp column holds "
        "times: write it as text or a number"
    )


def _not_a_number(text: str, column: str) -> str:
    """Why ``text`` is not a number, with what to write instead; a comma where a decimal point
    or nothing belongs (``12,50``, ``1,000``: exports in other locales) is named as such.

    Examples
    --------
    >>> _not_a_number("12,50", "value")
    "value '12,50' is not a number (column 'value'): it has a comma; write numbers with a decimal point and no thousands separator, e.g. 12.5 or 1000"
    """
    head = f"{column} {show(text)} is not a number (column {column!r})"
    if "," in text and _COMMA_NUMBER.fullmatch(text.strip()):
        return (
            f"{head}: it has a comma; write numbers with a decimal point and no thousands "
            "separator, e.g. 12.5 or 1000"
        )
    return f"{head}; expected e.g. 12.5, or an empty field for missing"


#: a number written with commas (decimal comma or thousands separators), dots allowed too
_COMMA_NUMBER = re.compile(r"[-+]?[0-9][0-9.,]*")


def to_float_column(
    values: npt.NDArray[Any], column: str, errors: RowErrors
) -> npt.NDArray[np.float64]:
    """Convert a column to float64 (NaN = missing), recording rows that are not finite numbers.

    Missing is ``None``, a float NaN, or the empty string. Text must parse as a finite number
    (``"NA"``, ``"nan"`` and ``"inf"`` are not numbers); a number is an int or a float
    (:func:`is_number`): bools, ``Decimal`` and ``Fraction`` values, lists and mappings are
    rejected.

    Examples
    --------
    >>> errs = RowErrors()
    >>> to_float_column(np.array(["1.5", "", "NA"], dtype=object), "value", errs).tolist()
    [1.5, nan, nan]
    >>> errs.reasons
    {2: "value 'NA' is not a number (column 'value'); expected e.g. 12.5, or an empty field for missing"}
    """
    if _refused_times(values, column, errors):
        return np.full(values.shape[0], np.nan)
    if values.dtype.kind in "iu":
        return values.astype(np.float64)
    if values.dtype.kind == "f":
        out = values.astype(np.float64)
        bad = np.flatnonzero(np.isinf(out))
        errors.add(
            bad, lambda row: f"{column} {out[row]!r} is not a finite number (column {column!r})"
        )
        return out
    if values.dtype.kind == "b":
        errors.add(
            np.arange(values.shape[0]),
            lambda row: (
                f"{column} {values[row]!r} is a bool (column {column!r}); expected a number"
            ),
        )
        return np.full(values.shape[0], np.nan)
    out = np.full(values.shape[0], np.nan)
    missing = is_missing(values)
    present = np.flatnonzero(~missing)
    if present.size == 0:
        return out
    reasons: dict[int, str] = {}
    cache: dict[str, float | None] = {}
    for row in present.tolist():
        item = values[row]
        number: float | None
        if isinstance(item, str):
            if item in cache:
                number = cache[item]
            else:
                try:
                    number = float(item)
                except ValueError:
                    number = None
                cache[item] = number
            if number is None:
                reasons[row] = _not_a_number(item, column)
                continue
        elif not is_number(item):  # a bool, a Fraction, a Decimal, a duration, ...
            reasons[row] = (
                f"{column} {show(item)} is {_kind_of(item)} (column {column!r}); expected a number"
            )
            continue
        else:
            try:
                number = float(item)
            except OverflowError:
                number = float("inf")
        if not np.isfinite(number):
            reasons[row] = f"{column} {show(item)} is not a finite number (column {column!r})"
            continue
        out[row] = number
    errors.update(reasons)
    return out


_BOOL_TEXT = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}


def to_bool_column(
    values: npt.NDArray[Any] | Encoded, column: str, errors: RowErrors
) -> npt.NDArray[np.float64]:
    """Convert a column to booleans stored as float64: 1.0 true, 0.0 false, NaN missing.

    Missing is ``None``, a float NaN, or the empty string. Bools are kept; the text ``true``
    and ``false`` (any case) and ``1`` and ``0``, and the numbers 1 and 0, are read as true and
    false; anything else is recorded as a bad row.

    Examples
    --------
    >>> errs = RowErrors()
    >>> to_bool_column(np.array([True, "false", None, "yes"], dtype=object), "vip", errs).tolist()
    [1.0, 0.0, nan, nan]
    >>> errs.reasons
    {3: "vip 'yes' is not true or false (column 'vip'); expected true, false, 1 or 0, or an empty field for missing"}
    """
    if isinstance(values, Encoded):  # text: each distinct value once
        local = RowErrors()
        parsed = to_bool_column(values.categories, column, local)
        codes = values.codes
        if local:
            bad = np.flatnonzero(np.isin(codes, np.fromiter(local.reasons, dtype=np.int64)))
            errors.add(bad, lambda row: local.reasons[int(codes[row])])
        return np.asarray(np.append(parsed, np.nan)[codes], dtype=np.float64)
    if _refused_times(values, column, errors):
        return np.full(values.shape[0], np.nan)
    if values.dtype.kind == "b":
        return values.astype(np.float64)
    if values.dtype.kind in "iuf":
        out = values.astype(np.float64)
        bad = np.flatnonzero(~np.isnan(out) & (out != 0.0) & (out != 1.0))
        errors.add(bad, lambda row: _not_bool(column, values[row]))
        out[bad] = np.nan
        return out
    objects = values.astype(object)
    out = np.full(objects.shape[0], np.nan)
    present = np.flatnonzero(~is_missing(objects))
    items = objects[present]
    types = _TYPE_OF(items)
    read = np.full(items.shape[0], np.nan)
    for kind in set(types.tolist()):  # a loop over the column's types, not its rows
        wanted = np.empty(1, dtype=object)
        wanted[0] = kind
        of_kind = np.asarray(types == wanted, dtype=bool)
        read[of_kind] = _read_bools(items[of_kind], kind)
    out[present] = read
    bad = present[np.isnan(read)]
    errors.add(bad, lambda row: _not_bool(column, objects[row]))
    return out


_TYPE_OF = np.frompyfunc(type, 1, 1)


def _read_bools(items: npt.NDArray[np.object_], kind: type) -> npt.NDArray[np.float64]:
    """1.0 / 0.0 for the present values of one Python type, NaN where not true or false: bools
    as they are, text by :data:`_BOOL_TEXT` (each distinct text read once), real numbers equal
    to 1 or 0."""
    if issubclass(kind, (bool, np.bool_)):
        return items.astype(np.float64)
    if issubclass(kind, str):
        texts = items.tolist()
        read = {text: _BOOL_TEXT.get(text.strip().lower(), np.nan) for text in dict.fromkeys(texts)}
        return np.fromiter(map(read.__getitem__, texts), dtype=np.float64, count=len(texts))
    if issubclass(kind, numbers.Real):
        one = np.asarray(items == 1, dtype=bool)
        zero = np.asarray(items == 0, dtype=bool)
        return np.where(one, 1.0, np.where(zero, 0.0, np.nan))
    return np.full(items.shape[0], np.nan)


def _not_bool(column: str, item: object) -> str:
    return (
        f"{column} {show(item)} is not true or false (column {column!r}); expected true, false, "
        "1 or 0, or an empty field for missing"
    )


def to_text_column(values: Any, column: str, errors: RowErrors, as_id: bool | None = None) -> Any:
    """Normalise a text column: ``str`` kept, whole numbers as their exact digits, missing None.

    A column read by the ids' rule (``as_id``; by default the standard text columns but
    ``kind``, :data:`ID_RULE_COLUMNS`: the ids, ``touchpoint``, ``channel``, ``stage``,
    ``metric``, ``purpose``, ``answer`` and ``rates``) is read by :func:`id_text`, as the
    streaming engine reads these fields: a whole float within 2**53 is the integer it holds
    (``7.0`` is ``"7"``: a column of integer ids with one missing becomes floats in pandas and
    numpy), and a bool, a float with a fraction or any other type is a bad row. A kind
    (:data:`NAME_COLUMNS`) is a name: anything but text is a bad row. Other columns
    (properties) keep a float's shortest text (``5.0``) and a bool's (``True``).

    ``None``, NaN, ``NaT`` and ``""`` are missing (:func:`is_missing`); everything else that
    is text stays text, so ``"NA"`` and ``"007"`` are kept as written. Lists, mappings,
    bytes, times, ``Decimal`` and ``Fraction`` values, complex numbers, strings with unpaired
    surrogates, and a number whose text equals a string in the same column (``1`` and
    ``"1"``, which would merge) are rejected row by row.

    Examples
    --------
    >>> errs = RowErrors()
    >>> to_text_column(np.array(["007", 7, None, "NA"], dtype=object), "order_id", errs).tolist()
    ['007', '7', None, 'NA']
    >>> to_text_column(np.array([7.0, np.nan, 7.5]), "customer_id", errs).tolist()
    ['7', None, None]
    >>> print(errs.render(2))
    customer_id 7.5 is not a whole number (column 'customer_id'); expected text or a whole number
    >>> to_text_column(np.array([7.0, 7.5]), "order_id", errs).tolist()
    ['7.0', '7.5']
    >>> errs = RowErrors()
    >>> to_text_column(np.array(["1", 1], dtype=object), "customer_id", errs).tolist()
    ['1', None]
    >>> print(errs.render(1))  # doctest: +ELLIPSIS
    customer_id 1 is a number but row 1 holds the text '1' (column 'customer_id'); ...
    >>> errs = RowErrors()
    >>> to_text_column(np.array(["view", 5], dtype=object), "kind", errs).tolist()
    ['view', None]
    >>> print(errs.render(1))
    kind 5 is not text (column 'kind'); a kind is a name: write it as text, e.g. 'purchase'
    """
    if as_id is None:
        as_id = column in ID_RULE_COLUMNS
    as_name = column in NAME_COLUMNS
    if isinstance(values, Encoded):
        bad_cats = _surrogate_categories(values.categories)
        if bad_cats:
            rows = np.flatnonzero(np.isin(values.codes, bad_cats))
            errors.add(rows, lambda row: _surrogate_reason(column, values[row]))
        return values
    if _refused_times(values, column, errors):
        return np.full(values.shape[0], None, dtype=object)
    if as_name and values.dtype.kind in "biuf":  # numbers or true/false: no name
        errors.add(
            np.flatnonzero(~is_missing(values)),
            lambda row: name_refused(column, values[row].item()),
        )
        return np.full(values.shape[0], None, dtype=object)
    if values.dtype.kind in "iu":
        return values
    if as_id and values.dtype.kind == "f":
        return _float_ids(values, column, errors)
    if values.dtype.kind == "U":
        values = values.astype(object)
    if values.dtype.kind == "b" and not as_id:
        return np.where(values, "True", "False").astype(object)
    if values.dtype.kind != "O":
        values = values.astype(object)
    out = np.empty(values.shape[0], dtype=object)
    reasons: dict[int, str] = {}
    from_number: dict[str, int] = {}
    from_text: dict[str, int] = {}
    missing = is_missing(values).tolist()
    for row, item in enumerate(values.tolist()):
        if missing[row]:
            continue
        if isinstance(item, str):
            if not valid_text(item):
                reasons[row] = _surrogate_reason(column, item)
                continue
            out[row] = item
            from_text.setdefault(item, row)
        elif _is_time(item):
            reasons[row] = _time_refused(column, show(item), _kind_of(item))
        elif as_name:
            reasons[row] = name_refused(column, item)
        elif as_id:
            text = id_text(item)
            if text is None:
                reasons[row] = id_refused(column, item)
            else:
                out[row] = text
                from_number.setdefault(text, row)
        elif isinstance(item, (bool, np.bool_)):
            out[row] = str(bool(item))
        elif isinstance(item, (int, np.integer)) and is_number(item):
            out[row] = str(int(item))  # its exact digits
            from_number.setdefault(out[row], row)
        elif is_number(item):  # a float: its shortest text, when finite
            number = float(item)
            if number - number != 0.0:
                reasons[row] = f"{column} {show(item)} is not a finite number (column {column!r})"
                continue
            out[row] = repr(number)
            from_number.setdefault(out[row], row)
        else:  # Decimal, Fraction and complex numbers too: properties are ints and floats
            reasons[row] = (
                f"{column} {show(item)} is {_kind_of(item)} (column {column!r}); expected "
                "text, a number (an int or a float) or true/false"
            )
    clashes = from_number.keys() & from_text.keys()
    if clashes:
        for row, item in enumerate(values.tolist()):
            if not isinstance(item, str) and out[row] in clashes:
                text = out[row]
                reasons.setdefault(
                    row,
                    f"{column} {show(item)} is a number but row {row_ref(from_text[text])} holds the "
                    f"text {text!r} (column {column!r}); the two would merge into one value: "
                    "write the column all as text or all as numbers",
                )
                out[row] = None
    errors.update(reasons)
    for row in reasons:
        out[row] = None
    return out


def _float_ids(values: npt.NDArray[np.floating[Any]], column: str, errors: RowErrors) -> Any:
    """A column of floats read by the ids' rule (:func:`id_text`) over arrays: a whole
    number within 2**53 as its digits, NaN missing, any other float a bad row.

    Examples
    --------
    >>> errs = RowErrors()
    >>> _float_ids(np.array([7.0, np.nan, -3.0, 7.5, np.inf]), "customer_id", errs).tolist()
    ['7', None, '-3', None, None]
    >>> sorted(errs.reasons)
    [3, 4]
    """
    out = np.full(values.shape[0], None, dtype=object)
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        whole = present & (values == np.round(values)) & (np.abs(values) < EXACT_FLOAT_INT)
    out[whole] = values[whole].astype(np.int64).astype(str).astype(object)
    errors.add(np.flatnonzero(present & ~whole), lambda row: id_refused(column, values[row].item()))
    return out


def encode_text_column(
    values: Any, column: str, errors: RowErrors, as_id: bool | None = None
) -> tuple[Codes, npt.NDArray[np.object_]]:
    """Normalise and dictionary-encode a text column: ``encode_strings(to_text_column(...))``.

    A column of text alone (``str``, with ``None``, NaN or ``""`` for missing) is hashed first
    (:func:`hash_encode`) and then checked and sorted once per distinct value rather than once
    per row; anything else (numbers mixed in, lists, ...) takes the row-by-row path of
    :func:`to_text_column`. Both give the same codes, categories and rejected rows.
    ``as_id`` says whether the column holds ids, as for :func:`to_text_column`.

    Examples
    --------
    >>> errs = RowErrors()
    >>> codes, cats = encode_text_column(np.array(["b", None, "a", "", "b"], dtype=object),
    ...                                  "touchpoint", errs)
    >>> codes.tolist(), cats.tolist(), errs.reasons
    ([1, -1, 0, -1, 1], ['a', 'b'], {})
    """
    if not isinstance(values, Encoded) and values.dtype.kind in "OU":
        hashed = hash_encode(values)
        if hashed is not None:
            codes, categories = hashed
            bad = _surrogate_categories(categories)
            if bad:  # rejected rows, and (as row by row) their value is no category
                errors.add(
                    np.flatnonzero(np.isin(codes, bad)),
                    lambda row: _surrogate_reason(column, categories[codes[row]]),
                )
                categories = categories.copy()
                categories[bad] = ""  # missing
            return _sort_categories(codes, categories)
    return encode_strings(to_text_column(values, column, errors, as_id))


def _holds_nul(values: npt.NDArray[np.object_]) -> bool:
    """Whether some text among ``values`` holds a NUL character.

    Examples
    --------
    >>> _holds_nul(np.array(["a", None, "b" + chr(0) + "c"], dtype=object))
    True
    >>> _holds_nul(np.array(["a", float("nan")], dtype=object))
    False
    """
    return "\x00" in _all_text(values.tolist())


def joined_text(values: list[Any], sep: str = "") -> tuple[str, list[str]]:
    """The text among ``values`` joined by ``sep``, and that text: one join in C when every
    value is text, the others (missing values, numbers) left out otherwise.

    Examples
    --------
    >>> joined_text(["a", None, "b"], "|")
    ('a|b', ['a', 'b'])
    """
    try:
        return sep.join(values), values
    except TypeError:  # missing values or other types among them
        text = [v for v in values if isinstance(v, str)]
        return sep.join(text), text


def _all_text(values: list[Any], types: AbstractSet[type] | None = None) -> str:
    """The text among ``values`` joined, for searching it all at once: missing values
    (``None``, empty text) and other types left out. Passes in C when they are text and
    ``None`` (the usual column); a test of each value only when others are among them
    (whose truth is never asked: an array's raises). ``types``: the classes of ``values``,
    when known.

    Examples
    --------
    >>> _all_text(["a", None, "", "b"]), _all_text(["a", 1.5, np.array([1, 2]), "b"])
    ('ab', 'ab')
    """
    if types is None:
        try:
            return "".join(values)
        except TypeError:
            types = set(map(type, values))
    if types <= _TEXT:
        return "".join(values)
    if types <= _TEXT_OR_NONE:
        return "".join(filter(None, values))  # drops None (and empty text)
    return "".join([v for v in values if isinstance(v, str)])


_TEXT = frozenset({str})
_TEXT_OR_NONE = frozenset({str, type(None)})


def hash_encode(values: npt.NDArray[Any]) -> tuple[Codes, npt.NDArray[np.object_]] | None:
    """Dictionary-encode a column of text by hashing, O(n): codes and unsorted categories.

    The one hash encoder of text: the readers' :func:`encode_text_column` and
    :func:`encode_strings` both use it, so a column is encoded alike whatever its size and
    whether or not pyarrow is installed.

    Uses pandas' ``factorize`` when pandas is installed (imported here, on first use), else a
    dict. Missing values (``None``, float NaN) get code -1; ``""`` stays a category (callers
    treat it as missing). ``None`` when some value is neither text nor missing (numbers, bools,
    lists, ``pd.NA``): such a column needs the row-by-row rules of :func:`to_text_column`, and a
    hash would merge ``1`` with ``True``.

    Examples
    --------
    >>> codes, cats = hash_encode(np.array(["b", None, "a", "b"], dtype=object))
    >>> codes.tolist(), sorted(cats.tolist())
    ([0, -1, 1, 0], ['a', 'b'])
    >>> hash_encode(np.array(["1", 1], dtype=object)) is None
    True
    """
    if values.dtype.kind == "U":
        values = values.astype(object)
    if values.dtype.kind != "O":
        return None
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None and _holds_nul(values):
        pd = None  # pandas hashes text up to its first NUL: "a" and "a\x00b" would merge
    if pd is not None:
        try:
            raw_codes, uniques = pd.factorize(values)
        except TypeError:  # unhashable values (lists, dicts): rejected row by row
            return None
        codes = np.asarray(raw_codes, dtype=np.int32)
        categories = np.asarray(uniques, dtype=object)
        flagged = codes < 0  # pandas flags pd.NA, NaT, ... too: only None and NaN pass
        if flagged.any() and not all(
            t is type(None) or issubclass(t, (float, np.floating))
            for t in set(map(type, values[flagged]))
        ):
            return None
    else:
        lookup: dict[Any, int] = {}
        try:
            codes = np.fromiter(
                (lookup.setdefault(v, len(lookup)) for v in values.tolist()),
                dtype=np.int32,
                count=values.shape[0],
            )
        except TypeError:
            return None
        categories = np.empty(len(lookup), dtype=object)
        categories[:] = list(lookup)
    listed = categories.tolist()
    missing = []
    if not set(map(type, listed)) <= {str}:  # else text alone: nothing to check one by one
        for code, item in enumerate(listed):
            if item is None or (isinstance(item, (float, np.floating)) and item != item):
                missing.append(code)
            elif type(item) is not str:
                return None
    if missing:
        keep = np.ones(categories.shape[0], dtype=bool)
        keep[missing] = False
        remap = np.full(categories.shape[0] + 1, -1, dtype=np.int32)
        remap[:-1][keep] = np.arange(int(keep.sum()), dtype=np.int32)
        codes = remap[codes]
        categories = categories[keep]
    return codes, categories


def _surrogate_categories(categories: npt.NDArray[np.object_]) -> list[int]:
    """Positions of the text categories holding an unpaired surrogate (none if all are ASCII)."""
    texts = categories.tolist()
    if valid_texts(texts):
        return []
    return [j for j, c in enumerate(texts) if isinstance(c, str) and not valid_text(c)]


def _surrogate_reason(column: str, value: object) -> str:
    return (
        f"{column} {show(value)} is not valid text: it holds an unpaired surrogate or an "
        f"undecodable byte (column {column!r}); if the file is not UTF-8 pass its encoding, "
        "e.g. encoding='latin-1'"
    )


def validate_rows(
    n: int,
    strings: dict[str, tuple[Codes, npt.NDArray[np.object_]]],
    numeric: dict[str, npt.NDArray[np.float64]],
    errors: RowErrors,
    raw: dict[str, Any] | None = None,
) -> None:
    """Check the required columns, value, sentiment, rated interactions and ids, vectorised
    (survey answers: :func:`~cxmodel.log._answers.validate_answers`).

    ``raw`` holds the columns as given, so that messages quote values as written.
    """

    def written(name: str, row: int) -> str:
        if raw is not None and name in raw:
            item = raw[name][row]
            if isinstance(item, np.generic):  # a numpy array's item, written as the number
                item = item.item()
            return item if isinstance(item, str) else show(item)
        if name in numeric:
            return f"{numeric[name][row]:g}"
        codes, cats = strings[name]
        return show(cats[codes[row]])

    for name in ("customer_id", "kind"):
        codes, cats = strings[name]
        message = f"{name} is missing (column {name!r}); every row needs one"
        errors.add(np.flatnonzero(codes < 0), lambda row, message=message: message)  # type: ignore[misc]
        blank = np.fromiter(
            (not str(c).strip() for c in cats.tolist()), dtype=bool, count=len(cats)
        )
        if blank.any():  # white space only: no id or kind, as the streaming engine says too
            rows = np.flatnonzero((codes >= 0) & blank[np.maximum(codes, 0)])
            errors.add(
                rows,
                lambda row, name=name: (  # type: ignore[misc]
                    f"{name} {written(name, row)!r} is blank (column {name!r}); every row needs one"
                ),
            )
    kind_codes, kinds = strings["kind"]
    if "value" in numeric:
        money = np.isin(kinds, list(MONEY_KINDS))
        value = numeric["value"]
        is_money = (
            (kind_codes >= 0) & money[np.maximum(kind_codes, 0)] if kinds.size else kind_codes < -1
        )
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(is_money & (value < 0))
        errors.add(
            bad,
            lambda row: (
                f"value {written('value', row)} is negative for a "
                f"{kinds[kind_codes[row]]!r} (column 'value'); amounts are positive, the kind says "
                "the direction"
            ),
        )
    if "rates" in strings:
        _validate_rates(strings, errors)
    if "sentiment" in numeric:
        sentiment = numeric["sentiment"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((sentiment < -1) | (sentiment > 1))
        errors.add(
            bad,
            lambda row: (
                f"sentiment {written('sentiment', row)} is outside -1..1 (column 'sentiment')"
            ),
        )
    if "interaction_id" in strings:
        codes, ids = strings["interaction_id"]
        present = np.flatnonzero(codes >= 0)
        if present.size:
            order = present[np.argsort(codes[present], kind="stable")]
            sorted_codes = codes[order]
            dup = order[1:][sorted_codes[1:] == sorted_codes[:-1]]
            first_of = {}
            for row in dup:
                c = int(codes[row])
                if c not in first_of:
                    first_of[c] = int(order[np.searchsorted(sorted_codes, c)])
            errors.add(
                np.sort(dup),
                lambda row: (
                    f"interaction_id {show(ids[codes[row]])} is a duplicate of row "
                    f"{row_ref(first_of[int(codes[row])])} (column 'interaction_id'); ids must be "
                    "unique"
                ),
            )
    del n


def _validate_rates(
    strings: dict[str, tuple[Codes, npt.NDArray[np.object_]]], errors: RowErrors
) -> None:
    """``rates`` on a survey row names the interaction_id of one of its customer's rows."""
    rate_codes, rated = strings["rates"]
    kind_codes, kinds = strings["kind"]
    survey = np.flatnonzero(kinds == "survey")
    rows = np.flatnonzero((rate_codes >= 0) & np.isin(kind_codes, survey))
    if rows.size == 0:
        return
    id_codes, ids = strings.get("interaction_id", (None, None))
    where: dict[str, int] = {}
    if id_codes is not None and ids is not None:
        present = np.flatnonzero(id_codes >= 0)
        first = present[np.unique(id_codes[present], return_index=True)[1]]
        where = dict(zip(ids[id_codes[first]].tolist(), first.tolist(), strict=True))
    customers = strings["customer_id"][0]
    for row in rows.tolist():
        target = where.get(rated[rate_codes[row]])
        value = show(rated[rate_codes[row]])
        if target is None:
            source = "" if id_codes is not None else " (the data have no 'interaction_id' column)"
            errors.reasons.setdefault(
                row,
                f"rates {value} names no interaction in the data{source} (column 'rates'); "
                "expected the interaction_id of the interaction this answer rates",
            )
        elif target == row:
            errors.reasons.setdefault(
                row, f"rates {value} is this answer's own interaction_id (column 'rates')"
            )
        elif customers[target] != customers[row] and customers[row] >= 0:
            errors.reasons.setdefault(
                row,
                f"rates {value} is an interaction of another customer (row {row_ref(target)}) "
                "(column 'rates'); an answer rates an interaction of its own customer",
            )


def renamed(
    error: RowSchemaError, heading: Callable[[int], str], ref: Callable[[int], str]
) -> SchemaError:
    """``error`` with its row named ``heading(position)`` and the rows its reason refers to
    ``ref(position)``; the count of more rows is kept, without the advice to quarantine (the
    caller may have no such option).

    Examples
    --------
    >>> error = RowSchemaError("row 2: ...", 1, f"a duplicate of row {row_ref(0)}", 1)
    >>> renamed(error, lambda p: f"line {p + 10}", lambda p: str(p + 10))
    SchemaError('line 11: a duplicate of row 10 (1 more row rejected)')
    """
    where = f"{error.source}: " if error.source else ""
    more = error.more
    suffix = f" ({more} more row{'s' if more != 1 else ''} rejected)" if more else ""
    text = render_refs(error.reason, ref)
    return SchemaError(f"{where}{heading(error.position)}: {text}{suffix}")


def raise_first(errors: RowErrors, source: str | None = None) -> None:
    """Raise a RowSchemaError for the first rejected row, named by its row number."""
    if errors:
        row = min(errors.reasons)
        more = len(errors.reasons) - 1
        suffix = (
            f" ({more} more row{'s' if more != 1 else ''} rejected; pass errors='quarantine' "
            "to keep the valid rows and inspect log.rejected)"
            if more
            else ""
        )
        where = f"{source}: " if source else ""
        message = f"{where}row {errors.number(row)}: {errors.render(row)}{suffix}"
        raise RowSchemaError(message, row, errors.reasons[row], more, source)
