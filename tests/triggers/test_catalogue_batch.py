"""Catalogue rules in batch: catalogue events joined to the customers they reach, with
hand-computed firings."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import explain, firing_id, parse
from tests.triggers.catalogues import (
    AS_OF,
    BACK_IN_STOCK,
    CATALOGUE,
    LOG,
    fired,
    key,
    log_records,
    restock,
    stream,
    view,
)
from tests.triggers.helpers import evaluate_complete


class TestBatch:
    def test_back_in_stock(self) -> None:
        """The restock of shoes on Mar 10 reaches ana (views Mar 1 and 5) and ben (Mar 2);
        the hat restock reaches no one. 'because' shows the event and ana's latest view."""
        firings = evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of=AS_OF, catalogue=CATALOGUE)
        assert fired(firings) == [
            ("ana", "2024-03-10T00:00:00+00:00", ""),
            ("ben", "2024-03-10T00:00:00+00:00", ""),
        ]
        ana = firings[0]
        assert ana.payload == {"product": "shoes"}
        assert ana.because == {
            "when": {"kind": "restock", "time": "2024-03-10T00:00:00+00:00",
                     "interaction_id": "r1", "values": {"product": "shoes"}},
            "with": {"kind": "product_view", "time": "2024-03-05T10:00:00+00:00",
                     "interaction_id": "v2", "values": {"product": "shoes"}},
        }  # fmt: skip
        assert ana.firing_id == firing_id("back_in_stock", "ana", "id=r1")

    def test_if_reads_the_customers_history_and_traits(self) -> None:
        """'if' aggregates the reached customer's interactions up to the event (ben bought
        the shoes) and reads their traits; bare names in the payload are the event's."""
        text = BACK_IN_STOCK.replace(
            "    emit back_in_stock(product = r.product)",
            "    if count(purchase where product == r.product within 30 days) == 0"
            ' and customer.plan != "basic"\n'
            "    emit back_in_stock(qty = qty, who = customer_id, views = count(product_view))",
        )
        customers = {"ana": Customer("ana", traits={"plan": "gold"})}
        firings = evaluate_complete(parse(text), LOG, as_of=AS_OF, catalogue=CATALOGUE,
                           customers=customers)  # fmt: skip
        assert [(f.customer_id, f.payload) for f in firings] == [
            ("ana", {"qty": 3.0, "who": "ana", "views": 2.0})
        ]
        assert firings[0].because["if"] == {
            "count(purchase where product == r.product within 30 days)": 0.0,
            "customer.plan": "gold",
        }

    @pytest.mark.parametrize(
        ("seen", "reached"),
        [
            pytest.param(datetime(2024, 2, 9, tzinfo=timezone.utc), True, id="window-start"),
            pytest.param(datetime(2024, 2, 8, 23, 59, tzinfo=timezone.utc), False,
                         id="before-window"),
            pytest.param(datetime(2024, 3, 10, tzinfo=timezone.utc), True, id="same-time"),
            pytest.param(datetime(2024, 3, 10, 0, 1, tzinfo=timezone.utc), False, id="after"),
        ],
    )  # fmt: skip
    def test_the_window_is_closed(self, seen: datetime, reached: bool) -> None:
        """The customer's interaction must lie in [event - 30 days, event], both ends in."""
        log = InteractionLog.from_records(
            [{"customer_id": "ana", "timestamp": seen, "kind": "product_view", "product": "shoes"}]
        )
        firings = evaluate_complete(parse(BACK_IN_STOCK), log, as_of=AS_OF, catalogue=[restock(10)])
        assert len(firings) == int(reached)
        assert len(stream(parse(BACK_IN_STOCK), [*log_records(log), restock(10)])) == int(reached)

    def test_composite_keyless_and_missing_keys(self) -> None:
        """Keys joined by 'and' must all be equal; a missing key matches nothing; a clause
        without keys reaches every customer with a matching interaction."""
        log = InteractionLog.from_records(
            [view("ana", 1, size="42"), view("ben", 1, size="41"), view("cy", 1),
             view("dee", 1, "hat", size="42")]
        )  # fmt: skip
        both = BACK_IN_STOCK.replace("product == r.product", "product == r.product and "
                                     "size == r.size")  # fmt: skip
        events = [restock(5, size="42")]
        assert [f.customer_id for f in evaluate_complete(parse(both), log, as_of=AS_OF,
                                                catalogue=events)] == ["ana"]  # fmt: skip
        anyone = BACK_IN_STOCK.replace(" where product == r.product", "").replace(
            "r.product)", "r.size)"
        )
        got = evaluate_complete(parse(anyone), log, as_of=AS_OF, catalogue=events)
        assert [f.customer_id for f in got] == ["ana", "ben", "cy", "dee"]

    def test_text_never_equals_a_number(self) -> None:
        """A numeric key meets a numeric key only; missing values never match."""
        log = InteractionLog.from_records([view("ana", 1, value=20.0), view("ben", 1)])
        rule = BACK_IN_STOCK.replace("product == r.product", "value == r.price")
        got = evaluate_complete(parse(rule), log, as_of=AS_OF, catalogue=[restock(5, price=20.0)])
        assert [f.customer_id for f in got] == ["ana"]

    def test_policies_apply_per_customer(self) -> None:
        """cooldown, consent and holdout act per customer as for any rule; a suppressed
        firing keeps its reason."""
        text = BACK_IN_STOCK + "    cooldown 7 days\n    requires consent marketing\n"
        log = InteractionLog.from_records(
            [view("ana", 1), view("ben", 1),
             {"customer_id": "ana", "timestamp": "2024-03-01T00:00:00Z",
              "kind": "consent_granted", "purpose": "marketing"}]
        )  # fmt: skip
        events = [restock(5), restock(9), restock(13)]
        got = evaluate_complete(parse(text), log, as_of=AS_OF, catalogue=events)
        assert fired(got) == [("ana", "2024-03-05T00:00:00+00:00", ""),
                              ("ana", "2024-03-13T00:00:00+00:00", "")]  # fmt: skip
        assert sorted(fired(got.suppressed)) == [
            ("ana", "2024-03-09T00:00:00+00:00", "cooldown 7 days"),
            ("ben", "2024-03-05T00:00:00+00:00", "no consent for marketing"),
            ("ben", "2024-03-09T00:00:00+00:00", "no consent for marketing"),
            ("ben", "2024-03-13T00:00:00+00:00", "no consent for marketing"),
        ]
        held = evaluate_complete(parse(BACK_IN_STOCK + "    holdout 99.9%\n"), log, as_of=AS_OF,
                        catalogue=events)  # fmt: skip
        assert len(held) == 0 and {f.reason for f in held.suppressed} == {"holdout"}

    def test_quiet_hours_delay_to_their_end(self) -> None:
        """A restock at 23:00 inside quiet hours 22:00-08:00 fires at 08:00."""
        text = BACK_IN_STOCK + "    quiet hours 22:00-08:00\n"
        log = InteractionLog.from_records([view("ana", 1)])
        got = evaluate_complete(parse(text), log, as_of=AS_OF, catalogue=[restock(5, hour=23)])
        assert fired(got) == [("ana", "2024-03-06T08:00:00+00:00", "")]
        assert got[0].because["quiet_hours_delayed_from"] == "2024-03-05T23:00:00+00:00"
        assert key(stream(parse(text), [view("ana", 1), restock(5, hour=23)])) == key(got)

    def test_as_of_bounds_events_and_interactions(self) -> None:
        """Events after as_of are not seen; neither are views after the event."""
        got = evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of="2024-03-09T00:00:00Z",
                       catalogue=CATALOGUE)  # fmt: skip
        assert len(got) == 0

    def test_bad_catalogue_input(self) -> None:
        """A catalogue event naming a customer, and a bad row, are refused by row."""
        with pytest.raises(SchemaError, match="catalogue row 2: customer_id 'c1'"):
            evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                     catalogue=[restock(1), {**restock(2), "customer_id": "c1"}])  # fmt: skip
        with pytest.raises(SchemaError, match="catalogue"):
            evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                     catalogue=[{"timestamp": "2024-03-01", "kind": "restock"}])  # fmt: skip

    def test_a_rule_without_its_events_warns(self) -> None:
        """A catalogue rule evaluated without a catalogue, or over one holding its kind only
        spelt otherwise, cannot fire: evaluate says so instead of a quiet empty result. A
        catalogue with no event of the kind and none like it is a quiet week: no warning."""
        rules = parse(BACK_IN_STOCK)
        with pytest.warns(DataWarning, match="no catalogue was given"):
            assert len(evaluate_complete(rules, LOG, as_of=AS_OF)) == 0
        misspelt = [{**restock(10), "kind": "Restock"}, {**restock(11), "kind": "Restock"}]
        with pytest.warns(DataWarning, match=r"2 'Restock' event\(s\): did you mean 'Restock'\?"):
            assert len(evaluate_complete(rules, LOG, as_of=AS_OF, catalogue=misspelt)) == 0
        other = [{**restock(10), "kind": "price_drop"}]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert len(evaluate_complete(rules, LOG, as_of=AS_OF, catalogue=other)) == 0

    def test_columns_are_taken_too(self) -> None:
        """A mapping of columns is the same catalogue as its records."""
        columns = {"timestamp": ["2024-03-10T00:00:00Z"], "kind": ["restock"],
                   "product": ["shoes"], "interaction_id": ["r1"], "qty": [3.0]}  # fmt: skip
        got = evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of=AS_OF, catalogue=columns)
        assert key(got) == key(evaluate_complete(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                                        catalogue=CATALOGUE[:1]))  # fmt: skip

    def test_explain_names_the_clause(self) -> None:
        """explain says which part stopped a catalogue rule, or why it fired."""
        rules = parse(BACK_IN_STOCK)
        log = LOG.with_observed_until(AS_OF)  # the catalogue runs past the interactions
        ana = explain(rules, log, "ana", as_of=AS_OF, catalogue=CATALOGUE).rules[0].reason
        assert "restock at 2024-03-10" in ana and "with product_view at 2024-03-05" in ana
        late = explain(rules, log, "ana", as_of="2024-03-09T00:00:00Z", catalogue=CATALOGUE)
        assert late.rules[0].reason == "no restock catalogue event up to as_of"
        none = explain(rules, log, "ana", as_of=AS_OF)
        assert none.rules[0].reason.startswith("no catalogue events given")
