"""A small columnar accumulator for generated events (internal to the synthetic generator)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.domain import DEFAULT_CATALOGUE

__all__ = ["NUMERIC_COLUMNS", "STRING_COLUMNS", "EventBlocks"]

STRING_COLUMNS = (
    "order_id",
    "product",
    "category",
    "late",
    "ticket_id",
    "topic",
    "metric",
    "purpose",
    "agent",
    "campaign",
)
NUMERIC_COLUMNS = ("value", "score", "delivery_delay_days", "reply_hours", "resolution_days")

STAGE_OF_KIND = {
    "signup": "awareness",
    "view": "consideration",
    "search": "consideration",
    "product_view": "consideration",
    "add_to_cart": "purchase",
    "checkout": "purchase",
    "purchase": "purchase",
    "delivery": "service",
    "return": "service",
    "ticket_opened": "service",
    "ticket_replied": "service",
    "ticket_resolved": "service",
    "email_sent": "loyalty",
    "email_opened": "loyalty",
    "email_clicked": "loyalty",
    "push_sent": "loyalty",
    "push_opened": "loyalty",
    "consent_granted": "loyalty",
    "consent_revoked": "loyalty",
    "survey": "advocacy",
}


class EventBlocks:
    """Collects blocks of events (customer index, time in days, kind, touchpoint, columns)."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, Any]] = []

    def add(
        self,
        customer: npt.NDArray[np.int64],
        days: npt.NDArray[np.float64],
        kind: str | npt.NDArray[np.object_],
        touchpoint: str | npt.NDArray[np.object_],
        **columns: Any,
    ) -> None:
        """Add one block; scalar ``kind``/``touchpoint`` apply to every row."""
        n = customer.shape[0]
        block: dict[str, Any] = {
            "customer": np.asarray(customer, dtype=np.int64),
            "days": np.asarray(days, dtype=np.float64),
        }
        for name, value in (("kind", kind), ("touchpoint", touchpoint), *columns.items()):
            if isinstance(value, np.ndarray):
                block[name] = value
            else:
                block[name] = np.full(n, value, dtype=object if isinstance(value, str) else float)
        self._blocks.append(block)

    def columns(self, keep_before: float) -> dict[str, npt.NDArray[Any]]:
        """Concatenate the blocks, keep rows with ``0 <= days < keep_before``, add channel/stage."""
        out: dict[str, npt.NDArray[Any]] = {}
        names = ("customer", "days", "kind", "touchpoint", *STRING_COLUMNS, *NUMERIC_COLUMNS)
        for name in names:
            parts = []
            for block in self._blocks:
                n = block["customer"].shape[0]
                if name in block:
                    parts.append(block[name])
                elif name in NUMERIC_COLUMNS:
                    parts.append(np.full(n, np.nan))
                else:
                    parts.append(np.full(n, None, dtype=object))
            out[name] = np.concatenate(parts)
        days = out["days"]
        keep = (days >= 0) & (days < keep_before)
        out = {name: values[keep] for name, values in out.items()}
        out["channel"] = _lookup(
            out["touchpoint"], {t: DEFAULT_CATALOGUE[t].channel.value for t in DEFAULT_CATALOGUE}
        )
        out["stage"] = _lookup(out["kind"], STAGE_OF_KIND)
        return out


def _lookup(values: npt.NDArray[np.object_], table: dict[str, str]) -> npt.NDArray[np.object_]:
    """Map an object array of keys through ``table`` (one dictionary pass over the distinct keys)."""
    keys, inverse = np.unique(values.astype(str), return_inverse=True)
    mapped = np.array([table[k] for k in keys.tolist()], dtype=object)
    return mapped[inverse.ravel()]
