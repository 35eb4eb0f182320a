"""State stores: the contract the in-memory store keeps (round trips, outbox, forget, one
engine at a time), and rebuilding firings from their stored form."""

from __future__ import annotations

import copy
import gc
import json
import math
import threading
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, StoreError, ValueTypeError
from cxmodel.triggers import (
    Firing,
    InMemoryStore,
    Quarantined,
    StateChange,
    StoredState,
    TriggerEngine,
    parse,
)
from cxmodel.triggers._store import _Columns, commit, firing_from_dict
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


# -- the outbox keeps what was emitted ------------------------------------------------------------
PURCHASE = parse("trigger t:\n    when purchase as p\n    emit x(value = p.value, flag = p.flag)")


def purchase(n: int, value: Any = 1.5, flag: Any = True, customer: str = "c1") -> dict[str, Any]:
    return {"customer_id": customer, "kind": "purchase", "interaction_id": f"i{n}",
            "timestamp": T0 + timedelta(minutes=n), "value": value, "flag": flag}  # fmt: skip


def snapshot(firings: Any) -> list[Firing]:
    """Copies of ``firings``, nothing shared with them."""
    return [copy.deepcopy(f) for f in firings]


def shown(value: Any) -> str:
    """``repr`` of a value: its types show (``True`` and ``1``, ``1.0`` and ``1``, ``-0.0``,
    ``nan``), as ``==`` does not show them."""
    return repr(value)


def kept_firing(n: int, payload: dict[str, Any], **fields: Any) -> Firing:
    return attrs_evolve(firing(n), payload=payload, **fields)


class Opaque:
    """A host's own value in a payload."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.n == self.n

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n})"

    __hash__ = None  # type: ignore[assignment]


class TestTheOutboxKeepsWhatWasEmitted:
    """The in-memory outbox keeps each firing as pickled data: what the host does to the
    firings it was returned changes nothing kept, and each read returns new objects equal,
    value and type, to those emitted."""

    @staticmethod
    def engine(**kwargs: Any) -> TriggerEngine:
        return TriggerEngine(PURCHASE, max_future=None, **kwargs)

    def test_changing_a_returned_firing_changes_nothing_kept(self) -> None:
        engine = self.engine()
        out = engine.process(purchase(0)) + engine.process(purchase(1, 2.5, False))
        want = snapshot(out)
        out[0].payload["value"] = 99.0
        out[0].because["when"]["kind"] = "changed"
        out[1].because["when"].clear()
        out[1].payload.clear()
        store = engine.store
        assert store.pending() == store.firings() == want
        read = store.pending()
        read[0].payload["flag"] = "changed"
        read[0].because.clear()
        assert store.pending() == want and store.pending()[0] is not store.pending()[0]

    def test_pending_equals_what_process_returned_types_too(self) -> None:
        """Floats stay floats (-0.0 too), true/false stay bools, text stays text; times are
        the same UTC datetimes; ids and reasons the same."""
        engine = self.engine()
        out = []
        for n, (value, flag) in enumerate([(1.5, True), (-0.0, False), (3, 1), (None, "é")]):
            out += engine.process(purchase(n, value, flag))
        got = engine.store.pending()
        assert got == out and list(map(shown, got)) == list(map(shown, out))
        assert all(f.time.tzinfo is timezone.utc for f in got)
        assert math.copysign(1.0, got[1].payload["value"]) == -1.0
        assert [type(f.payload["flag"]) for f in got] == [bool, bool, float, str]

    def test_values_as_committed_round_trip(self) -> None:
        """A firing committed as it is: nested dicts and lists, ints and floats, NaN, -0.0,
        text, bytes, tuples and a suppressed firing's reason, kept and read back alike."""
        payload = {"i": 1, "f": 1.0, "b": True, "z": -0.0, "nan": math.nan, "big": 2**70,
                   "t": ("a", 1), "raw": b"\x00", "n": None, "nested": {"l": [1, [2.0]]}}  # fmt: skip
        kept = [
            kept_firing(1, payload, because={"when": {"values": {"k": [None, False]}}}),
            kept_firing(2, {}, reason="quiet hours"),
        ]
        store = InMemoryStore()
        store.open()
        store.commit(StateChange({}, {}, firings=kept))
        got = store.pending()
        assert list(map(shown, got)) == list(map(shown, kept))
        assert math.copysign(1.0, got[0].payload["z"]) == -1.0

    def test_dropping_as_before(self) -> None:
        """prune (by time), forget (by customer), acknowledge and max_kept drop the same
        firings as before (a firing holding a host's own object among them)."""
        store = InMemoryStore(max_kept=None)
        store.open()
        firings = [
            kept_firing(n, {"n": n, "odd": Opaque(n) if n % 3 == 0 else n}, customer_id=f"c{n % 2}")
            for n in range(12)
        ]
        store.commit(StateChange({}, {}, firings=firings))
        store.acknowledge([f"f{n}" for n in range(0, 12, 2)] + ["unknown"])
        assert [f.firing_id for f in store.pending()] == [f"f{n}" for n in range(1, 12, 2)]
        assert store.prune(before=T0 + timedelta(hours=5)) == 3  # f0, f2, f4
        store.forget("c1", {})
        assert [f.firing_id for f in store.firings()] == ["f6", "f8", "f10"]
        assert store.firings() == [firings[n] for n in (6, 8, 10)]
        assert store.prune() == 3 and store.firings() == []
        limited = InMemoryStore(max_kept=4)
        limited.open()
        for f in firings[:6]:
            limited.commit(StateChange({}, {}, firings=[f]))
        # past 4, down to 2 (then the newest call's): f3, f4 kept, then f5 added
        assert limited.firings() == firings[3:6] and limited.take_dropped() == (3, 0, 0)

    def test_values_of_any_type_come_back_as_they_were(self) -> None:
        """A host's own object, numpy numbers and arrays, a bytearray, a time of another
        zone: read back equal and of the same types, apart from the firing committed."""
        other_zone = datetime(2024, 1, 1, 3, tzinfo=timezone(timedelta(hours=3)))
        kept = [
            kept_firing(1, {"own": Opaque(1)}),
            kept_firing(2, {"np": np.float64(2.5), "arr": [np.int64(3)], "a": np.arange(2)}),
            kept_firing(3, {"raw": bytearray(b"ab")}),
            kept_firing(4, {}, time=other_zone),
        ]
        store = InMemoryStore()
        store.open()
        store.commit(StateChange({}, {}, firings=kept))
        want = list(map(shown, kept))
        kept[0].payload["own"].n = 5
        kept[1].payload["a"][0] = 9
        kept[2].payload["raw"].append(0)
        got = store.pending()
        assert list(map(shown, got)) == want
        assert type(got[1].payload["np"]) is np.float64 and got[3].time is other_zone
        got[0].payload["own"].n = 7
        assert list(map(shown, store.pending())) == want
        store.acknowledge(["f4"])
        assert store.prune(before=other_zone + timedelta(microseconds=1)) == 1

    def test_a_value_pickle_cannot_write_is_kept_as_a_copy(self) -> None:
        """An object of a class defined in a function: the firing is kept as a deep copy,
        read back as a new copy each time, dropped by time and customer as the others."""

        class Local(Opaque):
            pass

        kept = [kept_firing(1, {"own": Local(1)}), kept_firing(2, {"own": Local(2)})]
        store = InMemoryStore()
        store.open()
        store.commit(StateChange({}, {}, firings=kept))
        want = list(map(shown, kept))
        kept[0].payload["own"].n = 5
        got = store.pending()
        assert list(map(shown, got)) == want and got[1].payload["own"] is not kept[1].payload["own"]
        got[1].payload.clear()
        assert list(map(shown, store.pending())) == want
        store.acknowledge(["f1", "f2"])
        assert store.prune(before=T0 + timedelta(hours=2)) == 1
        store.forget("c1", {})
        assert store.firings() == []

    def test_a_value_that_cannot_be_copied_is_kept_as_it_is(self) -> None:
        """Neither pickle nor a deep copy can take it (a lock): the store keeps the firing
        itself, as it kept every firing before."""
        original = kept_firing(1, {"lock": threading.Lock()})
        store = InMemoryStore()
        store.open()
        store.commit(StateChange({}, {}, firings=[original]))
        assert store.pending()[0] is original

    def test_a_large_micro_batch_kept_as_columns(self) -> None:
        """process_many of 1,200 interactions hands its firings over as columns: kept so
        until read, then read back equal to what the call returned, whatever the host did to
        the rows it read first."""
        engine = self.engine()
        records = [purchase(n, n / 4, n % 2 == 0, f"c{n % 50}") for n in range(1_200)]
        out = engine.process_many(records)
        want = snapshot(out)
        store = engine.store
        assert isinstance(store, InMemoryStore) and len(want) == 1_200
        assert any(isinstance(part, _Columns) for part in store._pending)
        out[0].payload["value"] = "changed"
        out[-1].because.clear()
        engine.process(purchase(5_000, 1.0, True))
        got = store.pending()
        assert got[:-1] == want and list(map(shown, got[:-1])) == list(map(shown, want))
        assert not store._pending and store.pending() == got
        assert gc.isenabled()  # paused while the 1,201 were built, and resumed

    @settings(max_examples=60, deadline=None)
    @given(
        st.dictionaries(
            st.text(max_size=4),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
                ),
                max_leaves=12,
            ),
            max_size=4,
        )
    )
    def test_any_plain_payload_round_trips(self, payload: dict[str, Any]) -> None:
        """Payloads of any JSON-like shape (NaN, -0.0, big ints, nesting) come back as they
        were, types and key order included, and apart from the host's copy."""
        original = kept_firing(1, payload, because={"when": {"values": payload}})
        want = shown(original)
        store = InMemoryStore()
        store.open()
        store.commit(StateChange({}, {}, firings=[original]))
        original.payload.clear()
        got = store.pending()
        assert [shown(f) for f in got] == [want]
