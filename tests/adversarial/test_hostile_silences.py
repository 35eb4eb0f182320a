"""Answers that were silently empty or infinite: trigger evaluation as of a time before the
data, and sums of finite values past the float range."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest

from cxmodel import metrics, models, report, segment
from cxmodel.errors import DataError, DataWarning
from cxmodel.log import CustomerTable, InteractionLog
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


HUGE = InteractionLog.from_arrays(
    ["a", "a", "b"],
    ["2024-01-01T00:00Z", "2024-02-01T00:00Z", "2024-01-05T00:00Z"],
    ["purchase"] * 3,
    value=[1e308, 1e308, 5.0],
)
AS_OF = "2024-02-01T00:00:00Z"
PAST_RANGE = r"the sum of column 'value'{who} is past the float range \(1.8e\+308\)"


class TestSumsPastTheFloatRange:
    @pytest.mark.parametrize(
        ("call", "caller", "who"),
        [
            pytest.param(
                lambda: metrics.value_summary(HUGE),
                "value_summary()",
                "",
                id="value_summary",
            ),
            *(
                pytest.param(
                    lambda function=function: function(HUGE, as_of=AS_OF),
                    caller,
                    " for customer 'a'",
                    id=caller.split(".")[0].removesuffix("()"),
                )
                for function, caller in [
                    (CustomerTable.from_log, "CustomerTable.from_log()"),
                    (models.rfm_summary, "rfm_summary()"),
                    (segment.rfm_scores, "rfm_scores()"),
                    (models.churn_features, "churn_features()"),
                ]
            ),
        ],
    )
    def test_an_overflowing_sum_is_refused(
        self, call: Callable[[], object], caller: str, who: str
    ) -> None:
        """Two purchases of 1e308 (finite) added to an infinite revenue, monetary value or
        spend without a word (or with numpy's 'overflow encountered in reduceat', naming no
        column); each is a DataError naming the function, the column and the customer."""
        pattern = f"^{re.escape(caller)}: {PAST_RANGE.format(who=who)}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            with pytest.raises(DataError, match=pattern):
                call()

    def test_the_report_names_the_overflow_in_the_sections_left_out(self) -> None:
        """The report leaves the value sections out, saying why, instead of showing inf."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            text = str(report.cx_report(HUGE, as_of=AS_OF))
        assert "Customer value: could not be computed" in text
        assert "is past the float range" in text
        assert " inf " not in text

    def test_the_segment_mean_of_large_customers_is_refused(self) -> None:
        """Customers of 1e308 each are summable one by one, but not their segment's mean."""
        from cxmodel._sums import grouped_sums

        with pytest.raises(DataError, match="for segment 'vip'"):
            grouped_sums(
                np.array([0, 0]), np.array([1e308, 1e308]), 1, column="monetary",
                where="cx_report()", names=np.array(["vip"]), of="segment",
            )  # fmt: skip
