"""Shared steps of the Dask adapter: the tree merge of partials."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from cxmodel import dask as cxd
from cxmodel.errors import SchemaError


class TestTreeMerge:
    @pytest.mark.parametrize("fan_in", [2, 3, 8])
    def test_sum_any_fan_in(self, fan_in: int) -> None:
        """Tree merging 0..29 with any fan-in sums to 435."""
        import dask

        parts = [dask.delayed(i) for i in range(30)]
        assert cxd.tree_merge(lambda a, b: a + b, parts, fan_in).compute(scheduler="sync") == 435

    def test_numpy_integer_fan_in(self) -> None:
        """A fan-in computed with numpy (``np.int64``) acts as an int."""
        import numpy as np

        import dask

        parts = [dask.delayed(i) for i in range(30)]
        merged = cxd.tree_merge(lambda a, b: a + b, parts, np.int64(4))  # type: ignore[arg-type]
        assert merged.compute(scheduler="sync") == 435

    @pytest.mark.parametrize(("parts", "fan_in"), [([], 8), ([1], 1)])
    def test_bad_input(self, parts: list[Any], fan_in: int) -> None:
        """No partials or fan_in < 2 raise SchemaError."""
        with pytest.raises(SchemaError):
            cxd.tree_merge(lambda a, b: a + b, parts, fan_in)


class TestFanIn:
    @pytest.mark.parametrize("fan_in", [1, 0, "8", 2.5, True], ids=repr)
    @pytest.mark.parametrize(
        "fn",
        [cxd.transitions, cxd.step_matrix, cxd.paths, cxd.funnel, cxd.nps],
        ids=lambda fn: fn.__name__,
    )
    def test_bad_fan_in_raises_schema_error(self, fn: Any, fan_in: Any) -> None:
        """A fan_in that is not an int >= 2 raises SchemaError naming the function and the
        value (not a TypeError from comparing it), before any partition is computed."""
        import dask.dataframe as dd
        import pandas as pd

        frame = pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "kind": ["view", "view"],
                "timestamp": pd.to_datetime([0, 1], unit="s", utc=True),
            }
        )
        ddf = dd.from_pandas(frame, npartitions=1)
        args = (["view"],) if fn is cxd.funnel else ()
        with pytest.raises(SchemaError, match=r"fan_in must be an int >= 2.*got"):
            fn(ddf, *args, fan_in=fan_in)


class TestPartitionLog:
    """A bad row of a partition is named by partition, index label and row of the partition;
    the rows its reason refers to too."""

    @staticmethod
    def frame(ids: list[str], index: list[Any]) -> Any:
        import pandas as pd

        n = len(ids)
        return pd.DataFrame(
            {
                "customer_id": ["a"] * n,
                "timestamp": ["2024-01-01T00:00Z"] * n,
                "kind": ["view"] * n,
                "interaction_id": ids,
            },
            index=index,
        )

    def test_refers_to_rows_by_label(self) -> None:
        """A duplicate id names the row it repeats in the same terms, and counts the others."""
        from cxmodel.dask._common import partition_log

        frame = self.frame(["x", "y", "x", "y"], ["p", "q", "r", "s"])
        with pytest.raises(SchemaError) as error:
            partition_log(frame, None, None, 2)
        assert str(error.value) == (
            "partition 2, index 'r' (row 3 of the partition): interaction_id 'x' is a "
            "duplicate of row 1 of partition 2 (index 'p') (column 'interaction_id'); ids must "
            "be unique (1 more row rejected)"
        )

    def test_shuffled_rows_named_by_their_origin(self) -> None:
        """Rows a shuffle gathered are named by their input partition and position."""
        import numpy as np

        from cxmodel.dask._common import partition_log

        frame = self.frame(["x", "x"], [10, 70])
        origin = (np.array([0, 4]), np.array([9, 2]))
        with pytest.raises(SchemaError) as error:
            partition_log(frame, None, None, 1, origin)
        assert str(error.value).startswith(
            "partition 4, index 70 (row 3 of the partition): interaction_id 'x' is a duplicate "
            "of row 10 of partition 0 (index 10)"
        )

    def test_good_partition(self) -> None:
        """A good partition is its one-process log; an empty one is None."""
        from cxmodel.dask._common import partition_log
        from cxmodel.log import InteractionLog

        frame = self.frame(["x", "y"], ["p", "q"])
        log = partition_log(frame, None, None, 0)
        assert log is not None and log.equals(InteractionLog.from_pandas(frame))
        assert partition_log(frame.iloc[:0], None, None, 0) is None


class TestDeclaredColumns:
    """A partition without a column the frame declares (schema drift) is read with that column
    missing, as ``ddf.compute()`` concatenates it, by every path of the adapter."""

    @staticmethod
    def drifted() -> tuple[Any, Any]:
        """A frame of 3 partitions whose middle one lacks ``channel``, and its rows as
        ``compute()`` gives them."""
        import dask.dataframe as dd
        import pandas as pd

        import dask

        frame = pd.DataFrame(
            {
                "customer_id": ["a", "b", "a", "c", "b", "c"],
                "timestamp": pd.to_datetime([0, 1, 2, 3, 4, 5], unit="h", utc=True),
                "kind": ["view", "view", "purchase", "view", "purchase", "purchase"],
                "channel": ["web", "app", "web", "app", "web", "app"],
            }
        )
        chunks = [frame.iloc[0:2], frame.iloc[2:4].drop(columns="channel"), frame.iloc[4:6]]
        ddf = dd.from_delayed(
            [dask.delayed(c) for c in chunks], meta=frame.iloc[:0], verify_meta=False
        )
        return ddf, frame.assign(channel=frame["channel"].where(~frame.index.isin([2, 3])))

    def test_shuffle_reads_missing_values(self) -> None:
        """Through the shuffle (it used to raise Dask's raw ValueError about the columns), the
        rows of the partition without ``channel`` form the missing group."""
        import dask
        from cxmodel import journey
        from cxmodel.log import InteractionLog

        ddf, rows = self.drifted()
        log = InteractionLog.from_pandas(rows)
        with dask.config.set(scheduler="synchronous"):
            got = cxd.transitions(ddf, by="channel", quantiles=())
        expected = journey.transitions(log, by="channel", quantiles=())
        assert got.by_labels.tolist() == expected.by_labels.tolist()
        assert got.counts.tolist() == expected.counts.tolist()

    def test_partition_read_alone_sees_the_column(self) -> None:
        """A metric read per partition sees the declared column in every partition."""
        import dask.dataframe as dd

        from cxmodel.dask._common import declared_columns

        ddf, _ = self.drifted()
        parts = [p.compute(scheduler="sync") for p in declared_columns(ddf).to_delayed()]
        assert all(list(p.columns) == list(ddf.columns) for p in parts)
        assert parts[1]["channel"].isna().all()
        assert str(parts[1]["channel"].dtype) == str(ddf.dtypes["channel"])
        assert isinstance(declared_columns(ddf), dd.DataFrame)
