"""Aggregates of a large micro-batch on arrays (for ``_columnar_anchored.py``): the rule's small
log, its aggregates over that log combined with what the customers' states hold from earlier
calls (:class:`SeededContext`), and the states brought up to date with the micro-batch
(:func:`advance`), as taking its interactions one by one leaves them.

An aggregate is combined from its parts when its function's value over a history follows from
the values over the history's parts (:data:`SEEDED`: ``count``, ``min``, ``max``, ``first``,
``last``), it is kept as running values or a window of a fixed duration, and its ``where``
reads only the counted interaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.expr import Aggregate, evaluate
from cxmodel.expr._aggregates import RunningValue
from cxmodel.triggers._context import LogContext, names_in, unordered
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._operators import AggregatePlan

__all__ = [
    "SEEDED",
    "MicroBatchLog",
    "Seed",
    "SeededContext",
    "advance",
    "column_values",
    "seedable",
    "state_seeds",
]

IntArray = npt.NDArray[np.int64]


def seedable(agg: AggregatePlan) -> bool:
    """Whether an aggregate can be read as its value over the log combined with the value
    over what the customer's state holds from before (see :class:`Seed`)."""
    return (
        agg.mode != "pairs"
        and agg.func in SEEDED
        and (agg.within is None or agg.within.unit != "months")
    )


#: the functions whose value over a history is combined from its parts' values
SEEDED = frozenset(("count", "min", "max", "first", "last"))


class Seed:
    """One aggregate over what the customers' states hold from before a micro-batch, by
    customer code of the micro-batch's log: each customer's running count and value, or
    the entries of its window (``within`` microseconds) sorted by customer and time."""

    def __init__(
        self, func: str, within: int | None, cust: IntArray, times: IntArray,
        counts: IntArray, values: npt.NDArray[np.float64], n_customers: int,
    ) -> None:  # fmt: skip
        self.func = func
        self.within = within
        self.cust = cust
        self.times = times
        self.counts = counts
        self.values = values
        self.offsets = np.searchsorted(cust, np.arange(n_customers + 1)).astype(np.int64)

    def over(self, cust: IntArray, now: IntArray) -> tuple[IntArray, npt.NDArray[np.float64]]:
        """Per query (customer ``cust`` at time ``now``): how many values the state holds
        for it and the function of them (NaN for none)."""
        lo, hi = self.offsets[cust], self.offsets[cust + 1]
        counts = np.zeros(len(cust), dtype=np.int64)
        values = np.full(len(cust), np.nan)
        if self.within is None:  # one running value per customer
            has = hi > lo
            counts[has] = self.counts[lo[has]]
            values[has] = self.values[lo[has]]
            return counts, values
        start = now - self.within  # the window's entries at or after now - D
        times = np.unique(np.concatenate([self.times, start]))
        width = len(times) + 1
        keys = self.cust * width + np.searchsorted(times, self.times)
        lo = np.searchsorted(keys, cust * width + np.searchsorted(times, start))
        counts[:] = hi - lo
        found = counts > 0
        if self.func == "first":
            values[found] = self.values[lo[found]]
        elif self.func == "last":
            values[found] = self.values[hi[found] - 1]
        elif self.func in ("min", "max") and found.any():
            reduce = np.maximum if self.func == "max" else np.minimum
            bounds = np.column_stack([lo[found], hi[found]]).ravel()
            values[found] = reduce.reduceat(np.append(self.values, np.nan), bounds)[::2]
        return counts, values

    def combined(self, counts: IntArray, before: Any, inside: Any) -> Any:
        """The aggregate over the state's values (``counts`` of them, ``before`` their
        function) followed by the log's (``inside``)."""
        func = self.func
        if func == "count":
            return inside + counts
        if func == "first":
            return np.where(counts > 0, before, inside)
        if func == "last":
            return np.where(np.isnan(inside), before, inside)
        pick = np.fmax if func == "max" else np.fmin
        return pick(inside, before) + 0.0  # -0.0 is 0.0


class SeededContext(LogContext):
    """A micro-batch's log whose aggregates also take in what the customers' states hold
    from earlier calls (``seeds`` by the aggregate's text)."""

    def __init__(
        self, log: MicroBatchLog, traits: Mapping[str, Mapping[str, Any]], seeds: dict[str, Seed]
    ) -> None:
        super().__init__(log, traits)
        self.seeds = seeds

    def aggregate(
        self,
        node: Aggregate,
        rows: IntArray,
        alias_rows: IntArray,
        alias: str | None,
        end: IntArray,
        now: IntArray,
    ) -> npt.NDArray[Any]:
        inside = super().aggregate(node, rows, alias_rows, alias, end, now)
        seed = self.seeds.get(str(node))
        if seed is None or not len(rows):
            return inside
        counts, before = seed.over(self.codes[rows], np.asarray(now, dtype=np.int64))
        return np.asarray(seed.combined(counts, before, inside))


def state_seeds(
    aggregates: Mapping[str, AggregatePlan],
    states: Mapping[str, CustomerState],
    customers: npt.NDArray[Any],
    wanted: IntArray,
) -> dict[str, Seed] | None:
    """The ``aggregates`` (by text) over what the states of customers ``wanted`` (codes,
    ascending, of the log's ``customers``) hold; ``None`` when a value is not a number (the
    batch evaluator would read it apart)."""
    out: dict[str, Seed] = {}
    names = customers[wanted].tolist()
    for key, agg in aggregates.items():
        cust: list[int] = []
        times: list[int] = []
        counts: list[int] = []
        values: list[Any] = []
        for code, cid in zip(wanted.tolist(), names, strict=True):
            state = states.get(cid)
            if state is None:
                continue
            if agg.mode == "running":
                running = state.running.get(agg.store_key)
                if running is not None and running.count:
                    cust.append(code)
                    counts.append(running.count)
                    values.append(np.nan if agg.func == "count" else running.state)
            else:
                for time, _, value in state.windows.get(agg.store_key, ()):
                    cust.append(code)
                    times.append(time)
                    counts.append(1)
                    values.append(np.nan if agg.func == "count" else value)
        if not all(type(v) is float for v in values):
            return None
        within = None if agg.within is None else agg.within.to_us()
        out[key] = Seed(
            agg.func, within, np.array(cust, dtype=np.int64), np.array(times, dtype=np.int64),
            np.array(counts, dtype=np.int64), np.array(values, dtype=np.float64), len(customers),
        )  # fmt: skip
    return out


class MicroBatchLog:
    """The small log of one rule's micro-batch, as the batch evaluator reads a log
    (:class:`~cxmodel.triggers._context.EvaluatedLog`): rows sorted by customer code and
    release order; ``categories`` holds text columns already coded (codes, values)."""

    def __init__(
        self,
        customers: npt.NDArray[Any],
        codes: IntArray,
        times: IntArray,
        columns: dict[str, npt.NDArray[Any]],
        categories: dict[str, tuple[IntArray, npt.NDArray[Any]]],
    ) -> None:
        self.customers = customers
        self.customer_codes = codes
        self.timestamps = times
        self.offsets = np.searchsorted(codes, np.arange(len(customers) + 1)).astype(np.int64)
        self._columns = columns
        self.schema: dict[str, str] = {}
        self._categories = dict(categories)

    def __len__(self) -> int:
        return len(self.timestamps)

    def __contains__(self, name: object) -> bool:
        return name in self._columns or name in ("customer_id", "timestamp")

    def column(self, name: str) -> npt.NDArray[Any]:
        return self._columns[name]

    def categorical(self, name: str) -> tuple[IntArray, npt.NDArray[Any]]:
        """Codes (-1: missing) and the values of a text column."""
        if name not in self._categories:
            values = self._columns[name]
            present = values != None  # noqa: E711 (elementwise)
            codes = np.full(len(values), -1, dtype=np.int64)
            known: dict[Any, int] = {}  # not through numpy text, which drops trailing NULs
            codes[present] = [known.setdefault(v, len(known)) for v in values[present].tolist()]
            names = np.empty(len(known), dtype=object)
            names[:] = list(known)
            self._categories[name] = (codes, names)
        return self._categories[name]


def column_values(released: npt.NDArray[Any] | None, carried: list[Any]) -> npt.NDArray[Any] | None:
    """One property over the log's rows (the carried anchors' then the released ones), as the
    batch evaluator reads a log's column: floats (NaN missing) for numbers, objects (``None``
    missing) for text and for true/false; ``None`` when the values mix text, numbers and
    true/false, which the batch evaluator would read differently."""
    if released is not None and released.dtype.kind == "f" and not carried:
        return released
    values = carried + ([] if released is None else released.tolist())
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if float in kinds and released is not None and released.dtype.kind == "f":
        values = [None if isinstance(v, float) and v != v else v for v in values]  # NaN
        kinds = set(map(type, values))
        kinds.discard(type(None))
        kinds = kinds or {float}
    if not kinds or kinds == {str} or kinds == {bool}:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if kinds <= {float, int}:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return None


def _where(agg: AggregatePlan, released: Any, ks: IntArray) -> npt.NDArray[np.bool_] | None:
    """Whether each released interaction ``ks`` (of the aggregate's kind) counts for it,
    evaluated on columns; ``None`` when its ``where`` reads a trait or a column the batch
    evaluator would read apart from the per-interaction path."""
    where = agg.node.where
    if where is None:
        return np.ones(len(ks), dtype=bool)
    columns: dict[str, Any] = {}
    for name in names_in(where):
        if name.qualifier is not None:
            return None
        if name.name == "customer_id":
            columns[name.key] = released.customers[ks]
        elif name.name == "timestamp":
            columns[name.key] = released.times[ks].astype(float)
        else:
            fresh = released.column(name.name, ks)
            values = (
                np.full(len(ks), None, dtype=object) if fresh is None
                else column_values(fresh, [])
            )  # fmt: skip
            if values is None:
                return None
            columns[name.key] = values
    return np.asarray(evaluate(where, columns, n=len(ks))).astype(bool)


def advance(
    aggregates: list[AggregatePlan], released: Any, states: Mapping[str, CustomerState]
) -> set[str]:
    """Take the released interactions into the customers' running values and windows of
    ``aggregates``, as taking them one by one does (a running value or a window is made at
    its first value; a window is trimmed at every interaction of its kind). Return the
    store keys brought up to date; the rest (not :func:`seedable`, or whose columns cannot
    be read so) are left to be replayed row by row."""
    done: set[str] = set()
    for agg in aggregates:
        if not seedable(agg):
            continue
        ks = released.reading({agg.kind})
        counts = _where(agg, released, ks) if len(ks) else np.zeros(0, dtype=bool)
        if counts is None:
            continue
        done.add(agg.store_key)
        if not len(ks):
            continue
        field = agg.field
        raw = None if field is None else released.column(field, ks)
        if raw is None:
            present = np.zeros(len(ks), dtype=bool)
        elif raw.dtype.kind == "f":
            present = ~np.isnan(raw)
        else:
            present = np.asarray(raw != None, dtype=bool)  # noqa: E711 (elementwise)
        taken = counts if agg.func == "count" else counts & present
        customers = released.customers[ks].tolist()
        times = released.times[ks].tolist()
        values = [True] * len(ks) if raw is None else raw.tolist()
        start = released.start
        groups: dict[str, list[int]] = {}
        for j, cid in enumerate(customers):
            groups.setdefault(cid, []).append(j)
        took = taken.tolist()
        if agg.mode == "window":
            assert agg.lookback is not None
            for cid, js in groups.items():
                state = states[cid]
                buffer = state.windows.get(agg.store_key)
                fresh = [
                    (times[j], start + int(ks[j]), values[j] if present[j] else True)
                    for j in js
                    if took[j]
                ]
                if fresh:
                    if buffer is None:
                        buffer = state.windows[agg.store_key] = deque()
                    buffer.extend(fresh)
                if buffer:
                    oldest = times[js[-1]] - agg.lookback
                    while buffer and buffer[0][0] < oldest:
                        buffer.popleft()
            continue
        function = agg.function
        for cid, js in groups.items():
            mine = [values[j] for j in js if took[j]]
            if not mine:
                continue
            state = states[cid]
            running = state.running.get(agg.store_key)
            if running is None:
                running = state.running[agg.store_key] = RunningValue(function)
            if agg.func == "count":
                running.count += len(mine)
                continue
            if agg.func in ("min", "max"):
                kept = running.state
                try:
                    best = max(mine) if agg.func == "max" else min(mine)
                    value = mine[mine.index(best)]  # the first of equal values, as one by one
                    if running.count == 0 or (value > kept if agg.func == "max" else value < kept):
                        running.state = value
                except TypeError:  # text next to numbers
                    raise unordered(agg.node, [kept, *mine]) from None
            elif agg.func == "first":
                if running.count == 0:
                    running.state = mine[0]
            else:  # last
                running.state = mine[-1]
            running.count += len(mine)
    return done
