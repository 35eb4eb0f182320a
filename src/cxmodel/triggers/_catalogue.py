"""Catalogue events: interactions that belong to no customer (a product restocked, a price
dropped), and how a catalogue rule joins them to customers.

The data model. A catalogue event is a record with a ``timestamp``, a ``kind`` and any
properties, and no ``customer_id``. Batch evaluation takes them apart from the log
(``evaluate(rules, log, as_of=..., catalogue=events)``); the streaming engine takes them in
the same calls as customers' interactions (a record without ``customer_id`` whose kind a
rule reads as a catalogue kind). A catalogue rule (``when KIND as x for customers with ...``)
reads only catalogue events of its ``when`` kind; everything else reads only customers'
interactions.

:class:`Join` is what both engines read of a catalogue rule: the customer's kind, the window,
the keys and the test of the customer's interaction (see
:func:`~cxmodel.triggers._reach.join_terms`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from cxmodel.errors import SchemaError, TriggerTypeError
from cxmodel.expr import Duration, Expr
from cxmodel.triggers._reach import join_terms
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = ["CATALOGUE_ID", "Join", "catalogue_kinds", "catalogue_log", "events_until", "join_of"]

#: The customer id under which batch evaluation files catalogue events internally (never
#: shown: a catalogue event's firings name the customers it reaches).
CATALOGUE_ID = "(catalogue)"

_DAY = 86_400_000_000


@attrs.frozen
class Join:
    """A catalogue rule's join to customers (from ``for customers with KIND where ...
    within D``).

    ``keys`` pairs each property of the customer's interaction with the catalogue event's
    property it must equal; ``test`` is the rest of the condition, on the customer's
    interaction alone. ``store_key`` names the buffer the streaming engine keeps per
    customer (rules with the same clause share it); ``lookback`` bounds it in microseconds
    (a calendar month counted as 31 days, plus 2 days for time-zone changes).
    """

    kind: str
    within: Duration
    keys: tuple[tuple[str, str], ...]
    test: Expr | None
    store_key: str
    lookback: int


def join_of(rule: Rule) -> Join:
    """The :class:`Join` of a catalogue rule.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rule = parse('''trigger t:
    ...     when restock as r for customers with product_view where product == r.product within 30 days
    ...     emit back''')["t"]
    >>> join_of(rule).keys
    (('product', 'product'),)
    """
    reach = rule.when.reach
    alias = rule.alias
    if reach is None or alias is None or reach.within is None:
        raise TriggerTypeError(f"rule {rule.name!r} is not a catalogue rule")
    keys, test = join_terms(reach.where, alias)
    within = reach.within
    lookback = within.amount * 31 * _DAY + 2 * _DAY if within.unit == "months" else within.to_us()
    return Join(reach.kind, within, keys, test, f"with|{reach}", lookback)


def catalogue_kinds(rules: RuleSet | Iterable[Rule]) -> dict[str, list[str]]:
    """Each catalogue kind the rules read, with the names of the rules reading it."""
    out: dict[str, list[str]] = {}
    for rule in rules:
        if rule.when.reach is not None and rule.when.kind is not None:
            out.setdefault(rule.when.kind, []).append(rule.name)
    return out


def catalogue_log(events: Any) -> Any:
    """Catalogue events as a log for batch evaluation (``None`` when ``events`` is).

    ``events`` is an iterable of records (mappings with ``timestamp``, ``kind`` and
    properties, no ``customer_id``) or a mapping of columns (as for
    :meth:`InteractionLog.from_arrays <cxmodel.log.InteractionLog.from_arrays>`, without
    ``customer_id``). They are checked as a log's rows are.

    Raises
    ------
    SchemaError
        For a record or column that names a customer, and for a bad row (naming it).

    Examples
    --------
    >>> log = catalogue_log([{"timestamp": "2024-01-01T00:00:00Z", "kind": "restock",
    ...                       "product": "p1"}])
    >>> len(log), log.kinds.tolist()
    (1, ['restock'])
    """
    from cxmodel.log import InteractionLog

    if events is None:
        return None
    if isinstance(events, InteractionLog):
        raise SchemaError(
            "catalogue: got an InteractionLog, whose interactions belong to customers; pass "
            "catalogue events as records without customer_id (or a mapping of columns)"
        )
    if isinstance(events, Mapping):
        if "customer_id" in events:
            raise SchemaError(
                "catalogue: column 'customer_id' given; catalogue events belong to no customer "
                "(leave the column out; customers' interactions go in the log)"
            )
        n = len(next(iter(events.values()), ()))
        try:
            return InteractionLog.from_arrays(customer_id=[CATALOGUE_ID] * n, **events)
        except SchemaError as error:
            raise SchemaError(f"catalogue {error}") from None
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise SchemaError(
            f"catalogue: expected records (mappings without customer_id) or a mapping of "
            f"columns, got {type(events).__name__}"
        )
    records = []
    for number, record in enumerate(events, start=1):
        if not isinstance(record, Mapping):
            raise SchemaError(
                f"catalogue row {number}: expected a mapping, got {type(record).__name__}"
            )
        if record.get("customer_id") is not None:
            raise SchemaError(
                f"catalogue row {number}: customer_id {record['customer_id']!r} given; a "
                "catalogue event belongs to no customer (leave customer_id out; customers' "
                "interactions go in the log)"
            )
        records.append({**record, "customer_id": CATALOGUE_ID})
    try:
        return InteractionLog.from_records(records)
    except SchemaError as error:
        raise SchemaError(f"catalogue {error}") from None


def events_until(events: Any, cutoff: int) -> Any:
    """The catalogue events (a log, see :func:`catalogue_log`) at or before ``cutoff``
    (microseconds since the epoch)."""
    visible = np.asarray(events.timestamps) <= cutoff
    return events if visible.all() else events.filter(visible)
