"""State stores for the streaming engine: in memory, and SQLite (standard library)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cxmodel.triggers._firings import Firing
from cxmodel.triggers._history import Batch, BatchRecords

__all__ = ["InMemoryStore", "SQLiteStore", "StateStore", "firing_from_dict"]


def firing_from_dict(data: dict[str, Any]) -> Firing:
    """Rebuild a :class:`Firing` from :meth:`Firing.to_dict` output."""
    return Firing(
        trigger=data["trigger"],
        customer_id=data["customer_id"],
        time=datetime.fromisoformat(data["time"]),
        action=data["action"],
        payload=data["payload"],
        because=data["because"],
        firing_id=data["firing_id"],
        reason=data.get("reason"),
    )


class StateStore:
    """The engine's durable state: released events, seen ids, meta state and the outbox.

    :meth:`commit` applies one engine call's changes atomically. ``events`` and the meta
    entry ``"buffer"`` are sequences of records that may be built lazily: a store that
    serialises them iterates them (``list()``), one that keeps them in memory need not. The
    engine hands over a ``BatchRecords``, whose ``batch`` a store may write as columns
    (``batch.to_columns()``) and hand back from :meth:`load` as a ``BatchRecords`` again.
    """

    def load(self) -> tuple[Sequence[Mapping[str, Any]], set[str], dict[str, Any], set[str]]:
        """Return (events in release order, seen interaction ids, meta, emitted firing ids)."""
        raise NotImplementedError

    def commit(
        self,
        events: Sequence[Mapping[str, Any]],
        seen: Sequence[str],
        meta: dict[str, Any],
        firings: Iterable[Firing],
    ) -> None:
        """Append ``events`` and ``firings``, record ``seen`` ids and replace ``meta``, atomically."""
        raise NotImplementedError

    def firings(self) -> list[Firing]:
        """Every firing in the outbox, in emission order."""
        raise NotImplementedError

    def acknowledge(self, firing_ids: list[str] | set[str]) -> None:
        """Mark firings as handled by the host."""
        raise NotImplementedError

    def pending(self) -> list[Firing]:
        """Firings not yet acknowledged."""
        acked = self._acked()
        return [f for f in self.firings() if f.firing_id not in acked]

    def _acked(self) -> set[str]:
        raise NotImplementedError


class InMemoryStore(StateStore):
    """A store that lives in the process (lost when it exits).

    It keeps what the engine hands it as is (events and firings are turned into records and
    objects only when read back), so it costs the engine next to nothing.

    Examples
    --------
    >>> store = InMemoryStore()
    >>> store.firings()
    []
    """

    def __init__(self) -> None:
        self._events: list[Sequence[Mapping[str, Any]]] = []
        self._seen: set[str] = set()
        self._meta: dict[str, Any] = {}
        self._outbox: list[Iterable[Firing]] = []
        self._acks: set[str] = set()

    def load(self) -> tuple[Sequence[Mapping[str, Any]], set[str], dict[str, Any], set[str]]:
        """Return the stored state."""
        return (
            BatchRecords(Batch.concat([Batch.of(chunk) for chunk in self._events])),
            set(self._seen),
            dict(self._meta),
            {f.firing_id for f in self.firings()},
        )

    def commit(
        self,
        events: Sequence[Mapping[str, Any]],
        seen: Sequence[str],
        meta: dict[str, Any],
        firings: Iterable[Firing],
    ) -> None:
        """Apply one call's changes."""
        if len(events):
            self._events.append(events)
        self._seen.update(seen)
        self._meta = dict(meta)
        self._outbox.append(firings)

    def firings(self) -> list[Firing]:
        """Every firing emitted."""
        return [f for part in self._outbox for f in part]

    def acknowledge(self, firing_ids: list[str] | set[str]) -> None:
        """Mark firings handled."""
        self._acks.update(firing_ids)

    def _acked(self) -> set[str]:
        return self._acks


class SQLiteStore(StateStore):
    """A durable store in one SQLite file; each interaction's changes commit in one transaction.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "state.db")
    >>> store = SQLiteStore(path)
    >>> store.pending()
    []
    >>> store.close()
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT);
            CREATE TABLE IF NOT EXISTS event_batches (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, columns TEXT);
            CREATE TABLE IF NOT EXISTS seen (interaction_id TEXT PRIMARY KEY);
            CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, firing_id TEXT UNIQUE, firing TEXT,
                acked INTEGER DEFAULT 0);
            """
        )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def load(self) -> tuple[Sequence[Mapping[str, Any]], set[str], dict[str, Any], set[str]]:
        """Read the whole state."""
        records = [
            json.loads(r[0]) for r in self._db.execute("SELECT record FROM events ORDER BY seq")
        ]  # one row per event: files written before events were stored by batch
        batches = [
            Batch.from_columns(json.loads(r[0]))
            for r in self._db.execute("SELECT columns FROM event_batches ORDER BY seq")
        ]
        events = BatchRecords(Batch.concat([Batch.of(records), *batches]))
        seen = {r[0] for r in self._db.execute("SELECT interaction_id FROM seen")}
        row = self._db.execute("SELECT v FROM meta WHERE k = 'state'").fetchone()
        meta = json.loads(row[0]) if row else {}
        emitted = {r[0] for r in self._db.execute("SELECT firing_id FROM outbox")}
        return events, seen, meta, emitted

    def commit(
        self,
        events: Sequence[Mapping[str, Any]],
        seen: Sequence[str],
        meta: dict[str, Any],
        firings: Iterable[Firing],
    ) -> None:
        """Write one call's changes in a single transaction."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(events, BatchRecords):  # one row of columns per call
                if len(events):
                    db.execute(
                        "INSERT INTO event_batches (columns) VALUES (?)",
                        (json.dumps(events.batch.to_columns()),),
                    )
            else:
                db.executemany(
                    "INSERT INTO events (record) VALUES (?)", [(json.dumps(e),) for e in events]
                )
            db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(s,) for s in seen])
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('state', ?)",
                (json.dumps(meta, default=_as_json),),
            )
            db.executemany(
                "INSERT OR IGNORE INTO outbox (firing_id, firing) VALUES (?, ?)",
                [(f.firing_id, f.to_json()) for f in firings],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def firings(self) -> list[Firing]:
        """Every firing in the outbox, in emission order."""
        rows = self._db.execute("SELECT firing FROM outbox ORDER BY seq")
        return [firing_from_dict(json.loads(r[0])) for r in rows]

    def acknowledge(self, firing_ids: list[str] | set[str]) -> None:
        """Mark firings handled."""
        self._db.executemany(
            "UPDATE outbox SET acked = 1 WHERE firing_id = ?", [(i,) for i in firing_ids]
        )

    def _acked(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT firing_id FROM outbox WHERE acked = 1")}


def _as_json(value: Any) -> Any:
    """Sequences in the engine's meta state: a batch of records as columns, others as lists."""
    if isinstance(value, BatchRecords):
        return {"columns": value.batch.to_columns()} if len(value) else []
    return list(value)
