"""Catalogue events: the language of catalogue rules, their checks, and rules in customer
time, in batch and streaming alike."""

from __future__ import annotations

import warnings

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning, TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import Duration
from cxmodel.log import InteractionLog
from cxmodel.triggers import Reach, RuleSet, check, col, parse, trigger
from tests.triggers.catalogues import AS_OF, BACK_IN_STOCK, CATALOGUE, LOG, key, parse_where, stream
from tests.triggers.helpers import evaluate_complete


class TestLanguage:
    def test_text_json_and_builder_agree(self) -> None:
        """The clause parses, prints back (on a line of its own), survives JSON, and the
        builder makes the same rule."""
        rules = parse(BACK_IN_STOCK)
        rule = rules["back_in_stock"]
        assert rule.when.reach == Reach(
            "product_view", parse_where("product == r.product"), Duration(30, "days")
        )
        assert str(rule).splitlines()[1:3] == [
            "    when restock as r",
            "        for customers with product_view where product == r.product within 30 days",
        ]
        assert parse(str(rules)) == rules
        assert RuleSet.from_json(rules.to_json()) == rules
        built = (
            trigger("back_in_stock")
            .when("restock", as_="r")
            .for_customers_with("product_view", where=col("product") == col("r.product"),
                                within="30 days")
            .emit("back_in_stock", product=col("r.product"))
            .build()
        )  # fmt: skip
        assert built == rule

    def test_json_without_reach_is_unchanged(self) -> None:
        """A rule without the clause writes no 'reach' key (older readers see the same JSON)."""
        rules = parse("trigger t:\n    when purchase\n    emit a")
        assert "reach" not in rules.to_dict()["rules"][0]["when"]

    def test_json_paths_name_the_problem(self) -> None:
        """A broken 'reach' in JSON names its path."""
        data = parse(BACK_IN_STOCK).to_dict()
        del data["rules"][0]["when"]["reach"]["within"]
        import json

        with pytest.raises(TriggerSyntaxError, match=r"rules\[0\]\.when\.reach"):
            RuleSet.from_json(json.dumps(data))


class TestCheck:
    def test_unknown_kind_in_the_clause(self) -> None:
        """An unknown customer kind in 'for customers with' is E301 with a suggestion."""
        rules = parse(BACK_IN_STOCK.replace("with product_view", "with product_veiw"))
        with pytest.raises(TriggerTypeError) as info:
            check(rules, LOG, catalogue=CATALOGUE)
        assert info.value.errors[0].code == "E301"
        assert info.value.errors[0].hint == "did you mean 'product_view'?"

    def test_unknown_property_of_the_customers_interaction(self) -> None:
        """A bare name in the clause is the customer's interaction's: E302 from the log."""
        rules = parse(BACK_IN_STOCK.replace("where product ==", "where prodct =="))
        with pytest.raises(TriggerTypeError) as info:
            check(rules, LOG, catalogue=CATALOGUE)
        assert [(d.code, d.hint) for d in info.value.errors] == [("E302", "did you mean product?")]

    def test_unknown_property_of_the_event(self) -> None:
        """'r.name' is the catalogue event's: E302 against the catalogue's columns, also in
        the payload, and evaluate refuses the same."""
        rules = parse(BACK_IN_STOCK.replace("product = r.product", "n = r.qtty"))
        with pytest.raises(TriggerTypeError) as info:
            check(rules, LOG, catalogue=CATALOGUE)
        assert [(d.code, d.hint) for d in info.value.errors] == [("E302", "did you mean r.qty?")]
        with pytest.raises(TriggerTypeError, match="rule 'back_in_stock'"):
            evaluate_complete(rules, LOG, as_of=AS_OF, catalogue=CATALOGUE)

    def test_key_types_must_match(self) -> None:
        """A text key compared with a number key is E303."""
        rules = parse(BACK_IN_STOCK.replace("product == r.product", "product == r.qty"))
        with pytest.raises(TriggerTypeError) as info:
            check(rules, LOG, catalogue=CATALOGUE)
        assert [d.code for d in info.value.errors] == ["E303"]

    def test_without_catalogue_events_check_warns(self) -> None:
        """Without catalogue events the event's side cannot be checked: a DataWarning."""
        rules = parse(BACK_IN_STOCK.replace("product = r.product", "n = r.qtty"))
        with pytest.warns(DataWarning, match="no catalogue events were given"):
            check(rules, LOG)

    def test_a_catalogue_without_the_kind_warns_with_a_suggestion(self) -> None:
        """A catalogue holding no event of the rule's kind: a DataWarning with did-you-mean."""
        rules = parse(BACK_IN_STOCK.replace("when restock", "when restok"))
        with pytest.warns(DataWarning, match="did you mean 'restock'"):
            check(rules, LOG, catalogue=CATALOGUE)

    def test_a_clean_rule_checks_silently(self) -> None:
        """The example rule checks against the log and catalogue without a word."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check(parse(BACK_IN_STOCK), LOG, catalogue=CATALOGUE)


class TestCustomerTime:
    def test_a_month_window_on_the_customers_calendar(self) -> None:
        """'within 1 months' in customer time starts a calendar month before the event on
        the customer's wall clock: an event at 2024-03-31T03:00Z is Mar 30 20:00 in Los
        Angeles, so the window opens Feb 29 20:00 PST (Mar 1 04:00Z) and a view at Feb 29
        12:00Z is outside it, though inside the UTC window (from Feb 29 03:00Z)."""
        utc = BACK_IN_STOCK.replace("30 days", "1 months")
        local = utc + "    in customer timezone\n"
        customers = {"ana": Customer("ana", traits={"timezone": "America/Los_Angeles"})}
        seen = {"customer_id": "ana", "timestamp": "2024-02-29T12:00:00Z",
                "kind": "product_view", "product": "shoes"}  # fmt: skip
        event = {"timestamp": "2024-03-31T03:00:00Z", "kind": "restock", "product": "shoes"}
        log = InteractionLog.from_records([seen])
        for text, expected in ((utc, 1), (local, 0)):
            batch = evaluate_complete(parse(text), log, as_of=AS_OF, catalogue=[event],
                             customers=customers)  # fmt: skip
            streamed = stream(parse(text), [seen, event], customers=customers)
            assert len(batch) == expected and key(streamed) == key(batch)


def test_a_contact_policy_cannot_name_a_catalogue_rule() -> None:
    """Contact policies span customers' own rules; a catalogue rule in one is refused."""
    text = (
        "trigger back:\n    when restock as r for customers with product_view within 3 days\n"
        "    emit back\n"
        "trigger thanks:\n    when purchase\n    emit thanks\n"
        "contact policy weekly:\n    at most 1 per 7 days\n    rules back > thanks\n"
    )
    with pytest.raises(TriggerSyntaxError, match="names catalogue rule 'back'") as caught:
        parse(text)
    assert caught.value.errors[0].code == "E217"
