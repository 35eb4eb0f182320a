"""The vectorised evaluator over named numpy columns."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.errors import EvaluationLimitError, SchemaError, TriggerTypeError
from cxmodel.expr._ast import (
    Aggregate,
    Binary,
    Call,
    Duration,
    Expr,
    InList,
    Literal,
    Name,
    Unary,
    check_nesting,
    fold_left,
    walk,
)

__all__ = ["MAX_NODES", "count_nodes", "evaluate", "missing"]

#: Largest expression (in nodes) the evaluator accepts.
MAX_NODES = 100_000

Array = npt.NDArray[Any]
#: The comparison operators by their symbol (shared by the per-record evaluator).
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def count_nodes(expr: Expr) -> int:
    """Return the number of nodes in ``expr`` (counted without recursion).

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> count_nodes(parse_expr("a > 1 and b"))
    5
    """
    return sum(1 for _ in walk(expr))


def needs_numbers(what: str) -> TriggerTypeError:
    """The error for ``what`` (an operator or function) given text or other values where it
    computes with numbers."""
    return TriggerTypeError(
        f"{what} needs numbers, but its operand holds text or other values; "
        "check the rule against the log's schema (cxmodel.triggers.check)"
    )


def _floats(values: Array, what: str) -> npt.NDArray[np.float64]:
    """``values`` as floats, or a :class:`~cxmodel.errors.TriggerTypeError` naming ``what``."""
    try:
        out: npt.NDArray[np.float64] = values.astype(float)
    except (TypeError, ValueError):
        raise needs_numbers(what) from None
    return out


def missing(values: Array) -> npt.NDArray[np.bool_]:
    """Return a mask of missing entries: NaN for numbers, ``None`` for objects.

    Examples
    --------
    >>> missing(np.array([1.0, np.nan])).tolist()
    [False, True]
    """
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        out = np.asarray(values == None, dtype=bool)  # noqa: E711
        return out
    return np.zeros(values.shape, dtype=bool)


class _Evaluator:
    def __init__(
        self,
        columns: Mapping[str, Array],
        n: int,
        aggregate: Callable[[Aggregate], Array] | None,
    ) -> None:
        self.columns = columns
        self.n = n
        self.aggregate = aggregate

    def run(self, node: Expr) -> Array:
        n = self.n
        if isinstance(node, Literal):
            value = node.value
            if value is None or isinstance(value, str):
                return np.full(n, value, dtype=object)
            if isinstance(value, bool):
                return np.full(n, value, dtype=bool)
            return np.full(n, float(value))
        if isinstance(node, Duration):
            return np.full(n, float(node.to_us()))
        if isinstance(node, Name):
            if node.key not in self.columns:
                raise SchemaError(
                    f"expression needs column {node.key!r}, which is not among the columns "
                    f"given ({', '.join(sorted(self.columns)[:12])})"
                )
            column = np.asarray(self.columns[node.key])
            if column.dtype.kind in "iu":
                column = column.astype(float)
            return column
        if isinstance(node, Unary):
            inner = self.run(node.operand)
            if node.op == "not":
                return ~inner.astype(bool)
            return np.asarray(-_floats(inner, "'-'"))
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, InList):
            left = self.run(node.operand)
            hit = np.zeros(n, dtype=bool)
            for item in node.items:
                hit |= self.compare("==", left, self.run(item))
            if node.negated:
                return ~hit & ~missing(left)
            return hit
        if isinstance(node, Call):
            return self.call(node)
        if self.aggregate is None:
            raise SchemaError(f"aggregate {node} needs a history; evaluate it inside a rule")
        return np.asarray(self.aggregate(node))

    def compare(self, op: str, left: Array, right: Array) -> npt.NDArray[np.bool_]:
        gone = missing(left) | missing(right)
        out = np.zeros(self.n, dtype=bool)
        if left.dtype.kind != "O" and right.dtype.kind != "O":
            with np.errstate(invalid="ignore"):
                out = np.asarray(COMPARISONS[op](left, right), dtype=bool)
            return out & ~gone
        ok = ~gone
        if not ok.any():
            return out
        a, b = left[ok], right[ok]
        if (a.dtype.kind, b.dtype.kind) in (("O", "b"), ("b", "O")):  # a bool column's objects
            a, b = a.astype(object), b.astype(object)
        if (a.dtype.kind == "O") != (b.dtype.kind == "O"):
            out[ok] = op == "!="
            return out
        try:
            out[ok] = np.asarray(COMPARISONS[op](a, b), dtype=bool)
        except TypeError:
            out[ok] = op == "!="
        return out

    def compare_scalar(self, op: str, left: Array, value: float | str) -> npt.NDArray[np.bool_]:
        """Compare a column with a constant without broadcasting the constant."""
        if isinstance(value, str):
            if left.dtype.kind != "O":
                return np.full(self.n, op == "!=", dtype=bool) & ~missing(left)
            if op in ("==", "!="):
                hit = np.asarray(left == value, dtype=bool)
                return hit if op == "==" else ~hit & ~missing(left)
            return self.compare(op, left, np.full(self.n, value, dtype=object))
        if left.dtype.kind == "O":
            return self.compare(op, left, np.full(self.n, float(value)))
        with np.errstate(invalid="ignore"):
            out = np.asarray(COMPARISONS[op](left, float(value)), dtype=bool)
        if op == "!=":
            out &= ~np.isnan(left.astype(float))
        return out

    def binary(self, node: Binary) -> Array:
        return fold_left(node, self.run, self.apply)

    def apply(self, node: Binary, left: Array) -> Array:
        if node.op in ("and", "or"):
            right = self.run(node.right).astype(bool)
            left = left.astype(bool)
            return np.asarray(left & right if node.op == "and" else left | right)
        constant = node.right.value if isinstance(node.right, Literal) else None
        if node.op in COMPARISONS and constant is not None and not isinstance(constant, bool):
            return self.compare_scalar(node.op, left, constant)
        right = self.run(node.right)
        if node.op in COMPARISONS:
            return self.compare(node.op, left, right)
        if node.op == "??":
            gone = missing(left)
            if left.dtype.kind == "O" or right.dtype.kind == "O":
                out = left.astype(object)
            else:
                out = left.astype(np.result_type(left.dtype, right.dtype))
            out[gone] = right[gone]
            return out
        what = repr(node.op)
        a = _floats(left, what)
        b = _floats(right, what)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if node.op == "+":
                return np.asarray(a + b)
            if node.op == "-":
                return np.asarray(a - b)
            if node.op == "*":
                return np.asarray(a * b)
            if node.op == "%":
                return np.asarray(np.where(b == 0, np.nan, np.mod(a, np.where(b == 0, 1.0, b))))
            return np.asarray(np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b)))

    def call(self, node: Call) -> Array:
        arg = self.run(node.args[0])
        if node.func == "abs":
            return np.asarray(np.abs(_floats(arg, "abs()")))
        if node.func == "round":
            return np.round(_floats(arg, "round()")) + 0.0  # -0.0 is 0.0, as round() gives
        gone = missing(arg)
        out = (
            np.full(self.n, None, dtype=object)
            if node.func != "length"
            else np.full(self.n, np.nan)
        )
        # as Python text, not numpy's, which drops trailing NUL characters
        text = [v if isinstance(v, str) else str(v) for v in arg[~gone].tolist()]
        if node.func == "lower":
            out[~gone] = [v.lower() for v in text]
        elif node.func == "upper":
            out[~gone] = [v.upper() for v in text]
        else:
            out[~gone] = [float(len(v)) for v in text]
        return out


def evaluate(
    expr: Expr,
    columns: Mapping[str, npt.ArrayLike],
    *,
    n: int | None = None,
    aggregate: Callable[[Aggregate], Array] | None = None,
    max_cells: int = 2_000_000_000,
) -> Array:
    """Evaluate ``expr`` over columns of equal length; return one value per row.

    Missing values are NaN (numbers) or ``None`` (strings): arithmetic with missing is missing,
    a comparison with missing is false, and ``a ?? b`` takes ``b`` where ``a`` is missing.

    Parameters
    ----------
    expr : Expr
        The parsed expression (type-check it first with :func:`check_expr`).
    columns : Mapping[str, array-like]
        One array of row values per name the expression uses, keyed as written (``score``,
        ``r.score``).
    n : int, optional
        The number of rows; default the length of the first column (1 without columns).
    aggregate : callable, optional
        The value of an aggregate node on every row (called with the node); without it an
        aggregate raises :class:`~cxmodel.errors.SchemaError`.
    max_cells : int, default 2_000_000_000
        The most rows x nodes the evaluation may take.

    Returns
    -------
    numpy.ndarray
        One value per row: booleans for a condition, floats or objects otherwise.

    Raises
    ------
    EvaluationLimitError
        If the expression has more than :data:`MAX_NODES` nodes, or rows x nodes exceeds
        ``max_cells``.

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> cols = {"value": np.array([50.0, 150.0, np.nan]), "channel": np.array(["web", "web", None], dtype=object)}
    >>> evaluate(parse_expr('value > 100 and channel == "web"'), cols).tolist()
    [False, True, False]
    >>> evaluate(parse_expr("value ?? 0"), cols).tolist()
    [50.0, 150.0, 0.0]
    """
    arrays = {k: np.asarray(v) for k, v in columns.items()}
    if n is None:
        n = len(next(iter(arrays.values()))) if arrays else 1
    check_nesting(expr)
    nodes = count_nodes(expr)
    if nodes > MAX_NODES:
        raise EvaluationLimitError(
            f"the expression has {nodes} nodes, more than the limit {MAX_NODES}; simplify it"
        )
    if nodes * n > max_cells:
        raise EvaluationLimitError(
            f"evaluating {nodes} nodes over {n} rows exceeds max_cells={max_cells}"
        )
    return _Evaluator(arrays, n, aggregate).run(expr)
