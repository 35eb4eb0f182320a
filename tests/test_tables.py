"""Tests of MetricTable (labelled columns) and the small-sample warning."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel._tables import SMALL_N, MetricTable, SmallSampleWarning, warn_small_groups

TABLE = MetricTable(
    "nps",
    {
        "channel": np.array(["app", "web"], dtype=object),
        "n": np.array([40, 12]),
        "nps": np.array([30.0, -10.0]),
    },
)


class TestMetricTable:
    def test_length_columns_and_names(self) -> None:
        """One row per group; columns by name, in order."""
        assert len(TABLE) == 2
        assert TABLE.names == ("channel", "n", "nps")
        assert TABLE["nps"].tolist() == [30.0, -10.0]

    def test_no_columns(self) -> None:
        """A table without columns has no rows."""
        assert len(MetricTable("empty", {})) == 0

    def test_unknown_column(self) -> None:
        """Asking for a column the table lacks is a KeyError naming it."""
        with pytest.raises(KeyError, match="score"):
            TABLE["score"]

    def test_dict_and_pandas(self) -> None:
        """The dict and pandas forms hold the columns in order."""
        pd = pytest.importorskip("pandas")
        frame = TABLE.to_pandas()
        assert isinstance(frame, pd.DataFrame)
        assert frame["channel"].tolist() == ["app", "web"]
        assert frame["n"].tolist() == [40, 12]


class TestWarnSmallGroups:
    def test_counts_small_groups_with_answers(self) -> None:
        """Groups of 1..29 answers are small; an empty group and a group of 30 are not."""
        with pytest.warns(
            SmallSampleWarning,
            match=r"NPS: 2 group\(s\) have fewer than 30 answers \(smallest n = 5\)",
        ):
            warn_small_groups([0, 5, 29, SMALL_N], "NPS")

    def test_no_small_group_is_silent(self) -> None:
        """Nothing to say when every group is empty or has 30 answers or more."""
        warn_small_groups([0, 30, 400], "NPS")  # warnings are errors in the test run
