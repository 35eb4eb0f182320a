"""The trigger functions' arguments checked where they come in: rules, logs, customers and
stores of the wrong type get a :class:`~cxmodel.errors.ValueTypeError` that says what to pass,
not an ``AttributeError`` from deep inside an evaluation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cxmodel.errors import ValueTypeError
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._context import EvaluatedLog
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._store import StateStore

__all__ = [
    "customer_mapping",
    "evaluated_log",
    "file_path",
    "rule_or_alert",
    "rule_set",
    "state_store",
]

#: what the batch evaluator and ``explain`` read of a log (:class:`EvaluatedLog` and more)
_LOG_MEMBERS = (
    "timestamps",
    "customer_codes",
    "offsets",
    "customers",
    "categorical",
    "column",
    "filter",
    "customer_index",
)


def _got(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def rule_set(rules: Any, where: str) -> RuleSet:
    """``rules`` as a :class:`RuleSet` (one :class:`Rule` becomes a set of one).

    Examples
    --------
    >>> rule_set("trigger t: ...", "evaluate()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: evaluate(): rules must be a RuleSet or a Rule; got text: parse it first, e.g. cxmodel.triggers.parse(text)
    """
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, Rule):
        return RuleSet((rules,))
    if isinstance(rules, str):
        raise ValueTypeError(
            f"{where}: rules must be a RuleSet or a Rule; got text: parse it first, e.g. "
            "cxmodel.triggers.parse(text)"
        )
    raise ValueTypeError(
        f"{where}: rules must be a RuleSet or a Rule (from cxmodel.triggers.parse or the "
        f"builder); got {_got(rules)}"
    )


def rule_or_alert(rule: Any, where: str) -> Rule | Alert:
    """One :class:`Rule` or :class:`Alert` (what ``add_rule`` takes)."""
    if isinstance(rule, (Rule, Alert)):
        return rule
    hint = " (parse it first and pass one of its rules)" if isinstance(rule, str) else ""
    raise ValueTypeError(f"{where}: expected a Rule or an Alert; got {_got(rule)}{hint}")


def evaluated_log(log: Any, where: str) -> EvaluatedLog:
    """``log`` if it is an :class:`~cxmodel.log.InteractionLog` (or reads like one).

    Examples
    --------
    >>> evaluated_log([{"customer_id": "a"}], "evaluate()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: evaluate(): log must be an InteractionLog; got list [{'customer_id': 'a'}]: build one with InteractionLog.from_records, from_arrays or read_csv
    """
    if all(hasattr(log, name) for name in _LOG_MEMBERS):
        return log  # type: ignore[no-any-return]
    inner = getattr(log, "log", None)
    if inner is not None and all(hasattr(inner, name) for name in _LOG_MEMBERS):
        raise ValueTypeError(
            f"{where}: log must be an InteractionLog; got {type(log).__name__}, which holds one: "
            "pass its .log"
        )
    raise ValueTypeError(
        f"{where}: log must be an InteractionLog; got {_got(log)}: build one with "
        "InteractionLog.from_records, from_arrays or read_csv"
    )


def customer_mapping(customers: Any, where: str) -> Mapping[Any, Any]:
    """``customers`` as a mapping of customer id to customer (``None``: no customers)."""
    if customers is None:
        return {}
    if isinstance(customers, Mapping):
        return customers
    raise ValueTypeError(
        f"{where}: customers must be a mapping of customer id to Customer, e.g. "
        f"{{c.customer_id: c for c in customers}}; got {_got(customers)}"
    )


def state_store(store: Any, where: str) -> StateStore | None:
    """``store`` if it is a state store (``None``: the default)."""
    if store is None or isinstance(store, StateStore):
        return store
    raise ValueTypeError(
        f"{where}: store must be a state store (InMemoryStore, SQLiteStore or a class with "
        f"their methods); got {_got(store)}"
    )


def file_path(path: Any, where: str) -> str:
    """``path`` (text or a path object) as text."""
    if isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, str):
            return text
    raise ValueTypeError(f"{where}: expected a file path (text or pathlib.Path); got {_got(path)}")
