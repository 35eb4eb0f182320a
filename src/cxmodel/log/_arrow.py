"""Conversion between InteractionLog and Arrow (pyarrow, lazily imported).

A table written by :meth:`~cxmodel.log.InteractionLog.to_arrow` (and so a Parquet file written
by :func:`~cxmodel.io.write_parquet`) carries the log's
:attr:`~cxmodel.log.InteractionLog.observed_until` in its schema metadata, under
:data:`OBSERVED_UNTIL_KEY`, as ISO-8601 text in UTC: the end of the observation belongs to the
export, and its rows alone do not show it (a last day of dates observed to its end, a quiet
span declared). :func:`declared_end` reads it back; a table without it is observed as its rows
say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cxmodel._arguments import mapping_value
from cxmodel._optional import import_optional
from cxmodel._pieces import warn
from cxmodel._spelling import Argument, ArgumentWarning, missing_column_error
from cxmodel._time import to_us, us_to_datetime
from cxmodel.errors import SchemaError, did_you_mean
from cxmodel.log._columns import NUMERIC_STANDARD, REQUIRED, STRING_STANDARD, Encoded

if TYPE_CHECKING:
    from cxmodel.log._log import InteractionLog

__all__ = [
    "OBSERVED_UNTIL_KEY",
    "apply_mapping",
    "arrow_table",
    "arrow_to_columns",
    "declared_dtypes",
    "declared_end",
    "log_to_arrow",
    "unique_names",
]

OBSERVED_UNTIL_KEY = b"cxmodel.observed_until"
"""The schema metadata key of the time a log is observed until (ISO-8601 text, UTC)."""


def declared_dtypes(
    dtypes: Mapping[str, str] | None, mapping: Mapping[str, str] | None
) -> dict[str, str] | None:
    """``dtypes`` keyed by standard names: a key may be the data's own column name, renamed
    by ``mapping`` as the column is.

    Examples
    --------
    >>> declared_dtypes({"zip": "string", "channel": "string"}, {"zip": "postcode"})
    {'postcode': 'string', 'channel': 'string'}
    """
    if dtypes is None:
        return None
    renames = mapping_value(mapping, "mapping", "mapping")
    declared = mapping_value(dtypes, "dtypes", "dtypes")
    return {renames.get(name, name): kind for name, kind in declared.items()}


def unique_names(names: Sequence[Any]) -> dict[Any, int]:
    """Each column name's position, refusing a name that appears twice (a frame concatenated
    along its columns, a file written with two headers alike): one of the columns would be
    dropped without a word.

    Examples
    --------
    >>> unique_names(["customer_id", "kind"])
    {'customer_id': 0, 'kind': 1}
    >>> unique_names(["customer_id", "kind", "kind"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: column 'kind' appears twice (columns 2 and 3); rename one ...
    """
    seen: dict[Any, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            raise SchemaError(
                f"column {name!r} appears twice (columns {seen[name] + 1} and {position + 1}); "
                "rename one so that no value is silently dropped"
            )
        seen[name] = position
    return seen


def apply_mapping(
    names: list[str], mapping: Mapping[str, str] | None, *, say: bool = True
) -> dict[str, str]:
    """Source column -> standard name.

    A mapping naming an absent column (with a did-you-mean), a column named twice in the data,
    or two columns sent to one name raise: the last one would otherwise silently win. A
    column sent to a name one slip away from a standard column the data lack (``"vaule"``,
    ``"Value"``, ``"values"``) is read as a property of that name, which no analysis reads as
    the standard column: an :class:`~cxmodel._spelling.ArgumentWarning` says so, with the name
    meant, unless ``say`` is false (a second pass over the same mapping).

    Examples
    --------
    >>> apply_mapping(["user", "ts"], {"user": "customer_id"})
    {'user': 'customer_id', 'ts': 'ts'}
    >>> apply_mapping(["user", "customer_id"], {"user": "customer_id"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: columns 'customer_id' and 'user' would both become 'customer_id'; ...
    >>> apply_mapping(["user", "ts"], {"usr": "customer_id"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: mapping names column 'usr', which is not in the data ...; did you mean 'user'?
    """
    mapping = dict(mapping_value(mapping, "mapping", "mapping"))
    for source, target in mapping.items():
        if not isinstance(source, str) or not isinstance(target, str) or not target:
            raise SchemaError(
                f"mapping {source!r} -> {target!r}: expected your column name -> a column name"
            )
    seen = unique_names(names)
    missing = [source for source in mapping if source not in seen]
    if missing:
        raise SchemaError(
            f"mapping names column {missing[0]!r}, which is not in the data (columns: {names})"
            f"{did_you_mean(missing[0], names)}"
        )
    renamed = {name: mapping.get(name, name) for name in names}
    sources: dict[str, str] = {}
    for name in names:
        target = renamed[name]
        if target in sources:
            first, second = sorted((sources[target], name))
            raise SchemaError(
                f"columns {first!r} and {second!r} would both become {target!r}; map only one "
                "of them, or map the other to a different name"
            )
        sources[target] = name
    if say:
        _warn_near_standard(mapping, set(renamed.values()))
    return renamed


_STANDARD_NAMES = ("timestamp", *STRING_STANDARD, *NUMERIC_STANDARD)


def _warn_near_standard(mapping: Mapping[str, str], final: set[str]) -> None:
    """Warn about each mapping target one slip away from a standard column that ``final`` (the
    names after mapping) lacks: the column is read as a property no analysis reads."""
    for source, target in mapping.items():
        meant = near_standard_name(target)
        if meant is not None and meant not in final:
            warn(
                ArgumentWarning.about(
                    Argument.MAPPING,
                    f" sends {source!r} to {target!r}, which is not a standard column, so it "
                    f"is read as a property of that name and not as {meant!r}; did you mean "
                    f"{meant!r}?",
                )
            )


def near_standard_name(name: str) -> str | None:
    """The standard column ``name`` is one slip away from, or ``None``: the same but for case,
    spaces, ``_`` and ``-``, or one letter left out, added or swapped with its neighbour.
    A letter replaced by another is no slip (``store`` and ``state`` are columns of their own,
    not ``score`` and ``stage``).

    Examples
    --------
    >>> [near_standard_name(n) for n in ["vaule", "Value", "values", "timestmp", "Customer ID"]]
    ['value', 'value', 'value', 'timestamp', 'customer_id']
    >>> [near_standard_name(n) for n in ["value", "store", "state", "amount"]]
    [None, None, None, None]
    """
    if name in _STANDARD_NAMES:
        return None
    folded = "".join(c for c in name.casefold() if c not in " _-")
    for standard in _STANDARD_NAMES:
        plain = standard.replace("_", "")
        if folded == plain or _one_slip(folded, plain):
            return standard
    return None


def _one_slip(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with one letter left out, added, or swapped with the next."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(long) - len(short) != 1:
        return False
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _to_numpy(column: Any, pa: Any, name: str = "column") -> Any:
    """One Arrow column (chunked) to a numpy array, keeping dictionary encoding cheap.

    Integers stay exact (int64 without nulls, Python ints with them); timestamps with a zone
    become ``datetime64`` in their own unit (range-checked later); naive timestamps become
    naive datetimes for the caller's ``timezone``; nested values become Python objects, which
    the builder rejects row by row.
    """
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = column.type
    if isinstance(kind, pa.ExtensionType) and kind.extension_name == "pandas.period":
        # its storage is the periods' ordinals (months since 1970 for "M"), which would be
        # read as epoch seconds or as numbers without a word
        raise SchemaError(
            f"column {name!r} holds pandas periods (freq {getattr(kind, 'freq', '?')}): a period "
            "is a span of time, not an instant; convert it to the period's start with "
            f"frame[{name!r}].dt.to_timestamp() (and pass timezone=), or to text with "
            ".astype(str)"
        )
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return Encoded.from_arrow(column.cast(pa.string()))  # encoded when read as text
    if pa.types.is_dictionary(kind) and (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    ):
        # signed before -1 marks the missing: polars writes its categoricals with uint32 indices
        indices = column.indices.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
        dictionary = np.asarray(column.dictionary.to_pylist(), dtype=object)
        return Encoded(np.asarray(indices, dtype=np.int32), dictionary)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        raw = np.asarray(column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
        out = raw.astype(np.int64).astype(f"datetime64[{kind.unit}]")
        out[~np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = (
            np.datetime64("NaT")
        )
        return out
    if pa.types.is_floating(kind):
        return np.asarray(
            column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    if pa.types.is_integer(kind) and column.null_count == 0:
        return np.asarray(column.to_numpy(zero_copy_only=False))
    try:
        values = column.to_pylist()
    except (ValueError, OverflowError, pa.ArrowException) as exc:
        raise SchemaError(
            f"column {name!r} ({kind}) holds values Python cannot represent ({exc}); "
            "times must lie in years 1..9999"
        ) from None
    out_obj = np.empty(len(values), dtype=object)
    out_obj[:] = values
    return out_obj


def arrow_table(data: Any) -> Any:
    """``data`` as a pyarrow Table: the table itself, or all of an Arrow PyCapsule stream (a
    polars frame, a record batch reader, an InteractionLog), schema metadata included."""
    pa = import_optional("pyarrow", "InteractionLog.from_arrow()")
    if isinstance(data, pa.Table):
        return data
    if hasattr(data, "__arrow_c_stream__"):
        try:
            return pa.RecordBatchReader.from_stream(data).read_all()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            # a type the exporter has and pyarrow lacks (polars' Int128)
            raise SchemaError(
                f"from_arrow(): pyarrow cannot import this {type(data).__name__} as Arrow data "
                f"({str(exc)[:200]}); cast the column it names to a standard type (text, a "
                "64-bit integer, a float, a timestamp)"
            ) from None
    raise SchemaError(
        f"from_arrow() needs an object with __arrow_c_stream__ (got {type(data).__name__})"
    )


def declared_end(table: Any, source: str | None = None) -> int | None:
    """The time (µs since the epoch, UTC) a table's schema metadata says its log is observed
    until, as :func:`log_to_arrow` writes it; ``None`` when the metadata does not say.
    ``source`` names the file in the error.

    Raises
    ------
    SchemaError
        If the metadata holds something other than an ISO-8601 time with an offset.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"a": [1]})
    >>> declared_end(table) is None
    True
    >>> declared_end(table.replace_schema_metadata({OBSERVED_UNTIL_KEY: "1970-01-02T00:00Z"}))
    86400000000
    """
    written = (table.schema.metadata or {}).get(OBSERVED_UNTIL_KEY)
    if written is None:
        return None
    text = written.decode("utf-8", errors="replace")
    try:
        return to_us(text, what="observed_until")
    except SchemaError as exc:
        where = f"{source}: " if source else ""
        raise SchemaError(
            f"{where}schema metadata {OBSERVED_UNTIL_KEY.decode()!r} is {text!r}, not the time "
            f"InteractionLog.to_arrow() writes there ({exc}); drop the key "
            "(table.replace_schema_metadata(...)) to read the log as observed until its last "
            "interaction"
        ) from None


def arrow_to_columns(
    data: Any, *, mapping: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read any Arrow PyCapsule stream (or pyarrow table) into named numpy columns, and the
    types the Arrow schema gives properties: ``"bool"`` for a bool column, so that one
    holding only nulls (a partition without a value) is a bool column still.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"customer_id": ["a"], "timestamp": [0], "kind": ["view"],
    ...                   "vip": pa.array([None], pa.bool_())})
    >>> columns, types = arrow_to_columns(table)
    >>> columns["vip"].tolist(), types
    ([None], {'vip': 'bool'})
    """
    pa = import_optional("pyarrow", "InteractionLog.from_arrow()")
    table = arrow_table(data)
    names = list(table.column_names)
    renamed = apply_mapping(names, mapping)
    columns = {renamed[name]: _to_numpy(table.column(i), pa, name) for i, name in enumerate(names)}
    fixed = {"timestamp", *REQUIRED, *STRING_STANDARD, *NUMERIC_STANDARD}
    types = {
        renamed[name]: "bool"
        for name, field in zip(names, table.schema, strict=True)
        if pa.types.is_boolean(field.type) and renamed[name] not in fixed
    }
    for required in ("customer_id", "timestamp"):  # kind: the log builder, which knows kind=
        if required not in columns:
            raise missing_column_error(required, f"columns: {list(columns)}")
    ids = columns["customer_id"]
    if not isinstance(ids, Encoded) and ids.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(ids) & (ids == np.round(ids)) & (np.abs(ids) < 2**53)
        if whole.all():  # float ids that are whole numbers: their integer digits, exactly
            columns["customer_id"] = ids.astype(np.int64)
    return columns, types


def log_to_arrow(log: InteractionLog) -> Any:
    """An Arrow table of the log: dictionary strings, UTC microsecond timestamps, float64
    numbers and bools (null for missing), and the log's
    :attr:`~cxmodel.log.InteractionLog.observed_until` in the schema metadata."""
    pa = import_optional("pyarrow", "InteractionLog.to_arrow()")
    arrays: dict[str, Any] = {}
    for name in log.columns:
        if name == "timestamp":
            arrays[name] = pa.array(log.timestamps, type=pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            )
        elif log.schema[name] == "float":
            arrays[name] = pa.array(log.numeric(name), type=pa.float64())
        elif log.schema[name] == "bool":
            values = log.numeric(name)
            arrays[name] = pa.array(values == 1.0, type=pa.bool_(), mask=np.isnan(values))
        else:
            codes, cats = log.categorical(name)
            indices = pa.array(codes, type=pa.int32(), mask=codes < 0)
            arrays[name] = pa.DictionaryArray.from_arrays(
                indices, pa.array(cats.tolist(), pa.string())
            )
    until = log.observed_until
    metadata = None if until is None else {OBSERVED_UNTIL_KEY: us_to_datetime(until).isoformat()}
    return pa.table(arrays, metadata=metadata)
