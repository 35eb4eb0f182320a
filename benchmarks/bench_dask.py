"""Dask benchmark: the analyses of ``cxmodel.dask`` on a local cluster against one process.

1. Writes ``--rows`` synthetic interactions (default 50M) as Parquet files of ``--file-rows``
   rows to a temporary directory, removed at the end. Each file is a slice of the year in time
   order, as exports are, so every customer is spread over every file.
2. One process, in a child process so that its peak memory is its own: reads the first
   ``--compare-rows`` rows (default 10M; pyarrow, ``InteractionLog.from_arrow``) and runs each
   analysis once. Reports the log's size and the child's peak resident memory.
3. Dask: a ``LocalCluster`` of ``--workers`` single-threaded worker processes whose memory
   limit (``--worker-memory``, default: 40% of what one process needed, scaled to ``--rows``,
   and at least 1.5 GB) is below what one process needs to hold the log (the report says
   whether it is). Reads the files with
   ``dd.read_parquet``, shuffles them by customer once (``from_dask``) and runs each analysis,
   at ``--compare-rows`` (results checked equal to one process) and at ``--rows``. Reports the
   cluster's peak memory (all workers) and what the workers spilled to disk.

Prints one table: seconds per analysis in one process and on Dask, and their ratio.
Installs nothing. Usage:
python benchmarks/bench_dask.py [--rows N] [--compare-rows N] [--workers N] [--worker-memory GB]
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _timing import peak_rss

AS_OF = "2025-01-01T00:00Z"
YEAR_US = 365 * 86_400 * 1_000_000
START_US = 1_704_067_200 * 1_000_000  # 2024-01-01T00:00Z
KINDS = [
    ("view", 0.30),
    ("product_view", 0.25),
    ("search", 0.10),
    ("add_to_cart", 0.10),
    ("checkout", 0.05),
    ("purchase", 0.05),
    ("login", 0.08),
    ("email_clicked", 0.05),
    ("survey", 0.02),
]
CHANNELS = [("web", 0.5), ("app", 0.3), ("email", 0.15), ("store", 0.05)]
STEPS = ["view", "product_view", "add_to_cart", "checkout", "purchase"]
RULES = """
trigger cart_reminder:
    when add_to_cart as c then no purchase for 1 days
    emit cart_reminder
    cooldown 7 days

trigger big_spender:
    when purchase as p where p.value > 200
    emit thank_you(value = p.value)
"""


# ------------------------------------------------------------------ data


def write_parquet(folder: Path, rows: int, customers: int, file_rows: int, seed: int) -> list[Path]:
    """``rows`` interactions in files of ``file_rows``, each a time slice; customers' activity
    varies (gamma weights). Returns the files in time order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ids = pa.array([f"c{i:08d}" for i in range(customers)])
    activity = np.cumsum(rng.gamma(0.7, size=customers))
    activity /= activity[-1]
    kinds = pa.array([k for k, _ in KINDS])
    kind_cdf = np.cumsum([p for _, p in KINDS])
    channels = pa.array([c for c, _ in CHANNELS])
    channel_cdf = np.cumsum([p for _, p in CHANNELS])
    files = []
    n_files = -(-rows // file_rows)
    for f in range(n_files):
        n = min(file_rows, rows - f * file_rows)
        lo = START_US + YEAR_US * f // n_files
        hi = START_US + YEAR_US * (f + 1) // n_files
        t = np.sort(rng.integers(lo, hi, n))
        who = np.minimum(np.searchsorted(activity, rng.random(n)), customers - 1)
        kind = np.minimum(np.searchsorted(kind_cdf, rng.random(n) * kind_cdf[-1]), len(KINDS) - 1)
        buy = kind == 5
        survey = kind == 8
        value = np.where(buy, np.round(rng.lognormal(3.5, 0.8, n), 2), np.nan)
        score = np.where(survey, rng.integers(0, 11, n).astype(np.float64), np.nan)
        channel = np.searchsorted(channel_cdf, rng.random(n) * channel_cdf[-1])
        table = pa.table(
            {
                "customer_id": ids.take(pa.array(who)),
                "timestamp": pa.array(t, type=pa.timestamp("us", tz="UTC")),
                "kind": kinds.take(pa.array(kind)),
                "channel": channels.take(pa.array(np.minimum(channel, len(CHANNELS) - 1))),
                "value": pa.array(value, from_pandas=True),
                "metric": pa.array(np.where(survey, "nps", None), type=pa.string()),
                "score": pa.array(score, from_pandas=True),
            }
        )
        path = folder / f"part-{f:04d}.parquet"
        pq.write_table(table, path)
        files.append(path)
    return files


# ------------------------------------------------------------------ analyses


def analyses(one: bool) -> dict[str, Callable[[Any], Any]]:
    """Each analysis, on a log (``one``) or on the shuffled partitions."""
    from cxmodel import dask as cxd
    from cxmodel import journey, metrics, models, triggers

    rules = triggers.parse(RULES)
    if one:
        return {
            "rfm_summary": models.rfm_summary,
            "customer_table": lambda log: _without_log(log.customers_table(AS_OF)),
            "cohort_retention": lambda log: metrics.cohort_retention(log, period="month"),
            "customer_lifetimes": lambda log: metrics.customer_lifetimes(log, AS_OF),
            "transitions": lambda log: journey.transitions(log, quantiles=()),
            "transitions, time quantiles": journey.transitions,
            "funnel": lambda log: journey.funnel(log, STEPS, window="7d", by="channel"),
            "paths, first 5 steps": lambda log: journey.paths(log, max_length=5),
            "paths, whole journeys": journey.paths,
            "step_matrix": lambda log: journey.step_matrix(log, anchor="add_to_cart", steps=5),
            "evaluate": lambda log: triggers.evaluate(rules, log, as_of=AS_OF),
        }
    return {
        "rfm_summary": cxd.rfm_summary,
        "customer_table": lambda parts: cxd.customer_table(parts, as_of=AS_OF),
        "cohort_retention": lambda parts: cxd.cohort_retention(parts, period="month"),
        "customer_lifetimes": lambda parts: cxd.customer_lifetimes(parts, AS_OF),
        "transitions": lambda parts: cxd.transitions(parts, quantiles=()),
        "transitions, time quantiles": cxd.transitions,
        "funnel": lambda parts: cxd.funnel(parts, STEPS, window="7d", by="channel"),
        "paths, first 5 steps": lambda parts: cxd.paths(parts, max_length=5),
        "paths, whole journeys": cxd.paths,
        "step_matrix": lambda parts: cxd.step_matrix(parts, anchor="add_to_cart", steps=5),
        "evaluate": lambda parts: cxd.evaluate(rules, parts, as_of=AS_OF),
    }


def _without_log(table: Any) -> Any:
    import attrs

    return attrs.evolve(table, log=None)


def timed(fn: Callable[[], Any], what: str) -> tuple[float, Any]:
    """Seconds ``fn()`` took and its result; says so on standard error."""
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    print(f"  {what}: {seconds:.2f} s", file=sys.stderr, flush=True)
    return seconds, out


def one_process(files: list[Path]) -> dict[str, Any]:
    """Read the files into one log and run every analysis (in a child process)."""
    import pyarrow.parquet as pq

    from cxmodel.log import InteractionLog

    seconds: dict[str, float] = {}
    read = lambda: InteractionLog.from_arrow(pq.read_table(files))  # noqa: E731
    seconds["load"], log = timed(read, "one process: load")
    results = {}
    for name, fn in analyses(one=True).items():
        seconds[name], results[name] = timed(lambda fn=fn: fn(log), f"one process: {name}")
    peak = peak_rss()
    return {"seconds": seconds, "results": results, "log_bytes": log.nbytes, "peak": peak}


def on_dask(client: Any, files: list[Path]) -> dict[str, Any]:
    """Read, shuffle once and run every analysis on the cluster; the cluster's peak memory."""
    import dask.dataframe as dd
    from distributed.diagnostics import MemorySampler

    from cxmodel import dask as cxd

    sampler = MemorySampler()
    seconds: dict[str, float] = {}
    results = {}
    with sampler.sample("run", client=client, interval=0.25):
        ddf = dd.read_parquet([str(f) for f in files])
        shuffle = lambda: _persisted(client, cxd.from_dask(ddf))  # noqa: E731
        seconds["load"], parts = timed(shuffle, "Dask: read and shuffle")
        spilled = sum(client.run(_spilled).values())
        for name, fn in analyses(one=False).items():
            seconds[name], results[name] = timed(lambda fn=fn: fn(parts), f"Dask: {name}")
    memory = sampler.to_pandas()
    return {
        "seconds": seconds,
        "results": results,
        "peak": float(memory["run"].max()),
        "spilled": spilled,
    }


def _persisted(client: Any, parts: Any) -> Any:
    from distributed import wait

    wait(list(parts.logs))
    return parts


def _spilled(dask_worker: Any) -> int:
    return int(dask_worker.data.spilled_total.memory)


# ------------------------------------------------------------------ checks and report


def same(a: Any, b: Any) -> bool:
    """Equal results: attrs fields, arrays (NaN equal), customer tables, firings, dicts."""
    if hasattr(a, "suppressed_firings"):  # Firings
        return bool(a.to_dict() == b.to_dict())
    if hasattr(a, "columns") and hasattr(a, "column"):  # CustomerTable
        return a.columns == b.columns and all(same(a.column(c), b.column(c)) for c in a.columns)
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if hasattr(a, "__attrs_attrs__"):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in a.__attrs_attrs__)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def gb(n: float) -> str:
    return f"{n / 2**30:.2f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--compare-rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: rows / 25")
    parser.add_argument("--file-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", type=float, default=None, help="GB per worker")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    compare = min(args.rows, args.compare_rows)
    compare -= compare % args.file_rows or 0
    compare = max(compare, args.file_rows)
    customers = args.customers or max(args.rows // 25, 1)

    folder = Path(tempfile.mkdtemp(prefix="cxmodel-bench-dask-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the files are removed
    try:
        start = time.perf_counter()
        files = write_parquet(folder, args.rows, customers, args.file_rows, args.seed)
        size = sum(f.stat().st_size for f in files)
        print(f"wrote {args.rows:,} rows, {customers:,} customers, {len(files)} Parquet files, "
              f"{gb(size)}, in {time.perf_counter() - start:.1f} s")  # fmt: skip
        small = files[: compare // args.file_rows]

        with multiprocessing.get_context("spawn").Pool(1) as pool:
            one = pool.apply(one_process, (small,))
        need = one["peak"] * args.rows / compare
        limit = args.worker_memory * 2**30 if args.worker_memory else max(0.4 * need, 1.5 * 2**30)
        below = "below" if limit < need else "NOT below"
        print(f"one process at {compare:,} rows: log {gb(one['log_bytes'])}, peak memory "
              f"{gb(one['peak'])} (so about {gb(need)} at {args.rows:,} rows); Dask worker "
              f"limit {gb(limit)} x {args.workers}, {below} what one process needs")  # fmt: skip

        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=int(limit),
                host="127.0.0.1",
                dashboard_address=None,
                local_directory=str(folder / "dask-worker-space"),
            ) as cluster,
            Client(cluster) as client,
        ):
            runs = {compare: on_dask(client, small)}
            if args.rows > compare:
                runs[args.rows] = on_dask(client, files)
        report(one, runs, compare)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(one: dict[str, Any], runs: dict[int, dict[str, Any]], compare: int) -> None:
    mine = runs[compare]
    equal = {name: same(mine["results"][name], r) for name, r in one["results"].items()}
    sizes = sorted(runs)
    head = f"| analysis | one process, {compare:,} rows | Dask, {compare:,} rows | ratio |"
    head += "".join(f" Dask, {n:,} rows |" for n in sizes if n != compare)
    print()
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for name, seconds in one["seconds"].items():
        dask_s = mine["seconds"][name]
        row = f"| {name} | {seconds:.2f} s | {dask_s:.2f} s | {dask_s / seconds:.2f}x |"
        row += "".join(f" {runs[n]['seconds'][name]:.2f} s |" for n in sizes if n != compare)
        print(row)
    total_one = sum(one["seconds"].values())
    total = {n: sum(runs[n]["seconds"].values()) for n in sizes}
    row = f"| total | {total_one:.2f} s | {total[compare]:.2f} s | {total[compare] / total_one:.2f}x |"
    row += "".join(f" {total[n]:.2f} s |" for n in sizes if n != compare)
    print(row)
    print()
    for n in sizes:
        print(f"Dask at {n:,} rows: cluster peak memory {gb(runs[n]['peak'])} (all workers), "
              f"spilled to disk after the shuffle {gb(runs[n]['spilled'])}")  # fmt: skip
    print("equal to one process:", "all" if all(equal.values()) else equal)


if __name__ == "__main__":
    main()
