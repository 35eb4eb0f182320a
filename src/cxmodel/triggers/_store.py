"""State stores for the streaming trigger engine: a snapshot of bounded per-customer state.

The engine's durable state is never the interaction history. It is

* ``meta``: one engine-wide JSON-able dict (watermark, counters, ...),
* ``customers``: one JSON-able state per customer, bounded in size by the engine,
* the outbox of emitted firings, with an acknowledged flag per firing,
* the interactions the engine did not process (``late`` and ``rejected``), with a reason,
* the values in alerts' windows (:class:`AlertValue`), one record each, so that a call
  writes the values it added and deletes those that left instead of rewriting every window.

Each engine call hands its changes over as one :class:`StateChange`, which a store applies
atomically (:meth:`StateStore.commit`). :class:`InMemoryStore` (here) keeps everything in the
process; :class:`~cxmodel.triggers.SQLiteStore` (``_sqlite.py``) keeps it in one SQLite file.
"""

from __future__ import annotations

import copy
import datetime as _dt
import pickle
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from itertools import islice
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs
import numpy as np

from cxmodel._arguments import got
from cxmodel._time import EPOCH, TimeLike, to_us
from cxmodel.errors import SchemaError, StoreError, ValueTypeError
from cxmodel.triggers._collector import collector_paused
from cxmodel.triggers._firings import Firing, FiringRows, _bulk

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "AlertValue",
    "AlertWindowChange",
    "InMemoryStore",
    "LateKey",
    "Quarantined",
    "RejectedKey",
    "StateChange",
    "StateStore",
    "StoredState",
    "commit",
    "firing_from_dict",
    "late_keys",
    "not_kept_again",
    "pending_limit",
    "rejected_keys",
]

FORMAT = "cxmodel-triggers"
"""The format marker a :class:`SQLiteStore` file carries (table ``cxmodel_store``)."""

FORMAT_VERSION = 3
"""The store format this version of cxmodel reads and writes (1 kept interaction history; 2
kept alerts' windows inside the engine's meta)."""

#: a late interaction's customer id (``None``: a catalogue event) and interaction id
LateKey = tuple[str | None, str]

#: a refused interaction's customer id (``None``: a catalogue event), interaction id and time
#: (the ISO-8601 text of its record's ``timestamp``)
RejectedKey = tuple[str | None, str, str]

_Key = TypeVar("_Key", LateKey, RejectedKey)


# -- values ---------------------------------------------------------------------------------------
@attrs.frozen
class Quarantined:
    """An interaction the engine did not process, kept with the reason why.

    Attributes
    ----------
    record : dict
        The interaction as given, JSON-able (timestamps as ISO-8601 text).
    reason : str
        Why it was not processed, e.g. ``"late: at or before the watermark ..."``.
    customer_id : str or None
        The customer it belongs to, when the record names one (used by ``forget``).

    Examples
    --------
    >>> q = Quarantined({"customer_id": "c1", "kind": "view"}, "late: before the watermark", "c1")
    >>> q.reason
    'late: before the watermark'
    """

    record: dict[str, Any]
    reason: str
    customer_id: str | None = None


@attrs.frozen
class AlertValue:
    """One value in an alert's window, as a store keeps it.

    Attributes
    ----------
    alert : str
        The alert's name.
    aggregate : str
        The aggregate's text, e.g. ``"count(ticket_opened within 1 hours)"``.
    number : int
        The value's number within its alert: numbers increase in the order values arrive, so
        the values that leave a window are those numbered up to some number.
    time : int
        The time of the interaction that brought it, in microseconds since the epoch (UTC).
    value : object
        The value (JSON-able: ``True`` for a count, a number or a text).
    customer_id : str or None
        The customer the value names (a ``customer_id`` aggregate's values), erased by
        :meth:`StateStore.forget`; ``None`` when it names no one.

    Examples
    --------
    >>> AlertValue("spike", "count(ticket_opened within 1 hours)", 0, 0, True).customer_id is None
    True
    """

    alert: str
    aggregate: str
    number: int
    time: int
    value: Any
    customer_id: str | None = None


@attrs.frozen
class AlertWindowChange:
    """One call's changes to the alerts' windows, applied in this order.

    Attributes
    ----------
    cleared : Sequence of str
        Alerts whose stored values all go (an alert added, removed, or changed since it was
        stored); their current values are among ``added``.
    trimmed : Sequence of (str, str, int)
        ``(alert, aggregate, number)``: that window's values numbered up to ``number`` left it.
    added : Sequence of AlertValue
        Values that entered a window, in arrival order.

    Examples
    --------
    >>> AlertWindowChange().added
    ()
    """

    cleared: Sequence[str] = ()
    trimmed: Sequence[tuple[str, str, int]] = ()
    added: Sequence[AlertValue] = ()


@attrs.frozen
class StoredState:
    """What :meth:`StateStore.open` hands the engine: the state as committed last.

    Attributes
    ----------
    meta : dict
        The engine-wide JSON-able dict; ``{}`` for a new store.
    customers : dict
        ``customer_id -> state`` for every customer with a stored state.
    alert_values : tuple of AlertValue
        The values in the alerts' windows, by alert, aggregate and number.

    Examples
    --------
    >>> StoredState({}, {}) == StoredState(meta={}, customers={}, alert_values=())
    True
    """

    meta: dict[str, Any]
    customers: dict[str, Any]
    alert_values: tuple[AlertValue, ...] = ()


@attrs.frozen
class StateChange:
    """One engine call's changes, committed in one transaction by :meth:`StateStore.commit`.

    Attributes
    ----------
    meta : Mapping
        Replaces the stored meta (JSON-able).
    customers : Mapping
        The changed customers: ``customer_id -> state`` (JSON-able) to write, or
        ``customer_id -> None`` to delete that customer's state.
    firings : Sequence of Firing
        Emitted firings, appended to the outbox in this order. A firing whose id is already
        in the outbox is ignored (the engine never sends one twice). The engine may hand a
        sequence that builds its :class:`~cxmodel.triggers.Firing` objects as they are read
        (those a large micro-batch decided as columns): iterate or index it as any sequence
        (each read gives the same firings).
    late, rejected : Sequence of Quarantined
        Interactions set aside, appended in this order.
    alerts : AlertWindowChange
        The values that entered or left the alerts' windows.

    Examples
    --------
    >>> change = StateChange(meta={"watermark": 0}, customers={"c1": {"n": 1}, "c2": None})
    >>> change.firings, change.late, change.rejected, change.alerts
    ((), (), (), AlertWindowChange(cleared=(), trimmed=(), added=()))
    """

    meta: Mapping[str, Any]
    customers: Mapping[str, Any]
    firings: Sequence[Firing] = ()
    late: Sequence[Quarantined] = ()
    rejected: Sequence[Quarantined] = ()
    alerts: AlertWindowChange = attrs.field(factory=AlertWindowChange)


def pending_limit(limit: Any) -> int | None:
    """The ``limit`` of a store's ``pending(limit=...)``: ``None`` or a count of at least 1.

    Examples
    --------
    >>> pending_limit(None), pending_limit(500), pending_limit(np.int64(2))
    (None, 500, 2)
    >>> pending_limit(0)
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: pending(): limit must be an integer of at least 1, or None; got int 0
    """
    if limit is None:
        return None
    # numpy's integers are integers too (a page size computed with numpy); true/false is not
    if not isinstance(limit, (int, np.integer)) or isinstance(limit, bool) or limit < 1:
        raise ValueTypeError(
            f"pending(): limit must be an integer of at least 1, or None; got {got(limit)}"
        )
    return int(limit)


def firing_from_dict(data: Mapping[str, Any]) -> Firing:
    """Rebuild a :class:`~cxmodel.triggers.Firing` from :meth:`Firing.to_dict` output.

    Parameters
    ----------
    data : Mapping
        A firing as :meth:`~cxmodel.triggers.Firing.to_dict` returns it (time as ISO text).

    Returns
    -------
    Firing

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> f = Firing("t", "c1", datetime(2024, 1, 1, tzinfo=timezone.utc), "act", {}, {}, "id1")
    >>> firing_from_dict(f.to_dict()) == f
    True
    """
    return Firing(
        trigger=data["trigger"],
        customer_id=data["customer_id"],
        time=_dt.datetime.fromisoformat(data["time"]),
        action=data["action"],
        payload=data["payload"],
        because=data["because"],
        firing_id=data["firing_id"],
        reason=data.get("reason"),
    )


# -- the protocol ---------------------------------------------------------------------------------
@runtime_checkable
class StateStore(Protocol):
    """What the engine relies on from a state store.

    A store is taken by one engine at a time: :meth:`open` takes it (and loads it),
    :meth:`close` lets it go. Between the two, each engine call's changes go in through
    :meth:`commit`, all or nothing. The host reads the outbox (:meth:`firings`,
    :meth:`pending`), says which firings it has handled (:meth:`acknowledge`) and drops
    handled ones (:meth:`prune`). A store raises :class:`~cxmodel.errors.StoreError` when it
    cannot be opened, read or written; a failed :meth:`commit` leaves the stored state exactly
    as before the call.

    A store may also have ``kept_rejected(keys)``, which the engine asks when it has one, and
    which both stores here have: which of ``keys`` (customer id, ``None`` for a catalogue
    event; interaction id; the ISO-8601 text of the record's ``timestamp``) name an
    interaction among those kept as refused (:meth:`rejected`), so that one sent again is not
    kept again (as :meth:`kept_late` answers of the late ones; any iterable of keys will do).
    It is not required, so that a store written before it keeps working: without it each
    delivery of a refused interaction is kept (one within one call is kept once).
    """

    def open(self) -> StoredState:
        """Take the store for this engine (a lock or lease) and return the state it holds.

        Raises :class:`~cxmodel.errors.StoreError` when another live engine holds it.
        """
        ...

    def commit(self, change: StateChange) -> None:
        """Apply one engine call's changes atomically (all of them or none).

        ``change.firings`` is a sequence of :class:`~cxmodel.triggers.Firing` objects, which
        may be built as they are first read (see :class:`StateChange`).
        """
        ...

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        """Erase everything kept about ``customer_id`` (state, firings, late and rejected
        interactions, the alert values naming them) and replace the meta with ``meta``,
        atomically."""
        ...

    def firings(self) -> list[Firing]:
        """The outbox, in emission order."""
        ...

    def pending(self) -> list[Firing]:
        """The firings not yet acknowledged, in emission order."""
        ...

    def acknowledge(self, firing_ids: Iterable[str]) -> None:
        """Mark firings as handled by the host (unknown ids are ignored)."""
        ...

    def prune(self, *, before: TimeLike | None = None) -> int:
        """Drop acknowledged firings (all, or those whose firing time is before ``before``);
        return how many were dropped."""
        ...

    def late(self) -> list[Quarantined]:
        """The interactions set aside as late, in the order they were committed."""
        ...

    def rejected(self) -> list[Quarantined]:
        """The interactions refused (more than ``max_future`` ahead of the clock, or under the
        id of another interaction), in the order they were committed."""
        ...

    def kept_late(self, keys: Collection[LateKey]) -> Iterable[LateKey]:
        """Which of ``keys`` (customer id, ``None`` for a catalogue event; interaction id)
        name an interaction among those kept as late: one re-delivered is not kept again.
        Any iterable of keys will do (a set, a frozenset, a list); the engine copies it and
        never changes what the store returns."""
        ...

    def close(self) -> None:
        """Let the store go (another engine may open it); closing twice is harmless."""
        ...


def late_keys(items: Iterable[Quarantined]) -> Iterator[LateKey]:
    """The (customer id, interaction id) of those of ``items`` that have an id.

    Examples
    --------
    >>> list(late_keys([Quarantined({"interaction_id": "e1"}, "late", "a"),
    ...                 Quarantined({}, "late", "a")]))
    [('a', 'e1')]
    """
    return _keys(items, _late_key)


def rejected_keys(items: Iterable[Quarantined]) -> Iterator[RejectedKey]:
    """The (customer id, interaction id, time) of those of ``items`` that have an id: a
    refused interaction sent again repeats all three (another interaction under a taken id,
    refused too, comes at another time).

    Examples
    --------
    >>> list(rejected_keys([
    ...     Quarantined({"timestamp": "2024-05-03T00:00:00+00:00", "interaction_id": "e1"},
    ...                 "refused", "a"),
    ...     Quarantined({"timestamp": "2024-05-03T00:00:00+00:00"}, "refused", "a")]))
    [('a', 'e1', '2024-05-03T00:00:00+00:00')]
    """
    return _keys(items, _rejected_key)


def _keys(
    items: Iterable[Quarantined], key_of: Callable[[Quarantined], _Key | None]
) -> Iterator[_Key]:
    """The keys (``key_of``) of those of ``items`` that have one."""
    return (key for key in map(key_of, items) if key is not None)


def _late_key(item: Quarantined) -> LateKey | None:
    """The (customer id, interaction id) of ``item`` (``None``: it has no id)."""
    ident = item.record.get("interaction_id")
    return (item.customer_id, ident) if isinstance(ident, str) else None


def _rejected_key(item: Quarantined) -> RejectedKey | None:
    """The (customer id, interaction id, time) of ``item`` (``None``: it has no id)."""
    record = item.record
    ident, time = record.get("interaction_id"), record.get("timestamp")
    if isinstance(ident, str) and isinstance(time, str):
        return item.customer_id, ident, time
    return None


@contextmanager
def _host_failure(doing: str) -> Iterator[None]:
    """A store's failure as a :class:`~cxmodel.errors.StoreError`: a store of the host's own
    that fails otherwise has its exception chained to one, saying what it could not do."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # a store of the host's own that failed otherwise
        raise StoreError(f"the store could not {doing}: {exc}") from exc


def not_kept_again(
    store: StateStore, late: Sequence[Quarantined], rejected: Sequence[Quarantined]
) -> tuple[list[Quarantined], list[Quarantined], int]:
    """The late and the refused interactions of one call that ``store`` does not keep
    already, and how many it does: a late one with the (customer, interaction id) of a late
    interaction the store keeps, or of one earlier in ``late``, is a re-delivery, not kept
    (nor warned about) again; so is a refused one with the (customer, interaction id, time)
    of a refused one kept or earlier in ``rejected`` (the store asked with ``kept_rejected``
    when it has it). One without an id cannot be matched, and is kept. A store of the host's
    own whose ``kept_late`` or ``kept_rejected`` fails otherwise than with a
    :class:`~cxmodel.errors.StoreError` has its exception chained to one, as in
    :func:`commit`.

    Examples
    --------
    >>> store = InMemoryStore()
    >>> _ = store.open()
    >>> first = Quarantined({"interaction_id": "e1"}, "late", "a")
    >>> store.commit(StateChange(meta={}, customers={}, late=[first]))
    >>> not_kept_again(store, [first, Quarantined({"interaction_id": "e2"}, "late", "a")], [])
    ([Quarantined(record={'interaction_id': 'e2'}, reason='late', customer_id='a')], [], 1)
    """
    if late:
        late, again = _not_kept(late, _late_key, store.kept_late, "late")
    else:
        again = 0
    if rejected:
        # absent from a store written before it: each delivery is kept, as then
        asked = getattr(store, "kept_rejected", None)
        rejected, more = _not_kept(rejected, _rejected_key, asked, "refused")
        again += more
    return list(late), list(rejected), again


def _not_kept(
    items: Sequence[Quarantined],
    key_of: Callable[[Quarantined], _Key | None],
    kept_of: Callable[[set[_Key]], Iterable[_Key]] | None,
    what: str,
) -> tuple[list[Quarantined], int]:
    """Those of ``items`` whose key (``key_of``) is neither among those ``kept_of`` names
    kept (``None``: none asked) nor an earlier item's, and how many are."""
    keys = set(_keys(items, key_of))
    if not keys:
        return list(items), 0
    kept: set[_Key] = set()
    if kept_of is not None:
        with _host_failure(f"say which {what} interactions it keeps"):
            kept.update(kept_of(keys))  # the engine's own: the store's answer is not changed
    out: list[Quarantined] = []
    for item in items:
        key = key_of(item)
        if key is not None:
            if key in kept:
                continue
            kept.add(key)
        out.append(item)
    return out, len(items) - len(out)


def commit(store: StateStore, change: StateChange) -> None:
    """``store.commit(change)``, where a failure is a :class:`~cxmodel.errors.StoreError`: a
    store of the host's own that fails otherwise has its exception chained to one."""
    with _host_failure("commit"):
        store.commit(change)


def ids_of(firing_ids: Iterable[str]) -> list[str]:
    """The ids to acknowledge (a single id given as a string counts as one id)."""
    if isinstance(firing_ids, str):
        return [firing_ids]
    if not isinstance(firing_ids, Iterable) or isinstance(firing_ids, (bytes, bytearray)):
        raise ValueTypeError(
            f"expected firing ids (an id, or an iterable of ids); got {got(firing_ids)}"
        )
    ids = list(firing_ids)
    for wrong in ids:
        if not isinstance(wrong, str):
            raise ValueTypeError(f"firing ids are text; got {got(wrong)}")
    return ids


def time_us(firing: Firing) -> int:
    """A firing's time in microseconds since the epoch (aware datetimes only)."""
    return _us(firing.time, firing.firing_id)


def _us(time: _dt.datetime, firing_id: str) -> int:
    """:func:`time_us` of the firing ``firing_id`` at ``time``."""
    if time.tzinfo is not None and time.utcoffset() is not None:
        delta = time - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    try:
        return to_us(time, what=f"time of firing {firing_id!r}")
    except SchemaError as exc:
        raise StoreError(str(exc)) from exc


_Kept = tuple[int, int, Any, str | None]  # number, time, value, customer_id

#: a firing in the in-memory outbox: its time (the firing's own datetime), customer id, and
#: the pickle bytes of its trigger, action, payload, because and reason, or, for a firing
#: pickle cannot write, a deep copy of it. Tuples of a datetime, text and bytes, which the
#: garbage collector stops tracking, where ``Firing`` objects and their nested dicts would be
#: scanned by each of its full collections.
_Stored = tuple[_dt.datetime, str, bytes | Firing]


def _stored(firing: Firing) -> _Stored:
    """What the outbox keeps of ``firing``: data that nothing the host does to the firing
    changes. Pickle writes every value as it is, type included (``marshal``, as fast, writes
    a numpy number or array, a bytearray, as ``bytes``); a value it cannot write (an object
    of the host's own, of a class defined in a function, holding a lock, ...) makes the firing
    kept as a deep copy.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> f = Firing("t", "c1", datetime(2024, 1, 1, tzinfo=timezone.utc), "act", {"n": 1.0},
    ...            {"when": {"kind": "k"}}, "id1")
    >>> kept = _stored(f)
    >>> kept[1], type(kept[2]).__name__
    ('c1', 'bytes')
    >>> f.payload["n"] = 2.0
    >>> _built("id1", kept).payload
    {'n': 1.0}
    """
    fields = (firing.trigger, firing.action, firing.payload, firing.because, firing.reason)
    try:
        blob = pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)
    except Exception:  # whatever a value of the host's own raises, or nested too deep
        return (firing.time, firing.customer_id, _copy_of(firing))
    return (firing.time, firing.customer_id, blob)


def _copy_of(firing: Firing) -> Firing:
    """A deep copy of ``firing``; the firing itself when it cannot be copied (a value of the
    host's own that refuses to be), as the outbox kept every firing before."""
    try:
        return copy.deepcopy(firing)
    except Exception:  # whatever the host's value raises
        return firing


def _built(firing_id: str, stored: _Stored) -> Firing:
    """The firing the outbox keeps as ``stored``, as a new object (the host may change it)."""
    time, customer_id, held = stored
    if type(held) is bytes:
        # bytes this store pickled itself, in this process
        trigger, action, payload, because, reason = pickle.loads(held)
        return Firing(trigger, customer_id, time, action, payload, because, firing_id, reason)
    assert isinstance(held, Firing)
    return _copy_of(held)


class _Columns:
    """A large micro-batch's firings, as the columns they were handed over in, until the
    outbox is read: the block rows then built afresh from the columns (not the objects the
    host may have read, and changed, from the same rows), the objects among them kept now.
    Iterating gives ``(firing id, stored)`` in the rows' order."""

    __slots__ = ("objects", "rows")

    def __init__(self, rows: FiringRows) -> None:
        self.rows = rows
        cache = rows.cache
        self.objects: list[tuple[int, str, _Stored]] = []
        for j in np.flatnonzero(rows.which < 0).tolist():
            firing = cache[j]
            assert firing is not None  # given as an object
            self.objects.append((j, firing.firing_id, _stored(firing)))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[str, _Stored]]:
        rows = self.rows
        out: list[tuple[str, _Stored] | None] = [None] * len(rows)
        for j, firing_id, stored in self.objects:
            out[j] = (firing_id, stored)
        for w, block in enumerate(rows.blocks):
            at = np.flatnonzero(rows.which == w)
            if len(at):
                for j, firing in zip(at.tolist(), _bulk(block, rows.row[at]), strict=True):
                    out[j] = (firing.firing_id, _stored(firing))
        return iter(out)  # type: ignore[arg-type]


def _pairs(firings: Iterable[Firing]) -> tuple[tuple[str, _Stored], ...]:
    return tuple((firing.firing_id, _stored(firing)) for firing in firings)


#: from how many firings a read builds them with the garbage collector paused
_MANY = 1_000


def _built_all(kept: Iterable[tuple[str, _Stored]], count: int) -> list[Firing]:
    """The firings ``kept`` (about ``count`` of them), built: many with the collector paused,
    which would scan the objects made so far again and again (half the time of 50,000)."""
    with collector_paused() if count >= _MANY else nullcontext():
        return [_built(i, stored) for i, stored in kept]


# -- in memory ------------------------------------------------------------------------------------
class InMemoryStore:
    """A store that lives in the process (lost when it exits).

    It costs the engine next to nothing: :meth:`commit` keeps references to the meta and
    customer states it is handed, without copying or serialising them, so values need not be
    JSON-able here; alerts' windows take the values a call added and drop those that left.
    The outbox keeps each firing as plain data (its payload and ``because`` pickled), not
    the object the engine returned: a host that changes a returned firing does not change
    the firing kept, and :meth:`firings` and :meth:`pending` build new objects on each call.
    Firings handed over as columns (a large micro-batch's) are kept so, and put in the outbox,
    in commit order, only when something reads or changes it.
    Only one engine may have it open at a time; after :meth:`close`, a new :meth:`open`
    returns the meta and customer states committed last (the same objects).

    It keeps at most ``max_kept`` firings (acknowledged or not), late and refused
    interactions each, so that a host that takes the firings from the calls' return values,
    and never acknowledges, prunes or takes them, keeps bounded memory: past it, the oldest
    half are dropped and counted (:meth:`take_dropped`; the engine warns with the counts).

    Parameters
    ----------
    max_kept : int or None
        The most firings, late and refused interactions kept, each (``None``: no limit).

    Examples
    --------
    >>> store = InMemoryStore()
    >>> store.open()
    StoredState(meta={}, customers={}, alert_values=())
    >>> store.commit(StateChange(meta={"watermark": 5}, customers={"c1": {"n": 1}}))
    >>> store.pending()
    []
    >>> store.close()
    >>> store.open()
    StoredState(meta={'watermark': 5}, customers={'c1': {'n': 1}}, alert_values=())
    >>> store.close()
    """

    def __init__(self, max_kept: int | None = 100_000) -> None:
        if max_kept is not None and (type(max_kept) is not int or max_kept < 2):
            raise ValueTypeError(
                f"InMemoryStore(): max_kept must be an integer of at least 2, or None for no "
                f"limit; got {got(max_kept)}"
            )
        self.max_kept = max_kept
        self._lock = threading.RLock()
        self._openings = 0  # open() counts them: the engine of the latest holds the store
        # the opening that holds the store (None: closed), one attribute read without the lock
        # by holder() before every call of the engine
        self._holder: int | None = None
        self._meta: Mapping[str, Any] = {}
        # customer id -> the committed mapping holding its latest state (read on open())
        self._customers: dict[str, Mapping[str, Any]] = {}
        # firing id -> the firing as pickled data (_stored), built as a Firing when read
        self._outbox: dict[str, _Stored] = {}
        # firings committed but not yet in the outbox, in commit order: columns that build
        # their firings when read, and the commits after one of them
        self._pending: list[_Columns | tuple[tuple[str, _Stored], ...]] = []
        self._acked: set[str] = set()
        self._late: list[Quarantined] = []
        self._late_keys: set[LateKey] = set()  # (customer, interaction id) of the late ones
        self._rejected: list[Quarantined] = []
        # (customer, interaction id, time) of the refused ones
        self._rejected_keys: set[RejectedKey] = set()
        # firings in the outbox and kept aside (one kept aside twice, or also in the outbox,
        # counted twice until they are moved into it)
        self._kept = 0
        self._dropped = [0, 0, 0]  # firings, late, refused dropped since take_dropped
        # (alert, aggregate) -> (number, time, value, customer_id): plain tuples, which the
        # garbage collector stops tracking, where AlertValue objects would cost it time
        self._alerts: dict[tuple[str, str], deque[_Kept]] = {}

    def __repr__(self) -> str:
        with self._lock:
            return (
                f"InMemoryStore(open={self._holder is not None}, customers={len(self._customers)}, "
                f"firings={len(self._settled())})"
            )

    def open(self) -> StoredState:
        """Take the store for one engine; return the meta and customer states committed last.

        Raises
        ------
        StoreError
            When another engine has it open (it must :meth:`close` it first).
        """
        with self._lock:
            if self._holder is not None:
                raise StoreError(
                    "this InMemoryStore is already open by another engine; an in-memory store "
                    "serves one engine at a time (close the other engine's store first)"
                )
            self._openings += 1
            self._holder = self._openings
            states = {cid: changed[cid] for cid, changed in self._customers.items()}
            self._customers = {cid: {cid: v} for cid, v in states.items() if v is not None}
            return StoredState(
                dict(self._meta),
                {cid: v for cid, v in states.items() if v is not None},
                tuple(
                    AlertValue(alert, aggregate, *kept)
                    for alert, aggregate in sorted(self._alerts)
                    for kept in self._alerts[alert, aggregate]
                ),
            )

    def commit(self, change: StateChange) -> None:
        """Apply one engine call's changes (references kept, nothing copied or serialised, but
        the firings, kept as pickled data)."""
        self.keep(
            change.meta, change.customers, change.firings, change.late, change.rejected,
            change.alerts,
        )  # fmt: skip

    def keep(
        self,
        meta: Mapping[str, Any],
        customers: Mapping[str, Any],
        firings: Sequence[Firing],
        late: Sequence[Quarantined],
        rejected: Sequence[Quarantined],
        alerts: AlertWindowChange,
        latest: Mapping[str, Any] | None = None,
    ) -> None:
        """:meth:`commit` of the fields of a :class:`StateChange`, given one by one: what the
        engine calls for one interaction at a time, which builds no ``StateChange``.
        ``latest``, when given, is a mapping of every customer's latest state, kept for the
        changed customers instead of ``customers`` (no mapping of each call kept alive)."""
        with self._lock:
            self._meta = meta
            stored = self._customers
            # the mapping is kept, its values read on open()
            stored.update(dict.fromkeys(customers, customers if latest is None else latest))
            if firings:
                if isinstance(firings, FiringRows) and firings.which.size:
                    # rows of columns: kept unbuilt until the outbox is read
                    self._kept += len(firings)
                    self._pending.append(_Columns(firings))
                elif self._pending:  # after those, in commit order
                    self._kept += len(firings)
                    self._pending.append(_pairs(firings))
                else:
                    outbox = self._outbox
                    before = len(outbox)
                    for firing in firings:
                        if firing.firing_id not in outbox:  # one already there is ignored
                            outbox[firing.firing_id] = _stored(firing)
                    self._kept += len(outbox) - before
            if late:
                self._late.extend(late)
                self._late_keys.update(late_keys(late))
            if rejected:
                self._rejected.extend(rejected)
                self._rejected_keys.update(rejected_keys(rejected))
            if alerts.added or alerts.trimmed or alerts.cleared:
                self._apply(alerts)
            most = self.max_kept  # (tested here: keep runs once per interaction one by one)
            if most is not None and (
                self._kept > most or len(self._late) > most or len(self._rejected) > most
            ):
                self._limit(most)

    def _limit(self, most: int) -> None:
        """Past ``most`` firings, late or refused interactions, drop the oldest of them down
        to about half of it (firings a call's worth at a time, but for the newest call's),
        and count them (called with the lock)."""
        dropped = self._dropped
        if self._kept > most:
            excess, outbox, pending = self._kept - most // 2, self._outbox, self._pending
            oldest = list(islice(outbox, excess))  # the outbox holds the oldest
            for firing_id in oldest:
                del outbox[firing_id]
                self._acked.discard(firing_id)
            gone = len(oldest)
            while gone < excess and pending:  # then whole parts kept aside (none acknowledged)
                if len(pending) == 1 and gone + len(pending[0]) > excess:
                    # part of the newest (built for it), so that its newest firings stay
                    rest = list(islice(self._settled(), excess - gone))
                    for firing_id in rest:
                        del outbox[firing_id]
                    gone += len(rest)
                    break
                gone += len(pending.pop(0))
            dropped[0] += gone
            self._kept = len(outbox) + sum(map(len, pending))
        for at, kept in ((1, self._late), (2, self._rejected)):
            if len(kept) > most:
                gone = len(kept) - most // 2
                del kept[:gone]
                dropped[at] += gone
                if at == 1:
                    self._late_keys = set(late_keys(kept))
                else:
                    self._rejected_keys = set(rejected_keys(kept))

    def take_dropped(self) -> tuple[int, int, int]:
        """How many firings, late and refused interactions were dropped past ``max_kept``
        since the last call (the engine asks after each call, and warns)."""
        with self._lock:
            firings, late, refused = self._dropped
            self._dropped = [0, 0, 0]
            return firings, late, refused

    @property
    def dropping(self) -> bool:
        """Whether something was dropped since :meth:`take_dropped` (read after every call)."""
        return any(self._dropped)

    def _settled(self) -> dict[str, _Stored]:
        """The outbox, once the firings kept aside are moved into it in commit order (one
        whose id is there already ignored, as :meth:`keep` ignores it). Called with the lock."""
        pending = self._pending
        if pending:
            outbox = self._outbox
            for part in pending:  # again from the first, if building one failed: no-ops
                for firing_id, stored in part:
                    outbox.setdefault(firing_id, stored)
            pending.clear()
            self._kept = len(outbox)
        return self._outbox

    def _apply(self, change: AlertWindowChange) -> None:
        if not (change.added or change.trimmed or change.cleared):
            return
        windows = self._alerts
        if change.cleared:
            gone = set(change.cleared)
            for key in [key for key in windows if key[0] in gone]:
                del windows[key]
        for alert, aggregate, number in change.trimmed:
            values = windows.get((alert, aggregate))
            while values and values[0][0] <= number:
                values.popleft()
        for value in change.added:
            key = (value.alert, value.aggregate)
            values = windows.get(key)
            if values is None:
                values = windows[key] = deque()
            values.append((value.number, value.time, value.value, value.customer_id))

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        """Drop the customer's state, firings (acknowledged or not), late and rejected
        interactions and the alert values naming them, and replace the meta."""
        with self._lock:
            outbox = self._settled()  # first: the firings kept aside may name them too
            self._meta = meta
            self._customers.pop(customer_id, None)
            dropped = [i for i, kept in outbox.items() if kept[1] == customer_id]
            for firing_id in dropped:
                del outbox[firing_id]
                self._acked.discard(firing_id)
            self._kept = len(outbox)
            self._late = [q for q in self._late if q.customer_id != customer_id]
            self._late_keys = set(late_keys(self._late))
            self._rejected = [q for q in self._rejected if q.customer_id != customer_id]
            self._rejected_keys = set(rejected_keys(self._rejected))
            for key, values in self._alerts.items():
                if any(v[3] == customer_id for v in values):
                    self._alerts[key] = deque(v for v in values if v[3] != customer_id)

    def firings(self) -> list[Firing]:
        """The outbox, in emission order: new objects on each call, which the host may
        change without changing what the store keeps."""
        with self._lock:
            outbox = self._settled()
            return _built_all(outbox.items(), len(outbox))

    def pending(self, *, limit: int | None = None) -> list[Firing]:
        """The firings not yet acknowledged, in emission order: the first ``limit`` of them,
        if given (see :meth:`SQLiteStore.pending <cxmodel.triggers.SQLiteStore.pending>`).

        Each call returns new objects, equal to those the engine emitted: the host may
        change them without changing what the store keeps."""
        limit = pending_limit(limit)
        with self._lock:
            acked, outbox = self._acked, self._settled()
            waiting = ((i, kept) for i, kept in outbox.items() if i not in acked)
            count = len(outbox) - len(acked)  # acknowledged ids are the outbox's
            if limit is None:
                return _built_all(waiting, count)
            return _built_all(islice(waiting, limit), min(count, limit))

    def acknowledge(self, firing_ids: Iterable[str]) -> None:
        """Mark firings as handled (ids not in the outbox are ignored)."""
        with self._lock:
            outbox = self._settled()
            self._acked.update(i for i in ids_of(firing_ids) if i in outbox)

    def prune(self, *, before: TimeLike | None = None) -> int:
        """Drop acknowledged firings (only those whose time is before ``before``, if given);
        return how many."""
        limit = None if before is None else to_us(before, what="before")
        with self._lock:
            outbox = self._settled()
            dropped = [i for i in self._acked if limit is None or _us(outbox[i][0], i) < limit]
            for firing_id in dropped:
                del outbox[firing_id]
                self._acked.discard(firing_id)
            self._kept = len(outbox)
            return len(dropped)

    def late(self) -> list[Quarantined]:
        """The interactions set aside as late, in commit order."""
        with self._lock:
            return list(self._late)

    def take_late(self) -> list[Quarantined]:
        """The interactions set aside as late, in commit order, no longer kept (see
        :meth:`SQLiteStore.take_late <cxmodel.triggers.SQLiteStore.take_late>`)."""
        with self._lock:
            taken, self._late, self._late_keys = self._late, [], set()
            return taken

    def take_rejected(self) -> list[Quarantined]:
        """The interactions rejected, in commit order, no longer kept."""
        with self._lock:
            taken, self._rejected, self._rejected_keys = self._rejected, [], set()
            return taken

    def kept_late(self, keys: Collection[LateKey]) -> set[LateKey]:
        """Which of ``keys`` (customer id, interaction id) name a late interaction kept."""
        with self._lock:
            return {key for key in keys if key in self._late_keys}

    def kept_rejected(self, keys: Collection[RejectedKey]) -> set[RejectedKey]:
        """Which of ``keys`` (customer id, interaction id, time) name a refused interaction
        kept."""
        with self._lock:
            return {key for key in keys if key in self._rejected_keys}

    def rejected(self) -> list[Quarantined]:
        """The interactions refused, in commit order (one sent again with its id and time
        kept once; one without an id each time it comes)."""
        with self._lock:
            return list(self._rejected)

    def close(self) -> None:
        """Let the store go: another engine may :meth:`open` it."""
        with self._lock:
            self._holder = None

    def holder(self) -> int | None:
        """Which opening holds the store (``None``: it is closed): the engine that opened it
        then, and no other, may change it. An engine whose store was closed, and opened again
        by another, is refused (:meth:`TriggerEngine.process
        <cxmodel.triggers.TriggerEngine.process>` and the rest raise ``StoreError``), as an
        engine on a closed ``SQLiteStore`` is.

        Examples
        --------
        >>> store = InMemoryStore()
        >>> _ = store.open()
        >>> store.holder()
        1
        >>> store.close()
        >>> store.holder() is None
        True
        """
        return self._holder


# -- JSON -----------------------------------------------------------------------------------------
