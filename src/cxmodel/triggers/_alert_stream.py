"""Alerts in the streaming engine: bounded window buffers over everyone's interactions, the
condition evaluated in event time, once per episode.

An :class:`AlertMonitor` holds, per alert, a :class:`Window` of (time, number, value) for each
aggregate the alert reads, trimmed to its window; the time of the latest counted kind's
interaction not yet evaluated (``pending``: more interactions at that time may come);
whether the condition held at the last time evaluated (``active``); and the last emitted
firing's time (for ``cooldown`` and ``once``). It evaluates the condition at the times batch
does (``_alert_batch.py``): each arrival of a counted kind's interaction and each time a
counted value leaves a window, once every interaction up to that time is in.

What an engine call costs here follows what the call changed, not what the windows hold. A
window's values are numbered per alert in arrival order and leave it oldest first, so the
store takes the values numbered since the last commit and deletes those numbered up to the
last one trimmed (:meth:`AlertMonitor.changes`); the small rest of an alert's state is JSON in
the engine's meta (:meth:`AlertMonitor.to_dict`). A failed commit is undone from what the call
did to each window (:meth:`AlertMonitor.begin`, :meth:`AlertMonitor.rollback`): the values it
trimmed go back at the left, those it added come off the right.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
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
from cxmodel.triggers._context import unordered
from cxmodel.triggers._firings import Firing, firing_id
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._operators import AggregatePlan, unorderable
from cxmodel.triggers._scalar import Env, Scalar, compile_expr, is_missing
from cxmodel.triggers._store import AlertValue, AlertWindowChange
from cxmodel.triggers._stored import Stored

__all__ = ["AlertMonitor", "AlertPlan", "AlertState", "Window", "alert_hash"]

Decided = tuple[list[Firing], list[Firing]]
Entry = tuple[int, int, Any]  # (time, number, value)


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

    def new_state(self) -> AlertState:
        """A fresh state: every window empty, the condition not held, nothing emitted."""
        return AlertState(
            {key: Window(plan.field == "customer_id") for key, plan in self.aggregates.items()}
        )

    def member(self, row: Row, traits: Mapping[str, Any]) -> bool:
        """Whether ``row``'s customer is in the segment (traits as they are now)."""
        if self.segment is None:
            return True
        value = self.segment(Env({}, row.time, row.customer, traits))
        return not is_missing(value) and bool(value)

    @staticmethod
    def _counted(plan: AggregatePlan, row: Row, traits: Mapping[str, Any]) -> Any:
        """The value ``row`` brings into aggregate ``plan``'s window (``None``: none)."""
        if plan.kind != row.kind or not plan.matches(row, row.customer, traits):
            return None
        value: Any = True
        if plan.field == "customer_id":
            value = row.customer
        elif plan.field == "timestamp":
            value = float(row.time)
        elif plan.field is not None:
            value = row.fields.get(plan.field)
        return None if is_missing(value) else value

    def refuse_held(
        self, state: AlertState, held: list[Row], traits: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Refuse what :meth:`take` would refuse of the interactions ``held`` back for
        lateness (in release order) when they are released: text beside numbers in a
        window that orders its values, against the window and each other."""
        for key, plan in self.aggregates.items():
            if not plan.function.orders:
                continue
            entries = state.windows[key].entries
            last = (entries[-1][0], entries[-1][2]) if entries else None
            for row in held:
                if not self.member(row, traits.get(row.customer, {})):
                    continue
                value = self._counted(plan, row, traits.get(row.customer, {}))
                if value is None:
                    continue
                if (
                    last is not None
                    and last[0] >= row.time - self.length[key]
                    and unorderable(last[1], value)
                ):
                    raise unordered(plan.node, [last[1], value])
                last = (row.time, value)

    def take(self, state: AlertState, row: Row, traits: Mapping[str, Any]) -> None:
        """Put ``row`` into the windows of the aggregates that count it."""
        for key, plan in self.aggregates.items():
            value = self._counted(plan, row, traits)
            if value is None:
                continue
            window = state.windows[key]
            if plan.function.orders and window.entries:
                # text beside numbers cannot be ordered: refused in the call that brings it
                # (which is put back), not in a later one that evaluates the alert; a value
                # gone from the window by this row's time is never ordered against it
                last_time, _, last = window.entries[-1]
                if last_time >= row.time - self.length[key] and unorderable(last, value):
                    raise unordered(plan.node, [last, value])
            window.add((row.time, state.numbered, value))
            state.numbered += 1
            if key not in self.shown:  # read by the payload only: no time to evaluate at
                window.trim(row.time - self.length[key])
        if row.kind in self.watched:
            state.pending = row.time

    def next_time(self, state: AlertState) -> int | None:
        """The next time the condition may change: the pending arrival, or the first time a
        counted value leaves its window."""
        due = state.pending
        for key in self.shown:
            entries = state.windows[key].entries
            if entries:
                leaves = entries[0][0] + self.length[key] + 1
                if due is None or leaves < due:
                    due = leaves
        return due

    def value(self, state: AlertState, key: str) -> Any:
        """Aggregate ``key`` over its (trimmed) window."""
        plan = self.aggregates[key]
        entries = state.windows[key].entries
        if plan.func == "count":
            return float(len(entries))
        return plan.of([value for _, _, value in entries])  # text beside numbers: an error

    def evaluate(self, state: AlertState, time: int) -> Firing | None:
        """Evaluate the condition at ``time``: the episode's firing (before its policy
        decided it: ``reason`` unset) if one starts, else ``None``."""
        for key, window in state.windows.items():
            window.trim(time - self.length[key])
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


class Window:
    """One aggregate's values in its trailing window, oldest first: (time, number, value),
    numbers increasing. Besides the values it keeps what the current engine call did to it
    (values added, values trimmed), to undo the call if its commit fails, and the number of
    the last value trimmed, now and as last committed, to tell the store what left."""

    __slots__ = (
        "added",
        "begun_trim",
        "customers",
        "dropped",
        "entries",
        "stored_trim",
        "trimmed_through",
    )

    def __init__(self, customers: bool) -> None:
        self.entries: deque[Entry] = deque()
        self.customers = customers  # the values are customer ids, which forget erases
        self.added = 0  # values added since begin()
        self.dropped: list[Entry] = []  # values trimmed since begin(), oldest first
        self.trimmed_through = -1  # the number of the last value trimmed
        self.begun_trim = -1  # trimmed_through at begin()
        self.stored_trim = -1  # trimmed_through at the last commit

    def add(self, entry: Entry) -> None:
        """Append a value (its number is the highest yet)."""
        self.entries.append(entry)
        self.added += 1

    def trim(self, start: int) -> None:
        """Drop the values before ``start``."""
        entries = self.entries
        if not entries or entries[0][0] >= start:
            return
        dropped = self.dropped
        while entries and entries[0][0] < start:
            dropped.append(entries.popleft())
        self.trimmed_through = dropped[-1][1]

    def begin(self) -> None:
        """Start recording an engine call's changes."""
        self.added = 0
        if self.dropped:
            self.dropped = []
        self.begun_trim = self.trimmed_through

    def undo(self) -> None:
        """Put back the values as they were at :meth:`begin`: the values trimmed since go
        back at the left (the trims took the oldest of the values then and of those added
        since), then the values added since come off the right."""
        entries = self.entries
        entries.extendleft(reversed(self.dropped))
        for _ in range(self.added):
            entries.pop()
        self.trimmed_through = self.begun_trim
        self.begin()


class AlertState:
    """One alert's streaming state (see the module docstring): its windows by aggregate text
    and the values numbered so far, of which those numbered below ``stored`` that are still
    in a window are in the store."""

    __slots__ = ("active", "last_emitted", "numbered", "pending", "stored", "windows")

    def __init__(self, windows: dict[str, Window]) -> None:
        self.windows = windows
        self.pending: int | None = None
        self.active = False
        self.last_emitted: int | None = None
        self.numbered = 0
        self.stored = 0

    def to_dict(self, fingerprint: str) -> dict[str, Any]:
        """The JSON form of everything but the windows' values, with the alert's
        fingerprint."""
        return {
            "hash": fingerprint,
            "pending": self.pending,
            "active": self.active,
            "last_emitted": self.last_emitted,
            "numbered": self.numbered,
        }

    def load(self, data: Stored) -> None:
        """Take the state :meth:`to_dict` wrote (the values are loaded apart), checked as it
        is read (see :class:`Stored`)."""
        self.pending = data["pending"].optional_time()
        self.active = bool(data["active"].optional_flag())  # missing: not active
        self.last_emitted = data["last_emitted"].optional_time()
        self.numbered = self.stored = data["numbered"].count()


_UNCHANGED = AlertWindowChange()

#: what :meth:`AlertMonitor.begin` saves of an alert: pending, active, last emitted, numbered
_Saved = tuple[AlertState, int | None, bool, int | None, int]


class AlertMonitor:
    """Every alert of an engine: take released interactions, evaluate due times, decide;
    hand the store what changed and undo a call whose commit failed."""

    def __init__(self, alerts: Sequence[Alert]) -> None:
        self.plans: dict[str, AlertPlan] = {}
        self.states: dict[str, AlertState] = {}
        self._replaced: set[str] = set()  # alerts whose stored values are rewritten whole
        for alert in alerts:
            self.add(alert)

    def add(self, alert: Alert) -> None:
        """Start watching ``alert`` (from now on: its windows start empty)."""
        plan = AlertPlan(alert)
        self.plans[alert.name] = plan
        self.states[alert.name] = plan.new_state()
        self._replaced.add(alert.name)
        self._index()

    def remove(self, name: str) -> None:
        """Stop watching alert ``name`` and drop its state."""
        del self.plans[name]
        del self.states[name]
        self._replaced.add(name)
        self._index()

    def watched(self) -> tuple[dict[str, AlertPlan], dict[str, AlertState]]:
        """The alerts watched and their states, for :meth:`watch` to put back."""
        return dict(self.plans), dict(self.states)

    def watch(self, watched: tuple[dict[str, AlertPlan], dict[str, AlertState]]) -> None:
        """Watch the alerts :meth:`watched` returned, in those states (a change of alerts
        undone); the store rewrites them whole at the next commit."""
        plans, states = watched
        self._replaced.update(self.plans, plans)
        self.plans, self.states = dict(plans), dict(states)
        self._index()

    def _index(self) -> None:
        self._by_kind: dict[str, list[AlertPlan]] = {}
        for plan in self.plans.values():
            for kind in plan.kinds:
                self._by_kind.setdefault(kind, []).append(plan)

    def __bool__(self) -> bool:
        return bool(self.plans)

    def refuse_held(self, held: list[Row], traits: Mapping[str, Mapping[str, Any]]) -> None:
        """:meth:`AlertPlan.refuse_held` for every alert."""
        for name, plan in self.plans.items():
            plan.refuse_held(self.states[name], held, traits)

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
        ``customer_id`` property); other windows hold no customer. The store erases the
        values naming them itself (:meth:`~cxmodel.triggers.StateStore.forget`)."""
        for state in self.states.values():
            for window in state.windows.values():
                if window.customers and window.entries:
                    window.entries = deque(e for e in window.entries if e[2] != customer_id)

    def entries(self) -> int:
        """The values held in every alert's windows."""
        return sum(len(w.entries) for s in self.states.values() for w in s.windows.values())

    # -- the store ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the alerts' states without their windows' values, which the
        engine keeps in its meta (a few fields per alert)."""
        return {name: self.states[name].to_dict(plan.hash) for name, plan in self.plans.items()}

    def restore(self, data: Mapping[str, Any], values: Sequence[AlertValue]) -> None:
        """Load :meth:`to_dict` output and the stored values (by alert, aggregate and
        number); an alert whose text changed starts afresh, and the values of an alert no
        longer watched or changed are deleted at the next commit."""
        restored: set[str] = set()
        for name, stored in Stored(data, "meta.alerts").items():
            plan = self.plans.get(name)
            if plan is not None and stored["hash"].value == plan.hash:
                state = plan.new_state()
                state.load(stored)
                self.states[name] = state
                restored.add(name)
        self._replaced -= restored
        for value in values:
            known = value.alert in restored
            window = self.states[value.alert].windows.get(value.aggregate) if known else None
            if window is None:
                self._replaced.add(value.alert)
                continue
            window.entries.append((value.time, value.number, value.value))

    def changes(self) -> AlertWindowChange:
        """What the store must do to hold the windows as they are now: the values added and
        trimmed since the last commit (an alert added, removed or changed since: all of its
        values, after clearing it)."""
        replaced = self._replaced
        if not self.states and not replaced:  # no alert: nothing to hand over
            return _UNCHANGED
        trimmed: list[tuple[str, str, int]] = []
        added: list[AlertValue] = []
        for name, state in self.states.items():
            whole = name in replaced
            since = 0 if whole else state.stored  # the values numbered from it are new
            fresh = whole or state.numbered != since
            for key, window in state.windows.items():
                if not whole and window.trimmed_through > window.stored_trim:
                    trimmed.append((name, key, window.trimmed_through))
                entries = window.entries
                if not fresh or not entries or entries[-1][1] < since:
                    continue
                if whole:
                    new: Iterable[Entry] = entries
                else:
                    new = []
                    for entry in reversed(entries):
                        if entry[1] < since:
                            break
                        new.append(entry)
                    new.reverse()
                ids = window.customers
                for time, number, value in new:
                    added.append(AlertValue(name, key, number, time, value, value if ids else None))
        if not (replaced or trimmed or added):
            return _UNCHANGED
        return AlertWindowChange(tuple(sorted(replaced)), tuple(trimmed), tuple(added))

    def committed(self) -> None:
        """The store took :meth:`changes`: it holds the windows as they are now."""
        if not self.states and not self._replaced:
            return
        self._replaced.clear()
        for state in self.states.values():
            state.stored = state.numbered
            for window in state.windows.values():
                window.stored_trim = window.trimmed_through
                window.begin()  # drop what was kept only to undo the call

    def begin(self) -> list[_Saved]:
        """Start an engine call whose commit may fail: what :meth:`rollback` needs besides
        what the windows record of the call."""
        saved: list[_Saved] = []
        for state in self.states.values():
            for window in state.windows.values():
                window.begin()
            saved.append((state, state.pending, state.active, state.last_emitted, state.numbered))
        return saved

    def rollback(self, saved: list[_Saved]) -> None:
        """Undo the call :meth:`begin` started."""
        for state, pending, active, last_emitted, numbered in saved:
            state.pending, state.active = pending, active
            state.last_emitted, state.numbered = last_emitted, numbered
            for window in state.windows.values():
                window.undo()
