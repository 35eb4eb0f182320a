"""Every per-customer Dask analysis equals one process through ``from_dask`` on random input
partitionings that split customers over many partitions, and on partitions that are all empty.

The partial states of each analysis are tested against one process in the test file of its
module (``test_funnel.py``, ``test_paths.py``, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")

from hypothesis import given, settings
from hypothesis import strategies as st

import dask
from cxmodel import dask as cxd
from cxmodel import journey, triggers
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, assert_same_table, uneven
from tests.dask.worlds import shuffled_world, small_world

AS_OF = "2024-12-31T00:00Z"


STEPS = ("view", "product_view", "add_to_cart", "purchase")


RULES = triggers.parse(triggers.EXAMPLE_RULES)


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    return small_world()


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_from_any_input_partitioning(
    world: tuple[InteractionLog, Any], data: st.DataObject
) -> None:
    """Through from_dask (synchronous scheduler): random row order and partition sizes, so
    customers are split over many input partitions, some empty; every analysis equals one
    process."""
    rows = world[1]
    seed = data.draw(st.integers(0, 2**16), label="seed")
    n_parts = data.draw(st.integers(2, 9), label="partitions")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), min_size=n_parts - 1,
                                     max_size=n_parts - 1)))  # fmt: skip
    sizes = np.diff([0, *cuts, len(rows)]).tolist()
    shuffled = rows.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    log = InteractionLog.from_pandas(shuffled)  # ties are ordered by input position
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(shuffled, sizes))
        assert_same(cxd.paths(parts, top=4, by="channel"), journey.paths(log, top=4, by="channel"))
        assert_same(
            cxd.step_matrix(parts, anchor="purchase", steps=3),
            journey.step_matrix(log, anchor="purchase", steps=3),
        )
        assert_same(
            cxd.funnel(parts, STEPS, by="channel"), journey.funnel(log, STEPS, by="channel")
        )
        assert_same_table(cxd.customer_table(parts, as_of=AS_OF), log.customers_table(AS_OF))
        got = cxd.evaluate(RULES, parts, as_of=AS_OF)
        assert got.to_dict() == triggers.evaluate(RULES, log, as_of=AS_OF).to_dict()


class TestAllPartitionsEmpty:
    @pytest.fixture(scope="class")
    @classmethod
    def world(cls) -> tuple[InteractionLog, Any]:
        """The shuffled log with missing touchpoints (its columns and dtypes)."""
        return shuffled_world()

    def test_all_partitions_empty(self, world: tuple[InteractionLog, Any]) -> None:
        empty = world[1].iloc[:0]
        with dask.config.set(scheduler="synchronous"):
            parts = cxd.from_dask(uneven(empty, [0, 0]))
            f = cxd.funnel(parts, ["view", "purchase"], by="channel")
            assert f.counts.tolist() == [0, 0] and f.by_counts is not None
            assert f.by_counts.shape == (0, 2)
            assert (
                len(cxd.evaluate(triggers.parse(triggers.EXAMPLE_RULES), parts, as_of=AS_OF)) == 0
            )
            assert cxd.transitions(parts, by="channel").groups == ()
            assert cxd.paths(parts, by="channel").n_units == 0
            assert cxd.step_matrix(parts).counts.tolist() == [[0] * 10]
