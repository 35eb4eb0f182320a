"""The frozen expression AST, its printer and its JSON form.

Every node records its source position in ``pos`` (line, column); positions do not take part in
equality, so a parsed node equals the same node built in Python.

Every node checks its own invariants when it is built (operators, functions and units are
known, names are identifiers, numbers and durations are bounded), raising
:class:`~cxmodel.errors.TriggerSyntaxError`; so does :func:`expr_from_dict`, which names the
JSON path of the offending field. Walks over the tree (:func:`walk`, printing, JSON) are
iterative: a long flat chain such as ``a or b or ...`` with thousands of terms is fine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from difflib import get_close_matches
from typing import Any, TypeAlias, TypeVar

import attrs

from cxmodel.errors import TriggerSyntaxError, ValueTypeError
from cxmodel.expr._aggregates import AGGREGATE_FUNCTIONS
from cxmodel.expr._diagnostics import Diagnostic

__all__ = [
    "AGGREGATES",
    "BINARY_OPS",
    "DURATION_UNITS",
    "FUNCTIONS",
    "MAX_DURATION",
    "MAX_NESTING",
    "MAX_NUMBER",
    "Aggregate",
    "Binary",
    "Call",
    "Duration",
    "Expr",
    "InList",
    "Literal",
    "Name",
    "Unary",
    "check_nesting",
    "expr_from_dict",
    "expr_to_dict",
    "fold_left",
    "left_spine",
    "walk",
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

#: Largest amount of each canonical unit in a duration: 100 years.
MAX_DURATION = {
    "minutes": 36_525 * 24 * 60,
    "hours": 36_525 * 24,
    "days": 36_525,
    "weeks": 36_525 // 7,
    "months": 1_200,
}

#: Largest magnitude of a number literal (exactly representable as a float).
MAX_NUMBER = 10**15

#: Deepest nesting of an expression, not counting the links of a flat chain such as
#: ``a or b or c`` (which may be as long as the text allows).
MAX_NESTING = 100

#: Whitelisted scalar functions: name -> (argument types, result type).
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "abs": (("float",), "float"),
    "round": (("float",), "float"),
    "lower": (("string",), "string"),
    "upper": (("string",), "string"),
    "length": (("string",), "float"),
}
#: Aggregate functions over a customer's history (declared in ``_aggregates.py``).
AGGREGATES = tuple(sorted(AGGREGATE_FUNCTIONS))

#: Words that cannot be names (of properties, kinds, rules, actions, ...).
RESERVED = frozenset(
    {"and", "or", "not", "in", "true", "false", "null", "where", "within", "before"}
)
CLAUSE_WORDS = frozenset(
    {
        "trigger",
        "when",
        "as",
        "then",
        "for",
        "after",
        "unless",
        "if",
        "emit",
        "cooldown",
        "once",
        "requires",
        "quiet",
    }
)

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

#: The operators of :class:`Binary`.
BINARY_OPS = tuple(op for op in PRECEDENCE if op not in ("not", "in", "neg"))
_UNARY_OPS = ("not", "-")


# -- invariants -------------------------------------------------------------------------------
def invalid(
    message: str, hint: str | None = None, *, pos: tuple[int, int] = (0, 0), code: str = "E110"
) -> TriggerSyntaxError:
    """A :class:`~cxmodel.errors.TriggerSyntaxError` for one invalid AST value."""
    diagnostic = Diagnostic(code, pos[0], pos[1], message, hint)
    text = message if pos == (0, 0) else f"line {pos[0]}, column {pos[1]}: {message}"
    if hint:
        text += f" (hint: {hint})"
    return TriggerSyntaxError(text, (diagnostic,))


def known(value: object, allowed: tuple[str, ...] | list[str], what: str) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise naming them (did you mean)."""
    if isinstance(value, str) and value in allowed:
        return value
    close = get_close_matches(value, list(allowed), n=1) if isinstance(value, str) else []
    hint = f"did you mean {close[0]!r}?" if close else None
    listed = ", ".join(repr(a) for a in allowed)
    raise invalid(f"unknown {what} {value!r}; expected one of {listed}", hint, code="E111")


def identifier(value: object, what: str) -> str:
    """Return ``value`` if it is a name the rule language can write, else raise."""
    if (
        isinstance(value, str)
        and value.isidentifier()
        and (value[0].isalpha() or value[0] == "_")
        and all(c.isalnum() or c == "_" for c in value)
        and value not in RESERVED
        and value not in CLAUSE_WORDS
    ):
        return value
    if isinstance(value, str) and (value in RESERVED or value in CLAUSE_WORDS):
        raise invalid(f"{what} {value!r} is a keyword", "choose another name", code="E110")
    raise invalid(
        f"{what} {value!r} is not a name",
        "names start with a letter or '_' and continue with letters, digits and '_'",
        code="E110",
    )


def check_number(value: float) -> None:
    """Raise unless ``value`` is finite and at most :data:`MAX_NUMBER` in magnitude."""
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise invalid(
            f"the number {value!r} is out of range",
            f"numbers are limited to {MAX_NUMBER:.0e} in magnitude",
            code="E109",
        )


def _identifier(what: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        identifier(value, what)

    return check


def _optional_identifier(what: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None:
            identifier(value, what)

    return check


def _expr(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, _NODES):
        raise invalid(f"{attribute.name} must be an expression, got {value!r}")


def _optional_expr(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _expr(instance, attribute, value)


def _exprs(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple):
        raise invalid(f"{attribute.name} must be a tuple of expressions, got {value!r}")
    for item in value:
        _expr(instance, attribute, item)


def _format_number(value: float) -> str:
    if isinstance(value, bool):
        raise ValueTypeError("booleans are not numbers here")
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    text = repr(value)
    if "e" in text or "inf" in text or "nan" in text:
        return format(Decimal(text), "f")  # positional: 1e-07 -> 0.0000001
    return text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal_value(instance: Any, attribute: Any, value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if "\n" in value:
            raise invalid("a string cannot contain a line break", code="E103")
        return
    if isinstance(value, (int, float)):
        check_number(value)
        return
    raise invalid(f"a literal is a number, string, boolean or null, not {value!r}")


class _Tree:
    """Equality, hashing and ``repr`` of composite nodes without recursion, so a flat chain of
    thousands of terms compares, hashes and prints."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return _same(self, other)

    def __ne__(self, other: object) -> bool:
        return not _same(self, other)

    def __hash__(self) -> int:
        return hash(tuple(_flat(self)))

    def __repr__(self) -> str:
        parts: list[str] = []
        stack: list[object] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, _Text):
                parts.append(item.text)
            elif isinstance(item, _NODES):
                names = _FIELDS[type(item)]
                pieces: list[object] = [_Text(f"{type(item).__name__}(")]
                for i, name in enumerate(names):
                    pieces.append(_Text(f"{', ' if i else ''}{name}="))
                    pieces.append(getattr(item, name))
                pieces.append(_Text(")"))
                stack.extend(reversed(pieces))
            elif isinstance(item, tuple) and item:
                pieces = [_Text("(")]
                for i, x in enumerate(item):
                    pieces.extend([_Text(", ")] if i else [])
                    pieces.append(x)
                pieces.append(_Text(",)" if len(item) == 1 else ")"))
                stack.extend(reversed(pieces))
            else:
                parts.append(repr(item))
        return "".join(parts)


@attrs.frozen
class _Text:
    text: str


def _same(a: object, b: object) -> bool:
    stack: list[tuple[object, object]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if isinstance(x, _NODES) or isinstance(y, _NODES):
            if type(x) is not type(y):
                return False
            stack.extend((getattr(x, f), getattr(y, f)) for f in _FIELDS[type(x)])
        elif isinstance(x, tuple) and isinstance(y, tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def _flat(node: object) -> Iterator[object]:
    stack: list[object] = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, _NODES):
            yield type(x).__name__
            stack.extend(getattr(x, f) for f in reversed(_FIELDS[type(x)]))
        elif isinstance(x, tuple):
            yield len(x)
            stack.extend(reversed(x))
        else:
            yield x


# -- nodes ------------------------------------------------------------------------------------
@attrs.frozen
class Literal:
    """A number, string, boolean or ``null`` (missing)."""

    value: int | float | str | bool | None = attrs.field(validator=_literal_value)
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        if self.value is None:
            return "null"
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return _quote(self.value)
        return _format_number(self.value)


def _duration_amount(instance: Duration, attribute: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise invalid(f"a duration amount is a whole number, not {value!r}", code="E102")


def _duration_unit(instance: Duration, attribute: Any, value: Any) -> None:
    known(value, tuple(MAX_DURATION), "duration unit")
    limit = MAX_DURATION[value]
    if abs(instance.amount) > limit:
        raise invalid(
            f"the duration {instance.amount} {value} is longer than 100 years",
            f"durations are limited to 100 years ({limit:,} {value})",
            pos=instance.pos,
            code="E102",
        )


@attrs.frozen
class Duration:
    """A span of time such as ``90 days``; ``unit`` is canonical (minutes ... months).

    Durations are at most 100 years long (:data:`MAX_DURATION`); rule clauses also require
    them to be positive.

    Examples
    --------
    >>> Duration(90, "days")
    Duration(amount=90, unit='days')
    >>> Duration(1201, "months")
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: the duration 1201 months is longer than 100 years (hint: durations are limited to 100 years (1,200 months))
    """

    amount: int = attrs.field(validator=_duration_amount)
    unit: str = attrs.field(validator=_duration_unit)
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


def positive(duration: Duration | None, what: str) -> None:
    """Raise unless ``duration`` is ``None`` or positive; ``what`` names the clause."""
    if duration is not None and duration.amount <= 0:
        raise invalid(
            f"the duration after {what!r} must be positive, got {duration}",
            pos=duration.pos,
            code="E102",
        )


def check_duration(value: object, what: str) -> None:
    """Raise unless ``value`` is ``None`` or a positive :class:`Duration`; ``what`` names the
    clause (``"within"``, ``"cooldown"``)."""
    if value is None:
        return
    if not isinstance(value, Duration):
        raise invalid(f"the duration of {what!r} must be a Duration, got {value!r}", code="E102")
    positive(value, what)


def check_condition(expr: object, what: str) -> None:
    """Raise unless ``expr`` is ``None`` or an expression within the nesting limit; ``what``
    names the clause (``"when"``, ``"unless"``)."""
    if expr is None:
        return
    if not isinstance(expr, _NODES):
        raise invalid(f"the condition of {what!r} must be an expression, got {expr!r}")
    check_nesting(expr)


@attrs.frozen
class Name:
    """A property ``name``, or ``qualifier.name`` (a bound interaction or ``customer``)."""

    name: str = attrs.field(validator=_identifier("property name"))
    qualifier: str | None = attrs.field(default=None, validator=_optional_identifier("qualifier"))
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return self.name if self.qualifier is None else f"{self.qualifier}.{self.name}"

    @property
    def key(self) -> str:
        """The column key the evaluator looks up: ``name`` or ``qualifier.name``."""
        return str(self)


@attrs.frozen(eq=False, repr=False)
class Unary(_Tree):
    """``not x`` or ``-x``."""

    op: str = attrs.field(validator=lambda _i, _a, v: known(v, _UNARY_OPS, "unary operator"))
    operand: Expr = attrs.field(validator=_expr)
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return to_text(self)


@attrs.frozen(eq=False, repr=False)
class Binary(_Tree):
    """A binary operation: comparison, ``and``/``or``, arithmetic or ``??``."""

    op: str = attrs.field(validator=lambda _i, _a, v: known(v, BINARY_OPS, "operator"))
    left: Expr = attrs.field(validator=_expr)
    right: Expr = attrs.field(validator=_expr)
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return to_text(self)


def _negated(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise invalid(f"'negated' must be true or false, got {value!r}")


@attrs.frozen(eq=False, repr=False)
class InList(_Tree):
    """``x in [a, b]`` or ``x not in [a, b]``."""

    operand: Expr = attrs.field(validator=_expr)
    items: tuple[Expr, ...] = attrs.field(validator=_exprs)
    negated: bool = attrs.field(default=False, validator=_negated)
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return to_text(self)


def _call_args(instance: Call, attribute: Any, value: Any) -> None:
    _exprs(instance, attribute, value)
    arity = len(FUNCTIONS[instance.func][0])
    if len(value) != arity:
        raise invalid(
            f"{instance.func}() takes {arity} argument(s), got {len(value)}",
            pos=instance.pos,
            code="E108",
        )


@attrs.frozen(eq=False, repr=False)
class Call(_Tree):
    """A call to a whitelisted scalar function such as ``lower(channel)``."""

    func: str = attrs.field(validator=lambda _i, _a, v: known(v, tuple(FUNCTIONS), "function"))
    args: tuple[Expr, ...] = attrs.field(validator=_call_args)
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return to_text(self)


def _aggregate(instance: Aggregate, attribute: Any, value: Any) -> None:
    """Cross-field invariants, run on the last field."""
    if instance.func == "count" and instance.field is not None:
        raise invalid(
            "count() counts interactions: write count(kind), not count(kind.field)",
            pos=instance.pos,
            code="E108",
        )
    if instance.func != "count" and instance.field is None:
        raise invalid(
            f"{instance.func}() needs a property: {instance.func}({instance.kind}.FIELD)",
            pos=instance.pos,
            code="E108",
        )
    if instance.within is not None:
        if not isinstance(instance.within, Duration):
            raise invalid(f"'within' must be a duration, got {instance.within!r}", code="E102")
        positive(instance.within, "within")
    if instance.within is not None and instance.before is not None:
        raise invalid(
            f"{instance.func}(...) takes 'within' or 'before', not both",
            pos=instance.pos,
            code="E108",
        )


@attrs.frozen(eq=False, repr=False)
class Aggregate(_Tree):
    """``count(kind [where C] [within D | before x])`` and ``sum/avg/min/max/distinct/first/last``."""

    func: str = attrs.field(validator=lambda _i, _a, v: known(v, AGGREGATES, "aggregate"))
    kind: str = attrs.field(validator=_identifier("interaction kind"))
    field: str | None = attrs.field(default=None, validator=_optional_identifier("property name"))
    where: Expr | None = attrs.field(default=None, validator=_optional_expr)
    within: Duration | None = None
    before: str | None = attrs.field(
        default=None, validator=[_optional_identifier("bound name"), _aggregate]
    )
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        return to_text(self)


Expr: TypeAlias = Literal | Duration | Name | Unary | Binary | InList | Call | Aggregate
_NODES = (Literal, Duration, Name, Unary, Binary, InList, Call, Aggregate)
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in attrs.fields(cls) if f.name != "pos") for cls in _NODES
}


# -- walks ------------------------------------------------------------------------------------
def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of ``node`` in source order (an aggregate's ``where`` included)."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.operand, *node.items)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Aggregate) and node.where is not None:
        return (node.where,)
    return ()


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Yield every node of ``expr`` (pre-order, left to right), without recursion.

    An aggregate's ``where`` is walked; its ``within`` duration is not.

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> [type(n).__name__ for n in walk(parse_expr("a > 1 and not b"))]
    ['Binary', 'Binary', 'Name', 'Literal', 'Unary', 'Name']
    """
    if expr is None:
        return
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def left_spine(node: Binary) -> list[Binary]:
    """The binary nodes down ``node``'s left links, ``node`` first: for ``a or b or c`` the
    outer ``or`` then ``a or b``. The last one's ``left`` opens the chain."""
    spine = [node]
    while isinstance(spine[-1].left, Binary):
        spine.append(spine[-1].left)
    return spine


_T = TypeVar("_T")


def fold_left(node: Binary, leaf: Callable[[Expr], _T], step: Callable[[Binary, _T], _T]) -> _T:
    """``leaf`` of the chain's first operand, then ``step`` of each binary node with the
    result so far, innermost first: a left-leaning chain (``a or b or ...``) in a loop, not by
    recursion."""
    spine = left_spine(node)
    result = leaf(spine[-1].left)
    for binary in reversed(spine):
        result = step(binary, result)
    return result


def nesting(expr: Expr) -> int:
    """The nesting depth of ``expr``, a flat chain's left links not counted."""
    deepest = 0
    stack: list[tuple[Expr, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        kids = children(node)
        for i, kid in enumerate(kids):
            chain = isinstance(node, Binary) and i == 0
            stack.append((kid, depth if chain else depth + 1))
    return deepest


def check_nesting(expr: Expr) -> None:
    """Raise :class:`~cxmodel.errors.TriggerSyntaxError` (E104) if ``expr`` nests more than
    :data:`MAX_NESTING` levels (flat chains such as ``a or b or c`` are not nesting).

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> check_nesting(parse_expr(" or ".join(["a"] * 5000)))
    """
    depth = nesting(expr)
    if depth > MAX_NESTING:
        raise invalid(
            f"the expression is nested {depth} levels deep, more than the limit {MAX_NESTING}",
            "split it into simpler conditions",
            pos=expr.pos,
            code="E104",
        )


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


def _wrap(node: Expr, parent: int, *, strict: bool) -> list[Expr | str]:
    prec = _prec(node)
    if prec < parent or (strict and prec == parent):
        return ["(", node, ")"]
    return [node]


def _pieces(node: Expr) -> list[Expr | str]:
    """``node`` as text pieces and child nodes still to print."""
    if isinstance(node, Unary):
        if node.op == "not":
            return ["not ", *_wrap(node.operand, PRECEDENCE["not"], strict=False)]
        operand = node.operand
        if (
            isinstance(operand, Literal)
            and isinstance(operand.value, (int, float))
            and not isinstance(operand.value, bool)
            and _prec(operand) == 100
        ):  # -(5): the text -5 is the literal minus five
            return ["-(", operand, ")"]
        return ["-", *_wrap(operand, PRECEDENCE["neg"], strict=False)]
    if isinstance(node, Binary):
        prec = PRECEDENCE[node.op]
        return [
            *_wrap(node.left, prec, strict=prec == 4),
            f" {node.op} ",
            *_wrap(node.right, prec, strict=True),
        ]
    if isinstance(node, InList):
        out: list[Expr | str] = [*_wrap(node.operand, 4, strict=True)]
        out.append(" not in [" if node.negated else " in [")
        for i, item in enumerate(node.items):
            if i:
                out.append(", ")
            out.extend(_wrap(item, PRECEDENCE["??"], strict=False))
        out.append("]")
        return out
    if isinstance(node, Call):
        out = [f"{node.func}("]
        for i, arg in enumerate(node.args):
            if i:
                out.append(", ")
            out.append(arg)
        out.append(")")
        return out
    if isinstance(node, Aggregate):
        head = node.kind if node.field is None else f"{node.kind}.{node.field}"
        out = [f"{node.func}({head}"]
        if node.where is not None:
            out.extend([" where ", node.where])
        if node.within is not None:
            out.append(f" within {node.within}")
        if node.before is not None:
            out.append(f" before {node.before}")
        out.append(")")
        return out
    return [str(node)]


def to_text(expr: Expr) -> str:
    """Print ``expr`` as rule text (fewest parentheses), without recursion.

    Examples
    --------
    >>> to_text(Binary("*", Binary("+", Name("a"), Literal(1)), Unary("-", Literal(2))))
    '(a + 1) * -(2)'
    """
    parts: list[str] = []
    stack: list[Expr | str] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, (Literal, Duration, Name)):
            parts.append(str(item))
        else:
            stack.extend(reversed(_pieces(item)))
    return "".join(parts)


# -- JSON -------------------------------------------------------------------------------------
#: A left-leaning chain of more than this many binary operators is written as one
#: ``{"type": "chain", "first": ..., "rest": [[op, right], ...]}`` (JSON nests shallowly).
_CHAIN = 32


def expr_to_dict(node: Expr) -> dict[str, Any]:
    """Return the JSON-ready dict form of an expression.

    A left-leaning chain of more than 32 binary operators (``a or b or ...``) is written as
    ``{"type": "chain", "first": A, "rest": [[op, B], ...]}`` so the JSON stays shallow.

    Examples
    --------
    >>> expr_to_dict(Name("score", "r"))
    {'type': 'name', 'name': 'score', 'qualifier': 'r'}
    """
    check_nesting(node)
    return _to_dict(node)


def _to_dict(node: Expr) -> dict[str, Any]:
    if isinstance(node, Literal):
        return {"type": "literal", "value": node.value}
    if isinstance(node, Duration):
        return {"type": "duration", "amount": node.amount, "unit": node.unit}
    if isinstance(node, Name):
        return {"type": "name", "name": node.name, "qualifier": node.qualifier}
    if isinstance(node, Unary):
        return {"type": "unary", "op": node.op, "operand": _to_dict(node.operand)}
    if isinstance(node, Binary):
        spine = left_spine(node)
        if len(spine) > _CHAIN:
            spine.reverse()
            return {
                "type": "chain",
                "first": _to_dict(spine[0].left),
                "rest": [[b.op, _to_dict(b.right)] for b in spine],
            }
        return {
            "type": "binary",
            "op": node.op,
            "left": _to_dict(node.left),
            "right": _to_dict(node.right),
        }
    if isinstance(node, InList):
        return {
            "type": "in",
            "operand": _to_dict(node.operand),
            "items": [_to_dict(i) for i in node.items],
            "negated": node.negated,
        }
    if isinstance(node, Call):
        return {"type": "call", "func": node.func, "args": [_to_dict(a) for a in node.args]}
    return {
        "type": "aggregate",
        "func": node.func,
        "kind": node.kind,
        "field": node.field,
        "where": None if node.where is None else _to_dict(node.where),
        "within": None if node.within is None else _to_dict(node.within),
        "before": node.before,
    }


def json_error(path: str, message: str, hint: str | None = None) -> TriggerSyntaxError:
    """A :class:`~cxmodel.errors.TriggerSyntaxError` (E214) about the JSON value at ``path``."""
    return invalid(f"{path}: {message}", hint, code="E214")


def at_path(path: str, build: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``build``; re-raise its :class:`~cxmodel.errors.TriggerSyntaxError` naming
    ``path``."""
    try:
        return build(*args, **kwargs)
    except TriggerSyntaxError as exc:
        first = exc.errors[0] if exc.errors else None
        if isinstance(first, Diagnostic):
            if first.code == "E214":
                raise
            raise json_error(path, first.message, first.hint) from None
        raise json_error(path, str(exc)) from None


def fields(
    data: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check that ``data`` is an object with the ``required`` keys and no unknown ones."""
    if not isinstance(data, dict):
        raise json_error(path, f"expected an object, got {_kind_of(data)}")
    allowed = (*required, *optional)
    for key in data:
        if key not in allowed:
            close = get_close_matches(str(key), list(allowed), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"keys are {', '.join(allowed)}"
            raise json_error(f"{path}.{key}", f"unknown key {key!r}", hint)
    for key in required:
        if key not in data:
            raise json_error(path, f"missing key {key!r}")
    return data


def _kind_of(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {value!r}"
    return names.get(type(value), type(value).__name__)


def json_str(value: object, path: str, *, optional: bool = False) -> Any:
    """``value`` if it is a string (or ``None`` when ``optional``), else raise naming ``path``."""
    if isinstance(value, str) or (optional and value is None):
        return value
    raise json_error(path, f"expected a string, got {_kind_of(value)}")


def json_int(value: object, path: str) -> int:
    """``value`` if it is a whole number (not a boolean), else raise naming ``path``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise json_error(path, f"expected a whole number, got {_kind_of(value)}")


def json_bool(value: object, path: str) -> bool:
    """``value`` if it is a boolean, else raise naming ``path``."""
    if isinstance(value, bool):
        return value
    raise json_error(path, f"expected true or false, got {_kind_of(value)}")


def json_list(value: object, path: str) -> list[Any]:
    """``value`` if it is a list, else raise naming ``path``."""
    if isinstance(value, list):
        return value
    raise json_error(path, f"expected a list, got {_kind_of(value)}")


def duration_to_dict(duration: Duration) -> dict[str, Any]:
    """The JSON form ``{"amount": N, "unit": U}`` of a duration outside an expression (a
    window, a cooldown), which :func:`duration_from_dict` reads back.

    Examples
    --------
    >>> duration_to_dict(Duration(7, "days"))
    {'amount': 7, 'unit': 'days'}
    """
    return {"amount": duration.amount, "unit": duration.unit}


def duration_from_dict(data: object, path: str) -> Duration:
    """A :class:`Duration` from ``{"amount": N, "unit": U}``, with JSON-path errors."""
    d = fields(data, path, ("amount", "unit"), ("type",))
    if "type" in d and d["type"] != "duration":
        raise json_error(f"{path}.type", f"expected 'duration', got {d['type']!r}")
    amount = json_int(d["amount"], f"{path}.amount")
    unit = at_path(f"{path}.unit", known, d["unit"], tuple(MAX_DURATION), "duration unit")
    return at_path(path, Duration, amount, unit)  # type: ignore[no-any-return]


_NODE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "literal": (("value",), ()),
    "duration": (("amount", "unit"), ()),
    "name": (("name",), ("qualifier",)),
    "unary": (("op", "operand"), ()),
    "binary": (("op", "left", "right"), ()),
    "chain": (("first", "rest"), ()),
    "in": (("operand", "items"), ("negated",)),
    "call": (("func", "args"), ()),
    "aggregate": (("func", "kind"), ("field", "where", "within", "before")),
}


def expr_from_dict(data: Any, path: str = "expr") -> Expr:
    """Rebuild an expression from :func:`expr_to_dict` output.

    Every field is checked; a wrong shape, an unknown key, operator or function raises
    :class:`~cxmodel.errors.TriggerSyntaxError` naming the JSON path (``path`` is the prefix).

    Examples
    --------
    >>> expr_from_dict({"type": "literal", "value": 3}) == Literal(3)
    True
    >>> expr_from_dict({"type": "binary", "op": "**", "left": {"type": "literal", "value": 2},
    ...                 "right": {"type": "literal", "value": 3}})
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: expr.op: unknown operator '**'; expected one of 'or', 'and', '==', '!=', '<', '<=', '>', '>=', '??', '+', '-', '*', '/', '%' (hint: did you mean '*'?)
    """
    return _from_dict(data, path, 1)


def _from_dict(data: Any, path: str, depth: int) -> Expr:
    if depth > MAX_NESTING:
        raise json_error(
            path,
            f"the expression is nested more than {MAX_NESTING} levels deep",
            "split it into simpler conditions",
        )
    if not isinstance(data, dict):
        raise json_error(path, f"expected an expression object, got {_kind_of(data)}")
    kind: str = at_path(
        f"{path}.type", known, data.get("type"), tuple(_NODE_KEYS), "expression type"
    )
    required, optional = _NODE_KEYS[kind]
    d = fields(data, path, ("type", *required), optional)
    if kind == "literal":
        value = d["value"]
        if isinstance(value, (dict, list)):
            raise json_error(f"{path}.value", f"expected a literal value, got {_kind_of(value)}")
        return at_path(f"{path}.value", Literal, value)  # type: ignore[no-any-return]
    if kind == "duration":
        return duration_from_dict(d, path)
    if kind == "name":
        name = json_str(d["name"], f"{path}.name")
        qualifier = json_str(d.get("qualifier"), f"{path}.qualifier", optional=True)
        at_path(f"{path}.name", identifier, name, "property name")
        if qualifier is not None:
            at_path(f"{path}.qualifier", identifier, qualifier, "qualifier")
        return Name(name, qualifier)
    if kind == "unary":
        op = at_path(f"{path}.op", known, d["op"], _UNARY_OPS, "unary operator")
        return Unary(op, _from_dict(d["operand"], f"{path}.operand", depth + 1))
    if kind == "binary":
        # walk the left spine iteratively: a long chain is flat, not deep
        spine: list[tuple[str, str, dict[str, Any]]] = []
        node: Any = d
        here = path
        while True:
            op = at_path(f"{here}.op", known, node["op"], BINARY_OPS, "operator")
            spine.append((here, op, node))
            left = node["left"]
            if not (isinstance(left, dict) and left.get("type") == "binary"):
                break
            here = f"{here}.left"
            node = fields(left, here, ("type", "op", "left", "right"))
        result = _from_dict(spine[-1][2]["left"], f"{spine[-1][0]}.left", depth + 1)
        for here, op, node in reversed(spine):
            right = _from_dict(node["right"], f"{here}.right", depth + 1)
            result = Binary(op, result, right)
        return result
    if kind == "chain":
        result = _from_dict(d["first"], f"{path}.first", depth + 1)
        rest = json_list(d["rest"], f"{path}.rest")
        if not rest:
            raise json_error(f"{path}.rest", "a chain needs at least one [op, operand] pair")
        for i, pair in enumerate(rest):
            where = f"{path}.rest[{i}]"
            if not isinstance(pair, list) or len(pair) != 2:
                raise json_error(where, f"expected [op, operand], got {_kind_of(pair)}")
            op = at_path(f"{where}[0]", known, pair[0], BINARY_OPS, "operator")
            result = Binary(op, result, _from_dict(pair[1], f"{where}[1]", depth + 1))
        return result
    if kind == "in":
        items = json_list(d["items"], f"{path}.items")
        return InList(
            _from_dict(d["operand"], f"{path}.operand", depth + 1),
            tuple(_from_dict(x, f"{path}.items[{i}]", depth + 1) for i, x in enumerate(items)),
            json_bool(d.get("negated", False), f"{path}.negated"),
        )
    if kind == "call":
        func = at_path(f"{path}.func", known, d["func"], tuple(FUNCTIONS), "function")
        args = json_list(d["args"], f"{path}.args")
        built = tuple(_from_dict(a, f"{path}.args[{i}]", depth + 1) for i, a in enumerate(args))
        return at_path(path, Call, func, built)  # type: ignore[no-any-return]
    func = at_path(f"{path}.func", known, d["func"], AGGREGATES, "aggregate")
    agg_kind = at_path(f"{path}.kind", identifier, d["kind"], "interaction kind")
    field = json_str(d.get("field"), f"{path}.field", optional=True)
    if field is not None:
        at_path(f"{path}.field", identifier, field, "property name")
    before: str | None = json_str(d.get("before"), f"{path}.before", optional=True)
    if before is not None:
        at_path(f"{path}.before", identifier, before, "bound name")
    agg_where = d.get("where")
    within = d.get("within")
    return at_path(  # type: ignore[no-any-return]
        path,
        Aggregate,
        func,
        agg_kind,
        field,
        None if agg_where is None else _from_dict(agg_where, f"{path}.where", depth + 1),
        None if within is None else duration_from_dict(within, f"{path}.within"),
        before,
    )
