"""The streaming engine's work on customers' states: released rows are ranked and taken in,
timers fall due in time order, firings are decided with their policies."""

from __future__ import annotations

import contextlib
import heapq
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Customer
from cxmodel.errors import StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, TriggerEngine, parse
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import TIMER, RuleRunner
from tests.triggers.helpers import (
    COLUMNAR,
    PER_ROW,
    FailingStore,
    assert_ids_queued,
    engine_of,
    epoch_us,
    evaluate_complete,
)

DAY = 86_400_000_000


def runner(text: str) -> RuleRunner:
    return RuleRunner(parse(text), {})


def row(customer: str, day: float, kind: str, **fields: Any) -> Row:
    return Row(customer, int(day * DAY), kind, {"kind": kind, **fields})


def fired(firings: list[Any]) -> list[tuple[str, str, str]]:
    return [(f.trigger, f.customer_id, f.time.date().isoformat()) for f in firings]


INACTIVE = "trigger idle:\n    when inactive for 2 days\n    emit nudge"
# the same with a payload: its state is kept in each customer's state, its timers each on the
# queue (without, the rule's state is held as columns: see test_timer_columns.py)
INACTIVE_KEPT = "trigger idle:\n    when inactive for 2 days\n    emit nudge(n = 1)"


class TestTimers:
    def test_three_rows_fire_the_inactivity_timers(self) -> None:
        """a at days 0 and 1, b at day 1: a's clock restarts at day 1 but its queue entry
        stays at day 2 (one entry per timer) and moves to day 3 when it comes up; both fire
        at day 3, a first (its timer was queued first)."""
        r = runner(INACTIVE_KEPT)
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
        r = runner(INACTIVE_KEPT)
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
        assert r.states["a"].rules["t"].waiting == () and r.timers == []
        # no `once` or `cooldown` reads the last emitted time, so it is not kept
        assert r.states["a"].rules["t"].last_emitted is None

    def test_last_emitted_is_kept_for_a_rule_that_reads_it(self) -> None:
        r = runner(
            "trigger t:\n    when purchase as p then after 2 days\n    emit x\n    cooldown 1 day"
        )
        r.release(row("a", 0, "purchase"))
        r.advance(2 * DAY, inclusive=True)
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
        assert r.consent_of(state, "marketing", "a", "Marketing ") is False

    def test_cooldown_suppresses(self) -> None:
        """Two purchases a day apart under 'cooldown 3 days': the second is suppressed."""
        r = runner("trigger t:\n    when purchase\n    emit x\n    cooldown 3 days")
        r.release(row("a", 0, "purchase"))
        r.release(row("a", 1, "purchase"))
        assert (len(r.emitted), len(r.suppressed)) == (1, 1)
        assert r.suppressed[0].reason

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from("ab"),
                st.integers(0, 40),
                st.sampled_from(["purchase", "view", "consent_granted", "consent_revoked"]),
                st.floats(0, 100),
            ),
            max_size=25,
        )
    )
    def test_suppressed_firings_unread_are_not_made(
        self, steps: list[tuple[str, int, str, float]]
    ) -> None:
        """A call that returns no suppressed firings does not make those its policies would
        suppress (:meth:`RuleRunner.stopped`); what it emits, and every customer's state,
        equal a runner's that makes and suppresses them."""
        text = "\n".join(
            [
                "trigger big:\n    when purchase as p where p.value > 30\n    emit x(v = p.value)"
                "\n    cooldown 5 days\n    requires consent marketing",
                "trigger later:\n    when purchase as p then after 2 days\n    emit y"
                "\n    once per customer every 10 days",
                "trigger idle:\n    when inactive for 3 days\n    emit z\n    cooldown 8 days",
                "trigger each:\n    when view\n    emit w\n    once per customer",
            ]
        )
        unread, read = runner(text), runner(text)
        unread.suppressed = None
        rows = sorted(steps, key=lambda step: step[1])
        for r in (unread, read):
            for cid, day, kind, value in rows:
                fields = {"purpose": "marketing"} if kind.startswith("consent") else {}
                r.release(row(cid, day, kind, value=value, **fields))
            r.advance(60 * DAY, inclusive=True)
        assert [f.to_dict() for f in unread.emitted] == [f.to_dict() for f in read.emitted]
        assert {c: s.to_dict() for c, s in unread.states.items()} == {
            c: s.to_dict() for c, s in read.states.items()
        }

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
        first = runner(INACTIVE_KEPT)
        first.release(row("a", 1, "view"))
        stored = CustomerState.from_dict("a", first.states["a"].to_dict())
        second = runner(INACTIVE_KEPT)
        second.states["a"] = stored
        second.schedule(stored)
        assert second.timers == [(3 * DAY, TIMER, 0, "a", "idle")]
        second.advance(3 * DAY, inclusive=True)
        assert fired(second.emitted) == [("idle", "a", "1970-01-04")]


class TestCalendarRestarts:
    """A calendar month can make a later restart fall due earlier: Jan 30 + 1 month and
    Jan 31 + 1 month are both Feb 29 (2024), so a restart at Jan 30 21:59 falls due at
    Feb 29 21:59 and one at Jan 31 05:15 at Feb 29 05:15."""

    TEXT = "trigger idle:\n    when no purchase for 1 months\n    emit nudge"

    @staticmethod
    def at(text: str) -> int:
        return epoch_us(datetime.fromisoformat(text))

    def test_restart_due_earlier_than_the_queued_entry_still_fires(self) -> None:
        """The earlier due time gets its own queue entry: the timer fires at Feb 29 05:15,
        not never (the entry at 21:59 found a timer due before it and was dropped)."""
        r = runner(self.TEXT)
        for text in ("2024-01-30T21:59:00+00:00", "2024-01-31T05:15:00+00:00"):
            r.release(Row("a", self.at(text), "purchase", {"kind": "purchase"}))
        r.advance(self.at("2024-03-10T00:00:00+00:00"), inclusive=True)
        assert [f.time.isoformat() for f in r.emitted] == ["2024-02-29T05:15:00+00:00"]

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(
        st.lists(
            st.tuples(st.integers(27 * 24 * 60, 31 * 24 * 60 - 1), st.booleans()),
            min_size=1,
            max_size=8,
        ),
        st.sampled_from(["no purchase for 1 months", "inactive for 1 months"]),
        st.sampled_from([None, "America/New_York", "Australia/Lord_Howe"]),
    )
    def test_month_end_restarts_equal_batch(
        self, minutes: list[tuple[int, bool]], when: str, zone: str | None
    ) -> None:
        """Interactions in the last days of January (purchases or views), in customer time
        or UTC: streaming, also restarted from a store after every interaction, emits
        exactly batch's firings."""
        text = f"trigger idle:\n    when {when}\n    emit nudge\n    in customer timezone"
        rules = parse(text)
        people = {"a": Customer("a", traits={} if zone is None else {"timezone": zone})}
        start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        recs = sorted(
            (
                {
                    "customer_id": "a",
                    "timestamp": (start + timedelta(minutes=m)).isoformat(),
                    "kind": "purchase" if bought else "view",
                }
                for m, bought in minutes
            ),
            key=lambda r: r["timestamp"],
        )
        as_of = "2024-04-01T00:00:00+00:00"
        batch = evaluate_complete(
            rules, InteractionLog.from_records(recs), as_of=as_of, customers=people
        )
        for restart in (False, True):
            store = InMemoryStore()
            engine = TriggerEngine(rules, store=store, customers=people, max_future=None)
            got = []
            for rec in recs:
                if restart:  # a new engine on the same store for every interaction
                    store.close()
                    engine = TriggerEngine(rules, store=store, customers=people, max_future=None)
                got += engine.process(rec)
            got += engine.advance_to(as_of)
            assert sorted(f.firing_id for f in got) == sorted(batch.ids()), restart


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=40), st.integers(-1, 21), st.integers(0, 45))
def test_timers_due_counts_as_a_scan_of_the_queue(dues: list[int], time: int, least: int) -> None:
    """Walking the heap through due entries alone says what counting every entry says."""
    runner = RuleRunner(parse("trigger t:\n    when view\n    emit x"), {})
    runner.timers = [(due, 0, j, "c", "t") for j, due in enumerate(dues)]
    heapq.heapify(runner.timers)
    assert runner.timers_due(time, least) == (sum(due <= time for due in dues) >= least)


class TestForgettingIds:
    """Interaction ids are forgotten by looking only at the customers who remember some
    (``RuleRunner.remembering``): every customer whose state holds ids must be among them,
    queued at or before their earliest id, whatever the calls, failed commits, restarts and
    erasures in between."""

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["one", "many", "advance", "fail", "restart", "forget"]),
                st.integers(0, 40),
            ),
            max_size=14,
        )
    )
    def test_every_customer_holding_ids_is_looked_at(self, steps: list[tuple[str, int]]) -> None:
        rules = parse(INACTIVE)
        store = FailingStore(InMemoryStore())
        path = COLUMNAR if len(steps) % 2 else PER_ROW
        engine = engine_of(rules, path, store=store, redelivery_window="6 hours")
        start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        clock = 0  # hours
        for j, (step, size) in enumerate(steps):
            recs = []
            for k in range(size):
                clock += 1
                recs.append({"customer_id": f"c{(j + k) % 5}", "kind": "view",
                             "timestamp": start + timedelta(hours=clock),
                             "interaction_id": f"e{clock}"})  # fmt: skip
            if step == "one":
                for rec in recs:
                    engine.process(rec)
            elif step == "many":
                engine.process_many(recs)
            elif step == "advance":
                engine.advance_to(start + timedelta(hours=clock))
            elif step == "fail":
                store.fail = 1
                with contextlib.suppress(StoreError):  # the commit fails: nothing changed
                    engine.process_many(recs)
                store.fail = 0
            elif step == "restart":
                store.close()
                engine = engine_of(rules, path, store=store, redelivery_window="6 hours")
            else:
                engine.forget(f"c{size % 5}")
            assert_ids_queued(engine)
