"""cxmodel's warnings: raised to the caller, or kept by the piece of a distributed analysis.

Every warning of cxmodel is raised by :func:`warn`. Outside a piece it is
:func:`warnings.warn`. In a piece (a partition task of :mod:`cxmodel.dask`, run inside
:func:`as_piece`) it is appended to the piece's own list, which travels back with the
piece's state. The list is held by a :class:`~contextvars.ContextVar`, so it belongs to the
thread (and task) running the piece: Python's warning filters and hooks are process-wide, and
a library on another thread entering and leaving :class:`warnings.catch_warnings` while the
piece runs (pandas and Dask do, on the threaded scheduler) would otherwise send the piece's
warning to the caller, or keep a later warning of the caller in a finished piece's recorder.
:func:`silenced` and :func:`as_errors` filter cxmodel's warnings in the same way, for the
enclosed code of the current thread only.

A warning points at the line of the user's code that led to it: the first frame outside the
cxmodel package, however deep inside it the warning was raised (as Python 3.12's
``skip_file_prefixes`` does), so no function passes a ``stacklevel``.

A warning such as "2 of 6 purchases have no value" counts two things. In one process it is
raised only when the first count is not 0. A piece raises it even at 0, so that the rows of
the pieces without a missing value still add to the second count; the merged warning is
raised only when its first count is not 0, and says what the one-process warning says.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

from cxmodel.errors import counted_warning

__all__ = [
    "as_errors",
    "as_piece",
    "first_count_is_zero",
    "piece_warnings",
    "silenced",
    "warn",
    "warn_counted",
]

_PIECE: ContextVar[list[Warning] | None] = ContextVar("cxmodel_piece_warnings", default=None)
# (category, raised as an error?), innermost first
_FILTERS: ContextVar[tuple[tuple[type[Warning], bool], ...]] = ContextVar(
    "cxmodel_warning_filters", default=()
)


#: The package's folder: frames of files under it are cxmodel's own.
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_level() -> int:
    """The ``stacklevel`` that makes :func:`warnings.warn`, called in :func:`warn`, point at
    the first frame outside the package (the frame of :func:`warn`'s caller when every
    frame is the package's own, as under ``python -m cxmodel``)."""
    frame: FrameType | None = sys._getframe(2)  # warn's caller: warnings.warn's stacklevel 2
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return 2 if frame is None else level


def warn(message: str | Warning, category: type[Warning] | None = None) -> None:
    """Raise a warning of cxmodel, as :func:`warnings.warn` does, pointing at the user's
    code (see the module docstring).

    In a piece (see :func:`as_piece`) the warning is appended to the piece's list instead,
    whatever the process-wide filters say. Under :func:`silenced` or :func:`as_errors`, in
    or out of a piece, it is dropped or raised as an exception.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn("to the caller", UserWarning)
    ...     with as_piece() as kept:
    ...         warn("to the piece", UserWarning)
    >>> [str(w.message) for w in seen], kept
    (['to the caller'], [UserWarning('to the piece')])
    """
    warning = message if isinstance(message, Warning) else (category or UserWarning)(message)
    for filtered, as_error in _FILTERS.get():
        if isinstance(warning, filtered):
            if as_error:
                raise warning
            return
    kept = _PIECE.get()
    if kept is None:
        warnings.warn(warning, stacklevel=_user_level())
    else:
        kept.append(warning)


def warn_counted(category: type[Warning], template: str, **counts: int) -> None:
    """Warn :func:`~cxmodel.errors.counted_warning` unless its first count is 0 outside a piece.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_counted(UserWarning, "{missing} of {rows} missing", missing=0, rows=4)
    ...     with as_piece() as kept:
    ...         warn_counted(UserWarning, "{missing} of {rows} missing", missing=0, rows=4)
    >>> seen, [(str(w), w.counts) for w in kept]
    ([], [('0 of 4 missing', {'missing': 0, 'rows': 4})])
    """
    if first_count_is_zero(counts) and _PIECE.get() is None:
        return
    warn(counted_warning(category, template, **counts))


def first_count_is_zero(counts: dict[str, int]) -> bool:
    """Whether the first of ``counts`` (the one a counted warning is about) is 0."""
    return bool(counts) and next(iter(counts.values())) == 0


@contextmanager
def as_piece() -> Iterator[list[Warning]]:
    """Run the enclosed code, in this thread, as a piece: the list of cxmodel's warnings it
    raises (counted ones even at 0), in order; none of them reaches the caller."""
    kept: list[Warning] = []
    token = _PIECE.set(kept)
    try:
        yield kept
    finally:
        _PIECE.reset(token)


def piece_warnings() -> list[Warning] | None:
    """The list of the piece running in this thread (see :func:`as_piece`), or None."""
    return _PIECE.get()


@contextmanager
def _filtered(category: type[Warning], as_error: bool) -> Iterator[None]:
    token = _FILTERS.set(((category, as_error), *_FILTERS.get()))
    try:
        yield
    finally:
        _FILTERS.reset(token)


@contextmanager
def silenced(category: type[Warning] = Warning) -> Iterator[None]:
    """Drop cxmodel's warnings of ``category`` raised by the enclosed code of this thread
    (other libraries' warnings and other threads are not affected).

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     with silenced(UserWarning):
    ...         warn("dropped", UserWarning)
    >>> seen
    []
    """
    with _filtered(category, as_error=False):
        yield


@contextmanager
def as_errors(category: type[Warning]) -> Iterator[None]:
    """Raise cxmodel's warnings of ``category`` in the enclosed code of this thread as
    exceptions (other libraries' warnings and other threads are not affected).

    Examples
    --------
    >>> with as_errors(UserWarning):
    ...     warn("raised", UserWarning)
    Traceback (most recent call last):
    UserWarning: raised
    """
    with _filtered(category, as_error=True):
        yield
