"""InteractionLog.orders(): the lines of one order merged into one row, and the order numbers
and further-line counts behind it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cxmodel.domain import Question
from cxmodel.errors import DataError, SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.log._orders import _packed, _stable_order, further_lines, order_numbers

T0 = "2024-01-01T09:00Z"
T1 = "2024-01-01T10:00Z"
T2 = "2024-01-02T09:00Z"


def _log(rows: list[tuple[Any, ...]], **columns: Any) -> InteractionLog:
    """A log of (customer, time, kind, value) rows and further columns."""
    return InteractionLog.from_arrays(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        value=[r[3] for r in rows],
        **columns,
    )


def _rows_of(log: InteractionLog) -> list[tuple[Any, ...]]:
    """The log's rows as sortable tuples of plain values (NaN and None as None), sorted."""
    names = log.columns
    decoded = [log.column(name).tolist() for name in names]
    plain = [
        tuple(None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row)
        for row in zip(*decoded)
    ]
    return sorted(plain, key=repr)


class TestOrders:
    def test_lines_at_one_instant_are_one_order(self) -> None:
        """Three purchase lines of one customer at one instant are one row: value summed,
        every other column the first line's; the second order and other kinds unchanged."""
        log = _log(
            [
                ("a", T0, "purchase", 10.0),
                ("a", T0, "purchase", 2.5),
                ("a", T0, "purchase", 1.0),
                ("a", T0, "view", None),
                ("a", T2, "purchase", 4.0),
                ("b", T0, "purchase", 7.0),
            ],
            product=["tea", "cup", "pot", None, "tea", "jam"],
        )
        orders = log.orders()
        assert len(orders) == 4
        assert orders.column("kind").tolist() == ["purchase", "view", "purchase", "purchase"]
        assert orders.column("value")[[0, 2, 3]].tolist() == [13.5, 4.0, 7.0]
        assert orders.column("product").tolist() == ["tea", None, "tea", "jam"]
        assert orders.customers.tolist() == ["a", "b"]
        assert orders.offsets.tolist() == [0, 3, 4]

    def test_an_order_id_spread_over_times_is_one_order_at_its_first_time(self) -> None:
        """Rows sharing an order_id are one order whatever their times; the row is the first
        line's, at the first time."""
        log = _log(
            [("a", T0, "purchase", 1.0), ("a", T1, "purchase", 2.0), ("a", T2, "purchase", 4.0)],
            order_id=["o1", "o2", "o1"],
        )
        orders = log.orders()
        assert orders.column("order_id").tolist() == ["o1", "o2"]
        assert orders.column("value").tolist() == [5.0, 2.0]
        assert orders.timestamps.tolist() == log.timestamps[:2].tolist()

    def test_different_order_ids_at_one_instant_are_different_orders(self) -> None:
        """With order_id, two orders at one instant stay two; a line without an order_id is
        never a line of an order that has one, and lines without one merge by instant."""
        log = _log(
            [("a", T0, "purchase", 1.0)] * 5,
            order_id=["o1", "o2", "o1", None, None],
        )
        orders = log.orders()
        assert orders.column("order_id").tolist() == ["o1", "o2", None]
        assert orders.column("value").tolist() == [2.0, 1.0, 2.0]

    def test_a_numeric_order_id(self) -> None:
        """An order_id declared as numbers groups by number (NaN: no order_id)."""
        log = _log(
            [("a", T0, "purchase", 1.0), ("a", T1, "purchase", 2.0), ("a", T1, "purchase", 4.0)],
            order_id=[7, 7, None],
            dtypes={"order_id": "float"},
        )
        assert log.orders().column("value").tolist() == [3.0, 4.0]

    def test_missing_values_and_quantities(self) -> None:
        """value and a numeric quantity are summed over the lines that have one; missing only
        when no line has one."""
        log = _log(
            [
                ("a", T0, "purchase", None),
                ("a", T0, "purchase", 3.0),
                ("b", T0, "purchase", None),
                ("b", T0, "purchase", None),
            ],
            quantity=[2, None, None, None],
        )
        orders = log.orders()
        assert orders.column("value").tolist()[0] == 3.0
        assert math.isnan(orders.column("value")[1])
        assert orders.column("quantity").tolist()[0] == 2.0
        assert math.isnan(orders.column("quantity")[1])

    def test_a_text_quantity_is_the_first_lines(self) -> None:
        """A quantity column of text is not summed: the order keeps its first line's."""
        log = _log(
            [("a", T0, "purchase", 1.0), ("a", T0, "purchase", 1.0)], quantity=["2 kg", "1 kg"]
        )
        assert log.orders().column("quantity").tolist() == ["2 kg"]

    def test_another_kind(self) -> None:
        """kind= merges the lines of another kind and leaves purchases alone."""
        log = _log([("a", T0, "order", 1.0), ("a", T0, "order", 2.0), ("a", T0, "purchase", 4.0),
                    ("a", T0, "purchase", 8.0)])  # fmt: skip
        orders = log.orders(kind="order")
        assert orders.column("kind").tolist() == ["order", "purchase", "purchase"]
        assert orders.column("value").tolist() == [3.0, 4.0, 8.0]

    @pytest.mark.filterwarnings("ignore:1 of 3 rows rejected:cxmodel.errors.DataWarning")
    def test_the_log_keeps_its_end_questions_and_rejected_rows(self) -> None:
        """observed_until, the declared questions and the rejected rows carry over."""
        effort = Question("effort", "scale", low=1, high=5)
        log = InteractionLog.from_arrays(
            ["a", "a", "a"],
            [T0, T0, "not a time"],
            ["purchase", "purchase", "view"],
            errors="quarantine",
            questions=[effort],
        ).with_observed_until(T2)
        orders = log.orders()
        assert len(orders) == 1
        assert orders.observed_until == log.observed_until
        assert orders.questions == log.questions
        assert orders.rejected.reason.tolist() == log.rejected.reason.tolist()

    def test_a_log_without_lines_is_itself(self) -> None:
        """Nothing to merge: the log itself (logs are immutable), also for a kind it lacks."""
        log = _log([("a", T0, "purchase", 1.0), ("a", T1, "purchase", 2.0)])
        assert log.orders() is log
        assert log.orders(kind="refund") is log

    @pytest.mark.parametrize(
        ("kind", "error", "message"),
        [
            ("purchse", SchemaError, "did you mean 'purchase'"),
            ("", ValueTypeError, "orders(): kind must be non-empty text"),
            (3, ValueTypeError, "orders(): kind must be non-empty text; got int 3"),
        ],
        ids=["typo", "empty", "not-text"],
    )
    def test_bad_kinds(self, kind: Any, error: type[Exception], message: str) -> None:
        """A misspelt kind is named with a did-you-mean; a kind that is not text is refused."""
        log = _log([("a", T0, "purchase", 1.0)])
        with pytest.raises(error) as raised:
            log.orders(kind=kind)
        assert message in str(raised.value)

    @pytest.mark.parametrize("column", ["value", "quantity"])
    def test_an_order_total_past_the_float_range_is_refused(self, column: str) -> None:
        """Two lines of 1e308 add past the float range: a DataError naming the call, the column
        and the customer, not an infinite total."""
        big = [1.0, 1e308, 1e308]
        log = InteractionLog.from_arrays(["a", "b", "b"], [T0, T0, T0], "purchase", **{column: big})
        with pytest.raises(DataError) as raised:
            log.orders()
        message = str(raised.value)
        assert message.startswith(f"orders(): the sum of column {column!r} for customer 'b' ")
        assert "past the float range" in message


class TestOrderNumbers:
    def test_orders_of_several_kinds_are_kept_apart(self) -> None:
        """Rows of two kinds at one instant are lines of two orders, one per kind."""
        log = _log([("a", T0, "purchase", 1.0), ("a", T0, "order", 1.0),
                    ("a", T0, "purchase", 1.0)])  # fmt: skip
        numbers, firsts = order_numbers(log, np.arange(3))
        assert numbers[0] == numbers[2] != numbers[1]
        assert sorted(firsts.tolist()) == [0, 1]
        assert further_lines(log, np.arange(3)) == 1

    def test_ids_out_of_order_are_sorted(self) -> None:
        """Order ids whose codes do not follow time still group: each order's first line is
        its earliest row."""
        log = _log([("a", T0, "purchase", 1.0), ("a", T1, "purchase", 1.0),
                    ("a", T2, "purchase", 1.0)], order_id=["z", "b", "z"])  # fmt: skip
        numbers, firsts = order_numbers(log, np.arange(3))
        assert numbers[0] == numbers[2] != numbers[1]
        assert sorted(firsts.tolist()) == [0, 1]

    def test_no_rows(self) -> None:
        """No rows: no orders."""
        log = _log([("a", T0, "view", None)])
        assert [a.tolist() for a in order_numbers(log, [])] == [[], []]
        assert further_lines(log, []) == 0


class TestPackedKeys:
    @given(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(-1, 2), st.integers(-(2**63), 2**63 - 1)),
            min_size=1,
            max_size=30,
        )
    )
    @example([(0, 0, 2**63 - 1), (0, 0, -(2**63)), (1, 2, 0)])  # a key too wide to shift
    def test_packed_keys_sort_and_tie_as_the_keys(self, rows: list[tuple[int, int, int]]) -> None:
        """Packing neighbouring keys into one int64 (while their ranges fit) keeps the order
        and the ties: the stable order of the packed keys is that of the keys themselves."""
        keys = [np.array(column, dtype=np.int64) for column in zip(*rows)]
        packed = _packed(keys)
        expected = np.lexsort(keys[::-1]).tolist()
        assert np.lexsort(packed[::-1]).tolist() == expected
        order = _stable_order(packed)
        assert (list(range(len(rows))) if order is None else order.tolist()) == expected


CUSTOMERS = ["a", "b", "c"]
PRODUCTS = ["tea", "cup"]


@st.composite
def line_item_rows(draw: st.DrawFn, *, lines: bool = True) -> list[dict[str, Any]]:
    """Rows of a line-item export: orders of 1-3 lines (with or without an order_id; lines of
    one order_id possibly at different times), a few views, values and quantities in quarters
    (their sums are exact in any order). Without ``lines`` every order is one row with its own
    order_id."""
    rows: list[dict[str, Any]] = []
    for number in range(draw(st.integers(0, 8), label="orders")):
        customer = draw(st.sampled_from(CUSTOMERS))
        with_id = not lines or draw(st.booleans())
        for _ in range(draw(st.integers(1, 3)) if lines else 1):
            seconds = draw(st.integers(0, 3)) * 2  # purchases at even seconds: ties are likely
            rows.append(
                {
                    "customer_id": customer,
                    "timestamp": seconds,
                    "kind": "purchase",
                    "order_id": f"o{number}" if with_id else None,
                    "value": draw(st.none() | st.integers(0, 400).map(lambda q: q / 4)),
                    "quantity": draw(st.none() | st.integers(1, 5)),
                }
            )
    for _ in range(draw(st.integers(0 if rows else 1, 3), label="views")):
        rows.append({"customer_id": draw(st.sampled_from(CUSTOMERS)),
                     "timestamp": 2 * draw(st.integers(0, 3)) + 1, "kind": "view"})  # fmt: skip
    return rows


def _from_rows(rows: list[dict[str, Any]]) -> InteractionLog:
    names = ["customer_id", "timestamp", "kind", "order_id", "value", "quantity"]
    columns: dict[str, Any] = {name: [row.get(name) for row in rows] for name in names}
    columns["value"] = [np.nan if v is None else v for v in columns["value"]]
    columns["quantity"] = [np.nan if v is None else float(v) for v in columns["quantity"]]
    return InteractionLog.from_arrays(**columns)


def _reference_orders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The merged rows by a plain Python grouping: one row per (customer, order_id), or per
    (customer, instant) for purchases without an order_id, at the earliest time, with the sums
    of the values and quantities present."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["kind"] != "purchase":
            out.append(row)
            continue
        key = (row["customer_id"], row["order_id"] or row["timestamp"], row["order_id"] is None)
        first = merged.setdefault(key, {**row, "value": None, "quantity": None})
        first["timestamp"] = min(first["timestamp"], row["timestamp"])
        for name in ("value", "quantity"):
            if row[name] is not None:
                first[name] = (first[name] or 0) + row[name]
    return out + list(merged.values())


class TestOrdersProperties:
    @given(line_item_rows())
    @settings(max_examples=150, deadline=None)
    def test_equals_a_plain_grouping(self, rows: list[dict[str, Any]]) -> None:
        """The merged rows are those of a row-by-row Python grouping."""
        expected = _from_rows(_reference_orders(rows))
        assert _rows_of(_from_rows(rows).orders()) == _rows_of(expected)

    @given(line_item_rows())
    @settings(max_examples=150, deadline=None)
    def test_merging_twice_merges_nothing_more(self, rows: list[dict[str, Any]]) -> None:
        """orders().orders() == orders(), and the merged log has no further line left."""
        orders = _from_rows(rows).orders()
        assert orders.orders() == orders
        assert further_lines(orders, np.flatnonzero(orders.kind_mask("purchase"))) == 0

    @given(line_item_rows())
    @settings(max_examples=150, deadline=None)
    def test_totals_and_other_rows_are_kept(self, rows: list[dict[str, Any]]) -> None:
        """Each customer's value and quantity totals are kept; rows of other kinds are the
        same; one row per order is left."""
        log = _from_rows(rows)
        orders = log.orders()
        buys = np.flatnonzero(log.kind_mask("purchase"))
        assert len(orders) == len(log) - further_lines(log, buys)
        for name in ("value", "quantity"):
            before = np.bincount(log.customer_codes, np.nan_to_num(log.numeric(name)))
            after = np.bincount(orders.customer_codes, np.nan_to_num(orders.numeric(name)))
            assert before.tolist() == after.tolist()
        views = log.filter(~log.kind_mask("purchase"))
        assert orders.filter(~orders.kind_mask("purchase")) == views

    @given(line_item_rows(lines=False))
    @settings(max_examples=100, deadline=None)
    def test_a_log_without_line_items_is_unchanged(self, rows: list[dict[str, Any]]) -> None:
        """Every purchase its own order: orders() is the log."""
        log = _from_rows(rows)
        assert log.orders() == log

    @given(line_item_rows(), st.randoms(use_true_random=False))
    @settings(max_examples=150, deadline=None)
    def test_row_order_does_not_matter(self, rows: list[dict[str, Any]], rng: Any) -> None:
        """The input rows in another order merge into the same orders (lines of one order
        agree on every column but value and quantity, so the first line's are the same)."""
        shuffled = list(rows)
        rng.shuffle(shuffled)
        assert _rows_of(_from_rows(shuffled).orders()) == _rows_of(_from_rows(rows).orders())
