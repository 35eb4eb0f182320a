"""The customers whose states remember interaction ids, queued by the time of their oldest.

A customer's state keeps the ids of its interactions while they could still be re-delivered
(``CustomerState.seen``), and :meth:`RuleRunner.forget_ids
<cxmodel.triggers._runner.RuleRunner.forget_ids>` forgets them once they can only come back
late. :class:`Remembering` says which customers may hold an id older than a given time, so
that forgetting looks at those alone: not at every customer, nor at every customer holding
some id (most of whom hold only recent ones).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

__all__ = ["Remembering"]


class Remembering:
    """Customers queued by a time at or before their oldest remembered id.

    Every customer whose state holds an id has been :meth:`add`-ed with a time at or before
    that id's; :meth:`due` takes off the customers queued before a time. A customer is queued
    at the earliest time it was added with since it was last taken off: one live entry per
    customer (an entry it had at a later time is dropped when it comes up).

    Examples
    --------
    >>> queue = Remembering()
    >>> queue.add("a", 30); queue.add("b", 10); queue.add("a", 50)
    >>> "a" in queue, len(queue)
    (True, 2)
    >>> queue.due(40), queue.due(40), len(queue)
    (['b', 'a'], [], 0)
    """

    __slots__ = ("_at", "_heap")

    def __init__(self) -> None:
        self._heap: list[tuple[int, str]] = []
        #: each queued customer's time (its one live entry on the heap)
        self._at: dict[str, int] = {}

    def add(self, cid: str, time: int) -> None:
        """Customer ``cid`` remembers an id of ``time``: queue it, unless it is queued at
        that time or earlier."""
        at = self._at.get(cid)
        if at is None or time < at:
            self._at[cid] = time
            heapq.heappush(self._heap, (time, cid))

    def add_many(self, added: Iterable[tuple[str, int]]) -> None:
        """:meth:`add` each (customer, time) of ``added``."""
        at, heap = self._at, self._heap
        for cid, time in added:
            queued = at.get(cid)
            if queued is None or time < queued:
                at[cid] = time
                heapq.heappush(heap, (time, cid))

    def due(self, before: int) -> list[str]:
        """Take off, and return in time order, the customers queued before ``before``: those
        who may remember an id older than it. An entry left by an earlier time of a customer
        queued again (at an earlier time) is dropped on the way."""
        heap, at = self._heap, self._at
        out: list[str] = []
        while heap and heap[0][0] < before:
            time, cid = heapq.heappop(heap)
            if at.get(cid) == time:
                del at[cid]
                out.append(cid)
        return out

    def discard(self, cid: str) -> None:
        """Take customer ``cid`` off the queue, if it is on it (an erased customer): its
        entry is dropped when it comes up."""
        self._at.pop(cid, None)

    def __contains__(self, cid: object) -> bool:
        return cid in self._at

    def __len__(self) -> int:
        return len(self._at)

    def queued_at(self, cid: str) -> int | None:
        """The time customer ``cid`` is queued at (``None``: not queued)."""
        return self._at.get(cid)
