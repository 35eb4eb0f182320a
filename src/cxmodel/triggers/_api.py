"""Small entry points for the command line and hosts: :func:`check`."""

from __future__ import annotations

from typing import Any

from cxmodel.errors import TriggerTypeError
from cxmodel.expr import Diagnostic, render_diagnostics
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._rules import RuleSet

__all__ = ["check", "refuse_unchecked"]


def check(rules: RuleSet, log: Any, *, source: str | None = None) -> None:
    """Type-check ``rules`` against ``log``'s schema and kinds; raise if anything is wrong.

    Pass the rule text as ``source`` to show each offending line with a caret.

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

    One kind of diagnostic is let through: an unknown property (E302), which evaluation reads
    as a missing (null) column — reports run the example rules over logs without, say, a
    ``value`` or ``order_id`` column. Unknown kinds, type mismatches, durations used as
    numbers and unbound names are refused. Call :func:`check` first to refuse unknown
    properties too.

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
    schema = dict(log.schema)
    problems = tuple(
        Diagnostic(d.code, d.line, d.column, f"rule {rule.name!r}: {d.message}", d.hint)
        for rule in rules
        for d in check_rules(RuleSet((rule,)), schema=schema, kinds=kinds)
        if d.code != "E302"
    )
    if problems:
        raise TriggerTypeError(render_diagnostics(problems, None), problems)
