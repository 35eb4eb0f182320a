"""Delivery in event time, on a runner without an engine: what is refused, ignored, late,
buffered and released, and the state a failed call puts back (see test_microbatch.py and
test_engine.py for the engine over whole streams)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.triggers import parse
from cxmodel.triggers._delivery import Delivery
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import RuleRunner

RULES = parse("trigger t:\n    when view as v\n    emit x")
HOUR = 3_600_000_000


def view(customer: str, hour: float, ident: str | None = None) -> Row:
    fields: dict[str, Any] = {"kind": "view"}
    if ident is not None:
        fields["interaction_id"] = ident
    return Row(customer, int(hour * HOUR), "view", fields)


def fired(runner: RuleRunner) -> list[tuple[str, int]]:
    return [(f.customer_id, int(f.time.timestamp() * 1_000_000) // HOUR) for f in runner.emitted]


def never() -> int:
    raise AssertionError("the clock is read only when max_future is set")


class TestTake:
    def test_in_order_rows_are_released_at_once(self) -> None:
        """Rows in time order, none ahead of the allowed lateness, go straight to the rules;
        the watermark is the latest time less the lateness."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(0, None)
        late, refused = delivery.take([view("a", 1), view("b", 2)], runner, never)
        assert (late, refused) == ([], [])
        assert fired(runner) == [("a", 1), ("b", 2)]
        assert (delivery.watermark, delivery.buffer) == (2 * HOUR, [])

    def test_out_of_order_rows_wait_in_the_buffer(self) -> None:
        """Within the lateness, rows are buffered and released in time order once the
        latest time seen less the lateness passes them."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(2 * HOUR, None)
        delivery.take([view("a", 5), view("b", 4)], runner, never)
        assert fired(runner) == [] and len(delivery.buffer) == 2
        delivery.take([view("c", 6.5)], runner, never)
        assert fired(runner) == [("b", 4)]
        delivery.close(10 * HOUR, runner)
        assert fired(runner) == [("b", 4), ("a", 5), ("c", 6)]
        assert delivery.buffer == [] and delivery.released == 10 * HOUR

    def test_late_duplicate_and_refused(self) -> None:
        """A row behind the watermark is late (with its reason), a re-delivered id is
        counted and ignored, a row too far ahead of the clock is refused."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(0, HOUR)
        delivery.take([view("a", 5, "1")], runner, lambda: 5 * HOUR)
        rows = [view("a", 5, "1"), view("a", 4), view("a", 7)]
        late, refused = delivery.take(rows, runner, lambda: 5 * HOUR)
        assert delivery.duplicates == 1
        assert [q.reason.split(" is ")[1][:10] for q in late] == ["before the"]
        assert refused[0].reason.startswith("refused: 1970-01-01T07:00:00+00:00 is more than")

    def test_ids_shared_further_apart_than_the_window_are_all_kept(self) -> None:
        """Two interactions under one id, further apart than the redelivery window, are both
        taken; once the earlier is released, the later still waits under that id, so that
        another interaction under it within the window is refused (not taken, and not late
        even behind the watermark: the id is checked first)."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(HOUR // 2, None, window=HOUR)
        delivery.take([view("a", 6.5, "x"), view("a", 4.9, "x")], runner, never)
        assert fired(runner) == [("a", 4)]
        assert delivery.buffered_ids == {("a", "x"): (int(6.5 * HOUR),)}
        late, refused = delivery.take([view("a", 6.2, "x"), view("a", 5.8, "x")], runner, never)
        assert late == []
        assert [q.reason.split(" at ")[1][:19] for q in refused] == ["1970-01-01T06:30:00"] * 2
        delivery.close(10 * HOUR, runner)
        assert fired(runner) == [("a", 4), ("a", 6)] and delivery.buffered_ids == {}

    def test_ids_shared_within_one_call_are_all_kept(self) -> None:
        """In one call, an interaction under an id taken twice earlier in the call is
        refused if it is within the window of either."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(5 * HOUR, None, window=HOUR)
        _, refused = delivery.take(
            [view("a", 1, "x"), view("a", 3, "x"), view("a", 1.25, "x")], runner, never
        )
        assert [q.reason.split(" at ")[1][:19] for q in refused] == ["1970-01-01T01:00:00"]
        assert delivery.buffered_ids == {("a", "x"): (HOUR, 3 * HOUR)}

    def test_closed_time_makes_rows_at_it_late(self) -> None:
        """After :meth:`close`, a row at the closed time is late, naming advance_to."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(0, None)
        delivery.close(3 * HOUR, runner)
        late, _ = delivery.take([view("a", 3)], runner, never)
        assert "which advance_to declared complete" in late[0].reason

    @settings(max_examples=40, deadline=None)
    @given(hours=st.lists(st.integers(0, 48), min_size=1, max_size=12), lateness=st.integers(0, 48))
    def test_releases_in_time_order_however_they_arrive(
        self, hours: list[int], lateness: int
    ) -> None:
        """Whatever the arrival order, what is released (every row once closed) is in time
        order, and no row within the lateness is lost."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(lateness * HOUR, None)
        late, _ = delivery.take([view(f"c{i}", h) for i, h in enumerate(hours)], runner, never)
        delivery.close(100 * HOUR, runner)
        times = [t for _, t in fired(runner)]
        assert times == sorted(times)
        assert len(times) + len(late) == len(hours)


class TestSaveAndForget:
    def test_restore_puts_back_what_save_returned(self) -> None:
        """A failed call's delivery is put back whole: buffer, ids, marks and counters."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(5 * HOUR, None)
        delivery.take([view("a", 2, "1")], runner, never)
        saved = delivery.save()
        delivery.take([view("a", 9, "2"), view("a", 2, "1")], runner, never)
        delivery.restore(saved)
        assert delivery.save() == saved
        assert delivery.buffered_ids == {("a", "1"): (2 * HOUR,)} and delivery.duplicates == 0

    def test_without_and_keep_drop_one_customers_rows(self) -> None:
        """``without`` leaves the buffer as it is (the store erases first); ``keep`` then
        holds the rest, their ids with them. A customer with nothing buffered: ``None``."""
        runner, delivery = RuleRunner(RULES, {}), Delivery(10 * HOUR, None)
        delivery.take([view("a", 1, "1"), view("b", 2, "2")], runner, never)
        kept = delivery.without("a")
        assert kept is not None and len(delivery.buffer) == 2
        delivery.keep(kept)
        assert [r.customer for _, _, r in delivery.buffer] == ["b"]
        assert delivery.buffered_ids == {("b", "2"): (2 * HOUR,)}
        assert delivery.without("z") is None
