"""Small entry points for the command line and hosts: :func:`check`."""

from __future__ import annotations

import warnings
from typing import Any

from cxmodel.errors import DataWarning, TriggerTypeError
from cxmodel.expr import Aggregate, Diagnostic, Expr, Name, render_diagnostics
from cxmodel.expr._ast import children
from cxmodel.triggers._alerts import property_kinds as alert_property_kinds
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = ["check", "diagnose", "property_kinds", "refuse_unchecked"]


def check(rules: RuleSet, log: Any, *, source: str | None = None) -> None:
    """Type-check ``rules`` against ``log``'s schema and kinds; raise if anything is wrong.

    Refuses exactly what :func:`~cxmodel.triggers.evaluate` refuses over the same log. A
    property read only from kinds of interaction the log does not hold (``t.topic`` of
    tickets, over a log without tickets) cannot be checked against it: that is a
    :class:`~cxmodel.errors.DataWarning` naming each such property, not an error, because the
    rule may well be right for data that has those interactions. Pass the rule text as
    ``source`` to show each offending line with a caret.

    Raises
    ------
    TriggerTypeError
        With every diagnostic in ``errors``.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records(
    ...     [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5.0}])
    >>> check(parse("trigger t:\\n    when purchase as p where p.valu > 1\\n    emit x"), log)
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerTypeError: 1 error:
    E302 line 2, column 30: unknown property 'p.valu'
    hint: did you mean p.value?
    """
    errors, unverifiable = diagnose(rules, log, name_rules=False)
    if errors:
        raise TriggerTypeError(render_diagnostics(errors, source), errors)
    if unverifiable:
        listed = "; ".join(
            f"rule {rule!r}: {', '.join(repr(p) for p in sorted(names))}"
            for rule, names in unverifiable.items()
        )
        warnings.warn(
            f"properties not checked, read as missing: the log holds no interactions they are "
            f"read from ({listed}); check against data with those interactions to verify them",
            DataWarning,
            stacklevel=2,
        )


def refuse_unchecked(rules: RuleSet, log: Any) -> None:
    """Raise :class:`~cxmodel.errors.TriggerTypeError` if :func:`check` refuses ``rules``
    against ``log``; each diagnostic names its rule (used by ``evaluate`` before it runs).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records(
    ...     [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5.0}])
    >>> refuse_unchecked(parse("trigger t:\\n    when purchse\\n    emit x"), log)
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerTypeError: 1 error:
    E301 line 2, column 10: rule 't': unknown kind 'purchse'
    hint: did you mean 'purchase'?
    """
    problems, _ = diagnose(rules, log, name_rules=True)
    if problems:
        raise TriggerTypeError(render_diagnostics(problems, None), problems)


def diagnose(
    rules: RuleSet, log: Any, *, name_rules: bool
) -> tuple[tuple[Diagnostic, ...], dict[str, set[str]]]:
    """What :func:`check` and ``evaluate`` refuse of ``rules`` over ``log``, and the
    properties each rule reads that the log cannot verify.

    An unknown property (E302) is refused when the log holds interactions of a kind the rule
    reads it from (the clause could never see a value: a misspelling, or data without the
    column). It cannot be verified, and reads as missing, when the log has no such
    interactions at all, or none of the kind that anchors the rule (which then cannot fire):
    the example rules over a log without tickets. Unknown kinds, type mismatches, durations
    used as numbers and unbound names are always refused. With ``name_rules`` each message
    starts with its rule's name.
    """
    kinds = [str(k) for k in log.kinds]
    present = set(kinds)
    schema = dict(log.schema)
    problems: list[Diagnostic] = []
    unverifiable: dict[str, set[str]] = {}
    for rule in rules:
        anchors = str(rule.when.mode) != "event" or rule.when.kind in present
        missing = {name for name in property_kinds(rule) if name not in schema}
        unreadable = {
            name
            for name, read_from in property_kinds(rule).items()
            if name in missing and anchors and any(k is None or k in present for k in read_from)
        }
        if missing - unreadable:
            unverifiable[rule.name] = missing - unreadable
        for d in check_rules(RuleSet((rule,)), schema=schema, kinds=kinds):
            if d.code == "E302" and not any(_names(d.message, name) for name in unreadable):
                continue
            message = f"rule {rule.name!r}: {d.message}" if name_rules else d.message
            problems.append(Diagnostic(d.code, d.line, d.column, message, d.hint))
    for alert in rules.alerts:  # no anchor: a property is checked wherever its kind is held
        read = alert_property_kinds(alert)
        missing = {name for name in read if name not in schema}
        unreadable = {name for name in missing if any(k in present for k in read[name])}
        if missing - unreadable:
            unverifiable[alert.name] = missing - unreadable
        for d in check_rules(RuleSet(alerts=(alert,)), schema=schema, kinds=kinds):
            if d.code == "E302" and not any(_names(d.message, name) for name in unreadable):
                continue
            message = f"alert {alert.name!r}: {d.message}" if name_rules else d.message
            problems.append(Diagnostic(d.code, d.line, d.column, message, d.hint))
    problems.sort(key=lambda d: (d.line, d.column))
    return tuple(problems), unverifiable


def _names(message: str, name: str) -> bool:
    """Whether an 'unknown property' message is about property ``name``."""
    return f"'{name}'" in message or f".{name}'" in message or f".{name})" in message


def property_kinds(rule: Rule) -> dict[str, set[str | None]]:
    """Each property ``rule`` reads, with the kinds of interaction it reads it from (``None``:
    any kind, as for the anchor of ``when inactive``).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rule = parse("trigger t:\\n    when purchase as p then survey where score < p.value\\n"
    ...              "    emit x")["t"]
    >>> sorted((k, sorted(v)) for k, v in property_kinds(rule).items())
    [('score', ['survey']), ('value', ['purchase'])]
    """
    when, then, unless = rule.when, rule.then, rule.unless
    anchor = when.kind if str(when.mode) == "event" else None
    scopes: list[tuple[Expr | None, str | None]] = [
        (when.where, when.kind if str(when.mode) == "absent" else anchor),
        (None if then is None else then.where, None if then is None else then.kind),
        (None if unless is None else unless.where, None if unless is None else unless.kind),
        (rule.condition, anchor),
        *((expr, anchor) for _, expr in rule.emit.payload),
    ]
    out: dict[str, set[str | None]] = {}
    stack = [(expr, kind) for expr, kind in scopes if expr is not None]
    while stack:
        node, bare = stack.pop()
        if isinstance(node, Name):
            if node.qualifier is None:
                out.setdefault(node.name, set()).add(bare)
            elif rule.alias is not None and node.qualifier == rule.alias:
                out.setdefault(node.name, set()).add(anchor)
        elif isinstance(node, Aggregate):
            if node.field is not None:
                out.setdefault(node.field, set()).add(node.kind)
            if node.where is not None:
                stack.append((node.where, node.kind))
        else:
            stack.extend((child, bare) for child in children(node))
    for special in ("customer_id", "timestamp", "kind"):
        out.pop(special, None)
    return out
