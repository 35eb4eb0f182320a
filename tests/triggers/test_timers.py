"""DueTimes against a plain array of due times."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.triggers._timers import NOT_DUE, DueTimes

codes = st.lists(st.integers(0, 5000), max_size=20)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("lower"), codes, st.integers(0, 100)),
        st.tuples(st.just("clear"), codes, st.just(0)),
        st.tuples(st.just("all"), st.just([]), st.integers(0, 100)),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(steps, st.integers(0, 100))
def test_due_equals_a_plain_array(ops: list[tuple[str, list[int], int]], frontier: int) -> None:
    timers = DueTimes()
    plain = np.full(6000, NOT_DUE, dtype=np.int64)
    size = 0
    for op, which, time in ops:
        at = np.asarray(which, dtype=np.int64)
        if op == "lower":
            timers.lower(at, np.full(len(at), time))
            np.minimum.at(plain, at, time)
            size = max([size, *(c + 1 for c in which)])
        elif op == "clear":
            at = at[at < size]
            timers.clear(at)
            plain[at] = NOT_DUE
        else:
            timers.lower_all(size, time)
            plain[:size] = np.minimum(plain[:size], time)
        for f in (frontier, time):
            assert timers.due(f).tolist() == np.flatnonzero(plain <= f).tolist()


def test_nothing_due_at_start() -> None:
    assert DueTimes().due(NOT_DUE - 1).tolist() == []
