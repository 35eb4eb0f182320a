"""The streaming engine checked against what its guide and reference promise a service, with
the mistakes a host makes: a clock that returns the wrong thing, an engine dropped without
closing its store or used after closing it, a forgotten customer inside an alert's window, a
delivered firing changed by the code that delivers it, customers added to the host's own
mapping, one id given to two interactions, a number in a field named like an id, a producer
retrying an interaction from the future.

A test marked ``xfail(strict=True)`` pins a bug found here: its reason says what is wrong, it
fails today because of the bug, and the fix turns it into a pass (the strict mark then fails
the suite until the mark is removed). The unmarked tests check behaviour verified right that
the other tests do not already cover.
"""

from __future__ import annotations

import gc
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning, SchemaError, StoreError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, parse

SURVEY = {
    "customer_id": "c1",
    "timestamp": "2024-05-01T10:00:00+00:00",
    "kind": "survey",
    "metric": "nps",
    "score": 3,
    "interaction_id": "s1",
}
DETRACTOR = parse(
    'trigger detractor:\n    when survey as s where s.metric == "nps" and s.score <= 6\n'
    "    emit follow_up(score = s.score)"
)


class TestTheClockNamed:
    """A clock that returns a naive time, text or milliseconds is refused naming the clock,
    not as if an interaction's timestamp were wrong."""

    @pytest.mark.parametrize(
        ("returned", "said"),
        [
            (datetime(2024, 5, 1), "has no time zone"),
            ("soon", "is not an ISO-8601 time"),
            (1.7e12, "looks like epoch milliseconds"),
            (None, "NoneType"),
        ],
    )
    def test_process_names_the_clock(self, returned: Any, said: str) -> None:
        engine = TriggerEngine(DETRACTOR, clock=lambda: returned)
        with pytest.raises(SchemaError, match=r"TriggerEngine\(clock=\.\.\.\)") as caught:
            engine.process(SURVEY)
        assert said in str(caught.value)
        assert "timestamp" not in str(caught.value)  # not the interaction's
        expected: dict[str, int] = {"customers": 0, "late": 0, "refused": 0}
        assert expected == {k: engine.stats()[k] for k in expected}

    def test_advance_to_names_its_time(self) -> None:
        engine = TriggerEngine(DETRACTOR, max_future=None)
        with pytest.raises(SchemaError, match=r"advance_to\(\): time '2024-06-01T00:00:00' has"):
            engine.advance_to(datetime(2024, 6, 1))


class TestAStoreLeftOpenInThisProcess:
    """An engine dropped without closing its ``SQLiteStore`` keeps the file until the
    collector frees it: the next engine is refused, told that the holder is in this process
    and to ``close()`` it (not to stop its own process)."""

    def test_refused_naming_this_process_then_free_once_collected(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        first = TriggerEngine(DETRACTOR, store=SQLiteStore(path), max_future=None)
        first.process(SURVEY)
        with pytest.raises(StoreError) as caught:
            TriggerEngine(DETRACTOR, store=SQLiteStore(path), max_future=None)
        message = str(caught.value)
        assert str(path) in message
        assert f"another engine in this process (pid {os.getpid()})" in message
        assert "close()" in message
        assert "stop its process" not in message
        del first
        with warnings.catch_warnings():  # the files the dropped store left open
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()  # the dropped engine's store is freed, and its lock with it
        store = SQLiteStore(path)
        try:
            again = TriggerEngine(DETRACTOR, store=store, max_future=None)
            assert again.process(SURVEY) == []  # remembered: a re-delivery
            assert again.stats()["duplicates_ignored"] == 1
        finally:
            store.close()


class TestAnEngineOutlivingItsStore:
    """``with SQLiteStore(path) as store:`` around the engine's construction only: the engine
    is used after the block closed its store. Each call is refused naming the file and that
    the store was closed, not that it was never opened, and the engine is as before."""

    def test_calls_after_close_name_the_close(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            engine = TriggerEngine(DETRACTOR, store=store, max_future=None)
        for call in (
            lambda: engine.process(SURVEY),
            lambda: engine.advance_to("2024-05-02T00:00:00+00:00"),
            lambda: engine.forget("c1"),
        ):
            with pytest.raises(StoreError, match=r"cannot .* after close\(\)") as caught:
                call()
            assert str(path) in str(caught.value)
        assert engine.stats()["customers"] == 0
        assert engine.watermark is None
        with SQLiteStore(path) as store:  # reopened: nothing of the refused calls was kept
            again = TriggerEngine(DETRACTOR, store=store, max_future=None)
            assert [f.action for f in again.process(SURVEY)] == ["follow_up"]


SPEND = parse(
    "alert spend_spike:\n    when sum(purchase.value within 1 days) > 1000000\n    emit page\n"
    "alert many_buyers:\n    when distinct(purchase.customer_id within 1 days) > 100\n"
    "    emit page_team"
)


class TestForgetAndAlertWindows:
    """``forget`` erases a customer's id from an alert's windows of ``customer_id``; a window
    of another property holds values that name no customer, which stay (and count) until they
    leave the window, as the guide says."""

    def test_ids_leave_amounts_stay_until_their_window_passes(self, tmp_path: Path) -> None:
        path = tmp_path / "s.db"
        secret, amount = "zz-erased-customer", 987654.321
        store = SQLiteStore(path)
        try:
            engine = TriggerEngine(SPEND, store=store, max_future=None)
            engine.process_many(
                [
                    {"customer_id": secret, "timestamp": "2024-05-01T10:00:00+00:00",
                     "kind": "purchase", "value": amount},
                    {"customer_id": "other", "timestamp": "2024-05-01T11:00:00+00:00",
                     "kind": "purchase", "value": 5.0},
                ]
            )  # fmt: skip
            engine.advance_to("2024-05-01T12:00:00+00:00")
            held = engine.stats()["alert_window_values"]
            assert held == 4  # two amounts, two ids
            engine.forget(secret)
            assert engine.stats()["alert_window_values"] == 3  # the id went, the amount stayed
            data = path.read_bytes()
            assert secret.encode() not in data
            assert repr(amount).encode() in data
            engine.advance_to("2024-05-03T00:00:00+00:00")  # past the window
            assert engine.stats()["alert_window_values"] == 0
        finally:
            store.close()
        assert repr(amount).encode() not in path.read_bytes()


class TestDeliveredFiringsChangedByTheHost:
    """A host that adds to a delivered firing's payload (the address it sent it to, say) must
    not change what the store keeps for a retry: ``store.pending()`` returns the firing the
    engine emitted, as a ``SQLiteStore`` does."""

    @staticmethod
    def _changed_by_delivery(store: Any) -> list[dict[str, Any]]:
        engine = TriggerEngine(DETRACTOR, store=store, max_future=None)
        for firing in engine.process(SURVEY):
            firing.payload["sent_to"] = "someone@example.com"  # the host's own bookkeeping
            firing.because["when"]["values"].clear()
        return [{"payload": f.payload, "because": f.because} for f in store.pending()]

    def test_sqlite_store_keeps_the_emitted_firing(self, tmp_path: Path) -> None:
        store = SQLiteStore(tmp_path / "s.db")
        try:
            kept = self._changed_by_delivery(store)
        finally:
            store.close()
        assert [k["payload"] for k in kept] == [{"score": 3.0}]
        assert kept[0]["because"]["when"]["values"] == {"metric": "nps", "score": 3.0}

    def test_in_memory_store_keeps_the_emitted_firing(self) -> None:
        kept = self._changed_by_delivery(InMemoryStore())
        assert [k["payload"] for k in kept] == [{"score": 3.0}]
        assert kept[0]["because"]["when"]["values"] == {"metric": "nps", "score": 3.0}


REFUNDS = parse(
    "trigger thanks:\n    when purchase as p\n    emit thank_you\n"
    "trigger sorry:\n    when refund as r\n    emit apologise"
)


class TestAnIdGivenToTwoInteractions:
    """A host whose ids are unique per order, not per interaction, sends the refund of order
    ``o1`` with the purchase's id. A log refuses the second (``ids must be unique``); the
    engine remembers each id with its time, so it can tell a re-delivery (the same time) from
    another interaction under the same id (another time)."""

    @staticmethod
    def _records() -> list[dict[str, Any]]:
        return [
            {"customer_id": "c", "timestamp": "2024-05-01T10:00:00+00:00", "kind": "purchase",
             "interaction_id": "o1"},
            {"customer_id": "c", "timestamp": "2024-05-02T10:00:00+00:00", "kind": "refund",
             "interaction_id": "o1"},
        ]  # fmt: skip

    def test_a_log_refuses_it_naming_the_id(self) -> None:
        with pytest.raises(SchemaError, match="interaction_id 'o1' is a duplicate"):
            InteractionLog.from_records(self._records())

    def test_a_true_re_delivery_is_ignored_quietly(self) -> None:
        engine = TriggerEngine(REFUNDS, max_future=None)
        first = self._records()[0]
        assert [f.action for f in engine.process(first)] == ["thank_you"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert engine.process(dict(first)) == []
        assert engine.stats()["duplicates_ignored"] == 1

    @pytest.mark.parametrize("call", ["one_by_one", "micro_batch", "columnar", "same_call"])
    def test_another_interaction_under_a_processed_id_is_refused_and_kept(self, call: str) -> None:
        """The refund under its order's id, at a later time, is not a re-delivery: it is
        refused with a warning naming the id and kept with its reason in
        ``store.rejected()``, on every path (one by one, a small and a large micro-batch, the
        same call as the purchase); the purchase keeps its firing."""
        engine = TriggerEngine(REFUNDS, max_future=None)
        purchase, refund = self._records()
        filler = [
            {"customer_id": f"f{j}", "timestamp": "2024-05-02T00:00:00+00:00", "kind": "view"}
            for j in range(1_100)
        ]
        with pytest.warns(DataWarning, match="'o1' of customer 'c'"):
            if call == "same_call":
                engine.process_many([purchase, refund])
            else:
                engine.process(purchase)
                if call == "one_by_one":
                    engine.process(refund)
                elif call == "micro_batch":
                    engine.process_many([refund])
                else:
                    engine.process_many([refund, *filler])
        (kept,) = engine.store.rejected()
        assert kept.record["kind"] == refund["kind"] and kept.customer_id == "c"
        assert kept.reason.startswith("refused: interaction id 'o1' was taken for another")
        assert engine.stats()["refused"] == 1 and engine.stats()["duplicates_ignored"] == 0

    @pytest.mark.parametrize("calls", ["one_call", "two_calls", "columnar", "one_by_one"])
    def test_further_apart_than_the_redelivery_window_the_id_names_a_new_interaction(
        self, calls: str
    ) -> None:
        """Two days after the purchase (the window is one day), the refund under its id is a
        new interaction, taken on every path and however the stream is cut: whether the
        purchase's id is forgotten yet does not decide."""
        engine = TriggerEngine(REFUNDS, max_future=None)
        purchase, refund = self._records()
        refund = {**refund, "timestamp": "2024-05-03T10:00:00+00:00"}
        filler = [
            {"customer_id": f"f{j}", "timestamp": "2024-05-02T00:00:00+00:00", "kind": "view"}
            for j in range(1_100)
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if calls == "one_call":
                fired = list(engine.process_many([purchase, refund]))
            elif calls == "two_calls":
                fired = [*engine.process_many([purchase]), *engine.process_many([refund])]
            elif calls == "columnar":
                fired = list(engine.process_many([purchase, *filler, refund]))
            else:
                fired = [*engine.process(purchase), *engine.process(refund)]
        assert [f.action for f in fired] == ["thank_you", "apologise"]
        assert engine.stats()["refused"] == 0 and engine.stats()["duplicates_ignored"] == 0


class TestARecordWithoutAnId:
    """A re-delivered record without ``interaction_id`` cannot be told from a new one: it is
    taken again and its firing comes again under another ``firing_id``, as the guide and the
    reference service's README warn (give every record an id)."""

    def test_is_taken_again_under_another_firing_id(self) -> None:
        engine = TriggerEngine(DETRACTOR, max_future=None)
        record = {k: v for k, v in SURVEY.items() if k != "interaction_id"}
        first = engine.process_many([record]).ids()
        again = engine.process_many([dict(record)]).ids()
        assert len(first) == len(again) == 1
        assert first != again
        assert engine.stats()["duplicates_ignored"] == 0


class TestCustomersReadOnce:
    """``customers=`` is read when the engine is made, as its docstring and the guide say: a
    customer the host adds to its own mapping later is unknown until ``set_customer``."""

    def test_a_customer_added_to_the_hosts_mapping_needs_set_customer(self) -> None:
        pro = parse(
            'trigger pro:\n    when purchase as p where customer.plan == "pro"\n    emit thanks'
        )
        crm: dict[str, Customer] = {}
        engine = TriggerEngine(pro, customers=crm, max_future=None)
        crm["c"] = Customer("c", traits={"plan": "pro"})
        bought = {"customer_id": "c", "kind": "purchase"}
        assert engine.process({**bought, "timestamp": "2024-05-01T00:00:00+00:00"}) == []
        engine.set_customer(crm["c"])
        fired = engine.process({**bought, "timestamp": "2024-05-02T00:00:00+00:00"})
        assert [f.action for f in fired] == ["thanks"]

    def test_customers_are_not_kept_in_the_store(self, tmp_path: Path) -> None:
        """A customer given with ``set_customer`` is not in the file: a restart knows the
        customers given to it again, as the guide says."""
        pro = parse(
            'trigger pro:\n    when purchase as p where customer.plan == "pro"\n    emit thanks'
        )
        path = tmp_path / "s.db"
        bought = {"customer_id": "c", "kind": "purchase"}
        with SQLiteStore(path) as store:
            engine = TriggerEngine(pro, store=store, max_future=None)
            engine.set_customer(Customer("c", traits={"plan": "pro"}))
            fired = engine.process({**bought, "timestamp": "2024-05-01T00:00:00+00:00"})
            assert [f.action for f in fired] == ["thanks"]
        with SQLiteStore(path) as store:
            engine = TriggerEngine(pro, store=store, max_future=None)
            assert engine.process({**bought, "timestamp": "2024-05-02T00:00:00+00:00"}) == []
        with SQLiteStore(path) as store:
            engine = TriggerEngine(
                pro, store=store, max_future=None,
                customers={"c": Customer("c", traits={"plan": "pro"})},
            )  # fmt: skip
            fired = engine.process({**bought, "timestamp": "2024-05-03T00:00:00+00:00"})
            assert [f.action for f in fired] == ["thanks"]


class TestNumbersInAFieldNamedLikeAnId:
    """A number in a property named like an id (``zip``, ``order_id``) is read as text, by a
    log and by the engine alike. A rule that compares such a property with a number, or
    computes with it, refuses every record that carries it, so "send a number" is no advice:
    the message says why the number was read as text."""

    @pytest.mark.parametrize(
        ("text", "said"),
        [
            ("trigger far:\n    when purchase as p where p.zip > 1000\n    emit x", "compares it"),
            ("trigger far:\n    when purchase as p\n    emit x(z = p.zip * 2)", "computes with it"),
        ],
    )
    @pytest.mark.parametrize("size", [1, 1_000])
    def test_the_message_names_the_ids_reading(self, text: str, said: str, size: int) -> None:
        records = [
            {"customer_id": f"c{i}", "timestamp": "2024-05-01T10:00:00+00:00",
             "kind": "purchase"}
            for i in range(size)
        ]  # fmt: skip
        records[-1]["zip"] = 12345  # a number, sent as one
        engine = TriggerEngine(parse(text), max_future=None)
        with pytest.raises(SchemaError, match=said) as caught:
            engine.process_many(records)
        message = str(caught.value)
        assert "zip '12345'" in message
        assert "'zip' is named like an id, whose numbers are read as text" in message
        assert "send a number" not in message
        assert engine.stats()["customers"] == 0

    def test_a_field_not_named_like_an_id_is_told_to_send_a_number(self) -> None:
        engine = TriggerEngine(
            parse("trigger big:\n    when purchase as p where p.qty > 2\n    emit x"),
            max_future=None,
        )
        with pytest.raises(SchemaError, match="send a number or leave the field out$"):
            engine.process(
                {"customer_id": "c", "timestamp": "2024-05-01T10:00:00+00:00",
                 "kind": "purchase", "qty": "three"}
            )  # fmt: skip


class TestARefusedInteractionSentAgain:
    """A producer whose clock runs two days ahead retries its message: the engine refuses it
    each time (more than ``max_future`` ahead). A late interaction sent again is kept once
    (``kept_late``); so is a refused one (``kept_rejected``: the same customer, id and time),
    or a retrying producer would grow the store with copies of one interaction."""

    @staticmethod
    def _retried(store: Any) -> Any:
        now = datetime(2024, 5, 1, tzinfo=UTC)
        engine = TriggerEngine(DETRACTOR, store=store, clock=lambda: now)
        ahead = {**SURVEY, "timestamp": "2024-05-03T00:00:00+00:00", "interaction_id": "f1"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            for _ in range(3):
                assert engine.process(ahead) == []
        return engine

    def test_a_late_interaction_sent_again_is_kept_once(self) -> None:
        engine = TriggerEngine(DETRACTOR, max_future=None)
        engine.process({**SURVEY, "timestamp": "2024-05-02T00:00:00+00:00", "interaction_id": "x"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            for _ in range(3):
                engine.process(SURVEY)
        assert len(engine.store.late()) == 1

    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_a_refused_interaction_sent_again_is_kept_once(self, kind: str, tmp_path: Path) -> None:
        store = InMemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
        try:
            engine = self._retried(store)
            assert len(store.rejected()) == 1
            assert (engine.stats()["refused"], engine.duplicates) == (1, 2)
        finally:
            store.close()

    def test_a_refused_interaction_is_kept_once_across_a_restart(self, tmp_path: Path) -> None:
        """Sent again to the engine restarted on the file, it is found among those kept: not
        kept, nor warned about, again; the same id at another time, or a refused interaction
        without an id, is another row each time it comes."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        self._retried(store)
        store.close()
        store = SQLiteStore(path)
        try:
            engine = self._retried(store)
            assert len(store.rejected()) == 1
            assert (engine.stats()["refused"], engine.duplicates) == (0, 3)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                later = {**SURVEY, "timestamp": "2024-05-04T00:00:00+00:00", "interaction_id": "f1"}
                no_id = {k: v for k, v in later.items() if k != "interaction_id"}
                for record in (later, later, no_id, no_id):
                    engine.process(record)
            assert len(store.rejected()) == 4
        finally:
            store.close()


class TestTheHostsSideOfTheStore:
    """A host pages through the outbox with a page size computed with numpy, and
    acknowledges ids it read as bytes from a queue."""

    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_a_numpy_page_size_is_a_count(self, kind: str, tmp_path: Path) -> None:
        store = InMemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
        try:
            engine = TriggerEngine(DETRACTOR, store=store, max_future=None)
            engine.process(SURVEY)
            engine.process({**SURVEY, "customer_id": "c2", "interaction_id": "s2"})
            page = store.pending(limit=np.int64(1))
            assert [f.customer_id for f in page] == ["c1"]
            with pytest.raises(ValueTypeError, match="limit must be an integer of at least 1"):
                store.pending(limit=np.bool_(True))
        finally:
            store.close()

    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_bytes_are_refused_whole_not_as_numbers(self, kind: str, tmp_path: Path) -> None:
        store = InMemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "s.db")
        try:
            engine = TriggerEngine(DETRACTOR, store=store, max_future=None)
            (firing,) = engine.process(SURVEY)
            with pytest.raises(ValueTypeError, match=r"got bytes b'"):
                store.acknowledge(firing.firing_id.encode())
            assert [f.firing_id for f in store.pending()] == [firing.firing_id]
        finally:
            store.close()
