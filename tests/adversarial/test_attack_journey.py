"""Attacks on the journey views (funnels, paths, step matrices, transitions, sessions,
friction): each test is an input that gave a silent wrong answer or a raw exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel import journey
from cxmodel.errors import ValueTypeError
from cxmodel.log import InteractionLog


def _log() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a", "a", "a", "b", "b"],
        timestamp=[0, 10, 20, 0, 5],
        kind=["view", "search", "purchase", "view", "search"],
    )


FLAGS: list[tuple[str, Callable[..., Any], str]] = [
    ("sessions", journey.sessions, "overwrite"),
    ("transitions", journey.transitions, "start_end"),
    ("transitions", journey.transitions, "by_session"),
    ("paths", journey.paths, "collapse_repeats"),
    ("paths", journey.paths, "by_session"),
]


@pytest.mark.parametrize(("where", "view", "name"), FLAGS)
@pytest.mark.parametrize("value", ["no", "False", 0, None, np.array([False])])
def test_a_flag_that_is_not_a_bool_is_refused(
    where: str, view: Callable[..., Any], name: str, value: object
) -> None:
    # start_end="no" used to be truthy: START and END edges added without a word
    with pytest.raises(ValueTypeError, match=f"{where}\\(\\): {name} must be True or False"):
        view(_log(), **{name: value})


def test_numpy_bools_are_flags() -> None:
    counts = journey.transitions(_log(), start_end=np.bool_(False)).counts  # type: ignore[arg-type]
    assert counts.tolist() == [[0, 0, 0], [1, 0, 0], [0, 2, 0]]


@pytest.mark.parametrize(
    "steps",
    [{"view", "purchase"}, frozenset({"view", "purchase"}), {"view": 1, "purchase": 2}.keys()],
)
def test_funnel_steps_without_an_order_are_refused(steps: object) -> None:
    # a set's order follows string hashing: ('view', 'purchase') -> [2, 1] in one run,
    # ('purchase', 'view') -> [1, 0] in another
    with pytest.raises(ValueTypeError, match=r"funnel\(\): steps must be .* in order"):
        journey.funnel(_log(), steps)  # type: ignore[arg-type]
    with pytest.raises(ValueTypeError, match=r"compare_funnels\(\): steps must be .* in order"):
        mask = np.ones(5, dtype=bool)
        journey.compare_funnels(_log(), steps, mask, mask)  # type: ignore[arg-type]


def test_dask_funnel_steps_without_an_order_are_refused() -> None:
    pytest.importorskip("dask")
    from cxmodel import dask as cxd

    with pytest.raises(ValueTypeError, match=r"cxmodel.dask.funnel\(\): steps must be"):
        cxd.funnel(None, {"view", "purchase"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "name"),
    [
        ("transitions", "start_end"),
        ("transitions", "by_session"),
        ("paths", "collapse_repeats"),
        ("paths", "by_session"),
    ],
)
def test_dask_flags_that_are_not_bools_are_refused(view: str, name: str) -> None:
    pytest.importorskip("dask")
    from cxmodel import dask as cxd

    with pytest.raises(ValueTypeError, match=f"{name} must be True or False"):
        getattr(cxd, view)(None, **{name: "no"})
