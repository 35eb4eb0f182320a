"""Customer-value benchmark: cxmodel vs lifetimes, same run.

1. ``rfm_summary`` on 1M purchases / 100k customers (daily periods) vs lifetimes'
   ``summary_data_from_transaction_data`` on the same data (values compared).
2. BG/NBD and Pareto/NBD fits on the CDNOW 2,357-customer cohort (weeks) vs lifetimes' fitters
   (parameters compared).
3. BG/NBD fit on 100k simulated customers (continuous recency, so no compression) vs lifetimes.

Prints timings, ratios and the largest differences. Installs nothing; exits 0. If lifetimes is
missing (or fails on the installed pandas) the peer timings are reported as skipped.
Usage: python benchmarks/bench_clv.py [--rows N] [--customers N] [--sim N]
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _timing import best_of

from cxmodel.log import InteractionLog
from cxmodel.models import BetaGeo, ParetoNBD, rfm_summary

CDNOW = Path(__file__).resolve().parents[1] / "tests" / "models" / "data"
CDNOW_FILE = CDNOW / "cdnow_customers_summary_with_transactions.csv"


def peer(fn: Callable[[], Any], repeat: int = 1) -> tuple[float | None, Any, str]:
    """Time a lifetimes call; never raise (lifetimes is archived and may break on new pandas)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, res = best_of(fn, repeat)
        return t, res, ""
    except Exception as exc:
        return None, None, f"{type(exc).__name__}: {exc}"[:160]


def report(name: str, ours: float, theirs: float | None, note: str) -> None:
    if theirs is None:
        print(f"{name:<44} cxmodel {ours:8.3f} s   lifetimes skipped ({note})")
    else:
        print(
            f"{name:<44} cxmodel {ours:8.3f} s   lifetimes {theirs:8.3f} s   x{theirs / ours:6.1f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--sim", type=int, default=100_000)
    args = ap.parse_args()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes
            import pandas as pd
            from lifetimes.utils import summary_data_from_transaction_data
        have = True
        print(f"lifetimes {lifetimes.__version__}, pandas {pd.__version__}")
    except Exception as exc:
        have = False
        print(f"lifetimes not available ({exc}); reporting cxmodel timings only")

    # 1. rfm_summary
    rng = np.random.default_rng(0)
    ids = rng.integers(0, args.customers, args.rows)
    start = np.datetime64("2020-01-01T00:00:00", "us")
    times = start + rng.integers(0, 730 * 86_400, args.rows).astype("timedelta64[s]")
    values = np.round(rng.gamma(2.0, 20.0, args.rows), 2)
    cust = np.char.add("c", ids.astype(str))
    log = InteractionLog.from_arrays(
        customer_id=cust, timestamp=times, kind=np.full(args.rows, "purchase"), value=values
    )
    t_ours, s = best_of(lambda: rfm_summary(log, freq="D"))
    t_peer: float | None = None
    note = "lifetimes not installed"
    if have:
        df = pd.DataFrame({"id": cust, "date": times.astype("datetime64[ns]"), "value": values})
        t_peer, want, note = peer(
            lambda: summary_data_from_transaction_data(df, "id", "date", "value", freq="D")
        )
        if want is not None:
            want = want.sort_index()
            same = (
                s.customer_id.tolist() == want.index.tolist()
                and np.array_equal(s.frequency, want["frequency"].to_numpy())
                and np.array_equal(s.recency, want["recency"].to_numpy())
                and np.array_equal(s.T, want["T"].to_numpy())
            )
            money = float(np.max(np.abs(s.monetary_value - want["monetary_value"].to_numpy())))
            print(f"  rfm_summary identical counts/times: {same}; max |money diff| {money:.2e}")
    report(f"rfm_summary {args.rows:,} rows / {len(s):,} customers", t_ours, t_peer, note)

    # 2. CDNOW fits
    d = np.genfromtxt(CDNOW_FILE, delimiter=",", names=True)
    x, t_x, big_t = d["x"], d["t_x"], d["T"]
    for ours_cls, peer_name in ((BetaGeo, "BetaGeoFitter"), (ParetoNBD, "ParetoNBDFitter")):
        t_ours, m = best_of(lambda c=ours_cls: c().fit(frequency=x, recency=t_x, T=big_t))
        t_peer, note = None, "lifetimes not installed"
        if have:
            fitter = getattr(lifetimes, peer_name)
            t_peer, lf, note = peer(lambda f=fitter: f().fit(x, t_x, big_t))
            if lf is not None:
                diff = max(abs(m.params_[k] - float(lf.params_[k])) for k in m.params_)
                print(f"  {ours_cls.__name__} max |param diff| vs lifetimes {diff:.2e}")
        report(f"{ours_cls.__name__} fit, CDNOW 2,357 customers", t_ours, t_peer, note)

    # 3. BG/NBD on simulated customers
    sim = BetaGeo()
    sim.params_ = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    data = sim.sample(args.sim, T=39.0, random_state=1)
    t_ours, m = best_of(lambda: BetaGeo().fit(data), repeat=1)
    t_peer, note = None, "lifetimes not installed"
    if have:
        t_peer, lf, note = peer(
            lambda: lifetimes.BetaGeoFitter().fit(data.frequency, data.recency, data.T)
        )
        if lf is not None:
            diff = max(abs(m.params_[k] - float(lf.params_[k])) for k in m.params_)
            print(f"  simulated BG/NBD max |param diff| vs lifetimes {diff:.2e}")
    report(f"BetaGeo fit, {args.sim:,} simulated customers", t_ours, t_peer, note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
