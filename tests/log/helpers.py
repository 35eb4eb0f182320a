"""Helpers of the log tests: a small log with deliveries and searches, and customers with traits."""

from __future__ import annotations

from cxmodel.domain import Customer
from cxmodel.log import InteractionLog

AS_OF = "2024-03-01T00:00Z"


def traits_log() -> InteractionLog:
    """Four customers: searches, a late and an on-time delivery, and rows after as_of."""
    rows = [
        ("a", "2024-01-02", "search", None),
        ("a", "2024-01-03", "search", None),
        ("a", "2024-01-04", "delivery", "yes"),
        ("a", "2024-04-01", "search", None),  # after as_of: not counted
        ("b", "2024-01-05", "delivery", "no"),
        ("b", "2024-01-06", "search", None),
        ("c", "2024-02-01", "login", None),
        ("d", "2024-02-02", "delivery", "yes"),
        ("d", "2024-02-03", "delivery", "yes"),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T00:00Z" for r in rows],
        kind=[r[2] for r in rows],
        late=[r[3] for r in rows],
    )


PEOPLE = [
    Customer("a", traits={"plan": "pro", "age": 31, "newsletter": True}),
    Customer("b", traits={"plan": "basic", "age": 45, "newsletter": False}),
    Customer("d", traits={"plan": "pro", "newsletter": True}),
    Customer("z", traits={"plan": "basic"}),  # not in the log: ignored
]
