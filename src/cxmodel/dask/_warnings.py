"""Warnings raised in partition tasks, carried back beside the states and raised on the client.

A warning that counts something (built by :func:`cxmodel.errors.counted_warning`) is added up
over the partitions, so the client sees the one-process warning with the whole data's counts,
not one warning per partition (a partition raises it even when it counts 0, so that its rows
still add to a total such as "2 of 6 purchases"); any other warning is raised once per distinct message.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from cxmodel._pieces import counting_pieces, first_count_is_zero
from cxmodel.dask._common import merge_keyed, tree_merge

__all__ = ["Caught", "caught_in", "merge_caught", "raise_caught", "recorded"]

S = TypeVar("S")
# Python's warning filters and hooks are process-wide, and recorders entered and left by
# several threads out of order would leave the wrong one installed: a threaded worker (or the
# local threaded scheduler) records one task at a time.
_RECORDING = threading.Lock()
# (category, template or message, occurrence of it in its task) -> the counts of a template
Caught = dict[tuple[type[Warning], str, int], dict[str, int]]


def caught_in(fn: Callable[..., S], *args: Any) -> tuple[S, Caught]:
    """``fn(*args)`` and the warnings it raised (every one, whatever the filters).

    The n-th warning of a template in one task is added to the n-th of the same template in
    another (the same step of the same analysis on other customers). Tasks of one process run
    one at a time here, as the warning machinery they switch is process-wide: give workers one
    thread each (as ``LocalCluster(threads_per_worker=1)``) to run partitions in parallel.

    Examples
    --------
    >>> def half(x):
    ...     warnings.warn("odd input", UserWarning)
    ...     return x // 2
    >>> caught_in(half, 5)
    (2, {(<class 'UserWarning'>, 'odd input', 0): {}})
    """
    with _RECORDING, warnings.catch_warnings(record=True) as records, counting_pieces():
        warnings.simplefilter("always")
        out = fn(*args)
    caught: Caught = {}
    seen: Counter[tuple[type[Warning], str]] = Counter()
    for record in records:
        template = getattr(record.message, "template", None)
        counts = getattr(record.message, "counts", None)
        if isinstance(template, str) and isinstance(counts, dict):
            text, numbers = template, dict(counts)
        else:
            text, numbers = str(record.message), {}
        caught[(record.category, text, seen[(record.category, text)])] = numbers
        seen[(record.category, text)] += 1
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


def raise_caught(caught: Caught, stacklevel: int = 3) -> None:
    """Raise each merged warning once, ``stacklevel`` frames above this function's caller.

    A counted warning whose first count adds up to 0 is not raised: the pieces raised it only
    to carry their other counts (see :func:`cxmodel._pieces.warn_counted`).
    """
    messages = dict.fromkeys(
        (category, text.format(**counts) if counts else text)
        for (category, text, _), counts in caught.items()
        if not first_count_is_zero(counts)
    )
    for category, message in messages:
        warnings.warn(message, category, stacklevel=stacklevel)


def recorded(
    dask: Any, partial: Callable[..., S], pieces: Sequence[Any], *args: Any
) -> tuple[list[Any], Any]:
    """Delayed ``partial(piece, *args)`` per piece (a partition's log or frame), and the
    delayed merge of the warnings they raise (None without pieces)."""
    pairs = [dask.delayed(caught_in, pure=True, nout=2)(partial, p, *args) for p in pieces]
    caught = tree_merge(merge_caught, [pair[1] for pair in pairs]) if pairs else None
    return [pair[0] for pair in pairs], caught
