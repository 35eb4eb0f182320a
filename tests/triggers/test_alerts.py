"""Alerts across customers: text, JSON and builder surfaces, diagnostics, and hand-computed
batch cases (threshold crossings, episodes and re-arming, window exits, a baseline, a
segment, policies, the firing's identity)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataError, TriggerSyntaxError, TriggerTypeError
from cxmodel.triggers import (
    Alert,
    RuleSet,
    alert,
    check,
    col,
    count,
    evaluate,
    parse,
    trigger,
)
from tests.triggers.helpers import AS_OF, SPIKE, TICKETS, at, firing_times, log_of


class TestText:
    def test_print_parse_round_trip(self) -> None:
        """Every clause prints back to text that parses to the same alert."""
        text = """alert nps_drop:
    when avg(survey.score where metric == "nps" within 7 days) < 6 and count(survey within 7 days) >= 20
    for customers where customer.plan == "pro"
    emit notify_cx_lead(nps = avg(survey.score where metric == "nps" within 7 days))
    cooldown 7 days
    once"""
        rules = parse(text)
        assert str(rules.alerts[0]) == text
        assert parse(str(rules)) == rules

    def test_alerts_live_beside_rules_and_policies(self) -> None:
        """A rule set holds rules, alerts and policies; iteration and names are the rules'."""
        rules = parse(
            "trigger t:\n    when purchase\n    emit x\n\n" + SPIKE + "\ncontact policy p:\n"
            "    at most 1 per 1 days\n    rules t"
        )
        assert rules.names == ("t",)
        assert [a.name for a in rules.alerts] == ["spike"]
        assert len(rules) == 1
        with pytest.raises(KeyError, match="is an alert"):
            rules["spike"]

    def test_a_property_named_alert_still_reads(self) -> None:
        """``alert`` starts a block only before a name: it stays usable as a property."""
        rules = parse("trigger t:\n    when survey where alert == 1\n    emit x")
        assert rules.names == ("t",)

    def test_json_round_trip(self) -> None:
        """``to_json`` / ``from_json`` keep alerts losslessly; a set without alerts writes
        no ``alerts`` key."""
        rules = parse(SPIKE + "\n" + SPIKE.replace("spike", "spike2") + "    cooldown 2 hours\n")
        assert RuleSet.from_json(rules.to_json()) == rules
        assert "alerts" not in json.loads(parse("trigger t:\n    when a\n    emit b").to_json())

    def test_builder_builds_the_same_alert(self) -> None:
        """The builder and the text give one frozen alert."""
        built = (
            alert("spike")
            .when(count("ticket_opened", where=col("topic") == "payment", within="1 hours") >= 3)
            .emit("page", n=count("ticket_opened", within="1 hours"))
            .build()
        )
        assert built == parse(SPIKE).alerts[0]
        segmented = (
            alert("pro")
            .when(count("survey", within="7 days") > 5)
            .for_customers(col("customer.plan") == "pro")
            .emit("x")
            .cooldown("1 days")
            .once()
            .build()
        )
        assert (
            segmented
            == parse(
                "alert pro:\n    when count(survey within 7 days) > 5\n    for customers where "
                'customer.plan == "pro"\n    emit x\n    cooldown 1 days\n    once'
            ).alerts[0]
        )
        assert RuleSet((trigger("t").when("a").emit("b").build(),), alerts=(segmented,))


class TestDiagnostics:
    def test_types_and_names_checked_like_a_rule(self) -> None:
        """Unknown kinds and properties come back with a did-you-mean, types are checked."""
        log = log_of(TICKETS)
        cases = {
            "count(ticket_opend within 1 hours) > 3": ("E301", "did you mean 'ticket_opened'?"),
            'count(ticket_opened where topc == "payment" within 1 hours) > 3': (
                "E302",
                "did you mean topic?",
            ),
        }
        for condition, (code, hint) in cases.items():
            rules = parse(f"alert a:\n    when {condition}\n    emit x")
            with pytest.raises(TriggerTypeError) as info:
                check(rules, log)
            assert info.value.errors[0].code == code, condition
            if hint is not None:
                assert info.value.errors[0].hint == hint
            with pytest.raises(TriggerTypeError, match="alert 'a'"):
                evaluate(rules, log, as_of=AS_OF)
        with pytest.raises(TriggerTypeError) as info:  # needs no schema: refused by parse
            parse('alert a:\n    when count(ticket_opened within 1 hours) > "many"\n    emit x')
        assert info.value.errors[0].code == "E303"

    def test_parse_with_schema_reports_every_error(self) -> None:
        """``parse(text, schema=..., kinds=...)`` checks alerts too, all errors at once."""
        text = "alert a:\n    when sum(purchse.valu within 1 days) > 3\n    emit x"
        with pytest.raises(TriggerTypeError) as info:
            parse(text, schema={"value": "float"}, kinds=["purchase"])
        assert {d.code for d in info.value.errors} == {"E301", "E302"}

    def test_names_are_unique_across_rules_and_alerts(self) -> None:
        """A rule and an alert may not share a name (E209), in text and in JSON."""
        with pytest.raises(TriggerSyntaxError, match="E209"):
            parse("trigger spike:\n    when a\n    emit b\n\n" + SPIKE)
        data = parse(SPIKE).to_dict()
        data["rules"] = [parse("trigger spike:\n    when a\n    emit b").rules[0].to_dict()]
        with pytest.raises(TriggerSyntaxError, match=r"alerts\[0\]\.name"):
            RuleSet.from_dict(data)

    def test_contact_policy_cannot_name_an_alert(self) -> None:
        """A contact policy counts contacts per customer: naming an alert is E217."""
        with pytest.raises(TriggerSyntaxError, match="names alert 'spike'") as info:
            parse(SPIKE + "\ncontact policy p:\n    at most 1 per 1 days\n    rules spike")
        assert info.value.errors[0].code == "E217"

    def test_json_refuses_rule_clauses_and_checks_types(self) -> None:
        """JSON goes through the same checks: a rule's clause is E225 naming its path, a
        type error names the alert."""
        data = parse(SPIKE).to_dict()
        data["alerts"][0]["holdout"] = {"percent": 10}
        with pytest.raises(TriggerSyntaxError, match=r"alerts\[0\]\.holdout") as info:
            RuleSet.from_dict(data)
        assert info.value.errors[0].code == "E225"
        bad = parse(SPIKE).to_dict()
        bad["alerts"][0]["when"]["right"] = {"type": "literal", "value": "three"}
        with pytest.raises(TriggerTypeError, match=r"alerts\[0\] \(alert 'spike'\)"):
            RuleSet.from_dict(bad)

    def test_builder_refuses_what_the_text_refuses(self) -> None:
        """An alert built in Python meets the same invariants."""
        with pytest.raises(TriggerSyntaxError, match="has no window"):
            alert("a").when(count("x") > 1).emit("y").build()


class TestPolicies:
    def test_cooldown_suppresses_an_episode_and_keeps_it(self) -> None:
        """The 03:18 episode starts 2 h 33 min after the emitted 00:45 one: inside a 3-hour
        cooldown it is suppressed (kept with its reason), outside a 2-hour one it goes out."""
        log = log_of(TICKETS)
        three = evaluate(parse(SPIKE + "    cooldown 3 hours\n"), log, as_of=AS_OF)
        assert firing_times(three) == [at(45)]
        assert [(f.time, f.reason) for f in three.suppressed] == [(at(198), "cooldown 3 hours")]
        two = evaluate(parse(SPIKE + "    cooldown 2 hours\n"), log, as_of=AS_OF)
        assert firing_times(two) == [at(45), at(198)]

    def test_once(self) -> None:
        """``once``: the first emitted firing only; later episodes are kept as suppressed."""
        firings = evaluate(parse(SPIKE + "    once\n"), log_of(TICKETS), as_of=AS_OF)
        assert firing_times(firings) == [at(45)]
        assert [f.reason for f in firings.suppressed] == ["once"]

    def test_ids_do_not_depend_on_the_rest_of_the_rule_set(self) -> None:
        """An episode's id is a hash of the alert's name and the episode's start, the same
        whatever rules run beside it and whatever ``as_of`` (once the episode started)."""
        log = log_of(TICKETS)
        alone = evaluate(parse(SPIKE), log, as_of=AS_OF).ids()
        beside = evaluate(
            parse(SPIKE + "\ntrigger t:\n    when ticket_opened\n    emit x"), log, as_of=AS_OF
        )
        assert alone <= beside.ids()
        assert evaluate(parse(SPIKE), log, as_of=at(60)).ids() <= alone
        at_once = [(f.trigger, f.customer_id) for f in beside if f.time == at(45)]
        assert at_once == [("spike", ""), ("t", "c")]  # by time, then customer: "" first


class TestScaleOut:
    def test_dask_refuses_alerts(self) -> None:
        """Partitions hold some customers each: the Dask evaluator refuses alerts, naming
        them and what to do, before any work."""
        pytest.importorskip("dask")
        from cxmodel import dask as cxd

        with pytest.raises(DataError, match="alert\\(s\\) 'spike'"):
            cxd.evaluate(parse(SPIKE), object(), as_of=AS_OF)


class TestAlertAST:
    def test_constructor_checks(self) -> None:
        """``Alert`` checks its parts when built."""
        with pytest.raises(TriggerSyntaxError, match="alert name"):
            Alert("1bad", parse(SPIKE).alerts[0].when, parse(SPIKE).alerts[0].emit)


_AGGS = st.sampled_from(
    [
        "count(ticket_opened within 1 hours)",
        'count(survey where metric == "nps" and score <= 6 within 7 days)',
        "sum(purchase.value within 1 days)",
        "avg(survey.score within 2 weeks)",
        "median(purchase.value within 36 hours)",
        "max(purchase.value within 90 minutes)",
        "distinct(purchase.customer_id within 1 days)",
    ]
)


@st.composite
def alert_texts(draw: st.DrawFn) -> str:
    """Alerts from random parts: comparisons, arithmetic baselines, segments, policies."""
    a, b = draw(_AGGS), draw(_AGGS)
    op = draw(st.sampled_from([">", ">=", "<", "<=", "==", "!="]))
    shape = draw(st.integers(0, 2))
    condition = (
        f"{a} {op} {draw(st.integers(0, 50))}"
        if shape == 0
        else f"{a} {op} {draw(st.integers(1, 4))} * ({b} - {a}) / 7"
        if shape == 1
        else f"({a} {op} 3 or {b} > 1) and not {a} == 9"
    )
    lines = ["alert a:", f"    when {condition}"]
    if draw(st.booleans()):
        lines.append('    for customers where customer.plan in ["pro", "team"]')
    lines.append(f'    emit act(v = {b}, k = "x")' if draw(st.booleans()) else "    emit act")
    if draw(st.booleans()):
        lines.append(f"    cooldown {draw(st.integers(1, 48))} hours")
    if draw(st.booleans()):
        lines.append("    once")
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(alert_texts())
def test_text_and_json_round_trips(text: str) -> None:
    """``parse(str(a)) == a`` and JSON is lossless for any alert."""
    rules = parse(text)
    assert parse(str(rules)) == rules
    assert RuleSet.from_json(rules.to_json()) == rules
