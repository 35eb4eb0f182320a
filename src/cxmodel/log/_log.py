"""InteractionLog: the columnar, immutable, sorted core every analysis runs on."""

from __future__ import annotations

import copy
import html
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import (
    got,
    integer,
    mapping_value,
    missing_labels,
    name_sequence,
    text_value,
)
from cxmodel._grouping import group_by_code
from cxmodel._pieces import warn
from cxmodel._result import plain
from cxmodel._spelling import Argument, ArgumentHintError, ArgumentReason, missing_column_error
from cxmodel._time import (
    TimeLike,
    is_utc,
    resolve_timezone,
    timestamps_to_us,
    to_us,
    us_to_datetime,
)
from cxmodel._time_format import TimeFormat
from cxmodel._time_format import time_format as checked_time_format
from cxmodel.domain._interaction import Interaction, known_questions
from cxmodel.domain._journey import Journey
from cxmodel.domain._kinds import Question, question_catalogue
from cxmodel.domain._touchpoint import DEFAULT_CATALOGUE, TouchpointCatalogue
from cxmodel.errors import (
    DataError,
    DataWarning,
    IndexOutOfRangeError,
    SchemaError,
    ValueTypeError,
    did_you_mean,
    similar_ids,
)
from cxmodel.log._answers import prepare_answers, validate_answers
from cxmodel.log._columns import (
    EXACT_FLOAT_INT,
    NUMERIC_STANDARD,
    REQUIRED,
    STRING_STANDARD,
    Codes,
    Encoded,
    RowErrors,
    _sort_categories,
    encode_strings,
    encode_text_column,
    is_missing,
    joined_text,
    name_not_text,
    number_class,
    raise_first,
    show,
    to_bool_column,
    to_float_column,
    to_text_column,
    valid_text,
    validate_rows,
)
from cxmodel.log._kinds import warn_lookalike_names, warn_unused_renames
from cxmodel.log._observed import check_observed_end, declared_or_seen, last_time
from cxmodel.log._parse_text import text_floats, text_times
from cxmodel.log._rejected import RejectedRows
from cxmodel.log._whole_days import whole_days_end

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["InteractionLog"]

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
ErrorMode = Literal["raise", "quarantine"]
DTYPE_NAMES = {
    "string": "string",
    "str": "string",
    "text": "string",
    "float": "float",
    "number": "float",
    "bool": "bool",
    "boolean": "bool",
    "timestamp": "timestamp",
}
_KEY_LIKE = re.compile(
    r"(?:^|[_\-\s.])(?:id|ids|key|code|ref|no|nr|number|uuid|guid|sku|zip|postcode|phone)$"
    r"|^(?:id|key|code|ref|uuid|guid|sku|zip|postcode|phone)$|[a-z0-9](?:Id|ID|Key|Code|Ref)$",
    re.IGNORECASE,
)


def _check_names(columns: Mapping[str, Any]) -> None:
    """Refuse a column name that is not valid text (an unpaired surrogate): no file or store
    could write it.

    Examples
    --------
    >>> _check_names({"customer_id": [], "bad" + chr(0xD800): []})
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: column name 'bad\\ud800' is not valid text: it holds an unpaired surrogate or an undecodable byte; send valid UTF-8 text
    """
    bad = next((name for name in columns if isinstance(name, str) and not valid_text(name)), None)
    if bad is not None:
        raise SchemaError(name_not_text("column name", bad))


def is_key_like(name: str) -> bool:
    """Whether a column name looks like an identifier (``order_id``, ``sku``, ``zip``, ``userId``).

    Such columns stay text unless ``dtypes=`` declares them numbers.

    Examples
    --------
    >>> [is_key_like(n) for n in ("order_id", "userId", "zip", "paid", "amount")]
    [True, True, True, False, False]
    """
    return bool(_KEY_LIKE.search(name)) and not name.lower().endswith(("paid", "valid"))


def check_dtypes(dtypes: Mapping[str, str] | None) -> dict[str, str]:
    """Normalise ``dtypes=``: column name -> ``"string"``, ``"float"``, ``"bool"`` or
    ``"timestamp"``."""
    out: dict[str, str] = {}
    for name, declared in mapping_value(dtypes, "dtypes", "dtypes").items():
        kind = DTYPE_NAMES.get(declared) if isinstance(declared, str) else None
        if kind is None:
            raise SchemaError(
                f"dtypes[{name!r}] is {declared!r}; expected 'string', 'float' or 'bool' "
                "(or 'timestamp' for the timestamp column)"
            )
        fixed = (
            "timestamp"
            if name == "timestamp"
            else "string"
            if name in STRING_STANDARD
            else "float"
            if name in NUMERIC_STANDARD
            else None
        )
        if fixed is not None and kind != fixed:
            raise SchemaError(
                f"dtypes[{name!r}] is {declared!r}, but {name!r} is always a {fixed} column"
            )
        if kind == "timestamp" and name != "timestamp":
            raise SchemaError(f"dtypes[{name!r}]: only the 'timestamp' column holds times")
        out[name] = kind
    return out


def check_kinds(kinds: Mapping[str, str] | None) -> dict[str, str]:
    """Validate ``kinds=``: your event names -> the kinds to log them as."""
    out = dict(mapping_value(kinds, "kinds", "kinds"))
    for source, target in out.items():
        if not isinstance(source, str) or not isinstance(target, str) or not target:
            raise SchemaError(
                f"kinds maps {source!r} to {target!r}; expected your event name (text) -> a kind "
                "such as 'purchase'"
            )
    return out


def check_one_kind(kind: object) -> str:
    """Validate ``kind=``, the one kind of every row of data without a kind column.

    Examples
    --------
    >>> check_one_kind("purchase")
    'purchase'
    >>> check_one_kind(" ")
    Traceback (most recent call last):
    ...
    cxmodel._spelling.ArgumentHintError: kind must be non-empty text naming the kind of every row, e.g. kind='purchase' (got ' ')
    """
    if not isinstance(kind, str) or not kind.strip():
        that = "" if isinstance(kind, str) else f" that is a {type(kind).__name__}"
        raise ArgumentHintError(
            lambda say: (
                "kind must be non-empty text naming the kind of every row, e.g. "
                f"{say(Argument.KIND, 'purchase')} (got {kind!r}{that})"
            )
        )
    return kind


def _with_one_kind(raw: dict[str, Any], kind: object) -> dict[str, Any]:
    """``raw`` with a ``kind`` column holding ``kind`` on every row (``raw`` has none)."""
    one = check_one_kind(kind)
    if "kind" in raw:
        raise ArgumentHintError(
            lambda say: (
                f"{say(Argument.KIND, one)} says every row is of one kind, but the data "
                f"has a 'kind' column too; pass one or the other (drop {say(Argument.KIND, None)} "
                "to read the column, or map the column to another name)"
            )
        )
    if "customer_id" not in raw:
        return raw  # the missing customer_id is named first
    n = raw["customer_id"].shape[0] if raw["customer_id"].ndim == 1 else 0
    column = Encoded(np.zeros(n, dtype=np.int32), np.array([one], dtype=object))
    return {**raw, "kind": column}


def _zoned_times(timestamp: Any, timezone: str | tzinfo | None) -> Any:
    """``from_arrays``' timestamps as the column reader takes them, read as every reader does.

    A pandas column (or index) of naive times is wall times, as pandas and Arrow define them:
    it becomes its timestamps as objects, which need ``timezone=`` as naive datetimes do
    (:meth:`InteractionLog.from_pandas` reads the same column the same way); as a numpy array
    it would have been taken for UTC. A numpy ``datetime64`` array is UTC, the form cxmodel
    returns times in; a ``timezone=`` other than UTC beside one would not apply, and is
    refused rather than ignored.
    """
    pd = sys.modules.get("pandas")  # a pandas column means pandas is imported
    if pd is not None and isinstance(timestamp, (pd.Series, pd.Index, pd.arrays.DatetimeArray)):
        dtype = timestamp.dtype
        if isinstance(dtype, np.dtype) and dtype.kind == "M":  # naive; aware is DatetimeTZDtype
            values = np.asarray(timestamp.astype(object), dtype=object)
            values[np.asarray(pd.isna(timestamp), dtype=bool)] = None
            return values
        return timestamp
    if not isinstance(timestamp, np.ndarray) or timestamp.dtype.kind != "M":
        return timestamp
    if is_utc(resolve_timezone(timezone)):  # none, or one that agrees with UTC
        return timestamp
    present = np.flatnonzero(~np.isnat(timestamp))
    first = (
        f"; row {present[0] + 1} holds {np.datetime_as_string(timestamp[present[0]])}"
        if present.size
        else ""
    )
    raise SchemaError(
        f"from_arrays(): timestamp is a numpy datetime64 array, read as UTC, so timezone="
        f"{timezone!r} would not apply to it{first}. For UTC times drop timezone=; for wall "
        f"times in {timezone!s}, pass them as a pandas column (pd.Series(timestamp), read in "
        "timezone= as from_pandas reads it) or localise them first "
        f"(pd.Series(timestamp).dt.tz_localize({str(timezone)!r}))"
    )


def _as_array(values: Any) -> Any:
    if isinstance(values, np.ma.MaskedArray):  # a masked entry is a missing one
        out = np.ma.getdata(values).astype(object)
        out[np.ma.getmaskarray(values)] = None
        return out
    if isinstance(values, (np.ndarray, Encoded)):
        return values
    if isinstance(values, (list, tuple)):
        out = np.empty(len(values), dtype=object)  # one slot per item, even for nested lists
        for i, value in enumerate(values):  # a slice assignment would broadcast [[1], [2]]
            out[i] = value
        return out
    return np.asarray(values)


Scan = tuple[npt.NDArray[Any], set[type]]


def _scan(values: npt.NDArray[Any]) -> Scan:
    """An object column's present values and their types (one pass, shared by the
    inferences below)."""
    present = values[~is_missing(values)]
    return present, set(map(type, present.tolist()))


def _infer_bool(values: npt.NDArray[Any], scan: Scan | None = None) -> bool:
    """Whether a property column holds booleans: a bool dtype, or objects whose present values
    are all bools (a column mixing bools with text or numbers is not one).

    Examples
    --------
    >>> _infer_bool(np.array([True, None, False], dtype=object))
    True
    >>> _infer_bool(np.array([True, "no"], dtype=object)), _infer_bool(np.array([None], dtype=object))
    (False, False)
    """
    if values.dtype.kind == "b":
        return True
    if values.dtype.kind != "O":
        return False
    kinds = (scan or _scan(values))[1]
    return bool(kinds) and kinds <= {bool, np.bool_}


def _infer_numeric(values: npt.NDArray[Any], scan: Scan | None = None) -> bool:
    """Whether a property column holds numbers that float64 keeps exactly.

    Numeric and bool dtypes, or objects that are all numbers (not bools); a whole number beyond
    2**53 (which float64 would round) keeps the column as text. Text is never inferred numeric.
    Objects with no value present are numbers when some are float NaNs (a numeric column with
    every value missing), text when all are ``None`` or empty.

    Examples
    --------
    >>> _infer_numeric(np.array([float("nan"), None], dtype=object))
    True
    >>> _infer_numeric(np.array([None, ""], dtype=object)), _infer_numeric(np.array(["7"], dtype=object))
    (False, False)
    """
    if values.dtype.kind in "fb":
        return True
    if values.dtype.kind in "iu":
        return values.size == 0 or bool(np.abs(values.astype(np.float64)).max() < EXACT_FLOAT_INT)
    if values.dtype.kind != "O":
        return False
    present, kinds = scan or _scan(values)  # a handful of distinct types, however many rows
    if not kinds:  # nothing present: numbers if the gaps are float NaNs, not None or ""
        return any(isinstance(v, (float, np.floating)) for v in values.tolist())
    if not all(number_class(k) for k in kinds):
        return False
    return all(abs(int(v)) < EXACT_FLOAT_INT for v in present if isinstance(v, (int, np.integer)))


def _inferred_kind(name: str, values: npt.NDArray[Any] | Encoded) -> str:
    """The kind of a column ``dtypes`` does not declare: a standard column's own; else
    ``"bool"`` or ``"float"`` when its values are (a column named like a key stays text), and
    ``"string"`` otherwise, said when it holds values of other types beside each other
    (:func:`_warn_mixed_types`). Text already encoded stays text."""
    if name in STRING_STANDARD:
        return "string"
    if name in NUMERIC_STANDARD:
        return "float"
    if isinstance(values, Encoded):
        return "string"
    scan = _scan(values) if values.dtype.kind == "O" else None  # one pass for both tests
    if _infer_bool(values, scan):
        return "bool"
    key_like = is_key_like(name)
    if not key_like and _infer_numeric(values, scan):
        return "float"
    if scan is not None:
        _warn_mixed_types(name, scan, key_like)
    if not key_like and (values.dtype.kind in "iu" or (scan and _all_numbers(scan))):
        _warn_wide_integers(name, values if scan is None else scan[0])
    return "string"


def _all_numbers(scan: Scan) -> bool:
    """Whether the present values of a scanned column are all numbers."""
    return bool(scan[1]) and all(number_class(k) for k in scan[1])


def _warn_wide_integers(name: str, present: npt.NDArray[Any]) -> None:
    """Warn that a property column of numbers is read as text because some of its integers
    are too wide for a float to hold exactly (2**53 or more) while others are not: those
    then compare and sort as text, where the streaming engine reads them as numbers. A
    column of wide integers alone is read as their digits without a word, as the engine
    reads each of them."""
    if present.dtype.kind in "iu":
        wide = int(np.count_nonzero((present >= EXACT_FLOAT_INT) | (present <= -EXACT_FLOAT_INT)))
    else:  # objects: the integers among floats
        wide = sum(1 for v in present.tolist() if isinstance(v, int) and abs(v) >= EXACT_FLOAT_INT)
    if wide == len(present):
        return
    warn(
        f"column {name!r} holds numbers, {wide:,} of them integers of 2**53 or more, which a "
        "float cannot hold exactly: it is read as text, every number as its digits; declare "
        f"dtypes={{{name!r}: 'float'}} to read them as numbers (those rounded), or write the "
        "column as text if the values are codes",
        DataWarning,
    )


#: the start of an id with white space at its start, among ids joined by NUL and framed by
#: NULs (searched in the reversed text too, for white space at an id's end); a literal first
#: character, which the regular expression engine finds fast
_PADDED = re.compile(r"\0\s")


def _warn_spaced_ids(ids: ObjectArray) -> None:
    """Warn when customer ids differ from another only by spaces around them (``"007 "``
    and ``"007"``): ids are kept as written, so they are two customers, which an export
    that pads some ids makes without a word."""
    # the text ids (a number among the ids is a bad row, said elsewhere)
    joined, given = joined_text(ids.tolist(), "\0")
    joined = f"\0{joined}\0"
    if not (_PADDED.search(joined) or _PADDED.search(joined[::-1])):  # scans of every id, in C
        return
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for written in sorted(given, key=lambda i: (i != i.strip(), i)):  # unpadded ones first
        other = seen.setdefault(written.strip(), written)
        if other != written:
            pairs.append((written, other))
    if pairs:
        first, other = pairs[0]
        warn(
            f"{len(pairs):,} customer id(s) differ from another only by spaces around them "
            f"(first: {first!r} and {other!r}); ids are kept as written, so these are "
            "different customers: strip the ids if they name the same one",
            DataWarning,
        )


def _warn_mixed_types(name: str, scan: Scan, key_like: bool) -> None:
    """Warn when a property column inferred as text (``scan``: its present values and their
    types) holds values of other types beside each other, which it reads as text: numbers
    beside text (not in a column named like a key, whose numbers are ids, read as their
    digits by design), or true/false beside text or numbers. Such a column compares and sorts
    as text, where the streaming engine, reading record by record, sees numbers and
    true/false. The warning names the column and how many rows hold each type."""
    present, kinds = scan
    numeric = {k for k in kinds if number_class(k)}
    truths = {k for k in kinds if issubclass(k, (bool, np.bool_))}
    texts = {k for k in kinds if issubclass(k, str)}
    # true/false beside any other type; numbers beside text, unless they are ids' digits
    mixed = texts or numeric if truths else texts and numeric and not key_like
    if not mixed:  # the usual case, decided on the types alone
        return
    counts = Counter(map(type, present.tolist()))
    text = sum(counts[k] for k in texts)
    numbers = sum(counts[k] for k in numeric)
    truth = sum(counts[k] for k in truths)
    held = [
        f"{what} in {count:,}"
        for what, count in (("text", text), ("numbers", numbers), ("true/false", truth))
        if count
    ]
    held[0] += " row(s)"
    holds = held[0] if len(held) == 1 else f"{', '.join(held[:-1])} and {held[-1]}"
    read = []
    if numbers:
        read.append("the numbers as their digits (10.0 as '10.0', which sorts before '9.0')")
    if truth:
        read.append("true/false as 'True' and 'False'")
    if text > max(numbers, truth):  # text meant: declaring a type would refuse most rows
        advice = "give it one type (the other values written as text, if text is meant)"
    else:
        wanted = "bool" if truth > numbers else "float"
        advice = (
            f"give it one type, or declare dtypes={{{name!r}: {wanted!r}}} to refuse the rows "
            "of other types"
        )
    warn(
        f"column {name!r} holds {holds}: it is read as text, {' and '.join(read)}; {advice}",
        DataWarning,
    )


def _mixed_columns(frame: Any, pa: Any) -> list[str]:
    """The object columns of a pandas frame that Arrow cannot convert (numbers and text
    mixed), or would convert wrongly (times with and without a zone, :func:`_mixes_zones`)."""
    mixed = []
    for name in [name for name in frame.columns if frame[name].dtype == object]:
        try:
            array = pa.array(frame[name], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            mixed.append(str(name))
        else:
            if pa.types.is_timestamp(array.type) and _mixes_zones(frame[name]):
                mixed.append(str(name))
    return mixed


def _mixed_zones(frame: Any, table: Any, pa: Any) -> list[str]:
    """The object columns of a pandas frame that Arrow converted to times although they mix
    times with a zone and naive ones (:func:`_mixes_zones`)."""
    return [
        str(name)
        for i, (name, field) in enumerate(zip(frame.columns, table.schema, strict=False))
        if frame.iloc[:, i].dtype == object
        and pa.types.is_timestamp(field.type)
        and _mixes_zones(frame.iloc[:, i])
    ]


def _mixes_zones(values: Any) -> bool:
    """Whether ``values`` hold times with a zone and times without one. Arrow converts such
    a column as if every time had the zone of the first (naive times read as UTC, or times
    with a zone as naive wall times), where each naive time needs ``timezone=`` and is a bad
    row without it, as in a column of naive times."""
    zoned = {v.tzinfo is not None for v in values.tolist() if isinstance(v, datetime)}
    return len(zoned) > 1


class InteractionLog:
    """A columnar, immutable log of interactions, sorted by (customer, timestamp, input order).

    Strings are dictionary-encoded (int32 codes and a sorted vocabulary), timestamps are int64
    microseconds since the epoch in UTC, numbers are float64 with NaN for missing. Rows are sorted
    once with a stable sort, so equal timestamps keep their input order; ``offsets`` (CSR) gives
    each customer's slice. The sort is done when the rows are first read in log order, so a
    summary that needs no order (such as :func:`cxmodel.models.rfm_summary`) never pays for it.
    Build one with :meth:`from_arrays`, :meth:`from_records`, :meth:`from_interactions`,
    :meth:`from_arrow` or :meth:`from_pandas`, or a reader such as :func:`cxmodel.read_csv`.

    Examples
    --------
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "b", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase", "value": 20},
    ...     {"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "view"},
    ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
    ... ])
    >>> len(log), log.customers.tolist(), log.offsets.tolist()
    (3, ['a', 'b'], [0, 2, 3])
    >>> log.column("kind").tolist()
    ['view', 'view', 'purchase']
    """

    __slots__ = (
        "_bools",
        "_customers",
        "_input",
        "_observed_until",
        "_questions",
        "_rejected",
        "_sorted",
    )

    def __init__(
        self,
        *,
        customer_codes: Codes,
        customers: ObjectArray,
        timestamps: Int64Array,
        row_order: Int64Array,
        strings: dict[str, tuple[Codes, ObjectArray]],
        numeric: dict[str, FloatArray],
        rejected: RejectedRows | None = None,
        questions: dict[str, Question] | None = None,
        observed_until: int | None = None,
        bools: frozenset[str] = frozenset(),
    ) -> None:
        # Private: use the named constructors. Arrays must already be sorted. ``bools`` names
        # the columns of ``numeric`` that hold booleans (1.0 true, 0.0 false, NaN missing).
        self._bools = bools
        self._questions = questions if questions is not None else question_catalogue()
        if observed_until is None and timestamps.shape[0]:
            observed_until = int(timestamps.max())
        self._observed_until = observed_until
        self._customers = customers
        self._rejected = rejected if rejected is not None else RejectedRows.empty()
        self._input: _Rows | None = None
        self._sorted: _Rows | None = _Rows.in_log_order(
            customer_codes, timestamps, row_order, strings, numeric, customers.shape[0]
        )

    @property
    def _rows(self) -> _Rows:
        """The row-aligned columns in log order, sorted on first use."""
        rows = self._sorted
        if rows is None:
            pending = self._input
            if pending is None:  # another thread has just sorted them
                rows = self._sorted
                assert rows is not None
                return rows
            rows = pending.sorted(self._customers.shape[0])
            self._sorted = rows  # set before the input is dropped: one of the two is always set
            self._input = None
        return rows

    def _rows_in_any_order(self) -> _Rows:
        """The row-aligned columns in input order if the log was not sorted yet (their
        ``offsets`` is ``None``), else in log order: for an analysis that needs no order, and
        so never pays for the sort."""
        rows = self._input
        if rows is None:
            rows = self._sorted
            assert rows is not None
        return rows

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        customer_id: Any,
        timestamp: Any,
        kind: Any,
        *,
        timezone: str | tzinfo | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
        catalogue: TouchpointCatalogue | None = DEFAULT_CATALOGUE,
        dtypes: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        questions: Iterable[Question] | None = None,
        **columns: Any,
    ) -> InteractionLog:
        """Build a log from column arrays (numpy arrays, lists, or anything array-like).

        Parameters
        ----------
        customer_id, timestamp, kind
            The required columns. Timestamps may be a numpy ``datetime64`` array (UTC), aware
            datetimes, ISO-8601 strings with an offset, or epoch seconds; naive values and
            dates need ``timezone`` (a column of dates is observed to the end of its last day).
            A pandas column (``Series``, ``DatetimeIndex``) is read as
            :meth:`from_pandas` reads it: aware times are converted, naive ones are wall times
            that need ``timezone``. ``kind`` may be one ``str``, the kind of every row
            (``kind="purchase"`` for an order export).
        timezone
            The zone of naive timestamps. Without it naive timestamps are rejected (a bad row
            naming the row, the column and the value). A numpy ``datetime64`` array is UTC and
            a ``timezone`` other than UTC would not apply to it: both together are refused.
        time_format
            The layout of text timestamps that are not ISO-8601, as a ``strptime`` format:
            ``"%m/%d/%Y %H:%M"`` reads ``12/1/2010 8:26``. Every text timestamp must then match
            it (a row that does not is a bad row); a format without a time of day
            (``"%d.%m.%Y"``) reads dates, observed as whole days as ISO dates are. Day and month
            are never guessed. Datetimes and epoch numbers are read as without it.
        errors
            ``"raise"`` raises :class:`~cxmodel.errors.SchemaError` for the first bad row;
            ``"quarantine"`` keeps the valid rows and lists the others in :attr:`rejected`.
        catalogue
            Touchpoint catalogue used to fill missing ``channel`` and ``stage`` values from the
            ``touchpoint`` column; ``None`` disables it.
        dtypes
            Column name -> ``"string"``, ``"float"`` or ``"bool"`` for properties. Without it,
            ``value``, ``score`` and ``sentiment`` are numbers, columns of numbers (float64-exact,
            and not named like an id: ``order_id``, ``sku``, ``zip``) are numbers, columns whose
            values are all bools are bools, everything else is text. A declared ``"bool"`` reads
            ``true``/``false`` (any case) and ``1``/``0``, as text or numbers. ``log.schema`` is
            a valid ``dtypes``.
        kinds
            Your event names -> the kinds to log them as, e.g. ``{"payment_done": "purchase"}``;
            names not listed are kept.
        questions
            Survey questions besides the standard ``nps``, ``csat`` and ``ces``
            (:class:`~cxmodel.domain.Question`); a survey row's ``metric`` names its question and
            its answer is checked against it (scale bounds, yes/no, choices). The log keeps them
            in :attr:`questions`.
        **columns
            Standard optional columns (``value``, ``score``, ``metric``, ...) and properties.

        Raises
        ------
        SchemaError
            A bad row (naming row, column and value), columns of different lengths, an
            unknown ``errors`` mode, or a ``timezone`` beside a numpy ``datetime64`` array;
            under ``"quarantine"``, every row rejected.

        Warns
        -----
        DataWarning
            Under ``errors="quarantine"``, when some rows were rejected (with the count).

        Examples
        --------
        >>> log = InteractionLog.from_arrays(
        ...     ["a", "b"], ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
        ...     ["payment_done", "view"], order_id=[7, 12], kinds={"payment_done": "purchase"})
        >>> log.column("kind").tolist(), log.schema["order_id"]
        (['purchase', 'view'], 'string')
        """
        timestamp = _zoned_times(timestamp, timezone)
        one = isinstance(kind, str)
        raw: dict[str, Any] = {"customer_id": customer_id, "timestamp": timestamp}
        if not one:
            raw["kind"] = kind
        raw.update(columns)
        return cls._from_columns(
            raw,
            timezone=timezone,
            time_format=time_format,
            errors=errors,
            catalogue=catalogue,
            dtypes=dtypes,
            kinds=kinds,
            kind=kind if one else None,
            questions=questions,
        )

    @classmethod
    def _from_columns(
        cls,
        columns: Mapping[str, Any],
        *,
        timezone: str | tzinfo | None = None,
        time_format: str | TimeFormat | None = None,
        errors: ErrorMode = "raise",
        catalogue: TouchpointCatalogue | None = DEFAULT_CATALOGUE,
        dtypes: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        kind: str | None = None,
        questions: Iterable[Question] | None = None,
        row_numbers: Int64Array | None = None,
        pre_errors: Mapping[int, str] | None = None,
        pre_records: Mapping[int, dict[str, Any]] | None = None,
        source: str | None = None,
        observed_until: int | None = None,
    ) -> InteractionLog:
        """The builder behind every constructor and reader.

        ``row_numbers`` gives each input position's row number as the user sees it (the file's);
        ``pre_errors`` are rows a reader already found bad (ragged, not JSON, ...) and
        ``pre_records`` their raw content for :attr:`rejected`. ``observed_until`` is the end
        the data were declared observed until (an Arrow table's metadata), if they say.
        """
        if errors not in ("raise", "quarantine"):
            raise SchemaError(f"errors must be 'raise' or 'quarantine' (got {errors!r})")
        declared = check_dtypes(dtypes)
        renames = check_kinds(kinds)
        zone = resolve_timezone(timezone)
        layout = checked_time_format(time_format)
        raw: dict[str, Any] = {name: _as_array(values) for name, values in columns.items()}
        _check_names(raw)
        one_kind = kind
        if kind is not None:
            raw = _with_one_kind(raw, kind)
        for name in REQUIRED:
            if name not in raw:
                raise missing_column_error(name, f"columns: {list(raw)}")
        unknown = [name for name in declared if name not in raw]
        if unknown:
            raise SchemaError(
                f"dtypes names column {unknown[0]!r}, which is not in the data "
                f"(columns: {list(raw)})"
            )
        lengths = {name: (arr.shape[0] if arr.ndim == 1 else -1) for name, arr in raw.items()}
        n = lengths["customer_id"]
        if n < 0 or any(length != n for length in lengths.values()):  # -1: not 1-d
            raise SchemaError(
                f"columns must all be one-dimensional with the same length (got {lengths})"
            )
        row_errors = RowErrors(row_numbers)
        row_errors.update(dict(pre_errors or {}))
        asked = question_catalogue(questions)
        answers = prepare_answers(raw, asked, row_errors)
        stamps = raw["timestamp"]
        if isinstance(stamps, Encoded):  # text: each distinct value once, or Arrow's parse
            times, time_errors = text_times(stamps, zone, layout)
        else:
            times, time_errors = timestamps_to_us(stamps, timezone_name=zone, time_format=layout)
        row_errors.update(time_errors)
        strings: dict[str, tuple[Codes, ObjectArray]] = {}
        numeric: dict[str, FloatArray] = {}
        bools: set[str] = set()
        for name, values in raw.items():
            if name == "timestamp":
                continue
            values = answers.get(name, values)
            kind = declared.get(name)
            if kind is None:
                kind = _inferred_kind(name, values)
            if kind == "bool":
                numeric[name] = to_bool_column(values, name, row_errors)
                bools.add(name)
            elif kind == "float" and isinstance(values, Encoded):
                numeric[name] = text_floats(values, name, row_errors)
            elif kind == "float":
                numeric[name] = to_float_column(values, name, row_errors)
            else:
                strings[name] = encode_text_column(values, name, row_errors)
        if renames:
            codes, cats = strings["kind"]
            warn_unused_renames(renames, cats[np.unique(codes[codes >= 0])])
            strings["kind"] = _sort_categories(
                codes, np.array([renames.get(c, c) for c in cats], dtype=object)
            )
            warn_lookalike_names(renames.values(), strings["kind"][1], argument=Argument.KINDS)
        if isinstance(one_kind, str):
            one = renames.get(one_kind, one_kind)
            warn_lookalike_names([one], strings["kind"][1], argument=Argument.KIND)
        if catalogue is not None and "touchpoint" in strings:
            _fill_from_catalogue(strings, catalogue, n)
        _warn_spaced_ids(strings["customer_id"][1])
        validate_rows(n, strings, numeric, row_errors, raw)
        validate_answers(strings, numeric, row_errors, asked, lambda name, row: raw[name][row])
        rejected = RejectedRows.empty()
        keep: npt.NDArray[np.bool_] | None = None
        if row_errors:
            if errors == "raise":
                raise_first(row_errors, source)
            bad_rows = np.fromiter(sorted(row_errors.reasons), dtype=np.int64)
            records = dict(pre_records or {})
            numbers = (
                bad_rows + 1 if row_numbers is None else np.asarray(row_numbers)[bad_rows]
            ).astype(np.int64)
            rejected = RejectedRows(
                numbers,
                np.array([row_errors.render(r) for r in bad_rows.tolist()], dtype=object),
                tuple(
                    records[r] if r in records else {k: plain(v[r]) for k, v in raw.items()}
                    for r in bad_rows.tolist()
                ),
            )
            if len(rejected) == n:
                _raise_nothing_accepted(rejected, row_errors, bad_rows, source)
            where = f"{source}: " if source else ""
            warn(
                f"{where}{len(rejected):,} of {n:,} rows rejected and kept in log.rejected "
                f"(first: row {int(numbers[0])}: {rejected.reason[0]})",
                DataWarning,
            )
            keep = np.ones(n, dtype=bool)
            keep[bad_rows] = False
        until = whole_days_end(stamps, times, keep, zone, layout)
        if keep is not None:
            times = times[keep]
            strings = {k: (c[keep], cats) for k, (c, cats) in strings.items()}
            numeric = {k: v[keep] for k, v in numeric.items()}
            row_ids = np.flatnonzero(keep).astype(np.int64)
        else:
            row_ids = np.arange(n, dtype=np.int64)
        if observed_until is not None:
            last = int(times.max()) if times.shape[0] else None
            until = declared_or_seen(observed_until, last, until, source=source)
        return cls._assemble(
            times, row_ids, strings, numeric, rejected, asked, frozenset(bools), until
        )

    @classmethod
    def _assemble(
        cls,
        times: Int64Array,
        row_ids: Int64Array,
        strings: dict[str, tuple[Codes, ObjectArray]],
        numeric: dict[str, FloatArray],
        rejected: RejectedRows,
        questions: dict[str, Question] | None = None,
        bools: frozenset[str] = frozenset(),
        observed_until: int | None = None,
    ) -> InteractionLog:
        cust_codes, cust_cats = strings.pop("customer_id")
        used = np.zeros(cust_cats.shape[0], dtype=bool)
        used[cust_codes] = True
        if not used.all():  # drop customers whose rows were all rejected
            remap = np.cumsum(used) - 1
            cust_codes = remap[cust_codes].astype(np.int32)
            cust_cats = cust_cats[used]
        rows = _Rows(cust_codes, times, row_ids, strings, numeric)
        return cls._unsorted(cust_cats, rows, questions, rejected, observed_until, bools)

    @classmethod
    def _unsorted(
        cls,
        customers: ObjectArray,
        rows: _Rows,
        questions: dict[str, Question] | None,
        rejected: RejectedRows,
        observed_until: int | None,
        bools: frozenset[str] = frozenset(),
    ) -> InteractionLog:
        """A log of ``rows`` in input order, sorted when they are first read in log order;
        observed until its last row when ``observed_until`` is ``None``; ``bools`` names the
        numeric columns that hold booleans."""
        log = cls.__new__(cls)
        log._bools = bools
        log._questions = questions if questions is not None else question_catalogue()
        log._customers = customers
        log._rejected = rejected
        log._input = rows
        log._sorted = None
        if observed_until is None and rows.timestamps.shape[0]:
            observed_until = int(rows.timestamps.max())
        log._observed_until = observed_until
        return log

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        timezone: str | tzinfo | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
        dtypes: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        kind: str | None = None,
        questions: Iterable[Question] | None = None,
    ) -> InteractionLog:
        """Build a log from mappings (one per interaction); missing keys are missing values.

        Takes the same ``timezone``, ``time_format``, ``errors``, ``dtypes``, ``kinds`` and
        ``questions`` as :meth:`from_arrays` (a multiple-choice ``answer`` may be a list of choices), and
        ``kind``, the kind of every record when they have no ``kind`` key (a record that has
        one is then an error, as :func:`~cxmodel.io.read_csv` says);
        row numbers in messages count records from 1. A record that is not a mapping is a bad
        row; a key that is not a string is an error.

        Examples
        --------
        >>> log = InteractionLog.from_records(
        ...     [{"customer_id": "007", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
        ...      {"customer_id": "7", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}])
        >>> log.customers.tolist()
        ['007', '7']
        """
        if not isinstance(records, Iterable) or isinstance(records, (str, bytes, Mapping)):
            raise ValueTypeError(
                f"from_records(): records must be a sequence of mappings; got {got(records)}"
            )
        rows = list(records)
        required = REQUIRED if kind is None else ("customer_id", "timestamp")
        names: dict[str, None] = dict.fromkeys(required)
        bad: dict[int, str] = {}
        for number, row in enumerate(rows):
            if not isinstance(row, Mapping):
                bad[number] = f"record {show(row)} is {type(row).__name__}; expected a mapping"
                continue
            for key in row:
                if not isinstance(key, str):
                    raise SchemaError(
                        f"row {number + 1}: key {show(key)} is a {type(key).__name__}; column "
                        "names must be strings"
                    )
            names.update(dict.fromkeys(row))
        columns: dict[str, Any] = {}
        for name in names:
            column = np.empty(len(rows), dtype=object)
            column[:] = [row.get(name) if isinstance(row, Mapping) else None for row in rows]
            columns[name] = column
        for name in required:
            if rows and all(v is None for v in columns[name]):
                raise SchemaError(f"required column {name!r} is missing from every record")
        return cls._from_columns(
            columns,
            timezone=timezone,
            time_format=time_format,
            errors=errors,
            dtypes=dtypes,
            kinds=kinds,
            kind=kind,
            questions=questions,
            pre_errors=bad,
            pre_records={i: {"record": plain(rows[i])} for i in bad},
        )

    @classmethod
    def from_interactions(cls, interactions: Iterable[Interaction]) -> InteractionLog:
        """Build a log from :class:`~cxmodel.domain.Interaction` objects."""
        items = list(interactions) if isinstance(interactions, Iterable) else None
        if (
            items is None
            or isinstance(interactions, (str, Mapping))
            or not all(isinstance(item, Interaction) for item in items)
        ):
            raise ValueTypeError(
                "from_interactions(): interactions must be Interaction objects; got "
                f"{got(interactions)}"
            )
        return cls.from_records([i.to_record() for i in items])

    @classmethod
    def from_arrow(
        cls,
        data: Any,
        *,
        mapping: Mapping[str, str] | None = None,
        timezone: str | tzinfo | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
        dtypes: Mapping[str, str] | None = None,
        kinds: Mapping[str, str] | None = None,
        kind: str | None = None,
        questions: Iterable[Question] | None = None,
    ) -> InteractionLog:
        """Build a log from anything exposing the Arrow PyCapsule stream interface.

        pyarrow tables, polars frames and record batch readers all qualify. Requires pyarrow.
        Takes ``mapping`` (your column names -> standard names), the ``timezone``,
        ``time_format``, ``errors``, ``dtypes``, ``kinds`` and ``questions`` of
        :meth:`from_arrays`, and the ``kind`` of
        :func:`~cxmodel.io.read_csv` (every row of that kind, for data without a kind column). Integer columns named like ids
        (``order_id``, ``sku``) or holding whole numbers beyond 2**53 stay text with their exact
        digits unless ``dtypes`` says otherwise (its keys may be your names or the standard ones,
        as for the readers). Lists, structs and maps are rejected row by row. A table written by
        :meth:`to_arrow` is observed until the :attr:`observed_until` written in its schema
        metadata (one with a later interaction than that end ignores it, with a
        :class:`~cxmodel.errors.DataWarning`); any other table as its rows say.
        """
        from cxmodel.log._arrow import arrow_table, arrow_to_columns, declared_dtypes, declared_end

        table = arrow_table(data)
        columns, types = arrow_to_columns(table, mapping=mapping)
        return cls._from_columns(
            columns,
            timezone=timezone,
            time_format=time_format,
            errors=errors,
            dtypes={**types, **(declared_dtypes(dtypes, mapping) or {})},
            kinds=kinds,
            kind=kind,
            questions=questions,
            observed_until=declared_end(table),
        )

    @classmethod
    def from_pandas(
        cls,
        frame: Any,
        *,
        mapping: Mapping[str, str] | None = None,
        timezone: str | tzinfo | None = None,
        time_format: str | None = None,
        errors: ErrorMode = "raise",
        kind: str | None = None,
        questions: Iterable[Question] | None = None,
    ) -> InteractionLog:
        """Build a log from a pandas DataFrame (through pyarrow); tz-aware times are converted,
        naive ones are wall times read in ``timezone`` (a bad row without it), as everywhere.

        ``questions`` declares survey questions and ``time_format`` the layout of text
        timestamps as in :meth:`from_arrays`; ``kind`` is the kind
        of every row of a frame without a kind column, as in :func:`~cxmodel.io.read_csv`.
        The levels of a named index (``frame.set_index("customer_id")``) are read as
        columns (a column of the same name wins); an unnamed index, row numbers, is not.
        """
        from cxmodel._optional import import_optional

        pd = sys.modules.get("pandas")  # a pandas DataFrame means pandas is imported
        if pd is None or not isinstance(frame, pd.DataFrame):
            raise ValueTypeError(
                f"from_pandas(): frame must be a pandas DataFrame; got {got(frame)} (a polars "
                "frame or a pyarrow table goes to InteractionLog.from_arrow)"
            )
        pa = import_optional("pyarrow", "InteractionLog.from_pandas()")
        named = [n for n in frame.index.names if n is not None and n not in frame.columns]
        if named:  # a new frame: the caller's is not changed
            frame = frame.reset_index(level=named)
        from cxmodel.log._arrow import unique_names

        _check_names(unique_names(list(frame.columns)))  # before pyarrow, which cannot take one
        sparse = [n for n, t in frame.dtypes.items() if isinstance(t, pd.SparseDtype)]
        if sparse:  # pyarrow has no sparse type: the values, dense, in a copy of the frame
            frame = frame.copy(deep=False)
            for name in sparse:
                frame[name] = frame[name].sparse.to_dense()
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            mixed = _mixed_columns(frame, pa)
            if not mixed:
                raise
        else:
            mixed = _mixed_zones(frame, table, pa)
        if not mixed:
            return cls.from_arrow(
                table,
                mapping=mapping,
                timezone=timezone,
                time_format=time_format,
                errors=errors,
                kind=kind,
                questions=questions,
            )
        # Object columns mixing numbers and text (an Excel export, frames concatenated) have no
        # Arrow type: they are read, in their place, as from_arrays reads Python objects.
        from cxmodel.log._arrow import apply_mapping, arrow_to_columns

        placeholders = frame.assign(**dict.fromkeys(mixed))
        columns, types = arrow_to_columns(
            pa.Table.from_pandas(placeholders, preserve_index=False), mapping=mapping
        )
        renamed = apply_mapping([str(name) for name in frame.columns], mapping, say=False)
        for name in mixed:  # pandas' missing values (None, NaN, NA, NaT) as None
            values = frame[name].to_numpy(dtype=object, copy=True)
            values[frame[name].isna().to_numpy()] = None
            columns[renamed[name]] = values
        return cls._from_columns(
            columns,
            timezone=timezone,
            time_format=time_format,
            errors=errors,
            dtypes=types,
            kind=kind,
            questions=questions,
        )

    # ------------------------------------------------------------------ export
    def to_arrow(self) -> Any:
        """A pyarrow Table: dictionary-encoded strings, ``timestamp[us, UTC]``, float64 numbers
        and ``bool`` columns (null for missing); :attr:`observed_until` is in the schema
        metadata (key ``cxmodel.observed_until``, ISO-8601 text in UTC), which
        :meth:`from_arrow` and :func:`~cxmodel.io.read_parquet` restore."""
        from cxmodel.log._arrow import log_to_arrow

        return log_to_arrow(self)

    def __arrow_c_stream__(self, requested_schema: object = None) -> Any:
        """Export through the Arrow PyCapsule stream interface (requires pyarrow)."""
        return self.to_arrow().__arrow_c_stream__(requested_schema)

    def to_pandas(self) -> Any:
        """A pandas DataFrame with one row per interaction, in log order; bool columns have
        pandas' nullable ``"boolean"`` dtype (``<NA>`` for missing)."""
        from cxmodel._optional import import_optional

        pd = import_optional("pandas", "InteractionLog.to_pandas()")
        pa = import_optional("pyarrow", "InteractionLog.to_pandas()")
        return self.to_arrow().to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get)

    # ------------------------------------------------------------------ columns
    def __len__(self) -> int:
        return int(self._rows_in_any_order().timestamps.shape[0])

    @property
    def n_customers(self) -> int:
        """Number of customers."""
        return int(self._customers.shape[0])

    @property
    def customers(self) -> ObjectArray:
        """The customer ids, sorted; row ``i`` belongs to ``customers[customer_codes[i]]``."""
        return self._customers

    @property
    def customer_codes(self) -> Codes:
        """Each row's index into :attr:`customers` (non-decreasing)."""
        return self._rows.codes

    @property
    def offsets(self) -> Int64Array:
        """CSR offsets: customer ``i``'s rows are ``offsets[i]:offsets[i + 1]``."""
        offsets = self._rows.offsets
        assert offsets is not None
        return offsets

    @property
    def timestamps(self) -> Int64Array:
        """Microseconds since the Unix epoch, UTC."""
        return self._rows.timestamps

    @property
    def row_order(self) -> Int64Array:
        """Each row's 0-based position in the input the log was built from."""
        return self._rows.row_order

    @property
    def observed_until(self) -> int | None:
        """The end of the observation window, in microseconds since the epoch (UTC).

        A log built from data is observed until its last interaction; when every timestamp
        was read from text that is a date without a time of day (``2024-03-31``, ``19970101``),
        until the last microsecond of its last day in the zone the dates were read in (the next
        midnight there, less 1 µs), since such an export covers the whole day. Logs derived
        from it by :meth:`filter`, :meth:`select` and :meth:`with_column` keep that time, so
        filtering (to one topic, say) does not move the time at which open tickets are
        censored; :meth:`between` with an ``end`` cuts it to ``end`` when that comes first.
        ``None`` for a log built empty.

        Examples
        --------
        >>> log = InteractionLog.from_arrays(["a", "b"], [0, 60], ["view", "login"])
        >>> log.observed_until, log.filter(log.kind_mask("view")).observed_until
        (60000000, 60000000)
        >>> days = InteractionLog.from_arrays(["a"], ["2024-03-31"], ["view"],
        ...                                   timezone="Europe/Paris")
        >>> str(us_to_datetime(days.observed_until))
        '2024-03-31 21:59:59.999999+00:00'
        """
        return self._observed_until

    @property
    def questions(self) -> dict[str, Question]:
        """The survey questions this log was validated against, by name (a copy).

        The standard ``nps``, ``csat`` and ``ces`` plus those given as ``questions=``.
        """
        return dict(self._questions)

    @property
    def rejected(self) -> RejectedRows:
        """Rows rejected while building this log (``errors="quarantine"``)."""
        return self._rejected

    @property
    def columns(self) -> tuple[str, ...]:
        """All column names: the required ones first, then the rest in a stable order."""
        rows = self._rows_in_any_order()
        rest = [*rows.strings, *rows.numeric]
        return ("customer_id", "timestamp", "kind", *(c for c in rest if c != "kind"))

    @property
    def schema(self) -> dict[str, str]:
        """Column name -> ``"string"``, ``"float"``, ``"bool"`` or ``"timestamp"``."""
        types = {"customer_id": "string", "timestamp": "timestamp"}
        rows = self._rows_in_any_order()
        types.update(dict.fromkeys(rows.strings, "string"))
        types.update(dict.fromkeys(rows.numeric, "float"))
        types.update(dict.fromkeys(self._bools, "bool"))
        return {name: types[name] for name in self.columns}

    @property
    def kinds(self) -> ObjectArray:
        """The vocabulary of the ``kind`` column."""
        return self._rows_in_any_order().strings["kind"][1]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):  # a list or dict given for a column name is not one
            return False
        rows = self._rows_in_any_order()
        return name in ("customer_id", "timestamp") or name in rows.strings or name in rows.numeric

    def _unknown(self, name: str) -> SchemaError:
        hint = did_you_mean(name, self.columns)
        return SchemaError(
            f"column {name!r} is not in the log (columns: {list(self.columns)}){hint}"
        )

    def categorical(self, name: str) -> tuple[Codes, ObjectArray]:
        """Codes (int32, -1 = missing) and sorted categories of a string column."""
        text_value(name, "categorical()", "name")
        if name == "customer_id":
            return self._rows.codes, self._customers
        if name in self._rows_in_any_order().strings:
            return self._rows.strings[name]
        if name in self._rows_in_any_order().numeric:
            what = "a bool" if name in self._bools else "numeric"
            raise SchemaError(f"column {name!r} is {what}, not a string column")
        raise self._unknown(name)

    def numeric(self, name: str) -> FloatArray:
        """A numeric column as float64 with NaN for missing; a bool column as 1.0 (true),
        0.0 (false) and NaN (missing), whose mean is the share of true values."""
        text_value(name, "numeric()", "name")
        if name in self._rows_in_any_order().numeric:
            return self._rows.numeric[name]
        if name in self:
            raise SchemaError(
                f"column {name!r} is not numeric (it is a {self.schema[name]} column)"
            )
        raise self._unknown(name)

    def column(self, name: str) -> npt.NDArray[Any]:
        """A decoded column: str/None objects for text, float64 (NaN for missing) for numbers,
        True/False/None objects for booleans, or ``datetime64[us]`` for timestamps.

        Examples
        --------
        >>> log = InteractionLog.from_records([
        ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view", "vip": True},
        ...     {"customer_id": "b", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}])
        >>> log.schema["vip"], log.column("vip").tolist(), log.numeric("vip").tolist()
        ('bool', [True, None], [1.0, nan])
        """
        text_value(name, "column()", "name")
        if name == "timestamp":
            return self._rows.timestamps.astype("datetime64[us]")
        if name in self._bools:
            values = self._rows.numeric[name]
            decoded = np.full(values.shape[0], None, dtype=object)
            present = ~np.isnan(values)
            decoded[present] = values[present] == 1.0
            return decoded
        if name in self._rows_in_any_order().numeric:
            return self._rows.numeric[name]
        codes, cats = self.categorical(name)
        return _with_none(cats)[codes]

    def kind_mask(self, *kinds: str) -> npt.NDArray[np.bool_]:
        """Rows whose kind is one of ``kinds``.

        A standard kind the log does not hold (:data:`cxmodel.STANDARD_KINDS`, e.g. no refunds
        this month) matches nothing; any other kind the log does not hold is taken for a typo.

        Raises
        ------
        SchemaError
            A kind that is neither in the log nor a standard kind, named with a did-you-mean.

        Examples
        --------
        >>> log = InteractionLog.from_arrays(["a", "a"], [0, 1], ["view", "purchase"])
        >>> log.kind_mask("purchase", "refund").tolist()
        [False, True]
        >>> log.kind_mask("purchse")
        Traceback (most recent call last):
        ...
        cxmodel.errors.SchemaError: kind_mask(): unknown kind 'purchse' (not in the log and not a standard kind); did you mean 'purchase'?
        """
        return _kind_mask(self._rows, kinds, "kind_mask()")

    def _kind_rows(
        self, kind: str, names: Sequence[str], argument: str
    ) -> tuple[Codes, Int64Array, dict[str, FloatArray]]:
        """The customer codes, times and numeric columns ``names`` of the rows of ``kind``, in
        log order, without sorting the whole log when it was not sorted yet (only these rows
        are): for summaries of one kind of row. When that kind is at least half of the rows,
        the whole log is sorted instead, once, so that later reads need no sort of their own.
        ``argument`` names the caller in errors about the kind, as in :meth:`kind_mask`."""
        rows = self._rows_in_any_order()
        for name in names:
            if name not in rows.numeric:
                self.numeric(name)  # raises: not a numeric column, or not in the log
        picked = np.flatnonzero(_kind_mask(rows, (kind,), argument))
        unsorted = rows.offsets is None
        if unsorted and 2 * picked.shape[0] >= rows.codes.shape[0]:
            rows = self._rows
            picked = np.flatnonzero(_kind_mask(rows, (kind,), argument))
        elif unsorted:  # the picked rows alone are put in log order
            picked = picked[_sort_order(rows.codes[picked], rows.timestamps[picked])]
        values = {name: rows.numeric[name][picked] for name in names}
        return rows.codes[picked], rows.timestamps[picked], values

    # ------------------------------------------------------------------ derived logs
    def filter(self, mask: npt.ArrayLike) -> InteractionLog:
        """The rows where ``mask`` is true (a boolean array in log order); order is kept.

        The result keeps this log's :attr:`observed_until`.
        """
        keep = np.asarray(mask)
        if keep.dtype != np.bool_ or keep.shape != (len(self),):
            raise SchemaError(
                f"filter() needs a boolean mask of length {len(self)} (got dtype {keep.dtype}, "
                f"shape {keep.shape})"
            )
        return self._subset(keep, self._observed_until)

    def _subset(
        self, keep: npt.NDArray[np.bool_], observed_until: int | None, rows: _Rows | None = None
    ) -> InteractionLog:
        """The rows ``keep`` of ``rows`` (by default this log's, in log order); customers
        without a row kept are dropped, every other category is kept. Rows in input order
        give a log that sorts them when it is first read in log order."""
        rows = self._rows if rows is None else rows
        codes = rows.codes[keep]
        present = np.zeros(self.n_customers, dtype=bool)
        present[codes] = True
        remap = (np.cumsum(present) - 1).astype(np.int32)
        strings = {k: (c[keep], cats) for k, (c, cats) in rows.strings.items()}
        numeric = {k: v[keep] for k, v in rows.numeric.items()}
        if rows.offsets is not None:
            return InteractionLog(
                customer_codes=remap[codes],
                customers=self._customers[present],
                timestamps=rows.timestamps[keep],
                row_order=rows.row_order[keep],
                strings=strings,
                numeric=numeric,
                questions=self._questions,
                observed_until=observed_until,
                bools=self._bools,
            )
        kept = _Rows(remap[codes], rows.timestamps[keep], rows.row_order[keep], strings, numeric)
        return InteractionLog._unsorted(
            self._customers[present],
            kept,
            self._questions,
            RejectedRows.empty(),
            observed_until,
            self._bools,
        )

    def _of_kinds(self, kinds: Sequence[str], argument: str) -> InteractionLog:
        """The rows of ``kinds``, as ``filter(kind_mask(*kinds))`` keeps them, without sorting
        this log when it was not sorted yet (the rows kept are sorted alone, when they are first
        read in log order): for analyses of a few kinds of rows, such as survey answers.
        ``argument`` names the caller in errors about the kinds, as in :meth:`kind_mask`."""
        rows = self._rows_in_any_order()
        return self._subset(_kind_mask(rows, kinds, argument), self._observed_until, rows)

    def orders(self, kind: str = "purchase") -> InteractionLog:
        """This log with each order one row: the lines of an order of ``kind`` merged.

        Line-item exports (UCI Online Retail, Olist order items, Instacart) write one row per
        product line, so one order is several rows of one customer. Rows of ``kind`` of one
        customer are lines of one order when they share an ``order_id`` (the log has that
        column and neither value is missing), or when neither has an ``order_id`` and they are
        at the same instant. The order's row is its first line in log order (the earliest; among
        lines at one instant the first in the input), with ``value`` and a numeric
        ``quantity`` summed over the lines (missing only when every line's is missing); every
        other column is the first line's. Rows of other kinds are unchanged, rows stay in log
        order, and :attr:`observed_until`, :attr:`questions` and :attr:`rejected` are kept.
        Merging twice merges nothing more. Count-based analyses (``repeat_purchase_rate``,
        ``rfm_scores``, the customer table's ``frequency``) warn when they count lines as
        purchases of their own.

        Parameters
        ----------
        kind : str, default "purchase"
            The kind of the rows to merge.

        Returns
        -------
        InteractionLog
            This log itself when no two rows of ``kind`` are lines of one order.

        Raises
        ------
        SchemaError
            A ``kind`` that is neither in the log nor a standard kind (with a did-you-mean).
        DataError
            An order whose ``value`` or ``quantity`` sum is past the float range (naming the
            column and the customer).

        Examples
        --------
        >>> log = InteractionLog.from_arrays(
        ...     ["a", "a", "a", "b"], ["2024-01-01T09:00Z"] * 3 + ["2024-01-02T10:00Z"],
        ...     ["purchase", "purchase", "view", "purchase"], value=[10.0, 5.0, None, 7.0],
        ...     product=["tea", "cup", None, "tea"])
        >>> orders = log.orders()
        >>> len(log), len(orders), orders.column("value").tolist()
        (4, 3, [15.0, nan, 7.0])
        >>> orders.column("product").tolist(), orders.column("kind").tolist()
        (['tea', None, 'tea'], ['purchase', 'view', 'purchase'])
        """
        from cxmodel.log._orders import merge_order_lines

        return merge_order_lines(self, text_value(kind, "orders()", "kind"))

    def between(self, start: TimeLike | None = None, end: TimeLike | None = None) -> InteractionLog:
        """Interactions with ``start <= timestamp < end`` (either bound may be ``None``).

        The result is observed until ``end`` when that comes before this log's
        :attr:`observed_until`, else until the same time as this log.
        """
        mask = np.ones(len(self), dtype=bool)
        until = self._observed_until
        first = None if start is None else to_us(start, what="start")
        if first is not None:
            mask &= self._rows.timestamps >= first
        if end is not None:
            stop = to_us(end, what="end")
            if first is not None and stop <= first:  # an empty log would read as "nothing"
                raise SchemaError(
                    f"between(): end {us_to_datetime(stop).isoformat()} is not after start "
                    f"{us_to_datetime(first).isoformat()}: the period [start, end) holds no "
                    "time; swap them, or give the period a length"
                )
            mask &= self._rows.timestamps < stop
            until = stop if until is None else min(until, stop)
        return self._subset(mask, until)

    def with_observed_until(self, end: TimeLike) -> InteractionLog:
        """This log, declared observed until ``end``: the export covers that time, though
        nothing happened after its last interaction.

        Analyses that ask about times after :attr:`observed_until` (a churn period, an
        ``as_of``, an outcome window) refuse or warn about them; an export that ends after
        some quiet hours or days says so here instead. ``end`` cannot come before the last
        interaction (cut the log with :meth:`between` for that).

        Raises
        ------
        DataError
            If an interaction of the log is later than ``end``.

        Examples
        --------
        >>> log = InteractionLog.from_arrays(["a"], ["2024-01-30T12:00Z"], ["purchase"])
        >>> str(us_to_datetime(log.with_observed_until("2024-02-01T00:00Z").observed_until))
        '2024-02-01 00:00:00+00:00'
        """
        until = to_us(end, what="end")
        check_observed_end(last_time(self), until, caller="with_observed_until()")
        out = copy.copy(self)  # the same rows, columns and rejected rows, shared
        out._observed_until = until
        return out

    def select(self, names: Sequence[str]) -> InteractionLog:
        """Keep only the named optional columns (the required columns always stay)."""
        names = name_sequence(names, "select()", "names")
        for name in names:
            if name not in self:
                raise self._unknown(name)
        keep = set(names) | {"kind"}
        rows = self._rows
        return InteractionLog(
            customer_codes=rows.codes,
            customers=self._customers,
            timestamps=rows.timestamps,
            row_order=rows.row_order,
            strings={k: v for k, v in rows.strings.items() if k in keep},
            numeric={k: v for k, v in rows.numeric.items() if k in keep},
            questions=self._questions,
            observed_until=self._observed_until,
            bools=self._bools & keep,
        )

    def with_column(self, name: str, values: npt.ArrayLike) -> InteractionLog:
        """A new log with ``name`` added or replaced; ``values`` are in log order."""
        text_value(name, "with_column()", "name")
        _check_names({name: values})
        if name in REQUIRED:
            raise SchemaError(f"with_column() cannot replace the required column {name!r}")
        array = _as_array(values)
        if array.shape != (len(self),):
            raise SchemaError(
                f"with_column({name!r}): values have shape {array.shape}, expected ({len(self)},)"
            )
        if array.dtype == object:  # pandas' NA and NaT are missing, not the text '<NA>'
            missing = missing_labels(array)
            if missing.any():
                array = array.copy()
                array[missing] = None
        rows = self._rows
        strings = {k: v for k, v in rows.strings.items() if k != name}
        numeric = {k: v for k, v in rows.numeric.items() if k != name}
        bools = self._bools - {name}
        row_errors = RowErrors()
        if name not in NUMERIC_STANDARD and name not in STRING_STANDARD and _infer_bool(array):
            numeric[name] = to_bool_column(array, name, row_errors)
            bools |= {name}
        elif name in NUMERIC_STANDARD or (name not in STRING_STANDARD and _infer_numeric(array)):
            numeric[name] = to_float_column(array, name, row_errors)
        else:  # the values a log's text column holds, by the rules of from_arrays
            strings[name] = encode_strings(to_text_column(array, name, row_errors))
        raise_first(row_errors)
        return InteractionLog(
            customer_codes=rows.codes,
            customers=self._customers,
            timestamps=rows.timestamps,
            row_order=rows.row_order,
            strings=strings,
            numeric=numeric,
            questions=self._questions,
            observed_until=self._observed_until,
            bools=bools,
        )

    # ------------------------------------------------------------------ journeys
    def customer_index(self, customer_id: str) -> int:
        """The index of ``customer_id`` in :attr:`customers`; unknown ids raise DataError."""
        text_value(customer_id, "customer_index()", "customer_id")
        i = int(np.searchsorted(self._customers, customer_id))
        if i >= self.n_customers or self._customers[i] != customer_id:
            close = similar_ids(customer_id, self._customers.tolist())
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise DataError(
                f"customer {customer_id!r} is not in the log ({self.n_customers:,} customers){hint}"
            )
        return i

    def interactions(self, start: int = 0, stop: int | None = None) -> list[Interaction]:
        """Rows ``start:stop`` as :class:`~cxmodel.domain.Interaction` objects.

        Raises
        ------
        IndexOutOfRangeError
            When ``start`` or ``stop`` is outside ``0`` to ``len(log)``.
        """
        start = integer(start, "interactions()", "start")
        stop = len(self) if stop is None else integer(stop, "interactions()", "stop")
        if not (0 <= start <= len(self) and 0 <= stop <= len(self)):
            raise IndexOutOfRangeError(
                f"interactions(): rows {start}:{stop} are outside the log's rows 0:{len(self)}"
            )
        fields = {
            "interaction_id",
            "touchpoint",
            "channel",
            "stage",
            "metric",
            "value",
            "score",
            "sentiment",
        }
        decoded = {
            name: self.column(name)[start:stop]
            for name in self.columns
            if name not in ("customer_id", "timestamp", "kind")
        }
        kinds = self.column("kind")[start:stop]
        codes, times = self._rows.codes, self._rows.timestamps
        out = []
        with known_questions(self._questions):  # answers to the log's declared questions
            for j in range(stop - start):
                row = start + j
                standard = {k: plain(v[j]) for k, v in decoded.items() if k in fields}
                props = {k: plain(v[j]) for k, v in decoded.items() if k not in fields}
                out.append(
                    Interaction(
                        str(self._customers[codes[row]]),
                        us_to_datetime(times[row]),
                        str(kinds[j]),
                        **{k: v for k, v in standard.items() if v is not None},
                        properties={k: v for k, v in props.items() if v is not None},
                    )
                )
        return out

    def journey(self, customer_id: str) -> Journey:
        """One customer's journey, in log order."""
        i = self.customer_index(customer_id)
        return Journey(
            customer_id, self.interactions(int(self.offsets[i]), int(self.offsets[i + 1]))
        )

    def __iter__(self) -> Iterator[Journey]:
        for i in range(self.n_customers):
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            yield Journey(str(self._customers[i]), self.interactions(lo, hi))

    def customers_table(
        self, as_of: TimeLike, *, traits: Any = None, usage: Any = None
    ) -> CustomerTable:
        """The one-row-per-customer table as of ``as_of``, with customer ``traits`` and
        ``usage`` counts when given; see :meth:`cxmodel.log.CustomerTable.from_log`."""
        from cxmodel.log._customer_table import CustomerTable

        return CustomerTable.from_log(self, as_of=as_of, traits=traits, usage=usage)

    # ------------------------------------------------------------------ comparison and display
    def equals(self, other: InteractionLog) -> bool:
        """Same customers, times, and decoded values in every column (input positions ignored)."""
        if not isinstance(other, InteractionLog) or len(self) != len(other):
            return False
        if self.schema != other.schema or not np.array_equal(self._customers, other._customers):
            return False
        if not np.array_equal(self._rows.codes, other._rows.codes):
            return False
        for name in self.columns:
            a, b = self.column(name), other.column(name)
            if a.dtype.kind == "f":
                if not np.array_equal(a, b, equal_nan=True):
                    return False
            elif not np.array_equal(a, b):
                return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InteractionLog):
            return NotImplemented
        return self.equals(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def nbytes(self) -> int:
        """Bytes held by all column arrays (codes, vocabularies excluded, offsets included)."""
        rows = self._rows
        total = sum(a.nbytes for a in (rows.codes, rows.timestamps, rows.row_order, self.offsets))
        total += sum(c.nbytes for c, _ in rows.strings.values())
        total += sum(v.nbytes for v in rows.numeric.values())
        return int(total)

    def summary(self) -> dict[str, Any]:
        """Rows, customers, date range, kinds and their counts, rejected rows."""
        rows = self._rows_in_any_order()  # counts and bounds need no order
        codes, kinds = rows.strings["kind"]
        counts = np.bincount(codes[codes >= 0], minlength=kinds.shape[0])
        first = us_to_datetime(rows.timestamps.min()) if len(self) else None
        last = us_to_datetime(rows.timestamps.max()) if len(self) else None
        out: dict[str, Any] = {
            "rows": len(self),
            "customers": self.n_customers,
            "first": first,
            "last": last,
            "kinds": dict(zip(kinds.tolist(), counts.tolist())),
        }
        for name in ("touchpoint", "channel", "stage"):
            if name in rows.strings:
                c, cats = rows.strings[name]
                n = np.bincount(c[c >= 0], minlength=cats.shape[0])
                out[name + "s"] = dict(zip(cats.tolist(), n.tolist()))
        out["rejected"] = len(self._rejected)
        return out

    def __repr__(self) -> str:
        s = self.summary()
        span = f"{s['first']:%Y-%m-%d} .. {s['last']:%Y-%m-%d}" if s["rows"] else "empty"
        return (
            f"InteractionLog({s['rows']:,} interactions, {s['customers']:,} customers, {span}, "
            f"{len(s['kinds'])} kinds)"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        kinds = ", ".join(f"{html.escape(k)} ({v:,})" for k, v in s["kinds"].items())
        span = (
            f"{s['first']:%Y-%m-%d %H:%M} .. {s['last']:%Y-%m-%d %H:%M} UTC" if s["rows"] else "-"
        )
        return (
            "<table><caption>InteractionLog</caption>"
            f"<tr><th>rows</th><td>{s['rows']:,}</td></tr>"
            f"<tr><th>customers</th><td>{s['customers']:,}</td></tr>"
            f"<tr><th>dates</th><td>{span}</td></tr>"
            f"<tr><th>kinds</th><td>{kinds}</td></tr>"
            f"<tr><th>rejected</th><td>{s['rejected']:,}</td></tr></table>"
        )


class _Rows:
    """The row-aligned columns of a log, all in one order: the log's, with the CSR offsets,
    or the input's for a log not sorted yet (``offsets`` is ``None``)."""

    __slots__ = ("codes", "numeric", "offsets", "row_order", "strings", "timestamps")

    def __init__(
        self,
        codes: Codes,
        timestamps: Int64Array,
        row_order: Int64Array,
        strings: dict[str, tuple[Codes, ObjectArray]],
        numeric: dict[str, FloatArray],
        offsets: Int64Array | None = None,
    ) -> None:
        self.codes = codes
        self.timestamps = timestamps
        self.row_order = row_order
        self.strings = strings
        self.numeric = numeric
        self.offsets = offsets

    @classmethod
    def in_log_order(
        cls,
        codes: Codes,
        timestamps: Int64Array,
        row_order: Int64Array,
        strings: dict[str, tuple[Codes, ObjectArray]],
        numeric: dict[str, FloatArray],
        n_customers: int,
    ) -> _Rows:
        """Columns already in log order, made read-only, with their offsets."""
        counts = np.bincount(codes, minlength=n_customers)
        offsets = np.zeros(n_customers + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        arrays: list[npt.NDArray[Any]] = [codes, timestamps, row_order, *numeric.values()]
        for array in arrays:
            array.flags.writeable = False
        for column, categories in strings.values():
            column.flags.writeable = False
            categories.flags.writeable = False
        return cls(codes, timestamps, row_order, strings, numeric, offsets)

    def sorted(self, n_customers: int) -> _Rows:
        """These columns in log order: by (customer, time, input position)."""
        order, codes, timestamps = _sorted_keys(self.codes, self.timestamps)
        # input positions are increasing: ending at size - 1 they are 0, 1, ... (none rejected)
        every_row = self.row_order.size and self.row_order[-1] == self.row_order.size - 1
        return _Rows.in_log_order(
            codes,
            timestamps,
            np.asarray(order, dtype=np.int64) if every_row else self.row_order[order],
            {k: (c[order], cats) for k, (c, cats) in self.strings.items()},
            {k: v[order] for k, v in self.numeric.items()},
            n_customers,
        )


def _kind_mask(rows: _Rows, kinds: Sequence[str], argument: str) -> npt.NDArray[np.bool_]:
    """Rows of ``rows`` whose kind is one of ``kinds``; see :meth:`InteractionLog.kind_mask`."""
    from cxmodel.log._kinds import check_kinds, kinds_in, warn_case_variants

    codes, cats = rows.strings["kind"]
    check_kinds(cats.tolist(), kinds, argument=argument)
    warn_case_variants(codes, cats, kinds, argument=argument)
    return kinds_in(codes, cats, kinds)


def _raise_nothing_accepted(
    rejected: RejectedRows, errors: RowErrors, positions: npt.NDArray[np.int64], source: str | None
) -> None:
    """Every row was rejected: an error naming the most common reason, not an empty log.

    ``errors`` holds the reasons of the rows at ``positions`` (``rejected``'s rows, in its
    order); a reason asking for an argument (a naive time, read without ``timezone=``) makes
    an :class:`~cxmodel._spelling.ArgumentHintError` that a front end words as its own."""
    counts = Counter(_reason_class(str(r)) for r in rejected.reason)
    reason, count = counts.most_common(1)[0]
    at = next(i for i, r in enumerate(rejected.reason) if _reason_class(str(r)) == reason)
    where = f"{source}: " if source else ""
    message = (
        f"{where}no row was accepted: all {len(rejected):,} rows were rejected; the most common "
        f"reason ({count:,} row{'s' if count != 1 else ''}) is like: "
    )
    position = int(positions[at])
    if isinstance(errors.reasons[position], ArgumentReason):
        raise ArgumentHintError(lambda say: message + errors.render(position, say))
    raise SchemaError(message + str(rejected.reason[at]))


def _reason_class(reason: str) -> str:
    """A reason without its quoted values, to count rows rejected for the same cause."""
    return re.sub(r"'[^']*'|\b\d[\d.,e+-]*\b", "_", reason)


_PROBE = 1 << 16


def _sort_order(customers: Codes, times: Int64Array) -> npt.NDArray[np.intp]:
    """Stable order by (customer, time, input position): one sort of packed keys when they fit
    in 64 bits, else linear when times are mostly in order.

    When (customer, time counted in the times' common step, input position) packs into 64 bits
    (see :func:`_packed_sort`), one vectorised sort of those distinct keys gives the order,
    whatever the input's layout. Otherwise rows are first grouped by customer code with a
    stable radix sort (codes are dense non-negative ints: one or two passes over 16-bit
    digits), which keeps each customer's rows in input order. One vectorised pass then finds
    the customers whose times are not already non-decreasing in that order, and only their rows
    are sorted fully (stable, so equal times keep their input order). When most rows belong to
    such customers, one full stable sort is done instead, as it is right away when a quarter of
    the first ``_PROBE`` adjacent rows go back in time (a shuffled export). The result is the
    same permutation as a stable sort by (customer, time).

    Examples
    --------
    >>> codes = np.array([1, 0, 1, 0, 1], dtype=np.int32)
    >>> times = np.array([5, 3, 5, 1, 2], dtype=np.int64)
    >>> _sort_order(codes, times).tolist()
    [3, 1, 4, 0, 2]
    """
    return _sorted_keys(customers, times)[0]


def _sorted_keys(
    customers: Codes, times: Int64Array
) -> tuple[npt.NDArray[np.intp], Codes, Int64Array]:
    """:func:`_sort_order`, with the customer codes and times in that order (which finding it
    mostly gathered already)."""
    n = times.size
    if n == 0:
        return np.arange(0, dtype=np.intp), customers, times
    steps = _TimeSteps.of(times)
    packed = _packed_sort(customers, steps)
    if packed is not None:
        return packed
    head = times[: _PROBE + 1]
    if 4 * np.count_nonzero(head[1:] < head[:-1]) > head.size:  # shuffled: no order to keep
        order = _unpacked_sort_order(customers, times, steps)
        return order, customers[order], times[order]
    order = group_by_code(customers)
    grouped_codes = customers[order]
    grouped_times = times[order]
    back = grouped_times[1:] < grouped_times[:-1]
    back &= grouped_codes[1:] == grouped_codes[:-1]
    if not back.any():
        return order, grouped_codes, grouped_times
    unsorted = np.zeros(int(customers.max()) + 1, dtype=bool)
    unsorted[grouped_codes[1:][back]] = True
    rows = np.flatnonzero(unsorted[grouped_codes])
    if 2 * rows.size > n:  # mostly out of order: one full sort is cheaper
        order = _unpacked_sort_order(customers, times, steps)
        return order, customers[order], times[order]
    picked = order[rows]
    order[rows] = picked[_full_sort_order(customers[picked], times[picked])]
    grouped_times[rows] = times[order[rows]]  # the codes at those rows are unchanged
    return order, grouped_codes, grouped_times


class _TimeSteps:
    """Non-empty times as ``low + step * offset``: ``step`` their greatest common difference
    (a whole second, say) and ``offset`` (from 0 to ``span``) the steps counted from ``low``."""

    __slots__ = ("low", "offset", "span", "step")

    def __init__(self, low: int, step: int, offset: Int64Array, span: int) -> None:
        self.low, self.step, self.offset, self.span = low, step, offset, span

    @classmethod
    def of(cls, times: Int64Array) -> _TimeSteps:
        low = int(times.min())
        offset = times - low
        span = int(offset.max())
        step = int(np.gcd.reduce(offset)) if span else 1
        if step > 1:
            offset //= step
            span //= step
        return cls(low, step, offset, span)


def _packed_sort(
    customers: Codes, steps: _TimeSteps
) -> tuple[npt.NDArray[np.intp], Codes, Int64Array] | None:
    """Stable order by (customer, time, input position), with the codes and times in that
    order, by one sort of the three packed into 64 bits; ``None`` when they do not fit.

    The packed keys are distinct, so one plain sort of them (numpy's vectorised sort of
    integers, several times faster than a stable argsort, and faster than grouping by customer
    even when the input is in time order) gives the stable order. The sorted keys hold the
    codes and the times too, which are unpacked rather than gathered.
    """
    n = steps.offset.size
    position_bits = (n - 1).bit_length()
    time_bits = steps.span.bit_length()
    if int(customers.max()).bit_length() + time_bits + position_bits > 64:
        return None
    code_shift = np.uint64(time_bits + position_bits)
    key = customers.astype(np.uint64)
    key <<= code_shift
    part = steps.offset.astype(np.uint64)  # one scratch array, reused below
    part <<= np.uint64(position_bits)
    key |= part
    key |= np.arange(n, dtype=np.uint64)
    key.sort()  # distinct keys: any sort is stable
    np.bitwise_and(key, np.uint64((1 << position_bits) - 1), out=part)
    # positions < 2**63: the same bits as int64, which is intp on 64-bit platforms (no copy)
    order: npt.NDArray[np.intp] = part.view(np.int64).astype(np.intp, copy=False)
    codes = (key >> code_shift).astype(np.int32)
    key >>= np.uint64(position_bits)
    key &= np.uint64((1 << time_bits) - 1)
    times = key.view(np.int64)  # offsets < 2**63: same bits
    if steps.step > 1:
        times *= steps.step
    times += steps.low
    return order, codes, times


def _full_sort_order(customers: Codes, times: Int64Array) -> npt.NDArray[np.intp]:
    """Stable order by (customer, time, input position) with one sort.

    When (customer, time, position) packs into 64 bits, which it does for most logs once times
    are counted in their common step (a whole second, say), one plain sort of the packed keys
    (:func:`_packed_sort`); otherwise a stable argsort of a combined key, or a two-key lexsort.
    """
    if times.size == 0:
        return np.arange(0, dtype=np.intp)
    steps = _TimeSteps.of(times)
    packed = _packed_sort(customers, steps)
    if packed is not None:
        return packed[0]
    return _unpacked_sort_order(customers, times, steps)


def _unpacked_sort_order(
    customers: Codes, times: Int64Array, steps: _TimeSteps
) -> npt.NDArray[np.intp]:
    """:func:`_full_sort_order` for keys that do not pack into 64 bits: a stable argsort of
    (customer, time) combined into one integer when it fits, else a two-key lexsort."""
    if (steps.span + 1) * (int(customers.max()) + 1) < 2**62:
        key = customers.astype(np.int64) * (steps.span + 1) + steps.offset
        return np.argsort(key, kind="stable")
    return np.lexsort((times, customers))


def _with_none(categories: ObjectArray) -> ObjectArray:
    """Categories with a trailing ``None``, so code -1 decodes to ``None``."""
    return np.concatenate([categories, np.array([None], dtype=object)])


def _fill_from_catalogue(
    strings: dict[str, tuple[Codes, ObjectArray]], catalogue: TouchpointCatalogue, n: int
) -> None:
    """Fill missing ``channel`` / ``stage`` from each row's touchpoint, vectorised by category."""
    tp_codes, tp_cats = strings["touchpoint"]
    for name in ("channel", "stage"):
        derived = np.array(
            [getattr(catalogue[t], name).value if t in catalogue else None for t in tp_cats],
            dtype=object,
        )
        if not any(v is not None for v in derived):
            continue
        if name in strings:
            codes, cats = strings[name]
            current = _with_none(cats)[codes]
        else:
            current = np.full(n, None, dtype=object)
        fill = _with_none(derived)[tp_codes]
        merged = np.where(is_missing(current), fill, current)
        strings[name] = encode_strings(merged.astype(object))
