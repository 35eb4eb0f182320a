"""Tests for value_summary on a hand-built log."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
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
        with pytest.raises(SchemaError, match=r"row 1: purchase value nan"):
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
