"""LogContext.lower_bound: the first row of a customer at or after (after) a time, by keys
without a sort (times in a common step) or by the composite of time ranks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.log import InteractionLog
from cxmodel.triggers._context import LogContext

T0 = 1_704_067_200_000_000  # 2024-01-01 in microseconds


def _context(customers: list[int], steps: list[int], unit: int) -> LogContext:
    times = (T0 + np.asarray(steps, dtype=np.int64) * unit).astype("datetime64[us]")
    log = InteractionLog.from_arrays(
        customer_id=[f"c{c}" for c in customers], timestamp=times, kind=["view"] * len(steps)
    )
    return LogContext(log)


def _brute(ctx: LogContext, cust: int, time: int, strict: bool) -> int:
    start, stop = int(ctx.offsets[cust]), int(ctx.offsets[cust + 1])
    for i in range(start, stop):
        if ctx.ts[i] > time or (not strict and ctx.ts[i] == time):
            return i
    return stop


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 50)), min_size=1, max_size=40),
    unit=st.sampled_from([1, 7, 1_000_000, 86_400_000_000]),
    queries=st.lists(st.tuples(st.integers(0, 4), st.integers(-3_000, 60_000)), max_size=20),
    direct=st.booleans(),
)
def test_lower_bound_equals_a_scan(
    rows: list[tuple[int, int]],
    unit: int,
    queries: list[tuple[int, int]],
    direct: bool,
) -> None:
    """Either key path (direct keys in the times' common step, or the composite of time
    ranks used when those would overflow) finds what a scan of the customer's rows finds,
    for query times on and off the rows' step, strict or not."""
    ctx = _context([c for c, _ in rows], [s for _, s in rows], unit)
    if not direct:  # as when customer * span overflows int64
        ctx._direct = (0, 0, 1, np.zeros(0, dtype=np.int64))
    n_customers = len(ctx.offsets) - 1
    for strict in (False, True):
        cust = np.array([c % n_customers for c, _ in queries], dtype=np.int64)
        times = np.array([T0 + q * (unit // 3 or 1) for _, q in queries], dtype=np.int64)
        got = ctx.lower_bound(cust, times, strict=strict).tolist()
        want = [_brute(ctx, int(c), int(t), strict) for c, t in zip(cust, times, strict=True)]
        assert got == want
