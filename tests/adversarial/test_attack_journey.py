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
