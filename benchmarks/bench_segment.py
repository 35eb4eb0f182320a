"""Segmentation benchmark: cxmodel vs pandas, same run.

On a synthetic log of 1M interactions for 100k customers (purchases, returns, tickets, surveys,
logins with channels and sentiment):

1. RFM scores: ``cxmodel.segment.rfm_scores`` vs pandas ``groupby().agg`` + ``rank(method="min")``,
   the same definition (equal quantities share the score of their lowest position).
2. The customer table: ``CustomerTable.from_log`` (19 columns plus customer_id) vs a pandas groupby computation of
   the same columns.

Log construction is excluded from both sides (the pandas frame is built from the same arrays and
sorted by customer and time first). Prints timings and ratios; installs nothing; exits 0.
Usage: python benchmarks/bench_segment.py [--rows N] [--customers N]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
from _timing import best_of

from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CustomerTable
from cxmodel.segment import rfm_scores

DAY = 86_400_000_000
KINDS = np.array(
    [
        "purchase",
        "return",
        "ticket_opened",
        "ticket_resolved",
        "survey",
        "login",
        "consent_granted",
    ],
    dtype=object,
)
PROBS = [0.4, 0.03, 0.05, 0.04, 0.08, 0.37, 0.03]


def make(n: int, customers: int, seed: int = 0) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    kind = rng.choice(KINDS, n, p=PROBS)
    survey = kind == "survey"
    metric = np.where(survey, rng.choice(np.array(["nps", "csat", "ces"], dtype=object), n), None)
    score = np.where(metric == "nps", rng.integers(0, 11, n), rng.integers(1, 6, n)).astype(float)
    score[~survey] = np.nan
    return {
        "customer_id": np.char.add("c", rng.integers(0, customers, n).astype(str)).astype(object),
        "timestamp": (rng.integers(0, 730 * DAY, n)).astype("datetime64[us]"),
        "kind": kind,
        "value": np.where(kind == "purchase", rng.gamma(2.0, 30.0, n).round(2), np.nan),
        "channel": rng.choice(np.array(["email", "web", "store", "app"], dtype=object), n),
        "sentiment": np.where(rng.random(n) < 0.2, rng.uniform(-1, 1, n), np.nan),
        "metric": metric.astype(object),
        "score": score,
    }


def pandas_rfm(df: pd.DataFrame, as_of: np.datetime64, n_bins: int = 5) -> pd.DataFrame:
    d = df[(df["kind"] == "purchase") & (df["timestamp"] <= as_of)]
    g = d.groupby("customer_id", sort=True).agg(
        last=("timestamp", "max"), frequency=("timestamp", "size"), monetary=("value", "sum")
    )
    g["recency_days"] = (as_of - g["last"]) / pd.Timedelta(days=1)
    n = len(g)
    # equal quantities share the score of the lowest position among them
    for col, key in (("r", -g["recency_days"]), ("f", g["frequency"]), ("m", g["monetary"])):
        g[col] = 1 + ((key.rank(method="min").to_numpy() - 1) * n_bins // n).astype(int)
    return g


def pandas_table(df: pd.DataFrame, as_of: np.datetime64) -> pd.DataFrame:
    d = df[df["timestamp"] <= as_of]
    g = d.groupby("customer_id", sort=True)
    out = g["timestamp"].agg(first_seen="min", last_seen="max")
    out["tenure_days"] = (as_of - out["first_seen"]) / pd.Timedelta(days=1)
    buy = d[d["kind"] == "purchase"]
    gb = buy.groupby("customer_id")
    out["frequency"] = gb.size().reindex(out.index, fill_value=0)
    out["monetary"] = gb["value"].sum().reindex(out.index, fill_value=0.0)
    out["recency_days"] = (as_of - gb["timestamp"].max()).dt.total_seconds().reindex(
        out.index
    ) / 86400
    out["aov"] = out["monetary"] / out["frequency"].where(out["frequency"] > 0)
    for days in (30, 90, 365):
        recent = buy[buy["timestamp"] > as_of - np.timedelta64(days, "D")]
        out[f"purchases_{days}d"] = (
            recent.groupby("customer_id").size().reindex(out.index, fill_value=0)
        )
    for col, kind in (("returns", "return"), ("tickets_total", "ticket_opened")):
        out[col] = (
            d[d["kind"] == kind].groupby("customer_id").size().reindex(out.index, fill_value=0)
        )
    resolved = d[d["kind"] == "ticket_resolved"].groupby("customer_id").size()
    out["tickets_open"] = (out["tickets_total"] - resolved.reindex(out.index, fill_value=0)).clip(0)
    surveys = d[d["kind"] == "survey"]
    for metric in ("nps", "csat", "ces"):
        s = surveys[surveys["metric"] == metric].groupby("customer_id")["score"].last()
        out[f"last_{metric}"] = s.reindex(out.index)
    out["mean_sentiment"] = g["sentiment"].mean()
    counts = d.groupby(["customer_id", "channel"]).size().unstack(fill_value=0)
    out["preferred_channel"] = counts.idxmax(axis=1).reindex(out.index)
    consent = (
        d[d["kind"].isin(["consent_granted", "consent_revoked"])]
        .groupby("customer_id")["kind"]
        .last()
    )
    out["consent_marketing"] = (consent == "consent_granted").reindex(out.index, fill_value=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    arrays = make(args.rows, args.customers)
    log = InteractionLog.from_arrays(**arrays)
    df = pd.DataFrame(arrays).sort_values(["customer_id", "timestamp"], kind="stable")
    as_of = np.datetime64(700 * DAY, "us")
    print(f"{args.rows:,} interactions, {log.n_customers:,} customers")

    t_cx, scores = best_of(lambda: rfm_scores(log, as_of=as_of))
    t_pd, ref = best_of(lambda: pandas_rfm(df, as_of))
    same = all(np.array_equal(getattr(scores, c), ref[c].to_numpy()) for c in ("r", "f", "m"))
    print(
        f"RFM scores      cxmodel {t_cx * 1e3:8.1f} ms   pandas {t_pd * 1e3:8.1f} ms   "
        f"ratio {t_pd / t_cx:5.1f}x   (r, f, m scores identical: {same})"
    )
    t_cx, table = best_of(lambda: CustomerTable.from_log(log, as_of=as_of))
    t_pd, ref_table = best_of(lambda: pandas_table(df, as_of))
    same = np.array_equal(table.column("frequency"), ref_table["frequency"].to_numpy())
    print(
        f"customer table  cxmodel {t_cx * 1e3:8.1f} ms   pandas {t_pd * 1e3:8.1f} ms   "
        f"ratio {t_pd / t_cx:5.1f}x   ({len(table.columns)} columns; frequency identical: {same})"
    )


if __name__ == "__main__":
    main()
