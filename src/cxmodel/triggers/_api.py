"""Small entry points for the command line and hosts: :func:`check`."""

from __future__ import annotations

from typing import Any

from cxmodel.errors import TriggerTypeError
from cxmodel.expr import Aggregate, Diagnostic, Expr, Name, render_diagnostics
from cxmodel.expr._ast import children
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = ["check", "property_kinds", "refuse_unchecked"]


def check(rules: RuleSet, log: Any, *, source: str | None = None) -> None:
    """Type-check ``rules`` against ``log``'s schema and kinds; raise if anything is wrong.

    Pass the rule text as ``source`` to show each offending line with a caret.

    Parameters
    ----------
    rules : RuleSet
        The rules, from :func:`parse` or the builder.
    log : InteractionLog
        The log whose schema and kinds the rules are checked against.
    source : str, optional
        The rule text, to show each offending line with a caret.

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
    kinds = [str(k) for k in log.kinds]
    errors = check_rules(rules, schema=dict(log.schema), kinds=kinds)
    if errors:
        raise TriggerTypeError(render_diagnostics(errors, source), errors)


def refuse_unchecked(rules: RuleSet, log: Any) -> None:
    """Raise :class:`~cxmodel.errors.TriggerTypeError` if :func:`check` refuses ``rules``
    against ``log``; each diagnostic names its rule (used by ``evaluate`` before it runs).

    An unknown property (E302) is refused when the log holds interactions of a kind the rule
    reads it from (the clause could never see a value: a misspelling, or data without the
    column); it is let through, read as missing, when the log has no such interactions at all
    (the example rules over a log without tickets, say). Unknown kinds, type mismatches,
    durations used as numbers and unbound names are always refused. Call :func:`check` to
    refuse every unknown property.

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
    kinds = [str(k) for k in log.kinds]
    present = set(kinds)
    schema = dict(log.schema)
    problems: list[Diagnostic] = []
    for rule in rules:
        # a property is refused when the log has interactions of a kind the rule reads it
        # from, yet no such column: the clause could never see a value
        anchors = str(rule.when.mode) != "event" or rule.when.kind in present
        unreadable = {  # (a rule whose anchoring kind is absent cannot fire: nothing to refuse)
            name
            for name, read_from in property_kinds(rule).items()
            if anchors and name not in schema and any(k is None or k in present for k in read_from)
        }
        for d in check_rules(RuleSet((rule,)), schema=schema, kinds=kinds):
            if d.code == "E302" and not any(_names(d.message, name) for name in unreadable):
                continue
            message = f"rule {rule.name!r}: {d.message}"
            problems.append(Diagnostic(d.code, d.line, d.column, message, d.hint))
    if problems:
        found = tuple(problems)
        raise TriggerTypeError(render_diagnostics(found, None), found)


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
