"""Catalogue rules benchmark: cxmodel vs pandas, same run, and the streaming engine.

On a synthetic log of 1M interactions for 100k customers (30 % product views over 2,000
products, purchases, logins) and 5,000 restock events of random products over the year:

1. Batch: ``evaluate`` of ``when restock as r for customers with product_view where product
   == r.product within 30 days`` (firings with payload and ``because``, counted) vs pandas:
   views merged with restocks on product, the window filtered, the latest view per (restock,
   customer) kept. The pairs must agree.
2. Streaming: the same rule in a ``TriggerEngine``, the interactions and restocks in time
   order in micro-batches of 10,000: interactions per second, the catalogue events waiting,
   and the bytes of state per customer at the end (the join buffers hold the last 30 days).

Log construction is excluded from both sides. Prints timings and ratios; installs nothing;
exits 0. Usage: python benchmarks/bench_catalogue.py [--rows N] [--customers N] [--events N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from _timing import best_of

from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, evaluate, parse

DAY = 86_400_000_000
START = 1_704_067_200_000_000  # 2024-01-01T00:00Z
RULE = parse(
    "trigger back_in_stock:\n"
    "    when restock as r\n"
    "        for customers with product_view where product == r.product within 30 days\n"
    "    emit back_in_stock(product = r.product)\n"
)


def make(
    n: int, customers: int, events: int, seed: int = 0
) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(np.array(["product_view", "purchase", "login"], dtype=object), n,
                       p=[0.3, 0.2, 0.5])  # fmt: skip
    products = np.array([f"P{i:04d}" for i in range(2000)], dtype=object)
    log = {
        "customer_id": np.array([f"c{i}" for i in rng.integers(0, customers, n)], dtype=object),
        "timestamp": (START + rng.integers(0, 365 * DAY, n)).astype("datetime64[us]"),
        "kind": kinds,
        "product": rng.choice(products, n),
    }
    catalogue = {
        "timestamp": (START + rng.integers(0, 365 * DAY, events)).astype("datetime64[us]"),
        "kind": np.full(events, "restock", dtype=object),
        "product": rng.choice(products, events),
    }
    return log, catalogue


def with_pandas(frame: pd.DataFrame, restocks: pd.DataFrame) -> set[tuple[int, str]]:
    views = frame[frame["kind"] == "product_view"][["customer_id", "timestamp", "product"]]
    pairs = restocks.merge(views, on="product", suffixes=("_r", "_v"))
    window = (pairs["timestamp_v"] <= pairs["timestamp_r"]) & (
        pairs["timestamp_v"] >= pairs["timestamp_r"] - pd.Timedelta(days=30)
    )
    pairs = pairs[window]
    latest = pairs.sort_values("timestamp_v").groupby(["event", "customer_id"]).tail(1)
    return set(zip(latest["event"].tolist(), latest["customer_id"].tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000)
    args = parser.parse_args()
    columns, catalogue = make(args.rows, args.customers, args.events)
    as_of = "2025-01-01T00:00:00Z"
    log = InteractionLog.from_arrays(**columns).with_observed_until(as_of)  # complete until as_of

    def ours() -> int:
        return len(evaluate(RULE, log, as_of=as_of, catalogue=catalogue))

    frame = pd.DataFrame(columns)
    restocks = pd.DataFrame(catalogue).reset_index().rename(columns={"index": "event"})
    t_ours, n_ours = best_of(ours)
    t_pandas, pairs = best_of(lambda: with_pandas(frame, restocks))
    print(f"batch: {args.rows:,} interactions, {args.customers:,} customers, "
          f"{args.events:,} restocks -> {n_ours:,} firings")  # fmt: skip
    print(f"  cxmodel evaluate  {t_ours:8.3f} s")
    print(f"  pandas merge      {t_pandas:8.3f} s   ratio {t_pandas / t_ours:5.1f}x")
    assert n_ours == len(pairs), (n_ours, len(pairs))

    order = np.argsort(columns["timestamp"], kind="stable")
    records = [
        {"customer_id": columns["customer_id"][j], "timestamp": columns["timestamp"][j],
         "kind": columns["kind"][j], "product": columns["product"][j]}
        for j in order.tolist()
    ]  # fmt: skip
    records += [
        {"timestamp": catalogue["timestamp"][j], "kind": "restock",
         "product": catalogue["product"][j]}
        for j in range(args.events)
    ]  # fmt: skip
    records.sort(key=lambda r: r["timestamp"])
    for r in records:
        r["timestamp"] = str(r["timestamp"]) + "Z"

    def streamed(rule: Any, items: list[dict[str, Any]]) -> tuple[float, int, Any]:
        engine = TriggerEngine(rule, max_future=None)
        start = time.process_time()  # CPU time: the machine may be shared
        fired = 0
        for i in range(0, len(items), 10_000):
            fired += len(engine.process_many(items[i : i + 10_000]))
        fired += len(engine.advance_to(as_of))
        return time.process_time() - start, fired, engine.stats()

    cpu, fired, stats = streamed(RULE, records)
    print(f"streaming: {len(records):,} records in micro-batches of 10,000 -> {fired:,} firings")
    print(f"  {len(records) / cpu:,.0f} records per CPU second, "
          f"{stats['bytes_per_customer']:.0f} bytes of state per customer, "
          f"{stats['pending_catalogue_events']} events waiting")  # fmt: skip
    plain = [r for r in records if "customer_id" in r]
    base, _, _ = streamed(parse("trigger t:\n    when purchase\n    emit thanks"), plain)
    print(f"  the same interactions under a one-line rule: {len(plain) / base:,.0f} per CPU second")
    assert fired == n_ours, (fired, n_ours)


if __name__ == "__main__":
    main()
