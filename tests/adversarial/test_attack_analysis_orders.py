"""Line-item exports and ``InteractionLog.orders()``: an order whose lines carry different
times, and the promise that ``rfm_summary`` answers the same on the lines and on the orders."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.models import calibration_holdout_split, rfm_summary

AS_OF = "2024-03-10T00:00Z"


def _lines(second_line: str) -> InteractionLog:
    """Customer a: order A1 of two lines (10 and 2), the second at ``second_line``; b: one
    order of one line; the export is observed until AS_OF."""
    return InteractionLog.from_arrays(
        customer_id=["a", "a", "b"],
        timestamp=["2024-03-01T10:00Z", second_line, "2024-03-01T12:00Z"],
        kind="purchase",
        order_id=["A1", "A1", "B1"],
        value=[10.0, 2.0, 5.0],
    ).with_observed_until(AS_OF)  # the export covers the days up to AS_OF


class TestOrdersByHand:
    def test_lines_of_one_order_at_one_instant(self) -> None:
        """Lines at one instant: one order row, values summed, the same RFM summary."""
        lines = _lines("2024-03-01T10:00Z")
        orders = lines.orders()
        assert orders.column("value").tolist() == [12.0, 5.0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            on_lines = rfm_summary(lines, as_of=AS_OF)
        on_orders = rfm_summary(orders, as_of=AS_OF)
        for name in ("frequency", "recency", "T", "monetary_value"):
            np.testing.assert_array_equal(getattr(on_lines, name), getattr(on_orders, name))

    def test_an_order_of_lines_on_two_days_is_one_row(self) -> None:
        """Rows sharing an ``order_id`` are one order whatever their times (documented): the
        row of the first line, the values summed."""
        orders = _lines("2024-03-02T09:00Z").orders()
        assert len(orders) == 2
        assert orders.column("value").tolist() == [12.0, 5.0]

    @pytest.mark.parametrize(
        "second_line",
        ["2024-03-01T10:00Z", "2024-03-01T23:59Z", "2024-03-02T09:00Z", "2024-03-05T09:00Z"],
        ids=["same-instant", "same-day", "next-day", "days-later"],
    )
    def test_rfm_summary_of_lines_and_of_orders_agree(self, second_line: str) -> None:
        """docs/guide/metrics.md: rfm_summary gives the same answers on the lines and on
        ``log.orders()``. Before, with A1's second line a day later the lines gave a a repeat
        day (frequency 1, recency 1, monetary 2) and the orders none, with no warning. Now
        the order is one purchase on its first line's day, worth 12, on either log, quietly
        (warnings are errors here)."""
        lines = _lines(second_line)
        on_lines = rfm_summary(lines, as_of=AS_OF)
        on_orders = rfm_summary(lines.orders(), as_of=AS_OF)
        for name in ("frequency", "recency", "T", "monetary_value"):
            np.testing.assert_array_equal(getattr(on_lines, name), getattr(on_orders, name))
        assert on_lines.frequency.tolist() == [0.0, 0.0]
        assert on_lines.T.tolist() == [9.0, 9.0]

    def test_an_order_between_the_lines_of_another(self) -> None:
        """a: order A1 (lines on 1 and 5 March) with order A2 on 3 March between them: two
        purchases, on 1 and 3 March; the repeat (A2, 7) is the monetary value."""
        lines = InteractionLog.from_arrays(
            customer_id=["a", "a", "a"],
            timestamp=["2024-03-01T10:00Z", "2024-03-03T10:00Z", "2024-03-05T10:00Z"],
            kind="purchase",
            order_id=["A1", "A2", "A1"],
            value=[10.0, 7.0, 2.0],
        ).with_observed_until(AS_OF)
        summary = rfm_summary(lines, as_of=AS_OF)
        assert (summary.frequency.tolist(), summary.recency.tolist()) == ([1.0], [2.0])
        assert summary.monetary_value.tolist() == [7.0]
        orders = rfm_summary(lines.orders(), as_of=AS_OF)
        assert orders.monetary_value.tolist() == [7.0]

    def test_a_later_line_past_as_of_still_belongs_to_its_order(self) -> None:
        """A1's second line after ``as_of`` is part of an order placed before it, as in
        ``log.orders()``: one purchase worth 12, no repeat."""
        lines = InteractionLog.from_arrays(
            customer_id=["a", "a", "b"],
            timestamp=["2024-03-01T10:00Z", "2024-03-12T09:00Z", "2024-03-01T12:00Z"],
            kind="purchase",
            order_id=["A1", "A1", "B1"],
            value=[10.0, 2.0, 5.0],
        )
        on_lines = rfm_summary(lines, as_of="2024-03-10T00:00Z")
        on_orders = rfm_summary(lines.orders(), as_of="2024-03-10T00:00Z")
        assert on_lines.frequency.tolist() == on_orders.frequency.tolist() == [0.0, 0.0]
        assert on_lines.T.tolist() == on_orders.T.tolist() == [9.0, 9.0]

    def test_calibration_holdout_counts_orders(self) -> None:
        """The hold-out counts an order once, in its first line's period: A1's second line in
        the hold-out is no hold-out purchase."""
        lines = InteractionLog.from_arrays(
            customer_id=["a", "a", "a"],
            timestamp=["2024-03-01T10:00Z", "2024-03-02T10:00Z", "2024-03-06T10:00Z"],
            kind="purchase",
            order_id=["A1", "A2", "A1"],
            value=[10.0, 7.0, 2.0],
        ).with_observed_until(AS_OF)
        for log in (lines, lines.orders()):
            calibration, holdout, duration = calibration_holdout_split(
                log, "2024-03-04T00:00Z", "2024-03-09T00:00Z"
            )
            assert (calibration.frequency.tolist(), holdout.tolist(), duration) == (
                [1.0],
                [0.0],
                5.0,
            )
