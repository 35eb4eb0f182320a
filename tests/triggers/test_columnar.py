"""The columnar micro-batch path equals the per-interaction path: the same firings (emitted
and suppressed, whole), the same customers' states, delivery and store afterwards, however
the stream is cut, shuffled within the lateness, repeated or restarted; and both equal batch."""

from __future__ import annotations

import random
import sqlite3
import warnings
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    EXAMPLE_RULES,
    InMemoryStore,
    SQLiteStore,
    TriggerEngine,
    _engine,
    parse,
)
from cxmodel.triggers._columnar import COLUMNAR_FROM, _maybe_redelivered, columnar_ready
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._delivery import Delivery
from cxmodel.triggers._runner import RuleRunner
from tests.triggers.helpers import (
    COLUMNAR,
    PER_ROW,
    REDELIVERY,
    T0,
    FailingStore,
    cuts,
    engine_of,
    evaluate_complete,
    form,
    key,
    random_rule_set,
    records,
    rules_text,
    state_of,
    whole,
)


def shuffled_within(recs: list[dict[str, Any]], hours: int, seed: int) -> list[dict[str, Any]]:
    """``recs`` delivered out of time order by up to ``hours``, some of them twice."""
    rng = random.Random(seed)
    out = sorted(recs, key=lambda r: r["timestamp"] + timedelta(hours=rng.randrange(hours + 1)))
    for j in sorted(rng.sample(range(len(out)), len(out) // 10), reverse=True):
        out.insert(min(len(out), j + rng.randrange(5)), out[j])  # re-delivered
    return out


#: the input forms a random micro-batch takes, drawn by index (a log keeps each id once)
DRAWN_FORMS = ("records", "objects", "log")


def step_both(engines: list[TriggerEngine], parts: list[Any], out: list[list[Any]]) -> None:
    """Send each engine its micro-batch in ``parts``; check that they return (emitted and
    suppressed) and keep the same; add what each emitted to its list in ``out``."""
    got = [e.process_many(part) for e, part in zip(engines, parts, strict=True)]
    assert whole(got[0]) == whole(got[1])
    assert whole(got[0].suppressed) == whole(got[1].suppressed)
    assert state_of(engines[0]) == state_of(engines[1])
    for j in (0, 1):
        out[j].extend(got[j])


def run_both(
    rules: Any,
    recs: list[dict[str, Any]],
    seed: int,
    as_of: datetime,
    lateness: str | int = 0,
) -> tuple[list[Any], list[Any]]:
    """Stream ``recs`` into a columnar and a per-row engine in the same random cuts and
    forms; check that they return the same and keep the same after every call."""
    rng = random.Random(seed)
    engines = [
        engine_of(rules, p, allowed_lateness=lateness, redelivery_window=REDELIVERY)
        for p in (COLUMNAR, PER_ROW)
    ]
    out: list[list[Any]] = [[], []]
    for start, stop in cuts(rng, len(recs)):
        how = rng.randrange(3)
        step_both(engines, [form(recs[start:stop], DRAWN_FORMS[how]) for _ in engines], out)
    last = [e.advance_to(as_of) for e in engines]
    assert whole(last[0]) == whole(last[1])
    assert state_of(engines[0]) == state_of(engines[1])
    return out[0] + last[0], out[1] + last[1]


def check_failed_commit(rules: Any, recs: list[dict[str, Any]]) -> None:
    """A commit that fails (after the first half of ``recs``) leaves each engine as before the
    call; the retry returns, on the columnar path, what the per-row engine returns."""
    engines = []
    for path in (COLUMNAR, PER_ROW):
        store = FailingStore(InMemoryStore())
        engine = engine_of(rules, path, store=store)
        engine.process_many(recs[: len(recs) // 2])
        before = state_of(engine)
        store.fail = 1
        with pytest.raises(Exception, match="disk"):
            engine.process_many(recs[len(recs) // 2 :])
        assert state_of(engine) == before
        engines.append((engine, engine.process_many(recs[len(recs) // 2 :])))
    assert whole(engines[0][1]) == whole(engines[1][1])
    assert state_of(engines[0][0]) == state_of(engines[1][0])


def restart_both(
    rules: Any,
    sent: list[dict[str, Any]],
    rng: random.Random,
    hours: int,
    *,
    advance: bool,
    as_of: datetime,
) -> tuple[list[list[Any]], list[Any]]:
    """Stream ``sent`` into a columnar and a per-row engine, each on its own in-memory store,
    in the same random cuts, restarting both from their stores after random calls (and, with
    ``advance``, declaring time complete mid-stream); check after every call that they return
    and keep the same. Return what each returned over the stream and their last
    ``advance_to(as_of)``."""
    lateness = f"{hours} hours" if hours else 0
    stores = [InMemoryStore(), InMemoryStore()]
    paths = (COLUMNAR, PER_ROW)

    def start(j: int) -> TriggerEngine:
        return engine_of(
            rules, paths[j], store=stores[j], allowed_lateness=lateness,
            redelivery_window=REDELIVERY,
        )  # fmt: skip

    engines = [start(0), start(1)]
    out: list[list[Any]] = [[], []]
    for begin, stop in cuts(rng, len(sent)):
        if rng.random() < 0.3:  # a restart: a new engine on the same store
            for j in (0, 1):
                stores[j].close()
                engines[j] = start(j)
        if advance and rng.random() < 0.2:  # time declared complete mid-stream
            at = sent[min(begin, len(sent) - 1)]["timestamp"] - timedelta(days=2)
            got = [e.advance_to(at) for e in engines]
            assert whole(got[0]) == whole(got[1])
            for j in (0, 1):
                out[j].extend(got[j])
        # records or objects: a log keeps each id once, so a re-delivery inside it is not
        parts = [form(sent[begin:stop], DRAWN_FORMS[rng.randrange(2)]) for _ in engines]
        step_both(engines, parts, out)
    last = [e.advance_to(as_of) for e in engines]
    assert whole(last[0]) == whole(last[1])
    assert state_of(engines[0]) == state_of(engines[1])
    return out, last[0]


def check_case(seed: int, lateness_hours: int = 0) -> None:
    """Random rules over random interactions: columnar equals per-row equals batch."""
    rng = random.Random(seed)
    rules = parse(random_rule_set(rng))
    recs = records(seed, rng.randint(20, 150), n_customers=rng.randint(1, 6), days=60)
    as_of = T0 + timedelta(days=rng.choice([30, 70]))
    visible = [r for r in recs if r["timestamp"] <= as_of]
    sent = shuffled_within(visible, lateness_hours, seed) if lateness_hours else visible
    lateness = f"{lateness_hours} hours" if lateness_hours else 0
    columnar, per_row = run_both(rules, sent, seed, as_of, lateness)
    assert key(columnar) == key(per_row)
    batch = evaluate_complete(rules, InteractionLog.from_records(visible), as_of=as_of)
    if not lateness_hours:
        assert key(columnar) == key(batch)


class TestColumnarEqualsPerRow:
    @pytest.mark.parametrize("block", range(4))
    def test_seeded_rule_sets(self, block: int) -> None:
        """Random rule sets (every clause, aggregate and policy) over 50 fixed seeds each."""
        for seed in range(block * 50, (block + 1) * 50):
            check_case(seed)

    @pytest.mark.parametrize("block", range(2))
    def test_out_of_order_and_repeated(self, block: int) -> None:
        """Rows out of order within the allowed lateness, some re-delivered, some late."""
        for seed in range(block * 40, (block + 1) * 40):
            check_case(seed, lateness_hours=random.Random(seed).choice([12, 48, 96]))

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(rules_text(), st.integers(0, 10_000), st.integers(0, 72))
    def test_generated_rules(self, text: str, seed: int, hours: int) -> None:
        """One generated rule, random cuts, out-of-order rows: the two paths agree."""
        rules = parse(text)
        recs = records(seed, 80, n_customers=3)
        as_of = T0 + timedelta(days=50)
        visible = [r for r in recs if r["timestamp"] <= as_of]
        sent = shuffled_within(visible, hours, seed) if hours else visible
        run_both(rules, sent, seed, as_of, f"{hours} hours" if hours else 0)

    def test_example_rules_long_stream(self) -> None:
        """The six example rules over a long stream in large micro-batches take the columnar
        path and equal batch."""
        rules = parse(EXAMPLE_RULES)
        recs = records(7, 3000, n_customers=20, days=200)
        as_of = T0 + timedelta(days=210)
        engine = TriggerEngine(rules, max_future=None)
        assert columnar_ready(engine._runner)
        got: list[Any] = []
        for start in range(0, len(recs), 1000):
            got.extend(engine.process_many(recs[start : start + 1000]))
        got.extend(engine.advance_to(as_of))
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        assert len(batch) > 100
        assert key(got) == key(batch)
        columnar, per_row = run_both(rules, recs, 3, as_of)
        assert key(columnar) == key(per_row) == key(batch)


class TestRestarts:
    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(st.integers(0, 10_000), st.sampled_from([0, 12, 48]))
    def test_restarts_between_micro_batches(self, seed: int, hours: int) -> None:
        """Random rule sets, random cuts, re-delivered and out-of-order rows, and a restart
        from the store after random calls: both paths return and keep the same, and their
        union equals batch."""
        rng = random.Random(seed)
        rules = parse(random_rule_set(rng))
        recs = records(seed, rng.randint(30, 150), n_customers=rng.randint(1, 5), days=60)
        as_of = T0 + timedelta(days=65)
        sent = shuffled_within(recs, hours, seed) if hours else recs
        out, last = restart_both(rules, sent, rng, hours, advance=False, as_of=as_of)
        if not hours:
            batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
            assert key(out[0] + last) == key(batch)


class TestInputs:
    def test_mapping_of_columns_with_repeated_ids(self) -> None:
        """A mapping of columns (ids given apart from the log, one repeated within the poll
        and one from an earlier poll) gives what the per-row path gives."""
        rules = parse(EXAMPLE_RULES)
        recs = records(4, 300, n_customers=5, days=60)
        names = ["customer_id", "timestamp", "kind", "interaction_id", "value", "product"]
        engines = [
            engine_of(rules, path, redelivery_window=REDELIVERY) for path in (COLUMNAR, PER_ROW)
        ]
        for start, stop in ((0, 120), (100, 300)):
            part = recs[start:stop] + recs[start : start + 3]
            columns = {name: [r.get(name) for r in part] for name in names}
            got = [e.process_many(columns) for e in engines]
            assert whole(got[0]) == whole(got[1])
            assert state_of(engines[0]) == state_of(engines[1])
        assert engines[0].duplicates == engines[1].duplicates > 20

    def test_refused_and_late_rows(self) -> None:
        """Rows too far ahead of the clock are refused, and rows behind the watermark are
        late, alike on both paths (kept with the same reasons), with the same firings."""
        rules = parse(EXAMPLE_RULES)
        recs = records(6, 400, n_customers=5, days=60)
        clock = T0 + timedelta(days=40)
        sent = shuffled_within(recs, 72, 6)  # three days out of order: some rows late
        engines = [
            engine_of(
                rules, path, allowed_lateness="1 day", max_future="2 days", clock=lambda: clock
            )
            for path in (COLUMNAR, PER_ROW)
        ]
        for start in range(0, len(sent), 90):
            got, told = [], []
            for e in engines:
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always", DataWarning)
                    got.append(e.process_many(sent[start : start + 90]))
                told.append([str(w.message) for w in seen])
            assert whole(got[0]) == whole(got[1])
            assert told[0] == told[1]  # the same counts of late and refused rows
            assert state_of(engines[0]) == state_of(engines[1])
        rejected = [[(q.record, q.reason) for q in e.store.rejected()] for e in engines]
        assert rejected[0] == rejected[1]
        assert len(rejected[0]) > 50 and len(engines[0].late) > 5

    @pytest.mark.parametrize("as_log", [False, True])
    def test_text_where_a_rule_computes_is_refused_alike(self, as_log: bool) -> None:
        """A property a rule computes with holding text is refused with the same message
        (naming the record) on both paths, and nothing changes."""
        rules = parse("trigger t:\n    when purchase as p where p.qty * 2 > 3\n    emit x")
        recs = [dict(r, qty=1.0) for r in records(1, 40)]
        recs[17]["qty"] = "two"
        messages = []
        for path in (COLUMNAR, PER_ROW):
            engine = engine_of(rules, path)
            with pytest.raises(SchemaError) as error:
                if as_log:  # the log reads the column as text, and says so
                    with pytest.warns(DataWarning, match="column 'qty' holds text in 1 row"):
                        batch = InteractionLog.from_records(recs)
                engine.process_many(batch if as_log else recs)
            messages.append(str(error.value))
            assert engine._runner.states == {}
        assert messages[0] == messages[1]


class TestStores:
    def test_sqlite_restarts(self, tmp_path: Path) -> None:
        """Restarts between micro-batches on SQLite files, with re-delivered input: the two
        paths leave the same stored states (the same text), meta and firings."""
        rules = parse(EXAMPLE_RULES)
        recs = records(5, 600, n_customers=8, days=120)
        as_of = T0 + timedelta(days=130)
        stored, texts, told = [], [], []
        for path, name in ((COLUMNAR, "c.db"), (PER_ROW, "r.db")):
            file = tmp_path / name
            for start, stop in ((0, 250), (200, 450), (400, 600)):
                with closing(SQLiteStore(file)) as store:
                    engine = engine_of(rules, path, store=store)
                    with warnings.catch_warnings(record=True) as seen:  # re-delivered: late
                        warnings.simplefilter("always", DataWarning)
                        engine.process_many(recs[start:stop])
                    told.append([str(w.message) for w in seen])
                    if stop == len(recs):
                        engine.advance_to(as_of)
            store = SQLiteStore(file)
            opened = store.open()
            stored.append(
                (opened.customers, opened.meta, sorted(f.firing_id for f in store.firings()))
            )
            store.close()
            with closing(sqlite3.connect(file)) as db:
                texts.append(sorted(db.execute("SELECT customer_id, state FROM customers")))
        assert stored[0] == stored[1]
        assert told[:3] == told[3:]
        assert texts[0] == texts[1]  # the same text, byte for byte
        assert len(stored[0][2]) > 50

    def test_failed_commit_rolls_back(self) -> None:
        """A commit that fails leaves the columnar engine as before the call; the retry
        returns what the per-row engine returns."""
        check_failed_commit(parse(EXAMPLE_RULES), records(9, 400, n_customers=5, days=90))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(["i1", "i2", "i3", None]), st.booleans()),
        max_size=8,
    ),
    st.dictionaries(st.sampled_from("abcd"), st.sets(st.sampled_from(["i1", "i2", "i9"]))),
)
def test_maybe_redelivered_never_misses_a_repeat(
    batch: list[tuple[str, str | None, bool]], remembered: dict[str, set[str]]
) -> None:
    """The quick look for re-delivered ids says "maybe" whenever an admitted (customer, id)
    comes twice in the call or is still remembered, and "no" otherwise."""
    runner = RuleRunner(parse("trigger t:\n    when view\n    emit x"), {})
    for cid, ids in remembered.items():
        runner.states[cid] = CustomerState(cid)
        runner.states[cid].seen = dict.fromkeys(ids, 0)
    keys = [(c, i) for c, i, ok in batch if ok and i is not None]
    repeat = len(set(keys)) != len(keys) or any(i in remembered.get(c, ()) for c, i in keys)
    ok = np.array([k for _, _, k in batch], dtype=bool)
    got = _maybe_redelivered(
        Delivery(lateness=0, max_future=None), runner, [c for c, _, _ in batch],
        [i for _, i, _ in batch], ok,
    )  # fmt: skip
    assert got == repeat


def test_a_micro_batch_out_of_time_order_released_whole() -> None:
    """A micro-batch in reverse time order, released whole (no lateness): its interactions
    are released in time order with their own ids, on both paths."""
    rules = parse(EXAMPLE_RULES)
    recs = [
        dict(r, timestamp=r["timestamp"].isoformat(), interaction_id=f"e{j}")
        for j, r in enumerate(records(5, 120, n_customers=4, days=40))
    ]
    engines = [engine_of(rules, p, redelivery_window="60 days") for p in (COLUMNAR, PER_ROW)]
    out: list[list[Any]] = [[], []]
    step_both(engines, [recs[::-1], recs[::-1]], out)
    step_both(engines, [recs[:50], recs[:50]], out)  # each one re-delivered: ignored
    assert [e.stats()["duplicates_ignored"] for e in engines] == [50, 50]


class TestAdvanceTo:
    @pytest.mark.parametrize("store", ["memory", "sqlite"])
    def test_many_timers_fire_a_rule_at_a_time_as_one_by_one(
        self, store: str, tmp_path: Path
    ) -> None:
        """``advance_to`` with at least ``COLUMNAR_FROM`` timers due fires them a rule at a
        time (``fire_due``): the same firings, suppressed ones and state as one by one."""
        rules = parse(EXAMPLE_RULES)
        recs = records(5, 6_000, n_customers=2_500, days=60)
        as_of = T0 + timedelta(days=200)
        results = []
        for path in (COLUMNAR_FROM, PER_ROW):
            kept = SQLiteStore(tmp_path / f"{path}.db") if store == "sqlite" else InMemoryStore()
            engine = TriggerEngine(rules, store=kept, max_future=None)
            engine._columnar_from = path
            engine.process_many(recs)
            fired = []
            with patch.object(_engine, "fire_due", wraps=_engine.fire_due) as spy:
                got = engine.advance_to(as_of)
            fired.append(spy.call_count)
            results.append((whole(got), state_of(engine), fired))
            kept.close()
        (columnar, state, calls), (one_by_one, state_per_row, none) = results
        assert len(columnar) > COLUMNAR_FROM and calls == [1] and none == [0]
        assert columnar == one_by_one and state == state_per_row

    def test_few_timers_fire_one_by_one(self) -> None:
        engine = TriggerEngine(parse(EXAMPLE_RULES), max_future=None)
        engine.process_many(records(5, 40, n_customers=4, days=10))
        with patch.object(_engine, "fire_due", wraps=_engine.fire_due) as spy:
            assert engine.advance_to(T0 + timedelta(days=200))
        assert spy.call_count == 0


class TestIdsForgottenInTheCall:
    @pytest.mark.parametrize("lateness", [0, "2 days"])
    def test_a_call_longer_than_the_window_keeps_only_the_ids_it_would_keep(
        self, lateness: str | int
    ) -> None:
        """A micro-batch spanning 90 days with a one-day redelivery window does not keep the
        ids its own sweep forgets: the state is the one-at-a-time path's, which keeps each
        and forgets it at the end of the call; a re-delivered id of the last day is still
        ignored, and one of the first days is late."""
        rules = parse(EXAMPLE_RULES)
        recs = [
            dict(r, timestamp=r["timestamp"].isoformat(), interaction_id=f"e{j}")
            for j, r in enumerate(records(3, 3_000, n_customers=40, days=90))
        ]
        engines = [
            engine_of(rules, p, redelivery_window="1 days", allowed_lateness=lateness)
            for p in (COLUMNAR, PER_ROW)
        ]
        out: list[list[Any]] = [[], []]
        step_both(engines, [recs, recs], out)
        kept = sum(len(s.seen) for s in engines[0]._runner.states.values())
        assert 0 < kept < len(recs) // 20
        with pytest.warns(DataWarning, match="5 interaction"):
            step_both(engines, [recs[-5:] + recs[:5], recs[-5:] + recs[:5]], out)
        assert [e.stats()["duplicates_ignored"] for e in engines] == [5, 5]
        assert [len(e.late) for e in engines] == [5, 5]
