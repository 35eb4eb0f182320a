"""Tests of the clause joining catalogue events to customers, ``for customers with KIND [where C]
within D``: join keys, and the clauses refused with their codes."""

from __future__ import annotations

import pytest

from cxmodel.errors import TriggerSyntaxError
from cxmodel.expr import Duration, parse_expr
from cxmodel.triggers import Pattern, Reach, parse
from cxmodel.triggers._reach import join_terms
from tests.triggers.catalogues import BACK_IN_STOCK


class TestLanguage:
    @pytest.mark.parametrize(
        ("when", "code"),
        [
            pytest.param("restock for customers with product_view within 3 days", "E211",
                         id="no-as"),
            pytest.param("restock as r for customers with product_view where product == "
                         "r.product", "E106", id="no-within"),
            pytest.param("restock as r for customers with product_view where product != "
                         "r.product within 3 days", "E218", id="not-a-key"),
            pytest.param("restock as r for customers with product_view where product == "
                         "r.product or value > 1 within 3 days", "E218", id="or-with-the-event"),
            pytest.param("restock as r where count(purchase) > 0 for customers with "
                         "product_view within 3 days", "E218", id="aggregate-on-the-event"),
            pytest.param("restock as r where customer.plan == \"vip\" for customers with "
                         "product_view within 3 days", "E218", id="trait-on-the-event"),
            pytest.param("restock as r for customers with product_view where "
                         "count(purchase) > 1 within 3 days", "E218", id="aggregate-in-join"),
            pytest.param("restock as r for customers with product_view where product == "
                         "r.customer_id within 3 days", "E218", id="event-customer-id"),
            pytest.param("restock as r for customers with product_view within 3 days then "
                         "purchase", "E213", id="then"),
            pytest.param("restock as r for people with product_view within 3 days", "E106",
                         id="not-customers"),
        ],
    )  # fmt: skip
    def test_malformed_clauses_are_refused(self, when: str, code: str) -> None:
        """Each malformed catalogue clause is a syntax error with its stable code."""
        with pytest.raises(TriggerSyntaxError) as info:
            parse(f"trigger t:\n    when {when}\n    emit a")
        assert [d.code for d in info.value.errors] == [code]

    def test_before_the_event_is_refused(self) -> None:
        """'before r' reads the customer's history before the event, which is not in it."""
        with pytest.raises(TriggerSyntaxError, match="E218"):
            parse(BACK_IN_STOCK.replace("emit back_in_stock", "if count(purchase before r) == 0"
                                        "\n    emit back_in_stock"))  # fmt: skip

    def test_reach_needs_an_event_pattern(self) -> None:
        """The AST refuses the clause on 'when no KIND for D'."""
        reach = Reach("product_view", None, Duration(3, "days"))
        with pytest.raises(TriggerSyntaxError, match="follows only"):
            Pattern("absent", "restock", duration=Duration(3, "days"), reach=reach)


class TestJoinTerms:
    @pytest.mark.parametrize(
        ("where", "keys", "rest"),
        [
            ("product == r.product", (("product", "product"),), None),
            ("r.sku == product and value > 0", (("product", "sku"),), "value > 0"),
            ("product == r.product and size == r.size and value > 0 and channel == \"web\"",
             (("product", "product"), ("size", "size")), 'value > 0 and channel == "web"'),
            ("value > 0", (), "value > 0"),
        ],
        ids=["one-key", "either-way-round", "two-keys-two-tests", "no-key"],
    )  # fmt: skip
    def test_keys_and_the_rest(
        self, where: str, keys: tuple[tuple[str, str], ...], rest: str | None
    ) -> None:
        """Equalities of a customer's field with the event's field are keys, in order; the
        other terms, joined by 'and', test the customer's interaction."""
        got_keys, got_rest = join_terms(parse_expr(where), "r")
        assert keys == got_keys
        assert rest == (None if got_rest is None else str(got_rest))

    def test_no_condition(self) -> None:
        """Without a condition there are no keys and nothing to test."""
        assert join_terms(None, "r") == ((), None)

    def test_str(self) -> None:
        """The clause prints as written after ``for customers with``."""
        reach = Reach("product_view", parse_expr("product == r.product"), Duration(30, "days"))
        assert str(reach) == "product_view where product == r.product within 30 days"
