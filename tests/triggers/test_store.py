"""State stores: the contract the in-memory store keeps (round trips, outbox, forget, one
engine at a time), and rebuilding firings from their stored form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cxmodel.triggers import (
    InMemoryStore,
    StateChange,
    StoredState,
)
from cxmodel.triggers._store import firing_from_dict
from tests.triggers.stores import StoreContract, attrs_evolve, firing


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


class TestFiringFromDict:
    """firing_from_dict rebuilds what Firing.to_dict wrote."""

    def test_round_trip_through_json(self) -> None:
        """to_dict, JSON text and back give an equal firing (suppressed ones too)."""
        original = attrs_evolve(firing(4, "c9", text="é"), reason="quiet hours")
        assert original == firing_from_dict(json.loads(json.dumps(original.to_dict())))
