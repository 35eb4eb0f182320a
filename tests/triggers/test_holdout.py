"""Holdouts: ``holdout P% [salt "S"]`` in text, JSON and the builder; held-out firings
suppressed as "holdout" the same way in both drivers."""

from __future__ import annotations

import json
import warnings
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxmodel.errors import DataWarning, TriggerSyntaxError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    Holdout,
    RuleSet,
    TriggerEngine,
    holdout_fraction,
    parse,
    trigger,
)
from tests.triggers.helpers import evaluate_complete

RULE = """trigger welcome:
    when signup as s
    emit coupon
    holdout 12.5% salt "v\\"2"
"""


class TestClause:
    def test_text_round_trip(self) -> None:
        rules = parse(RULE)
        assert rules["welcome"].holdout == Holdout(12.5, 'v"2')
        assert str(rules) == RULE
        assert parse(str(rules)) == rules

    def test_json_round_trip(self) -> None:
        rules = parse(RULE)
        data = json.loads(rules.to_json())
        assert data["rules"][0]["holdout"] == {"percent": 12.5, "salt": 'v"2'}
        assert RuleSet.from_json(rules.to_json()) == rules

    def test_json_without_holdout_is_unchanged(self) -> None:
        rules = parse("trigger t:\n    when signup\n    emit a")
        assert "holdout" not in json.loads(rules.to_json())["rules"][0]

    def test_builder(self) -> None:
        built = trigger("welcome").when("signup", as_="s").emit("coupon").holdout(12.5, salt='v"2')
        assert built.build() == parse(RULE)["welcome"]
        plain = trigger("t").when("signup").emit("a").holdout(10).build()
        assert plain == parse("trigger t:\n    when signup\n    emit a\n    holdout 10%")["t"]

    def test_builder_warns_for_a_share_and_takes_text_with_its_sign(self) -> None:
        """.holdout(0.5) is 0.5 %, as in the text, but most likely meant a half: it warns;
        .holdout("0.5%") says the small percentage is meant."""
        start = trigger("t").when("signup").emit("a")
        with pytest.warns(DataWarning, match=r"percent=0\.5 is read as 0\.5 %.*percent=50"):
            warned = start.holdout(0.5).build()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            explicit = start.holdout("0.5%").build()
            whole = start.holdout(1).build()
        text = parse("trigger t:\n    when signup\n    emit a\n    holdout 0.5%")["t"]
        assert warned == explicit == text
        assert whole.holdout == Holdout(1)

    @pytest.mark.parametrize("share", ["0%", "100%", "150%", "-5%", "0.0%"])
    def test_bad_share(self, share: str) -> None:
        with pytest.raises(TriggerSyntaxError) as info:
            parse(f"trigger t:\n    when signup\n    emit a\n    holdout {share}")
        (d,) = info.value.errors
        assert (d.code, d.line) == ("E215", 4)
        assert "strictly between 0% and 100%" in d.message

    @pytest.mark.parametrize(
        ("text", "code"), [("ten%", "E215"), ("10", "E106"), ("10% salt v2", "E106")]
    )
    def test_bad_syntax(self, text: str, code: str) -> None:
        with pytest.raises(TriggerSyntaxError) as info:
            parse(f"trigger t:\n    when signup\n    emit a\n    holdout {text}")
        assert info.value.errors[0].code == code

    def test_given_twice(self) -> None:
        with pytest.raises(TriggerSyntaxError) as info:
            parse("trigger t:\n    when signup\n    emit a\n    holdout 10%\n    holdout 20%")
        assert info.value.errors[0].code == "E206"

    @pytest.mark.parametrize(
        ("holdout", "needle"),
        [
            ({"percent": 0}, "rules[0].holdout: the holdout share must lie strictly"),
            ({"percent": "10"}, "rules[0].holdout.percent: expected a number"),
            ({"percent": True}, "rules[0].holdout.percent: expected a number"),
            ({"percent": 10, "salt": 3}, "rules[0].holdout.salt"),
            ({"percent": 10, "sal": "x"}, "rules[0].holdout.sal: unknown key"),
            ({}, "rules[0].holdout"),
        ],
    )
    def test_json_validated(self, holdout: dict[str, Any], needle: str) -> None:
        data = json.loads(parse("trigger t:\n    when signup\n    emit a").to_json())
        data["rules"][0]["holdout"] = holdout
        with pytest.raises(TriggerSyntaxError) as info:
            RuleSet.from_json(json.dumps(data))
        assert needle in str(info.value)
        assert info.value.errors[0].code == "E214"

    def test_python_constructor_checks(self) -> None:
        for bad in (0, 100, float("nan"), True, "10"):
            with pytest.raises(TriggerSyntaxError):
                Holdout(bad)  # type: ignore[arg-type]


T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def signups(n: int, repeats: int = 3) -> list[dict[str, Any]]:
    """``n`` customers, each with a few signups and consent events."""
    out = []
    for i in range(n):
        for k in range(repeats):
            out.append(
                {
                    "customer_id": f"c{i}",
                    "kind": "signup",
                    "timestamp": T0 + timedelta(days=i % 7 + 3 * k, hours=k),
                }
            )
        if i % 3:
            out.append(
                {"customer_id": f"c{i}", "kind": "consent_granted", "purpose": "marketing",
                 "timestamp": T0 + timedelta(hours=i % 5)}
            )  # fmt: skip
    return sorted(out, key=lambda r: r["timestamp"])


POLICY_RULES = """
trigger plain:
    when signup
    emit a
    holdout 30%

trigger once_only:
    when signup
    emit b
    once per customer
    holdout 50% salt "x"

trigger cooled:
    when signup
    emit c
    cooldown 4 days
    requires consent marketing
    holdout 40%
"""


def verdicts(firings: Any) -> Counter[tuple[str, str, datetime, str | None]]:
    return Counter(
        (f.trigger, f.customer_id, f.time, f.reason)
        for f in [*firings.firings, *firings.suppressed_firings]
    )


class TestPolicies:
    def test_batch_equals_streaming_with_reasons(self) -> None:
        rules = parse(POLICY_RULES)
        recs = signups(60)
        batch = evaluate_complete(
            rules, InteractionLog.from_records(recs), as_of=T0 + timedelta(days=30)
        )
        engine = TriggerEngine(rules)
        streamed = engine.process_many(recs)
        assert verdicts(streamed) == verdicts(batch)
        assert any(f.reason == "holdout" for f in batch.suppressed)

    def test_holdout_comes_first_and_is_all_or_nothing(self) -> None:
        rules = parse(POLICY_RULES)
        recs = signups(60)
        got = evaluate_complete(
            rules, InteractionLog.from_records(recs), as_of=T0 + timedelta(days=30)
        )
        for rule in rules:
            assert rule.holdout is not None
            held = {
                c for c in {f"c{i}" for i in range(60)}
                if holdout_fraction(rule.name, rule.holdout.salt, c) < rule.holdout.share
            }  # fmt: skip
            mine = [*got.firings, *got.suppressed_firings]
            for f in mine:
                if f.trigger != rule.name:
                    continue
                # every firing of a held-out customer, later ones included, says "holdout"
                # (not "once per customer" or "no consent"): it started no cooldown and
                # counted for no once
                assert (f.reason == "holdout") == (f.customer_id in held)
            emitted = Counter(f.customer_id for f in got if f.trigger == rule.name)
            if rule.once:
                assert set(emitted.values()) == {1}
            assert not held & set(emitted)

    def test_timer_rules_equal_streaming(self) -> None:
        rules = parse(
            "trigger lapsed:\n    when inactive for 2 days\n    emit nudge\n    holdout 50%\n\n"
            "trigger later:\n    when signup as s then after 1 days\n    emit follow\n"
            "    once per customer every 5 days\n    holdout 25%"
        )
        recs = signups(40)
        as_of = T0 + timedelta(days=30)
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        engine = TriggerEngine(rules)
        out = list(engine.process_many(recs)) + engine.advance_to(as_of)
        assert Counter((f.trigger, f.customer_id, f.time) for f in out) == Counter(
            (f.trigger, f.customer_id, f.time) for f in batch
        )
        assert any(f.reason == "holdout" for f in batch.suppressed)
