"""Conversion between InteractionLog and Arrow (pyarrow, lazily imported)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from cxmodel._optional import import_optional
from cxmodel.errors import SchemaError
from cxmodel.log._columns import Encoded

if TYPE_CHECKING:
    from cxmodel.log._log import InteractionLog

__all__ = ["apply_mapping", "arrow_to_columns", "log_to_arrow"]


def apply_mapping(names: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Source column -> standard name; a mapping naming an absent column raises."""
    mapping = dict(mapping or {})
    missing = [source for source in mapping if source not in names]
    if missing:
        raise SchemaError(
            f"mapping names column {missing[0]!r}, which is not in the data (columns: {names})"
        )
    return {name: mapping.get(name, name) for name in names}


def _to_numpy(column: Any, pa: Any) -> Any:
    """One Arrow column (chunked) to a numpy array, keeping dictionary encoding cheap."""
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        column = column.dictionary_encode()
        kind = column.type
    if pa.types.is_dictionary(kind):
        indices = column.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        dictionary = np.asarray(column.dictionary.to_pylist(), dtype=object)
        return Encoded(np.asarray(indices, dtype=np.int32), dictionary)
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            # naive: hand the values over as naive datetimes so the caller's timezone applies
            return np.asarray(column.to_pylist(), dtype=object)
        as_int = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
        scale = {"s": 1_000_000, "ms": 1000, "us": 1, "ns": 0}[kind.unit]
        values = np.asarray(as_int, dtype=np.float64)
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        us = (values // 1000) if scale == 0 else values * scale
        out = np.where(valid, us, 0).astype(np.int64).astype("datetime64[us]")
        out[~valid] = np.datetime64("NaT")
        return out
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return np.asarray(
            column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    if pa.types.is_boolean(kind):
        return np.asarray(column.to_pylist(), dtype=object)
    return np.asarray(column.to_pylist(), dtype=object)


def arrow_to_columns(data: Any, *, mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read any Arrow PyCapsule stream (or pyarrow table) into named numpy columns."""
    pa = import_optional("pyarrow", "InteractionLog.from_arrow()")
    if isinstance(data, pa.Table):
        table = data
    elif hasattr(data, "__arrow_c_stream__"):
        table = pa.RecordBatchReader.from_stream(data).read_all()
    else:
        raise SchemaError(
            f"from_arrow() needs an object with __arrow_c_stream__ (got {type(data).__name__})"
        )
    renamed = apply_mapping(list(table.column_names), mapping)
    columns = {renamed[name]: _to_numpy(table.column(name), pa) for name in table.column_names}
    for required in ("customer_id", "timestamp", "kind"):
        if required not in columns:
            raise SchemaError(
                f"required column {required!r} is missing (columns: {list(columns)}); map yours "
                f"with mapping={{'your_name': {required!r}}}"
            )
    ids = columns["customer_id"]
    if not isinstance(ids, Encoded) and ids.dtype.kind == "f":
        as_int = ids.astype(np.int64)
        if np.array_equal(as_int, ids):
            columns["customer_id"] = as_int
    return columns


def log_to_arrow(log: InteractionLog) -> Any:
    """An Arrow table of the log: dictionary strings, UTC microsecond timestamps, float64."""
    pa = import_optional("pyarrow", "InteractionLog.to_arrow()")
    arrays: dict[str, Any] = {}
    for name in log.columns:
        if name == "timestamp":
            arrays[name] = pa.array(log.timestamps, type=pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            )
        elif log.schema[name] == "float":
            arrays[name] = pa.array(log.numeric(name), type=pa.float64())
        else:
            codes, cats = log.categorical(name)
            indices = pa.array(codes, type=pa.int32(), mask=codes < 0)
            arrays[name] = pa.DictionaryArray.from_arrays(
                indices, pa.array(cats.tolist(), pa.string())
            )
    return pa.table(arrays)
