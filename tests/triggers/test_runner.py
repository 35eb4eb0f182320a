"""The streaming engine's work on customers' states: released rows are ranked and taken in,
timers fall due in time order, firings are decided with their policies."""

from __future__ import annotations

from typing import Any

from cxmodel.triggers import parse
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import TIMER, RuleRunner

DAY = 86_400_000_000


def runner(text: str) -> RuleRunner:
    return RuleRunner(parse(text), {}, remember_ids=30 * DAY)


def row(customer: str, day: float, kind: str, **fields: Any) -> Row:
    return Row(customer, int(day * DAY), kind, {"kind": kind, **fields})


def fired(firings: list[Any]) -> list[tuple[str, str, str]]:
    return [(f.trigger, f.customer_id, f.time.date().isoformat()) for f in firings]


INACTIVE = "trigger idle:\n    when inactive for 2 days\n    emit nudge"


class TestTimers:
    def test_three_rows_fire_the_inactivity_timers(self) -> None:
        """a at days 0 and 1, b at day 1: a's clock restarts at day 1 but its queue entry
        stays at day 2 (one entry per timer) and moves to day 3 when it comes up; both fire
        at day 3, a first (its timer was queued first)."""
        r = runner(INACTIVE)
        for x in (row("a", 0, "view"), row("a", 1, "view"), row("b", 1, "view")):
            r.release(x)
        assert r.emitted == []
        assert sorted(r.timers) == [
            (2 * DAY, TIMER, 0, "a", "idle"),
            (3 * DAY, TIMER, 2, "b", "idle"),
        ]
        r.advance(3 * DAY, inclusive=False)
        assert r.emitted == []
        assert sorted(r.timers) == [
            (3 * DAY, TIMER, 0, "a", "idle"),
            (3 * DAY, TIMER, 2, "b", "idle"),
        ]
        r.advance(3 * DAY, inclusive=True)
        assert fired(r.emitted) == [("idle", "a", "1970-01-04"), ("idle", "b", "1970-01-04")]
        assert r.timers == []

    def test_a_later_row_passes_due_timers_first(self) -> None:
        """Releasing a row at day 5 first fires the timer due at day 3."""
        r = runner(INACTIVE)
        r.release(row("a", 1, "view"))
        r.release(row("a", 5, "view"))
        assert fired(r.emitted) == [("idle", "a", "1970-01-04")]
        assert r.states["a"].rules["idle"].timer is not None
        assert r.states["a"].rules["idle"].timer.due == 7 * DAY

    def test_timer_firing_is_decided_in_the_same_advance(self) -> None:
        """'purchase then after 2 days': at day 2 the timer finds the firing, which waits as
        a decision for day 2 and is decided before the advance returns."""
        r = runner("trigger t:\n    when purchase as p then after 2 days\n    emit x")
        r.release(row("a", 0, "purchase"))
        assert r.timers == [(2 * DAY, TIMER, 0, "a", "t")]
        r.advance(2 * DAY, inclusive=True)
        assert fired(r.emitted) == [("t", "a", "1970-01-03")]
        assert r.states["a"].rules["t"].waiting == [] and r.timers == []
        assert r.states["a"].rules["t"].last_emitted == 2 * DAY

    def test_then_within_runs_out(self) -> None:
        """'view then purchase within 1 days': a purchase after two days completes nothing;
        the anchor is dropped when its window ends."""
        r = runner("trigger t:\n    when view as v then purchase within 1 days\n    emit x")
        r.release(row("a", 0, "view"))
        assert list(r.states["a"].rules["t"].anchors) == [0]
        r.release(row("a", 2, "purchase"))
        assert r.emitted == [] and r.states["a"].rules["t"].anchors == {}


class TestRelease:
    def test_release_numbers_and_tie_ranks(self) -> None:
        """Rows are numbered in release order; rows of a customer at the same time are
        ranked 0, 1, ...; a new time starts again at 0."""
        r = runner(INACTIVE)
        rows = [row("a", 0, "view"), row("a", 0, "view"), row("b", 0, "view"), row("a", 1, "view")]
        for x in rows:
            r.release(x)
        assert [(x.seq, x.rank) for x in rows] == [(0, 0), (1, 1), (2, 0), (3, 0)]
        assert (r.states["a"].last_time, r.states["a"].tie_count) == (DAY, 1)
        assert r.touched == {"a", "b"}

    def test_immediate_rule_fires_on_release(self) -> None:
        r = runner("trigger t:\n    when purchase as p where p.value > 10\n    emit thanks")
        r.release(row("a", 0, "purchase", value=5.0))
        r.release(row("a", 1, "purchase", value=50.0))
        assert fired(r.emitted) == [("t", "a", "1970-01-02")]

    def test_consent_events(self) -> None:
        """A grant then a revocation of 'Marketing ' sets the case-folded purpose; a
        revocation without a purpose revokes every purpose."""
        r = runner(INACTIVE)
        r.release(row("a", 0, "consent_granted", purpose="Marketing "))
        assert r.states["a"].consent == {"marketing": True}
        r.release(row("a", 1, "consent_revoked"))
        state = r.states["a"]
        assert (state.consent, state.consent_default) == ({}, False)
        assert r.consent(state, "marketing") is False

    def test_cooldown_suppresses(self) -> None:
        """Two purchases a day apart under 'cooldown 3 days': the second is suppressed."""
        r = runner("trigger t:\n    when purchase\n    emit x\n    cooldown 3 days")
        r.release(row("a", 0, "purchase"))
        r.release(row("a", 1, "purchase"))
        assert (len(r.emitted), len(r.suppressed)) == (1, 1)
        assert r.suppressed[0].reason

    def test_rollback_copies(self) -> None:
        """With ``before`` set, the first touch of a customer keeps its earlier state (None
        for a new customer, a copy otherwise)."""
        r = runner(INACTIVE)
        r.release(row("a", 0, "view"))
        r.touched, r.before = set(), {}
        r.release(row("a", 1, "view"))
        r.release(row("b", 1, "view"))
        kept = r.before["a"]
        assert isinstance(kept, CustomerState) and kept.last_time == 0
        assert r.before["b"] is None


class TestSchedule:
    def test_stored_state_goes_back_on_the_queue(self) -> None:
        """A state read back from its dict puts its timer and waiting firings on a new
        runner's queue."""
        first = runner(INACTIVE)
        first.release(row("a", 1, "view"))
        stored = CustomerState.from_dict("a", first.states["a"].to_dict())
        second = runner(INACTIVE)
        second.states["a"] = stored
        second.schedule(stored)
        assert second.timers == [(3 * DAY, TIMER, 0, "a", "idle")]
        second.advance(3 * DAY, inclusive=True)
        assert fired(second.emitted) == [("idle", "a", "1970-01-04")]
