"""The type checker: expressions against a schema (``name -> type``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from difflib import get_close_matches

from cxmodel.expr._aggregates import AGGREGATE_FUNCTIONS
from cxmodel.expr._ast import (
    FUNCTIONS,
    MAX_NESTING,
    Aggregate,
    Binary,
    Call,
    Duration,
    Expr,
    InList,
    Literal,
    Name,
    Unary,
    fold_left,
    nesting,
)
from cxmodel.expr._diagnostics import Diagnostic

__all__ = ["TYPES", "check_expr"]

#: The types an expression can have. ``any`` is unknown (accepted everywhere); ``null`` is missing.
TYPES = ("any", "bool", "duration", "float", "null", "string", "timestamp")

_ORDERED = {"float", "string", "timestamp", "any", "null"}
_NUMERIC = {"float", "any", "null"}


def _compatible(a: str, b: str) -> bool:
    return a == b or "any" in (a, b) or "null" in (a, b)


class _Checker:
    def __init__(
        self,
        schema: Mapping[str, str],
        qualifiers: frozenset[str] | None,
        aggregate_type: Callable[[Aggregate, list[Diagnostic]], str] | None,
    ) -> None:
        self.schema = schema
        self.qualifiers = qualifiers
        self.aggregate_type = aggregate_type
        self.errors: list[Diagnostic] = []

    def error(
        self,
        code: str,
        node: Expr,
        message: str,
        hint: str | None = None,
        subject: str | None = None,
    ) -> str:
        self.errors.append(
            Diagnostic(code, node.pos[0], node.pos[1], message, hint, subject=subject)
        )
        return "any"

    def name(self, node: Name) -> str:
        key = node.key
        if key in self.schema:
            return self.schema[key]
        if node.qualifier is not None and self.qualifiers is not None:
            if node.qualifier not in self.qualifiers:
                bound = sorted(q for q in self.qualifiers if q != "customer")
                bind_hint = (
                    f"bind it first with 'as {node.qualifier}'"
                    if not bound
                    else f"bound names here: {', '.join(bound)}; or bind with 'as {node.qualifier}'"
                )
                return self.error(
                    "E304", node, f"{node.qualifier!r} is not bound in this rule", bind_hint
                )
            if node.qualifier == "customer":
                return "any"
        prefix = "" if node.qualifier is None else node.qualifier + "."
        candidates = [k[len(prefix) :] for k in self.schema if k.startswith(prefix)]
        if node.qualifier is None:
            candidates = [k for k in self.schema if "." not in k]
        close = get_close_matches(node.name, candidates, n=1)
        hint: str | None = f"did you mean {prefix}{close[0]}?" if close else None
        if hint is None and candidates:
            hint = "known properties: " + ", ".join(sorted(candidates)[:12])
        return self.error("E302", node, f"unknown property {key!r}", hint, subject=node.name)

    def check(self, node: Expr) -> str:
        if isinstance(node, Literal):
            if node.value is None:
                return "null"
            if isinstance(node.value, bool):
                return "bool"
            return "string" if isinstance(node.value, str) else "float"
        if isinstance(node, Duration):
            return "duration"
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            inner = self.check(node.operand)
            if node.op == "not":
                if inner not in ("bool", "any"):
                    self.error("E306", node, f"'not' needs a condition, got a {inner}")
                return "bool"
            return self.numeric(node.operand, inner, "'-'")
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            left = self.check(node.operand)
            for item in node.items:
                right = self.check(item)
                if not _compatible(left, right):
                    self.error(
                        "E303", item, f"cannot look for a {right} in a list compared with a {left}"
                    )
            return "bool"
        if isinstance(node, Call):
            params, result = FUNCTIONS[node.func]
            for arg, want in zip(node.args, params, strict=True):
                got = self.check(arg)
                if not _compatible(got, want):
                    self.error("E303", arg, f"{node.func}() expects a {want}, got a {got}")
            return result
        if self.aggregate_type is not None:
            return self.aggregate_type(node, self.errors)
        if node.where is not None:
            self.condition(node.where)
        declared = AGGREGATE_FUNCTIONS[node.func].result
        if declared is not None:
            return declared
        if node.field is not None and node.field in self.schema:
            return self.schema[node.field]
        return "any"

    def numeric(self, node: Expr, got: str, what: str) -> str:
        if got == "duration":
            self.error(
                "E305",
                node,
                f"a duration where a number is expected (operand of {what})",
                "durations belong after 'for', 'within', 'after', 'cooldown' or 'every'",
            )
        elif got not in _NUMERIC:
            self.error("E303", node, f"{what} needs a number, got a {got}")
        return "float"

    def condition(self, node: Expr) -> None:
        got = self.check(node)
        if got not in ("bool", "any"):
            self.error(
                "E306",
                node,
                f"expected a condition (true/false), got a {got}",
                "compare it, e.g. 'value > 0'",
            )

    def binary(self, node: Binary) -> str:
        return fold_left(node, self.check, self.step)

    def step(self, node: Binary, left: str) -> str:
        """The type of ``node`` given the type of its left operand."""
        if node.op in ("and", "or"):
            for side, got in ((node.left, left), (node.right, None)):
                if got is None:
                    got = self.check(side)
                if got not in ("bool", "any"):
                    self.error(
                        "E306",
                        side,
                        f"{node.op!r} joins conditions, got a {got}",
                        "compare it, e.g. 'value > 0'",
                    )
            return "bool"
        right = self.check(node.right)
        if node.op in ("==", "!=", "<", "<=", ">", ">="):
            if "duration" in (left, right) and left != right:
                self.error(
                    "E305",
                    node,
                    "a duration where a number is expected",
                    "durations belong after 'for', 'within', 'after', 'cooldown' or 'every'",
                )
            elif not _compatible(left, right):
                literal = node.right if isinstance(node.right, Literal) else node.left
                hint = None
                if isinstance(literal, Literal) and isinstance(literal.value, str):
                    hint = (
                        _bool_hint(node, literal.value)
                        if "bool" in (left, right)
                        else "remove the quotes if you meant a number"
                    )
                self.error("E303", node, f"cannot compare a {left} with a {right}", hint)
            elif node.op not in ("==", "!=") and left not in _ORDERED:
                self.error("E303", node, f"{node.op!r} needs numbers, strings or times, got {left}")
            return "bool"
        if node.op == "??":
            if not _compatible(left, right):
                self.error("E303", node, f"'??' default is a {right} but the value is a {left}")
            return right if left in ("null", "any") else left
        self.numeric(node.left, left, repr(node.op))
        self.numeric(node.right, right, repr(node.op))
        return "float"


def _bool_hint(node: Binary, text: str) -> str:
    """A hint for comparing a condition (a bool property) with text: the condition itself,
    or a comparison with ``true``/``false``, when the text spells one of them."""
    other = node.left if isinstance(node.right, Literal) else node.right
    truth = {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower())
    if truth is None:
        return (
            f"{other} is true or false: use it as a condition, e.g. 'where {other}' or "
            f"'not {other}', or compare it with true or false"
        )
    if truth == (node.op == "=="):
        return f"did you mean '{other}' (or '{other} == true')?"
    return f"did you mean 'not {other}' (or '{other} == false')?"


def check_expr(
    expr: Expr,
    schema: Mapping[str, str],
    *,
    qualifiers: frozenset[str] | None = None,
    aggregate_type: Callable[[Aggregate, list[Diagnostic]], str] | None = None,
    want: str | None = None,
) -> tuple[str, list[Diagnostic]]:
    """Return the type of ``expr`` and the diagnostics found checking it against ``schema``.

    Problems are collected, not raised: each is a :class:`Diagnostic` with its code, position
    and, where one helps, a hint (an unknown name gets a did-you-mean). An expression nested deeper than
    :data:`MAX_NESTING` gives one E104 diagnostic and type ``"any"`` without further checks.

    Parameters
    ----------
    expr : Expr
        The parsed expression.
    schema : Mapping[str, str]
        The type (one of :data:`~cxmodel.expr.TYPES`) of each name the expression may use,
        keyed as written (``score``, ``r.score``, ``customer.plan``).
    qualifiers : frozenset of str, optional
        The names that may appear before a dot; ``None`` accepts any qualifier.
    aggregate_type : callable, optional
        Types an aggregate in place of the default (the aggregate function's result type, or
        its field's): called with the node and the diagnostics list to extend; returns the type.
    want : {"bool"}, optional
        ``"bool"`` requires a condition; ``None`` accepts an expression of any type.

    Returns
    -------
    tuple of (str, list of Diagnostic)
        The expression's type and the diagnostics, empty when it checks.

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> check_expr(parse_expr('score <= "six"'), {"score": "float"})[1][0].code
    'E303'
    >>> check_expr(parse_expr("scor > 1"), {"score": "float"})[1][0].hint
    'did you mean score?'
    """
    depth = nesting(expr)
    if depth > MAX_NESTING:
        message = f"the expression is nested {depth} levels deep, more than {MAX_NESTING}"
        return "any", [Diagnostic("E104", expr.pos[0], expr.pos[1], message)]
    checker = _Checker(schema, qualifiers, aggregate_type)
    if want == "bool":
        checker.condition(expr)
        got = "bool"
    else:
        got = checker.check(expr)
    return got, checker.errors
