"""Survey metrics over a Dask frame (nps, csat, ces) equal the one-shot results on a LocalCluster."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client

from cxmodel import dask as cxd
from cxmodel import metrics
from cxmodel.errors import DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import MetricTable
from tests.dask.frames import assert_tables_equal

IN_PROCESS = True

METRICS = [
    ("nps", cxd.nps, metrics.nps),
    ("csat", cxd.csat, metrics.csat),
    ("ces", cxd.ces, metrics.ces),
]


class TestSurveyMetrics:
    @pytest.mark.parametrize(("name", "distributed_fn", "local_fn"), METRICS)
    def test_overall_equals_one_shot(
        self,
        client: Client,
        data: tuple[InteractionLog, Any],
        name: str,
        distributed_fn: Any,
        local_fn: Any,
    ) -> None:
        """The overall result over 5 partitions equals the one-shot result exactly."""
        log, ddf = data
        expected = local_fn(log)
        got = distributed_fn(ddf)
        assert expected.n > 0
        assert got == expected

    @pytest.mark.parametrize(("name", "distributed_fn", "local_fn"), METRICS)
    @pytest.mark.parametrize("by", ["region", "score"])
    def test_by_column_equals_one_shot(
        self,
        client: Client,
        data: tuple[InteractionLog, Any],
        name: str,
        distributed_fn: Any,
        local_fn: Any,
        by: str,
    ) -> None:
        """A breakdown by a string column (missing group last) or a float column is identical."""
        log, ddf = data
        with (
            pytest.warns(metrics.SmallSampleWarning) if _small(local_fn, log, by=by) else _nothing()
        ):
            expected = local_fn(log, by=by)
        with (
            pytest.warns(metrics.SmallSampleWarning) if _small(local_fn, log, by=by) else _nothing()
        ):
            got = distributed_fn(ddf, by=by)
        assert len(expected) > 1
        assert_tables_equal(got, expected)

    @pytest.mark.parametrize(("name", "distributed_fn", "local_fn"), METRICS)
    def test_by_month_and_column_equals_one_shot(
        self,
        client: Client,
        data: tuple[InteractionLog, Any],
        name: str,
        distributed_fn: Any,
        local_fn: Any,
    ) -> None:
        """A breakdown by column and month (keys spread over partitions) is identical."""
        log, ddf = data
        with pytest.warns(metrics.SmallSampleWarning):
            expected = local_fn(log, by="region", period="month")
        with pytest.warns(metrics.SmallSampleWarning):
            got = distributed_fn(ddf, by="region", period="month", fan_in=2)
        assert len(expected) > 5
        assert_tables_equal(got, expected)

    @pytest.mark.parametrize("ci", ["adjusted-wald", "bootstrap"])
    def test_interval_methods(
        self, client: Client, data: tuple[InteractionLog, Any], ci: str
    ) -> None:
        """Other interval methods (bootstrap seeded) also equal the one-shot result."""
        log, ddf = data
        assert cxd.nps(ddf, ci=ci, random_state=5) == metrics.nps(log, ci=ci, random_state=5)

    def test_bad_by_names_argument(self, client: Client, data: tuple[InteractionLog, Any]) -> None:
        """An array for by is rejected with a SchemaError naming by."""
        with pytest.raises(SchemaError, match="by must be a column name"):
            cxd.nps(data[1], by=["a"])  # type: ignore[arg-type]

    def test_not_a_dask_frame(self, data: tuple[InteractionLog, Any]) -> None:
        """A pandas frame is rejected with a SchemaError naming ddf."""
        with pytest.raises(SchemaError, match="ddf must be a dask"):
            cxd.nps(data[0].to_pandas())

    def test_mapping_renames_the_core_columns(
        self, client: Client, data: tuple[InteractionLog, Any]
    ) -> None:
        """Columns under the user's names, with ``mapping``, give the one-shot result."""
        log, ddf = data
        renamed = ddf.rename(columns={"customer_id": "user", "kind": "event"})
        mapping = {"user": "customer_id", "event": "kind"}
        assert cxd.csat(renamed, mapping=mapping) == metrics.csat(log)

    def test_mapping_names_a_missing_column(self, data: tuple[InteractionLog, Any]) -> None:
        """A mapped customer column the frame lacks is named in the error."""
        with pytest.raises(SchemaError, match=r"no column\(s\) \['user'\]"):
            cxd.nps(data[1], mapping={"user": "customer_id"})


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _small(fn: Any, log: InteractionLog, **kw: Any) -> bool:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(log, **kw)
    return any(issubclass(w.category, metrics.SmallSampleWarning) for w in caught)


class TestScattered:
    def test_nps_by_month(
        self, client: Client, data: tuple[InteractionLog, Any], scattered: Any
    ) -> None:
        """NPS by month over scattered rows equals the one-shot table."""
        with pytest.warns(metrics.SmallSampleWarning):
            expected = metrics.nps(data[0], period="month")
        with pytest.warns(metrics.SmallSampleWarning):
            got = cxd.nps(scattered, period="month")
        assert isinstance(expected, MetricTable)
        assert isinstance(got, MetricTable)
        assert_tables_equal(got, expected)


def test_numeric_by_sorts_as_numbers(client: Client) -> None:
    """A numeric by column (store 1..12) over 3 partitions: groups in numeric order, missing
    last, equal to the one-process table."""
    import dask.dataframe as dd
    import numpy as np

    stores = np.array([1.0, 2.0, 10.0, 11.0, 3.0, 12.0, np.nan] * 6)
    n = len(stores)
    log = InteractionLog.from_arrays(
        [f"c{i:02d}" for i in range(n)], np.arange(n) * 1_000_000, ["survey"] * n,
        metric=["nps"] * n, score=np.arange(n) % 11 * 1.0, store=stores,
    )  # fmt: skip
    ddf = dd.from_pandas(log.to_pandas(), npartitions=3)
    with pytest.warns(metrics.SmallSampleWarning):
        expected = metrics.nps(log, by="store")
    with pytest.warns(metrics.SmallSampleWarning):
        got = cxd.nps(ddf, by="store")
    assert got["store"].tolist() == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, "(missing)"]
    assert_tables_equal(got, expected)


class TestBadAnswerNamed:
    @pytest.mark.parametrize(("name", "distributed_fn", "local_fn"), METRICS)
    def test_missing_score_named_by_partition_and_index(
        self, name: str, distributed_fn: Any, local_fn: Any
    ) -> None:
        """An answer without a score is refused as in one process, with its row named by its
        partition, index label and row in the partition (it was named by its position in the
        partition alone: 'row 1', a row of the user's data that holds a good answer)."""
        import dask.dataframe as dd
        import pandas as pd

        import dask

        frame = pd.DataFrame(
            {
                "customer_id": ["a", "b", "c", "d"],
                "timestamp": pd.to_datetime([0, 1, 2, 3], unit="h", utc=True),
                "kind": "survey",
                "metric": name,
                "score": [4.0, 5.0, 3.0, None],
            },
            index=["e1", "e2", "e3", "e4"],
        )
        with pytest.raises(SchemaError) as one:
            local_fn(InteractionLog.from_pandas(frame))
        with dask.config.set(scheduler="synchronous"), pytest.raises(SchemaError) as error:
            distributed_fn(dd.from_pandas(frame, npartitions=2, sort=False))
        reason = str(one.value).removeprefix("row 4: ")
        assert str(error.value) == f"partition 1, index 'e4' (row 2 of the partition): {reason}"


@pytest.mark.parametrize(("name", "distributed_fn", "local_fn"), METRICS)
def test_misspelt_by_named_with_did_you_mean(
    client: Client, data: tuple[InteractionLog, Any], name: str, distributed_fn: Any, local_fn: Any
) -> None:
    """A misspelt ``by`` column raises the one-process error, did-you-mean included."""
    log, ddf = data
    with pytest.raises(SchemaError) as one:
        local_fn(log, by="regoin")
    with pytest.raises(SchemaError) as error:
        distributed_fn(ddf, by="regoin")
    assert "did you mean 'region'" in str(one.value)
    assert str(error.value) == str(one.value)


def test_scale_other_than_the_logs_is_refused(
    client: Client, data: tuple[InteractionLog, Any]
) -> None:
    """csat over partitions with a scale other than the one the answers were read on is the
    SchemaError of metrics.csat (it reported 0 % satisfied), and a top off the scale too."""
    with pytest.raises(SchemaError, match=r"scale \(1, 7\) reaches beyond the scale"):
        cxd.csat(data[1], scale=(1, 7))
    with pytest.raises(SchemaError, match="top 9 is not a point of the scale 1..5"):
        cxd.csat(data[1], top=9)


@pytest.mark.parametrize(
    ("breakdown", "kind", "holds"),
    [
        ({}, "survey", "the survey answers are to 'nps' (6)"),
        ({"period": "month"}, "survey", "the survey answers are to 'nps' (6)"),
        ({"by": "region"}, "survey", "the survey answers are to 'nps' (6)"),
        ({"by": "region"}, "view", "there is no survey row (kind 'survey')"),
    ],
    ids=["whole", "period", "by", "by-no-survey"],
)
def test_metric_the_frame_does_not_answer(
    client: Client, breakdown: dict[str, str], kind: str, holds: str
) -> None:
    """A frame with rows but no answer to the metric raises the one-process DataError (the
    metrics it holds summed over the partitions), not a NaN or a table without rows, with or
    without by= and period=."""
    import dask.dataframe as dd

    log = InteractionLog.from_arrays(
        [f"c{i}" for i in range(6)], [f"2024-0{i + 1}-01T00:00Z" for i in range(6)], [kind] * 6,
        metric=["nps" if kind == "survey" else None] * 6,
        score=[9, 10, 3, 7, 8, 10] if kind == "survey" else [None] * 6,
        region=["north", "south"] * 3,
    )  # fmt: skip
    with pytest.raises(DataError) as one:
        metrics.csat(log, **breakdown)
    with pytest.raises(DataError) as error:
        cxd.csat(dd.from_pandas(log.to_pandas(), npartitions=3), **breakdown)
    assert f"none of the 6 rows answers 'csat'; {holds}" in str(error.value)
    assert str(error.value).removeprefix("cxmodel.dask.") == str(one.value)
