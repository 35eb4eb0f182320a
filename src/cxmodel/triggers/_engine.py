"""The streaming engine: interactions one at a time or in micro-batches, in event time, with
the same firings as batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._time import TimeLike, duration_to_us, to_us
from cxmodel.triggers._batch import (
    NEVER_EMITTED,
    apply_policies,
    horizon,
    reads,
    rule_candidates,
)
from cxmodel.triggers._context import LogContext
from cxmodel.triggers._firings import Firing, FiringBlock, Firings
from cxmodel.triggers._history import (
    Batch,
    BatchRecords,
    History,
    HistoryView,
    grown,
    record_of,
)
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._store import InMemoryStore, StateStore
from cxmodel.triggers._timers import DueTimes

__all__ = ["TriggerEngine"]

IntArray = npt.NDArray[np.int64]
_FAR = 253_402_300_799_000_000  # 9999-12-31T23:59:59Z in microseconds


def _immediate(rule: Rule) -> bool:
    """Rules whose firing time is the anchoring interaction's own time."""
    return rule.when.mode == "event" and rule.then is None and rule.quiet is None


def _objects_batch(objects: Sequence[Any]) -> Batch:
    """A batch from interaction objects, or from records (mappings) validated as a log's."""
    if not any(isinstance(o, Mapping) for o in objects):
        return Batch.from_interactions(objects)
    from cxmodel.log import InteractionLog

    records = [o if isinstance(o, Mapping) else record_of(o) for o in objects]
    return Batch.from_log(InteractionLog.from_records(records))


class _Reading:
    """What one rule reads (see :func:`~cxmodel.triggers._batch.reads`), worked out once."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.reads = reads(rule)
        self.horizon = horizon(rule)
        # immediate rules reading nothing but the anchoring interaction itself (no aggregate,
        # no consent): each call decides them from the interactions it releases alone
        self.alone = _immediate(rule) and all(
            kind == rule.when.kind and lookback == 0 for kind, lookback in self.reads
        )
        self.marks, self.delay = _marks(rule)


def _marks(rule: Rule) -> tuple[str | None, int]:
    """Which arrivals can make a firing of ``rule`` fall due, and how soon: (the kind, or
    ``None`` for every kind; the least delay in microseconds).

    Only an interaction that anchors a firing, or completes one (``then B``), can: the others
    change what a firing sees (``if``, aggregates, consent) or cancel it (``then no``,
    ``unless``, ``inactive``), which is read when the firing falls due. Timer rules
    (``inactive``, ``no ... for``, ``then after``, ``then no ... for``) fire ``D`` after their
    anchor at the earliest; calendar months count as 28 days less two (the shortest month, in
    any time zone)."""
    when, then = rule.when, rule.then
    if when.mode in ("inactive", "absent"):  # every interaction may anchor (or be the first)
        kind, duration = None, when.duration
    elif then is not None and then.mode in ("after", "absent"):
        kind, duration = when.kind, then.duration
    elif then is not None:  # 'then B': fires at the B that completes it
        return then.kind, 0
    else:
        return when.kind, 0
    assert duration is not None
    day = 86_400_000_000
    if duration.unit == "months":
        return kind, max(0, int(duration.amount) * 28 * day - 2 * day)
    return kind, max(0, int(duration.to_us()))


class _Decided:
    """Which candidates of one rule are decided (emitted or suppressed for good).

    Candidates anchored on an interaction are identified by its arrival number; ``when no``
    candidates by (customer, restart time)."""

    def __init__(self) -> None:
        self.by_arrival = np.zeros(1024, dtype=bool)
        self.restarts: set[tuple[int, int]] = set()

    def undecided(
        self, view: HistoryView, anchor: IntArray, restart: bool
    ) -> npt.NDArray[np.bool_]:
        if restart:
            cust = view.engine_codes[view.customer_codes[anchor]].tolist()
            times = view.timestamps[anchor].tolist()
            return np.array(
                [(c, t) not in self.restarts for c, t in zip(cust, times, strict=True)], dtype=bool
            )
        arrival = view.arrival_at(anchor)
        if len(arrival):
            self.by_arrival = grown(self.by_arrival, int(arrival.max()) + 1, False)
        return ~self.by_arrival[arrival]

    def mark(self, view: HistoryView, anchor: IntArray, restart: bool) -> None:
        if restart:
            cust = view.engine_codes[view.customer_codes[anchor]].tolist()
            self.restarts.update(zip(cust, view.timestamps[anchor].tolist(), strict=True))
            return
        arrival = view.arrival_at(anchor)
        if len(arrival):
            self.by_arrival = grown(self.by_arrival, int(arrival.max()) + 1, False)
        self.by_arrival[arrival] = True


class TriggerEngine:
    """Evaluate rules over a live stream of interactions, in event time.

    Feed interactions one at a time with :meth:`process` or in micro-batches with
    :meth:`process_many` (an :class:`~cxmodel.log.InteractionLog`, a mapping of columns, or
    interaction objects). Interactions within ``allowed_lateness`` of the latest time seen
    are buffered and processed in time order (ties in arrival order); older ones go to
    :attr:`late` and are not processed. Timers fire when the event time passes them, or on
    :meth:`advance_to`. For the same interactions delivered in time order, ``advance_to(T)``
    leaves exactly the firings that batch :func:`~cxmodel.triggers.evaluate` returns with
    ``as_of=T``, however the stream was cut into batches.

    Each call re-evaluates, per rule, only the customers that received an interaction of a
    kind the rule reads or whose pending firing is due, only the rows the rule reads, and only
    the candidates not yet decided (those anchored within the rule's horizon of the previous
    event time), with the batch evaluator's array code; policy state carries over. Each call commits its released interactions, seen ids and emitted firings to
    ``store`` in one step; an interaction whose ``interaction_id`` was already processed is
    ignored. Restarting from a :class:`SQLiteStore` resumes where the last commit left off.

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
        self._traits = {k: dict(getattr(v, "traits", {})) for k, v in self.customers.items()}
        self.late: list[Any] = []
        self._history = History()
        # per rule, each customer's earliest time needing re-evaluation
        self._due: dict[str, DueTimes] = {r.name: DueTimes() for r in self.rules}
        self._buffer: list[Batch] = []
        self._buffer_arrival: list[IntArray] = []
        self._decided: dict[str, _Decided] = {r.name: _Decided() for r in self.rules}
        # per rule, each customer's last emitted time (NEVER_EMITTED: none), by engine code
        self._last: dict[str, IntArray] = {r.name: np.zeros(0, dtype=np.int64) for r in self.rules}
        self._fresh: set[str] = set()
        self._reads_cache: dict[str, _Reading] = {}
        self._previous: int | None = None  # the frontier of the last evaluation
        events, self._seen, meta, emitted = self.store.load()
        self._max_seen: int | None = meta.get("max_seen")
        self._watermark: int | None = meta.get("watermark")
        self._arrivals: int = int(meta.get("arrivals", 0))
        if len(events):
            self._append(Batch.of(events), np.arange(len(events), dtype=np.int64))
        buffered = meta.get("buffer") or []
        if len(buffered):
            self._buffer = [
                Batch.from_columns(buffered["columns"])
                if isinstance(buffered, Mapping)
                else Batch.of(buffered)
            ]
            self._buffer_arrival = [np.asarray(meta.get("buffer_arrival", []), dtype=np.int64)]
        # after a restart: re-derive the decisions with one full evaluation, skipping the
        # firings the store already holds
        self._restored: set[str] | None = emitted if self._history.n else None
        if self._restored is not None:
            self._fresh = set(self.rules.names)
            for due in self._due.values():
                due.lower_all(self._history.n_customers, np.iinfo(np.int64).min)

    # -- rules at runtime --------------------------------------------------------------------
    def add_rule(self, rule: Rule) -> None:
        """Start evaluating ``rule`` (over the history already seen, from now on)."""
        if rule.name in self.rules.names:
            raise ValueError(f"a rule named {rule.name!r} is already active; remove it first")
        self.rules = RuleSet((*self.rules.rules, rule))
        self._decided[rule.name] = _Decided()
        self._last[rule.name] = np.zeros(0, dtype=np.int64)
        self._fresh.add(rule.name)
        self._due[rule.name] = DueTimes()
        self._due[rule.name].lower_all(self._history.n_customers, self._watermark or 0)

    def remove_rule(self, name: str) -> None:
        """Stop evaluating the rule called ``name``."""
        self.rules[name]  # raises KeyError with the known names
        self.rules = RuleSet(tuple(r for r in self.rules if r.name != name))
        self._fresh.discard(name)
        self._due.pop(name, None)

    # -- processing ------------------------------------------------------------------------------
    def process(self, interaction: Any) -> list[Firing]:
        """Process one interaction; return the firings that became final.

        ``interaction`` is a :class:`~cxmodel.domain.Interaction`, or a record (a mapping
        with ``customer_id``, ``timestamp``, ``kind`` and any fields), validated as
        :meth:`InteractionLog.from_records <cxmodel.log.InteractionLog.from_records>` does.
        """
        return list(self._process(_objects_batch([interaction]), [interaction]))

    def process_many(self, interactions: Any) -> Firings:
        """Process a micro-batch in delivery order; return the firings that became final.

        ``interactions`` is an :class:`~cxmodel.log.InteractionLog` (delivered in its input
        order), a mapping of columns as for :meth:`InteractionLog.from_arrays
        <cxmodel.log.InteractionLog.from_arrays>`, or an iterable of interaction objects or
        records (mappings, validated as :meth:`InteractionLog.from_records
        <cxmodel.log.InteractionLog.from_records>` does).
        The result is the same as processing them one by one (the firings of the calls
        together), at array speed.

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
        >>> got = engine.process_many({"customer_id": ["a", "b"], "kind": ["purchase", "purchase"],
        ...     "timestamp": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], "value": [50.0, 500.0]})
        >>> [(f.customer_id, f.action) for f in got]
        [('b', 'thanks')]
        """
        from cxmodel.log import InteractionLog

        if isinstance(interactions, InteractionLog):
            return self._process(Batch.from_log(interactions), None)
        if isinstance(interactions, Mapping):
            return self._process(Batch.from_log(InteractionLog.from_arrays(**interactions)), None)
        objects = list(interactions)
        return self._process(_objects_batch(objects), objects)

    def advance_to(self, time: TimeLike) -> list[Firing]:
        """Declare that every interaction up to ``time`` has been delivered; fire due timers."""
        t = to_us(time)
        released, blocks = self._evaluate(t, final=True)
        firings = Firings.from_blocks(blocks)
        self.store.commit(BatchRecords(released), [], self._meta(), firings)
        return list(firings)

    def compact(self) -> int:
        """Drop the history no active rule can read again; return how many interactions
        were dropped.

        A rule reads, around the candidates it has yet to decide, its kinds within its
        look-back (unbounded aggregates and consent events whole); everything older goes,
        except each customer's first interaction (where ``when no ... for`` restarts). The
        firings stay exactly those of batch evaluation for the rules active now; a rule added
        later sees only what was kept. The store keeps every interaction, so a restart from
        it starts from the whole history again. Call it now and then from a long-running
        service (say, daily) to bound memory.

        Examples
        --------
        >>> from cxmodel.domain import Interaction
        >>> from cxmodel.triggers import parse
        >>> engine = TriggerEngine(parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks"))
        >>> days = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
        >>> fired = [engine.process(Interaction("a", f"{d}T00:00:00Z", "purchase", value=5.0)) for d in days]
        >>> engine.compact()  # the first purchase (a restart point) and the latest stay
        2
        """
        history = self._history
        if self._previous is None or self._fresh or self._restored is not None:
            return 0  # the next call re-reads everything
        n = history.n
        times, kinds = history.time[:n], history.kind.data[:n]
        index = history.kind.index
        keep = np.zeros(n, dtype=bool)
        for rule in self.rules:
            reading = self._reading(rule)
            for kind, lookback in reading.reads:
                if kind is not None and kind not in index:
                    continue
                match = np.ones(n, dtype=bool) if kind is None else kinds == index[kind]
                if rule.when.mode == "absent" and kind is None:
                    lookback = 0  # restarts: each customer's first row, kept below
                if lookback is not None and reading.horizon is not None:
                    match &= times >= self._previous - reading.horizon - lookback
                keep |= match
        keep[np.unique(history.cust[:n], return_index=True)[1]] = True
        dropped = n - int(keep.sum())
        if dropped:
            history.keep(keep)
        return dropped

    @property
    def watermark(self) -> Any:
        """The event time up to which interactions have been processed (``None`` at start)."""
        from cxmodel._time import us_to_datetime

        return None if self._watermark is None else us_to_datetime(self._watermark)

    # -- internals -------------------------------------------------------------------------------
    def _process(self, batch: Batch, objects: Sequence[Any] | None) -> Firings:
        keep = np.ones(len(batch), dtype=bool)
        ids = batch.strings.get("interaction_id")
        with_id = np.zeros(len(batch), dtype=bool) if ids is None else np.asarray(ids != None)  # noqa: E711
        if with_id.any():
            assert ids is not None
            at = np.flatnonzero(with_id)
            given = ids[at].tolist()
            if not self._seen.isdisjoint(given):  # re-delivered: drop what was processed
                keep[at] = [ident not in self._seen for ident in given]
            first = np.unique(ids[at].astype(str), return_index=True)[1]
            repeated = np.ones(len(at), dtype=bool)
            repeated[first] = False
            keep[at[repeated]] = False  # the same id twice in one call: the first counts
        if self._watermark is not None:
            late = keep & (batch.time < self._watermark)
            if late.any():
                if objects is not None:
                    self.late.extend(objects[j] for j in np.flatnonzero(late).tolist())
                else:
                    self.late.extend(batch.take(late).records())
                keep &= ~late
        new_ids: list[str] = [] if ids is None else ids[keep & with_id].tolist()
        self._seen.update(new_ids)
        batch = batch.take(keep) if not keep.all() else batch
        if len(batch):
            arrival = np.arange(self._arrivals, self._arrivals + len(batch), dtype=np.int64)
            self._arrivals += len(batch)
            self._buffer.append(batch)
            self._buffer_arrival.append(arrival)
            top = int(batch.time.max())
            self._max_seen = top if self._max_seen is None else max(self._max_seen, top)
        if self._max_seen is None:
            return Firings(())
        released, blocks = self._evaluate(self._max_seen - self.lateness, final=False)
        firings = Firings.from_blocks(blocks)
        self.store.commit(BatchRecords(released), new_ids, self._meta(), firings)
        return firings

    def _meta(self) -> dict[str, Any]:
        arrival: list[int] = (
            np.concatenate(self._buffer_arrival).tolist() if self._buffer_arrival else []
        )
        return {
            # records are built only if the store reads them (SQLite does; memory does not)
            "buffer": BatchRecords(Batch.concat(self._buffer)),
            "buffer_arrival": arrival,
            "max_seen": self._max_seen,
            "watermark": self._watermark,
            "arrivals": self._arrivals,
        }

    def _append(self, batch: Batch, arrival: IntArray) -> None:
        """Add released interactions to the history; mark their customers due for each rule
        whose firing they can make fall due (see :func:`_marks`)."""
        start = self._history.n
        codes = self._history.append(batch, arrival)
        if not len(codes):
            return
        kinds = self._history.kind.data[start : self._history.n]
        index = self._history.kind.index
        for rule in self.rules:
            due = self._due[rule.name]
            reading = self._reading(rule)
            if reading.marks is None:
                due.lower(codes, batch.time + reading.delay)
            elif reading.marks in index:
                hit = kinds == index[reading.marks]
                if hit.any():
                    due.lower(codes[hit], batch.time[hit] + reading.delay)

    def _release(self, upto: int) -> Batch:
        if not self._buffer:
            return Batch.empty()
        pending = Batch.concat(self._buffer)
        arrival = np.concatenate(self._buffer_arrival)
        ready = pending.time <= upto
        if ready.all() and (
            len(pending) < 2 or bool(np.all(pending.time[1:] >= pending.time[:-1]))
        ):
            self._buffer, self._buffer_arrival = [], []  # delivered in time order: as is
            self._append(pending, arrival)
            return pending
        order = np.flatnonzero(ready)
        order = order[np.lexsort((arrival[order], pending.time[order]))]
        released = pending.take(order)
        if ready.all():
            self._buffer, self._buffer_arrival = [], []
        else:
            self._buffer, self._buffer_arrival = [pending.take(~ready)], [arrival[~ready]]
        self._append(released, arrival[order])
        return released

    def _reading(self, rule: Rule) -> _Reading:
        got = self._reads_cache.get(rule.name)
        if got is None or got.rule is not rule:
            got = self._reads_cache[rule.name] = _Reading(rule)
        return got

    def _rows_read(
        self,
        whole: HistoryView,
        dirty: npt.NDArray[np.bool_],
        rule: Rule,
        anchor_from: int | None,
    ) -> HistoryView:
        """The part of ``whole`` (rows of customers ``dirty`` for ``rule``) that ``rule``
        reads for candidates anchored from ``anchor_from`` on (see
        :func:`~cxmodel.triggers._batch.reads`)."""
        keep = np.zeros(len(whole), dtype=bool)
        kinds, _ = whole.categorical("kind")
        index = self._history.kind.index
        for kind, lookback in self._reading(rule).reads:
            if kind is None:
                match = np.ones(len(whole), dtype=bool)
            elif kind in index:
                match = kinds == index[kind]
            else:
                continue
            if anchor_from is not None and lookback is not None:
                match &= whole.timestamps >= anchor_from - lookback
            keep |= match
        keep &= dirty
        return whole if keep.all() else whole.subset(keep)

    def _evaluate(self, frontier: int, *, final: bool) -> tuple[Batch, list[FiringBlock]]:
        """Release what the frontier allows and decide every candidate it makes final."""
        start = self._history.n
        released = self._release(frontier)
        if self._watermark is None or frontier > self._watermark:
            self._watermark = frontier
        n = self._history.n_customers
        out: list[FiringBlock] = []
        dirty_by_rule = {r.name: self._due[r.name].due(frontier) for r in self.rules}
        # rules reading only their anchors look at this call's interactions alone; the
        # others at the histories of their due customers
        alone = {
            r.name
            for r in self.rules
            if r.name not in self._fresh and self._previous is not None and self._reading(r).alone
        }
        union = np.zeros(n, dtype=bool)
        for name, codes in dirty_by_rule.items():
            if name not in alone:
                union[codes] = True
        every = np.flatnonzero(union)
        views: dict[bool, tuple[HistoryView, IntArray]] = {}
        for rule in self.rules:
            dirty = dirty_by_rule[rule.name]
            if not len(dirty):
                continue
            due = self._due[rule.name]
            due.clear(dirty)
            flags = np.zeros(n, dtype=bool)
            flags[dirty] = True
            reach = self._reading(rule).horizon
            anchor_from = (
                None
                if rule.name in self._fresh or self._previous is None or reach is None
                else self._previous - reach
            )
            by_itself = rule.name in alone
            if by_itself not in views:
                whole = self._history.recent(start) if by_itself else self._history.view(every)
                views[by_itself] = whole, whole.engine_codes[whole.customer_codes]
            whole, owner = views[by_itself]  # owner: the engine code of each row
            view = self._rows_read(whole, flags[owner], rule, anchor_from)
            ctx = LogContext(view, self._traits)
            cand = rule_candidates(ctx, rule, _FAR, anchor_from=anchor_from)
            decided = self._decided[rule.name]
            undecided = decided.undecided(view, cand.anchor, cand.restart)
            cutoff = frontier if (final or _immediate(rule)) else frontier - 1
            last_all = self._last[rule.name] = grown(self._last[rule.name], n, NEVER_EMITTED)
            last = last_all[view.engine_codes]
            pending: list[tuple[IntArray, IntArray]] = []
            emitted, suppressed = apply_policies(
                ctx,
                rule,
                cand,
                cutoff,
                self.customers,
                previous=last,
                undecided=undecided,
                pending=pending,
                ranked=False,
            )
            last_all[view.engine_codes] = last
            assert emitted.anchor is not None and suppressed.anchor is not None
            decided.mark(view, emitted.anchor, cand.restart)
            decided.mark(view, suppressed.anchor, cand.restart)
            for cust, times in pending:
                due.lower(view.engine_codes[cust], times)
            if self._restored is not None:
                emitted = emitted.without_ids(self._restored)
            out.append(emitted)
        self._fresh.clear()
        self._restored = None
        self._previous = frontier
        return released, out
