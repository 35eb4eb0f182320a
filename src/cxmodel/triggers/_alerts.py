"""Alerts across customers: a condition over everyone's interactions (or a segment's) in
trailing windows, firing once per episode.

``alert NAME:`` with ``when COND``, ``for customers where TRAITS`` (optional), ``emit ...``,
``cooldown D`` and ``once``. This module holds the AST (:class:`Alert`, its text and JSON,
the invariants that keep an alert evaluable by both drivers), what both drivers read of it
(:func:`watched_kinds`, :func:`condition_windows`, :func:`shown_aggregates`), the one policy
decision both make (:func:`alert_reason`) and the identity of an alert's firings
(:data:`ALERT_CUSTOMER_ID`, :func:`episode_key`). Batch evaluation is in ``_alert_batch.py``,
streaming in ``_alert_stream.py``.
"""

from __future__ import annotations

from typing import Any

import attrs

from cxmodel.expr import AGGREGATE_FUNCTIONS, Aggregate, Duration, Expr, Name, walk
from cxmodel.expr._ast import (
    at_path,
    check_condition,
    check_duration,
    children,
    duration_from_dict,
    duration_to_dict,
    expr_from_dict,
    expr_to_dict,
    fields,
    identifier,
    invalid,
    json_bool,
    json_list,
    json_str,
)
from cxmodel.triggers._context import shift
from cxmodel.triggers._evidence import outer_nodes
from cxmodel.triggers._rules import Emit

__all__ = [
    "ALERT_CUSTOMER_ID",
    "RULE_ONLY_CLAUSES",
    "Alert",
    "alert_reason",
    "condition_windows",
    "episode_key",
    "numeric_fields",
    "property_kinds",
    "shown_aggregates",
    "watched_kinds",
]


def _dur(d: Duration | None) -> dict[str, Any] | None:
    return None if d is None else duration_to_dict(d)


def _ex(e: Expr | None) -> dict[str, Any] | None:
    return None if e is None else expr_to_dict(e)


def _unex(e: object, path: str) -> Expr | None:
    return None if e is None else expr_from_dict(e, path)


def _undur(d: object, path: str) -> Duration | None:
    return None if d is None else duration_from_dict(d, path)


#: The ``customer_id`` of an alert's firings: the empty string, which no interaction can
#: carry (every reader refuses an empty customer id), so an alert firing is never taken for
#: a customer's.
ALERT_CUSTOMER_ID = ""

#: Rule clauses an alert refuses (E225), with why.
RULE_ONLY_CLAUSES = {
    "if": "an alert's condition is its 'when'; combine the two with 'and'",
    "unless": "'unless' cancels a customer's delayed firing; an alert has none",
    "requires": "consent is a customer's; an alert is about no one customer",
    "holdout": "a holdout keeps customers from an action; an alert reaches no customer",
    "quiet": "an alert goes out when its episode starts; quiet hours are for customers",
    "in": "customer time is a customer's; an alert's windows are fixed lengths in UTC",
}

#: The JSON keys of those clauses in a rule's dict form.
_RULE_KEYS = {
    "if": "if", "unless": "unless", "consent": "requires", "holdout": "holdout",
    "quiet": "quiet", "customer_timezone": "in",
}  # fmt: skip

_NO_ORDER = ("first", "last")


def _problem(message: str, hint: str | None, node: Any, alert: Alert) -> Exception:
    pos = getattr(node, "pos", (0, 0))
    return invalid(message, hint, pos=pos if pos != (0, 0) else alert.pos, code="E226")


def _check_aggregate(node: Aggregate, alert: Alert) -> None:
    name = alert.name
    if node.before is not None:
        raise _problem(
            f"alert {name!r}: {node} reads 'before {node.before}', but an alert binds no "
            "interaction", f"write a window instead: {node.func}(... within 1 days)", node, alert,
        )  # fmt: skip
    if node.within is None:
        raise _problem(
            f"alert {name!r}: {node} has no window; an alert reads everyone's interactions in "
            "a trailing window", f"add one, e.g. {str(node)[:-1]} within 1 days)", node, alert,
        )  # fmt: skip
    if node.within.unit == "months":
        raise _problem(
            f"alert {name!r}: {node} has a window in calendar months; an alert's windows are "
            "fixed lengths", f"write it in days or weeks, e.g. within {30 * node.within.amount} "
            "days", node, alert,
        )  # fmt: skip
    if node.func in _NO_ORDER:
        raise _problem(
            f"alert {name!r}: {node.func}() has no order across customers at the same time",
            "use min() or max()", node, alert,
        )  # fmt: skip
    for inner in walk(node.where):
        if isinstance(inner, Aggregate):
            raise _problem(
                f"alert {name!r}: an aggregate inside the 'where' of {node}",
                "test the counted interaction's own properties there", inner, alert,
            )  # fmt: skip
        if isinstance(inner, Name) and inner.qualifier is not None:
            hint = (
                "select customers with 'for customers where customer.NAME ...'"
                if inner.qualifier == "customer"
                else f"an alert binds no interaction: write {inner.name}"
            )
            raise _problem(f"alert {name!r}: {inner} in the 'where' of {node}", hint, inner, alert)


def _check_outer(expr: Expr | None, what: str, alert: Alert) -> int:
    """Check the aggregates and names of ``expr`` (the condition or a payload value) outside
    any aggregate; return how many aggregates it has."""
    n = 0
    for node in outer_nodes(expr):
        if isinstance(node, Aggregate):
            _check_aggregate(node, alert)
            n += 1
            continue
        hint = (
            "select customers with 'for customers where customer.NAME ...'"
            if node.qualifier == "customer"
            else f"read it inside an aggregate, e.g. max(KIND.{node.name} within 1 days)"
        )
        raise _problem(
            f"alert {alert.name!r}: {node} in {what} names no interaction; an alert has no "
            "interaction or customer of its own", hint, node, alert,
        )  # fmt: skip
    return n


def _check_alert(a: Alert, attribute: Any, value: Any) -> None:
    identifier(a.name, "alert name")
    if not isinstance(a.emit, Emit):
        raise invalid(f"alert {a.name!r}: 'emit' must be an Emit")
    if a.when is None:
        raise invalid(f"alert {a.name!r} has no condition", code="E203")
    check_condition(a.when, "when")
    check_condition(a.segment, "for customers where")
    check_duration(a.cooldown, "cooldown")
    if not isinstance(a.once, bool):
        raise invalid(f"alert {a.name!r}: 'once' must be true or false")
    if _check_outer(a.when, "the condition", a) == 0:
        raise _problem(
            f"alert {a.name!r}: the condition {a.when} reads no aggregate, so it never changes",
            "compare an aggregate, e.g. count(ticket_opened within 1 hours) > 50", a.when, a,
        )  # fmt: skip
    for key, expr in a.emit.payload:
        _check_outer(expr, f"emit {a.emit.action}({key} = ...)", a)
    for node in walk(a.segment):
        if isinstance(node, Aggregate) or (isinstance(node, Name) and node.qualifier != "customer"):
            raise _problem(
                f"alert {a.name!r}: the segment reads {node}; it selects customers by their "
                "traits", "write customer.NAME, e.g. for customers where customer.plan == "
                '"pro"', node, a,
            )  # fmt: skip


@attrs.frozen
class Alert:
    """``alert NAME: when COND [for customers where TRAITS] emit ACTION [cooldown D] [once]``.

    The condition reads aggregates of every customer's interactions (those of the customers
    whose traits satisfy ``segment``, when it is given) in trailing windows ``within D``. It
    is evaluated at each time one of the interactions it counts arrives or leaves a window;
    the alert fires when it turns true (an episode starts) and re-arms when it turns false.
    ``cooldown D`` suppresses an episode starting within ``D`` of the last emitted firing;
    ``once`` keeps only the first emitted firing ever.

    Every aggregate needs ``within D`` in minutes, hours, days or weeks, and neither
    ``before x`` nor ``first``/``last`` (no order across customers at one time); names outside
    an aggregate, and ``x.`` or ``customer.`` names inside one, are refused (E226), as is a
    segment reading anything but ``customer.`` traits.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> spike = parse('''
    ... alert payment_spike:
    ...     when count(ticket_opened where topic == "payment" within 1 hours) > 20
    ...     emit page_support_lead
    ...     cooldown 1 days
    ... ''').alerts[0]
    >>> print(spike)
    alert payment_spike:
        when count(ticket_opened where topic == "payment" within 1 hours) > 20
        emit page_support_lead
        cooldown 1 days
    """

    name: str
    when: Expr
    emit: Emit
    segment: Expr | None = None
    cooldown: Duration | None = None
    once: bool = False
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_alert
    )

    def __str__(self) -> str:
        lines = [f"alert {self.name}:", f"    when {self.when}"]
        if self.segment is not None:
            lines.append(f"    for customers where {self.segment}")
        lines.append(f"    emit {self.emit}")
        if self.cooldown is not None:
            lines.append(f"    cooldown {self.cooldown}")
        if self.once:
            lines.append("    once")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``{"name", "when", "segment", "emit", "cooldown", "once"}``."""
        return {
            "name": self.name,
            "when": _ex(self.when),
            "segment": _ex(self.segment),
            "emit": {
                "action": self.emit.action,
                "payload": [[k, _ex(v)] for k, v in self.emit.payload],
            },
            "cooldown": _dur(self.cooldown),
            "once": self.once,
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "alert") -> Alert:
        """Rebuild an alert from :meth:`to_dict` output; errors name the JSON path (E214).

        Examples
        --------
        >>> Alert.from_dict({"name": "a", "when": {"type": "literal", "value": True},
        ...                  "emit": {"action": "x"}, "holdout": 10})
        Traceback (most recent call last):
        ...
        cxmodel.errors.TriggerSyntaxError: alert.holdout: 'holdout' does not apply to an alert (hint: a holdout keeps customers from an action; an alert reaches no customer)
        """
        if isinstance(data, dict):
            for key in data:
                if key in _RULE_KEYS:
                    raise invalid(
                        f"{path}.{key}: {key!r} does not apply to an alert",
                        RULE_ONLY_CLAUSES[_RULE_KEYS[key]],
                        code="E225",
                    )
        d = fields(data, path, ("name", "when", "emit"), ("segment", "cooldown", "once"))
        e = fields(d["emit"], f"{path}.emit", ("action",), ("payload",))
        payload: list[tuple[str, Expr]] = []
        for i, item in enumerate(json_list(e.get("payload", []), f"{path}.emit.payload")):
            where = f"{path}.emit.payload[{i}]"
            if not isinstance(item, list) or len(item) != 2:
                raise invalid(f"{where}: expected [key, expression]", code="E214")
            value = _unex(item[1], f"{where}[1]")
            assert value is not None
            payload.append((json_str(item[0], f"{where}[0]"), value))
        emit = at_path(f"{path}.emit", Emit, json_str(e["action"], f"{path}.emit.action"),
                       tuple(payload))  # fmt: skip
        return at_path(  # type: ignore[no-any-return]
            path,
            cls,
            name=json_str(d["name"], f"{path}.name"),
            when=_unex(d["when"], f"{path}.when"),
            emit=emit,
            segment=_unex(d.get("segment"), f"{path}.segment"),
            cooldown=_undur(d.get("cooldown"), f"{path}.cooldown"),
            once=json_bool(d.get("once", False), f"{path}.once"),
        )


def _aggregates(alert: Alert, *, payload: bool) -> list[Aggregate]:
    """The aggregates of the condition (and of the payload), each text once, in order."""
    exprs = [alert.when, *((e for _, e in alert.emit.payload) if payload else ())]
    found: dict[str, Aggregate] = {}
    for expr in exprs:
        for node in outer_nodes(expr):
            if isinstance(node, Aggregate):
                found.setdefault(str(node), node)
    return list(found.values())


def shown_aggregates(alert: Alert) -> list[Aggregate]:
    """The aggregates of the condition, each once in source order: what a firing's
    ``because`` shows, keyed by their text."""
    return _aggregates(alert, payload=False)


def read_aggregates(alert: Alert) -> list[Aggregate]:
    """Every aggregate the alert reads (condition, then payload), each once."""
    return _aggregates(alert, payload=True)


def watched_kinds(alert: Alert) -> frozenset[str]:
    """The kinds the condition counts: an interaction of one of them (in the segment) is a
    time the condition is evaluated at."""
    return frozenset(node.kind for node in shown_aggregates(alert))


def condition_windows(alert: Alert) -> list[int]:
    """The distinct window lengths of the condition's aggregates, in microseconds: an
    interaction counted at ``t`` leaves a window of length ``D`` at ``t + D + 1``."""
    lengths = {node.within.to_us() for node in shown_aggregates(alert) if node.within is not None}
    return sorted(lengths)


def episode_key(start: int) -> str:
    """The anchor key of the firing of an episode starting at ``start`` (microseconds): its
    ``firing_id`` is ``firing_id(alert name, ALERT_CUSTOMER_ID, episode_key(start))``."""
    return f"t={start}"


def alert_reason(alert: Alert, last_emitted: int | None, time: int) -> str | None:
    """Why the firing of an episode starting at ``time`` is suppressed (``None``: emitted),
    given the alert's last emitted firing: ``once`` (an earlier firing went out), else
    ``cooldown D`` (one went out strictly after ``time - D``; months in UTC).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> a = parse("alert a:\\n    when count(x within 1 hours) > 1\\n    emit y\\n    cooldown 2 hours"
    ...           ).alerts[0]
    >>> hour = 3_600_000_000
    >>> alert_reason(a, 0, hour), alert_reason(a, 0, 2 * hour)
    ('cooldown 2 hours', None)
    """
    if last_emitted is None:
        return None
    if alert.once:
        return "once"
    if alert.cooldown is not None and last_emitted > shift(time, alert.cooldown, None, -1):
        return f"cooldown {alert.cooldown}"
    return None


def property_kinds(alert: Alert) -> dict[str, set[str | None]]:
    """Each property the alert reads, with the kinds it is read from.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> a = parse('alert a:\\n    when sum(purchase.value where channel == "web" within 1 days)'
    ...           ' > 9\\n    emit y').alerts[0]
    >>> sorted((k, sorted(v)) for k, v in property_kinds(a).items())
    [('channel', ['purchase']), ('value', ['purchase'])]
    """
    out: dict[str, set[str | None]] = {}
    for node in read_aggregates(alert):
        if node.field is not None:
            out.setdefault(node.field, set()).add(node.kind)
        for inner in walk(node.where):
            if isinstance(inner, Name) and inner.qualifier is None:
                out.setdefault(inner.name, set()).add(node.kind)
    for special in ("customer_id", "timestamp", "kind"):
        out.pop(special, None)
    return out


def numeric_fields(alert: Alert) -> set[str]:
    """The properties the alert computes with (a ``sum``, ``avg`` or ``median`` of them, or
    arithmetic inside a ``where``, also behind ``??``): an interaction carrying text there is
    refused by the streaming engine before it is taken in. (A ``min`` or ``max`` orders text
    as well as numbers; text beside numbers is an error when it is ordered, and the engine
    puts the call back: ``RuleRunner.may_fail``.)"""
    out: set[str] = set()

    def operand(node: Expr) -> None:
        """A property an operand of arithmetic reads, also through ``??``."""
        if isinstance(node, Name):
            out.add(node.name)
        elif getattr(node, "op", None) == "??":
            for child in children(node):
                operand(child)

    for node in read_aggregates(alert):
        if node.field is not None and AGGREGATE_FUNCTIONS[node.func].numeric_field:
            out.add(node.field)
        stack: list[Expr] = [] if node.where is None else [node.where]
        while stack:
            inner = stack.pop()
            if getattr(inner, "op", None) in ("+", "-", "*", "/", "%"):
                for child in children(inner):
                    operand(child)
            stack.extend(children(inner))
    return out
