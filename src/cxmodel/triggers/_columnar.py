"""The streaming engine's path for large micro-batches: the same work as one interaction at a
time, done a column or a rule at a time.

The per-interaction path (``_delivery.py`` and :meth:`RuleRunner.release
<cxmodel.triggers._runner.RuleRunner.release>`) takes each interaction through every step and
every rule that reads it. A large micro-batch is taken apart instead:

1. **admission** on arrays: refused (too far ahead of the clock), late (behind the watermark
   or at or before ``advance_to``'s time) and re-delivered interactions are decided, and the
   ones the call releases (in time order, then arrival order) are found, exactly as the
   delivery decides them one by one;
2. **the customers' bookkeeping** for the released interactions: release numbers, ranks among
   a customer's interactions at the same time, the latest time and the ids that may be
   re-delivered (forgotten at the end of the call as one by one: ``Delivery.forget_ids``);
3. **rule by rule** (``_columnar_rules.py``): each (customer, rule) state depends only on the
   customer's interactions, the aggregates the rule reads and consent, so each rule runs
   alone over the interactions it reads, with its own timers.

A log or a mapping of columns stays columns (:class:`~cxmodel.triggers._ingest.LogColumns`):
an interaction becomes a :class:`Row` only when a rule reads it, it is quarantined, or it
stays buffered. Alerts, catalogue rules, contact policies and aggregates comparing with the
bound interaction make a call take the per-interaction path (:func:`columnar_ready`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from operator import attrgetter
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from cxmodel._grouping import group_by_code
from cxmodel.errors import SchemaError
from cxmodel.triggers._codes import first_seen_codes, object_array, present_and_missing
from cxmodel.triggers._collector import collector_paused
from cxmodel.triggers._columnar_rules import run_rules
from cxmodel.triggers._customer import NO_TIME, CustomerState
from cxmodel.triggers._delivery import Delivery, sweep_mark
from cxmodel.triggers._ingest import CATALOGUE, Row, bare_fields
from cxmodel.triggers._runner import RuleRunner
from cxmodel.triggers._store import Quarantined
from cxmodel.triggers._truths import refuse_misread

__all__ = [
    "COLUMNAR_FROM",
    "RowColumns",
    "Source",
    "columnar_ready",
    "fire_due",
    "refuse",
    "take_many",
]

#: The smallest micro-batch taken on the columnar path, chosen by measurement (the six
#: example rules and two simple ones; 1,000, 2,000 and 100,000 customers; records and logs;
#: batches of 100 to 2,000): below about 400-500 interactions the per-call set-up (a pass
#: and a timer queue per rule, numpy set-up) costs more than the per-interaction path it
#: saves; at 1,000 the columnar path is 1.5x-2.3x as fast.
COLUMNAR_FROM = 1_000


class Source(Protocol):
    """A micro-batch as columns in delivery order (what :func:`take_many` reads)."""

    n: int
    customers: Any  # object array of customer ids
    times: Any  # int64 array of microseconds
    kinds: Any  # object array
    ids: list[str | None]

    def column(self, name: str, positions: Any) -> Any: ...

    def one_class(self, name: str) -> bool: ...

    def first_seen(self, name: str) -> tuple[Any, dict[Any, int]]: ...

    def stand_ins(self, name: str) -> list[int]: ...

    def rows(self, positions: Any) -> list[Row]: ...


class RowColumns:
    """Rows already made (records, interaction objects) seen as columns."""

    def __init__(self, rows: list[Row]) -> None:
        self.items = rows
        self.n = len(rows)
        self.customers = np.array([r.customer for r in rows], dtype=object)
        self.times = np.fromiter((r.time for r in rows), dtype=np.int64, count=self.n)
        self.kinds = np.array([r.kind for r in rows], dtype=object)
        self.ids = [r.interaction_id for r in rows]

    def column(self, name: str, positions: Any) -> Any:
        """The values of property ``name`` at ``positions`` (objects, ``None`` missing)."""
        items = self.items
        return object_array(items[p].fields.get(name) for p in positions.tolist())

    def one_class(self, name: str) -> bool:
        """Whether the values :meth:`column` gives are known to be of one class: never
        (rows made one by one may mix them)."""
        return False

    def first_seen(self, name: str) -> tuple[Any, dict[Any, int]]:
        """The customers (``name`` "customer_id") or kinds ("kind") coded in order of first
        appearance, and the codes by value."""
        return first_seen_codes(self.customers if name == "customer_id" else self.kinds)

    def stand_ins(self, name: str) -> list[int]:
        """The positions of the first row with property ``name`` and the first without."""
        return present_and_missing(self.column(name, np.arange(self.n)))

    def rows(self, positions: Any) -> list[Row]:
        """The rows at ``positions``."""
        items = self.items
        return [items[p] for p in np.asarray(positions).tolist()]


def columnar_ready(runner: RuleRunner) -> bool:
    """Whether the active rules can run on the columnar path: no alert, no catalogue rule
    or catalogue event waiting, no contact policy, no aggregate whose ``where`` compares with
    the bound interaction."""
    catalogue = runner.catalogue
    return not (
        runner.alerts.plans
        or catalogue.joins
        or catalogue.rules
        or catalogue.pending
        or runner.contact
        or runner.rows_kept
        or any(plan.rule.when.reach is not None for plan in runner.plans.values())
    )


def refuse(source: Source, runner: RuleRunner) -> None:
    """What :func:`~cxmodel.triggers._truths.refuse_misread` refuses, read from
    the columns: a column holds one class of value, so its first present and first missing
    value stand for all; if one of them is refused, the rows are made and refused as one
    by one."""
    names = set(runner.numeric) | {check[0] for check in runner.truths.checks()}
    if not names:
        return
    if isinstance(source, RowColumns):
        rows = source.items
    else:
        every = np.arange(source.n)
        stand_ins = {j for name in names for j in source.stand_ins(name)}
        try:
            rows = source.rows(np.array(sorted(stand_ins), dtype=np.int64))
            refuse_misread(rows, runner.numeric, runner.truths)
            return
        except SchemaError:  # the rows, checked one by one, say which and why
            rows = source.rows(every)
    refuse_misread(rows, runner.numeric, runner.truths)


# -- 1. admission ---------------------------------------------------------------------------
def _admit(
    delivery: Delivery, runner: RuleRunner, source: Source, now: Callable[[], int]
) -> tuple[Any, list[Quarantined], list[Quarantined]]:
    """The positions accepted, and the late and refused rows, decided as
    :meth:`Delivery.take` decides them: refused first, then re-delivered (ignored), then
    late."""
    n = source.n
    times = source.times
    refusals: list[tuple[int, Quarantined]] = []  # (position, why), in any order
    ok = np.ones(n, dtype=bool)
    if delivery.max_future is not None:
        limit = now() + delivery.max_future
        refused = times > limit
        if refused.any():
            ok &= ~refused
            where = np.flatnonzero(refused)
            refusals = [
                (j, delivery.refusal(row, limit))
                for j, row in zip(where.tolist(), source.rows(where), strict=True)
            ]
    on_time = delivery.on_time
    late = (times < on_time) if on_time is not None else np.zeros(n, dtype=bool)
    # re-delivered (at the same time): earlier in this call (and not late), or taken before
    # (Delivery.taken); another interaction under a taken id (at another time) is refused
    ids, customers = source.ids, source.customers.tolist()
    duplicates = 0
    if _maybe_redelivered(delivery, runner, customers, ids, ok):
        # the times each (customer, id) was taken at earlier in this call: all of them, as
        # interactions further apart than the window may share an id
        taken: dict[tuple[str, str], tuple[int, ...]] = {}
        reused: list[tuple[int, int]] = []  # (position, the time its id was taken at)
        late_list, time_list = late.tolist(), times.tolist()
        taken_before = delivery.taken
        for j in np.flatnonzero(ok).tolist():
            ident = ids[j]
            if ident is None:
                continue
            cid = customers[j]
            key = (cid, ident)
            time = time_list[j]
            earlier = taken_before(cid, ident, time, runner, taken.get(key, ()))
            if earlier is not None:
                ok[j] = False
                if earlier == time:
                    duplicates += 1
                else:
                    reused.append((j, earlier))
            elif not late_list[j]:
                taken[key] = (*taken.get(key, ()), time)
        if reused:
            rows = source.rows(np.array([j for j, _ in reused], dtype=np.int64))
            refusals += [
                (j, delivery.reused(row, e)) for row, (j, e) in zip(rows, reused, strict=True)
            ]
    delivery.duplicates += duplicates
    rejected = [why for _, why in sorted(refusals, key=lambda item: item[0])]  # as one by one
    quarantined: list[Quarantined] = []
    for row in source.rows(np.flatnonzero(ok & late)):
        reason = delivery.late_reason(row.time)
        assert reason is not None  # before the watermark, or at or before advance_to's time
        quarantined.append(Quarantined(row.record(), reason, row.customer or None))
    return np.flatnonzero(ok & ~late), quarantined, rejected


def _maybe_redelivered(
    delivery: Delivery,
    runner: RuleRunner,
    customers: list[Any],
    ids: list[str | None],
    ok: npt.NDArray[np.bool_],
) -> bool:
    """Whether any interaction ``ok`` admits may be re-delivered: its (customer, id) comes
    twice in the call, or was taken before. ``False`` is certain (the usual case, decided
    with sets); ``True`` sends the call through the check in order."""
    if delivery.buffered_ids or CATALOGUE in customers:
        return True
    distinct = set(ids)
    if distinct == {None}:  # no interaction has an id
        return False
    if None in distinct or "" in distinct or not ok.all():
        # only the admitted interactions with an id
        listed = [
            (c, i)
            for c, i, k in zip(customers, ids, ok.tolist(), strict=True)
            if k and i is not None
        ]
        customers, ids = [c for c, _ in listed], [i for _, i in listed]
        distinct = set(ids)
    # an id twice in the call is a pair twice only if its customer is the same
    if len(distinct) != len(ids) and len(set(zip(customers, ids, strict=True))) != len(ids):
        return True
    # the ids the call's customers still remember (a redelivery window's worth): the pairs
    # are compared only for ids among them
    states = runner.states
    remembered: set[str] = set()
    for cid in set(customers):
        state = states.get(cid)
        if state is not None and state.seen:
            remembered.update(state.seen)
    common = distinct & remembered
    return bool(common) and any(
        i in common and (state := states.get(c)) is not None and i in state.seen
        for c, i in zip(customers, ids, strict=True)
    )


def _released(
    delivery: Delivery, source: Source, accepted: Any, frontier: int
) -> npt.NDArray[np.int64] | list[Any]:
    """The interactions released by this call, in the order the delivery releases them:
    positions in ``source`` (an array when all are), or rows buffered before; the rest stay
    buffered, as rows, in the heap pushing and popping them one by one leaves."""
    times = source.times[accepted]
    if not delivery.buffer and (
        not len(times) or (bool(np.all(times[1:] >= times[:-1])) and times[-1] <= frontier)
    ):
        return np.asarray(accepted, dtype=np.int64)
    out: list[Any] = []
    buffer: list[Any] = delivery.buffer
    arrival = delivery.arrivals
    for time, position in zip(times.tolist(), accepted.tolist(), strict=True):
        heapq.heappush(buffer, (time, arrival, position))
        arrival += 1
    delivery.arrivals = arrival
    while buffer and buffer[0][0] <= frontier:
        out.append(heapq.heappop(buffer)[2])
    waiting = [j for j, item in enumerate(buffer) if type(item[2]) is int]
    # the ids of this call's interactions still buffered are remembered as buffered
    # (those released are remembered by their customers, in _book)
    if waiting:
        made = source.rows(np.array([buffer[j][2] for j in waiting], dtype=np.int64))
        for j, row in zip(waiting, made, strict=True):
            buffer[j] = (buffer[j][0], buffer[j][1], row)
            if row.interaction_id is not None:
                delivery.buffer_id(row.customer, row.interaction_id, row.time)
    fresh = True  # all released are this call's
    for item in out:  # buffered before, released now
        if type(item) is not int:
            fresh = False
            if item.interaction_id is not None:
                delivery.unbuffer_id(item.customer, item.interaction_id, item.time)
    return np.array(out, dtype=np.int64) if fresh else out


# -- 2. the released interactions and the customers' bookkeeping -------------------------------
class Released:
    """The interactions a call releases, in release order, as columns: customer, time, kind,
    id; each becomes a :class:`Row` (with its release number and rank) when a rule reads it.

    ``first`` holds the release numbers of customers' first interactions ever.
    """

    def __init__(
        self, source: Source, items: npt.NDArray[np.int64] | list[Any], start: int
    ) -> None:
        self.source = source
        self.n = n = len(items)
        self.start = start
        #: whether every interaction released is the source's (none made before the call)
        self.from_source = isinstance(items, np.ndarray)
        if isinstance(items, np.ndarray):  # positions in the source
            self.positions = items
            self.customers = source.customers[items]
            self.times = source.times[items]
            self.kinds = source.kinds[items]
            # all of them, in order (the usual case): n increasing positions out of n
            whole = n == source.n and bool(np.all(items[1:] > items[:-1]))
            self.ids = source.ids if whole else list(map(source.ids.__getitem__, items.tolist()))
            self.made: list[Row | None] = [None] * n
        else:
            whole = False
            self.positions = np.array([i if type(i) is int else -1 for i in items], np.int64)
            self.made = [None if type(i) is int else i for i in items]
            fresh = self.positions >= 0
            where = self.positions[fresh]
            self.customers = object_array(i.customer if type(i) is not int else None for i in items)
            self.customers[fresh] = source.customers[where]
            self.times = np.array([i.time if type(i) is not int else 0 for i in items], np.int64)
            self.times[fresh] = source.times[where]
            self.kinds = object_array(i.kind if type(i) is not int else None for i in items)
            self.kinds[fresh] = source.kinds[where]
            self.ids = [source.ids[i] if type(i) is int else i.interaction_id for i in items]
        self.ranks = np.zeros(n, dtype=np.int64)
        self.first: set[int] = set()
        #: each interaction's kind and customer coded in order of first appearance, and the
        #: codes by value (the source's own when the call releases all of it, in order)
        self.kind_codes: npt.NDArray[np.int64]
        self.customer_codes: npt.NDArray[np.int64]
        if whole:
            self.kind_codes, self.kind_names = source.first_seen("kind")
            self.customer_codes, self.customer_names = source.first_seen("customer_id")
        else:
            self.kind_codes, self.kind_names = first_seen_codes(self.kinds)
            self.customer_codes, self.customer_names = first_seen_codes(self.customers)
        self._ids: Any = None  # the ids as an array, made when a rule reads them
        #: the customers' states by customer code, once the call's bookkeeping has them
        #: (:func:`_book`): looked up by code, not by id, by the rules decided on arrays
        self.states: list[CustomerState] = []
        self._by_customer: npt.NDArray[np.intp] | None = None

    def by_customer(self) -> npt.NDArray[np.intp]:
        """The indices of the released interactions grouped by customer (in order of first
        appearance), each customer's in release order."""
        if self._by_customer is None:
            self._by_customer = group_by_code(self.customer_codes)
        return self._by_customer

    def rows(self, ks: Any) -> list[Row]:
        """The rows of the released interactions ``ks`` (indices in release order), made
        once, with their release numbers and ranks."""
        ks = np.asarray(ks, dtype=np.int64)
        made = self.made
        todo = [k for k in ks.tolist() if made[k] is None]
        if todo:
            fresh = self.source.rows(self.positions[todo])
            for k, row in zip(todo, fresh, strict=True):
                made[k] = row
        out: list[Row] = []
        ranks, start = self.ranks, self.start
        for k in ks.tolist():
            row = made[k]
            assert row is not None
            row.seq = start + k
            row.rank = int(ranks[k])
            out.append(row)
        return out

    def bare_rows(self, ks: Any) -> list[Row]:
        """:meth:`Row.bare <cxmodel.triggers._ingest.Row.bare>` of the rows of the
        released interactions ``ks``, made from the columns alone: a property is never read."""
        ks = np.asarray(ks, dtype=np.int64)
        ids, start = self.ids, self.start
        return [
            Row(cid, time, kind, bare_fields(kind, ids[k]), start + k, rank)
            for k, cid, time, kind, rank in zip(
                ks.tolist(), self.customers[ks].tolist(), self.times[ks].tolist(),
                self.kinds[ks].tolist(), self.ranks[ks].tolist(), strict=True,
            )
        ]  # fmt: skip

    def id_column(self, ks: Any) -> Any:
        """The interaction ids of the interactions ``ks`` (objects, ``None`` for none)."""
        if self._ids is None:
            self._ids = object_array(self.ids)
        return self._ids[ks]

    def reading(self, kinds: set[str]) -> Any:
        """The indices of the interactions of ``kinds``, in release order."""
        codes = [self.kind_names[k] for k in kinds if k in self.kind_names]
        if len(codes) == len(self.kind_names):
            return np.arange(self.n)
        wanted = np.zeros(len(self.kind_names), dtype=bool)  # by kind code: one gather
        wanted[codes] = True
        return np.flatnonzero(wanted[self.kind_codes])

    def one_class(self, name: str) -> bool:
        """Whether the values of property ``name`` that :meth:`column` gives are of one class
        (floats, text or true/false; missing as NaN or ``None``), as their source says."""
        return self.from_source and self.source.one_class(name)

    def column(self, name: str, ks: Any) -> Any:
        """Property ``name`` of the interactions ``ks`` (floats or objects; missing as NaN
        or ``None``); ``None`` when no interaction can have it."""
        positions = self.positions[ks]
        if bool(np.all(positions >= 0)):
            return self.source.column(name, positions)
        out = np.full(len(ks), None, dtype=object)
        fresh = positions >= 0
        if fresh.any():
            values = self.source.column(name, positions[fresh])
            if values is not None:
                out[fresh] = [None if v != v else v for v in values.tolist()]
        made = self.made
        for j in np.flatnonzero(~fresh).tolist():  # the rows buffered before the call
            row = made[int(ks[j])]
            if row is not None:
                out[j] = row.fields.get(name)
        return out


_SLOT = attrgetter("slot")  # a customer state's slot in the bookkeeping's columns


def _book(runner: RuleRunner, released: Released, forgotten: int) -> dict[str, CustomerState]:
    """Number the released interactions, rank them among their customer's interactions at
    the same time, and keep each customer's latest time and the ids that may still be
    re-delivered, as release does one by one, but for those of times before ``forgotten``,
    which the call forgets (:meth:`Delivery.forget_ids`). Return the customers' states."""
    n = released.n
    start = released.start
    runner.seq += n
    cust, codes = released.customer_codes, released.customer_names
    times = released.times
    order = released.by_customer()
    c_sorted, t_sorted = cust[order], times[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = c_sorted[1:] != c_sorted[:-1]
    new_run = new_group.copy()
    new_run[1:] |= t_sorted[1:] != t_sorted[:-1]
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(n), 0))
    rank = np.arange(n) - run_start
    group_start = np.flatnonzero(new_group)  # a group per customer code, in code order
    names = list(codes)
    by_code = runner.touch_all(names)  # the customers' states in the groups' order
    book = runner.book
    # each state's own slot: read from the objects touch_all just found, cheaper than the
    # bookkeeping's dict when the customers are many
    slots = np.fromiter(map(_SLOT, by_code), dtype=np.int64, count=len(names))
    last_times, tie_counts = book.view("last_time"), book.view("tie_count")
    old_time, old_ties = last_times[slots], tie_counts[slots]
    fresh = old_time == NO_TIME
    released.first.update((start + order[group_start[fresh]]).tolist())
    # a customer's first run of interactions continues their last tie: ranked after it
    group = np.cumsum(new_group) - 1
    continues = (old_time == t_sorted[group_start])[group] & (run_start == group_start[group])
    rank[continues] += old_ties[group[continues]]
    last = np.append(group_start[1:], n) - 1
    tie_counts[slots] = rank[last] + 1
    last_times[slots] = t_sorted[last]
    del last_times, tie_counts  # (the columns may grow again)
    released.ranks[order] = rank
    released.states = by_code
    states = dict(zip(names, by_code, strict=True))
    # forgotten by RuleRunner.forget_ids once they can only be late, as one by one
    ids = released.ids
    if ids.count(None) < len(ids):
        kept = np.flatnonzero(times >= forgotten)
        remember = runner.remember
        for k, cid, time in zip(
            kept.tolist(), released.customers[kept].tolist(), times[kept].tolist(), strict=True
        ):
            ident = ids[k]
            if ident is not None:
                seen = states[cid].seen
                seen.pop(ident, None)  # kept in time order, as RuleRunner.release keeps them
                seen[ident] = time
                remember(cid, time)
    return states


def fire_due(runner: RuleRunner, time: int) -> None:
    """Fire the timers due at or before ``time`` a rule at a time, as a large micro-batch fires
    those due before its frontier (:func:`~cxmodel.triggers._columnar_rules.run_rules` over no
    interaction): the same firings and state as ``runner.advance(time, inclusive=True)``, for
    an ``advance_to`` with many timers due (times are whole microseconds, so before
    ``time + 1`` is at or before ``time``)."""
    released = Released(RowColumns([]), np.zeros(0, dtype=np.int64), runner.seq)
    with collector_paused():
        run_rules(runner, released, {}, time + 1)


# -- the call ------------------------------------------------------------------------------
def take_many(
    delivery: Delivery,
    runner: RuleRunner,
    source: Source,
    now: Callable[[], int],
    window: int,
) -> tuple[list[Quarantined], list[Quarantined]]:
    """What :meth:`Delivery.take` does with the interactions of ``source``, a column or a
    rule at a time (see the module docstring): the same firings in ``runner.emitted`` and
    ``runner.suppressed``, the same state afterwards once the call's
    :meth:`Delivery.forget_ids` with the redelivery ``window`` has run. Return the late
    and refused rows."""
    if not source.n:
        return [], []
    with collector_paused():
        return _take_many(delivery, runner, source, now, window)


def _take_many(
    delivery: Delivery,
    runner: RuleRunner,
    source: Source,
    now: Callable[[], int],
    window: int,
) -> tuple[list[Quarantined], list[Quarantined]]:
    accepted, late, rejected = _admit(delivery, runner, source, now)
    top = delivery.max_seen
    if len(accepted):
        newest = int(source.times[accepted].max())
        top = newest if top is None or newest > top else top
    delivery.max_seen = top
    if top is None:
        return late, rejected
    frontier = delivery.frontier(top)
    items = _released(delivery, source, accepted, frontier)
    released = Released(source, items, runner.seq)
    # the ids the call's own forget_ids would forget are not kept: interactions are released
    # up to at least the frontier, and any id released before the last sweep is later
    states = _book(runner, released, sweep_mark(frontier, window)) if len(items) else {}
    run_rules(runner, released, states, frontier)
    if delivery.watermark is None or frontier > delivery.watermark:
        delivery.watermark = frontier
    return late, rejected
