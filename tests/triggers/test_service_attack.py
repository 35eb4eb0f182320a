"""The streaming trigger engine attacked as a long-running service would be.

Each test states one behaviour a service relies on (docs/guide/streaming.md, the engine's and
the store's docstrings). A test marked ``xfail(strict=True)`` pins a bug found by this attack:
its reason says what is wrong, it fails today because of the bug, and the fix turns it into a
pass (the strict mark then fails the suite until the mark is removed). The unmarked tests
check behaviour verified right that the other fault tests do not already cover.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import CXModelError, DataWarning, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, Firing, SQLiteStore, TriggerEngine, parse
from tests.triggers.helpers import T0, evaluate_complete, purchase_record, records, stored_customers

EXAMPLES = parse(EXAMPLE_RULES)
THANKS = parse("trigger thanks:\n    when purchase as p where p.value > 100\n    emit thanks")
NOTED = parse(
    "trigger noted:\n    when purchase as p where p.value > 100\n    emit thanks(note = p.note)"
)
ASK = parse(
    "trigger ask:\n    when purchase as p then after 1 days\n    emit ask\n    cooldown 2 days"
)


def ids(firings: Any) -> list[str]:
    return [f.firing_id for f in firings]


# -- a micro-batch arrives at once ----------------------------------------------------------
class TestMicroBatchLateness:
    @pytest.mark.parametrize("columnar", [None, 1], ids=["per-row", "columnar"])
    @pytest.mark.parametrize("lateness", [0, "1 hour"], ids=["no-lateness", "1h-lateness"])
    def test_a_batch_is_one_arrival(self, columnar: int | None, lateness: Any, quiet: None) -> None:
        """Docs: a micro-batch arrives at once, so an interaction in it is late only when it
        is behind what earlier calls saw; within the batch it is taken in time order. A
        micro-batch [a at day 2, b at day 1] processes both (one call per interaction, in
        that order, would find b late), as one call per interaction in time order does, and
        as batch ``evaluate`` does; b behind an earlier call's watermark is late."""
        stream = [purchase_record("a", T0 + timedelta(days=1), "1"), purchase_record("b", T0, "2")]
        in_time_order = TriggerEngine(THANKS, max_future=None, allowed_lateness=lateness)
        singly = [f for r in reversed(stream) for f in in_time_order.process(r)]
        many = TriggerEngine(THANKS, max_future=None, allowed_lateness=lateness)
        many._columnar_from = columnar
        batch = many.process_many(stream)
        assert (ids(batch), len(many.late)) == (ids(singly), 0)
        end = T0 + timedelta(days=1)
        fired = ids(batch) + ids(many.advance_to(end))
        log = InteractionLog.from_records(stream)
        assert sorted(fired) == sorted(evaluate_complete(THANKS, log, as_of=end).ids())
        later = TriggerEngine(THANKS, max_future=None, allowed_lateness=lateness)
        later._columnar_from = columnar
        later.process_many(stream[:1])
        assert (ids(later.process_many(stream[1:])), len(later.late)) == ([], 1)


# -- what a damaged store holds ---------------------------------------------------------------
def _written(path: Path) -> None:
    """A store holding one customer with a pending `then after` anchor and a cooldown."""
    store = SQLiteStore(path)
    engine = TriggerEngine(ASK, store=store, max_future=None)
    engine.process(purchase_record("c1", T0, "x1"))
    engine.advance_to(T0 + timedelta(days=2))
    engine.process(purchase_record("c1", T0 + timedelta(days=3), "x2"))
    store.close()


class TestDamagedContent:
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE engine_meta SET meta = json_set(meta, '$.watermark', 'x')",
            "UPDATE engine_meta SET meta = json_set(meta, '$.closed', 100000000000000000000)",
            "UPDATE customers SET state = json_set(state, '$.rules.ask.last_emitted', 'x')",
        ],
        ids=["watermark-text", "closed-out-of-range", "last-emitted-text"],
    )
    def test_wrong_typed_values_name_the_file(self, sql: str, tmp_path: Path) -> None:
        """Docs: 'a corrupt ... store file raises a CXModelError naming the file'; the store
        checks its rows when it opens, so a damaged one must not reach the first call."""
        path = tmp_path / "s.db"
        _written(path)
        raw = sqlite3.connect(path)
        raw.execute(sql)
        raw.commit()
        raw.close()
        store = SQLiteStore(path)
        try:
            with pytest.raises(CXModelError) as caught:
                engine = TriggerEngine(ASK, store=store, max_future=None)
                engine.process(purchase_record("c1", T0 + timedelta(days=5), "x3"))
                engine.advance_to(T0 + timedelta(days=30))
        finally:
            store.close()
        assert str(path) in str(caught.value)

    def test_bad_timeout_is_a_cxmodel_error(self, tmp_path: Path) -> None:
        with pytest.raises(CXModelError, match="timeout"):
            SQLiteStore(tmp_path / "s.db", timeout="x")  # type: ignore[arg-type]


# -- bounded state -----------------------------------------------------------------------------
class TestBoundedIds:
    @staticmethod
    def _bytes_after_quiet(burst: int) -> int:
        """State bytes after customer ``a`` had ``burst`` interactions within a minute and
        then 90 days passed (customer ``b`` active daily, then a clock tick)."""
        engine = TriggerEngine(THANKS, max_future=None)
        engine.process_many(
            [
                {
                    "customer_id": "a",
                    "timestamp": T0 + timedelta(milliseconds=i),
                    "kind": "view",
                    "interaction_id": f"a{i}",
                }
                for i in range(burst)
            ]
        )
        for day in range(1, 60):
            engine.process(
                {
                    "customer_id": "b",
                    "timestamp": T0 + timedelta(days=day),
                    "kind": "view",
                    "interaction_id": f"b{day}",
                }
            )
        engine.advance_to(T0 + timedelta(days=90))
        return int(engine.stats()["state_bytes"])

    def test_idle_customer_keeps_no_expired_ids(self) -> None:
        """Issue 12: 'de-duplication of interaction_ids keeps only the ids that could still
        be processed'. 89 days after a burst of 2,000 (redelivery window one day), none of
        its ids can be re-delivered without being late, so the state is the size it would
        be after a burst of one."""
        small, large = self._bytes_after_quiet(1), self._bytes_after_quiet(2_000)
        assert large - small < 2_000, (small, large)


class TestForgottenIds:
    """Interaction ids are forgotten for every customer as the watermark moves (a sweep per
    quarter of ``redelivery_window``), alike on the per-interaction and columnar paths, and
    the sweep's changes are committed with the call that made them."""

    WINDOW = timedelta(days=2)

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_paths_keep_the_same_ids_and_the_file_holds_them(
        self, seed: int, tmp_path: Path
    ) -> None:
        """Random cuts of a two-month stream into a columnar and a per-row engine on SQLite
        stores: after every call both files hold the same customer rows, text for text; no
        id more than 1.25 windows behind the watermark is kept; an engine restarted from the
        file holds the live engine's ids."""
        rng = random.Random(seed)
        stream = records(seed, 300, n_customers=6, days=60)
        paths = [tmp_path / "columnar.db", tmp_path / "per_row.db"]
        stores = [SQLiteStore(p) for p in paths]
        engines = []
        for store, columnar in zip(stores, [1, None], strict=True):
            engine = TriggerEngine(
                EXAMPLES, store=store, max_future=None, redelivery_window=self.WINDOW
            )
            engine._columnar_from = columnar
            engines.append(engine)
        start = 0
        window_us = int(self.WINDOW.total_seconds() * 1e6)
        while start < len(stream):
            stop = min(len(stream), start + rng.randint(1, 40))
            for engine in engines:
                engine.process_many(stream[start:stop])
            start = stop
            assert stored_customers(paths[0]) == stored_customers(paths[1])
            watermark = engines[1]._delivery.watermark
            assert watermark is not None
            for state in engines[1]._runner.states.values():
                assert all(t >= watermark - 1.25 * window_us for t in state.seen.values())
        live = {c: dict(s.seen) for c, s in engines[1]._runner.states.items()}
        assert 0 < sum(map(len, live.values())) < len(stream) // 4
        for store in stores:
            store.close()
        store = SQLiteStore(paths[1])
        again = TriggerEngine(EXAMPLES, store=store, max_future=None)
        assert {c: s.seen for c, s in again._runner.states.items()} == live
        store.close()

    def test_an_id_inside_the_window_is_ignored_one_outside_is_late(self, quiet: None) -> None:
        """Re-delivered within ``redelivery_window`` behind the watermark, an interaction is
        ignored as a duplicate; re-delivered after the watermark moved 1.25 windows past
        it, its id is forgotten and it is late (never processed twice)."""
        engine = TriggerEngine(THANKS, max_future=None, redelivery_window=self.WINDOW)
        first = purchase_record("a", T0, "1")
        assert len(engine.process(first)) == 1
        engine.process(purchase_record("b", T0 + self.WINDOW, "2"))
        assert engine.process(first) == []
        assert (engine.duplicates, len(engine.late)) == (1, 0)
        engine.process(purchase_record("b", T0 + 2.5 * self.WINDOW, "3"))
        assert engine._runner.states["a"].seen == {}
        assert engine.process(first) == []
        assert (engine.duplicates, len(engine.late)) == (1, 1)

    def test_a_failed_call_puts_the_forgotten_ids_back(self, tmp_path: Path) -> None:
        """The sweep is part of the call: when its commit fails, the ids are as before, and
        the retry forgets them and commits the change."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path, timeout=0)
        engine = TriggerEngine(THANKS, store=store, max_future=None, redelivery_window="1 day")
        engine.process(purchase_record("a", T0, "1"))
        later = purchase_record("b", T0 + timedelta(days=3), "2")
        blocker = sqlite3.connect(path)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError):
            engine.process(later)
        assert engine._runner.states["a"].seen == {"1": engine._runner.states["a"].last_time}
        blocker.rollback()
        blocker.close()
        engine.process(later)
        rows = dict(stored_customers(path))
        store.close()
        assert '"seen":{}' in rows["a"]


# -- faults of the file underneath ---------------------------------------------------------------
class TestDiskFull:
    def test_full_disk_fails_the_commit_and_the_retry_returns_the_firing(
        self, tmp_path: Path
    ) -> None:
        """SQLite's ``max_page_count`` stands for a full disk: the commit raises StoreError
        naming the file, nothing is kept, and the same call once there is room returns the
        firing, once."""
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(NOTED, store=store, max_future=None)
        note = "n" * 3_000  # each firing's row takes most of a page
        for i in range(4):
            engine.process(purchase_record("a", T0 + timedelta(minutes=i), f"a{i}", note=note))
        db = store._connect()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        before = engine.stats()
        full = purchase_record("a", T0 + timedelta(minutes=10), "a10", note=note)
        with pytest.raises(StoreError, match="full") as caught:
            engine.process(full)
        assert store.path in str(caught.value)
        assert engine.stats() == before
        assert len(store.pending()) == 4
        db.execute("PRAGMA max_page_count = 1073741823")
        assert [f.customer_id for f in engine.process(full)] == ["a"]
        assert engine.process(full) == []  # now a re-delivery
        assert len(store.pending()) == 5
        store.close()


class TestErasureWithAReader:
    def test_reader_blocks_the_rewrite_and_the_second_forget_leaves_no_bytes(
        self, tmp_path: Path
    ) -> None:
        """A connection reading the file while ``forget`` rewrites it: ``forget`` raises
        StoreError, the engine still holds the customer (as the guide says), and calling it
        again once the reader is done leaves no copy in the file or its write-ahead log."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path, timeout=0.1)
        engine = TriggerEngine(ASK, store=store, max_future=None)
        engine.process(purchase_record("secret-customer-7", T0, "secret-id-7"))
        engine.process(purchase_record("other", T0 + timedelta(hours=1), "o1"))
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT * FROM customers").fetchall()
        with pytest.raises(StoreError, match="secret-customer-7"):
            engine.forget("secret-customer-7")
        assert engine.stats()["customers"] == 2
        reader.rollback()
        reader.close()
        engine.forget("secret-customer-7")
        assert engine.stats()["customers"] == 1
        engine.process(purchase_record("other", T0 + timedelta(hours=2), "o2"))
        store.close()
        content = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))
        assert b"secret-customer-7" not in content
        assert b"secret-id-7" not in content


# -- restarts with another configuration ----------------------------------------------------------
class TestRestartWithOtherLateness:
    @pytest.mark.parametrize(
        ("before", "after"),
        [(0, "2 days"), ("2 days", 0), ("3 days", "12 hours")],
        ids=["grow", "drop", "shrink"],
    )
    @pytest.mark.parametrize("seed", [0, 1])
    def test_host_receives_batch_once(
        self, before: Any, after: Any, seed: int, tmp_path: Path
    ) -> None:
        """A service restarted with another ``allowed_lateness`` (buffered interactions in the
        snapshot): what the host received, returned or pending after the restart, equals
        batch, each firing once."""
        stream = records(seed, 160, n_customers=4)
        half = len(stream) // 2
        until = datetime(2024, 4, 1, tzinfo=timezone.utc)
        path = tmp_path / "s.db"
        received: list[Firing] = []
        store = SQLiteStore(path)
        engine = TriggerEngine(EXAMPLES, store=store, max_future=None, allowed_lateness=before)
        received += engine.process_many(stream[:half])
        store.acknowledge(ids(received))
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(EXAMPLES, store=store, max_future=None, allowed_lateness=after)
        assert store.pending() == []
        for record in stream[half:]:
            received += engine.process(record)
        received += engine.advance_to(until)
        store.close()
        expected = evaluate_complete(EXAMPLES, InteractionLog.from_records(stream), as_of=until)
        assert sorted(ids(received)) == sorted(expected.ids())


# -- re-delivery of what was set aside -----------------------------------------------------------
class TestRedeliveredLate:
    def test_late_interaction_is_kept_once(self, tmp_path: Path, quiet: None) -> None:
        """The guide: re-delivery from the last acknowledged offset after a restart is the
        recovery path, and a re-delivered interaction whose id the engine has handled is
        ignored. One that was late the first time is then kept once, not once per
        delivery."""
        path = tmp_path / "s.db"
        early, late = (
            purchase_record("a", T0 + timedelta(days=1), "1"),
            purchase_record("b", T0, "2"),
        )
        store = SQLiteStore(path)
        engine = TriggerEngine(THANKS, store=store, max_future=None)
        engine.process(early)
        engine.process(late)
        assert len(store.late()) == 1
        store.close()
        store = SQLiteStore(path)
        engine = TriggerEngine(THANKS, store=store, max_future=None)
        try:
            engine.process(early)  # re-delivered from the last acknowledged offset
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataWarning)
                engine.process(late)
            kept = store.late()
        finally:
            store.close()
        assert [q.record["interaction_id"] for q in kept] == ["2"]
        assert caught == []  # re-deliveries are not warned about

    @pytest.mark.parametrize("columnar", [None, 1], ids=["per-row", "columnar"])
    @pytest.mark.parametrize("durable", [False, True], ids=["memory", "sqlite"])
    def test_every_path_keeps_a_late_interaction_once(
        self, columnar: int | None, durable: bool, tmp_path: Path
    ) -> None:
        """A late interaction delivered again in one call, in micro-batches and one at a
        time is kept and warned about once; another customer's late interaction with the
        same id, and a late one without an id, are kept each time (nothing says they are
        the same)."""
        store = SQLiteStore(tmp_path / "s.db") if durable else None
        engine = TriggerEngine(THANKS, store=store, max_future=None)
        engine._columnar_from = columnar
        late = purchase_record("b", T0, "2")
        other = purchase_record("c", T0, "2")
        no_id = {k: v for k, v in purchase_record("b", T0, "-").items() if k != "interaction_id"}
        engine.process(purchase_record("a", T0 + timedelta(days=1), "1"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            engine.process_many([late, late, no_id])
            engine.process_many([late, other])
            engine.process(late)
            engine.process(no_id)
        kept = engine.store.late()
        engine.store.close()
        assert [(q.customer_id, q.record.get("interaction_id")) for q in kept] == [
            ("b", "2"),
            ("b", None),
            ("c", "2"),
            ("b", None),
        ]
        assert (engine.stats()["late"], engine.stats()["duplicates_ignored"]) == (4, 3)
        assert [str(w.message).split()[0] for w in caught] == ["2", "1", "1"]


# -- asyncio and threads ---------------------------------------------------------------------------
class TestAsyncCancellation:
    def test_cancelled_call_commits_and_its_firing_waits_in_the_outbox(
        self, tmp_path: Path
    ) -> None:
        """``aprocess`` runs the call on a worker thread, which a cancelled task cannot stop:
        the call still commits whole, its firing is in ``store.pending()`` (not lost), the
        same interaction re-delivered returns nothing (not twice), and the engine keeps
        working."""
        store = SQLiteStore(tmp_path / "s.db")
        started, release = threading.Event(), threading.Event()

        def clock() -> datetime:  # holds the call on its worker thread until released
            started.set()
            release.wait(5)
            return T0 + timedelta(days=1)

        engine = TriggerEngine(THANKS, store=store, clock=clock)
        first = purchase_record("a", T0, "1")

        async def host() -> list[Firing]:
            task = asyncio.create_task(engine.aprocess(first))
            await asyncio.to_thread(started.wait, 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            release.set()
            again = await engine.aprocess(first)  # waits for the engine's lock
            later = await engine.aprocess(purchase_record("b", T0 + timedelta(hours=1), "2"))
            return again + later

        returned = asyncio.run(host())
        assert [f.customer_id for f in returned] == ["b"]
        assert sorted(f.customer_id for f in store.pending()) == ["a", "b"]
        store.close()


class TestThreadsMixingEveryCall:
    def test_no_firing_twice_and_the_stored_state_is_the_live_one(self, tmp_path: Path) -> None:
        """Four threads share one engine on a SQLite store, each calling ``process``,
        ``process_many``, ``advance_to``, ``acknowledge``, ``stats``, ``add_rule``,
        ``remove_rule`` and ``forget`` at random: nothing raises, no firing is returned
        twice, and an engine restarted from the file holds the live engine's state."""
        path = tmp_path / "s.db"
        store = SQLiteStore(path)
        engine = TriggerEngine(EXAMPLES, store=store, max_future=None, allowed_lateness="1 day")
        extra = parse("trigger extra:\n    when purchase as p then after 2 days\n    emit x")
        stream = records(5, 400, n_customers=8, days=120)
        received: list[Firing] = []
        failures: list[BaseException] = []
        guard = threading.Lock()
        position = [0]

        def next_chunk(k: int) -> list[dict[str, Any]]:
            with guard:
                start = position[0]
                position[0] += k
                return stream[start : start + k]

        def host(seed: int) -> None:
            rng = random.Random(seed)
            try:
                while True:
                    op = rng.random()
                    if op < 0.55:
                        chunk = next_chunk(rng.randint(1, 4))
                        out = [f for r in chunk for f in engine.process(r)]
                    elif op < 0.75:
                        chunk = next_chunk(rng.randint(1, 25))
                        out = list(engine.process_many(chunk))
                    else:
                        chunk, out = [None], []
                        if op < 0.8:
                            with guard:
                                at = stream[min(position[0], len(stream) - 1)]["timestamp"]
                            out = engine.advance_to(at - timedelta(days=2))
                        elif op < 0.85:
                            with guard:
                                store.acknowledge(ids(received[-5:]))
                        elif op < 0.88:
                            engine.stats()
                        elif op < 0.92:
                            with contextlib.suppress(CXModelError):  # active already
                                engine.add_rule(extra["extra"])
                        elif op < 0.96:
                            with contextlib.suppress(CXModelError):  # not active
                                engine.remove_rule("extra")
                        else:
                            engine.forget(f"c{rng.randrange(8)}")
                    with guard:
                        received.extend(out)
                    if not chunk:
                        return
            except BaseException as exc:  # reported below
                failures.append(exc)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # ticks make some interactions late
            threads = [threading.Thread(target=host, args=(seed,)) for seed in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        assert not any(thread.is_alive() for thread in threads), "a host thread hung"
        assert failures == []
        assert len(ids(received)) == len(set(ids(received)))
        live = {k: v for k, v in engine.stats().items() if k not in ("late", "refused")}
        rules = engine.rules
        store.close()
        store = SQLiteStore(path)
        again = TriggerEngine(rules, store=store, max_future=None, allowed_lateness="1 day")
        restarted = {k: v for k, v in again.stats().items() if k not in ("late", "refused")}
        store.close()
        assert restarted == live


# -- a kill in the middle of erasures ---------------------------------------------------------------
_FORGETTER = r"""
import sys, warnings
from datetime import datetime, timedelta, timezone
from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
rules = parse("trigger ask:\n    when purchase as p then after 1 days\n    emit ask(o = p.order_id)")
engine = TriggerEngine(rules, store=SQLiteStore(sys.argv[1]), max_future=None)
t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
engine.process_many([
    {"customer_id": f"secret-{n:02d}", "timestamp": t0 + timedelta(minutes=n),
     "kind": "purchase", "order_id": f"order-{n:02d}-private", "interaction_id": f"id-{n:02d}"}
    for n in range(40)
])
print("ready", flush=True)
for n in range(40):
    engine.forget(f"secret-{n:02d}")
    print(f"forgot {n}", flush=True)
"""


class TestKilledDuringErasures:
    def test_confirmed_erasures_leave_no_bytes_and_the_file_opens(self, tmp_path: Path) -> None:
        """A process erasing customers one after another is SIGKILLed after a few erasures
        returned: the file opens, the customers whose ``forget`` returned are in no byte of
        it (nor its write-ahead log), and they are not held."""
        path = tmp_path / "s.db"
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
        child = subprocess.Popen(
            [sys.executable, "-c", _FORGETTER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        confirmed = -1
        try:
            for line in child.stdout:
                if line.startswith("forgot"):
                    confirmed = int(line.split()[1])
                    if confirmed >= 4:
                        break
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            child.stdout.close()
        assert confirmed >= 4
        content = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        for n in range(confirmed + 1):
            assert f"secret-{n:02d}".encode() not in content
            assert f"order-{n:02d}-private".encode() not in content
        store = SQLiteStore(path)
        engine = TriggerEngine(
            parse(
                "trigger ask:\n    when purchase as p then after 1 days\n    emit ask(o = p.order_id)"
            ),
            store=store,
            max_future=None,
        )
        held = engine.stats()["customers"]
        store.close()
        assert held <= 40 - confirmed - 1  # the child may have erased more before the kill
