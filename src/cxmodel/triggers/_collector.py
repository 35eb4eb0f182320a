"""The cyclic garbage collector paused while the streaming engine makes many long-lived
objects at once: a large micro-batch (its checks, then ``_columnar.py``) or a state restored
from a store."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused (when it was running), and resumed after.

    A large micro-batch, or a state loaded from a store, makes many objects that live on in
    the customers' states (rows, anchors, timers) and makes no reference cycles; every so many
    allocations the collector would re-scan everything alive, the whole state included, which
    costs a fifth to two fifths of a micro-batch for nothing (about 40 % with 100,000
    customers) and more than half of a restart. Reference counting frees memory as usual
    while it is paused.

    When it resumes, the objects made meanwhile would all be in the youngest generation, and
    the first allocation after would scan them all (about 5 % of a call). They are moved to
    the oldest generation instead, unscanned, with :func:`gc.freeze` then :func:`gc.unfreeze`
    (both only move lists), as they are long-lived; a cycle among them is found by the next
    full collection. The move takes every object the process holds, so the young
    generations are collected first, on entry (a few thousand objects at most): the host's
    recent garbage is freed then, not kept until a full collection. A host that froze
    objects itself (:func:`gc.get_freeze_count`) keeps them frozen: the move is skipped.
    """
    was = gc.isenabled()
    if was:
        gc.collect(1)
        gc.disable()
    try:
        yield
    finally:
        if was:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
