"""The first bad row of a Dask frame is named in the frame's order, with the count of the bad
rows of every partition, as one process names it."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask.dataframe")

import dask.dataframe as dd
import pandas as pd

import dask
from cxmodel.dask._bad_rows import first_bad_row
from cxmodel.errors import SchemaError

GOOD = "2024-01-01T00:00Z"


def _frame(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"c{j}" for j in range(len(times))],
            "kind": ["view"] * len(times),
            "timestamp": times,
        }
    )


def _find(frame: pd.DataFrame, parts: int, task: Any = None) -> Any:
    with dask.config.set(scheduler="synchronous"):
        return first_bad_row(dd.from_pandas(frame, npartitions=parts), None, None, None, task)()


def test_a_clean_frame_has_none() -> None:
    assert _find(_frame([GOOD] * 6), 3) is None


def test_the_first_bad_row_in_frame_order_is_named_with_every_partitions_count() -> None:
    # bad rows at positions 1, 4 and 5: partitions of two rows each
    where, error = _find(_frame([GOOD, "soon", GOOD, GOOD, "later", "never"]), 3)
    assert where[:2] == (0, 0)  # the read, partition 0
    assert isinstance(error, SchemaError)
    assert "'soon'" in str(error) and "(2 more rows rejected)" in str(error)


def test_a_later_partition_is_named_when_the_first_is_clean() -> None:
    where, error = _find(_frame([GOOD, GOOD, GOOD, "later"]), 2)
    assert where[:2] == (0, 1) and "'later'" in str(error)
    assert "more row" not in str(error)


def test_the_analysis_step_is_blamed_only_after_every_read_succeeds() -> None:
    def refuse(piece: Any) -> None:
        number, _ = piece
        if number == 1:
            raise SchemaError("a survey answer without a score")

    where, error = _find(_frame([GOOD] * 4), 2, refuse)
    assert where[:2] == (1, 1) and str(error) == "a survey answer without a score"
    # a bad row in any partition's read comes first
    where, error = _find(_frame([GOOD, GOOD, GOOD, "later"]), 2, refuse)
    assert where[0] == 0 and "'later'" in str(error)
