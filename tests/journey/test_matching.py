"""Tests of loose-order funnel matching under per-step windows (earliest completion per step)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.journey import funnel
from cxmodel.journey._matching import earliest_steps, range_min
from tests.journey.helpers import STEPS, log_of


class TestStepWindowBacktracking:
    def test_later_occurrence_of_a_step_is_used(self) -> None:
        """Cart at 10 is too early for purchase (window 30 s); the cart at 90 fits it.

        Greedy matching stopped at the cart at 10 and counted no purchase.
        """
        log = log_of(
            [
                ("a", 0, "view"),
                ("a", 10, "add_to_cart"),
                ("a", 90, "add_to_cart"),
                ("a", 100, "purchase"),
            ]
        )
        f = funnel(log, STEPS, step_windows=[None, "30s"])
        assert f.counts.tolist() == [1, 1, 1]
        assert f.time_to_step[0].tolist() == [0.0, 10.0, 100.0]

    def test_later_anchor_within_the_same_attempt_chain(self) -> None:
        """Step 2 at 60 is only reachable from the view at 50 (window 20 s) and purchase then
        follows; the earliest cart still counts when it is the one in the chain."""
        log = log_of(
            [
                ("a", 0, "view"),
                ("a", 5, "search"),
                ("a", 50, "view"),
                ("a", 60, "add_to_cart"),
                ("a", 61, "purchase"),
            ]
        )
        f = funnel(log, STEPS, step_windows=["20s", "5s"])
        assert f.counts.tolist() == [1, 1, 1]
        assert f.time_to_step[0].tolist() == [0.0, 10.0, 11.0]

    def test_earliest_step_is_reported_when_both_fit(self) -> None:
        """With two carts that both lead to the purchase the time to cart is the earliest."""
        log = log_of(
            [
                ("a", 0, "view"),
                ("a", 10, "add_to_cart"),
                ("a", 20, "add_to_cart"),
                ("a", 25, "purchase"),
            ]
        )
        f = funnel(log, STEPS, step_windows=["1m", "1m"])
        assert f.time_to_step[0].tolist() == [0.0, 10.0, 25.0]

    def test_whole_window_and_exclusion_bound_the_chain(self) -> None:
        """The later cart needed by the step window falls after the whole-funnel window, and
        an exclusion before it ends the attempt."""
        rows = [
            ("a", 0, "view"),
            ("a", 10, "add_to_cart"),
            ("a", 90, "add_to_cart"),
            ("a", 100, "purchase"),
        ]
        assert funnel(
            log_of(rows), STEPS, step_windows=[None, "30s"], window="99s"
        ).counts.tolist() == [
            1,
            1,
            0,
        ]
        rows_ex = [*rows[:2], ("a", 50, "cancel"), *rows[2:]]
        f = funnel(log_of(rows_ex), STEPS, step_windows=[None, "30s"], exclude=["cancel"])
        assert f.counts.tolist() == [1, 1, 0]


class TestStepWindowOptions:
    def test_hold_keeps_the_chain_on_one_product(self) -> None:
        """The cart at 90 is for another product, so with hold the purchase is not reached;
        without hold it is."""
        rows = [
            ("a", 0, "view"),
            ("a", 10, "add_to_cart"),
            ("a", 90, "add_to_cart"),
            ("a", 100, "purchase"),
        ]
        product = ["p", "p", "q", "p"]
        sw = [None, "30s"]
        assert funnel(log_of(rows, product=product), STEPS, step_windows=sw).counts.tolist() == [
            1,
            1,
            1,
        ]
        held = funnel(log_of(rows, product=product), STEPS, step_windows=sw, hold="product")
        assert held.counts.tolist() == [1, 1, 0]

    def test_totals_count_every_anchor(self) -> None:
        """Two views: the second anchors a chain to the purchase within 20 s steps, the first
        only reaches the cart (which is 40 s after it: too late)."""
        rows = [
            ("a", 0, "view"),
            ("a", 30, "view"),
            ("a", 40, "add_to_cart"),
            ("a", 50, "purchase"),
        ]
        f = funnel(log_of(rows), STEPS, step_windows=["20s", "20s"], count="totals")
        assert f.counts.tolist() == [2, 1, 1]
        assert f.drop_off_next == ({"view": 1}, {})


def _best_depth_brute_force(
    journey: list[tuple[int, str]],
    steps: list[str],
    gaps: list[int | None],
    window: int | None,
) -> int:
    """Deepest step any chain reaches, by enumerating every chain (reference)."""
    best = 0

    def extend(pos: int, depth: int, anchor_t: int) -> None:
        nonlocal best
        best = max(best, depth)
        if depth == len(steps):
            return
        for nxt in range(pos + 1, len(journey)):
            t_n, kind = journey[nxt]
            gap = gaps[depth - 1]
            if kind != steps[depth]:
                continue
            if gap is not None and t_n - journey[pos][0] > gap:
                continue
            if window is not None and t_n - anchor_t > window:
                continue
            extend(nxt, depth + 1, anchor_t)

    for i, (t_i, kind) in enumerate(journey):
        if kind == steps[0]:
            extend(i, 1, t_i)
    return best


@pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # logs without some step kinds
@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("abc"), st.integers(0, 60), st.sampled_from([*STEPS, "search"])),
        min_size=1,
        max_size=25,
    ),
    gaps=st.lists(st.one_of(st.none(), st.integers(1, 20)), min_size=2, max_size=2),
    window=st.one_of(st.none(), st.integers(1, 40)),
)
def test_step_windows_match_brute_force(
    rows: list[tuple[str, int, str]], gaps: list[int | None], window: int | None
) -> None:
    """With per-step and whole-funnel windows, every customer's depth equals the deepest chain
    found by enumerating all chains."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
    journeys: dict[str, list[tuple[int, str]]] = {}
    for i in order:
        journeys.setdefault(rows[i][0], []).append((rows[i][1], rows[i][2]))
    depths = [_best_depth_brute_force(j, STEPS, gaps, window) for j in journeys.values()]
    expected = [sum(d >= k + 1 for d in depths) for k in range(3)]
    f = funnel(
        log_of(rows),
        STEPS,
        step_windows=[None if g is None else f"{g}s" for g in gaps],
        window=None if window is None else f"{window}s",
    )
    assert f.counts.tolist() == expected


class TestRangeMin:
    def test_hand_computed_ranges(self) -> None:
        """min of [5, 3] is 3, of [3, 8, 1, 9] is 1, an empty range gives the filler."""
        values = np.array([5, 3, 8, 1, 9], dtype=np.int64)
        out = range_min(values, np.array([0, 1, 2, 4, 0]), np.array([2, 5, 2, 5, 5]), 99)
        assert out.tolist() == [3, 1, 99, 9, 1]

    def test_all_ranges_empty(self) -> None:
        """Only empty ranges: every answer is the filler."""
        out = range_min(np.array([1, 2], dtype=np.int64), np.array([1, 2]), np.array([1, 2]), -7)
        assert out.tolist() == [-7, -7]

    @settings(max_examples=50, deadline=None)
    @given(
        values=st.lists(st.integers(-100, 100), min_size=1, max_size=40),
        bounds=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=20),
    )
    def test_equals_python_min(self, values: list[int], bounds: list[tuple[int, int]]) -> None:
        """Every query equals ``min(values[lo:hi])`` (the filler when empty)."""
        n = len(values)
        lo = [min(a, n) for a, _ in bounds]
        hi = [max(min(b, n), lo_) for (_, b), lo_ in zip(bounds, lo, strict=True)]
        expected = [min(values[a:b], default=1000) for a, b in zip(lo, hi, strict=True)]
        out = range_min(np.array(values, dtype=np.int64), np.array(lo, dtype=np.int64),
                        np.array(hi, dtype=np.int64), 1000)  # fmt: skip
        assert expected == out.tolist()


class TestEarliestSteps:
    def test_chains_stay_in_their_group(self) -> None:
        """Rows 0-2 are group 0 (view, cart, buy), rows 3-4 group 1 (view, buy): the group-1
        view reaches no cart, so its later steps are -1 although group 0 has a cart."""
        kinds = np.array(["view", "cart", "buy", "view", "buy"])
        masks = [kinds == "view", kinds == "cart", kinds == "buy"]
        group = np.array([0, 0, 0, 1, 1], dtype=np.int64)
        t = np.array([0, 10, 20, 0, 5], dtype=np.int64)
        out = earliest_steps(masks, group, t, np.array([0, 3], dtype=np.int64), [None, None])
        assert out.tolist() == [[0, 3], [1, -1], [2, -1]]

    def test_gap_bounds_each_step(self) -> None:
        """The cart 10 s after the view fits a 10 s gap, not a 9 s gap."""
        kinds = np.array(["view", "cart"])
        masks = [kinds == "view", kinds == "cart"]
        group = np.zeros(2, dtype=np.int64)
        t = np.array([0, 10], dtype=np.int64)
        anchors = np.array([0], dtype=np.int64)
        assert earliest_steps(masks, group, t, anchors, [10]).tolist() == [[0], [1]]
        assert earliest_steps(masks, group, t, anchors, [9]).tolist() == [[0], [-1]]

    def test_no_anchors_or_no_steps(self) -> None:
        """Empty inputs give an empty answer of the right shape."""
        group = np.zeros(2, dtype=np.int64)
        masks = [np.ones(2, dtype=bool)] * 2
        none = np.zeros(0, dtype=np.int64)
        assert earliest_steps(masks, group, group, none, [None]).shape == (2, 0)
        assert earliest_steps([], group, group, np.array([0]), []).shape == (0, 1)
