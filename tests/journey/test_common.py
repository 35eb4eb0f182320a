"""Tests of the journey views' shared helpers: level and value codes, session codes, row masks,
windows, next occurrences and per-group quantiles (hand-computed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey import (
    compare_friction,
    compare_funnels,
    compare_paths,
    compare_step_matrices,
    compare_transitions,
)
from cxmodel.journey._common import (
    MISSING_LABEL,
    level_codes,
    next_occurrence,
    row_mask,
    session_codes,
    sorted_quantiles,
    value_codes,
    window_us,
)
from tests.journey.helpers import log_of

#: In log order (customer, time): a@1 app, a@5 missing, b@0 web, b@3 web.
ROWS = [("b", 0, "view"), ("a", 5, "buy"), ("a", 1, "view"), ("b", 3, "view")]
CHANNEL = ["web", None, "app", "web"]


class TestLevelCodes:
    def test_sorted_labels_and_missing_last(self) -> None:
        """Labels are the column's categories; a missing value gets the extra "(missing)" code."""
        codes, labels = level_codes(log_of(ROWS, channel=CHANNEL), "channel")
        assert codes.tolist() == [0, 2, 1, 1]
        assert labels.tolist() == ["app", "web", MISSING_LABEL]

    def test_no_missing_label_without_missing_values(self) -> None:
        """A column without missing values has no "(missing)" label."""
        _, labels = level_codes(log_of(ROWS, channel=["web", "app", "app", "web"]), "channel")
        assert labels.tolist() == ["app", "web"]

    @pytest.mark.parametrize(
        ("level", "match"),
        [("tier", "not a column"), ("timestamp", "must be a string column")],
        ids=["unknown", "not-string"],
    )
    def test_bad_level(self, level: str, match: str) -> None:
        """An unknown or non-string column is rejected, naming it."""
        with pytest.raises(SchemaError, match=match):
            level_codes(log_of(ROWS), level)


class TestValueCodes:
    def test_numeric_values_share_codes(self) -> None:
        """Equal numbers share a code, in sorted order; one more code is kept for missing."""
        codes, n = value_codes(log_of(ROWS, amount=[2.0, 3.0, 1.0, 2.0]), "amount")
        assert codes.tolist() == [0, 2, 1, 1]  # log order: 1.0, 3.0, 2.0, 2.0
        assert n == 4

    def test_missing_number_is_a_value_of_its_own(self) -> None:
        """A NaN gets a code no present number has, below the count."""
        codes, n = value_codes(log_of(ROWS, amount=[2.0, np.nan, 1.0, 2.0]), "amount")
        assert codes[1] not in {codes[0], codes[2]} and codes[2] == codes[3]
        assert codes.min() >= 0 and codes.max() < n

    def test_string_column_uses_level_codes(self) -> None:
        """A string column's codes are its level codes, missing included."""
        codes, n = value_codes(log_of(ROWS, channel=CHANNEL), "channel")
        assert (codes.tolist(), n) == ([0, 2, 1, 1], 3)

    def test_unknown_and_timestamp_columns(self) -> None:
        """Only string and numeric columns have value codes."""
        with pytest.raises(SchemaError, match="not in the log"):
            value_codes(log_of(ROWS), "tier")
        with pytest.raises(SchemaError, match="string or numeric"):
            value_codes(log_of(ROWS), "timestamp")


class TestSessionCodes:
    def test_equal_ids_of_two_customers_are_two_sessions(self) -> None:
        """Codes run 0.. in log order; the same id for a and b gives two sessions."""
        log = log_of(ROWS, session_id=["s1", "s1", "s2", "s1"])
        assert session_codes(log).tolist() == [0, 1, 2, 2]

    def test_numeric_ids(self) -> None:
        """Numbers written by sessions() work like strings."""
        log = log_of(ROWS, session_id=[7.0, 7.0, 8.0, 7.0])
        assert session_codes(log).tolist() == [0, 1, 2, 2]

    def test_split_id_counts_twice_and_warns(self) -> None:
        """a's events x, y, x are three runs; the warning counts the one split id."""
        log = log_of([("a", 0, "v"), ("a", 1, "v"), ("a", 2, "v"), ("b", 0, "v")],
                     session_id=["x", "y", "x", "x"])  # fmt: skip
        with pytest.warns(DataWarning, match="1 run"):
            codes = session_codes(log)
        assert codes.tolist() == [0, 1, 2, 3]

    def test_no_column_or_missing_ids(self) -> None:
        """Without session ids, or with a missing one, the error says how to derive them."""
        with pytest.raises(SchemaError, match="sessions"):
            session_codes(log_of(ROWS))
        with pytest.raises(SchemaError, match="missing in 1 row"):
            session_codes(log_of(ROWS, session_id=["s1", None, "s2", "s1"]))


class TestRowMask:
    def test_none_passes_and_mask_is_kept(self) -> None:
        """None means no segment; a boolean mask of the log's length is returned."""
        log = log_of(ROWS)
        assert row_mask(log, None) is None
        mask = row_mask(log, [True, False, True, True])
        assert mask is not None and mask.tolist() == [True, False, True, True]

    @pytest.mark.parametrize(
        "segment", [[1, 0, 1, 1], [True, False]], ids=["not-boolean", "wrong-length"]
    )
    def test_bad_mask(self, segment: list[object]) -> None:
        """A mask of another dtype or length is rejected with its dtype and shape."""
        with pytest.raises(SchemaError, match=r"shape \(4,\)"):
            row_mask(log_of(ROWS), segment)


class TestWindowUs:
    def test_fixed_durations(self) -> None:
        """30 minutes is 1,800,000,000 microseconds; None is no window."""
        assert window_us("30m", "gap") == 1_800_000_000
        assert window_us(None, "gap") is None

    def test_calendar_duration_names_the_argument(self) -> None:
        """A month has no fixed length: the error names the argument."""
        with pytest.raises(SchemaError, match="window='1 month' is not a fixed duration"):
            window_us("1 month", "window")


class TestNextOccurrence:
    def test_first_candidate_at_or_after_in_the_same_group(self) -> None:
        """Candidates are rows 1 (group 0), 3 (group 1), 4 (group 0)."""
        candidates = np.array([False, True, False, True, True])
        group = np.array([0, 0, 0, 1, 0])
        out = next_occurrence(
            candidates, group, np.array([0, 2, 0, 4, 1]), np.array([0, 0, 1, 1, 0])
        )
        assert out.tolist() == [1, 4, 3, -1, 1]

    def test_no_candidates(self) -> None:
        """Without candidates every query answers -1."""
        out = next_occurrence(
            np.zeros(3, bool), np.zeros(3, np.int64), np.array([0, 2]), np.array([0, 0])
        )
        assert out.tolist() == [-1, -1]


class TestSortedQuantiles:
    def test_linear_interpolation_per_group(self) -> None:
        """Group 0 holds 1, 2, 3, 4 (median 2.5), group 1 nothing (NaN), group 2 holds 10."""
        out = sorted_quantiles(
            np.array([4.0, 1.0, 3.0, 2.0, 10.0]), np.array([0, 0, 0, 0, 2]), 3, (0.0, 0.5, 1.0)
        )
        expected = np.array([[1.0, np.nan, 10.0], [2.5, np.nan, 10.0], [4.0, np.nan, 10.0]])
        np.testing.assert_array_equal(expected, out)

    def test_presorted_input_is_used_as_is(self) -> None:
        """With presorted=True the values are read in the order given."""
        out = sorted_quantiles(np.array([1.0, 3.0]), np.array([0, 0]), 1, (0.25,), presorted=True)
        assert out.tolist() == [[1.5]]


@pytest.mark.parametrize(
    "compare",
    [
        lambda log, a, b: compare_funnels(log, ["view", "buy"], a, b),
        lambda log, a, b: compare_transitions(log, a, b),
        lambda log, a, b: compare_step_matrices(log, a, b),
        lambda log, a, b: compare_paths(log, a, b),
        lambda log, a, b: compare_friction(log, a, b, errors=()),
    ],
    ids=["funnels", "transitions", "step-matrices", "paths", "friction"],
)
def test_an_empty_segment_of_a_comparison_warns(compare: Any) -> None:
    """A mask selecting no row makes every difference NaN: the comparison says which mask
    (segment_masks, shared by every compare_*), instead of a table of NaN without a word."""
    log = log_of(ROWS)
    everyone = np.ones(len(ROWS), dtype=bool)
    with pytest.warns(DataWarning, match="segment_b selects none of the log's 4 rows"):
        compare(log, everyone, ~everyone)
