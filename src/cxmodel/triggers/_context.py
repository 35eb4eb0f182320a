"""Evaluating rule expressions over a log: columns, history windows and aggregates."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from dateutil.relativedelta import relativedelta

from cxmodel._time import add_duration
from cxmodel.errors import EvaluationLimitError, ValueTypeError
from cxmodel.expr import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Duration,
    Expr,
    Name,
    evaluate,
    exact_sum,
    walk,
)
from cxmodel.expr import missing as is_missing
from cxmodel.triggers._calendar import CustomerTime, Zones, add_local_months, add_months

__all__ = [
    "MAX_PAIRS",
    "MAX_TOTAL_PAIRS",
    "EvaluatedLog",
    "LogContext",
    "add",
    "aggregates_in",
    "check_pairs",
    "names_in",
    "pair_budget",
    "shift",
    "unordered",
]

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[Any]

_PAIR_CHUNK = 1 << 21  # (query, row) pairs expanded at once by LogContext._aggregate_pairs
#: Most (query, row) pairs one evaluation may expand (aggregates over pairs, ``then``/``unless``
#: conditions on the bound interaction); beyond it, :class:`~cxmodel.errors.EvaluationLimitError`.
MAX_PAIRS = 500_000_000


#: Most (query, row) pairs one batch ``evaluate`` call may expand over all its rules.
MAX_TOTAL_PAIRS = 2_000_000_000
_SPENT: ContextVar[list[int] | None] = ContextVar("cxmodel_trigger_pairs", default=None)


@contextmanager
def pair_budget() -> Iterator[None]:
    """Count the pairs :func:`check_pairs` sees inside the block against
    :data:`MAX_TOTAL_PAIRS` (one batch evaluation)."""
    token = _SPENT.set([0])
    try:
        yield
    finally:
        _SPENT.reset(token)


def check_pairs(total: int, what: str, remedy: str) -> None:
    """Raise :class:`~cxmodel.errors.EvaluationLimitError` when ``total`` pairs exceed
    :data:`MAX_PAIRS`, or inside :func:`pair_budget` when the pairs counted so far exceed
    :data:`MAX_TOTAL_PAIRS`; ``what`` says what would be compared, ``remedy`` how to bound
    it."""
    if total > MAX_PAIRS:
        raise EvaluationLimitError(
            f"{what} would be tested on {total:,} pairs, more than the limit of "
            f"{MAX_PAIRS:,}; {remedy}"
        )
    spent = _SPENT.get()
    if spent is not None:
        spent[0] += total
        if spent[0] > MAX_TOTAL_PAIRS:
            raise EvaluationLimitError(
                f"this evaluation would test {spent[0]:,} (query, row) pairs over all its "
                f"rules, more than the limit of {MAX_TOTAL_PAIRS:,} for one call (reached at "
                f"{what}); evaluate fewer rules per call, bound aggregates with 'within', or "
                "evaluate fewer customers or a shorter history at a time"
            )


def add(times: IntArray, duration: Duration, zones: Zones | None = None) -> IntArray:
    """Add ``duration`` to microsecond times: months by calendar arithmetic in UTC, or on each
    time's local wall clock in ``zones`` (customer time); other units are fixed lengths."""
    if duration.unit == "months":  # may be negative: looking back a calendar month
        if zones is not None:
            return add_local_months(times, int(duration.amount), zones)
        months = relativedelta(months=int(duration.amount))
        return add_duration(np.asarray(times, dtype=np.int64), months)
    return np.asarray(times, dtype=np.int64) + duration.to_us()


def shift(time: int, duration: Duration, zone: str | None, sign: int = 1) -> int:
    """``time`` plus (``sign`` = -1: minus) ``duration``: months on the calendar of ``zone``
    (``None``: UTC), other units as fixed lengths."""
    if duration.unit != "months":
        return time + sign * duration.to_us()
    try:
        return add_months(time, int(sign * duration.amount), zone)
    except (ValueError, OverflowError):  # beyond the years a date holds: numpy's calendar
        zones = None if zone is None else Zones(np.zeros(1, dtype=np.int64), (zone,))
        step = Duration(sign * duration.amount, "months")
        return int(add(np.array([time], dtype=np.int64), step, zones)[0])


def names_in(expr: Expr | None) -> set[Name]:
    """Every :class:`Name` used in ``expr``, aggregates' ``where`` included (no recursion)."""
    return {node for node in walk(expr) if isinstance(node, Name)}


def aggregates_in(expr: Expr | None) -> list[Aggregate]:
    """Every :class:`Aggregate` in ``expr``, in source order (no recursion)."""
    return [node for node in walk(expr) if isinstance(node, Aggregate)]


class EvaluatedLog(Protocol):
    """What the batch evaluator reads of a log (an :class:`~cxmodel.log.InteractionLog`):
    rows sorted by customer and time, the customers' offsets, and columns by name."""

    @property
    def timestamps(self) -> npt.ArrayLike: ...
    @property
    def customer_codes(self) -> npt.ArrayLike: ...
    @property
    def offsets(self) -> npt.ArrayLike: ...
    @property
    def customers(self) -> Any: ...
    @property
    def schema(self) -> Mapping[str, str]: ...
    def __len__(self) -> int: ...
    def __contains__(self, name: object) -> bool: ...
    def categorical(self, name: str) -> tuple[Any, Any]: ...
    def column(self, name: str) -> Any: ...


class LogContext:
    """The sorted log's arrays, decoded columns and window helpers, cached per evaluation."""

    def __init__(
        self, log: EvaluatedLog, traits: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.log = log
        self.n = len(log)
        self.ts: IntArray = np.asarray(log.timestamps, dtype=np.int64)
        self.codes: IntArray = np.asarray(log.customer_codes, dtype=np.int64)
        self.offsets: IntArray = np.asarray(log.offsets, dtype=np.int64)
        self.customers = log.customers
        self.traits = traits or {}
        self.calendar: CustomerTime | None = None  # customer time (see in_customer_time)
        self.bound: LogContext | None = None  # where 'x.name' is read (see bound_to)
        self._columns: dict[str, Array] = {}
        kind_codes, kind_names = log.categorical("kind")
        self._kind_codes = np.asarray(kind_codes)
        self._kind_names = list(kind_names)
        self._kind_masks: dict[str, npt.NDArray[np.bool_]] = {}
        self.schema: dict[str, str] = dict(log.schema)
        self._keys: tuple[IntArray, IntArray] | None = None
        self._tie_rank: IntArray | None = None
        self._tie_end: IntArray | None = None
        self._direct: tuple[int, int, int, IntArray] | None = None

    def in_customer_time(self, rule: str) -> LogContext:
        """This context with calendar months (and quiet hours) on each customer's wall clock,
        for rule ``rule`` (named in errors about a customer's time zone); what was computed
        so far is shared."""
        local = copy.copy(self)
        local.calendar = CustomerTime(self.customers, self.traits, rule)
        return local

    def bound_to(self, events: LogContext) -> LogContext:
        """This context with the bound interaction (``x.name``) read from ``events``'s rows:
        a catalogue rule's event, which is not in this log; what was computed so far is
        shared."""
        joined = copy.copy(self)
        joined.bound = events
        return joined

    def zones(self, cust: IntArray) -> Zones | None:
        """The time zones of customer codes ``cust`` in customer time, else ``None`` (UTC)."""
        return None if self.calendar is None else self.calendar.zones(cust)

    def kind_mask(self, kind: str) -> npt.NDArray[np.bool_]:
        """Rows of ``kind``."""
        if kind not in self._kind_masks:
            if kind in self._kind_names:
                code = self._kind_names.index(kind)
                self._kind_masks[kind] = self._kind_codes == code
            else:
                self._kind_masks[kind] = np.zeros(self.n, dtype=bool)
        return self._kind_masks[kind]

    def column(self, name: str) -> Array:
        """Decoded column (object with ``None`` for strings, float with NaN); absent = missing."""
        if name not in self._columns:
            if name in self.log and name not in ("customer_id", "timestamp"):
                values = np.asarray(self.log.column(name))
                if values.dtype.kind in "iub":
                    values = values.astype(float)
                self._columns[name] = values
            elif name == "customer_id":
                self._columns[name] = np.asarray(self.customers, dtype=object)[self.codes]
            elif name == "timestamp":
                self._columns[name] = self.ts.astype(float)
            else:
                self._columns[name] = np.full(self.n, np.nan)
        return self._columns[name]

    def column_at(self, name: str, rows: IntArray) -> Array:
        """``column(name)[rows]``."""
        return self.column(name)[rows]

    def tie_end(self) -> IntArray:
        """Each row's index one past the last row of its customer at the same time."""
        if self._tie_end is None:
            last = np.ones(self.n, dtype=bool)
            last[:-1] = (self.codes[1:] != self.codes[:-1]) | (self.ts[1:] != self.ts[:-1])
            everywhere = np.arange(self.n, dtype=np.int64)
            ends = np.where(last, everywhere + 1, self.n + 1)
            self._tie_end = np.minimum.accumulate(ends[::-1])[::-1]
        return self._tie_end

    def _composite(self) -> tuple[IntArray, IntArray]:
        """(distinct times, row key) with key = customer * (distinct + 1) + time rank: sorted,
        so one ``searchsorted`` finds a (customer, time) position."""
        if self._keys is None:
            # each row's time rank from the sort itself: a searchsorted of every row's time
            # reads the distinct times at random, which costs seconds on millions of rows
            order = np.argsort(self.ts, kind="stable")
            ordered = self.ts[order]
            new = np.ones(self.n, dtype=bool)
            new[1:] = ordered[1:] != ordered[:-1]
            distinct = ordered[new]
            rank = np.empty(self.n, dtype=np.int64)
            rank[order] = np.cumsum(new) - 1
            self._keys = (distinct, self.codes * (len(distinct) + 1) + rank)
        return self._keys

    def _span(self) -> tuple[int, int, int] | None:
        """(first time, span, unit) when customer * span + (time - first) / unit fits in
        int64, else None. ``unit`` is the greatest common divisor of the times' offsets from
        the first (a second for exports stamped to the second), so a year of second-stamped
        interactions of millions of customers still fits."""
        if self.n == 0:
            return None
        lo, hi = int(self.ts.min()), int(self.ts.max())
        unit = int(np.gcd.reduce(self.ts - lo)) or 1
        span = (hi - lo) // unit + 3
        if span * (len(self.offsets) + 1) >= 2**62:
            return None
        return lo, span, unit

    def tie_rank_at(self, rows: IntArray) -> IntArray:
        """``tie_rank()[rows]``."""
        return self.tie_rank()[rows]

    def tie_rank(self) -> IntArray:
        """Each row's position among its customer's rows at the same time (0 for the first)."""
        if self._tie_rank is None:
            first = np.ones(self.n, dtype=bool)
            first[1:] = (self.codes[1:] != self.codes[:-1]) | (self.ts[1:] != self.ts[:-1])
            everywhere = np.arange(self.n, dtype=np.int64)
            self._tie_rank = everywhere - np.maximum.accumulate(np.where(first, everywhere, 0))
        return self._tie_rank

    def lower_bound(self, cust: IntArray, times: IntArray, *, strict: bool = False) -> IntArray:
        """Global index of the first row of customer ``cust`` with time >= ``times``
        (> ``times`` when ``strict``); the customer's end when there is none."""
        cust = np.asarray(cust, dtype=np.int64)
        times = np.asarray(times, dtype=np.int64)
        if len(cust) == 0:
            return np.zeros(0, dtype=np.int64)
        if self._direct is None:
            found = self._span()
            self._direct = (
                (0, 0, 1, np.zeros(0, dtype=np.int64))
                if found is None
                else (
                    found[0],
                    found[1],
                    found[2],
                    self.codes * found[1] + ((self.ts - found[0]) // found[2] + 1),
                )
            )
        lo, span, unit, direct = self._direct
        if span:  # keys without a sort: customer * span + (time - first) / unit + 1
            # the first row at or after t has a step >= ceil((t - first) / unit); after t,
            # a step >= floor((t - first) / unit) + 1 (steps are whole: times are multiples)
            step = (times - lo) // unit + 1 if strict else -((lo - times) // unit)
            offset = np.clip(step + 1, 0, span - 1)
            return np.searchsorted(direct, cust * span + offset).astype(np.int64)
        distinct, keys = self._composite()
        rank = np.searchsorted(distinct, times, side="right" if strict else "left")
        return np.searchsorted(keys, cust * (len(distinct) + 1) + rank).astype(np.int64)

    def evaluate(
        self,
        expr: Expr,
        rows: IntArray,
        *,
        alias: str | None = None,
        alias_rows: IntArray | None = None,
        end: IntArray | None = None,
        now: IntArray | None = None,
    ) -> Array:
        """Evaluate ``expr`` for each query: bare names at ``rows``, ``alias.x`` at
        ``alias_rows`` (rows of :attr:`bound` when it is set), aggregates over the customer's
        rows up to ``end`` (inclusive) at time ``now``."""
        rows = np.asarray(rows, dtype=np.int64)
        m = len(rows)
        columns: dict[str, Array] = {}
        for name in names_in(expr):
            if name.qualifier is None:
                columns[name.key] = self.column_at(name.name, rows)
            elif name.qualifier == "customer":
                ids = self.customers[self.codes[rows]] if m else np.zeros(0, dtype=object)
                values = [self.traits.get(str(c), {}).get(name.name) for c in ids]
                numeric = all(
                    v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                    for v in values
                ) and any(v is not None for v in values)  # true/false stay objects, as columns
                columns[name.key] = (
                    np.array([np.nan if v is None else float(v) for v in values])
                    if numeric
                    else np.array(
                        [
                            float(v)
                            if isinstance(v, (int, float)) and not isinstance(v, bool)
                            else v
                            for v in values
                        ],
                        dtype=object,
                    )  # numbers as floats next to text, as each customer's own reads them
                )
            elif name.qualifier == alias and alias_rows is not None:
                source = self if self.bound is None else self.bound
                columns[name.key] = source.column_at(name.name, alias_rows)
        end_rows = rows if end is None else np.asarray(end, dtype=np.int64)
        now_times = self.ts[rows] if now is None else np.asarray(now, dtype=np.int64)
        anchor = rows if alias_rows is None else alias_rows

        def aggregate(node: Aggregate) -> Array:
            return self.aggregate(node, rows, anchor, alias, end_rows, now_times)

        return evaluate(expr, columns, n=m, aggregate=aggregate)

    def aggregate(
        self,
        node: Aggregate,
        rows: IntArray,
        alias_rows: IntArray,
        alias: str | None,
        end: IntArray,
        now: IntArray,
    ) -> Array:
        """Compute one aggregate per query."""
        m = len(rows)
        cust = self.codes[rows] if m else np.zeros(0, dtype=np.int64)
        lo = self.offsets[cust]
        hi = end + 1
        if node.before is not None:
            hi = np.minimum(hi, alias_rows)
        if node.within is not None:
            lo = np.maximum(lo, self.lower_bound(cust, now - node.within.to_us()))
            if node.within.unit == "months":
                back = Duration(-node.within.amount, "months")
                start = add(now, back, self.zones(cust))
                lo = np.maximum(self.offsets[cust], self.lower_bound(cust, start))
        hi = np.maximum(hi, lo)
        kind = self.kind_mask(node.kind)
        uses_alias = any(n.qualifier is not None for n in names_in(node.where))
        if node.where is not None and not uses_alias:
            every = np.arange(self.n, dtype=np.int64)
            mask = kind & self.evaluate(node.where, every).astype(bool)
        else:
            mask = kind
        if node.where is not None and uses_alias:
            return self._aggregate_pairs(node, mask, lo, hi, alias_rows, alias)
        values = None if node.field is None else self.column(node.field)
        if node.func == "count":
            prefix = np.concatenate([[0], np.cumsum(mask)])
            return np.asarray(prefix[hi] - prefix[lo], dtype=float)
        assert values is not None
        if node.func in ("sum", "avg") and values.dtype.kind == "f":
            # each range's own values, summed exactly (correctly rounded, in any order)
            ok = mask & ~np.isnan(values)
            count = np.concatenate([[0], np.cumsum(ok)])
            first, counts = count[lo], count[hi] - count[lo]
            sums = np.zeros(len(lo))
            kept = values[ok].tolist()
            for j in np.flatnonzero(counts > 0).tolist():
                begin = int(first[j])
                sums[j] = exact_sum(kept[begin : begin + int(counts[j])])
            if node.func == "sum":
                return np.asarray(sums)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.asarray(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan))
        if values.dtype.kind == "f" and node.func in ("first", "last", "min", "max"):
            return self._extreme(node.func, mask & ~np.isnan(values), values, lo, hi)
        return self._aggregate_pairs(node, mask, lo, hi, alias_rows, alias)

    def _extreme(
        self, func: str, ok: npt.NDArray[np.bool_], values: Array, lo: IntArray, hi: IntArray
    ) -> Array:
        """first/last/min/max of ``values[ok]`` over each row range [lo, hi), NaN when empty."""
        n = self.n
        everywhere = np.arange(n, dtype=np.int64)
        if func == "first":  # the first usable row at or after lo
            following = np.minimum.accumulate(np.where(ok, everywhere, n)[::-1])[::-1]
            row = np.append(following, n)[lo]
            return np.where(row < hi, np.append(values, np.nan)[row], np.nan)
        if func == "last":  # the last usable row before hi
            preceding = np.maximum.accumulate(np.where(ok, everywhere, -1))
            row = np.concatenate([[-1], preceding])[hi]
            return np.where((row >= lo) & (row >= 0), values[np.maximum(row, 0)], np.nan)
        fill = -np.inf if func == "max" else np.inf
        padded = np.append(np.where(ok, values, fill), fill)
        reduce = np.maximum if func == "max" else np.minimum
        counts = np.concatenate([[0], np.cumsum(ok)])
        nonempty = counts[hi] > counts[lo]
        out = np.full(len(lo), np.nan)
        if nonempty.any():
            bounds = np.column_stack([lo[nonempty], hi[nonempty]]).ravel()
            out[nonempty] = reduce.reduceat(padded, bounds)[::2] + 0.0  # -0.0 is 0.0
        return out

    def _aggregate_pairs(
        self,
        node: Aggregate,
        mask: npt.NDArray[np.bool_],
        lo: IntArray,
        hi: IntArray,
        alias_rows: IntArray,
        alias: str | None,
    ) -> Array:
        """One aggregate per query over the rows of ``mask`` in its range [lo, hi).

        The (query, row) pairs are expanded in chunks of at most ``_PAIR_CHUNK`` pairs (a
        query whose range is longer gets a chunk of its own); a ``where`` naming the bound
        interaction is evaluated once per chunk, each pair seeing its query's
        ``alias_rows``. Missing values are skipped; a query with no value gets 0 for
        ``count``, ``distinct`` and ``sum`` and is missing otherwise (NaN, or ``None`` for a
        text field's ``first/last/min/max``).
        """
        m = len(lo)
        func = node.func
        values = None if node.field is None else self.column(node.field)
        text = values is not None and values.dtype.kind != "f"
        function = AGGREGATE_FUNCTIONS[func]
        out: Array
        if function.empty is not None:  # count, distinct, sum: a number even over nothing
            out = np.full(m, float(function.empty))
        elif text and function.result is None:  # first/last/min/max of text: None
            out = np.full(m, None, dtype=object)
        else:
            out = np.full(m, np.nan)
        usable = mask if values is None else mask & ~is_missing(values)
        found = np.flatnonzero(usable).astype(np.int64)
        first = np.searchsorted(found, lo).astype(np.int64)
        counts = np.searchsorted(found, hi).astype(np.int64) - first
        total = np.cumsum(counts)
        check_pairs(
            int(total[-1]) if m else 0,
            f"the aggregate {node}",
            "bound it with 'within D' or 'before x', or narrow its 'where'",
        )
        filtered = node.where is not None and any(
            n.qualifier is not None for n in names_in(node.where)
        )
        order: tuple[IntArray, Array] | None = None  # rank of each found row, sorted values
        if func == "distinct" or (func in ("min", "max") and text):
            assert values is not None
            order = _ranked(values[found], node)
        q = 0
        while q < m:
            done = int(total[q - 1]) if q else 0
            stop = max(q + 1, int(np.searchsorted(total, done + _PAIR_CHUNK, side="right")))
            n_pairs = int(total[stop - 1]) - done
            if n_pairs == 0:
                q = stop
                continue
            size = counts[q:stop]
            owner = np.repeat(np.arange(q, stop, dtype=np.int64), size)
            shift = first[q:stop] - (np.cumsum(size) - size)
            pos = np.arange(n_pairs, dtype=np.int64) + np.repeat(shift, size)
            if filtered:
                assert node.where is not None
                keep = self.evaluate(
                    node.where, found[pos], alias=alias, alias_rows=alias_rows[owner]
                ).astype(bool)
                owner, pos = owner[keep], pos[keep]
            if func == "count":
                out[q:stop] = np.bincount(owner - q, minlength=stop - q)
            elif len(pos):
                assert values is not None
                _reduce(func, values, found, order, owner - q, pos, out[q:stop])
            q = stop
        return out


def _ranked(values: Array, node: Aggregate) -> tuple[IntArray, Array]:
    """Each value's rank among the distinct ``values`` and those values in sorted order
    (equal values share a rank)."""
    try:
        ordered, rank = np.unique(values, return_inverse=True)
    except TypeError as exc:  # values that do not compare (e.g. text next to numbers)
        raise unordered(node, values.tolist()) from exc
    return np.asarray(rank, dtype=np.int64).ravel(), ordered


def unordered(node: Aggregate, values: list[Any]) -> ValueTypeError:
    """The error for an aggregate ordering ``values`` that do not compare (text next to
    numbers)."""
    kinds = sorted({type(v).__name__ for v in values})
    return ValueTypeError(
        f"{node}: the values of {node.field!r} cannot be ordered against each other "
        f"(types {kinds}); a field needs values of one type"
    )


def _reduce(
    func: str,
    values: Array,
    found: IntArray,
    order: tuple[IntArray, Array] | None,
    owner: IntArray,
    pos: IntArray,
    out: Array,
) -> None:
    """Write ``func`` of each query's values into ``out`` (a view of the chunk's queries):
    ``owner`` (sorted, local query index) and ``pos`` (into ``found``, ascending within a
    query) are the chunk's pairs, none empty and none missing."""
    start = np.flatnonzero(np.concatenate([[True], owner[1:] != owner[:-1]]))
    groups = owner[start]
    sizes = np.diff(np.append(start, len(owner)))
    if func == "first":
        out[groups] = values[found[pos[start]]]
    elif func == "last":
        out[groups] = values[found[pos[start + sizes - 1]]]
    elif func == "distinct":
        assert order is not None
        rank, ordered = order
        key = np.sort(owner * len(ordered) + rank[pos])  # nearly sorted already: by owner
        fresh = np.concatenate([[True], key[1:] != key[:-1]])
        out[:] = np.bincount(key[fresh] // len(ordered), minlength=len(out))
    elif func in ("min", "max"):
        reduce = np.minimum if func == "min" else np.maximum
        if order is None:  # numbers: reduce the values themselves
            out[groups] = reduce.reduceat(values[found[pos]], start) + 0.0  # -0.0 is 0.0
        else:  # text: the smallest / largest rank, read back as its value
            rank, ordered = order
            out[groups] = ordered[reduce.reduceat(rank[pos], start)]
    elif func in ("sum", "avg"):  # each group summed exactly, as every sum is
        gathered = values[found[pos]].astype(float).tolist()
        sums = np.array(
            [
                exact_sum(gathered[a : a + n])
                for a, n in zip(start.tolist(), sizes.tolist(), strict=True)
            ]
        )
        out[groups] = sums if func == "sum" else sums / sizes
    else:  # a function without an array kernel: its own reduction, group by group
        reduction = AGGREGATE_FUNCTIONS[func].reduce
        gathered = values[found[pos]].tolist()
        for group, first, size in zip(groups.tolist(), start.tolist(), sizes.tolist(), strict=True):
            out[group] = reduction(gathered[first : first + size])
