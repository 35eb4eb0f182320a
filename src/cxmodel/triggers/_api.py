"""Small entry points for the command line and hosts: :func:`check`."""

from __future__ import annotations

from typing import Any

from cxmodel.errors import TriggerTypeError
from cxmodel.expr import render_diagnostics
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._rules import RuleSet

__all__ = ["check"]


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
