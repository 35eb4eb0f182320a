"""The public API used as a consumer would; mypy --strict checks this file too."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt
import pytest

import cxmodel as cx
from cxmodel.errors import DataWarning
from cxmodel.io import read_csv


def build() -> cx.InteractionLog:
    times: npt.NDArray[np.datetime64] = np.array(
        ["2024-01-01T00:00", "2024-01-02T00:00"], dtype="datetime64[us]"
    )
    return cx.InteractionLog.from_arrays(
        customer_id=["a", "b"], timestamp=times, kind=["view", "purchase"], value=[np.nan, 5.0]
    )


def test_consumer_types() -> None:
    """Typed use of the log, domain objects and readers."""
    log: cx.InteractionLog = build()
    values: npt.NDArray[np.float64] = log.numeric("value")
    codes, categories = log.categorical("kind")
    journey: cx.Journey = log.journey("a")
    first: datetime | None = journey.start
    interaction = cx.Interaction("a", datetime(2024, 1, 1, tzinfo=timezone.utc), "view")
    assert first == interaction.timestamp
    assert values.dtype == np.float64 and codes.dtype == np.int32 and len(categories) == 2
    assert callable(read_csv)


def test_consumer_triggers_and_journeys() -> None:
    """Typed use of the streaming engine's micro-batches and the journey breakdowns."""
    from cxmodel.journey import Comparison, Transitions, compare_transitions, transitions
    from cxmodel.triggers import Firing, Firings, TriggerEngine, parse

    log = build()
    engine = TriggerEngine(parse("trigger t:\n    when purchase as p\n    emit thanks"))
    got: Firings = engine.process_many(log)
    fired: list[Firing] = list(got)
    later: list[Firing] = engine.advance_to("2024-02-01T00:00:00Z")
    assert [f.action for f in fired] == ["thanks"] and later == [] and len(got.ids()) == 1
    by_kind = transitions(log, by="kind")
    labels = by_kind.by_labels
    web = np.asarray(log.column("kind")) == "view"
    diff: Comparison[Transitions] = compare_transitions(log, web, ~web)
    assert labels is not None and diff is not None


def test_consumer_closing_the_loop() -> None:
    """Typed use of contact policies, the held-out next best action and recovery rates."""
    import warnings

    from cxmodel.errors import DataWarning
    from cxmodel.log import CustomerTable
    from cxmodel.metrics import RecoveryRates, recovery_rate
    from cxmodel.personalize import Action, NextBestActions, next_best_action
    from cxmodel.triggers import ContactPolicy, RuleSet, contact_policy, evaluate, trigger

    log = build()
    thanks = trigger("thanks").when("purchase").emit("thank_you").build()
    policy: ContactPolicy = (
        contact_policy("weekly").at_most(1, per="7 days").rules("thanks").build()
    )
    rules = RuleSet((thanks,), (policy,))
    firings = evaluate(rules, log, as_of="2024-03-01T00:00:00Z")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        rates: RecoveryRates = recovery_rate(firings, log, retention=("7 days",))
    observed = log.with_observed_until("2024-03-01T00:00:00Z")  # the export covers it
    table = CustomerTable.from_log(observed, as_of="2024-03-01T00:00:00Z")
    nba: NextBestActions = next_best_action(
        table, [Action("call", "frequency >= 1", needs_consent=False)], holdout=50, salt="t"
    )
    held: npt.NDArray[np.bool_] = nba.held_out
    assert len(rates) == 2 and len(held) == 2 and rules.policy_of("thanks") == policy


def test_consumer_support_fulfilment_and_traits() -> None:
    """Typed use of the support breakdowns, fulfilment rates, traits and usage counts."""
    from cxmodel.metrics import (
        MetricTable,
        RateResult,
        first_contact_resolution,
        on_time_delivery_rate,
        return_rate,
        ticket_lifecycles,
    )

    log = build()
    until: int | None = log.observed_until
    with pytest.warns(DataWarning, match="kind 'ticket_opened' does not occur"):  # views only
        tickets = ticket_lifecycles(log.with_column("ticket_id", ["t1", "t2"]))
    with pytest.warns(DataWarning, match="0 items in the denominator"):  # nothing resolved
        fcr: RateResult | MetricTable = first_contact_resolution(tickets, period="month")
    with pytest.warns(DataWarning, match="kind 'delivery' does not occur"):  # views, a purchase
        on_time: RateResult | MetricTable = on_time_delivery_rate(
            log.with_column("late", ["no", "yes"])
        )
    returns = return_rate(log.with_column("order_id", ["o1", "o2"]))
    table = log.with_observed_until("2024-02-01T00:00:00Z").customers_table(
        "2024-02-01T00:00:00Z",
        traits=[cx.Customer("a", traits={"plan": "pro"})],
        usage={"views": "view"},
    )
    plan: npt.NDArray[np.object_] = table.column("plan")
    assert until is not None and isinstance(fcr, MetricTable) and len(fcr) == 0
    assert isinstance(on_time, RateResult) and isinstance(returns, RateResult)
    assert plan.tolist() == ["pro", None] and table.column("views").tolist() == [1, 0]


def test_consumer_survey_metrics() -> None:
    """nps, csat and ces say by their types whether they return one result or a table."""
    from typing_extensions import assert_type

    from cxmodel.metrics import CESResult, MetricTable, NPSResult, ProportionResult, ces, csat, nps

    scores = [10] * 80 + [6] * 20
    labels = ["a", "b"] * 50
    one = assert_type(nps(scores), NPSResult)
    table = assert_type(nps(scores, by=labels), MetricTable)
    share = assert_type(csat([5, 4, 2] * 20), ProportionResult)
    effort = assert_type(ces([7, 5, 2] * 20), CESResult)
    monthly = assert_type(
        csat([5, 4] * 20, period="month", timestamps=["2024-01-01T00:00Z"] * 40), MetricTable
    )
    assert one.n == 100 and len(table) == 2 and share.n == effort.n == 60 and len(monthly) == 1


def test_consumer_catalogue_rules() -> None:
    """Typed use of a catalogue rule: the clause, batch with catalogue events, the engine."""
    from cxmodel.triggers import Firings, Reach, TriggerEngine, evaluate, trigger

    rule = (
        trigger("back")
        .when("restock", as_="r")
        .for_customers_with("view", within="30 days")
        .emit("back")
        .build()
    )
    reach: Reach | None = rule.when.reach
    event = {"timestamp": "2024-01-03T00:00:00Z", "kind": "restock"}
    log = build().with_observed_until("2024-02-01T00:00:00Z")  # the export runs that long
    got: Firings = evaluate(rule, log, as_of="2024-02-01T00:00:00Z", catalogue=[event])
    engine = TriggerEngine(rule)
    kinds: frozenset[str] = engine.catalogue_kinds
    assert reach is not None and kinds == {"restock"} and [f.customer_id for f in got] == ["a"]


def test_consumer_alerts() -> None:
    """Typed use of an alert across customers: built, evaluated and streamed."""
    from cxmodel.triggers import (
        ALERT_CUSTOMER_ID,
        Alert,
        Firing,
        RuleSet,
        TriggerEngine,
        alert,
        count,
        evaluate,
    )

    log = build()
    busy: Alert = alert("busy").when(count("purchase", within="30 days") >= 1).emit("x").build()
    rules = RuleSet(alerts=(busy,))
    firings = evaluate(rules, log, as_of="2024-03-01T00:00:00Z")
    engine = TriggerEngine(rules, max_future=None)
    engine.process_many(log)
    streamed: list[Firing] = engine.advance_to("2024-03-01T00:00:00Z")
    assert [f.firing_id for f in streamed] == [f.firing_id for f in firings]
    assert [f.customer_id for f in streamed] == [ALERT_CUSTOMER_ID]


def test_consumer_rate_and_time_metrics() -> None:
    """Support times and rates, fulfilment rates and the response rate say by their types
    whether they return one result or a table: a table when ``by`` or ``period`` is given."""
    from typing_extensions import assert_type

    from cxmodel.metrics import (
        MetricTable,
        RateResult,
        TicketTimes,
        first_contact_resolution,
        on_time_delivery_rate,
        one_touch_rate,
        response_rate,
        return_rate,
        ticket_lifecycles,
        ticket_times,
    )

    def row(customer: str, hour: int, kind: str, **extra: object) -> dict[str, object]:
        when = f"2024-01-01T{hour:02d}:00Z"
        return {"customer_id": customer, "timestamp": when, "kind": kind, **extra}

    rows = [
        row("a", 0, "ticket_opened", ticket_id="t1", channel="chat"),
        row("a", 1, "ticket_replied", ticket_id="t1"),
        row("a", 2, "ticket_resolved", ticket_id="t1"),
        row("b", 0, "ticket_opened", ticket_id="t2", channel="email"),
        row("a", 3, "purchase", order_id="o1", channel="web"),
        row("a", 5, "return", order_id="o1"),
        row("a", 4, "delivery", late="no", channel="web"),
        row("b", 4, "delivery", late="yes", channel="shop"),
        row("a", 6, "survey_sent", metric="nps", channel="email"),
        row("a", 7, "survey", metric="nps", score=9.0),
    ]
    log = cx.InteractionLog.from_records(rows)
    tickets = ticket_lifecycles(log)
    channels = ["chat", "email"]
    maybe_by: str | None = None

    times = assert_type(ticket_times(tickets), TicketTimes)
    assert_type(ticket_times(tickets, "first_reply", by=channels), MetricTable)
    assert_type(ticket_times(tickets, period="week"), MetricTable)
    touch = assert_type(one_touch_rate(tickets), RateResult)
    assert_type(one_touch_rate(tickets, by="channel"), MetricTable)
    fcr = assert_type(first_contact_resolution(tickets), RateResult)
    assert_type(first_contact_resolution(tickets, period="month"), MetricTable)
    returns = assert_type(return_rate(log), RateResult)
    assert_type(return_rate(log, by="channel", period="day"), MetricTable)
    on_time = assert_type(on_time_delivery_rate(log), RateResult)
    assert_type(on_time_delivery_rate(log, by="channel"), MetricTable)
    answered = assert_type(response_rate(log, "nps"), RateResult)
    by_channel = assert_type(response_rate(log, "nps", by="channel"), MetricTable)
    either = assert_type(one_touch_rate(tickets, by=maybe_by), RateResult | MetricTable)

    assert (times.n, times.censored) == (2, 1)
    assert (touch.value, fcr.value, returns.value, on_time.value) == (1.0, 1.0, 1.0, 0.5)
    assert (answered.numerator, answered.n, len(by_channel)) == (1, 1, 1)
    assert isinstance(either, RateResult)


def test_consumer_fitted_models_keep_their_class() -> None:
    """``fit`` returns the model it was called on, typed as that class: a fitted BG/NBD offers
    its predictions without a cast (it was typed as the abstract base)."""
    from typing_extensions import assert_type

    from cxmodel.models import BetaGeo, ModifiedBetaGeo, ParetoNBD

    simulator = BetaGeo()
    simulator.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    history = simulator.sample(200, T=39.0, random_state=0)  # customers the fits determine
    x, t_x, big_t = history.frequency, history.recency, history.T
    bg = assert_type(BetaGeo().fit(frequency=x, recency=t_x, T=big_t), BetaGeo)
    mbg = assert_type(ModifiedBetaGeo().fit(frequency=x, recency=t_x, T=big_t), ModifiedBetaGeo)
    pareto = assert_type(ParetoNBD().fit(frequency=x, recency=t_x, T=big_t), ParetoNBD)
    for model in (bg, mbg, pareto):
        expected = model.conditional_expected_purchases(39.0, x, t_x, big_t)
        assert np.asarray(expected).shape == (200,)
