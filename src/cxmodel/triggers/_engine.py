"""The streaming engine: one interaction at a time, event time, same firings as batch."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np

from cxmodel._time import TimeLike, duration_to_us, to_us, us_to_datetime
from cxmodel.triggers._batch import evaluate_us
from cxmodel.triggers._context import add
from cxmodel.triggers._fast import anchor_key, evaluate_one, fast_kind, policy_reason, ref
from cxmodel.triggers._firings import Firing, firing_id
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._store import InMemoryStore, StateStore

__all__ = ["TriggerEngine"]

_FAR = 253_402_300_799_000_000  # 9999-12-31T23:59:59Z in microseconds
_FIELDS = (
    "interaction_id",
    "touchpoint",
    "channel",
    "stage",
    "value",
    "metric",
    "score",
    "sentiment",
)


def _record(interaction: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "customer_id": interaction.customer_id,
        "timestamp": interaction.timestamp.isoformat(),
        "kind": interaction.kind,
    }
    for name in _FIELDS:
        value = getattr(interaction, name, None)
        if value is not None:
            rec[name] = value
    for key, value in dict(getattr(interaction, "properties", {}) or {}).items():
        if value is not None:
            rec[key] = value
    return rec


def _immediate(rule: Rule) -> bool:
    return rule.when.mode == "event" and rule.then is None and rule.quiet is None


class TriggerEngine:
    """Evaluate rules over a live stream of interactions, in event time.

    Interactions within ``allowed_lateness`` of the latest time seen are buffered and processed
    in time order; older ones go to :attr:`late` and are not processed. Timers fire when an
    interaction later than their time arrives, or on :meth:`advance_to`. For the same
    interactions (delivered in time order), ``advance_to(T)`` leaves exactly the firings that
    batch :func:`~cxmodel.triggers.evaluate` returns with ``as_of=T``.

    State is committed to ``store`` once per interaction (events, seen ids and the firings it
    caused, atomically); an interaction whose ``interaction_id`` was already processed is ignored.
    Restarting from a :class:`SQLiteStore` resumes where the last commit left off.

    Examples
    --------
    >>> from cxmodel.domain import Interaction
    >>> from cxmodel.triggers import parse
    >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
    >>> [f.action for f in engine.process(Interaction("a", "2024-01-01T00:00:00Z", "purchase", value=500.0))]
    ['thanks']
    """

    def __init__(
        self,
        rules: RuleSet | Rule,
        *,
        store: StateStore | None = None,
        allowed_lateness: str | timedelta | int = 0,
        customers: Mapping[str, Any] | None = None,
    ) -> None:
        self.rules = RuleSet((rules,)) if isinstance(rules, Rule) else rules
        self.store = store if store is not None else InMemoryStore()
        self.lateness = duration_to_us(allowed_lateness) if allowed_lateness else 0
        self.customers = dict(customers or {})
        self.late: list[Any] = []
        events, self._seen, meta, self._emitted = self.store.load()
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._logs: dict[str, Any] = {}  # per-customer InteractionLog, rebuilt when it changes
        for event in events:
            self._history.setdefault(event["customer_id"], []).append(event)
        self._buffer: list[dict[str, Any]] = list(meta.get("buffer", []))
        self._max_seen: int | None = meta.get("max_seen")
        self._watermark: int | None = meta.get("watermark")
        self._due: dict[str, int] = dict(meta.get("due", {}))
        self._arrivals: int = int(meta.get("arrivals", 0))
        # incremental fast paths (see cxmodel.triggers._fast); only for a fresh store, since
        # their state is not checkpointed: a restarted engine runs every rule on the exact path
        fresh = not events and not meta
        self._fast: dict[str, str] = {}
        if fresh:
            for rule in self.rules:
                kind = fast_kind(rule)
                if kind is not None:
                    self._fast[rule.name] = kind
        else:
            for cid in self._history:
                self._due[cid] = 0
        self._slow = RuleSet(tuple(r for r in self.rules if r.name not in self._fast))
        self._by_name = {r.name: r for r in self.rules}
        self._last_emit: dict[tuple[str, str], int] = {}
        self._consent: dict[tuple[str, str], bool] = {}
        self._cust_last: dict[str, tuple[int, int]] = {}
        self._timers: dict[tuple[str, str], tuple[int, dict[str, Any], str]] = {}
        self._heap: list[tuple[int, str, str]] = []
        self._fast_out: list[Firing] = []
        # suppressed event-rule firings at the customer's current time, re-checked in anchor
        # order when a consent grant at that same time arrives (as the exact path does)
        self._retry: dict[str, list[tuple[str, int, dict[str, Any], str]]] = {}

    # -- rules at runtime --------------------------------------------------------------------
    def add_rule(self, rule: Rule) -> None:
        """Start evaluating ``rule`` (over the history already seen, from now on)."""
        if rule.name in self.rules.names:
            raise ValueError(f"a rule named {rule.name!r} is already active; remove it first")
        self.rules = RuleSet((*self.rules.rules, rule))
        self._slow = RuleSet((*self._slow.rules, rule))
        self._by_name[rule.name] = rule
        self._due = dict.fromkeys(self._history, self._watermark or 0)

    def remove_rule(self, name: str) -> None:
        """Stop evaluating the rule called ``name``."""
        self.rules[name]  # raises KeyError with the known names
        self.rules = RuleSet(tuple(r for r in self.rules if r.name != name))
        self._slow = RuleSet(tuple(r for r in self._slow if r.name != name))
        self._fast.pop(name, None)
        self._by_name.pop(name, None)

    # -- processing ------------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {
            "buffer": self._buffer,
            "max_seen": self._max_seen,
            "watermark": self._watermark,
            "due": self._due,
            "arrivals": self._arrivals,
        }

    def process(self, interaction: Any) -> list[Firing]:
        """Process one interaction; return the firings that became final."""
        ident = getattr(interaction, "interaction_id", None)
        if ident is not None and ident in self._seen:
            return []
        t = to_us(interaction.timestamp)
        if self._watermark is not None and t < self._watermark:
            self.late.append(interaction)
            return []
        if ident is not None:
            self._seen.add(ident)
        rec = _record(interaction)
        rec["_t"] = t
        rec["_a"] = self._arrivals
        self._arrivals += 1
        self._buffer.append(rec)
        self._max_seen = t if self._max_seen is None else max(self._max_seen, t)
        released = self._release(self._max_seen - self.lateness)
        firings = self._fire(self._max_seen - self.lateness, final=False)
        self.store.commit(released, [ident] if ident is not None else [], self._meta(), firings)
        return firings

    def advance_to(self, time: TimeLike) -> list[Firing]:
        """Declare that every interaction up to ``time`` has been delivered; fire due timers."""
        t = to_us(time)
        released = self._release(t)
        firings = self._fire(t, final=True)
        self.store.commit(released, [], self._meta(), firings)
        return firings

    def _release(self, upto: int) -> list[dict[str, Any]]:
        ready = sorted(
            (r for r in self._buffer if r["_t"] <= upto), key=lambda r: (r["_t"], r["_a"])
        )
        if not ready:
            return []
        self._buffer = [r for r in self._buffer if r["_t"] > upto]
        out = []
        slow = len(self._slow) > 0
        for rec in ready:
            clean = {k: v for k, v in rec.items() if not k.startswith("_")}
            self._history.setdefault(clean["customer_id"], []).append(clean)
            cid = clean["customer_id"]
            if slow:
                self._logs.pop(cid, None)
                self._due[cid] = min(self._due.get(cid, rec["_t"]), rec["_t"])
            out.append(clean)
        if self._fast:
            self._fast_release(out, [r["_t"] for r in ready])
        return out

    # -- fast paths ------------------------------------------------------------------------------
    def _fast_release(self, recs: list[dict[str, Any]], times: list[int]) -> None:
        """Feed released interactions (in time order) to the incremental rules.

        For each run of interactions with one time ``t``: timers due before ``t`` fire first,
        then the run's consent events update the consent state (consent is checked "at or
        before t"), then each interaction replaces its customer's inactivity timers and fires
        the matching event rules.
        """
        n = len(recs)
        i = 0
        while i < n:
            t = times[i]
            j = i
            while j < n and times[j] == t:
                j += 1
            self._fire_timers(t, inclusive=False)
            granted: set[str] = set()
            for rec in recs[i:j]:
                if rec["kind"] in ("consent_granted", "consent_revoked"):
                    purpose = rec.get("purpose")
                    if isinstance(purpose, str):
                        key = (rec["customer_id"], purpose)
                        self._consent[key] = rec["kind"] == "consent_granted"
                        if rec["kind"] == "consent_granted":
                            granted.add(rec["customer_id"])
            for cid in sorted(granted):
                retry = [e for e in self._retry.pop(cid, []) if e[1] == t]
                for name, at, anchor, akey in retry:
                    if name in self._fast:
                        self._emit_fast(self._by_name[name], cid, at, anchor, akey, retry=True)
            for rec in recs[i:j]:
                self._fast_one(rec, t)
            i = j

    def _fast_one(self, rec: dict[str, Any], t: int) -> None:
        cid = rec["customer_id"]
        last = self._cust_last.get(cid)
        rank = last[1] + 1 if last is not None and last[0] == t else 0
        self._cust_last[cid] = (t, rank)
        key = anchor_key(rec, t, rank)
        for name, kind in self._fast.items():
            rule = self._by_name[name]
            if kind == "inactive":
                d = rule.when.duration
                assert d is not None
                if d.unit == "months":
                    due = int(add(np.array([t], dtype=np.int64), d)[0])
                else:
                    due = t + d.to_us()
                self._timers[(name, cid)] = (due, rec, key)
                heapq.heappush(self._heap, (due, cid, name))
            elif rec["kind"] == rule.when.kind:
                where = rule.when.where
                if where is None or evaluate_one(where, rec) is True:
                    self._emit_fast(rule, cid, t, rec, key, retry=True)

    def _fire_timers(self, frontier: int, *, inclusive: bool) -> None:
        heap = self._heap
        while heap and (heap[0][0] < frontier or (inclusive and heap[0][0] == frontier)):
            due, cid, name = heapq.heappop(heap)
            timer = self._timers.get((name, cid))
            if timer is None or timer[0] != due:
                continue
            del self._timers[(name, cid)]
            if name in self._fast:
                self._emit_fast(self._by_name[name], cid, due, timer[1], timer[2])

    def _emit_fast(
        self,
        rule: Rule,
        cid: str,
        t: int,
        anchor: dict[str, Any],
        key: str,
        *,
        retry: bool = False,
    ) -> None:
        state = (rule.name, cid)
        consent = None if rule.consent is None else self._consent.get((cid, rule.consent))
        reason = policy_reason(
            rule, self._last_emit.get(state), t, consent, self.customers.get(cid)
        )
        if reason is not None:
            if retry and rule.consent is not None:
                pending = self._retry.setdefault(cid, [])
                if pending and pending[0][1] != t:
                    pending.clear()
                pending.append((rule.name, t, anchor, key))
            return
        self._last_emit[state] = t
        fid = firing_id(rule.name, cid, key)
        if fid in self._emitted:
            return
        firing = Firing(
            trigger=rule.name,
            customer_id=cid,
            time=us_to_datetime(t),
            action=rule.emit.action,
            payload={k: evaluate_one(e, anchor) for k, e in rule.emit.payload},
            because={"when": ref(anchor, us_to_datetime(to_us(anchor["timestamp"])).isoformat())},
            firing_id=fid,
        )
        self._emitted.add(fid)
        self._fast_out.append(firing)

    def _fire(self, frontier: int, *, final: bool) -> list[Firing]:
        if self._watermark is None or frontier > self._watermark:
            self._watermark = frontier
        from cxmodel.log import InteractionLog

        immediate = {r.name for r in self._slow if _immediate(r)}
        if self._fast:
            self._fire_timers(frontier, inclusive=final)
        out: list[Firing] = self._fast_out
        self._fast_out = []
        for customer, due in sorted(self._due.items()):
            if due > frontier:
                continue
            log = self._logs.get(customer)
            if log is None:
                log = self._logs[customer] = InteractionLog.from_records(self._history[customer])
            result = evaluate_us(self._slow, log, _FAR, customers=self.customers)
            pending: list[int] = []
            for firing in result:
                t = to_us(firing.time)
                ok = t <= frontier if (final or firing.trigger in immediate) else t < frontier
                if not ok:
                    pending.append(t)
                elif firing.firing_id not in self._emitted:
                    self._emitted.add(firing.firing_id)
                    out.append(firing)
            for firing in result.suppressed:
                t = to_us(firing.time)
                if t > frontier or (not final and t == frontier):
                    pending.append(t)
            if pending:
                self._due[customer] = min(pending)
            else:
                del self._due[customer]
        out.sort(key=lambda f: (f.time, f.customer_id, f.trigger, f.firing_id))
        return out

    @property
    def watermark(self) -> Any:
        """The event time up to which interactions have been processed (``None`` at start)."""
        return None if self._watermark is None else us_to_datetime(self._watermark)
