"""Batch evaluation of catalogue rules: catalogue events joined to the customers they reach,
as arrays.

For a rule ``when K as x [where C] for customers with B [where J] within D``, each catalogue
event of kind ``K`` satisfying ``C`` reaches every customer whose latest interaction of kind
``B`` with the event's keys and satisfying the rest of ``J`` lies in ``[x.time - D, x.time]``
(months on the customer's calendar when the rule is in customer time). The firing is at
``x.time`` and is decided as a timer at that time is: its ``if``, consent and payload see
every interaction of the customer at or before it. Then quiet hours, holdout, ``once``,
``cooldown`` and consent apply per customer, as for any rule (see ``_policies.py``).

The join sorts the events by (key, time) and the customers' matching interactions by (key,
customer, time): each interaction is the latest of its customer for the events of its key
from its time until the customer's next one (and at most ``within`` after it), which one
sorted search finds; the pairs found are the firings, expanded in chunks and counted against
the evaluation's pair budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.expr import Aggregate, Duration, Expr, Name, evaluate, missing
from cxmodel.triggers._candidates import upper_bound
from cxmodel.triggers._catalogue import Join, join_of
from cxmodel.triggers._context import LogContext, add, check_pairs, names_in
from cxmodel.triggers._evidence import tested_items
from cxmodel.triggers._firings import FiringBlock
from cxmodel.triggers._policies import (
    NEVER_EMITTED,
    consent_at,
    held_out_rows,
    month_zones,
    policy_verdicts,
    quiet_times,
    verdict_parts,
)
from cxmodel.triggers._rules import Rule

__all__ = ["Reached", "catalogue_firings", "reached", "why_not_reached"]

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[Any]

_CHUNK = 1 << 21  # (event, customer) pairs expanded at once


class Reached:
    """The customers catalogue events reached, before ``if`` and policies: parallel arrays,
    one entry per (event, customer) with the customer's latest matching interaction."""

    __slots__ = ("cust", "event", "time", "view")

    def __init__(self, cust: IntArray, event: IntArray, view: IntArray, time: IntArray) -> None:
        self.cust = cust  # customer codes of the log
        self.event = event  # rows of the catalogue events
        self.view = view  # rows of the customers' matching interactions
        self.time = time  # the events' times

    def __len__(self) -> int:
        return len(self.cust)

    def take(self, keep: npt.NDArray[Any]) -> Reached:
        """The entries at ``keep`` (indices or a mask)."""
        return Reached(self.cust[keep], self.event[keep], self.view[keep], self.time[keep])


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _events_of(events: LogContext, rule: Rule) -> IntArray:
    """Rows of the rule's catalogue kind where its ``when ... where`` holds."""
    assert rule.when.kind is not None
    rows = np.flatnonzero(events.kind_mask(rule.when.kind)).astype(np.int64)
    if rule.when.where is not None and len(rows):
        ok = events.evaluate(rule.when.where, rows, alias=rule.alias, alias_rows=rows)
        rows = rows[ok.astype(bool)]
    return rows


def _interactions_of(ctx: LogContext, join: Join) -> IntArray:
    """Rows of the customers' interactions of the join's kind that pass its test."""
    rows = np.flatnonzero(ctx.kind_mask(join.kind)).astype(np.int64)
    if join.test is not None and len(rows):
        rows = rows[ctx.evaluate(join.test, rows).astype(bool)]
    return rows


def _value_codes(a: Array, b: Array) -> tuple[IntArray, IntArray]:
    """Codes of the values of ``a`` and ``b`` in one vocabulary (equal values, equal codes);
    -1 for missing. Text never equals a number, so a text and a number column share none."""
    code_a = np.full(len(a), -1, dtype=np.int64)
    code_b = np.full(len(b), -1, dtype=np.int64)
    numeric_a, numeric_b = a.dtype.kind == "f", b.dtype.kind == "f"
    if numeric_a != numeric_b:
        return code_a, code_b
    has_a, has_b = ~missing(a), ~missing(b)
    values = np.concatenate([a[has_a], b[has_b]])
    if not numeric_a:
        values = values.astype(str)
    if len(values) == 0:
        return code_a, code_b
    _, inverse = np.unique(values, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    n_a = int(has_a.sum())
    code_a[has_a] = inverse[:n_a]
    code_b[has_b] = inverse[n_a:]
    return code_a, code_b


def _text_codes(source: LogContext, name: str, rows: IntArray) -> tuple[IntArray, Array] | None:
    """A text column's codes at ``rows`` (-1: missing) and its categories; ``None`` for a
    column that is not text."""
    if source.schema.get(name) != "string":
        return None
    codes, categories = source.log.categorical(name)
    return np.asarray(codes, dtype=np.int64)[rows], np.asarray(categories, dtype=object)


def _shared_codes(
    ctx: LogContext, mine: str, views: IntArray, events: LogContext, theirs: str, rows: IntArray
) -> tuple[IntArray, IntArray]:
    """Codes of the customers' ``mine`` at ``views`` and the events' ``theirs`` at ``rows``
    in one vocabulary (-1: missing). Two text columns are matched through their categories
    (a few values), not row by row."""
    a, b = _text_codes(ctx, mine, views), _text_codes(events, theirs, rows)
    if a is None or b is None:
        return _value_codes(ctx.column_at(mine, views), events.column_at(theirs, rows))
    (codes_a, cats_a), (codes_b, cats_b) = a, b
    both = np.concatenate([cats_a, cats_b]).astype(str)
    inverse = np.unique(both, return_inverse=True)[1].reshape(-1).astype(np.int64)
    to_a = np.append(inverse[: len(cats_a)], -1)  # code -1 (missing) reads the last entry
    to_b = np.append(inverse[len(cats_a) :], -1)
    return to_a[np.where(codes_a >= 0, codes_a, len(cats_a))], to_b[
        np.where(codes_b >= 0, codes_b, len(cats_b))
    ]


def _key_codes(
    ctx: LogContext, views: IntArray, events: LogContext, rows: IntArray, join: Join
) -> tuple[IntArray, IntArray]:
    """One code per key tuple for the customers' interactions and the events (-1: a key is
    missing, which matches nothing)."""
    if not join.keys:
        return np.zeros(len(views), dtype=np.int64), np.zeros(len(rows), dtype=np.int64)
    parts_v, parts_e = [], []
    for mine, theirs in join.keys:
        code_v, code_e = _shared_codes(ctx, mine, views, events, theirs, rows)
        parts_v.append(code_v)
        parts_e.append(code_e)
    if len(parts_v) == 1:
        return parts_v[0], parts_e[0]
    stacked = np.concatenate([np.column_stack(parts_v), np.column_stack(parts_e)])
    whole = (stacked >= 0).all(axis=1)
    codes = np.full(len(stacked), -1, dtype=np.int64)
    if whole.any():
        _, inverse = np.unique(stacked[whole], axis=0, return_inverse=True)
        codes[whole] = inverse.reshape(-1)
    return codes[: len(views)], codes[len(views) :]


def reached(ctx: LogContext, events: LogContext | None, rule: Rule) -> Reached:
    """Every (catalogue event, customer) the rule's join reaches, with the customer's latest
    matching interaction in the window (the last in log order among those at one time).

    Each customer's matching interactions of one key, in time order, split time into spans:
    the last one at a time is the latest for every event of that key from its time until the
    next one's (and at most ``within`` after it). So one sorted search per interaction finds
    the events it answers, and the pairs expanded are the firings found (with months, a few
    more, filtered on each customer's calendar).
    """
    none = Reached(_empty(), _empty(), _empty(), _empty())
    if events is None or events.n == 0 or ctx.n == 0:
        return none
    join = join_of(rule)
    rows = _events_of(events, rule)
    views = _interactions_of(ctx, join)
    if len(rows) == 0 or len(views) == 0:
        return none
    key_v, key_e = _key_codes(ctx, views, events, rows, join)
    views, key_v = views[key_v >= 0], key_v[key_v >= 0]
    rows, key_e = rows[key_e >= 0], key_e[key_e >= 0]
    if len(views) == 0 or len(rows) == 0:
        return none
    # the events by (key, time): one sorted array of key * span + time rank
    times_e = events.ts[rows]
    order = np.lexsort((rows, times_e, key_e))
    rows, key_e, times_e = rows[order], key_e[order], times_e[order]
    distinct = np.unique(times_e)
    span = len(distinct) + 1
    position = key_e * span + np.searchsorted(distinct, times_e)
    # the interactions by (key, customer, log order); each answers until the next one
    cust_v = ctx.codes[views]
    order = np.lexsort((views, cust_v, key_v))
    views, key_v, cust_v = views[order], key_v[order], cust_v[order]
    times_v = ctx.ts[views]
    never = np.iinfo(np.int64).max
    following = np.full(len(views), never, dtype=np.int64)
    same = (key_v[1:] == key_v[:-1]) & (cust_v[1:] == cust_v[:-1])
    following[:-1] = np.where(same, times_v[1:], never)
    reach = join.within.to_us() if join.within.unit != "months" else join.lookback
    last = np.where(following > times_v, np.minimum(following - 1, times_v + reach), -1)
    first = np.searchsorted(position, key_v * span + np.searchsorted(distinct, times_v))
    stop = np.searchsorted(position, key_v * span + np.searchsorted(distinct, last, "right"))
    counts = np.where(last >= times_v, np.maximum(stop - first, 0), 0)
    check_pairs(
        int(counts.sum()),
        f"rule {rule.name!r}: the customers the {rule.when.kind} events reach",
        "narrow the join (a more selective key or 'where', a shorter 'within')",
    )
    out: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    total = np.cumsum(counts)
    q = 0
    while q < len(views):
        done = int(total[q - 1]) if q else 0
        end = max(q + 1, int(np.searchsorted(total, done + _CHUNK, side="right")))
        size = counts[q:end]
        n_pairs = int(size.sum())
        if n_pairs:
            owner = np.repeat(np.arange(q, end, dtype=np.int64), size)
            offset = np.arange(n_pairs, dtype=np.int64) - np.repeat(np.cumsum(size) - size, size)
            event = np.repeat(first[q:end], size) + offset
            at = times_e[event]
            cust = cust_v[owner]
            if join.within.unit == "months":  # the window on each customer's calendar
                ok = times_v[owner] >= _window_start(ctx, cust, at, join.within)
                owner, event, at, cust = owner[ok], event[ok], at[ok], cust[ok]
            out.append((cust, rows[event], views[owner], at))
        q = end
    if not out:
        return none
    return Reached(*(np.concatenate([part[i] for part in out]) for i in range(4)))


def _window_start(ctx: LogContext, cust: IntArray, times: IntArray, within: Duration) -> IntArray:
    """``times - within``: months on each customer's calendar in customer time."""
    if within.unit != "months":
        return times - within.to_us()
    back = Duration(-within.amount, "months")
    return add(times, back, ctx.zones(cust))


def _at_events(
    ctx: LogContext,
    events: LogContext,
    rule: Rule,
    expr: Expr,
    found: Reached,
    end: IntArray,
) -> Array:
    """``expr`` of a catalogue rule's ``if`` or payload per firing: bare names and ``x.name``
    are the event's (``customer_id`` the customer's), traits and aggregates the customer's,
    over their interactions up to ``end`` at the event's time."""
    joined = ctx.bound_to(events)
    m = len(found)
    columns: dict[str, Array] = {}
    for name in names_in(expr):
        if name.qualifier == "customer":
            columns[name.key] = joined.evaluate(name, found.view)
        elif name.qualifier is None and name.name == "customer_id":
            columns[name.key] = ctx.column_at("customer_id", found.view)
        elif name.qualifier is None or name.qualifier == rule.alias:
            columns[name.key] = events.column_at(name.name, found.event)

    def aggregate(node: Aggregate) -> Array:
        return joined.aggregate(node, found.view, found.event, rule.alias, end, found.time)

    return evaluate(expr, columns, n=m, aggregate=aggregate)


def _tested(
    ctx: LogContext, events: LogContext, rule: Rule, found: Reached, end: IntArray
) -> dict[str, dict[str, Array]]:
    """The values ``because`` shows: the event's fields (``when``), the customer's
    interaction's (``with``), and the aggregates and traits of ``if`` at the event's time."""
    items = tested_items(rule)

    def fields(part: str, source: LogContext, rows: IntArray) -> dict[str, Array]:
        out: dict[str, Array] = {}
        for _, node in items[part]:
            assert isinstance(node, Name)
            name = node.name
            out[name] = (
                source.column_at(name, rows) if name in source.log else np.full(len(rows), None)
            )
        return out

    tested = {
        "when": fields("when", events, found.event),
        "with": fields("with", ctx, found.view),
        "if": {
            str(node): _at_events(ctx, events, rule, node, found, end) for _, node in items["if"]
        },
    }
    return {part: values for part, values in tested.items() if values}


def catalogue_firings(
    ctx: LogContext,
    events: LogContext | None,
    rule: Rule,
    as_of: int,
    customers: Mapping[str, Any],
) -> tuple[FiringBlock, FiringBlock]:
    """A catalogue rule's firings over the log and the catalogue events: (emitted,
    suppressed), after its ``if``, quiet hours and policies."""
    if rule.in_customer_time:
        ctx = ctx.in_customer_time(rule.name)
    found = reached(ctx, events, rule)
    times = quiet_times(ctx, rule, found.cust, found.time)
    due = times <= as_of
    found, times = found.take(due), times[due]
    end = upper_bound(ctx, found.cust, found.time) - 1  # the history a timer at x.time sees
    if rule.condition is not None and len(found):
        assert events is not None
        holds = _at_events(ctx, events, rule, rule.condition, found, end).astype(bool)
        found, times, end = found.take(holds), times[holds], end[holds]
    order = np.lexsort((found.event, times, found.cust))
    found, times, end = found.take(order), times[order], end[order]
    if rule.consent is not None:  # every interaction at or before the (delayed) firing
        last = upper_bound(ctx, found.cust, times) - 1
        consent = consent_at(ctx, rule.consent, found.cust, last, customers)
    else:
        consent = np.ones(len(found), dtype=bool)
    previous = np.full(len(ctx.offsets) - 1, NEVER_EMITTED, dtype=np.int64)
    zones = month_zones(ctx, rule, found.cust)
    held = held_out_rows(ctx, rule, found.cust)
    reasons = policy_verdicts(rule, found.cust, times, consent, previous, zones, held)
    tested: dict[str, dict[str, Array]] = {}
    payloads: dict[str, Array] = {}
    if len(found):
        assert events is not None
        tested = _tested(ctx, events, rule, found, end)
        payloads = {
            key: _at_events(ctx, events, rule, expr, found, end) for key, expr in rule.emit.payload
        }
    emitted, suppressed = (
        _block(ctx, events, rule, found.take(part), times[part], values, why, because)
        for part, why, values, because in verdict_parts(reasons, payloads, tested)
    )
    return emitted, suppressed


def _block(
    ctx: LogContext,
    events: LogContext | None,
    rule: Rule,
    found: Reached,
    times: IntArray,
    payloads: dict[str, Array],
    reason: npt.NDArray[Any] | None,
    tested: dict[str, dict[str, Array]],
) -> FiringBlock:
    kinds = np.asarray(ctx._kind_names, dtype=object)
    m = len(found)
    if events is None or m == 0:
        when_kind = np.full(m, rule.when.kind, dtype=object)
        when_time, when_id, rank = _empty(), None, _empty()
    else:
        when_kind = np.asarray(events._kind_names, dtype=object)[events._kind_codes[found.event]]
        when_time = events.ts[found.event]
        has_ids = "interaction_id" in events.log
        when_id = events.column_at("interaction_id", found.event) if has_ids else None
        rank = events.tie_rank_at(found.event)
    with_id = ctx.column_at("interaction_id", found.view) if "interaction_id" in ctx.log else None
    return FiringBlock(
        trigger=rule.name,
        action=rule.emit.action,
        customer=np.asarray(ctx.customers, dtype=object)[found.cust],
        rank=found.cust,
        time=times,
        when_kind=when_kind,
        when_time=when_time,
        when_id=when_id,
        anchor_rank=rank,
        restart=False,
        then_kind=kinds[ctx._kind_codes[found.view]],
        then_time=ctx.ts[found.view],
        then_id=with_id,
        delayed_from=found.time if rule.quiet is not None else None,
        payload=payloads,
        reason=reason,
        tested=tested,
        matched_as="with",
    )


def why_not_reached(ctx: LogContext, events: LogContext | None, rule: Rule) -> str:
    """Which part of a catalogue rule stopped it for the customers of ``ctx`` (for
    :func:`~cxmodel.triggers.explain`, when it found no firing)."""
    kind = rule.when.kind
    if events is None:
        return f"no catalogue events given (the rule reads {kind} catalogue events)"
    n_events = int(events.kind_mask(str(kind)).sum())
    if n_events == 0:
        return f"no {kind} catalogue event up to as_of"
    if len(_events_of(events, rule)) == 0:
        return f"{n_events} {kind} catalogue event(s), none where {rule.when.where}"
    reach = rule.when.reach
    assert reach is not None
    if len(reached(ctx, events, rule)) == 0:
        return (
            f"no {reach.kind} interaction matched a {kind} event within {reach.within} "
            f"before it ('for customers with {reach}')"
        )
    if rule.condition is not None:
        return f"reached by {kind} event(s), but 'if {rule.condition}' was false each time"
    return f"reached by {kind} event(s) not due by as_of (quiet hours)"
