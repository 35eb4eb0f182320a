"""Rules as JSON through the cattrs converter: the format, strict leaves and JSON paths."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cxmodel.errors import TriggerSyntaxError
from cxmodel.triggers import EXAMPLE_RULES, Holdout, Rule, RuleSet, parse
from cxmodel.triggers._json import rule_from_dict, rule_to_dict

RULES = parse(EXAMPLE_RULES)


class TestFormat:
    def test_a_rule_in_full(self) -> None:
        """Every key is written, in the documented order; modes are plain strings, durations
        are {amount, unit}, the payload is [key, expression] pairs, 'if' names the condition."""
        assert rule_to_dict(RULES["browse_abandonment"]) == {
            "name": "browse_abandonment",
            "when": {
                "mode": "event",
                "kind": "product_view",
                "alias": "v",
                "where": None,
                "duration": None,
            },
            "then": {
                "mode": "absent",
                "kind": "purchase",
                "where": {
                    "type": "binary",
                    "op": "==",
                    "left": {"type": "name", "name": "product", "qualifier": None},
                    "right": {"type": "name", "name": "product", "qualifier": "v"},
                },
                "duration": {"amount": 7, "unit": "days"},
            },
            "unless": None,
            "if": None,
            "emit": {
                "action": "limited_discount",
                "payload": [["product", {"type": "name", "name": "product", "qualifier": "v"}]],
            },
            "cooldown": {"amount": 30, "unit": "days"},
            "once": False,
            "once_every": None,
            "consent": "marketing",
            "quiet": None,
            "customer_timezone": False,
        }
        assert list(rule_to_dict(RULES["churn_risk"])) == [
            "name", "when", "then", "unless", "if", "emit", "cooldown", "once", "once_every",
            "consent", "quiet", "customer_timezone",
        ]  # fmt: skip

    def test_holdout_written_only_when_set(self) -> None:
        """A rule without a holdout has no 'holdout' key; with one, {percent, salt}."""
        import attrs

        rule = attrs.evolve(RULES["churn_risk"], holdout=Holdout(10, "v2"))
        assert "holdout" not in rule_to_dict(RULES["churn_risk"])
        assert rule_to_dict(rule)["holdout"] == {"percent": 10, "salt": "v2"}
        assert Rule.from_dict(rule.to_dict()) == rule

    def test_round_trip(self) -> None:
        """Every example rule reads back equal, through dicts and through JSON text."""
        for rule in RULES:
            assert rule_from_dict(json.loads(json.dumps(rule_to_dict(rule)))) == rule
        assert RuleSet.from_json(RULES.to_json()) == RULES


def _mutated(rule: str, path: list[Any], value: Any) -> dict[str, Any]:
    data = rule_to_dict(RULES[rule])
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


class TestReading:
    @pytest.mark.parametrize(
        ("rule", "path", "value", "message"),
        [
            ("churn_risk", ["when", "mode"], "idle", "rule.when.mode: unknown when mode 'idle'"),
            ("satisfaction_check", ["then", "mode"], "later", "rule.then.mode: unknown then mode"),
            ("churn_risk", ["when", "mode"], 3, "rule.when.mode: unknown when mode 3"),
            ("churn_risk", ["consent"], 7, "rule.consent: expected a string, got the number 7"),
            ("churn_risk", ["once"], 1, "rule.once: expected true or false, got the number 1"),
            ("churn_risk", ["when"], [], "rule.when: expected an object, got a list"),
            ("churn_risk", ["name"], 5, "rule.name: rule name 5 is not a name"),
            (
                "churn_risk",
                ["when", "duration", "unit"],
                "fortnights",
                "rule.when.duration.unit: unknown duration unit 'fortnights'",
            ),
            (
                "browse_abandonment",
                ["emit", "payload"],
                [["product", {"type": "nope"}]],
                "rule.emit.payload[0][1].type: unknown expression type 'nope'",
            ),
            (
                "browse_abandonment",
                ["emit", "payload"],
                [[1, {"type": "literal", "value": 1}]],
                "rule.emit.payload[0][0]: expected a string, got the number 1",
            ),
            (
                "churn_risk",
                ["quiet"],
                {"start": "22:00", "end": 480},
                "rule.quiet.start: expected a whole number, got a string",
            ),
            (
                "churn_risk",
                ["holdout"],
                {"percent": "10"},
                "rule.holdout.percent: expected a number, got '10'",
            ),
            (
                "churn_risk",
                ["then"],
                {"mode": "after", "kind": "purchase", "duration": {"amount": 1, "unit": "days"}},
                "rule.then: 'then after D' takes no kind or 'where'",
            ),
        ],
        ids=lambda v: v if isinstance(v, str) and " " not in v else None,
    )
    def test_bad_values_name_their_path(
        self, rule: str, path: list[Any], value: Any, message: str
    ) -> None:
        """A value the parser would refuse is refused, naming where it is in the JSON."""
        with pytest.raises(TriggerSyntaxError) as info:
            rule_from_dict(_mutated(rule, path, value))
        assert str(info.value).startswith(message)

    def test_misspelt_key_suggests_the_right_one(self) -> None:
        """An unknown key is reported before the key it misspells is missed, with a hint."""
        data = rule_to_dict(RULES["satisfaction_check"])
        data["unless"] = {"kidn": "survey"}
        with pytest.raises(TriggerSyntaxError, match=r"^rule.unless.kidn: unknown key 'kidn' "):
            rule_from_dict(data)
        with pytest.raises(TriggerSyntaxError, match="did you mean 'kind'"):
            rule_from_dict(data)

    def test_missing_key_names_its_object(self) -> None:
        """A required key that is absent is named on the object that lacks it."""
        data = rule_to_dict(RULES["churn_risk"])
        del data["emit"]["action"]
        with pytest.raises(TriggerSyntaxError, match=r"^rule\.emit: missing key 'action'"):
            rule_from_dict(data)

    def test_errors_are_e214_diagnostics(self) -> None:
        """JSON problems carry one E214 diagnostic whose message is the located text."""
        with pytest.raises(TriggerSyntaxError) as info:
            rule_from_dict(_mutated("churn_risk", ["once"], "yes"), "rules[0]")
        (diagnostic,) = info.value.errors
        assert diagnostic.code == "E214"  # type: ignore[attr-defined]
        assert diagnostic.message.startswith("rules[0].once: ")  # type: ignore[attr-defined]


class TestUniqueNames:
    TEXT = (
        "trigger a:\n    when x\n    emit y\n"
        "trigger b:\n    when x\n    emit y\n"
        "alert c:\n    when count(x within 1 days) > 1\n    emit z"
    )

    @pytest.mark.parametrize(
        ("section", "index", "path"),
        [("rules", 1, "rules[1]"), ("alerts", 0, "alerts[0]")],
        ids=["rule-after-rule", "alert-after-rule"],
    )
    def test_second_definition_is_refused(self, section: str, index: int, path: str) -> None:
        """A rule or alert whose name is taken is refused at its JSON path, naming the first."""
        data = parse(self.TEXT).to_dict()
        data[section][index]["name"] = "a"
        with pytest.raises(
            TriggerSyntaxError,
            match=rf"{re.escape(path)}\.name.*'a' is already defined at rules\[0\]",
        ):
            RuleSet.from_dict(data)
