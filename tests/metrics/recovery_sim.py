"""A planted recovery experiment: customers give a detractor NPS answer, an alert rule with
a holdout fires, the host acts on a random share of the alerts, and acting raises the chance
that the next answer is 7 or more and that the customer buys again within 30 days."""

from __future__ import annotations

from typing import Any

import numpy as np

from cxmodel.log import InteractionLog
from cxmodel.triggers import holdout_fraction, parse

T0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
DAY = 86_400_000_000

RULES = parse("""
trigger detractor:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit follow_up
    holdout 30%
""")
AS_OF = "2024-06-01T00:00Z"


def simulate(
    seed: int,
    *,
    n: int = 2000,
    acted: float = 0.7,
    answers: float = 0.6,
    recovers: float = 0.30,
    recovery_uplift: float = 0.15,
    buys: float = 0.20,
    buy_uplift: float = 0.10,
) -> tuple[InteractionLog, dict[str, Any]]:
    """A log of ``n`` detractor answers over January, the next NPS answer within 90 days
    (probability ``answers``, for everyone), 7-10 with probability ``recovers`` (+
    ``recovery_uplift`` when the alert was acted on) and 0-6 otherwise, and a purchase within
    30 days with probability ``buys`` (+ ``buy_uplift`` when acted on). The host acts on a
    random ``acted`` share of the emitted alerts. Returns the log and, per customer, whether
    it is held out and whether the host acted."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{seed}c{i}" for i in range(n)], dtype=object)
    held = np.array([holdout_fraction("detractor", None, c) < 0.30 for c in ids])
    acts = ~held & (rng.random(n) < acted)
    first = T0 + rng.integers(0, 31 * DAY, n)
    first_score = rng.integers(0, 7, n).astype(float)
    again = rng.random(n) < answers
    good = rng.random(n) < recovers + np.where(acts, recovery_uplift, 0.0)
    next_score = np.where(good, rng.integers(7, 11, n), rng.integers(0, 7, n)).astype(float)
    next_time = first + rng.integers(1, 90 * DAY, n)
    bought = rng.random(n) < buys + np.where(acts, buy_uplift, 0.0)
    buy_time = first + rng.integers(1, 30 * DAY, n)
    late = rng.random(n) < 0.5  # a purchase after 30 days, which must not count for 30 days
    late_time = first + 31 * DAY + rng.integers(0, 50 * DAY, n)
    export_end = np.datetime64(AS_OF.removesuffix("Z"), "us").astype(np.int64)
    view_time = first + ((export_end - first) * rng.random(n)).astype(np.int64)  # browsing
    customer = np.concatenate([ids, ids[again], ids[bought], ids[late], ids])
    m1, m2, m3 = int(again.sum()), int(bought.sum()), int(late.sum())
    kind = np.array(["survey"] * (n + m1) + ["purchase"] * (m2 + m3) + ["view"] * n, dtype=object)
    metric = np.array(["nps"] * (n + m1) + [None] * (m2 + m3 + n), dtype=object)
    score = np.concatenate([first_score, next_score[again], np.full(m2 + m3 + n, np.nan)])
    stamp = np.concatenate([first, next_time[again], buy_time[bought], late_time[late], view_time])
    log = InteractionLog.from_arrays(
        customer_id=customer,
        kind=kind,
        timestamp=stamp.astype("datetime64[us]"),
        metric=metric,
        score=score,
    )
    return log, {"ids": ids, "held": held, "acts": acts}
