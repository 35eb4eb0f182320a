"""Survival curves read at hostile points: a time written as text, NaN, shares outside 0..1,
durations in a 2-d array. Checked against the curve of 1, 2, 3 events and 4 censored:
S = 0.75, 0.5, 0.25 at 1, 2, 3."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from cxmodel import metrics, models
from cxmodel.errors import CXModelError, SchemaError, ValueTypeError

KM = metrics.kaplan_meier([1, 2, 3, 4], [1, 1, 1, 0])


class TestTheCurveByHand:
    def test_steps(self) -> None:
        """At risk 4, 3, 2: S = 3/4, 3/4 * 2/3, 1/2 * 1/2; the censored 4 keeps 1/4."""
        assert KM.survival.tolist() == pytest.approx([0.75, 0.5, 0.25, 0.25])
        assert [KM.at(t) for t in (0.5, 1.0, 2.5, 10.0)] == pytest.approx([1.0, 0.75, 0.5, 0.25])

    def test_tied_event_and_censoring(self) -> None:
        """A censoring at an event time counts as at risk there: 5 at risk at 1 (one event),
        3 at risk at 2 (two events): S(2) = 4/5 * 1/3."""
        curve = metrics.kaplan_meier([1, 1, 2, 2, 3], [1, 0, 1, 1, 0])
        assert curve.survival.tolist() == pytest.approx([0.8, 0.8 / 3, 0.8 / 3])
        assert curve.at_risk.tolist() == [5, 3, 1]

    def test_multivariate_logrank_by_hand(self) -> None:
        """Groups a = (1, 2), b = (3, 4), all events: E_a = 2/4 + 1/3, V = 1/4 + 2/9,
        statistic (2 - E_a)^2 / V = 2.882."""
        result = metrics.multivariate_logrank_test([1, 2, 3, 4], ["a", "a", "b", "b"])
        expected_a = 0.5 + 1 / 3
        variance = 0.25 + 2 / 9
        assert result.statistic == pytest.approx((2 - expected_a) ** 2 / variance)


class TestHostileReadings:
    @pytest.mark.parametrize(
        ("call", "error", "message"),
        [
            (
                lambda: KM.at("2"),  # type: ignore[arg-type]
                ValueTypeError,
                r"SurvivalCurve.at\(\): t must be a number; got str '2': did you mean 2.0",
            ),
            (lambda: KM.at(float("nan")), SchemaError, r"at\(\): t must be a finite number"),
            (
                lambda: KM.percentile(1.5),
                SchemaError,
                r"percentile\(\): p must be a share in \[0, 1\]; got 1.5: did you mean 0.015",
            ),
            (
                lambda: KM.percentile(90),
                SchemaError,
                r"percentile\(\): p must be a share .*did you mean 0.9 \(90 %\)",
            ),
            (lambda: KM.percentile(-0.1), SchemaError, r"percentile\(\): p must be a share"),
            (
                lambda: KM.survival_time(float("nan")),
                SchemaError,
                r"survival_time\(\): q must be a share in \[0, 1\]; got nan",
            ),
            (
                lambda: KM.percentile("0.5"),  # type: ignore[arg-type]
                ValueTypeError,
                r"percentile\(\): p must be a share .*got str '0.5': did you mean 0.5",
            ),
            (lambda: KM.survival_time(True), ValueTypeError, r"q must be a share"),
        ],
        ids=[
            "at-text",
            "at-nan",
            "percentile-past-one",
            "percentile-as-percent",
            "percentile-negative",
            "survival_time-nan",
            "percentile-text",
            "survival_time-bool",
        ],
    )
    def test_a_bad_reading_is_refused_by_name(
        self, call: Callable[[], object], error: type[CXModelError], message: str
    ) -> None:
        """Text, NaN and shares outside 0..1 are refused naming the method, the argument and
        the value (``at("2")`` compared as text and read S(1); ``at(nan)`` read the tail;
        ``percentile(1.5)`` and ``survival_time(nan)`` answered inf, as if never reached)."""
        with pytest.raises(error, match=message):
            call()

    def test_readings_at_the_edges_of_the_range(self) -> None:
        """The shares 0 and 1, numpy numbers and integers are readings like any other."""
        assert KM.percentile(0) == 1.0 and KM.percentile(np.float64(0.5)) == 2.0
        assert KM.survival_time(1) == 1.0 and math.isinf(KM.survival_time(0.0))
        assert KM.at(np.int64(2)) == pytest.approx(0.5) and KM.at(-1) == 1.0

    @pytest.mark.parametrize(
        "call",
        [
            lambda: metrics.kaplan_meier(np.array([[1, 2], [3, 4]])),
            lambda: metrics.kaplan_meier([1, 2, 3, 4], np.array([[1, 1], [0, 1]])),
            lambda: metrics.logrank_test(np.array([[1, 2], [3, 4]]), [5, 6]),
            lambda: metrics.multivariate_logrank_test(
                np.array([[1, 2], [3, 4]]), ["a", "a", "b", "b"]
            ),
            lambda: metrics.multivariate_logrank_test(
                [1, 2, 3, 4], np.array([["a", "a"], ["b", "b"]])
            ),
            lambda: models.concordance_index(np.array([[1, 2], [3, 4]]), [4.0, 3.0, 2.0, 1.0]),
            lambda: models.concordance_index([1, 2, 3, 4], np.array([[4.0, 3.0], [2.0, 1.0]])),
            lambda: models.concordance_index([1, 2, 3, 4], [4, 3, 2, 1], np.ones((2, 2))),
            lambda: models.CoxPH().fit(np.ones((4, 1)), np.array([[1, 2], [3, 4]])),
            lambda: models.expand_person_period(np.array([[1, 2], [3, 4]])),
        ],
        ids=[
            "kaplan_meier-durations",
            "kaplan_meier-observed",
            "logrank_test",
            "multivariate_logrank_test-durations",
            "multivariate_logrank_test-groups",
            "concordance_index-durations",
            "concordance_index-risk",
            "concordance_index-observed",
            "CoxPH.fit",
            "expand_person_period",
        ],
    )
    def test_two_dimensional_durations(self, call: Callable[[], object]) -> None:
        """``nps`` refuses a 2-d array ("a flat list or 1-d array"); the survival functions
        read [[1, 2], [3, 4]] as four subjects without a word before; now each refuses it,
        saying it wants one dimension and the shape it got."""
        with pytest.raises(SchemaError, match=r"1-d array.*shape \(2, 2\)"):
            call()
