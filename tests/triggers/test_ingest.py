"""What the streaming engine takes in: plain records equal Interaction objects, bad records and
wrong inputs are named, and rows keep their fields and round-trip through their stored form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

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
        from cxmodel.errors import SchemaError
        from cxmodel.log import InteractionLog

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
