"""Catalogue events: the language of catalogue rules, their checks, and hand-computed firings
in batch and streaming (with restarts from SQLite and bounded state)."""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import (
    DataWarning,
    SchemaError,
    StoreError,
    TriggerSyntaxError,
    TriggerTypeError,
)
from cxmodel.expr import Duration
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    InMemoryStore,
    Pattern,
    Reach,
    RuleSet,
    SQLiteStore,
    TriggerEngine,
    check,
    col,
    count,
    evaluate,
    explain,
    firing_id,
    parse,
    trigger,
)
from tests.triggers.helpers import FailingStore

BACK_IN_STOCK = """trigger back_in_stock:
    when restock as r for customers with product_view where product == r.product within 30 days
    emit back_in_stock(product = r.product)
"""
AS_OF = "2024-06-01T00:00:00Z"


def view(customer: str, day: int, product: str = "shoes", ident: str | None = None,
         **more: Any) -> dict[str, Any]:  # fmt: skip
    """A product view on 2024-03-``day`` at 10:00 UTC."""
    rec = {
        "customer_id": customer,
        "timestamp": datetime(2024, 3, day, 10, tzinfo=timezone.utc),
        "kind": "product_view",
        "product": product,
        **more,
    }
    if ident is not None:
        rec["interaction_id"] = ident
    return rec


def restock(day: int, product: str = "shoes", ident: str | None = None, hour: int = 0,
            **more: Any) -> dict[str, Any]:  # fmt: skip
    """A restock catalogue event (no customer) on 2024-03-``day``."""
    rec = {
        "timestamp": datetime(2024, 3, day, hour, tzinfo=timezone.utc),
        "kind": "restock",
        "product": product,
        **more,
    }
    if ident is not None:
        rec["interaction_id"] = ident
    return rec


def fired(firings: Any) -> list[tuple[str, str, str]]:
    return [(f.customer_id, f.time.isoformat(), f.reason or "") for f in firings]


def key(firings: Any) -> Counter[Any]:
    """Firings compared whole: trigger, customer, time, payload, because, id and reason."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id, f.reason)
        for f in firings
    )


def stream(rules: Any, items: list[dict[str, Any]], as_of: str = AS_OF, **kw: Any) -> list[Any]:
    """Process ``items`` one at a time in time order (customers' interactions and catalogue
    events alike), then advance to ``as_of``."""
    engine = TriggerEngine(rules, max_future=None, **kw)
    out: list[Any] = []
    for item in sorted(items, key=lambda r: r["timestamp"]):
        out.extend(engine.process(item))
    out.extend(engine.advance_to(as_of))
    return out


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

    def test_json_paths_name_the_problem(self) -> None:
        """A broken 'reach' in JSON names its path."""
        data = parse(BACK_IN_STOCK).to_dict()
        del data["rules"][0]["when"]["reach"]["within"]
        import json

        with pytest.raises(TriggerSyntaxError, match=r"rules\[0\]\.when\.reach"):
            RuleSet.from_json(json.dumps(data))


def parse_where(text: str) -> Any:
    from cxmodel.expr import parse_expr

    return parse_expr(text)


LOG = InteractionLog.from_records(
    [
        view("ana", 1, ident="v1", value=10.0),
        view("ana", 5, ident="v2", value=10.0),
        view("ben", 2, ident="v3", value=10.0),
        {"customer_id": "ben", "timestamp": "2024-03-03T10:00:00Z", "kind": "purchase",
         "product": "shoes", "value": 50.0, "interaction_id": "p1"},
    ]
)  # fmt: skip
CATALOGUE = [restock(10, ident="r1", qty=3.0), restock(12, "hat", ident="r2", qty=1.0)]


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
            evaluate(rules, LOG, as_of=AS_OF, catalogue=CATALOGUE)

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


class TestBatch:
    def test_back_in_stock(self) -> None:
        """The restock of shoes on Mar 10 reaches ana (views Mar 1 and 5) and ben (Mar 2);
        the hat restock reaches no one. 'because' shows the event and ana's latest view."""
        firings = evaluate(parse(BACK_IN_STOCK), LOG, as_of=AS_OF, catalogue=CATALOGUE)
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
        firings = evaluate(parse(text), LOG, as_of=AS_OF, catalogue=CATALOGUE,
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
        firings = evaluate(parse(BACK_IN_STOCK), log, as_of=AS_OF, catalogue=[restock(10)])
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
        assert [f.customer_id for f in evaluate(parse(both), log, as_of=AS_OF,
                                                catalogue=events)] == ["ana"]  # fmt: skip
        anyone = BACK_IN_STOCK.replace(" where product == r.product", "").replace(
            "r.product)", "r.size)"
        )
        got = evaluate(parse(anyone), log, as_of=AS_OF, catalogue=events)
        assert [f.customer_id for f in got] == ["ana", "ben", "cy", "dee"]

    def test_text_never_equals_a_number(self) -> None:
        """A numeric key meets a numeric key only; missing values never match."""
        log = InteractionLog.from_records([view("ana", 1, value=20.0), view("ben", 1)])
        rule = BACK_IN_STOCK.replace("product == r.product", "value == r.price")
        got = evaluate(parse(rule), log, as_of=AS_OF, catalogue=[restock(5, price=20.0)])
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
        got = evaluate(parse(text), log, as_of=AS_OF, catalogue=events)
        assert fired(got) == [("ana", "2024-03-05T00:00:00+00:00", ""),
                              ("ana", "2024-03-13T00:00:00+00:00", "")]  # fmt: skip
        assert sorted(fired(got.suppressed)) == [
            ("ana", "2024-03-09T00:00:00+00:00", "cooldown 7 days"),
            ("ben", "2024-03-05T00:00:00+00:00", "no consent for marketing"),
            ("ben", "2024-03-09T00:00:00+00:00", "no consent for marketing"),
            ("ben", "2024-03-13T00:00:00+00:00", "no consent for marketing"),
        ]
        held = evaluate(parse(BACK_IN_STOCK + "    holdout 99.9%\n"), log, as_of=AS_OF,
                        catalogue=events)  # fmt: skip
        assert len(held) == 0 and {f.reason for f in held.suppressed} == {"holdout"}

    def test_quiet_hours_delay_to_their_end(self) -> None:
        """A restock at 23:00 inside quiet hours 22:00-08:00 fires at 08:00."""
        text = BACK_IN_STOCK + "    quiet hours 22:00-08:00\n"
        log = InteractionLog.from_records([view("ana", 1)])
        got = evaluate(parse(text), log, as_of=AS_OF, catalogue=[restock(5, hour=23)])
        assert fired(got) == [("ana", "2024-03-06T08:00:00+00:00", "")]
        assert got[0].because["quiet_hours_delayed_from"] == "2024-03-05T23:00:00+00:00"
        assert key(stream(parse(text), [view("ana", 1), restock(5, hour=23)])) == key(got)

    def test_as_of_bounds_events_and_interactions(self) -> None:
        """Events after as_of are not seen; neither are views after the event."""
        got = evaluate(parse(BACK_IN_STOCK), LOG, as_of="2024-03-09T00:00:00Z",
                       catalogue=CATALOGUE)  # fmt: skip
        assert len(got) == 0

    def test_bad_catalogue_input(self) -> None:
        """A catalogue event naming a customer, and a bad row, are refused by row."""
        with pytest.raises(SchemaError, match="catalogue row 2: customer_id 'c1'"):
            evaluate(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                     catalogue=[restock(1), {**restock(2), "customer_id": "c1"}])  # fmt: skip
        with pytest.raises(SchemaError, match="catalogue"):
            evaluate(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                     catalogue=[{"timestamp": "2024-03-01", "kind": "restock"}])  # fmt: skip

    def test_columns_are_taken_too(self) -> None:
        """A mapping of columns is the same catalogue as its records."""
        columns = {"timestamp": ["2024-03-10T00:00:00Z"], "kind": ["restock"],
                   "product": ["shoes"], "interaction_id": ["r1"], "qty": [3.0]}  # fmt: skip
        got = evaluate(parse(BACK_IN_STOCK), LOG, as_of=AS_OF, catalogue=columns)
        assert key(got) == key(evaluate(parse(BACK_IN_STOCK), LOG, as_of=AS_OF,
                                        catalogue=CATALOGUE[:1]))  # fmt: skip

    def test_explain_names_the_clause(self) -> None:
        """explain says which part stopped a catalogue rule, or why it fired."""
        rules = parse(BACK_IN_STOCK)
        ana = explain(rules, LOG, "ana", as_of=AS_OF, catalogue=CATALOGUE).rules[0].reason
        assert "restock at 2024-03-10" in ana and "with product_view at 2024-03-05" in ana
        late = explain(rules, LOG, "ana", as_of="2024-03-09T00:00:00Z", catalogue=CATALOGUE)
        assert late.rules[0].reason == "no restock catalogue event up to as_of"
        none = explain(rules, LOG, "ana", as_of=AS_OF)
        assert none.rules[0].reason.startswith("no catalogue events given")


def log_records(log: InteractionLog) -> list[dict[str, Any]]:
    return [i.to_record() for i in log.interactions()]


class TestStreaming:
    def test_equals_batch(self) -> None:
        """The example, streamed one at a time, gives batch's firings exactly."""
        rules = parse(BACK_IN_STOCK + "    cooldown 7 days\n")
        items = [*log_records(LOG), *CATALOGUE, restock(14, ident="r3")]
        batch = evaluate(rules, LOG, as_of=AS_OF, catalogue=[*CATALOGUE, restock(14, ident="r3")])
        assert key(stream(rules, items)) == key(batch) and len(batch) == 2

    def test_an_event_waits_for_its_time(self) -> None:
        """A catalogue event is decided once its time is complete: a view at the event's
        very time, arriving after it, still counts."""
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        assert engine.process(restock(10)) == []
        assert engine.process(view("ana", 9) | {"timestamp": restock(10)["timestamp"]}) == []
        got = engine.advance_to("2024-03-10T00:00:00Z")
        assert [f.customer_id for f in got] == ["ana"]

    def test_records_without_a_customer(self) -> None:
        """Only a catalogue kind may come without customer_id; the error says which do."""
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        with pytest.raises(SchemaError, match=r"catalogue events, of kinds \['restock'\]"):
            engine.process({"timestamp": "2024-03-01T00:00:00Z", "kind": "purchase"})

    def test_duplicates_and_late_events(self) -> None:
        """A re-delivered event id is ignored; a late event is kept without a customer."""
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        engine.process(view("ana", 1))
        engine.process(restock(5, ident="r1"))
        engine.process(restock(5, ident="r1"))
        assert len(engine.advance_to("2024-03-06T00:00:00Z")) == 1
        assert engine.stats()["duplicates_ignored"] == 1
        engine.process(restock(4, ident="r0"))
        assert engine.late[0].customer_id is None
        assert "customer_id" not in engine.late[0].record

    @pytest.mark.parametrize("cut", ["after-view", "after-event"])
    def test_restart_from_sqlite(self, tmp_path: Path, cut: str) -> None:
        """A restart between the customer's view and the restock, or between the restock's
        arrival and its decision, loses and repeats nothing."""
        path = tmp_path / "engine.db"
        items = [view("ana", 1, ident="v1"), restock(5, ident="r1"), view("ben", 6, ident="v2")]
        split = 1 if cut == "after-view" else 2
        got: list[Any] = []
        store = SQLiteStore(path)
        engine = TriggerEngine(parse(BACK_IN_STOCK), store=store, max_future=None)
        for item in items[:split]:
            got.extend(engine.process(item))
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(parse(BACK_IN_STOCK), store=store, max_future=None)
        for item in items[split:]:
            got.extend(engine.process(item))
        got.extend(engine.advance_to(AS_OF))
        store.close()
        log = InteractionLog.from_records([items[0], items[2]])
        batch = evaluate(parse(BACK_IN_STOCK), log, as_of=AS_OF, catalogue=[items[1]])
        assert key(got) == key(batch) and [f.customer_id for f in got] == ["ana"]

    def test_state_is_bounded_by_the_window(self) -> None:
        """A customer's join buffer holds the matching views of the last 30 days only, so
        the state does not grow with the history."""
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        start = datetime(2024, 1, 1, tzinfo=timezone.utc)
        sizes = []
        for day in range(0, 360):
            engine.process({"customer_id": "ana", "timestamp": start + timedelta(days=day),
                            "kind": "product_view", "product": f"p{day % 50}"})  # fmt: skip
            if day in (90, 359):
                sizes.append(engine.stats()["state_bytes"])
        kept = engine._runner.states["ana"].windows
        assert [len(v) for v in kept.values()] == [31]  # views of [t - 30 days, t]
        assert sizes[1] <= sizes[0] * 1.05

    def test_add_rule_with_backfill(self) -> None:
        """A catalogue rule added with a backfill that holds the views reaches them."""
        engine = TriggerEngine(parse("trigger t:\n    when purchase\n    emit thanks"),
                               max_future=None)  # fmt: skip
        engine.process(view("ana", 1))
        engine.add_rule(parse(BACK_IN_STOCK)["back_in_stock"], backfill=[view("ana", 1)])
        engine.process(restock(5))
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["ana"]

    def test_forget_a_customer(self) -> None:
        """A forgotten customer is reached no more."""
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        engine.process(view("ana", 1))
        engine.process(view("ben", 1))
        engine.forget("ana")
        engine.process(restock(5))
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["ben"]

    def test_builder_rule_with_if_streams_like_batch(self) -> None:
        """A builder-made rule with an 'if' on the customer's history streams as batch."""
        rule = (
            trigger("nudge").when("restock", as_="r", where=col("r.qty") > 0)
            .for_customers_with("product_view", where=col("product") == col("r.product"),
                                within="30 days")
            .if_(count("purchase", within="30 days") == 0)
            .emit("nudge", product=col("r.product")).build()
        )  # fmt: skip
        items = [*log_records(LOG), *CATALOGUE]
        batch = evaluate(RuleSet((rule,)), LOG, as_of=AS_OF, catalogue=CATALOGUE)
        assert key(stream(RuleSet((rule,)), items)) == key(batch)
        assert [f.customer_id for f in batch] == ["ana"]

    def test_a_failed_commit_is_rolled_back(self) -> None:
        """The call that decides an event fails to commit: the engine is as before it, and
        the retry returns the firing once."""
        store = FailingStore(InMemoryStore())
        engine = TriggerEngine(parse(BACK_IN_STOCK), store=store, max_future=None)
        engine.process(view("ana", 1, ident="v1"))
        engine.process(restock(5, ident="r1"))
        store.fail = 1
        with pytest.raises(StoreError):
            engine.advance_to(AS_OF)
        assert [f.customer_id for f in engine.advance_to(AS_OF)] == ["ana"]
        assert engine.advance_to(AS_OF) == []
        assert [f.customer_id for f in store.firings()] == ["ana"]


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
            batch = evaluate(parse(text), log, as_of=AS_OF, catalogue=[event],
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
