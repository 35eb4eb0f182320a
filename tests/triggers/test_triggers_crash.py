"""Crash test: a subprocess killed with SIGKILL and restarted from SQLiteStore emits each
firing exactly once, and the union equals batch."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests_triggers_acceptance import ACCEPTANCE

from cxmodel.log import InteractionLog
from cxmodel.triggers import SQLiteStore, evaluate, parse

CHILD = r"""
import json, sys
from cxmodel.domain import Interaction
from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
recs = json.load(open(sys.argv[1]))
store = SQLiteStore(sys.argv[2])
engine = TriggerEngine(parse(open(sys.argv[3]).read()), store=store)
print("start", flush=True)
for i, r in enumerate(recs):  # the host re-delivers everything; processed ids are ignored
    props = {k: r[k] for k in ("product", "order_id", "topic", "purpose") if k in r}
    std = {k: r[k] for k in ("interaction_id", "value", "metric", "score") if k in r}
    engine.process(Interaction(r["customer_id"], r["timestamp"], r["kind"], properties=props, **std))
    print(i, flush=True)
engine.advance_to(sys.argv[4])
print("done")
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
        """Killed at three points and restarted, the outbox equals batch without duplicates."""
        recs = _records(21, 400)
        as_of = "2024-06-15T00:00:00+00:00"
        data, db, rules_file = tmp_path / "recs.json", tmp_path / "state.db", tmp_path / "r.cx"
        data.write_text(json.dumps(recs))
        rules_file.write_text(ACCEPTANCE)
        args = [sys.executable, "-c", CHILD, str(data), str(db), str(rules_file), as_of]
        progress = []
        rng = random.Random(5)
        for position in (60, 170, 290):  # kill once the stream has passed these points
            child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert child.stdout is not None
            child.stdout.readline()  # wait until the engine is running
            for _ in range(position):
                child.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.01))  # somewhere inside a later call
            child.kill()
            child.communicate()
            db_now = sqlite3.connect(db)
            progress.append(db_now.execute("SELECT count(*) FROM seen").fetchone()[0])
            db_now.close()
        assert any(0 < p < len(recs) for p in progress), progress  # killed mid-stream
        finished = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
        lines = finished.stdout.split()
        assert (lines[0], lines[-1]) == ("start", "done")
        store = SQLiteStore(db)
        outbox = store.firings()
        store.close()
        ids = [f.firing_id for f in outbox]
        assert len(ids) == len(set(ids))
        batch = evaluate(parse(ACCEPTANCE), InteractionLog.from_records(recs), as_of=as_of)
        assert Counter((f.trigger, f.customer_id, f.time, f.firing_id) for f in outbox) == Counter(
            (f.trigger, f.customer_id, f.time, f.firing_id) for f in batch
        )
        assert len(batch) > 10
