"""Aggregates of a large micro-batch on arrays: a rule's small log (:class:`MicroBatchLog`, read
by ``_columnar_anchored.py``), its aggregates over that log combined with what the customers'
states hold from earlier calls (:class:`SeededContext`), and the states brought up to date with
the micro-batch (:func:`advance`, for ``_columnar_rules.py``), as taking its interactions one by
one leaves them.

An aggregate is combined from its parts (:func:`seedable`) when its function's value over a
history follows from the values over the history's parts (:data:`SEEDED`: ``count``, ``min``,
``max``, ``first``, ``last``), it is kept as running values or a window of a fixed duration,
and its ``where`` reads only the counted interaction.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel.expr import Aggregate, evaluate
from cxmodel.expr._aggregates import RunningValue
from cxmodel.triggers._codes import first_seen_codes, object_array
from cxmodel.triggers._context import LogContext, names_in, unordered
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._operators import AggregatePlan, unorderable

if TYPE_CHECKING:  # it imports this module
    from cxmodel.triggers._columnar import Released

__all__ = [
    "SEEDED",
    "MicroBatchLog",
    "Seed",
    "SeededContext",
    "advance",
    "log_column",
    "seedable",
    "state_seeds",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: For each function combined from its parts, the one value that steps a running value over
#: a part's values at once: the running value is then what stepping with each value in turn
#: leaves (``min`` and ``max`` keep the first of equal values; a count keeps only its count).
_PART_VALUE: dict[str, Callable[[list[Any]], Any]] = {
    "count": len,
    "min": min,
    "max": max,
    "first": operator.itemgetter(0),
    "last": operator.itemgetter(-1),
}
#: The functions whose value over a history is combined from its parts' values.
SEEDED = frozenset(_PART_VALUE)


def seedable(agg: AggregatePlan) -> bool:
    """Whether an aggregate is combined from its parts: its value over the log with its
    value over what the customer's state holds from before (see :class:`Seed`), and the
    state brought up to date on arrays (:func:`advance`)."""
    return (
        agg.mode != "pairs"
        and agg.func in SEEDED
        and (agg.within is None or agg.within.unit != "months")
    )


class Seed:
    """One aggregate over what the customers' states hold from before a micro-batch, by
    customer code of the micro-batch's log: each customer's running count and value, or
    the entries of its window (``within`` microseconds) sorted by customer and time."""

    def __init__(
        self, func: str, within: int | None, cust: IntArray, times: IntArray,
        counts: IntArray, values: FloatArray, n_customers: int,
    ) -> None:  # fmt: skip
        self.func = func
        self.within = within
        self.cust = cust
        self.times = times
        self.counts = counts
        self.values = values
        self.offsets = np.searchsorted(cust, np.arange(n_customers + 1)).astype(np.int64)

    def over(self, cust: IntArray, now: IntArray) -> tuple[IntArray, FloatArray]:
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

    def combined(
        self, counts: IntArray, before: FloatArray, inside: npt.NDArray[Any]
    ) -> npt.NDArray[Any]:
        """The aggregate over the state's values (``counts`` of them, ``before`` their
        function, as :meth:`over` gives them) followed by the log's (``inside``)."""
        func = self.func
        if func == "count":
            return inside + counts
        if func == "first":
            return np.where(counts > 0, before, inside)
        if func == "last":
            return np.where(np.isnan(inside), before, inside)
        pick = np.fmax if func == "max" else np.fmin
        return np.asarray(pick(inside, before) + 0.0)  # -0.0 is 0.0


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
        """One aggregate per query, over the log and, for the aggregates in :attr:`seeds`,
        what the customers' states hold before it."""
        inside = super().aggregate(node, rows, alias_rows, alias, end, now)
        seed = self.seeds.get(str(node))
        if seed is None or not len(rows):
            return inside
        counts, before = seed.over(self.codes[rows], np.asarray(now, dtype=np.int64))
        return seed.combined(counts, before, inside)


def state_seeds(
    aggregates: Mapping[str, AggregatePlan],
    states: Sequence[CustomerState | None],
    customers: npt.NDArray[Any],
    wanted: IntArray,
) -> dict[str, Seed] | None:
    """What the customers' states hold of each aggregate, for the customers a rule reads it
    for.

    Parameters
    ----------
    aggregates
        The aggregates, by their text, each :func:`seedable`.
    states
        The customers' states (``None``: none yet), by customer code.
    customers
        The customer ids of a micro-batch's log, by customer code.
    wanted
        The codes (ascending) of the customers whose states are read.

    Returns
    -------
    dict of str to Seed, or None
        Each aggregate's :class:`Seed`, by its text; ``None`` when a state holds a value
        that is not a number (text, true/false), which the batch evaluator reads apart.
    """
    out: dict[str, Seed] = {}
    if not aggregates:
        return out
    codes = wanted.tolist()
    found = list(map(states.__getitem__, codes))  # read once for every aggregate
    for key, agg in aggregates.items():
        cust: list[int] = []
        times: list[int] = []
        counts: list[int] = []
        values: list[Any] = []
        for code, state in zip(codes, found, strict=True):
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
        #: no declared types: the kernels read the columns as they are
        self.schema: dict[str, str] = {}
        self._categories = dict(categories)

    def __len__(self) -> int:
        return len(self.timestamps)

    def __contains__(self, name: object) -> bool:
        return name in self._columns or name in ("customer_id", "timestamp")

    def column(self, name: str) -> npt.NDArray[Any]:
        """The values of property ``name`` (see :func:`log_column`)."""
        return self._columns[name]

    def categorical(self, name: str) -> tuple[IntArray, npt.NDArray[Any]]:
        """Codes (-1: missing) and the values of a text column."""
        if name not in self._categories:
            values = self._columns[name]
            present = values != None  # noqa: E711 (elementwise)
            codes = np.full(len(values), -1, dtype=np.int64)
            codes[present], known = first_seen_codes(values[present])
            self._categories[name] = (codes, object_array(known))
        return self._categories[name]


def log_column(
    released: npt.NDArray[Any] | None, carried: list[Any], *, one_class: bool = False
) -> npt.NDArray[Any] | None:
    """One property over a micro-batch log's rows, as the batch evaluator reads a log's
    column.

    Parameters
    ----------
    released
        Its values for the released interactions (floats with NaN missing, or objects with
        ``None`` missing), or ``None`` when none of them has it.
    carried
        Its values for the rows carried from earlier calls, which come first (``None``
        missing).
    one_class
        Whether the released values are known to be of one class (as their source says):
        then only the first present one is looked at.

    Returns
    -------
    numpy.ndarray or None
        Floats (NaN missing) for numbers, objects (``None`` missing) for text and for
        true/false; ``None`` when the values mix text, numbers and true/false, which the
        batch evaluator would read differently from the per-interaction path.

    Examples
    --------
    >>> log_column(np.array([1.0, np.nan]), [2.0]).tolist()
    [2.0, 1.0, nan]
    >>> log_column(None, ["a", None]).tolist()
    ['a', None]
    >>> log_column(np.array(["a", 1.0], dtype=object), []) is None
    True
    >>> log_column(np.array(["b", None], dtype=object), ["a"], one_class=True).tolist()
    ['a', 'b', None]
    """
    numbers = released is not None and released.dtype.kind == "f"
    if numbers and not carried:
        return released
    if one_class and released is not None and not numbers:  # one look, not one per value
        first = next((v for v in released if v is not None), None)
        kinds = set(map(type, carried)) | {type(first)}
        kinds.discard(type(None))
        if not kinds or kinds == {str} or kinds == {bool}:
            return np.concatenate([object_array(carried), released]) if carried else released
    tail = [] if released is None else released.tolist()
    kinds = set(map(type, carried)) | set(map(type, tail))
    kinds.discard(type(None))
    if released is not None and not numbers and (not kinds or kinds == {str} or kinds == {bool}):
        # objects already: the released column as it is, after the carried values
        return np.concatenate([object_array(carried), released]) if carried else released
    values = carried + tail
    if float in kinds and numbers:  # the released NaNs are missing values
        values = [None if isinstance(v, float) and v != v else v for v in values]
        kinds = set(map(type, values))
        kinds.discard(type(None))
        kinds = kinds or {float}
    if not kinds or kinds == {str} or kinds == {bool}:
        return object_array(values)
    if kinds <= {float, int}:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return None


def advance(
    aggregates: list[AggregatePlan],
    released: Released,
    states: Mapping[str, CustomerState],
    traits: Mapping[str, Mapping[str, Any]],
) -> set[str]:
    """Take the released interactions into the customers' running values and windows, as
    taking them one by one does.

    A running value or a window is made at its first value; a window is trimmed at every
    interaction of its kind.

    Parameters
    ----------
    aggregates
        The aggregates to bring up to date.
    released
        The interactions a call releases, in release order.
    states
        The states of the customers with released interactions, by customer id.
    traits
        The customers' traits, by customer id (a window in months of a rule in customer
        time reads the customer's calendar).

    Returns
    -------
    set of str
        The store keys brought up to date; the others (not :func:`seedable`, or whose
        ``where`` the columns cannot decide as the per-interaction path does) are left to
        be taken in row by row.
    """
    done: set[str] = set()
    for agg in aggregates:
        if not seedable(agg):
            continue
        ks = released.reading({agg.kind})
        counted = _counted(agg, released, ks) if len(ks) else np.zeros(0, dtype=bool)
        if counted is None:
            continue
        done.add(agg.store_key)
        if not len(ks):
            continue
        values, present = _field_values(agg, released, ks)
        takes = counted if agg.func == "count" else counted & present
        if agg.mode == "window":
            entries, latest = _window_entries(released, ks, values, present, takes)
            _into_windows(agg, states, entries, latest, traits)
        else:
            customers = released.customers[ks].tolist()
            _into_running(agg, states, _values_by_customer(customers, values, takes))
    return done


def _counted(agg: AggregatePlan, released: Released, ks: IntArray) -> npt.NDArray[np.bool_] | None:
    """Whether each released interaction ``ks`` (of the aggregate's kind) counts for it,
    its ``where`` evaluated on columns; ``None`` when the ``where`` reads a trait or a
    column the batch evaluator would read apart from the per-interaction path."""
    where = agg.node.where
    if where is None:
        return np.ones(len(ks), dtype=bool)
    columns: dict[str, npt.NDArray[Any]] = {}
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
                np.full(len(ks), None, dtype=object) if fresh is None else log_column(fresh, [])
            )
            if values is None:
                return None
            columns[name.key] = values
    return np.asarray(evaluate(where, columns, n=len(ks))).astype(bool)


def _field_values(
    agg: AggregatePlan, released: Released, ks: IntArray
) -> tuple[list[Any], npt.NDArray[np.bool_]]:
    """The aggregated property of the released interactions ``ks`` (``True`` for each when
    the aggregate reads none, or none has it), and whether each has it."""
    raw = None if agg.field is None else released.column(agg.field, ks)
    if raw is None:
        return [True] * len(ks), np.zeros(len(ks), dtype=bool)
    if raw.dtype.kind == "f":
        return raw.tolist(), ~np.isnan(raw)
    return raw.tolist(), np.asarray(raw != None, dtype=bool)  # noqa: E711 (elementwise)


def _window_entries(
    released: Released,
    ks: IntArray,
    values: list[Any],
    present: npt.NDArray[np.bool_],
    takes: npt.NDArray[np.bool_],
) -> tuple[dict[str, list[tuple[int, int, Any]]], dict[str, int]]:
    """By customer, the window entries (time, release number, value) of the released
    interactions ``ks`` a window takes in (``takes``), in release order, with ``True`` for a
    missing value (a count's); and the time of the customer's last interaction among
    ``ks``."""
    entries: dict[str, list[tuple[int, int, Any]]] = {}
    latest: dict[str, int] = {}
    for cid, time, seq, value, has, took in zip(
        released.customers[ks].tolist(), released.times[ks].tolist(),
        (released.start + ks).tolist(), values, present.tolist(), takes.tolist(), strict=True,
    ):  # fmt: skip
        latest[cid] = time
        if took:
            entries.setdefault(cid, []).append((time, seq, value if has else True))
    return entries, latest


def _values_by_customer(
    customers: list[str], values: list[Any], takes: npt.NDArray[np.bool_]
) -> dict[str, list[Any]]:
    """By customer, the ``values`` a running value takes in (``takes``), in release order."""
    out: dict[str, list[Any]] = {}
    for cid, value, took in zip(customers, values, takes.tolist(), strict=True):
        if took:
            out.setdefault(cid, []).append(value)
    return out


def _into_windows(
    agg: AggregatePlan,
    states: Mapping[str, CustomerState],
    entries: dict[str, list[tuple[int, int, Any]]],
    latest: dict[str, int],
    traits: Mapping[str, Mapping[str, Any]],
) -> None:
    """Add the ``entries`` of each customer to its window of ``agg`` (made at its first
    entry), trimmed at the customer's ``latest`` interaction of the aggregate's kind."""
    assert agg.lookback is not None
    key = agg.store_key
    for cid, time in latest.items():
        state = states[cid]
        window = state.windows.get(key)
        fresh = entries.get(cid)
        if fresh:
            if window is None:
                window = state.windows[key] = deque()
            if agg.function.orders:
                _refuse_unordered(agg, window, fresh, traits.get(cid, {}))
            window.extend(fresh)
        agg.trim(state, time)


def _refuse_unordered(
    agg: AggregatePlan,
    window: deque[tuple[int, int, Any]],
    fresh: list[tuple[int, int, Any]],
    traits: Mapping[str, Any],
) -> None:
    """Refuse, as :meth:`AggregatePlan.update` does one entry at a time, a fresh entry that
    cannot be ordered against the entry before it, if that one is still in the window at
    its time (the entries in a window share one class: each was checked so against the one
    before it)."""
    before = window[-1] if window else None
    for entry in fresh:
        if (
            before is not None
            and unorderable(before[2], entry[2])
            and agg.in_window(before[0], entry[0], traits)
        ):
            raise unordered(agg.node, [before[2], entry[2]])
        before = entry


def _into_running(
    agg: AggregatePlan, states: Mapping[str, CustomerState], taken: dict[str, list[Any]]
) -> None:
    """Step each customer's running value of ``agg`` (made at its first value) with the
    values ``taken`` holds for it."""
    key, function, part_value = agg.store_key, agg.function, _PART_VALUE[agg.func]
    for cid, values in taken.items():
        state = states[cid]
        running = state.running.get(key)
        if running is None:
            running = state.running[key] = RunningValue(function)
        try:
            running.state = function.step(running.state, part_value(values), running.count + 1)
        except TypeError:  # text next to numbers
            raise unordered(agg.node, [running.state, *values]) from None
        running.count += len(values)
