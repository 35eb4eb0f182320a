"""Readers: CSV, JSON lines and Parquet into a validated InteractionLog."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any, Literal

import numpy as np

from cxmodel._optional import import_optional
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._arrow import apply_mapping, arrow_to_columns
from cxmodel.log._columns import NUMERIC_STANDARD, REQUIRED, is_missing

__all__ = ["read_csv", "read_jsonl", "read_parquet"]

PathLike = str | os.PathLike[str]
ErrorMode = Literal["raise", "quarantine"]


def _has_pyarrow() -> bool:
    try:
        import_optional("pyarrow.csv", "read_csv()")
    except ImportError:
        return False
    return True


def _check_required(columns: Mapping[str, Any], source: str) -> None:
    for required in REQUIRED:
        if required not in columns:
            raise SchemaError(
                f"{source}: required column {required!r} is missing (columns: {list(columns)}); "
                f"map yours with mapping={{'your_name': {required!r}}}"
            )


def _build(
    columns: dict[str, Any], timezone: str | tzinfo | None, errors: ErrorMode, source: str
) -> InteractionLog:
    _check_required(columns, source)
    return InteractionLog.from_arrays(
        columns.pop("customer_id"),
        columns.pop("timestamp"),
        columns.pop("kind"),
        timezone=timezone,
        errors=errors,
        **columns,
    )


def _numeric_if_possible(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Text columns that parse entirely as numbers become float64 (empty = NaN)."""
    filled = np.where(is_missing(values), "nan", values)
    try:
        return filled.astype(np.float64)  # float() of each value, in C
    except (TypeError, ValueError):
        return values


def read_csv(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    errors: ErrorMode = "raise",
    delimiter: str = ",",
    engine: Literal["auto", "pyarrow", "python"] = "auto",
) -> InteractionLog:
    """Read interactions from a CSV file with a header row.

    Parameters
    ----------
    path
        The file.
    mapping
        Your column names to the standard ones, e.g. ``{"user": "customer_id"}``. Naming a column
        that is not in the file is an error.
    timezone
        The time zone of naive timestamps; without it naive timestamps are rejected.
    errors
        ``"raise"`` stops at the first bad row; ``"quarantine"`` keeps the valid rows and lists the
        others with their row numbers and reasons in ``log.rejected``.
    delimiter
        Field separator.
    engine
        ``"pyarrow"`` (multithreaded, needs the ``arrow`` extra), ``"python"`` (the standard
        library), or ``"auto"``: pyarrow when installed.

    Returns
    -------
    InteractionLog
        Row numbers in messages count data rows from 1 (the header is not counted).

    Raises
    ------
    SchemaError
        Empty file, missing required column, bad mapping, or a bad row under ``errors="raise"``.
    """
    source = os.fspath(path)
    if os.path.getsize(source) == 0:
        raise SchemaError(
            f"{source}: the file is empty; expected a header row naming customer_id, timestamp, kind"
        )
    use_arrow = engine == "pyarrow" or (engine == "auto" and _has_pyarrow())
    if use_arrow:
        pa_csv = import_optional("pyarrow.csv", "read_csv(engine='pyarrow')")
        pa = import_optional("pyarrow", "read_csv(engine='pyarrow')")
        header = _header(source, delimiter)
        renamed = apply_mapping(header, mapping)
        # text for everything but the numeric standard columns; cxmodel parses times itself so
        # that naive and bad timestamps are reported row by row
        types = {
            name: (pa.float64() if renamed[name] in NUMERIC_STANDARD else pa.string())
            for name in header
            if renamed[name] in (*REQUIRED, "interaction_id") or renamed[name] in NUMERIC_STANDARD
        }
        try:
            table = pa_csv.read_csv(
                source,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
                ),
            )
        except pa.ArrowInvalid:
            # a value that does not convert: fall back to text so the row is reported by number
            table = pa_csv.read_csv(
                source,
                parse_options=pa_csv.ParseOptions(delimiter=delimiter),
                convert_options=pa_csv.ConvertOptions(
                    column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
                ),
            )
        return _build(arrow_to_columns(table, mapping=mapping), timezone, errors, source)
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise SchemaError(f"{source}: the file is empty; expected a header row") from None
        rows = list(reader)
    renamed = apply_mapping(header, mapping)
    width = len(header)
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise SchemaError(
                f"{source}: row {number} has {len(row)} fields, expected {width} like the header"
            )
    data = np.array(rows, dtype=object).reshape(len(rows), width)
    columns = {}
    for j, name in enumerate(header):
        values = data[:, j]
        values[values == ""] = None
        target = renamed[name]
        columns[target] = (
            values if target in (*REQUIRED, "interaction_id") else _numeric_if_possible(values)
        )
    return _build(columns, timezone, errors, source)


def _header(source: str, delimiter: str) -> list[str]:
    with open(source, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle, delimiter=delimiter))


def read_jsonl(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    errors: ErrorMode = "raise",
) -> InteractionLog:
    """Read interactions from JSON lines (one object per line; blank lines are skipped).

    Takes the same ``mapping``, ``timezone`` and ``errors`` as :func:`read_csv`. A line that is not
    a JSON object is a bad row.
    """
    source = os.fspath(path)
    records: list[dict[str, Any]] = []
    bad: dict[int, str] = {}
    with open(source, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                bad[len(records)] = f"line {number} is not valid JSON ({exc.msg})"
                records.append({})
                continue
            if not isinstance(record, dict):
                bad[len(records)] = (
                    f"line {number} is a JSON {type(record).__name__}, not an object"
                )
                records.append({})
                continue
            records.append(record)
    if not records:
        raise SchemaError(f"{source}: the file is empty; expected one JSON object per line")
    if bad and errors == "raise":
        first = min(bad)
        raise SchemaError(f"{source}: row {first + 1}: {bad[first]}")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    renamed = apply_mapping(list(names), mapping)
    columns = {
        renamed[name]: np.array([r.get(name) for r in records], dtype=object) for name in names
    }
    _check_required(columns, source)
    if bad:  # blank out unparseable lines so they are rejected as missing ids, then relabel
        for row in bad:
            columns["customer_id"][row] = None
    log = _build(columns, timezone, errors, source)
    if bad:
        from cxmodel.log._rejected import RejectedRows

        rejected = log.rejected
        reasons = np.array(
            [bad.get(int(r) - 1, str(reason)) for r, reason in zip(rejected.row, rejected.reason)],
            dtype=object,
        )
        object.__setattr__(log, "_rejected", RejectedRows(rejected.row, reasons, rejected.records))
    return log


def read_parquet(
    path: PathLike,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | tzinfo | None = None,
    errors: ErrorMode = "raise",
) -> InteractionLog:
    """Read interactions from a Parquet file (needs the ``arrow`` extra).

    Takes the same ``mapping``, ``timezone`` and ``errors`` as :func:`read_csv`.
    """
    pq = import_optional("pyarrow.parquet", "read_parquet()")
    source = os.fspath(path)
    if Path(source).stat().st_size == 0:
        raise SchemaError(f"{source}: the file is empty; expected a Parquet file")
    table = pq.read_table(source)
    return _build(arrow_to_columns(table, mapping=mapping), timezone, errors, source)
