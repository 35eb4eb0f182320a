"""Rules compiled for the streaming engine: per-customer operators in plain Python.

A :class:`RulePlan` says what one rule does with each released interaction of a customer
(anchor, complete, block or restart a firing) and with each timer; an :class:`AggregatePlan`
how one aggregate is kept (running values, a time-trimmed buffer, or kept rows) and read.
Both read and change a :class:`~cxmodel.triggers._customer.CustomerState` only; the engine
orders the work in event time and applies the policies.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from cxmodel._result import plain
from cxmodel.expr import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Binary,
    Call,
    Expr,
    InList,
    Literal,
    Name,
    Unary,
    walk,
)
from cxmodel.expr._aggregates import RunningValue
from cxmodel.expr._evaluate import COMPARISONS
from cxmodel.triggers._calendar import _zone_name
from cxmodel.triggers._context import aggregates_in, names_in, shift, unordered
from cxmodel.triggers._customer import Anchor, CustomerState
from cxmodel.triggers._evidence import outer_nodes, tested_items
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._policies import absence, consent_key
from cxmodel.triggers._rules import Rule
from cxmodel.triggers._scalar import Env, Scalar, compile_expr

__all__ = ["AggregatePlan", "Candidate", "Reader", "RulePlan", "iso_text", "numeric_fields"]

_DAY = 86_400_000_000


def _running_key(node: Aggregate) -> str:
    return f"{node.func}|{node.kind}|{node.field}|{node.where}"


def _reads_interaction(rule: Rule) -> bool:
    """Whether a clause of ``rule`` reads a property of the interaction a firing anchors on:
    a name outside aggregates (an aggregate's own names are the counted interaction's) that
    is not a customer's trait."""
    return any(
        isinstance(node, Name) and node.qualifier != "customer"
        for expr in rule.expressions()
        for node in outer_nodes(expr)
    )


def unorderable(kept: Any, value: Any) -> bool:
    """Whether ``value`` cannot be ordered against ``kept`` (one text, the other a number or
    true/false): an aggregate that orders its values refuses it where it comes, not at a
    later evaluation, which would fail every call that reads the window until it leaves."""
    return isinstance(kept, str) != isinstance(value, str)


class AggregatePlan:
    """How one aggregate is kept per customer and read per query.

    - ``running``: no ``within`` and a ``where`` that does not name the bound interaction:
      running values over every matching interaction (``before x`` reads them as they were
      at x);
    - ``window``: ``within D``: a buffer of (time, release number, value) trimmed to ``D``;
    - ``pairs``: a ``where`` naming the bound interaction: the kind's rows are kept (trimmed
      to the window when there is one) and tested against each query's bound interaction.
    """

    def __init__(self, node: Aggregate, alias: str | None) -> None:
        self.node = node
        self.key = str(node)
        self.kind = node.kind
        self.func = node.func
        self.function = AGGREGATE_FUNCTIONS[node.func]
        self.field = node.field
        self.before = node.before is not None
        self.within = node.within
        pairs = any(n.qualifier is not None for n in names_in(node.where))
        self.mode = "pairs" if pairs else ("window" if node.within is not None else "running")
        self.store_key = _running_key(node) if self.mode != "pairs" else node.kind
        if self.mode == "window":
            self.store_key = f"{_running_key(node)}|{node.within}"
        self.where: Scalar | None = (
            None if node.where is None else compile_expr(node.where, alias if pairs else None)
        )
        #: whether a rule in customer time reads it (its months are on the customer's
        #: calendar there)
        self.zoned = False
        within = node.within
        self.lookback: int | None = (
            None
            if within is None
            else within.amount * 31 * _DAY + 2 * _DAY
            if within.unit == "months"
            else within.to_us()
        )

    def in_window(self, kept: int, time: int, traits: Mapping[str, Any]) -> bool:
        """Whether a value kept at time ``kept`` is in a window read at ``time`` (and so in
        every window that holds the value at ``time``, read then or later): in calendar
        months on the UTC calendar and, where a rule in customer time reads the aggregate,
        on the customer's. ``lookback`` only bounds what is kept."""
        within = self.within
        if within is None:
            return True
        if within.unit != "months":
            return kept >= time - within.to_us()
        start = shift(time, within, None, -1)
        if self.zoned:
            zone = _zone_name("", traits.get("timezone"), "")
            start = min(start, shift(time, within, zone, -1))
        return kept >= start

    def matches(self, row: Row, customer: str, traits: Mapping[str, Any]) -> bool:
        """Whether ``row`` counts for a running or window aggregate (its ``where`` holds)."""
        return self.where is None or bool(self.where(Env(row.fields, row.time, customer, traits)))

    def update(
        self, state: CustomerState, row: Row, customer: str, traits: Mapping[str, Any]
    ) -> None:
        """Take ``row`` (of this aggregate's kind) into the customer's running values or
        window; rows for pair aggregates are kept by :meth:`RulePlan`'s owner."""
        if not self.matches(row, customer, traits):
            return
        value: Any = True if self.field is None else row.fields.get(self.field)
        if value is None or value != value:
            if self.func != "count":
                return
            value = True
        if self.mode == "window":
            buffer = state.windows.get(self.store_key)
            if buffer is None:
                buffer = state.windows[self.store_key] = deque()
            elif self.function.orders:
                self.trim(state, row.time)  # as release trims it after this row
                if (
                    buffer
                    and unorderable(buffer[-1][2], value)
                    and self.in_window(buffer[-1][0], row.time, traits)
                ):
                    raise unordered(self.node, [buffer[-1][2], value])
            buffer.append((row.time, row.seq, value))
            return
        running = state.running.get(self.store_key)
        if running is None:
            running = state.running[self.store_key] = RunningValue(self.function)
        try:
            running.add(self.function, value)
        except TypeError:  # text next to numbers: min/max cannot order them
            raise unordered(self.node, [running.state, value]) from None

    def refuse_held(
        self,
        states: Mapping[str, CustomerState],
        held: list[Row],
        traits: Mapping[str, Mapping[str, Any]],
    ) -> None:
        """Refuse what :meth:`update` would refuse of the interactions ``held`` back for
        lateness (in release order) when they are released: a value that cannot be ordered
        against the one before it (the customer's running value, or the last entry of their
        window still in it at its time). A running or window aggregate that orders its
        values (``min``, ``max``) only."""
        if not self.function.orders or self.mode == "pairs" or self.field is None:
            return
        key = self.store_key
        before: dict[str, tuple[int | None, Any] | None] = {}
        for row in held:
            cid = row.customer
            value = row.fields.get(self.field)
            if row.kind != self.kind or value is None or value != value:
                continue
            if not self.matches(row, cid, traits.get(cid, {})):
                continue
            if cid in before:
                last = before[cid]
            else:  # what the customer's state holds
                state = states.get(cid)
                running = None if state is None else state.running.get(key)
                window = None if state is None else state.windows.get(key)
                last = (
                    (None, running.state) if running is not None and running.count
                    else (window[-1][0], window[-1][2]) if window
                    else None
                )  # fmt: skip
            if (
                last is not None
                and unorderable(last[1], value)
                and (last[0] is None or self.in_window(last[0], row.time, traits.get(cid, {})))
            ):
                raise unordered(self.node, [last[1], value])
            before[cid] = (row.time, value)

    def of(self, values: list[Any]) -> Any:
        """The function of ``values`` (an error naming the aggregate when they do not
        compare)."""
        try:
            return self.function.of(values)
        except TypeError:
            raise unordered(self.node, values) from None

    def trim(self, state: CustomerState, time: int) -> None:
        """Drop from the customer's window the values older than ``time`` minus the look-back
        (what no query at ``time`` or later reads); done at every interaction of the kind."""
        buffer = state.windows.get(self.store_key)
        if buffer and self.lookback is not None:
            oldest = time - self.lookback
            while buffer and buffer[0][0] < oldest:
                buffer.popleft()

    def running_value(self, state: CustomerState) -> Any:
        """The aggregate over every matching interaction so far."""
        running = state.running.get(self.store_key)
        return self.function.empty if running is None else running.value(self.function)

    def value(
        self,
        state: CustomerState,
        now: int,
        alias: Row | None,
        snapshot: Mapping[str, Any],
        traits: Mapping[str, Any],
        zone: str | None,
    ) -> Any:
        """The aggregate for one query at time ``now`` with bound interaction ``alias``."""
        if self.mode == "running":
            if self.before:
                return snapshot.get(self.key)
            return self.running_value(state)
        start = None if self.within is None else shift(now, self.within, zone, -1)
        limit = alias.seq if (self.before and alias is not None) else None
        values: list[Any] = []
        if self.mode == "window":
            for time, seq, value in state.windows.get(self.store_key, ()):
                if (start is None or time >= start) and (limit is None or seq < limit):
                    values.append(value)
            return self.of(values)
        where = self.where
        alias_fields = None if alias is None else alias.fields
        alias_time = None if alias is None else alias.time
        field = self.field
        for row in state.kept.get(self.kind, ()):
            if (start is not None and row.time < start) or (limit is not None and row.seq >= limit):
                continue
            if where is not None and not where(
                Env(row.fields, row.time, state.customer, traits, alias_fields, None, alias_time)
            ):
                continue
            value = True if field is None else row.fields.get(field)
            if value is None or value != value:
                if self.func != "count":
                    continue
                value = True
            values.append(value)
        return self.of(values)


class Candidate:
    """A firing found, before its policies: the rule, customer, time (before quiet hours),
    anchoring and matched interactions, payload and the values its clauses tested.

    ``part`` is where ``because`` shows the matched interaction: ``"then"`` (the interaction
    that completed ``then B``) or ``"with"`` (the customer's interaction a catalogue event
    reached). ``cleared``: the rule's policies were found not to suppress it at its time
    (see ``RuleRunner.candidate``), which its decision then need not ask again."""

    __slots__ = (
        "anchor", "cleared", "key", "matched", "part", "payload", "restart", "tested", "time",
    )  # fmt: skip

    def __init__(
        self,
        time: int,
        anchor: Row,
        matched: Row | None,
        restart: bool,
        payload: dict[str, Any],
        tested: dict[str, dict[str, Any]],
        part: str = "then",
    ) -> None:
        self.time = time
        self.anchor = anchor
        self.matched = matched
        self.restart = restart
        self.payload = payload
        self.tested = tested
        self.part = part
        self.cleared = False
        self.key = (
            f"t={anchor.time}"
            if restart
            else f"id={anchor.interaction_id}"
            if anchor.interaction_id is not None
            else f"t={anchor.time}#{anchor.rank}"
        )

    def parts(self, absent: dict[str, Any] | None) -> dict[str, Any]:
        """The JSON-ready parts of the firing: payload, ``because`` (without quiet hours),
        the anchor key."""
        anchor = self.anchor
        when: dict[str, Any] = {"kind": anchor.kind, "time": iso_text(anchor.time)}
        if anchor.interaction_id is not None:
            when["interaction_id"] = anchor.interaction_id
        if "when" in self.tested:
            when["values"] = self.tested["when"]
        because: dict[str, Any] = {"when": when}
        matched = self.matched
        if matched is not None:
            then: dict[str, Any] = {"kind": matched.kind, "time": iso_text(matched.time)}
            if matched.interaction_id is not None:
                then["interaction_id"] = matched.interaction_id
            if self.part in self.tested:
                then["values"] = self.tested[self.part]
            because[self.part] = then
        if absent is not None:
            because["no"] = {**absent, "from": when["time"], "until": iso_text(self.time)}
        if "if" in self.tested:
            because["if"] = self.tested["if"]
        return {"payload": self.payload, "because": because, "key": self.key, "time": self.time}


_NAIVE_EPOCH = datetime(1970, 1, 1)


def iso_text(us: int) -> str:
    """``us_to_datetime(us).isoformat()``, formatted without a time zone object (which makes
    ``isoformat`` several times slower) and the UTC offset written as it would write it."""
    return f"{(_NAIVE_EPOCH + timedelta(microseconds=us)).isoformat()}+00:00"


class Reader:
    """What an evaluation reads besides the customer's state: the customer's traits and time
    zone (``None``: UTC; used by rules in customer time)."""

    __slots__ = ("traits", "zone")

    def __init__(self, traits: Mapping[str, Any], zone: str | None) -> None:
        self.traits = traits
        self.zone = zone


class RulePlan:
    """One rule compiled for the streaming engine (see the module docstring)."""

    def __init__(self, rule: Rule, plans: dict[str, AggregatePlan]) -> None:
        self.rule = rule
        self.name = rule.name
        alias = rule.alias
        self.alias = alias
        when, then = rule.when, rule.then
        self.when_mode = str(when.mode)
        self.when_kind = when.kind
        self.when_duration = when.duration
        self.then_mode = None if then is None else str(then.mode)
        self.then_kind = None if then is None else then.kind
        self.then_duration = None if then is None else then.duration
        unless = rule.unless
        self.block_kind = (
            self.then_kind
            if self.then_mode == "absent"
            else (None if unless is None else unless.kind)
        )

        def compiled(expr: Expr | None) -> Scalar | None:
            return None if expr is None else compile_expr(expr, alias)

        self.when_where = compiled(when.where)
        self.then_where = compiled(None if then is None else then.where)
        block_where = then.where if self.then_mode == "absent" and then is not None else None
        if self.then_mode == "after" and unless is not None:
            block_where = unless.where
        self.block_where = compiled(block_where)
        self.condition = compiled(rule.condition)
        self.payload = [(key, compile_expr(expr, alias)) for key, expr in rule.emit.payload]
        #: whether a firing is decided as soon as it is found (unless a contact policy
        #: decides it with its peers): with no quiet hours, a firing is found at its
        #: anchoring interaction, or by its timer, in the (time, release number) order its
        #: decision would take; only ``then B`` completions come in B's order, not their
        #: anchors', and wait for the decision queue
        self.immediate = rule.quiet is None and self.then_mode != "event"
        #: whether the customers' last emitted times are kept: only ``once`` and
        #: ``cooldown`` read them (a rule changed at run time starts a new state)
        self.keeps_last_emitted = rule.once or rule.cooldown is not None
        #: the purpose of ``requires consent`` as compared (``None``: none required)
        self.consent_key = None if rule.consent is None else consent_key(rule.consent)
        timer = when.duration if self.when_mode != "event" else self.then_duration
        #: a timer's fixed delay in microseconds (``None``: calendar months, or no timer)
        self.delay = None if timer is None or timer.unit == "months" else timer.to_us()
        self.customer_time = rule.in_customer_time
        #: whether a ``when inactive`` timer keeps only the kind and id of the interaction
        #: it restarted on (:meth:`Row.bare <cxmodel.triggers._ingest.Row.bare>`): no clause
        #: reads that interaction's properties, and its firing shows only those
        self.bare_anchor = self.when_mode == "inactive" and not _reads_interaction(rule)
        self.aggregates: dict[str, AggregatePlan] = {}
        for expr in rule.expressions():
            for node in aggregates_in(expr):
                plan = plans.get(str(node))
                if plan is None:
                    plan = plans[str(node)] = AggregatePlan(node, alias)
                plan.zoned = plan.zoned or rule.in_customer_time
                self.aggregates[str(node)] = plan
        self.snapshots = [p for p in self.aggregates.values() if p.mode == "running" and p.before]
        self._evidence(rule)
        self.absent = absence(rule)

    def _evidence(self, rule: Rule) -> None:
        """What ``because`` shows, per part (see :func:`~cxmodel.triggers._evidence.tested_items`):
        fields by name, aggregates by their text, traits as names."""
        items = tested_items(rule)

        def keyed(part: str) -> list[tuple[str, Any]]:
            return [
                (what, node.name if what == "field" and isinstance(node, Name) else
                 str(node) if what == "agg" else node)
                for what, node in items[part]
            ]  # fmt: skip

        self.ev_when = keyed("when")
        self.ev_then = keyed("then")
        self.ev_if = keyed("if")
        #: whether the anchor is tested without an environment: no ``where``, and ``because``
        #: shows only the anchor's own fields
        self.anchor_by_fields = self.when_where is None and all(
            what == "field" for what, _ in self.ev_when
        )

    # -- evaluation ------------------------------------------------------------------------
    def env(
        self,
        state: CustomerState,
        row: Row,
        now: int,
        alias: Row | None,
        snapshot: Mapping[str, Any],
        reader: Reader,
    ) -> Env:
        """The environment of one evaluation: bare names at ``row``, aggregates at ``now``."""
        return Env(
            row.fields,
            row.time,
            state.customer,
            reader.traits,
            None if alias is None else alias.fields,
            self._aggregate_reader(state, now, alias, snapshot, reader)
            if self.aggregates
            else None,
            None if alias is None else alias.time,
        )

    def _aggregate_reader(
        self,
        state: CustomerState,
        now: int,
        alias: Row | None,
        snapshot: Mapping[str, Any],
        reader: Reader,
    ) -> Callable[[str], Any]:
        """:meth:`env`'s reader of aggregates at ``now``, a closure (made here, not in
        :meth:`env`, whose every call would otherwise make the closure's cells)."""
        aggregates = self.aggregates
        traits = reader.traits
        zone = reader.zone if self.customer_time else None

        def aggregate(key: str) -> Any:
            return aggregates[key].value(state, now, alias, snapshot, traits, zone)

        return aggregate

    def tested(
        self, items: list[tuple[str, Any]], env: Env | None, row: Row, reader: Reader
    ) -> dict[str, Any]:
        """The values of ``items`` (fields of ``row``, aggregates, traits) in ``env``
        (``None`` when ``items`` are fields alone)."""
        out: dict[str, Any] = {}
        for what, node in items:
            if what == "field":
                if node == "customer_id":
                    out[node] = row.customer
                elif node == "timestamp":
                    out[node] = float(row.time)
                else:
                    out[node] = row.fields.get(node)
                continue
            assert env is not None
            if what == "agg":
                out.setdefault(node, plain(env.aggregate(node)))  # type: ignore[misc]
            else:
                assert isinstance(node, Name)
                value = env.traits.get(node.name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = float(value)
                out[str(node)] = value
        return out

    def snapshot(self, state: CustomerState) -> dict[str, Any]:
        """The ``before x`` running values, read before x is taken in."""
        return {p.key: p.running_value(state) for p in self.snapshots}

    def anchor_test(
        self, state: CustomerState, row: Row, snapshot: dict[str, Any], reader: Reader
    ) -> dict[str, Any] | None:
        """If ``row`` anchors the rule (its ``when ... where`` holds), the values tested."""
        if self.anchor_by_fields:
            return self.tested(self.ev_when, None, row, reader) if self.ev_when else {}
        env = self.env(state, row, row.time, row, snapshot, reader)
        if self.when_where is not None and not self.when_where(env):
            return None
        return self.tested(self.ev_when, env, row, reader) if self.ev_when else {}

    def blocks(self, state: CustomerState, row: Row, anchor: Anchor, reader: Reader) -> bool:
        """Whether ``row`` (of the blocking kind) cancels the firing waiting on ``anchor``."""
        if self.block_where is None:
            return True
        env = self.env(state, row, row.time, anchor.row, anchor.snapshot, reader)
        return bool(self.block_where(env))

    def completes(
        self, state: CustomerState, row: Row, anchor: Anchor, reader: Reader
    ) -> dict[str, Any] | None:
        """If ``row`` completes ``then B where C`` for ``anchor``, the values tested."""
        env = self.env(state, row, row.time, anchor.row, anchor.snapshot, reader)
        if self.then_where is not None and not self.then_where(env):
            return None
        return self.tested(self.ev_then, env, row, reader) if self.ev_then else {}

    def candidate(
        self,
        state: CustomerState,
        time: int,
        anchor: Anchor,
        matched: Row | None,
        then_tested: dict[str, Any] | None,
        reader: Reader,
        part: str = "then",
    ) -> Candidate | None:
        """The firing at ``time`` if its ``if`` holds (read now: the state is the history the
        firing sees), with its payload and tested values; else ``None``. ``matched`` and
        ``then_tested`` are shown in ``because`` under ``part``."""
        env = self.env(state, anchor.row, time, anchor.row, anchor.snapshot, reader)
        if self.condition is not None and not self.condition(env):
            return None
        payload = {key: plain(expr(env)) for key, expr in self.payload}
        tested: dict[str, dict[str, Any]] = {}
        if anchor.tested:
            tested["when"] = anchor.tested
        if then_tested:
            tested[part] = then_tested
        if self.ev_if:
            condition = self.tested(self.ev_if, env, anchor.row, reader)
            if condition:
                tested["if"] = condition
        restart = self.when_mode == "absent"
        return Candidate(time, anchor.row, matched, restart, payload, tested, part)

    def due(self, time: int, reader: Reader) -> int:
        """When a timer anchored at ``time`` falls due (``when inactive/no ... for D``,
        ``then after/no ... for D``)."""
        if self.delay is not None:
            return time + self.delay
        duration = self.when_duration if self.when_mode != "event" else self.then_duration
        assert duration is not None
        return shift(time, duration, reader.zone if self.customer_time else None)

    def limit(self, time: int, reader: Reader) -> int | None:
        """The last time a ``then B within D`` may complete an anchor at ``time``."""
        if self.then_duration is None:
            return None
        return shift(time, self.then_duration, reader.zone if self.customer_time else None)


_ARITHMETIC = frozenset(("+", "-", "*", "/", "%"))


def _computed(rule: Rule) -> Iterator[Expr]:
    """The operands ``rule`` computes with as numbers (of arithmetic, unary minus,
    ``abs``/``round``), each side of a ``??`` among them, and the aggregates of numbers."""

    def operand(node: Expr) -> Iterator[Expr]:
        while isinstance(node, Binary) and node.op == "??":  # either side's value is computed
            yield from operand(node.left)
            node = node.right
        yield node

    for expr in rule.expressions():
        for node in walk(expr):
            if isinstance(node, Binary) and node.op in _ARITHMETIC:
                yield from operand(node.left)
                yield from operand(node.right)
            elif isinstance(node, Unary) and node.op == "-":
                yield from operand(node.operand)
            elif isinstance(node, Call) and node.func in ("abs", "round"):
                for arg in node.args:
                    yield from operand(arg)
            elif isinstance(node, Aggregate) and AGGREGATE_FUNCTIONS[node.func].numeric_field:
                yield node


def numeric_fields(rule: Rule) -> set[str]:
    """The properties ``rule`` computes with (arithmetic, ``abs``/``round``, or a ``sum``,
    ``avg``, ``median`` of them), also through ``??`` and through an aggregate whose result
    is the property's own value (``last(purchase.qty) + 1``): an interaction carrying text
    there cannot be evaluated, so the engine refuses it before taking it in.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rule = parse("trigger t:\\n    when purchase as p where (p.qty ?? 0) + last(purchase.n) > 1"
    ...              "\\n    emit x")["t"]
    >>> sorted(numeric_fields(rule))
    ['n', 'qty']
    """
    out: set[str] = set()
    for node in _computed(rule):
        if isinstance(node, Name) and node.qualifier in (None, rule.alias):
            out.add(node.name)
        elif isinstance(node, Aggregate) and node.field is not None:
            function = AGGREGATE_FUNCTIONS[node.func]
            if function.numeric_field or function.result is None:  # or the property's own
                out.add(node.field)
    return out


def numeric_traits(rules: Iterable[Rule]) -> dict[str, str]:
    """The customer traits ``rules`` compute with (``customer.age + 1``) or compare with a
    number (``customer.age > 30``, ``customer.age in [40, 41]``), each with the first such
    rule's name: a customer holding text there is refused when given, since the rule would
    read it as no number.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> numeric_traits(parse("trigger t:\\n    when view if customer.age + 1 > 30 and "
    ...                      "customer.score < 3 and customer.plan == 'gold'\\n    emit x"))
    {'age': 't', 'score': 't'}
    """
    out: dict[str, str] = {}
    for rule in rules:
        for name in sorted(_numeric_traits(rule)):
            out.setdefault(name, rule.name)
    return out


def _numeric_traits(rule: Rule) -> set[str]:
    """The traits one rule computes with or compares with a number."""

    def traits(node: Expr) -> list[str]:
        if isinstance(node, Binary) and node.op == "??":
            return traits(node.left) + traits(node.right)
        return [node.name] if isinstance(node, Name) and node.qualifier == "customer" else []

    def number(node: Expr) -> bool:
        value = getattr(node, "value", None)
        return (
            isinstance(node, Literal)
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        )

    out = {name for node in _computed(rule) for name in traits(node)}
    for expr in rule.expressions():
        for node in walk(expr):
            if isinstance(node, Binary) and node.op in COMPARISONS:
                if number(node.right):
                    out.update(traits(node.left))
                if number(node.left):
                    out.update(traits(node.right))
            elif isinstance(node, InList) and any(number(item) for item in node.items):
                out.update(traits(node.operand))
    return out
