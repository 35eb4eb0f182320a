"""A planted-effect experiment: customers sign up, a rule with a holdout fires at each signup,
and treated customers buy within 14 days with a planted uplift over held-out ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from cxmodel.log import InteractionLog
from cxmodel.triggers import holdout_fraction

T0 = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
DAY = 86_400_000_000


def simulate(
    seed: int,
    *,
    n: int = 2000,
    base: float = 0.10,
    uplift: float = 0.05,
    percent: float = 20.0,
    salt: str = "",
    rule: str = "welcome",
    value_uplift: float = 0.0,
) -> tuple[InteractionLog, dict[str, Any]]:
    """A log of ``n`` signups over 30 days and the purchases that follow: within 14 days of
    the signup with probability ``base`` (held out) or ``base + uplift`` (treated, as the
    rule's holdout assigns customers), worth exponential(50) (+ ``value_uplift`` when
    treated), plus later purchases that fall outside the window."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{seed}c{i}" for i in range(n)], dtype=object)
    held = np.array([holdout_fraction(rule, salt, c) < percent / 100 for c in ids])
    signup = T0 + rng.integers(0, 30 * DAY, n)
    p = np.where(held, base, base + uplift)
    buys = rng.random(n) < p
    when = signup[buys] + rng.integers(1, 14 * DAY, int(buys.sum()))
    worth = rng.exponential(50.0, int(buys.sum())) + np.where(held[buys], 0.0, value_uplift)
    late = rng.random(n) < 0.3  # a purchase after the window, which must not count
    late_when = signup[late] + 15 * DAY + rng.integers(0, 10 * DAY, int(late.sum()))
    customer = np.concatenate([ids, ids[buys], ids[late]])
    kind = np.array(["signup"] * n + ["purchase"] * int(buys.sum() + late.sum()), dtype=object)
    stamp = np.concatenate([signup, when, late_when]).astype("datetime64[us]")
    value = np.concatenate([np.zeros(n), worth, rng.exponential(50.0, int(late.sum()))])
    log = InteractionLog.from_arrays(customer_id=customer, kind=kind, timestamp=stamp, value=value)
    return log, {"held": held, "ids": ids}
