"""Survival curves read at hostile points: a time written as text, NaN, shares outside 0..1,
durations in a 2-d array. Checked against the curve of 1, 2, 3 events and 4 censored:
S = 0.75, 0.5, 0.25 at 1, 2, 3."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from cxmodel import metrics
from cxmodel.errors import CXModelError

KM = metrics.kaplan_meier([1, 2, 3, 4], [1, 1, 1, 0])


def _answer_or_refusal(call: Callable[[], object]) -> object:
    """The value of ``call()``, or the string "refused" for a CXModelError."""
    try:
        return call()
    except CXModelError:
        return "refused"


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
    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="SurvivalCurve.at('2') answers S(1) = 0.75, not S(2) = 0.5 or an error",
    )
    def test_a_time_written_as_text(self) -> None:
        """``at("2")`` compares the text with the float times as strings ("2" sorts before
        "2.0") and silently returns S(1)."""
        answer = _answer_or_refusal(lambda: KM.at("2"))  # type: ignore[arg-type]
        assert answer == 0.5 or answer == "refused"

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="SurvivalCurve.at(nan) answers 0.25 (the last step)",
    )
    def test_nan_time(self) -> None:
        """S(NaN) has no value; today NaN sorts past every time and reads the tail."""
        answer = _answer_or_refusal(lambda: KM.at(float("nan")))
        assert answer == "refused" or (isinstance(answer, float) and math.isnan(answer))

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="SurvivalCurve.percentile(1.5) answers inf instead of refusing p",
    )
    def test_percentile_past_one(self) -> None:
        """A share of 150 % of subjects is not a question: today inf, as if never reached."""
        assert _answer_or_refusal(lambda: KM.percentile(1.5)) == "refused"

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="SurvivalCurve.survival_time(nan) answers inf instead of refusing q",
    )
    def test_survival_time_of_nan(self) -> None:
        """``survival_time(nan)``: today inf, the answer for a level never reached."""
        assert _answer_or_refusal(lambda: KM.survival_time(float("nan"))) == "refused"

    @pytest.mark.xfail(
        strict=True,
        raises=TypeError,
        reason="SurvivalCurve.percentile('0.5') raises a raw TypeError",
    )
    def test_percentile_written_as_text(self) -> None:
        """Text where a share is expected escapes as ``TypeError: unsupported operand``."""
        assert _answer_or_refusal(lambda: KM.percentile("0.5")) == "refused"  # type: ignore[arg-type]

    @pytest.mark.xfail(
        strict=True,
        raises=AssertionError,
        reason="kaplan_meier flattens a 2-d durations array silently (nps refuses)",
    )
    def test_two_dimensional_durations(self) -> None:
        """``nps`` refuses a 2-d array ("a flat list or 1-d array"); ``kaplan_meier`` reads
        [[1, 2], [3, 4]] as four subjects without a word."""
        answer = _answer_or_refusal(lambda: metrics.kaplan_meier(np.array([[1, 2], [3, 4]])))
        assert answer == "refused"
