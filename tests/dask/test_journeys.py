"""transitions on Dask: edge counts and gap histograms merge in any tree, the quantile
selection is exact, and transitions(by=) equals the one-process result."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel import journey
from cxmodel.dask._journeys import transitions_of
from cxmodel.log import InteractionLog
from tests.dask.frames import BAD_QUANTILES, assert_same, assert_same_error, merged
from tests.dask.worlds import (
    OnSmallWorld,
    shuffled_world_fixture,  # noqa: F401 (the module's world)
    split,
)

TRANSITIONS: list[dict[str, Any]] = [
    {},
    {"level": "touchpoint", "quantiles": (0.0, 0.37, 1.0)},
    {"by": "channel", "start_end": False},
    {"by": "touchpoint", "level": "touchpoint", "quantiles": (0.5,)},
    {"quantiles": ()},
]


class TestPartials(OnSmallWorld):
    """The partitions' partial states, called directly (no scheduler), on a small world."""

    @settings(max_examples=25, deadline=None)
    @given(
        data=st.data(),
        kwargs=st.sampled_from(TRANSITIONS),
        budget=st.sampled_from([0, 3, 1 << 20]),
        refine_bits=st.integers(1, 12),
    )
    def test_transitions_merge_and_select_exactly(
        self,
        world: tuple[InteractionLog, Any],
        data: st.DataObject,
        kwargs: dict[str, Any],
        budget: int,
        refine_bits: int,
    ) -> None:
        """Edge counts and gap histograms merge in any tree; the selection rounds (exact fetches
        or refinements, whatever the budget) give the one-process quantiles, ties included."""
        logs = split(world, data)

        def run(partial: Any, merge: Any, args: tuple[Any, ...]) -> Any:
            return merged(data, [partial(log, *args) for log in logs], merge)

        options = (
            kwargs.get("level", "kind"),
            kwargs.get("start_end", True),
            False,
            kwargs.get("by"),
            kwargs.get("quantiles", (0.25, 0.5, 0.75, 0.9)),
        )
        got = transitions_of(run, *options, budget=budget, refine_bits=refine_bits)
        assert_same(got, journey.transitions(world[0], **kwargs))


class TestTransitionsBy:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"by": "touchpoint"},
            {"by": "touchpoint", "level": "touchpoint"},
            {"by": "value", "start_end": False},
            {"by": "channel", "quantiles": ()},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        assert_same(cxd.transitions(parts, **kwargs), journey.transitions(world[0], **kwargs))

    @pytest.mark.parametrize("quantiles", list(BAD_QUANTILES.values()), ids=list(BAD_QUANTILES))
    def test_bad_quantiles_as_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, quantiles: Any
    ) -> None:
        """Bad quantile levels raise the one-process error, naming the Dask function."""
        assert_same_error(
            lambda: journey.transitions(world[0], quantiles=quantiles),
            lambda: cxd.transitions(parts, quantiles=quantiles),
            "transitions",
        )
