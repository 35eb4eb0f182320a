"""Aggregates of a large micro-batch on arrays (``_columnar_aggregates.py``): what the states
hold combined with the micro-batch's log, and the states brought up to date on arrays, equal
to taking the interactions one by one."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import ValueTypeError
from cxmodel.expr import parse_expr
from cxmodel.triggers._columnar import Released, RowColumns, Source
from cxmodel.triggers._columnar_aggregates import (
    Seed,
    advance,
    log_column,
    seedable,
    state_seeds,
)
from cxmodel.triggers._customer import CustomerState
from cxmodel.triggers._ingest import Row, columns_from
from cxmodel.triggers._operators import AggregatePlan

HOUR = 3_600_000_000


def plan_of(text: str) -> AggregatePlan:
    """The streaming plan of one aggregate, written as in a rule."""
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
    "count(purchase where amount > 50 within 3 hours)",
    "max(purchase.amount)",
    "min(purchase.amount within 4 hours)",
    "first(purchase.amount)",
    "last(purchase.amount within 2 hours)",
    "max(purchase.amount where amount < 200)",
]


def made_rows(spec: list[tuple[str, int, str, float | None]], start: int) -> list[Row]:
    """Rows of (customer, hours after the row before, kind, amount or ``None``), released
    from number ``start``."""
    rows, time = [], 0
    for j, (cid, gap, kind, value) in enumerate(spec):
        time += gap * HOUR
        fields: dict[str, Any] = {"kind": kind}
        if value is not None:
            fields["amount"] = value
        rows.append(Row(cid, time, kind, fields, seq=start + j))
    return rows


def source_of(rows: list[Row], as_columns: bool) -> Source:
    """``rows`` as a micro-batch's source: the rows themselves, or a mapping of columns
    (amounts as floats, NaN missing)."""
    if not as_columns or not rows:
        return RowColumns(rows)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    columns: dict[str, list[Any]] = {
        "customer_id": [r.customer for r in rows],
        "timestamp": [epoch + timedelta(microseconds=r.time) for r in rows],
        "kind": [r.kind for r in rows],
    }
    if any("amount" in r.fields for r in rows):
        columns["amount"] = [r.fields.get("amount") for r in rows]
    source = columns_from(columns)
    assert source is not None
    return source


class TestAdvance:
    @pytest.mark.parametrize("as_columns", [False, True], ids=["rows", "columns"])
    @settings(max_examples=150, deadline=None)
    @given(ROWS, ROWS)
    def test_equals_one_by_one(self, as_columns: bool, before: Any, batch: Any) -> None:
        """Running values and windows after a micro-batch equal one by one's, whatever
        the states held before it and whether the micro-batch is rows or columns."""
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
        released = Released(source_of(new, as_columns), np.arange(len(new)), len(old))
        assert advance(aggs, released, got, {}) == {a.store_key for a in aggs}
        assert {c: s.to_dict() for c, s in got.items()} == {
            c: s.to_dict() for c, s in expected.items()
        }

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b"]),
                st.integers(0, 5),
                st.one_of(st.sampled_from(["x", "y"]), st.floats(0, 9, allow_nan=False)),
            ),
            max_size=12,
        ),
        st.integers(0, 12),
    )
    def test_text_beside_numbers_in_an_ordered_window(
        self, spec: list[tuple[str, int, Any]], cut: int
    ) -> None:
        """A ``max`` window over text and numbers: refused (ValueTypeError) on arrays exactly
        where one by one refuses, the window state equal otherwise; new customers too."""
        agg = plan_of("max(purchase.amount within 3 hours)")
        rows: list[Row] = []
        time = 0
        for j, (customer, hours, amount) in enumerate(spec):
            time += hours * HOUR
            rows.append(Row(customer, time, "purchase", {"kind": "purchase", "amount": amount}, j))
        old, new = rows[: min(cut, len(rows))], rows[min(cut, len(rows)) :]

        def outcome(how: str) -> Any:
            states = {c: CustomerState(c) for c in "ab"}
            try:
                if how == "rows":
                    one_by_one([agg], old + new, states)
                else:
                    one_by_one([agg], old, states)
                    released = Released(RowColumns(new), np.arange(len(new)), len(old))
                    advance([agg], released, states, {})
            except ValueTypeError:
                return "refused"
            return {c: s.to_dict() for c, s in states.items()}

        assert outcome("arrays") == outcome("rows")

    def test_a_new_customer_s_window_is_checked_too(self) -> None:
        """Text then a number an hour apart, the customer's first values: refused on arrays
        as one by one refuses them (a window made by the call was not checked)."""
        agg = plan_of("max(purchase.amount within 3 hours)")
        new = [
            Row("a", 0, "purchase", {"kind": "purchase", "amount": "x"}, 0),
            Row("a", HOUR, "purchase", {"kind": "purchase", "amount": 5.0}, 1),
        ]
        with pytest.raises(ValueTypeError, match="cannot be ordered"):
            one_by_one([agg], new, {"a": CustomerState("a")})
        with pytest.raises(ValueTypeError, match="cannot be ordered"):
            advance(
                [agg], Released(RowColumns(new), np.arange(2), 0), {"a": CustomerState("a")}, {}
            )

    def test_a_where_reading_a_trait_is_left_to_the_rows(self) -> None:
        """An aggregate whose ``where`` reads a customer's trait is not brought up to date
        on arrays (its store key is not returned): the rows take it in one by one."""
        agg = plan_of("count(purchase where customer.vip)")
        rows = made_rows([("a", 0, "purchase", 1.0)], 0)
        released = Released(RowColumns(rows), np.arange(1), 0)
        assert advance([agg], released, {"a": CustomerState("a")}, {}) == set()


class TestSeeds:
    def test_running_values_by_customer(self) -> None:
        """A running value is read per customer code (a customer without one: no values),
        and combined with the log's value (NaN: none in the log)."""
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
        """A window's entries are read from ``now - D`` on, inclusive: at hour 4 with
        ``D`` = 2 hours, customer 0's values at hours 2 and 3 (of 1, 2, 3), customer 1 has
        none, customer 2's at hour 4."""
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
        """A state holding text for an aggregate gives no seeds: the batch evaluator would
        order text apart from the per-interaction path."""
        agg = plan_of("max(purchase.level)")
        state = CustomerState("a")
        agg.update(state, Row("a", 0, "purchase", {"kind": "purchase", "level": "x"}), "a", {})
        customers = np.array(["a"], dtype=object)
        assert state_seeds({agg.key: agg}, [state], customers, np.array([0])) is None


def _column(values: list[Any] | None) -> npt.NDArray[Any] | None:
    """``values`` as a source column: floats when they are all floats, else objects."""
    if values is None:
        return None
    numbers = all(isinstance(v, float) for v in values)
    return np.array(values, dtype=np.float64 if numbers else object)


class TestLogColumn:
    @pytest.mark.parametrize(
        ("released", "carried", "expected", "dtype"),
        [
            pytest.param([1.0, np.nan], [2.0], [2.0, 1.0, None], "f", id="carried-first"),
            pytest.param([np.nan], [None], [None, None], "f", id="missing-numbers"),
            pytest.param(None, ["a", None], ["a", None], "O", id="carried-text"),
            pytest.param(["a", None], [], ["a", None], "O", id="released-text"),
            pytest.param([True, None], [], [True, None], "O", id="true-false"),
        ],
    )
    def test_a_column_as_the_batch_evaluator_reads_it(
        self, released: list[Any] | None, carried: list[Any], expected: list[Any], dtype: str
    ) -> None:
        """Numbers are floats (NaN missing), text and true/false objects (``None``
        missing), the carried rows first."""
        got = log_column(_column(released), carried)
        assert got is not None
        assert got.dtype.kind == dtype
        assert [None if isinstance(v, float) and math.isnan(v) else v for v in got.tolist()] == (
            expected
        )

    @pytest.mark.parametrize(
        ("released", "carried"),
        [
            pytest.param(["a", 1.0], [], id="text-and-numbers"),
            pytest.param([True, 1.0], [], id="true-false-and-numbers"),
            pytest.param([1.0], ["a"], id="carried-text-released-numbers"),
            pytest.param(None, [True, "a"], id="carried-true-false-and-text"),
        ],
    )
    def test_mixed_types_are_refused(self, released: list[Any] | None, carried: list[Any]) -> None:
        """Values of mixed types give ``None``: the batch evaluator would read them apart
        from the per-interaction path."""
        assert log_column(_column(released), carried) is None

    def test_released_numbers_alone_are_not_copied(self) -> None:
        """A float column with nothing carried is the log's column as it is."""
        floats = np.array([1.0, np.nan])
        assert log_column(floats, []) is floats
