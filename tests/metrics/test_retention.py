"""Tests for churn, retention, repeat purchase and cohort retention on hand-built logs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import churn_rate, cohort_retention, repeat_purchase_rate, retention_rate


def _log() -> InteractionLog:
    """a: Jan + Feb + Mar buyer; b: Jan only; c: Feb + Apr; d: Jan, cancels in Feb."""
    rows = [
        ("a", "2024-01-03", "purchase"),
        ("a", "2024-02-10", "purchase"),
        ("a", "2024-03-10", "purchase"),
        ("b", "2024-01-20", "purchase"),
        ("c", "2024-02-01", "purchase"),
        ("c", "2024-02-25", "purchase"),
        ("c", "2024-04-02", "purchase"),
        ("d", "2024-01-15", "purchase"),
        ("d", "2024-02-05", "cancel"),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T12:00:00+00:00" for r in rows],
        kind=[r[2] for r in rows],
    )


class TestChurn:
    def test_activity_definition(self) -> None:
        """Active in January (a, b, d); in February b is silent, d cancels (activity counts)."""
        r = churn_rate(_log(), "2024-02-01T00:00Z", "2024-03-01T00:00Z", lookback="31d")
        assert (r.numerator, r.n) == (1, 3)
        assert r.value == pytest.approx(1 / 3)
        assert r.definition.startswith("non-contractual")

    def test_cancel_definition(self) -> None:
        """Contractual: a, b, d seen before February; only d cancels in February."""
        r = churn_rate(_log(), "2024-02-01T00:00Z", "2024-03-01T00:00Z", definition="cancel")
        assert (r.numerator, r.n) == (1, 3)
        assert r.definition.startswith("contractual")

    def test_retention_is_complement(self) -> None:
        """retention_rate = 1 - churn_rate with the same definition."""
        args = (_log(), "2024-02-01T00:00Z", "2024-03-01T00:00Z")
        assert retention_rate(*args).value == pytest.approx(1 - churn_rate(*args).value)

    def test_period_with_no_base(self) -> None:
        """No customers at the start: NaN with n = 0 and a DataWarning, not an exception."""
        with pytest.warns(DataWarning, match=r"churn_rate\(\): 0 items in the denominator"):
            r = churn_rate(_log(), "2023-01-01T00:00Z", "2023-02-01T00:00Z")
        assert r.n == 0 and math.isnan(r.value)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"definition": "contract"}, "definition must be one of"),
            ({"start": "2024-03-01T00:00Z"}, "end must be after start"),
        ],
        ids=["definition", "reversed"],
    )
    def test_bad_arguments(self, kwargs: dict[str, str], match: str) -> None:
        """Unknown definitions and reversed windows are SchemaErrors."""
        args: dict[str, str] = {"start": "2024-02-01T00:00Z", "end": "2024-03-01T00:00Z"}
        args |= kwargs
        with pytest.raises(SchemaError, match=match):
            churn_rate(_log(), **args)


class TestRepeatAndCohorts:
    def test_repeat_purchase_rate(self) -> None:
        """a and c bought more than once, b and d once: 2 / 4."""
        r = repeat_purchase_rate(_log())
        assert (r.numerator, r.n, r.value) == (2, 4, 0.5)

    def test_lines_of_one_order_are_not_a_repeat_purchase(self) -> None:
        """A one-order customer with 3 lines (one instant) and one with 2 lines sharing an
        order_id 'bought again' when rows are counted: a warning counts the 3 further lines,
        and on ``log.orders()`` only the customer with two orders repeats (1 / 3)."""
        log = InteractionLog.from_arrays(
            ["a", "a", "a", "b", "b", "c", "c"],
            ["2024-01-01T10:00Z"] * 3 + ["2024-01-02T10:00Z", "2024-01-09T10:00Z"]
            + ["2024-01-03T10:00Z", "2024-01-04T10:00Z"],
            ["purchase"] * 7,
            order_id=[None, None, None, "o1", "o2", "o3", "o3"],
        )  # fmt: skip
        with pytest.warns(DataWarning) as seen:
            rows = repeat_purchase_rate(log)
        assert [str(w.message) for w in seen] == [
            "repeat_purchase_rate(): 3 of 7 purchases are further lines of an order (same "
            "customer and order_id, or same instant): counted here as purchases of their own; "
            "collapse them with log.orders()"
        ]
        assert seen[0].filename == __file__
        assert (rows.numerator, rows.n) == (3, 3)
        orders = repeat_purchase_rate(log.orders())
        assert (orders.numerator, orders.n) == (1, 3)

    def test_cohort_matrix(self) -> None:
        """January cohort a, b, d; February cohort c (active again in April)."""
        cr = cohort_retention(_log())
        assert cr.cohorts.tolist() == ["2024-01", "2024-02"]
        assert cr.sizes.tolist() == [3, 1]
        assert cr.counts.tolist() == [[3, 1, 1, 0], [1, 0, 1, 0]]
        np.testing.assert_allclose(cr.rates[0], [1, 1 / 3, 1 / 3, 0])
        np.testing.assert_allclose(cr.rates[1], [1, 0, 1, np.nan])  # May has not happened

    @pytest.mark.parametrize(
        ("as_of", "counts", "observed"),
        [
            pytest.param(
                None,
                [[3, 1, 1, 0], [1, 0, 1, 0]],
                [[True] * 4, [True, True, True, False]],
                id="default-log-end-april",
            ),
            pytest.param(
                "2024-03-15T00:00Z",
                [[3, 1, 1], [1, 0, 0]],
                [[True] * 3, [True, True, False]],
                id="as-of-march-drops-later-rows",
            ),
            pytest.param(
                "2024-06-30T00:00Z",
                [[3, 1, 1, 0, 0, 0], [1, 0, 1, 0, 0, 0]],
                [[True] * 6, [True] * 5 + [False]],
                id="as-of-june-observes-empty-months",
            ),
        ],
    )
    def test_future_periods_are_missing(
        self, as_of: str | None, counts: list[list[int]], observed: list[list[bool]]
    ) -> None:
        """Periods after as_of (or the log's end) are NaN, not 0 % retained; an as_of after
        the log's end declares the months between observed, and says how many."""
        if as_of == "2024-06-30T00:00Z":
            with pytest.warns(DataWarning, match="4 cohort periods after it count as observed"):
                cr = cohort_retention(_log(), as_of=as_of)
        else:
            cr = cohort_retention(_log(), as_of=as_of)
        assert cr.counts.tolist() == counts
        assert cr.observed is not None and cr.observed.tolist() == observed
        assert np.array_equal(np.isnan(cr.rates), ~np.array(observed))

    def test_column_average_not_biased_by_unobserved_cells(self) -> None:
        """Averaging a column over cohorts uses only cohorts that reached that age."""
        cr = cohort_retention(_log(), as_of="2024-03-15T00:00Z")
        assert np.nanmean(cr.rates[:, 2]) == pytest.approx(1 / 3)  # January only

    def test_cohort_quarter(self) -> None:
        """Quarterly cohorts: everyone starts in 2024Q1; c is back in Q2."""
        cr = cohort_retention(_log(), period="quarter")
        assert cr.cohorts.tolist() == ["2024Q1"]
        assert cr.counts.tolist() == [[4, 1]]

    def test_no_purchases(self) -> None:
        """A log with no qualifying rows gives an empty matrix, and says why."""
        with pytest.warns(DataWarning, match="kind 'refund' does not occur"):
            cr = cohort_retention(_log(), kinds=("refund",))
        assert cr.counts.shape == (0, 0)
