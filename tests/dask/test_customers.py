"""Per-customer work over a Dask frame (RFM scores, map_customers) equals the one-shot results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

import dask.dataframe as dd
from distributed import Client

from cxmodel import dask as cxd
from cxmodel import segment
from cxmodel.errors import DataError, SchemaError
from cxmodel.log import InteractionLog

IN_PROCESS = True


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


def test_rfm_scores_naive_timestamps_with_timezone() -> None:
    """Naive timestamps are read in ``timezone`` as the one-process reader reads them (the
    refusal told the user to pass timezone=, which rfm_scores did not take)."""
    import pandas as pd

    import dask

    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c"],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-03"]),
            "kind": "purchase",
            "value": [10.0, 20.0, 5.0, 1.0],
        }
    )
    ddf = dd.from_pandas(frame, npartitions=2)
    log = InteractionLog.from_pandas(frame, timezone="Europe/Paris")
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(SchemaError, match="has no time zone; pass timezone="):
            cxd.rfm_scores(ddf, as_of="2024-02-01T00:00Z")
        got = cxd.rfm_scores(ddf, as_of="2024-02-01T00:00Z", timezone="Europe/Paris")
    expected = segment.rfm_scores(log, as_of="2024-02-01T00:00Z")
    for key, value in expected.to_dict().items():
        np.testing.assert_array_equal(np.asarray(got.to_dict()[key]), np.asarray(value))


def test_rfm_scores_as_of_before_the_data(client: Client, data: tuple[InteractionLog, Any]) -> None:
    """An ``as_of`` before the first interaction is refused, as in one process (it returned
    an empty table: nobody had bought yet, so no customer had a score)."""
    log, ddf = data
    with pytest.raises(DataError, match="before the log's first interaction") as one:
        segment.rfm_scores(log, as_of="2020-01-01T00:00Z")
    with pytest.raises(DataError) as error:
        cxd.rfm_scores(ddf, as_of="2020-01-01T00:00Z")
    assert str(error.value) == str(one.value).replace("rfm_scores()", "cxmodel.dask.rfm_scores()")
