"""Micro-batches: ``process_many`` equals batch however the stream is cut, for every input form,
and over streams long enough to rebuild the engine's by-customer history index."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import Firings, TriggerEngine, parse
from tests.triggers.helpers import (
    REDELIVERY,
    T0,
    cuts,
    evaluate_complete,
    interaction,
    key,
    random_rule_set,
    records,
    rules_text,
)


def stream_in_batches(
    rules: Any, recs: list[dict[str, Any]], as_of: datetime, seed: int
) -> list[Any]:
    """Stream ``recs`` in random cuts and input forms, then advance to ``as_of``."""
    engine = TriggerEngine(rules)
    out: list[Any] = []
    for start, stop in cuts(random.Random(seed), len(recs)):
        part = recs[start:stop]
        if (start + seed) % 3 == 0:
            out.extend(engine.process_many(InteractionLog.from_records(part)))
        elif (start + seed) % 3 == 1:
            out.extend(engine.process_many([interaction(r) for r in part]))
        else:
            for rec in part:
                out.extend(engine.process(interaction(rec)))
    out.extend(engine.advance_to(as_of))
    return out


def check_random_case(rng: random.Random, seed: int) -> None:
    """Random rules over a random log, streamed in random cuts and forms, equal batch."""
    rules = parse(random_rule_set(rng))
    recs = records(
        seed, rng.randint(5, 120), n_customers=rng.randint(1, 6), days=rng.choice([20, 60, 90])
    )
    as_of = T0 + timedelta(days=rng.choice([10, 50, 100]))
    visible = [r for r in recs if r["timestamp"] <= as_of]
    batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
    got = stream_in_batches(rules, visible, as_of, rng.randrange(1000))
    assert key(got) == key(batch)


class TestMicroBatches:
    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(st.randoms(use_true_random=False), st.integers(0, 10_000))
    def test_random_rule_sets_equal_batch(self, rng: random.Random, seed: int) -> None:
        """Several rules at once, with every aggregate, quiet hours and months, cut anywhere."""
        check_random_case(rng, seed)

    @pytest.mark.parametrize("block", range(4))
    def test_seeded_rule_sets_equal_batch(self, block: int) -> None:
        """The same over 400 fixed seeds (a wide, repeatable sweep)."""
        for seed in range(block * 100, (block + 1) * 100):
            check_random_case(random.Random(seed), seed)

    @pytest.mark.parametrize("block", range(2))
    def test_seeded_rule_sets_across_restarts(self, block: int, tmp_path: Any) -> None:
        """Random rule sets streamed in random cuts, the engine restarted from its SQLite
        snapshot after every call: batch's firings, none twice."""
        from cxmodel.triggers import SQLiteStore

        for seed in range(block * 40, (block + 1) * 40):
            rng = random.Random(50_000 + seed)
            rules = parse(random_rule_set(rng))
            recs = records(seed, rng.randint(5, 120), n_customers=rng.randint(1, 6), days=60)
            as_of = T0 + timedelta(days=rng.choice([10, 50, 100]))
            visible = [r for r in recs if r["timestamp"] <= as_of]
            path = tmp_path / f"s{seed}.db"
            got: list[Any] = []
            for start, stop in cuts(random.Random(seed), len(visible)):
                store = SQLiteStore(path)
                engine = TriggerEngine(rules, store=store)
                got.extend(engine.process_many([interaction(r) for r in visible[start:stop]]))
                store.close()
            store = SQLiteStore(path)
            got.extend(TriggerEngine(rules, store=store).advance_to(as_of))
            store.close()
            batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
            assert key(got) == key(batch), seed

    def test_state_is_bounded_by_customers_not_history(self) -> None:
        """Over a long stationary stream the six rules' state stops growing: the second half
        of the stream adds little to what the first half left, with batch's firings."""
        rules = parse(ACCEPTANCE)
        recs = records(17, 6000, n_customers=40, days=400)
        as_of = T0 + timedelta(days=410)
        engine = TriggerEngine(rules)
        got: list[Any] = []
        sizes = []
        for start in range(0, len(recs), 500):
            got.extend(engine.process_many([interaction(r) for r in recs[start : start + 500]]))
            sizes.append(engine.stats()["state_bytes"])
        got.extend(engine.advance_to(as_of))
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        assert key(got) == key(batch)
        half = sizes[len(sizes) // 2 - 1]
        assert sizes[-1] < 1.3 * half, sizes

    @pytest.mark.parametrize("block", range(2))
    def test_seeded_rule_sets_out_of_order(self, block: int) -> None:
        """Random rule sets over interactions up to two days out of order, three days of
        allowed lateness, micro-batches and single events mixed: batch's firings."""
        for seed in range(block * 100, (block + 1) * 100):
            rng = random.Random(10_000 + seed)
            rules = parse(random_rule_set(rng))
            recs = records(seed, rng.randint(5, 120), n_customers=rng.randint(1, 6), days=60)
            shuffled = sorted(
                recs, key=lambda r: r["timestamp"] + timedelta(hours=rng.randrange(48))
            )
            as_of = T0 + timedelta(days=rng.choice([10, 50, 100]))
            visible = [r for r in shuffled if r["timestamp"] <= as_of]
            in_order = sorted(visible, key=lambda r: r["timestamp"])
            batch = evaluate_complete(rules, InteractionLog.from_records(in_order), as_of=as_of)
            engine = TriggerEngine(rules, allowed_lateness="3 days")
            got: list[Any] = []
            size = rng.randint(1, 30)
            for start in range(0, len(visible), size):
                part = [interaction(r) for r in visible[start : start + size]]
                if rng.random() < 0.5:
                    got.extend(engine.process_many(part))
                else:
                    got.extend(f for one in part for f in engine.process(one))
            got.extend(engine.advance_to(as_of))
            assert engine.late == [] and key(got) == key(batch), seed

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(rules_text(), st.integers(0, 10_000), st.integers(5, 60))
    def test_any_cut_equals_batch(self, text: str, seed: int, n: int) -> None:
        """Logs, interaction lists and single events, cut anywhere, emit batch's firings."""
        rules = parse(text)
        recs = records(seed, n)
        as_of = T0 + timedelta(days=50)
        visible = [r for r in recs if r["timestamp"] <= as_of]
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        got = stream_in_batches(rules, visible, as_of, seed)
        assert key(got) == key(batch)

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(rules_text(), st.integers(0, 10_000), st.integers(5, 80), st.integers(1, 30))
    def test_late_micro_batches_equal_batch(self, text: str, seed: int, n: int, size: int) -> None:
        """Interactions up to two days out of order, in micro-batches of any size, with three
        days of allowed lateness, emit batch's firings over the same interactions in time order."""
        rules = parse(text)
        rng = random.Random(seed)
        shuffled = sorted(
            records(seed, n), key=lambda r: r["timestamp"] + timedelta(hours=rng.randrange(48))
        )
        as_of = T0 + timedelta(days=50)
        visible = [r for r in shuffled if r["timestamp"] <= as_of]
        in_order = sorted(visible, key=lambda r: r["timestamp"])
        batch = evaluate_complete(rules, InteractionLog.from_records(in_order), as_of=as_of)
        engine = TriggerEngine(rules, allowed_lateness="3 days")
        got: list[Any] = []
        for start in range(0, len(visible), size):
            got.extend(engine.process_many([interaction(r) for r in visible[start : start + size]]))
        got.extend(engine.advance_to(as_of))
        assert engine.late == []
        assert key(got) == key(batch)

    def test_columns_mapping(self) -> None:
        """A mapping of columns is read like InteractionLog.from_arrays."""
        engine = TriggerEngine(
            parse("trigger big:\n    when purchase as p where p.value > 100\n    emit a")
        )
        got = engine.process_many(
            {
                "customer_id": ["a", "b", "a"],
                "timestamp": [
                    "2024-01-01T00:00:00Z",
                    "2024-01-01T00:00:00Z",
                    "2024-01-02T00:00:00Z",
                ],
                "kind": ["purchase", "purchase", "view"],
                "value": [500.0, 50.0, None],
            }
        )
        assert isinstance(got, Firings)
        assert [(f.customer_id, f.action) for f in got] == [("a", "a")]

    def test_filtered_and_quarantined_logs_keep_their_input_order(self) -> None:
        """A log whose input positions have gaps (a filter, rejected rows) is delivered in
        input order, like the same interactions one by one."""
        recs = records(7, 300)
        rng = np.random.default_rng(3)
        shuffled = [recs[i] for i in rng.permutation(len(recs))]
        log = InteractionLog.from_records(shuffled)
        kept = log.filter(rng.random(len(log)) < 0.5)
        sparse = kept.filter(np.arange(len(kept)) % 9 == 0)  # input positions far apart
        rules = parse(ACCEPTANCE)
        for part in (log, kept, sparse):
            engine, again = (
                TriggerEngine(rules, allowed_lateness="400 days"),
                TriggerEngine(rules, allowed_lateness="400 days"),
            )
            one_call = engine.process_many(part)
            inputs = sorted(zip(part.row_order.tolist(), part.interactions(), strict=True))
            one_by_one = [f for _, i in inputs for f in again.process(i)]
            assert key(one_call) == key(one_by_one)
            as_of = T0 + timedelta(days=200)
            assert key(engine.advance_to(as_of)) == key(again.advance_to(as_of))

    @pytest.mark.parametrize("size", [700, 5000])
    def test_long_stream_six_rules(self, size: int) -> None:
        """12,000 interactions (the history index is rebuilt several times) streamed in
        micro-batches equal batch, firing for firing."""
        rng = np.random.default_rng(5)
        n, customers = 12_000, 900
        kinds = np.array(["view", "product_view", "purchase", "survey", "ticket_opened",
                          "consent_granted"], dtype=object)  # fmt: skip
        kind = kinds[rng.choice(6, n, p=[0.3, 0.3, 0.15, 0.1, 0.1, 0.05])]
        ts = np.sort(np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
                     + rng.integers(0, 200 * 86_400, n) * 1_000_000)  # fmt: skip
        survey = kind == "survey"
        cols = {
            "customer_id": np.array([f"c{i}" for i in rng.integers(0, customers, n)], dtype=object),
            "timestamp": ts.astype("datetime64[us]"),
            "kind": kind,
            "value": np.where(kind == "purchase", rng.gamma(2.0, 60.0, n), np.nan),
            "metric": np.where(survey, "nps", None).astype(object),
            "score": np.where(survey, rng.integers(0, 11, n).astype(float), np.nan),
            "product": np.array(["p1", "p2", "p3"], dtype=object)[rng.integers(0, 3, n)],
            "order_id": np.array([f"o{i}" for i in rng.integers(0, 3000, n)], dtype=object),
            "topic": np.array(["payment", "delivery"], dtype=object)[rng.integers(0, 2, n)],
            "purpose": np.where(kind == "consent_granted", "marketing", None).astype(object),
        }
        rules = parse(ACCEPTANCE)
        as_of = "2024-08-01T00:00:00Z"
        batch = evaluate_complete(rules, InteractionLog.from_arrays(**cols), as_of=as_of)
        engine = TriggerEngine(rules)
        got: list[Any] = []
        for start in range(0, n, size):
            part = {k: v[start : start + size] for k, v in cols.items()}
            got.extend(engine.process_many(InteractionLog.from_arrays(**part)))
        got.extend(engine.advance_to(as_of))
        assert len(batch) > 500
        assert key(got) == key(batch)

    def test_repeated_ids_in_and_across_calls(self) -> None:
        """An interaction re-delivered (its id and time) after it was taken, or twice in one
        call, is processed once; another interaction under its id (another time) is refused
        and kept with its reason."""
        from cxmodel.domain import Interaction

        engine = TriggerEngine(parse("trigger p:\n    when purchase as p\n    emit thanks"))
        first = Interaction("a", "2024-01-01T00:00:00Z", "purchase", interaction_id="i1")
        again = Interaction("a", "2024-01-01T00:00:00Z", "purchase", interaction_id="i1")
        other = Interaction("a", "2024-01-03T00:00:00Z", "purchase", interaction_id="i2")
        reused = Interaction("a", "2024-01-01T12:00:00Z", "purchase", interaction_id="i1")
        assert len(engine.process_many([first, again])) == 1
        with pytest.warns(DataWarning, match="'i1' of customer 'a'"):
            assert len(engine.process_many([reused])) == 0
        assert len(engine.process_many([again, other])) == 1
        assert engine.stats()["duplicates_ignored"] == 2
        assert [q.record["timestamp"] for q in engine.store.rejected()] == [
            "2024-01-01T12:00:00+00:00"
        ]
        assert [
            f.because["when"]["interaction_id"] for f in engine.advance_to("2024-02-01T00:00:00Z")
        ] == []

    def test_sqlite_restarts_with_redelivered_micro_batches(self, tmp_path: Any) -> None:
        """Three runs on one SQLite file, each re-delivering part of the last: every batch
        firing once, none twice."""
        from cxmodel.triggers import SQLiteStore

        rules = parse(ACCEPTANCE)
        recs = records(3, 400, n_customers=6, days=120)
        as_of = T0 + timedelta(days=130)
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        path = tmp_path / "state.db"
        for start, stop, as_log in ((0, 150, False), (100, 300, False), (250, 400, True)):
            store = SQLiteStore(path)
            engine = TriggerEngine(rules, store=store, redelivery_window=REDELIVERY)
            part = recs[start:stop]
            engine.process_many(
                InteractionLog.from_records(part) if as_log else [interaction(r) for r in part]
            )
            if stop == len(recs):
                engine.advance_to(as_of)
            ids = [f.firing_id for f in store.firings()]
            store.close()
        assert len(ids) == len(set(ids)) == len(batch) > 50
        assert set(ids) == batch.ids()

    def test_out_of_order_micro_batches_within_lateness(self) -> None:
        """Micro-batches shuffled within two days, with three days of allowed lateness, emit
        the batch result of the same interactions in time order."""
        rules = parse(ACCEPTANCE)
        recs = records(3, 400, n_customers=6, days=120)
        rng = random.Random(1)
        shuffled = sorted(recs, key=lambda r: r["timestamp"] + timedelta(hours=rng.randrange(48)))
        in_order = sorted(shuffled, key=lambda r: r["timestamp"])
        as_of = T0 + timedelta(days=130)
        batch = evaluate_complete(rules, InteractionLog.from_records(in_order), as_of=as_of)
        engine = TriggerEngine(rules, allowed_lateness="3 days")
        got: list[Any] = []
        for start in range(0, len(shuffled), 37):
            got.extend(engine.process_many([interaction(r) for r in shuffled[start : start + 37]]))
        got.extend(engine.advance_to(as_of))
        assert engine.late == [] and len(batch) > 50
        assert key(got) == key(batch)


class TestRepeatsWithinAPoll:
    """A poll that holds a message twice, or two customers' interactions with the same id:
    every input form gives what processing the records one by one gives."""

    RULES = parse("trigger p:\n    when purchase as p\n    emit thanks(v = p.value)")

    @staticmethod
    def recs() -> list[dict[str, Any]]:
        return [
            {"customer_id": c, "timestamp": f"2024-01-01T0{h}:00:00Z", "kind": "purchase",
             "interaction_id": ident, "value": float(h)}
            for c, h, ident in (("a", 1, "1"), ("b", 1, "1"), ("a", 2, "2"), ("b", 3, "9"))
        ]  # fmt: skip

    @pytest.mark.parametrize("lateness", [0, "1 hours"], ids=["in-order", "buffered"])
    def test_every_form_equals_one_by_one(self, lateness: Any) -> None:
        """The poll twice over, in records, objects and columns (a log refuses an id twice,
        so it is not a form of this poll), and one by one: the same firings, and the same
        repeats ignored. Before, the columns raised a RowSchemaError for the repeated id,
        and ``b``'s interaction with ``a``'s id was ignored as a repeat whenever ``a``'s
        was still waiting in the same call or the lateness buffer."""
        poll = self.recs() * 2
        one = TriggerEngine(self.RULES, allowed_lateness=lateness, max_future=None)
        expected = [f for r in poll for f in one.process(r)]
        expected += one.advance_to("2024-01-02T00:00:00Z")
        assert sorted(f.customer_id for f in expected) == ["a", "a", "b", "b"]
        for form in ("records", "interactions", "columns"):
            engine = TriggerEngine(self.RULES, allowed_lateness=lateness, max_future=None)
            got = [*engine.process_many(_poll_as(poll, form))]
            got += engine.advance_to("2024-01-02T00:00:00Z")
            assert key(got) == key(expected), form
            assert engine.duplicates == one.duplicates == 4, form

    def test_one_id_for_two_customers_across_a_restart(self, tmp_path: Any) -> None:
        """Ids are per customer: ``b``'s id that ``a`` also used, buffered when the engine
        restarts, is processed after it, and ``a``'s re-delivery is still ignored."""
        from cxmodel.triggers import SQLiteStore

        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(self.RULES, store=store, allowed_lateness="1 hours")
        got = [*engine.process_many(self.recs()[:2])]
        store.close()
        store = SQLiteStore(tmp_path / "s.db")
        engine = TriggerEngine(self.RULES, store=store, allowed_lateness="1 hours")
        got += engine.process_many(self.recs())
        got += engine.advance_to("2024-01-02T00:00:00Z")
        store.close()
        assert sorted(f.customer_id for f in got) == ["a", "a", "b", "b"]


def _poll_as(recs: list[dict[str, Any]], form: str) -> Any:
    if form == "interactions":
        return [interaction(r) for r in recs]
    if form == "columns":
        return {name: [r[name] for r in recs] for name in recs[0]}
    return recs
