"""The SQLite state store: the engine's snapshot, outbox, late and refused interactions in one
file (standard library ``sqlite3``), held by one engine at a time through an OS file lock."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np

from cxmodel._arguments import file_path, real
from cxmodel._time import TimeLike, to_us
from cxmodel.errors import SchemaError, StoreError, ValueTypeError
from cxmodel.log._columns import valid_text
from cxmodel.triggers._firings import Firing
from cxmodel.triggers._store import (
    FORMAT,
    FORMAT_VERSION,
    AlertValue,
    InMemoryStore,
    LateKey,
    Quarantined,
    RejectedKey,
    StateChange,
    StateStore,
    StoredState,
    firing_from_dict,
    ids_of,
    pending_limit,
    time_us,
)

__all__ = ["SQLiteStore"]


def _plain(value: Any) -> Any:
    """``default=`` for JSON: numpy scalars and arrays, datetimes, dates and times as plain
    values; anything else raises ``TypeError``."""
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return str(np.datetime_as_string(value, unit="us", timezone="UTC"))
        if isinstance(value, np.timedelta64):
            return int(value.astype("timedelta64[us]").astype(np.int64))
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    raise ValueTypeError(f"{type(value).__name__} is not JSON serialisable")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_plain)
_encode = _ENCODER.encode
_decode = json.loads


def _unjsonable(value: Any, where: str) -> str | None:
    """Where in ``value`` (a path from ``where``) something cannot become JSON, and what."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                return f"{where} has a key {key!r} of type {type(key).__name__}"
            found = _unjsonable(item, f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _unjsonable(item, f"{where}[{index}]")
            if found:
                return found
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    try:
        _plain(value)
    except TypeError:
        return f"{where} is a {type(value).__name__} ({value!r:.60})"
    return None


def _to_json(value: Any, where: str) -> str:
    """``value`` as JSON text; :class:`StoreError` naming the offending key otherwise."""
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        try:
            found = _unjsonable(value, where) or f"{where}: {exc}"
        except RecursionError:  # a value that contains itself
            found = f"{where}: {exc}"
        raise StoreError(
            f"cannot store {found}: store values must be JSON-able (str, numbers, bool, None, "
            "lists, dicts with str keys; numpy scalars and datetimes are converted)"
        ) from exc


# -- SQLite ---------------------------------------------------------------------------------------
_SCHEMA = f"""
CREATE TABLE cxmodel_store (format TEXT NOT NULL, version INTEGER NOT NULL);
INSERT INTO cxmodel_store (format, version) VALUES ('{FORMAT}', {FORMAT_VERSION});
CREATE TABLE engine_meta (id INTEGER PRIMARY KEY CHECK (id = 0), meta TEXT NOT NULL);
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    firing_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    time_us INTEGER NOT NULL,
    firing TEXT NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_by_customer ON outbox (customer_id);
CREATE INDEX outbox_pending ON outbox (seq) WHERE acknowledged = 0;
CREATE TABLE late (seq INTEGER PRIMARY KEY, customer_id TEXT, record TEXT NOT NULL,
                   reason TEXT NOT NULL);
CREATE INDEX late_by_customer ON late (customer_id);
CREATE TABLE rejected (seq INTEGER PRIMARY KEY, customer_id TEXT, record TEXT NOT NULL,
                       reason TEXT NOT NULL);
CREATE INDEX rejected_by_customer ON rejected (customer_id);
CREATE TABLE alert_values (
    alert TEXT NOT NULL,
    aggregate TEXT NOT NULL,
    number INTEGER NOT NULL,
    time_us INTEGER NOT NULL,
    value TEXT NOT NULL,
    customer_id TEXT,
    PRIMARY KEY (alert, aggregate, number)
) WITHOUT ROWID;
CREATE INDEX alert_values_by_customer ON alert_values (customer_id)
    WHERE customer_id IS NOT NULL;
"""
_TABLES = frozenset(
    {"cxmodel_store", "engine_meta", "customers", "outbox", "late", "rejected", "alert_values"}
)
#: the interactions of the ``late`` or ``rejected`` table, in commit order
_SET_ASIDE = "SELECT record, reason, customer_id FROM {table} ORDER BY seq"
_OLD_TABLES = frozenset({"events", "event_batches", "seen", "meta"})  # format 1 (history kept)
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

#: a row written again is updated (``INSERT OR REPLACE`` deletes it and inserts it again,
#: a tenth dearer); SQLite before 3.24 has no upsert and replaces rows
_UPSERTS = sqlite3.sqlite_version_info >= (3, 24, 0)
_REPLACE_CUSTOMER = "INSERT OR REPLACE INTO customers (customer_id, state) VALUES (?, ?)"
_UPSERT_CUSTOMER = (
    "INSERT INTO customers (customer_id, state) VALUES (?, ?) "
    "ON CONFLICT (customer_id) DO UPDATE SET state = excluded.state"
    if _UPSERTS
    else _REPLACE_CUSTOMER
)
_DELETE_CUSTOMER = "DELETE FROM customers WHERE customer_id = ?"
_REPLACE_META = "INSERT OR REPLACE INTO engine_meta (id, meta) VALUES (0, ?)"
_WRITE_META = (
    "INSERT INTO engine_meta (id, meta) VALUES (0, ?) "
    "ON CONFLICT (id) DO UPDATE SET meta = excluded.meta"
    if _UPSERTS
    else _REPLACE_META
)
_ADD_FIRING = (
    "INSERT OR IGNORE INTO outbox (firing_id, customer_id, time_us, firing) VALUES (?, ?, ?, ?)"
)
_ADD_LATE = "INSERT INTO late (customer_id, record, reason) VALUES (?, ?, ?)"
_LATE_IDS = "SELECT json_extract(record, '$.interaction_id') FROM late WHERE customer_id IS ?"
_ADD_REJECTED = "INSERT INTO rejected (customer_id, record, reason) VALUES (?, ?, ?)"
_REJECTED_KEYS = (
    "SELECT json_extract(record, '$.interaction_id'), json_extract(record, '$.timestamp') "
    "FROM rejected WHERE customer_id IS ?"
)
_CLEAR_ALERT = "DELETE FROM alert_values WHERE alert = ?"
_TRIM_WINDOW = "DELETE FROM alert_values WHERE alert = ? AND aggregate = ? AND number <= ?"
_ADD_ALERT_VALUE = (
    "INSERT INTO alert_values (alert, aggregate, number, time_us, value, customer_id) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_READ_ALERT_VALUES = (
    "SELECT alert, aggregate, number, time_us, value, customer_id FROM alert_values "
    "ORDER BY alert, aggregate, number"
)


def _held_by(pid: int | None) -> tuple[str, str]:
    """Who holds a store, from the pid its lock file names, and how to let it go. An engine
    of this process that was dropped without closing its store holds the file until the
    garbage collector frees it, so the hint names ``close()`` rather than the process.

    Examples
    --------
    >>> _held_by(None)
    ('another engine', "close that engine's store (or stop its process) first")
    >>> _held_by(os.getpid())[1]
    "close() that engine's store first (an engine dropped without closing its store holds the file until it is garbage-collected)"
    """
    close_it = "close that engine's store (or stop its process) first"
    if pid is None:
        return "another engine", close_it
    if pid == os.getpid():
        return (
            f"another engine in this process (pid {pid})",
            "close() that engine's store first (an engine dropped without closing its "
            "store holds the file until it is garbage-collected)",
        )
    return f"another engine (pid {pid})", close_it


_ACQUIRE_TRIES = 100  # a path removed by each releasing holder in turn: try again, boundedly


class _FileLock:
    """An exclusive OS lock on a file at ``path``, released by the OS when the holder dies.

    The file holds the holder's pid and is removed on :meth:`release` (POSIX): the path is
    unlinked while the lock is still held, and :meth:`acquire` checks, once it holds a lock,
    that the path still names the file it locked (opening it again otherwise). A file left by
    a killed holder is taken over by the next one, which removes it in turn. On Windows an open
    file cannot be removed, so the file stays (an unlocked file is reused by the next holder).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._pid = 0  # the process that took the lock (a forked child must not release it)

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; ``False`` when another holder has it."""
        for _ in range(_ACQUIRE_TRIES):
            handle = _open_lock_file(self.path)  # kept open while the lock is held
            try:
                if not _try_lock(handle):
                    handle.close()
                    return False
                if _REMOVABLE and not _names(self.path, handle):
                    handle.close()  # released and removed since it was opened: not the lock
                    continue
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n".encode())
                handle.flush()
            except BaseException:
                handle.close()
                raise
            self._file = handle
            self._pid = os.getpid()
            return True
        return False  # other holders took and removed it every time: it is contended

    def holder(self) -> int | None:
        """The pid written by the current holder, when it can be read."""
        try:
            with open(self.path, "rb") as handle:
                text = handle.read(32).decode("ascii", "replace").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        """Remove the file and drop the lock (in that order); releasing twice is harmless."""
        handle, self._file = self._file, None
        if handle is None:
            return
        try:
            if self._pid != os.getpid():  # a forked child: the lock is its parent's
                return
            if _REMOVABLE and _names(self.path, handle):
                with contextlib.suppress(OSError):  # e.g. a folder no longer writable
                    os.unlink(self.path)
            with contextlib.suppress(OSError):
                _unlock(handle)
        finally:
            handle.close()


#: how a lock file is opened: for reading and writing, made when missing; a symbolic link
#: in its place is not followed (an error), so that the file it names (which someone able to
#: write the folder may choose, e.g. in the shared temporary folder) is never emptied
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _open_lock_file(path: str) -> IO[bytes]:
    """The lock file at ``path``, open (see :data:`_LOCK_FLAGS`); ``OSError`` when it cannot
    be opened or made, or is a symbolic link."""
    fd = os.open(path, _LOCK_FLAGS, 0o666)
    try:
        return os.fdopen(fd, "r+b")
    except BaseException:
        os.close(fd)
        raise


def _names(path: str, handle: IO[bytes]) -> bool:
    """Whether ``path`` names the open file ``handle`` (it may have been removed or replaced)."""
    try:
        named = os.stat(path)
    except OSError:
        return False
    opened = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    # Windows cannot remove a file that is open: the lock file stays after release and the
    # next holder locks the same file again (so acquire need not check that the path still
    # names the file it locked).
    _REMOVABLE = False

    def _try_lock(handle: IO[bytes]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    _REMOVABLE = True

    def _try_lock(handle: IO[bytes]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class SQLiteStore:
    """A durable store in one SQLite file (standard library ``sqlite3``, WAL journal).

    Each :meth:`commit` is one transaction: after a crash the file holds the state as of the
    last commit that returned. With ``synchronous="NORMAL"`` (the default) a commit survives
    the process crashing; after a power loss or OS crash the last commits may be lost (the file
    stays consistent). ``"FULL"`` syncs every commit to disk and survives power loss too, at a
    cost per commit.

    One engine at a time: :meth:`open` takes an OS lock on the sidecar file ``<path>.lock``
    and on ``cxmodel-store-<device>-<inode>.lock`` in the system's temporary folder
    (:func:`tempfile.gettempdir`; it sees another name of the file, a hard link), each holding
    the holder's pid. The locks are released by :meth:`close`, which removes both files (on
    Windows, which cannot remove an open file, they stay), or by the OS when the process dies,
    even by ``kill -9`` (the files stay then, and the next holder takes them over). A symbolic
    link in place of a lock file is not followed (the one beside the store: ``open()`` raises
    :class:`~cxmodel.errors.StoreError`; the other: the lock beside the store holds alone). Another
    :meth:`open` on the same file, in this process or another, raises
    :class:`~cxmodel.errors.StoreError`. Reading the outbox, :meth:`acknowledge` and
    :meth:`prune` work without :meth:`open` (e.g. from a host process reading the outbox);
    :meth:`commit` and :meth:`forget` need it. ``with SQLiteStore(path) as store:`` closes
    the store (releasing the lock) when the block ends; it does not open it.

    Every method may be called from any thread (one lock guards the connection). Every
    failure is a :class:`~cxmodel.errors.StoreError` naming the file, never a raw
    ``sqlite3`` exception. A file that is not a store of this format (not SQLite, corrupt,
    another application's database, or a store written by an earlier cxmodel that kept the
    interaction history) is refused and left untouched.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its tables) when missing or empty.
    synchronous : {"NORMAL", "FULL", "EXTRA", "OFF"}
        SQLite's ``PRAGMA synchronous``: durability against power loss versus commit cost.
    timeout : float
        Seconds a commit waits for another connection's write lock before it fails (a finite
        number, at least 0).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "state.db")
    >>> with SQLiteStore(path) as store:
    ...     state = store.open()
    ...     store.commit(StateChange(meta={"watermark": 5}, customers={"c1": {"n": 1}}))
    >>> with SQLiteStore(path) as store:
    ...     store.open()
    StoredState(meta={'watermark': 5}, customers={'c1': {'n': 1}}, alert_values=())
    """

    def __init__(
        self, path: str | Path, *, synchronous: str = "NORMAL", timeout: float = 5.0
    ) -> None:
        self.path = file_path(path, "SQLiteStore()")
        if self.path in ("", ":memory:") or self.path.startswith("file:"):
            raise SchemaError(
                f"SQLiteStore needs a file path (got {self.path!r}); use InMemoryStore for a "
                "store that lives in the process"
            )
        mode = str(synchronous).upper()
        if mode not in _SYNCHRONOUS:
            raise SchemaError(
                f"synchronous={synchronous!r} is not one of {', '.join(_SYNCHRONOUS)}"
            )
        self.synchronous = mode
        self.timeout = real(timeout, "SQLiteStore()", "timeout")
        if self.timeout < 0:
            raise SchemaError(
                f"SQLiteStore(): timeout must be at least 0 seconds; got {self.timeout!r}"
            )
        self._lock = threading.RLock()
        # the lock names the file itself, however it is reached (a symlink names the same)
        self._file_lock = _FileLock(os.path.realpath(self.path) + ".lock")
        self._inode_lock: _FileLock | None = None  # taken by open(): see _hold_inode
        self._db: sqlite3.Connection | None = None
        self._meta_text: str | None = None  # the meta as written last (skip rewriting it)
        self._closed = False  # close() called since the last open(): named when used again
        with self._lock:
            self._connect()

    def __repr__(self) -> str:
        # a store whose construction was refused has no lock (a traceback may still show it)
        lock = getattr(self, "_file_lock", None)
        return (
            f"SQLiteStore({getattr(self, 'path', None)!r}, open={lock is not None and lock.held})"
        )

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- connection --------------------------------------------------------------------------
    def _error(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(f"trigger state store {self.path!r}: {what} ({exc})")

    def _connect(self) -> sqlite3.Connection:
        """The connection, opened (and the file checked, or initialised) on first use."""
        if self._db is not None:
            return self._db
        if os.path.isdir(self.path):
            raise StoreError(f"trigger state store {self.path!r} is a directory; pass a file path")
        size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        if 0 < size < 100:  # shorter than a SQLite header: something else, not an empty store
            raise StoreError(
                f"trigger state store {self.path!r} holds {size} bytes that are not a readable "
                "SQLite database; pass the path of a store, or of a file that does not exist yet"
            )
        try:
            db = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._error("cannot open the file", exc) from exc
        try:
            self._check_format(db)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute("PRAGMA secure_delete=ON")
        except sqlite3.OperationalError as exc:  # locked, I/O error, cannot create, ...
            db.close()
            raise self._error("cannot open the database", exc) from exc
        except sqlite3.DatabaseError as exc:  # not a database, malformed
            db.close()
            raise StoreError(
                f"trigger state store {self.path!r} is not a readable SQLite database ({exc}): "
                "it may be another kind of file, truncated or corrupt. Pass the path of a "
                "cxmodel trigger store or of a new file (restore a backup if this was a store)"
            ) from exc
        except BaseException:
            db.close()
            raise
        self._db = db
        return db

    def _check_format(self, db: sqlite3.Connection) -> None:
        """Refuse anything but a store of this format; create the tables in an empty file."""
        tables = self._tables(db)
        if not tables:
            db.execute("BEGIN IMMEDIATE")
            try:
                if not self._tables(db):  # nobody created them meanwhile
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute("COMMIT")
            except BaseException:
                db.rollback()
                raise
            tables = self._tables(db)
        if "cxmodel_store" not in tables:
            if tables & _OLD_TABLES:
                raise StoreError(
                    f"trigger state store {self.path!r} was written by an earlier cxmodel "
                    f"(format 1: tables {', '.join(sorted(tables))}, which keep the interaction "
                    "history); this version keeps bounded per-customer state and cannot read "
                    "it. Start a new store file and replay the interactions into it (or delete "
                    "the old file)"
                )
            raise StoreError(
                f"{self.path!r} is a SQLite database but not a cxmodel trigger store (it has "
                f"tables {', '.join(sorted(tables))} and no cxmodel_store marker); pass the "
                "path of a trigger store or of a new file"
            )
        rows = db.execute("SELECT format, version FROM cxmodel_store").fetchall()
        if len(rows) != 1 or rows[0][0] != FORMAT:
            raise StoreError(
                f"{self.path!r} has a cxmodel_store table that does not mark a trigger store "
                f"(found {rows!r:.80}); pass the path of a trigger store or of a new file"
            )
        version = rows[0][1]
        if version != FORMAT_VERSION:
            raise StoreError(
                f"trigger state store {self.path!r} has format version {version!r}; this "
                f"version of cxmodel reads version {FORMAT_VERSION}. Use the cxmodel that wrote "
                "it, or start a new store file and replay the interactions into it"
            )
        missing = _TABLES - tables
        if missing:
            raise StoreError(
                f"trigger state store {self.path!r} is incomplete (no table "
                f"{', '.join(sorted(missing))}); restore a backup or start a new store file"
            )

    @staticmethod
    def _tables(db: sqlite3.Connection) -> set[str]:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {name for (name,) in rows if not name.startswith("sqlite_")}

    @contextlib.contextmanager
    def _using(self, what: str) -> Iterator[sqlite3.Connection]:
        """The connection under the lock; sqlite3 errors become StoreError naming the file."""
        with self._lock:
            db = self._connect()
            try:
                yield db
            except sqlite3.Error as exc:
                raise self._error(f"cannot {what}", exc) from exc

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: rolled back, and StoreError raised, when anything fails."""
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(
                        f"{what} failed and was rolled back; the stored state is as before", exc
                    ) from exc
                raise

    def _require_open(self, what: str) -> None:
        if not self._file_lock.held:
            when = "after close()" if self._closed else "before open()"
            raise StoreError(
                f"trigger state store {self.path!r}: cannot {what} {when} (the engine "
                "takes the store with open() and writes to it until close())"
            )

    # -- the engine's side -------------------------------------------------------------------
    def open(self) -> StoredState:
        """Take the store for this engine and load the meta and customer states.

        Checks the file's integrity (``PRAGMA quick_check``, which reads the whole file).

        Raises
        ------
        StoreError
            When another engine holds the store (in this process or another), or the file
            is not a readable store.
        """
        with self._lock:
            if self._file_lock.held:
                raise StoreError(
                    f"trigger state store {self.path!r} is already open by this SQLiteStore "
                    "(one engine per store); close() it first"
                )
            try:
                acquired = self._file_lock.acquire()
            except OSError as exc:
                raise StoreError(
                    f"trigger state store {self.path!r}: cannot create the lock file "
                    f"{self._file_lock.path!r} ({exc})"
                ) from exc
            if not acquired:
                held_by, close_it = _held_by(self._file_lock.holder())
                raise StoreError(
                    f"trigger state store {self.path!r} is held by {held_by}; {close_it}, "
                    "or use another file"
                )
            try:
                loaded = self._load()
                self._hold_inode()
            except BaseException:
                db, self._db = self._db, None
                if db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        db.close()
                self._file_lock.release()
                raise
            self._closed = False
            return loaded

    def _hold_inode(self) -> None:
        """Lock the file itself, whatever path reaches it: a hard link is another name for
        the same file, which the sidecar lock (named after one path) cannot see. The lock
        file is named after the device and inode, in the system's temporary folder."""
        identity = os.stat(self.path)
        lock = _FileLock(
            os.path.join(
                tempfile.gettempdir(),
                f"cxmodel-store-{identity.st_dev}-{identity.st_ino}.lock",
            )
        )
        try:
            acquired = lock.acquire()
        except OSError:  # no writable temporary folder: the sidecar lock still holds
            return
        if acquired:
            self._inode_lock = lock
        else:
            held_by, close_it = _held_by(lock.holder())
            raise StoreError(
                f"trigger state store {self.path!r} is held by {held_by} through another "
                "name of the same file (a hard link), or after its lock file beside it was "
                f"removed; {close_it}, or use another file"
            )

    def _load(self) -> StoredState:
        with self._using("read the store") as db:
            try:
                problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
            except sqlite3.OperationalError:
                raise
            except sqlite3.DatabaseError as exc:  # malformed beyond what the check reports
                problems = [str(exc)]
            if problems != ["ok"]:
                raise StoreError(
                    f"trigger state store {self.path!r} is corrupt ({'; '.join(problems)}); "
                    "restore a backup or start a new store file"
                )
            row = db.execute("SELECT meta FROM engine_meta WHERE id = 0").fetchone()
            self._meta_text = row[0] if row else None
            try:
                meta = _decode(row[0]) if row else {}
                customers = {
                    c: _decode(s) for c, s in db.execute("SELECT customer_id, state FROM customers")
                }
                alert_values = tuple(
                    AlertValue(str(a), str(g), int(n), int(t), _decode(v), c)
                    for a, g, n, t, v, c in db.execute(_READ_ALERT_VALUES)
                )
            except (ValueError, TypeError) as exc:  # JSON that does not decode
                raise StoreError(
                    f"trigger state store {self.path!r} holds state that does not decode "
                    f"({exc}); restore a backup or start a new store file"
                ) from exc
            if not isinstance(meta, dict) or not all(
                isinstance(v, dict) for v in customers.values()
            ):
                raise StoreError(
                    f"trigger state store {self.path!r} holds state of the wrong shape; restore "
                    "a backup or start a new store file"
                )
        return StoredState(meta, customers, alert_values)

    def commit(self, change: StateChange) -> None:
        """Apply one engine call's changes in one transaction.

        Customer states are written (``None``: deleted), the meta replaced, firings appended
        to the outbox (an id already there is ignored), late and rejected interactions
        appended, and alert values deleted and added as ``change.alerts`` says (one row each).

        Raises
        ------
        StoreError
            When a value is not JSON-able (naming it), or SQLite fails (the database locked
            by another connection for longer than ``timeout``, disk full, I/O error). Nothing
            is written then: the stored state is exactly as before the call.
        """
        upserts: list[tuple[str, str]] = []
        deletes: list[tuple[str]] = []
        for customer_id, state in change.customers.items():
            if state is None:
                deletes.append((customer_id,))
            else:
                upserts.append((customer_id, _to_json(state, f"customers[{customer_id!r}]")))
        meta_text = _to_json(change.meta, "meta")
        firings = [
            (
                f.firing_id,
                f.customer_id,
                time_us(f),
                _to_json(_fields(f), f"firing {f.firing_id!r}"),
            )
            for f in change.firings
        ]
        late = _quarantined(change.late, "late")
        rejected = _quarantined(change.rejected, "rejected")
        alerts = change.alerts
        added = [
            (
                v.alert,
                v.aggregate,
                v.number,
                v.time,
                _to_json(v.value, f"alert {v.alert!r} value {v.number}"),
                v.customer_id,
            )
            for v in alerts.added
        ]
        with self._lock:
            self._require_open("commit")
            with self._transaction("commit") as db:
                if alerts.cleared:
                    db.executemany(_CLEAR_ALERT, [(name,) for name in alerts.cleared])
                if alerts.trimmed:
                    db.executemany(_TRIM_WINDOW, alerts.trimmed)
                if added:
                    db.executemany(_ADD_ALERT_VALUE, added)
                if deletes:
                    db.executemany(_DELETE_CUSTOMER, deletes)
                if upserts:
                    db.executemany(_UPSERT_CUSTOMER, upserts)
                if meta_text != self._meta_text:
                    db.execute(_WRITE_META, (meta_text,))
                if firings:
                    db.executemany(_ADD_FIRING, firings)
                if late:
                    db.executemany(_ADD_LATE, late)
                if rejected:
                    db.executemany(_ADD_REJECTED, rejected)
            self._meta_text = meta_text

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        """Erase a customer: state, firings (acknowledged or not), late and rejected
        interactions and the alert values naming them, in one transaction with the new
        ``meta``; then rewrite the file so no copy remains in it (``secure_delete``, WAL
        checkpoint, ``VACUUM``).

        Rewriting costs time in proportion to the file's size.

        Raises
        ------
        StoreError
            When the erasure fails (nothing is erased), or it was committed but the file could
            not be rewritten (e.g. another connection was reading): call ``forget`` again.
        """
        meta_text = _to_json(meta, "meta")
        key = (customer_id,)
        with self._lock:
            self._require_open("forget a customer")
            with self._transaction(f"forgetting customer {customer_id!r}") as db:
                if _storable(customer_id):  # else no row names them (nothing to erase)
                    db.execute(_DELETE_CUSTOMER, key)
                    db.execute("DELETE FROM outbox WHERE customer_id = ?", key)
                    db.execute("DELETE FROM late WHERE customer_id = ?", key)
                    db.execute("DELETE FROM rejected WHERE customer_id = ?", key)
                    db.execute("DELETE FROM alert_values WHERE customer_id = ?", key)
                db.execute(_WRITE_META, (meta_text,))
            self._meta_text = meta_text
            with self._using(f"rewrite the file after forgetting customer {customer_id!r}") as db:
                db.execute("VACUUM")
                busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                raise StoreError(
                    f"trigger state store {self.path!r}: customer {customer_id!r} was erased, "
                    "but the write-ahead log could not be cleared while another connection "
                    "reads the file, so old copies may remain in it; call forget() again when "
                    "it is done"
                )

    def close(self) -> None:
        """Close the connection and release the lock; closing twice is harmless."""
        with self._lock:
            db, self._db = self._db, None
            try:
                if db is not None:
                    db.close()
            except sqlite3.Error as exc:
                raise self._error("cannot close the database", exc) from exc
            finally:
                if self._inode_lock is not None:
                    self._inode_lock.release()
                    self._inode_lock = None
                self._file_lock.release()
                self._meta_text = None
                self._closed = True

    # -- the host's side ---------------------------------------------------------------------
    def firings(self) -> list[Firing]:
        """The outbox, in emission order."""
        with self._using("read the outbox") as db:
            rows = db.execute("SELECT firing FROM outbox ORDER BY seq").fetchall()
        return self._firings(rows)

    def pending(self, *, limit: int | None = None) -> list[Firing]:
        """The firings not yet acknowledged, in emission order: the first ``limit`` of them,
        if given (a host pages through a backlog: acknowledge, then ask again)."""
        most = pending_limit(limit)
        with self._using("read the outbox") as db:
            rows = db.execute(
                "SELECT firing FROM outbox WHERE acknowledged = 0 ORDER BY seq LIMIT ?",
                (-1 if most is None else most,),
            ).fetchall()
        return self._firings(rows)

    def _firings(self, rows: list[Any]) -> list[Firing]:
        """The outbox's rows as firings; :class:`~cxmodel.errors.StoreError` when one does
        not decode."""
        try:
            return [firing_from_dict(_decode(text)) for (text,) in rows]
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise StoreError(
                f"trigger state store {self.path!r} holds a firing that does not decode "
                f"({exc}); restore a backup or start a new store file"
            ) from exc

    def acknowledge(self, firing_ids: Iterable[str]) -> None:
        """Mark firings as handled (ids not in the outbox are ignored), in one transaction."""
        rows = [(i,) for i in ids_of(firing_ids) if _storable(i)]  # else in no row: unknown
        with self._transaction("acknowledge firings") as db:
            db.executemany(
                "UPDATE outbox SET acknowledged = 1 WHERE firing_id = ? AND acknowledged = 0", rows
            )

    def prune(self, *, before: TimeLike | None = None) -> int:
        """Delete acknowledged firings (only those whose time is before ``before``, if given);
        return how many."""
        with self._transaction("prune the outbox") as db:
            if before is None:
                cursor = db.execute("DELETE FROM outbox WHERE acknowledged = 1")
            else:
                limit = to_us(before, what="before")
                cursor = db.execute(
                    "DELETE FROM outbox WHERE acknowledged = 1 AND time_us < ?", (limit,)
                )
            return cursor.rowcount

    def late(self) -> list[Quarantined]:
        """The interactions set aside as late, in commit order."""
        return self._quarantine("late")

    def rejected(self) -> list[Quarantined]:
        """The interactions refused, in commit order (one sent again with its id and time
        kept once; one without an id each time it comes)."""
        return self._quarantine("rejected")

    def take_late(self) -> list[Quarantined]:
        """The interactions set aside as late, in commit order, deleted from the store in the
        same transaction: for a host that hands them on (a log, a dead-letter queue) so that
        the store does not keep them for ever. A late interaction re-delivered after it was
        taken is kept again."""
        return self._take("late")

    def take_rejected(self) -> list[Quarantined]:
        """The interactions rejected, in commit order, deleted from the store in the same
        transaction (see :meth:`take_late`)."""
        return self._take("rejected")

    def kept_late(self, keys: Collection[LateKey]) -> set[LateKey]:
        """Which of ``keys`` (customer id, interaction id) name a late interaction kept
        (one indexed read of each customer's late rows, however many of its ids are asked)."""
        return cast(set[LateKey], self._kept("late", _LATE_IDS, keys))

    def kept_rejected(self, keys: Collection[RejectedKey]) -> set[RejectedKey]:
        """Which of ``keys`` (customer id, interaction id, time) name a refused interaction
        kept (one indexed read of each customer's refused rows, as :meth:`kept_late`)."""
        return cast(set[RejectedKey], self._kept("rejected", _REJECTED_KEYS, keys))

    def _kept(
        self, table: str, read: str, keys: Collection[tuple[Any, ...]]
    ) -> set[tuple[Any, ...]]:
        """Which of ``keys`` (customer id, then what ``read`` selects of each of the
        customer's rows of ``table``) name a row kept."""
        asked: dict[str | None, set[tuple[Any, ...]]] = {}
        for customer, *rest in keys:
            asked.setdefault(customer, set()).add(tuple(rest))
        found: set[tuple[Any, ...]] = set()
        if not asked:
            return found
        with self._using(f"read the {table} interactions") as db:
            for customer, wanted in asked.items():
                found.update(
                    (customer, *row) for row in db.execute(read, (customer,)) if row in wanted
                )
        return found

    def _take(self, table: str) -> list[Quarantined]:
        with self._transaction(f"take the {table} interactions") as db:
            rows = db.execute(_SET_ASIDE.format(table=table)).fetchall()
            taken = self._set_aside(table, rows)  # first: one that does not decode deletes none
            db.execute(f"DELETE FROM {table}")
        return taken

    def _quarantine(self, table: str) -> list[Quarantined]:
        with self._using(f"read the {table} interactions") as db:
            rows = db.execute(_SET_ASIDE.format(table=table)).fetchall()
        return self._set_aside(table, rows)

    def _set_aside(self, table: str, rows: list[Any]) -> list[Quarantined]:
        """The rows of the ``late`` or ``rejected`` table as set-aside interactions;
        :class:`~cxmodel.errors.StoreError` when a record does not decode."""
        try:
            return [
                Quarantined(_decode(record), reason, customer) for record, reason, customer in rows
            ]
        except (ValueError, TypeError, RecursionError) as exc:  # JSON that does not decode
            raise StoreError(
                f"trigger state store {self.path!r} holds a {table} interaction that does not "
                f"decode ({exc}); restore a backup or start a new store file"
            ) from exc


def _storable(text: Any) -> bool:
    """Whether the file can hold ``text`` (anything but text: SQLite says): it holds no
    unpaired surrogate, which SQLite refuses as a parameter and no row holds."""
    return not isinstance(text, str) or valid_text(text)


def _fields(firing: Firing) -> dict[str, Any]:
    """A firing as :meth:`Firing.to_dict` shapes it, without copying payload and because."""
    return {
        "trigger": firing.trigger,
        "customer_id": firing.customer_id,
        "time": firing.time.isoformat(),
        "action": firing.action,
        "payload": firing.payload,
        "because": firing.because,
        "firing_id": firing.firing_id,
        "reason": firing.reason,
    }


def _quarantined(items: Sequence[Quarantined], what: str) -> list[tuple[str | None, str, str]]:
    return [
        (q.customer_id, _to_json(q.record, f"{what}[{n}].record"), q.reason)
        for n, q in enumerate(items)
    ]


if TYPE_CHECKING:  # both stores satisfy the protocol

    def _conforms(memory: InMemoryStore, sqlite: SQLiteStore) -> tuple[StateStore, StateStore]:
        return memory, sqlite
