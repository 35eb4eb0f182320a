"""Tests for experience_drivers on a hand-built log."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cxmodel._time import to_us
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import SmallSampleWarning, driver_model, experience_drivers
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
        """With delivery: NPS -100 (a, b); without: +100 (c answered before hers, d); neither
        side varies, so the interval has zero width, with a DataWarning saying so."""
        with pytest.warns(DataWarning, match=r"'delivery' \(2 with, 2 without\)"):
            t = experience_drivers(_log())
        assert t["driver"].tolist() == ["delivery"]
        assert (t["n_with"][0], t["n_without"][0]) == (2, 2)
        assert (t["with"][0], t["without"][0], t["difference"][0]) == (-100.0, 100.0, -200.0)
        assert t["ci_low"][0] == t["ci_high"][0] == -200.0

    def test_window_excludes_old_interactions(self) -> None:
        """b's return is outside 30 days, so no answer is 'with return' and it is left out;
        a 90-day window includes it."""
        with pytest.warns(DataWarning, match="do not vary"):  # delivery's, as above
            assert "return" not in experience_drivers(_log())["driver"].tolist()
        with (
            pytest.warns(DataWarning, match="do not vary"),
            pytest.warns(SmallSampleWarning, match="single answer"),
        ):
            wide = experience_drivers(_log(), window="90d")
        assert "return" in wide["driver"].tolist()

    def test_a_single_answer_has_no_interval(self) -> None:
        """One answer with a driver has no spread to estimate: se and interval are NaN with
        a warning naming the driver; they were 0 and a zero-width interval at the difference."""
        with pytest.warns(SmallSampleWarning, match=r"1 driver.*'return' \(1 with, 3 without\)"):
            t = experience_drivers(_log(), window="90d", kinds=("return",))
        assert t["difference"][0] == -100.0 - (-100.0 + 100.0 + 100.0) / 3  # b's 6 vs a, c, d
        assert np.isnan(t["se"][0]) and np.isnan(t["ci_low"][0]) and np.isnan(t["ci_high"][0])

    def test_a_hit_at_the_answers_instant_does_not_hide_an_earlier_one(self) -> None:
        """a had a delivery on Jan 1 and another at the very instant of her answer (Jan 5):
        the Jan 1 one is strictly earlier and in the window, so a answered "with" a
        delivery. c's only delivery is at her answer's instant, so she answered without.
        By hand: with = a (-100), b (+100); without = c (+100), d (-100); the difference 0
        and its Welch se sqrt(2 * 20000 / 2) = 141.42 (earlier, a's same-instant delivery hid
        her Jan 1 one: 1 with, 3 without)."""
        rows = [
            ("a", "2024-01-01", "delivery", None, None),
            ("a", "2024-01-05", "delivery", None, None),
            ("a", "2024-01-05", "survey", "nps", 2),
            ("b", "2024-01-02", "delivery", None, None),
            ("b", "2024-01-05", "survey", "nps", 9),
            ("c", "2024-01-05", "survey", "nps", 10),
            ("c", "2024-01-05", "delivery", None, None),
            ("d", "2024-01-05", "survey", "nps", 5),
        ]
        log = InteractionLog.from_arrays(
            customer_id=[r[0] for r in rows],
            timestamp=[r[1] + "T00:00:00+00:00" for r in rows],
            kind=[r[2] for r in rows],
            metric=[r[3] for r in rows],
            score=[float("nan") if r[4] is None else r[4] for r in rows],
        )
        t = experience_drivers(log)
        assert (t["n_with"][0], t["n_without"][0]) == (2, 2)
        assert (t["with"][0], t["without"][0], t["difference"][0]) == (0.0, 0.0, 0.0)
        assert t["se"][0] == pytest.approx(np.sqrt(20000.0))

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_agrees_with_a_one_driver_model_on_tied_times(self, seed: int) -> None:
        """With one indicator driver, least squares' coefficient is the with - without
        difference, so both functions must flag the same answers. On day-stamped rows (many
        driver rows at an answer's instant) they disagreed by up to 0.9 NPS points and 12
        answers of 803 before the tie fix."""
        rng = np.random.default_rng(seed)
        customers, kinds, days, scores = [], [], [], []
        for c in range(120):
            for kind, count in (("delivery", rng.poisson(3)), ("survey", rng.integers(1, 4))):
                for _ in range(count):
                    customers.append(f"c{c}")
                    kinds.append(kind)
                    days.append(int(rng.integers(0, 40)))
                    scores.append(float(rng.integers(0, 11)) if kind == "survey" else np.nan)
        log = InteractionLog.from_arrays(
            customer_id=customers,
            kind=kinds,
            metric=["nps" if k == "survey" else None for k in kinds],
            score=scores,
            timestamp=np.datetime64("2024-01-01", "D") + np.array(days),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = experience_drivers(log, kinds=("delivery",))
            model = driver_model(log, drivers=["delivery"], window="30 days")
        assert table["n_with"][0] == pytest.approx(model["mean"][0] * model.n)
        assert table["difference"][0] == pytest.approx(model["coefficient"][0], abs=1e-9)

    def test_bad_metric(self) -> None:
        """Unknown metrics are SchemaErrors."""
        with pytest.raises(SchemaError, match="metric must be one of"):
            experience_drivers(_log(), metric="nss")


def _two_sides(kind: str, scores: list[int]) -> InteractionLog:
    """Customers a, b had ``kind`` on Jan 1; every customer answers NPS ``scores`` on Jan 5."""
    n = len(scores)
    ids = [f"c{i}" for i in range(n)]
    return InteractionLog.from_arrays(
        customer_id=ids[:2] + ids, kind=[kind] * 2 + ["survey"] * n,
        metric=[None, None] + ["nps"] * n, score=[None, None, *scores],
        timestamp=["2024-01-01T00:00Z"] * 2 + ["2024-01-05T00:00Z"] * n,
    )  # fmt: skip


class TestExperienceDriversQuietAnswers:
    def test_no_answers_of_the_metric_is_refused(self) -> None:
        """metric='csat' on a log of NPS answers gave an empty table without a word, then
        with a warning; now the DataError of nps(), naming what the log answers."""
        with pytest.raises(
            DataError,
            match=r"^experience_drivers\(\): none of the 6 rows answers 'csat'; the survey "
            r"answers are to 'nps' \(4\)$",
        ):
            experience_drivers(_two_sides("return", [0, 10, 10, 10]), metric="csat")

    def test_log_without_rows_warns(self) -> None:
        """A log without rows has nothing to refuse: the table is empty, with the warning (it
        raised a raw IndexError)."""
        log = _two_sides("return", [0, 10])
        with pytest.warns(DataWarning, match=r"no 'nps' answers.*the table is empty"):
            t = experience_drivers(log.filter(np.zeros(len(log), dtype=bool)))
        assert len(t) == 0

    def test_every_driver_left_out_warns_naming_them(self) -> None:
        """A kind before every answer (nothing to compare it with) left an empty table."""
        with pytest.warns(
            DataWarning, match=r"all 1 driver\(s\) were left out.*'login' \(2 with, 0"
        ):
            t = experience_drivers(_two_sides("login", [0, 10]))
        assert len(t) == 0
        with pytest.warns(DataWarning, match=r"fewer than 5 answer\(s\).*'return' \(2 with, 2"):
            experience_drivers(_two_sides("return", [0, 10, 9, 10]), min_n=5)

    def test_flat_answers_warn(self) -> None:
        """Detractors with the driver, promoters without: se 0 and a zero-width interval at
        -200 points, which read as certainty; now a DataWarning counts the drivers."""
        with pytest.warns(DataWarning, match=r"1 driver\(s\) have answers that do not vary"):
            t = experience_drivers(_two_sides("return", [0, 0, 10, 10]))
        assert (t["difference"][0], t["se"][0]) == (-200.0, 0.0)

    def test_clean_answers_say_nothing(self) -> None:
        """Answers that vary on both sides give the table without a warning."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            t = experience_drivers(_two_sides("return", [0, 10, 10, 0]))
        assert t["difference"].tolist() == [0.0]


class TestSurveyScores:
    def test_nps_points_and_cutoff(self) -> None:
        """NPS answers become +100 / 0 / -100 points; a cutoff keeps earlier answers only."""
        log = _log()
        rows, score = survey_scores(log, "nps", caller="f()")
        assert int(rows.sum()) == 4 and score.tolist() == [-100.0, -100.0, 100.0, 100.0]
        cutoff = to_us("2024-03-03T00:00:00+00:00")
        rows, score = survey_scores(log, "nps", cutoff, caller="f()")
        assert int(rows.sum()) == 3 and score.tolist() == [-100.0, 100.0, 100.0]

    def test_no_answers(self) -> None:
        """A metric nobody answered is refused in a log with rows (for experience_drivers and
        driver_model alike); a log without rows selects no row."""
        with pytest.raises(DataError, match=r"^f\(\): none of the 8 rows answers 'csat'"):
            survey_scores(_log(), "csat", caller="f()")
        empty = _log().filter(np.zeros(8, dtype=bool))
        rows, score = survey_scores(empty, "csat", caller="f()")
        assert not rows.any() and score.size == 0

    def test_answers_without_a_score_column(self) -> None:
        """Answers in a log without a score column are refused, naming the first; they used
        to raise a raw IndexError from experience_drivers."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b"], timestamp=[0, 1, 2], kind=["return", "survey", "survey"],
            metric=[None, "nps", "nps"],
        )  # fmt: skip
        with pytest.raises(
            SchemaError, match="row 2: 2 'nps' answer.s. but the log has no 'score'"
        ):
            experience_drivers(log)

    def test_missing_score_names_its_row(self) -> None:
        """A missing score names its row and value, not the smallest score of the survey."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c"], timestamp=[0, 1, 2], kind=["survey"] * 3,
            metric=["csat"] * 3, score=[5.0, float("nan"), 1.0],
        )  # fmt: skip
        with pytest.raises(SchemaError, match=r"row 2: score nan is not on the CSAT scale 1\.\.5"):
            survey_scores(log, "csat", caller="f()")
