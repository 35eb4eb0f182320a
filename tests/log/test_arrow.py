"""Tests of the conversion between InteractionLog and Arrow: column mapping, Arrow types read,
and the table written."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._arrow import apply_mapping, arrow_to_columns, log_to_arrow

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
