"""Attacks on three features of the streaming stores.

* ``InMemoryStore(max_kept=...)``: the oldest firings, late and refused interactions dropped
  past the limit, counted and warned of by the engine after the call; with acknowledge,
  ``prune(before=...)``, ``forget``, a restart from the same store, firings kept as columns
  (a large micro-batch's) mixed with firing lists, repeated firing ids, a limit of 2, calls
  emitting more than the limit, warnings turned into errors and threads.
* ``take_late`` / ``take_rejected`` of both stores: racing commits, a late interaction
  re-delivered after it was taken, a SQLite store not opened, closed, locked by another
  connection or holding a record that does not decode (nothing deleted).
* Field names that are not valid text (an unpaired surrogate), refused by the stream and by
  a log on every way in, and names of valid text beyond ASCII kept.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.domain import Customer, Interaction
from cxmodel.errors import CXModelError, DataWarning, SchemaError, StoreError
from cxmodel.io import read_csv, read_jsonl
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    InMemoryStore,
    Quarantined,
    SQLiteStore,
    StateChange,
    TriggerEngine,
    parse,
)
from tests.triggers.catalogues import BACK_IN_STOCK, restock, view
from tests.triggers.stores import firing

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
RULES = parse("trigger t:\n    when purchase\n    emit x")
BAD = "bad\ud800"
NOT_TEXT = r"field name 'bad\\ud800' is not valid text"
COLUMN_NOT_TEXT = r"column name 'bad\\ud800' is not valid text"


def rec(n: int, customer: str | None = None, ident: str | None = None) -> dict[str, Any]:
    """A purchase ``n`` minutes after T0 (customer ``c<n % 5>``, id ``i<n>``)."""
    return {
        "customer_id": customer or f"c{n % 5}",
        "kind": "purchase",
        "interaction_id": ident or f"i{n}",
        "timestamp": T0 + timedelta(minutes=n),
    }


def engine_of(store: Any, columnar: int | None = 1, **kwargs: Any) -> TriggerEngine:
    engine = TriggerEngine(RULES, store=store, max_future=None, **kwargs)
    engine._columnar_from = columnar
    return engine


def ids(firings: Any) -> list[str]:
    return [f.firing_id for f in firings]


def dropped_firings(caught: list[warnings.WarningMessage]) -> list[int]:
    """The firings each drop warning among ``caught`` counts."""
    return [
        w.message.counts["firings"]
        for w in caught
        if isinstance(w.message, DataWarning) and "dropped its oldest" in str(w.message)
    ]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "state.db", timeout=0.05)
    yield store
    store.close()


# -- the limit ------------------------------------------------------------------------------------
class TestLimit:
    def test_a_repeated_firing_id_is_not_counted(self) -> None:
        """An interaction id used again after the redelivery window fires the same firing id,
        which the outbox ignores: the store, holding no more than ``max_kept``, must not
        count it, drop its firings nor warn."""
        store = InMemoryStore(max_kept=4)
        engine = engine_of(store, None, redelivery_window="1 hour")
        sent = [("same", 0), ("a", 1), ("same", 2), ("b", 3), ("same", 4), ("c", 5)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for ident, day in sent:
                engine.process(rec(day * 1440, "c", ident))
        assert caught == []
        assert len(store.firings()) == 4 == len({ident for ident, _ in sent})

    @pytest.mark.parametrize("seed", range(60))
    def test_random_calls_keep_the_newest_in_emission_order(self, seed: int) -> None:
        """Calls one at a time and in micro-batches (columns kept aside or not), acknowledge,
        prune, forget, reads and restarts in any order: the store keeps at most ``max_kept``
        firings, the newest in emission order, at least the newest call's last
        ``max_kept // 2``; each drop is warned once, by the call that made it, with the
        number dropped, and only when the store held more than the limit."""
        rng = random.Random(seed)
        most = rng.choice([2, 3, 5, 17])
        store = InMemoryStore(max_kept=most)
        engine = engine_of(store, rng.choice([1, 4, None]))
        model: list[str] = []  # what the store should keep, in order
        n = 0
        for _ in range(rng.randint(1, 14)):
            op = rng.choice(["one", "many", "many", "ack", "prune", "forget", "read", "restart"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if op in ("one", "many"):
                    k = 1 if op == "one" else rng.randint(0, 3 * most)
                    batch = [rec(n + j) for j in range(k)]
                    n += k
                    got = ids(
                        engine.process(batch[0]) if op == "one" else engine.process_many(batch)
                    )
                    model += got
                    drops = dropped_firings(caught)
                    assert len(drops) == (len(model) > most)  # one warning, and only if over
                    model = model[sum(drops) :]
                    assert len(model) <= most
                    keep = min(len(got), most // 2)
                    assert model[len(model) - keep :] == got[len(got) - keep :]
                elif op == "restart":  # firings kept as columns stay so
                    store.close()
                    engine = engine_of(store, rng.choice([1, 4, None]))
                else:  # each of these reads the outbox, putting the columns kept in it
                    before = ids(store.firings())
                    assert before == model
                    if op == "ack":
                        some = store.pending()
                        store.acknowledge(ids(some[: rng.randint(0, len(some))]))
                    elif op == "prune":
                        store.prune(before=T0 + timedelta(minutes=rng.randint(0, n + 1)))
                    elif op == "forget":
                        engine.forget(f"c{rng.randrange(5)}")
                    after = ids(store.firings())
                    assert [i for i in before if i in set(after)] == after
                    assert set(ids(store.pending())) <= set(after)
                    model = after
                assert not [w for w in caught if op not in ("one", "many")]
        assert ids(store.firings()) == model
        assert store.prune() >= 0  # acknowledged ids all in the outbox: nothing missing

    def test_one_at_a_time_after_a_large_micro_batch(self) -> None:
        """Firings kept as columns (a large micro-batch's), then firing lists after them: the
        order is commit order, parts are dropped oldest first and the newest stay."""
        store = InMemoryStore(max_kept=10)
        engine = engine_of(store, 3)
        emitted: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            emitted += ids(engine.process_many([rec(n) for n in range(6)]))  # columns
            for n in range(6, 9):
                emitted += ids(engine.process(rec(n)))  # lists after them
            emitted += ids(engine.process_many([rec(n) for n in range(9, 13)]))  # columns
        kept = ids(store.firings())
        assert kept == emitted[len(emitted) - len(kept) :] and 5 <= len(kept) <= 10
        assert sum(dropped_firings(caught)) == len(emitted) - len(kept) == 8
        assert ids(store.pending()) == kept

    @pytest.mark.parametrize("columnar", [1, None], ids=["columns", "per-interaction"])
    def test_a_call_emitting_more_than_the_limit(self, columnar: int | None) -> None:
        """All its firings are returned; the store keeps the newest ``max_kept // 2``."""
        store = InMemoryStore(max_kept=2)
        engine = engine_of(store, columnar)
        with pytest.warns(DataWarning, match="dropped its oldest 9 firing") as caught:
            got = ids(engine.process_many([rec(n) for n in range(10)]))
        assert len(got) == 10 and ids(store.firings()) == got[-1:]
        assert len(caught) == 1 and caught[0].message.counts["firings"] == 9  # type: ignore[union-attr]

    def test_acknowledged_firings_dropped_then_pruned_before(self) -> None:
        """Acknowledged firings dropped with the oldest leave nothing behind: a later prune
        (all, or before a time) counts only those still kept."""
        store = InMemoryStore(max_kept=6)
        engine = engine_of(store, None)
        engine.process_many([rec(n) for n in range(4)])
        store.acknowledge(ids(store.firings()))
        with pytest.warns(DataWarning, match="dropped its oldest"):
            engine.process_many([rec(n) for n in range(4, 7)])
        kept = store.firings()
        assert ids(kept) == ids(engine_of(InMemoryStore(None)).process_many(
            [rec(n) for n in range(7)]
        ))[-len(kept):]  # fmt: skip
        assert store.prune(before=T0 + timedelta(minutes=4)) == 0
        assert store.prune() == 0
        assert [f.firing_id for f in store.pending()] == ids(kept)

    def test_set_aside_interactions_over_the_limit(self) -> None:
        """Late and refused interactions past the limit: the oldest dropped and warned of; a
        late one dropped, delivered again, is reported late again and not processed."""
        clock = [T0 + timedelta(days=1)]
        store = InMemoryStore(max_kept=4)
        engine = TriggerEngine(RULES, store=store, clock=lambda: clock[0])
        engine.process(rec(1440, "c", "now"))
        late = [rec(n, "c") for n in range(5)]
        ahead = [{**rec(n, "c"), "timestamp": T0 + timedelta(days=9)} for n in range(5, 10)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert list(engine.process_many(late + ahead)) == []
        drop = next(w.message for w in caught if "dropped its oldest" in str(w.message))
        assert drop.counts == {  # type: ignore[attr-defined]
            "dropped": 6, "most": 4, "firings": 0, "late": 3, "refused": 3
        }  # fmt: skip
        assert [q.record["interaction_id"] for q in store.late()] == ["i3", "i4"]
        with pytest.warns(DataWarning, match="1 interaction.s. arrived late"):
            assert engine.process(rec(0, "c")) == []  # dropped: kept again, as late
        assert engine.duplicates == 0
        assert [q.record["interaction_id"] for q in store.late()] == ["i3", "i4", "i0"]

    def test_a_restart_from_the_same_store(self) -> None:
        """Firings kept as columns by an engine that closed are read after another opened
        the store; the limit goes on, and the new engine warns only of its own drops."""
        store = InMemoryStore(max_kept=8)
        first = engine_of(store, 2)
        emitted = ids(first.process_many([rec(n) for n in range(6)]))
        store.close()
        second = engine_of(store, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            emitted += ids(second.process(rec(6)))
            assert caught == []
            emitted += ids(second.process_many([rec(n) for n in range(7, 10)]))
        kept = ids(store.firings())
        assert kept == emitted[len(emitted) - len(kept) :]
        assert dropped_firings(caught) == [len(emitted) - len(kept)]

    def test_warnings_as_errors(self) -> None:
        """With warnings turned into errors, a call that dropped raises its own drops after
        committing: its state and newest firings are in the store, the batch sent again is
        ignored as re-delivered, and the next call, which drops nothing, does not raise."""
        store = InMemoryStore(max_kept=2)
        engine = engine_of(store, None)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            engine.process_many([rec(10), rec(11)])
            batch = [rec(1), rec(12), rec(13)]  # one late, two firings: over the limit
            with pytest.raises(DataWarning, match="dropped its oldest 3 firing"):
                engine.process_many(batch)
            assert [f.customer_id for f in store.firings()] == ["c3"]  # rec(13), the newest
            assert [q.record["interaction_id"] for q in store.late()] == ["i1"]
            assert engine.stats()["late"] == 1
            assert engine.watermark == T0 + timedelta(minutes=13)
            again = [rec(12), rec(13)]
            assert list(engine.process_many(again)) == []
            assert engine.duplicates == 2
            assert len(engine.process_many([rec(14, "d")])) == 1  # nothing to warn of

    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")
    def test_threads_calling_and_reading(self) -> None:
        """One thread calls the engine (one at a time and in micro-batches, some late) while
        others read, acknowledge, prune and take: nothing fails, and the store ends within
        its limit, in emission order, with every late interaction taken or kept once."""
        store = InMemoryStore(max_kept=20)
        engine = engine_of(store, 8)
        emitted: list[str] = []
        failures: list[BaseException] = []
        taken: list[Quarantined] = []
        done = threading.Event()

        def call() -> None:
            try:
                for n in range(0, 600, 10):
                    emitted.extend(ids(engine.process_many([rec(m) for m in range(n, n + 9)])))
                    emitted.extend(ids(engine.process(rec(n + 9))))
                    engine.process(rec(n // 10, "late", f"late{n}"))  # late once n > 0
                    # the host takes them as they come; past the limit the store would drop
                    # the oldest (warned of), which a host starved by the scheduler would see
                    until = time.monotonic() + 10
                    while len(store.late()) >= 10 and time.monotonic() < until:
                        time.sleep(0.0005)
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
            finally:
                done.set()

        def host() -> None:
            try:
                while not done.is_set():
                    some = store.pending()
                    store.acknowledge(ids(some[: len(some) // 2]))
                    store.prune(before=T0 + timedelta(minutes=300))
                    taken.extend(store.take_late())
                    assert len(store.firings()) <= 20
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=call), threading.Thread(target=host)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        kept = ids(store.firings())
        assert len(kept) <= 20 and [i for i in emitted if i in set(kept)] == kept
        late = [q.record["interaction_id"] for q in [*taken, *store.take_late()]]
        assert sorted(late) == sorted(f"late{n}" for n in range(0, 600, 10))


# -- take_late / take_rejected --------------------------------------------------------------------
def make_store(kind: str, tmp_path: Path) -> Any:
    return InMemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "state.db")


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
class TestTaking:
    @pytest.mark.parametrize("columnar", [1, None], ids=["columns", "per-interaction"])
    def test_a_late_interaction_taken_then_delivered_again(
        self, kind: str, columnar: int | None, tmp_path: Path
    ) -> None:
        """Re-delivered while kept, a late interaction is a duplicate; re-delivered after it
        was taken, it is kept and reported late again, and never processed."""
        store = make_store(kind, tmp_path)
        engine = engine_of(store, columnar)
        try:
            engine.process_many([rec(100, "c"), rec(101, "d")])
            with pytest.warns(DataWarning, match="1 interaction.s. arrived late"):
                assert list(engine.process_many([rec(5, "c")])) == []
            assert list(engine.process_many([rec(5, "c")])) == []  # kept: a duplicate
            assert engine.duplicates == 1
            assert [q.record["interaction_id"] for q in store.take_late()] == ["i5"]
            assert not set(store.kept_late({("c", "i5")}))
            with pytest.warns(DataWarning, match="1 interaction.s. arrived late"):
                assert list(engine.process_many([rec(5, "c"), rec(102, "e")])) != []
            assert engine.duplicates == 1 and engine.stats()["late"] == 2
            assert [q.record["interaction_id"] for q in store.late()] == ["i5"]
            assert ids(store.firings()) == ids(
                engine_of(InMemoryStore(), None).process_many(
                    [rec(100, "c"), rec(101, "d"), rec(102, "e")]
                )
            )  # i5 never fired
        finally:
            store.close()

    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")
    def test_taking_while_an_engine_commits(self, kind: str, tmp_path: Path) -> None:
        """Taken by the host (for SQLite through its own connection) while the engine
        keeps late and refused interactions: each is handed over once, none is lost."""
        clock = [T0 + timedelta(days=1)]
        store = make_store(kind, tmp_path)
        engine = TriggerEngine(RULES, store=store, clock=lambda: clock[0])
        host = store if kind == "memory" else SQLiteStore(tmp_path / "state.db", timeout=30)
        engine.process(rec(1440, "c", "now"))
        taken: list[Quarantined] = []
        failures: list[BaseException] = []
        done = threading.Event()

        def call() -> None:
            try:
                for n in range(150):
                    ahead = {**rec(n, "c", f"r{n}"), "timestamp": T0 + timedelta(days=9)}
                    engine.process_many([rec(n, "c", f"l{n}"), ahead])
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=call)
        thread.start()
        try:
            while not done.is_set():
                taken += host.take_late() + host.take_rejected()
                time.sleep(0.001)  # the engine's commits wait for the host's takes
            thread.join()
            taken += host.take_late() + host.take_rejected()
        finally:
            thread.join()
            if host is not store:
                host.close()
            store.close()
        assert failures == []
        got = sorted(q.record["interaction_id"] for q in taken)
        assert got == sorted([f"l{n}" for n in range(150)] + [f"r{n}" for n in range(150)])


class TestSQLiteTaking:
    def test_on_a_store_never_opened_or_closed(self, tmp_path: Path) -> None:
        """The host's side needs no open(): taking works before it and after close()."""
        path = tmp_path / "state.db"
        with SQLiteStore(path) as store:
            assert store.take_late() == [] == store.take_rejected()
            store.open()
            store.commit(
                StateChange(
                    meta={},
                    customers={},
                    late=[Quarantined({"interaction_id": "i1", "café ☃": 1}, "late", "c")],
                    rejected=[Quarantined({"n": 2}, "refused", None)],
                )
            )
        store = SQLiteStore(path)
        try:
            assert store.take_late() == [
                Quarantined({"interaction_id": "i1", "café ☃": 1}, "late", "c")
            ]
            store.close()
            assert store.take_rejected() == [Quarantined({"n": 2}, "refused", None)]
            assert store.late() == [] == store.rejected()
        finally:
            store.close()

    def test_locked_by_another_connection(self, sqlite_store: SQLiteStore) -> None:
        """A store written to by another connection past the timeout: StoreError naming the
        file and what was tried, nothing deleted."""
        sqlite_store.open()
        sqlite_store.commit(StateChange({}, {}, late=[Quarantined({"n": 1}, "late", "c")]))
        other = sqlite3.connect(sqlite_store.path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            for take in (sqlite_store.take_late, sqlite_store.take_rejected):
                with pytest.raises(StoreError, match="state.db.*take the .* rolled back"):
                    take()
            other.execute("ROLLBACK")
        finally:
            other.close()
        assert sqlite_store.late() == [Quarantined({"n": 1}, "late", "c")]

    @pytest.mark.parametrize("table", ["late", "rejected"])
    def test_a_record_that_does_not_decode(self, sqlite_store: SQLiteStore, table: str) -> None:
        """A stored record that does not decode (the file damaged): StoreError naming the
        file and the table, and nothing deleted, by the take as by the read."""
        sqlite_store.open()
        kept = [Quarantined({"n": n}, "set aside", "c") for n in range(2)]
        sqlite_store.commit(StateChange({}, {}, late=kept, rejected=kept))
        other = sqlite3.connect(sqlite_store.path, isolation_level=None)
        try:
            other.execute(f"UPDATE {table} SET record = '{{not json' WHERE seq = 2")
        finally:
            other.close()
        take = getattr(sqlite_store, f"take_{table}")
        read = getattr(sqlite_store, table)
        for attempt in (take, read):
            with pytest.raises(StoreError, match=f"state.db.* holds a {table} interaction that"):
                attempt()
        other = sqlite3.connect(sqlite_store.path)
        try:
            assert other.execute(f"SELECT count(*) FROM {table}").fetchone() == (2,)
        finally:
            other.close()

    @pytest.mark.parametrize("damage", ["'{not json'", "'[1, 2]'", "'{}'"])
    def test_a_firing_that_does_not_decode(self, sqlite_store: SQLiteStore, damage: str) -> None:
        """A stored firing that does not decode, or decodes to no firing: StoreError naming
        the file, from the outbox's readers."""
        sqlite_store.open()
        sqlite_store.commit(StateChange({}, {}, firings=[firing(1), firing(2)]))
        other = sqlite3.connect(sqlite_store.path, isolation_level=None)
        try:
            other.execute(f"UPDATE outbox SET firing = {damage} WHERE firing_id = 'f2'")
        finally:
            other.close()
        for read in (sqlite_store.firings, sqlite_store.pending):
            with pytest.raises(StoreError, match="state.db.* holds a firing that does not decode"):
                read()
        assert [f.firing_id for f in sqlite_store.pending(limit=1)] == ["f1"]


# -- field names ----------------------------------------------------------------------------------
class TestFieldNames:
    @staticmethod
    def interactions(n: int, bad_at: int, name: str = BAD) -> list[Interaction]:
        out = [
            Interaction(f"c{i % 3}", T0 + timedelta(minutes=i), "purchase", interaction_id=f"i{i}")
            for i in range(n)
        ]
        out[bad_at] = Interaction(
            "c0", T0 + timedelta(minutes=bad_at), "purchase", properties={name: 1.0}
        )
        return out

    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_interaction_objects(self, kind: str, tmp_path: Path) -> None:
        """Interaction objects with a property so named, one at a time, in a small and a
        large micro-batch: refused naming the record and the name, nothing processed."""
        store = make_store(kind, tmp_path)
        engine = engine_of(store, 1000)
        try:
            with pytest.raises(SchemaError, match=f"^record: {NOT_TEXT}"):
                engine.process(self.interactions(1, 0)[0])
            with pytest.raises(SchemaError, match=f"^record 3: {NOT_TEXT}"):
                engine.process_many(self.interactions(5, 2))
            with pytest.raises(SchemaError, match=f"^record 701: {NOT_TEXT}"):
                engine.process_many(self.interactions(1500, 700))
            assert engine.stats()["customers"] == 0
            assert store.firings() == [] == store.late() == store.rejected()
        finally:
            store.close()

    def test_a_catalogue_event(self) -> None:
        engine = TriggerEngine(parse(BACK_IN_STOCK), max_future=None)
        engine.process(view("a", 1))
        with pytest.raises(SchemaError, match=f"^record: {NOT_TEXT}"):
            engine.process(restock(2, **{BAD: 1}))
        with pytest.raises(SchemaError, match=f"^record 2: {NOT_TEXT}"):
            engine.process_many([view("b", 2), restock(3, **{BAD: "x"})])
        assert engine.stats()["pending_catalogue_events"] == 0

    @pytest.mark.parametrize("n", [1, 1500])
    def test_columns_given_to_the_engine(self, n: int) -> None:
        engine = engine_of(InMemoryStore(), 1000)
        columns = {
            "customer_id": ["a"] * n,
            "kind": ["purchase"] * n,
            "timestamp": ["2024-01-01T00:00:00Z"] * n,
            BAD: [1.0] * n,
        }
        with pytest.raises(SchemaError, match=COLUMN_NOT_TEXT):
            engine.process_many(columns)
        assert engine.stats()["customers"] == 0

    def test_every_way_into_a_log(self, tmp_path: Path) -> None:
        """from_arrays, from_records, from_interactions, from_pandas, with_column, read_jsonl
        and read_csv: a name not valid text is refused with a CXModelError, so that no log
        the engine or a writer would take holds it."""
        pd = pytest.importorskip("pandas")
        base = {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}
        log = InteractionLog.from_records([base])
        attempts = {
            "from_arrays": lambda: InteractionLog.from_arrays(
                ["a"], ["2024-01-01T00:00:00Z"], ["purchase"], **{BAD: [1.0]}
            ),
            "from_records": lambda: InteractionLog.from_records(
                [{**base, BAD: 1}], errors="quarantine"
            ),
            "from_interactions": lambda: InteractionLog.from_interactions(self.interactions(2, 1)),
            "from_pandas": lambda: InteractionLog.from_pandas(
                pd.DataFrame({**{k: [v] for k, v in base.items()}, BAD: [1.0]})
            ),
            "from_pandas index": lambda: InteractionLog.from_pandas(
                pd.DataFrame({**{k: [v] for k, v in base.items()}, BAD: ["x"]}).set_index(BAD)
            ),
            "with_column": lambda: log.with_column(BAD, ["x"]),
            "with_column numbers": lambda: log.with_column(BAD, [1.0]),
        }
        for attempt in attempts.values():
            with pytest.raises(SchemaError, match=COLUMN_NOT_TEXT):
                attempt()
        jsonl = tmp_path / "x.jsonl"
        jsonl.write_bytes(b'{"customer_id":"a","timestamp":"2024-01-01T00:00:00Z",'
                          b'"kind":"purchase","bad\\ud800":1}\n')  # fmt: skip
        with pytest.raises(SchemaError, match=COLUMN_NOT_TEXT):
            read_jsonl(jsonl)
        csv = tmp_path / "x.csv"
        csv.write_bytes(b"customer_id,timestamp,kind,bad\xff\na,2024-01-01T00:00:00Z,purchase,1\n")
        for errors in ("raise", "quarantine"):
            with pytest.raises(CXModelError, match="not valid"):
                read_csv(csv, errors=errors)

    def test_customer_traits_so_named_are_never_stored(self, sqlite_store: SQLiteStore) -> None:
        """A customer's traits are the host's, read from memory and never written to a
        store: one so named is no one's concern, and the rules reading others work."""
        rules = parse('trigger t:\n    when purchase\n    if customer.plan == "pro"\n    emit x')
        customers = {"a": Customer("a", traits={BAD: 1, "plan": "pro"})}
        engine = TriggerEngine(rules, store=sqlite_store, customers=customers, max_future=None)
        assert len(engine.process(rec(0, "a"))) == 1
        assert len(sqlite_store.firings()) == 1

    @pytest.mark.parametrize("name", ["café ☃", "名前", "emoji 😀", "\u00e9\u0301"])
    def test_valid_text_beyond_ascii_is_kept(self, name: str, sqlite_store: SQLiteStore) -> None:
        """Names of valid text are kept as before: by a log, by the engine on both paths,
        and in the records a SQLite store sets aside and hands over."""
        engine = engine_of(sqlite_store, 1000)
        batch = [{**rec(n), name: "x"} for n in range(1500)]
        assert len(engine.process_many(batch)) == 1500
        with pytest.warns(DataWarning, match="arrived late"):
            engine.process({**rec(0, "c0", "again"), name: 7})
        assert [q.record[name] for q in sqlite_store.take_late()] == [7]
        log = InteractionLog.from_records(batch[:3])
        assert name in log.columns and name in log.with_column(name, ["y"] * 3).columns
        assert (
            name
            in InteractionLog.from_arrays(
                ["a"], ["2024-01-01T00:00:00Z"], ["purchase"], **{name: [1.0]}
            ).columns
        )
