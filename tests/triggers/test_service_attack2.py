"""The streaming engine's newest code attacked: ids forgotten as the watermark moves, late
and refused interactions kept once (``kept_late``, ``kept_rejected``), the snapshot's checked
reader, the checked constructor arguments and batch's consent note.

A test marked ``xfail(strict=True)`` pins a bug found by this attack: its reason says what is
wrong, it fails today because of the bug, and the fix turns it into a pass (the strict mark
then fails the suite until the mark is removed). The unmarked tests check behaviour verified
right that the other tests do not already cover.
"""

from __future__ import annotations

import json
import random
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Consent, Customer
from cxmodel.errors import SchemaError, StoreError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, evaluate, parse
from tests.triggers.catalogues import BACK_IN_STOCK, restock, view
from tests.triggers.helpers import (
    COLUMNAR,
    PER_ROW,
    T0,
    engine_of,
    evaluate_complete,
    interaction,
    purchase_record,
    stored_customers,
    whole,
)

THANKS = parse("trigger thanks:\n    when purchase as p where p.value > 100\n    emit thanks")
ASK = parse("trigger ask:\n    when purchase as p then after 2 days\n    emit ask")
HELLO = parse("trigger hi:\n    when signup\n    emit mail\n    requires consent marketing")
NOTE = "no consent record was found"


# -- ids forgotten: too early, never, or differently by path -----------------------------------
class TestForgetIds:
    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_advance_to_forgets_ids_it_made_late(self, path: int | None, tmp_path: Path) -> None:
        """Issue 12: 'everything at or before a watermark set by advance_to is late' and
        'de-duplication keeps only the ids that could still be processed'. After
        ``advance_to`` 180 days past five purchases (window one day), none can be
        re-delivered without being late: the sweep follows the time declared complete, on
        both paths, and the call that swept commits it (the file keeps no id)."""
        store = SQLiteStore(tmp_path / "s.db")
        engine = engine_of(THANKS, path, store=store, redelivery_window="1 day")
        engine.process_many(
            [purchase_record("a", T0 + timedelta(hours=h), f"e{h}") for h in range(5)]
        )
        engine.advance_to(T0 + timedelta(days=90))
        assert engine._runner.states["a"].seen == {}
        engine.advance_to(T0 + timedelta(days=180))
        assert engine._runner.states["a"].seen == {}
        store.close()
        assert [json.loads(state)["seen"] for _, state in stored_customers(tmp_path / "s.db")] == [
            {}
        ]

    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_catalogue_ids_are_forgotten_too(self, path: int | None, quiet: None) -> None:
        """200 restocks with ids, then four weeks of views (window one day): the customers'
        ids are swept and the catalogue's are too, by the same rule (a re-delivered restock
        within the window is still a duplicate; past it, late)."""
        engine = engine_of(parse(BACK_IN_STOCK), path, redelivery_window="1 day")
        engine.process_many([view("a", 1, ident="v1")])
        engine.process_many([restock(2, product=f"p{i}", ident=f"r{i}") for i in range(200)])
        engine.process_many([view("b", 2, ident="b2")])
        engine.process_many([restock(2, product="p0", ident="r0")])
        assert (engine.duplicates, len(engine._runner.catalogue.seen)) == (1, 200)
        for day in range(3, 29):
            engine.process_many([view("b", day, ident=f"b{day}")])
        assert engine._runner.states["a"].seen == {}
        assert len(engine._runner.catalogue.seen) == 0

    def test_ids_shared_by_customers_are_each_customers(self, quiet: None) -> None:
        """Two customers' interactions may share an id: each is processed once, and each is
        forgotten with its own customer's time, alike on both paths and in the file."""
        got = []
        for path in (COLUMNAR, PER_ROW):
            engine = engine_of(THANKS, path, redelivery_window="1 day")
            first = engine.process_many(
                [purchase_record("a", T0, "x"), purchase_record("b", T0 + timedelta(hours=30), "x")]
            )
            again = engine.process_many(
                [purchase_record("a", T0, "x"), purchase_record("b", T0 + timedelta(hours=30), "x")]
            )
            engine.process_many([purchase_record("c", T0 + timedelta(hours=50), "y")])
            states = engine._runner.states
            got.append((len(first), len(again), dict(states["a"].seen), dict(states["b"].seen)))
        assert got[0] == got[1]
        assert got[0][:3] == (2, 0, {})
        assert list(got[0][3]) == ["x"]

    @pytest.mark.parametrize("seed", [0, 1])
    def test_clock_jumping_back_never_processes_twice(self, seed: int, quiet: None) -> None:
        """A sender whose clock jumps back and forth re-delivers at random: each id is
        processed once (within the window it is a duplicate; past it, late), on both paths,
        with the same SQLite text after every call."""
        rng = random.Random(seed)
        times = [
            T0 + timedelta(hours=rng.choice([0, 5, 10, 30, 60, 2, 90, 1, 120])) for _ in range(60)
        ]
        stream = [purchase_record(f"c{i % 3}", t, f"e{i}") for i, t in enumerate(sorted(times))]
        order = [rng.randrange(len(stream)) for _ in range(150)]
        fired: list[list[str]] = []
        texts: list[list[Any]] = []
        for path in (COLUMNAR, PER_ROW):
            engine = engine_of(THANKS, path, redelivery_window="1 day")
            out: list[str] = []
            text: list[Any] = []
            for k in order:
                out += [f.firing_id for f in engine.process_many([stream[k]])]
                text.append(
                    sorted((c, s.to_dict()["seen"]) for c, s in engine._runner.states.items())
                )
            assert len(out) == len(set(out))
            fired.append(sorted(out))
            texts.append(text)
        assert fired[0] == fired[1]
        assert texts[0] == texts[1]


# -- a host's own store and kept_late ----------------------------------------------------------
class _HostStore:
    """A host's own store: every method of the protocol, delegating to an InMemoryStore."""

    def __init__(self) -> None:
        self.inner = InMemoryStore()

    def open(self) -> Any:
        return self.inner.open()

    def commit(self, change: Any) -> None:
        self.inner.commit(change)

    def forget(self, customer_id: str, meta: Any) -> None:
        self.inner.forget(customer_id, meta)

    def firings(self) -> Any:
        return self.inner.firings()

    def pending(self) -> Any:
        return self.inner.pending()

    def acknowledge(self, firing_ids: Any) -> None:
        self.inner.acknowledge(firing_ids)

    def prune(self, *, before: Any = None) -> int:
        return self.inner.prune(before=before)

    def late(self) -> Any:
        return self.inner.late()

    def rejected(self) -> Any:
        return self.inner.rejected()

    def close(self) -> None:
        self.inner.close()


class TestHostStore:
    def test_missing_kept_late_is_named(self) -> None:
        """A host store written before ``kept_late`` was added is refused naming it."""
        with pytest.raises(ValueTypeError, match=r"_HostStore .*lacks the method\(s\) kept_late$"):
            TriggerEngine(THANKS, store=_HostStore(), max_future=None)  # type: ignore[arg-type]

    def test_failing_kept_late_is_a_store_error(self, quiet: None) -> None:
        """A host store whose ``kept_late`` fails: a StoreError chaining the host's error,
        as a failed commit is, and the engine left as before the call (nothing late kept,
        the retry once the store is back keeps the late row)."""

        class Down(_HostStore):
            down = True

            def kept_late(self, keys: Any) -> set[Any]:
                if self.down:
                    raise OSError("the network store is down")
                return self.inner.kept_late(keys)

        store = Down()
        engine = TriggerEngine(THANKS, store=store, max_future=None)
        engine.process(purchase_record("a", T0 + timedelta(days=5), "1"))
        with pytest.raises(StoreError, match="network store is down") as caught:
            engine.process(purchase_record("a", T0, "0"))
        assert isinstance(caught.value.__cause__, OSError)
        assert (len(engine.late), engine.duplicates) == (0, 0)
        store.down = False
        engine.process(purchase_record("a", T0, "0"))
        assert (len(engine.late), engine.duplicates) == (1, 0)

    @pytest.mark.parametrize("answer", [frozenset, list, iter])
    def test_kept_late_may_answer_any_iterable(self, answer: Any, quiet: None) -> None:
        """The protocol takes any iterable of keys (a frozenset is what a store caching its
        answer gives): the engine copies it and never changes the store's answer."""
        answers: list[Any] = []

        class Frozen(_HostStore):
            def kept_late(self, keys: Any) -> Any:
                answers.append(answer(self.inner.kept_late(keys)))
                return answers[-1]

        engine = TriggerEngine(THANKS, store=Frozen(), max_future=None)
        engine.process(purchase_record("a", T0 + timedelta(days=5), "1"))
        engine.process(purchase_record("a", T0, "0"))
        engine.process_many([purchase_record("a", T0, "0"), purchase_record("a", T0, "0")])
        engine.process_many([purchase_record("a", T0, "2"), purchase_record("a", T0, "2")])
        assert (len(engine.late), engine.duplicates) == (2, 3)
        if answer is not iter:
            assert [len(a) for a in answers] == [0, 1, 0]

    def test_host_store_keeps_a_late_row_once(self, quiet: None) -> None:
        class Own(_HostStore):
            def kept_late(self, keys: Any) -> set[Any]:
                return self.inner.kept_late(keys)

        engine = TriggerEngine(THANKS, store=Own(), max_future=None)
        engine.process(purchase_record("a", T0 + timedelta(days=5), "1"))
        for _ in range(3):
            engine.process_many([purchase_record("a", T0, "0"), purchase_record("a", T0, "0")])
        assert (len(engine.late), engine.duplicates) == (1, 5)

    def test_catalogue_late_row_is_kept_once_in_sqlite(self, tmp_path: Path, quiet: None) -> None:
        """A late catalogue event has no customer (NULL in the file): re-delivered, it is
        found (``IS ?``) and not kept again, also after a restart."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        engine = TriggerEngine(parse(BACK_IN_STOCK), store=store, max_future=None)
        engine.process_many([view("a", 20, ident="v")])
        engine.process_many([restock(2, ident="r")])
        engine.process_many([restock(2, ident="r")])
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(parse(BACK_IN_STOCK), store=store, max_future=None)
        engine.process_many([restock(2, ident="r")])
        assert len(store.late()) == 1
        store.close()


class _LateOnce(_HostStore):
    """A host's own store with the protocol's required methods (no ``kept_rejected``)."""

    def kept_late(self, keys: Any) -> set[Any]:
        return self.inner.kept_late(keys)


def _refused_again(store: Any, path: int | None) -> TriggerEngine:
    """An engine on ``store`` with its clock at T0, sent a purchase two days ahead (refused)
    three times, and twice more in one call; on ``path``."""
    engine = engine_of(THANKS, path, store=store, max_future="1 day", clock=lambda: T0)
    ahead = purchase_record("a", T0 + timedelta(days=2), "1")
    for _ in range(3):
        engine.process_many([ahead])
    engine.process_many([ahead, ahead])
    return engine


class TestHostStoreRefusedOnce:
    """``kept_rejected`` is not required of a host's own store: one without it works, each
    call keeping its refused interactions (one sent twice in a call once), and one with it
    keeps a refused interaction sent again once, as the stores here do."""

    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_without_kept_rejected_each_call_keeps_its_refusals(
        self, path: int | None, quiet: None
    ) -> None:
        store = _LateOnce()
        engine = _refused_again(store, path)
        assert (len(store.rejected()), engine.duplicates) == (4, 1)

    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_a_store_with_kept_rejected_keeps_it_once(self, path: int | None, quiet: None) -> None:
        class Own(_LateOnce):
            def kept_rejected(self, keys: Any) -> frozenset[Any]:
                return frozenset(self.inner.kept_rejected(keys))  # any iterable will do

        store = Own()
        engine = _refused_again(store, path)
        assert (len(store.rejected()), engine.duplicates) == (1, 4)

    def test_failing_kept_rejected_is_a_store_error(self, quiet: None) -> None:
        """As a failing ``kept_late``: a StoreError chaining the host's error, nothing kept,
        and the retry once the store is back keeps the refused row."""

        class Down(_LateOnce):
            down = True

            def kept_rejected(self, keys: Any) -> set[Any]:
                if self.down:
                    raise OSError("the network store is down")
                return self.inner.kept_rejected(keys)

        store = Down()
        engine = TriggerEngine(THANKS, store=store, max_future="1 day", clock=lambda: T0)
        ahead = purchase_record("a", T0 + timedelta(days=2), "1")
        with pytest.raises(StoreError, match="network store is down") as caught:
            engine.process(ahead)
        assert isinstance(caught.value.__cause__, OSError)
        assert (len(store.rejected()), engine.stats()["refused"]) == (0, 0)
        store.down = False
        engine.process(ahead)
        engine.process(ahead)
        assert (len(store.rejected()), engine.duplicates) == (1, 1)


# -- stored values at their legal extremes -------------------------------------------------------
class TestStoredExtremes:
    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_watermark_before_year_one_restarts(self, path: int | None, tmp_path: Path) -> None:
        """An interaction in year 1 with an allowed lateness of a day: the watermark stops at
        the first time (no interaction precedes it, so nothing changes for batch == stream),
        the engine shows it, commits it and restarts from it, on both paths."""
        first = datetime(1, 1, 1, tzinfo=timezone.utc)
        path_db = tmp_path / "s.db"
        store = SQLiteStore(path_db)
        engine = engine_of(THANKS, path, store=store, allowed_lateness="1 day")
        engine.process_many([purchase_record("a", datetime(1, 1, 1, 6, tzinfo=timezone.utc), "1")])
        assert engine.watermark == first
        store.close()
        store = SQLiteStore(path_db)
        try:
            engine = TriggerEngine(THANKS, store=store, max_future=None, allowed_lateness="1 day")
            assert engine.watermark == first
            assert len(engine.process(purchase_record("a", first, "2"))) == 1
        finally:
            store.close()

    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW])
    def test_anchor_due_after_year_9999_restarts(self, path: int | None, tmp_path: Path) -> None:
        """A ``then after 2 days`` from 9999-12-31 is due past the last time. Batch never
        fires it (no ``as_of`` is past 9999-12-31T23:59:59), so the stream keeps it as a
        timer that never falls due: the snapshot's reader takes due times past 9999 (within
        64 bits), the restart reads it, and ``advance_to`` the last time equals batch."""
        last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
        rec = purchase_record("a", datetime(9999, 12, 31, 6, tzinfo=timezone.utc), "1")
        path_db = tmp_path / "s.db"
        store = SQLiteStore(path_db)
        engine = engine_of(ASK, path, store=store)
        assert len(engine.process_many([rec])) == 0
        store.close()
        store = SQLiteStore(path_db)
        try:
            engine = TriggerEngine(ASK, store=store, max_future=None)
            assert engine.stats()["pending_timers"] == 1
            assert engine.advance_to(last) == []
        finally:
            store.close()
        log = InteractionLog.from_interactions([interaction(rec)])
        assert list(evaluate_complete(ASK, log, as_of=last)) == []

    def test_unicode_ids_and_large_values_restart(self, tmp_path: Path) -> None:
        """Unicode customer and interaction ids, a value near float's limit and an empty
        payload survive a restart, and the re-delivery is ignored."""
        path = tmp_path / "s.db"
        rules = parse("trigger big:\n    when purchase as p where p.value > 100\n    emit big")
        rec = purchase_record("客户-ß-\U0001f600", T0, "id-\u00e9\u4e2d")
        rec["value"] = 1.7e308
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store, max_future=None)
        assert len(engine.process(rec)) == 1
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store, max_future=None)
        assert engine.process(rec) == []
        assert engine.duplicates == 1
        store.close()


# -- constructor arguments -----------------------------------------------------------------------
class TestArguments:
    @pytest.mark.parametrize("zero", [0, 0.0, timedelta(0), "0 days", "0s", "0.0 h", "0d"])
    def test_zero_lateness_in_any_form(self, zero: Any) -> None:
        """Zero lateness is taken however it is written, text too."""
        engine = TriggerEngine(THANKS, max_future=None, allowed_lateness=zero)
        assert engine._delivery.lateness == 0

    @pytest.mark.parametrize("argument", ["redelivery_window", "max_future"])
    @pytest.mark.parametrize("zero", [0, timedelta(0), "0 days", "0s"])
    def test_zero_window_is_refused_in_any_form(self, argument: str, zero: Any) -> None:
        """The redelivery window and max_future must be positive: zero is refused alike
        however it is written (the same class of bug checked there: none)."""
        with pytest.raises(SchemaError, match="must be positive"):
            TriggerEngine(THANKS, **{argument: zero})

    @pytest.mark.parametrize("wrong", ["-1 day", "0 parsecs", "", timedelta(days=-1)])
    def test_lateness_that_is_no_duration_is_refused(self, wrong: Any) -> None:
        with pytest.raises(SchemaError):
            TriggerEngine(THANKS, max_future=None, allowed_lateness=wrong)


# -- batch's consent note ------------------------------------------------------------------------
class TestConsentNote:
    LOG = InteractionLog.from_records([{"customer_id": "a", "timestamp": T0, "kind": "signup"}])

    def _notes(self, customers: Any) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            evaluate(HELLO, self.LOG, as_of=T0, customers=customers)
        return [str(w.message) for w in caught if NOTE in str(w.message)]

    def test_consent_for_another_purpose_is_a_record(self) -> None:
        """Consent recorded only for ``service``: the data hold consent records, so no note
        (the marketing firing is refused for a reason the data state)."""
        other = {"a": Customer("a", consent=Consent(granted={"service"}))}
        assert self._notes(other) == []

    def test_consent_only_as_a_trait_is_noted(self) -> None:
        """A ``consent`` trait is not consent cxmodel reads: the note says none was found."""
        trait = {"a": Customer("a", traits={"consent": "marketing"})}
        assert len(self._notes(trait)) == 1


# -- host-received firings equal batch -----------------------------------------------------------
@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 30 * 24), min_size=1, max_size=25),
    st.lists(st.integers(0, 24), max_size=15),
    st.sampled_from([COLUMNAR, PER_ROW]),
)
def test_redelivery_within_the_window_equals_batch(
    hours: list[int], redeliver: list[int], path: int | None
) -> None:
    """Purchases in time order, with random earlier ones re-delivered within the window
    after each: the firings the host receives equal batch's, none twice."""
    rules = parse(
        "trigger thanks:\n    when purchase as p where p.value > 100\n    emit thanks\n"
        "trigger ask:\n    when purchase as p then after 2 days\n    emit ask"
    )
    stream = [
        purchase_record(f"c{h % 3}", T0 + timedelta(hours=h), f"e{i}")
        for i, h in enumerate(sorted(hours))
    ]
    engine = engine_of(rules, path, redelivery_window="2 days")
    got: list[Any] = []
    for i, rec in enumerate(stream):
        got += engine.process_many([rec])
        for back in redeliver[: i % 4]:
            j = i - back % (i + 1)
            if rec_time(stream[i]) - rec_time(stream[j]) <= timedelta(days=1):
                got += engine.process_many([stream[j]])
    end = T0 + timedelta(days=40)
    got += engine.advance_to(end)
    log = InteractionLog.from_interactions([interaction(r) for r in stream])
    batch = evaluate_complete(rules, log, as_of=end)
    assert len({f.firing_id for f in got}) == len(got)
    assert sorted(whole(got)) == sorted(whole(batch))


def rec_time(rec: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(rec["timestamp"])
