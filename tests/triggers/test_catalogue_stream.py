"""Catalogue events in the streaming engine: equal to batch, waiting for their time,
deduplicated, restarted from SQLite, with state bounded by the window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import DataWarning, SchemaError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    InMemoryStore,
    RuleSet,
    SQLiteStore,
    TriggerEngine,
    col,
    count,
    parse,
    trigger,
)
from tests.triggers.catalogues import (
    AS_OF,
    BACK_IN_STOCK,
    CATALOGUE,
    LOG,
    key,
    log_records,
    restock,
    stream,
    view,
)
from tests.triggers.helpers import FailingStore, evaluate_complete


class TestStreaming:
    def test_equals_batch(self) -> None:
        """The example, streamed one at a time, gives batch's firings exactly."""
        rules = parse(BACK_IN_STOCK + "    cooldown 7 days\n")
        items = [*log_records(LOG), *CATALOGUE, restock(14, ident="r3")]
        batch = evaluate_complete(
            rules, LOG, as_of=AS_OF, catalogue=[*CATALOGUE, restock(14, ident="r3")]
        )
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
        with pytest.warns(DataWarning, match=r"^1 interaction\(s\) arrived late"):
            engine.process(restock(4, ident="r0"))
        assert engine.late[0].customer_id is None and engine.stats()["late"] == 1
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
        batch = evaluate_complete(parse(BACK_IN_STOCK), log, as_of=AS_OF, catalogue=[items[1]])
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
        batch = evaluate_complete(RuleSet((rule,)), LOG, as_of=AS_OF, catalogue=CATALOGUE)
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
