"""Expressions compiled to plain Python closures, evaluated one interaction at a time.

The streaming engine evaluates a rule's conditions, payload and aggregates per interaction;
array set-up per call would cost more than the work. :func:`compile_expr` turns an expression
into a closure over an :class:`Env` once per rule, with the semantics of the vectorised
evaluator (:func:`cxmodel.expr.evaluate`): missing is ``None`` (or NaN from arithmetic),
arithmetic with missing is missing, a comparison with missing is false, text never equals a
number, and ``a ?? b`` takes ``b`` where ``a`` is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from cxmodel.errors import SchemaError
from cxmodel.expr import Aggregate, Binary, Call, Duration, Expr, InList, Literal, Name, Unary
from cxmodel.expr._evaluate import COMPARISONS, needs_numbers

__all__ = ["Env", "Scalar", "compile_expr", "is_missing"]

Scalar = Callable[["Env"], Any]

_CMP = COMPARISONS  # the vectorised evaluator's operators, applied to one value at a time


class Env:
    """What one evaluation reads: the interaction bare names refer to (``row``, at ``time``),
    the bound interaction (``alias``, at ``alias_time``), the customer's id and traits, and
    the aggregate values (by the aggregate's text)."""

    __slots__ = ("aggregate", "alias", "alias_time", "customer", "row", "time", "traits")

    def __init__(
        self,
        row: Mapping[str, Any],
        time: int,
        customer: str,
        traits: Mapping[str, Any],
        alias: Mapping[str, Any] | None = None,
        aggregate: Callable[[str], Any] | None = None,
        alias_time: int | None = None,
    ) -> None:
        self.row = row
        self.time = time
        self.customer = customer
        self.traits = traits
        self.alias = alias
        self.aggregate = aggregate
        self.alias_time = alias_time


def is_missing(value: Any) -> bool:
    """``None`` or NaN."""
    return value is None or (value != value)


def _compare(op: Callable[[Any, Any], Any], is_ne: bool, a: Any, b: Any) -> bool:
    if a is None or b is None or a != a or b != b:
        return False
    if isinstance(a, str) != isinstance(b, str):
        return is_ne
    try:
        return bool(op(a, b))
    except TypeError:
        return is_ne


def _compare_with(op: Callable[[Any, Any], Any], is_ne: bool, left: Scalar, value: Any) -> Scalar:
    """``left OP value`` for a literal ``value`` that is not missing: :func:`_compare` with
    what the literal decides worked out once (the common ``p.value > 100``)."""
    text = isinstance(value, str)

    def compare(env: Env) -> bool:
        x = left(env)
        if x is None or x != x:
            return False
        if isinstance(x, str) != text:
            return is_ne
        try:
            return bool(op(x, value))
        except TypeError:
            return is_ne

    return compare


def _literal(node: Literal) -> Any:
    """A literal's value as expressions compute with it (numbers as floats)."""
    value = node.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def _float(value: Any, what: str) -> float:
    """``value`` as a float, or the :class:`~cxmodel.errors.TriggerTypeError` the vectorised
    evaluator raises for ``what`` (an operator or function) over text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise needs_numbers(what) from None


def _arith(op: str, a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    x, y = _float(a, repr(op)), _float(b, repr(op))
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None
    if op == "%":
        return x % y
    return x / y


def _trait(value: Any) -> Any:
    """A trait as an expression reads it: numbers as floats, true/false and text as given."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def compile_expr(expr: Expr, alias: str | None) -> Scalar:
    """Compile ``expr`` to a closure over an :class:`Env`.

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> f = compile_expr(parse_expr('value > 100 and channel == "web"'), None)
    >>> f(Env({"value": 150.0, "channel": "web"}, 0, "c1", {}))
    True
    >>> compile_expr(parse_expr("value ?? 0"), None)(Env({}, 0, "c1", {}))
    0.0
    """
    return _Compiler(alias).run(expr)


class _Compiler:
    def __init__(self, alias: str | None) -> None:
        self.alias = alias

    def run(self, node: Expr) -> Scalar:
        if isinstance(node, Literal):
            value = _literal(node)
            return lambda env, v=value: v  # type: ignore[misc]
        if isinstance(node, Duration):
            us = float(node.to_us())
            return lambda env: us
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Unary):
            inner = self.run(node.operand)
            if node.op == "not":
                return lambda env: not _truth(inner(env))
            return lambda env: None if (x := inner(env)) is None else -_float(x, "'-'")
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            left = self.run(node.operand)
            items = [self.run(i) for i in node.items]
            eq = _CMP["=="]
            if node.negated:
                return lambda env: (
                    not any(_compare(eq, False, (x := left(env)), i(env)) for i in items)
                    and not is_missing(x)
                )
            return lambda env: any(_compare(eq, False, left(env), i(env)) for i in items)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Aggregate):
            key = str(node)  # aggregates are looked up by their text, printed once here

            def aggregate(env: Env) -> Any:
                if env.aggregate is None:
                    raise SchemaError(f"aggregate {key} needs a history; evaluate it inside a rule")
                return env.aggregate(key)

            return aggregate
        raise SchemaError(f"cannot evaluate {node!r}")

    def name(self, node: Name) -> Scalar:
        key = node.name
        if node.qualifier is None:
            if key == "customer_id":
                return lambda env: env.customer
            if key == "timestamp":
                return lambda env: float(env.time)
            return lambda env: env.row.get(key)
        if node.qualifier == "customer":
            return lambda env: _trait(env.traits.get(key))
        if node.qualifier == self.alias:
            # the bound interaction is the customer's own, at its time (a catalogue rule's
            # event has no customer: its rules cannot name x.customer_id)
            if key == "customer_id":
                return lambda env: None if env.alias is None else env.customer
            if key == "timestamp":
                return lambda env: None if env.alias_time is None else float(env.alias_time)
            return lambda env: None if env.alias is None else env.alias.get(key)
        raise SchemaError(f"expression needs {node}, which names no bound interaction")

    def binary(self, node: Binary) -> Scalar:
        op = node.op
        # a left-deep chain of one operator (a rule builder's 600 'or's) is folded in a loop
        terms = [node.right]
        left: Expr = node.left
        while isinstance(left, Binary) and left.op == op and op in ("and", "or", "+", "*"):
            terms.append(left.right)
            left = left.left
        terms.append(left)
        parts = [self.run(t) for t in reversed(terms)]
        if op in ("and", "or"):  # every term is evaluated, as the vectorised evaluator does
            if len(parts) == 2:
                first, second = parts
                if op == "and":
                    return lambda env: _truth(first(env)) & _truth(second(env))
                return lambda env: _truth(first(env)) | _truth(second(env))
            if op == "and":
                return lambda env: all([_truth(p(env)) for p in parts])  # noqa: C419
            return lambda env: any([_truth(p(env)) for p in parts])  # noqa: C419
        if op in ("+", "*") and len(parts) > 2:

            def fold(env: Env) -> Any:
                acc = parts[0](env)
                for p in parts[1:]:
                    acc = _arith(op, acc, p(env))
                return acc

            return fold
        a, b = parts
        if op in _CMP:
            cmp, is_ne = _CMP[op], op == "!="
            if isinstance(node.right, Literal) and not is_missing(_literal(node.right)):
                return _compare_with(cmp, is_ne, a, _literal(node.right))
            return lambda env: _compare(cmp, is_ne, a(env), b(env))
        if op == "??":
            return lambda env: b(env) if is_missing(x := a(env)) else x
        return lambda env: _arith(op, a(env), b(env))

    def call(self, node: Call) -> Scalar:
        arg = self.run(node.args[0])
        func = node.func
        if func == "abs":
            return lambda env: None if (x := arg(env)) is None else abs(_float(x, "abs()"))
        if func == "round":
            return lambda env: None if (x := arg(env)) is None else _round(_float(x, "round()"))
        if func == "lower":
            return lambda env: None if is_missing(x := arg(env)) else _text(x).lower()
        if func == "upper":
            return lambda env: None if is_missing(x := arg(env)) else _text(x).upper()
        return lambda env: None if is_missing(x := arg(env)) else float(len(_text(x)))


def _truth(value: Any) -> bool:
    return bool(value)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _round(x: float) -> float:
    return float(round(x)) if math.isfinite(x) else x
