"""Orders benchmark: ``InteractionLog.orders()`` and the check for lines of one order.

On a log of 1M interactions for 100k customers (40 % purchases, times in whole minutes so that
some purchases of one customer share an instant), without and with an ``order_id`` column (ids in
random order, so the lines are grouped by a sort rather than read in log order):

1. the check every count-based analysis runs (``further_lines`` on the purchase rows);
2. ``cxmodel.segment.rfm_scores``, which runs that check;
3. ``InteractionLog.orders()``.

The log is built and sorted before timing. Prints timings; installs nothing; exits 0.
Usage: python benchmarks/bench_orders.py [--rows N] [--customers N]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _timing import best_of

from cxmodel.log import InteractionLog
from cxmodel.log._orders import further_lines
from cxmodel.segment import rfm_scores

YEAR_S = 365 * 86_400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    ids = np.char.add("c", np.arange(args.customers).astype(str)).astype(object)
    customer = ids[rng.integers(0, args.customers, n)]
    times = rng.integers(0, YEAR_S, n) // 60 * 60  # epoch seconds, whole minutes
    kind = np.where(rng.random(n) < 0.4, "purchase", "view").astype(object)
    value = np.where(kind == "purchase", rng.uniform(1, 100, n), np.nan)
    order_id = np.char.add("o", rng.permutation(n).astype(str)).astype(object)
    print(f"{n:,} interactions, {args.customers:,} customers")
    for label, extra in (("no order_id", {}), ("order_id", {"order_id": order_id})):
        log = InteractionLog.from_arrays(customer, times, kind, value=value, **extra)
        buys = np.flatnonzero(log.kind_mask("purchase"))  # sorts the log
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the warning about lines is what is timed
            check, lines = best_of(lambda: further_lines(log, buys))  # noqa: B023
            rfm, _ = best_of(lambda: rfm_scores(log, as_of=YEAR_S))  # noqa: B023
            merge, _ = best_of(lambda: log.orders())  # noqa: B023
        print(
            f"{label:<12} {len(buys):,} purchases, {lines:,} further lines: check "
            f"{1e3 * check:6.1f} ms   rfm_scores {1e3 * rfm:6.1f} ms   orders() "
            f"{1e3 * merge:6.1f} ms"
        )


if __name__ == "__main__":
    main()
