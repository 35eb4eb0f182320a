"""Helpers of the journey tests: small logs built from ``(customer, second, kind)`` rows."""

from __future__ import annotations

from typing import Any

from cxmodel.log import InteractionLog

#: The steps of the shop funnel.
STEPS = ["view", "add_to_cart", "purchase"]

#: Four journeys: a and c view twice then buy, b searches, buys and views, d only views.
ROWS = [
    ("a", 0, "view"),
    ("a", 1, "view"),
    ("a", 2, "purchase"),
    ("b", 0, "search"),
    ("b", 1, "purchase"),
    ("b", 2, "view"),
    ("c", 0, "view"),
    ("c", 1, "view"),
    ("c", 2, "purchase"),
    ("d", 0, "view"),
]


def log_of(rows: list[tuple[str, int, str]], **extra: Any) -> InteractionLog:
    """A log of ``(customer, seconds, kind)`` rows, with extra columns by name."""
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        **extra,
    )
