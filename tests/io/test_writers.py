"""Tests of the writers: CSV with a header, log order, UTC ISO-8601 times, exact numbers and
empty fields for missing values; Parquet with dictionary-encoded strings."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
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


def _awkward() -> InteractionLog:
    return InteractionLog.from_records(
        [
            {
                "customer_id": "a,b",
                "timestamp": "2024-01-01T00:00:00.123456Z",
                "kind": "view",
                "value": 1e-300,
                "comment": 'he said "hi",\nthen\r\nleft',
                "flag": True,
            },
            {
                "customer_id": "é😀",
                "timestamp": "0001-01-01T00:00:00Z",
                "kind": "view",
                "value": float("nan"),
                "comment": "  spaced  ",
                "flag": False,
            },
            {
                "customer_id": " lead",
                "timestamp": "9999-12-31T23:59:59Z",
                "kind": "purchase",
                "value": 1.7976931348623157e308,
                "comment": None,
                "flag": None,
            },
        ]
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

    @pytest.mark.parametrize("engine", ["python", "pyarrow"])
    def test_awkward_values_round_trip(self, tmp_path: Path, engine: str) -> None:
        """Quotes, commas, newlines, unicode and spaces in text, bools, missing values, the
        first and last second a log holds and microseconds all read back equal."""
        from cxmodel.io import read_csv

        if engine == "pyarrow":
            pytest.importorskip("pyarrow")
        log = _awkward()
        path = tmp_path / "log.csv"
        write_csv(log, path)
        assert read_csv(path, dtypes=log.schema, engine=engine) == log  # type: ignore[arg-type]


ATTACKS = ['=HYPERLINK("http://evil","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=2"]


class TestSpreadsheetSafety:
    """Text a spreadsheet would run as a formula is written with a quote before it (OWASP's
    advice against CSV injection); numbers are not text and are written as they are."""

    def _risky(self) -> InteractionLog:
        n = len(ATTACKS)
        return InteractionLog.from_arrays(
            customer_id=ATTACKS,
            timestamp=["2024-01-01T00:00:00Z"] * n,
            kind="survey",
            sentiment=[-1.0 / (i + 1) for i in range(n)],
            note=[*ATTACKS[1:], "'quoted"],
        )

    def test_formulas_are_marked_and_numbers_kept(self, tmp_path: Path) -> None:
        path = tmp_path / "log.csv"
        write_csv(self._risky(), path)
        with open(path, newline="", encoding="utf-8") as handle:
            header, *rows = list(csv.reader(handle))
        cells = {name: [row[j] for row in rows] for j, name in enumerate(header)}
        assert sorted(cells["customer_id"]) == sorted("'" + a for a in ATTACKS)
        assert sorted(cells["note"]) == sorted(["''quoted", *("'" + a for a in ATTACKS[1:])])
        assert all(v.startswith("-") for v in cells["sentiment"])  # numbers, not text

    @pytest.mark.parametrize("engine", ["python", "pyarrow"])
    def test_round_trip(self, tmp_path: Path, engine: str) -> None:
        from cxmodel.io import read_csv

        log = self._risky()
        path = tmp_path / "log.csv"
        write_csv(log, path)
        assert read_csv(path, engine=engine) == log  # type: ignore[arg-type]

    @settings(max_examples=60, deadline=None)
    @given(
        notes=st.lists(
            st.one_of(
                st.text(st.characters(exclude_categories=("Cs",)), min_size=1),
                st.builds(
                    str.__add__,
                    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "''"]),
                    st.text(st.characters(exclude_categories=("Cs",))),
                ),
            ),
            min_size=1,
            max_size=6,
        ),
        engine=st.sampled_from(["python", "pyarrow"]),
    )
    def test_any_text_round_trips(self, notes: list[str], engine: str) -> None:
        """Whatever the text of a column, customer ids included, it reads back as written."""
        import tempfile

        from cxmodel.io import read_csv

        notes = [n for n in notes if n.strip()] or ["x"]  # an empty or blank field is missing
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as folder:
            warnings.simplefilter("ignore", DataWarning)  # ids that differ only by spaces
            log = InteractionLog.from_arrays(
                customer_id=notes,
                timestamp=["2024-01-01T00:00:00Z"] * len(notes),
                kind="view",
                note=notes,
            )
            path = Path(folder) / "log.csv"
            write_csv(log, path)
            again = read_csv(path, engine=engine)  # type: ignore[arg-type]
        assert again.column("note").tolist() == log.column("note").tolist()
        assert again.column("customer_id").tolist() == log.column("customer_id").tolist()


class TestWriteParquet:
    def test_dictionary_strings_and_round_trip(self, tmp_path: Path) -> None:
        """Strings are stored dictionary-encoded; reading back gives an equal log."""
        pq = pytest.importorskip("pyarrow.parquet")
        path = tmp_path / "log.parquet"
        write_parquet(_log(), path)
        schema = pq.read_schema(path)
        assert str(schema.field("kind").type).startswith("dictionary")
        assert read_parquet(path) == _log()

    @pytest.mark.parametrize(
        "declare",
        [
            pytest.param(lambda log: log, id="last-interaction"),
            pytest.param(lambda log: log.with_observed_until("2024-02-01T00:00Z"), id="declared"),
            pytest.param(lambda log: log.between(end="2024-01-03T00:00Z"), id="cut"),
            pytest.param(
                lambda log: InteractionLog.from_arrays(
                    ["a", "b"], ["2024-03-30", "2024-03-31"], ["view"] * 2, timezone="Europe/Paris"
                ),
                id="whole-days",
            ),
        ],
    )
    def test_observed_until_round_trips(self, tmp_path: Path, declare: Any) -> None:
        """The log read back is observed until the time the log written was: its last
        interaction, a declared end, the end of a cut, the end of a last day of dates."""
        pytest.importorskip("pyarrow.parquet")
        log = declare(_log())
        path = tmp_path / "log.parquet"
        write_parquet(log, path)
        back = read_parquet(path)
        assert (back, back.observed_until) == (log, log.observed_until)

    def test_awkward_values_round_trip(self, tmp_path: Path) -> None:
        """The awkward log of the CSV test reads back equal from Parquet too."""
        pytest.importorskip("pyarrow.parquet")
        path = tmp_path / "log.parquet"
        write_parquet(_awkward(), path)
        assert read_parquet(path) == _awkward()
