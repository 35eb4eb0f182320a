"""Bool properties in the trigger language: batch and streaming fire alike on true, false and
missing values, the checker types a bool column, and the engine refuses a condition that
reads text or numbers, as the checker refuses it against a log."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Interaction
from cxmodel.errors import DataWarning, SchemaError, TriggerTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, check, evaluate, parse

AS_OF = "2025-01-01T00:00:00Z"
#: condition forms on a bool property, as a rule's where, its if, and inside an aggregate
CONDITIONS = [
    "p.vip",
    "not p.vip",
    "p.vip == true",
    "p.vip == false",
    "p.vip != true",
    "p.vip != false",
    "p.vip and p.value > 0",
    "p.vip or p.value > 5",
    "not (p.vip == true)",
    "p.vip in [true]",
    "(p.vip ?? false) == false",
    "p.vip ?? false",
]
VALUES = [True, False, None]


def records(vips: list[bool | None]) -> list[dict[str, Any]]:
    """One purchase per value on its own customer and day; ``None`` leaves the field out."""
    out = []
    for j, vip in enumerate(vips):
        rec: dict[str, Any] = {
            "customer_id": f"c{j % 3}",
            "timestamp": f"2024-01-{j + 1:02d}T00:00:00Z",
            "kind": "purchase",
            "value": float(j + 1),
            "interaction_id": f"i{j}",
        }
        if vip is not None:
            rec["vip"] = vip
        out.append(rec)
    return out


def rule_text(condition: str) -> str:
    return f"trigger t:\n    when purchase as p where {condition}\n    emit thanks(v = p.value)"


def interaction(rec: dict[str, Any]) -> Interaction:
    """The domain object for one of :func:`records`' records."""
    props = {"vip": rec["vip"]} if "vip" in rec else {}
    std = {k: rec[k] for k in ("interaction_id", "value")}
    return Interaction(rec["customer_id"], rec["timestamp"], rec["kind"], properties=props, **std)


def key(firings: Any) -> Counter[Any]:
    return Counter((f.customer_id, f.time, repr(f.payload), f.firing_id) for f in firings)


def batch(rules: Any, recs: list[dict[str, Any]]) -> Counter[Any]:
    return key(evaluate(rules, InteractionLog.from_records(recs), as_of=AS_OF))


def streamed(rules: Any, recs: list[dict[str, Any]], form: str) -> Counter[Any]:
    engine = TriggerEngine(rules, max_future=None)
    got: list[Any] = []
    if form == "process":
        for j, rec in enumerate(recs):
            got.extend(engine.process(rec if j % 2 else interaction(rec)))
    elif form == "many-records":
        got.extend(engine.process_many(recs))
    elif form == "many-interactions":
        got.extend(engine.process_many([interaction(r) for r in recs]))
    else:
        got.extend(engine.process_many(InteractionLog.from_records(recs)))
    got.extend(engine.advance_to(AS_OF))
    return key(got)


FORMS = ["process", "many-records", "many-interactions", "many-log"]


class TestBatchEqualsStreaming:
    @pytest.mark.parametrize("form", FORMS)
    @pytest.mark.parametrize("condition", CONDITIONS)
    def test_every_condition_form(self, condition: str, form: str) -> None:
        """Each condition on true, false and missing values fires on the same interactions
        in batch and in every streaming input form."""
        rules = parse(rule_text(condition))
        recs = records([True, False, None, True, None, False])
        assert streamed(rules, recs, form) == batch(rules, recs)

    @pytest.mark.parametrize(
        ("condition", "fired"),
        [
            ("p.vip", [0]),
            ("not p.vip", [1, 2]),
            ("p.vip == true", [0]),
            ("p.vip == false", [1]),
            ("p.vip != true", [1]),
            ("p.vip != false", [0]),
        ],
    )
    def test_missing_is_false_in_a_condition(self, condition: str, fired: list[int]) -> None:
        """Worked by hand on (true, false, missing): a missing value is false as a condition
        (so 'not' of it is true), and every comparison with it is false."""
        rules = parse(rule_text(condition))
        got = evaluate(rules, InteractionLog.from_records(records(VALUES)), as_of=AS_OF)
        assert sorted(f.payload["v"] - 1 for f in got) == fired

    def test_aggregates_and_if(self) -> None:
        """A bool property counted in an aggregate's where and tested in 'if'."""
        rules = parse(
            "trigger t:\n    when purchase as p\n    if count(purchase where vip) >= 2\n"
            "    emit loyal"
        )
        recs = records([True, None, False, True, True, None, False])
        assert streamed(rules, recs, "many-records") == batch(rules, recs)
        assert streamed(rules, recs, "process") == batch(rules, recs)
        assert sum(batch(rules, recs).values()) > 0

    @settings(max_examples=40, deadline=None)
    @given(
        vips=st.lists(st.sampled_from(VALUES), min_size=1, max_size=12),
        condition=st.sampled_from(CONDITIONS),
        form=st.sampled_from(FORMS),
    )
    def test_any_values(self, vips: list[bool | None], condition: str, form: str) -> None:
        """Any sequence of true/false/missing values: batch equals streaming."""
        rules = parse(rule_text(condition))
        recs = records(vips)
        if not any(v is not None for v in vips):  # no vip at all: the log has no such column
            with pytest.raises(TriggerTypeError):
                batch(rules, recs)
            return
        assert streamed(rules, recs, form) == batch(rules, recs)


class TestChecker:
    @pytest.mark.parametrize("condition", CONDITIONS)
    def test_bool_column_is_a_condition(self, condition: str) -> None:
        """Every form above checks against a log with a bool column."""
        check(parse(rule_text(condition)), InteractionLog.from_records(records([True, None])))

    @pytest.mark.parametrize(
        ("condition", "hint"),
        [
            ('p.vip == "True"', "did you mean 'p.vip' (or 'p.vip == true')?"),
            ('p.vip != "true"', "did you mean 'not p.vip' (or 'p.vip == false')?"),
            ('p.vip == "False"', "did you mean 'not p.vip' (or 'p.vip == false')?"),
            ('p.vip == "0"', "did you mean 'not p.vip' (or 'p.vip == false')?"),
            (
                'p.vip == "gold"',
                "p.vip is true or false: use it as a condition, e.g. 'where p.vip' or "
                "'not p.vip', or compare it with true or false",
            ),
        ],
    )
    def test_comparing_with_text_is_a_type_error_with_a_hint(
        self, condition: str, hint: str
    ) -> None:
        """Text compared with a bool column is E303, with a did-you-mean towards the bool."""
        log = InteractionLog.from_records(records([True, False]))
        with pytest.raises(TriggerTypeError) as info:
            evaluate(parse(rule_text(condition)), log, as_of=AS_OF)
        (problem,) = info.value.errors
        assert problem.code == "E303"
        assert problem.message == "rule 't': cannot compare a bool with a string"
        assert problem.hint == hint

    def test_text_column_is_not_a_condition(self) -> None:
        """A text column of 'True'/'False' (mixed data, said by a DataWarning) stays refused
        as a condition."""
        with pytest.warns(DataWarning, match=r"column 'vip' holds text in 1 row\(s\) and true/"):
            log = InteractionLog.from_records(records([True, False, "no"]))
        with pytest.raises(TriggerTypeError, match="E306"):
            evaluate(parse(rule_text("p.vip")), log, as_of=AS_OF)


class TestStreamingRefusals:
    @pytest.mark.parametrize(
        ("condition", "value", "message"),
        [
            ("p.vip", "yes", "record 2: vip 'yes' is not true or false (field 'vip'), and rule "
             "'t' uses it as a condition; send true or false, or leave the field out"),
            ("not p.vip", 1.0, "record 2: vip 1.0 is not true or false (field 'vip'), and rule "
             "'t' uses it as a condition; send true or false, or leave the field out"),
            ("p.vip == true", "True", "record 2: vip 'True' is not true or false (field 'vip'), "
             "and rule 't' uses it as a condition; send true or false, or leave the field out"),
            ("p.vip ?? false", "no", "record 2: vip 'no' is not true or false (field 'vip'), "
             "and rule 't' uses it as a condition; send true or false, or leave the field out"),
            ('p.vip == "True"', True, "record 2: vip True is true or false (field 'vip'), and "
             "rule 't' compares it with 'True'; compare it with true or false, or use it as a "
             "condition (where vip)"),
        ],
        ids=[
            "text-as-condition", "number-under-not", "text-equal-true", "text-defaulted",
            "bool-equal-text",
        ],
    )  # fmt: skip
    def test_refused_before_any_is_taken_in(self, condition: str, value: Any, message: str) -> None:
        """What the checker refuses against a log, the engine refuses for the call, taking
        none of its interactions in (a later valid call is unaffected)."""
        rules = parse(rule_text(condition))
        recs = records([None, None])
        recs[1]["vip"] = value
        engine = TriggerEngine(rules, max_future=None)
        with pytest.raises(SchemaError) as info:
            engine.process_many(recs)
        assert str(info.value) == message
        assert engine.stats()["customers"] == 0
        assert engine.watermark is None
        with pytest.raises(SchemaError, match=r"^record: vip"):
            engine.process(recs[1])
        engine.process(recs[0])
        assert engine.stats()["customers"] == 1

    def test_other_rules_fields_are_not_checked(self) -> None:
        """Text in a property no rule reads as a condition is taken in as before."""
        engine = TriggerEngine(parse(rule_text("p.value > 0")), max_future=None)
        got = list(engine.process_many(records([True])))
        got.extend(engine.process({**records([None])[0], "vip": "yes", "interaction_id": "z"}))
        assert len(got) + len(engine.advance_to(AS_OF)) == 2
