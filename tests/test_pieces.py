"""Counted warnings: silent at 0 in one process, carried at 0 by the pieces of a dask run."""

from __future__ import annotations

import warnings

from cxmodel._pieces import counting_pieces, first_count_is_zero, warn_counted
from cxmodel.errors import DataWarning

TEMPLATE = "{missing:,} of {rows:,} purchases have no value"


def _seen(count: int, *, piece: bool) -> list[str]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        if piece:
            with counting_pieces():
                warn_counted(DataWarning, TEMPLATE, missing=count, rows=6)
        else:
            warn_counted(DataWarning, TEMPLATE, missing=count, rows=6)
    return [str(r.message) for r in records]


class TestWarnCounted:
    def test_one_process_warns_only_a_nonzero_count(self) -> None:
        """Clean data raises nothing; a count raises the formatted message."""
        assert _seen(0, piece=False) == []
        assert _seen(2, piece=False) == ["2 of 6 purchases have no value"]

    def test_a_piece_carries_a_zero_count(self) -> None:
        """A piece raises it at 0 so that its rows add to the total of the whole."""
        assert _seen(0, piece=True) == ["0 of 6 purchases have no value"]

    def test_first_count_decides(self) -> None:
        """The first count is the one the warning is about."""
        assert first_count_is_zero({"missing": 0, "rows": 6})
        assert not first_count_is_zero({"missing": 1, "rows": 0})
        assert not first_count_is_zero({})
