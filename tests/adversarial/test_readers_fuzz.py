"""Adversarial readers: malformed files give a log or a CXModelError, never another exception.

Every generated file goes through every reader in both ``errors=`` modes; a result must satisfy
accepted + rejected = rows read. ``HYPOTHESIS_PROFILE=ci`` bounds the time; set
``READERS_FUZZ_EXAMPLES`` for a long local run.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel.errors import CXModelError, DataWarning
from cxmodel.io import read_csv, read_jsonl, read_parquet

LONG = int(os.environ.get("READERS_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    **({"max_examples": LONG} if LONG else {}),  # the loaded profile's count otherwise
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TIMES = st.one_of(
    st.sampled_from(
        ["2024-01-01T10:00:00Z", "2024-01-01 10:00:00", "2024-13-01T00:00:00Z", "yesterday", ""]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=30),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1_700_000_000, 1_700_000_000_000, 10**30, 1e30, 0, -1]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20), TIMES)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
COLUMNS = st.sampled_from(
    [
        "customer_id",
        "timestamp",
        "kind",
        "value",
        "score",
        "metric",
        "sentiment",
        "interaction_id",
        "order_id",
        "country",
        "customer_id",
    ]
)
CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "007",
            "7",
            "NA",
            "nan",
            "N/A",
            "",
            "nps",
            "csat",
            "6.5",
            "11",
            "-3",
            "view",
            "purchase",
            "survey",
            "2024-01-01T10:00:00Z",
            '"',
            '""x',
            "\r",
        ]
    ),
    NUMBERS.map(str),
    TIMES,
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "utf-32"])


def _check(read: Callable[[str], cx.InteractionLog], expected_rows: int | None) -> None:
    """Both modes: a log (accepted + rejected = rows read) or a CXModelError, nothing else."""
    for mode in ("raise", "quarantine"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            try:
                log = read(mode)
            except CXModelError as exc:
                assert str(exc), "an error must say what is wrong"
                continue
        repr(log)  # times are in range: printing a log never overflows
        total = len(log) + len(log.rejected)
        assert len(log) > 0 or total == 0
        if expected_rows is not None:
            assert total == expected_rows, (total, expected_rows)
        if mode == "raise":
            assert len(log.rejected) == 0


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    import csv

    csv.writer(out).writerows(rows)
    return out.getvalue()


@FUZZ
@given(
    header=st.lists(COLUMNS, min_size=0, max_size=7),
    rows=st.lists(st.lists(CELL, max_size=8), max_size=8),
    encoding=ENCODINGS,
    compress=st.booleans(),
    ragged_text=st.booleans(),
    huge=st.booleans(),
)
def test_csv(
    header: list[str],
    rows: list[list[str]],
    encoding: str,
    compress: bool,
    ragged_text: bool,
    huge: bool,
) -> None:
    """Generated CSV (ragged rows, odd cells, encodings, BOMs, compression, huge fields)."""
    if huge and rows and rows[0]:
        rows[0][0] = "x" * 1_100_000
    text = _csv_text([header, *rows])
    if ragged_text:
        text = text.replace(",", "", 1)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    if compress:
        data = gzip.compress(data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(data)
        for engine in ("pyarrow", "python"):
            _check(
                lambda mode, e=engine: read_csv(path, errors=mode, engine=e, timezone=None),
                None,
            )
            _check(
                lambda mode, e=engine: read_csv(path, errors=mode, engine=e, timezone="UTC"), None
            )


@FUZZ
@given(
    blob=st.binary(max_size=2000),
    prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"customer_id,timestamp,kind\n"]),
)
def test_random_bytes(blob: bytes, prefix: bytes) -> None:
    """Random bytes as CSV, JSON lines and Parquet."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f"
        path.write_bytes(prefix + blob)
        for engine in ("pyarrow", "python"):
            _check(lambda mode, e=engine: read_csv(path, errors=mode, engine=e), None)
        _check(lambda mode: read_jsonl(path, errors=mode), None)
        _check(lambda mode: read_parquet(path, errors=mode), None)


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(COLUMNS, JSON_VALUES, max_size=8).map(json.dumps),
            st.fixed_dictionaries(
                {
                    "customer_id": JSON_VALUES,
                    "timestamp": st.one_of(TIMES, NUMBERS),
                    "kind": st.just("view"),
                }
            ).map(json.dumps),
            st.text(max_size=20),
            st.just('{"customer_id": "\\ud800", "timestamp": 1700000000, "kind": "view"}'),
            st.just('{"a": ' + "[" * 3000 + "]" * 3000 + "}"),
        ),
        max_size=10,
    ),
    encoding=ENCODINGS,
)
def test_jsonl(lines: list[str], encoding: str) -> None:
    """Generated JSON lines: nested values, numbers of every magnitude, bad lines, surrogates."""
    text = "\n".join(lines)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(data)
        _check(lambda mode: read_jsonl(path, errors=mode), None)
        _check(lambda mode: read_jsonl(path, errors=mode, timezone="Europe/Paris"), None)


@FUZZ
@given(
    records=st.lists(
        st.one_of(
            st.dictionaries(COLUMNS, JSON_VALUES, max_size=8),
            st.fixed_dictionaries(
                {
                    "customer_id": SCALARS,
                    "timestamp": st.one_of(TIMES, NUMBERS),
                    "kind": st.text(max_size=5),
                }
            ),
            SCALARS,
        ),
        max_size=10,
    )
)
def test_from_records(records: list[Any]) -> None:
    """Generated records, including non-mappings, through from_records."""
    _check(lambda mode: cx.InteractionLog.from_records(records, errors=mode), len(records))


@FUZZ
@given(data=st.data())
def test_parquet(data: st.DataObject) -> None:
    """Generated Parquet: random column types (ints, floats, strings, lists, structs, times)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    n = data.draw(st.integers(0, 6))
    kinds = {
        "int": (pa.int64(), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
        "float": (pa.float64(), st.one_of(st.none(), st.floats())),
        "text": (pa.string(), st.one_of(st.none(), st.text(max_size=10), TIMES)),
        "list": (
            pa.list_(pa.int64()),
            st.one_of(st.none(), st.lists(st.integers(-5, 5), max_size=3)),
        ),
        "struct": (
            pa.struct([("a", pa.int64())]),
            st.one_of(st.none(), st.fixed_dictionaries({"a": st.integers(-5, 5)})),
        ),
        "ts_s": (pa.timestamp("s", tz="UTC"), st.one_of(st.none(), st.integers(-(2**50), 2**50))),
        "ts_naive": (pa.timestamp("us"), st.one_of(st.none(), st.integers(-(2**50), 2**50))),
        "bool": (pa.bool_(), st.one_of(st.none(), st.booleans())),
    }
    names = data.draw(st.lists(COLUMNS, min_size=1, max_size=6, unique=True))
    arrays = {}
    for name in names:
        kind = data.draw(st.sampled_from(sorted(kinds)))
        arrow_type, values = kinds[kind]
        drawn = data.draw(st.lists(values, min_size=n, max_size=n))
        if kind.startswith("ts"):
            arrays[name] = pa.array(drawn, pa.int64()).cast(arrow_type)
        else:
            arrays[name] = pa.array(drawn, arrow_type)
    table = pa.table(arrays)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.parquet"
        pq.write_table(table, path)
        expected = n if {"customer_id", "timestamp", "kind"} <= set(names) else None
        _check(lambda mode: read_parquet(path, errors=mode, timezone="UTC"), expected)
        _check(lambda mode: cx.InteractionLog.from_arrow(table, errors=mode), expected)
