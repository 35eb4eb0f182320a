"""A repeated interaction_id is refused on Dask as in one process, wherever its rows sit: in one
partition, in two, or spread by the shuffle by customer."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import dask
from cxmodel import dask as cxd
from cxmodel.dask._ids import check_unique_ids
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import uneven

_RUNS: dict[str, Callable[[Any], Any]] = {
    "check_unique_ids": lambda ddf: check_unique_ids(ddf, None),
    "from_dask": lambda ddf: dask.compute(*cxd.from_dask(ddf).logs),
    "partitioned_by_customer": lambda ddf: dask.compute(
        *cxd.from_dask(ddf, partitioned_by_customer=True).logs
    ),
    "rfm_scores": lambda ddf: cxd.rfm_scores(ddf, as_of="2030-01-01T00:00Z"),
    "nps": lambda ddf: cxd.nps(ddf),
}


def _rows(ids: list[Any]) -> Any:
    """One NPS answer per id, each by its own customer (so that the shuffle by customer sends
    rows with the same id to different partitions), under index labels ``r0``, ``r1``, ..."""
    n = len(ids)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "timestamp": pd.to_datetime(np.arange(n) * 3_600, unit="s", utc=True),
            "kind": ["survey"] * n,
            "metric": ["nps"] * n,
            "score": np.full(n, 9.0),
            "interaction_id": np.array(ids, dtype=object),
        },
        index=[f"r{i}" for i in range(n)],
    )


def _named(row: int, sizes: list[int], rows: Any) -> tuple[int, int, str]:
    """The partition, row of the partition (1-based) and index label of a 0-based frame row."""
    edges = np.cumsum(sizes)
    part = int(np.searchsorted(edges, row, side="right"))
    start = int(edges[part - 1]) if part else 0
    return part, row - start + 1, repr(rows.index[row])


def _expected(rows: Any, sizes: list[int]) -> str:
    """The one-process error for the whole frame, with its rows named as on Dask."""
    with pytest.raises(SchemaError) as one:
        InteractionLog.from_pandas(rows)
    match = re.fullmatch(
        r"row (\d+): (interaction_id .* is a duplicate of row )(\d+)( \(column "
        r"'interaction_id'\); ids must be unique)( \((\d+) more rows? rejected; .*\))?",
        str(one.value),
    )
    assert match is not None, str(one.value)
    bad, first = int(match[1]) - 1, int(match[3]) - 1
    part, row, label = _named(bad, sizes, rows)
    first_part, first_row, first_label = _named(first, sizes, rows)
    more = int(match[6] or 0)
    suffix = f" ({more} more row{'s' if more != 1 else ''} rejected)" if more else ""
    return (
        f"partition {part}, index {label} (row {row} of the partition): {match[2]}{first_row} "
        f"of partition {first_part} (index {first_label}){match[4]}{suffix}"
    )


class TestRepeatedIds:
    @pytest.mark.parametrize("run", list(_RUNS), ids=list(_RUNS))
    @pytest.mark.parametrize(
        "layout",
        [
            pytest.param(([0, 1, 2, 3, 4, 5, 6, 2], [8]), id="within-one-partition"),
            pytest.param(([0, 1, 2, 3, 4, 5, 6, 2], [3, 0, 2, 3]), id="across-partitions"),
            pytest.param(([0, 5, 2, 5, 2, 5, 6, 2], [2, 2, 0, 4]), id="several-repeats"),
        ],
    )
    def test_refused_as_one_process(self, run: str, layout: tuple[list[int], list[int]]) -> None:
        """The Dask error is the one-process error for the whole frame: the same first repeat,
        the row it repeats and the count of the others, named by partition, index label and
        row of the partition, whatever function reads the frame."""
        codes, sizes = layout
        rows = _rows([f"evt-{c}" for c in codes])
        with dask.config.set(scheduler="synchronous"), pytest.raises(SchemaError) as many:
            _RUNS[run](uneven(rows, sizes))
        assert str(many.value) == _expected(rows, sizes)

    def test_on_a_cluster(self, client: object) -> None:
        """On a distributed cluster (its own shuffle), the same error."""
        rows = _rows(["a", "b", "c", "d", "b", "e"])
        with pytest.raises(SchemaError) as many:
            cxd.from_dask(uneven(rows, [2, 2, 2]))
        assert str(many.value) == _expected(rows, [2, 2, 2])

    def test_numbers_and_mapping(self) -> None:
        """Ids that are numbers repeat as their digits; the column may have the user's name."""
        rows = _rows([7, 8, 9, 7]).rename(columns={"interaction_id": "event"})
        rows["event"] = rows["event"].astype(np.int64)
        with dask.config.set(scheduler="synchronous"), pytest.raises(SchemaError) as many:
            cxd.from_dask(uneven(rows, [2, 2]), mapping={"event": "interaction_id"})
        assert str(many.value).startswith(
            "partition 1, index 'r3' (row 2 of the partition): interaction_id '7' is a "
            "duplicate of row 1 of partition 0 (index 'r0')"
        )

    def test_missing_ids_and_clean_frames_pass(self) -> None:
        """Rows without an id (None, NaN, empty) are not repeats of each other; a frame of
        unique ids reads as one process reads it; a frame without the column is not checked."""
        rows = _rows(["a", None, "b", np.nan, "", None])
        with dask.config.set(scheduler="synchronous"):
            logs = dask.compute(*cxd.from_dask(uneven(rows, [2, 0, 4])).logs)
            whole = InteractionLog.from_pandas(pd.concat([x.to_pandas() for x in logs if x]))
            assert whole.equals(InteractionLog.from_pandas(rows))
            check_unique_ids(uneven(rows.drop(columns="interaction_id"), [3, 3]), None)
            check_unique_ids(uneven(rows.iloc[:0], [0, 0]), None)


@settings(max_examples=30, deadline=None)
@given(
    codes=st.lists(st.integers(0, 12), min_size=1, max_size=14),
    cuts=st.lists(st.integers(0, 14), max_size=4),
)
def test_refused_exactly_when_one_process_refuses(codes: list[int], cuts: list[int]) -> None:
    """For random ids over random partitionings (empty partitions included), the Dask check
    raises exactly when the one-process read does, with the same rows named."""
    rows = _rows([f"e{c}" for c in codes])
    edges = sorted({min(c, len(codes)) for c in cuts} | {0, len(codes)})
    sizes = list(np.diff(edges).tolist()) or [0]
    ddf = uneven(rows, sizes)
    with dask.config.set(scheduler="synchronous"):
        if len(set(codes)) == len(codes):
            check_unique_ids(ddf, None)
            return
        with pytest.raises(SchemaError) as many:
            check_unique_ids(ddf, None)
    assert str(many.value) == _expected(rows, sizes)


@pytest.mark.filterwarnings("ignore:cxmodel.dask.rfm_scores:cxmodel.errors.DataWarning")
@pytest.mark.filterwarnings("ignore:NPS. 1 group:cxmodel.metrics.SmallSampleWarning")
class TestCheapPass:
    @pytest.mark.parametrize("run", [r for r in _RUNS if r != "check_unique_ids"])
    def test_unique_ids_read_once(self, run: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """A frame of unique ids is checked by the digests its partition tasks return: the
        exact pass (a shuffle of the ids) does not run."""
        exact = _Spy(check_unique_ids)
        monkeypatch.setattr("cxmodel.dask._ids.check_unique_ids", exact)
        rows = _rows([f"evt-{i}" for i in range(8)])
        with dask.config.set(scheduler="synchronous"):
            _RUNS[run](uneven(rows, [3, 0, 2, 3]))
        assert exact.calls == 0

    @pytest.mark.parametrize("run", [r for r in _RUNS if r != "check_unique_ids"])
    def test_hash_collisions_give_no_false_error(
        self, run: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When every id has the same hash, different ids still pass (the exact pass finds
        no repeat) and the result is the one without collisions."""
        rows = _rows([f"evt-{i}" for i in range(8)])
        with dask.config.set(scheduler="synchronous"):
            expected = _result(_RUNS[run](uneven(rows, [3, 0, 2, 3])))
            exact = _Spy(check_unique_ids)
            monkeypatch.setattr("cxmodel.dask._ids.check_unique_ids", exact)
            monkeypatch.setattr("cxmodel.dask._ids.hash_text", _one_hash)
            actual = _result(_RUNS[run](uneven(rows, [3, 0, 2, 3])))
        assert exact.calls == 1
        assert expected == actual

    @pytest.mark.parametrize("run", list(_RUNS), ids=list(_RUNS))
    def test_hash_collisions_name_the_repeat(
        self, run: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When every id has the same hash, a repeated id is refused with the one-process
        error, as without collisions."""
        monkeypatch.setattr("cxmodel.dask._ids.hash_text", _one_hash)
        rows = _rows([f"evt-{c}" for c in [0, 5, 2, 5, 2, 5, 6, 2]])
        with dask.config.set(scheduler="synchronous"), pytest.raises(SchemaError) as many:
            _RUNS[run](uneven(rows, [2, 2, 0, 4]))
        assert str(many.value) == _expected(rows, [2, 2, 0, 4])


class _Spy:
    """A function that counts its calls."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.fn(*args)


def _one_hash(ids: Any) -> Any:
    """The same hash for every id."""
    return np.zeros(len(ids), dtype=np.uint64)


def _result(out: Any) -> Any:
    """A comparable form of a run's result: the rows of ``from_dask``'s logs, the fields of
    a result (arrays as lists)."""
    if isinstance(out, tuple):
        frames = [log.to_pandas() for log in out if log is not None]
        return pd.concat(frames).sort_values("interaction_id").to_dict("list")
    fields = attrs.asdict(out, recurse=False)
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in fields.items()}


@pytest.mark.filterwarnings("ignore:NPS. 1 group:cxmodel.metrics.SmallSampleWarning")
@settings(max_examples=30, deadline=None)
@given(
    codes=st.lists(st.integers(0, 12), min_size=1, max_size=14),
    cuts=st.lists(st.integers(0, 14), max_size=4),
    collide=st.booleans(),
)
def test_analysis_refuses_exactly_when_one_process_refuses(
    codes: list[int], cuts: list[int], collide: bool
) -> None:
    """For random ids over random partitionings, with or without every hash colliding, an
    analysis (its partition tasks' digests, then the exact pass) raises exactly when the
    one-process read does, with the same rows named."""
    rows = _rows([f"e{c}" for c in codes])
    edges = sorted({min(c, len(codes)) for c in cuts} | {0, len(codes)})
    sizes = list(np.diff(edges).tolist()) or [0]
    ddf = uneven(rows, sizes)
    with pytest.MonkeyPatch.context() as patch, dask.config.set(scheduler="synchronous"):
        if collide:
            patch.setattr("cxmodel.dask._ids.hash_text", _one_hash)
        if len(set(codes)) == len(codes):
            assert cxd.nps(ddf).n == len(codes)
            return
        with pytest.raises(SchemaError) as many:
            cxd.nps(ddf)
    assert str(many.value) == _expected(rows, sizes)
