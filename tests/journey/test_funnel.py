"""Known-answer tests of funnel() for every option."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey import funnel, sessions
from tests.journey.helpers import STEPS, log_of


class TestOrder:
    def test_loose_allows_other_events_between(self) -> None:
        """Loose order skips unrelated events between steps."""
        log = log_of(
            [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "add_to_cart"), ("a", 3, "purchase")]
        )
        assert funnel(log, STEPS).counts.tolist() == [1, 1, 1]

    def test_strict_needs_adjacent_steps(self) -> None:
        """Strict order stops at the first unrelated event."""
        log = log_of(
            [("a", 0, "view"), ("a", 1, "add_to_cart"), ("a", 2, "search"), ("a", 3, "purchase")]
        )
        assert funnel(log, STEPS, order="strict").counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, order="loose").counts.tolist() == [1, 1, 1]

    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # no purchase in the log
    def test_strict_uses_best_anchor(self) -> None:
        """A later step-1 occurrence can give the strict best run."""
        log = log_of(
            [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "view"), ("a", 3, "add_to_cart")]
        )
        assert funnel(log, STEPS, order="strict").counts.tolist() == [1, 1, 0]

    def test_any_order(self) -> None:
        """Any order counts steps regardless of their sequence; loose does not."""
        log = log_of([("a", 0, "purchase"), ("a", 1, "add_to_cart"), ("a", 2, "view")])
        assert funnel(log, STEPS, order="any").counts.tolist() == [1, 1, 1]
        assert funnel(log, STEPS, order="loose").counts.tolist() == [1, 0, 0]

    def test_ties_keep_input_order(self) -> None:
        """Two events at one instant follow input order: cart listed first is not after view."""
        log = log_of([("a", 5, "add_to_cart"), ("a", 5, "view")])
        assert funnel(log, STEPS[:2]).counts.tolist() == [1, 0]
        log2 = log_of([("a", 5, "view"), ("a", 5, "add_to_cart")])
        assert funnel(log2, STEPS[:2]).counts.tolist() == [1, 1]


class TestWindows:
    def test_window_over_whole_funnel(self) -> None:
        """The window runs from the anchor to every step, inclusive."""
        log = log_of([("a", 0, "view"), ("a", 60, "add_to_cart"), ("a", 121, "purchase")])
        assert funnel(log, STEPS, window="2m").counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, window="121s").counts.tolist() == [1, 1, 1]

    def test_window_reanchors_on_later_entry(self) -> None:
        """A later step-1 event can start a run that fits the window (best entry)."""
        log = log_of([("a", 0, "view"), ("a", 1000, "view"), ("a", 1010, "add_to_cart")])
        f = funnel(log, STEPS[:2], window="1m")
        assert f.counts.tolist() == [1, 1]
        assert f.time_to_step[0, 1] == 10.0

    def test_window_past_the_data_for_every_attempt_warns(self) -> None:
        """A 3-minute window on 121 seconds of data: no attempt's window closed, and the
        customer who did not reach the purchase is counted in the warning; the counts stand."""
        log = log_of([*zip("aaab", (0, 60, 100, 121), (*STEPS, "view"), strict=True)])
        with pytest.warns(DataWarning, match="the 1 of 2 units that did not reach the last step"):
            f = funnel(log, STEPS, window="3m")
        assert f.counts.tolist() == [2, 1, 1]

    def test_window_closed_for_some_attempt_or_everyone_converted_is_quiet(self) -> None:
        """No warning when the earliest anchor's window ends within the data, or when every
        unit reached the last step."""
        log = log_of([*zip("aaab", (0, 60, 100, 121), (*STEPS, "view"), strict=True)])
        assert funnel(log, STEPS, window="121s").counts.tolist() == [2, 1, 1]
        only_a = [True, True, True, False]
        assert funnel(log, STEPS, window="1h", segment=only_a).counts.tolist() == [1, 1, 1]

    def test_step_windows(self) -> None:
        """Per-step windows bound the gap between consecutive steps."""
        log = log_of([("a", 0, "view"), ("a", 10, "add_to_cart"), ("a", 100, "purchase")])
        assert funnel(log, STEPS, step_windows=["1m", "1m"]).counts.tolist() == [1, 1, 0]
        assert funnel(log, STEPS, step_windows=[None, "2m"]).counts.tolist() == [1, 1, 1]


class TestExcludeHoldCount:
    def test_exclude_breaks_attempt(self) -> None:
        """An exclusion event between steps ends the attempt."""
        log = log_of([("a", 0, "view"), ("a", 1, "cancel"), ("a", 2, "add_to_cart")])
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
        log = log_of(rows, product=["x", "y", "x", "x"])
        assert funnel(log, STEPS[:2], hold="product").counts.tolist() == [2, 1]
        assert funnel(log, STEPS[:2]).counts.tolist() == [2, 2]

    def test_hold_counts_later_steps_lacking_the_value(self) -> None:
        """A held column missing on a step's rows stops units there (missing matches only
        missing), and a DataWarning counts those rows instead of a quiet conversion of 0."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "add_to_cart"),
            ("b", 0, "view"),
            ("b", 1, "add_to_cart"),
        ]
        log = log_of(rows, product=["x", None, "y", "y"])
        with pytest.warns(DataWarning, match=r"hold='product'\): 1 of 4 rows"):
            assert funnel(log, STEPS[:2], hold="product").counts.tolist() == [2, 1]

    def test_totals_vs_customers_vs_sessions(self) -> None:
        """Totals count every attempt; customers once; sessions once per session."""
        rows = [("a", 0, "view"), ("a", 10, "add_to_cart"), ("a", 10_000, "view"), ("b", 0, "view")]
        log = sessions(log_of(rows), gap="30m")
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
        log = log_of(rows, channel=["web", "web", "app", "app", "web"])
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
        log = log_of([("a", 0, "view"), ("a", 1, "view")], touchpoint=["home", "pdp"])
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
            funnel(log_of([("a", 0, "view")]), STEPS, **kwargs)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("steps", "kwargs", "match"),
        [
            (["view", "purchase"], {"exclude": ["purchase"]}, "step 2 'purchase' is also in"),
            (["view", "cart"], {"exclude": [("kind", "cart")]}, "step 2 'cart' is also in"),
            (["view", "cart"], {"order": "any", "exclude": ["view"]}, "step 1 'view' is also"),
            (["view", "view", "purchase"], {"order": "any"}, "step 2 'view' repeats step 1"),
        ],
        ids=["excluded-step", "excluded-as-pair", "any-excluded-anchor", "any-repeated-step"],
    )
    def test_steps_no_unit_could_reach(
        self, steps: list[str], kwargs: dict[str, object], match: str
    ) -> None:
        """A step that is also excluded (its event ends the attempt) and a step repeated with
        order='any' (one view matched both 'view' steps: [1, 1, 1] for a single view) raise
        instead of counting 0 or double-counting one event."""
        log = log_of([("a", 0, "view"), ("a", 1, "cart"), ("a", 2, "purchase")])
        with pytest.raises(SchemaError, match=match):
            funnel(log, steps, **kwargs)  # type: ignore[arg-type]

    def test_excluding_the_first_step_and_repeating_a_loose_step_still_count(self) -> None:
        """Excluding step 1 means 'without starting again'; loose steps may repeat (each is
        matched to an event of its own)."""
        log = log_of([("a", 0, "view"), ("a", 2, "purchase")])
        assert funnel(log, ["view", "purchase"], exclude=["view"]).counts.tolist() == [1, 1]
        assert funnel(log, ["view", "view", "purchase"]).counts.tolist() == [1, 0, 0]

    def test_empty_steps_and_bad_step(self) -> None:
        """No steps or a malformed step raise."""
        with pytest.raises(SchemaError, match="steps"):
            funnel(log_of([("a", 0, "view")]), [])
        with pytest.raises(SchemaError, match="step"):
            funnel(log_of([("a", 0, "view")]), [("kind",)])  # type: ignore[list-item]


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
    f = funnel(log_of(rows), STEPS, order=order, window="3d")
    perm = np.random.default_rng(seed).permutation(len(rows))
    g = funnel(log_of([rows[i] for i in perm]), STEPS, order=order, window="3d")
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
    assert funnel(log_of(rows), STEPS).counts.tolist() == loose
    assert funnel(log_of(rows), STEPS, order="strict").counts.tolist() == strict
