"""Helpers of the catalogue-event tests: the back-in-stock rule, views and restocks, a small
log and catalogue, and firings compared whole."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine

BACK_IN_STOCK = """trigger back_in_stock:
    when restock as r for customers with product_view where product == r.product within 30 days
    emit back_in_stock(product = r.product)
"""
AS_OF = "2024-06-01T00:00:00Z"


def view(customer: str, day: int, product: str = "shoes", ident: str | None = None,
         **more: Any) -> dict[str, Any]:  # fmt: skip
    """A product view on 2024-03-``day`` at 10:00 UTC."""
    rec = {
        "customer_id": customer,
        "timestamp": datetime(2024, 3, day, 10, tzinfo=timezone.utc),
        "kind": "product_view",
        "product": product,
        **more,
    }
    if ident is not None:
        rec["interaction_id"] = ident
    return rec


def restock(day: int, product: str = "shoes", ident: str | None = None, hour: int = 0,
            **more: Any) -> dict[str, Any]:  # fmt: skip
    """A restock catalogue event (no customer) on 2024-03-``day``."""
    rec = {
        "timestamp": datetime(2024, 3, day, hour, tzinfo=timezone.utc),
        "kind": "restock",
        "product": product,
        **more,
    }
    if ident is not None:
        rec["interaction_id"] = ident
    return rec


def fired(firings: Any) -> list[tuple[str, str, str]]:
    return [(f.customer_id, f.time.isoformat(), f.reason or "") for f in firings]


def key(firings: Any) -> Counter[Any]:
    """Firings compared whole: trigger, customer, time, payload, because, id and reason."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id, f.reason)
        for f in firings
    )


def stream(rules: Any, items: list[dict[str, Any]], as_of: str = AS_OF, **kw: Any) -> list[Any]:
    """Process ``items`` one at a time in time order (customers' interactions and catalogue
    events alike), then advance to ``as_of``."""
    engine = TriggerEngine(rules, max_future=None, **kw)
    out: list[Any] = []
    for item in sorted(items, key=lambda r: r["timestamp"]):
        out.extend(engine.process(item))
    out.extend(engine.advance_to(as_of))
    return out


def parse_where(text: str) -> Any:
    from cxmodel.expr import parse_expr

    return parse_expr(text)


LOG = InteractionLog.from_records(
    [
        view("ana", 1, ident="v1", value=10.0),
        view("ana", 5, ident="v2", value=10.0),
        view("ben", 2, ident="v3", value=10.0),
        {"customer_id": "ben", "timestamp": "2024-03-03T10:00:00Z", "kind": "purchase",
         "product": "shoes", "value": 50.0, "interaction_id": "p1"},
    ]
)  # fmt: skip
CATALOGUE = [restock(10, ident="r1", qty=3.0), restock(12, "hat", ident="r2", qty=1.0)]


def log_records(log: InteractionLog) -> list[dict[str, Any]]:
    return [i.to_record() for i in log.interactions()]
