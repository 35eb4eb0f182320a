"""``kind=``: data without a kind column (an order export) read as rows of one kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog

ROWS = [
    {"customer": "007", "date": "2024-01-01T00:00:00Z", "cds": 1, "dollars": 11.77},
    {"customer": "7", "date": "2024-01-12T00:00:00Z", "cds": 5, "dollars": 77.0},
    {"customer": "007", "date": "2024-02-03T00:00:00Z", "cds": 2, "dollars": 20.76},
]
MAPPING = {"customer": "customer_id", "date": "timestamp", "dollars": "value"}

Reader = Callable[..., InteractionLog]


def _csv(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "orders.csv"
    names = list(rows[0])
    lines = [",".join(names)] + [",".join(str(row[name]) for name in names) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _jsonl(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _parquet(tmp_path: Path, rows: list[dict[str, Any]]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _read_csv_python(path: Path, **options: Any) -> InteractionLog:
    return read_csv(path, engine="python", **options)


def _read_csv_pyarrow(path: Path, **options: Any) -> InteractionLog:
    pytest.importorskip("pyarrow")
    return read_csv(path, engine="pyarrow", **options)


READERS = [
    pytest.param(_csv, _read_csv_python, id="csv-python"),
    pytest.param(_csv, _read_csv_pyarrow, id="csv-pyarrow"),
    pytest.param(_jsonl, read_jsonl, id="jsonl"),
    pytest.param(_parquet, read_parquet, id="parquet"),
]


@pytest.mark.parametrize(("write", "read"), READERS)
class TestReaders:
    def test_every_row_is_of_the_kind(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader
    ) -> None:
        """Every row is a purchase, with its value and properties as without ``kind=``."""
        log = read(write(tmp_path, ROWS), mapping=MAPPING, kind="purchase")
        assert log.column("kind").tolist() == ["purchase"] * 3
        assert log.summary()["kinds"] == {"purchase": 3}
        assert sorted(log.numeric("value").tolist()) == [11.77, 20.76, 77.0]
        assert log.customers.tolist() == ["007", "7"]

    def test_the_same_log_as_a_kind_column(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader
    ) -> None:
        """``kind="purchase"`` reads the log that a kind column of purchases gives."""
        one = read(write(tmp_path, ROWS), mapping=MAPPING, kind="purchase")
        column = tmp_path / "with_kind"
        column.mkdir()
        rows = [{**row, "kind": "purchase"} for row in ROWS]
        assert one == read(write(column, rows), mapping=MAPPING)

    def test_kinds_renames_the_one_kind(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader
    ) -> None:
        """``kinds=`` applies to the one kind as to a column's values."""
        log = read(
            write(tmp_path, ROWS), mapping=MAPPING, kind="order", kinds={"order": "purchase"}
        )
        assert set(log.column("kind").tolist()) == {"purchase"}

    def test_a_kind_column_and_kind_is_an_error(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader
    ) -> None:
        """A file with a kind column (here by mapping) and ``kind=`` names both."""
        mapping = {**MAPPING, "cds": "kind"}
        with pytest.raises(SchemaError, match=r"kind='purchase' .* has a 'kind' column too"):
            read(write(tmp_path, ROWS), mapping=mapping, kind="purchase")

    def test_without_kind_the_error_says_kind(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader
    ) -> None:
        """A file without a kind column, read without ``kind=``, says how to pass it."""
        with pytest.raises(SchemaError, match=r"'kind' is missing.*pass kind='purchase'"):
            read(write(tmp_path, ROWS), mapping=MAPPING)

    @pytest.mark.parametrize(
        "kind",
        ["", "   ", 3, b"purchase", ["purchase"]],
        ids=["empty", "blank", "int", "bytes", "list"],
    )
    def test_a_bad_kind_is_refused(
        self, tmp_path: Path, write: Callable[..., Path], read: Reader, kind: Any
    ) -> None:
        """The kind is validated like any kind: non-empty text."""
        with pytest.raises(SchemaError, match=r"kind must be non-empty text .* \(got "):
            read(write(tmp_path, ROWS), mapping=MAPPING, kind=kind)


class TestConstructors:
    def test_from_arrays_takes_one_kind(self) -> None:
        """``from_arrays`` takes one ``str`` as the kind of every row."""
        log = InteractionLog.from_arrays(
            ["a", "b"], ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], "purchase", value=[1, 2]
        )
        assert log.column("kind").tolist() == ["purchase", "purchase"]
        assert log == InteractionLog.from_arrays(
            ["a", "b"],
            ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
            np.array(["purchase", "purchase"], dtype=object),
            value=[1, 2],
        )

    def test_from_arrays_refuses_an_empty_kind(self) -> None:
        """An empty kind for every row is refused as ``kind=`` is."""
        with pytest.raises(SchemaError, match="kind must be non-empty text"):
            InteractionLog.from_arrays(["a"], ["2024-01-01T00:00:00Z"], "")

    def test_from_records(self) -> None:
        """Records without a kind key take ``kind=``; a record with one is an error."""
        records = [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "value": 3.0}]
        log = InteractionLog.from_records(records, kind="purchase")
        assert log.column("kind").tolist() == ["purchase"]
        with pytest.raises(SchemaError, match="has a 'kind' column too"):
            InteractionLog.from_records([{**records[0], "kind": "view"}], kind="purchase")

    def test_from_pandas(self) -> None:
        """A frame without a kind column takes ``kind=``."""
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        frame = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01T00:00:00Z"]})
        assert InteractionLog.from_pandas(frame, kind="view").column("kind").tolist() == ["view"]

    def test_quarantined_rows_keep_the_kind(self, tmp_path: Path) -> None:
        """Under quarantine a bad row is rejected with its row number; the rest are of the kind."""
        rows = [*ROWS, {"customer": "9", "date": "yesterday", "cds": 1, "dollars": 1.0}]
        with pytest.warns(DataWarning, match="1 of 4 rows rejected"):
            log = read_csv(
                _csv(tmp_path, rows), mapping=MAPPING, kind="purchase", errors="quarantine"
            )
        assert (len(log), log.rejected.row.tolist()) == (3, [4])
