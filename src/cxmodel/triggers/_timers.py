"""Per-customer due times with block minima, so finding who is due costs little when few are."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["NOT_DUE", "DueTimes"]

IntArray = npt.NDArray[np.int64]
NOT_DUE = np.iinfo(np.int64).max
_SHIFT = 10  # customers per block: 1024


class DueTimes:
    """Each customer's earliest time at which one rule must look at it again.

    Customers are engine codes ``0 .. n - 1``. Alongside the times, the minimum of every
    block of 1024 customers is kept, so :meth:`due` scans only the blocks holding a due
    customer: a call that touches a handful of customers costs a few blocks, not every
    customer.

    Examples
    --------
    >>> timers = DueTimes()
    >>> timers.lower(np.array([3, 2000]), np.array([50, 10]))
    >>> timers.due(20).tolist(), timers.due(60).tolist()
    ([2000], [3, 2000])
    >>> timers.clear(np.array([2000]))
    >>> timers.due(60).tolist()
    [3]
    """

    def __init__(self) -> None:
        self.times = np.full(1 << _SHIFT, NOT_DUE, dtype=np.int64)
        self.blocks = np.full(1, NOT_DUE, dtype=np.int64)

    def _reserve(self, size: int) -> None:
        if size <= len(self.times):
            return
        blocks = max(-(-size >> _SHIFT), 2 * len(self.blocks))
        times = np.full(blocks << _SHIFT, NOT_DUE, dtype=np.int64)
        times[: len(self.times)] = self.times
        mins = np.full(blocks, NOT_DUE, dtype=np.int64)
        mins[: len(self.blocks)] = self.blocks
        self.times, self.blocks = times, mins

    def lower(self, codes: IntArray, times: IntArray | int) -> None:
        """Bring each ``codes[i]``'s due time down to ``times[i]`` (where it is later)."""
        codes = np.asarray(codes, dtype=np.int64)
        if not len(codes):
            return
        self._reserve(int(codes.max()) + 1)
        values = np.broadcast_to(np.asarray(times, dtype=np.int64), codes.shape)
        np.minimum.at(self.times, codes, values)
        np.minimum.at(self.blocks, codes >> _SHIFT, values)

    def lower_all(self, size: int, time: int) -> None:
        """Make customers ``0 .. size - 1`` due at ``time`` at the latest."""
        self._reserve(size)
        np.minimum(self.times[:size], time, out=self.times[:size])
        self._refresh(np.arange(-(-size >> _SHIFT), dtype=np.int64))

    def due(self, frontier: int) -> IntArray:
        """The customers (sorted) due at or before ``frontier``."""
        blocks = np.flatnonzero(self.blocks <= frontier)
        if not len(blocks):
            return np.zeros(0, dtype=np.int64)
        if len(blocks) == len(self.blocks):
            return np.flatnonzero(self.times <= frontier)
        width = 1 << _SHIFT
        inside = self.times.reshape(-1, width)[blocks] <= frontier
        at, offset = np.nonzero(inside)
        return np.asarray((blocks[at] << _SHIFT) + offset, dtype=np.int64)

    def clear(self, codes: IntArray) -> None:
        """Mark ``codes`` as not due (until lowered again)."""
        if not len(codes):
            return
        self.times[codes] = NOT_DUE
        touched = np.zeros(len(self.blocks), dtype=bool)
        touched[np.asarray(codes, dtype=np.int64) >> _SHIFT] = True
        self._refresh(np.flatnonzero(touched))

    def _refresh(self, blocks: IntArray) -> None:
        self.blocks[blocks] = self.times.reshape(-1, 1 << _SHIFT)[blocks].min(axis=1)
