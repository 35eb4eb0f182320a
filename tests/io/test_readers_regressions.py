"""Regression tests: each class of bad input gets a clear CXModelError and loses nothing."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet

ENGINES = ["pyarrow", "python"]
T = "2024-01-01T00:00:00Z"


def _csv(tmp_path: Path, text: str, name: str = "d.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _quiet(read: Callable[[], cx.InteractionLog]) -> cx.InteractionLog:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return read()


@pytest.mark.parametrize("engine", ENGINES)
class TestTextStaysText:
    def test_bom_and_numeric_looking_ids(self, tmp_path: Path, engine: Any) -> None:
        """A UTF-8 BOM does not hide customer_id: '007' and '7' stay two customers."""
        path = _csv(tmp_path, f"\ufeffcustomer_id,timestamp,kind\n007,{T},view\n7,{T},view\n")
        log = read_csv(path, engine=engine)
        assert log.customers.tolist() == ["007", "7"]

    def test_key_like_properties_keep_their_digits(self, tmp_path: Path, engine: Any) -> None:
        """order_id '00123' vs '123' and integers beyond 2**53 keep their exact text."""
        big = str(2**60 + 1)
        path = _csv(
            tmp_path,
            f"customer_id,timestamp,kind,order_id,qty\na,{T},view,00123,1\n"
            f"a,{T},view,123,2\nb,{T},view,{big},\n",
        )
        log = read_csv(path, engine=engine)
        assert sorted(log.column("order_id").tolist()) == sorted(["00123", "123", big])
        assert log.schema["qty"] == "string"
        declared = read_csv(path, engine=engine, dtypes={"qty": "float"})
        assert declared.schema["qty"] == "float"

    def test_na_words_are_text(self, tmp_path: Path, engine: Any) -> None:
        """'NA' is Namibia; only the empty field is missing; two 'NA' ids are duplicates."""
        path = _csv(
            tmp_path,
            f"customer_id,timestamp,kind,country\na,{T},view,NA\nb,{T},view,N/A\n"
            f"c,{T},view,null\nd,{T},view,nan\ne,{T},view,\n",
        )
        log = read_csv(path, engine=engine)
        assert log.column("country").tolist() == ["NA", "N/A", "null", "nan", None]
        dup = _csv(
            tmp_path, f"customer_id,timestamp,kind,interaction_id\na,{T},view,NA\nb,{T},view,NA\n"
        )
        with pytest.raises(SchemaError, match="row 2: interaction_id 'NA' is a duplicate of row 1"):
            read_csv(dup, engine=engine)

    def test_nan_text_in_a_number_column_is_an_error(self, tmp_path: Path, engine: Any) -> None:
        """'NA' or 'nan' in value is not silently missing: the row is named."""
        path = _csv(tmp_path, f"customer_id,timestamp,kind,value\na,{T},purchase,nan\n")
        with pytest.raises(SchemaError, match="row 1: value 'nan' is not a finite number"):
            read_csv(path, engine=engine)


class TestTypedSources:
    def test_integer_id_with_null_in_parquet(self, tmp_path: Path) -> None:
        """An integer id column with a null: ids keep their digits, the null row is named."""
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        big = 2**60 + 1
        table = pa.table(
            {
                "customer_id": pa.array([1, None, big], pa.int64()),
                "timestamp": [T] * 3,
                "kind": ["view"] * 3,
                "order_id": pa.array([5, 6, big], pa.int64()),
            }
        )
        pq.write_table(table, tmp_path / "x.parquet")
        log = _quiet(lambda: read_parquet(tmp_path / "x.parquet", errors="quarantine"))
        assert log.customers.tolist() == ["1", str(big)]
        assert sorted(log.column("order_id").tolist()) == ["1152921504606846977", "5"]
        assert (
            log.rejected.row.tolist() == [2] and "customer_id is missing" in log.rejected.reason[0]
        )

    def test_one_and_text_one_do_not_merge(self) -> None:
        """1 and '1' in one text column would merge: the number's row is rejected."""
        with pytest.raises(SchemaError, match=r"row 2: customer_id 1 is a number but row 1"):
            cx.InteractionLog.from_records(
                [
                    {"customer_id": "1", "timestamp": T, "kind": "view"},
                    {"customer_id": 1, "timestamp": T, "kind": "view"},
                ]
            )

    @pytest.mark.parametrize(
        "value", [{"a": 1}, [1, 2], b"x", "\ud800"], ids=["dict", "list", "bytes", "surrogate"]
    )
    def test_nested_and_invalid_values_are_row_errors(self, value: object) -> None:
        """Mappings, lists, bytes and lone surrogates name their row and column."""
        records = [
            {"customer_id": "a", "timestamp": T, "kind": "view"},
            {"customer_id": value, "timestamp": T, "kind": "view"},
        ]
        with pytest.raises(SchemaError, match="row 2: customer_id .*column 'customer_id'"):
            cx.InteractionLog.from_records(records)
        log = _quiet(lambda: cx.InteractionLog.from_records(records, errors="quarantine"))
        assert len(log) == 1 and log.rejected.row.tolist() == [2]

    def test_records_that_are_not_mappings(self) -> None:
        """A record that is not a mapping is a bad row, not an AttributeError."""
        records: list[Any] = [{"customer_id": "a", "timestamp": T, "kind": "view"}, [1, 2]]
        with pytest.raises(SchemaError, match="row 2: record"):
            cx.InteractionLog.from_records(records)

    def test_property_named_like_an_option(self) -> None:
        """A property called 'errors' or 'timezone' is a column, not a keyword clash."""
        log = cx.InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": T, "kind": "view", "errors": "x", "timezone": 1.5}]
        )
        assert log.column("errors").tolist() == ["x"]


class TestTime:
    @pytest.mark.parametrize(
        ("value", "unit"),
        [
            (1_700_000_000_000, "milliseconds"),
            (1_700_000_000_000_000, "microseconds"),
            (1_700_000_000_000_000_000, "nanoseconds"),
            (1e30, "epoch seconds between 1900 and 2200"),
            (10**30, "epoch seconds between 1900 and 2200"),
            (float("inf"), "finite"),
        ],
    )
    def test_epoch_numbers_are_bounded(self, value: float, unit: str) -> None:
        """Epoch numbers outside 1900..2200 name the value, the row and the likely unit."""
        records = [
            {"customer_id": "a", "timestamp": 1_700_000_000, "kind": "view"},
            {"customer_id": "b", "timestamp": value, "kind": "view"},
        ]
        with pytest.raises(SchemaError, match=f"row 2: timestamp .*{unit}"):
            cx.InteractionLog.from_records(records)
        log = _quiet(lambda: cx.InteractionLog.from_records(records, errors="quarantine"))
        assert "InteractionLog(1 interactions" in repr(log)

    def test_numpy_epoch_array(self) -> None:
        """A numpy int64 array of milliseconds is rejected, not wrapped around."""
        with pytest.raises(SchemaError, match="milliseconds"):
            cx.InteractionLog.from_arrays(["a"], np.array([1_700_000_000_000]), ["view"])

    @pytest.mark.parametrize("zone", ["", "/etc/localtime", "CET-1CEST,M3.5.0", "Not/AZone"])
    def test_timezone_must_be_iana_or_offset(self, zone: str) -> None:
        """timezone='' never means the machine's zone; paths and POSIX strings are refused."""
        with pytest.raises(SchemaError, match="not an IANA time zone name"):
            cx.InteractionLog.from_records(
                [{"customer_id": "a", "timestamp": "2024-01-01 00:00:00", "kind": "view"}],
                timezone=zone,
            )

    def test_fixed_offset(self) -> None:
        """A fixed offset such as '+02:00' is accepted."""
        log = cx.InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "2024-01-01 02:00:00", "kind": "view"}],
            timezone="+02:00",
        )
        assert str(log.column("timestamp")[0]) == "2024-01-01T00:00:00.000000"

    @pytest.mark.parametrize("engine", ENGINES)
    def test_naive_error_quotes_text_as_written(self, tmp_path: Path, engine: Any) -> None:
        """The naive-time message quotes '2025-01-01 10:00:00', not a normalised form."""
        path = _csv(tmp_path, "customer_id,timestamp,kind\na,2025-01-01 10:00:00,view\n")
        with pytest.raises(SchemaError, match="'2025-01-01 10:00:00' has no time zone"):
            read_csv(path, engine=engine)

    @pytest.mark.parametrize("engine", ENGINES)
    def test_nothing_accepted_is_an_error(self, tmp_path: Path, engine: Any) -> None:
        """Quarantine without timezone= on naive times: an error naming reason and count."""
        rows = "".join(f"c{i},2025-01-01 10:00:00,view\n" for i in range(5))
        path = _csv(tmp_path, "customer_id,timestamp,kind\n" + rows)
        with pytest.raises(SchemaError, match=r"no row was accepted: all 5 rows.*\(5 rows\)"):
            read_csv(path, engine=engine, errors="quarantine")


@pytest.mark.parametrize("engine", ENGINES)
class TestFileShape:
    def test_ragged_rows(self, tmp_path: Path, engine: Any) -> None:
        """Short and long rows are bad rows with their numbers; the rest load."""
        path = _csv(
            tmp_path,
            f"customer_id,timestamp,kind\na,{T},view\nb,{T}\nc,{T},view,extra\nd,{T},view\n\n",
        )
        with pytest.raises(SchemaError, match="row 2: the row has 2 fields, expected 3"):
            read_csv(path, engine=engine)
        with pytest.warns(DataWarning, match="2 of 4 rows rejected"):
            log = read_csv(path, engine=engine, errors="quarantine")
        assert log.customers.tolist() == ["a", "d"]
        assert log.rejected.row.tolist() == [2, 3]
        assert log.rejected.records[1]["_extra_fields"] == ["extra"]

    def test_duplicate_header(self, tmp_path: Path, engine: Any) -> None:
        """Two columns with one name: an error, not the last silently winning."""
        path = _csv(tmp_path, f"customer_id,timestamp,kind,kind\na,{T},view,buy\n")
        with pytest.raises(SchemaError, match="column 'kind' appears twice"):
            read_csv(path, engine=engine, errors="quarantine")

    def test_mapping_onto_an_existing_column(self, tmp_path: Path, engine: Any) -> None:
        """A mapping sending two columns to one name is an error."""
        path = _csv(tmp_path, f"customer_id,user,timestamp,kind\na,b,{T},view\n")
        with pytest.raises(SchemaError, match="would both become 'customer_id'"):
            read_csv(path, engine=engine, mapping={"user": "customer_id"})

    def test_field_over_one_megabyte(self, tmp_path: Path, engine: Any) -> None:
        """A 2 MB field loads; the reader does not fail on its size."""
        path = _csv(tmp_path, f"customer_id,timestamp,kind,note\na,{T},view,{'x' * 2_000_000}\n")
        log = read_csv(path, engine=engine)
        assert len(log.column("note")[0]) == 2_000_000

    def test_blank_only_file(self, tmp_path: Path, engine: Any) -> None:
        """A file of blank lines is 'empty', under either errors mode."""
        path = _csv(tmp_path, "\n \n\r\n")
        with pytest.raises(SchemaError, match="the file is empty"):
            read_csv(path, engine=engine, errors="quarantine")

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32"])
    def test_byte_order_marks(self, tmp_path: Path, engine: Any, encoding: str) -> None:
        """UTF-16/32 and UTF-8 files with a byte-order mark are read without encoding=."""
        path = _csv(tmp_path, f"customer_id,timestamp,kind\nä,{T},view\n", encoding=encoding)
        assert read_csv(path, engine=engine).customers.tolist() == ["ä"]

    def test_latin1(self, tmp_path: Path, engine: Any) -> None:
        """Latin-1 bytes: a clear error with the line, encoding= reads it, quarantine sets the
        row aside."""
        path = _csv(
            tmp_path, f"customer_id,timestamp,kind\nä,{T},view\nb,{T},view\n", encoding="latin-1"
        )
        with pytest.raises(SchemaError, match="line 2: .*encoding='latin-1'"):
            read_csv(path, engine=engine)
        assert read_csv(path, engine=engine, encoding="latin-1").customers.tolist() == ["b", "ä"]
        log = _quiet(lambda: read_csv(path, engine=engine, errors="quarantine"))
        assert log.customers.tolist() == ["b"] and log.rejected.row.tolist() == [1]

    @pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress])
    def test_compressed(self, tmp_path: Path, engine: Any, compress: Any) -> None:
        """.csv.gz, .bz2 and .xz are read transparently."""
        path = tmp_path / "d.csv.gz"
        path.write_bytes(compress(f"customer_id,timestamp,kind\na,{T},view\n".encode()))
        assert len(read_csv(path, engine=engine)) == 1


class TestSurveysAndKinds:
    @pytest.mark.parametrize("engine", ENGINES)
    def test_fractional_nps_and_score_without_metric(self, tmp_path: Path, engine: Any) -> None:
        """NPS 6.5 and a score with no metric fail at read time with the file's row."""
        path = _csv(
            tmp_path,
            f"customer_id,timestamp,kind,metric,score\na,{T},survey,nps,9\n"
            f"b,{T},survey,nps,6.5\nc,{T},survey,,7\n",
        )
        with pytest.raises(SchemaError, match="row 2: score 6.5 is not a whole number"):
            read_csv(path, engine=engine)
        log = _quiet(lambda: read_csv(path, engine=engine, errors="quarantine"))
        assert log.rejected.row.tolist() == [2, 3]
        assert "has no metric" in log.rejected.reason[1]

    def test_kinds_mapping(self, tmp_path: Path) -> None:
        """kinds= maps an export's event names to the standard kinds at read time."""
        lines = [
            {"customer_id": "a", "timestamp": T, "kind": "payment_done", "value": 5},
            {"customer_id": "a", "timestamp": T, "kind": "page", "value": None},
        ]
        path = tmp_path / "e.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in lines))
        log = read_jsonl(path, kinds={"payment_done": "purchase", "page": "view"})
        assert sorted(log.column("kind").tolist()) == ["purchase", "view"]
        with pytest.raises(SchemaError, match="kinds maps"):
            cx.InteractionLog.from_records(lines, kinds={"page": ""})


class TestJsonl:
    def test_bad_lines_numbered_by_line(self, tmp_path: Path) -> None:
        """Deep nesting, duplicate keys, huge integers and non-objects are rows by line."""
        good = json.dumps({"customer_id": "a", "timestamp": T, "kind": "view"})
        lines = [
            good,
            "",
            '{"customer_id": ' + "[" * 100_000 + "]" * 100_000 + "}",
            '{"customer_id": "b", "customer_id": "c"}',
            '{"customer_id": ' + "9" * 5000 + "}",
            "[1, 2]",
            good.replace('"a"', '"d"'),
        ]
        path = tmp_path / "e.jsonl"
        path.write_text("\n".join(lines) + "\n")
        with pytest.warns(DataWarning, match="4 of 6 rows"):
            log = read_jsonl(path, errors="quarantine")
        assert log.rejected.row.tolist() == [3, 4, 5, 6]
        assert len(log) + len(log.rejected) == 6
        with pytest.raises(CXModelError, match="row 3: the JSON is nested too deeply"):
            read_jsonl(path)
