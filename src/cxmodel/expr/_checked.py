"""Parse, type-check and evaluate one expression text in a single call, with labelled errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.expr._diagnostics import render_diagnostics
from cxmodel.expr._evaluate import evaluate
from cxmodel.expr._parser import parse_expr
from cxmodel.expr._types import check_expr

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["evaluate_checked", "table_namespace"]


def evaluate_checked(
    label: str,
    text: str,
    columns: Mapping[str, npt.NDArray[Any]],
    schema: Mapping[str, str],
    n: int,
    want: str,
) -> npt.NDArray[Any]:
    """Parse, type-check (``want`` is "bool" or "float") and evaluate one expression.

    Used wherever users name a predicate or a value in text: rule segments, next-best-action
    eligibility, experience-driver conditions. Errors are re-raised with ``label`` (e.g.
    ``"rule 'VIP'"``) in front of the diagnostics, which show the text with a caret.

    Parameters
    ----------
    label : str
        What the expression is, put in front of every error message (``"rule 'VIP'"``).
    text : str
        The expression as the user wrote it.
    columns : Mapping[str, numpy.ndarray]
        One array of ``n`` row values per name the expression may use.
    schema : Mapping[str, str]
        The type of each name (one of :data:`~cxmodel.expr.TYPES`), for the type check.
    n : int
        The number of rows; a constant expression is repeated on each.
    want : {"bool", "float"}
        ``"bool"`` for a condition, ``"float"`` for a number.

    Returns
    -------
    numpy.ndarray
        One value per row, a fresh writable array of length ``n``.

    Raises
    ------
    TriggerSyntaxError
        When ``text`` does not parse.
    TriggerTypeError
        When the expression does not type-check, or is not a number for ``want="float"``.

    Examples
    --------
    >>> import numpy as np
    >>> evaluate_checked("rule 'big'", "value > 100", {"value": np.array([50.0, 150.0])},
    ...                  {"value": "float"}, 2, "bool").tolist()
    [False, True]
    """
    try:
        expr = parse_expr(text)
    except TriggerSyntaxError as exc:
        raise TriggerSyntaxError(f"{label}: {exc}", exc.errors) from None
    got, problems = check_expr(expr, schema, want="bool" if want == "bool" else None)
    if not problems and want == "float" and got not in ("float", "any", "null"):
        raise TriggerTypeError(f"{label}: {text!r} has type {got}; expected a number")
    if problems:
        message = render_diagnostics(tuple(problems), text)
        raise TriggerTypeError(f"{label}: {message}", tuple(problems))
    result = np.asarray(evaluate(expr, columns, n=n))
    out: npt.NDArray[Any] = np.broadcast_to(result, (n,)).copy()
    return out


_TYPE_OF_KIND = {
    "b": "bool",
    "i": "float",
    "u": "float",
    "f": "float",
    "O": "string",
    "U": "string",
}


def table_namespace(table: CustomerTable) -> tuple[dict[str, npt.NDArray[Any]], dict[str, str]]:
    """The table's bool, numeric and string columns and their expression types."""
    columns: dict[str, npt.NDArray[Any]] = {}
    schema: dict[str, str] = {}
    for name in table.columns:
        values = table.column(name)
        kind = _TYPE_OF_KIND.get(values.dtype.kind)
        if kind is not None:
            columns[name] = values
            schema[name] = kind
    return columns, schema
