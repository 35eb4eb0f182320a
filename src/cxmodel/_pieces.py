"""Counted warnings that add up over the pieces of a distributed analysis.

A warning such as "2 of 6 purchases have no value" counts two things. In one process it is
raised only when the first count is not 0. A piece of a distributed analysis (a partition of
:mod:`cxmodel.dask`) raises it even at 0, so that the rows of the pieces without a missing
value still add to the second count; the merged warning is raised only when its first count
is not 0, and says what the one-process warning says.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cxmodel.errors import counted_warning

__all__ = ["counting_pieces", "first_count_is_zero", "warn_counted"]

_IN_PIECE: ContextVar[bool] = ContextVar("cxmodel_counting_pieces", default=False)


def warn_counted(
    category: type[Warning], template: str, *, stacklevel: int = 2, **counts: int
) -> None:
    """Warn :func:`~cxmodel.errors.counted_warning` unless its first count is 0 outside a piece.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_counted(UserWarning, "{missing} of {rows} missing", missing=0, rows=4)
    ...     with counting_pieces():
    ...         warn_counted(UserWarning, "{missing} of {rows} missing", missing=0, rows=4)
    >>> [str(w.message) for w in seen]
    ['0 of 4 missing']
    """
    if first_count_is_zero(counts) and not _IN_PIECE.get():
        return
    warnings.warn(counted_warning(category, template, **counts), stacklevel=stacklevel + 1)


def first_count_is_zero(counts: dict[str, int]) -> bool:
    """Whether the first of ``counts`` (the one a counted warning is about) is 0."""
    return bool(counts) and next(iter(counts.values())) == 0


@contextmanager
def counting_pieces() -> Iterator[None]:
    """Run the enclosed code as a piece: counted warnings are raised even at 0."""
    token = _IN_PIECE.set(True)
    try:
        yield
    finally:
        _IN_PIECE.reset(token)
