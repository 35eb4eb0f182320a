"""Warnings raised in partition tasks, carried back beside the states and raised on the client.

A warning that counts something (built by :func:`cxmodel.errors.counted_warning`) is added up
over the partitions, so the client sees the one-process warning with the whole data's counts,
not one warning per partition (a partition raises it even when it counts 0, so that its rows
still add to a total such as "2 of 6 purchases"); any other warning is raised once per distinct message.

A task keeps cxmodel's own warnings in a list of its thread (:func:`cxmodel._pieces.as_piece`),
which no other thread can switch. Other libraries' warnings (numpy's, those of a function given
to :func:`~cxmodel.dask.map_customers`) can only be caught through Python's process-wide hooks:
while any task of the process runs, every warning passes the filters and goes to a hook that
gives it to the task running on the warning's thread, or to the hook it replaced when that
thread runs no task. The hooks are switched by the first task to start and restored by the last
to finish, so tasks on several threads of one process run at once and never restore each
other's hooks out of order. A library on another thread that restores the hooks while a task
runs can still send that task's other-library warnings to the caller, but never cxmodel's.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

from cxmodel._pieces import as_piece, first_count_is_zero, piece_warnings, warn
from cxmodel.dask._common import merge_keyed, tree_merge

__all__ = ["Caught", "caught_in", "merge_caught", "raise_caught", "recorded"]

S = TypeVar("S")
# (category, template or message, occurrence of it in its task) -> the counts of a template
Caught = dict[tuple[type[Warning], str, int], dict[str, int]]
ShowWarning = Callable[[Warning | str, type[Warning], str, int, TextIO | None, str | None], None]


class _ToTasks:
    """A ``warnings.showwarning`` that keeps a warning in the task running on its thread, or
    passes it on to ``previous`` (the hook it replaced) on a thread that runs no task."""

    def __init__(self, previous: ShowWarning) -> None:
        # a hook of ours left installed (restored out of order by another thread) is not
        # wrapped again: the chain of hooks stays one long
        self.previous: ShowWarning = (
            previous.previous if isinstance(previous, _ToTasks) else previous
        )

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        kept = piece_warnings()
        if kept is None:
            self.previous(message, category, filename, lineno, file, line)
        else:
            kept.append(message if isinstance(message, Warning) else category(message))


class _Hooks:
    """Python's warning filters and hook, switched while any task of this process runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks = 0
        self._saved: warnings.catch_warnings | None = None

    @contextmanager
    def switched(self) -> Iterator[None]:
        """Run the enclosed task with the hooks switched: the first task to start switches
        them, the last to finish restores what was there before the first."""
        with self._lock:
            if self._tasks == 0:
                self._saved = warnings.catch_warnings()
                self._saved.__enter__()
                warnings.simplefilter("always")
                warnings.showwarning = _ToTasks(warnings.showwarning)
            self._tasks += 1
        try:
            yield
        finally:
            with self._lock:
                self._tasks -= 1
                if self._tasks == 0 and self._saved is not None:
                    self._saved.__exit__(None, None, None)
                    self._saved = None


_HOOKS = _Hooks()


def caught_in(fn: Callable[..., S], *args: Any) -> tuple[S, Caught]:
    """``fn(*args)`` and the warnings it raised (every one, whatever the filters).

    The n-th warning of a template in one task is added to the n-th of the same template in
    another (the same step of the same analysis on other customers). Tasks on several threads
    of one process run at once (``LocalCluster(threads_per_worker=4)``, the threaded
    scheduler), each with its own warnings.

    Examples
    --------
    >>> def half(x):
    ...     warnings.warn("odd input", UserWarning)
    ...     return x // 2
    >>> caught_in(half, 5)
    (2, {(<class 'UserWarning'>, 'odd input', 0): {}})
    """
    with as_piece() as kept, _HOOKS.switched():
        out = fn(*args)
    caught: Caught = {}
    seen: Counter[tuple[type[Warning], str]] = Counter()
    for warning in kept:
        category = type(warning)
        template = getattr(warning, "template", None)
        counts = getattr(warning, "counts", None)
        if isinstance(template, str) and isinstance(counts, dict):
            text, numbers = template, dict(counts)
        else:
            text, numbers = str(warning), {}
        caught[(category, text, seen[(category, text)])] = numbers
        seen[(category, text)] += 1
    return out, caught


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {name: a[name] + b[name] for name in a}


def merge_caught(a: Caught, b: Caught) -> Caught:
    """The warnings of two tasks: the counts of the same template added, messages kept once.

    Examples
    --------
    >>> from cxmodel.errors import DataWarning
    >>> one = {(DataWarning, "{n} split", 0): {"n": 2}, (UserWarning, "odd", 0): {}}
    >>> two = {(DataWarning, "{n} split", 0): {"n": 3}}
    >>> merge_caught(one, two)[(DataWarning, "{n} split", 0)]
    {'n': 5}
    """
    return merge_keyed(a, b, _add)


def raise_caught(caught: Caught) -> None:
    """Raise each merged warning once.

    A counted warning whose first count adds up to 0 is not raised: the pieces raised it only
    to carry their other counts (see :func:`cxmodel._pieces.warn_counted`).
    """
    messages = dict.fromkeys(
        (category, text.format(**counts) if counts else text)
        for (category, text, _), counts in caught.items()
        if not first_count_is_zero(counts)
    )
    for category, message in messages:
        warn(message, category)


def recorded(
    dask: Any, partial: Callable[..., S], pieces: Sequence[Any], *args: Any
) -> tuple[list[Any], Any]:
    """Delayed ``partial(piece, *args)`` per piece (a partition's log or frame), and the
    delayed merge of the warnings they raise (None without pieces)."""
    pairs = [dask.delayed(caught_in, pure=True, nout=2)(partial, p, *args) for p in pieces]
    caught = tree_merge(merge_caught, [pair[1] for pair in pairs]) if pairs else None
    return [pair[0] for pair in pairs], caught
