"""A streaming engine given the data its stream carries (``kinds=``, ``schema=``) refuses rules
as batch ``evaluate`` refuses them over a log holding exactly that data, with the same codes
and messages, and refuses an interaction that contradicts the declaration."""

from __future__ import annotations

from typing import Any

import pytest

from cxmodel.errors import SchemaError, TriggerTypeError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, evaluate, parse
from tests.triggers.helpers import one_rule

KINDS = ["renewal", "purchase", "survey"]
SCHEMA = {"plan": "string", "seats": "float", "trial": "bool", "order_id": "string"}


def declared_log() -> InteractionLog:
    """A log holding exactly the declared data: every kind, every property."""
    full = {"plan": "pro", "seats": 3.0, "trial": False, "order_id": "o1"}
    return InteractionLog.from_records(
        [
            {"customer_id": "a", "timestamp": f"2024-01-0{j + 1}T00:00:00Z", "kind": kind, **full}
            for j, kind in enumerate(KINDS)
        ]
    )


REFUSED = [
    pytest.param(one_rule("    when renewl as r\n    emit x"), id="E301-misspelt-kind"),
    pytest.param(one_rule("    when renewal as r where r.plna == 'pro'\n    emit x"), id="E302"),
    pytest.param(one_rule("    when renewal as r where r.seats == 'pro'\n    emit x"), id="E303"),
    pytest.param(one_rule("    when renewal as r where r.trial > 2\n    emit x"), id="E303-bool"),
    pytest.param(
        one_rule("    when renewal as r\n    if count(purchase where plna == 'x') > 1\n    emit x"),
        id="E302-aggregate",
    ),
    pytest.param(
        "alert a:\n    when count(renewal where plna == 'x' within 1 hours) > 3\n    emit y",
        id="E302-alert",
    ),
    pytest.param(
        "alert a:\n    when count(renewl within 1 hours) > 3\n    emit y", id="E301-alert"
    ),
]


def batch_error(text: str) -> str:
    with pytest.raises(TriggerTypeError) as info:
        evaluate(parse(text), declared_log(), as_of="2024-02-01T00:00:00Z")
    return str(info.value)


class TestRules:
    @pytest.mark.parametrize("text", REFUSED)
    def test_refused_as_batch_refuses(self, text: str) -> None:
        """At construction: batch's error, word for word (code, place, rule, hint)."""
        with pytest.raises(TriggerTypeError) as info:
            TriggerEngine(parse(text), kinds=KINDS, schema=SCHEMA)
        assert str(info.value) == batch_error(text)

    @pytest.mark.parametrize("text", REFUSED)
    def test_add_rule_refused_as_batch_refuses(self, text: str) -> None:
        """At :meth:`add_rule`: batch's error, and the engine is as before."""
        base = parse("trigger base:\n    when renewal\n    emit x")
        engine = TriggerEngine(base, kinds=KINDS, schema=SCHEMA)
        rules = parse(text)
        new = rules.alerts[0] if rules.alerts else next(iter(rules))
        with pytest.raises(TriggerTypeError) as info:
            engine.add_rule(new)
        assert str(info.value) == batch_error(text)
        assert [r.name for r in engine.rules] == ["base"] and engine.rules.alerts == ()

    @pytest.mark.parametrize("text", REFUSED)
    def test_taken_without_a_declaration(self, text: str) -> None:
        """Undeclared, the data is not known: the same rules are taken."""
        TriggerEngine(parse(text))

    def test_declared_rules_and_standard_fields_are_taken(self) -> None:
        """Rules reading declared kinds and properties, standard kinds (``view``) and
        standard fields (``value``, ``channel``) are taken, as batch takes them."""
        text = one_rule(
            "    when renewal as r where r.plan == 'pro' and not r.trial and r.value > 1\n"
            "    if count(view where channel == 'web' within 1 days) >= 0\n    emit x"
        )
        TriggerEngine(parse(text), kinds=KINDS, schema=SCHEMA)
        TriggerEngine(parse(text), kinds=KINDS)  # properties not declared: not checked


def rec(**fields: Any) -> dict[str, Any]:
    return {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "renewal", **fields}


BAD_RECORDS = [
    pytest.param(
        rec(kind="renewl"),
        r"kind 'renewl' is not declared \(field 'kind'\).*did you mean 'renewal'",
        id="kind",
    ),
    pytest.param(
        rec(plna="pro"),
        r"property 'plna' is not declared \(field 'plna'\).*did you mean 'plan'",
        id="property",
    ),
    pytest.param(
        rec(seats="three"),
        r"seats 'three' is text \(field 'seats'\).*declares it 'float'",
        id="text",
    ),
    pytest.param(rec(plan=3.0), r"plan 3.0 is a number \(field 'plan'\)", id="number"),
    pytest.param(rec(trial="no"), r"trial 'no' is text .*declares it 'bool'", id="bool"),
]


class TestRecords:
    @pytest.mark.parametrize(("record", "message"), BAD_RECORDS)
    def test_process_refuses(self, record: dict[str, Any], message: str) -> None:
        """One interaction that contradicts the declaration: a SchemaError naming it and the
        field, nothing processed."""
        engine = TriggerEngine(
            parse(one_rule("    when renewal\n    emit x")), kinds=KINDS, schema=SCHEMA
        )
        with pytest.raises(SchemaError, match="^record: " + message):
            engine.process(record)
        assert engine.watermark is None and engine.stats()["customers"] == 0

    @pytest.mark.parametrize(("record", "message"), BAD_RECORDS)
    def test_process_many_names_the_record(self, record: dict[str, Any], message: str) -> None:
        """In a micro-batch, the record's position; none of the batch is processed."""
        engine = TriggerEngine(
            parse(one_rule("    when renewal\n    emit x")), kinds=KINDS, schema=SCHEMA
        )
        with pytest.raises(SchemaError, match="^record 2: " + message):
            engine.process_many([rec(plan="pro", seats=2.0, trial=True), record])
        assert engine.watermark is None and engine.stats()["customers"] == 0

    def test_declared_and_standard_records_are_taken(self) -> None:
        """Declared kinds and properties, standard kinds and fields: processed."""
        engine = TriggerEngine(
            parse(one_rule("    when renewal\n    emit x")), kinds=KINDS, schema=SCHEMA
        )
        got = engine.process_many(
            [
                rec(plan="pro", seats=2.0, trial=True, value=5.0, channel="web"),
                rec(kind="view", timestamp="2024-01-02T00:00:00Z"),
            ]
        )
        assert [f.trigger for f in got] == ["t"]

    def test_unknown_kind_without_a_declaration(self) -> None:
        """Undeclared, a kind no rule reads is taken in and read by no rule."""
        engine = TriggerEngine(parse(one_rule("    when renewal\n    emit x")))
        assert engine.process(rec(kind="renewl", plna="pro")) == []
        assert engine.stats()["customers"] == 1


class TestDeclaration:
    @pytest.mark.parametrize(
        ("kinds", "schema", "error", "message"),
        [
            pytest.param("renewal", None, ValueTypeError, "kinds must be a list", id="kinds-text"),
            pytest.param([""], None, ValueTypeError, "a kind is non-empty text", id="empty-kind"),
            pytest.param(
                None, {"plan": "int"}, SchemaError, r"schema\['plan'\] is 'int'", id="type"
            ),
            pytest.param(
                None, {"value": "string"}, SchemaError, "'value' is always a float", id="standard"
            ),
            pytest.param(None, ["plan"], ValueTypeError, "schema must be a mapping", id="list"),
        ],
    )
    def test_bad_declarations(self, kinds: Any, schema: Any, error: type, message: str) -> None:
        with pytest.raises(error, match=message):
            TriggerEngine(
                parse(one_rule("    when renewal\n    emit x")), kinds=kinds, schema=schema
            )


CATALOGUE_RULE = (
    "trigger back:\n"
    "    when restock as r for customers with product_view where product == r.product "
    "within 30 days\n"
    "    emit back_in_stock"
)


def event(**fields: Any) -> dict[str, Any]:
    """A catalogue event (no customer) of the catalogue kind ``restock``."""
    return {"timestamp": "2024-01-02T00:00:00Z", "kind": "restock", **fields}


def catalogue_engine() -> TriggerEngine:
    return TriggerEngine(
        parse(CATALOGUE_RULE), kinds=[*KINDS, "restock"], schema={**SCHEMA, "product": "string"}
    )


BAD_EVENTS = [
    pytest.param(
        event(prodct="p1"),
        r"property 'prodct' is not declared \(field 'prodct'\).*did you mean 'product'",
        id="property",
    ),
    pytest.param(
        event(product=3.0),
        r"product 3.0 is a number \(field 'product'\).*declares it 'string'",
        id="number",
    ),
    pytest.param(event(product="p1", trial="no"), r"trial 'no' is text .*'bool'", id="bool"),
]


class TestCatalogueEvents:
    @pytest.mark.parametrize(("record", "message"), BAD_EVENTS)
    def test_process_refuses(self, record: dict[str, Any], message: str) -> None:
        """A catalogue event that contradicts the declaration is refused as a customer's
        interaction is: a SchemaError naming it and the field, nothing processed."""
        engine = catalogue_engine()
        with pytest.raises(SchemaError, match="^record: " + message):
            engine.process(record)
        assert engine.watermark is None

    @pytest.mark.parametrize(("record", "message"), BAD_EVENTS)
    def test_process_many_names_the_record(self, record: dict[str, Any], message: str) -> None:
        """In a micro-batch, the event's position; none of the batch is processed."""
        engine = catalogue_engine()
        view = {**rec(kind="product_view", product="p1"), "timestamp": "2024-01-01T00:00:00Z"}
        with pytest.raises(SchemaError, match="^record 2: " + message):
            engine.process_many([view, record])
        assert engine.watermark is None and engine.stats()["customers"] == 0

    def test_declared_events_are_taken(self) -> None:
        """A catalogue event of declared properties is processed and reaches the customer
        who viewed the product."""
        engine = catalogue_engine()
        view = {**rec(kind="product_view", product="p1"), "timestamp": "2024-01-01T00:00:00Z"}
        got = [*engine.process_many([view, event(product="p1")])]
        got += engine.advance_to("2024-01-03T00:00:00Z")
        assert [(f.customer_id, f.action) for f in got] == [("a", "back_in_stock")]
