"""from_dask and the whole-customer analyses equal the one-process results exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client
from hypothesis import given, settings
from hypothesis import strategies as st

import dask
from cxmodel import dask as cxd
from cxmodel import journey, metrics, models
from cxmodel.datasets import synthetic
from cxmodel.errors import DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.models import BetaGeo
from tests.dask.frames import assert_same, assert_same_table, uneven, with_ties


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """The one-process log and its rows in random order (every customer spread out)."""
    frame = with_ties(synthetic(customers=150, seed=2).log.to_pandas())
    log = InteractionLog.from_pandas(frame)
    rows = log.to_pandas().sample(frac=1.0, random_state=4).reset_index(drop=True)
    return InteractionLog.from_pandas(rows), rows


@pytest.fixture(scope="module")
def parts(world: tuple[InteractionLog, Any], client: Client) -> cxd.CustomerPartitions:
    """One shuffle of unevenly split partitions, two of them empty, shared by the tests."""
    rows = world[1]
    n = len(rows)
    sizes = [n // 2, 0, 7, n // 5, 0, 1, n - n // 2 - n // 5 - 8]
    return cxd.from_dask(uneven(rows, sizes))


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


class TestWholeCustomerAnalyses:
    @pytest.mark.parametrize(
        "kwargs", [{}, {"as_of": "2024-09-30", "freq": "W"}, {"freq": "M", "value": "nope"}]
    )
    def test_rfm_summary(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        got = cxd.rfm_summary(parts, **kwargs)
        assert_same(got, models.rfm_summary(world[0], **kwargs))

    def test_rfm_summary_fits_and_errors(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        got = cxd.rfm_summary(parts)
        a, b = BetaGeo().fit(got), BetaGeo().fit(models.rfm_summary(world[0]))
        assert a.params_ == b.params_
        with pytest.raises(SchemaError, match="purchse"):
            cxd.rfm_summary(parts, kind="purchse")
        with pytest.raises(DataError, match="no 'refund'"):
            cxd.rfm_summary(parts, kind="refund")

    def test_rfm_summary_from_a_frame(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        got = cxd.rfm_summary(uneven(world[1], [10, len(world[1]) - 10]), freq="W")
        assert_same(got, models.rfm_summary(world[0], freq="W"))

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"level": "touchpoint"},
            {"start_end": False, "quantiles": ()},
            {"quantiles": (0.0, 1.0, 0.37)},
        ],
    )
    def test_transitions(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        assert_same(cxd.transitions(parts, **kwargs), journey.transitions(world[0], **kwargs))

    def test_transitions_checks(self, parts: Any) -> None:
        with pytest.raises(SchemaError, match="quantiles"):
            cxd.transitions(parts, quantiles=(1.5,))
        with pytest.raises(SchemaError, match="level"):
            cxd.transitions(parts, level="nope")

    @pytest.mark.parametrize("inactivity", ["30d", "90d"])
    def test_customer_lifetimes(
        self, world: tuple[InteractionLog, Any], parts: Any, inactivity: str
    ) -> None:
        got = cxd.customer_lifetimes(parts, "2024-08-01T00:00Z", inactivity=inactivity)
        assert_same(
            got, metrics.customer_lifetimes(world[0], "2024-08-01T00:00Z", inactivity=inactivity)
        )

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"period": "week", "as_of": "2024-05-01T00:00Z"},
            {"kinds": ("purchase", "ticket_opened"), "timezone": "Asia/Tokyo"},
            {"as_of": "2023-01-01T00:00Z"},
        ],
    )
    def test_cohort_retention(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        assert_same(
            cxd.cohort_retention(parts, **kwargs), metrics.cohort_retention(world[0], **kwargs)
        )

    def test_cohort_kind_typo(self, parts: Any) -> None:
        with pytest.raises(SchemaError, match="purchse"):
            cxd.cohort_retention(parts, kinds=("purchse",))


class TestCustomerTable:
    @pytest.mark.parametrize("as_of", ["2024-12-31T00:00Z", "2024-03-01T00:00Z"])
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, as_of: str
    ) -> None:
        """Every customer, column, value and dtype, in customer order; no log travels."""
        got = cxd.customer_table(parts, as_of=as_of)
        assert_same_table(got, world[0].customers_table(as_of))
        assert got.log is None

    def test_from_a_frame_and_errors(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        """A frame is shuffled for the call; a naive as_of raises before any work."""
        got = cxd.customer_table(
            uneven(world[1], [0, 50, len(world[1]) - 50]), as_of="2024-06-30T00:00Z"
        )
        assert_same_table(got, world[0].customers_table("2024-06-30T00:00Z"))
        with pytest.raises(SchemaError, match="time zone"):
            cxd.customer_table(world[1], as_of="2024-06-30")


@pytest.fixture(scope="module")
def small() -> tuple[InteractionLog, Any]:
    """A small world (30 customers) for the in-process property tests."""
    frame = with_ties(synthetic(customers=30, seed=8).log.to_pandas())
    rows = InteractionLog.from_pandas(frame).to_pandas()
    return InteractionLog.from_pandas(rows), rows


@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_any_partitioning_merges_exactly(
    small: tuple[InteractionLog, Any], data: st.DataObject
) -> None:
    """Random row order and random partition sizes (empty ones included): the transition and
    cohort states merge to the one-process result."""
    frame = small[1]
    seed = data.draw(st.integers(0, 2**16), label="seed")
    n_parts = data.draw(st.integers(1, 9), label="partitions")
    cuts = sorted(
        data.draw(st.lists(st.integers(0, len(frame)), min_size=n_parts - 1, max_size=n_parts - 1))
    )
    sizes = np.diff([0, *cuts, len(frame)]).tolist()
    rows = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    log = InteractionLog.from_pandas(rows)  # ties are ordered by input position
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(rows, sizes))
        fan_in = data.draw(st.integers(2, 4), label="fan_in")
        assert_same(cxd.transitions(parts, fan_in=fan_in), journey.transitions(log))
        assert_same(
            cxd.transitions(parts, level="touchpoint", fan_in=fan_in),
            journey.transitions(log, level="touchpoint"),
        )
        assert_same(cxd.cohort_retention(parts, fan_in=fan_in), metrics.cohort_retention(log))
        assert_same(cxd.rfm_summary(parts), models.rfm_summary(log))


def test_all_partitions_empty(small: tuple[InteractionLog, Any]) -> None:
    empty = small[1].iloc[:0]
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(empty, [0, 0]))
        assert len(cxd.customer_lifetimes(parts, "2024-01-01T00:00Z").customers) == 0
        assert cxd.cohort_retention(parts).counts.shape == (0, 0)
        assert cxd.transitions(parts).counts.tolist() == [[0, 0], [0, 0]]
        empty_table = cxd.customer_table(parts, as_of="2024-01-01T00:00Z")
        assert len(empty_table) == 0 and empty_table.column("monetary").dtype == np.float64
        with pytest.raises(DataError):
            cxd.rfm_summary(parts)
