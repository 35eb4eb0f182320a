"""Times without a zone read by one rule in every reader: text, datetimes, pandas and Arrow
timestamps without a zone need ``timezone=`` (a bad row naming row, column and value without
it); a numpy ``datetime64`` array is UTC, and ``timezone=`` beside one is refused."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, RowSchemaError, SchemaError
from cxmodel.io import read_csv, read_jsonl, read_parquet
from cxmodel.log import InteractionLog

WALL = ["2024-01-01T10:00", "2024-07-01T10:00"]
PARIS_UTC = ["2024-01-01T09:00:00.000000", "2024-07-01T08:00:00.000000"]
NAIVE = "has no time zone; pass timezone='UTC'"


def _frame(times: object) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b"], "timestamp": times, "kind": ["view"] * 2})


def _stamps(log: InteractionLog) -> list[str]:
    return [str(t) for t in log.column("timestamp")]


def _readers(tmp_path: Path) -> dict[str, object]:
    """Every reader given the same two naive wall times, as a function of ``timezone``."""
    naive = pd.to_datetime(WALL)
    (tmp_path / "a.csv").write_text(
        "customer_id,timestamp,kind\n" + "".join(f"{c},{t},view\n" for c, t in zip("ab", WALL))
    )
    (tmp_path / "a.jsonl").write_text(
        "".join(
            f'{{"customer_id": "{c}", "timestamp": "{t}", "kind": "view"}}\n'
            for c, t in zip("ab", WALL)
        )
    )
    arrow = pa.table(
        {
            "customer_id": ["a", "b"],
            "timestamp": pa.array(naive.to_numpy().astype("datetime64[us]")),
            "kind": ["view"] * 2,
        }
    )
    pq.write_table(arrow, tmp_path / "a.parquet")
    python = [dt.datetime.fromisoformat(t) for t in WALL]
    return {
        "from_arrays(text)": lambda **k: InteractionLog.from_arrays(["a", "b"], WALL, "view", **k),
        "from_arrays(datetime)": lambda **k: InteractionLog.from_arrays(
            ["a", "b"], python, "view", **k
        ),
        "from_arrays(pandas Series)": lambda **k: InteractionLog.from_arrays(
            ["a", "b"], pd.Series(naive), "view", **k
        ),
        "from_arrays(pandas DatetimeIndex)": lambda **k: InteractionLog.from_arrays(
            ["a", "b"], naive, "view", **k
        ),
        "from_records": lambda **k: InteractionLog.from_records(
            [{"customer_id": c, "timestamp": t, "kind": "view"} for c, t in zip("ab", python)],
            **k,
        ),
        "from_pandas": lambda **k: InteractionLog.from_pandas(_frame(naive), **k),
        "from_pandas(text)": lambda **k: InteractionLog.from_pandas(_frame(WALL), **k),
        "from_arrow": lambda **k: InteractionLog.from_arrow(arrow, **k),
        "read_csv": lambda **k: read_csv(tmp_path / "a.csv", **k),
        "read_jsonl": lambda **k: read_jsonl(tmp_path / "a.jsonl", **k),
        "read_parquet": lambda **k: read_parquet(tmp_path / "a.parquet", **k),
    }


READERS = [
    "from_arrays(text)",
    "from_arrays(datetime)",
    "from_arrays(pandas Series)",
    "from_arrays(pandas DatetimeIndex)",
    "from_records",
    "from_pandas",
    "from_pandas(text)",
    "from_arrow",
    "read_csv",
    "read_jsonl",
    "read_parquet",
]


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_refuses_naive_times_naming_row_column_and_value(
    tmp_path: Path, reader: str
) -> None:
    with pytest.raises(RowSchemaError, match=r"row 1: timestamp '2024-01-01T10:00") as info:
        _readers(tmp_path)[reader]()  # type: ignore[operator]
    assert NAIVE in str(info.value)


@pytest.mark.parametrize("reader", READERS)
def test_every_reader_reads_naive_times_in_the_zone_given(tmp_path: Path, reader: str) -> None:
    log = _readers(tmp_path)[reader](timezone="Europe/Paris")  # type: ignore[operator]
    assert _stamps(log) == PARIS_UTC


def test_a_pandas_column_with_a_missing_time() -> None:
    """NaT in a naive pandas column is a missing time, as in from_pandas."""
    times = pd.Series(pd.to_datetime([WALL[0], None]))
    with pytest.raises(RowSchemaError, match="row 2: timestamp is missing"):
        InteractionLog.from_arrays(["a", "b"], times, "view", timezone="UTC")


def test_aware_pandas_columns_are_converted_whatever_the_timezone() -> None:
    aware = pd.Series(pd.to_datetime(WALL)).dt.tz_localize("Europe/Paris")
    for zone in (None, "UTC", "America/New_York"):
        log = InteractionLog.from_arrays(["a", "b"], aware, "view", timezone=zone)
        assert _stamps(log) == PARIS_UTC


def test_numpy_datetime64_is_utc() -> None:
    """The documented convention, and the form cxmodel returns times in: a log's own
    timestamps read back are the same instants."""
    stamps = np.array(WALL, dtype="datetime64[us]")
    log = InteractionLog.from_arrays(["a", "b"], stamps, "view")
    assert _stamps(log) == [f"{t}:00.000000" for t in WALL]
    again = InteractionLog.from_arrays(["a", "b"], log.column("timestamp"), "view")
    assert _stamps(again) == _stamps(log)


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "+00:00", "Z"])
def test_numpy_datetime64_with_utc_as_the_timezone(zone: str) -> None:
    """A timezone that agrees with the datetime64 convention is no conflict."""
    stamps = np.array(WALL, dtype="datetime64[us]")
    log = InteractionLog.from_arrays(["a", "b"], stamps, "view", timezone=zone)
    assert _stamps(log) == [f"{t}:00.000000" for t in WALL]


@pytest.mark.parametrize("unit", ["D", "s", "us", "ns"])
def test_numpy_datetime64_with_a_timezone_is_refused_not_ignored(unit: str) -> None:
    """timezone= would not apply to UTC times: it was ignored, so wall times meant in Paris
    were read an hour or two late."""
    stamps = np.array([None, "2024-01-01"], dtype=f"datetime64[{unit}]")
    with pytest.raises(SchemaError) as info:
        InteractionLog.from_arrays(["a", "b"], stamps, "view", timezone="Europe/Paris")
    message = str(info.value)
    assert "timezone='Europe/Paris' would not apply" in message
    assert "row 2 holds 2024-01-01" in message
    assert "tz_localize('Europe/Paris')" in message


@pytest.mark.parametrize("build", ["list", "records"])
def test_numpy_datetime64_values_with_a_timezone_are_bad_rows(build: str) -> None:
    """datetime64 values in a list or in records are UTC too: with timezone= each is a bad
    row naming the value, as the array is refused."""
    stamp = np.datetime64("2024-01-01T10:00", "us")
    with pytest.raises(RowSchemaError, match="row 1: timestamp 2024-01-01T10:00:00.000000 is a"):
        if build == "list":
            InteractionLog.from_arrays(["a"], [stamp], "view", timezone="Europe/Paris")
        else:
            InteractionLog.from_records(
                [{"customer_id": "a", "timestamp": stamp, "kind": "view"}],
                timezone="Europe/Paris",
            )
    assert _stamps(InteractionLog.from_arrays(["a"], [stamp], "view")) == [
        "2024-01-01T10:00:00.000000"
    ]


@settings(max_examples=40, deadline=None)
@given(
    times=st.lists(
        st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 12, 31)),
        min_size=1,
        max_size=8,
    ),
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]),
)
def test_a_naive_pandas_column_reads_as_from_pandas_does(
    times: list[dt.datetime], zone: str
) -> None:
    """from_arrays and from_pandas give the same instants for the same naive column,
    daylight-saving gaps and folds included."""
    times = [t.replace(microsecond=0) for t in times]
    column = pd.Series(pd.to_datetime(times))
    ids = [f"c{i}" for i in range(len(times))]
    frame = pd.DataFrame({"customer_id": ids, "timestamp": column, "kind": "view"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # a time in a clock gap is a bad row
        by_arrays = InteractionLog.from_arrays(
            ids, column, "view", timezone=zone, errors="quarantine"
        )
        by_pandas = InteractionLog.from_pandas(frame, timezone=zone, errors="quarantine")
    assert _stamps(by_arrays) == _stamps(by_pandas)
    assert by_arrays.customers.tolist() == by_pandas.customers.tolist()
