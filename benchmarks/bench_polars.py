"""From raw data to answers: cxmodel vs polars (and DuckDB where it applies), same run.

Each task starts from raw columns (numpy arrays: string customer ids, ``datetime64`` times,
kinds, values, survey scores) or from a CSV file, so cxmodel's times include building the
``InteractionLog`` (encoding, validation, and the (customer, time) sort, which a log does when
its rows are first read in log order: the RFM summary, which needs no order, sorts only the
purchases) and the peers' times include building their frame:

1. columns -> RFM summary (daily periods, as ``cxmodel.models.rfm_summary``)
2. columns -> transition counts between consecutive kinds of each customer, START/END included
3. CSV -> a log sorted by (customer, time, input order)
4. columns -> funnel counts (view -> add_to_cart -> purchase, loose order, customers)
5. columns -> NPS by month

Every task runs on time-ordered input (as exports usually are) and on shuffled input. The
answers are checked equal between the tools; a peer that is not installed is reported as
skipped (nothing is installed). Prints the timings and ratios (peer time / cxmodel time: above
1 means cxmodel is faster) and exits 0.

The tools of a task are timed in rounds, after one untimed round: each round runs every tool
once, in an order that rotates from round to round, with a garbage collection before each run,
and each tool's time is its best over ``--repeat`` rounds. So the first touch of memory, the
page cache and imports are paid before any timing, and a change in the machine's load (on
shared cores) falls on all tools alike rather than on the one timed at that moment. The CSV
file is flushed to disk before it is read.

Usage: python benchmarks/bench_polars.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from cxmodel import InteractionLog
from cxmodel.io import read_csv
from cxmodel.journey import funnel, transitions
from cxmodel.metrics import nps
from cxmodel.models import rfm_summary

KINDS = np.array(["view", "search", "add_to_cart", "purchase", "survey", "login"], dtype=object)
KIND_P = np.array([0.45, 0.15, 0.15, 0.1, 0.05, 0.1])
US_PER_DAY = 86_400 * 10**6
Columns = dict[str, Any]
Task = tuple[
    str,
    Callable[[Any], Any],
    Callable[[Any, Any], Any],
    Callable[[Any, Any], Any] | None,
    Callable[[Any, Any], bool],
]


def race(tools: list[Callable[[], Any]], repeat: int) -> list[tuple[float, Any]]:
    """Each tool's best time over ``repeat`` rounds after an untimed one, and its answer.

    Every round runs each tool once, starting with a different tool from round to round, with
    a garbage collection before each run and no earlier answer of that tool kept alive.
    """
    answers: list[Any] = [tool() for tool in tools]  # untimed: imports, memory, page cache
    best = [float("inf")] * len(tools)
    for round_number in range(repeat):
        for step in range(len(tools)):
            i = (round_number + step) % len(tools)
            answers[i] = None
            gc.collect()
            start = time.perf_counter()
            answers[i] = tools[i]()
            best[i] = min(best[i], time.perf_counter() - start)
    return list(zip(best, answers, strict=True))


def make_columns(n: int, shuffled: bool, seed: int = 0) -> Columns:
    """``n`` interactions of ``n // 10`` string customer ids over a year, in time order or not."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:07d}" for i in range(max(n // 10, 1))], dtype=object)
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    # whole seconds, so that the CSV round trip is exact; many customers share instants
    times = start + np.sort(rng.integers(0, 365 * 86_400, n)) * 10**6
    kind = KINDS[rng.choice(KINDS.size, n, p=KIND_P)]
    value = np.where(kind == "purchase", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan)
    survey = kind == "survey"
    metric = np.where(survey, "nps", "").astype(object)  # "" is missing to cxmodel
    score = np.where(survey, rng.integers(0, 11, n), -1).astype(np.float64)
    score[~survey] = np.nan
    columns = {
        "customer_id": ids[rng.integers(0, ids.size, n)],
        "timestamp": times.astype("datetime64[us]"),
        "kind": kind,
        "value": value,
        "metric": metric,
        "score": score,
    }
    if shuffled:
        order = rng.permutation(n)
        columns = {k: v[order] for k, v in columns.items()}
    return columns


# ----------------------------------------------------------------------------- cxmodel
def cx_log(columns: Columns) -> InteractionLog:
    return InteractionLog.from_arrays(**columns)


def cx_rfm(columns: Columns) -> dict[str, np.ndarray[Any, Any]]:
    s = rfm_summary(cx_log(columns), freq="D")
    return {
        "customer_id": s.customer_id.astype(str),
        "frequency": s.frequency,
        "recency": s.recency,
        "T": s.T,
        "monetary_value": s.monetary_value,
    }


def cx_transitions(columns: Columns) -> dict[tuple[str, str], int]:
    t = transitions(cx_log(columns))
    labels = t.labels.tolist()
    rows, cols = np.nonzero(t.counts)
    return {
        (labels[i], labels[j]): int(t.counts[i, j])
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
    }


def cx_funnel(columns: Columns) -> list[int]:
    return [int(c) for c in funnel(cx_log(columns), ["view", "add_to_cart", "purchase"]).counts]


def cx_nps_month(columns: Columns) -> dict[str, tuple[int, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = nps(cx_log(columns), period="month")
    return {
        str(p): (int(n), float(v))
        for p, n, v in zip(table["period"], table["n"], table["value"], strict=True)
    }


def cx_csv(path: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    log = read_csv(path)
    return log.column("customer_id").astype(str), log.row_order


# ----------------------------------------------------------------------------- polars
def pl_frame(pl: Any, columns: Columns) -> Any:
    return pl.DataFrame(
        {
            "customer_id": pl.Series(columns["customer_id"], dtype=pl.String),
            "timestamp": columns["timestamp"],
            "kind": pl.Series(columns["kind"], dtype=pl.String),
            "value": columns["value"],
            "metric": pl.Series(columns["metric"], dtype=pl.String),
            "score": columns["score"],
        },
        nan_to_null=True,
    )


def pl_rfm(pl: Any, columns: Columns) -> dict[str, np.ndarray[Any, Any]]:
    df = pl_frame(pl, columns)
    per = (
        df.filter(pl.col("kind") == "purchase")
        .select(
            "customer_id",
            (pl.col("timestamp").dt.epoch("us") // US_PER_DAY).alias("day"),
            pl.col("value").fill_null(0.0),
        )
        .group_by("customer_id", "day")
        .agg(pl.col("value").sum())
        .sort("customer_id", "day")
    )
    end = per["day"].max()
    out = (
        per.group_by("customer_id", maintain_order=True)
        .agg(
            (pl.len() - 1).cast(pl.Float64).alias("frequency"),
            (pl.col("day").last() - pl.col("day").first()).cast(pl.Float64).alias("recency"),
            (end - pl.col("day").first()).cast(pl.Float64).alias("T"),
            ((pl.col("value").sum() - pl.col("value").first()) / (pl.len() - 1)).alias("m"),
        )
        .with_columns(
            pl.when(pl.col("frequency") > 0)
            .then(pl.col("m"))
            .otherwise(0.0)
            .alias("monetary_value")
        )
    )
    return {k: out[k].to_numpy() for k in ("customer_id", "frequency", "recency", "T")} | {
        "customer_id": out["customer_id"].to_numpy().astype(str),
        "monetary_value": out["monetary_value"].to_numpy(),
    }


def pl_sorted(pl: Any, df: Any) -> Any:
    return df.with_row_index("row").sort("customer_id", "timestamp", maintain_order=True)


def pl_transitions(pl: Any, columns: Columns) -> dict[tuple[str, str], int]:
    df = pl_sorted(pl, pl_frame(pl, columns))
    first = pl.col("customer_id") != pl.col("customer_id").shift(1)
    last = pl.col("customer_id") != pl.col("customer_id").shift(-1)
    pairs = df.select(
        pl.when(first.fill_null(True))
        .then(pl.lit("START"))
        .otherwise(pl.col("kind").shift(1))
        .alias("a"),
        pl.col("kind").alias("b"),
    )
    ends = df.filter(last.fill_null(True)).select(
        pl.col("kind").alias("a"), pl.lit("END").alias("b")
    )
    counts = pl.concat([pairs, ends]).group_by("a", "b").len()
    return {(a, b): int(c) for a, b, c in zip(counts["a"], counts["b"], counts["len"], strict=True)}


def pl_funnel(pl: Any, columns: Columns) -> list[int]:
    df = pl_sorted(pl, pl_frame(pl, columns)).with_row_index("pos")
    out, reached = [], None
    for step in ("view", "add_to_cart", "purchase"):
        rows = df.filter(pl.col("kind") == step).select("customer_id", "pos")
        if reached is not None:
            rows = rows.join(reached, on="customer_id").filter(pl.col("pos") > pl.col("prev"))
        reached = rows.group_by("customer_id").agg(pl.col("pos").min().alias("prev"))
        out.append(reached.height)
    return out


def pl_nps_month(pl: Any, columns: Columns) -> dict[str, tuple[int, float]]:
    table = (
        pl_frame(pl, columns)
        .filter((pl.col("kind") == "survey") & (pl.col("metric") == "nps"))
        .group_by(pl.col("timestamp").dt.strftime("%Y-%m").alias("period"))
        .agg(
            pl.len().alias("n"),
            (pl.col("score") >= 9).sum().alias("p"),
            (pl.col("score") <= 6).sum().alias("d"),
        )
        .sort("period")
    )
    return {
        p: (int(n), 100.0 * (int(a) - int(d)) / int(n))
        for p, n, a, d in zip(table["period"], table["n"], table["p"], table["d"], strict=True)
    }


def pl_csv(pl: Any, path: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    df = pl.read_csv(path).with_columns(
        pl.col("timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC")
    )
    out = pl_sorted(pl, df)
    return out["customer_id"].to_numpy().astype(str), out["row"].to_numpy()


# ----------------------------------------------------------------------------- DuckDB
def duck_rfm(duckdb: Any, columns: Columns) -> dict[str, np.ndarray[Any, Any]]:
    con = duckdb.connect()
    con.register(
        "raw",
        {
            "customer_id": columns["customer_id"],
            "us": columns["timestamp"].astype(np.int64),
            "kind": columns["kind"],
            "value": np.nan_to_num(columns["value"]),
        },
    )
    out = con.sql(
        f"""
        WITH per AS (
            SELECT customer_id, us // {US_PER_DAY} AS day, sum(value) AS value
            FROM raw WHERE kind = 'purchase' GROUP BY customer_id, day),
        end_day AS (SELECT max(day) AS e FROM per)
        SELECT customer_id, count(*) - 1 AS frequency, max(day) - min(day) AS recency,
               any_value(e) - min(day) AS T,
               CASE WHEN count(*) > 1
                    THEN (sum(value) - arg_min(value, day)) / (count(*) - 1) ELSE 0 END
                 AS monetary_value
        FROM per, end_day GROUP BY customer_id ORDER BY customer_id
        """
    ).fetchnumpy()
    con.close()
    return {k: np.asarray(v) for k, v in out.items()} | {
        "customer_id": np.asarray(out["customer_id"]).astype(str)
    }


def duck_csv(duckdb: Any, path: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    out = duckdb.sql(
        f"SELECT customer_id, row_number() OVER () - 1 AS row, CAST(timestamp AS TIMESTAMPTZ) AS t "
        f"FROM read_csv('{path}', header=true, all_varchar=true) ORDER BY customer_id, t, row"
    ).fetchnumpy()
    return np.asarray(out["customer_id"]).astype(str), np.asarray(out["row"])


# ----------------------------------------------------------------------------- checks
def same_rfm(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if not np.array_equal(a["customer_id"], b["customer_id"]):
        return False
    return all(
        np.allclose(np.asarray(a[k], float), np.asarray(b[k], float), rtol=1e-9, atol=1e-9)
        for k in ("frequency", "recency", "T", "monetary_value")
    )


def same_plain(a: Any, b: Any) -> bool:
    return bool(a == b)


def same_nps(a: dict[str, tuple[int, float]], b: dict[str, tuple[int, float]]) -> bool:
    return a.keys() == b.keys() and all(
        a[k][0] == b[k][0] and abs(a[k][1] - b[k][1]) < 1e-9 for k in a
    )


def same_csv(a: tuple[Any, Any], b: tuple[Any, Any]) -> bool:
    return bool(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]))


def write_csv(columns: Columns, path: str) -> None:
    iso = np.char.add(np.datetime_as_string(columns["timestamp"], unit="s").astype(str), "Z")
    value = np.where(np.isnan(columns["value"]), "", columns["value"].astype(str))
    score = np.where(
        np.isnan(columns["score"]), "", np.nan_to_num(columns["score"]).astype(np.int64).astype(str)
    )
    metric = columns["metric"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("customer_id,timestamp,kind,value,metric,score\n")
        handle.writelines(
            f"{c},{t},{k},{v},{m},{s}\n"
            for c, t, k, v, m, s in zip(
                columns["customer_id"], iso, columns["kind"], value, metric, score, strict=True
            )
        )
        handle.flush()
        os.fsync(handle.fileno())  # no write-back of this file while the readers are timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    try:
        import polars as pl
    except ImportError:
        pl = None
        print("polars is not installed: its timings are skipped (pip install polars)")
    try:
        import duckdb
    except ImportError:
        duckdb = None
        print("duckdb is not installed: its timings are skipped (pip install duckdb)")

    print(
        f"{args.rows:,} interactions, {args.rows // 10:,} string customer ids, "
        f"best of {args.repeat} rounds after an untimed one"
    )
    print(
        f"{'task':<34} {'input':<13} {'cxmodel':>9} {'polars':>9} {'ratio':>6} "
        f"{'duckdb':>9} {'ratio':>6} equal"
    )
    warm = make_columns(1_000, shuffled=False)  # imports (pandas, pyarrow) are not timed
    cx_rfm(warm)
    cx_nps_month(warm)
    equal_all = True
    for layout in ("time-ordered", "shuffled"):
        columns = make_columns(args.rows, shuffled=layout == "shuffled")
        tasks: list[Task] = [
            ("columns -> RFM summary", cx_rfm, pl_rfm, duck_rfm, same_rfm),
            ("columns -> transition counts", cx_transitions, pl_transitions, None, same_plain),
            ("columns -> funnel counts", cx_funnel, pl_funnel, None, same_plain),
            ("columns -> NPS by month", cx_nps_month, pl_nps_month, None, same_nps),
        ]
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "interactions.csv")
            write_csv(columns, path)
            tasks.append(("CSV -> sorted log", cx_csv, pl_csv, duck_csv, same_csv))
            for name, cx_fn, pl_fn, duck_fn, same in tasks:
                data = path if name.startswith("CSV") else columns
                peers = [
                    None if module is None or peer is None else partial(peer, module, data)
                    for module, peer in ((pl, pl_fn), (duckdb, duck_fn))
                ]
                timed = race(
                    [partial(cx_fn, data), *(p for p in peers if p is not None)], args.repeat
                )
                t_cx, answer = timed[0]
                results = iter(timed[1:])
                cells, equal = [], []
                for peer_run in peers:
                    if peer_run is None:
                        cells.append(f"{'-':>9} {'-':>6}")
                        continue
                    t_peer, peer_answer = next(results)
                    equal.append(same(answer, peer_answer))
                    cells.append(f"{t_peer:8.2f}s {t_peer / t_cx:5.2f}x")
                ok = "yes" if all(equal) else "NO"
                equal_all &= all(equal)
                print(f"{name:<34} {layout:<13} {t_cx:8.2f}s {cells[0]} {cells[1]} {ok}")
    print("ratio = peer time / cxmodel time (above 1: cxmodel is faster)")
    if not equal_all:
        print("some answers differ between the tools (see 'NO' above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
