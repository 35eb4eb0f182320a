"""Ids and odd property values read alike by a log and by the streaming engine.

Ids (``customer_id``, ``interaction_id``) are read by one function,
:func:`~cxmodel.log._columns.id_text`, on both sides: text as it is; an integer (not a bool)
as its decimal digits; a float holding a whole number below 2**53 in size as that integer's
digits (``7.0`` is ``"7"``); a bool, a float with a fraction, an infinite or larger float and
any other type are refused. Properties are text, numbers (ints and floats, Python's or
numpy's) or true/false; anything else (a ``Decimal``, a ``Fraction``, a date, a list, a
numpy duration, pandas' ``NA``) is refused: by a log naming the row, the column and the
value (the row kept in ``log.rejected`` under ``errors="quarantine"``), by the stream naming
the record, the field and the value. Missing values are the log's, a documented choice
(:func:`~cxmodel.log._columns.is_missing_value`) the stream now shares: ``None``, the empty
text and a value not equal to itself (a NaN, a ``Decimal``'s too, ``NaT``).

A kind is a name: text alone, on both sides. The other standard text columns
(``touchpoint``, ``channel``, ``stage``, ``metric``, ``purpose``, ``answer``, ``rates``) are
read by the ids' rule on both sides.

Two differences are left, by design (``docs/guide/streaming.md``): a property of mixed types,
which a log reads as one type over all its rows, saying so with a ``DataWarning``
(``test_attack9.py``, ``BATCH_DIFFERENCES``), and a number beside its digits as text in one
text column (``7`` and ``"7"``), which a log refuses and the stream, reading records as they
come, reads as one value.

Batch over :meth:`InteractionLog.from_records <cxmodel.log.InteractionLog.from_records>`
and the stream (``process_many`` on either path, ``process`` one at a time) over the same
records fire alike, or both refuse them.
"""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, RowSchemaError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._columns import id_text, show
from cxmodel.triggers import parse
from cxmodel.triggers._ingest import _BLOCK, row_from_record
from tests.triggers.helpers import (
    PER_ROW,
    T0,
    engine_of,
    evaluate_complete,
    streamed_alike,
    whole,
)

RULES = parse(
    """trigger seen:
    when product_view as v
    emit seen(q = v.qty)
"""
)
AS_OF = T0 + timedelta(days=1)


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def three(field: str, value: Any, others: list[Any] | None = None) -> list[dict[str, Any]]:
    """Three product views of customers a, b and c a minute apart, ids i0 to i2, the second
    holding ``value`` in ``field``, the first and third ``others`` (absent when ``None``)."""
    recs: list[dict[str, Any]] = [
        {"customer_id": c, "timestamp": stamp(j), "kind": "product_view", "interaction_id": f"i{j}"}
        for j, c in enumerate("abc")
    ]
    if others is not None:
        recs[0][field], recs[2][field] = others
    recs[1][field] = value
    return recs


class Thing:
    """An object of the caller's own class."""

    def __repr__(self) -> str:
        return "Thing()"


def streamed(recs: list[dict[str, Any]], position: int = 2) -> tuple[str, Any]:
    """What the stream does with ``recs``: ``("fired", firings)`` or ``("refused", message)``,
    the same on the columnar and the per-interaction path of ``process_many`` and one at a
    time with ``process`` (whose message names no position: the record refused is the one
    at ``position``, counted from 1)."""
    return streamed_alike(RULES, recs, position, AS_OF)


def batched(recs: list[dict[str, Any]], position: int = 2) -> tuple[str, Any]:
    """What batch over a log of ``recs`` does: ``("fired", firings)`` or ``("refused",
    message)``, refusing the row at ``position`` (counted from 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            log = InteractionLog.from_records(recs)
        except RowSchemaError as refused:
            assert refused.position == position - 1, refused
            return "refused", str(refused)
        return "fired", whole(evaluate_complete(RULES, log, as_of=AS_OF))


def quarantined(recs: list[dict[str, Any]], field: str) -> None:
    """Under ``errors="quarantine"`` the log keeps the other rows and lists the second in
    ``log.rejected``, naming the column and the value."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        log = InteractionLog.from_records(recs, errors="quarantine")
    said = [str(w.message) for w in seen if w.category is DataWarning]
    assert any("1 of 3 rows rejected" in message for message in said), said
    assert len(log) == 2 and log.rejected.row.tolist() == [2]
    reason = log.rejected.reason[0]
    assert f"(column {field!r})" in reason and show(recs[1][field])[:20] in reason, reason


def refused_alike(recs: list[dict[str, Any]], field: str) -> None:
    """Both sides refuse ``recs``, each naming the second record, ``field`` and its value."""
    stream, batch = streamed(recs), batched(recs)
    assert stream[0] == batch[0] == "refused", (stream, batch)
    value = recs[1][field]
    assert stream[1].startswith("record 2: ") and repr(value)[:20] in stream[1], stream
    assert f"'{field}'" in stream[1], stream
    assert batch[1].startswith(f"row 2: {field} {show(value)[:20]}"), batch
    assert f"(column {field!r})" in batch[1], batch
    quarantined(recs, field)


def fired_alike(recs: list[dict[str, Any]]) -> Any:
    """Both sides accept ``recs`` and fire alike; the firings."""
    stream, batch = streamed(recs), batched(recs)
    assert stream == batch
    assert stream[0] == "fired"
    return stream[1]


# -- ids -------------------------------------------------------------------------------------
#: (name, id given, its text; None: refused)
IDS = [
    ("text", "c7", "c7"),
    ("text-of-a-float", "7.0", "7.0"),
    ("int", 7, "7"),
    ("negative-int", -7, "-7"),
    ("numpy-int", np.int64(7), "7"),
    ("numpy-uint64", np.uint64(2**64 - 1), str(2**64 - 1)),
    ("int-beyond-2**53", 2**60 + 1, str(2**60 + 1)),
    ("whole-float", 7.0, "7"),
    ("negative-zero", -0.0, "0"),
    ("numpy-whole-float", np.float64(7.0), "7"),
    ("numpy-float32", np.float32(7.0), "7"),
    ("float-below-2**53", float(2**53 - 1), str(2**53 - 1)),
    ("fraction-float", 7.5, None),
    ("numpy-fraction-float", np.float32(7.5), None),
    ("float-2**53", float(2**53), None),
    ("huge-float", 1e300, None),
    ("inf", float("inf"), None),
    ("true", True, None),
    ("false", False, None),
    ("numpy-bool", np.bool_(True), None),
    ("decimal", Decimal(7), None),
    ("fraction", Fraction(7), None),
    ("complex", 7 + 0j, None),
    ("bytes", b"7", None),
    ("list", ["7"], None),
    ("numpy-timedelta", np.timedelta64(7, "D"), None),
    ("datetime", datetime(2024, 1, 1, tzinfo=timezone.utc), None),
]


@pytest.mark.parametrize("field", ["customer_id", "interaction_id"])
@pytest.mark.parametrize(("value", "text"), [pytest.param(v, t, id=n) for n, v, t in IDS])
def test_an_id_reads_alike(field: str, value: Any, text: str | None) -> None:
    """An id of each class, in the second of three records: the log and the stream read it
    as :func:`id_text` does (the same text, so the same customer and the same firing ids),
    or both refuse it naming the record, the field and the value."""
    assert id_text(value) == text
    recs = [dict(r, qty=1) for r in three(field, value)]
    if text is None:
        refused_alike(recs, field)
        return
    fired = fired_alike(recs)
    assert len(fired) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = InteractionLog.from_records(recs)
    read = log.customers.tolist() if field == "customer_id" else log.column(field).tolist()
    assert text in read
    row = row_from_record(recs[1], "record 2")
    assert (row.customer if field == "customer_id" else row.interaction_id) == text


@pytest.mark.parametrize("field", ["customer_id", "interaction_id"])
def test_a_whole_float_id_is_the_same_as_the_integer(field: str) -> None:
    """``7.0`` and ``7`` are one customer (one interaction id: under it, another
    interaction at another time, which the stream refuses and a log refuses as a repeated
    id)."""
    recs = [dict(r, qty=1) for r in three(field, 7.0)]
    recs[2][field] = 7
    if field == "customer_id":
        assert fired_alike(recs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert InteractionLog.from_records(recs).customers.tolist() == ["7", "a"]
        return
    engine = engine_of(RULES, PER_ROW, redelivery_window="30 days")
    with pytest.warns(DataWarning, match="'7' of customer 'a'"):
        engine.process_many([{**r, "customer_id": "a"} for r in recs])
    assert engine.stats()["refused"] == 1
    with pytest.raises(RowSchemaError, match=r"row 3: interaction_id '7' is a duplicate of row 2"):
        InteractionLog.from_records(recs)


def _ids() -> st.SearchStrategy[Any]:
    """Ids of every class: text, integers (Python's and numpy's), floats (whole or not,
    numpy's too), true/false and a few other types."""
    return st.one_of(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=6),
        st.integers(-(2**70), 2**70),
        st.integers(-(2**63), 2**63 - 1).map(np.int64),
        st.floats(allow_nan=False),
        st.integers(-(2**60), 2**60).map(float),
        st.floats(width=32, allow_nan=False).map(np.float32),
        st.booleans(),
        st.booleans().map(np.bool_),
        st.sampled_from([Decimal(3), Fraction(1, 2), b"x", ("x",), 1j]),
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["customer_id", "interaction_id"]), _ids())
def test_random_ids_read_alike(field: str, value: Any) -> None:
    """A random id reads alike on both sides: the log's text is the stream's is
    :func:`id_text`'s, or the log and the stream both refuse it (a blank customer id too;
    an empty interaction id is missing on both)."""
    rec = {"customer_id": "a", "timestamp": stamp(0), "kind": "view", "interaction_id": "i"}
    rec[field] = value
    try:
        row = row_from_record(rec, "record")
    except SchemaError:
        stream = None
    else:
        stream = row.customer if field == "customer_id" else row.interaction_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            log = InteractionLog.from_records([rec])
        except RowSchemaError:
            batch = None
        else:
            read = log.customers if field == "customer_id" else log.column(field)
            batch = read.tolist()[0]
    assert batch == stream
    text = id_text(value)
    if field == "customer_id":  # refused when blank
        assert stream == (text if text is not None and text.strip() else None)
    else:  # missing when empty
        assert stream == (text or None)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["customer_id", "interaction_id"]), _ids(), st.integers(0, 199))
def test_a_random_id_in_a_later_block_reads_alike(field: str, value: Any, place: int) -> None:
    """A random id in the second block of records read as columns (a block at a time; a
    block holding an id that is not text is read one by one): the stream on either path and
    one at a time, and batch, fire alike or refuse the same record."""
    recs = [
        {"customer_id": f"c{j % 50}", "timestamp": stamp(j), "kind": "product_view",
         "interaction_id": f"interaction-{j:06}", "qty": 1}
        for j in range(_BLOCK + 200)
    ]  # fmt: skip
    p = _BLOCK - 100 + place  # the last hundred of the first block, the first of the second
    recs[p][field] = value
    stream, batch = streamed(recs, p + 1), batched(recs, p + 1)
    assert stream[0] == batch[0]
    if stream[0] == "fired":
        assert stream[1] == batch[1]
    else:
        assert stream[1].startswith(f"record {p + 1}: {field} ")


# -- odd property values ---------------------------------------------------------------------
#: values no property holds, refused by both sides
REFUSED = {
    "decimal": Decimal("2"),
    "fraction": Fraction(1, 2),
    "datetime": datetime(2024, 1, 1, tzinfo=timezone.utc),
    "naive-datetime": datetime(2024, 1, 1),
    "date": date(2024, 1, 1),
    "time": time(1, 2),
    "timedelta": timedelta(days=1),
    "list": [1],
    "dict": {"a": 1},
    "bytes": b"x",
    "bytearray": bytearray(b"x"),
    "set": {1},
    "frozenset": frozenset({1}),
    "tuple": (1,),
    "object": Thing(),
    "numpy-datetime64": np.datetime64("2024-01-01"),
    "numpy-timedelta64": np.timedelta64(1, "D"),
    "numpy-bytes": np.bytes_(b"x"),
    "numpy-array": np.array([1, 2]),
    "numpy-0d-array": np.array(2.0),
    "complex": 1 + 2j,
    "numpy-complex": np.complex128(1 + 2j),
    "pandas-na": pd.NA,
    "inf": float("inf"),
}
#: the other records' values of the property: none, numbers, text, true/false
CONTEXTS = {"alone": None, "numbers": [1, 2.5], "text": ["x", "y"], "bools": [True, False]}


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_an_odd_property_reads_alike(name: str, context: str) -> None:
    """A value no property holds, in one record, is refused by the log and the stream
    alike, whatever the property's other records hold: the log names the row, the column
    and the value (and keeps the row in ``log.rejected`` under ``errors="quarantine"``), the
    stream the record, the field and the value.

    pandas' ``NA`` is refused: it has no truth value, so it is neither missing (as a NaN is,
    ``test_a_kept_property_reads_alike``) nor anything a property holds."""
    others = CONTEXTS[context]
    refused_alike(three("qty", REFUSED[name], others), "qty")


#: values a property holds: (value, the others' values of the property, what a payload holds)
KEPT = {
    "none": (None, [1, 2.5], None),
    "none-beside-text": (None, ["x", "y"], None),
    "empty-text": ("", [1, 2.5], None),
    "nan": (float("nan"), [1, 2.5], None),
    "numpy-nan": (np.float32("nan"), [1, 2.5], None),
    "decimal-nan": (Decimal("NaN"), [1, 2.5], None),
    "decimal-nan-beside-text": (Decimal("sNaN"), ["x", "y"], None),
    "pandas-nat": (pd.NaT, [1, 2.5], None),
    "numpy-nat": (np.datetime64("NaT"), ["x", "y"], None),
    "numpy-int": (np.int64(2), [1, 2.5], 2.0),
    "numpy-uint": (np.uint8(2), None, 2.0),
    "numpy-float32": (np.float32(2.5), [1, 2.5], 2.5),
    "numpy-float16": (np.float16(2.5), None, 2.5),
    "numpy-bool": (np.bool_(True), [True, False], True),
    "bool": (True, None, True),
    "numpy-text": (np.str_("z"), ["x", "y"], "z"),
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_a_kept_property_reads_alike(name: str) -> None:
    """Missing values are missing on both sides, by the log's documented test
    (:func:`~cxmodel.log._columns.is_missing_value`): ``None``, the empty text and a value
    not equal to itself, a NaN (Python's, numpy's, a ``Decimal``'s) or ``NaT`` (a log read
    them so; the stream refused all but a float NaN and, in text, the empty text). numpy's
    numbers are numbers, its bools true/false and its text text. All alike beside values of
    their own class (beside values of another class a log reads the column as one type over
    all its rows, the stream each record as it comes: see the streaming guide)."""
    value, others, held = KEPT[name]
    recs = three("qty", value, others)
    assert len(fired_alike(recs)) == 3
    firings = engine_of(RULES, PER_ROW).process_many(recs)
    assert [f.payload for f in firings][1] == {"q": held}


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (Decimal("150"), True),
        (Fraction(150), True),
        (np.timedelta64(150, "s"), True),
        (True, True),
        ("", False),
        (Decimal("NaN"), False),
        (np.float32(150.0), False),
        (np.int16(150), False),
    ],
    ids=["decimal", "fraction", "numpy-timedelta", "true", "empty-text", "decimal-nan",
         "numpy-float32", "numpy-int16"],
)  # fmt: skip
def test_an_odd_amount_reads_alike(value: Any, refused: bool) -> None:
    """An amount (``value``) is a number on both sides: a ``Decimal``, a ``Fraction`` (which
    a log read as 150.0) or a duration is refused alike; the empty text and a ``Decimal``
    NaN are a missing amount (the stream refused them)."""
    recs = [dict(r, kind="purchase") for r in three("value", value, [50.0, 160.0])]
    if refused:
        refused_alike(recs, "value")
        return
    rules = parse(
        "trigger big:\n    when purchase as p where p.value > 100\n    emit big(v = p.value)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=AS_OF)
    engine = engine_of(rules, PER_ROW)
    stream = whole(engine.process_many(recs))
    assert stream == whole(batch) and len(stream) == (1 if value != 150 else 2)


# -- kinds -----------------------------------------------------------------------------------
#: kinds that are not text: refused by both sides (a kind is a name)
NOT_NAMES = {
    "int": 5,
    "numpy-int": np.int64(5),
    "whole-float": 5.0,
    "numpy-whole-float": np.float32(5.0),
    "fraction-float": 5.5,
    "true": True,
    "false": False,
    "numpy-bool": np.bool_(True),
    "decimal": Decimal(5),
    "bytes": b"view",
    "list": ["product_view"],
}


@pytest.mark.parametrize("name", sorted(NOT_NAMES))
def test_a_kind_that_is_not_text_is_refused_alike(name: str) -> None:
    """A kind is a name: a number (an integer or a whole float too) or true/false is refused
    by the log (a bad row naming the row, the column and the value, quarantined under
    ``errors="quarantine"``) and by the stream (naming the record, the field and the value),
    where the log read its text and the stream refused all but an integer."""
    recs = [dict(r, qty=1) for r in three("kind", NOT_NAMES[name])]
    refused_alike(recs, "kind")
    stream = streamed(recs)[1]
    assert "a kind is a name" in stream, stream


def test_a_kind_written_as_digits_is_a_kind() -> None:
    """The text ``"5"`` is a kind like any other, on both sides."""
    recs = [dict(r, qty=1) for r in three("kind", "5")]
    assert len(fired_alike(recs)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert sorted(InteractionLog.from_records(recs).kinds.tolist()) == ["5", "product_view"]


@pytest.mark.parametrize("value", [5, 5.0, True], ids=["int", "float", "true"])
def test_a_kind_that_is_not_text_in_a_later_block_is_refused_alike(value: Any) -> None:
    """In the second block of records read as columns, as in the first."""
    recs = [
        {"customer_id": f"c{j % 50}", "timestamp": stamp(j), "kind": "product_view", "qty": 1}
        for j in range(_BLOCK + 200)
    ]
    p = _BLOCK + 10
    recs[p]["kind"] = value
    stream, batch = streamed(recs, p + 1), batched(recs, p + 1)
    assert stream[0] == batch[0] == "refused"
    assert stream[1].startswith(f"record {p + 1}: kind {value!r} is not text")
    assert batch[1].startswith(f"row {p + 1}: kind {value!r} is not text (column 'kind')")


# -- the standard text columns ----------------------------------------------------------------
#: the standard text columns besides the ids and the kind, read by the ids' rule
STANDARD_TEXT = ["touchpoint", "channel", "stage", "metric", "purpose", "rates"]
#: (name, value given, its text; None: refused)
NAMES = [
    ("text", "5.0", "5.0"),
    ("int", 5, "5"),
    ("numpy-int", np.int16(5), "5"),
    ("whole-float", 5.0, "5"),
    ("numpy-whole-float", np.float32(5.0), "5"),
    ("fraction-float", 5.5, None),
    ("inf", float("inf"), None),
    ("true", True, None),
    ("false", False, None),
    ("numpy-bool", np.bool_(False), None),
    ("decimal", Decimal(5), None),
]


@pytest.mark.parametrize("field", STANDARD_TEXT)
@pytest.mark.parametrize(("value", "text"), [pytest.param(v, t, id=n) for n, v, t in NAMES])
def test_a_standard_text_column_reads_alike(field: str, value: Any, text: str | None) -> None:
    """A value of each class in a standard text column (in the second of three records) is
    read by the ids' rule (:func:`id_text`) on both sides: text as it is, an integer or a
    whole float as its digits; true/false, a float with a fraction and any other type are
    refused, by the log naming the row, the column and the value (quarantined under
    ``errors="quarantine"``), by the stream naming the record, the field and the value. (A
    log read a float's text, ``'5.0'``, and true/false's, ``'True'``; the stream refused
    them.) A metric read is then unknown, on both sides."""
    assert id_text(value) == text
    recs = [dict(r, qty=1) for r in three(field, value)]
    if text is None:
        refused_alike(recs, field)
        return
    if field == "metric":  # read alike, then refused alike as a metric no question has
        stream, batch = streamed(recs), batched(recs)
        assert stream[0] == batch[0] == "refused"
        assert f"metric {text!r} is unknown" in stream[1]
        assert f"metric {text!r} is unknown" in batch[1]
        return
    assert len(fired_alike(recs)) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = InteractionLog.from_records(recs)
    assert log.column(field).tolist()[1] == text
    assert row_from_record(recs[1], "record 2").fields[field] == text


@pytest.mark.parametrize(("value", "text"), [pytest.param(v, t, id=n) for n, v, t in NAMES])
def test_an_answer_reads_alike(value: Any, text: str | None) -> None:
    """A survey answer (``answer``, to a text question) is read by the same rule."""
    from cxmodel.domain import Question

    asked = Question("comment", "text")
    rec = {"customer_id": "a", "timestamp": stamp(0), "kind": "survey", "metric": "comment",
           "answer": value}  # fmt: skip
    try:
        stream = row_from_record(rec, "record 1", {"comment": asked}).fields["answer"]
    except SchemaError as refused:
        stream = None
        assert str(refused).startswith(f"record 1: answer {value!r}"), refused
    try:
        log = InteractionLog.from_records([rec], questions=[asked])
    except RowSchemaError as refused:
        batch = None
        assert str(refused).startswith(f"row 1: answer {show(value)}"), refused
    else:
        batch = log.column("answer").tolist()[0]
    assert stream == batch == text


@pytest.mark.parametrize("field", ["touchpoint", "channel", "purpose"])
@pytest.mark.parametrize("value", [5.0, True, 5.5], ids=["whole-float", "true", "fraction"])
def test_a_standard_text_column_in_a_later_block_reads_alike(field: str, value: Any) -> None:
    """In the second block of records read as columns, as in the first."""
    recs = [
        {"customer_id": f"c{j % 50}", "timestamp": stamp(j), "kind": "product_view", "qty": 1,
         field: f"{field}-{j % 3}"}
        for j in range(_BLOCK + 200)
    ]  # fmt: skip
    p = _BLOCK + 10
    recs[p][field] = value
    stream, batch = streamed(recs, p + 1), batched(recs, p + 1)
    assert stream[0] == batch[0]
    if stream[0] == "fired":
        assert stream[1] == batch[1]


# -- a number beside its digits as text -------------------------------------------------------
@pytest.mark.parametrize("field", ["customer_id", "touchpoint"])
def test_a_number_beside_its_digits_as_text_is_refused_by_a_log_only(field: str) -> None:
    """The one difference left in reading text: within one log an integer beside the same
    digits as text (``7`` and ``"7"``) is refused, naming the row holding the number (the
    two would merge into one value), while the stream, which sees records one call at a
    time, reads both as ``"7"`` (``docs/guide/streaming.md``)."""
    recs = [dict(r, qty=1) for r in three(field, 7, ["7", "c"])]
    assert streamed(recs)[0] == "fired"
    firings = engine_of(RULES, PER_ROW).process_many(recs)
    if field == "customer_id":
        assert [f.customer_id for f in firings] == ["7", "7", "c"]
    with pytest.raises(RowSchemaError, match=rf"row 2: {field} 7 is a number but row 1 holds"):
        InteractionLog.from_records(recs)


# -- a property of numbers or text with true/false --------------------------------------------
@pytest.mark.parametrize(
    ("others", "said"),
    [
        ([1, 2.5], "numbers in 2 row(s) and true/false in 1"),
        (["x", "y"], "text in 2 row(s) and true/false in 1"),
        ([1, "y"], "text in 1 row(s), numbers in 1 and true/false in 1"),
    ],
    ids=["numbers", "text", "numbers-and-text"],
)
def test_true_or_false_among_other_values_is_said(others: list[Any], said: str) -> None:
    """A property holding numbers or text in most records and true/false in one: a log
    reads the whole column as text, with a ``DataWarning`` naming the column and how many
    rows hold each type (as it says of numbers beside text); the stream keeps each value's
    type, so a payload reading the property differs (``test_attack9.py``,
    ``BATCH_DIFFERENCES``)."""
    recs = three("qty", True, others)
    with pytest.warns(DataWarning, match=re.escape(f"column 'qty' holds {said}: it is read")):
        log = InteractionLog.from_records(recs)
    assert log.schema["qty"] == "string" and log.column("qty").tolist()[1] == "True"
    stream = engine_of(RULES, PER_ROW).process_many(recs)
    assert [f.payload for f in stream][1] == {"q": True}
