"""Alert benchmark: the cost of one ``process`` call as an alert's window fills.

One alert, ``when count(ticket_opened within 1 days) > LIMIT`` (it never fires), over a stream
of tickets 0.5 s apart from many customers, so a day's window holds up to 172,800 values. The
stream is fed in micro-batches of 10,000 until the window holds each of ``--fills`` values
(default 1,000, 10,000 and 100,000); then ``--calls`` single records (default 200) go through
``process`` one at a time and their mean latency is printed, for an ``InMemoryStore`` and a
``SQLiteStore`` (one transaction per call). A call of one interaction should cost the same
whatever the window holds.

Installs nothing; exits 0. Usage: python benchmarks/bench_alerts.py [--fills N,N,...]
[--calls N]. A run of a few seconds: --fills 1000,10000 --calls 50
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, parse

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
STEP = timedelta(milliseconds=500)
ALERT = parse(
    "alert ticket_flood:\n"
    "    when count(ticket_opened within 1 days) > 1000000\n"
    "    emit page_support_lead\n"
)


def record(j: int) -> dict[str, Any]:
    """The ``j``-th ticket of the stream, as decoded from JSON."""
    stamp = (START + j * STEP).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"customer_id": f"c{j % 5000}", "timestamp": stamp, "kind": "ticket_opened"}


def per_call(engine: TriggerEngine, start: int, calls: int) -> float:
    """Mean seconds per ``process`` of one record, over ``calls`` records from ``start``."""
    records = [record(start + j) for j in range(calls)]
    began = time.perf_counter()
    for rec in records:
        engine.process(rec)
    return (time.perf_counter() - began) / calls


def run(kind: str, fills: list[int], calls: int, folder: Path) -> None:
    store = InMemoryStore() if kind == "memory" else SQLiteStore(folder / "alerts.db")
    engine = TriggerEngine(ALERT, store=store, max_future=None)
    fed = 0
    for fill in fills:
        while fed < fill:
            size = min(10_000, fill - fed)
            engine.process_many([record(fed + j) for j in range(size)])
            fed += size
        held = engine.stats()["alert_window_values"]
        seconds = per_call(engine, fed, calls)
        fed += calls
        print(f"{kind:>6}  window {held:>7,} values  process(): {seconds * 1e3:8.3f} ms per call")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--fills",
        type=lambda text: sorted(int(n) for n in text.split(",")),
        default=[1_000, 10_000, 100_000],
        help="window sizes to time at (comma-separated)",
    )
    parser.add_argument("--calls", type=int, default=200, help="single calls timed per size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("memory", "sqlite"):
            run(kind, args.fills, args.calls, Path(folder))


if __name__ == "__main__":
    main()
