"""Alerts' windows in a store: each call hands over only the values it added and trimmed, a
failed commit is undone exactly, a restart reads the windows back exactly, and forgetting a
customer leaves no copy of their id in an alert's window (in memory or in the file)."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import StoreError
from cxmodel.triggers import (
    InMemoryStore,
    SQLiteStore,
    StateChange,
    TriggerEngine,
    parse,
)
from tests.triggers.helpers import FailingStore

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
ALERTS = parse(
    "alert flood:\n"
    "    when count(ticket_opened within 1 days) > 30\n"
    "    emit page(who = distinct(ticket_opened.customer_id within 2 hours),\n"
    "              top = max(purchase.value within 3 hours))\n"
    "    cooldown 6 hours\n\n"
    "alert lull:\n"
    "    when count(product_view within 90 minutes) < 2 and "
    "count(product_view within 12 hours) >= 5\n"
    "    emit look\n"
)
FLOOD = "alert flood:\n    when count(ticket_opened within 1 days) > 100000\n    emit page\n"


def stream(seed: int, n: int) -> list[dict[str, Any]]:
    """Tickets, product views and purchases of ten customers in time order, minutes apart,
    with now and then a gap of a day or more (a call that trims whole windows)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    time = T0
    for j in range(n):
        gap = rng.choice([0, 1, 5, 20, 60]) if rng.random() > 0.02 else rng.choice([1500, 3000])
        time += timedelta(minutes=gap)
        kind = rng.choice(["ticket_opened", "ticket_opened", "product_view", "purchase"])
        rec: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(10)}",
            "timestamp": time.isoformat(),
            "kind": kind,
            "interaction_id": f"i{j}",
        }
        if kind == "purchase":
            rec["value"] = float(rng.randrange(1, 500))
        out.append(rec)
    return out


def calls(seed: int, recs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The records cut into single calls, micro-batches and ``advance_to`` ticks."""
    rng = random.Random(seed)
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(recs):
        size = rng.choice([1, 1, 1, 3, 17, 60])
        part = recs[pos : pos + size]
        out.append(("one", part[0]) if size == 1 else ("many", part))
        pos += size
        if rng.random() < 0.1:
            out.append(("tick", part[-1]["timestamp"]))
    return out


def run(engine: TriggerEngine, call: tuple[str, Any]) -> list[str]:
    """One call; the ids of the firings it returned."""
    what, arg = call
    if what == "one":
        got = engine.process(arg)
    elif what == "many":
        got = list(engine.process_many(arg))
    else:
        got = engine.advance_to(arg)
    return [f.firing_id for f in got]


def windows(engine: TriggerEngine, *, bookkeeping: bool = False) -> dict[str, Any]:
    """Every alert's state: the condition's and the policy's fields, the values numbered so
    far and each window's values (with ``bookkeeping``, also the number each window last
    trimmed, which a restart does not need)."""
    out: dict[str, Any] = {}
    for name, state in engine._runner.alerts.states.items():
        out[name] = (
            state.pending,
            state.active,
            state.last_emitted,
            state.numbered,
            {
                key: (list(w.entries), w.trimmed_through if bookkeeping else None)
                for key, w in state.windows.items()
            },
        )
    return out


def trim_marks(engine: TriggerEngine) -> list[int]:
    """The number each window trimmed last: it changes when a call trims."""
    return [
        w.trimmed_through for s in engine._runner.alerts.states.values() for w in s.windows.values()
    ]


def stored_rows(path: Path) -> list[tuple[Any, ...]]:
    """The alert values in a SQLite store file, read by another connection."""
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT alert, aggregate, number, time_us, value, customer_id FROM alert_values "
            "ORDER BY alert, aggregate, number"
        ).fetchall()
    finally:
        db.close()


def held(engine: TriggerEngine) -> int:
    return int(engine.stats()["alert_window_values"])


class Recording(InMemoryStore):
    """An in-memory store that keeps every change it commits (a store of the host's own to
    the engine, so calls go through the rollback path)."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[StateChange] = []

    def commit(self, change: StateChange) -> None:
        self.changes.append(change)
        super().commit(change)


def tickets(start: int, n: int, every: timedelta = timedelta(seconds=30)) -> list[dict[str, Any]]:
    return [
        {"customer_id": f"c{j % 50}", "timestamp": (T0 + j * every).isoformat(),
         "kind": "ticket_opened"}
        for j in range(start, start + n)
    ]  # fmt: skip


class TestWorkPerCall:
    def test_a_call_hands_over_what_it_changed_not_the_window(self) -> None:
        """With a day's window holding 100 and then about 2,880 values, one interaction's
        commit carries one added value, at most one trim and no cleared alert, and a meta of
        the same size: nothing in it grows with the window."""
        store = Recording()
        engine = TriggerEngine(parse(FLOOD), store=store, max_future=None)
        engine.process_many(tickets(0, 100))
        sizes = []
        for fill_to in (100, 4000):
            fed = 100 if fill_to == 100 else 110
            if fill_to > fed:
                engine.process_many(tickets(fed, fill_to - fed))
            before = held(engine)
            store.changes.clear()
            for rec in tickets(fill_to, 10):
                engine.process(rec)
            assert len(store.changes) == 10
            for change in store.changes:
                assert change.alerts.cleared == ()
                assert [v.number for v in change.alerts.added] == [
                    int(change.meta["alerts"]["flood"]["numbered"]) - 1
                ]
                assert len(change.alerts.trimmed) <= 1
                assert set(change.meta["alerts"]["flood"]) == {
                    "hash", "pending", "active", "last_emitted", "numbered",
                }  # fmt: skip
            sizes.append((before, len(json.dumps(dict(store.changes[-1].meta)))))
        (small, small_meta), (large, large_meta) = sizes
        assert (small, large) == (100, 2881)  # the window holds one day of tickets 30 s apart
        assert large_meta - small_meta < 16  # a few more digits in the counters

    def test_sqlite_holds_exactly_the_window(self, tmp_path: Path) -> None:
        """The SQLite file holds one row per value in a window: trimmed values are deleted
        as they leave, so the table follows the window, not the stream."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        engine = TriggerEngine(parse(FLOOD), store=store, max_future=None)
        engine.process_many(tickets(0, 4000))
        for rec in tickets(4000, 20):
            engine.process(rec)
        rows = stored_rows(path)
        assert len(rows) == held(engine) == 2881
        assert [r[2] for r in rows] == list(range(4020 - 2881, 4020))
        store.close()


class TestRollback:
    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    @pytest.mark.parametrize("seed", range(3))
    @pytest.mark.filterwarnings("ignore::cxmodel.errors.DataWarning")  # at a tick: late
    def test_failed_commits_restore_the_windows_exactly(
        self, kind: str, seed: int, tmp_path: Path
    ) -> None:
        """A third of the calls fail at commit once: the alerts' windows, counters and
        policy state are exactly as before the call, the store's rows too, and the retry
        returns what a twin engine that never failed returned."""
        path = tmp_path / "s.db"
        inner: Any = SQLiteStore(path) if kind == "sqlite" else InMemoryStore()
        store = FailingStore(inner)
        engine = TriggerEngine(ALERTS, store=store, max_future=None)
        twin = TriggerEngine(ALERTS, max_future=None)
        rng = random.Random(seed)
        failed = failed_trims = 0
        for call in calls(seed, stream(seed, 1500)):
            fails = rng.random() < 0.5
            if fails:
                before = windows(engine, bookkeeping=True)
                rows = stored_rows(path) if kind == "sqlite" else None
                store.fail = 1
                with pytest.raises(StoreError):
                    run(engine, call)
                assert windows(engine, bookkeeping=True) == before, call
                if rows is not None:
                    assert stored_rows(path) == rows
                failed += 1
            marks = trim_marks(engine)
            assert run(engine, call) == run(twin, call), call
            failed_trims += fails and trim_marks(engine) != marks
        assert failed > 40 and failed_trims > 20
        assert windows(engine) == windows(twin)
        store.close()
        reopened: Any = SQLiteStore(path) if kind == "sqlite" else inner
        restarted = TriggerEngine(ALERTS, store=reopened, max_future=None)
        assert windows(restarted) == windows(twin)
        reopened.close()


class TestRestart:
    @pytest.mark.parametrize("kind", ["memory", "sqlite"])
    def test_restarts_between_calls_equal_an_uninterrupted_engine(
        self, kind: str, tmp_path: Path
    ) -> None:
        """Closed and reopened at random between calls (single records, micro-batches,
        ticks, days-long gaps), the engine reads back windows equal to those of an engine
        that ran through, and returns the same firings."""
        path = tmp_path / "s.db"
        memory = InMemoryStore()

        def start() -> tuple[Any, TriggerEngine]:
            store: Any = SQLiteStore(path) if kind == "sqlite" else memory
            return store, TriggerEngine(ALERTS, store=store, max_future=None)

        store, engine = start()
        twin = TriggerEngine(ALERTS, max_future=None)
        rng = random.Random(5)
        got: list[str] = []
        expected: list[str] = []
        restarts = 0
        for call in calls(5, stream(5, 900)):
            got += run(engine, call)
            expected += run(twin, call)
            if rng.random() < 0.15:
                store.close()
                store, engine = start()
                assert windows(engine) == windows(twin), call
                restarts += 1
        assert restarts > 10
        assert Counter(got) == Counter(expected) and len(got) > 10
        if kind == "sqlite":
            assert len(stored_rows(path)) == held(twin)
        store.close()

    def test_removed_and_changed_alerts_leave_no_rows(self, tmp_path: Path) -> None:
        """An alert removed at runtime, or changed between runs, has its stored values
        deleted by the next commit; one added with a backfill is stored whole."""
        path = tmp_path / "s.db"
        recs = stream(1, 300)
        store = SQLiteStore(path)
        engine = TriggerEngine(ALERTS, store=store, max_future=None)
        engine.process_many(recs[:200])
        assert {r[0] for r in stored_rows(path)} == {"flood", "lull"}
        engine.remove_rule("lull")
        engine.process(recs[200])
        assert {r[0] for r in stored_rows(path)} == {"flood"}
        lull = ALERTS.alerts[1]
        engine.add_rule(lull, backfill=recs[:201])
        engine.process(recs[201])
        twin = TriggerEngine(ALERTS, max_future=None)
        twin.process_many(recs[:202])
        assert windows(engine) == windows(twin)
        assert len(stored_rows(path)) == held(twin)
        store.close()
        changed = parse(str(ALERTS).replace("> 30", "> 31"))
        store = SQLiteStore(path)
        engine = TriggerEngine(changed, store=store, max_future=None)
        engine.process(recs[202])
        flood = [r for r in stored_rows(path) if r[0] == "flood"]
        numbered = windows(engine)["flood"][3]
        assert 0 < numbered <= 2  # the changed alert starts afresh
        assert sorted(r[2] for r in flood) == list(range(numbered))
        assert len(stored_rows(path)) == held(engine)
        store.close()


SECRET = "zq-alert-forget-4417"


class TestForget:
    def test_no_copy_of_the_id_in_the_windows_or_the_file(self, tmp_path: Path) -> None:
        """After ``forget``, the customer's id is in no window of ids, in no stored row and
        in none of the SQLite files; a restart reads the others' values back."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        engine = TriggerEngine(ALERTS, store=store, max_future=None)
        recs = stream(2, 200)
        for j in range(0, 200, 7):
            recs[j] = {**recs[j], "customer_id": SECRET, "kind": "ticket_opened"}
        engine.process_many(recs[:150])
        for rec in recs[150:]:
            engine.process(rec)
        assert SECRET in json.dumps(windows(engine))
        assert any(p.read_bytes().count(SECRET.encode()) for p in _files(path))
        engine.forget(SECRET)
        assert SECRET not in json.dumps(windows(engine))
        for part in _files(path):
            assert SECRET.encode() not in part.read_bytes(), part.name
        kept = windows(engine)
        store.close()
        store = SQLiteStore(path)
        assert windows(TriggerEngine(ALERTS, store=store, max_future=None)) == kept
        store.close()


def _files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
