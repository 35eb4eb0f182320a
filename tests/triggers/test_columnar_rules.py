"""The rules of a large micro-batch, a rule at a time: ``when inactive`` decided on arrays
equals the per-interaction path, and the columnar ``where`` never rejects what the rule
accepts."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.expr import Binary, Literal, Name, parse_expr
from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from cxmodel.triggers._columnar_rules import maybe
from cxmodel.triggers._scalar import Env, compile_expr
from tests.triggers.helpers import (
    COLUMNAR,
    PER_ROW,
    T0,
    engine_of,
    evaluate_complete,
    key,
    records,
    state_of,
    whole,
)
from tests.triggers.test_columnar import run_both, shuffled_within


class TestInactivityOnArrays:
    @pytest.mark.parametrize("span", ["12 hours", "1 days", "3 days", "10 days"])
    @pytest.mark.parametrize("policy", ["", "    cooldown 5 days\n", "    once per customer\n"])
    def test_inactivity_on_arrays(self, span: str, policy: str) -> None:
        """``when inactive for D`` decided on arrays: gaps longer than, equal to and shorter
        than D, ties, timers pending across calls, rows out of order within the lateness."""
        rules = parse(f"trigger idle:\n    when inactive for {span}\n    emit nudge\n{policy}")
        for seed in range(12):
            recs = records(seed, 120, n_customers=4, days=40)
            as_of = T0 + timedelta(days=45)
            hours = [0, 12, 36][seed % 3]
            sent = shuffled_within(recs, hours, seed) if hours else recs
            columnar, _ = run_both(rules, sent, seed, as_of, f"{hours} hours" if hours else 0)
            if not hours:
                batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
                assert key(columnar) == key(batch)

    def test_a_timer_moved_on_in_place_changes_no_firing_already_returned(self) -> None:
        """A pending timer that does not fall due moves on to the customer's last
        interaction in place: what earlier calls returned, and the state, are as the
        per-interaction path leaves them."""
        rules = parse("trigger idle:\n    when inactive for 1 days\n    emit nudge")
        # c0 comes back within the day (its timer moves on), c1 after a day and a half (fires)
        recs = [
            {"customer_id": cid, "timestamp": (T0 + timedelta(hours=j * hours)).isoformat(),
             "kind": "view", "interaction_id": f"{cid}-{j}"}
            for j in range(30)
            for cid, hours in (("c0", 7), ("c1", 36))
        ]  # fmt: skip
        recs.sort(key=lambda r: r["timestamp"])
        engines = [engine_of(rules, path) for path in (COLUMNAR, PER_ROW)]
        first = [whole(e.process_many(recs[:30])) for e in engines]
        kept = copy.deepcopy(first)
        later = [whole(e.process_many(recs[30:])) for e in engines]
        assert first[0] and later[0]  # timers fell due in both calls
        assert first == kept and first[0] == first[1] and later[0] == later[1]
        assert state_of(engines[0]) == state_of(engines[1])


class TestMaybe:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("x.score <= 6", [True, False, True, False]),
            ("score != 6", [True, True, False, False]),
            ('x.metric == "nps" and x.score <= 6', [True, False, False, False]),
            ('x.metric == "nps" or x.score > 100', [True, True, False, False]),
            ("x.score <= 6 or x.vip", None),
            ("x.score + 1 > 2", None),
            ('x.score == "6"', [False, False, False, False]),
            ('x.score != "6"', [True, True, True, False]),
        ],
        ids=str,
    )
    def test_hand_computed(self, text: str, expected: list[bool] | None) -> None:
        """False only where the rule certainly rejects the interaction (missing values
        compare false; text against a number: only '!=' holds)."""
        columns = {
            "score": np.array([3.0, 9.0, 6.0, np.nan]),
            "metric": np.array(["nps", "nps", None, None], dtype=object),
        }
        mask = maybe(parse_expr(text), "x", columns.get)
        assert (None if mask is None else mask.tolist()) == expected

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(
        st.lists(st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=2)), min_size=1),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        st.one_of(st.integers(-3, 3), st.text(max_size=2)),
    )
    def test_never_rejects_what_the_rule_accepts(
        self, values: list[Any], op: str, literal: Any
    ) -> None:
        """Wherever the per-interaction evaluator says the comparison holds, the mask
        says it may."""
        expr = Binary(op, Name("v", "x"), Literal(literal))
        column = np.empty(len(values), dtype=object)
        column[:] = values
        mask = maybe(expr, "x", {"v": column}.get)
        scalar = compile_expr(expr, "x")
        holds = [bool(scalar(Env({"v": v}, 0, "c", {}, {"v": v}))) for v in values]
        assert mask is not None
        assert all(m or not h for m, h in zip(mask.tolist(), holds, strict=True))


@pytest.mark.parametrize("purpose_field", [True, False])
def test_consent_no_pass_replays_is_read_from_the_columns(purpose_field: bool) -> None:
    """Consent that only a rule decided on arrays reads (no pass replays it) is brought up
    to date from the ``kind`` and ``purpose`` columns: purposes spaced, cased, blank, missing,
    a number (read as its digits), and revocations of every purpose leave the states and the later firings
    as one interaction at a time leaves them."""
    rules = parse(
        'trigger nudge:\n    when product_view as v where v.product == "p1"\n'
        "    emit nudge\n    requires consent marketing\n"
    )
    purposes: list[Any] = ["Marketing ", " marketing", "", "   ", None, 5, "sms"]
    recs: list[dict[str, Any]] = []
    for i in range(240):
        at = (T0 + timedelta(hours=i)).isoformat().replace("+00:00", "Z")
        customer = f"c{i % 6}"
        if i % 3 == 0:
            kind = "consent_granted" if i % 2 else "consent_revoked"
            rec = {"customer_id": customer, "timestamp": at, "kind": kind}
            purpose = purposes[(i // 3) % len(purposes)]
            if purpose_field and purpose is not None:
                rec["purpose"] = purpose
        else:
            rec = {"customer_id": customer, "timestamp": at, "kind": "product_view",
                   "product": "p1" if i % 2 else "p2"}  # fmt: skip
        rec["interaction_id"] = f"e{i}"
        recs.append(rec)
    one = engine_of(rules, None)
    expected = [f for rec in recs for f in one.process(rec)]
    columnar = engine_of(rules, COLUMNAR)
    got = [*columnar.process_many(recs[:120]), *columnar.process_many(recs[120:])]
    assert state_of(columnar)[0] == state_of(one)[0]
    assert whole(got) == whole(expected)
