"""The streaming engine's durable form: the meta it commits with every change (where delivery
stands, the release counter, each active rule's fingerprint, the catalogue's and the alerts'
state), the changed customers' states as a store reads them, and the engine restored from
what a store holds.

A restart loads this and never replays history. A rule's stored state is its own only if the
store was last committed with the same rule text active (its fingerprint, :func:`rule_hash`):
a rule whose text changed, or that was gone for a run, starts afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cxmodel.errors import NotFoundError, StoreError
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._delivery import Buffered, Delivery
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._store import StateChange, StateStore, StoredState
from cxmodel.triggers._stored import DamagedState, Stored

__all__ = [
    "META_FORMAT",
    "ChangedStates",
    "LatestStates",
    "LazyMeta",
    "RuleHashes",
    "engine_meta",
    "restore",
    "rule_hash",
    "stored_buffer",
]

#: the version of the meta this engine writes and reads (2 kept alerts' windows in the meta)
META_FORMAT = 3


def rule_hash(rule: Rule) -> str:
    """The fingerprint of ``rule``'s text.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> len(rule_hash(parse("trigger t:\\n    when view\\n    emit x")["t"]))
    16
    """
    return hashlib.sha1(str(rule).encode(), usedforsecurity=False).hexdigest()[:16]


class RuleHashes:
    """Each active rule's fingerprint (a rule whose text changed starts afresh), computed
    again only when the rules are another :class:`RuleSet`."""

    def __init__(self) -> None:
        self._rules: RuleSet | None = None
        self._hashes: dict[str, str] = {}

    def __call__(self, rules: RuleSet) -> dict[str, str]:
        if self._rules is not rules:
            self._hashes = {r.name: rule_hash(r) for r in rules}
            self._rules = rules
        return self._hashes


class ChangedStates(Mapping[str, Any]):
    """The changed customers' states for a store, serialised only if the store reads them.

    Examples
    --------
    >>> changed = ChangedStates({"a": CustomerState("a")}, {"a", "gone"})
    >>> sorted(changed), changed["gone"], changed["a"]["last_time"]
    (['a', 'gone'], None, None)
    """

    __slots__ = ("_ids", "_states")

    def __init__(self, states: dict[str, CustomerState], ids: set[str]) -> None:
        self._states = states
        self._ids = ids

    def __getitem__(self, key: str) -> Any:
        if key not in self._ids:
            raise NotFoundError(
                f"customer {key!r} is not among the {len(self._ids):,} customers this change "
                "holds (their states did not change); iterate the mapping for their ids"
            )
        state = self._states.get(key)
        return None if state is None else state.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


class LatestStates(Mapping[str, Any]):
    """Every customer's latest state as a store reads it (serialised when read; ``None``:
    erased): one mapping for the whole life of an engine, which the in-memory store keeps for
    every customer a call changed instead of a mapping made for each call.

    Examples
    --------
    >>> states = {"a": CustomerState("a")}
    >>> latest = LatestStates(states)
    >>> latest["a"]["last_time"], latest["gone"]
    (None, None)
    """

    __slots__ = ("_states",)

    def __init__(self, states: dict[str, CustomerState]) -> None:
        self._states = states

    def __getitem__(self, key: str) -> Any:
        state = self._states.get(key)
        return None if state is None else state.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)


class LazyMeta(Mapping[str, Any]):
    """The engine's meta state for a store, built only if the store reads it.

    Examples
    --------
    >>> meta = LazyMeta(lambda: {"format": META_FORMAT})
    >>> dict(meta)
    {'format': 3}
    """

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        self._data: dict[str, Any] | None = None

    def reset(self) -> LazyMeta:
        """Forget the meta built so far (the engine moved on); return this mapping."""
        self._data = None
        return self

    def _get(self) -> dict[str, Any]:
        if self._data is None:
            self._data = self._build()
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def stored_buffer(buffer: list[Buffered]) -> list[list[Any]]:
    """The buffered interactions as the meta keeps them (JSON-ready lists)."""
    return [[t, a, r.to_list()] for t, a, r in buffer]


def engine_meta(delivery: Delivery, runner: RuleRunner, hashes: dict[str, str]) -> dict[str, Any]:
    """The meta of an engine whose delivery is ``delivery``, whose rules run in ``runner``
    and whose active rules' fingerprints are ``hashes``."""
    return {
        "format": META_FORMAT,
        "max_seen": delivery.max_seen,
        "watermark": delivery.watermark,
        "closed": delivery.closed,
        "seq": runner.seq,
        "arrivals": delivery.arrivals,
        "buffer": stored_buffer(delivery.buffer),
        "rules": hashes,
        "catalogue": runner.catalogue.to_dict(),
        "alerts": runner.alerts.to_dict(),
    }


def restore(
    store: StateStore,
    stored: StoredState,
    rules: RuleSet,
    runner: RuleRunner,
    delivery: Delivery,
    meta: Callable[[], dict[str, Any]],
) -> None:
    """Load what ``store`` holds (``stored``, from its ``open``) into ``runner`` and
    ``delivery``, for the active ``rules``: a rule's stored state is dropped unless the store
    was last committed with the same text active, and what is dropped is committed at once
    (with the engine's ``meta``). A new store holds nothing to load.

    Raises
    ------
    StoreError
        When the store holds state of another format, or state that cannot be read.
    """
    try:
        _restore(store, stored, rules, runner, delivery, meta)
    except DamagedState as exc:
        raise StoreError(
            f"{store!r}: the engine state it holds cannot be read: {exc}; restore a backup or "
            "start a new store"
        ) from exc
    except StoreError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise StoreError(
            f"{store!r}: the engine state it holds cannot be read ({exc!r}); restore a "
            "backup or start a new store"
        ) from exc


def _restore(
    store: StateStore,
    stored: StoredState,
    rules: RuleSet,
    runner: RuleRunner,
    delivery: Delivery,
    meta: Callable[[], dict[str, Any]],
) -> None:
    if not stored.meta:
        return
    data = Stored(stored.meta, "meta")
    if data["format"].value != META_FORMAT:
        raise StoreError(
            f"{store!r} holds engine state of format {data['format'].value!r}; this "
            f"version reads format {META_FORMAT}: start a new store"
        )
    delivery.max_seen = data["max_seen"].optional_time()
    delivery.watermark = data["watermark"].optional_time()
    delivery.closed = data["closed"].optional_time()
    runner.seq = data["seq"].count(default=0)
    delivery.arrivals = data["arrivals"].count(default=0)
    runner.catalogue.restore(data["catalogue"].value, runner.timers, TIMER)
    for item in data["buffer"].entries():
        time, arrival, row = item.entries(3)
        delivery.push(time.time(), arrival.count(), Row.read(row))
    runner.alerts.restore(data["alerts"].mapping(), stored.alert_values)
    # a rule's stored state is its own only if the store was last committed with the
    # same text active: a rule removed in an earlier run and back with another text, or
    # never committed, starts afresh
    hashes = data["rules"].mapping()
    changed = frozenset(r.name for r in rules if hashes.get(r.name) != rule_hash(r))
    runner.touched = set()
    for cid, state_data in stored.customers.items():
        state = runner.states[cid] = CustomerState.from_dict(cid, state_data, runner.book)
        runner.tidy(state, changed)
        runner.schedule(state)
    if runner.touched:  # what was dropped goes from the store too, before any call
        store.commit(
            StateChange(
                meta=meta(),
                customers=ChangedStates(runner.states, runner.touched),
                alerts=runner.alerts.changes(),
            )
        )
        runner.alerts.committed()
