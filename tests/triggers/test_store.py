"""State stores: the contract the in-memory store keeps (round trips, outbox, forget, one
engine at a time), and rebuilding firings from their stored form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import StoreError
from cxmodel.triggers import (
    InMemoryStore,
    StateChange,
    StoredState,
)
from cxmodel.triggers._store import commit, firing_from_dict
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
