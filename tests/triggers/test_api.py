"""Tests of the entry points for hosts and the command line: check, diagnose, refuse_unchecked
and the kinds each property is read from."""

from __future__ import annotations

import warnings

import pytest

from cxmodel.errors import DataWarning, TriggerTypeError
from cxmodel.expr import Diagnostic
from cxmodel.log import InteractionLog
from cxmodel.triggers import RuleSet, _api, parse
from cxmodel.triggers._api import check, diagnose, property_kinds, refuse_unchecked


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
