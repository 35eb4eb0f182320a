"""A frame of dates without a time of day is observed to the end of its last day on Dask as in
one process, including when only some partitions hold dates."""

from __future__ import annotations

import pytest

pytest.importorskip("dask.dataframe")

import pandas as pd

import dask
from cxmodel import dask as cxd
from cxmodel._time import to_us
from cxmodel.log import InteractionLog
from tests.dask.frames import uneven


def _ends(frame: pd.DataFrame, sizes: list[int]) -> tuple[int | None, set[int]]:
    """The one-process end, and the ends of the partitions' logs, read in Europe/Paris."""
    one = InteractionLog.from_pandas(frame, timezone="Europe/Paris").observed_until
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(frame, sizes), timezone="Europe/Paris")
        logs = [log for log in dask.compute(*parts.logs) if log is not None]
    return one, {int(log.observed_until) for log in logs}


def _frame(stamps: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{i % 3}" for i in range(len(stamps))],
            "kind": ["purchase"] * len(stamps),
            "timestamp": stamps,
        }
    )


def test_dates() -> None:
    """Dates only: every partition ends where the one-process log does, or earlier, and the
    latest partition end (what the Dask analyses read) is the one-process end."""
    frame = _frame(["2024-03-29", "2024-03-30", "2024-03-31", "2024-03-28", "2024-03-30"])
    one, parts = _ends(frame, [2, 0, 3])
    assert to_us("2024-03-31T23:59:59.999999+02:00") == one == max(parts)


def test_dates_and_times_in_different_partitions() -> None:
    """Dates in some partitions and times of day in others: the column is not one of dates,
    so every partition is observed until the last interaction of all, as in one process."""
    frame = _frame(["2024-03-31", "2024-03-30", "2024-03-30", "2024-03-31T10:00", "2024-03-29"])
    frame["customer_id"] = ["a", "a", "b", "b", "b"]
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(
            uneven(frame, [2, 3]), timezone="Europe/Paris", partitioned_by_customer=True
        )
        logs = [log for log in dask.compute(*parts.logs) if log is not None]
    one = InteractionLog.from_pandas(frame, timezone="Europe/Paris").observed_until
    assert to_us("2024-03-31T10:00+02:00") == one
    assert {one} == {log.observed_until for log in logs}
