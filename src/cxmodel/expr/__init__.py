"""The shared expression core: lexer, parser, AST, type checker and vectorised evaluator.

Examples
--------
>>> import numpy as np
>>> from cxmodel.expr import evaluate, parse_expr
>>> expr = parse_expr("score <= 6")
>>> evaluate(expr, {"score": np.array([3.0, 9.0])}).tolist()
[True, False]
"""

from __future__ import annotations

from cxmodel.expr._aggregates import AGGREGATE_FUNCTIONS, AggregateFunction, exact_sum
from cxmodel.expr._ast import (
    AGGREGATES,
    DURATION_UNITS,
    FUNCTIONS,
    MAX_DURATION,
    MAX_NESTING,
    MAX_NUMBER,
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
    expr_from_dict,
    expr_to_dict,
    walk,
)
from cxmodel.expr._checked import evaluate_checked
from cxmodel.expr._diagnostics import Diagnostic, render_diagnostics
from cxmodel.expr._evaluate import MAX_NODES, count_nodes, evaluate, missing
from cxmodel.expr._lexer import Token, tokenize
from cxmodel.expr._parser import MAX_DEPTH, ExprParser, parse_expr
from cxmodel.expr._types import TYPES, check_expr

__all__ = [
    "AGGREGATES",
    "AGGREGATE_FUNCTIONS",
    "DURATION_UNITS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_DURATION",
    "MAX_NESTING",
    "MAX_NODES",
    "MAX_NUMBER",
    "TYPES",
    "Aggregate",
    "AggregateFunction",
    "Binary",
    "Call",
    "Diagnostic",
    "Duration",
    "Expr",
    "ExprParser",
    "InList",
    "Literal",
    "Name",
    "Token",
    "Unary",
    "check_expr",
    "check_nesting",
    "count_nodes",
    "evaluate",
    "evaluate_checked",
    "exact_sum",
    "expr_from_dict",
    "expr_to_dict",
    "missing",
    "parse_expr",
    "render_diagnostics",
    "tokenize",
    "walk",
]
