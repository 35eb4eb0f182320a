"""CX metrics benchmark: cxmodel vs pandas / lifelines, same run.

1. NPS by segment by month on N survey answers (default 10M; 50 segments, 24 months), with
   standard errors and Wald intervals, vs a pandas groupby computing the same table
   (values compared).
2. Kaplan-Meier on 1M right-censored durations vs lifelines' KaplanMeierFitter (survival and
   interval compared to 1e-9).

Prints timings, ratios and the largest differences. Installs nothing; exits 0. A missing peer
is reported as skipped. Usage: python benchmarks/bench_metrics.py [--rows N] [--durations N]
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
from _timing import best_of

from cxmodel.metrics import MetricTable, kaplan_meier, nps


def bench_nps(rows: int) -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 11, rows).astype(np.int8)
    segment = rng.integers(0, 50, rows)
    start = np.datetime64("2023-01-01T00:00:00", "us").astype(np.int64)
    span = 730 * 86_400_000_000
    ts = (start + rng.integers(0, span, rows)).astype("datetime64[us]")

    def ours() -> MetricTable:
        table = nps(scores, by=segment, period="month", timestamps=ts)
        assert isinstance(table, MetricTable)
        return table

    t_ours, table = best_of(ours)
    print(f"NPS by segment x month, {rows:,} answers: cxmodel {t_ours:.3f} s ({len(table)} groups)")
    try:
        import pandas as pd
    except ImportError:
        print("  pandas: skipped (not installed)")
        return
    df = pd.DataFrame({"score": scores, "segment": segment, "ts": ts})

    def peer() -> Any:
        month = df["ts"].dt.to_period("M")
        g = df.assign(month=month, pro=df["score"] >= 9, det=df["score"] <= 6).groupby(
            ["segment", "month"], sort=True
        )
        out = g.agg(n=("score", "size"), p=("pro", "mean"), d=("det", "mean"))
        out["value"] = 100 * (out["p"] - out["d"])
        out["se"] = 100 * np.sqrt((out["p"] + out["d"] - (out["p"] - out["d"]) ** 2) / out["n"])
        # the Wald interval, bounded to the NPS scale as cxmodel reports it
        out["ci_low"] = (out["value"] - 1.959963984540054 * out["se"]).clip(lower=-100.0)
        return out

    t_peer, ref = best_of(peer)
    answered = np.asarray(table["n"]) > 0  # pandas leaves out empty segment x month cells
    diff = max(
        float(np.max(np.abs(ref["value"].to_numpy() - np.asarray(table["value"])[answered]))),
        float(np.max(np.abs(ref["ci_low"].to_numpy() - np.asarray(table["ci_low"])[answered]))),
    )
    print(f"  pandas groupby {t_peer:.3f} s -> cxmodel is {t_peer / t_ours:.1f}x faster")
    print(f"  max |difference| in value and ci_low: {diff:.2e} points")


def bench_km(n: int) -> None:
    rng = np.random.default_rng(1)
    life = np.round(rng.weibull(1.2, n) * 365, 1)
    cens = np.round(rng.uniform(0, 730, n), 1)
    d, e = np.minimum(life, cens), life <= cens
    t_ours, km = best_of(lambda: kaplan_meier(d, e))
    print(f"Kaplan-Meier, {n:,} durations ({int((~e).sum()):,} censored): cxmodel {t_ours:.3f} s")
    try:
        from lifelines import KaplanMeierFitter
    except ImportError:
        print("  lifelines: skipped (not installed)")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_peer, ref = best_of(lambda: KaplanMeierFitter().fit(d, e))
    sf = ref.survival_function_.iloc[:, 0]
    idx = np.searchsorted(sf.index.to_numpy(), km.times)
    ci = ref.confidence_interval_.to_numpy()
    diff = max(
        float(np.max(np.abs(sf.to_numpy()[idx] - km.survival))),
        float(np.max(np.abs(ci[idx, 0] - km.ci_low))),
        float(np.max(np.abs(ci[idx, 1] - km.ci_high))),
    )
    print(f"  lifelines {t_peer:.3f} s -> cxmodel is {t_peer / t_ours:.1f}x faster")
    print(
        f"  max |difference| in survival and interval: {diff:.2e}; median equal: "
        f"{km.median == ref.median_survival_time_}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--durations", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_nps(args.rows)
    bench_km(args.durations)


if __name__ == "__main__":
    main()
