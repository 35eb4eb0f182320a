"""Ingest benchmark: cxmodel vs pandas, same run.

1. Build a log from arrays (10M interactions, integer customer ids, datetime64 times): cxmodel's
   ``InteractionLog.from_arrays`` (encode, validate, stable sort, CSR) vs pandas ``DataFrame`` +
   ``sort_values(kind="stable")``.
2. Read a 1M-row CSV with ISO-8601 timestamps: ``cx.io.read_csv`` vs pandas ``read_csv`` +
   ``to_datetime(utc=True)`` + stable sort.

Prints the timings, the ratios and the bytes per interaction. Installs nothing; exits 0.
Usage: python benchmarks/bench_ingest.py [--rows N] [--csv-rows N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import numpy as np
from _timing import best_of

from cxmodel import InteractionLog
from cxmodel.io import read_csv

KINDS = np.array(["view", "product_view", "search", "add_to_cart", "purchase", "survey", "login"])


def make_arrays(n: int, seed: int = 0) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    return {
        "customer_id": rng.integers(0, max(n // 20, 1), n),
        "timestamp": (start + rng.integers(0, 365 * 86_400 * 10**6, n)).astype("datetime64[us]"),
        "kind": KINDS[rng.integers(0, KINDS.size, n)],
        "value": np.where(rng.random(n) < 0.1, rng.gamma(2.0, 30.0, n), np.nan),
    }


def sorted_log(log: InteractionLog) -> InteractionLog:
    """The log with its rows sorted (a log sorts them when they are first read in log order),
    so that the timing compares with the peer's sorted frame."""
    log.customer_codes  # noqa: B018
    return log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    try:
        import pandas as pd
    except ImportError:
        pd = None
        print("pandas is not installed: peer timings skipped (pip install 'cxmodel[bench]')")

    arrays = make_arrays(args.rows)
    t_cx, log = best_of(lambda: sorted_log(InteractionLog.from_arrays(**arrays)), repeat=1)
    print(f"from_arrays, {args.rows:,} rows: cxmodel {t_cx:.2f} s")
    print(f"  bytes per interaction (all columns incl. offsets): {log.nbytes / len(log):.1f}")
    core = sum(
        a.nbytes
        for a in (
            log.customer_codes,
            log.timestamps,
            log.categorical("kind")[0],
            log.row_order,
            log.offsets,
        )
    )
    print(
        f"  bytes per interaction (customer, time, kind, input position, offsets): "
        f"{core / len(log):.1f}"
    )
    if pd is not None:

        def pandas_build() -> Any:
            frame = pd.DataFrame(arrays)
            frame["customer_id"] = frame["customer_id"].astype(str)
            frame["kind"] = frame["kind"].astype("category")
            return frame.sort_values(["customer_id", "timestamp"], kind="stable")

        t_pd, _ = best_of(pandas_build, repeat=1)
        print(
            f"  pandas DataFrame + str ids + stable sort {t_pd:.2f} s -> ratio {t_pd / t_cx:.1f}x"
        )
    del log

    small = make_arrays(args.csv_rows, seed=1)
    iso = np.char.add(np.datetime_as_string(small["timestamp"], unit="s").astype(str), "Z")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "interactions.csv")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("customer_id,timestamp,kind,value\n")
            values = np.where(np.isnan(small["value"]), "", np.round(small["value"], 2).astype(str))
            lines = [
                "c" + c + "," + t + "," + k + "," + v
                for c, t, k, v in zip(small["customer_id"].astype(str), iso, small["kind"], values)
            ]
            handle.write("\n".join(lines) + "\n")
        t_cx, log = best_of(lambda: sorted_log(read_csv(path)))
        print(
            f"read_csv, {args.csv_rows:,} rows: cxmodel {t_cx:.2f} s ({len(log):,} rows accepted)"
        )
        if pd is not None:

            def pandas_read() -> Any:
                frame = pd.read_csv(path)
                frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
                return frame.sort_values(["customer_id", "timestamp"], kind="stable")

            t_pd, _ = best_of(pandas_read)
            print(
                f"  pandas read_csv + to_datetime + stable sort {t_pd:.2f} s -> ratio "
                f"{t_pd / t_cx:.1f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
