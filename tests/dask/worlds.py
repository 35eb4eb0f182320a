"""Logs of the Dask tests that need data of their own (the shared ones are conftest fixtures):
a small log for the merge tests and a shuffled log with missing touchpoints, plus random
assignments of customers to partitions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from cxmodel.datasets import synthetic
from cxmodel.log import InteractionLog
from tests.dask.frames import customer_partitions, with_ties


def small_world() -> tuple[InteractionLog, Any]:
    """40 customers with tied instants and missing touchpoints; text columns as Python
    strings, so every partition has its own vocabulary; one ticket topic only one customer
    has (a customer-table column that most partitions lack)."""
    frame = with_ties(synthetic(customers=40, seed=8).log.to_pandas())
    text = [c for c in frame.columns if str(frame[c].dtype) == "category"]
    frame = frame.astype(dict.fromkeys(text, object))
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    opened = np.flatnonzero(frame["kind"].to_numpy() == "ticket_opened")
    frame.loc[opened[0], "topic"] = "rare"
    frame["sentiment"] = np.where(np.arange(len(frame)) % 4 == 0, np.nan, np.sin(len(frame)))
    return InteractionLog.from_pandas(frame), frame


def shuffled_world() -> tuple[InteractionLog, Any]:
    """The one-process log and its rows in random order, some touchpoints missing."""
    frame = synthetic(customers=150, seed=2).log.to_pandas()
    rows = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    rows["touchpoint"] = rows["touchpoint"].astype(object)
    rows.loc[rows.index[::17], "touchpoint"] = None
    return InteractionLog.from_pandas(rows), rows


@st.composite
def partitionings(draw: st.DrawFn, customers: list[str]) -> tuple[dict[str, int], int]:
    """An assignment of the customers to 1-6 partitions (some may stay empty)."""
    n = draw(st.integers(1, 6), label="partitions")
    parts = draw(st.lists(st.integers(0, n - 1), min_size=len(customers), max_size=len(customers)))
    return dict(zip(customers, parts, strict=True)), n


def split(world: tuple[InteractionLog, Any], data: st.DataObject) -> list[InteractionLog | None]:
    """The world's customers in a partitioning hypothesis draws."""
    log, rows = world
    part_of, n = data.draw(partitionings(log.customers.tolist()), label="partitioning")
    return customer_partitions(rows, part_of, n)


def tiny() -> Any:
    """Four customers: a and d view, b and c search, in that order of ids."""
    import pandas as pd

    return pd.DataFrame(
        {
            "customer_id": ["d", "c", "b", "a"],
            "timestamp": pd.to_datetime([0, 1, 2, 3], unit="s", utc=True),
            "kind": ["view", "search", "search", "view"],
            "channel": ["web", "app", "app", "web"],
        }
    )


@pytest.fixture(scope="module", name="world")
def shuffled_world_fixture() -> tuple[InteractionLog, Any]:
    """The shuffled log with missing touchpoints as a module's ``world`` (conftest's ``parts``
    splits it): import this fixture into a test module to use it."""
    return shuffled_world()


class OnSmallWorld:
    """Base of the classes that test the partitions' partial states, called directly (no
    scheduler), on the small world."""

    @pytest.fixture(scope="class")
    @classmethod
    def world(cls) -> tuple[InteractionLog, Any]:
        return small_world()
