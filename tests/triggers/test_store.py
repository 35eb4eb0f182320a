"""State stores: the contract the in-memory store keeps (round trips, outbox, forget, one
engine at a time), and rebuilding firings from their stored form."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import DataWarning, StoreError, ValueTypeError
from cxmodel.triggers import (
    InMemoryStore,
    Quarantined,
    StateChange,
    StoredState,
    TriggerEngine,
    parse,
)
from cxmodel.triggers._store import commit, firing_from_dict
from tests.triggers.stores import T0, StoreContract, attrs_evolve, firing


class TestInMemoryStore(StoreContract):
    """InMemoryStore keeps the contract and references, not copies."""

    def make(self, tmp_path: Path) -> InMemoryStore:
        return InMemoryStore()

    def reopen(self, store: Any) -> tuple[Any, StoredState]:
        store.close()
        return store, store.open()

    def test_commit_neither_copies_nor_serialises(self) -> None:
        """Values that JSON cannot hold are accepted and the same objects come back."""
        store = InMemoryStore()
        store.open()
        meta = {"opaque": object()}
        state = {"array": np.arange(3), "set": {1, 2}}
        store.commit(StateChange(meta=meta, customers={"c1": state}))
        store.close()
        again = store.open()
        assert again.meta["opaque"] is meta["opaque"]
        assert again.customers["c1"] is state

    def test_open_hands_out_its_own_dicts(self) -> None:
        """Adding to the dicts open() returned does not change the store."""
        store = InMemoryStore()
        store.open().customers["intruder"] = {}
        store.close()
        assert StoredState({}, {}) == store.open()


class TestAnEngineWhoseInMemoryStoreWasClosed:
    """An in-memory store is shared by the engines that open it one after the other: the
    engine whose store was closed takes no more calls (a ``StoreError`` before anything
    changes), so that it never changes the state, or adds to the outbox, of the engine that
    opened the store after it; a ``SQLiteStore`` refuses an engine on a closed store alike."""

    RULES = parse("trigger t:\n    when view\n    emit x")

    @staticmethod
    def record(day: int, customer: str = "a") -> dict[str, Any]:
        return {"customer_id": customer, "timestamp": f"2024-01-{day:02d}T00:00:00Z",
                "kind": "view"}  # fmt: skip

    @pytest.mark.parametrize("reopened", [False, True])
    @pytest.mark.parametrize(
        "call",
        [
            lambda e, r: e.process(r),
            lambda e, r: e.process_many([r]),
            lambda e, r: e.advance_to("2024-02-01T00:00:00Z"),
            lambda e, r: e.forget("a"),
            lambda e, r: e.add_rule(parse("trigger u:\n    when view\n    emit y").rules[0]),
        ],
        ids=["process", "process_many", "advance_to", "forget", "add_rule"],
    )
    def test_is_refused(self, call: Any, reopened: bool) -> None:
        store = InMemoryStore()
        first = TriggerEngine(self.RULES, store=store, max_future=None)
        assert [f.customer_id for f in first.process(self.record(1))] == ["a"]
        store.close()
        second = TriggerEngine(self.RULES, store=store, max_future=None) if reopened else None
        before = first.stats()
        with pytest.raises(StoreError, match="InMemoryStore was closed"):
            call(first, self.record(2, "b"))
        assert first.stats() == before
        if second is not None:  # its state and outbox are as it left them
            assert [f.customer_id for f in second.process(self.record(3))] == ["a"]
            assert [f.customer_id for f in store.pending()] == ["a", "a"]
            assert second.stats()["customers"] == 1
        else:  # the store holds what the first engine committed before it was closed
            assert list(store.open().customers) == ["a"]
            assert [f.customer_id for f in store.pending()] == ["a"]

    def test_the_engine_that_holds_it_goes_on(self) -> None:
        store = InMemoryStore()
        engine = TriggerEngine(self.RULES, store=store, max_future=None)
        for day in (1, 2):
            engine.process(self.record(day))
        assert store.holder() == 1 and len(store.pending()) == 2


class TestInMemoryLimit:
    """``InMemoryStore(max_kept=...)``: past the limit the oldest half of the firings, late
    or refused interactions are dropped and counted, so that a host that never
    acknowledges, prunes or takes them keeps bounded memory."""

    @staticmethod
    def opened(most: int | None) -> InMemoryStore:
        store = InMemoryStore(max_kept=most)
        store.open()
        return store

    def test_the_newest_firings_are_kept(self) -> None:
        store = self.opened(10)
        store.commit(StateChange(meta={}, customers={}, firings=[firing(n) for n in range(4)]))
        store.acknowledge(["f0", "f3"])
        for first in (4, 8):
            store.commit(
                StateChange(
                    meta={}, customers={}, firings=[firing(n) for n in range(first, first + 4)]
                )
            )
        assert [f.firing_id for f in store.firings()] == [f"f{n}" for n in range(7, 12)]
        assert store.take_dropped() == (7, 0, 0)
        assert (store.take_dropped(), store.dropping) == ((0, 0, 0), False)
        assert store.prune() == 0  # the acknowledged ones went with the oldest
        assert len(store.pending()) == 5

    def test_the_newest_set_aside_interactions_are_kept(self) -> None:
        store = self.opened(4)
        late = [Quarantined({"interaction_id": f"i{n}", "n": n}, "late", "c") for n in range(5)]
        store.commit(StateChange(meta={}, customers={}, late=late, rejected=late[:3]))
        assert [q.record["n"] for q in store.late()] == [3, 4]
        assert set(store.kept_late({("c", "i0"), ("c", "i4")})) == {("c", "i4")}
        assert len(store.rejected()) == 3  # under the limit
        assert store.take_dropped() == (0, 3, 0)
        at = "2024-05-03T00:00:00+00:00"
        refused = [
            Quarantined({"timestamp": at, "interaction_id": f"i{n}"}, "refused", "c")
            for n in range(5)
        ]
        store.commit(StateChange(meta={}, customers={}, rejected=refused))
        assert [q.record.get("interaction_id") for q in store.rejected()] == ["i3", "i4"]
        assert set(store.kept_rejected({("c", "i0", at), ("c", "i4", at)})) == {("c", "i4", at)}

    def test_no_limit(self) -> None:
        store = self.opened(None)
        store.commit(StateChange(meta={}, customers={}, firings=[firing(n) for n in range(50)]))
        assert (len(store.firings()), store.take_dropped()) == (50, (0, 0, 0))

    @pytest.mark.parametrize("most", [0, 1, -5, 2.5, "10", True])
    def test_a_limit_that_is_not_a_count_is_refused(self, most: Any) -> None:
        with pytest.raises(ValueTypeError, match="max_kept must be an integer of at least 2"):
            InMemoryStore(max_kept=most)

    @pytest.mark.parametrize("columnar", [None, 1], ids=["per-interaction", "columnar"])
    def test_an_engine_warns_and_returns_every_firing(self, columnar: int | None) -> None:
        """Every firing is returned as without a limit; the store keeps the newest; each call
        that dropped some warns with the counts."""
        rules = parse("trigger t:\n    when purchase\n    emit x")
        recs = [
            {"customer_id": f"c{n % 7}", "kind": "purchase", "interaction_id": f"i{n}",
             "timestamp": T0 + timedelta(minutes=n)}
            for n in range(600)
        ]  # fmt: skip
        got: dict[int | None, list[str]] = {}
        for most in (100, None):
            engine = TriggerEngine(rules, store=InMemoryStore(max_kept=most), max_future=None)
            engine._columnar_from = columnar
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataWarning)
                ids = [
                    f.firing_id
                    for n in range(0, 600, 200)
                    for f in engine.process_many(recs[n : n + 200])
                ]
            got[most] = ids
            kept = [f.firing_id for f in engine.store.firings()]
            if most is None:
                assert (kept, caught) == (ids, [])
            else:
                assert 50 <= len(kept) <= 100 and kept == ids[-len(kept) :]
                dropped = sum(w.message.counts["firings"] for w in caught)
                assert dropped == len(ids) - len(kept)
                assert "dropped its oldest" in str(caught[0].message)
        assert got[100] == got[None]


class TestCommit:
    @pytest.mark.parametrize(
        "failure",
        [
            pytest.param(StoreError("the disk is full"), id="store-error"),
            pytest.param(OSError("the disk is full"), id="host-store-error"),
        ],
    )
    def test_a_failure_is_a_store_error(self, failure: Exception) -> None:
        """A store of the host's own that fails with another exception gives a StoreError
        with it as the cause; a StoreError is raised as it is."""

        class Failing(InMemoryStore):
            def commit(self, change: StateChange) -> None:
                raise failure

        with pytest.raises(StoreError, match="the disk is full") as info:
            commit(Failing(), StateChange(meta={}, customers={}))
        assert (info.value is failure) == isinstance(failure, StoreError)
        assert isinstance(failure, StoreError) or info.value.__cause__ is failure

    def test_commits(self) -> None:
        """Without a failure the change is the store's."""
        store = InMemoryStore()
        store.open()
        commit(store, StateChange(meta={"m": 1}, customers={}))
        store.close()
        assert store.open().meta == {"m": 1}


class TestFiringFromDict:
    """firing_from_dict rebuilds what Firing.to_dict wrote."""

    def test_round_trip_through_json(self) -> None:
        """to_dict, JSON text and back give an equal firing (suppressed ones too)."""
        original = attrs_evolve(firing(4, "c9", text="é"), reason="quiet hours")
        assert original == firing_from_dict(json.loads(json.dumps(original.to_dict())))
