"""Crash test: a subprocess killed with SIGKILL and restarted from SQLiteStore emits each
firing exactly once, and the union equals batch."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import evaluate, parse

CHILD = r"""
import json, sys
from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
recs = json.load(open(sys.argv[1]))
store = SQLiteStore(sys.argv[2])
engine = TriggerEngine(parse(open(sys.argv[3]).read()), store=store, redelivery_window="60 days")
def deliver(firings, what="fired"):
    ids = [f.firing_id for f in firings]
    for ident in ids:
        print(what, ident, flush=True)
    store.acknowledge(ids)
deliver(store.pending(), "pending")  # emitted before the last crash but not acknowledged
print("start", flush=True)
for i in range(int(sys.argv[5]), len(recs)):  # the host re-delivers from its last offset
    deliver(engine.process(recs[i]))
    if i + 1 < len(recs) and recs[i + 1]["timestamp"] > recs[i]["timestamp"] and i % 7 == 0:
        deliver(engine.advance_to(recs[i]["timestamp"]))  # a clock tick mid-stream
    print("ok", i, flush=True)
deliver(engine.advance_to(sys.argv[4]))
print("done", flush=True)
"""


def _records(seed: int, n: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out: list[dict[str, object]] = []
    for i in range(n):
        kind = rng.choice(["product_view", "purchase", "survey", "ticket_opened", "view"])
        rec: dict[str, object] = {
            "customer_id": f"c{rng.randrange(6)}",
            "timestamp": (t0 + timedelta(hours=6 * rng.randrange(4 * 150))).isoformat(),
            "kind": kind,
            "interaction_id": f"i{i}",
            "product": rng.choice(["p1", "p2"]),
            "order_id": f"o{rng.randrange(30)}",
            "topic": "payment",
        }
        if kind == "purchase":
            rec["value"] = float(rng.randrange(10, 500))
        if kind == "survey":
            rec["metric"] = "nps"
            rec["score"] = float(rng.randrange(11))
        out.append(rec)
    out.sort(key=lambda r: str(r["timestamp"]))
    return out


class TestCrash:
    def test_sigkill_and_restart(self, tmp_path: Path) -> None:
        """Killed at seeded points (with clock ticks mid-stream) and restarted, re-delivering
        from a few records before the last acknowledged offset: no firing is returned twice
        by the engine's calls, and what the host received (returned, or listed as pending
        after a restart) equals batch."""
        recs = _records(21, 400)
        as_of = "2024-06-15T00:00:00+00:00"
        data, db, rules_file = tmp_path / "recs.json", tmp_path / "state.db", tmp_path / "r.cx"
        data.write_text(json.dumps(recs))
        rules_file.write_text(ACCEPTANCE)
        fired: list[str] = []
        pending: list[str] = []
        offset = 0
        rng = random.Random(5)

        def run(position: int | None) -> None:
            nonlocal offset
            args = [sys.executable, "-c", CHILD, str(data), str(db), str(rules_file), as_of]
            with subprocess.Popen(
                [*args, str(offset)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as child:
                assert child.stdout is not None and child.stderr is not None
                lines: list[str] = []
                while position is None or sum(line.startswith("ok") for line in lines) < position:
                    line = child.stdout.readline()
                    if not line:
                        break
                    lines.append(line)
                if position is not None:
                    time.sleep(rng.uniform(0.0, 0.005))  # somewhere inside a later call
                    child.kill()
                # read through the same buffered stream (communicate() would skip what
                # readline already buffered): everything the child wrote before it died
                lines += child.stdout.read().splitlines(keepends=True)
                err = child.stderr.read()
                child.wait(timeout=120)
            assert position is not None or child.returncode == 0, err
            for line in lines:
                what, _, rest = line.strip().partition(" ")
                if what == "fired":
                    fired.append(rest)
                elif what == "pending":
                    pending.append(rest)
                elif what == "ok":
                    offset = int(rest) + 1
            offset = max(0, offset - 5)  # re-deliver a few processed records too

        for position in (40, 90, 75):
            run(position)
        assert 0 < offset < len(recs)  # killed mid-stream
        run(None)
        assert len(fired) == len(set(fired))  # no firing returned twice
        batch = evaluate(parse(ACCEPTANCE), InteractionLog.from_records(recs), as_of=as_of)
        assert batch.ids() == set(fired) | set(pending)
        assert len(batch) > 10
