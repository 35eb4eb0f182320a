"""step_matrix on Dask: rows of the same label add for any partitioning, every category
has a row, and the Dask matrix equals the one-process matrix."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel import journey
from cxmodel.dask._step_matrix import merge_step_matrices, step_matrix_of, step_matrix_partial
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, customer_partitions, merged
from tests.dask.worlds import (
    OnSmallWorld,
    shuffled_world_fixture,  # noqa: F401 (the module's world)
    split,
    tiny,
)

STEP_MATRICES: list[dict[str, Any]] = [
    {"steps": 4},
    {"anchor": "purchase", "steps": 3, "by": "channel"},
    {"level": "touchpoint", "anchor": ("touchpoint", "website"), "steps": 2, "by": "touchpoint"},
]


class TestPartials(OnSmallWorld):
    """The partitions' partial states, called directly (no scheduler), on a small world."""

    @settings(max_examples=20, deadline=None)
    @given(data=st.data(), kwargs=st.sampled_from(STEP_MATRICES))
    def test_step_matrix_partials_merge_exactly(
        self, world: tuple[InteractionLog, Any], data: st.DataObject, kwargs: dict[str, Any]
    ) -> None:
        """Rows of the same label add: any partitioning gives the one-process matrix, with a row
        for every category even when a partition lacks it."""
        anchor, steps, level, by = (
            kwargs.get("anchor"),
            kwargs["steps"],
            kwargs.get("level", "kind"),
            kwargs.get("by"),
        )
        partials = [step_matrix_partial(p, anchor, steps, level, by) for p in split(world, data)]
        state = merged(data, partials, merge_step_matrices)
        got = step_matrix_of(state, steps, anchor is not None, by is not None)
        assert_same(got, journey.step_matrix(world[0], **kwargs))


class TestStepMatrix:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"steps": 4},
            {"anchor": "add_to_cart", "steps": 3, "by": "channel"},
            {"level": "touchpoint", "anchor": ("touchpoint", "website"), "by": "touchpoint"},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        """Every row label, step, count and share, per group too."""
        assert_same(cxd.step_matrix(parts, **kwargs), journey.step_matrix(world[0], **kwargs))

    def test_checks_as_one_process(self, parts: Any) -> None:
        """A misspelt anchor kind raises with a did-you-mean; bad steps raise."""
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.step_matrix(parts, anchor="purchse")
        with pytest.raises(SchemaError, match="steps"):
            cxd.step_matrix(parts, steps=0)
        with pytest.warns(DataWarning, match="no customer is anchored"):
            assert cxd.step_matrix(parts, anchor="refund").n_units == 0


def test_group_matrices_show_every_category() -> None:
    """The 'web' customers never search, and their partition has no 'search' rows: the
    group's matrix still has a 'search' row, as in one process."""
    rows = tiny()
    logs = customer_partitions(rows, {"a": 0, "d": 0, "b": 1, "c": 1}, 2)
    partials = [step_matrix_partial(p, None, 2, "kind", "channel") for p in logs]
    got = step_matrix_of(merge_step_matrices(*partials), 2, False, True)
    assert got.group("web").labels.tolist() == ["search", "view", "END"]
    one = journey.step_matrix(InteractionLog.from_pandas(rows), steps=2, by="channel")
    assert_same(got, one)
