"""Helpers of the state-store tests: firings, set-aside interactions and a full change to
commit, and the contract every store keeps (inherited by each store's test class)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import cxmodel
from cxmodel.errors import StoreError, ValueTypeError
from cxmodel.triggers import (
    Firing,
    Quarantined,
    StateChange,
    StateStore,
    StoredState,
)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
SRC = str(Path(cxmodel.__file__).resolve().parents[1])


def firing(n: int, customer: str = "c1", **payload: Any) -> Firing:
    """A firing ``f<n>`` for ``customer``, ``n`` hours after T0."""
    return Firing(
        trigger="churn_risk",
        customer_id=customer,
        time=T0 + timedelta(hours=n),
        action="alert",
        payload={"n": n, **payload},
        because={"when": [{"kind": "view", "interaction_id": f"i{n}"}]},
        firing_id=f"f{n}",
    )


def quarantined(n: int, customer: str | None = "c1", reason: str = "late") -> Quarantined:
    """A set-aside interaction for ``customer``."""
    record = {"customer_id": customer, "timestamp": (T0 + timedelta(minutes=n)).isoformat()}
    return Quarantined({**record, "kind": "view", "n": n}, f"{reason} #{n}", customer)


def full_change() -> StateChange:
    """A change touching every part of the state."""
    return StateChange(
        meta={"watermark": 1_700_000_000_000_000, "arrivals": 3, "rules": ["a", "b"]},
        customers={
            "c1": {"last": 5, "window": [1, 2, 3], "score": 0.25, "seen": None},
            "c2": {"last": 7, "flags": {"vip": True}, "name": "Zoë ☃"},
        },
        firings=[firing(1, "c1"), firing(2, "c2"), firing(3, "c1")],
        late=[quarantined(1, "c1"), quarantined(2, "c2")],
        rejected=[quarantined(3, None, "no timestamp")],
    )


# -- the contract, for both stores ------------------------------------------------------------
class StoreContract:
    """Behaviour every store keeps; subclasses say how to make and reopen one."""

    def make(self, tmp_path: Path) -> Any:
        raise NotImplementedError

    def reopen(self, store: Any) -> tuple[Any, StoredState]:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Any]:
        store = self.make(tmp_path)
        yield store
        store.close()

    def test_satisfies_the_protocol(self, store: Any) -> None:
        """The store is a StateStore (runtime-checkable protocol)."""
        assert isinstance(store, StateStore)

    def test_new_store_opens_empty(self, store: Any) -> None:
        """A new store hands the engine an empty meta and no customers, and holds nothing."""
        expected = StoredState(meta={}, customers={})
        assert expected == store.open()
        assert [] == store.firings() == store.pending() == store.late() == store.rejected()

    def test_round_trip_across_close_and_reopen(self, store: Any) -> None:
        """Meta, customers, firings, late and rejected come back as committed."""
        store.open()
        change = full_change()
        store.commit(change)
        store, state = self.reopen(store)
        try:
            expected = StoredState(dict(change.meta), dict(change.customers))
            assert expected == state
            assert list(change.firings) == store.firings()
            assert list(change.late) == store.late()
            assert list(change.rejected) == store.rejected()
        finally:
            store.close()

    def test_commits_accumulate_and_meta_is_replaced(self, store: Any) -> None:
        """Later commits update customers, replace meta and append to the outbox."""
        store.open()
        store.commit(full_change())
        store.commit(
            StateChange(
                meta={"watermark": 2},
                customers={"c1": {"last": 9}, "c3": {"last": 1}},
                firings=[firing(4, "c3")],
                late=[quarantined(4, "c3")],
            )
        )
        store, state = self.reopen(store)
        try:
            expected_customers = {
                "c1": {"last": 9},
                "c2": full_change().customers["c2"],
                "c3": {"last": 1},
            }
            assert StoredState({"watermark": 2}, expected_customers) == state
            expected_ids: list[str] = ["f1", "f2", "f3", "f4"]
            assert expected_ids == [f.firing_id for f in store.firings()]
            expected = [1, 2, 4]
            assert expected == [q.record["n"] for q in store.late()]
        finally:
            store.close()

    def test_pending_a_page_at_a_time(self, store: Any) -> None:
        """``pending(limit=n)``: the first ``n`` firings not acknowledged, in emission order;
        a limit that is not a count of at least 1 is refused."""
        store.open()
        store.commit(full_change())
        store.acknowledge(["f1"])
        assert [f.firing_id for f in store.pending(limit=1)] == ["f2"]
        assert [f.firing_id for f in store.pending(limit=5)] == ["f2", "f3"]
        assert store.pending(limit=None) == store.pending()
        for bad in (0, -1, 1.5, "2", True):
            with pytest.raises(ValueTypeError, match="limit must be an integer of at least 1"):
                store.pending(limit=bad)

    def test_taking_set_aside_interactions_deletes_them(self, store: Any) -> None:
        """``take_late`` / ``take_rejected`` return what the commits set aside, in commit
        order, and the store keeps them no longer (across a reopen too); a late interaction
        taken is no longer among those kept (``kept_late``)."""
        store.open()
        store.commit(full_change())
        with_id = quarantined(4, "c3")
        with_id = Quarantined({**with_id.record, "interaction_id": "i4"}, "late", "c3")
        store.commit(StateChange(meta={}, customers={}, late=[with_id]))
        assert {("c3", "i4")} == set(store.kept_late({("c3", "i4")}))
        assert [q.record["n"] for q in store.take_late()] == [1, 2, 4]
        assert [] == store.late() == store.take_late()
        assert not set(store.kept_late({("c3", "i4")}))
        assert list(full_change().rejected) == store.take_rejected()
        assert store.rejected() == []
        store.commit(StateChange(meta={}, customers={}, late=[quarantined(5, "c1")]))
        store, _ = self.reopen(store)
        try:
            assert [q.record["n"] for q in store.late()] == [5]
            assert store.rejected() == []
            assert list(full_change().firings) == store.firings()  # firings are not taken
        finally:
            store.close()

    def test_none_deletes_a_customer(self, store: Any) -> None:
        """A customer mapped to None loses its state row; deleting an unknown one is a no-op."""
        store.open()
        store.commit(full_change())
        store.commit(StateChange(meta={"m": 1}, customers={"c1": None, "nobody": None}))
        store, state = self.reopen(store)
        try:
            assert {"c2": full_change().customers["c2"]} == state.customers
            expected_count: int = 3  # firings are not customer state
            assert expected_count == len(store.firings())
        finally:
            store.close()

    def test_firing_already_in_the_outbox_is_ignored(self, store: Any) -> None:
        """A repeated firing id keeps the first firing, in its place."""
        store.open()
        store.commit(StateChange({}, {}, firings=[firing(1), firing(2)]))
        again = attrs_evolve(firing(1), action="other")
        store.commit(StateChange({}, {}, firings=[again, firing(3)]))
        assert [firing(1), firing(2), firing(3)] == store.firings()

    def test_pending_acknowledge(self, store: Any) -> None:
        """Acknowledged firings leave pending but stay in the outbox; unknown ids are ignored;
        a single id may be given as a string."""
        store.open()
        store.commit(StateChange({}, {}, firings=[firing(n) for n in range(1, 6)]))
        store.acknowledge(["f2", "f4", "no-such-firing"])
        store.acknowledge("f5")
        expected_ids: list[str] = ["f1", "f3"]
        assert expected_ids == [f.firing_id for f in store.pending()]
        expected_ids = ["f1", "f2", "f3", "f4", "f5"]
        assert expected_ids == [f.firing_id for f in store.firings()]
        store.acknowledge(iter(["f1", "f3"]))
        expected_ids = []
        assert expected_ids == store.pending()

    def test_prune_drops_acknowledged_firings_only(self, store: Any) -> None:
        """prune() deletes acknowledged firings and returns how many; pending ones stay."""
        store.open()
        store.commit(StateChange({}, {}, firings=[firing(n) for n in range(1, 6)]))
        store.acknowledge(["f1", "f3", "f4"])
        expected_count: int = 3
        assert expected_count == store.prune()
        expected_ids: list[str] = ["f2", "f5"]
        assert expected_ids == [f.firing_id for f in store.firings()]
        expected_ids = ["f2", "f5"]
        assert expected_ids == [f.firing_id for f in store.pending()]
        expected_count = 0
        assert expected_count == store.prune()

    def test_prune_before_a_time(self, store: Any) -> None:
        """prune(before=t) deletes only acknowledged firings whose time is strictly before t."""
        store.open()
        store.commit(StateChange({}, {}, firings=[firing(n) for n in range(1, 6)]))
        store.acknowledge(["f1", "f2", "f3", "f5"])
        expected_count: int = 1  # f1 (f2 is at the limit)
        assert expected_count == store.prune(before=T0 + timedelta(hours=2))
        expected_count = 1  # f2
        assert expected_count == store.prune(
            before=(T0 + timedelta(hours=2, minutes=1)).isoformat()
        )
        expected_ids: list[str] = ["f3", "f4", "f5"]
        assert expected_ids == [f.firing_id for f in store.firings()]
        expected_count = 2
        assert expected_count == store.prune()
        expected_ids = ["f4"]
        assert expected_ids == [f.firing_id for f in store.firings()]

    def test_forget_drops_everything_about_the_customer(self, store: Any) -> None:
        """forget removes the customer's state, firings (acknowledged or not), late and
        rejected interactions, and replaces meta; other customers keep theirs."""
        store.open()
        store.commit(full_change())
        store.commit(StateChange({}, {}, rejected=[quarantined(5, "c1"), quarantined(6, "c2")]))
        store.acknowledge(["f1"])
        store.forget("c1", {"watermark": 9})
        assert [firing(2, "c2")] == store.firings() == store.pending()
        assert [quarantined(2, "c2")] == store.late()
        assert [quarantined(3, None, "no timestamp"), quarantined(6, "c2")] == store.rejected()
        store, state = self.reopen(store)
        try:
            assert StoredState({"watermark": 9}, {"c2": full_change().customers["c2"]}) == state
        finally:
            store.close()

    def test_second_open_is_refused(self, store: Any) -> None:
        """A store open by one engine refuses a second open until it is closed."""
        store.open()
        with pytest.raises(StoreError, match="already open"):
            store.open()
        store.close()
        assert StoredState({}, {}) == store.open()

    def test_close_twice_is_harmless(self, store: Any) -> None:
        """close() may be called again."""
        store.open()
        store.close()
        store.close()


def attrs_evolve(f: Firing, **changes: Any) -> Firing:
    """A copy of ``f`` with ``changes``."""
    import attrs

    return attrs.evolve(f, **changes)

    def test_kept_late_names_the_late_interactions_kept(self, store: Any) -> None:
        """kept_late answers which (customer, interaction id) pairs are kept as late, across
        a reopening, and forgets a customer's with the customer; an interaction without an
        id, a rejected one or another customer's with the same id is not among them."""
        late = [
            Quarantined({"interaction_id": "e1"}, "late", "c1"),
            Quarantined({"interaction_id": "e2"}, "late", None),  # a catalogue event
            Quarantined({"kind": "view"}, "late", "c1"),
        ]
        rejected = [Quarantined({"interaction_id": "e3"}, "refused", "c1")]
        store.open()
        store.commit(StateChange({}, {}, late=late, rejected=rejected))
        asked = {("c1", "e1"), (None, "e2"), ("c2", "e1"), ("c1", "e3"), (None, "e1")}
        assert {("c1", "e1"), (None, "e2")} == store.kept_late(asked)
        assert set() == store.kept_late(set())
        store, _ = self.reopen(store)
        try:
            assert {("c1", "e1")} == store.kept_late({("c1", "e1")})
            store.forget("c1", {})
            assert {(None, "e2")} == store.kept_late(asked)
        finally:
            store.close()

    def test_kept_rejected_names_the_refused_interactions_kept(self, store: Any) -> None:
        """kept_rejected answers which (customer, interaction id, time) are kept as refused,
        across a reopening, forgets a customer's with the customer and all once taken; the
        same id at another time, a late interaction, or another customer's is not among them."""
        at, later = "2024-05-03T00:00:00+00:00", "2024-05-04T00:00:00+00:00"
        rejected = [
            Quarantined({"timestamp": at, "interaction_id": "e1"}, "refused", "c1"),
            Quarantined({"timestamp": at, "interaction_id": "e2"}, "refused", None),
            Quarantined({"timestamp": at}, "refused", "c1"),
        ]
        late = [Quarantined({"timestamp": at, "interaction_id": "e3"}, "late", "c1")]
        store.open()
        store.commit(StateChange({}, {}, late=late, rejected=rejected))
        asked = {("c1", "e1", at), (None, "e2", at), ("c1", "e1", later), ("c2", "e1", at),
                 ("c1", "e3", at), (None, "e1", at)}  # fmt: skip
        assert {("c1", "e1", at), (None, "e2", at)} == store.kept_rejected(asked)
        assert set() == store.kept_rejected(set())
        store, _ = self.reopen(store)
        try:
            assert {("c1", "e1", at)} == store.kept_rejected({("c1", "e1", at)})
            store.forget("c1", {})
            assert {(None, "e2", at)} == store.kept_rejected(asked)
            store.take_rejected()
            assert set() == store.kept_rejected(asked)
        finally:
            store.close()
