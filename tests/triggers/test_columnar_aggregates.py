"""Aggregates of a large micro-batch on arrays (``_columnar_aggregates.py``): what the states
hold combined with the micro-batch's log, and the states brought up to date on arrays, equal
to taking the interactions one by one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.expr import parse_expr
from cxmodel.triggers._columnar import Released, RowColumns
from cxmodel.triggers._columnar_aggregates import (
    Seed,
    advance,
    log_column,
    seedable,
    state_seeds,
)
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._operators import AggregatePlan

HOUR = 3_600_000_000


def plan_of(text: str) -> AggregatePlan:
    node = parse_expr(text)
    return AggregatePlan(node, "x")  # type: ignore[arg-type]


def one_by_one(
    aggs: list[AggregatePlan], rows: list[Row], states: dict[str, CustomerState]
) -> None:
    """What the per-interaction path does with each row of an aggregate's kind."""
    for row in rows:
        state = states[row.customer]
        mine = [a for a in aggs if a.kind == row.kind]
        for agg in mine:
            agg.update(state, row, row.customer, {})
        for agg in mine:
            if agg.mode == "window" and agg.lookback is not None:
                buffer = state.windows.get(agg.store_key)
                while buffer and buffer[0][0] < row.time - agg.lookback:
                    buffer.popleft()


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(0, 5),  # hours apart
        st.sampled_from(["purchase", "view"]),
        st.one_of(st.none(), st.floats(-100, 300, allow_nan=False), st.just(-0.0)),
    ),
    max_size=40,
)
AGGREGATES = [
    "count(purchase)",
    "count(purchase where value > 50 within 3 hours)",
    "max(purchase.value)",
    "min(purchase.value within 4 hours)",
    "first(purchase.value)",
    "last(purchase.value within 2 hours)",
    "max(purchase.value where value < 200)",
]


def made_rows(spec: list[tuple[str, int, str, float | None]], start: int) -> list[Row]:
    rows, time = [], 0
    for j, (cid, gap, kind, value) in enumerate(spec):
        time += gap * HOUR
        fields: dict[str, Any] = {"kind": kind}
        if value is not None:
            fields["value"] = value
        rows.append(Row(cid, time, kind, fields, seq=start + j))
    return rows


class TestAdvance:
    @settings(max_examples=150, deadline=None)
    @given(ROWS, ROWS)
    def test_equals_one_by_one(self, before: Any, batch: Any) -> None:
        """Running values and windows after a micro-batch equal one by one's, whatever
        the states held before it."""
        aggs = [plan_of(text) for text in AGGREGATES]
        assert all(seedable(a) for a in aggs)
        old = made_rows(before, 0)
        shift = (old[-1].time if old else 0) + HOUR
        new = [
            Row(r.customer, r.time + shift, r.kind, r.fields, seq=len(old) + j)
            for j, r in enumerate(made_rows(batch, 0))
        ]
        expected = {c: CustomerState(c) for c in "abc"}
        got = {c: CustomerState(c) for c in "abc"}
        one_by_one(aggs, old + new, expected)
        one_by_one(aggs, old, got)
        released = Released(RowColumns(new), list(range(len(new))), len(old))
        assert advance(aggs, released, got) == {a.store_key for a in aggs}
        assert {c: s.to_dict() for c, s in got.items()} == {
            c: s.to_dict() for c, s in expected.items()
        }

    def test_a_where_reading_a_trait_is_left_to_the_rows(self) -> None:
        agg = plan_of("count(purchase where customer.vip)")
        rows = made_rows([("a", 0, "purchase", 1.0)], 0)
        released = Released(RowColumns(rows), [0], 0)
        assert advance([agg], released, {"a": CustomerState("a")}) == set()


class TestSeeds:
    def test_running_values_by_customer(self) -> None:
        seed = Seed(
            "max", None, np.array([0, 2]), np.array([], dtype=np.int64), np.array([3, 1]),
            np.array([7.0, -2.0]), 3,
        )  # fmt: skip
        counts, values = seed.over(np.array([2, 1, 0]), np.array([0, 0, 0]))
        assert counts.tolist() == [1, 0, 3]
        assert [None if math.isnan(v) else v for v in values.tolist()] == [-2.0, None, 7.0]
        combined = seed.combined(counts, values, np.array([np.nan, 4.0, 9.0]))
        assert [None if math.isnan(v) else v for v in combined.tolist()] == [-2.0, 4.0, 9.0]

    @pytest.mark.parametrize(
        ("func", "expected"),
        [("count", [2, 0, 1]), ("max", [5.0, None, 1.0]), ("first", [2.0, None, 1.0]),
         ("last", [5.0, None, 1.0]), ("min", [2.0, None, 1.0])],
    )  # fmt: skip
    def test_windows_read_from_now_minus_d(self, func: str, expected: list[Any]) -> None:
        # customer 0: values at hours 1, 2, 3 (1.0, 2.0, 5.0); customer 2: at hour 4 (1.0)
        times = np.array([1, 2, 3, 4]) * HOUR
        seed = Seed(
            func, 2 * HOUR, np.array([0, 0, 0, 2]), times, np.ones(4, dtype=np.int64),
            np.array([1.0, 2.0, 5.0, 1.0]), 3,
        )  # fmt: skip
        counts, values = seed.over(np.array([0, 1, 2]), np.array([4, 4, 4]) * HOUR)
        got = counts.tolist() if func == "count" else [
            None if math.isnan(v) else v for v in values.tolist()
        ]  # fmt: skip
        assert got == expected

    def test_text_held_by_a_state_is_not_seeded(self) -> None:
        agg = plan_of("max(purchase.level)")
        state = CustomerState("a")
        agg.update(state, Row("a", 0, "purchase", {"kind": "purchase", "level": "x"}), "a", {})
        customers = np.array(["a"], dtype=object)
        assert state_seeds({agg.key: agg}, {"a": state}, customers, np.array([0])) is None


class TestColumnValues:
    def test_kinds_of_columns(self) -> None:
        floats = np.array([1.0, np.nan])
        assert log_column(floats, []) is floats
        assert log_column(floats, [2.0]).tolist()[0] == 2.0
        assert log_column(None, ["a", None]).tolist() == ["a", None]
        assert log_column(np.array([True, None], dtype=object), []).tolist() == [True, None]
        assert log_column(np.array(["a", 1.0], dtype=object), []) is None  # mixed
        assert log_column(np.array([True, 1.0], dtype=object), []) is None
