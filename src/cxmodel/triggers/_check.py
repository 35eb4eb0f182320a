"""Type checking of rules against a schema and a catalogue of kinds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING

from cxmodel.expr import AGGREGATE_FUNCTIONS, Aggregate, Diagnostic, Expr, check_expr
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
        self, rule: Rule, schema: Mapping[str, str] | None, kinds: Sequence[str] | None
    ) -> None:
        self.rule = rule
        self.schema = schema
        self.kinds = None if kinds is None else sorted(set(kinds) | set(STANDARD_KINDS))
        self.errors: list[Diagnostic] = []
        self.qualifiers = frozenset({"customer"} | ({rule.alias} if rule.alias else set()))

    def kind(self, kind: str | None, pos: tuple[int, int]) -> None:
        if kind is None or self.kinds is None or kind in self.kinds:
            return
        close = get_close_matches(kind, self.kinds, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "known kinds: " + ", ".join(self.kinds)
        self.errors.append(Diagnostic("E301", pos[0], pos[1], f"unknown kind {kind!r}", hint))

    def scope(self) -> dict[str, str]:
        table: dict[str, str] = {}
        base = dict(self.schema) if self.schema is not None else {}
        for name, typ in base.items():
            table[name] = typ
            if self.rule.alias:
                table[f"{self.rule.alias}.{name}"] = typ
        return table

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
            self.expr(node.where, want="bool", into=errors)
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
        self, expr: Expr | None, *, want: str | None = None, into: list[Diagnostic] | None = None
    ) -> None:
        if expr is None:
            return
        schema = self.scope()
        if self.schema is None:
            schema = _AnyScope(self.qualifiers)
        _, errors = check_expr(
            expr, schema, qualifiers=self.qualifiers, aggregate_type=self.aggregate_type, want=want
        )
        (self.errors if into is None else into).extend(errors)

    def run(self) -> list[Diagnostic]:
        rule = self.rule
        self.kind(rule.when.kind, rule.when.pos)
        self.expr(rule.when.where, want="bool")
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

    def scope(self) -> dict[str, str]:
        return dict(self.schema) if self.schema is not None else {}

    def run(self) -> list[Diagnostic]:
        alert = self.alert
        self.expr(alert.when, want="bool")
        self.expr(alert.segment, want="bool")
        for _, value in alert.emit.payload:
            self.expr(value)
        return self.errors


class _AnyScope(dict[str, str]):
    """A schema in which every bare name and every bound ``x.name`` exists with type any."""

    def __init__(self, qualifiers: frozenset[str]) -> None:
        super().__init__()
        self.qualifiers = qualifiers

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return "." not in key or key.split(".", 1)[0] in self.qualifiers

    def __getitem__(self, key: str) -> str:
        return "any"


def check_rules(
    rules: RuleSet, *, schema: Mapping[str, str] | None = None, kinds: Sequence[str] | None = None
) -> tuple[Diagnostic, ...]:
    """Return every type diagnostic of ``rules`` (empty when they check).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rules = parse('trigger t:\\n    when purchse as p\\n    emit a')
    >>> check_rules(rules, schema={"value": "float"}, kinds=["purchase"])[0].hint
    "did you mean 'purchase'?"
    """
    found: list[Diagnostic] = []
    for rule in rules:
        found.extend(_RuleChecker(rule, schema, kinds).run())
    for alert in rules.alerts:
        found.extend(_AlertChecker(alert, schema, kinds).run())
    return tuple(sorted(found, key=lambda d: (d.line, d.column)))
