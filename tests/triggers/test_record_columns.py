"""Records of a large micro-batch checked as columns (``record_columns``) read exactly as one
by one (``rows_from``): the same customers, times, kinds, ids and properties, or ``None``
(then read one by one), never a record one by one refuses."""

from __future__ import annotations

import math
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.triggers import _ingest
from cxmodel.triggers._codes import first_seen_codes, present_and_missing
from cxmodel.triggers._columnar_aggregates import log_column
from cxmodel.triggers._ingest import _utc_text_us, _utc_texts_us, record_columns, rows_from
from tests.triggers.helpers import T0, records

STAMPS = st.sampled_from(
    [
        "2024-01-01T00:00:00Z",
        "2024-02-29T12:30:00.250Z",
        "2024-03-01T23:59:59.000001Z",
        "2024-03-01T23:59:59+00:00",
        "2024-02-30T00:00:00Z",  # impossible
        "2024-01-01 00:00:00Z",  # not the common shape
        "2024-01-01T00:00:00+02:00",  # an offset: read one by one
        "9999-12-31T23:59:59Z",
    ]
)
VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["p1", "a b", "é", " "]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(2**60), 2**60),
    st.booleans(),
    st.lists(st.integers(), max_size=1),
)
NAMES = st.sampled_from(
    ["product", "value", "score", "metric", "order_id", "interaction_id", "vip", "note",
     "sentiment", "touchpoint", "channel", "qty"]
)  # fmt: skip


@st.composite
def hostile_records(draw: Any) -> list[Any]:
    """One to eight records, any field of any of them possibly bad."""
    n = draw(st.integers(1, 8))
    out: list[Any] = []
    for _ in range(n):
        rec: dict[Any, Any] = {
            "customer_id": draw(st.sampled_from(["c1", "c2", "", " ", 7, None])),
            "timestamp": draw(STAMPS),
            "kind": draw(st.sampled_from(["purchase", "survey", "refund", "view", ""])),
        }
        for name in draw(st.lists(NAMES, max_size=4, unique=True)):
            rec[name] = draw(VALUES)
        if draw(st.integers(0, 20)) == 0:
            del rec["kind"]
        out.append(rec)
    return out


@st.composite
def records_with_hostile_properties(draw: Any) -> list[Any]:
    """One to eight records with good customers, times and kinds, and properties of one
    type each (drawn from :data:`VALUES`): those :func:`record_columns` may read as
    columns."""
    names = draw(st.lists(NAMES, max_size=3, unique=True))
    kinds = {name: draw(st.sampled_from(["none", "text", "number", "bool"])) for name in names}
    typed = {
        "none": st.none(),
        "text": st.sampled_from(["", "p1", "a b", "é", " ", "nps"]),
        "number": st.one_of(st.none(), st.floats(-2, 12), st.integers(-5, 12)),
        "bool": st.one_of(st.none(), st.booleans()),
    }
    out: list[Any] = []
    for _ in range(draw(st.integers(1, 8))):
        rec: dict[str, Any] = {
            "customer_id": draw(st.sampled_from(["c1", "c2"])),
            "timestamp": draw(STAMPS.filter(lambda t: t.endswith(("Z", "+00:00")))),
            "kind": draw(st.sampled_from(["purchase", "survey", "refund", "view"])),
        }
        for name in names:
            if draw(st.booleans()):
                rec[name] = draw(typed[kinds[name]])
        out.append(rec)
    return out


def same_as_one_by_one(recs: list[Any]) -> bool:
    """Check ``record_columns`` against ``rows_from``; whether it read them as columns."""
    got = record_columns(recs, None)
    try:
        rows = rows_from(recs)
    except SchemaError:
        assert got is None  # a record one by one refuses is never read as columns
        return False
    if got is None:
        return False
    assert got.n == len(rows)
    assert got.customers.tolist() == [r.customer for r in rows]
    assert got.times.tolist() == [r.time for r in rows]
    assert got.kinds.tolist() == [r.kind for r in rows]
    assert got.ids == [r.interaction_id for r in rows]
    every = np.arange(len(rows))
    names = {name for r in rows for name in r.fields} | {"product", "absent"}
    for name in names - {"kind"}:
        column = got.column(name, every)
        expected = [r.fields.get(name) for r in rows]
        assert got.stand_ins(name) == ([] if column is None else present_and_missing(column))
        if column is None:
            assert all(v is None for v in expected), name
            continue
        values = [None if isinstance(v, float) and math.isnan(v) else v for v in column.tolist()]
        assert values == expected, name
        # what the columnar path takes unchecked: of one class, as log_column reads it
        assert got.one_class(name) and log_column(column, []) is column, name
        assert all(
            type(v) is type(e) for v, e in zip(values, expected, strict=True) if e is not None
        )
    made = got.rows(every)
    assert [(r.customer, r.time, r.kind, r.fields) for r in made] == [
        (r.customer, r.time, r.kind, r.fields) for r in rows
    ]
    assert [[(type(v), k) for k, v in r.fields.items()] for r in made] == [
        [(type(v), k) for k, v in r.fields.items()] for r in rows
    ]  # the same types, in the same order
    return True


class TestRecordColumns:
    @settings(max_examples=400, deadline=None)
    @given(hostile_records())
    def test_hostile_records_read_as_one_by_one(self, recs: list[Any]) -> None:
        """Random records, many of them bad: as columns only when one by one accepts them
        all, and then with the same values."""
        same_as_one_by_one(recs)

    @settings(max_examples=300, deadline=None)
    @given(records_with_hostile_properties())
    def test_hostile_properties_read_as_one_by_one(self, recs: list[Any]) -> None:
        """Good records with properties of one type each, many of them refused or changed
        one by one: as columns only when one by one keeps them all as given, and then with
        the same values."""
        same_as_one_by_one(recs)

    def test_plain_records_are_read_as_columns(self) -> None:
        """Not vacuous: the records a service receives are read as columns, with the
        values one by one reads."""
        recs = [
            dict(r, timestamp=r["timestamp"].isoformat().replace("+00:00", "Z"))
            for r in records(3, 300, n_customers=5)
        ]
        for rec in recs[::7]:
            rec["qty"] = 3  # a whole number: a float
            rec["vip"] = True
        assert same_as_one_by_one(recs)

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param({"value": -5.0}, id="negative-amount"),
            pytest.param({"score": 11.0, "metric": "nps"}, id="score-outside-scale"),
            pytest.param({"score": 7.5, "metric": "nps"}, id="score-not-whole"),
            pytest.param({"score": 7.0}, id="score-without-metric"),
            pytest.param({"metric": "nope"}, id="unknown-metric"),
            pytest.param({"sentiment": 2.0}, id="sentiment-outside-range"),
            pytest.param({"touchpoint": "email"}, id="touchpoint-fills-channel"),
            pytest.param({"order_id": 17}, id="number-named-like-an-id"),
            pytest.param({"value": "12"}, id="text-for-a-number"),
            pytest.param({"qty": 2**60}, id="digits-a-float-rounds"),
            pytest.param({"qty": 2**53 + 1}, id="an-integer-a-float-rounds"),
            pytest.param({"qty": 2**1100}, id="an-integer-no-float-holds"),
        ],
    )
    def test_what_one_by_one_changes_or_refuses_is_left_to_it(self, change: Any) -> None:
        """Each of these is read one by one: refused with its record named, or kept as one
        by one keeps it; the same records without it are read as columns."""
        recs = [
            {"customer_id": "c1", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
             "value": 10.0},
            {"customer_id": "c2", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase"},
        ]  # fmt: skip
        assert record_columns(recs, None) is not None
        recs[1].update(change)
        assert record_columns(recs, None) is None
        same_as_one_by_one(recs)

    def test_only_lists_of_plain_records(self) -> None:
        """A generator, a tuple or objects other than dicts are read one by one; a list of
        the same record is read as columns."""
        rec = {"customer_id": "c1", "timestamp": T0.isoformat(), "kind": "view"}
        assert record_columns([rec], None) is not None
        assert record_columns((rec,), None) is None
        assert record_columns(iter([rec]), None) is None
        assert record_columns([rec, ("c1",)], None) is None
        assert record_columns([], None) is None

    @pytest.mark.parametrize("positions", [[], [2], [2, 0], [1, 1, 3], [3, 2, 1, 0], [0, 1, 2, 3]])
    def test_a_column_at_any_positions(self, positions: list[int]) -> None:
        """Text and true/false properties gathered at no, one or many positions, in any
        order, repeated: as one by one keeps them (empty text missing, false kept)."""
        recs: list[dict[str, Any]] = [
            {"customer_id": "c1", "timestamp": T0.isoformat(), "kind": "view", "note": "a",
             "vip": True},
            {"customer_id": "c1", "timestamp": T0.isoformat(), "kind": "view", "note": "",
             "vip": False},
            {"customer_id": "c2", "timestamp": T0.isoformat(), "kind": "view"},
            {"customer_id": "c2", "timestamp": T0.isoformat(), "kind": "view", "note": "b\x00",
             "vip": None},
        ]  # fmt: skip
        got = record_columns(recs, None)
        assert got is not None
        rows = rows_from(recs)
        for name in ("note", "vip"):
            column = got.column(name, np.array(positions, dtype=np.int64))
            assert column is not None and column.dtype == object
            assert column.tolist() == [rows[p].fields.get(name) for p in positions]


class StrText(str):
    """Text of a subclass of ``str``: one by one keeps it as given, so columns never read it."""


def coded_as_one_by_one(recs: list[Any]) -> None:
    """Customers and kinds as columns are coded as the rows one by one makes are, and each
    value is the object first seen for it."""
    got = record_columns(recs, None)
    assert got is not None
    rows = rows_from(recs)
    for name, values in (
        ("customer_id", [r.customer for r in rows]),
        ("kind", [r.kind for r in rows]),
    ):
        codes, names = got.first_seen(name)
        expected_codes, expected_names = first_seen_codes(values)
        assert codes.tolist() == expected_codes.tolist()
        assert list(names) == list(expected_names) and names == expected_names
    first = {}
    for value in (rec["customer_id"] for rec in recs):
        first.setdefault(value, value)
    assert all(c is first[c] for c in got.customers.tolist())


class TestBlocks:
    """Records are read a block at a time (``_ingest._BLOCK`` of them): a micro-batch across
    blocks reads as one in a single block, whatever the block a value is in."""

    @settings(max_examples=300, deadline=None)
    @given(hostile_records(), st.integers(1, 3))
    def test_hostile_records_across_blocks(self, recs: list[Any], block: int) -> None:
        with patch.object(_ingest, "_BLOCK", block):
            same_as_one_by_one(recs)

    @settings(max_examples=300, deadline=None)
    @given(records_with_hostile_properties(), st.integers(1, 3))
    def test_hostile_properties_across_blocks(self, recs: list[Any], block: int) -> None:
        with patch.object(_ingest, "_BLOCK", block):
            same_as_one_by_one(recs)

    @staticmethod
    def plain() -> list[dict[str, Any]]:
        """Seven good records, customers and kinds seen again in later blocks."""
        return [
            {"customer_id": c, "timestamp": f"2024-01-0{j + 1}T00:00:00Z", "kind": k}
            for j, (c, k) in enumerate(
                zip(["c2", "c1", "c2", "c3", "c1", "c4", "c2"],
                    ["view", "view", "purchase", "view", "survey", "purchase", "view"],
                    strict=True)
            )
        ]  # fmt: skip

    @pytest.mark.parametrize("block", [1, 2, 3, 7, 8])
    def test_codes_in_order_of_first_appearance_across_blocks(self, block: int) -> None:
        recs = self.plain()
        with patch.object(_ingest, "_BLOCK", block):
            assert same_as_one_by_one(recs)
            coded_as_one_by_one(recs)

    def test_equal_texts_are_the_object_first_seen(self) -> None:
        """A customer id decoded again in a later block is the object of its first record."""
        recs = self.plain()
        for rec in recs:
            rec["customer_id"] = "".join(list(rec["customer_id"]))  # a new object each
        with patch.object(_ingest, "_BLOCK", 2):
            coded_as_one_by_one(recs)

    @pytest.mark.parametrize("block", [1, 2, 3])
    def test_a_field_first_present_in_a_later_block(self, block: int) -> None:
        recs = self.plain()
        recs[5].update(value=12.5, note="x", vip=True, interaction_id="i5")
        recs[6].update(note="", vip=False, qty=3)
        with patch.object(_ingest, "_BLOCK", block):
            assert same_as_one_by_one(recs)

    @pytest.mark.parametrize(
        ("field", "odd"),
        [
            pytest.param("customer_id", StrText("c1"), id="customer-str-subclass"),
            pytest.param("customer_id", 7, id="customer-number"),
            pytest.param("customer_id", " ", id="customer-blank"),
            pytest.param("kind", StrText("view"), id="kind-str-subclass"),
            pytest.param("kind", "", id="kind-empty"),
            pytest.param("timestamp", StrText("2024-01-07T00:00:00Z"), id="time-str-subclass"),
            pytest.param("timestamp", "2024-01-07T00:00:00.000Z", id="time-another-width"),
            pytest.param("timestamp", "2024-01-07T00:00:00+01:00", id="time-an-offset"),
            pytest.param("timestamp", "2024-01-07T00:00:00\u017d", id="time-not-ascii"),
            pytest.param("timestamp", "2024-01-0\u0663T00:00:00Z", id="time-non-ascii-digit"),
            pytest.param("timestamp", "2024-01-07T00:00:00\x00", id="time-nul"),
            pytest.param("note", StrText("x"), id="property-str-subclass"),
            pytest.param("note", "a\x00b", id="property-nul"),
            pytest.param("note", "\u00e9t\u00e9", id="property-not-ascii"),
            pytest.param("qty", True, id="bool-among-numbers"),
            pytest.param("vip", 1, id="number-among-bools"),
            pytest.param("qty", float("nan"), id="nan-among-numbers"),
            pytest.param("qty", None, id="none-among-numbers"),
            pytest.param("note", None, id="none-among-texts"),
            pytest.param("note", 5, id="number-among-texts"),
            pytest.param("interaction_id", "", id="empty-id"),
        ],
    )
    @pytest.mark.parametrize("block", [1, 2, 3])
    def test_a_value_of_another_type_in_a_later_block(
        self, field: str, odd: Any, block: int
    ) -> None:
        """The last record's value differs from the others': columns or not as in a single
        block, and then with the values one by one reads (types included)."""
        recs = self.plain()
        for j, rec in enumerate(recs):
            rec.update(note=f"n{j}", qty=j, vip=j % 2 == 0, interaction_id=f"i{j}")
        recs[-1][field] = odd
        whole = record_columns(recs, None) is not None
        with patch.object(_ingest, "_BLOCK", block):
            assert (record_columns(recs, None) is not None) == whole
            assert same_as_one_by_one(recs) == whole

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.sampled_from(["i1", "i2", "", None, "absent"]), min_size=1, max_size=9),
        st.integers(1, 4),
        st.booleans(),
    )
    def test_empty_ids_in_any_block(self, ids: list[Any], block: int, reorder: bool) -> None:
        """Interaction ids given, empty, ``None`` or absent, in any block and any order of
        the fields: missing where one by one has none."""
        recs: list[dict[str, Any]] = []
        for j, ident in enumerate(ids):
            rec: dict[str, Any] = {
                "customer_id": f"c{j % 3}",
                "timestamp": f"2024-01-0{j % 9 + 1}T00:00:00Z",
                "kind": "view",
            }
            if ident != "absent":
                rec["interaction_id"] = ident
            if reorder and j % 2:
                rec = dict(reversed(rec.items()))
            recs.append(rec)
        with patch.object(_ingest, "_BLOCK", block):
            assert same_as_one_by_one(recs)

    def test_a_key_that_is_not_text_in_a_later_block(self) -> None:
        recs: list[Any] = self.plain()
        recs[6][1] = "x"
        with patch.object(_ingest, "_BLOCK", 2):
            assert record_columns(recs, None) is None

    def test_a_record_that_is_not_a_dict_in_a_later_block(self) -> None:
        recs: list[Any] = self.plain()
        with patch.object(_ingest, "_BLOCK", 2):
            assert record_columns(recs, None) is not None
            recs[6] = tuple(recs[6].items())
            assert record_columns(recs, None) is None

    @pytest.mark.parametrize("missing", ["customer_id", "timestamp", "kind"])
    def test_a_field_every_record_needs_missing_in_a_later_block(self, missing: str) -> None:
        recs = self.plain()
        del recs[6][missing]
        with patch.object(_ingest, "_BLOCK", 3):
            assert record_columns(recs, None) is None

    def test_timestamps_of_two_widths_in_two_blocks(self) -> None:
        """Each block of one common shape, the blocks of two: read by the general path."""
        recs = self.plain()
        recs[4]["timestamp"] = "2024-01-05T00:00:00.250Z"
        recs[5]["timestamp"] = "2024-01-06T00:00:00.000001+00:00"
        with patch.object(_ingest, "_BLOCK", 2):
            assert same_as_one_by_one(recs)


@st.composite
def stamps_of_one_shape(draw: Any) -> list[str]:
    """Timestamps of one of the six common UTC shapes, some with one character changed."""
    fraction = draw(st.sampled_from([0, 3, 6]))
    zone = draw(st.sampled_from(["Z", "+00:00"]))
    out = []
    for moment in draw(st.lists(st.datetimes(), min_size=1, max_size=4)):
        text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")
        if fraction:
            text += f".{moment.microsecond:06d}"[: fraction + 1]
        text += zone
        if draw(st.booleans()):
            j = draw(st.integers(0, len(text) - 1))
            text = text[:j] + draw(st.sampled_from("0369:-.TZ+x \u0663")) + text[j + 1 :]
        out.append(text)
    return out


class TestTimestampsAsColumns:
    @settings(max_examples=500, deadline=None)
    @given(stamps_of_one_shape())
    def test_read_as_one_by_one_reads_them(self, texts: list[str]) -> None:
        """Timestamps of one shape read from their characters' codes: the microseconds one
        by one gives, or ``None`` (read one by one) when one of them it does not read."""
        one = [_utc_text_us(text) for text in texts]
        got = _utc_texts_us(texts)
        assert (None if got is None else got.tolist()) == (None if None in one else one)

    @pytest.mark.parametrize(
        "text",
        ["2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
         "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z",
         "0000-01-01T00:00:00Z", "2024-01-0\u0663T00:00:00Z", "2024-01-01T00:00:0/Z",
         "2024-01-01T00:00:0:Z", "2024-01-01T00:00:00\u017d"],
    )  # fmt: skip
    def test_impossible_times_are_left_to_one_by_one(self, text: str) -> None:
        """A day, month, hour, minute or second that does not exist, year 0, a non-ASCII
        digit or zone letter, a character just below or above the digits: the whole
        micro-batch is read one by one."""
        assert _utc_texts_us(["2024-02-29T00:00:00Z", text]) is None

    def test_leap_days_and_the_last_second(self) -> None:
        """Leap days of 2000 (divisible by 400) but not 1900 (by 100); the last second."""
        texts = ["2000-02-29T00:00:00Z", "1900-02-28T23:59:59Z", "9999-12-31T23:59:59Z"]
        got = _utc_texts_us(texts)
        assert got is not None and got.tolist() == [_utc_text_us(t) for t in texts]
        assert _utc_texts_us(["1900-02-29T00:00:00Z"]) is None


BOUNDARY_DAYS = [
    (1, 1, 1), (1, 12, 31), (4, 2, 29), (100, 2, 28), (100, 3, 1), (400, 2, 29),
    (1582, 10, 10), (1600, 2, 29), (1700, 3, 1), (1900, 2, 28), (1969, 12, 31),
    (1970, 1, 1), (2000, 2, 29), (2023, 12, 31), (2024, 2, 29), (2024, 3, 1),
    (2100, 2, 28), (2400, 2, 29), (9999, 12, 31),
]  # fmt: skip
SHAPES = [(fraction, zone) for fraction in (0, 3, 6) for zone in ("Z", "+00:00")]


def stamp(year: int, month: int, day: int, fraction: int, zone: str, clock: str) -> str:
    text = f"{year:04d}-{month:02d}-{day:02d}T{clock}"
    return text + (f".{'123456'[:fraction]}" if fraction else "") + zone


class TestTimestampShapes:
    """Timestamps of each common shape read from their characters by the calendar's tables:
    what one by one reads, on the days where the tables change (leap years, centuries,
    1970), or ``None`` when one by one would not read one of them."""

    @pytest.mark.parametrize(("fraction", "zone"), SHAPES)
    @pytest.mark.parametrize("clock", ["00:00:00", "23:59:59", "12:34:56"])
    def test_days_where_the_calendar_turns(self, fraction: int, zone: str, clock: str) -> None:
        texts = [stamp(*day, fraction, zone, clock) for day in BOUNDARY_DAYS]
        if clock == "23:59:59" and fraction:
            texts.pop()  # a fraction past 9999-12-31T23:59:59: one by one refuses it
        one = [_utc_text_us(text) for text in texts]
        assert None not in one
        got = _utc_texts_us(texts)
        assert got is not None and got.tolist() == one

    @pytest.mark.parametrize(("fraction", "zone"), SHAPES)
    @pytest.mark.parametrize(
        "day", [(0, 1, 1), (2023, 2, 29), (1900, 2, 29), (2100, 2, 29), (2024, 0, 1),
                (2024, 13, 1), (2024, 1, 0), (2024, 1, 32), (2024, 4, 31), (2024, 99, 99)],
    )  # fmt: skip
    def test_days_that_do_not_exist(
        self, fraction: int, zone: str, day: tuple[int, int, int]
    ) -> None:
        text = stamp(*day, fraction, zone, "00:00:00")
        assert _utc_text_us(text) is None
        assert _utc_texts_us([stamp(2024, 1, 1, fraction, zone, "00:00:00"), text]) is None

    @pytest.mark.parametrize(("fraction", "zone"), SHAPES)
    @pytest.mark.parametrize("clock", ["24:00:00", "00:60:00", "00:00:60", "99:99:99"])
    def test_times_that_do_not_exist(self, fraction: int, zone: str, clock: str) -> None:
        text = stamp(2024, 1, 1, fraction, zone, clock)
        assert _utc_text_us(text) is None
        assert _utc_texts_us([stamp(2024, 1, 1, fraction, zone, "00:00:00"), text]) is None

    @pytest.mark.parametrize("fraction", [0, 3, 6])
    @pytest.mark.parametrize("zone", ["+01:00", "+00:01", "+10:00", "+00:10", "-00:00"])
    def test_offsets_but_utc_are_left_to_one_by_one(self, fraction: int, zone: str) -> None:
        texts = [stamp(2024, 1, 1, fraction, "+00:00", "00:00:00")] * 2
        texts.append(stamp(2024, 1, 1, fraction, zone, "00:00:00"))
        assert _utc_texts_us(texts) is None

    @settings(max_examples=500, deadline=None)
    @given(
        st.sampled_from(SHAPES),
        st.lists(st.tuples(st.integers(0, 40), st.sampled_from("0123456789dxD:-.+TZz/ ")),
                 max_size=3),
    )  # fmt: skip
    def test_any_character_in_any_place(
        self, shape: tuple[int, str], changes: list[tuple[int, str]]
    ) -> None:
        """A character of the shape's, a digit, a letter or a character beside them in any
        place of one of the texts: read as one by one reads them."""
        fraction, zone = shape
        texts = [stamp(2024, 2, 29, fraction, zone, "23:59:59")] * 3
        text = texts[1]
        for at, char in changes:
            at = at % len(text)
            text = text[:at] + char + text[at + 1 :]
        texts[1] = text
        one = [_utc_text_us(t) for t in texts]
        got = _utc_texts_us(texts)
        assert (None if got is None else got.tolist()) == (None if None in one else one)


class TestOneClass:
    def test_a_logs_columns_are_each_of_one_class(self) -> None:
        """What a log's columns say of themselves holds: text, numbers and true/false are
        each taken by the columnar path as they are (ids given apart are checked)."""
        from cxmodel.log import InteractionLog

        recs = [
            dict(r, vip=j % 2 == 0, note=None if j % 3 else "x")
            for j, r in enumerate(records(5, 60, n_customers=4))
        ]
        log = InteractionLog.from_records(recs)
        columns = _ingest.LogColumns(log)
        every = np.arange(columns.n)
        names = set(log.schema) - {"customer_id", "timestamp"}
        assert {"value", "vip", "note", "kind"} <= names
        for name in names:
            column = columns.column(name, every)
            assert columns.one_class(name) and log_column(column, []) is column, name
        given = _ingest.columns_from(
            {
                "customer_id": ["a", "b"],
                "timestamp": ["2024-01-01T00:00:00Z"] * 2,
                "kind": ["view"] * 2,
                "interaction_id": ["i1", "i2"],
            }
        )
        assert given is not None and not given.one_class("interaction_id")
        assert given.one_class("kind")

    def test_rows_made_one_by_one_are_never_taken_unchecked(self) -> None:
        from cxmodel.triggers._columnar import RowColumns

        rows = rows_from([{"customer_id": "a", "timestamp": T0, "kind": "view", "x": 1.0}])
        assert not RowColumns(rows).one_class("x")
