"""Tests of the table of rejected rows: row numbers, reasons and raw values, as a sequence and
as a table."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.log._rejected import RejectedRows

REJECTED = RejectedRows(
    np.array([2, 5], dtype=np.int64),
    np.array(["score 11 is outside 0..10", "timestamp 'yesterday'"], dtype=object),
    ({"customer_id": "c2", "score": "11"}, {"customer_id": "c5", "score": ""}),
)


class TestRejectedRows:
    def test_empty(self) -> None:
        """No rejected rows: length 0, nothing to iterate."""
        empty = RejectedRows.empty()
        assert len(empty) == 0 and list(empty) == []

    def test_iteration_gives_row_reason_record(self) -> None:
        """Each item is (1-based row, reason, raw record) as Python values."""
        first = next(iter(REJECTED))
        assert first == (2, "score 11 is outside 0..10", {"customer_id": "c2", "score": "11"})
        assert isinstance(first[0], int) and len(REJECTED) == 2

    def test_to_dict_lists_columns(self) -> None:
        """The dict form holds the row numbers, reasons and raw records as lists."""
        d = REJECTED.to_dict()
        assert list(REJECTED.records) == d["record"]
        assert list(d["row"]) == [2, 5]
        assert list(d["reason"]) == ["score 11 is outside 0..10", "timestamp 'yesterday'"]

    def test_to_pandas_spreads_the_raw_values(self) -> None:
        """One column per raw value next to the row number and reason."""
        pytest.importorskip("pandas")
        frame = REJECTED.to_pandas()
        assert {"row", "reason", "customer_id", "score"} <= set(frame.columns)
        assert frame["customer_id"].tolist() == ["c2", "c5"]
