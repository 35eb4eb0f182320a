"""The frozen expression AST, its printer and its JSON form.

Every node records its source position in ``pos`` (line, column); positions do not take part in
equality, so a parsed node equals the same node built in Python.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import attrs

__all__ = [
    "DURATION_UNITS",
    "Aggregate",
    "Binary",
    "Call",
    "Duration",
    "Expr",
    "InList",
    "Literal",
    "Name",
    "Unary",
    "expr_from_dict",
    "expr_to_dict",
]

#: Canonical duration units and their spellings.
DURATION_UNITS = {
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "mo": "months",
    "month": "months",
    "months": "months",
}

_POS = attrs.field(default=(0, 0), eq=False, repr=False, kw_only=True)

# precedence: higher binds tighter
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "??": 5,
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "%": 7,
    "neg": 8,
}


def _format_number(value: float) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    text = repr(value)
    if "e" in text or "inf" in text or "nan" in text:
        return format(value, "f")
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@attrs.frozen
class Literal:
    """A number, string, boolean or ``null`` (missing)."""

    value: int | float | str | bool | None
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return _quote(self.value)
        return _format_number(self.value)


@attrs.frozen
class Duration:
    """A span of time such as ``90 days``; ``unit`` is canonical (minutes ... months)."""

    amount: int
    unit: str
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    def to_us(self) -> int:
        """Return the length in microseconds (a month counts as 30 days).

        Examples
        --------
        >>> Duration(2, "hours").to_us()
        7200000000
        """
        per = {
            "minutes": 60,
            "hours": 3600,
            "days": 86_400,
            "weeks": 7 * 86_400,
            "months": 30 * 86_400,
        }
        return self.amount * per[self.unit] * 1_000_000


@attrs.frozen
class Name:
    """A property ``name``, or ``qualifier.name`` (a bound interaction or ``customer``)."""

    name: str
    qualifier: str | None = None
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return self.name if self.qualifier is None else f"{self.qualifier}.{self.name}"

    @property
    def key(self) -> str:
        """The column key the evaluator looks up: ``name`` or ``qualifier.name``."""
        return str(self)


@attrs.frozen
class Unary:
    """``not x`` or ``-x``."""

    op: str
    operand: Expr
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        prec = PRECEDENCE["not" if self.op == "not" else "neg"]
        inner = _wrap(self.operand, prec, strict=False)
        return f"not {inner}" if self.op == "not" else f"-{inner}"


@attrs.frozen
class Binary:
    """A binary operation: comparison, ``and``/``or``, arithmetic or ``??``."""

    op: str
    left: Expr
    right: Expr
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        prec = PRECEDENCE[self.op]
        comparison = prec == 4
        left = _wrap(self.left, prec, strict=comparison)
        right = _wrap(self.right, prec, strict=True)
        return f"{left} {self.op} {right}"


@attrs.frozen
class InList:
    """``x in [a, b]`` or ``x not in [a, b]``."""

    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        inner = _wrap(self.operand, 4, strict=True)
        items = ", ".join(str(i) for i in self.items)
        return f"{inner} {'not in' if self.negated else 'in'} [{items}]"


@attrs.frozen
class Call:
    """A call to a whitelisted scalar function such as ``lower(channel)``."""

    func: str
    args: tuple[Expr, ...]
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return f"{self.func}({', '.join(str(a) for a in self.args)})"


@attrs.frozen
class Aggregate:
    """``count(kind [where C] [within D | before x])`` and ``sum/avg/min/max/distinct/first/last``."""

    func: str
    kind: str
    field: str | None = None
    where: Expr | None = None
    within: Duration | None = None
    before: str | None = None
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        text = self.kind if self.field is None else f"{self.kind}.{self.field}"
        if self.where is not None:
            text += f" where {self.where}"
        if self.within is not None:
            text += f" within {self.within}"
        if self.before is not None:
            text += f" before {self.before}"
        return f"{self.func}({text})"


Expr: TypeAlias = Literal | Duration | Name | Unary | Binary | InList | Call | Aggregate


def _prec(node: Expr) -> int:
    if isinstance(node, Binary):
        return PRECEDENCE[node.op]
    if isinstance(node, InList):
        return 4
    if isinstance(node, Unary):
        return PRECEDENCE["not" if node.op == "not" else "neg"]
    if (
        isinstance(node, Literal)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
        and node.value < 0
    ):
        return PRECEDENCE["neg"]
    return 100


def _wrap(node: Expr, parent: int, *, strict: bool) -> str:
    prec = _prec(node)
    if prec < parent or (strict and prec == parent):
        return f"({node})"
    return str(node)


def expr_to_dict(node: Expr) -> dict[str, Any]:
    """Return the JSON-ready dict form of an expression.

    Examples
    --------
    >>> expr_to_dict(Name("score", "r"))
    {'type': 'name', 'name': 'score', 'qualifier': 'r'}
    """
    if isinstance(node, Literal):
        return {"type": "literal", "value": node.value}
    if isinstance(node, Duration):
        return {"type": "duration", "amount": node.amount, "unit": node.unit}
    if isinstance(node, Name):
        return {"type": "name", "name": node.name, "qualifier": node.qualifier}
    if isinstance(node, Unary):
        return {"type": "unary", "op": node.op, "operand": expr_to_dict(node.operand)}
    if isinstance(node, Binary):
        return {
            "type": "binary",
            "op": node.op,
            "left": expr_to_dict(node.left),
            "right": expr_to_dict(node.right),
        }
    if isinstance(node, InList):
        return {
            "type": "in",
            "operand": expr_to_dict(node.operand),
            "items": [expr_to_dict(i) for i in node.items],
            "negated": node.negated,
        }
    if isinstance(node, Call):
        return {"type": "call", "func": node.func, "args": [expr_to_dict(a) for a in node.args]}
    return {
        "type": "aggregate",
        "func": node.func,
        "kind": node.kind,
        "field": node.field,
        "where": None if node.where is None else expr_to_dict(node.where),
        "within": None if node.within is None else expr_to_dict(node.within),
        "before": node.before,
    }


def expr_from_dict(data: dict[str, Any]) -> Expr:
    """Rebuild an expression from :func:`expr_to_dict` output.

    Examples
    --------
    >>> expr_from_dict({"type": "literal", "value": 3}) == Literal(3)
    True
    """
    kind = data.get("type")
    if kind == "literal":
        return Literal(data["value"])
    if kind == "duration":
        return Duration(int(data["amount"]), str(data["unit"]))
    if kind == "name":
        return Name(str(data["name"]), data.get("qualifier"))
    if kind == "unary":
        return Unary(str(data["op"]), expr_from_dict(data["operand"]))
    if kind == "binary":
        return Binary(str(data["op"]), expr_from_dict(data["left"]), expr_from_dict(data["right"]))
    if kind == "in":
        return InList(
            expr_from_dict(data["operand"]),
            tuple(expr_from_dict(i) for i in data["items"]),
            bool(data.get("negated", False)),
        )
    if kind == "call":
        return Call(str(data["func"]), tuple(expr_from_dict(a) for a in data["args"]))
    if kind == "aggregate":
        within = data.get("within")
        where = data.get("where")
        parsed_within = None if within is None else expr_from_dict(within)
        if parsed_within is not None and not isinstance(parsed_within, Duration):
            raise ValueError(f"aggregate 'within' must be a duration, got {within!r}")
        return Aggregate(
            str(data["func"]),
            str(data["kind"]),
            data.get("field"),
            None if where is None else expr_from_dict(where),
            parsed_within,
            data.get("before"),
        )
    raise ValueError(f"unknown expression node type {kind!r} in {data!r}")
