"""Breakdowns shared by the rate metrics: missing labels, group keys, Wilson rate tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.metrics import MetricTable, RateResult
from cxmodel.metrics._groups import (
    MISSING,
    group_table,
    key_columns,
    key_name,
    missing_as_label,
    rate_breakdown,
    wilson_columns,
)

Z95 = 1.959963984540054

#: Wilson interval of 3 successes in 4 at 95 %, by hand: centre (0.75 + z^2/8) / (1 + z^2/4),
#: half-width z * sqrt(0.75 * 0.25 / 4 + z^2 / 64) / (1 + z^2/4).
WILSON_3_OF_4 = (0.30064, 0.95441)


class TestMissingAsLabel:
    def test_none_and_nan_become_the_missing_label(self) -> None:
        """None and NaN read as '(missing)'; other values are kept; the input is not changed."""
        values = np.array(["a", None, float("nan"), "b"], dtype=object)
        got = missing_as_label(values)
        assert got.tolist() == ["a", MISSING, MISSING, "b"]
        assert values[1] is None


class TestGroupTable:
    def test_sorted_keys_and_row_groups(self) -> None:
        """Keys come back sorted, and each row points at its key."""
        keys, group, size = group_table(["by"], [np.array(["b", "a", "b"], dtype=object)], 3, None)
        assert (keys["by"].tolist(), group.tolist(), size) == (["a", "b"], [1, 0, 1], 2)

    def test_two_keys(self) -> None:
        """Two key columns group by their pairs."""
        columns = [np.array(["x", "x", "y"], dtype=object), np.array(["1", "2", "1"], dtype=object)]
        keys, group, size = group_table(["a", "b"], columns, 3, None)
        assert list(zip(keys["a"].tolist(), keys["b"].tolist(), strict=True)) == [
            ("x", "1"), ("x", "2"), ("y", "1"),
        ]  # fmt: skip
        assert (group.tolist(), size) == ([0, 1, 2], 3)

    def test_numbers_sort_as_numbers_missing_last(self) -> None:
        """Numeric labels sort numerically (2 before 10), '(missing)' last; text as text."""
        labels = np.array([10, 2, MISSING, 1, 10], dtype=object)
        keys, group, size = group_table(["store"], [labels], 5, None)
        assert keys["store"].tolist() == [1, 2, 10, MISSING]
        assert (group.tolist(), size) == ([2, 1, 3, 0, 2], 4)
        text = np.array(["10", "2"], dtype=object)
        assert group_table(["by"], [text], 2, None)[0]["by"].tolist() == ["10", "2"]

    def test_nothing_is_one_group(self) -> None:
        """No keys and no rows is one group, so that an empty answer still has a row."""
        keys, group, size = group_table([], [], 0, None)
        assert (keys, group.tolist(), size) == ({}, [], 1)


class TestKeyColumns:
    def test_key_name(self) -> None:
        """A column name names its key; labels given as an array are the key 'by'."""
        assert (key_name("topic"), key_name(["a", "b"]), key_name(None)) == ("topic", "by", "by")

    def test_labels_then_period(self) -> None:
        """Labels come first under their name, then the calendar period of each time."""
        labels = np.array(["x", "y"], dtype=object)
        times = np.array([0, 40 * 86_400_000_000], dtype=np.int64)  # 1 January, 10 February 1970
        names, columns = key_columns("topic", labels, "month", times, None)
        assert names == ["topic", "period"]
        assert columns[0] is labels and columns[1][1] - columns[1][0] == 1

    def test_nothing_is_no_key(self) -> None:
        """Without labels and period there are no keys; a period needs times."""
        assert key_columns("by", None, None, None, None) == ([], [])
        with pytest.raises(SchemaError, match="period= needs the time"):
            key_columns("by", None, "week", None, None)


class TestWilsonColumns:
    def test_share_and_interval(self) -> None:
        """3 of 4 is 0.75 with the hand-computed Wilson interval; n = 0 gives NaN throughout."""
        share, low, high = wilson_columns(np.array([3, 0]), np.array([4, 0]), Z95)
        assert share[0] == 0.75
        assert (low[0], high[0]) == pytest.approx(WILSON_3_OF_4, abs=1e-5)
        assert math.isnan(share[1]) and math.isnan(low[1]) and math.isnan(high[1])


class TestRateBreakdown:
    def test_overall(self) -> None:
        """Without labels or period the rate is one RateResult."""
        got = rate_breakdown(np.array([True, True, False, True]), definition="d", caller="f()")
        assert isinstance(got, RateResult)
        assert (got.value, got.numerator, got.n, got.definition) == (0.75, 3, 4, "d")
        assert got.ci == pytest.approx(WILSON_3_OF_4, abs=1e-5)

    def test_empty(self) -> None:
        """No items is NaN with n = 0 and a DataWarning naming the caller, not an error."""
        with pytest.warns(DataWarning, match=r"^f\(\): 0 items in the denominator of the rate"):
            got = rate_breakdown(np.array([], dtype=bool), definition="d", caller="f()")
        assert isinstance(got, RateResult)
        assert math.isnan(got.value) and got.n == 0

    def test_empty_table_warns(self) -> None:
        """No items with by= warns too: the table has no rows."""
        empty = np.array([], dtype=object)
        with pytest.warns(DataWarning, match="0 items in the denominator"):
            got = rate_breakdown(
                np.array([], dtype=bool), definition="d", caller="f()", labels=empty
            )
        assert isinstance(got, MetricTable) and len(got["n"]) == 0

    def test_by_labels_with_missing(self) -> None:
        """One row per label seen, '(missing)' last, with numerator and n per group."""
        success = np.array([True, False, True, False])
        labels = np.array(["x", "y", None, "x"], dtype=object)
        got = rate_breakdown(success, definition="d", caller="f()", labels=labels, by_name="topic")
        assert isinstance(got, MetricTable)
        assert got["topic"].tolist() == ["x", "y", MISSING]
        assert got["value"].tolist() == [0.5, 0.0, 1.0]
        assert (got["numerator"].tolist(), got["n"].tolist()) == ([1, 0, 1], [2, 1, 1])

    def test_numeric_labels_in_numeric_order(self) -> None:
        """An age band coded 1..12 gives rows 1, 2, ..., 12 (not 1, 10, 11, 12, 2, ...)."""
        bands = np.arange(1, 13, dtype=np.float64).repeat(2)
        got = rate_breakdown(np.ones(24, dtype=bool), definition="d", caller="f()", labels=bands)
        assert isinstance(got, MetricTable)
        assert got["by"].tolist() == [float(b) for b in range(1, 13)]

    def test_numerator_column_name(self) -> None:
        """numerator_name names the count of successes in the table."""
        got = rate_breakdown(
            np.array([True, False]),
            definition="d",
            caller="f()",
            labels=np.array(["x", "x"], dtype=object),
            numerator_name="responses",
        )
        assert isinstance(got, MetricTable)
        assert list(got.columns) == ["by", "value", "ci_low", "ci_high", "responses", "n"]

    def test_bad_breakdowns(self) -> None:
        """Labels must match the items one to one; a period needs the items' times."""
        with pytest.raises(SchemaError, match="expected one label per item"):
            rate_breakdown(
                np.array([True]), definition="d", caller="f()", labels=np.array(["a", "b"])
            )
        with pytest.raises(SchemaError, match="period= needs the time"):
            rate_breakdown(np.array([True]), definition="d", caller="f()", period="month")
