"""Data in and analyses on it, attacked as a hostile user and a careless analyst would: CSV
read by either engine, frames of pandas' own dtypes (periods, sparse and nullable columns),
Parquet and Arrow data that pyarrow or polars write, zones given as pytz objects, and group
labels holding pandas' missing values. Each test is a failure found so: an exception that was
not a ``CXModelError``, a silent wrong answer, or engines that disagree on one file."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel import metrics
from cxmodel.errors import CXModelError, SchemaError

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

T = "2024-01-01T00:00:00Z"


def _frame(**columns: Any) -> Any:
    base: dict[str, Any] = {
        "customer_id": ["a", "b"],
        "timestamp": [T, "2024-01-02T00:00:00Z"],
        "kind": ["purchase", "purchase"],
    }
    base.update(columns)
    return pd.DataFrame(base)


# ------------------------------------------------------------------ epoch seconds as text
class TestEpochSecondsAsText:
    """docs/guide/bad-input.md: epoch seconds written as text (nine or more digits) are read
    as the same number is, "whichever engine parses the file"."""

    @pytest.mark.parametrize("stamp", ["1704067200", "1704067200.5", "-100000000", "+1704067200"])
    def test_both_csv_engines_read_them(self, tmp_path: Path, stamp: str) -> None:
        """A CSV whose timestamps are epoch seconds: pyarrow read them, the standard-library
        engine refused each row as 'not an ISO-8601 time'."""
        path = tmp_path / "epoch.csv"
        path.write_text(f"customer_id,timestamp,kind\na,{stamp},purchase\n")
        arrow = cx.read_csv(path, engine="pyarrow")
        python = cx.read_csv(path, engine="python")
        assert python.timestamps.tolist() == arrow.timestamps.tolist()
        assert arrow.timestamps[0] == round(float(stamp) * 1_000_000)

    def test_records_read_them_as_the_readers_do(self) -> None:
        """from_records with the text '1704067200' (a JSON export that quotes its numbers)
        refused the row; it is the instant the number 1704067200 is."""
        log = cx.InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "1704067200", "kind": "purchase"}]
        )
        assert log.timestamps.tolist() == [1_704_067_200_000_000]

    def test_milliseconds_as_text_say_so_in_either_engine(self, tmp_path: Path) -> None:
        """Thirteen digits are milliseconds: a bad row naming the unit in both engines."""
        path = tmp_path / "millis.csv"
        path.write_text("customer_id,timestamp,kind\na,1704067200000,purchase\n")
        for engine in ("python", "pyarrow"):
            with pytest.raises(SchemaError, match="divide by 1,000"):
                cx.read_csv(path, engine=engine)


# ------------------------------------------------------------------ zones as tzinfo objects
class TestPytzZones:
    """``timezone=`` takes a ``tzinfo``; a pytz zone attached with ``replace`` is its first
    entry in the tz database, local mean time (Paris +00:09, New York -04:56)."""

    @pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "Asia/Kolkata"])
    def test_a_pytz_zone_reads_as_its_name(self, name: str) -> None:
        """A naive 12:00 in pytz's Europe/Paris was read 51 minutes off (as +00:09): every
        time of the log silently wrong; it is the instant the zone's name gives."""
        pytz = pytest.importorskip("pytz")
        record = [{"customer_id": "a", "timestamp": "2024-01-15T12:00:00", "kind": "purchase"}]
        by_object = cx.InteractionLog.from_records(record, timezone=pytz.timezone(name))
        by_name = cx.InteractionLog.from_records(record, timezone=name)
        assert by_object.timestamps.tolist() == by_name.timestamps.tolist()

    def test_a_pytz_zone_in_a_reader(self, tmp_path: Path) -> None:
        """The same through read_csv."""
        pytz = pytest.importorskip("pytz")
        path = tmp_path / "naive.csv"
        path.write_text("customer_id,timestamp,kind\na,2024-07-01 09:00:00,purchase\n")
        by_object = cx.read_csv(path, timezone=pytz.timezone("America/New_York"))
        assert by_object.timestamps.tolist() == [pd.Timestamp("2024-07-01T13:00:00Z").value // 1000]


# ------------------------------------------------------------------ pandas dtypes
class TestPandasFrames:
    def test_periods_are_not_epoch_seconds(self) -> None:
        """A column of pandas Periods (``to_period("M")``) went through Arrow as its ordinals,
        months since 1970, read as epoch seconds: January 2024 was 1970-01-01 00:10:48,
        silently. A period is a span, not an instant: refused, naming the column and the
        conversion to write."""
        frame = _frame(timestamp=pd.period_range("2024-01", periods=2, freq="M"))
        with pytest.raises(SchemaError, match=r"'timestamp'.*period.*to_timestamp"):
            cx.InteractionLog.from_pandas(frame)

    def test_a_period_property_is_refused_too(self) -> None:
        """In a property column the ordinal would be a number (648 for January 2024)."""
        frame = _frame(month=pd.period_range("2024-01", periods=2, freq="M"))
        with pytest.raises(SchemaError, match="'month'"):
            cx.InteractionLog.from_pandas(frame)

    def test_periods_in_a_parquet_file(self, tmp_path: Path) -> None:
        """pandas writes its Period type into Parquet; read back, days since 1970 were read
        as seconds (2024-01-01 became 1970-01-01 05:28:43)."""
        frame = _frame(timestamp=pd.period_range("2024-01-01", periods=2, freq="D"))
        path = tmp_path / "periods.parquet"
        frame.to_parquet(path)
        with pytest.raises(SchemaError, match="period"):
            cx.read_parquet(path)

    def test_duplicate_column_names(self) -> None:
        """A frame with two columns named 'kind' (a concat along columns) was pyarrow's
        ValueError; it is the SchemaError a CSV with that header gets."""
        frame = pd.DataFrame(
            [["a", T, "purchase", "view"]], columns=["customer_id", "timestamp", "kind", "kind"]
        )
        with pytest.raises(SchemaError, match=r"column 'kind' appears twice \(columns 3 and 4\)"):
            cx.InteractionLog.from_pandas(frame)

    def test_sparse_columns_are_read_as_dense(self) -> None:
        """A sparse column (``pd.arrays.SparseArray``, as ``get_dummies(sparse=True)`` makes)
        was pyarrow's TypeError; its values are the column's values."""
        frame = _frame(value=pd.arrays.SparseArray([12.5, 0.0]))
        log = cx.InteractionLog.from_pandas(frame)
        assert log.column("value").tolist() == [12.5, 0.0]


# ------------------------------------------------------------------ Parquet and Arrow
class TestArrowInputs:
    def test_parquet_with_duplicate_column_names(self, tmp_path: Path) -> None:
        """A Parquet file with two 'kind' columns was called 'not a readable Parquet file'
        with pyarrow's dataset message; the file is fine, a column appears twice."""
        table = pa.table(
            [pa.array(["a"]), pa.array([T]), pa.array(["purchase"]), pa.array(["view"])],
            names=["customer_id", "timestamp", "kind", "kind"],
        )
        path = tmp_path / "dup.parquet"
        pq.write_table(table, path)
        with pytest.raises(SchemaError, match=r"column 'kind' appears twice \(columns 3 and 4\)"):
            cx.read_parquet(path)

    def test_a_stream_pyarrow_cannot_import(self) -> None:
        """A polars frame with an Int128 column: pyarrow's ArrowInvalid ('unsupported format
        string') escaped from_arrow."""
        pl = pytest.importorskip("polars")
        frame = pl.DataFrame(
            {
                "customer_id": pl.Series([2**100], dtype=pl.Int128),
                "timestamp": [T],
                "kind": ["purchase"],
            }
        )
        with pytest.raises(SchemaError, match="Arrow"):
            cx.InteractionLog.from_arrow(frame)


# ------------------------------------------------------------------ group labels
class TestLabelsWithPandasMissing:
    """pandas' nullable arrays hold ``pd.NA``, whose truth value raises: comparing labels
    with themselves to find NaN was a TypeError ('boolean value of NA is ambiguous')."""

    @pytest.mark.parametrize(
        "labels",
        [
            pytest.param(lambda: pd.array(["a", None, "b"], dtype="string"), id="string"),
            pytest.param(lambda: pd.array(["a", None, "b"], dtype="string[pyarrow]"), id="arrow"),
            pytest.param(lambda: pd.array([True, None, False], dtype="boolean"), id="boolean"),
            pytest.param(lambda: ["a", pd.NA, "b"], id="list"),
        ],
    )
    def test_na_is_the_missing_group(self, labels: Any) -> None:
        """pd.NA is a missing label, the group '(missing)', as None and NaN are."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            table = metrics.nps([9, 0, 7], by=labels())
        assert "(missing)" in [str(x) for x in table.to_pandas()["by"]]

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda g: metrics.csat([5, 1, 4], by=g), id="csat"),
            pytest.param(lambda g: metrics.ces([5, 1, 4], by=g), id="ces"),
            pytest.param(
                lambda g: metrics.kaplan_meier_by([1, 2, 3], [1, 1, 1], groups=g), id="km"
            ),
            pytest.param(lambda g: metrics.multivariate_logrank_test([1, 2, 3], g), id="logrank"),
        ],
    )
    def test_every_grouping_takes_na(self, call: Any) -> None:
        """The same labels in the other functions taking groups: an answer or a
        CXModelError, never pandas' TypeError."""
        labels = pd.array(["a", None, "b"], dtype="string")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            with contextlib.suppress(CXModelError):
                call(labels)

    def test_nan_in_a_list_of_text_is_missing(self) -> None:
        """``by=["a", float("nan"), "b"]``: numpy turns the list into text, NaN into 'nan',
        so the answer stood in a group named 'nan'; a NaN label is missing, as in an array
        of objects or a pandas Series of the same labels."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", metrics.SmallSampleWarning)
            listed = metrics.nps([9, 0, 7], by=["a", float("nan"), "b"])
            series = metrics.nps([9, 0, 7], by=pd.Series(["a", np.nan, "b"]))
        assert listed.to_pandas()["by"].tolist() == series.to_pandas()["by"].tolist()
