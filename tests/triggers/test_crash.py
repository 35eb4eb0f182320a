"""Crash test: a subprocess killed with SIGKILL and restarted from SQLiteStore emits each
firing exactly once, and the union equals batch."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import parse
from tests.triggers.helpers import CHILD, _records, evaluate_complete, host_messages


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
            for what, rest in host_messages(lines):
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
        batch = evaluate_complete(parse(ACCEPTANCE), InteractionLog.from_records(recs), as_of=as_of)
        assert batch.ids() == set(fired) | set(pending)
        assert len(batch) > 10
