"""Tests of firings: deterministic ids, one firing's dict and JSON forms, the table of emitted
and suppressed firings, its columns, and the JSON-lines and CSV writers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel._spreadsheet import unmarked
from cxmodel.errors import IndexOutOfRangeError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import Firing, Firings, evaluate, firing_id, parse
from cxmodel.triggers._firings import firing_columns, firing_ids_of, write_firings

#: a buys for 50 on 1 January and 60 on 3 January; b buys for 5. The rule thanks purchases
#: over 10 with a 7-day cooldown: a's first purchase is emitted, the second suppressed.
LOG = InteractionLog.from_records(
    [
        {"customer_id": "b", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase", "value": 5.0},
        {
            "customer_id": "a",
            "timestamp": "2024-01-01T00:00:00Z",
            "kind": "purchase",
            "value": 50.0,
        },
        {
            "customer_id": "a",
            "timestamp": "2024-01-03T00:00:00Z",
            "kind": "purchase",
            "value": 60.0,
        },
    ]
)
RULE = "trigger big:\n    when purchase as p where p.value > 10\n    emit thank(v = p.value)\n    cooldown 7 days"
AS_OF = "2024-02-01T00:00:00Z"


def _firing(customer: str, day: int, **more: object) -> Firing:
    fields: dict[str, object] = {
        "trigger": "t",
        "customer_id": customer,
        "time": datetime(2024, 1, day, tzinfo=timezone.utc),
        "action": "call",
        "payload": {"n": day},
        "because": {"when": {"kind": "purchase"}},
        "firing_id": f"{customer}{day}",
    }
    return Firing(**(fields | more))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def evaluated() -> Firings:
    return evaluate(parse(RULE), LOG, as_of=AS_OF)


class TestFiringId:
    def test_deterministic_and_distinct(self) -> None:
        """The same rule, customer and anchor give the same 20-hex-digit id; any change
        gives another."""
        a = firing_id("churn_risk", "c1", "t=0")
        assert a == firing_id("churn_risk", "c1", "t=0")
        assert len(a) == 20 and int(a, 16) >= 0
        others = {firing_id("churn_risk", "c2", "t=0"), firing_id("x", "c1", "t=0"),
                  firing_id("churn_risk", "c1", "t=1")}  # fmt: skip
        assert a not in others and len(others) == 3


class TestFiring:
    def test_dict_copies_payload_and_because(self) -> None:
        """The dict has every field, the time in ISO 8601, and copies of the nested values."""
        f = _firing("a", 2)
        d = f.to_dict()
        assert d["time"] == "2024-01-02T00:00:00+00:00" and d["reason"] is None
        d["payload"]["n"] = 99
        d["because"]["when"]["kind"] = "x"
        assert f.payload == {"n": 2} and f.because == {"when": {"kind": "purchase"}}

    def test_json_writes_other_values_as_text(self) -> None:
        """A payload value JSON cannot hold is written as text."""
        f = _firing("a", 2, payload={"at": datetime(2024, 1, 2, tzinfo=timezone.utc)})
        assert json.loads(f.to_json())["payload"] == {"at": "2024-01-02 00:00:00+00:00"}


class TestFirings:
    def test_emitted_and_suppressed(self, evaluated: Firings) -> None:
        """One firing emitted (a, 1 January), one suppressed by the cooldown with its reason."""
        assert len(evaluated) == 1
        (emitted,) = evaluated
        assert (emitted.customer_id, emitted.payload, emitted.reason) == ("a", {"v": 50.0}, None)
        (held,) = evaluated.suppressed_firings
        assert held.reason == "cooldown 7 days"
        assert len(evaluated.suppressed) == 1 and held == evaluated.suppressed[0]
        assert {emitted.firing_id} == evaluated.ids()

    def test_indexing(self) -> None:
        """Indexes from either end and slices; an index past the end names the count."""
        firings = Firings([_firing("a", 1), _firing("b", 2), _firing("c", 3)])
        assert (firings[0].customer_id, firings[-1].customer_id) == ("a", "c")
        assert [f.customer_id for f in firings[1:]] == ["b", "c"]
        with pytest.raises(IndexOutOfRangeError, match="firing index 3 out of range for 3 firings"):
            firings[3]

    def test_equality(self) -> None:
        """Firings are equal when their emitted and suppressed firings are."""
        a = Firings([_firing("a", 1)], [_firing("b", 2, reason="once")])
        assert a == Firings([_firing("a", 1)], [_firing("b", 2, reason="once")])
        assert a != Firings([_firing("a", 1)])

    def test_dict_and_pandas_keep_the_reason(self, evaluated: Firings) -> None:
        """The dict form holds both lists; a frame of suppressed firings has the reason."""
        d = evaluated.to_dict()
        assert [f["reason"] for f in d["firings"]] == [None]
        assert [f["reason"] for f in d["suppressed"]] == ["cooldown 7 days"]
        pytest.importorskip("pandas")
        assert evaluated.suppressed.to_pandas()["reason"].tolist() == ["cooldown 7 days"]

    def test_columns_of_emitted_then_suppressed(self, evaluated: Firings) -> None:
        """Columns list emitted firings first, then suppressed, with their reasons."""
        cols = firing_columns(evaluated, ids=True)
        assert cols["emitted"].tolist() == [True, False]
        assert cols["customer_id"].tolist() == ["a", "a"]
        assert cols["reason"].tolist() == [None, "cooldown 7 days"]
        assert int(cols["time"][1] - cols["time"][0]) == 86_400 * 2 * 10**6


class TestWriteFirings:
    def test_json_lines(self, evaluated: Firings) -> None:
        """One JSON object per emitted firing."""
        buffer = io.StringIO()
        write_firings(evaluated, buffer)
        (line,) = buffer.getvalue().splitlines()
        assert json.loads(line)["payload"] == {"v": 50.0}

    def test_csv(self, evaluated: Firings) -> None:
        """A header and one row per emitted firing, payload as JSON text."""
        buffer = io.StringIO()
        write_firings(evaluated, buffer, format="csv")
        header, row = buffer.getvalue().splitlines()
        assert header == "trigger,customer_id,time,action,payload,because,firing_id"
        assert row.startswith('big,a,2024-01-01T00:00:00+00:00,thank,"{""v"": 50.0}"')

    @pytest.mark.parametrize(
        "customer",
        ['=HYPERLINK("http://evil","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
    )
    def test_csv_cells_a_spreadsheet_would_run_are_marked(self, customer: str) -> None:
        """A customer id or action starting with = + - @ tab or CR is written after a quote
        (CSV injection); the JSON payload, with its negative number, is left as it is."""
        firing = Firing(
            "t", customer, datetime(2024, 1, 1, tzinfo=timezone.utc), "-call", {"v": -5.0}, {}, "f"
        )
        buffer = io.StringIO()
        write_firings(Firings([firing]), buffer, format="csv")
        (_, row) = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
        assert row[1] == "'" + customer
        assert row[3] == "'-call"
        assert json.loads(row[4]) == {"v": -5.0}

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.text(),
                st.builds(str.__add__, st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'"]),
                          st.text()),
            ),
            min_size=1,
            max_size=5,
        )
    )  # fmt: skip
    def test_csv_text_reads_back_exactly(self, customers: list[str]) -> None:
        """Dropping the first quote of a cell that starts with a quote and a risky character
        or another quote gives every id back, a quote the id really started with included."""
        time = datetime(2024, 1, 1, tzinfo=timezone.utc)
        firings = Firings(
            [Firing("t", c, time, "a", {}, {}, f"f{i}") for i, c in enumerate(customers)]
        )
        buffer = io.StringIO()
        write_firings(firings, buffer, format="csv")
        _, *rows = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
        ids = np.array([row[1] for row in rows], dtype=object)
        assert unmarked(ids).tolist() == customers

    def test_unknown_format(self, evaluated: Firings) -> None:
        """Only jsonl and csv are written."""
        with pytest.raises(SchemaError, match="format must be 'jsonl' or 'csv', got 'xml'"):
            write_firings(evaluated, io.StringIO(), format="xml")


class TestFiringIds:
    @settings(max_examples=200, deadline=None)
    @given(
        st.text(min_size=1, max_size=8),
        st.lists(st.tuples(st.text(max_size=8), st.text(max_size=12)), max_size=6),
    )
    def test_in_bulk_as_one_by_one_and_unchanged(
        self, rule: str, pairs: list[tuple[str, str]]
    ) -> None:
        """An id is the first 20 hex digits of the SHA-1 of rule, customer and anchor key
        joined by U+001F (stores written earlier hold ids made so), one by one or in bulk."""
        customers, anchors = [c for c, _ in pairs], [a for _, a in pairs]
        want = [
            hashlib.sha1(f"{rule}\x1f{c}\x1f{a}".encode(), usedforsecurity=False).hexdigest()[:20]
            for c, a in pairs
        ]
        assert firing_ids_of(rule, customers, anchors) == want
        assert [firing_id(rule, c, a) for c, a in pairs] == want
        assert firing_id("churn_risk", "c1", "t=0") == "f4c3db2c2f47475a120c"
