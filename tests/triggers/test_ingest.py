"""What the streaming engine takes in: plain records equal Interaction objects, bad records and
wrong inputs are named, and rows keep their fields and round-trip through their stored form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import TriggerEngine, parse
from cxmodel.triggers._ingest import Row, row_from_record
from tests.triggers.helpers import T0, interaction, key, records


class TestMicroBatches:
    def test_wrong_input_is_named(self) -> None:
        """Something that is not an interaction gets a SchemaError saying what to pass."""
        from cxmodel.errors import SchemaError

        engine = TriggerEngine(parse("trigger p:\n    when purchase as p\n    emit thanks"))
        with pytest.raises(SchemaError, match="expected an Interaction .* got str"):
            engine.process_many(["not an interaction"])


class TestRecords:
    def test_records_equal_interaction_objects(self) -> None:
        """Plain records (as from JSON) give the same firings as Interaction objects."""
        recs = records(13, 150, n_customers=5, days=60)
        as_of = T0 + timedelta(days=70)
        rules = parse(ACCEPTANCE)
        plain = [{**r, "timestamp": r["timestamp"].isoformat()} for r in recs]
        by_record, by_object = TriggerEngine(rules), TriggerEngine(rules)
        got = [f for r in plain[:60] for f in by_record.process(r)]
        got += by_record.process_many(plain[60:])
        got += by_record.advance_to(as_of)
        expected = [f for r in recs for f in by_object.process(interaction(r))]
        expected += by_object.advance_to(as_of)
        assert key(got) == key(expected) and len(got) > 5

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"kind": "survey", "metric": "nps", "score": 11.0}, "score"),
            ({"timestamp": "2024-01-01T00:00:00"}, "time zone"),
            ({"customer_id": None}, "customer_id"),
        ],
    )
    def test_bad_records_are_named(self, change: dict[str, Any], message: str) -> None:
        """A record is validated as a log's rows are: the error names what is wrong."""
        from cxmodel.errors import CXModelError

        record = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        engine = TriggerEngine(parse(ACCEPTANCE))
        with pytest.raises(CXModelError, match=message):
            engine.process({**record, **change})

    @pytest.mark.parametrize("text", ["nan", "NaN", "-nan"])
    def test_nan_text_is_refused_as_a_log_refuses_it(self, text: str) -> None:
        """The text 'nan' in a number field is refused, as a log's row is, not read as a
        missing value (which made a purchase of value 'nan' fire nothing, silently)."""
        record = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        record["value"] = text
        with pytest.raises(SchemaError, match="not a finite number"):
            InteractionLog.from_records([record])
        engine = TriggerEngine(parse("trigger p:\n    when purchase as p\n    emit thanks"))
        with pytest.raises(SchemaError, match=f"record 1: value {text!r} is not a finite number"):
            engine.process_many([record])


class TestTimestamps:
    """Timestamps of the common UTC shape are read without the general parser; every text
    must give what :func:`~cxmodel._time.to_us` gives, or fail as it does."""

    @pytest.mark.parametrize(
        "text",
        [
            "2024-03-05T08:05:42Z",
            "2024-03-05T08:05:42+00:00",
            "2024-03-05T08:05:42.123Z",
            "2024-03-05T08:05:42.123456+00:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59.5Z",  # after the last second: refused as to_us refuses it
            "2024-02-29T23:59:59Z",
            "2023-02-29T00:00:00Z",  # no such day
            "2024-13-01T00:00:00Z",
            "2024-03-05T24:00:00Z",
            "2024-03-05T08:60:00Z",
            "2024-03-05T08:05:60Z",
            "0000-01-01T00:00:00Z",
            "2024-03-05T08:05:42.12Z",
            "2024-03-05 08:05:42Z",
            "2024-03-05T08:05:42z",
            "2024-03-05T08:05:42+02:00",
            " 2024-03-05T08:05:42Z",
            "2024-03-05T08:05:42",  # naive
            "2024-03-0٥T08:05:42Z",  # a digit that is not ASCII
        ],
    )
    def test_same_time_or_same_error_as_to_us(self, text: str) -> None:
        """The row's time is to_us(text), or both refuse the text with the same message."""
        from cxmodel._time import to_us
        from cxmodel.errors import SchemaError

        record = {"customer_id": "a", "timestamp": text, "kind": "view"}
        try:
            expected: Any = to_us(text)
        except SchemaError as error:
            expected = f"record 1: {error}"
        try:
            got: Any = row_from_record(record, "record 1").time
        except SchemaError as error:
            got = str(error)
        assert expected == got


class TestRow:
    def test_record_fields(self) -> None:
        """A record becomes a row: UTC microseconds, the kind, numbers as floats, and no field
        for a missing value."""
        rec = {"customer_id": "a", "timestamp": "1970-01-01T01:00:00+01:00", "kind": "purchase",
               "value": 5, "channel": None, "interaction_id": "i1"}  # fmt: skip
        row = row_from_record(rec, "record 0")
        assert (row.customer, row.time, row.kind, row.interaction_id) == ("a", 0, "purchase", "i1")
        assert row.fields["value"] == 5.0 and isinstance(row.fields["value"], float)
        assert "channel" not in row.fields and row.fields["kind"] == "purchase"

    def test_stored_form_round_trips(self) -> None:
        """to_list and from_list give back the same customer, time, fields, seq and rank."""
        row = Row("a", 1_000_000, "view", {"kind": "view", "page": "p1"}, seq=7, rank=2)
        again = Row.from_list(row.to_list())
        assert row.to_list() == again.to_list()
        assert again.kind == "view"

    def test_record_is_json_ready(self) -> None:
        """record() writes the time as ISO-8601 UTC, the customer first, then the fields."""
        row = Row("a", 86_400_000_000, "view", {"kind": "view", "page": "p1"})
        expected = {"customer_id": "a", "timestamp": "1970-01-02T00:00:00+00:00",
                    "kind": "view", "page": "p1"}  # fmt: skip
        assert row.record() == expected


def _forms(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """``recs`` in every form ``process_many`` takes."""
    from cxmodel.domain import Interaction
    from cxmodel.log import InteractionLog

    names = sorted({name for r in recs for name in r})
    std = ("interaction_id", "value", "metric", "score")
    own = ("customer_id", "timestamp", "kind", *std)

    def interaction_of(r: dict[str, Any]) -> Interaction:
        properties = {k: v for k, v in r.items() if k not in own}
        known = {k: r[k] for k in std if k in r}
        return Interaction(
            r["customer_id"], r["timestamp"], r["kind"], properties=properties, **known
        )

    return {
        "records": recs,
        "interactions": [interaction_of(r) for r in recs],
        "columns": {name: [r.get(name) for r in recs] for name in names},
        "log": InteractionLog.from_records(recs),
    }


class TestNumbersInProperties:
    """A number in a property is read as a log reads it: in a property named like an id
    (``order_id``, ``zip``, ``sku``) it is text, its digits (a float's shortest text); a whole
    number a float would round (beyond 2**53) is text too; else a float. Before, records and
    Interaction objects kept floats (``order_id`` 5.0) where the log, batch and the
    engine's other input forms held ``"5"``, so payloads and comparisons differed."""

    @pytest.mark.parametrize(
        ("name", "value", "kept"),
        [
            ("order_id", 5, "5"),
            ("order_id", 5.0, "5.0"),
            ("zip", 1234, "1234"),
            ("customerRef", 7, "7"),
            ("order_id", float("nan"), None),
            ("order_id", True, True),
            ("quantity", 5, 5.0),
            ("quantity", 2**53 - 1, float(2**53 - 1)),
            ("quantity", 2**60, str(2**60)),
            ("quantity", -(2**60), str(-(2**60))),
            ("paid", 5, 5.0),
        ],
    )
    def test_as_a_log_reads_it(self, name: str, value: Any, kept: Any) -> None:
        """The value kept, and a one-row log's value, are the same."""
        from cxmodel.log import InteractionLog

        rec = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
        row = row_from_record({**rec, name: value}, "record")
        assert row.fields.get(name) == kept
        log = InteractionLog.from_records([{**rec, name: value}])
        if kept is None:
            return
        if log.schema[name] == "string":
            codes, cats = log.categorical(name)
            assert cats[codes[0]] == kept
        else:
            assert log.numeric(name)[0] == float(kept)

    def test_every_form_and_batch_give_one_payload(self) -> None:
        """Records, Interaction objects, columns, a log and batch give the same payload."""
        from cxmodel.log import InteractionLog
        from cxmodel.triggers import evaluate

        rules = parse(
            "trigger t:\n    when purchase as p\n    emit a(o = p.order_id, z = p.zip, q = p.qty)"
        )
        recs = [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
                 "order_id": 5, "zip": 1234, "qty": 2}]  # fmt: skip
        payloads = {
            form: [f.payload for f in TriggerEngine(rules).process_many(given)]
            for form, given in _forms(recs).items()
        }
        log = InteractionLog.from_records(recs)
        payloads["batch"] = [f.payload for f in evaluate(rules, log, as_of="2024-01-02T00:00:00Z")]
        assert set(map(repr, payloads.values())) == {"[{'o': '5', 'z': '1234', 'q': 2.0}]"}


class TestIds:
    @pytest.mark.parametrize(
        ("customer", "message"),
        [
            ("", "customer_id '' is empty"),
            ("  ", "customer_id '  ' is blank"),
            (1.5, "customer_id 1.5 is not text"),
            (True, "customer_id True is not text"),
        ],
    )
    def test_refused_naming_what_is_wrong(self, customer: Any, message: str) -> None:
        """An id that is empty, only spaces, or not text (nor a whole number) is refused
        saying which (a blank id was called 'not text')."""
        from cxmodel.errors import SchemaError

        rec = {"customer_id": customer, "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
        with pytest.raises(SchemaError, match=f"record: {message}"):
            row_from_record(rec, "record")

    @pytest.mark.parametrize("customer", ["Zoë ☃", "a\x00b", "𝔘𝔫𝔦", "a'b\"c", "\u202e", 12])
    def test_unusual_ids_round_trip_through_a_store(self, customer: Any, tmp_path: Any) -> None:
        """Unicode, control characters, quotes and integer ids are kept, stored, restored
        and forgotten."""
        from cxmodel.triggers import SQLiteStore

        rules = parse("trigger t:\n    when purchase as p then after 1 days\n    emit x")
        rec = {"customer_id": customer, "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        store = SQLiteStore(tmp_path / "s.db")
        TriggerEngine(rules, store=store).process(rec)
        store.close()
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(rules, store=store)
        [firing] = engine.advance_to("2024-01-03T00:00:00Z")
        assert firing.customer_id == str(customer) and store.pending() == [firing]
        engine.forget(customer)
        assert store.pending() == [] and engine.stats()["customers"] == 0
        store.close()


def test_a_date_timestamp_is_refused_as_the_log_refuses_it() -> None:
    """A ``datetime.date`` names no instant until its zone is said: refused, naming the
    record, one at a time and in a micro-batch (a log refuses it without ``timezone=``);
    an aware datetime on that day is taken."""
    from datetime import date, datetime, timezone

    from cxmodel.errors import DataWarning, SchemaError
    from cxmodel.log import InteractionLog

    engine = TriggerEngine(parse("trigger t:\n    when purchase\n    emit x"), max_future=None)
    record = {"customer_id": "a", "timestamp": date(2024, 3, 1), "kind": "purchase"}
    with pytest.raises(SchemaError, match="'2024-03-01' is a date"):
        engine.process(record)
    with pytest.raises(SchemaError, match="record 2: timestamp '2024-03-01' is a date"):
        engine.process_many([{**record, "timestamp": T0.isoformat()}, record])
    good = {**record, "timestamp": T0.isoformat()}
    with pytest.warns(DataWarning, match="1 of 2 rows rejected"):
        log = InteractionLog.from_records([good, record], errors="quarantine")
    assert len(log.rejected) == 1
    aware = {**record, "timestamp": datetime(2024, 3, 1, tzinfo=timezone.utc)}
    assert len(engine.process(aware)) == 1


class TestFieldNames:
    @pytest.mark.parametrize("name", ["bad\ud800", "\udc80", "caf\u00e9\ud800"])
    def test_a_name_that_is_not_valid_text_is_refused_on_every_path(self, name: str) -> None:
        """A field name holding an unpaired surrogate is refused (no store could write the
        record, late or not), one at a time and in a large micro-batch alike, naming the
        record and the name; a log refuses the column's name."""
        recs = records(1, 1500)
        bad = {**recs[700], name: 1.0}
        with pytest.raises(SchemaError, match="field name .* is not valid text"):
            row_from_record(bad, "record")
        got = []
        for batch in ([*recs[:700], bad], [*recs[:700], bad, *recs[701:]]):  # both paths
            engine = TriggerEngine(parse(ACCEPTANCE), max_future=None)
            engine._columnar_from = 1_000
            with pytest.raises(SchemaError) as refused:
                engine.process_many(batch)
            got.append(str(refused.value))
            assert engine.stats()["customers"] == 0  # nothing of the call was processed
        assert got[0] == got[1] and got[0].startswith("record 701: field name ")
        with pytest.raises(SchemaError, match="column name .* is not valid text"):
            InteractionLog.from_records([bad])

    def test_a_name_of_valid_text_beyond_ascii_is_kept(self) -> None:
        row = row_from_record({**records(1, 1)[0], "café ☃": "x"}, "record")
        assert row.fields["café ☃"] == "x"
