"""Catalogue events in the streaming engine.

A catalogue event (a record without ``customer_id`` of a kind some rule reads as ``when KIND
as x for customers with ...``) is released in time order like any interaction, then decided
as a timer at its time: once every interaction at or before it has been taken in (an
interaction after it arrives, or ``advance_to`` reaches it). It then reaches, for each
catalogue rule of its kind whose ``when ... where`` it passes, the customers whose latest
matching interaction with its keys lies in the rule's window; each such customer's firing
goes through the rule's ``if``, payload and policies as any firing does.

What this needs per customer is, per join clause, a buffer of the matching interactions of
the last ``within`` (time, release number, interaction id and the fields the clause names,
keys included), kept in :attr:`CustomerState.windows
<cxmodel.triggers._customer.CustomerState.windows>` and trimmed as the customer's
interactions of that kind arrive. An index from key to customers (rebuilt from the states on
restart, a superset checked at each use) finds the customers an event reaches without
visiting the others. Engine-wide, the events waiting for their time, the rank of the latest
ones and the ids that could be re-delivered go in the store's meta state.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cxmodel.expr import Name
from cxmodel.triggers._catalogue import Join, join_of
from cxmodel.triggers._context import shift
from cxmodel.triggers._customer import Anchor, CustomerState
from cxmodel.triggers._evidence import tested_items
from cxmodel.triggers._ingest import CATALOGUE, Row
from cxmodel.triggers._operators import Reader, RulePlan
from cxmodel.triggers._scalar import Env, Scalar, compile_expr
from cxmodel.triggers._stored import Stored

if TYPE_CHECKING:
    from cxmodel.triggers._runner import RuleRunner

__all__ = ["CatalogueRunner", "JoinPlan"]

_NOBODY = Reader({}, None)
Key = tuple[Any, ...]


def _value(row: Row, name: str) -> Any:
    """A field of ``row`` as an expression reads it (``customer_id`` and ``timestamp``
    included)."""
    if name == "customer_id":
        return row.customer
    if name == "timestamp":
        return float(row.time)
    return row.fields.get(name)


class JoinPlan:
    """One ``for customers with ... within D`` clause compiled: which interactions it keeps
    per customer (and which of their fields), how long, and their keys."""

    def __init__(self, rule: Any) -> None:
        join: Join = join_of(rule)
        self.join = join
        self.kind = join.kind
        self.store_key = join.store_key
        self.lookback = join.lookback
        self.test: Scalar | None = None if join.test is None else compile_expr(join.test, None)
        self.shown = [node.name for _, node in tested_items(rule)["with"] if isinstance(node, Name)]
        self.mine = [mine for mine, _ in join.keys]

    def key(self, values: Mapping[str, Any]) -> Key:
        """The key of a kept interaction (from its shown fields)."""
        return tuple(map(values.get, self.mine))

    def take(self, state: CustomerState, row: Row) -> Key | None:
        """Keep ``row`` (of this clause's kind) if it passes the clause's test and has every
        key; return its key (``None`` if not kept)."""
        if self.test is not None and not self.test(Env(row.fields, row.time, row.customer, {})):
            return None
        values = {name: _value(row, name) for name in self.shown}
        key = self.key(values)
        if any(part is None for part in key):  # a missing key matches nothing
            return None
        buffer = state.windows.get(self.store_key)
        if buffer is None:
            buffer = state.windows[self.store_key] = deque()
        buffer.append((row.time, row.seq, [row.interaction_id, values]))
        return key

    def trim(self, state: CustomerState, now: int) -> set[Key]:
        """Drop kept interactions too old for any event at ``now`` or later; return the keys
        no longer kept."""
        buffer = state.windows.get(self.store_key)
        if not buffer or buffer[0][0] >= now - self.lookback:
            return set()
        dropped = set()
        while buffer and buffer[0][0] < now - self.lookback:
            dropped.add(self.key(buffer.popleft()[2][1]))
        if not buffer:
            del state.windows[self.store_key]
            return dropped
        return dropped - {self.key(entry[2][1]) for entry in buffer}

    def latest(self, state: CustomerState, key: Key) -> tuple[int, int, list[Any]] | None:
        """The customer's latest kept interaction with ``key`` (``None``: none kept)."""
        for entry in reversed(state.windows.get(self.store_key, ())):
            if self.key(entry[2][1]) == key:
                return entry  # type: ignore[no-any-return]
        return None


class CatalogueRunner:
    """The catalogue rules of a :class:`~cxmodel.triggers._runner.RuleRunner`: their join
    buffers and index, and the catalogue events waiting for their time."""

    def __init__(self) -> None:
        self.rules: dict[str, list[tuple[RulePlan, JoinPlan]]] = {}  # by catalogue kind
        self.joins: dict[str, list[JoinPlan]] = {}  # by the customers' kind they keep
        self.index: dict[str, dict[Key, set[str]]] = {}  # store key -> key -> customers
        self.pending: dict[int, Row] = {}  # release number -> event waiting for its time
        self.last_time: int | None = None  # the latest event's time
        self.ties = 0  # events at last_time so far (the next one's rank)
        self.seen: dict[str, int] = {}  # event id -> time, while it may be re-delivered

    @property
    def kinds(self) -> frozenset[str]:
        """The catalogue kinds the rules read."""
        return frozenset(self.rules)

    def plan(self, plans: Mapping[str, RulePlan], states: Mapping[str, CustomerState]) -> None:
        """Read the catalogue rules among ``plans``; index the customers' kept interactions of
        clauses that are new."""
        known = {j.store_key for joins in self.joins.values() for j in joins}
        self.rules, self.joins = {}, {}
        shared: dict[str, JoinPlan] = {}
        for plan in plans.values():
            rule = plan.rule
            if rule.when.reach is None or rule.when.kind is None:
                continue
            join = JoinPlan(rule)
            join = shared.setdefault(join.store_key, join)
            self.rules.setdefault(rule.when.kind, []).append((plan, join))
        for join in shared.values():
            self.joins.setdefault(join.kind, []).append(join)
        # a clause no active rule has any longer is not indexed (its buffers are dropped)
        self.index = {key: found for key, found in self.index.items() if key in shared}
        fresh = [j for j in shared.values() if j.store_key not in known]
        if fresh:
            for state in states.values():
                self.register(state, fresh)

    def register(self, state: CustomerState, joins: Iterable[JoinPlan] | None = None) -> None:
        """Index a customer's kept interactions (of ``joins``, or every clause)."""
        if joins is None:
            joins = [j for js in self.joins.values() for j in js]
        for join in joins:
            for entry in state.windows.get(join.store_key, ()):
                found = self.index.setdefault(join.store_key, {})
                found.setdefault(join.key(entry[2][1]), set()).add(state.customer)

    def unregister(self, state: CustomerState) -> None:
        """Take a customer out of the index (erased: see ``TriggerEngine.forget``)."""
        for joins in self.joins.values():
            for join in joins:
                found = self.index.get(join.store_key)
                if not found:
                    continue
                for entry in state.windows.get(join.store_key, ()):
                    _unindex(found, join.key(entry[2][1]), state.customer)

    def take(self, state: CustomerState, row: Row) -> None:
        """A customer's interaction: trim the buffers of its kind, keep it where it joins."""
        for join in self.joins.get(row.kind, ()):
            self.trim(state, join, row.time)
            key = join.take(state, row)
            if key is not None:
                self.index.setdefault(join.store_key, {}).setdefault(key, set()).add(state.customer)

    def trim(self, state: CustomerState, join: JoinPlan, now: int) -> None:
        """Trim a customer's buffer of ``join`` for an event at ``now`` or later, and take
        the customer out of the index under the keys it no longer keeps."""
        gone = join.trim(state, now)
        if not gone:
            return
        index = self.index.setdefault(join.store_key, {})
        for key in gone:
            _unindex(index, key, state.customer)

    def release(self, row: Row, timers: list[tuple[int, int, int, str, str]], phase: int) -> None:
        """A catalogue event in time order: rank it among the events at its time and wait
        for its time (a timer at ``row.time``)."""
        if self.last_time == row.time:
            row.rank = self.ties
            self.ties += 1
        else:
            row.rank, self.ties, self.last_time = 0, 1, row.time
        ident = row.interaction_id
        if ident is not None:
            # forgotten by forget_ids once it can only be late; kept in time order (an id
            # taken again further apart than the redelivery window moves to the end)
            self.seen.pop(ident, None)
            self.seen[ident] = row.time
        self.pending[row.seq] = row
        heapq.heappush(timers, (row.time, phase, row.seq, CATALOGUE, ""))

    def forget_ids(self, before: int) -> None:
        """Forget the event ids of times before ``before`` (they can no longer be
        re-delivered without being late). The ids are in release order, so time order: the
        first says whether any is to go."""
        seen = self.seen
        if seen and next(iter(seen.values())) < before:
            self.seen = {k: t for k, t in seen.items() if t >= before}

    def fire(self, runner: RuleRunner, seq: int) -> None:
        """Decide the event released as ``seq`` (its time has come): every customer each
        catalogue rule of its kind reaches."""
        row = self.pending.pop(seq, None)
        if row is None:  # decided already (a timer restored twice)
            return
        nobody = CustomerState(CATALOGUE)
        for plan, join in self.rules.get(row.kind, ()):
            tested = plan.anchor_test(nobody, row, {}, _NOBODY)
            if tested is None:  # its 'when ... where' does not hold
                continue
            key = tuple(_value(row, theirs) for _, theirs in join.join.keys)
            if any(part is None for part in key):
                continue
            customers = self.index.get(join.store_key, {}).get(key)
            if not customers:
                continue
            anchor = Anchor(row, None, {}, tested)
            for cid in sorted(customers):
                self._reach(runner, plan, join, anchor, key, cid, customers)

    def _reach(
        self,
        runner: RuleRunner,
        plan: RulePlan,
        join: JoinPlan,
        anchor: Anchor,
        key: Key,
        cid: str,
        customers: set[str],
    ) -> None:
        """One customer the event may reach: the firing if their latest matching interaction
        lies in the window and the rule's ``if`` holds."""
        state = runner.states.get(cid)
        entry = None if state is None else join.latest(state, key)
        if state is None or entry is None:  # the index is a superset: tidy it
            customers.discard(cid)
            return
        event = anchor.row
        reader = runner.reader(cid)
        zone = reader.zone if plan.customer_time else None
        time, seq, (ident, values) = entry
        if time < shift(event.time, join.join.within, zone, -1):
            return
        fields: dict[str, Any] = {"kind": join.kind}
        if ident is not None:
            fields["interaction_id"] = ident
        seen = Row(cid, time, join.kind, fields, seq)
        found = plan.candidate(state, event.time, anchor, seen, values, reader, part="with")
        if found is not None:
            runner.touch(cid)
            runner.found(plan, state, found, reader)

    def to_dict(self) -> dict[str, Any]:
        """The engine-wide part, JSON-ready (see :meth:`restore`)."""
        return {
            "pending": [row.to_list() for row in self.pending.values()],
            "last_time": self.last_time,
            "ties": self.ties,
            "seen": dict(self.seen),
        }

    def restore(
        self,
        data: Mapping[str, Any] | None,
        timers: list[tuple[int, int, int, str, str]],
        phase: int,
    ) -> None:
        """Put back what :meth:`to_dict` wrote (checked as it is read: see :class:`Stored`;
        ``None``: nothing); the waiting events go on ``timers``."""
        stored = Stored(data if data is not None else {}, "meta.catalogue")
        self.pending = {}
        for item in stored["pending"].entries():
            row = Row.read(item)
            row.customer = CATALOGUE
            self.pending[row.seq] = row
            heapq.heappush(timers, (row.time, phase, row.seq, CATALOGUE, ""))
        self.last_time = stored["last_time"].optional_time()
        self.ties = stored["ties"].count(default=0)
        self.seen = {k: v.time() for k, v in stored["seen"].items()}


def _unindex(index: dict[Any, set[str]], key: Any, customer: str) -> None:
    """Take ``customer`` out of a join's ``index`` under ``key`` (the key gone with its last
    customer)."""
    customers = index.get(key)
    if customers is not None:
        customers.discard(customer)
        if not customers:
            del index[key]
