"""Firings: what a rule emitted (or would have, when a policy suppressed it)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TextIO

import attrs

from cxmodel._optional import import_optional

__all__ = ["Firing", "Firings", "firing_id", "write_firings"]


def firing_id(rule: str, customer_id: str, anchor: str) -> str:
    """The deterministic id of a firing: a hash of rule, customer and anchoring interaction.

    Examples
    --------
    >>> firing_id("churn_risk", "c1", "t=0") == firing_id("churn_risk", "c1", "t=0")
    True
    """
    digest = hashlib.sha1(f"{rule}\x1f{customer_id}\x1f{anchor}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:20]


@attrs.frozen
class Firing:
    """One firing of a rule for a customer.

    ``because`` names the interactions and values that satisfied each clause; ``reason`` is
    ``None`` for an emitted firing and says which policy suppressed it otherwise.
    """

    trigger: str
    customer_id: str
    time: datetime
    action: str
    payload: dict[str, Any] = attrs.field(eq=True, hash=False)
    because: dict[str, Any] = attrs.field(eq=True, hash=False)
    firing_id: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (time in ISO 8601)."""
        out = attrs.asdict(self)
        out["time"] = self.time.isoformat()
        return out


@attrs.frozen
class Firings:
    """A table of firings, sorted by time then customer; ``suppressed`` holds the rest.

    Examples
    --------
    >>> Firings(()).to_dict()
    {'firings': [], 'suppressed': []}
    """

    firings: tuple[Firing, ...]
    suppressed_firings: tuple[Firing, ...] = ()

    def __len__(self) -> int:
        return len(self.firings)

    def __iter__(self) -> Iterator[Firing]:
        return iter(self.firings)

    def __getitem__(self, i: int) -> Firing:
        return self.firings[i]

    @property
    def suppressed(self) -> Firings:
        """The firings a policy suppressed, each with its ``reason``."""
        return Firings(self.suppressed_firings)

    def ids(self) -> set[str]:
        """The set of ``firing_id`` values."""
        return {f.firing_id for f in self.firings}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "firings": [f.to_dict() for f in self.firings],
            "suppressed": [f.to_dict() for f in self.suppressed_firings],
        }

    def to_pandas(self) -> Any:
        """Return a pandas DataFrame, one row per firing."""
        pd = import_optional("pandas", "Firings.to_pandas()")
        columns = ["trigger", "customer_id", "time", "action", "payload", "because", "firing_id"]
        rows = [[getattr(f, c) for c in columns] for f in self.firings]
        frame = pd.DataFrame(rows, columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        return frame

    def _repr_html_(self) -> str:
        head = "<tr><th>trigger</th><th>customer</th><th>time</th><th>action</th></tr>"
        body = "".join(
            f"<tr><td>{f.trigger}</td><td>{f.customer_id}</td><td>{f.time.isoformat()}</td>"
            f"<td>{f.action}</td></tr>"
            for f in self.firings[:50]
        )
        return f"<table>{head}{body}</table><p>{len(self)} firings, {len(self.suppressed_firings)} suppressed</p>"


def write_firings(firings: Firings, stream: TextIO, *, format: str = "jsonl") -> None:
    """Write firings as JSON lines or CSV (payload and because as JSON text).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write_firings(Firings(()), buf, format="csv")
    >>> buf.getvalue().strip()
    'trigger,customer_id,time,action,payload,because,firing_id'
    """
    if format == "jsonl":
        for f in firings:
            stream.write(json.dumps(f.to_dict(), default=str) + "\n")
        return
    if format != "csv":
        raise ValueError(f"format must be 'jsonl' or 'csv', got {format!r}")
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["trigger", "customer_id", "time", "action", "payload", "because", "firing_id"])
    for f in firings:
        writer.writerow(
            [
                f.trigger,
                f.customer_id,
                f.time.isoformat(),
                f.action,
                json.dumps(f.payload, default=str),
                json.dumps(f.because, default=str),
                f.firing_id,
            ]
        )
