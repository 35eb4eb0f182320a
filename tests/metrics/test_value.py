"""Tests for value_summary on a hand-built log."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import value_summary


def _log(values: list[float] | None = None) -> InteractionLog:
    """a buys 10 + 30 in Jan (refunds 5), b buys 20 in Jan and 40 in Feb."""
    return InteractionLog.from_arrays(
        customer_id=["a", "a", "a", "b", "b", "b"],
        kind=["purchase", "purchase", "refund", "purchase", "purchase", "login"],
        timestamp=[
            "2024-01-02T00:00Z",
            "2024-01-09T00:00Z",
            "2024-01-10T00:00Z",
            "2024-01-05T00:00Z",
            "2024-02-05T00:00Z",
            "2024-02-06T00:00Z",
        ],
        value=values or [10.0, 30.0, 5.0, 20.0, 40.0, np.nan],
        plan=["gold", "gold", "gold", "basic", "basic", "basic"],
    )


class TestValueSummary:
    def test_overall(self) -> None:
        """Revenue 100 over 4 orders by 2 buyers: AOV 25, frequency 2, CLV 50, net 95."""
        t = value_summary(_log())
        assert (t["revenue"][0], t["orders"][0], t["customers"][0]) == (100.0, 4, 2)
        assert (t["aov"][0], t["frequency"][0], t["historical_clv"][0]) == (25.0, 2.0, 50.0)
        assert t["net_revenue"][0] == 95.0

    def test_by_segment_and_month(self) -> None:
        """By plan and month: basic Jan 20, basic Feb 40, gold Jan 40 (refund 5)."""
        t = value_summary(_log(), by="plan", period="month")
        assert t["plan"].tolist() == ["basic", "basic", "gold", "gold"]
        assert t["period"].tolist() == ["2024-01", "2024-02"] * 2
        assert t["revenue"].tolist() == [20.0, 40.0, 40.0, 0.0]  # gold's February is a 0
        assert t["refunds"].tolist() == [0.0, 0.0, 5.0, 0.0]
        assert t["customers"].tolist() == [1, 1, 1, 0]

    def test_quiet_month_is_a_row_of_zero(self) -> None:
        """Revenue of January and March with nothing in February: February is revenue 0 and
        NaN order value (it used to be left out, so the mean monthly revenue read 15, not 10)."""
        log = InteractionLog.from_arrays(
            ["a", "b"], ["2024-01-05T00:00Z", "2024-03-05T00:00Z"], ["purchase"] * 2,
            value=[10.0, 20.0],
        )  # fmt: skip
        t = value_summary(log, period="month")
        assert t["period"].tolist() == ["2024-01", "2024-02", "2024-03"]
        assert t["revenue"].tolist() == [10.0, 0.0, 20.0]
        assert t["orders"].tolist() == [1, 0, 1]
        assert np.isnan(t["aov"][1])

    def test_missing_purchase_value(self) -> None:
        """A purchase without a value is a SchemaError naming the row."""
        with pytest.raises(SchemaError, match=r"row 2: purchase value nan"):
            value_summary(_log([10.0, np.nan, 5.0, 20.0, 40.0, np.nan]))

    def test_numeric_by_sorts_as_numbers_missing_last(self) -> None:
        """A numeric by column gives groups 1, 2, 3, 10, 11 and '(missing)' last (it gave the
        text order '1.0', '10.0', ... and a group 'nan')."""
        log = InteractionLog.from_arrays(
            customer_id=[f"c{i}" for i in range(6)], kind=["purchase"] * 6,
            timestamp=["2024-01-01T00:00Z"] * 6, value=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            store=[1, 2, 10, 11, np.nan, 3],
        )  # fmt: skip
        t = value_summary(log, by="store")
        assert t["store"].tolist() == [1.0, 2.0, 3.0, 10.0, 11.0, "(missing)"]
        assert t["revenue"].tolist() == [1.0, 2.0, 6.0, 3.0, 4.0, 5.0]


def _money(kind: list[str], value: list[float], **columns: list[object]) -> InteractionLog:
    n = len(kind)
    return InteractionLog.from_arrays(
        customer_id=["a", "b", "c", "d"][:n], kind=kind,
        timestamp=["2024-01-01T00:00Z"] * n, value=value, **columns,
    )  # fmt: skip


class TestValueSummaryQuietAnswers:
    def test_refund_without_value_warns_with_count(self) -> None:
        """A refund without an amount counted as 0 said nothing; now the count is told."""
        log = _money(["purchase", "refund", "refund"], [100.0, np.nan, 30.0])
        with pytest.warns(DataWarning, match=r"1 refund row\(s\) have no value"):
            t = value_summary(log)
        assert (t["refunds"][0], t["net_revenue"][0]) == (30.0, 70.0)

    def test_two_currencies_refused(self) -> None:
        """USD 100 + EUR 20 summed to a revenue of 120; now a SchemaError with the fix."""
        log = _money(["purchase", "purchase", "purchase"], [100.0, 20.0, 50.0],
                     currency=["USD", "EUR", "USD"])  # fmt: skip
        with pytest.raises(SchemaError, match=r"mixes currencies \['EUR', 'USD'\].*by='currency'"):
            value_summary(log)
        t = value_summary(log, by="currency")
        assert t["currency"].tolist() == ["EUR", "USD"]
        assert t["revenue"].tolist() == [20.0, 150.0]

    def test_mixed_currency_names_the_group(self) -> None:
        """The error names the group (here the plan) that mixes currencies."""
        log = _money(["purchase", "purchase", "purchase"], [100.0, 20.0, 50.0],
                     currency=["USD", "EUR", None], plan=["x", "x", "y"])  # fmt: skip
        with pytest.raises(SchemaError, match=r"plan='x' mixes currencies"):
            value_summary(log, by="plan")

    def test_one_currency_and_missing_ones_pass(self) -> None:
        """One currency (some rows without) is summed as before, without a word."""
        log = _money(["purchase", "purchase"], [100.0, 20.0], currency=["USD", None])
        assert value_summary(log)["revenue"].tolist() == [120.0]

    def test_no_purchase_warns(self) -> None:
        """A log of views (or of 'order' events) gave an empty table without a word."""
        log = _money(["view", "order"], [1.0, 2.0])
        with pytest.warns(DataWarning, match=r"kind 'purchase' does not occur"):
            t = value_summary(log)
        assert len(t) == 0

    def test_refunds_are_floats_without_refunds(self) -> None:
        """``refunds`` is a float column even when no refund occurs (it was int64)."""
        assert value_summary(_money(["purchase"], [5.0]))["refunds"].dtype == np.float64

    def test_repeated_purchase_rows_warn_with_count(self) -> None:
        """An export holding an order twice doubled its revenue without a word; each still
        counts (two equal rows may be two orders), with a warning counting the repeats."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "a", "b"], kind=["purchase"] * 4,
            timestamp=["2024-01-01T00:00Z"] * 3 + ["2024-01-02T00:00Z"],
            value=[10.0, 10.0, 10.0, 10.0],
        )  # fmt: skip
        with (
            pytest.warns(DataWarning, match=r"2 purchase row\(s\) repeat another purchase"),
            pytest.warns(DataWarning, match="2 of 4 purchases are further lines of an order"),
        ):
            t = value_summary(log)
        assert (t["orders"][0], t["revenue"][0]) == (4, 40.0)

    def test_distinct_order_ids_are_not_repeats(self) -> None:
        """Two equal purchases with their own order_id are two orders: no warning."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a"], kind=["purchase"] * 2, timestamp=["2024-01-01T00:00Z"] * 2,
            value=[10.0, 10.0], order_id=["o1", "o2"],
        )  # fmt: skip
        assert value_summary(log)["orders"].tolist() == [2]

    def test_lines_of_one_order_warn_and_orders_count_them_once(self) -> None:
        """A line-item export (one row per product, the order's lines sharing an order_id)
        counts each line as an order; the warning says how many, and log.orders() mends it."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "a", "b"], kind=["purchase"] * 4,
            timestamp=["2024-01-01T00:00Z"] * 3 + ["2024-01-02T00:00Z"],
            value=[5.0, 10.0, 15.0, 30.0], order_id=["o1", "o1", "o1", "o2"],
        )  # fmt: skip
        with pytest.warns(DataWarning, match=r"value_summary\(\): 2 of 4 purchases are further"):
            lines = value_summary(log)
        assert (lines["orders"][0], lines["aov"][0]) == (4, 15.0)
        orders = value_summary(log.orders())
        assert (orders["orders"][0], orders["aov"][0], orders["revenue"][0]) == (2, 30.0, 60.0)
