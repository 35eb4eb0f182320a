"""Alerts in the streaming engine: bounded window buffers over everyone's interactions, the
condition evaluated in event time, once per episode.

An :class:`AlertMonitor` holds, per alert, a buffer of (time, release number, value) for each
aggregate the alert reads, trimmed to its window; the time of the latest counted kind's
interaction not yet evaluated (``pending``: more interactions at that time may come);
whether the condition held at the last time evaluated (``active``); and the last emitted
firing's time (for ``cooldown`` and ``once``). It evaluates the condition at the times batch
does (``_alert_batch.py``): each arrival of a counted kind's interaction and each time a
counted value leaves a window, once every interaction up to that time is in. Its state is
JSON (:meth:`AlertMonitor.to_dict`), kept in the engine's meta so a store persists it with
every call.
"""

from __future__ import annotations

import copy
import hashlib
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from cxmodel._time import us_to_datetime
from cxmodel.triggers._alerts import (
    ALERT_CUSTOMER_ID,
    Alert,
    alert_reason,
    episode_key,
    read_aggregates,
    shown_aggregates,
    watched_kinds,
)
from cxmodel.triggers._firings import Firing, firing_id
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._operators import AggregatePlan
from cxmodel.triggers._scalar import Env, Scalar, compile_expr, is_missing

__all__ = ["AlertMonitor", "AlertPlan", "AlertState", "alert_hash"]

Decided = tuple[list[Firing], list[Firing]]


def alert_hash(alert: Alert) -> str:
    """The alert's fingerprint: a changed alert starts with a fresh state."""
    return hashlib.sha1(str(alert).encode(), usedforsecurity=False).hexdigest()[:16]


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and value != value else value


class AlertPlan:
    """One alert compiled for the streaming engine: its segment, condition and payload as
    closures, and an :class:`~cxmodel.triggers._operators.AggregatePlan` per aggregate (by
    its text) with its window length."""

    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.name = alert.name
        self.hash = alert_hash(alert)
        self.segment: Scalar | None = (
            None if alert.segment is None else compile_expr(alert.segment, None)
        )
        self.condition = compile_expr(alert.when, None)
        self.payload = [(key, compile_expr(expr, None)) for key, expr in alert.emit.payload]
        self.aggregates = {str(node): AggregatePlan(node, None) for node in read_aggregates(alert)}
        self.length = {
            key: plan.within.to_us() if plan.within is not None else 0
            for key, plan in self.aggregates.items()
        }
        self.shown = [str(node) for node in shown_aggregates(alert)]
        self.watched = watched_kinds(alert)
        self.kinds = {plan.kind for plan in self.aggregates.values()}

    def member(self, row: Row, traits: Mapping[str, Any]) -> bool:
        """Whether ``row``'s customer is in the segment (traits as they are now)."""
        if self.segment is None:
            return True
        value = self.segment(Env({}, row.time, row.customer, traits))
        return not is_missing(value) and bool(value)

    def take(self, state: AlertState, row: Row, traits: Mapping[str, Any]) -> None:
        """Put ``row`` into the windows of the aggregates that count it."""
        for key, plan in self.aggregates.items():
            if plan.kind != row.kind or not plan.matches(row, row.customer, traits):
                continue
            value: Any = True
            if plan.field == "customer_id":
                value = row.customer
            elif plan.field == "timestamp":
                value = float(row.time)
            elif plan.field is not None:
                value = row.fields.get(plan.field)
            if is_missing(value):
                continue
            buffer = state.windows.get(key)
            if buffer is None:
                buffer = state.windows[key] = deque()
            buffer.append((row.time, row.seq, value))
            if key not in self.shown:  # read by the payload only: no time to evaluate at
                while buffer[0][0] < row.time - self.length[key]:
                    buffer.popleft()
        if row.kind in self.watched:
            state.pending = row.time

    def next_time(self, state: AlertState) -> int | None:
        """The next time the condition may change: the pending arrival, or the first time a
        counted value leaves its window."""
        due = state.pending
        for key in self.shown:
            buffer = state.windows.get(key)
            if buffer:
                leaves = buffer[0][0] + self.length[key] + 1
                if due is None or leaves < due:
                    due = leaves
        return due

    def value(self, state: AlertState, key: str) -> Any:
        """Aggregate ``key`` over its (trimmed) window."""
        plan = self.aggregates[key]
        buffer = state.windows.get(key, ())
        if plan.func == "count":
            return float(len(buffer))
        return plan.function.of([value for _, _, value in buffer])

    def evaluate(self, state: AlertState, time: int) -> Firing | None:
        """Evaluate the condition at ``time``: the episode's firing (before its policy
        decided it: ``reason`` unset) if one starts, else ``None``."""
        for key, buffer in state.windows.items():
            start = time - self.length[key]
            while buffer and buffer[0][0] < start:
                buffer.popleft()
        if state.pending is not None and state.pending <= time:
            state.pending = None

        def aggregate(key: str) -> Any:
            return self.value(state, key)

        env = Env({}, time, ALERT_CUSTOMER_ID, {}, None, aggregate)
        held = self.condition(env)
        truth = not is_missing(held) and bool(held)
        rises = truth and not state.active
        state.active = truth
        if not rises:
            return None
        stamp = us_to_datetime(time)
        values = {key: _plain(self.value(state, key)) for key in self.shown}
        return Firing(
            trigger=self.name,
            customer_id=ALERT_CUSTOMER_ID,
            time=stamp,
            action=self.alert.emit.action,
            payload={key: _plain(expr(env)) for key, expr in self.payload},
            because={"when": {"kind": None, "time": stamp.isoformat(), "values": values}},
            firing_id=firing_id(self.name, ALERT_CUSTOMER_ID, episode_key(time)),
        )


class AlertState:
    """One alert's streaming state (see the module docstring)."""

    __slots__ = ("active", "last_emitted", "pending", "windows")

    def __init__(self) -> None:
        self.windows: dict[str, deque[tuple[int, int, Any]]] = {}
        self.pending: int | None = None
        self.active = False
        self.last_emitted: int | None = None

    def to_dict(self, fingerprint: str) -> dict[str, Any]:
        """The JSON form, with the alert's fingerprint."""
        return {
            "hash": fingerprint,
            "windows": {k: [list(e) for e in v] for k, v in self.windows.items() if v},
            "pending": self.pending,
            "active": self.active,
            "last_emitted": self.last_emitted,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> AlertState:
        """The state :meth:`to_dict` wrote."""
        out = AlertState()
        out.windows = {
            str(k): deque((int(t), int(s), value) for t, s, value in v)
            for k, v in data.get("windows", {}).items()
        }
        pending, last = data.get("pending"), data.get("last_emitted")
        out.pending = None if pending is None else int(pending)
        out.active = bool(data.get("active", False))
        out.last_emitted = None if last is None else int(last)
        return out


class AlertMonitor:
    """Every alert of an engine: take released interactions, evaluate due times, decide."""

    def __init__(self, alerts: Sequence[Alert]) -> None:
        self.plans: dict[str, AlertPlan] = {}
        self.states: dict[str, AlertState] = {}
        for alert in alerts:
            self.add(alert)

    def add(self, alert: Alert) -> None:
        """Start watching ``alert`` (from now on: its windows start empty)."""
        self.plans[alert.name] = AlertPlan(alert)
        self.states[alert.name] = AlertState()
        self._index()

    def remove(self, name: str) -> None:
        """Stop watching alert ``name`` and drop its state."""
        del self.plans[name]
        del self.states[name]
        self._index()

    def _index(self) -> None:
        self._by_kind: dict[str, list[AlertPlan]] = {}
        for plan in self.plans.values():
            for kind in plan.kinds:
                self._by_kind.setdefault(kind, []).append(plan)

    def __bool__(self) -> bool:
        return bool(self.plans)

    def take(self, row: Row, traits: Mapping[str, Any]) -> Decided:
        """Take a released interaction into the alerts that read its kind (once each has
        evaluated every time before it); return the firings decided meanwhile."""
        emitted: list[Firing] = []
        suppressed: list[Firing] = []
        for plan in self._by_kind.get(row.kind, ()):
            if not plan.member(row, traits):
                continue
            state = self.states[plan.name]
            self._until(plan, state, row.time, False, emitted, suppressed)
            plan.take(state, row, traits)
        return emitted, suppressed

    def advance(self, limit: int, *, inclusive: bool) -> Decided:
        """Evaluate every alert at its times before ``limit`` (at or before, when
        ``inclusive``): every interaction up to them is in."""
        emitted: list[Firing] = []
        suppressed: list[Firing] = []
        for name, plan in self.plans.items():
            self._until(plan, self.states[name], limit, inclusive, emitted, suppressed)
        return emitted, suppressed

    def _until(
        self,
        plan: AlertPlan,
        state: AlertState,
        limit: int,
        inclusive: bool,
        emitted: list[Firing],
        suppressed: list[Firing],
    ) -> None:
        while True:
            due = plan.next_time(state)
            if due is None or due > limit or (due == limit and not inclusive):
                return
            found = plan.evaluate(state, due)
            if found is None:
                continue
            reason = alert_reason(plan.alert, state.last_emitted, due)
            if reason is None:
                state.last_emitted = due
                emitted.append(found)
            else:
                suppressed.append(attrs.evolve(found, reason=reason))

    def forget(self, customer_id: str) -> None:
        """Drop ``customer_id`` from the windows that hold customer ids (aggregates of the
        ``customer_id`` property); other windows hold no customer."""
        for name, plan in self.plans.items():
            state = self.states[name]
            for key, aggregate in plan.aggregates.items():
                buffer = state.windows.get(key)
                if aggregate.field == "customer_id" and buffer:
                    state.windows[key] = deque(e for e in buffer if e[2] != customer_id)

    def entries(self) -> int:
        """The values held in every alert's windows."""
        return sum(len(b) for s in self.states.values() for b in s.windows.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the engine keeps in its meta."""
        return {name: self.states[name].to_dict(plan.hash) for name, plan in self.plans.items()}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Load :meth:`to_dict` output; an alert whose text changed starts afresh."""
        for name, stored in data.items():
            plan = self.plans.get(name)
            if plan is not None and stored.get("hash") == plan.hash:
                self.states[name] = AlertState.from_dict(stored)

    def snapshot(self) -> dict[str, AlertState]:
        """A copy of the states, to roll back to."""
        return copy.deepcopy(self.states)

    def rollback(self, states: dict[str, AlertState]) -> None:
        """Put back the states of :meth:`snapshot`."""
        self.states = states
