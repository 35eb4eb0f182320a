"""``TriggerEngine.process`` has its own path for one interaction at a time (with an in-memory
store); whatever arrives, it must leave what ``process_many([record])`` leaves: the same
firings from each call, the same late, refused and ignored interactions, the same state."""

from __future__ import annotations

import random
import warnings
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.triggers import TriggerEngine, parse
from tests.triggers.catalogues import BACK_IN_STOCK
from tests.triggers.helpers import T0, interaction, key, random_rule_set, records

#: the host's clock: records after CLOCK + 20 days are refused (max_future)
CLOCK = T0 + timedelta(days=40)
#: besides the random rules: an alert over everyone, or a catalogue rule with its events
EXTRAS = {
    "none": "",
    "alert": "\n\nalert spike:\n    when count(purchase within 2 days) >= 2\n    emit page",
    "catalogue": "\n\n" + BACK_IN_STOCK.replace("30 days", "9 days"),
}


def with_restocks(rng: random.Random, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``recs`` with some turned into restock events of their product (no customer)."""
    return [
        {k: v for k, v in r.items() if k in ("timestamp", "product", "interaction_id")}
        | {"kind": "restock"}
        if rng.random() < 0.15
        else r
        for r in recs
    ]


def hostile(rng: random.Random, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``recs`` delivered as a hostile stream does: a little out of order, some twice, and
    some first as a copy far behind (late) or far ahead of the clock (refused)."""
    out: list[dict[str, Any]] = []
    for rec in recs:
        roll = rng.random()
        if roll < 0.08:  # behind what has been seen: late beyond the allowed lateness
            out.append({**rec, "timestamp": rec["timestamp"] - timedelta(days=rng.randint(1, 9))})
        elif roll < 0.13:  # milliseconds read as seconds, or a skewed sender
            out.append({**rec, "timestamp": CLOCK + timedelta(days=rng.randint(21, 400))})
        if roll > 0.8 and out:  # a little out of order (inside some lateness)
            out.insert(max(0, len(out) - rng.randint(1, 3)), rec)
        else:
            out.append(rec)
        if rng.random() < 0.1:  # a recent one re-delivered
            out.append(rng.choice(out[-5:]))
    return out


def run(engine: TriggerEngine, stream: list[Any], one: bool) -> list[Any]:
    """Each call's firings (compared call by call), the warnings each call raised, then the
    firings of a final ``advance_to``."""
    calls: list[Any] = []
    for item in stream:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            got = engine.process(item) if one else engine.process_many([item])
        calls.append((key(got), [(w.category, str(w.message)) for w in seen]))
    calls.append(key(engine.advance_to(CLOCK)))
    return calls


def outcome(engine: TriggerEngine) -> Any:
    """What an engine holds after a stream: its stats, its state as a store keeps it, the
    late and refused interactions and the outbox."""
    store = engine.store
    return (
        engine.stats(),
        engine.watermark,
        engine.duplicates,
        {cid: state.to_dict() for cid, state in engine._runner.states.items()},
        [(q.record, q.reason, q.customer_id) for q in store.late()],
        [(q.record, q.reason, q.customer_id) for q in store.rejected()],
        [f.firing_id for f in store.firings()],
    )


class TestOneAtATime:
    @settings(max_examples=60, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        lateness=st.sampled_from([0, 6, 72]),
        objects=st.booleans(),
        extra=st.sampled_from(sorted(EXTRAS)),
    )
    def test_process_equals_process_many_of_one(
        self, seed: int, lateness: int, objects: bool, extra: str
    ) -> None:
        """Random rules (with an alert, or a catalogue rule and its events, at times) over a
        hostile stream (out of order, re-delivered, late, refused): ``process(x)`` returns
        what ``process_many([x])`` returns, call by call, with the same warnings, and leaves
        the same state, stats, late, refused and outbox."""
        rng = random.Random(seed)
        rules = parse(random_rule_set(rng) + EXTRAS[extra])
        recs = records(seed, 40, n_customers=3)
        stream = hostile(rng, with_restocks(rng, recs) if extra == "catalogue" else recs)
        if objects:  # domain objects as well as records (a catalogue event is a record)
            stream = [
                interaction(r) if j % 3 == 0 and "customer_id" in r else r
                for j, r in enumerate(stream)
            ]

        def engine() -> TriggerEngine:
            return TriggerEngine(
                rules,
                allowed_lateness=f"{lateness} hours" if lateness else 0,
                max_future="20 days",
                clock=lambda: CLOCK,
            )

        one, many = engine(), engine()
        assert run(one, stream, one=True) == run(many, stream, one=False)
        assert outcome(one) == outcome(many)

    def test_hostile_stream_sets_rows_aside(self) -> None:
        """The generator above does make late, refused and re-delivered interactions (so the
        property test is about them)."""
        rng = random.Random(3)
        stream = hostile(rng, records(3, 120, n_customers=3))
        engine = TriggerEngine(
            parse("trigger t:\n    when purchase\n    emit x"),
            max_future="20 days",
            clock=lambda: CLOCK,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            for item in stream:
                engine.process(item)
        stats = engine.stats()
        assert stats["late"] > 0 and stats["refused"] > 0 and engine.duplicates > 0

    def test_clock_read_once_per_call(self) -> None:
        """The clock is read once per call with ``max_future`` set, and never without it."""
        reads: list[datetime] = []

        def clock() -> datetime:
            reads.append(CLOCK)
            return CLOCK

        rules = parse("trigger t:\n    when purchase\n    emit x")
        rec = {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase"}
        TriggerEngine(rules, clock=clock).process(rec)
        TriggerEngine(rules, clock=clock, max_future=None).process(rec)
        assert len(reads) == 1
