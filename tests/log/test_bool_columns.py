"""Bool columns of an InteractionLog: inferred from bools, declared with ``dtypes``, kept by
derived logs, and carried in and out of Arrow, pandas, polars, CSV, JSON lines and Parquet."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Interaction
from cxmodel.errors import DataWarning, RowSchemaError, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet, write_csv, write_parquet
from cxmodel.log import InteractionLog

T = "2024-01-01T00:00:00Z"


def records(vips: list[Any]) -> list[dict[str, Any]]:
    """One record per value, ``None`` leaving the field out."""
    out = []
    for j, vip in enumerate(vips):
        rec: dict[str, Any] = {"customer_id": f"c{j}", "timestamp": T, "kind": "view"}
        if vip is not None:
            rec["vip"] = vip
        out.append(rec)
    return out


def vip_log(vips: list[Any]) -> InteractionLog:
    return InteractionLog.from_records(records(vips))


class TestInference:
    def test_records_of_bools_give_a_bool_column(self) -> None:
        """JSON true/false (and numpy bools) make a 'bool' column; a missing field is None."""
        log = vip_log([True, None, np.bool_(False)])
        assert log.schema["vip"] == "bool"
        assert log.column("vip").tolist() == [True, None, False]
        assert [type(v) for v in log.column("vip").tolist()] == [bool, type(None), bool]

    def test_numeric_reads_a_bool_column_as_ones_and_zeros(self) -> None:
        """numeric() gives 1.0 / 0.0 / NaN, so its mean is the share of true values."""
        values = vip_log([True, None, False, True]).numeric("vip")
        np.testing.assert_array_equal(values, [1.0, np.nan, 0.0, 1.0])
        assert np.nanmean(values) == pytest.approx(2 / 3)

    @pytest.mark.parametrize(
        ("vips", "expected", "said"),
        [
            ([True, "x"], ["True", "x"], "text in 1 row(s) and true/false in 1"),
            ([True, 2.5], ["True", "2.5"], "numbers in 1 row(s) and true/false in 1"),
        ],
        ids=["bool-and-text", "bool-and-number"],
    )
    def test_bools_mixed_with_other_values_stay_text(
        self, vips: list[Any], expected: list[str], said: str
    ) -> None:
        """As numbers mixed with text are, a column mixing bools with text or numbers is text,
        and a DataWarning says so, naming the column and how many rows hold each type."""
        with pytest.warns(
            DataWarning, match=re.escape(f"column 'vip' holds {said}: it is read as text")
        ):
            log = vip_log(vips)
        assert log.schema["vip"] == "string"
        assert log.column("vip").tolist() == expected

    @pytest.mark.parametrize(
        "values",
        [np.array([True, False]), np.array([True, None], dtype=object), [True, False]],
        ids=["numpy-bool", "object-with-none", "list"],
    )
    def test_from_arrays_accepts_bools(self, values: Any) -> None:
        """A bool array (or objects that are bools and None) is a bool column."""
        log = InteractionLog.from_arrays(["a", "b"], [0, 1], ["view", "view"], vip=values)
        assert log.schema["vip"] == "bool"
        assert log.column("vip").tolist() == [bool(v) if v is not None else None for v in values]

    def test_a_bool_named_like_an_id_is_still_bool(self) -> None:
        """Id-like names keep numbers as text; bools are not identifiers."""
        log = InteractionLog.from_arrays(["a"], [0], ["view"], has_code=np.array([True]))
        assert log.schema["has_code"] == "bool"

    def test_with_column_and_derived_logs_keep_the_type(self) -> None:
        """filter, select, between and with_column keep a bool column a bool column."""
        log = vip_log([True, None, False]).with_column("seen", np.array([False, True, True]))
        assert log.schema["seen"] == "bool"
        kept = log.filter(np.array([True, False, True]))
        assert kept.column("vip").tolist() == [True, False]
        assert log.select(["vip"]).schema["vip"] == "bool"
        assert "seen" not in log.select(["vip"]).schema
        assert log.between(None, "2025-01-01T00:00:00Z").schema["vip"] == "bool"
        assert log.with_column("vip", ["a", "b", "c"]).schema["vip"] == "string"

    def test_categorical_refuses_a_bool_column(self) -> None:
        """A bool column has no codes; the error says what it is."""
        with pytest.raises(SchemaError, match="column 'vip' is a bool, not a string column"):
            vip_log([True]).categorical("vip")


class TestDeclared:
    @pytest.mark.parametrize(
        ("values", "expected"),
        [
            (["true", "false", "True", "False", "1", "0", "", None],
             [True, False, True, False, True, False, None, None]),
            ([1, 0], [True, False]),
            ([1.0, np.nan], [True, None]),
        ],
        ids=["text", "integers", "floats"],
    )  # fmt: skip
    def test_dtypes_bool_reads_text_and_ones_and_zeros(
        self, values: list[Any], expected: list[Any]
    ) -> None:
        """dtypes={'vip': 'bool'} reads true/false in any case and 1/0; empty is missing."""
        n = len(values)
        log = InteractionLog.from_arrays(
            [f"c{j}" for j in range(n)], list(range(n)), ["view"] * n, vip=values,
            dtypes={"vip": "bool"},
        )  # fmt: skip
        assert log.schema["vip"] == "bool"
        assert log.column("vip").tolist() == expected

    @pytest.mark.parametrize(
        ("value", "shown"), [("yes", "'yes'"), (2, "2"), ("TRUE!", "'TRUE!'")], ids=str
    )
    def test_other_values_are_bad_rows(self, value: Any, shown: str) -> None:
        """Anything else is a RowSchemaError naming the row, the column and the value."""
        with pytest.raises(RowSchemaError) as info:
            InteractionLog.from_arrays(
                ["a", "b"], [0, 1], ["view", "view"], vip=np.array([True, value], dtype=object),
                dtypes={"vip": "bool"},
            )  # fmt: skip
        assert str(info.value) == (
            f"row 2: vip {shown} is not true or false (column 'vip'); expected true, false, 1 "
            "or 0, or an empty field for missing"
        )

    def test_standard_columns_cannot_be_declared_bool(self) -> None:
        """value is always a number."""
        with pytest.raises(SchemaError, match="'value' is always a float column"):
            InteractionLog.from_arrays(["a"], [0], ["view"], value=[1.0], dtypes={"value": "bool"})

    def test_unknown_dtype_lists_bool(self) -> None:
        with pytest.raises(SchemaError, match="expected 'string', 'float' or 'bool'"):
            InteractionLog.from_arrays(["a"], [0], ["view"], vip=[1], dtypes={"vip": "yesno"})


class TestRoundTrips:
    def test_interactions_round_trip(self) -> None:
        """Interaction(..., vip=True) goes into a log and comes back a bool."""
        items = [
            Interaction("a", T, "view", properties={"vip": True}),
            Interaction("b", T, "view", properties={"vip": False}),
            Interaction("c", T, "view"),
        ]
        log = InteractionLog.from_interactions(items)
        assert log.schema["vip"] == "bool"
        assert log.interactions() == items

    def test_arrow(self) -> None:
        """to_arrow writes an Arrow bool column with nulls; from_arrow reads it back."""
        pa = pytest.importorskip("pyarrow")
        log = vip_log([True, None, False])
        table = log.to_arrow()
        assert table.schema.field("vip").type == pa.bool_()
        assert table.column("vip").to_pylist() == [True, None, False]
        assert InteractionLog.from_arrow(table) == log

    def test_pandas(self) -> None:
        """to_pandas gives the nullable 'boolean' dtype; numpy bool and 'boolean' columns
        are read as bool columns."""
        pytest.importorskip("pandas")
        log = vip_log([True, None, False])
        frame = log.to_pandas()
        assert str(frame["vip"].dtype) == "boolean"
        assert frame["vip"].isna().tolist() == [False, True, False]
        assert InteractionLog.from_pandas(frame) == log
        plain = frame.assign(vip=[True, False, True])
        assert plain["vip"].dtype == bool
        assert InteractionLog.from_pandas(plain).column("vip").tolist() == [True, False, True]

    def test_an_arrow_bool_column_of_nulls_is_bool(self) -> None:
        """The Arrow type decides when no value does (a Dask partition without a value);
        a standard column keeps its own type."""
        pa = pytest.importorskip("pyarrow")
        table = pa.table(
            {
                "customer_id": ["a", "b"],
                "timestamp": pa.array([0, 1], pa.timestamp("s", tz="UTC")),
                "kind": ["view", "view"],
                "vip": pa.array([None, None], pa.bool_()),
                "value": pa.array([None, None], pa.bool_()),
            }
        )
        log = InteractionLog.from_arrow(table)
        assert log.schema["vip"] == "bool"
        assert log.schema["value"] == "float"
        assert log.column("vip").tolist() == [None, None]
        assert InteractionLog.from_arrow(table, dtypes={"vip": "string"}).schema["vip"] == "string"

    def test_polars(self) -> None:
        """A polars Boolean column goes in and comes out as one."""
        pl = pytest.importorskip("polars")
        log = vip_log([True, None, False])
        frame = pl.from_arrow(log.to_arrow())
        assert frame.schema["vip"] == pl.Boolean
        assert InteractionLog.from_arrow(frame) == log

    def test_csv_reads_back_with_the_schema(self, tmp_path: Path) -> None:
        """CSV holds text: read back as text, or as the same log with dtypes=log.schema."""
        log = vip_log([True, None, False])
        write_csv(log, tmp_path / "log.csv")
        assert read_csv(tmp_path / "log.csv").schema["vip"] == "string"
        assert read_csv(tmp_path / "log.csv", dtypes=log.schema) == log

    def test_csv_bad_value_names_the_row(self, tmp_path: Path) -> None:
        """A CSV field that is not true/false under dtypes 'bool' names its line's row."""
        path = tmp_path / "log.csv"
        path.write_text(
            "customer_id,timestamp,kind,vip\n"
            f"a,{T},view,true\nb,{T},view,0\nc,{T},view,\nd,{T},view,maybe\n"
        )
        with pytest.raises(RowSchemaError, match=r"row 4: vip 'maybe' is not true or false"):
            read_csv(path, dtypes={"vip": "bool"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            log = read_csv(path, dtypes={"vip": "bool"}, errors="quarantine")
        assert log.column("vip").tolist() == [True, False, None]

    def test_jsonl_and_parquet(self, tmp_path: Path) -> None:
        """JSON true/false read as a bool column; Parquet keeps the Arrow bool type."""
        pytest.importorskip("pyarrow")
        recs = records([True, None, False])
        (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
        log = read_jsonl(tmp_path / "log.jsonl")
        assert log == InteractionLog.from_records(recs)
        assert log.schema["vip"] == "bool"
        write_parquet(log, tmp_path / "log.parquet")
        assert read_parquet(tmp_path / "log.parquet") == log

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.sampled_from([True, False, None]), min_size=1, max_size=20))
    def test_arrow_round_trip_is_lossless(self, vips: list[bool | None]) -> None:
        """Any mix of true, false and missing survives Arrow both ways."""
        pytest.importorskip("pyarrow")
        log = vip_log(vips)
        back = InteractionLog.from_arrow(log.to_arrow())
        assert back == log
        if any(v is not None for v in vips):
            assert back.schema["vip"] == "bool"
