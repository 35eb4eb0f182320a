"""SQLiteStore: the store contract across reopenings, atomic commits that fail cleanly, an OS
lock that dies with its process, refusal of files that are not stores, use from any thread,
erasure that leaves no bytes behind."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import CXModelError, StoreError
from cxmodel.triggers import (
    Firing,
    Quarantined,
    SQLiteStore,
    StateChange,
    StoredState,
    TriggerEngine,
    parse,
)
from cxmodel.triggers import _sqlite as sqlite_module
from cxmodel.triggers._sqlite import _FileLock
from cxmodel.triggers._store import FORMAT, FORMAT_VERSION
from tests.triggers.stores import SRC, T0, StoreContract, firing, full_change, quarantined


class TestSQLiteStore(StoreContract):
    """SQLiteStore keeps the contract across processes' lifetimes (a new object per reopen)."""

    def make(self, tmp_path: Path) -> SQLiteStore:
        return SQLiteStore(tmp_path / "state.db")

    def reopen(self, store: Any) -> tuple[Any, StoredState]:
        store.close()
        again = SQLiteStore(store.path)
        return again, again.open()

    def test_numpy_and_datetime_values_become_plain_json(self, tmp_path: Path) -> None:
        """numpy scalars and arrays, datetimes and dates are stored as plain JSON values."""
        with SQLiteStore(tmp_path / "s.db") as store:
            store.open()
            state = {
                "n": np.int64(3),
                "x": np.float32(0.5),
                "ok": np.bool_(True),
                "v": np.array([1, 2]),
                "at": T0,
                "day": date(2024, 2, 29),
                "t64": np.datetime64("2024-01-01T00:00:00", "us"),
            }
            store.commit(StateChange(meta={"max": np.int32(7)}, customers={"c1": state}))
        with SQLiteStore(tmp_path / "s.db") as store:
            expected = StoredState(
                {"max": 7},
                {
                    "c1": {
                        "n": 3,
                        "x": 0.5,
                        "ok": True,
                        "v": [1, 2],
                        "at": "2024-01-01T00:00:00+00:00",
                        "day": "2024-02-29",
                        "t64": "2024-01-01T00:00:00.000000Z",
                    }
                },
            )
            assert expected == store.open()

    def test_value_json_cannot_hold_names_the_key_and_writes_nothing(self, tmp_path: Path) -> None:
        """A state holding an object JSON cannot hold raises StoreError naming where it is;
        nothing of that commit is stored."""
        with SQLiteStore(tmp_path / "s.db") as store:
            store.open()
            store.commit(StateChange({"m": 1}, {"c0": {"a": 1}}))
            bad = StateChange(
                {"m": 2}, {"c1": {"ok": 1}, "c2": {"deep": [0, {"k": object()}]}}, [firing(1)]
            )
            with pytest.raises(StoreError, match=r"customers\['c2'\]\['deep'\]\[1\]\['k'\]"):
                store.commit(bad)
            with pytest.raises(StoreError, match=r"meta has a key"):
                store.commit(StateChange({np.int64(1): 1}, {}))
            expected_firings: list[Firing] = []
            assert expected_firings == store.firings()
        with SQLiteStore(tmp_path / "s.db") as store:
            assert StoredState({"m": 1}, {"c0": {"a": 1}}) == store.open()

    def test_commit_and_forget_need_open(self, tmp_path: Path) -> None:
        """Writing the engine's state without having opened the store is refused; reading
        the outbox and acknowledging are not."""
        with SQLiteStore(tmp_path / "s.db") as store:
            with pytest.raises(StoreError, match="before open"):
                store.commit(StateChange({}, {}))
            with pytest.raises(StoreError, match="before open"):
                store.forget("c1", {})
            store.acknowledge(["f1"])
            expected_firings: list[Firing] = []
            assert expected_firings == store.pending()

    def test_host_reads_the_outbox_while_the_engine_holds_the_store(self, tmp_path: Path) -> None:
        """A second store object on the file (not opened) reads and acknowledges firings."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as engine_side, SQLiteStore(path) as host_side:
            engine_side.open()
            engine_side.commit(StateChange({}, {}, firings=[firing(1), firing(2)]))
            assert [firing(1), firing(2)] == host_side.pending()
            host_side.acknowledge(["f1"])
            assert [firing(2)] == engine_side.pending()

    def test_bad_synchronous_and_memory_path(self, tmp_path: Path) -> None:
        """An unknown synchronous mode and ':memory:' are refused with ValueError."""
        with pytest.raises(ValueError, match="synchronous"):
            SQLiteStore(tmp_path / "s.db", synchronous="sometimes")
        with pytest.raises(ValueError, match="InMemoryStore"):
            SQLiteStore(":memory:")

    def test_pragmas(self, tmp_path: Path) -> None:
        """The connection uses WAL, the chosen synchronous level and secure_delete."""
        with SQLiteStore(tmp_path / "s.db", synchronous="full") as store:
            assert store._db is not None
            pragma = {
                name: store._db.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "secure_delete")
            }
        expected = {"journal_mode": "wal", "synchronous": 2, "secure_delete": 1}
        assert expected == pragma

    def test_file_format_marker(self, tmp_path: Path) -> None:
        """A new file carries the format marker and version."""
        SQLiteStore(tmp_path / "s.db").close()
        with sqlite3.connect(tmp_path / "s.db") as raw:
            rows = raw.execute("SELECT format, version FROM cxmodel_store").fetchall()
        raw.close()
        expected = [(FORMAT, FORMAT_VERSION)]
        assert expected == rows

    @pytest.mark.parametrize("upserts", [True, False], ids=["upsert", "replace"])
    def test_rows_written_again(
        self, upserts: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A customer's state and the meta written again leave one row each holding the
        latest, read back after a restart, whether rows are updated in place (SQLite 3.24 and
        later) or replaced (earlier); a customer erased by a commit has no row. Rows written
        by either way are rewritten by the other (one file format)."""
        path = tmp_path / "s.db"
        if not upserts:
            monkeypatch.setattr(sqlite_module, "_UPSERT_CUSTOMER", sqlite_module._REPLACE_CUSTOMER)
            monkeypatch.setattr(sqlite_module, "_WRITE_META", sqlite_module._REPLACE_META)
        with SQLiteStore(path) as store:
            store.open()
            for n in range(3):
                customers = {"a": {"n": n}, "b": {"n": -n}} if n < 2 else {"a": {"n": 2}, "b": None}
                store.commit(StateChange(meta={"seq": n}, customers=customers))
        monkeypatch.undo()
        rows = snapshot(path)
        expected = {"engine_meta": [(0, '{"seq":2}')], "customers": [("a", '{"n":2}')]}
        assert expected == {t: rows[t] for t in expected}
        with SQLiteStore(path) as store:
            assert StoredState({"seq": 2}, {"a": {"n": 2}}) == store.open()
            store.commit(StateChange(meta={"seq": 3}, customers={"a": {"n": 3}, "c": {}}))
        with SQLiteStore(path) as store:
            assert StoredState({"seq": 3}, {"a": {"n": 3}, "c": {}}) == store.open()


# -- SQLite: failed commits ----------------------------------------------------------------------
def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, read through a separate connection."""
    raw = sqlite3.connect(path)
    try:
        tables = ("engine_meta", "customers", "outbox", "late", "rejected")
        return {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    finally:
        raw.close()


class TestSQLiteFailedCommit:
    """A commit SQLite cannot complete raises StoreError and leaves the file as before."""

    def test_locked_database(self, tmp_path: Path) -> None:
        """While another connection holds BEGIN EXCLUSIVE, commit fails with StoreError
        naming the file and chained to the sqlite3 error; the stored state is unchanged, and
        the same commit succeeds once the lock is released."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path, timeout=0.05)
        try:
            store.open()
            store.commit(full_change())
            before = snapshot(path)
            change = StateChange(
                {"watermark": 5}, {"c1": None, "c9": {"x": 1}}, [firing(9)], [quarantined(9)]
            )
            raw = sqlite3.connect(path, isolation_level=None)
            try:
                raw.execute("BEGIN EXCLUSIVE")
                with pytest.raises(StoreError, match=str(path)) as caught:
                    store.commit(change)
                assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
                assert "rolled back" in str(caught.value)
                raw.execute("ROLLBACK")
            finally:
                raw.close()
            assert before == snapshot(path)
            store.commit(change)
            assert [*full_change().firings, firing(9)] == store.firings()
        finally:
            store.close()
        with SQLiteStore(path) as again:
            state = again.open()
        expected = {"watermark": 5}
        assert expected == state.meta
        assert {"c2", "c9"} == set(state.customers)

    def test_failure_midway_rolls_back_what_was_written(self, tmp_path: Path) -> None:
        """When SQLite fails after customers and firings were written (here a trigger aborts
        the insert into 'late'), none of the commit remains."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.open()
            store.commit(full_change())
            before = snapshot(path)
            raw = sqlite3.connect(path)
            raw.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON late BEGIN "
                "SELECT RAISE(ABORT, 'simulated disk full'); END"
            )
            raw.commit()
            raw.close()
            change = StateChange(
                {"watermark": 6}, {"c1": {"new": 1}}, [firing(7)], late=[quarantined(7)]
            )
            with pytest.raises(StoreError, match="simulated disk full") as caught:
                store.commit(change)
            assert isinstance(caught.value.__cause__, sqlite3.Error)
            assert before == snapshot(path)
            assert list(full_change().firings) == store.firings()
            store.commit(StateChange({"watermark": 6}, {"c1": {"new": 1}}, [firing(7)]))
        with SQLiteStore(path) as store:
            state = store.open()
        expected = ({"watermark": 6}, {"new": 1})
        assert expected == (state.meta, state.customers["c1"])


# -- SQLite: one engine at a time ---------------------------------------------------------------
HOLD = r"""
import sys, time
from cxmodel.triggers import SQLiteStore
store = SQLiteStore(sys.argv[1])
store.open()
print("ready", flush=True)
time.sleep(120)
"""

TRY = r"""
import sys
from cxmodel.errors import CXModelError, StoreError
from cxmodel.triggers import SQLiteStore
store = SQLiteStore(sys.argv[1])
try:
    store.open()
except StoreError as exc:
    print(exc)
    sys.exit(3)
store.close()
print("opened")
"""


RACE = r"""
import os, sys, threading, time
from cxmodel.errors import StoreError
from cxmodel.triggers import SQLiteStore
from cxmodel.triggers._sqlite import _FileLock
path, log, until, what = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
out = os.open(log, os.O_WRONLY | os.O_APPEND)
counts = {"opened": 0, "refused": 0}
failures = []

def hold(tag):
    os.write(out, f"+{tag}\n".encode())
    time.sleep(0.0005)
    os.write(out, f"-{tag}\n".encode())
    counts["opened"] += 1

def take_store(tag):
    store = SQLiteStore(path)
    try:
        store.open()
    except StoreError as exc:
        if "held by another engine" in str(exc):
            counts["refused"] += 1
        else:
            failures.append(str(exc))
        return
    finally:
        if not store._file_lock.held:
            store.close()
    try:
        hold(tag)
    finally:
        store.close()

def take_lock(tag):
    lock = _FileLock(path + ".lock")
    if not lock.acquire():
        counts["refused"] += 1
        return
    try:
        hold(tag)
    finally:
        lock.release()

def take_turns(tag):
    take = take_store if what == "store" else take_lock
    while time.time() < until:
        take(tag)

threads = [
    threading.Thread(target=take_turns, args=(f"{os.getpid()}.{n}",)) for n in range(2)
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(counts["opened"], counts["refused"])
for failure in failures:
    print(failure, file=sys.stderr)
"""


def lock_files(path: Path) -> tuple[Path, Path]:
    """The lock files of the store at ``path``: beside it, and in the temporary folder named
    after its device and inode."""
    identity = os.stat(path)
    return (
        Path(os.path.realpath(path) + ".lock"),
        Path(tempfile.gettempdir()) / f"cxmodel-store-{identity.st_dev}-{identity.st_ino}.lock",
    )


def pid_in(lock: Path) -> int:
    return int(lock.read_text())


def python(code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Run ``code`` in a new interpreter that imports this cxmodel."""
    env = {**os.environ, "PYTHONPATH": SRC}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )


class TestSQLiteLock:
    """Only one engine holds a store file; the lock dies with its process."""

    def test_second_store_in_this_process_is_refused(self, tmp_path: Path) -> None:
        """Another SQLiteStore on the same file cannot open it while the first holds it; it
        can once the first is closed."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as first, SQLiteStore(path) as second:
            first.open()
            with pytest.raises(StoreError, match="held by another engine") as caught:
                second.open()
            assert str(path) in str(caught.value)
            assert f"pid {os.getpid()}" in str(caught.value)
            first.close()
            if sys.platform != "win32":  # Windows cannot remove an open file: they stay
                assert not any(lock.exists() for lock in lock_files(path))
            assert StoredState({}, {}) == second.open()
            assert [os.getpid()] * 2 == [pid_in(lock) for lock in lock_files(path)]

    def test_refused_from_another_process(self, tmp_path: Path) -> None:
        """A subprocess cannot open a store this process holds; the error names the file and
        this process's pid."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.open()
            child = python(TRY, str(path))
            out, err = child.communicate(timeout=60)
        expected = (3, "")
        assert expected == (child.returncode, err)
        assert str(path) in out and f"pid {os.getpid()}" in out

    def test_opened_from_another_process_after_close(self, tmp_path: Path) -> None:
        """Once this process closes the store, a subprocess opens it."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.open()
        child = python(TRY, str(path))
        out, err = child.communicate(timeout=60)
        expected = (0, "opened\n", "")
        assert expected == (child.returncode, out, err)

    @pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
    def test_killed_holder_leaves_no_stale_lock(self, tmp_path: Path) -> None:
        """While a subprocess holds the store, open() is refused naming its pid; after the
        subprocess is killed with SIGKILL, its lock files stay and open() succeeds, taking
        them over and removing them on close."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        child = python(HOLD, str(path))
        try:
            assert child.stdout is not None
            expected = "ready\n"
            assert expected == child.stdout.readline()
            with SQLiteStore(path) as store:
                with pytest.raises(StoreError, match=f"pid {child.pid}") as caught:
                    store.open()
                assert str(path) in str(caught.value)
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=60)
                left = lock_files(path)  # the killed holder's files stay, unlocked
                assert [child.pid] * 2 == [pid_in(lock) for lock in left]
                assert StoredState({}, {}) == store.open()
                assert [os.getpid()] * 2 == [pid_in(lock) for lock in left]
            assert not any(lock.exists() for lock in left)  # removed by the new holder
        finally:
            if child.poll() is None:
                child.kill()
            child.communicate()
        expected_code: int = -signal.SIGKILL
        assert expected_code == child.returncode

    @pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot remove an open file")
    def test_close_removes_the_lock_files(self, tmp_path: Path) -> None:
        """open() writes its pid in both lock files (read back by a refused open); close()
        removes them, and so does a failed open()."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        store.open()
        locks = lock_files(path)
        assert [os.getpid()] * 2 == [_FileLock(str(lock)).holder() for lock in locks]
        store.close()
        assert not any(lock.exists() for lock in locks)
        store.close()  # twice is harmless
        assert StoredState({}, {}) == store.open()
        with SQLiteStore(path) as second, pytest.raises(StoreError, match="held by"):
            second.open()
        assert all(lock.exists() for lock in locks)  # the refused open removed nothing
        store.close()
        assert not any(lock.exists() for lock in locks)
        path.write_bytes(b"x" * 200)  # not a store: open() fails after taking the lock
        with pytest.raises(StoreError):
            SQLiteStore(path).open()
        assert not lock_files(path)[0].exists()

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
    def test_a_forked_child_does_not_release_its_parents_lock(self, tmp_path: Path) -> None:
        """A child that inherited a held lock and releases its copy neither removes the file
        nor unlocks it: the parent still holds it."""
        path = str(tmp_path / "x.lock")
        lock = _FileLock(path)
        assert lock.acquire()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            try:
                lock.release()
            finally:
                os._exit(0)
        os.waitpid(child, 0)
        assert os.path.exists(path) and not _FileLock(path).acquire()
        lock.release()
        assert not os.path.exists(path)

    @pytest.mark.skipif(sys.platform == "win32", reason="runs the POSIX removal race")
    @pytest.mark.parametrize("what", ["store", "lock"])
    def test_processes_taking_turns_never_hold_it_together(self, what: str, tmp_path: Path) -> None:
        """Three processes of two threads each take and release one store (or, without the
        store's second lock and work around it, one file lock) for a few seconds: every hold
        is logged (+ when taken, - before release) and no two holds overlap."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        # the lock alone leaves the inode's lock file alone (one left by an earlier cxmodel
        # for another file of this inode may be there)
        locks = lock_files(path)[: 2 if what == "store" else 1]
        log = tmp_path / "log"
        log.touch()
        until = str(time.time() + 4.0)  # the children take a second or two to start
        children = [python(RACE, str(path), str(log), until, what) for _ in range(3)]
        results = [child.communicate(timeout=120) for child in children]
        expected = [(0, "")] * 3
        assert expected == [(c.returncode, err) for c, (_, err) in zip(children, results)]
        counts = [tuple(map(int, out.split())) for out, _ in results]
        assert all(opened > 0 for opened, _ in counts) and sum(r for _, r in counts) > 0
        lines = log.read_text().splitlines()
        assert sum(opened for opened, _ in counts) * 2 == len(lines)
        for enter, leave in zip(lines[::2], lines[1::2]):
            assert (enter[0], leave[0], enter[1:]) == ("+", "-", leave[1:])
        assert not any(lock.exists() for lock in locks)


# -- SQLite: files that are not stores ---------------------------------------------------------
def valid_store(path: Path) -> None:
    """A store with enough rows to span many pages."""
    with SQLiteStore(path) as store:
        store.open()
        for k in range(20):
            customers = {f"c{k}-{i}": {"pad": "x" * 300, "i": i} for i in range(30)}
            store.commit(StateChange({"k": k}, customers, [firing(k, f"c{k}-0")]))


class TestSQLiteFiles:
    """Files that are not stores of this format are refused with StoreError naming the file,
    and left untouched."""

    def refused(self, path: Path, match: str) -> StoreError:
        content = path.read_bytes()
        with pytest.raises(StoreError, match=match) as caught:
            store = SQLiteStore(path)
            try:
                store.open()
            finally:
                store.close()
        assert str(path) in str(caught.value)
        assert content == path.read_bytes()
        if sys.platform != "win32":
            assert not os.path.exists(os.path.realpath(path) + ".lock")
        return caught.value

    def test_random_bytes(self, tmp_path: Path) -> None:
        """A file of random bytes is not a SQLite database."""
        path = tmp_path / "noise.db"
        path.write_bytes(random.Random(1).randbytes(16_384))
        self.refused(path, "not a readable SQLite database")

    def test_text_file(self, tmp_path: Path) -> None:
        """A small text file is not a SQLite database."""
        path = tmp_path / "notes.txt"
        path.write_text("customer_id,kind\nc1,view\n")
        self.refused(path, "not a readable SQLite database")

    def test_truncated_store(self, tmp_path: Path) -> None:
        """A valid store cut in half is refused (corrupt), not half-read."""
        path = tmp_path / "s.db"
        valid_store(path)
        content = path.read_bytes()
        assert len(content) > 50_000
        path.write_bytes(content[: len(content) // 2])
        self.refused(path, "truncated or corrupt|corrupt")

    def test_corrupt_pages(self, tmp_path: Path) -> None:
        """A store whose header is intact but whose data pages are overwritten is refused by
        open() (integrity check), not loaded half-read."""
        path = tmp_path / "s.db"
        valid_store(path)
        content = bytearray(path.read_bytes())
        middle = len(content) // 2
        content[middle : middle + 8192] = random.Random(2).randbytes(8192)
        path.write_bytes(bytes(content))
        error = self.refused(path, "is corrupt")
        assert "restore a backup" in str(error)

    def test_foreign_sqlite_database(self, tmp_path: Path) -> None:
        """A SQLite database of something else (empty tables, no marker) is refused, naming
        the tables it found."""
        path = tmp_path / "crm.db"
        raw = sqlite3.connect(path)
        raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        raw.commit()
        raw.close()
        error = self.refused(path, "not a cxmodel trigger store")
        assert "invoices" in str(error)

    def test_store_of_the_previous_format(self, tmp_path: Path) -> None:
        """A store written by the previous format (interaction history in tables events,
        event_batches, seen, meta, outbox) is refused with what to do."""
        path = tmp_path / "old.db"
        raw = sqlite3.connect(path)
        raw.executescript(
            """
            PRAGMA journal_mode=WAL;
            CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT);
            CREATE TABLE event_batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, columns TEXT);
            CREATE TABLE seen (interaction_id TEXT PRIMARY KEY);
            CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT);
            CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, firing_id TEXT UNIQUE,
                                 firing TEXT, acked INTEGER DEFAULT 0);
            INSERT INTO seen VALUES ('i1');
            INSERT INTO meta VALUES ('state', '{"watermark": null}');
            """
        )
        raw.commit()
        raw.close()
        error = self.refused(path, "earlier cxmodel")
        assert "replay" in str(error)

    @pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 2], ids=["newer", "alerts-in-meta"])
    def test_other_format_version(self, version: int, tmp_path: Path) -> None:
        """A store marked with another format version is refused, naming the file and the
        version: a newer one, or format 2, which kept alerts' windows inside the meta."""
        path = tmp_path / "s.db"
        SQLiteStore(path).close()
        raw = sqlite3.connect(path)
        raw.execute("UPDATE cxmodel_store SET version = ?", (version,))
        if version == 2:
            raw.execute("DROP TABLE alert_values")
        raw.commit()
        raw.close()
        error = self.refused(path, f"format version {version}")
        assert str(path) in str(error)

    def test_directory(self, tmp_path: Path) -> None:
        """A directory is refused."""
        with pytest.raises(StoreError, match="directory"):
            SQLiteStore(tmp_path)

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A path in a directory that does not exist is a StoreError naming the file."""
        path = tmp_path / "nowhere" / "s.db"
        with pytest.raises(StoreError, match=str(path)):
            SQLiteStore(path)

    def test_empty_file_becomes_a_store(self, tmp_path: Path) -> None:
        """A zero-byte file (an empty SQLite database) is initialised as a new store."""
        path = tmp_path / "s.db"
        path.write_bytes(b"")
        with SQLiteStore(path) as store:
            assert StoredState({}, {}) == store.open()


# -- SQLite: threads -------------------------------------------------------------------------
class TestSQLiteThreads:
    """The store may be used from any thread."""

    def test_another_thread(self, tmp_path: Path) -> None:
        """A store opened in one thread commits and reads in another."""
        errors: list[BaseException] = []
        with SQLiteStore(tmp_path / "s.db") as store:
            store.open()

            def work() -> None:
                try:
                    store.commit(full_change())
                    store.acknowledge(["f1"])
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
            expected_errors: list[BaseException] = []
            assert expected_errors == errors
            expected_ids: list[str] = ["f2", "f3"]
            assert expected_ids == [f.firing_id for f in store.pending()]

    def test_asyncio_to_thread(self, tmp_path: Path) -> None:
        """open, commit and reads work through asyncio.to_thread."""

        async def main(store: SQLiteStore) -> tuple[StoredState, list[Firing]]:
            state = await asyncio.to_thread(store.open)
            await asyncio.to_thread(store.commit, full_change())
            return state, await asyncio.to_thread(store.firings)

        with SQLiteStore(tmp_path / "s.db") as store:
            state, firings = asyncio.run(main(store))
        assert (StoredState({}, {}), list(full_change().firings)) == (state, firings)

    def test_concurrent_commits(self, tmp_path: Path) -> None:
        """Commits from eight threads at once are all applied, none interleaved."""
        path = tmp_path / "s.db"
        with SQLiteStore(path) as store:
            store.open()

            def work(t: int) -> None:
                for i in range(25):
                    n = 100 * t + i
                    store.commit(
                        StateChange({"last": n}, {f"c{n}": {"n": n}}, [firing(n, f"c{n}")])
                    )

            threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            expected_count: int = 200
            assert expected_count == len(store.firings())
        with SQLiteStore(path) as store:
            state = store.open()
        expected = {f"c{100 * t + i}": {"n": 100 * t + i} for t in range(8) for i in range(25)}
        assert expected == state.customers


# -- SQLite: forgetting leaves no bytes -------------------------------------------------------
SECRET_ID = "zq-forget-me-7731"
SECRET_VALUE = "Xylophone-Quasar-5521"


def files_containing(path: Path, *needles: str) -> dict[str, list[str]]:
    """For the database, -wal and -shm files that exist: which needles they contain."""
    found: dict[str, list[str]] = {}
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            content = part.read_bytes()
            found[part.name] = [n for n in needles if n.encode() in content]
    return found


class TestSQLiteForget:
    """forget erases a customer from the files, not just from the tables."""

    def test_no_bytes_remain(self, tmp_path: Path) -> None:
        """After forget, neither the customer's id nor their values appear in the database,
        -wal or -shm files (checked while open and after close); others' data remain."""
        path = tmp_path / "s.db"
        needles = (SECRET_ID, SECRET_VALUE)
        with SQLiteStore(path) as store:
            store.open()
            store.commit(full_change())
            for k in range(5):  # several versions of the state, in several WAL frames
                store.commit(
                    StateChange(
                        {"buffer": {SECRET_ID: [SECRET_VALUE, k]}},
                        {SECRET_ID: {"note": f"{SECRET_VALUE}-{k}", "pad": "y" * 5000}},
                        [firing(10 + k, SECRET_ID, note=SECRET_VALUE)],
                        late=[quarantined(10 + k, SECRET_ID)],
                        rejected=[Quarantined({"v": SECRET_VALUE}, "bad", SECRET_ID)],
                    )
                )
            store.acknowledge(["f10", "f11"])
            expected_count: int = 2
            assert expected_count == store.prune(before=T0 + timedelta(hours=12))
            assert any(files_containing(path, SECRET_ID).values())  # it was written
            store.forget(SECRET_ID, {"buffer": {}})
            expected_found: dict[str, list[str]] = {"s.db": [], "s.db-wal": [], "s.db-shm": []}
            assert expected_found == files_containing(path, *needles)
            assert list(full_change().firings) == store.firings()
        expected_found = {"s.db": []}
        assert expected_found == files_containing(path, *needles)
        with SQLiteStore(path) as store:
            state = store.open()
        assert StoredState({"buffer": {}}, dict(full_change().customers)) == state

    def test_forget_unknown_customer(self, tmp_path: Path) -> None:
        """Forgetting a customer the store does not know only replaces meta."""
        with SQLiteStore(tmp_path / "s.db") as store:
            store.open()
            store.commit(full_change())
            store.forget("nobody", {"m": 1})
            assert list(full_change().firings) == store.firings()
        with SQLiteStore(tmp_path / "s.db") as store:
            assert StoredState({"m": 1}, dict(full_change().customers)) == store.open()


class TestSQLiteDamagedValues:
    """A store whose JSON decodes but holds a value of the wrong type or range is refused when
    the engine opens it, with a StoreError naming the file and the value's path in the
    snapshot (the customer's id for a customer's state); nothing reaches a later call."""

    RULES = parse(
        "trigger ask:\n    when purchase as p then after 1 days\n    emit ask\n    cooldown 2 days"
    )

    def written(self, path: Path) -> None:
        """One customer with a pending anchor, a cooldown and remembered ids."""
        store = SQLiteStore(path)
        engine = TriggerEngine(self.RULES, store=store, max_future=None)
        for day, ident in ((0, "x1"), (3, "x2")):
            engine.process(
                {
                    "customer_id": "c1",
                    "timestamp": T0 + timedelta(days=day),
                    "kind": "purchase",
                    "interaction_id": ident,
                }
            )
            if day == 0:
                engine.advance_to(T0 + timedelta(days=2))
        store.close()

    @pytest.mark.parametrize(
        ("table", "path", "value", "named"),
        [
            ("engine_meta", "$.max_seen", "1.5", r"meta.max_seen is float 1.5; expected a time"),
            ("engine_meta", "$.watermark", "-1e300", r"meta.watermark is float -1e\+300"),
            ("engine_meta", "$.seq", "-3", r"meta.seq is int -3; expected a count"),
            ("engine_meta", "$.buffer", "'x'", r"meta.buffer is str 'x'; expected a list"),
            (
                "engine_meta",
                "$.catalogue.seen",
                "json('{\"e\": true}')",
                r"meta.catalogue.seen\['e'\] is bool True",
            ),
            ("customers", "$.tie_count", "'1'", r"customers\['c1'\].tie_count is str '1'"),
            (
                "customers",
                "$.seen.x2",
                "253402300800000000",
                r"customers\['c1'\].seen\['x2'\] is int",
            ),
            (
                "customers",
                "$.consent",
                "json('{\"m\": 1}')",
                r"customers\['c1'\].consent\['m'\] is int 1; expected true or false",
            ),
            (
                "customers",
                "$.running",
                "json('{\"nosuch|x\": [1, 2]}')",
                r"unknown aggregate 'nosuch'",
            ),
            (
                "customers",
                "$.rules.ask.anchors[0][1]",
                "'soon'",
                r"customers\['c1'\].rules\['ask'\].anchors\[0\]\[1\] is str 'soon'",
            ),
            (
                "customers",
                "$.rules.ask.anchors[0][0][2]",
                "json('{}')",
                r"anchors\[0\]\[0\]\[2\].kind is NoneType None; expected text",
            ),
            (
                "customers",
                "$.rules.ask.anchors[0]",
                "json('[1]')",
                r"anchors\[0\] is list \[1\]; expected a list of 4 items",
            ),
        ],
        ids=[
            "max-seen-float",
            "watermark-far-past",
            "seq-negative",
            "buffer-text",
            "catalogue-seen-bool",
            "tie-count-text",
            "seen-after-9999",
            "consent-number",
            "running-unknown",
            "anchor-due-text",
            "anchor-row-no-kind",
            "anchor-short",
        ],
    )
    def test_named_when_the_engine_opens_it(
        self, table: str, path: str, value: str, named: str, tmp_path: Path
    ) -> None:
        file = tmp_path / "s.db"
        self.written(file)
        column = "meta" if table == "engine_meta" else "state"
        raw = sqlite3.connect(file)
        raw.execute(f"UPDATE {table} SET {column} = json_set({column}, '{path}', {value})")
        raw.commit()
        raw.close()
        store = SQLiteStore(file)
        try:
            with pytest.raises(StoreError, match=named) as caught:
                TriggerEngine(self.RULES, store=store, max_future=None)
        finally:
            store.close()
        assert str(file) in str(caught.value)
        assert "restore a backup" in str(caught.value)

    def test_undamaged_store_reopens(self, tmp_path: Path) -> None:
        """The checks take what the engine wrote: the state reopens as it was."""
        file = tmp_path / "s.db"
        self.written(file)
        store = SQLiteStore(file)
        engine = TriggerEngine(self.RULES, store=store, max_future=None)
        assert engine.stats()["customers"] == 1
        store.close()


def test_a_refused_store_still_prints(tmp_path: Path) -> None:
    """A store whose construction was refused (a bad timeout) prints, as a traceback showing
    it does (its repr read a lock it never took: AttributeError)."""
    store = SQLiteStore.__new__(SQLiteStore)
    with pytest.raises(CXModelError, match="timeout"):
        store.__init__(tmp_path / "s.db", timeout="x")  # type: ignore[arg-type,misc]
    assert repr(store) == f"SQLiteStore({str(tmp_path / 's.db')!r}, open=False)"


def test_kept_late_reads_each_customer_once_for_many_ids(tmp_path: Path) -> None:
    """Many ids of one customer asked at once: those kept are named, the others not, and an
    id kept as a number does not match the same digits as text."""
    late = [Quarantined({"interaction_id": f"e{i}"}, "late", "c1") for i in range(0, 10, 2)]
    late.append(Quarantined({"interaction_id": 7}, "late", "c1"))
    with SQLiteStore(tmp_path / "s.db") as store:
        store.open()
        store.commit(StateChange({}, {}, late=late))
        asked = {("c1", f"e{i}") for i in range(10)} | {("c1", "7"), ("c2", "e0")}
        assert {("c1", f"e{i}") for i in range(0, 10, 2)} == store.kept_late(asked)
