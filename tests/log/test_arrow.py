"""Tests of the conversion between InteractionLog and Arrow: column mapping, Arrow types read,
and the table written."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from cxmodel._time import to_us
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._arrow import OBSERVED_UNTIL_KEY, apply_mapping, arrow_to_columns, log_to_arrow
from cxmodel.metrics import churn_rate

pa = pytest.importorskip("pyarrow")


class TestApplyMapping:
    def test_renames_mapped_columns_only(self) -> None:
        """Mapped columns get their new names; the others keep theirs."""
        assert apply_mapping(["user", "ts"], {"user": "customer_id"}) == {
            "user": "customer_id",
            "ts": "ts",
        }
        assert apply_mapping(["a"], None) == {"a": "a"}

    @pytest.mark.parametrize(
        ("names", "mapping", "match"),
        [
            (["user", "user"], {}, r"column 'user' appears twice \(columns 1 and 2\)"),
            (["user"], {"uid": "customer_id"}, r"mapping names column 'uid', which is not in the data"),
            (["user", "customer_id"], {"user": "customer_id"},
             r"columns 'customer_id' and 'user' would both become 'customer_id'"),
            (["user"], {"user": ""}, r"mapping 'user' -> '': expected your column name"),
        ],
        ids=["duplicate", "absent", "collision", "empty-target"],
    )  # fmt: skip
    def test_ambiguous_mappings_raise(
        self, names: list[str], mapping: dict[str, str], match: str
    ) -> None:
        """A mapping that would silently drop or invent a column raises, naming the columns."""
        with pytest.raises(SchemaError, match=match):
            apply_mapping(names, mapping)


class TestArrowToColumns:
    def test_types_read(self) -> None:
        """Strings and dictionaries stay encoded, floats are float64, whole float ids become
        their integer digits, zoned timestamps keep their unit."""
        table = pa.table(
            {
                "customer_id": pa.array([1.0, 2.0]),
                "timestamp": pa.array([0, 1_000], type=pa.timestamp("ms", tz="UTC")),
                "kind": pa.array(["view", "buy"]).dictionary_encode(),
                "value": pa.array([1.5, None], type=pa.float32()),
            }
        )
        columns, types = arrow_to_columns(table)
        assert types == {}
        assert columns["customer_id"].tolist() == [1, 2]
        assert np.dtype("datetime64[ms]") == columns["timestamp"].dtype
        assert columns["value"].dtype == np.float64 and np.isnan(columns["value"][1])

    def test_mapping_and_missing_required_column(self) -> None:
        """Columns are renamed first; a required column still missing says how to map it."""
        table = pa.table(
            {"user": ["a"], "ts": pa.array([0], type=pa.timestamp("us", tz="UTC")), "kind": ["x"]}
        )
        with pytest.raises(SchemaError, match=r"required column 'timestamp' is missing.*mapping="):
            arrow_to_columns(table, mapping={"user": "customer_id"})
        columns, _ = arrow_to_columns(table, mapping={"user": "customer_id", "ts": "timestamp"})
        assert list(columns) == ["customer_id", "timestamp", "kind"]

    def test_not_arrow(self) -> None:
        """An object without the Arrow stream protocol is rejected by its type name."""
        with pytest.raises(SchemaError, match=r"__arrow_c_stream__ \(got list\)"):
            arrow_to_columns([1, 2])


class TestLogToArrow:
    def test_schema(self) -> None:
        """Strings are dictionary-encoded with nulls for missing, times UTC microseconds,
        numbers float64."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"], timestamp=[0, 1], kind=["view", "buy"],
            channel=["web", None], value=[np.nan, 12.5],
        )  # fmt: skip
        table = log_to_arrow(log)
        assert pa.timestamp("us", tz="UTC") == table.schema.field("timestamp").type
        assert pa.types.is_dictionary(table.schema.field("channel").type)
        assert pa.float64() == table.schema.field("value").type
        assert table.column("channel").to_pylist() == ["web", None]
        assert table.column("timestamp").cast(pa.int64()).to_pylist() == [0, 1_000_000]
        assert InteractionLog.from_arrow(table) == log


def test_from_arrow_reads_dtypes_under_either_name() -> None:
    """``dtypes=`` keys may be the table's own names (renamed by ``mapping``) or the standard
    names, as for ``read_parquet``."""
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {
            "user": ["a", "b"],
            "timestamp": ["2024-01-01T00:00Z"] * 2,
            "kind": ["view"] * 2,
            "zip": [1234, 5678],
        }
    )
    mapping = {"user": "customer_id", "zip": "postcode"}
    for key in ("zip", "postcode"):
        log = InteractionLog.from_arrow(table, mapping=mapping, dtypes={key: "string"})
        assert log.schema["postcode"] == "string"
        assert log.column("postcode").tolist() == ["1234", "5678"]


class TestObservedUntil:
    """The time a log is observed until travels in the Arrow schema's metadata."""

    LOG = InteractionLog.from_arrays(
        ["a", "b"], ["2024-03-30", "2024-03-31"], ["purchase"] * 2, timezone="Europe/Paris"
    )
    """Observed until the end of 31 March in Paris (21:59:59.999999 UTC), the day it ends."""

    def test_written_in_the_schema_metadata(self) -> None:
        """to_arrow writes the end as ISO-8601 text in UTC under the cxmodel key."""
        metadata = self.LOG.to_arrow().schema.metadata
        assert metadata == {OBSERVED_UNTIL_KEY: b"2024-03-31T21:59:59.999999+00:00"}

    @pytest.mark.parametrize(
        "export",
        [
            pytest.param(lambda log: log.to_arrow(), id="table"),
            pytest.param(lambda log: log, id="stream"),
            pytest.param(
                lambda log: pa.RecordBatchReader.from_batches(
                    log.to_arrow().schema, log.to_arrow().to_batches()
                ),
                id="reader",
            ),
        ],
    )
    def test_read_back(self, export: Any) -> None:
        """from_arrow of the table, of the log's own stream or of a batch reader restores the
        end: a period ending with the last day is still observed."""
        back = InteractionLog.from_arrow(export(self.LOG))
        assert (back, back.observed_until) == (self.LOG, self.LOG.observed_until)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            churn_rate(back, "2024-03-31T00:00+01:00", "2024-04-01T00:00+02:00", lookback="7d")

    def test_a_table_without_it_reads_as_before(self) -> None:
        """A table written before the metadata (or by another tool) is observed until its
        last interaction, midnight of the last day."""
        table = self.LOG.to_arrow().replace_schema_metadata(None)
        assert InteractionLog.from_arrow(table).observed_until == int(self.LOG.timestamps.max())

    def test_other_metadata_is_no_declaration(self) -> None:
        """Other keys (pandas', a user's) leave the log observed as its rows say."""
        table = self.LOG.to_arrow().replace_schema_metadata({b"pandas": b"{}", b"owner": b"x"})
        assert InteractionLog.from_arrow(table).observed_until == int(self.LOG.timestamps.max())

    def test_an_empty_log_keeps_its_declared_end(self) -> None:
        """A log with no rows declared observed until a time reads back so; without one it
        writes no end and reads back without one."""
        empty = InteractionLog.from_arrays([], [], [])
        declared = empty.with_observed_until("2024-01-01T00:00Z")
        assert InteractionLog.from_arrow(declared.to_arrow()).observed_until == to_us(
            "2024-01-01T00:00Z"
        )
        assert empty.to_arrow().schema.metadata is None
        assert InteractionLog.from_arrow(empty.to_arrow()).observed_until is None

    def test_later_rows_make_it_stale(self) -> None:
        """Rows appended after the table was written (a later interaction than the end) make
        the end stale: a DataWarning names both times and the log is observed as its rows
        say."""
        later = InteractionLog.from_arrays(["c"], ["2024-04-02T10:00Z"], ["view"]).to_arrow()
        table = pa.concat_tables([self.LOG.to_arrow(), later.cast(self.LOG.to_arrow().schema)])
        with pytest.warns(
            DataWarning,
            match=r"declared observed until 2024-03-31T21:59:59\.999999Z, but their last "
            r"interaction is later \(2024-04-02T10:00:00Z\)",
        ):
            log = InteractionLog.from_arrow(table)
        assert log.observed_until == to_us("2024-04-02T10:00Z")

    @pytest.mark.parametrize("written", [b"yesterday", b"2024-03-31T10:00", b"\xff"])
    def test_a_bad_end_is_named(self, written: bytes) -> None:
        """An end that is not an aware ISO-8601 time is a SchemaError naming the key and the
        text, and saying how to read the table anyway."""
        table = self.LOG.to_arrow().replace_schema_metadata({OBSERVED_UNTIL_KEY: written})
        with pytest.raises(
            SchemaError, match=r"schema metadata 'cxmodel.observed_until' is .*drop the key"
        ):
            InteractionLog.from_arrow(table)
