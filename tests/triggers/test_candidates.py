"""Batch candidates: row bounds, tie ranks, firing order, and the candidates of each kind of
rule on logs small enough to work out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np

from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from cxmodel.triggers._candidates import (
    cancellations,
    firing_order,
    rule_candidates,
    tie_rank_of,
    upper_bound,
)
from cxmodel.triggers._context import LogContext

SEC = 1_000_000  # microseconds
DAY = 86_400 * SEC
AS_OF = 30 * DAY


def context(
    customers: list[str], days: list[float], kinds: list[str], **columns: Any
) -> LogContext:
    """The evaluation context of a log with times given in days since the epoch."""
    seconds = [d * 86_400 for d in days]
    return LogContext(InteractionLog.from_arrays(customers, seconds, kinds, **columns))


def rule(text: str) -> Any:
    return parse(f"trigger t:\n    {text}\n    emit x")["t"]


def fields(c: Any) -> dict[str, list[int]]:
    return {
        "cust": c.cust.tolist(),
        "time": c.time.tolist(),
        "anchor": c.anchor.tolist(),
        "end": c.end.tolist(),
        "matched": c.matched.tolist(),
    }


class TestUpperBound:
    def test_one_past_the_last_row_at_or_before(self) -> None:
        """Rows a@0, a@0, a@1, b@0 (days): for a, 'at or before' -1/0/0.5/9 days ends at
        rows 0/2/2/3; for b, before and at day 0 end at rows 3 and 4."""
        ctx = context(["a", "a", "a", "b"], [0, 0, 1, 0], ["view"] * 4)
        cust = np.array([0, 0, 0, 0, 1, 1])
        times = np.array([-DAY, 0, DAY // 2, 9 * DAY, -1, 0])
        expected = [0, 2, 2, 3, 3, 4]
        assert expected == upper_bound(ctx, cust, times).tolist()


class TestTieRankOf:
    def test_ranks_among_rows_at_the_same_time(self) -> None:
        """a@0 three times, a@1, b@1 twice: ranks 0 1 2 0 0 1, as the whole-log ranking."""
        ctx = context(["a", "a", "a", "a", "b", "b"], [0, 0, 0, 1, 1, 1], ["view"] * 6)
        rows = np.arange(6)
        expected = [0, 1, 2, 0, 0, 1]
        assert expected == tie_rank_of(ctx, rows).tolist()
        assert expected == ctx.tie_rank_at(rows).tolist()

    def test_some_rows_in_any_order(self) -> None:
        ctx = context(["a", "a", "a", "a", "b", "b"], [0, 0, 0, 1, 1, 1], ["view"] * 6)
        expected = [1, 2, 0, 0]
        assert expected == tie_rank_of(ctx, np.array([5, 2, 0, 3])).tolist()
        assert tie_rank_of(ctx, np.zeros(0, dtype=np.int64)).tolist() == []


class TestFiringOrder:
    def test_already_in_order(self) -> None:
        """By customer, then time, then anchoring row (ties in time kept by anchor)."""
        got = firing_order(np.array([0, 0, 0, 1]), np.array([1, 2, 2, 0]), np.array([0, 1, 2, 3]))
        assert got.tolist() == [0, 1, 2, 3]

    def test_sorted_when_out_of_order(self) -> None:
        """Customer 1 before customer 0, and a later anchor first at the same time."""
        got = firing_order(np.array([1, 0, 0, 0]), np.array([0, 5, 5, 2]), np.array([9, 4, 3, 7]))
        assert got.tolist() == [3, 2, 1, 0]

    def test_none_and_one(self) -> None:
        empty = np.zeros(0, dtype=np.int64)
        assert firing_order(empty, empty, empty).tolist() == []
        assert firing_order(np.array([3]), np.array([1]), np.array([0])).tolist() == [0]


class TestRuleCandidates:
    def test_event(self) -> None:
        """'when purchase': one candidate at each purchase, ending at it, nothing matched."""
        ctx = context(["a", "a", "b"], [0, 1, 2], ["purchase", "view", "purchase"])
        expected = {
            "cust": [0, 1],
            "time": [0, 2 * DAY],
            "anchor": [0, 2],
            "end": [0, 2],
            "matched": [-1, -1],
        }
        assert expected == fields(rule_candidates(ctx, rule("when purchase"), AS_OF))

    def test_inactive(self) -> None:
        """'inactive for 2 days' with a at days 0, 1, 5 and b at day 0, as of day 6: a's gap
        after day 1 fires at day 3, b's at day 2; day 0 is followed within 2 days, and day 5's
        timer (day 7) is not due."""
        ctx = context(["a", "a", "a", "b"], [0, 1, 5, 0], ["view"] * 4)
        got = rule_candidates(ctx, rule("when inactive for 2 days"), 6 * DAY)
        expected = {
            "cust": [0, 1],
            "time": [3 * DAY, 2 * DAY],
            "anchor": [1, 3],
            "end": [1, 3],
            "matched": [-1, -1],
        }
        assert expected == fields(got)
        assert not got.restart

    def test_then_within(self) -> None:
        """'view then purchase within 2 days': the view at day 0 is completed by the
        purchase at day 1; the one at day 3 is not (the next purchase is at day 6)."""
        ctx = context(["a"] * 4, [0, 1, 3, 6], ["view", "purchase", "view", "purchase"])
        got = rule_candidates(ctx, rule("when view as v then purchase within 2 days"), AS_OF)
        expected = {"cust": [0], "time": [DAY], "anchor": [0], "end": [1], "matched": [1]}
        assert expected == fields(got)

    def test_then_after_unless(self) -> None:
        """'purchase then after 7 days unless survey': the survey at day 3 cancels the
        purchase of day 0; the purchase of day 10 fires at day 17, seeing rows up to 2."""
        ctx = context(["a"] * 3, [0, 3, 10], ["purchase", "survey", "purchase"])
        r = rule("when purchase as p then after 7 days\n    unless survey")
        expected = {"cust": [0], "time": [17 * DAY], "anchor": [2], "end": [2], "matched": [-1]}
        assert expected == fields(rule_candidates(ctx, r, AS_OF))
        assert cancellations(ctx, r, AS_OF) == [(0, 1)]

    def test_absent(self) -> None:
        """'no purchase for 5 days' with a purchase at day 0 and a view at day 2, as of day
        20: the clock starts at the first interaction (day 0), is not restarted by the view,
        and fires at day 5 as a restart candidate."""
        ctx = context(["a", "a"], [0, 2], ["purchase", "view"])
        got = rule_candidates(ctx, rule("when no purchase for 5 days"), 20 * DAY)
        expected = {"cust": [0], "time": [5 * DAY], "anchor": [0], "end": [1], "matched": [-1]}
        assert expected == fields(got)
        assert got.restart

    def test_no_cancellations_for_other_rules(self) -> None:
        ctx = context(["a"], [0], ["purchase"])
        assert cancellations(ctx, rule("when purchase"), AS_OF) == []
