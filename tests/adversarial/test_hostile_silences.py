"""Answers that were silently empty or infinite: trigger evaluation as of a time before the
data, and sums of finite values past the float range."""

from __future__ import annotations

import warnings

import pytest

from cxmodel.errors import DataError
from cxmodel.log import InteractionLog
from cxmodel.triggers import evaluate, parse

RULES = parse("trigger thanks:\n    when purchase\n    emit coupon")
LOG = InteractionLog.from_arrays(
    ["a", "b"], ["2024-01-01T00:00Z", "2024-02-01T00:00Z"], ["purchase", "purchase"]
)
BEFORE = "2023-01-01T00:00:00Z"
REFUSED = (
    r"as_of 2023-01-01T00:00:00Z is before the log's first interaction "
    r"\(2024-01-01T00:00:00Z\)"
)


class TestEvaluateBeforeTheData:
    def test_evaluate_refuses_as_of_before_the_first_interaction(self) -> None:
        """evaluate() as of a year before the log answered no firings without a word (a wrong
        year or zone looks like 'nothing fired'); it is a DataError naming both times."""
        with pytest.raises(DataError, match=f"^evaluate\\(\\): {REFUSED}"):
            evaluate(RULES, LOG, as_of=BEFORE)

    def test_as_of_at_the_first_interaction_is_answered(self) -> None:
        """The first interaction's own time sees it."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            firings = evaluate(RULES, LOG, as_of="2024-01-01T00:00:00Z")
        assert [f.customer_id for f in firings] == ["a"]

    def test_an_empty_log_is_answered_at_any_as_of(self) -> None:
        """A log with no rows has no first interaction to be before: no firings."""
        empty = LOG.filter([False, False])
        assert len(evaluate(RULES, empty, as_of=BEFORE)) == 0

    def test_dask_evaluate_refuses_as_one_process_does(self) -> None:
        """cxmodel.dask.evaluate refuses before computing any partition's firings, naming the
        first interaction of every partition."""
        dask = pytest.importorskip("dask")
        dd = pytest.importorskip("dask.dataframe")
        from cxmodel import dask as cxd

        frame = dd.from_pandas(LOG.to_pandas(), npartitions=2)
        with (
            dask.config.set(scheduler="synchronous"),
            pytest.raises(DataError, match=f"^cxmodel.dask.evaluate\\(\\): {REFUSED}"),
        ):
            cxd.evaluate(RULES, frame, as_of=BEFORE)
