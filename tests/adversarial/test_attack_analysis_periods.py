"""Periods at their edges for the retention metrics, checked by hand on four customers:
a buys on 1 and 10 January, b on 5 January, c on 10 February (and views on 1 March), d on
30 March."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from cxmodel import metrics
from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.log import InteractionLog

LOG = InteractionLog.from_records(
    [
        {"customer_id": customer, "timestamp": time, "kind": kind}
        for customer, time, kind in [
            ("a", "2024-01-01T00:00Z", "purchase"),
            ("a", "2024-01-10T00:00Z", "purchase"),
            ("b", "2024-01-05T00:00Z", "purchase"),
            ("c", "2024-02-10T00:00Z", "purchase"),
            ("c", "2024-03-01T00:00Z", "view"),
            ("d", "2024-03-30T00:00Z", "purchase"),
        ]
    ]
)


class TestByHand:
    def test_repeat_purchase_window_is_half_open(self) -> None:
        """[5 Jan, 10 Jan) holds only b's purchase; one more second takes in a's second."""
        closed = metrics.repeat_purchase_rate(LOG, "2024-01-05T00:00Z", "2024-01-10T00:00Z")
        assert (closed.numerator, closed.n) == (0, 1)
        wider = metrics.repeat_purchase_rate(LOG, "2024-01-01T00:00Z", "2024-01-10T00:00:01Z")
        assert (wider.numerator, wider.n) == (1, 2)

    def test_customer_lifetimes(self) -> None:
        """As of 15 March with 30 days of inactivity: a churned after 9 days, b after 0; c
        (active on 1 March) is censored at 34 days; d, first seen later, is left out."""
        lifetimes = metrics.customer_lifetimes(LOG, "2024-03-15T00:00Z", inactivity="30d")
        assert lifetimes.customers.tolist() == ["a", "b", "c"]
        assert lifetimes.durations.tolist() == [9.0, 0.0, 34.0]
        assert lifetimes.observed.tolist() == [True, True, False]

    def test_cohorts_not_reached_are_missing(self) -> None:
        """January cohort (a, b), February (c), March (d): nobody buys again; cells past the
        log's end are NaN, not 0 %."""
        cohorts = metrics.cohort_retention(LOG)
        np.testing.assert_array_equal(cohorts.counts, [[2, 0, 0], [1, 0, 0], [1, 0, 0]])
        assert np.isnan(cohorts.rates[1, 2]) and np.isnan(cohorts.rates[2, 1])

    def test_churn_rate_refuses_a_period_ending_before_it_starts(self) -> None:
        """The reference behaviour for the test below."""
        with pytest.raises(CXModelError, match="end must be after start"):
            metrics.churn_rate(LOG, "2024-03-01T00:00Z", "2024-02-01T00:00Z")

    @pytest.mark.parametrize(
        "rate", [metrics.churn_rate, metrics.retention_rate, metrics.repeat_purchase_rate]
    )
    @pytest.mark.parametrize(
        ("start", "end", "hint"),
        [
            ("2024-02-01T00:00Z", "2024-01-01T00:00Z", "swapped"),
            ("2024-02-01T00:00Z", "2024-02-01T00:00Z", "give the period a length"),
        ],
        ids=["reversed", "empty"],
    )
    def test_rates_refuse_a_period_without_time(
        self, rate: Callable[..., object], start: str, end: str, hint: str
    ) -> None:
        """Every rate over ``[start, end)`` refuses ``end <= start`` alike, naming itself and
        both times: an answer there (NaN with the warning of an empty denominator, "check the
        data") would blame the data for a swapped pair of arguments."""
        name = rate.__name__
        with pytest.raises(SchemaError, match=rf"{name}\(\): end must be after start.*{hint}"):
            rate(LOG, start, end)

    def test_repeat_purchase_rate_keeps_open_bounds(self) -> None:
        """An open bound is not a period without time: only ``end`` or only ``start``."""
        assert metrics.repeat_purchase_rate(LOG, None, "2024-01-06T00:00Z").n == 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            assert metrics.repeat_purchase_rate(LOG, "2024-01-06T00:00Z").n == 3
