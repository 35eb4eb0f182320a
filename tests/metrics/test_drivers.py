"""Tests for experience_drivers on a hand-built log."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel._time import to_us
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import SmallSampleWarning, experience_drivers
from cxmodel.metrics._drivers import survey_scores


def _log() -> InteractionLog:
    """a, b had a late delivery before answering (0, 6); c, d did not (10, 9); b's return is
    60 days before the answer, outside the 30-day window."""
    rows = [
        ("a", "2024-03-01", "delivery", None, None),
        ("a", "2024-03-05", "survey", "nps", 0),
        ("b", "2024-01-01", "return", None, None),
        ("b", "2024-03-01", "delivery", None, None),
        ("b", "2024-03-02", "survey", "nps", 6),
        ("c", "2024-03-02", "survey", "nps", 10),
        ("c", "2024-03-03", "delivery", None, None),
        ("d", "2024-03-02", "survey", "nps", 9),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T00:00:00+00:00" for r in rows],
        kind=[r[2] for r in rows],
        metric=[r[3] for r in rows],
        score=[float("nan") if r[4] is None else r[4] for r in rows],
    )


class TestExperienceDrivers:
    def test_delivery_drives_nps_down(self) -> None:
        """With delivery: NPS -100 (a, b); without: +100 (c answered before hers, d)."""
        t = experience_drivers(_log())
        assert t["driver"].tolist() == ["delivery"]
        assert (t["n_with"][0], t["n_without"][0]) == (2, 2)
        assert (t["with"][0], t["without"][0], t["difference"][0]) == (-100.0, 100.0, -200.0)
        assert t["ci_low"][0] == t["ci_high"][0] == -200.0

    def test_window_excludes_old_interactions(self) -> None:
        """b's return is outside 30 days, so no answer is 'with return' and it is left out;
        a 90-day window includes it."""
        assert "return" not in experience_drivers(_log())["driver"].tolist()
        with pytest.warns(SmallSampleWarning, match="single answer"):
            wide = experience_drivers(_log(), window="90d")
        assert "return" in wide["driver"].tolist()

    def test_a_single_answer_has_no_interval(self) -> None:
        """One answer with a driver has no spread to estimate: se and interval are NaN with
        a warning naming the driver; they were 0 and a zero-width interval at the difference."""
        with pytest.warns(SmallSampleWarning, match=r"1 driver.*'return' \(1 with, 3 without\)"):
            t = experience_drivers(_log(), window="90d", kinds=("return",))
        assert t["difference"][0] == -100.0 - (-100.0 + 100.0 + 100.0) / 3  # b's 6 vs a, c, d
        assert np.isnan(t["se"][0]) and np.isnan(t["ci_low"][0]) and np.isnan(t["ci_high"][0])

    def test_bad_metric(self) -> None:
        """Unknown metrics are SchemaErrors."""
        with pytest.raises(SchemaError, match="metric must be one of"):
            experience_drivers(_log(), metric="nss")


class TestSurveyScores:
    def test_nps_points_and_cutoff(self) -> None:
        """NPS answers become +100 / 0 / -100 points; a cutoff keeps earlier answers only."""
        log = _log()
        rows, score = survey_scores(log, "nps")
        assert int(rows.sum()) == 4 and score.tolist() == [-100.0, -100.0, 100.0, 100.0]
        cutoff = to_us("2024-03-03T00:00:00+00:00")
        rows, score = survey_scores(log, "nps", cutoff)
        assert int(rows.sum()) == 3 and score.tolist() == [-100.0, 100.0, 100.0]

    def test_no_answers(self) -> None:
        """A metric nobody answered selects no row."""
        rows, score = survey_scores(_log(), "csat")
        assert not rows.any() and score.size == 0

    def test_answers_without_a_score_column(self) -> None:
        """Answers in a log without a score column are refused, naming the first; they used
        to raise a raw IndexError from experience_drivers."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b"], timestamp=[0, 1, 2], kind=["return", "survey", "survey"],
            metric=[None, "nps", "nps"],
        )  # fmt: skip
        with pytest.raises(
            SchemaError, match="row 1: 2 'nps' answer.s. but the log has no 'score'"
        ):
            experience_drivers(log)

    def test_missing_score_names_its_row(self) -> None:
        """A missing score names its row and value, not the smallest score of the survey."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c"], timestamp=[0, 1, 2], kind=["survey"] * 3,
            metric=["csat"] * 3, score=[5.0, float("nan"), 1.0],
        )  # fmt: skip
        with pytest.raises(SchemaError, match=r"row 1: score nan is not on the CSAT scale 1\.\.5"):
            survey_scores(log, "csat")
