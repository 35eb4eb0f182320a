"""Tests of the writers: CSV with a header, log order, UTC ISO-8601 times, exact numbers and
empty fields for missing values; Parquet with dictionary-encoded strings."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from cxmodel.io import read_parquet, write_csv, write_parquet
from cxmodel.log import InteractionLog


def _log() -> InteractionLog:
    """b before a in input order; a's rows out of time order."""
    return InteractionLog.from_arrays(
        customer_id=["b", "a", "a"],
        timestamp=["2024-01-02T00:00:00Z", "2024-01-03T12:30:00.5+02:00", "2024-01-01T00:00:00Z"],
        kind=["purchase", "survey", "view"],
        value=[0.1, np.nan, np.nan],
        channel=["web", None, "app"],
    )


class TestWriteCsv:
    def test_rows_in_log_order_with_utc_times(self, tmp_path: Path) -> None:
        """Customer then time order; times in UTC with microseconds and +00:00; floats written
        exactly (repr); missing values are empty fields."""
        path = tmp_path / "log.csv"
        write_csv(_log(), path)
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["customer_id", "timestamp", "kind", "channel", "value"]
        assert rows[1:] == [
            ["a", "2024-01-01T00:00:00.000000+00:00", "view", "app", ""],
            ["a", "2024-01-03T10:30:00.500000+00:00", "survey", "", ""],
            ["b", "2024-01-02T00:00:00.000000+00:00", "purchase", "web", "0.1"],
        ]

    def test_round_trip_needs_the_schema_for_other_number_columns(self, tmp_path: Path) -> None:
        """A number column other than value/score/sentiment reads back as text unless its type
        is given; with ``dtypes=log.schema`` the log reads back equal, leading zeros and all."""
        from cxmodel.io import read_csv

        log = InteractionLog.from_arrays(
            customer_id=["007", "7"],
            timestamp=["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
            kind=["purchase", "view"],
            discount=[0.5, np.nan],
            zip=["01234", "1e3"],
        )
        path = tmp_path / "log.csv"
        write_csv(log, path)
        assert read_csv(path).column("discount").tolist() == ["0.5", None]
        assert read_csv(path, dtypes=log.schema) == log


class TestWriteParquet:
    def test_dictionary_strings_and_round_trip(self, tmp_path: Path) -> None:
        """Strings are stored dictionary-encoded; reading back gives an equal log."""
        pq = pytest.importorskip("pyarrow.parquet")
        path = tmp_path / "log.parquet"
        write_parquet(_log(), path)
        schema = pq.read_schema(path)
        assert str(schema.field("kind").type).startswith("dictionary")
        assert read_parquet(path) == _log()
