"""truth_uses: which properties rules read as true/false, and which they compare with text or
numbers (the engine's refusals of bools built on them are tested in test_bool_properties.py,
of text against numbers here)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.triggers import parse
from cxmodel.triggers._runner import RuleRunner
from cxmodel.triggers._truths import record_checks, refuse_misread, refuse_misread_one, truth_uses


def uses_of(
    where: str, extra: str = ""
) -> tuple[dict[str, tuple[str, object]], dict[str, tuple[str, object]]]:
    rules = parse(f"trigger t:\n    when purchase as p where {where}\n{extra}    emit x")
    uses = truth_uses(rules)
    return uses.conditions, uses.compared


class TestTruthUses:
    @pytest.mark.parametrize(
        ("where", "conditions"),
        [
            ("p.vip", {"vip"}),
            ("not p.vip", {"vip"}),
            ("p.vip and p.new or p.old", {"vip", "new", "old"}),
            ("p.vip == true", {"vip"}),
            ("false != p.vip", {"vip"}),
            ("p.vip in [true]", {"vip"}),
            ("p.vip ?? p.old", {"vip", "old"}),
            ("count(purchase where seen) > 1", {"seen"}),
            ("p.value > 1", set()),
        ],
    )
    def test_conditions(self, where: str, conditions: set[str]) -> None:
        """A property used as a condition or compared with true/false, each named once."""
        found, _ = uses_of(where)
        assert set(found) == conditions
        assert set(found.values()) <= {("t", True)}

    def test_compared_with_text_or_numbers(self) -> None:
        """A property compared with a text or number literal, with the first literal; the
        standard fields, whose type is fixed, are left out."""
        _, compared = uses_of('p.plan == "gold" and p.qty > 2 and p.value > 1 and p.plan != "x"')
        assert compared == {"plan": ("t", "gold"), "qty": ("t", 2)}

    def test_if_and_traits(self) -> None:
        """The 'if' condition counts; customer traits are not the interactions' properties."""
        found, _ = uses_of("customer.vip", "    if p.vip\n")
        assert set(found) == {"vip"}
        assert not truth_uses(parse("trigger t:\n    when purchase\n    emit x"))


class TestTextAgainstNumbers:
    """A property a rule compares with text must not carry a number, and one it compares
    with a number must not carry text: the engine refuses the call (before taking any of
    it in) naming the record, field, value and rule. A comparison of text with a number is
    false for the engine, where batch refuses the rule over such a log (E303), so without
    the refusal the engine would silently not fire (``x.size == "10"`` for ``size`` 10)."""

    @pytest.mark.parametrize(
        ("where", "value", "message"),
        [
            ('p.size == "10"', 10, "record 2: size 10.0 is a number .* compares it with the text '10'"),
            ('p.size in ["S", "M"]', 1.5, "size 1.5 is a number"),
            ("p.size > 3", "XL", "record 2: size 'XL' is text .* the number 3"),
            ("count(purchase where size == 3) > 0", "3", "size '3' is text"),
        ],
    )  # fmt: skip
    def test_refused_and_batch_refuses_the_log(self, where: str, value: Any, message: str) -> None:
        from cxmodel.errors import SchemaError, TriggerTypeError
        from cxmodel.log import InteractionLog
        from cxmodel.triggers import TriggerEngine, evaluate

        rules = parse(f"trigger t:\n    when purchase as p where {where}\n    emit x")
        good = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        bad = {**good, "timestamp": "2024-01-02T00:00:00Z", "size": value}
        engine = TriggerEngine(rules)
        with pytest.raises(SchemaError, match=message):
            engine.process_many([good, bad])
        assert engine.watermark is None  # nothing of the call was taken in
        with pytest.raises(TriggerTypeError, match="E303"):
            evaluate(rules, InteractionLog.from_records([bad]), as_of="2024-01-03T00:00:00Z")

    def test_ids_are_text_and_compare_with_text(self) -> None:
        """A number in a property named like an id is text, as a log reads it: it compares
        with text, and a rule comparing it with a number is refused."""
        from cxmodel.errors import SchemaError
        from cxmodel.triggers import TriggerEngine

        rec = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
               "order_id": 7}  # fmt: skip
        text = parse('trigger t:\n    when purchase as p where p.order_id == "7"\n    emit x')
        assert len(TriggerEngine(text).process(rec)) == 1
        number = parse("trigger t:\n    when purchase as p where p.order_id == 7\n    emit x")
        with pytest.raises(SchemaError, match="order_id '7' is text"):
            TriggerEngine(number).process(rec)


_RULES_READING_PROPERTIES = parse(
    'trigger a:\n    when purchase as p where p.vip and p.plan == "gold" and p.qty > 2\n'
    "    emit x(total = p.qty * 2)\n"
    "trigger b:\n    when view as v where length(v.note) > 3\n    emit y\n"
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
)


class TestOneRecordChecks:
    """The engine checks one record at a time with precompiled checks (``record_checks``,
    ``refuse_misread_one``): they refuse exactly the records ``refuse_misread`` refuses,
    with its message."""

    @settings(max_examples=300, deadline=None)
    @given(
        fields=st.dictionaries(
            st.sampled_from(["vip", "plan", "qty", "note", "other"]), _VALUES, max_size=5
        )
    )
    def test_refuses_what_refuse_misread_refuses(self, fields: dict[str, Any]) -> None:
        runner = RuleRunner(_RULES_READING_PROPERTIES, {})
        row = SimpleNamespace(fields=fields)
        checks = record_checks(runner.numeric, runner.truths)
        assert checks == runner.record_checks
        try:
            refuse_misread([row], runner.numeric, runner.truths)
        except SchemaError as error:
            with pytest.raises(SchemaError) as one:
                refuse_misread_one(row, checks, runner.numeric, runner.truths)
            assert str(one.value) == str(error)
        else:
            refuse_misread_one(row, checks, runner.numeric, runner.truths)

    def test_no_checks_without_properties_read(self) -> None:
        """Rules that read no property's type check nothing (the engine skips the call)."""
        runner = RuleRunner(parse("trigger t:\n    when purchase\n    emit x"), {})
        assert runner.record_checks == ()
