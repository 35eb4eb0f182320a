"""Contact policies: at most N emitted actions per customer per period across a group of rules,
priority deciding which firing wins; text, JSON and builder; hand-computed cases; batch equals
streaming, suppressed firings and their reasons included, across SQLite restarts."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Consent, Customer
from cxmodel.errors import NotFoundError, TriggerSyntaxError
from cxmodel.expr import Duration
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    ContactPolicy,
    Firings,
    RuleSet,
    SQLiteStore,
    TriggerEngine,
    contact_policy,
    explain,
    parse,
    trigger,
)
from tests.triggers.helpers import cuts, evaluate_complete, interaction, records

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
AS_OF = "2024-03-01T00:00Z"

RULES = """trigger vip:
    when purchase as p where p.value > 100
    emit vip_offer

trigger thanks:
    when purchase as p
    emit thank_you

trigger nudge:
    when product_view as v then no purchase for 2 days
    emit nudge

contact policy weekly:
    at most 1 per 7 days
    rules vip > thanks > nudge
"""
EVENTS = [
    ("a", "2024-01-01T10:00Z", "product_view", None),
    ("a", "2024-01-01T12:00Z", "purchase", 50.0),
    ("a", "2024-01-02T12:00Z", "purchase", 500.0),
    ("a", "2024-01-09T12:00Z", "purchase", 500.0),
    ("a", "2024-01-10T12:00Z", "product_view", None),
    ("b", "2024-01-03T12:00Z", "purchase", 500.0),
    ("b", "2024-01-20T12:00Z", "product_view", None),
    ("z", "2024-02-20T00:00Z", "login", None),  # moves the stream past every firing
]


def log_of(events: list[tuple[str, str, str, float | None]]) -> InteractionLog:
    return InteractionLog.from_records(
        [{"customer_id": c, "timestamp": t, "kind": k, "value": v} for c, t, k, v in events]
    )


def table(firings: Firings) -> list[tuple[str, str, str, str | None]]:
    """Emitted and suppressed firings as (trigger, customer, day and hour, reason)."""
    rows = [*firings, *firings.suppressed]
    return sorted((f.trigger, f.customer_id, f.time.strftime("%m-%d %H"), f.reason) for f in rows)


def ids(firings: Firings) -> dict[tuple[str, str, str], str]:
    return {(f.trigger, f.customer_id, f.time.strftime("%m-%d %H")): f.firing_id for f in firings}


def weekly(by: str) -> str:
    return f"contact policy weekly: at most 1 per 7 days; after {by}"


class TestHandComputed:
    def test_priority_period_and_reasons(self) -> None:
        """Jan 1 12:00 thanks goes out; on Jan 2 vip and thanks are both stopped by it; on
        Jan 9 12:00, exactly 7 days after Jan 2 and more after Jan 1, the place is free and
        vip wins it by priority, thanks is stopped by vip; the nudge of Jan 12 is stopped by
        that vip. Customer b: vip over thanks on Jan 3, a nudge on Jan 22 is free."""
        firings = evaluate_complete(parse(RULES), log_of(EVENTS), as_of=AS_OF)
        sent = ids(firings)
        a1 = f"thanks {sent['thanks', 'a', '01-01 12']}"
        a9 = f"vip {sent['vip', 'a', '01-09 12']}"
        b3 = f"vip {sent['vip', 'b', '01-03 12']}"
        assert table(firings) == sorted(
            [
                ("thanks", "a", "01-01 12", None),
                ("thanks", "a", "01-02 12", weekly(a1)),
                ("vip", "a", "01-02 12", weekly(a1)),
                ("vip", "a", "01-09 12", None),
                ("thanks", "a", "01-09 12", weekly(a9)),
                ("nudge", "a", "01-12 12", weekly(a9)),
                ("vip", "b", "01-03 12", None),
                ("thanks", "b", "01-03 12", weekly(b3)),
                ("nudge", "b", "01-22 12", None),
            ]
        )

    def test_without_the_policy_every_firing_goes_out(self) -> None:
        """The same rules without the policy emit all nine firings."""
        rules = parse(RULES)
        plain = evaluate_complete(RuleSet(rules.rules), log_of(EVENTS), as_of=AS_OF)
        assert len(plain) == 9 and len(plain.suppressed) == 0

    def test_two_per_period_names_both(self) -> None:
        """at most 2: the third firing in the window names the two that stopped it."""
        rules = parse(RULES.replace("at most 1 per 7 days", "at most 2 per 7 days"))
        firings = evaluate_complete(rules, log_of(EVENTS), as_of=AS_OF)
        sent = ids(firings)
        emitted = [(f.trigger, f.time.day) for f in firings if f.customer_id == "a"]
        assert emitted == [("thanks", 1), ("vip", 2), ("thanks", 9), ("vip", 9)]
        (stopped,) = [f for f in firings.suppressed if f.time.day == 2]
        assert stopped.trigger == "thanks"
        assert stopped.reason == (
            "contact policy weekly: at most 2 per 7 days; after "
            f"thanks {sent['thanks', 'a', '01-01 12']}, vip {sent['vip', 'a', '01-02 12']}"
        )

    def test_stopped_firing_starts_no_cooldown(self) -> None:
        """A firing the policy stopped was not emitted, so it starts no cooldown of its rule:
        thanks (cooldown 3 days) is stopped on Jan 2 by vip and goes out on Jan 3; a firing
        its own rule stops (vip, once per customer) leaves the place to the next rule."""
        text = """trigger vip:
    when purchase as p where p.value > 100
    emit vip_offer
    once per customer

trigger thanks:
    when purchase as p
    emit thank_you
    cooldown 3 days

contact policy daily:
    at most 1 per 1 days
    rules vip > thanks
"""
        events = [
            ("a", "2024-01-02T12:00Z", "purchase", 500.0),  # vip out; thanks stopped by vip
            ("a", "2024-01-03T13:00Z", "purchase", 20.0),  # thanks: no cooldown from Jan 2
            ("a", "2024-01-04T14:00Z", "purchase", 500.0),  # vip once; thanks in cooldown
            ("a", "2024-01-06T14:00Z", "purchase", 500.0),  # vip once; thanks out again
        ]
        firings = evaluate_complete(parse(text), log_of(events), as_of=AS_OF)
        sent = ids(firings)
        assert table(firings) == sorted(
            [
                ("vip", "a", "01-02 12", None),
                (
                    "thanks",
                    "a",
                    "01-02 12",
                    f"contact policy daily: at most 1 per 1 days; "
                    f"after vip {sent['vip', 'a', '01-02 12']}",
                ),
                ("thanks", "a", "01-03 13", None),
                ("vip", "a", "01-04 14", "once per customer"),
                ("thanks", "a", "01-04 14", "cooldown 3 days"),
                ("vip", "a", "01-06 14", "once per customer"),
                ("thanks", "a", "01-06 14", None),
            ]
        )

    def test_holdout_and_consent_are_decided_first(self) -> None:
        """Firings a rule's own policies stop (held out, no consent) take no place."""
        text = """trigger vip:
    when purchase as p where p.value > 100
    emit vip_offer
    requires consent marketing

trigger thanks:
    when purchase as p
    emit thank_you

contact policy weekly:
    at most 1 per 7 days
    rules vip > thanks
"""
        firings = evaluate_complete(parse(text), log_of(EVENTS[:4]), as_of=AS_OF)
        assert {(f.trigger, f.reason) for f in firings.suppressed if f.trigger == "vip"} == {
            ("vip", "no consent for marketing")
        }
        assert [f.time.day for f in firings] == [1, 9]  # thanks on Jan 1 and Jan 9

    def test_quiet_hours_move_the_decision(self) -> None:
        """A firing delayed by quiet hours is decided at its new time: the 23:00 purchase's
        vip waits until 08:00, after the 07:00 thanks took the place."""
        text = """trigger vip:
    when purchase as p where p.value > 100
    emit vip_offer
    quiet hours 22:00-08:00

trigger thanks:
    when purchase as p where p.value <= 100
    emit thank_you

contact policy daily:
    at most 1 per 1 days
    rules vip > thanks
"""
        events = [
            ("a", "2024-01-01T23:00Z", "purchase", 500.0),
            ("a", "2024-01-02T07:00Z", "purchase", 10.0),
        ]
        firings = evaluate_complete(parse(text), log_of(events), as_of=AS_OF)
        assert [(f.trigger, f.time.hour) for f in firings] == [("thanks", 7)]
        (vip,) = firings.suppressed
        assert (vip.time.hour, vip.reason.split(";")[0]) == (
            8,
            "contact policy daily: at most 1 per 1 days",
        )

    def test_explain_shows_the_policy(self) -> None:
        got = explain(parse(RULES), log_of(EVENTS), "b", as_of=AS_OF)
        (thanks,) = [r for r in got.rules if r.trigger == "thanks"]
        assert thanks.reason.startswith("1 firing(s) suppressed: contact policy weekly")


class TestSurfaces:
    def test_text_round_trip(self) -> None:
        rules = parse(RULES)
        assert rules.policies == (
            ContactPolicy("weekly", 1, Duration(7, "days"), ("vip", "thanks", "nudge")),
        )
        assert str(rules) == RULES
        assert parse(str(rules)) == rules
        assert rules.policy_of("thanks") is rules.policies[0]
        assert parse(RULES.split("contact policy")[0]).policy_of("thanks") is None

    def test_policy_of_a_rule_not_in_the_set_is_refused(self) -> None:
        """A name that is no rule of the set raises with a did-you-mean: None would say that
        the misspelt rule follows no policy."""
        with pytest.raises(NotFoundError, match="no rule named 'thank'.*did you mean 'thanks'"):
            parse(RULES).policy_of("thank")

    def test_policy_anywhere_in_the_text(self) -> None:
        """A policy may come before the rules it names; it prints after them."""
        first = RULES.split("contact policy")[1]
        moved = "contact policy" + first + "\n" + RULES.split("contact policy")[0]
        assert parse(moved) == parse(RULES)

    def test_json_round_trip(self) -> None:
        rules = parse(RULES)
        data = json.loads(rules.to_json())
        assert data["policies"] == [
            {
                "name": "weekly",
                "at_most": 1,
                "per": {"amount": 7, "unit": "days"},
                "rules": ["vip", "thanks", "nudge"],
            }
        ]
        assert RuleSet.from_json(rules.to_json()) == rules
        assert "policies" not in json.loads(RuleSet(rules.rules).to_json())

    def test_builder(self) -> None:
        policy = (
            contact_policy("weekly").at_most(1, per="7 days").rules("vip", "thanks", "nudge")
        ).build()
        rules = parse(RULES)
        assert RuleSet(rules.rules, (policy,)) == rules
        rule = trigger("t").when("purchase").emit("x").build()
        with pytest.raises(TriggerSyntaxError, match="names rule 'vip'"):
            RuleSet((rule,), (policy,))

    @pytest.mark.parametrize(
        ("text", "code", "where", "needle"),
        [
            ("at most 0 per 7 days\n    rules a", "E216", (5, 1), "whole number from 1"),
            ("at most 1.5 per 7 days\n    rules a", "E216", (6, 13), "expected a whole number"),
            ("at most 2 per days\n    rules a", "E102", (6, 19), "expected a duration"),
            ("at most 2 per 7 days", "E216", (5, 1), "no 'rules A > B' clause"),
            ("rules a", "E216", (5, 1), "no 'at most N per D' clause"),
            ("at most 2 per 7 days\n    rules a > a", "E216", (5, 1), "lists rule 'a' twice"),
            ("at most 2 per 7 days\n    rules a > bb", "E217", (7, 15), "did you mean 'b'"),
            ("at most 2 per 7 days\n    rules a\n    rules b", "E206", (8, 5), "appears twice"),
            ("at most 2 per 7 days\n    rules a >", "E107", (7, 14), "a rule name after '>'"),
            ("at least 2 per 7 days\n    rules a", "E106", (6, 8), "expected 'most'"),
            ("cooldown 2 days\n    rules a", "E216", (6, 5), "expected 'at most N per D'"),
        ],
        ids=[
            "zero",
            "fraction",
            "no-number",
            "no-rules",
            "no-limit",
            "twice",
            "unknown",
            "clause-twice",
            "dangling",
            "at-least",
            "rule-clause",
        ],
    )
    def test_bad_policies(self, text: str, code: str, where: tuple[int, int], needle: str) -> None:
        source = (
            "trigger a:\n    when purchase\n    emit x\ntrigger b:\n    when signup\n    emit y\n"
        )
        with pytest.raises(TriggerSyntaxError) as info:
            parse(source + f"contact policy p:\n    {text}")
        first = info.value.errors[0]
        assert (first.code, (first.line, first.column)) == (code, (where[0] + 2, where[1]))
        assert needle in first.message + (first.hint or "")

    def test_a_rule_follows_one_policy(self) -> None:
        text = RULES + "\ncontact policy daily:\n    at most 1 per 1 days\n    rules nudge\n"
        with pytest.raises(TriggerSyntaxError, match="in contact policies 'weekly' and 'daily'"):
            parse(text)
        again = RULES + "\ncontact policy weekly:\n    at most 1 per 1 days\n    rules other\n"
        with pytest.raises(TriggerSyntaxError, match="named 'weekly' is defined twice"):
            parse(again + "\ntrigger other:\n    when signup\n    emit z\n")

    def test_contact_is_still_a_property_name(self) -> None:
        """Only 'contact policy' starts a policy: a property called contact still reads."""
        rules = parse("trigger t:\n    when purchase as p where p.contact == 1\n    emit x")
        assert len(rules) == 1 and not rules.policies

    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"at_most": 0}, "policies[0]: contact policy 'weekly': 'at most' takes"),
            ({"at_most": "1"}, "policies[0].at_most: expected a whole number"),
            ({"rules": ["vip", "vipp"]}, "policies[0].rules[1]: contact policy 'weekly' names"),
            ({"per": {"amount": 0, "unit": "days"}}, "policies[0]: the duration after 'per'"),
            ({"every": 3}, "policies[0].every: unknown key"),
        ],
    )
    def test_json_validated(self, change: dict[str, Any], needle: str) -> None:
        data = json.loads(parse(RULES).to_json())
        data["policies"][0].update(change)
        with pytest.raises(TriggerSyntaxError) as info:
            RuleSet.from_json(json.dumps(data))
        assert needle in str(info.value)
        assert info.value.errors[0].code == "E214"


def both(rules: RuleSet, events: list[tuple[str, str, str, float | None]]) -> tuple[Any, Any]:
    """Batch and streamed firings (emitted and suppressed) over ``events``."""
    log = log_of(events)
    batch = evaluate_complete(rules, log, as_of=AS_OF)
    engine = TriggerEngine(rules)
    got = engine.process_many(log)
    return table(batch), table(Firings(got.firings, got.suppressed_firings))


class TestStreaming:
    def test_equals_batch_with_reasons(self) -> None:
        batch, streamed = both(parse(RULES), EVENTS)
        assert streamed == batch

    def test_a_grouped_firing_waits_for_its_time_to_pass(self) -> None:
        """A rule under a policy is decided once every interaction at its time is in: on
        the next later interaction (or advance_to), not on its own."""
        engine = TriggerEngine(parse(RULES))
        rec = {"customer_id": "a", "timestamp": T0, "kind": "purchase", "value": 500.0}
        assert engine.process(interaction(rec)) == []
        later = dict(rec, customer_id="b", timestamp=T0 + timedelta(seconds=1), value=1.0)
        assert [f.trigger for f in engine.process(interaction(later))] == ["vip"]
        assert [f.trigger for f in engine.advance_to(T0 + timedelta(seconds=1))] == ["thanks"]

    def test_same_time_from_two_interactions(self) -> None:
        """Two purchases at one instant: the place goes by priority, whatever their order."""
        events = [
            ("a", "2024-01-05T12:00Z", "purchase", 10.0),  # thanks only
            ("a", "2024-01-05T12:00Z", "purchase", 500.0),  # vip (and thanks)
            ("z", "2024-02-20T00:00Z", "login", None),
        ]
        batch, streamed = both(parse(RULES), events)
        assert streamed == batch
        assert [r[0] for r in batch if r[3] is None] == ["vip"]

    def test_counts_survive_a_restart(self, tmp_path: Path) -> None:
        """The contacts a policy counted are in the SQLite snapshot: an engine restarted
        after Jan 1 still stops the Jan 2 firings, as batch does."""
        rules, path = parse(RULES), tmp_path / "s.db"
        got: list[Any] = []
        for part in (EVENTS[:2], EVENTS[2:]):
            store = SQLiteStore(path)
            result = TriggerEngine(rules, store=store).process_many(log_of(part))
            got += [*result.firings, *result.suppressed_firings]
            store.close()
        batch = evaluate_complete(rules, log_of(EVENTS), as_of=AS_OF)
        assert table(Firings([f for f in got if f.reason is None],
                             [f for f in got if f.reason is not None])) == table(batch)  # fmt: skip

    def test_state_keeps_the_last_n(self) -> None:
        """Per customer and policy the engine keeps at most N contacts."""
        rules = parse(RULES.replace("at most 1 per 7 days", "at most 2 per 1 days"))
        events = [("a", f"2024-01-{d:02d}T12:00Z", "purchase", 500.0) for d in range(1, 20)]
        engine = TriggerEngine(rules)
        engine.process_many(log_of(events))
        engine.advance_to(AS_OF)
        contacts = engine._runner.states["a"].to_dict()["contacts"]
        assert list(contacts) == ["weekly"] and len(contacts["weekly"]) == 2

    def test_remove_and_add_rules(self) -> None:
        """Removing a rule takes it out of its policy; adding one keeps the policies."""
        engine = TriggerEngine(parse(RULES))
        engine.remove_rule("vip")
        assert engine.rules.policies[0].rules == ("thanks", "nudge")
        engine.add_rule(trigger("extra").when("signup").emit("x").build())
        assert engine.rules.policies[0].rules == ("thanks", "nudge")
        engine.remove_rule("thanks")
        engine.remove_rule("nudge")
        assert engine.rules.policies == ()


COLLIDING = ["purchase as p", "purchase as p where p.value >= 100", "product_view as v",
             "product_view as v then no purchase for 1 days", "inactive for 3 days",
             "purchase as p then after 1 days"]  # fmt: skip


@st.composite
def colliding_rules(draw: st.DrawFn) -> str:
    """Two to four rules that fire on the same kinds (so firings of one customer meet at
    the same time), some with cooldowns, consent, holdouts or quiet hours, under one or two
    contact policies."""
    n = draw(st.integers(2, 4))
    texts = []
    for i in range(n):
        lines = [f"trigger r{i}:", f"    when {draw(st.sampled_from(COLLIDING))}", "    emit act"]
        extra = draw(st.sampled_from(["", "cooldown 2 days", "requires consent marketing",
                                      "holdout 30%", "quiet hours 22:00-06:00",
                                      "once per customer every 1 months"]))  # fmt: skip
        if extra:
            lines.append(f"    {extra}")
        texts.append("\n".join(lines))
    order = draw(st.permutations([f"r{i}" for i in range(n)]))
    cut = draw(st.integers(1, n))
    groups = [order[:cut], order[cut:]] if draw(st.booleans()) else [order[:cut]]
    for g, names in enumerate(x for x in groups if x):
        per = draw(st.sampled_from(["12 hours", "1 days", "3 days", "1 months"]))
        texts.append(
            f"contact policy p{g}:\n    at most {draw(st.integers(1, 2))} per {per}\n"
            f"    rules {' > '.join(names)}"
        )
    return "\n\n".join(texts)


def streamed_with_reasons(
    rules: RuleSet, recs: list[dict[str, Any]], seed: int, store: Path | None
) -> list[Any]:
    """Every firing (emitted and suppressed) the engine returns over ``recs`` cut at random
    into micro-batches (a new engine on the same SQLite file after each when ``store``)."""
    out: list[Any] = []
    engine = None if store else TriggerEngine(rules)
    for start, stop in cuts(random.Random(seed), len(recs)):
        if store is not None:
            db = SQLiteStore(store)
            engine = TriggerEngine(rules, store=db)
        assert engine is not None
        got = engine.process_many([interaction(r) for r in recs[start:stop]])
        out += [*got.firings, *got.suppressed_firings]
        if store is not None:
            db.close()
    return out


class TestStreamEqualsBatch:
    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(colliding_rules(), st.integers(0, 10_000))
    def test_random_policies(self, text: str, seed: int) -> None:
        """Random colliding rules under random policies, streamed in random cuts: the same
        firings as batch, emitted and suppressed, with the same reasons."""
        rules = parse(text)
        recs = records(seed, 60, n_customers=3, days=20)
        flush = {"customer_id": "zz", "timestamp": T0 + timedelta(days=60), "kind": "login",
                 "interaction_id": "flush"}  # fmt: skip
        recs.append(flush)
        customers = {"c1": Customer("c1", consent=Consent({"marketing"}))}
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=T0 + timedelta(days=60),
                         customers=customers)  # fmt: skip
        engine = TriggerEngine(rules, customers=customers)
        got: list[Any] = []
        for start, stop in cuts(random.Random(seed), len(recs)):
            part = engine.process_many([interaction(r) for r in recs[start:stop]])
            got += [*part.firings, *part.suppressed_firings]
        expected = [*batch, *batch.suppressed]
        assert Counter(key(f) for f in got) == Counter(key(f) for f in expected)

    @pytest.mark.parametrize("seed", range(8))
    def test_across_restarts(self, seed: int, tmp_path: Path) -> None:
        """The same with the engine restarted from its SQLite file after every call."""
        rules = parse(SEEDED[seed % len(SEEDED)])
        recs = records(seed, 80, n_customers=3, days=20)
        recs.append({"customer_id": "zz", "timestamp": T0 + timedelta(days=60),
                     "kind": "login", "interaction_id": "flush"})  # fmt: skip
        batch = evaluate_complete(
            rules, InteractionLog.from_records(recs), as_of=T0 + timedelta(days=60)
        )
        got = streamed_with_reasons(rules, recs, seed, tmp_path / "s.db")
        expected = [*batch, *batch.suppressed]
        assert Counter(key(f) for f in got) == Counter(key(f) for f in expected)
        assert any((f.reason or "").startswith("contact policy") for f in expected)


def key(f: Any) -> tuple[Any, ...]:
    return (f.trigger, f.customer_id, f.time, f.firing_id, f.reason, repr(f.payload))


SEEDED = [
    """trigger r0:
    when purchase as p
    emit a
    cooldown 2 days

trigger r1:
    when product_view as v then no purchase for 1 days
    emit b

trigger r2:
    when inactive for 3 days
    emit c

contact policy p:
    at most 1 per 3 days
    rules r2 > r0 > r1
""",
    """trigger r0:
    when purchase as p where p.value >= 100
    emit a
    quiet hours 22:00-06:00

trigger r1:
    when purchase as p then after 1 days
    emit b

trigger r2:
    when product_view as v
    emit c
    holdout 30%

contact policy p:
    at most 2 per 1 months
    rules r1 > r2 > r0
""",
]
