"""Firings kept partly as objects and partly as columns: their order is the order of every
firing built, an in-memory store keeps them unbuilt until its outbox is read and then holds
what it would have held had it been handed objects, and an engine whose calls decide some
firings as columns returns and stores the same firings as one that builds them all."""

from __future__ import annotations

import functools
import random
import threading
import warnings
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    Firing,
    Firings,
    InMemoryStore,
    SQLiteStore,
    StateChange,
    TriggerEngine,
    evaluate,
    parse,
)
from cxmodel.triggers._delivery import Delivery
from cxmodel.triggers._firings import (
    FiringBlock,
    FiringRows,
    firing_blocks,
    firing_columns,
    firing_rows,
    firing_sort_key,
)
from cxmodel.triggers._runner import RuleRunner

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
AS_OF = T0 + timedelta(days=30)

#: trigger names out of rule order, a cooldown (suppressed firings), a timer ('then no') and
#: a restart-keyed rule ('inactive for')
RULES = """
trigger zeta:
    when purchase as p where p.value >= 50
    emit thank(v = p.value)
    cooldown 2 days
trigger alpha:
    when purchase as p
    emit note(v = p.value)
trigger mid:
    when product_view as v then no purchase for 1 days
    emit nudge(product = v.product)
trigger dormant:
    when inactive for 3 days
    emit wake
"""

#: ids whose text order differs from their numeric order or from their first letters' case
CUSTOMERS = ["c9", "c10", "C1", "10", "9", "é", "a b"]


@st.composite
def logs(draw: st.DrawFn) -> InteractionLog:
    """A few interactions on a coarse clock: same-time rows of one customer are common."""
    n = draw(st.integers(1, 30))
    recs = []
    for i in range(n):
        rec: dict[str, Any] = {
            "customer_id": draw(st.sampled_from(CUSTOMERS)),
            "timestamp": T0 + timedelta(hours=6 * draw(st.integers(0, 40))),
            "kind": draw(st.sampled_from(["purchase", "purchase", "product_view"])),
            "value": float(draw(st.sampled_from([10, 50, 90]))),
            "product": draw(st.sampled_from(["p1", "p2"])),
        }
        if draw(st.booleans()):  # anchors keyed by id, or by time and rank
            rec["interaction_id"] = f"i{i}"
        recs.append(rec)
    return InteractionLog.from_records(recs)


def built(blocks: Sequence[FiringBlock]) -> list[Firing]:
    """Every firing of ``blocks`` as objects."""
    return [f for b in blocks for f in Firings.from_blocks([b])]


def split(
    blocks: Sequence[FiringBlock], rng: random.Random
) -> tuple[list[Firing], list[FiringBlock]]:
    """Each block's rows at random: built as objects, or left in one or two blocks."""
    objects: list[Firing] = []
    kept: list[FiringBlock] = []
    for block in blocks:
        choice = np.array([rng.randrange(3) for _ in range(len(block))], dtype=np.int64)
        objects.extend(built([block.take(np.flatnonzero(choice == 0))]))
        kept.extend(block.take(np.flatnonzero(choice == k)) for k in (1, 2))
    rng.shuffle(objects)
    rng.shuffle(kept)
    return objects, kept


def column_rows(firings: Firings) -> list[tuple[Any, ...]]:
    """:func:`firing_columns` as sorted rows (it gives them block by block)."""
    cols = firing_columns(firings, ids=True)
    names = ["trigger", "customer_id", "time", "reason", "firing_id", "emitted"]
    return sorted(zip(*(cols[n].tolist() for n in names), strict=True), key=repr)


def evaluated(log: InteractionLog) -> Firings:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(parse(RULES), log, as_of=AS_OF)


class TestMixedOrder:
    @settings(max_examples=80, deadline=None, derandomize=True)
    @given(logs(), st.integers(0, 2**32 - 1))
    def test_mixed_parts_read_as_the_sorted_firings(self, log: InteractionLog, seed: int) -> None:
        """Any split of a batch result into objects and blocks gives the firings in the
        order sorting them all built gives (ties in time, customer and trigger by id), and
        every way of reading them agrees."""
        whole = evaluated(log)
        emitted, suppressed = firing_blocks(whole)
        rng = random.Random(seed)
        e_objects, e_blocks = split(emitted, rng)
        s_objects, s_blocks = split(suppressed, rng)
        want = sorted(built(emitted), key=firing_sort_key)
        want_suppressed = sorted(built(suppressed), key=firing_sort_key)
        assert want == list(whole) and want_suppressed == list(whole.suppressed)

        def parts() -> Firings:
            return Firings.from_parts(e_objects, e_blocks, s_objects, s_blocks)

        fresh = parts()  # read one at a time, in random order, before anything is built
        assert len(fresh) == len(want) and len(fresh.suppressed) == len(want_suppressed)
        assert sum(f is None for f in firing_rows(fresh).cache) == len(want) - len(e_objects)
        assert fresh.ids() == {f.firing_id for f in want}
        positions = list(range(len(want)))
        rng.shuffle(positions)
        assert all(fresh[i] == want[i] for i in positions)
        if want:
            assert fresh[-1] == want[-1] and fresh[1:3] == tuple(want[1:3])
        assert list(fresh) == want

        got = parts()  # read whole
        assert list(got) == want and list(got.suppressed) == want_suppressed
        assert got == whole == Firings(want, want_suppressed)
        assert got.to_dict() == whole.to_dict()
        assert column_rows(parts()) == column_rows(whole)

    def test_ties_are_broken_by_firing_id(self) -> None:
        """Two firings of one rule for one customer at one time, one an object and one a
        block row, come in id order whichever is which."""
        at = T0.isoformat()
        log = InteractionLog.from_records(
            [{"customer_id": "c", "timestamp": at, "kind": "purchase", "value": 10.0}] * 3
        )
        whole = evaluated(log)
        (alpha,) = [b for b in firing_blocks(whole)[0] if b.trigger == "alpha"]
        want = sorted(built([alpha]), key=firing_sort_key)
        assert len({(f.time, f.customer_id, f.trigger) for f in want}) == 1 < len(want)
        for row in range(len(alpha)):
            rest = alpha.take(np.array([r for r in range(len(alpha)) if r != row]))
            got = Firings.from_parts(built([alpha.take(np.array([row]))]), [rest])
            assert list(got) == want

    def test_blocks_of_separate_evaluations_by_customer_text(self) -> None:
        """Blocks whose customer ranks come from different evaluations (each ranks its own
        customers from 0) are ordered by customer id as text once objects join them."""

        def one(customer: str) -> FiringBlock:
            rec = {"customer_id": customer, "timestamp": T0, "kind": "purchase", "value": 10.0}
            return next(
                b
                for b in firing_blocks(evaluated(InteractionLog.from_records([rec])))[0]
                if b.trigger == "alpha"
            )

        b, a, c = one("b"), one("a"), one("c")
        assert b.rank.tolist() == a.rank.tolist() == c.rank.tolist() == [0]
        got = Firings.from_parts(built([c]), [b, a])
        assert [f.customer_id for f in got] == ["a", "b", "c"]

    def test_objects_alone_are_sorted_and_blocks_alone_as_before(self) -> None:
        """from_parts without blocks sorts the objects; without objects it is from_blocks."""
        log = InteractionLog.from_records(
            [
                {"customer_id": c, "timestamp": T0 + timedelta(hours=h), "kind": "purchase",
                 "value": 90.0}
                for c, h in [("b", 1), ("a", 1), ("a", 0), ("c10", 2), ("c9", 2)]
            ]
        )  # fmt: skip
        whole = evaluated(log)
        emitted, suppressed = firing_blocks(whole)
        objects = list(whole)[::-1]
        assert list(Firings.from_parts(objects, [])) == list(whole)
        blocks_only = Firings.from_parts([], emitted, [], suppressed)
        assert blocks_only == whole
        assert firing_rows(blocks_only).row.tolist() == firing_rows(whole).row.tolist()
        assert firing_blocks(blocks_only) == (emitted, suppressed)


# -- the in-memory outbox ---------------------------------------------------------------------
@functools.cache
def source() -> tuple[FiringBlock, ...]:
    """Blocks of a few dozen emitted firings over four customers."""
    recs = [
        {"customer_id": f"c{i % 4}", "timestamp": T0 + timedelta(hours=5 * i), "kind": kind,
         "value": 90.0, "product": "p1", "interaction_id": f"i{i}"}
        for i, kind in enumerate(["purchase", "product_view", "purchase"] * 8)
    ]  # fmt: skip
    return firing_blocks(evaluated(InteractionLog.from_records(recs)))[0]


def lazy_part(picks: list[tuple[int, float]]) -> FiringRows:
    """The firings at ``picks`` (block number, share of its rows) as unbuilt rows."""
    blocks = source()
    taken = []
    for which, share in picks:
        block = blocks[which % len(blocks)]
        rows = np.arange(len(block))[: max(1, int(share * len(block)))]
        taken.append(block.take(rows[::-1] if share > 0.5 else rows))
    return firing_rows(Firings.from_parts([], taken))


def every_firing() -> list[Firing]:
    return built(source())


ops = st.one_of(
    st.tuples(
        st.just("lazy"),
        st.lists(st.tuples(st.integers(0, 9), st.floats(0.1, 1.0)), min_size=1, max_size=3),
    ),
    st.tuples(st.just("eager"), st.lists(st.integers(0, 99), max_size=6), st.integers(0, 3)),
    st.tuples(st.just("ack"), st.lists(st.integers(0, 99), max_size=8)),
    st.tuples(st.just("prune"), st.one_of(st.none(), st.integers(0, 120))),
    st.tuples(st.just("forget"), st.integers(0, 4)),
    st.tuples(st.just("read")),
)


def outbox_of(store: InMemoryStore) -> tuple[Any, ...]:
    """What a store shows of its outbox: the firings and pending ones, whole, and repr."""
    return (
        [(f, f.payload) for f in store.firings()],
        [(f, f.payload) for f in store.pending()],
        repr(store),
    )


class TestLazyOutbox:
    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(st.lists(ops, max_size=12))
    def test_every_read_sees_what_an_eager_outbox_holds(self, steps: list[Any]) -> None:
        """Commits of unbuilt rows and of objects, acknowledgements, prunes and erasures in
        any order: the store shows what one handed every firing built shows, in the same
        order, the first firing of an id kept across commits."""
        firings = every_firing()
        lazy, eager = InMemoryStore(), InMemoryStore()
        lazy.open(), eager.open()
        for step in steps:
            what = step[0]
            if what == "lazy":
                lazy.commit(StateChange({}, {}, firings=lazy_part(step[1])))
                eager.commit(StateChange({}, {}, firings=list(lazy_part(step[1]))))
            elif what == "eager":  # ids seen before, with other payloads: first one kept
                part = [
                    attrs.evolve(firings[i % len(firings)], payload={"commit": step[2]})
                    for i in step[1]
                ]
                lazy.commit(StateChange({}, {}, firings=part))
                eager.commit(StateChange({}, {}, firings=list(part)))
            elif what == "ack":
                ids = [firings[i % len(firings)].firing_id for i in step[1]] + ["unknown"]
                lazy.acknowledge(ids)
                eager.acknowledge(ids)
            elif what == "prune":
                before = None if step[1] is None else T0 + timedelta(hours=step[1])
                assert lazy.prune(before=before) == eager.prune(before=before)
            elif what == "forget":
                lazy.forget(f"c{step[1]}", {})
                eager.forget(f"c{step[1]}", {})
            else:
                assert outbox_of(lazy) == outbox_of(eager)
        assert outbox_of(lazy) == outbox_of(eager)

    @pytest.mark.parametrize("change", ["prune", "forget"])
    def test_a_dropped_id_committed_again_meanwhile_stays_out(self, change: str) -> None:
        """An id committed again while in the outbox is ignored then, so dropping it
        (pruned once acknowledged, or its customer forgotten) drops it for good."""
        firings = every_firing()
        lazy, eager = InMemoryStore(), InMemoryStore()
        for store, part in ((lazy, lazy_part([(0, 1.0)])), (eager, list(lazy_part([(0, 1.0)])))):
            store.open()
            store.commit(StateChange({}, {}, firings=part))
            store.acknowledge([f.firing_id for f in firings])
            store.commit(StateChange({}, {}, firings=lazy_part([(0, 1.0), (1, 1.0)])))
            if change == "prune":
                assert store.prune() > 0
            else:
                store.forget(firings[0].customer_id, {})
        assert outbox_of(lazy) == outbox_of(eager)
        dropped = {f.firing_id for f in lazy_part([(0, 1.0)])}
        if change == "forget":
            dropped = {f.firing_id for f in firings if f.customer_id == firings[0].customer_id}
        assert dropped and dropped.isdisjoint(f.firing_id for f in lazy.firings())

    def test_rows_stay_unbuilt_until_the_outbox_is_read(self) -> None:
        """A commit keeps the rows as they are; the first read builds the store's own, once
        (from the columns: not the rows' objects, which the host may have changed)."""
        store = InMemoryStore()
        store.open()
        part = lazy_part([(0, 1.0), (1, 1.0)])
        store.commit(StateChange({}, {}, firings=part))
        store.commit(StateChange({}, {}, firings=list(every_firing()[:2])))
        assert all(f is None for f in part.cache)
        assert store.late() == [] and store.kept_late({("c0", "i0")}) == set()
        assert all(f is None for f in part.cache)
        first = store.firings()
        assert all(f is None for f in part.cache) and not store._pending
        assert [f.firing_id for f in first[: len(part)]] == [f.firing_id for f in part]
        assert store.firings() == first

    def test_threads_committing_and_reading(self) -> None:
        """Threads committing unbuilt rows while others read: each read is a whole outbox
        in commit order, and the last equals the eager replay of the commits."""
        store = InMemoryStore()
        store.open()
        committed: list[list[tuple[int, float]]] = []
        seen: list[list[str]] = []
        errors: list[BaseException] = []

        def writer(seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(20):
                    picks = [(rng.randrange(10), rng.uniform(0.1, 1.0))]
                    with store._lock:  # the commit and its place in the order, together
                        store.commit(StateChange({}, {}, firings=lazy_part(picks)))
                        committed.append(picks)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(30):
                    ids = [f.firing_id for f in store.pending()]
                    assert len(ids) == len(set(ids))
                    seen.append(ids)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(s,)) for s in range(3)]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        eager = InMemoryStore()
        eager.open()
        for picks in committed:
            eager.commit(StateChange({}, {}, firings=list(lazy_part(picks))))
        final = [f.firing_id for f in eager.firings()]
        assert [f.firing_id for f in store.firings()] == final
        assert all(ids == final[: len(ids)] for ids in seen)  # a prefix: commits only add


# -- the engine ---------------------------------------------------------------------------------
ENGINE_RULES = """
trigger big:
    when purchase as p where p.value > 100
    emit thank(v = p.value)
    cooldown 1 days
trigger viewed:
    when product_view as v then no purchase for 1 days
    emit nudge(product = v.product)
"""


def batches(seed: int) -> list[list[dict[str, Any]]]:
    """A stream of micro-batches in time order over five customers."""
    rng = random.Random(seed)
    recs = [
        {
            "customer_id": f"c{rng.randrange(5)}",
            "timestamp": (T0 + timedelta(hours=3 * i + rng.randrange(3))).isoformat(),
            "kind": rng.choice(["purchase", "product_view"]),
            "value": float(rng.choice([50, 150, 300])),
            "product": rng.choice(["p1", "p2"]),
            "interaction_id": f"i{i}",
        }
        for i in range(120)
    ]
    return [recs[i : i + 30] for i in range(0, len(recs), 30)]


@functools.cache
def batch_rows(seed: int) -> dict[str, tuple[FiringBlock, int]]:
    """Each firing id of batch over the whole stream -> its block and row."""
    recs = [r for part in batches(seed) for r in part]
    log = InteractionLog.from_records(recs).with_observed_until(AS_OF)
    whole = evaluate(parse(ENGINE_RULES), log, as_of=AS_OF)
    emitted, suppressed = firing_blocks(whole)
    return {b.firing_id(i): (b, i) for b in (*emitted, *suppressed) for i in range(len(b))}


@attrs.define
class Columns:
    """Whether engine calls hand firings as block rows (``on``), and how many they did."""

    on: bool = True
    moved: int = 0


@pytest.fixture
def as_columns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Columns]:
    """Each engine call (not one interaction's) hands some of its firings as block rows:
    those batch decided alike, at random (what a call deciding on arrays hands over)."""
    control = Columns()
    forget_ids = Delivery.forget_ids
    rng = random.Random(7)

    def decide_some_as_columns(self: Delivery, runner: RuleRunner, window: int) -> None:
        forget_ids(self, runner, window)
        if not control.on or runner.suppressed is None:  # one interaction in memory: objects
            return
        rows = batch_rows(0)
        for objects, blocks in (
            (runner.emitted, runner.emitted_blocks),
            (runner.suppressed, runner.suppressed_blocks),
        ):
            kept = []
            for f in objects:
                found = rows.get(f.firing_id)
                if found is None or found[0].firing(found[1]) != f or rng.random() < 0.3:
                    kept.append(f)
                    continue
                blocks.append(found[0].take(np.array([found[1]])))
                control.moved += 1
            objects[:] = kept

    monkeypatch.setattr(Delivery, "forget_ids", decide_some_as_columns)
    yield control


def run(engine: TriggerEngine) -> tuple[list[Any], int]:
    """Stream the batches and advance; each call's firings, whole, and how many calls
    returned firings not built yet."""
    out: list[Any] = []
    unbuilt = 0
    for part in batches(0):
        got = engine.process_many(part)
        assert type(got) is Firings
        unbuilt += None in firing_rows(got).cache
        out.append((list(got), list(got.suppressed)))
    out.append(engine.advance_to(AS_OF))
    return out, unbuilt


class TestEngine:
    def test_process_many_with_firings_as_columns(self, as_columns: Columns) -> None:
        """Calls handing firings as columns return and keep what calls building them all do;
        the in-memory store keeps them unbuilt until it is read."""
        plain = TriggerEngine(parse(ENGINE_RULES), max_future=None)
        as_columns.on = False
        want, _ = run(plain)
        as_columns.on = True
        engine = TriggerEngine(parse(ENGINE_RULES), max_future=None)
        got, unbuilt = run(engine)
        assert as_columns.moved > 0 and unbuilt > 0
        assert got == want
        assert isinstance(engine.advance_to(AS_OF + timedelta(days=1)), list)
        store = engine.store
        assert isinstance(store, InMemoryStore) and isinstance(plain.store, InMemoryStore)
        assert store._pending  # kept aside, not in the outbox yet
        assert store.firings() == plain.store.firings()
        ids = [f.firing_id for f in store.firings()[::2]]
        store.acknowledge(ids)
        plain.store.acknowledge(ids)
        assert store.pending() == plain.store.pending()
        assert store.prune() == plain.store.prune() == len(ids)
        engine.forget("c1")
        plain.forget("c1")
        assert store.firings() == plain.store.firings()

    def test_a_durable_store_receives_firing_objects(
        self, as_columns: Columns, tmp_path: Path
    ) -> None:
        """A SQLite store is handed the same firings, in the same order."""
        engine = TriggerEngine(
            parse(ENGINE_RULES), store=SQLiteStore(tmp_path / "s.db"), max_future=None
        )
        got, _ = run(engine)
        assert as_columns.moved > 0
        as_columns.on = False
        reference = TriggerEngine(parse(ENGINE_RULES), max_future=None)
        want, _ = run(reference)
        assert got == want
        assert engine.store.firings() == reference.store.firings()
        engine.store.close()
