"""Incremental fast paths for the streaming engine.

Two rule shapes are evaluated per interaction in O(1) instead of re-running the batch evaluator
over the customer's history:

* ``"event"``: ``when EVENT [as x] [where COND]`` with no ``then``, ``if`` or ``quiet hours``,
  where COND and the payload use only the current interaction's fields (bare names or ``x.name``;
  no aggregates, no ``customer.`` traits). The firing time is the interaction's time.
* ``"inactive"``: ``when inactive for D`` with no ``if`` or ``quiet hours`` and a payload of the
  same kind. Per customer one timer at ``last time + D``, anchored on the customer's last
  interaction; a later interaction of that customer at or before the timer replaces it.

Policies (``cooldown``, ``once per customer [every D]``, ``requires consent``) are applied
exactly as in batch: per rule and customer, in time order, against the last *emitted* firing;
consent is the latest ``consent_granted``/``consent_revoked`` for the purpose at or before the
firing time (falling back to ``Customer.consent``). Every other rule uses the exact path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cxmodel.expr import Aggregate, Expr
from cxmodel.expr import evaluate as evaluate_expr
from cxmodel.triggers._batch import _neg, _plain
from cxmodel.triggers._context import add, names_in
from cxmodel.triggers._rules import Rule

__all__ = ["anchor_key", "fast_kind", "policy_reason", "record_columns", "ref", "value_of"]


def _has_aggregate(expr: Expr | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, Aggregate):
        return True
    return any(_has_aggregate(child) for child in _children(expr))


def _children(expr: Expr) -> list[Expr]:
    out: list[Expr] = []
    for name in ("operand", "left", "right"):
        child = getattr(expr, name, None)
        if child is not None and not isinstance(child, (str, int, float)):
            out.append(child)
    for name in ("items", "args"):
        out.extend(getattr(expr, name, ()) or ())
    return out


def _local(expr: Expr | None, alias: str | None) -> bool:
    """True when ``expr`` reads only the current interaction's own fields."""
    if _has_aggregate(expr):
        return False
    return all(
        (n.qualifier is None or n.qualifier == alias) and n.name not in ("timestamp",)
        for n in names_in(expr)
    )


def fast_kind(rule: Rule) -> str | None:
    """Classify ``rule`` once: ``"event"``, ``"inactive"`` or ``None`` (exact path).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> fast_kind(parse("trigger t:\\n    when purchase as p where p.value > 1\\n    emit a")["t"])
    'event'
    >>> fast_kind(parse("trigger t:\\n    when purchase as p then after 1 days\\n    emit a")["t"]) is None
    True
    """
    if rule.then is not None or rule.condition is not None or rule.quiet is not None:
        return None
    if rule.unless_kind is not None:
        return None
    if not all(_local(expr, rule.alias) for _, expr in rule.emit.payload):
        return None
    when = rule.when
    if when.mode == "event" and when.kind is not None and _local(when.where, rule.alias):
        return "event"
    if when.mode == "inactive" and when.duration is not None:
        return "inactive"
    return None


def value_of(value: Any) -> Any:
    """One record value as a length-1 column like the log's decoding (ints become floats)."""
    if value is None:
        return np.array([None], dtype=object)
    if isinstance(value, bool):
        return np.array([float(value)])
    if isinstance(value, (int, float)):
        return np.array([float(value)])
    return np.array([value], dtype=object)


def record_columns(expr: Expr, rec: Mapping[str, Any]) -> dict[str, Any]:
    """The columns ``expr`` reads, for the single interaction ``rec``."""
    return {n.key: value_of(rec.get(n.name)) for n in names_in(expr)}


def evaluate_one(expr: Expr, rec: Mapping[str, Any]) -> Any:
    """Evaluate ``expr`` on one interaction; return the plain value."""
    return _plain(evaluate_expr(expr, record_columns(expr, rec), n=1)[0])


def ref(rec: Mapping[str, Any], time_iso: str) -> dict[str, Any]:
    """The ``because`` reference of one interaction."""
    out: dict[str, Any] = {"kind": rec["kind"], "time": time_iso}
    if rec.get("interaction_id") is not None:
        out["interaction_id"] = rec["interaction_id"]
    return out


def anchor_key(rec: Mapping[str, Any], t: int, rank: int) -> str:
    """The anchor key for the firing id, as batch builds it."""
    ident = rec.get("interaction_id")
    return f"id={ident}" if isinstance(ident, str) else f"t={t}#{rank}"


def _minus(t: int, d: Any) -> int:
    if d.unit == "months":
        return int(add(np.array([t]), _neg(d))[0])
    return t - int(d.to_us())


def policy_reason(
    rule: Rule, previous: int | None, t: int, consent: bool | None, fallback: Any
) -> str | None:
    """Why a firing at ``t`` is suppressed (``None`` if emitted); ``previous`` is the last
    emitted firing time of this rule for this customer, ``consent`` the latest consent event
    state (``None`` when there is none; then ``fallback``'s ``Customer.consent`` decides)."""
    if rule.once and previous is not None:
        if rule.once_every is None:
            return "once per customer"
        if previous > _minus(t, rule.once_every):
            return f"once per customer every {rule.once_every}"
    if rule.cooldown is not None and previous is not None and previous > _minus(t, rule.cooldown):
        return f"cooldown {rule.cooldown}"
    if rule.consent is not None:
        if consent is None:
            got = getattr(fallback, "consent", None)
            consent = bool(got is not None and got.allows(rule.consent))
        if not consent:
            return f"no consent for {rule.consent}"
    return None
