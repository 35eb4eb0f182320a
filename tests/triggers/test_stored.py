"""Stored: a snapshot's values read back with their types and ranges checked, a value that is
not what the engine writes refused with DamagedState naming its path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import StoreError
from cxmodel.triggers._stored import TIME_RANGE_US, DamagedState, Stored

SNAPSHOT = {"customers": {"c-1": {"rules": {"ask": {"anchors": [[1, "x"]]}}}}}


class TestPath:
    def test_names_keys_and_indexes(self) -> None:
        """A name key reads '.key', any other key '[key]', an index '[i]'."""
        root = Stored(SNAPSHOT, "snapshot")
        (cid, customer), *_ = root["customers"].items()
        (_, ask), *_ = customer["rules"].items()
        due = ask["anchors"].entries()[0].entries(2)[1]
        expected = "snapshot.customers['c-1'].rules['ask'].anchors[0][1]"
        assert (cid, expected) == ("c-1", due.path)

    def test_damaged_state_is_a_store_error(self) -> None:
        assert issubclass(DamagedState, StoreError)


READERS: dict[str, Callable[[Stored], Any]] = {
    "time": Stored.time,
    "optional_time": Stored.optional_time,
    "integer": Stored.integer,
    "count": Stored.count,
    "text": Stored.text,
    "flag": Stored.flag,
    "optional_flag": Stored.optional_flag,
    "mapping": Stored.mapping,
    "entries": Stored.entries,
}


class TestReaders:
    @pytest.mark.parametrize(
        ("reader", "value", "expected"),
        [
            ("time", 5, 5),
            ("time", np.int64(7), 7),
            ("time", TIME_RANGE_US[1], TIME_RANGE_US[1]),
            ("optional_time", None, None),
            ("integer", -1, -1),
            ("count", 0, 0),
            ("text", "a", "a"),
            ("flag", False, False),
            ("optional_flag", None, None),
            ("mapping", None, {}),
            ("entries", None, []),
        ],
        ids=lambda v: repr(v)[:20],
    )
    def test_takes_what_the_engine_writes(self, reader: str, value: Any, expected: Any) -> None:
        got = READERS[reader](Stored(value, "v"))
        if reader == "entries":
            got = [item.value for item in got]
        assert expected == got

    @pytest.mark.parametrize(
        ("reader", "value", "message"),
        [
            ("time", "x", "v is str 'x'; expected a time"),
            ("time", 1.0, "v is float 1.0; expected a time"),
            ("time", True, "v is bool True; expected a time"),
            ("time", None, "v is NoneType None; expected a time"),
            ("time", TIME_RANGE_US[1] + 1, "within years 1 to 9999"),
            ("time", TIME_RANGE_US[0] - 1, "within years 1 to 9999"),
            ("optional_time", 10**20, "v is int 100000000000000000000; expected a time"),
            ("integer", "1", "v is str '1'; expected an integer"),
            ("count", -1, "v is int -1; expected a count"),
            ("text", 5, "v is int 5; expected text"),
            ("flag", 1, "v is int 1; expected true or false"),
            ("optional_flag", "yes", "v is str 'yes'; expected true or false"),
            ("mapping", [1], r"v is list \[1\]; expected a mapping"),
            ("entries", {"a": 1}, "v is dict {'a': 1}; expected a list"),
        ],
        ids=[
            "time-text",
            "time-float",
            "time-bool",
            "time-missing",
            "time-after-9999",
            "time-before-year-1",
            "optional-time-huge",
            "integer-text",
            "count-negative",
            "text-number",
            "flag-number",
            "optional-flag-text",
            "mapping-list",
            "entries-mapping",
        ],
    )
    def test_refuses_anything_else(self, reader: str, value: Any, message: str) -> None:
        with pytest.raises(DamagedState, match=message):
            READERS[reader](Stored(value, "v"))

    def test_count_default_and_list_length(self) -> None:
        """A missing count reads as its default; a list of another length is refused."""
        meta = Stored({"row": [1, 2]}, "meta")
        assert meta["seq"].count(default=0) == 0
        with pytest.raises(DamagedState, match=r"meta.row is list \[1, 2\]; expected a list of 3"):
            meta["row"].entries(3)

    def test_key_of_something_not_a_mapping(self) -> None:
        with pytest.raises(DamagedState, match="meta is str 'x'; expected a mapping"):
            Stored("x", "meta")["watermark"]
