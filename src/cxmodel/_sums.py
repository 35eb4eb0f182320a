"""Sums of the data's own numbers that refuse to pass the float range.

A log holds finite numbers only, but two purchases of 1e308 add to ``inf``: numpy says so in
a ``RuntimeWarning`` that names no column (``np.add.reduceat``) or not at all
(``np.bincount``), and the infinite revenue, lifetime value or spend then reads like an
answer. Every sum over a user's column goes through :func:`grouped_sums` or
:func:`run_sums`, which check the result with :func:`check_sums` and raise a
:class:`~cxmodel.errors.DataError` naming the column, the group and the largest value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.errors import DataError

__all__ = ["check_sums", "checked_total", "grouped_sums", "run_sums"]


def grouped_sums(
    group: npt.NDArray[np.integer[Any]],
    values: npt.NDArray[np.float64],
    size: int,
    *,
    column: str,
    where: str,
    names: npt.NDArray[Any] | None = None,
    of: str = "customer",
) -> npt.NDArray[np.float64]:
    """The sum of ``values`` per group code in ``group`` (``size`` groups, 0 for a group
    without values), as ``np.bincount(group, weights=values, minlength=size)``, refused by
    :func:`check_sums` when one is past the float range.

    Examples
    --------
    >>> grouped_sums(np.array([0, 1, 1]), np.array([1.0, 2.0, 3.0]), 3, column="value",
    ...     where="f()").tolist()
    [1.0, 5.0, 0.0]
    >>> grouped_sums(np.array([0, 1, 1]), np.array([1.0, 1e308, 1e308]), 2, column="value",
    ...     where="f()", names=np.array(["a", "b"]))
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): the sum of column 'value' for customer 'b' is past the float range (1.8e+308): its values are too large to add (the largest is 1e+308); check the column's unit, or drop the rows that hold such values
    """
    return _checked(
        lambda: np.bincount(group, weights=values, minlength=size),
        values,
        column=column,
        where=where,
        names=names,
        of=of,
    )


def run_sums(
    values: npt.NDArray[np.float64],
    starts: npt.NDArray[np.intp],
    *,
    column: str,
    where: str,
    names: npt.NDArray[Any] | None = None,
    of: str = "customer",
) -> npt.NDArray[np.float64]:
    """The sum of ``values`` over each run beginning at ``starts`` (``np.add.reduceat``),
    refused by :func:`check_sums` when one is past the float range.

    Examples
    --------
    >>> run_sums(np.array([1.0, 2.0, 3.0]), np.array([0, 1]), column="value", where="f()").tolist()
    [1.0, 5.0]
    """
    return _checked(
        lambda: np.add.reduceat(values, starts),
        values,
        column=column,
        where=where,
        names=names,
        of=of,
    )


def checked_total(values: npt.NDArray[np.float64], *, column: str, where: str) -> float:
    """The sum of ``values``, refused by :func:`check_sums` when past the float range.

    Examples
    --------
    >>> checked_total(np.array([1.0, 2.5]), column="value", where="f()")
    3.5
    >>> checked_total(np.array([]), column="value", where="f()")
    0.0
    """
    found = _checked(lambda: np.array([values.sum()]), values, column=column, where=where)
    return float(found[0])


def _checked(
    summed: Callable[[], npt.NDArray[Any]],
    values: npt.NDArray[np.float64],
    *,
    column: str,
    where: str,
    names: npt.NDArray[Any] | None = None,
    of: str = "customer",
) -> npt.NDArray[np.float64]:
    """``summed()`` as float64, computed without numpy's unnamed overflow warning and refused
    by :func:`check_sums` (which names the column) when a sum is past the float range."""
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.asarray(summed(), dtype=np.float64)
    check_sums(sums, values, column=column, where=where, names=names, of=of)
    return sums


def check_sums(
    sums: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    *,
    column: str,
    where: str,
    names: npt.NDArray[Any] | None = None,
    of: str = "customer",
) -> None:
    """Refuse ``sums`` of ``values`` (column ``column``) when one is past the float range.

    A sum is infinite, or NaN where every value added is finite (``inf - inf`` in pairwise
    summation), only by overflow. ``names`` (one per sum) name the first such group, as ``of``
    ``'name'``; without them the message names the column only.

    Raises
    ------
    DataError
        If a sum overflowed, naming ``where``, the column, the group and the largest value.

    Examples
    --------
    >>> check_sums(np.array([3.0, np.nan]), np.array([1.0, 2.0, np.nan]), column="value",
    ...     where="f()")
    >>> check_sums(np.array([np.inf]), np.array([1e308, 1e308]), column="value", where="f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): the sum of column 'value' is past the float range (1.8e+308): its values are too large to add (the largest is 1e+308); check the column's unit, or drop the rows that hold such values
    """
    if not sums.size:
        return
    finite_input = bool(np.isfinite(values).all())
    bad = ~np.isfinite(sums) if finite_input else np.isinf(sums)
    if not bad.any():
        return
    who = ""
    if names is not None:
        who = f" for {of} {str(names[int(np.flatnonzero(bad)[0])])!r}"
    largest = float(np.nanmax(np.abs(values)))
    raise DataError(
        f"{where}: the sum of column {column!r}{who} is past the float range "
        f"({np.finfo(np.float64).max:.2g}): its values are too large to add (the largest is "
        f"{largest:.3g}); check the column's unit, or drop the rows that hold such values"
    )
