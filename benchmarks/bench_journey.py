"""Journey benchmark: cxmodel vs pandas (and pm4py if importable), same run.

1. Raw shuffled table (1M events, 50k customers, string ids) -> transition matrix:
   ``InteractionLog.from_arrays`` + ``cxmodel.journey.transitions`` vs pandas stable sort +
   ``groupby().shift(-1)`` + counting, vs pm4py ``discover_dfg`` when installed. The matrices
   are checked to be identical.
2. Views on the built log: funnel, step matrix, paths (target <= 50 ms each), attribution,
   funnel with per-step windows, friction with error proximity, a by= breakdown and a
   two-segment comparison.

Installs nothing; a missing peer is reported and skipped; exits 0.
Usage: python benchmarks/bench_journey.py [--rows N] [--customers N]
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import best_of

from cxmodel.journey import (
    attribution,
    compare_transitions,
    friction,
    funnel,
    paths,
    step_matrix,
    transitions,
)
from cxmodel.log import InteractionLog

KINDS = np.array(
    [
        "view",
        "product_view",
        "search",
        "add_to_cart",
        "checkout",
        "purchase",
        "login",
        "email_clicked",
    ]
)
CHANNELS = np.array(["web", "app", "email", "push", "store"])


def make_table(n: int, customers: int, seed: int = 0) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:06d}" for i in range(customers)], dtype=object)
    return {
        "customer_id": ids[rng.integers(0, customers, n)],
        "timestamp": (1_700_000_000 + rng.integers(0, 90 * 86_400, n)).astype(np.int64),
        "kind": KINDS[rng.integers(0, len(KINDS), n)].astype(object),
        "channel": CHANNELS[rng.integers(0, len(CHANNELS), n)].astype(object),
    }


def cx_transitions(table: dict[str, Any]) -> tuple[InteractionLog, Any]:
    log = InteractionLog.from_arrays(**table)
    return log, transitions(log, start_end=False)


def pandas_transitions(table: dict[str, Any]) -> Any:
    import pandas as pd

    df = pd.DataFrame(table)
    df = df.sort_values(["customer_id", "timestamp"], kind="stable")
    nxt = df.groupby("customer_id", sort=False)["kind"].shift(-1)
    pairs = pd.DataFrame({"a": df["kind"].to_numpy(), "b": nxt.to_numpy()}).dropna()
    return pairs.groupby(["a", "b"]).size()


def pm4py_transitions(table: dict[str, Any]) -> Any:
    import pandas as pd
    import pm4py

    df = pd.DataFrame(
        {
            "case:concept:name": table["customer_id"],
            "concept:name": table["kind"],
            "time:timestamp": pd.to_datetime(table["timestamp"], unit="s", utc=True),
        }
    )
    dfg, _, _ = pm4py.discover_dfg(df)
    return dfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args()
    table = make_table(args.rows, args.customers)
    print(f"{args.rows:,} shuffled events, {args.customers:,} customers")

    t_cx, (log, tr) = best_of(lambda: cx_transitions(table))
    print(f"cxmodel build + transitions: {t_cx * 1e3:8.1f} ms")
    # the log sorts its rows when they are first read in log order: read them once
    t_build, _ = best_of(lambda: InteractionLog.from_arrays(**table).customer_codes)
    print(f"  of which InteractionLog.from_arrays and its sort: {t_build * 1e3:8.1f} ms")
    t_tr, _ = best_of(lambda: transitions(log, start_end=False))
    print(f"cxmodel transitions on built log: {t_tr * 1e3:8.1f} ms")

    if importlib.util.find_spec("pandas") is None:
        print("pandas not installed: skipped")
    else:
        t_pd, pd_counts = best_of(lambda: pandas_transitions(table))
        labels = tr.labels.tolist()
        expected = np.zeros_like(tr.counts)
        for (a, b), c in pd_counts.items():
            expected[labels.index(a), labels.index(b)] = c
        same = bool(np.array_equal(expected, tr.counts))
        print(
            f"pandas sort + groupby/shift: {t_pd * 1e3:8.1f} ms  ratio pandas/cxmodel = {t_pd / t_cx:5.2f}x"
            f"  identical matrix: {same}"
        )

    if importlib.util.find_spec("pm4py") is None:
        print(
            "pm4py not installed: skipped (not installed on purpose; pip install pm4py to compare)"
        )
    else:
        t_pm, dfg = best_of(lambda: pm4py_transitions(table), repeat=1)
        labels = tr.labels.tolist()
        got = np.zeros_like(tr.counts)
        for (a, b), c in dfg.items():
            got[labels.index(a), labels.index(b)] = c
        print(
            f"pm4py discover_dfg: {t_pm * 1e3:8.1f} ms  ratio pm4py/cxmodel = {t_pm / t_cx:5.2f}x"
            f"  identical matrix: {bool(np.array_equal(got, tr.counts))}"
        )

    web = log.categorical("channel")[0] == 0
    views: dict[str, Callable[[], Any]] = {
        "funnel (loose, 3 steps, 7d window)": lambda: funnel(
            log, ["view", "add_to_cart", "purchase"], window="7d"
        ),
        "funnel (strict)": lambda: funnel(log, ["view", "add_to_cart", "purchase"], order="strict"),
        "step_matrix (10 steps)": lambda: step_matrix(log, steps=10),
        "step_matrix (anchor purchase, +-5)": lambda: step_matrix(log, anchor="purchase", steps=5),
        "paths (top 20, max_length 5)": lambda: paths(log, max_length=5, conversion="purchase"),
        "paths (full journeys)": lambda: paths(log),
        "attribution (all 7 models)": lambda: attribution(log),
        "funnel (loose, step_windows 1d, 1d)": lambda: funnel(
            log, ["view", "add_to_cart", "purchase"], step_windows=["1d", "1d"]
        ),
        "friction (errors: checkout, 3 steps)": lambda: friction(log, errors=["checkout"]),
        "transitions by channel of first event": lambda: transitions(log, by="channel"),
        "compare_transitions (web rows vs rest)": lambda: compare_transitions(
            log, web, ~web, start_end=False
        ),
    }
    for name, fn in views.items():
        t, _ = best_of(fn)
        flag = "ok" if t <= 0.05 else "above 50 ms target"
        print(f"{name:40s} {t * 1e3:8.1f} ms  {flag}")


if __name__ == "__main__":
    main()
