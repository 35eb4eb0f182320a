"""The trigger functions' own arguments checked where they come in: rules, logs and stores of
the wrong type get a :class:`~cxmodel.errors.ValueTypeError` that says what to pass, not an
``AttributeError`` from deep inside an evaluation. Checks every package shares (paths,
mappings, the log itself) are in :mod:`cxmodel._arguments`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxmodel._arguments import got, interaction_log, mapping_value, of_type
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._context import EvaluatedLog
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._store import StateStore

__all__ = ["customer_records", "evaluated_log", "rule_or_alert", "rule_set", "state_store"]

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
        f"builder); got {got(rules)}"
    )


def rule_or_alert(rule: Any, where: str) -> Rule | Alert:
    """One :class:`Rule` or :class:`Alert` (what ``add_rule`` takes)."""
    if isinstance(rule, (Rule, Alert)):
        return rule
    hint = " (parse it first and pass one of its rules)" if isinstance(rule, str) else ""
    raise ValueTypeError(f"{where}: expected a Rule or an Alert; got {got(rule)}{hint}")


def evaluated_log(log: Any, where: str) -> EvaluatedLog:
    """``log`` if it reads like an :class:`~cxmodel.log.InteractionLog` (anything else is
    refused as :func:`cxmodel._arguments.interaction_log` refuses it).

    Examples
    --------
    >>> evaluated_log([{"customer_id": "a"}], "evaluate()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: evaluate(): log must be an InteractionLog; got list [{'customer_id': 'a'}]: build one with InteractionLog.from_records, from_arrays, from_pandas or read_csv
    """
    if all(hasattr(log, name) for name in _LOG_MEMBERS):
        return log  # type: ignore[no-any-return]
    return interaction_log(log, where)  # raises, naming what to pass


#: the methods of the state store protocol, in its order
_STORE_METHODS = tuple(
    name
    for name, member in vars(StateStore).items()
    if not name.startswith("_") and callable(member)
)


def state_store(store: Any, where: str) -> StateStore | None:
    """``store`` if it is a state store (``None``: the default); a host's own store that
    lacks some of the protocol's methods is refused naming them.

    Examples
    --------
    >>> class Old:
    ...     def open(self): ...
    ...     def commit(self, change): ...
    >>> state_store(Old(), "TriggerEngine()")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: TriggerEngine(): store must be a state store (...); got Old ..., which lacks the method(s) forget, firings, pending, acknowledge, prune, late, rejected, kept_late, close
    """
    if store is None:
        return None
    hint = "a state store (InMemoryStore, SQLiteStore or a class with their methods)"
    missing = [name for name in _STORE_METHODS if not callable(getattr(store, name, None))]
    if missing and len(missing) < len(_STORE_METHODS):
        raise ValueTypeError(
            f"{where}: store must be {hint}; got {got(store)}, which lacks the method(s) "
            f"{', '.join(missing)}"
        )
    return of_type(store, StateStore, where, "store", hint)  # type: ignore[no-any-return]


def customer_records(customers: Any, where: str) -> dict[str, Any]:
    """``customers`` (id -> :class:`~cxmodel.domain.Customer`; ``None``: none) checked, keyed
    by text (an integer key is its digits, as an integer customer id is read). A value that
    is not a customer record (a dict of traits, a name), or the record of another customer
    than its key, is refused: its traits and consent would be read by no one, silently.

    Examples
    --------
    >>> from cxmodel.domain import Customer
    >>> sorted(customer_records({7: Customer("7")}, "evaluate()"))
    ['7']
    >>> customer_records({"a": {"timezone": "Europe/Paris"}}, "evaluate()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: evaluate(): customers['a'] must be a cxmodel.domain.Customer (customer_id, traits, consent); got dict {'timezone': 'Europe/Paris'}: build it with Customer('a', traits={...})
    """
    out: dict[str, Any] = {}
    for key, record in mapping_value(customers, where, "customers").items():
        cid = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        traits = getattr(record, "traits", None)
        if not isinstance(traits, Mapping) or not isinstance(
            getattr(record, "customer_id", None), str
        ):
            raise ValueTypeError(
                f"{where}: customers[{key!r}] must be a cxmodel.domain.Customer (customer_id, "
                f"traits, consent); got {got(record)}: build it with Customer({cid!r}, "
                "traits={...})"
            )
        if record.customer_id != cid:
            raise SchemaError(
                f"{where}: customers[{key!r}] is the record of customer "
                f"{record.customer_id!r}; key each Customer by its own customer_id"
            )
        out[cid] = record
    return out
