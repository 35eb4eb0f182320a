"""The cyclic garbage collector paused while the engine makes many long-lived objects."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._collector import collector_paused


class _Node:
    itself: object


RULES = parse("trigger t:\n    when view as v then no purchase for 7 days\n    emit x")


class TestCollectorPaused:
    def test_paused_inside_resumed_after_also_on_error(self) -> None:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(KeyError), collector_paused():
            raise KeyError("x")
        assert gc.isenabled()

    def test_left_off_when_the_host_turned_it_off(self) -> None:
        gc.disable()
        try:
            with collector_paused():
                pass
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_what_was_made_inside_is_not_left_young(self) -> None:
        """Objects made while paused move to the oldest generation, unscanned: the youngest
        generation is empty after, and the objects are still tracked (a cycle among them is
        still collected by a full collection)."""
        with collector_paused():
            kept = [[j] for j in range(5_000)]
            node = _Node()
            node.itself = node
        watch = weakref.ref(node)
        assert gc.get_count()[0] < 50
        assert all(gc.is_tracked(item) for item in kept[:10])
        del node
        gc.collect()
        assert watch() is None

    def test_the_hosts_young_garbage_is_freed_not_promoted(self) -> None:
        """A reference cycle the host dropped just before is freed on entry, without a full
        collection: it is not moved to the oldest generation with the call's objects."""
        gc.collect()
        node = _Node()
        node.itself = node
        watch = weakref.ref(node)
        del node
        assert watch() is not None  # garbage, not collected yet
        with collector_paused():
            _ = [[j] for j in range(1_000)]
        assert watch() is None

    def test_a_hosts_frozen_objects_stay_frozen(self) -> None:
        gc.freeze()
        try:
            held = gc.get_freeze_count()
            with collector_paused():
                _ = [[j] for j in range(100)]
            assert 0 < gc.get_freeze_count() <= held
        finally:
            gc.unfreeze()


class TestRestart:
    def test_a_restart_reads_the_state_with_the_collector_paused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The state a store holds is read back while the collector is paused, and the
        engine comes back with it."""
        path = tmp_path / "state.db"
        engine = TriggerEngine(RULES, store=SQLiteStore(path))
        engine.process({"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"})
        engine.store.close()
        seen: list[bool] = []
        opened = SQLiteStore.open

        def spy(self: SQLiteStore) -> object:
            seen.append(gc.isenabled())
            return opened(self)

        monkeypatch.setattr(SQLiteStore, "open", spy)
        again = TriggerEngine(RULES, store=SQLiteStore(path))
        assert seen == [False] and gc.isenabled()
        assert again.stats()["customers"] == 1
        again.store.close()


class TestMicroBatch:
    def test_records_are_checked_with_the_collector_paused(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The records of a large micro-batch are read into columns while the collector is
        paused (the checks make many objects too), and it runs again after the call."""
        import cxmodel.triggers._engine as engine_module

        seen: list[bool] = []
        checked = engine_module.record_columns

        def spy(*args: object) -> object:
            seen.append(gc.isenabled())
            return checked(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(engine_module, "record_columns", spy)
        engine = TriggerEngine(RULES)
        records = [
            {"customer_id": f"c{j}", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}
            for j in range(2_500)
        ]
        engine.process_many(records)
        assert seen == [False] and gc.isenabled()
        assert engine.stats()["customers"] == 2_500
