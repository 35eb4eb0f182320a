"""from_dask: every customer's rows in one partition, in log order, exactly as one process reads them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

import dask
from cxmodel import dask as cxd
from cxmodel import metrics, models
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, uneven


class TestFromDask:
    def test_every_customer_in_one_partition_in_log_order(
        self, world: tuple[InteractionLog, Any], parts: cxd.CustomerPartitions
    ) -> None:
        log = world[0]
        logs = [x for x in dask.compute(*parts.logs) if x is not None]
        ids = np.concatenate([x.customers for x in logs])
        assert sorted(ids.tolist()) == log.customers.tolist()
        whole = InteractionLog.from_pandas(
            __import__("pandas").concat([x.to_pandas() for x in logs], ignore_index=True)
        )
        assert whole.equals(log)
        # ties keep their input order: the kinds in log order are the same
        assert whole.column("kind").tolist() == log.column("kind").tolist()
        assert parts.npartitions == 7 and "npartitions=7" in repr(parts)

    def test_already_partitioned_and_errors(self, world: tuple[InteractionLog, Any]) -> None:
        with dask.config.set(scheduler="synchronous"):
            frame = world[0].to_pandas()  # log order: customers are contiguous
            cut = int(np.flatnonzero(frame["customer_id"].ne(frame["customer_id"].shift()))[40])
            ddf = uneven(frame, [cut, 0, len(frame) - cut])
            got = cxd.rfm_summary(cxd.from_dask(ddf, partitioned_by_customer=True))
            assert_same(got, models.rfm_summary(world[0]))
            with pytest.raises(SchemaError, match="DataFrame"):
                cxd.from_dask(frame)
            with pytest.raises(SchemaError, match="customer column 'user'"):
                cxd.from_dask(ddf, mapping={"user": "customer_id"})

    def test_dask_measures_logs_by_their_arrays(self, world: tuple[InteractionLog, Any]) -> None:
        """Once from_dask has built a log in a process, Dask's sizeof counts its arrays and
        categories (not the few bytes of an unknown object), so workers spill by it."""
        from dask.sizeof import sizeof

        from cxmodel.dask._partitions import log_size

        with dask.config.set(scheduler="synchronous"):
            (log,) = dask.compute(*cxd.from_dask(uneven(world[1].iloc[:300], [300])).logs)
        assert sizeof(log) == log_size(log) > log.nbytes > 300 * 16

    def test_mapping(self, world: tuple[InteractionLog, Any]) -> None:
        rows = world[1].rename(columns={"customer_id": "user"})
        with dask.config.set(scheduler="synchronous"):
            parts = cxd.from_dask(
                uneven(rows, [100, len(rows) - 100]), mapping={"user": "customer_id"}
            )
            assert_same(
                cxd.customer_lifetimes(parts, "2024-09-01T00:00Z"),
                metrics.customer_lifetimes(world[0], "2024-09-01T00:00Z"),
            )


def _labelled(rows: Any) -> Any:
    """The rows under index labels of the user's own (``'evt-00000'``, ...)."""
    return rows.set_axis([f"evt-{i:05d}" for i in range(len(rows))])


def _nps_row(rows: Any, partition: int, sizes: list[int]) -> int:
    """The position (in the frame) of the first NPS answer in partition ``partition``."""
    start = sum(sizes[:partition])
    nps = np.flatnonzero(rows["metric"].iloc[start : start + sizes[partition]].eq("nps"))
    return start + int(nps[0])


_RUNS = {
    "from_dask": lambda ddf: dask.compute(*cxd.from_dask(ddf).logs),
    "partitioned_by_customer": lambda ddf: dask.compute(
        *cxd.from_dask(ddf, partitioned_by_customer=True).logs
    ),
    "rfm_scores": lambda ddf: cxd.rfm_scores(ddf, as_of="2030-01-01T00:00Z"),
    "nps": lambda ddf: cxd.nps(ddf),
}


class TestBadRowNamed:
    """A bad row raises the one-process SchemaError with the row named as the user knows it:
    partition, index label and row of the partition, instead of its place in a partition."""

    @pytest.mark.parametrize("run", list(_RUNS), ids=list(_RUNS))
    @pytest.mark.parametrize("bad", ["score", "timestamp"])
    def test_names_the_index_label(
        self, world: tuple[InteractionLog, Any], client: object, run: str, bad: str
    ) -> None:
        """The message is the one-process reason after 'partition 3, index <label> (row k of
        the partition)', whichever function builds the partition's log."""
        rows = _labelled(world[1])
        sizes = [len(rows) // 2, 0, 7, len(rows) // 5, 0, 1]
        sizes.append(len(rows) - sum(sizes))
        at = _nps_row(rows, 3, sizes)
        rows["timestamp"] = rows["timestamp"].map(lambda t: t.isoformat()).astype(object)
        column = rows.columns.get_loc(bad)
        rows.iloc[at, column] = 11.0 if bad == "score" else "someday"
        with pytest.raises(SchemaError) as one:
            InteractionLog.from_pandas(rows)
        head, reason = str(one.value).split(": ", 1)
        assert head == f"row {at + 1}"
        label, row = rows.index[at], at - sum(sizes[:3]) + 1
        expected = f"partition 3, index {label!r} (row {row} of the partition): {reason}"
        with pytest.raises(SchemaError) as many:
            _RUNS[run](uneven(rows, sizes))
        assert str(many.value) == expected

    def test_good_frame_unaffected(self, world: tuple[InteractionLog, Any], client: object) -> None:
        """Index labels of the user's (text, out of order) do not change the logs built: the
        partition logs together are the one-process log."""
        rows = _labelled(world[1]).iloc[::-1]
        for partitioned in (False, True):
            parts = cxd.from_dask(
                uneven(rows, [900, len(rows) - 900]), partitioned_by_customer=partitioned
            )
            logs = [x.to_pandas() for x in dask.compute(*parts.logs) if x is not None]
            whole = InteractionLog.from_pandas(__import__("pandas").concat(logs))
            assert whole.equals(InteractionLog.from_pandas(rows))


def test_a_partition_of_numbers_in_a_text_column() -> None:
    """A text column whose values are numbers in one partition and text in the others (frames
    concatenated from several exports) gives the one-process result: the numbers are labels
    there, as from_arrays reads them (the one-process read of the whole frame raised
    pyarrow's ArrowTypeError)."""
    import dask.dataframe as dd
    import pandas as pd

    from cxmodel import journey

    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c", "b", "c"],
            "timestamp": pd.to_datetime([0, 1, 2, 3, 4, 5], unit="h", utc=True),
            "kind": ["view", "view", "purchase", "view", "purchase", "purchase"],
            "channel": ["web", "app", 7, 7, "web", "app"],
        }
    )
    chunks = [frame.iloc[0:2], frame.iloc[2:4], frame.iloc[4:6]]
    ddf = dd.from_delayed([dask.delayed(c) for c in chunks], meta=frame.iloc[:0])
    with dask.config.set(scheduler="synchronous"):
        got = cxd.transitions(ddf, by="channel", quantiles=())
    expected = journey.transitions(InteractionLog.from_pandas(frame), by="channel", quantiles=())
    assert got.by_labels.tolist() == expected.by_labels.tolist() == ["7", "app", "web"]
    assert got.counts.tolist() == expected.counts.tolist()
