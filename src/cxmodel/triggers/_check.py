"""Type checking of rules against a schema and a catalogue of kinds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING

from cxmodel._arguments import mapping_value, name_sequence
from cxmodel.errors import SchemaError, did_you_mean
from cxmodel.expr import (
    AGGREGATE_FUNCTIONS,
    TYPES,
    Aggregate,
    Diagnostic,
    Expr,
    check_expr,
    walk,
)
from cxmodel.triggers._rules import Rule, RuleSet

if TYPE_CHECKING:
    from cxmodel.triggers._alerts import Alert

__all__ = ["STANDARD_KINDS", "check_rules"]

#: The interaction kinds every log may carry.
STANDARD_KINDS = (
    "add_to_cart", "call", "cancel", "chat", "checkout", "consent_granted", "consent_revoked",
    "delivery", "email_clicked", "email_opened", "email_sent", "login", "product_view",
    "purchase", "push_opened", "push_sent", "refund", "return", "search", "signup", "survey",
    "ticket_opened", "ticket_replied", "ticket_resolved", "view",
)  # fmt: skip


class _RuleChecker:
    def __init__(
        self,
        rule: Rule,
        schema: Mapping[str, str] | None,
        kinds: Sequence[str] | None,
        events: Mapping[str, str] | None = None,
    ) -> None:
        self.rule = rule
        self.schema = schema
        self.kinds = None if kinds is None else sorted(set(kinds) | set(STANDARD_KINDS))
        self.errors: list[Diagnostic] = []
        self.qualifiers = frozenset({"customer"} | ({rule.alias} if rule.alias else set()))
        # a catalogue rule: the bound name and the anchor's bare names are catalogue events
        self.catalogue = rule.when.reach is not None
        self.events = events if self.catalogue else schema
        self.bare_events = False  # whether bare names are the event's (outside aggregates)

    def kind(self, kind: str | None, pos: tuple[int, int]) -> None:
        if kind is None or self.kinds is None or kind in self.kinds:
            return
        close = get_close_matches(kind, self.kinds, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "known kinds: " + ", ".join(self.kinds)
        self.errors.append(Diagnostic("E301", pos[0], pos[1], f"unknown kind {kind!r}", hint))

    def scope(self) -> dict[str, str]:
        """Names and their types: bare names from the log (or, where bare names are a
        catalogue event's, from the catalogue), ``x.name`` from the bound interaction's
        source; a source not given types its names as ``any``."""
        bare = self.events if self.bare_events else self.schema
        if self.bare_events and bare is not None:  # a catalogue rule: the reached customer
            bare = {**bare, "customer_id": "string"}
        return _Scope(bare, self.events, self.rule.alias, self.qualifiers)

    def aggregate_type(self, node: Aggregate, errors: list[Diagnostic]) -> str:
        self.kind(node.kind, node.pos)
        if node.before is not None and node.before not in self.qualifiers - {"customer"}:
            errors.append(
                Diagnostic(
                    "E304",
                    node.pos[0],
                    node.pos[1],
                    f"{node.before!r} in 'before {node.before}' is not bound in this rule",
                    f"bind it with 'as {node.before}'",
                )
            )
        if node.where is not None:
            self.expr(node.where, want="bool", into=errors, bare_events=False)
            inner = next((n for n in walk(node.where) if isinstance(n, Aggregate)), None)
            if inner is not None:
                errors.append(
                    Diagnostic(
                        "E307",
                        inner.pos[0],
                        inner.pos[1],
                        f"{inner} inside the where of {node.func}(): an aggregate's where "
                        "tests one interaction at a time and reads no other aggregate",
                        "compute the inner aggregate in the rule's where or if",
                    )
                )
        function = AGGREGATE_FUNCTIONS[node.func]
        if self.schema is None or node.field is None:
            return function.result or "any"
        if node.field not in self.schema:
            close = get_close_matches(node.field, list(self.schema), n=1)
            errors.append(
                Diagnostic(
                    "E302",
                    node.pos[0],
                    node.pos[1],
                    f"unknown property {node.field!r} in {node.func}({node.kind}.{node.field})",
                    f"did you mean {close[0]!r}?" if close else None,
                    subject=node.field,
                )
            )
            return function.result or "any"
        typ = self.schema[node.field]
        if function.numeric_field and typ not in ("float", "any"):
            errors.append(
                Diagnostic(
                    "E303",
                    node.pos[0],
                    node.pos[1],
                    f"{node.func}() needs a number, {node.field!r} is a {typ}",
                )
            )
        return function.result or typ

    def expr(
        self,
        expr: Expr | None,
        *,
        want: str | None = None,
        into: list[Diagnostic] | None = None,
        bare_events: bool | None = None,
    ) -> None:
        """Check ``expr``; ``bare_events``: whether its bare names are a catalogue event's
        (``None``: whether the rule's anchor is one)."""
        if expr is None:
            return
        outer = self.bare_events
        self.bare_events = self.catalogue if bare_events is None else bare_events
        try:
            _, errors = check_expr(
                expr,
                self.scope(),
                qualifiers=self.qualifiers,
                aggregate_type=self.aggregate_type,
                want=want,
            )
        finally:
            self.bare_events = outer
        (self.errors if into is None else into).extend(errors)

    def run(self) -> list[Diagnostic]:
        rule = self.rule
        reach = rule.when.reach
        if reach is None:  # a catalogue kind is checked against catalogue events, elsewhere
            self.kind(rule.when.kind, rule.when.pos)
        self.expr(rule.when.where, want="bool")
        if reach is not None:  # bare names: the customer's interaction; x.name: the event
            self.kind(reach.kind, reach.pos)
            self.expr(reach.where, want="bool", bare_events=False)
        if rule.then is not None:
            self.kind(rule.then.kind, rule.then.pos)
            self.expr(rule.then.where, want="bool")
        if rule.unless is not None:
            self.kind(rule.unless.kind, rule.unless.pos if rule.unless.pos != (0, 0) else rule.pos)
            self.expr(rule.unless.where, want="bool")
        self.expr(rule.condition, want="bool")
        for _, value in rule.emit.payload:
            self.expr(value)
        return self.errors


class _AlertChecker(_RuleChecker):
    """An alert's condition, segment and payload: aggregates as in a rule, no bound name."""

    def __init__(
        self, alert: Alert, schema: Mapping[str, str] | None, kinds: Sequence[str] | None
    ) -> None:
        self.alert = alert
        self.schema = schema
        self.kinds = None if kinds is None else sorted(set(kinds) | set(STANDARD_KINDS))
        self.errors = []
        self.qualifiers = frozenset({"customer"})
        self.catalogue = False  # an alert reads customers' interactions only
        self.events = schema
        self.bare_events = False

    def scope(self) -> dict[str, str]:
        return _Scope(self.schema, None, None, self.qualifiers)

    def run(self) -> list[Diagnostic]:
        alert = self.alert
        self.expr(alert.when, want="bool")
        self.expr(alert.segment, want="bool")
        for _, value in alert.emit.payload:
            self.expr(value)
        return self.errors


def _schema(schema: Mapping[str, str] | None, name: str) -> Mapping[str, str] | None:
    """``schema`` if it maps names to types of the language (``log.schema`` does); a misspelt
    type would otherwise make every comparison with the property fail to check."""
    if schema is None:
        return None
    mapping = mapping_value(schema, "check_rules()", name)
    for key, typ in mapping.items():
        if not isinstance(key, str) or typ not in TYPES:
            raise SchemaError(
                f"check_rules(): {name}[{key!r}] is {typ!r}; expected a name (str) mapped to "
                f"one of {', '.join(TYPES)} (a log's schema, e.g. log.schema)"
                + did_you_mean(typ, TYPES)
            )
    return mapping


class _Scope(dict[str, str]):
    """The names an expression may read with their types: bare names typed by ``bare``,
    ``alias.name`` by ``bound``; a source that is ``None`` (not given) has every name, of
    type ``any``. ``customer.x`` is left to the expression checker (any trait)."""

    def __init__(
        self,
        bare: Mapping[str, str] | None,
        bound: Mapping[str, str] | None,
        alias: str | None,
        qualifiers: frozenset[str],
    ) -> None:
        super().__init__()
        self.any_bare = bare is None
        self.any_bound = bound is None and alias is not None
        self.alias = alias
        self.qualifiers = qualifiers
        self.update(bare or {})
        if alias is not None:
            self.update({f"{alias}.{name}": typ for name, typ in (bound or {}).items()})

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if dict.__contains__(self, key):
            return True
        if "." not in key:
            return self.any_bare
        return self.any_bound and key.split(".", 1)[0] == self.alias

    def __getitem__(self, key: str) -> str:
        return dict.get(self, key, "any")


def check_rules(
    rules: RuleSet,
    *,
    schema: Mapping[str, str] | None = None,
    kinds: Sequence[str] | None = None,
    catalogue: Mapping[str, str] | None = None,
) -> tuple[Diagnostic, ...]:
    """Return every type diagnostic of ``rules`` (empty when they check).

    ``schema`` and ``kinds`` are the customers' interactions' (a log's); ``catalogue`` is
    the schema of catalogue events, which a catalogue rule (``when KIND as x for customers
    with ...``) reads as ``x.name`` and as bare names outside ``for customers with`` and
    aggregates. A source not given is not checked (its names are of type ``any``).

    Parameters
    ----------
    rules : RuleSet
        The rules.
    schema : mapping of str to str, optional
        Property -> type, e.g. ``log.schema``; without it properties are not checked.
    kinds : sequence of str, optional
        The known kinds; without it kinds are not checked.
    catalogue : mapping of str to str, optional
        The schema of the catalogue events; without it their properties are not checked.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rules = parse('trigger t:\\n    when purchse as p\\n    emit a')
    >>> check_rules(rules, schema={"value": "float"}, kinds=["purchase"])[0].hint
    "did you mean 'purchase'?"
    """
    schema = _schema(schema, "schema")
    catalogue = _schema(catalogue, "catalogue")
    if kinds is not None:
        kinds = name_sequence(kinds, "check_rules()", "kinds")
    found: list[Diagnostic] = []
    for rule in rules:
        found.extend(_RuleChecker(rule, schema, kinds, catalogue).run())
    for alert in rules.alerts:
        found.extend(_AlertChecker(alert, schema, kinds).run())
    return tuple(sorted(found, key=lambda d: (d.line, d.column)))
