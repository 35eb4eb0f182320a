"""The whole-customer analyses equal the one-process results exactly."""

from __future__ import annotations

import warnings
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
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.models import BetaGeo
from tests.dask.frames import assert_same, uneven, with_ties


class TestWholeCustomerAnalyses:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"as_of": "2024-09-30T00:00Z", "freq": "W"},
            {"freq": "M"},
            {"freq": "D", "timezone": "America/New_York"},
        ],
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
        with pytest.raises(SchemaError, match="'nope' is not in the log"):
            cxd.rfm_summary(parts, value="nope")
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

    def test_customer_lifetimes_checks_as_of_over_every_partition(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        with pytest.raises(DataError, match=r"customer_lifetimes\(\): as_of 2019"):
            cxd.customer_lifetimes(parts, "2019-01-01T00:00Z")
        early = "2024-01-08T00:00Z"  # some partitions' customers have not come yet
        assert_same(
            cxd.customer_lifetimes(parts, early), metrics.customer_lifetimes(world[0], early)
        )
        later = "2025-03-01T00:00Z"  # after the data: the same count of customers made churned
        with pytest.warns(DataWarning) as got:
            lifetimes = cxd.customer_lifetimes(parts, later)
        with pytest.warns(DataWarning) as want:
            expected = metrics.customer_lifetimes(world[0], later)
        assert_same(lifetimes, expected)
        assert [str(w.message).split(": ", 1)[1] for w in got] == [
            str(w.message).split(": ", 1)[1] for w in want
        ]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"period": "week", "as_of": "2024-05-01T00:00Z"},
            {"kinds": ("purchase", "ticket_opened"), "timezone": "Asia/Tokyo"},
            {"as_of": "2025-03-01T00:00Z"},
        ],
    )
    def test_cohort_retention(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = cxd.cohort_retention(parts, **kwargs)
            want = metrics.cohort_retention(world[0], **kwargs)
        assert_same(got, want)
        # an as_of after the data warns alike (the months it declares observed, counted)
        messages = [str(w.message).split(": ", 1)[1] for w in caught]
        assert len(messages) in (0, 2) and len(set(messages)) <= 1

    def test_cohort_as_of_before_the_data(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        for run in (cxd.cohort_retention, metrics.cohort_retention):
            with pytest.raises(DataError, match="as_of 2023-01-01T00:00:00Z is before the log's"):
                run(parts if run is cxd.cohort_retention else world[0], as_of="2023-01-01T00:00Z")

    def test_cohort_kind_typo(self, parts: Any) -> None:
        with pytest.raises(SchemaError, match="purchse"):
            cxd.cohort_retention(parts, kinds=("purchse",))


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
