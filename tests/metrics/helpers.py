"""Helpers of the metric tests: answer sets and logs with published or hand-computed results."""

from __future__ import annotations

import numpy as np

from cxmodel.log import InteractionLog

#: 100 NPS answers: 50 promoters, 30 passives, 20 detractors (NPS 30).
GOLDEN_NPS = [10] * 50 + [8] * 30 + [3] * 20


def ticket_log() -> InteractionLog:
    """Four tickets, hand-built. t1: reply at 1h, resolved at 3h. t2: 2 replies, resolved at 4h, reopened, resolved at
    10h. t3: reply at 5h, still open at as_of (24h). t4: opened, nothing else."""
    rows = [
        ("a", "t1", "ticket_opened", 0, "billing", -0.5, None),
        ("a", "t1", "ticket_replied", 1, "billing", None, "x"),
        ("a", "t1", "ticket_resolved", 3, "billing", 0.5, "x"),
        ("b", "t2", "ticket_opened", 0, "delivery", -1.0, None),
        ("b", "t2", "ticket_replied", 2, "delivery", None, "y"),
        ("b", "t2", "ticket_replied", 3, "delivery", None, "z"),  # transferred to z
        ("b", "t2", "ticket_resolved", 4, "delivery", 0.0, "z"),
        ("b", "t2", "ticket_resolved", 10, "delivery", None, "z"),
        ("c", "t3", "ticket_opened", 0, "billing", 0.0, None),
        ("c", "t3", "ticket_replied", 5, "billing", None, "x"),
        ("d", "t4", "ticket_opened", 200, "delivery", None, None),
        ("d", None, "login", 24 + 200, None, None, None),
    ]
    base = np.datetime64("2024-01-01T00:00:00", "us")
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        ticket_id=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        timestamp=np.array([base + np.timedelta64(r[3], "h") for r in rows]),
        topic=[r[4] for r in rows],
        sentiment=[np.nan if r[5] is None else r[5] for r in rows],
        agent=[r[6] for r in rows],
    )
