"""Tests of the entry points for hosts and the command line: check, diagnose, refuse_unchecked,
refuse_on_any_log (what the streaming engine refuses before it sees data, as batch does) and
the kinds each property is read from."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, TriggerTypeError
from cxmodel.expr import Diagnostic, parse_expr
from cxmodel.log import InteractionLog
from cxmodel.triggers import E, RuleSet, TriggerEngine, _api, col, evaluate, parse, trigger
from cxmodel.triggers._api import (
    check,
    diagnose,
    property_kinds,
    refuse_on_any_log,
    refuse_unchecked,
)


class TestDiagnose:
    """``diagnose`` (behind ``check`` and ``evaluate``) tells refused unknown properties from
    unverifiable ones by the property a diagnostic is about, not by its message text."""

    LOG = InteractionLog.from_records(
        [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5}]
    )
    TEXT = (
        "trigger t:\n    when purchase as p where p.valu > 1\n    emit x\n"
        "trigger u:\n    when purchase if sum(purchase.valu within 30 days) > 2"
        " and sum(ticket_opened.wait within 3 days) > 1\n    emit y\n"
    )

    def test_unknown_property_carries_its_subject(self) -> None:
        """E302 names the property without its qualifier in ``subject``, in a clause and in an
        aggregate, and keeps it when the message is prefixed with the rule's name."""
        errors, unverifiable, _ = diagnose(parse(self.TEXT), self.LOG, name_rules=True)
        assert [(d.code, d.line, d.subject) for d in errors] == [
            ("E302", 2, "valu"),
            ("E302", 5, "valu"),
        ]
        assert errors[0].message == "rule 't': unknown property 'p.valu'"
        assert unverifiable == {"u": {"wait"}}

    @pytest.mark.parametrize(("subject", "refused"), [("valu", True), ("wait", False)])
    def test_decided_on_subject_not_text(
        self, monkeypatch: pytest.MonkeyPatch, subject: str, refused: bool
    ) -> None:
        """An E302 whose message names no property is refused when its subject is read from a
        kind the log holds, and dropped (unverifiable) when it is not."""
        diagnostic = Diagnostic("E302", 5, 1, "unknown property", subject=subject)
        monkeypatch.setattr(_api, "check_rules", lambda *args, **kwargs: (diagnostic,))
        rules = RuleSet((parse(self.TEXT)["u"],))
        errors, _, _ = diagnose(rules, self.LOG, name_rules=False)
        assert errors == ((diagnostic,) if refused else ())


LOG = InteractionLog.from_records(
    [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5}]
)


class TestCheck:
    def test_refusal_lists_every_error_with_carets(self) -> None:
        """Every error comes back in one TriggerTypeError; with the source, lines and carets."""
        text = "trigger t:\n    when purchse as p where p.valu > 1\n    emit x"
        with pytest.raises(TriggerTypeError) as info:
            check(parse(text), LOG, source=text)
        assert [d.code for d in info.value.errors] == ["E301"]  # type: ignore[attr-defined]
        assert "when purchse as p" in str(info.value) and "^" in str(info.value)

    def test_property_of_a_kind_the_log_lacks_warns(self) -> None:
        """A property read only from tickets, over a log without tickets, is a warning."""
        text = 'trigger t:\n    when ticket_opened as x where x.topic == "billing"\n    emit y'
        with pytest.warns(DataWarning, match=r"rule 't': 'topic'"):
            check(parse(text), LOG)

    def test_property_no_row_of_its_kind_has_warns(self) -> None:
        """A column the log has but no purchase row fills (coupons on clicks only) is read as
        missing by a purchase rule: check names the rule, property, kind and row count, where
        the rule used to return no firings without a word. One filled row is enough."""
        rows = [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"},
            {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase"},
            {
                "customer_id": "a",
                "timestamp": "2024-01-03T00:00:00Z",
                "kind": "email_clicked",
                "coupon": "X",
            },
        ]
        text = 'trigger t:\n    when purchase as p where p.coupon != "X"\n    emit y'
        with pytest.warns(DataWarning, match="rule 't' reads 'coupon' of purchase .* 2 purchase"):
            check(parse(text), InteractionLog.from_records(rows))
        rows[1]["coupon"] = "Y"
        check(parse(text), InteractionLog.from_records(rows))

    def test_clean_rules_pass_silently(self) -> None:
        """Rules the log can verify raise and warn nothing."""
        check(parse("trigger t:\n    when purchase as p where p.value > 1\n    emit x"), LOG)


class TestRefuseUnchecked:
    def test_messages_name_the_rule(self) -> None:
        """Each refused diagnostic's message starts with its rule's name."""
        with pytest.raises(TriggerTypeError, match="rule 't': unknown kind 'purchse'"):
            refuse_unchecked(parse("trigger t:\n    when purchse\n    emit x"), LOG)


def _built(where: E) -> RuleSet:
    """A rule from the builder, which (unlike ``parse``) checks no types."""
    return RuleSet((trigger("t").when("purchase", as_="p", where=where).emit("x").build(),))


RESTOCK = ("trigger t:\n    when restocked as r for customers with product_view where product =="
           " r.product within 30 days\n")  # fmt: skip

#: rules refused over every log, by the code batch gives for them
ANY_LOG_REFUSALS = [
    pytest.param(
        parse("trigger t:\n    when purchase as p where timestamp - p.timestamp > 1\n    emit x"),
        "E303",
        id="E303-times-subtracted",
    ),
    pytest.param(
        parse("trigger t:\n    when purchase as p where kind > 3\n    emit x"),
        "E303",
        id="E303-kind-compared-with-number",
    ),
    pytest.param(
        parse("trigger t:\n    when purchase\n    emit x(v = sum(purchase.timestamp))"),
        "E303",
        id="E303-sum-of-times",
    ),
    pytest.param(
        parse(RESTOCK + "    if r.timestamp * 2 > 0\n    emit x"), "E303", id="E303-catalogue"
    ),
    pytest.param(
        parse("alert a:\n    when sum(purchase.timestamp within 1 days) > 9\n    emit y"),
        "E303",
        id="E303-alert",
    ),
    pytest.param(_built(col("q.value") > 1), "E304", id="E304-unbound-name"),
    pytest.param(_built(E(parse_expr("value > 2 days"))), "E305", id="E305-duration-as-number"),
    pytest.param(_built(col("value") + 1), "E306", id="E306-number-as-condition"),
    pytest.param(
        parse("trigger t:\n    when purchase where not timestamp\n    emit x"),
        "E306",
        id="E306-not-a-time",
    ),
]

#: a log and catalogue that hold everything the rules above read
ANY_LOG = InteractionLog.from_records(
    [
        {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
         "value": 5.0, "product": "p1"},
        {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "product_view",
         "product": "p1"},
    ]
)  # fmt: skip
CATALOGUE = [{"timestamp": "2024-01-03T00:00:00Z", "kind": "restocked", "product": "p1"}]
SEEN = parse("trigger seen:\n    when view\n    emit k")

_TYPES = st.sampled_from(["float", "string", "bool"])
_VALUES: dict[str, Any] = {"float": 1.5, "string": "x", "bool": True}
_OPERANDS = st.sampled_from(
    [
        "timestamp", "p.timestamp", "kind", "customer_id", "amount", "p.label", "1", '"a"',
        "true", "2 days", "count(purchase within 3 days)",
        "max(purchase.amount within 3 days)", "min(purchase.timestamp within 3 days)",
    ]
)  # fmt: skip


def _combined(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Expressions over ``inner`` joined by each operator the language has."""
    ops = st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", ">=", "and", "or", "??"])
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, ops, inner),
        st.builds(lambda op, a: f"({op} {a})", st.sampled_from(["not", "-"]), inner),
    )


def _refusal(call: Any) -> TriggerTypeError:
    with pytest.raises(TriggerTypeError) as info:
        call()
    return info.value


class TestRefuseOnAnyLog:
    """The streaming engine refuses, before it sees any data, every rule batch ``evaluate``
    refuses over every log, with the same error text: it used to take ``timestamp -
    p.timestamp`` and compute on raw microseconds."""

    @pytest.mark.parametrize(("rules", "code"), ANY_LOG_REFUSALS)
    def test_engine_refuses_what_batch_refuses(self, rules: RuleSet, code: str) -> None:
        """Batch, the engine's constructor and ``add_rule`` refuse the rule with the same
        codes and text."""
        batch = _refusal(
            lambda: evaluate(rules, ANY_LOG, as_of="2024-02-01T00:00:00Z", catalogue=CATALOGUE)
        )
        built = _refusal(lambda: TriggerEngine(rules))
        engine = TriggerEngine(SEEN)
        (added,) = (*rules.rules, *rules.alerts)
        added_later = _refusal(lambda: engine.add_rule(added))
        assert {code} == {d.code for d in batch.errors}  # type: ignore[attr-defined]
        assert str(batch) == str(built) == str(added_later)
        assert batch.errors == built.errors == added_later.errors  # type: ignore[attr-defined]
        assert [r.name for r in engine.rules] == ["seen"]  # nothing was added

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("trigger t:\n    when purchse\n    emit x", id="E301-unknown-kind"),
            pytest.param(
                "trigger t:\n    when purchase as p where p.valu > 1\n    emit x",
                id="E302-unknown-property",
            ),
            pytest.param(
                "trigger t:\n    when purchase as p where p.value > 1\n    emit x", id="clean"
            ),
        ],
    )
    def test_what_depends_on_the_data_is_not_refused(self, text: str) -> None:
        """Unknown kinds and properties depend on the data (a log may hold them): the engine
        takes such rules, as ``check`` against a log with them would."""
        refuse_on_any_log(parse(text))
        TriggerEngine(parse(text))

    def test_every_diagnostic_names_its_rule_or_alert(self) -> None:
        """Diagnostics of several rules and alerts come back together, in text order, each
        naming what it is about."""
        text = (
            "trigger t:\n    when purchase as p where kind > 3\n    emit x\n"
            "alert a:\n    when sum(purchase.timestamp within 1 days) > 9\n    emit y\n"
        )
        error = _refusal(lambda: refuse_on_any_log(parse(text)))
        assert [(d.line, d.message[:10]) for d in error.errors] == [  # type: ignore[attr-defined]
            (2, "rule 't': "),
            (5, "alert 'a':"),
        ]

    @settings(max_examples=150, deadline=None)
    @given(where=st.recursive(_OPERANDS, _combined, max_leaves=6), types=st.tuples(_TYPES, _TYPES))
    def test_refused_on_any_log_is_refused_on_each(
        self, where: str, types: tuple[str, str]
    ) -> None:
        """Whatever the types of a log's other columns, batch refuses each rule the engine
        refuses; without ``??`` (whose type follows its operands') it refuses each place the
        engine refuses, with the same code (an unknown type accepts more, never less; the
        message may name the other column's type, as in ``(not timestamp) < amount``)."""
        rules = _built(E(parse_expr(where)))
        try:
            refuse_on_any_log(rules)
        except TriggerTypeError as error:
            found = {(d.code, d.line, d.column) for d in error.errors}  # type: ignore[attr-defined]
        else:
            return
        value, product = (_VALUES[t] for t in types)
        log = InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
              "amount": value, "label": product}]
        )  # fmt: skip
        refused, _, _ = diagnose(rules, log, name_rules=True)
        assert refused
        if "??" not in where:
            assert found <= {(d.code, d.line, d.column) for d in refused}


class TestPropertyKinds:
    def test_inactive_reads_from_any_kind(self) -> None:
        """The anchor of ``when inactive`` is any interaction: its properties' kind is None."""
        rule = parse("trigger t:\n    when inactive for 30 days\n    emit x(c = channel)")["t"]
        assert {"channel": {None}} == property_kinds(rule)

    def test_aggregates_read_from_their_kind(self) -> None:
        """An aggregate's field and filter are read from the aggregated kind; the alias's
        properties from the anchor; customer_id, timestamp and kind are not properties."""
        text = ("trigger t:\n    when purchase as p\n"
                "    if sum(refund.value where reason == p.product within 30 days) > kind\n"
                "    emit x")  # fmt: skip
        assert {
            "value": {"refund"},
            "reason": {"refund"},
            "product": {"purchase"},
        } == property_kinds(parse(text)["t"])


def test_a_kind_the_log_holds_spelt_otherwise_warns() -> None:
    """``when purchase`` over a log of ``Purchase`` rows never fires: check says why, naming
    the kind as the log writes it (a kind simply absent stays silent: no refunds is normal)."""
    log = InteractionLog.from_records(
        [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "Purchase"},
            {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": " survey "},
        ]
    )
    rules = parse(
        "trigger t:\n    when purchase as p\n    if count(survey within 7 days) == 0\n    emit x"
    )
    with pytest.warns(DataWarning) as caught:
        check(rules, log)
    messages = [str(w.message) for w in caught]
    assert any("reads 'purchase' interactions" in m and "'Purchase'" in m for m in messages)
    assert any("reads 'survey' interactions" in m and "' survey '" in m for m in messages)
    refunds = parse("trigger r:\n    when refund\n    emit x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(refunds, log)
