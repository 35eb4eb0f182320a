"""Helpers of the segment tests: a customer table with planted churn drivers."""

from __future__ import annotations

import numpy as np

from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CustomerTable

DAY = 86_400_000_000


def planted(seed: int = 0, n: int = 400) -> tuple[CustomerTable, np.ndarray]:
    """Churned customers (first half) get more unresolved tickets and returns; purchases and
    consent are drawn from the same distribution in both groups. Each purchase is an order of
    its own (its own ``order_id``), though two may fall on one day."""
    rng = np.random.default_rng(seed)
    churned = np.arange(n) < n // 2
    ids, ts, kinds, tickets = [], [], [], []
    for i in range(n):
        cid = f"c{i:04d}"
        n_buy = rng.poisson(3) + 1
        n_ticket = rng.poisson(3 if churned[i] else 0.5)
        n_ret = rng.poisson(2 if churned[i] else 0.3)
        for k, count in (("purchase", n_buy), ("ticket_opened", n_ticket), ("return", n_ret)):
            ids += [cid] * count
            ts += list(rng.integers(0, 300, count) * DAY)
            kinds += [k] * count
            tickets += [f"t{j}" for j in range(count)] if k == "ticket_opened" else [None] * count
        if rng.random() < 0.5:
            ids.append(cid)
            ts.append(int(rng.integers(0, 300)) * DAY)
            kinds.append("consent_granted")
            tickets.append(None)
    log = InteractionLog.from_arrays(
        customer_id=np.array(ids, dtype=object),
        timestamp=np.array(ts, dtype=np.int64).astype("datetime64[us]"),
        kind=np.array(kinds, dtype=object),
        value=rng.uniform(5, 50, len(ids)),
        ticket_id=np.array(tickets, dtype=object),
        order_id=np.array(
            [f"o{j}" if k == "purchase" else None for j, k in enumerate(kinds)], dtype=object
        ),
    )
    table = CustomerTable.from_log(log, as_of=np.datetime64(300 * DAY, "us"))
    return table, churned
