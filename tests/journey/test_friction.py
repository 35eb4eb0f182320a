"""Known-answer tests of friction()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey import friction
from tests.journey.helpers import log_of

DAY = 86_400


class TestFriction:
    def test_exit_self_loop_backtrack(self) -> None:
        """Hand-counted exits, self-loops and back-tracks, ranked by exits."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "search"),
            ("a", 2, "search"),
            ("a", 3, "view"),  # back-track search -> view (seen before)
            ("b", 0, "search"),
            ("b", 1, "view"),
        ]
        f = friction(log_of(rows), errors=())
        table = {lab: i for i, lab in enumerate(f.labels.tolist())}
        assert f.labels.tolist() == ["view", "search"]
        s, v = table["search"], table["view"]
        assert f.exits[v] == 2 and f.exit_rate[v] == pytest.approx(2 / 3)
        assert f.self_loop_rate[s] == pytest.approx(1 / 3)
        assert f.backtrack_rate[s] == pytest.approx(1 / 3)
        assert f.backtrack_rate[v] == 0.0

    def test_rates_of_a_label_nothing_follows_are_nan(self) -> None:
        """'purchase' always ends the journey: its self-loop, back-track and slow rates have
        no event to be a share of (NaN, not 0); the error label has no non-error event, so
        its near-error rate and lift are NaN too."""
        rows = [
            ("a", 0, "view"),
            ("a", 1, "error"),
            ("a", 2, "view"),
            ("a", 3, "purchase"),
            ("b", 0, "view"),
            ("b", 9, "purchase"),
        ]
        f = friction(log_of(rows), errors=["error"], error_steps=1)
        row = dict(zip(f.labels.tolist(), range(len(f.labels)), strict=True))
        p, e, v = row["purchase"], row["error"], row["view"]
        assert f.exit_rate[p] == 1.0
        assert np.isnan([f.self_loop_rate[p], f.backtrack_rate[p], f.slow_rate[p]]).all()
        assert np.isnan(f.near_error_rate[e]) and np.isnan(f.error_lift[e])
        assert f.near_error_rate[v] == pytest.approx(1 / 3)
        assert f.near_error_rate[p] == 0.0 and f.backtrack_rate[e] == 1.0

    def test_slow_edges(self) -> None:
        """Gaps above the quantile threshold count as slow for their source label."""
        rows = [("a", 0, "view"), ("a", 1, "search"), ("a", 2, "view"), ("a", 1000, "purchase")]
        f = friction(log_of(rows), slow_quantile=0.5, errors=())
        table = dict(zip(f.labels.tolist(), f.slow_rate.tolist(), strict=True))
        assert f.slow_seconds == 1.0
        assert table["view"] == 0.5 and table["search"] == 0.0

    def test_repeated_contacts_with_key(self) -> None:
        """A contact repeated within the window about the same order counts once as repeated."""
        rows = [
            ("a", 0, "ticket_opened"),
            ("a", 2 * DAY, "call"),
            ("a", 20 * DAY, "call"),
            ("b", 0, "ticket_opened"),
            ("b", 1, "ticket_opened"),
        ]
        order = ["o1", "o1", "o1", "o2", "o3"]
        f = friction(
            log_of(rows, order_id=order), repeat_key="order_id", repeat_window="7d", errors=()
        )
        assert f.contacts["ticket_opened"]["contacts"] == 3.0
        assert f.contacts["ticket_opened"]["repeated"] == 1.0  # a's ticket, then a call on o1
        assert f.contacts["call"]["repeated"] == 0.0
        g = friction(log_of(rows, order_id=order), repeat_window="7d", errors=())
        assert g.contacts["ticket_opened"]["repeated"] == 2.0
        assert len(g.to_pandas()) == 2 and "contacts" in g.to_dict()

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"slow_quantile": 1.5}, "slow_quantile"),
            ({"repeat_window": "x"}, "repeat_window"),
            ({"error_steps": 0}, "error_steps"),
            ({"error_window": "soon"}, "error_window"),
            ({"rank_by": "pain"}, "rank_by"),
            ({"slow_seconds": -1.0}, "slow_seconds"),
        ],
        ids=["quantile", "repeat-window", "error-steps", "error-window", "rank-by", "slow-s"],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        """Bad options raise SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=match):
            friction(log_of([("a", 0, "view")]), **kwargs)  # type: ignore[arg-type]


ERROR_ROWS = [
    ("a", 0, "view"),
    ("a", 10, "checkout"),
    ("a", 20, "payment_failed"),
    ("a", 30, "checkout"),
    ("a", 4000, "payment_failed"),
    ("b", 0, "view"),
    ("b", 5, "search"),
    ("b", 6, "checkout"),
    ("b", 7, "purchase"),
]


class TestErrorProximity:
    def test_counts_rate_and_lift_within_steps(self) -> None:
        """Within 2 steps: a's view (2 before) and both checkouts (1 before) are near an error;
        b has none. Non-error events 7, near 3: base rate 3/7. checkout 2/3 (lift 14/9),
        view 1/2 (lift 7/6), search and purchase 0."""
        f = friction(log_of(ERROR_ROWS), error_steps=2, rank_by="near_error")
        assert f.n_errors == 2
        assert f.labels.tolist()[:2] == ["checkout", "view"]
        pts = f.error_points()
        assert pts["label"] == ["checkout", "view"]
        assert pts["near_error"] == [2, 1]
        assert pts["near_error_rate"] == pytest.approx([2 / 3, 1 / 2])
        assert pts["error_lift"] == pytest.approx([14 / 9, 7 / 6])

    def test_numpy_integer_error_steps(self) -> None:
        """``error_steps`` computed with numpy (``np.int64``) acts as an int."""
        f = friction(log_of(ERROR_ROWS), error_steps=np.int64(2), rank_by="near_error")
        g = friction(log_of(ERROR_ROWS), error_steps=2, rank_by="near_error")
        assert f.error_points() == g.error_points()

    def test_time_window_and_one_step(self) -> None:
        """With a 60 s window the checkout at 30 (error 3970 s later) no longer counts, so
        view (1/2) outranks checkout (1/3) on lift; with one step the view (two events
        before the error) drops too."""
        f = friction(log_of(ERROR_ROWS), error_steps=None, error_window="60s")
        assert f.error_points()["near_error"] == [1, 1]
        assert f.error_points()["label"] == ["view", "checkout"]
        g = friction(log_of(ERROR_ROWS), error_steps=1)
        assert g.error_points()["label"] == ["checkout"]
        assert g.error_points()["near_error"] == [2]

    def test_no_error_events_gives_empty_table(self) -> None:
        """A log without the default error kinds says so: a warning, zero errors, NaN lifts."""
        with pytest.warns(DataWarning, match=r"none of the default error kinds .* errors=\(\)"):
            f = friction(log_of([("a", 0, "view"), ("a", 1, "search")]))
        assert f.n_errors == 0
        assert f.error_points() == {
            "label": [],
            "events": [],
            "near_error": [],
            "near_error_rate": [],
            "error_lift": [],
        }
        assert np.isnan(f.error_lift).all() and f.to_dict()["n_errors"] == 0

    def test_error_as_column_value(self) -> None:
        """A (column, value) pair defines the error, e.g. a late delivery."""
        rows = [
            ("a", 0, "checkout"),
            ("a", 1, "delivery"),
            ("b", 0, "checkout"),
            ("b", 1, "delivery"),
        ]
        f = friction(log_of(rows, late=["no", "yes", "no", "no"]), errors=[("late", "yes")])
        assert f.errors == ("late=yes",)
        assert f.n_errors == 1
        assert f.error_points()["label"] == ["checkout"]
        assert f.error_points()["near_error"] == [1]

    def test_fixed_slow_threshold(self) -> None:
        """slow_seconds replaces the quantile threshold."""
        rows = [("a", 0, "view"), ("a", 10, "search"), ("a", 100, "view")]
        f = friction(log_of(rows), slow_seconds=50.0, errors=())
        assert f.slow_seconds == 50.0
        assert dict(zip(f.labels.tolist(), f.slow_rate.tolist(), strict=True)) == {
            "search": 1.0,
            "view": 0.0,
        }


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("ab"),
            st.integers(0, 100),
            st.sampled_from(["view", "checkout", "error", "search"]),
        ),
        min_size=1,
        max_size=30,
    ),
    steps=st.one_of(st.none(), st.integers(1, 4)),
)
def test_error_proximity_matches_python(
    rows: list[tuple[str, int, str]], steps: int | None
) -> None:
    """Near-error counts equal a direct scan of each journey."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1], i))
    journeys: dict[str, list[str]] = {}
    for i in order:
        journeys.setdefault(rows[i][0], []).append(rows[i][2])
    expected: dict[str, int] = {}
    for j in journeys.values():
        for p, kind in enumerate(j):
            if kind == "error":
                continue
            later = [q for q in range(p + 1, len(j)) if j[q] == "error"]
            if later and (steps is None or later[0] - p <= steps):
                expected[kind] = expected.get(kind, 0) + 1
    errors = ["error"] if any(r[2] == "error" for r in rows) else []  # no "error" kind: a typo
    f = friction(log_of(rows), errors=errors, error_steps=steps)
    got = {lab: c for lab, c in zip(f.labels.tolist(), f.near_error.tolist(), strict=True) if c}
    assert got == expected
