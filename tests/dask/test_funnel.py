"""funnel on Dask: partition states merge exactly in any tree, and the Dask funnel equals
the one-process funnel, warnings and errors included."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel import journey
from cxmodel.dask._funnel import FunnelPartial, funnel_partial, funnel_result
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import BAD_QUANTILES, assert_same, assert_same_error, merged, uneven
from tests.dask.worlds import (
    OnSmallWorld,
    shuffled_world_fixture,  # noqa: F401 (the module's world)
    split,
)

STEPS = ("view", "product_view", "add_to_cart", "purchase")
FUNNELS: list[dict[str, Any]] = [
    {},
    {"order": "strict", "by": "channel"},
    {"order": "any", "count": "totals", "window": "7d"},
    {"exclude": ["ticket_opened"], "by": "touchpoint", "quantiles": (0.0, 0.37, 1.0)},
    {"hold": "category", "step_windows": ["1d", None, "2d"]},
]


class TestPartials(OnSmallWorld):
    """The partitions' partial states, called directly (no scheduler), on a small world."""

    @pytest.mark.filterwarnings("ignore:funnel\\(hold=:cxmodel.errors.DataWarning")
    @settings(max_examples=25, deadline=None)
    @given(data=st.data(), kwargs=st.sampled_from(FUNNELS))
    def test_funnel_partials_merge_exactly(
        self, world: tuple[InteractionLog, Any], data: st.DataObject, kwargs: dict[str, Any]
    ) -> None:
        """Counts add, time samples concatenate, drop-offs and groups add by label: any
        partitioning and merge tree gives the one-process funnel."""
        options = {
            "order": kwargs.get("order", "loose"),
            "window": kwargs.get("window"),
            "step_windows": kwargs.get("step_windows"),
            "hold": kwargs.get("hold"),
            "count": kwargs.get("count", "customers"),
        }
        exclude = tuple(kwargs["exclude"]) if "exclude" in kwargs else None
        by = kwargs.get("by")
        partials = [funnel_partial(p, STEPS, exclude, options, by) for p in split(world, data)]
        state = merged(data, partials, FunnelPartial.merge)
        quantiles = kwargs.get("quantiles", (0.5, 0.9))
        got = funnel_result(state, STEPS, by is not None, quantiles)
        assert_same(got, journey.funnel(world[0], list(STEPS), **kwargs))


class TestFunnel:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"order": "strict"},
            {"order": "any", "count": "totals", "by": "channel"},
            {"count": "totals", "window": "7d"},
            {"step_windows": ["1d", None, "2d"], "quantiles": (0.0, 0.37, 1.0)},
            {"exclude": ["ticket_opened"], "by": "touchpoint"},
            {"hold": "category", "by": "value"},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            got = cxd.funnel(parts, STEPS, **kwargs)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            one = journey.funnel(world[0], STEPS, **kwargs)
        assert_same(got, one)
        # the world's category is missing on most steps' rows: both count them alike
        assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
        assert len(mine) == ("hold" in kwargs)

    def test_sessions_and_pair_steps(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        log = journey.sessions(world[0])
        rows = log.to_pandas().sample(frac=1.0, random_state=1).reset_index(drop=True)
        steps: list[Any] = [("touchpoint", "website"), "add_to_cart", "checkout"]
        one = journey.funnel(InteractionLog.from_pandas(rows), steps, count="sessions")
        got = cxd.funnel(uneven(rows, [5, 0, len(rows) - 5]), steps, count="sessions")
        assert_same(got, one)

    def test_checks_as_one_process(self, world: tuple[InteractionLog, Any], parts: Any) -> None:
        steps: list[Any] = ["view", ("touchpoint", "websit"), "refund"]
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            cxd.funnel(parts, steps)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            journey.funnel(world[0], steps)
        assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
        assert all(w.category is DataWarning for w in mine) and len(mine) == 2
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.funnel(parts, ["view", "purchse"])
        with pytest.raises(SchemaError, match="exclude"):
            cxd.funnel(parts, ["view"], exclude=["tiket_opened"])
        with pytest.raises(SchemaError, match="order"):
            cxd.funnel(parts, ["view"], order="sideways")
        with pytest.raises(SchemaError, match="column name"):
            cxd.funnel(parts, ["view"], by=["a"])
        late = ["view", "purchase"]
        with pytest.warns(DataWarning, match="every window runs past") as dask_warned:
            cxd.funnel(parts, late, window="3650d")
        with pytest.warns(DataWarning, match="every window runs past") as one_warned:
            journey.funnel(world[0], late, window="3650d")
        assert [str(w.message) for w in dask_warned] == [str(w.message) for w in one_warned]
        with pytest.raises(SchemaError, match="step 2 'purchase' is also in exclude"):
            cxd.funnel(parts, ["view", "purchase"], exclude=["purchase"])
        with pytest.raises(SchemaError, match="step 2 'view' repeats step 1"):
            cxd.funnel(parts, ["view", "view"], order="any")

    @pytest.mark.parametrize("quantiles", list(BAD_QUANTILES.values()), ids=list(BAD_QUANTILES))
    def test_bad_quantiles_as_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, quantiles: Any
    ) -> None:
        """Bad quantile levels raise the one-process error, naming the Dask function."""
        assert_same_error(
            lambda: journey.funnel(world[0], STEPS, quantiles=quantiles),
            lambda: cxd.funnel(parts, STEPS, quantiles=quantiles),
            "funnel",
        )
