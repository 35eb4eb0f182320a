"""The Dask adapter equals the one-shot cxmodel results on a LocalCluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

import dask.dataframe as dd
from distributed import Client, LocalCluster

from cxmodel import dask as cxd
from cxmodel import metrics, segment
from cxmodel.datasets import synthetic
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import MetricTable


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A two-worker in-process cluster on 127.0.0.1, closed after the module."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=":0",  # a free port: no clash with a cluster already running
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data() -> tuple[InteractionLog, Any]:
    """The synthetic log (300 customers) with a random ``region`` (some missing) and a
    5-partition Dask frame of it."""
    frame = synthetic(customers=300, seed=1).log.to_pandas()
    rng = np.random.default_rng(7)
    regions = np.array(["north", "south", "east", None], dtype=object)
    frame["region"] = regions[rng.integers(0, 4, len(frame))]
    log = InteractionLog.from_pandas(frame)
    return log, dd.from_pandas(log.to_pandas(), npartitions=5)


@pytest.fixture(scope="module")
def scattered(data: tuple[InteractionLog, Any]) -> Any:
    """The same rows in random order, so every customer is spread over several partitions."""
    frame = data[0].to_pandas().sample(frac=1.0, random_state=3).reset_index(drop=True)
    return dd.from_pandas(frame, npartitions=7)


def assert_tables_equal(a: MetricTable, b: MetricTable) -> None:
    """Same columns in the same order, same rows, equal values (NaN equal to NaN)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for name in a.columns:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x.tolist() == y.tolist(), name


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


class TestTreeMerge:
    @pytest.mark.parametrize("fan_in", [2, 3, 8])
    def test_sum_any_fan_in(self, fan_in: int) -> None:
        """Tree merging 0..29 with any fan-in sums to 435."""
        import dask

        parts = [dask.delayed(i) for i in range(30)]
        assert cxd.tree_merge(lambda a, b: a + b, parts, fan_in).compute(scheduler="sync") == 435

    @pytest.mark.parametrize(("parts", "fan_in"), [([], 8), ([1], 1)])
    def test_bad_input(self, parts: list[Any], fan_in: int) -> None:
        """No partials or fan_in < 2 raise SchemaError."""
        with pytest.raises(SchemaError):
            cxd.tree_merge(lambda a, b: a + b, parts, fan_in)


class TestRFM:
    @pytest.mark.parametrize("n_bins", [3, 5])
    def test_equals_one_shot(
        self, client: Client, data: tuple[InteractionLog, Any], n_bins: int
    ) -> None:
        """Two-phase RFM scores equal segment.rfm_scores on the whole log."""
        log, ddf = data
        as_of = "2024-10-01T00:00Z"
        expected = segment.rfm_scores(log, as_of=as_of, n_bins=n_bins)
        got = cxd.rfm_scores(ddf, as_of=as_of, n_bins=n_bins, fan_in=2)
        assert len(expected) > 50
        for key, value in expected.to_dict().items():
            np.testing.assert_array_equal(
                np.asarray(got.to_dict()[key]), np.asarray(value), err_msg=key
            )
        assert got.as_of == expected.as_of

    def test_mapping_renames_the_customer_column(
        self, client: Client, data: tuple[InteractionLog, Any]
    ) -> None:
        """A customer column under the user's name, with ``mapping``, gives the same scores."""
        log, ddf = data
        as_of = "2024-10-01T00:00Z"
        renamed = ddf.rename(columns={"customer_id": "user"})
        got = cxd.rfm_scores(renamed, as_of=as_of, mapping={"user": "customer_id"})
        expected = segment.rfm_scores(log, as_of=as_of)
        assert got.customer_id.tolist() == expected.customer_id.tolist()
        np.testing.assert_array_equal(got.m, expected.m)

    def test_bad_n_bins(self, client: Client, data: tuple[InteractionLog, Any]) -> None:
        """n_bins outside 2..100 raises SchemaError."""
        with pytest.raises(SchemaError, match="n_bins"):
            cxd.rfm_scores(data[1], as_of="2024-10-01T00:00Z", n_bins=1)

    def test_misspelt_kind_named_with_did_you_mean(
        self, client: Client, data: tuple[InteractionLog, Any]
    ) -> None:
        """A kind in neither the data nor the standard kinds raises instead of scoring nobody."""
        with pytest.raises(SchemaError, match=r"'purchse'.*did you mean 'purchase'\?"):
            cxd.rfm_scores(data[1], as_of="2024-10-01T00:00Z", kind="purchse")

    def test_kind_in_one_partition_only(self, client: Client) -> None:
        """A custom kind that some partitions lack is no typo: the union of kinds is checked."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "customer_id": ["a", "b", "c", "d"],
                "timestamp": pd.to_datetime(
                    ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], utc=True
                ),
                "kind": ["order", "view", "view", "order"],
                "value": [1.0, 0.0, 0.0, 1.0],
            }
        )
        ddf = dd.from_pandas(frame, npartitions=4)
        got = cxd.rfm_scores(ddf, as_of="2024-02-01T00:00Z", kind="order", n_bins=2)
        assert got.customer_id.tolist() == ["a", "d"]
        assert got.f.tolist() == [1, 1] and got.m.tolist() == [1, 1]  # equal: one shared score


def per_customer(log: InteractionLog) -> Any:
    """Rows, purchases and first/last time per customer (depends only on each customer)."""
    import pandas as pd

    counts = np.diff(log.offsets)
    purchases = np.bincount(
        log.customer_codes[log.kind_mask("purchase")], minlength=log.n_customers
    )
    return pd.DataFrame(
        {
            "customer_id": log.customers.astype(str),
            "rows": counts,
            "purchases": purchases,
            "first": log.timestamps[log.offsets[:-1]],
            "last": log.timestamps[log.offsets[1:] - 1],
        }
    )


class TestMapCustomers:
    def test_equals_whole_log(self, client: Client, data: tuple[InteractionLog, Any]) -> None:
        """Per-customer results over the shuffled frame equal the function on the whole log."""
        log, ddf = data
        expected = per_customer(log)
        got = cxd.map_customers(ddf, per_customer)
        assert len(expected) == log.n_customers
        assert got.to_dict("list") == expected.to_dict("list")

    def test_scattered_customers(
        self, client: Client, data: tuple[InteractionLog, Any], scattered: Any
    ) -> None:
        """With each customer's rows spread over partitions the shuffle still gives exact results."""
        expected = per_customer(data[0])
        got = cxd.map_customers(scattered, per_customer)
        assert got.to_dict("list") == expected.to_dict("list")

    def test_mapping_and_timezone(self, client: Client, data: tuple[InteractionLog, Any]) -> None:
        """Renamed columns and naive times are read as from_dask reads them: the customer
        column under its own name is the shuffle key, the times are in the given zone."""
        frame = data[0].to_pandas().sample(frac=1.0, random_state=5).reset_index(drop=True)
        frame = frame.rename(columns={"customer_id": "user", "kind": "event"})
        frame["timestamp"] = frame["timestamp"].dt.tz_convert("Asia/Tokyo").dt.tz_localize(None)
        mapping = {"user": "customer_id", "event": "kind"}
        log = InteractionLog.from_pandas(frame, mapping=mapping, timezone="Asia/Tokyo")
        got = cxd.map_customers(dd.from_pandas(frame, npartitions=4), per_customer,
                                mapping=mapping, timezone="Asia/Tokyo")  # fmt: skip
        assert got.to_dict("list") == per_customer(log).to_dict("list")
        assert got["first"].tolist() == per_customer(data[0])["first"].tolist()
        with pytest.raises(SchemaError, match="customer_id"):
            cxd.map_customers(dd.from_pandas(frame, npartitions=2), per_customer)

    def test_shuffled_partitions(self, client: Client, data: tuple[InteractionLog, Any]) -> None:
        """CustomerPartitions from from_dask are taken as they are (no second shuffle)."""
        parts = cxd.from_dask(data[1])
        got = cxd.map_customers(parts, per_customer)
        assert got.to_dict("list") == per_customer(data[0]).to_dict("list")


class TestScattered:
    def test_rfm(self, client: Client, data: tuple[InteractionLog, Any], scattered: Any) -> None:
        """RFM merges partials of the same customer from different partitions exactly."""
        as_of = "2024-12-31T00:00Z"
        expected = segment.rfm_scores(data[0], as_of=as_of)
        got = cxd.rfm_scores(scattered, as_of=as_of)
        for key, value in expected.to_dict().items():
            np.testing.assert_array_equal(
                np.asarray(got.to_dict()[key]), np.asarray(value), err_msg=key
            )

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


class TestLazyImport:
    def test_import_does_not_load_dask(self) -> None:
        """Importing cxmodel and cxmodel.dask leaves dask and distributed unimported."""
        import subprocess
        import sys

        code = (
            "import sys, cxmodel, cxmodel.dask; "
            "print(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False"
