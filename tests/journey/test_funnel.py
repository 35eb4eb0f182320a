"""Known-answer tests of funnel() for every option."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.journey import compare_funnels, funnel, sessions
from cxmodel.log import InteractionLog


def _log(rows: list[tuple[str, int, str]], **extra: list[str]) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        **extra,
    )


STEPS = ["view", "add_to_cart", "purchase"]


class TestOrder:
    def test_loose_allows_other_events_between(self) -> None:
        """Loose order skips unrelated events between steps."""
        log = _log(
            [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "add_to_cart"), ("a", 3, "purchase")]
        )
        assert funnel(log, STEPS).counts.tolist() == [1, 1, 1]

    def test_strict_needs_adjacent_steps(self) -> None:
        """Strict order stops at the first unrelated event."""
        log = _log(
            [("a", 0, "view"), ("a", 1, "add_to_cart"), ("a", 2, "search"), ("a", 3, "purchase")]
        )
        assert funnel(log, STEPS, order="strict").counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, order="loose").counts.tolist() == [1, 1, 1]

    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # no purchase in the log
    def test_strict_uses_best_anchor(self) -> None:
        """A later step-1 occurrence can give the strict best run."""
        log = _log(
            [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "view"), ("a", 3, "add_to_cart")]
        )
        assert funnel(log, STEPS, order="strict").counts.tolist() == [1, 1, 0]

    def test_any_order(self) -> None:
        """Any order counts steps regardless of their sequence; loose does not."""
        log = _log([("a", 0, "purchase"), ("a", 1, "add_to_cart"), ("a", 2, "view")])
        assert funnel(log, STEPS, order="any").counts.tolist() == [1, 1, 1]
        assert funnel(log, STEPS, order="loose").counts.tolist() == [1, 0, 0]

    def test_ties_keep_input_order(self) -> None:
        """Two events at one instant follow input order: cart listed first is not after view."""
        log = _log([("a", 5, "add_to_cart"), ("a", 5, "view")])
        assert funnel(log, STEPS[:2]).counts.tolist() == [1, 0]
        log2 = _log([("a", 5, "view"), ("a", 5, "add_to_cart")])
        assert funnel(log2, STEPS[:2]).counts.tolist() == [1, 1]


class TestWindows:
    def test_window_over_whole_funnel(self) -> None:
        """The window runs from the anchor to every step, inclusive."""
        log = _log([("a", 0, "view"), ("a", 60, "add_to_cart"), ("a", 121, "purchase")])
        assert funnel(log, STEPS, window="2m").counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, window="121s").counts.tolist() == [1, 1, 1]

    def test_window_reanchors_on_later_entry(self) -> None:
        """A later step-1 event can start a run that fits the window (best entry)."""
        log = _log([("a", 0, "view"), ("a", 1000, "view"), ("a", 1010, "add_to_cart")])
        f = funnel(log, STEPS[:2], window="1m")
        assert f.counts.tolist() == [1, 1]
        assert f.time_to_step[0, 1] == 10.0

    def test_step_windows(self) -> None:
        """Per-step windows bound the gap between consecutive steps."""
        log = _log([("a", 0, "view"), ("a", 10, "add_to_cart"), ("a", 100, "purchase")])
        assert funnel(log, STEPS, step_windows=["1m", "1m"]).counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, step_windows=[None, "2m"]).counts.tolist() == [1, 1, 1]


class TestExcludeHoldCount:
    def test_exclude_breaks_attempt(self) -> None:
        """An exclusion event between steps ends the attempt."""
        log = _log([("a", 0, "view"), ("a", 1, "cancel"), ("a", 2, "add_to_cart")])
        assert funnel(log, STEPS[:2], exclude=["cancel"]).counts.tolist() == [1, 0]
        assert funnel(log, STEPS[:2]).counts.tolist() == [1, 1]

    def test_hold_property(self) -> None:
        """Held columns must match the anchor's value."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "add_to_cart"),
            ("b", 0, "view"),
            ("b", 1, "add_to_cart"),
        ]
        log = _log(rows, product=["x", "y", "x", "x"])
        assert funnel(log, STEPS[:2], hold="product").counts.tolist() == [2, 1]
        assert funnel(log, STEPS[:2]).counts.tolist() == [2, 2]

    def test_totals_vs_customers_vs_sessions(self) -> None:
        """Totals count every attempt; customers once; sessions once per session."""
        rows = [("a", 0, "view"), ("a", 10, "add_to_cart"), ("a", 10_000, "view"), ("b", 0, "view")]
        log = sessions(_log(rows), gap="30m")
        assert funnel(log, STEPS[:2], count="customers").counts.tolist() == [2, 1]
        assert funnel(log, STEPS[:2], count="totals").counts.tolist() == [3, 1]
        assert funnel(log, STEPS[:2], count="sessions").counts.tolist() == [3, 1]
        assert funnel(log, ["view", "view"], count="sessions").counts.tolist() == [3, 0]
        assert funnel(log, ["view", "view"], count="customers").counts.tolist() == [2, 1]

    def test_conversion_drop_off_and_by(self) -> None:
        """Conversion shares, next events after drop-off and a segment breakdown."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "search"),
            ("b", 0, "view"),
            ("b", 1, "add_to_cart"),
            ("c", 0, "view"),
        ]
        log = _log(rows, channel=["web", "web", "app", "app", "web"])
        f = funnel(log, STEPS[:2], by="channel")
        assert f.conversion.tolist() == pytest.approx([1.0, 1 / 3])
        assert f.step_conversion.tolist() == pytest.approx([1.0, 1 / 3])
        assert f.drop_off_next == ({"END": 1, "search": 1},)
        assert f.by_labels is not None and f.by_counts is not None
        assert dict(zip(f.by_labels, f.by_counts.tolist(), strict=True)) == {
            "app": [1, 1],
            "web": [2, 0],
        }
        assert f.conversion_low[1] < 1 / 3 < f.conversion_high[1]
        assert len(f.to_pandas()) == 2 and "by" in f.to_dict()

    def test_pair_steps(self) -> None:
        """(column, value) steps match on any string column."""
        log = _log([("a", 0, "view"), ("a", 1, "view")], touchpoint=["home", "pdp"])
        f = funnel(log, [("touchpoint", "home"), ("touchpoint", "pdp")])
        assert f.steps == ("touchpoint=home", "touchpoint=pdp")
        assert f.counts.tolist() == [1, 1]


class TestBadInput:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"order": "fuzzy"}, "order"),
            ({"count": "people"}, "count"),
            ({"window": "soon"}, "window"),
            ({"step_windows": ["1m"]}, "step_windows"),
            ({"order": "any", "step_windows": ["1m", "1m"]}, "step_windows"),
            ({"hold": "nope"}, "nope"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        """Bad options raise SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=match):
            funnel(_log([("a", 0, "view")]), STEPS, **kwargs)  # type: ignore[arg-type]

    def test_empty_steps_and_bad_step(self) -> None:
        """No steps or a malformed step raise."""
        with pytest.raises(SchemaError, match="steps"):
            funnel(_log([("a", 0, "view")]), [])
        with pytest.raises(SchemaError, match="step"):
            funnel(_log([("a", 0, "view")]), [("kind",)])  # type: ignore[list-item]


@pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # logs without some step kinds
@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("abc"), st.integers(0, 10**6), st.sampled_from([*STEPS, "search"])
        ),
        min_size=1,
        max_size=30,
        unique_by=lambda r: (r[0], r[1]),
    ),
    seed=st.integers(0, 2**16),
    order=st.sampled_from(["loose", "strict", "any"]),
)
def test_row_order_invariant_and_monotone(
    rows: list[tuple[str, int, str]], seed: int, order: str
) -> None:
    """Shuffling input rows (distinct times) changes nothing; counts never increase."""
    f = funnel(_log(rows), STEPS, order=order, window="3d")
    perm = np.random.default_rng(seed).permutation(len(rows))
    g = funnel(_log([rows[i] for i in perm]), STEPS, order=order, window="3d")
    assert f.counts.tolist() == g.counts.tolist()
    assert np.all(np.diff(f.counts) <= 0)


def _is_subsequence(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(any(x == y for y in it) for x in needle)


@pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # logs without some step kinds
@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from("abcd"), st.integers(0, 20), st.sampled_from([*STEPS, "search"])),
        min_size=1,
        max_size=40,
    )
)
def test_loose_equals_subsequence_definition(rows: list[tuple[str, int, str]]) -> None:
    """Without windows a customer reaches step k iff steps 1..k form a subsequence of the journey;
    strict iff they form a contiguous run."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
    journeys: dict[str, list[str]] = {}
    for i in order:
        journeys.setdefault(rows[i][0], []).append(rows[i][2])
    loose = [sum(_is_subsequence(STEPS[: k + 1], j) for j in journeys.values()) for k in range(3)]
    strict = [
        sum(
            any(j[s : s + k + 1] == STEPS[: k + 1] for s in range(len(j)))
            for j in journeys.values()
        )
        for k in range(3)
    ]
    assert funnel(_log(rows), STEPS).counts.tolist() == loose
    assert funnel(_log(rows), STEPS, order="strict").counts.tolist() == strict


class TestCompareFunnels:
    def test_difference_and_interval(self) -> None:
        """Segment A converts 2/2, B 1/2: difference 0.5 with an interval containing it."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "purchase"),
            ("b", 0, "view"),
            ("b", 1, "purchase"),
            ("c", 0, "view"),
            ("c", 1, "purchase"),
            ("d", 0, "view"),
        ]
        log = _log(rows)
        c = compare_funnels(
            log, ["view", "purchase"], log.customer_codes < 2, log.customer_codes >= 2
        )
        assert c.difference.tolist() == [0.0, 0.5]
        assert c.low[1] < 0.5 < c.high[1]
        assert len(c.to_pandas()) == 2 and "<table>" in c._repr_html_()

    def test_bad_mask(self) -> None:
        """Masks of the wrong shape raise."""
        log = _log([("a", 0, "view")])
        with pytest.raises(SchemaError, match="segment"):
            compare_funnels(log, ["view"], np.array([True, False]), np.array([True]))


class TestStepWindowBacktracking:
    def test_later_occurrence_of_a_step_is_used(self) -> None:
        """Cart at 10 is too early for purchase (window 30 s); the cart at 90 fits it.

        Greedy matching stopped at the cart at 10 and counted no purchase.
        """
        log = _log(
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
        log = _log(
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
        log = _log(
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
            _log(rows), STEPS, step_windows=[None, "30s"], window="99s"
        ).counts.tolist() == [
            1,
            1,
            0,
        ]
        rows_ex = [*rows[:2], ("a", 50, "cancel"), *rows[2:]]
        f = funnel(_log(rows_ex), STEPS, step_windows=[None, "30s"], exclude=["cancel"])
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
        assert funnel(_log(rows, product=product), STEPS, step_windows=sw).counts.tolist() == [
            1,
            1,
            1,
        ]
        held = funnel(_log(rows, product=product), STEPS, step_windows=sw, hold="product")
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
        f = funnel(_log(rows), STEPS, step_windows=["20s", "20s"], count="totals")
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
        _log(rows),
        STEPS,
        step_windows=[None if g is None else f"{g}s" for g in gaps],
        window=None if window is None else f"{window}s",
    )
    assert f.counts.tolist() == expected
