"""The engine's durable form: rule fingerprints, the meta, the changed states as a store
reads them, and a runner and delivery restored from what a store holds (see test_crash.py
and test_engine_rules.py for whole engines restarted)."""

from __future__ import annotations

from typing import Any

import pytest

from cxmodel.errors import NotFoundError, StoreError
from cxmodel.triggers import InMemoryStore, parse
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._delivery import Delivery
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._runner import RuleRunner
from cxmodel.triggers._snapshot import (
    META_FORMAT,
    ChangedStates,
    LazyMeta,
    RuleHashes,
    engine_meta,
    restore,
    rule_hash,
)
from cxmodel.triggers._store import StateChange, StoredState

LATER = parse("trigger later:\n    when purchase as p then after 3 days\n    emit y")
SOONER = parse("trigger later:\n    when purchase as p then after 1 days\n    emit y")
HOUR = 3_600_000_000


def purchase(customer: str, hour: int, ident: str) -> Row:
    return Row(customer, hour * HOUR, "purchase", {"kind": "purchase", "interaction_id": ident})


def running(rules: Any) -> tuple[RuleRunner, Delivery]:
    """A runner of ``rules`` and a delivery with one purchase released and two buffered."""
    runner, delivery = RuleRunner(rules, {}), Delivery(5 * HOUR, None)
    delivery.take([purchase("a", 10, "1"), purchase("b", 12, "2")], runner, lambda: 0)
    delivery.take([purchase("a", 16, "3")], runner, lambda: 0)
    return runner, delivery


def stored(rules: Any) -> StoredState:
    """What a store holds after :func:`running` was committed with ``rules`` active."""
    runner, delivery = running(rules)
    meta = engine_meta(delivery, runner, RuleHashes()(rules))
    customers = {cid: state.to_dict() for cid, state in runner.states.items()}
    return StoredState(meta, customers)


class TestFingerprints:
    def test_a_rule_text_changed_is_another_fingerprint(self) -> None:
        """The fingerprint follows the rule's text."""
        assert rule_hash(LATER["later"]) == rule_hash(parse(str(LATER))["later"])
        assert rule_hash(LATER["later"]) != rule_hash(SOONER["later"])

    def test_computed_again_only_for_other_rules(self) -> None:
        """The same RuleSet gives the same dict; another gives a new one."""
        hashes = RuleHashes()
        first = hashes(LATER)
        assert hashes(LATER) is first
        assert hashes(SOONER) == {"later": rule_hash(SOONER["later"])}


class TestMappings:
    def test_lazy_meta_is_built_once_until_reset(self) -> None:
        """The meta is built when first read, and again only after ``reset``."""
        builds: list[int] = []

        def build() -> dict[str, Any]:
            builds.append(len(builds) + 1)
            return {"build": builds[-1]}

        meta = LazyMeta(build)
        assert builds == []
        assert dict(meta) == {"build": 1} and meta["build"] == 1 and builds == [1]
        assert dict(meta.reset()) == {"build": 2} and builds == [1, 2]

    def test_changed_states_hold_only_the_changed(self) -> None:
        """A customer not changed is not there; one that was dropped reads as None."""
        changed = ChangedStates({"a": CustomerState("a"), "b": CustomerState("b")}, {"a", "c"})
        assert sorted(changed) == ["a", "c"] and changed["c"] is None
        with pytest.raises(NotFoundError):
            changed["b"]


class TestRestore:
    def test_round_trip(self) -> None:
        """A runner and delivery restored from the meta and states hold what was committed:
        marks, counters, the buffered rows, the release counter and customers' states."""
        runner, delivery = running(LATER)
        fresh_runner, fresh = RuleRunner(LATER, {}), Delivery(5 * HOUR, None)
        restore(InMemoryStore(), stored(LATER), LATER, fresh_runner, fresh, dict)
        assert fresh.save()[:4] == delivery.save()[:4]
        assert [(t, a, r.to_list()) for t, a, r in fresh.buffer] == [
            (t, a, r.to_list()) for t, a, r in delivery.buffer
        ]
        assert fresh.buffered_ids == delivery.buffered_ids
        assert set(delivery.buffered_ids) == {("a", "3"), ("b", "2")}
        assert fresh_runner.seq == runner.seq
        assert {c: s.to_dict() for c, s in fresh_runner.states.items()} == {
            c: s.to_dict() for c, s in runner.states.items()
        }
        assert fresh_runner.touched == set()

    def test_a_changed_rule_starts_afresh_and_the_drop_is_committed(self) -> None:
        """A rule whose text changed since the commit loses its stored state, and the
        customers who lost it are committed before any call."""
        commits: list[StateChange] = []

        class Recording(InMemoryStore):
            def commit(self, change: StateChange) -> None:
                commits.append(change)

        held = stored(LATER)
        assert list(held.customers) == ["a"] and "later" in held.customers["a"]["rules"]
        runner, delivery = RuleRunner(SOONER, {}), Delivery(5 * HOUR, None)
        restore(Recording(), held, SOONER, runner, delivery, lambda: {"m": 1})
        assert "later" not in runner.states["a"].rules
        assert [(sorted(c.customers), dict(c.meta)) for c in commits] == [(["a"], {"m": 1})]

    @pytest.mark.parametrize(
        ("meta", "match"),
        [
            pytest.param({"format": 2}, "format 2; this version reads format 3", id="format"),
            pytest.param(
                {"format": META_FORMAT, "buffer": [[1, 2]]},
                r"cannot be read: meta.buffer\[0\] is list \[1, 2\]; expected a list of 3 items",
                id="unreadable",
            ),
        ],
    )
    def test_unreadable_state_is_a_store_error(self, meta: dict[str, Any], match: str) -> None:
        """State of another format, or that cannot be read, is a StoreError naming the store."""
        runner, delivery = RuleRunner(LATER, {}), Delivery(0, None)
        with pytest.raises(StoreError, match=match):
            restore(InMemoryStore(), StoredState(meta, {}), LATER, runner, delivery, dict)

    def test_a_new_store_holds_nothing(self) -> None:
        """An empty meta loads nothing and commits nothing."""
        runner, delivery = RuleRunner(LATER, {}), Delivery(0, None)
        restore(InMemoryStore(), StoredState({}, {}), LATER, runner, delivery, dict)
        assert (runner.states, delivery.max_seen, runner.seq) == ({}, None, 0)
