"""Tests of alerts in batch: the condition over everyone's interactions in time order, its
episodes (crossings), baselines and segments."""

from __future__ import annotations

from datetime import timedelta

from cxmodel.domain import Customer
from cxmodel.triggers import (
    ALERT_CUSTOMER_ID,
    describe_because,
    firing_id,
    parse,
)
from tests.triggers.helpers import (
    AS_OF,
    PAY,
    SPIKE,
    TICKETS,
    at,
    epoch_us,
    evaluate_complete,
    firing_times,
    log_of,
)


class TestThreshold:
    def test_crossings_fire_once_each(self) -> None:
        """Three payment tickets within an hour: at 00:45 (a, b, c) and 03:18 (a, d, e);
        between them the window falls to two at 01:00:00.000001 and the alert re-arms."""
        firings = evaluate_complete(parse(SPIKE), log_of(TICKETS), as_of=AS_OF)
        assert firing_times(firings) == [at(45), at(198)]
        first = firings[0]
        assert first.customer_id == ALERT_CUSTOMER_ID == ""
        assert first.payload == {"n": 3.0}
        assert first.because == {
            "when": {
                "kind": None,
                "time": at(45).isoformat(),
                "values": {'count(ticket_opened where topic == "payment" within 1 hours)': 3.0},
            }
        }
        assert first.firing_id == firing_id("spike", "", f"t={epoch_us(at(45))}")
        assert describe_because(first.because).startswith("condition held at")

    def test_per_customer_rule_never_sees_the_spike(self) -> None:
        """The same count in a rule is per customer: no customer has three tickets."""
        rule = parse(
            "trigger spike:\n    when ticket_opened as t\n"
            "    if count(ticket_opened within 1 hours) >= 3\n    emit page"
        )
        assert len(evaluate_complete(rule, log_of(TICKETS), as_of=AS_OF)) == 0

    def test_a_sustained_spike_is_one_episode_until_the_window_drains(self) -> None:
        """Tickets every 10 minutes from 00:00 to 00:40: one episode from 00:20 while three
        or more stay in the hour. It ends at 01:20:00.000001 (00:20 leaves; 00:30 and 00:40
        remain); a ticket at 01:25 makes three again, a new episode."""
        events = [(f"c{i}", 10 * i, "ticket_opened", PAY) for i in range(5)]
        events.append(("z", 85, "ticket_opened", PAY))
        firings = evaluate_complete(parse(SPIKE), log_of(events), as_of=AS_OF)
        assert firing_times(firings) == [at(20), at(85)]

    def test_a_drop_fires_when_the_last_value_leaves_the_window(self) -> None:
        """``count(...) < 2``: true at the first ticket (one in the hour), false from 00:30,
        true again at 01:30:00.000001 when the 00:30 ticket leaves (only 00:45 is left),
        false at 03:12, true at 04:12:00.000001."""
        rules = parse("alert calm:\n    when count(ticket_opened within 1 hours) < 2\n    emit ok")
        firings = evaluate_complete(rules, log_of(TICKETS), as_of=AS_OF)
        micro = timedelta(microseconds=1)
        assert firing_times(firings) == [at(0), at(90) + micro, at(252) + micro]
        assert firings[1].because["when"]["values"] == {"count(ticket_opened within 1 hours)": 1.0}

    def test_as_of_includes_a_crossing_at_it(self) -> None:
        """Only firing_times at or before ``as_of`` are evaluated; a crossing at ``as_of`` counts."""
        rules, log = parse(SPIKE), log_of(TICKETS)
        assert firing_times(evaluate_complete(rules, log, as_of=at(197))) == [at(45)]
        assert firing_times(evaluate_complete(rules, log, as_of=at(198))) == [at(45), at(198)]

    def test_distinct_customers(self) -> None:
        """``distinct(KIND.customer_id ...)`` counts customers, not the alert's marker: a's
        second ticket at 03:00 is within the hour of no other a ticket."""
        events = [*TICKETS, ("a", 185, "ticket_opened", PAY)]
        rules = parse(
            "alert many:\n    when distinct(ticket_opened.customer_id within 1 hours) >= 3\n"
            "    emit page(tickets = count(ticket_opened within 1 hours))"
        )
        firings = evaluate_complete(rules, log_of(events), as_of=AS_OF)
        assert firing_times(firings) == [at(45), at(198)]
        assert [f.payload["tickets"] for f in firings] == [3.0, 4.0]


class TestBaseline:
    RULE = """alert ticket_surge:
    when count(ticket_opened within 1 days) > 3 * (count(ticket_opened within 8 days) - count(ticket_opened within 1 days)) / 7 and count(ticket_opened within 8 days) - count(ticket_opened within 1 days) >= 5
    emit investigate
"""

    def test_deviation_from_the_previous_week(self) -> None:
        """One ticket a day at noon for seven days, then three on the eighth morning. At
        day 7 10:00 the last day holds day 6 noon, 09:00 and 10:00 (3) and the seven days
        before hold 6 (mean 6/7): 3 > 3 * 6/7 = 2.57, the first time the condition holds
        (at 09:00: 2 > 2.57 is false; on day 6 at noon: 2 > 3 * 5/7 is false)."""
        events = [(f"c{d}", d * 1440 + 720, "ticket_opened", {}) for d in range(7)]
        events += [(f"x{h}", 7 * 1440 + 60 * h, "ticket_opened", {}) for h in (9, 10, 11)]
        firings = evaluate_complete(parse(self.RULE), log_of(events), as_of=AS_OF)
        assert firing_times(firings) == [at(7 * 1440 + 600)]
        values = firings[0].because["when"]["values"]
        assert values == {
            "count(ticket_opened within 1 days)": 3.0,
            "count(ticket_opened within 8 days)": 9.0,
        }


class TestSegment:
    RULE = SPIKE.replace("    emit", '    for customers where customer.plan == "pro"\n    emit')

    def test_only_the_segment_counts(self) -> None:
        """With a, b, c, d on the pro plan and e on basic, the second burst (a, d, e) has
        two pro tickets: only the first crossing fires. A customer without the trait is
        outside the segment, and so are customers not in ``customers=``."""
        customers = {c: Customer(c, traits={"plan": "pro"}) for c in ("a", "b", "c", "d")} | {
            "e": Customer("e", traits={"plan": "basic"})
        }
        log = log_of(TICKETS)
        assert firing_times(
            evaluate_complete(parse(self.RULE), log, as_of=AS_OF, customers=customers)
        ) == [at(45)]
        assert len(evaluate_complete(parse(self.RULE), log, as_of=AS_OF)) == 0
        firings = evaluate_complete(parse(SPIKE), log, as_of=AS_OF, customers=customers)
        assert firing_times(firings) == [at(45), at(198)]
