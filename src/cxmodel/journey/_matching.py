"""Exact loose-order funnel matching under per-step windows (earliest completion per step)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["earliest_steps", "range_min"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def range_min(values: IntArray, lo: IntArray, hi: IntArray, empty: int) -> IntArray:
    """``min(values[lo[i]:hi[i]])`` for every query, ``empty`` for empty ranges.

    A sparse table built one level at a time: a query of length ``L`` is answered at level
    ``floor(log2(L))`` by two overlapping blocks, so only one level is held in memory.

    Examples
    --------
    >>> v = np.array([5, 3, 8, 1, 9], dtype=np.int64)
    >>> range_min(v, np.array([0, 1, 2, 4]), np.array([2, 5, 2, 5]), 99).tolist()
    [3, 1, 99, 9]
    """
    out = np.full(len(lo), empty, dtype=np.int64)
    length = hi - lo
    ok = length > 0
    if not ok.any():
        return out
    lev = np.zeros(len(lo), dtype=np.int64)
    lev[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
    top = int(lev[ok].max())
    table = values
    for level in range(top + 1):
        sel = np.flatnonzero(ok & (lev == level))
        if len(sel):
            out[sel] = np.minimum(table[lo[sel]], table[hi[sel] - (1 << level)])
        if level < top:
            half = 1 << level
            table = np.minimum(table[:-half], table[half:])
    return out


def earliest_steps(
    masks: Sequence[BoolArray],
    group: IntArray,
    t: IntArray,
    anchors: IntArray,
    gaps: Sequence[int | None],
) -> IntArray:
    """Earliest row that can be step ``k`` of a loose chain from each anchor; -1 if none.

    A chain from anchor ``a`` is rows ``a = r1 < r2 < ... < rk`` of one group (unit, or
    unit and held value) with ``masks[i][r(i+1)]`` and ``t[r(i+1)] - t[ri] <= gaps[i]``
    (``None``: no bound). Returns ``F`` of shape ``(len(masks), len(anchors))`` where
    ``F[k, j]`` is the smallest possible last row of a chain reaching step ``k + 1`` from
    ``anchors[j]``. Any bound that only limits the last row (a whole-funnel window, an
    exclusion) is then checked on ``F`` alone: a step is reachable within such a bound iff its
    earliest completion is.

    The backward recursion ``G_k(r) = min G_(k+1)(r')`` over the successors ``r'`` of ``r``
    (a contiguous run of step-``k + 1`` rows of the group, after ``r`` and within the gap)
    is a range minimum; it is run once per target step, so the cost is
    ``O(S**2 * m log m)`` for ``S`` steps and ``m`` matching rows, with no loop over rows.

    Examples
    --------
    >>> # view at 0 and 50, cart at 60, purchase at 70; cart must follow a view within 20 s:
    >>> # greedy would anchor cart on the view at 0 and fail, the view at 50 succeeds.
    >>> kinds = np.array(["view", "view", "cart", "purchase"])
    >>> masks = [kinds == "view", kinds == "cart", kinds == "purchase"]
    >>> F = earliest_steps(masks, np.zeros(4, np.int64), np.array([0, 50, 60, 70]),
    ...     np.array([0, 1]), [20, None])
    >>> F.tolist()
    [[0, 1], [-1, 2], [-1, 3]]
    """
    n = len(group)
    n_steps = len(masks)
    big = n  # sentinel: no chain
    out = np.full((n_steps, len(anchors)), -1, dtype=np.int64)
    if n_steps == 0 or len(anchors) == 0:
        return out
    out[0] = anchors
    stride = np.int64(n + 1)
    anchor_order = np.lexsort((anchors, group[anchors]))
    cands: list[IntArray] = [anchors[anchor_order].astype(np.int64)]
    for k in range(1, n_steps):
        rows = np.flatnonzero(masks[k]).astype(np.int64)
        cands.append(rows[np.lexsort((rows, group[rows]))])
    lows: list[IntArray] = []
    highs: list[IntArray] = []
    for k in range(n_steps - 1):
        src, dst = cands[k], cands[k + 1]
        keys = group[dst] * stride + dst
        g_src = group[src]
        lows.append(np.searchsorted(keys, g_src * stride + src, side="right").astype(np.int64))
        gap = gaps[k]
        if gap is None:
            hi = np.searchsorted(keys, (g_src + 1) * stride, side="left")
        else:
            # rank the candidates' times so that (group, time) fits one sorted int64 key
            # (rank of x among them < number of them <= B  iff  x <= B)
            t_dst = t[dst]
            sorted_t = np.sort(t_dst)
            t_stride = np.int64(len(sorted_t) + 1)
            time_keys = group[dst] * t_stride + np.searchsorted(sorted_t, t_dst, side="left")
            at_most = np.searchsorted(sorted_t, t[src] + gap, side="right") - 1
            hi = np.searchsorted(time_keys, g_src * t_stride + at_most, side="right")
        highs.append(hi.astype(np.int64))
    for j in range(1, n_steps):
        best = cands[j]
        for k in range(j - 1, -1, -1):
            best = range_min(best, lows[k], highs[k], big)
        out[j, anchor_order] = np.where(best < big, best, -1)
    return out
