"""The streaming trigger engine attacked as a long-running service would be.

Each test states one behaviour a service relies on (docs/guide/streaming.md, the engine's and
the store's docstrings). A test marked ``xfail(strict=True)`` pins a bug found by this attack:
its reason says what is wrong, it fails today because of the bug, and the fix turns it into a
pass (the strict mark then fails the suite until the mark is removed). The unmarked tests
check behaviour verified right that the other fault tests do not already cover.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.errors import CXModelError, DataWarning, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, Firing, SQLiteStore, TriggerEngine, parse
from tests.triggers.helpers import evaluate_complete, records

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
EXAMPLES = parse(EXAMPLE_RULES)
THANKS = parse("trigger thanks:\n    when purchase as p where p.value > 100\n    emit thanks")
NOTED = parse(
    "trigger noted:\n    when purchase as p where p.value > 100\n    emit thanks(note = p.note)"
)
ASK = parse(
    "trigger ask:\n    when purchase as p then after 1 days\n    emit ask\n    cooldown 2 days"
)


def purchase(customer: str, at: datetime, ident: str, **extra: Any) -> dict[str, Any]:
    """A purchase record of 500 (``thanks`` fires on it), as decoded from a JSON message."""
    return {
        "customer_id": customer,
        "timestamp": at.isoformat(),
        "kind": "purchase",
        "value": 500.0,
        "interaction_id": ident,
        **extra,
    }


@pytest.fixture
def quiet() -> Iterator[None]:
    """DataWarnings about late interactions are expected where the test is about them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        yield


def ids(firings: Any) -> list[str]:
    return [f.firing_id for f in firings]


# -- a micro-batch is the same as one call per interaction ------------------------------------
class TestMicroBatchLateness:
    @pytest.mark.xfail(
        strict=True,
        reason="process_many processes an interaction that one-by-one calls find late: "
        "lateness is judged against the watermark before the batch, not after earlier rows",
    )
    @pytest.mark.parametrize("columnar", [None, 1], ids=["per-row", "columnar"])
    @pytest.mark.parametrize("lateness", [0, "1 hour"], ids=["no-lateness", "1h-lateness"])
    def test_batch_equals_one_call_per_interaction(
        self, columnar: int | None, lateness: Any, quiet: None
    ) -> None:
        """Docs: 'The result is the same as processing the interactions one by one (the union
        of those calls' firings).' A micro-batch [a at day 2, b at day 1] must leave b late
        when one call per interaction does."""
        stream = [purchase("a", T0 + timedelta(days=1), "1"), purchase("b", T0, "2")]
        one = TriggerEngine(THANKS, max_future=None, allowed_lateness=lateness)
        singly = [f for r in stream for f in one.process(r)]
        many = TriggerEngine(THANKS, max_future=None, allowed_lateness=lateness)
        many._columnar_from = columnar
        batch = many.process_many(stream)
        assert (ids(batch), len(many.late)) == (ids(singly), len(one.late))


# -- what a damaged store holds ---------------------------------------------------------------
def _written(path: Path) -> None:
    """A store holding one customer with a pending `then after` anchor and a cooldown."""
    store = SQLiteStore(path)
    engine = TriggerEngine(ASK, store=store, max_future=None)
    engine.process(purchase("c1", T0, "x1"))
    engine.advance_to(T0 + timedelta(days=2))
    engine.process(purchase("c1", T0 + timedelta(days=3), "x2"))
    store.close()


class TestDamagedContent:
    @pytest.mark.xfail(
        strict=True,
        reason="a store whose JSON decodes but holds values of the wrong type or range opens, "
        "then the first call raises a raw TypeError/OverflowError instead of a StoreError "
        "naming the file",
    )
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
                engine.process(purchase("c1", T0 + timedelta(days=5), "x3"))
                engine.advance_to(T0 + timedelta(days=30))
        finally:
            store.close()
        assert str(path) in str(caught.value)

    @pytest.mark.xfail(
        strict=True,
        reason="SQLiteStore(timeout='x') raises a raw ValueError, not a CXModelError",
    )
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

    @pytest.mark.xfail(
        strict=True,
        reason="a customer's remembered interaction ids are trimmed only when the customer "
        "is touched again: an idle customer keeps every id of their last burst for ever, "
        "long after the redelivery window (state grows with interactions seen)",
    )
    def test_idle_customer_keeps_no_expired_ids(self) -> None:
        """Issue 12: 'de-duplication of interaction_ids keeps only the ids that could still
        be processed'. 89 days after a burst of 2,000 (redelivery window one day), none of
        its ids can be re-delivered without being late, so the state is the size it would
        be after a burst of one."""
        small, large = self._bytes_after_quiet(1), self._bytes_after_quiet(2_000)
        assert large - small < 2_000, (small, large)


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
            engine.process(purchase("a", T0 + timedelta(minutes=i), f"a{i}", note=note))
        db = store._connect()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        before = engine.stats()
        full = purchase("a", T0 + timedelta(minutes=10), "a10", note=note)
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
        engine.process(purchase("secret-customer-7", T0, "secret-id-7"))
        engine.process(purchase("other", T0 + timedelta(hours=1), "o1"))
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
        engine.process(purchase("other", T0 + timedelta(hours=2), "o2"))
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
