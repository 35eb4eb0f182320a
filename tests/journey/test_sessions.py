"""Tests of sessions(): session ids from time gaps."""

from __future__ import annotations

import pytest

from cxmodel.errors import SchemaError
from cxmodel.journey import sessions
from tests.journey.helpers import log_of


class TestSessions:
    def test_gap_splits_and_ids_unique_across_customers(self) -> None:
        """A gap above the limit starts a session; each customer starts a new one."""
        log = log_of(
            [("a", 0, "view"), ("a", 1000, "view"), ("a", 4000, "view"), ("b", 10, "view")]
        )
        s = sessions(log, gap="30m").numeric("session_id").tolist()
        assert s == [0.0, 0.0, 1.0, 2.0]

    def test_gap_equal_to_limit_stays(self) -> None:
        """A gap exactly equal to the limit keeps the session."""
        log = log_of([("a", 0, "view"), ("a", 1800, "view"), ("a", 3601, "view")])
        assert sessions(log, gap="30m").numeric("session_id").tolist() == [0.0, 0.0, 1.0]

    @pytest.mark.parametrize("gap", ["soon", "2 months", -5])
    def test_bad_gap(self, gap: object) -> None:
        """Non-durations and calendar durations are rejected."""
        with pytest.raises(SchemaError, match="gap"):
            sessions(log_of([("a", 0, "view")]), gap=gap)  # type: ignore[arg-type]
