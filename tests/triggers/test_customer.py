"""One customer's streaming state: rule states empty or not, and the JSON form a durable store
keeps, read back to the same state."""

from __future__ import annotations

import copy
import json
import random
from collections import deque
from datetime import timedelta
from typing import Any

import pytest

from cxmodel.expr import AGGREGATE_FUNCTIONS
from cxmodel.expr._aggregates import RunningValue
from cxmodel.triggers import TriggerEngine, parse
from cxmodel.triggers._customer import Anchor, CustomerState, RuleState, Waiting
from cxmodel.triggers._ingest import Row
from tests.triggers.helpers import T0, random_rule_set, records

DAY = 86_400_000_000


def row(time: int, kind: str = "purchase", seq: int = 0, **fields: Any) -> Row:
    return Row("a", time, kind, {"kind": kind, **fields}, seq, 0)


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(data))
    return out


class TestAnchorAndWaiting:
    def test_anchor_round_trip(self) -> None:
        """Row, due time, snapshot and tested values survive the list form."""
        anchor = Anchor(row(DAY, value=12.5, seq=3), 8 * DAY, {"count(purchase before p)": 2}, {})
        expected = [["a", DAY, {"kind": "purchase", "value": 12.5}, 3, 0], 8 * DAY,
                    {"count(purchase before p)": 2}, {}]  # fmt: skip
        assert expected == anchor.to_list()
        back = Anchor.from_list(through_json({"x": anchor.to_list()})["x"])
        assert expected == back.to_list()
        assert (back.row.seq, back.row.kind, back.due) == (3, "purchase", 8 * DAY)

    def test_anchor_without_due(self) -> None:
        """An anchor waiting with no time limit keeps ``None``."""
        back = Anchor.from_list(Anchor(row(0), None, {}, {"p.value": 1.0}).to_list())
        assert back.due is None
        assert back.tested == {"p.value": 1.0}

    def test_waiting_round_trip(self) -> None:
        waiting = Waiting(5 * DAY, 7, {"payload": {}, "key": "t=0"}, None)
        expected = [5 * DAY, 7, {"payload": {}, "key": "t=0"}, None]
        assert expected == Waiting.from_list(waiting.to_list()).to_list()


class TestRuleState:
    def test_new_state_is_empty(self) -> None:
        """No anchors, timer, waiting firings or last emission: empty, with an empty dict."""
        state = RuleState()
        assert state.empty()
        assert state.to_dict() == {}

    def test_any_part_makes_it_non_empty(self) -> None:
        for fill in ("anchor", "timer", "waiting", "last_emitted"):
            state = RuleState()
            if fill == "anchor":
                state.anchors[0] = Anchor(row(0), None, {}, {})
            elif fill == "timer":
                state.timer = Anchor(row(0), DAY, {}, {})
            elif fill == "waiting":
                state.waiting = (Waiting(DAY, 0, {}, True),)
            else:
                state.last_emitted = 0
            assert not state.empty(), fill

    def test_round_trip_keys_anchors_by_release_number(self) -> None:
        """Only the parts in use are written; anchors come back under their rows' seq."""
        state = RuleState()
        state.anchors[4] = Anchor(row(DAY, seq=4), 2 * DAY, {}, {})
        state.last_emitted = DAY
        data = state.to_dict()
        assert sorted(data) == ["anchors", "last_emitted"]
        back = RuleState.from_dict(through_json(data))
        assert list(back.anchors) == [4]
        assert (back.timer, back.waiting, back.last_emitted) == (None, (), DAY)
        assert data == back.to_dict()


def full_state() -> CustomerState:
    """A customer state with every part filled."""
    state = CustomerState("a")
    state.last_time = 3 * DAY
    state.tie_count = 2
    state.seen = {"i1": DAY, "i2": 3 * DAY}
    state.consent = {"marketing": True, "service": False}
    state.consent_default = False
    count = AGGREGATE_FUNCTIONS["count"]
    distinct = AGGREGATE_FUNCTIONS["distinct"]
    running = RunningValue(count)
    running.add(count, True)
    running.add(count, True)
    products = RunningValue(distinct)
    for p in ("p2", "p1", "p2"):
        products.add(distinct, p)
    state.running = {"count|purchase|None|None": running, "distinct|view|product|None": products}
    state.windows = {"sum|purchase|value|None|7 days": deque([(DAY, 0, 10.0), (3 * DAY, 2, 5.0)])}
    state.kept = {"view": deque([row(2 * DAY, "view", 1, product="p1")])}
    rule_state = state.rule("r")
    rule_state.timer = Anchor(row(3 * DAY, seq=2), 93 * DAY, {}, {})
    rule_state.waiting = [Waiting(4 * DAY, 2, {"key": "id=i2"}, True)]
    state.rule("idle")  # created, left empty: not written
    state.contacts = {"weekly": [[3 * DAY, "r", "f1"]]}
    return state


class TestCustomerState:
    def test_new_state(self) -> None:
        """A new customer: no time, no ties, no rules; contacts are not written."""
        expected = {
            "last_time": None,
            "tie_count": 0,
            "seen": {},
            "consent": {},
            "consent_default": None,
            "running": {},
            "windows": {},
            "kept": {},
            "rules": {},
        }
        assert expected == CustomerState("a").to_dict()

    def test_rule_is_created_once(self) -> None:
        state = CustomerState("a")
        first = state.rule("r")
        assert state.rule("r") is first
        assert list(state.rules) == ["r"]

    def test_to_dict_by_hand(self) -> None:
        """Running values as [count, state] (a distinct set sorted), window entries and kept
        rows as lists, only non-empty rules."""
        data = full_state().to_dict()
        assert data["running"] == {
            "count|purchase|None|None": [2, None],  # count keeps no state beyond the count
            "distinct|view|product|None": [3, ["p1", "p2"]],
        }
        assert data["windows"] == {
            "sum|purchase|value|None|7 days": [[DAY, 0, 10.0], [3 * DAY, 2, 5.0]]
        }
        assert data["kept"] == {"view": [["a", 2 * DAY, {"kind": "view", "product": "p1"}, 1, 0]]}
        assert list(data["rules"]) == ["r"]
        assert data["contacts"] == {"weekly": [[3 * DAY, "r", "f1"]]}

    def test_round_trip_through_json(self) -> None:
        """to_dict -> JSON -> from_dict -> to_dict is the identity, and the values read back
        are the values kept."""
        state = full_state()
        data = state.to_dict()
        back = CustomerState.from_dict("a", through_json(data))
        assert through_json(data) == back.to_dict()
        assert back.customer == "a"
        assert back.running["count|purchase|None|None"].value(AGGREGATE_FUNCTIONS["count"]) == 2
        distinct = back.running["distinct|view|product|None"]
        assert distinct.state == {"p1", "p2"}
        assert back.windows["sum|purchase|value|None|7 days"][1] == (3 * DAY, 2, 5.0)
        assert back.kept["view"][0].fields["product"] == "p1"
        assert back.rules["r"].timer is not None and back.rules["r"].timer.due == 93 * DAY

    def test_from_empty_dict(self) -> None:
        """A stored state missing every part reads as a new customer."""
        assert CustomerState("a").to_dict() == CustomerState.from_dict("a", {}).to_dict()


class TestCopy:
    @pytest.mark.parametrize("seed", range(40))
    def test_copy_keeps_what_deepcopy_keeps_while_the_engine_goes_on(self, seed: int) -> None:
        """States of random rule sets over random streams: a copy holds what a deep copy
        holds, then and after the engine has taken the rest of the stream into the
        original states (so nothing the engine changes is shared)."""
        rng = random.Random(7_000 + seed)
        engine = TriggerEngine(parse(random_rule_set(rng)), max_future=None)
        recs = records(seed, rng.randint(20, 90), rng.randint(1, 4), 40)
        half = len(recs) // 2
        engine.process_many(recs[:half])
        states = engine._runner.states
        copies = {cid: state.copy() for cid, state in states.items()}
        deep = {cid: copy.deepcopy(state) for cid, state in states.items()}
        for cid, state in states.items():
            assert copies[cid].to_dict() == state.to_dict()
        engine.process_many(recs[half:])
        engine.advance_to(T0 + timedelta(days=45))
        for cid in copies:
            assert copies[cid].to_dict() == deep[cid].to_dict(), (seed, cid)

    def test_running_values_are_copied(self) -> None:
        """A sum's partials and a distinct's set belong to the copy alone."""
        total = RunningValue(AGGREGATE_FUNCTIONS["sum"])
        total.add(AGGREGATE_FUNCTIONS["sum"], 1.5)
        seen = RunningValue(AGGREGATE_FUNCTIONS["distinct"])
        seen.add(AGGREGATE_FUNCTIONS["distinct"], "x")
        twins = total.copy(), seen.copy()
        total.add(AGGREGATE_FUNCTIONS["sum"], 2.0)
        seen.add(AGGREGATE_FUNCTIONS["distinct"], "y")
        assert twins[0].value(AGGREGATE_FUNCTIONS["sum"]) == 1.5
        assert twins[1].value(AGGREGATE_FUNCTIONS["distinct"]) == 1.0
