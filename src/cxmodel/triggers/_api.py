"""Small entry points for the command line and hosts: :func:`check`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from typing import Any

import attrs
import numpy as np

from cxmodel._pieces import warn
from cxmodel.errors import DataWarning, TriggerTypeError
from cxmodel.expr import Aggregate, Diagnostic, Expr, Name, render_diagnostics
from cxmodel.expr._ast import children
from cxmodel.triggers._alerts import property_kinds as alert_property_kinds
from cxmodel.triggers._arguments import evaluated_log, rule_set
from cxmodel.triggers._catalogue import catalogue_log
from cxmodel.triggers._check import check_rules
from cxmodel.triggers._context import aggregates_in
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = [
    "check",
    "diagnose",
    "empty_properties",
    "misspelt_kinds",
    "property_kinds",
    "refuse_on_any_log",
    "refuse_unchecked",
    "rule_kinds",
    "unread_catalogue",
    "warn_misspelt_kinds",
]


def check(rules: RuleSet, log: Any, *, source: str | None = None, catalogue: Any = None) -> None:
    """Type-check ``rules`` against ``log``'s schema and kinds; raise if anything is wrong.

    Refuses exactly what :func:`~cxmodel.triggers.evaluate` refuses over the same log (and
    ``catalogue``). A property read only from kinds of interaction the log does not hold
    (``t.topic`` of tickets, over a log without tickets) cannot be checked against it: that
    is a :class:`~cxmodel.errors.DataWarning` naming each such property, not an error,
    because the rule may well be right for data that has those interactions. So is a
    catalogue rule (``when KIND as x for customers with ...``) when ``catalogue`` (the
    catalogue events, as :func:`~cxmodel.triggers.evaluate` takes them) is not given or
    holds no event of its kind: what it reads of the events is not checked. So is a property
    the log has but that no row of the kind it is read from holds (a column filled on other
    kinds only): it reads as missing there, and every comparison with it is false. So is a
    kind a rule reads that the log holds only spelt otherwise (``Purchase``, ``" purchase"``):
    the rule never sees those interactions. Pass the
    rule text as ``source`` to show each offending line with a caret.

    Parameters
    ----------
    rules : RuleSet
        The rules, from :func:`parse` or the builder.
    log : InteractionLog
        The log whose schema and kinds the rules are checked against.
    source : str, optional
        The rule text, to show each offending line with a caret.
    catalogue : records or columns, optional
        Catalogue events (no customer), to check the properties catalogue rules read of them.

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
    rules = rule_set(rules, "check()")
    log = evaluated_log(log, "check()")
    errors, unverifiable, notes = diagnose(
        rules, log, name_rules=False, events=catalogue_log(catalogue)
    )
    if errors:
        raise TriggerTypeError(render_diagnostics(errors, source), errors)
    if unverifiable:
        listed = "; ".join(
            f"rule {rule!r}: {', '.join(repr(p) for p in sorted(names))}"
            for rule, names in unverifiable.items()
        )
        warn(
            f"properties not checked, read as missing: the log holds no interactions they are "
            f"read from ({listed}); check against data with those interactions to verify them",
            DataWarning,
        )
    for note in notes + misspelt_kinds(rules, log) + empty_properties(rules, log):
        warn(note, DataWarning)


def misspelt_kinds(rules: RuleSet, log: Any) -> list[str]:
    """A note for each kind a rule reads that the log does not hold but holds in another case
    or with other spaces (``Purchase`` or ``" purchase"`` for ``purchase``): a standard kind
    the log lacks is no error (a month without refunds), but this one is almost surely the
    same kind written differently, and the rule never sees those interactions.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records(
    ...     [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "Purchase"}])
    >>> print(misspelt_kinds(parse("trigger t:\\n    when purchase\\n    emit x"), log)[0])
    rule 't' reads 'purchase' interactions, which the log does not hold; it holds 'Purchase' (1 row) (the same kind in another case or with spaces?): rename the kind in the data or in the rule
    """
    held = [str(k) for k in log.kinds]
    present = set(held)
    folded: dict[str, list[str]] = {}
    for kind in held:
        folded.setdefault(kind.strip().casefold(), []).append(kind)
    notes: list[str] = []
    rows: dict[str, int] | None = None  # rows per kind, counted when a note needs them
    for rule in rules:
        for kind in sorted(rule_kinds(rule)):
            others = folded.get(kind.strip().casefold(), [])
            if kind in present or not others:
                continue
            if rows is None:
                rows = _kind_counts(log)
            listed = ", ".join(
                f"{k!r} ({rows.get(k, 0):,} row{'s' * (rows.get(k, 0) != 1)})" for k in others
            )
            notes.append(
                f"rule {rule.name!r} reads {kind!r} interactions, which the log does not hold; "
                f"it holds {listed} (the same kind in another case or with spaces?): rename "
                "the kind in the data or in the rule"
            )
    return notes


def warn_misspelt_kinds(rules: RuleSet, log: Any) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) for each note of :func:`misspelt_kinds`:
    a rule that reads a kind the log holds only spelt otherwise fires on none of those rows,
    so its empty result would otherwise look like an answer (used by ``evaluate`` and
    ``explain``)."""
    for note in misspelt_kinds(rules, log):
        warn(note, DataWarning)


def unread_catalogue(rules: RuleSet, events: Any) -> list[str]:
    """A note for each catalogue rule that cannot fire because its events are not there: no
    catalogue was given at all, or the catalogue holds none of its kind but events of a kind
    spelt like it (``Restocked`` for ``restocked``). A catalogue without any event of the
    kind, and none like it, is no note: a month without restocks is normal.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> from cxmodel.triggers._catalogue import catalogue_log
    >>> rules = parse("trigger t:\\n    when restocked as r for customers with product_view"
    ...               " where product == r.product within 30 days\\n    emit x")
    >>> print(unread_catalogue(rules, None)[0])
    rule 't' reads restocked catalogue events and no catalogue was given (pass catalogue=): it cannot fire
    >>> events = catalogue_log([{"timestamp": "2024-01-01T00:00:00Z", "kind": "Restocked"}])
    >>> print(unread_catalogue(rules, events)[0])
    rule 't' reads restocked catalogue events; the catalogue holds none, but 1 'Restocked' event(s): did you mean 'Restocked'?
    """
    notes: list[str] = []
    counts: dict[str, int] | None = None
    for rule in rules:
        if rule.when.reach is None:
            continue
        head = f"rule {rule.name!r} reads {rule.when.kind} catalogue events"
        if events is None:
            notes.append(f"{head} and no catalogue was given (pass catalogue=): it cannot fire")
            continue
        if counts is None:
            counts = _kind_counts(events)
        kind = str(rule.when.kind)  # a catalogue rule's when always names its kind
        if kind in counts:
            continue
        close = get_close_matches(kind, sorted(counts), n=1)
        close += [k for k in sorted(counts) if k.strip().casefold() == kind.casefold()]
        if close:
            like = close[-1]
            notes.append(
                f"{head}; the catalogue holds none, but {counts[like]:,} {like!r} event(s): "
                f"did you mean {like!r}?"
            )
    return notes


def _kind_counts(log: Any) -> dict[str, int]:
    """The rows of each kind ``log`` holds (an interaction or catalogue log)."""
    codes, labels = log.categorical("kind")
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return {str(k): int(n) for k, n in zip(labels.tolist(), counts.tolist())}


def rule_kinds(rule: Rule) -> set[str]:
    """The kinds of customer interaction ``rule`` reads: its clauses' and its aggregates'."""
    when, then, unless = rule.when, rule.then, rule.unless
    kinds = {
        when.kind if when.reach is None else when.reach.kind,
        None if then is None else then.kind,
        None if unless is None else unless.kind,
    }
    kinds.update(node.kind for expr in rule.expressions() for node in aggregates_in(expr))
    return {k for k in kinds if k is not None}


def empty_properties(rules: RuleSet, log: Any) -> list[str]:
    """A note for each property a rule reads from a kind of interaction the log holds, where
    the log has the column but not one row of that kind has a value in it (a column filled
    on other kinds only): it reads as missing, and every comparison with it is false.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"},
    ...     {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "view",
    ...      "coupon": "X"}])
    >>> print(empty_properties(parse('trigger t:\\n    when purchase as p where p.coupon != "X"'
    ...                             '\\n    emit x'), log)[0])  # doctest: +ELLIPSIS
    rule 't' reads 'coupon' of purchase interactions, but none of the 1 purchase row(s) has ...
    """
    kind_codes, kind_labels = log.categorical("kind")
    code_of = {str(label): code for code, label in enumerate(kind_labels.tolist())}
    notes: list[str] = []
    for rule in rules:
        if rule.when.reach is not None:  # reads catalogue events, not the log
            continue
        for name, read_from in sorted(property_kinds(rule).items()):
            kinds = sorted(k for k in read_from if k is not None and k in code_of)
            if name not in log.schema or not kinds:
                continue
            present = _has_value(log, name)
            for kind in kinds:
                rows = kind_codes == code_of[kind]
                if rows.any() and not present[rows].any():
                    notes.append(
                        f"rule {rule.name!r} reads {name!r} of {kind} interactions, but none "
                        f"of the {int(rows.sum()):,} {kind} row(s) has one ({name!r} is filled "
                        "on other kinds only), so it reads as missing there and every "
                        "comparison with it is false"
                    )
    return notes


def _has_value(log: Any, name: str) -> Any:
    """Which rows of ``log`` hold a value in the column ``name`` (not missing)."""
    if log.schema[name] == "string":
        return log.categorical(name)[0] >= 0
    return ~np.isnan(np.asarray(log.numeric(name), dtype=np.float64))


def refuse_unchecked(rules: RuleSet, log: Any, events: Any = None) -> None:
    """Raise :class:`~cxmodel.errors.TriggerTypeError` if :func:`check` refuses ``rules``
    against ``log`` (and ``events``, the catalogue events as a log, see
    :func:`~cxmodel.triggers._catalogue.catalogue_log`); each diagnostic names its rule (used
    by ``evaluate`` before it runs).

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
    problems, _, _ = diagnose(rules, log, name_rules=True, events=events)
    if problems:
        raise TriggerTypeError(render_diagnostics(problems, None), problems)


#: The columns every log holds, with their types; a catalogue event has no ``customer_id``.
_LOG_COLUMNS = {"customer_id": "string", "timestamp": "timestamp", "kind": "string"}
_EVENT_COLUMNS = {"timestamp": "timestamp", "kind": "string"}


def refuse_on_any_log(rules: RuleSet) -> None:
    """Raise :class:`~cxmodel.errors.TriggerTypeError` for what ``evaluate`` refuses of
    ``rules`` over every log (and every catalogue), with the text it gives: the diagnostics
    that do not depend on the data. Those are a type mismatch among the columns every log
    holds (E303: ``timestamp - p.timestamp``, ``kind > 3``, ``sum(purchase.timestamp)``), a
    duration used as a number (E305), a name bound nowhere in the rule (E304) and a value
    where a condition goes (E306). Unknown kinds and properties, and the types of other
    properties, depend on the data and are not refused here (used by ``TriggerEngine``,
    which takes rules before it sees any data).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> refuse_on_any_log(parse("trigger t:\\n    when purchase as p where kind > 3\\n    emit x"))
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerTypeError: 1 error:
    E303 line 2, column 35: rule 't': cannot compare a string with a float
    """
    problems: list[Diagnostic] = []
    for rule in rules:
        read = property_kinds(rule)
        found = check_rules(
            RuleSet((rule,)),
            schema=_any_data(read, _LOG_COLUMNS),
            catalogue=_any_data(read, _EVENT_COLUMNS),
        )
        problems += _refused(found, set(), f"rule {rule.name!r}")
    for alert in rules.alerts:
        found = check_rules(
            RuleSet(alerts=(alert,)), schema=_any_data(alert_property_kinds(alert), _LOG_COLUMNS)
        )
        problems += _refused(found, set(), f"alert {alert.name!r}")
    if problems:
        problems.sort(key=lambda d: (d.line, d.column))
        raise TriggerTypeError(render_diagnostics(tuple(problems), None), tuple(problems))


def _any_data(read: Iterable[str], columns: Mapping[str, str]) -> dict[str, str]:
    """A schema that holds ``columns`` and every property in ``read``, each of any type: what
    every log (or catalogue) a rule can run over has in common."""
    return {**dict.fromkeys(read, "any"), **columns}


def diagnose(
    rules: RuleSet, log: Any, *, name_rules: bool, events: Any = None
) -> tuple[tuple[Diagnostic, ...], dict[str, set[str]], list[str]]:
    """What :func:`check` and ``evaluate`` refuse of ``rules`` over ``log`` (and ``events``,
    the catalogue events as a log, or ``None``), the properties each rule reads that the
    data cannot verify, and notes on catalogue rules the catalogue cannot verify.

    An unknown property (E302) is refused when the data holds interactions of a kind the
    rule reads it from (the clause could never see a value: a misspelling, or data without
    the column). It cannot be verified, and reads as missing, when the data has no such
    interactions at all, or none of the kind that anchors the rule (which then cannot fire):
    the example rules over a log without tickets. A catalogue rule reads its ``when`` kind
    (and the bound event's properties) from ``events``: without them, what it reads of them
    is not checked at all. Unknown kinds, type mismatches, durations used as numbers and
    unbound names are always refused. With ``name_rules`` each message starts with its
    rule's name.
    """
    kinds = [str(k) for k in log.kinds]
    present = set(kinds)
    schema = dict(log.schema)
    event_schema = None  # a catalogue event's properties (it has no customer_id)
    if events is not None:
        event_schema = {k: v for k, v in events.schema.items() if k != "customer_id"}
    event_kinds = set() if events is None else {str(k) for k in events.kinds}
    problems: list[Diagnostic] = []
    unverifiable: dict[str, set[str]] = {}
    notes: list[str] = []
    for rule in rules:
        catalogue = rule.when.reach is not None
        if catalogue:
            anchors = rule.when.kind in event_kinds
            note = _catalogue_note(rule, events is not None, event_kinds)
            if note:
                notes.append(note)
        else:
            anchors = str(rule.when.mode) != "event" or rule.when.kind in present
        missing: set[str] = set()
        unreadable: set[str] = set()
        for name, read_from in property_kinds(rule).items():
            for kind in read_from:
                from_events = catalogue and kind == rule.when.kind
                known = event_schema if from_events else schema
                if known is None or name in known:  # no events given: noted above
                    continue
                missing.add(name)
                held = event_kinds if from_events else present
                if anchors and (kind is None or kind in held):
                    unreadable.add(name)
        if missing - unreadable:
            unverifiable[rule.name] = missing - unreadable
        found = check_rules(RuleSet((rule,)), schema=schema, kinds=kinds, catalogue=event_schema)
        problems += _refused(found, unreadable, f"rule {rule.name!r}" if name_rules else None)
    for alert in rules.alerts:  # no anchor: a property is checked wherever its kind is held
        read = alert_property_kinds(alert)
        missing = {name for name in read if name not in schema}
        unreadable = {name for name in missing if any(k in present for k in read[name])}
        if missing - unreadable:
            unverifiable[alert.name] = missing - unreadable
        found = check_rules(RuleSet(alerts=(alert,)), schema=schema, kinds=kinds)
        problems += _refused(found, unreadable, f"alert {alert.name!r}" if name_rules else None)
    problems.sort(key=lambda d: (d.line, d.column))
    return tuple(problems), unverifiable, notes


def _refused(
    found: Iterable[Diagnostic], unreadable: set[str], label: str | None
) -> list[Diagnostic]:
    """``found`` less the unknown properties (E302) not in ``unreadable``, each message
    starting with ``label`` (the rule or alert it is about) when given."""
    return [
        d if label is None else attrs.evolve(d, message=f"{label}: {d.message}")
        for d in found
        if d.code != "E302" or d.subject in unreadable
    ]


def _catalogue_note(rule: Rule, given: bool, kinds: set[str]) -> str | None:
    """Why a catalogue rule's reading of catalogue events is not checked, if it is not."""
    kind = rule.when.kind
    head = f"rule {rule.name!r} reaches customers from catalogue events of kind {kind!r}"
    if not given:
        return (
            f"{head}; no catalogue events were given, so what it reads of them is not checked "
            "(pass catalogue=)"
        )
    if kind in kinds:
        return None
    close = get_close_matches(str(kind), sorted(kinds), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"kinds held: {sorted(kinds)}"
    return f"{head}, and the catalogue holds none ({hint}); the rule cannot fire on it"


def property_kinds(rule: Rule) -> dict[str, set[str | None]]:
    """Each property ``rule`` reads, with the kinds of interaction it reads it from (``None``:
    any kind, as for the anchor of ``when inactive``). A catalogue rule reads the bound
    event's properties (and bare names outside ``for customers with`` and aggregates) from its
    ``when`` kind, a catalogue kind.

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
        (None, None) if when.reach is None else (when.reach.where, when.reach.kind),
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
