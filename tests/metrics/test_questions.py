"""Any survey question: read-time validation, summaries, response rate, rated answers.

Known answers are computed by hand in the docstrings; the Wilson intervals are checked against
Newcombe (1998), Table I ("Two-sided confidence intervals for the single proportion").
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.domain import Question, QuestionType
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    MetricTable,
    QuestionSummary,
    RateResult,
    SmallSampleWarning,
    ces,
    csat,
    nps,
    question_summary,
    rated_interactions,
    response_rate,
    satisfaction_by_stage,
)

T0 = "2024-03-01T10:00:00Z"
QUESTIONS = [
    Question("rating", QuestionType.SCALE, low=1, high=5),
    Question("resolved", QuestionType.YES_NO),
    Question("contact", QuestionType.SINGLE_CHOICE, choices=["web", "phone", "chat"]),
    Question("improve", QuestionType.MULTIPLE_CHOICE, choices=["price", "speed", "staff"]),
    Question("comment", QuestionType.TEXT),
]


def answers(metric: str, column: str, values: list[Any], **extra: Any) -> list[dict[str, Any]]:
    """One survey row per value, each by its own customer, at T0."""
    return [
        {"customer_id": f"{metric}{i}", "timestamp": T0, "kind": "survey", "metric": metric,
         column: v, **extra}
        for i, v in enumerate(values)
    ]  # fmt: skip


def quiet_summary(log: InteractionLog, question: str | Question, **kwargs: Any) -> QuestionSummary:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return question_summary(log, question, **kwargs)


# ---------------------------------------------------------------------- reading answers
class TestReadAnswers:
    def test_unknown_metric_is_refused_without_a_declaration(self) -> None:
        """Existing behaviour: an undeclared metric is a bad row, with a hint to declare it."""
        with pytest.raises(SchemaError, match=r"row 1: metric 'rating' is unknown.*questions="):
            InteractionLog.from_records(answers("rating", "score", [4]))

    def test_declared_questions_are_stored(self) -> None:
        """Scale and yes/no in score (yes = 1), choices as text in answer (joined by '|')."""
        records = (
            answers("rating", "score", [4])
            + answers("resolved", "score", ["yes", "No", True, 0, "TRUE", "false"])
            + answers("improve", "answer", [["staff", "price"], "speed|price", "staff"])
            + answers("contact", "answer", ["phone"])
            + answers("comment", "answer", ["great"])
        )
        log = InteractionLog.from_records(records, questions=QUESTIONS)
        by_customer = dict(zip(log.customers[log.customer_codes], range(len(log)), strict=True))
        score, answer = log.column("score"), log.column("answer")
        got = {c: (score[i], answer[i]) for c, i in by_customer.items()}
        assert got["rating0"][0] == 4
        assert [got[f"resolved{i}"][0] for i in range(6)] == [1, 0, 1, 0, 1, 0]
        assert [got[f"improve{i}"][1] for i in range(3)] == ["price|staff", "price|speed", "staff"]
        assert got["contact0"][1] == "phone" and got["comment0"][1] == "great"
        assert set(log.questions) == {"nps", "csat", "ces", *(q.name for q in QUESTIONS)}

    BAD: ClassVar[list[tuple[list[dict[str, Any]], str]]] = [
        # (records, reason of the rejected row)
        (answers("rating", "score", [6]),
         "score 6 is outside the RATING scale 1..5 (column 'score', metric 'rating')"),
        (answers("rating", "score", [0]), "score 0 is outside the RATING scale 1..5"),
        (answers("rating", "score", [2.5]), "score 2.5 is not a whole number"),
        (answers("resolved", "score", ["maybe"]),
         "score 'maybe' is not an answer to the yes/no question 'resolved' (column 'score')"),
        (answers("resolved", "score", [2]), "score 2 is not an answer to the yes/no question"),
        (answers("contact", "answer", ["fax"]),
         "answer 'fax' is not a choice of question 'contact' (column 'answer'); expected one of "
         "['web', 'phone', 'chat']"),
        (answers("contact", "answer", ["web|phone"]),
         "answer 'web|phone' is not a choice of question 'contact'"),
        (answers("contact", "answer", [["web", "phone"]]),
         "gives 2 choices to the single-choice question 'contact'"),
        (answers("improve", "answer", ["price|cost"]),
         "answer 'price|cost': 'cost' is not a choice of question 'improve'"),
        (answers("improve", "answer", [{"a": 1}]), "is a JSON object (dict)"),
        (answers("contact", "score", [1]),
         "score 1 is given for the single-choice question 'contact', whose answers go in column "
         "'answer'"),
        (answers("rating", "answer", ["5"]),
         "answer '5' is given for the scale question 'rating', whose answers go in column 'score'"),
        ([{"customer_id": "a", "timestamp": T0, "kind": "view", "answer": "x"}],
         "answer 'x' has no metric"),
    ]  # fmt: skip

    @pytest.mark.parametrize(("records", "reason"), BAD)
    def test_bad_answers_are_rejected_with_row_and_value(
        self, records: list[dict[str, Any]], reason: str
    ) -> None:
        """A bad answer is a bad row: its row number and the value as written."""
        good = answers("rating", "score", [5])
        with pytest.warns(cx.errors.DataWarning):
            log = InteractionLog.from_records(
                good + records, questions=QUESTIONS, errors="quarantine"
            )
        assert log.rejected.row.tolist() == [2]
        assert reason in str(log.rejected.reason[0])

    @pytest.mark.parametrize("engine", ["python", "pyarrow"])
    def test_csv_reader_validates_with_file_row_numbers(self, tmp_path: Path, engine: str) -> None:
        """read_csv(questions=...) converts yes/no and names the file's row and value."""
        pytest.importorskip("pyarrow")
        path = tmp_path / "answers.csv"
        path.write_text(
            "customer_id,timestamp,kind,metric,score,answer\n"
            f"a,{T0},survey,resolved,yes,\n"
            f"b,{T0},survey,improve,,staff|price\n"
            f"c,{T0},survey,rating,7,\n"
        )
        with pytest.raises(SchemaError, match=r"row 3: score 7 is outside the RATING scale 1\.\.5"):
            cx.read_csv(path, questions=QUESTIONS, engine=engine)  # type: ignore[arg-type]
        path.write_text(path.read_text().replace(",7,", ",5,"))
        log = cx.read_csv(path, questions=QUESTIONS, engine=engine)  # type: ignore[arg-type]
        assert log.column("score").tolist()[0] == 1.0
        assert log.column("answer").tolist()[1] == "price|staff"

    def test_jsonl_list_answer(self, tmp_path: Path) -> None:
        """read_jsonl takes a multiple-choice answer as a JSON list."""
        path = tmp_path / "a.jsonl"
        path.write_text(
            f'{{"customer_id": "a", "timestamp": "{T0}", "kind": "survey", "metric": "improve", '
            '"answer": ["speed", "staff"]}\n'
        )
        assert cx.read_jsonl(path, questions=QUESTIONS).column("answer").tolist() == ["speed|staff"]

    def test_standard_metrics_unchanged(self) -> None:
        """NPS answers read and score exactly as before when questions are declared."""
        records = answers("nps", "score", [10] * 5 + [7] * 3 + [2] * 2)
        plain = InteractionLog.from_records(records)
        declared = InteractionLog.from_records(records, questions=QUESTIONS)
        assert plain.equals(declared)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            assert nps(plain) == nps(declared)

    def test_journey_of_declared_answers(self) -> None:
        """A log's journeys build with answers to its declared questions."""
        log = InteractionLog.from_records(answers("rating", "score", [3]), questions=QUESTIONS)
        assert log.journey("rating0").interactions[0].metric == "rating"

    def test_questions_survive_filter_and_select(self) -> None:
        """Derived logs keep the catalogue."""
        log = InteractionLog.from_records(answers("resolved", "score", [1]), questions=QUESTIONS)
        assert "resolved" in log.filter(np.ones(len(log), dtype=bool)).questions
        assert "resolved" in log.select(["metric", "score"]).questions


# ---------------------------------------------------------------------- summaries
class TestSummaries:
    def test_scale(self) -> None:
        """rating 1,2,3,4,5,5: mean 20/6, s^2 = (71.33.. - 6 mean^2)/5; top box (4-5) 3/6.

        sum = 20, sum of squares = 80, mean = 3.3333, s^2 = (80 - 6 * 3.3333^2) / 5 = 2.6667,
        SE = sqrt(2.6667 / 6) = 0.6667, t(5, 0.975) = 2.570582, CI = 3.3333 +- 1.7137,
        its upper end 5.047 clipped to the top of the 1..5 scale. Wilson 3/6 at 95 %: centre 0.5, half = 1.96 sqrt(0.25/6 + 3.8415/144) / 1.6403 = 0.3120.
        """
        log = InteractionLog.from_records(
            answers("rating", "score", [1, 2, 3, 4, 5, 5]), questions=QUESTIONS
        )
        s = quiet_summary(log, "rating")
        assert isinstance(s, QuestionSummary) and s.question.name == "rating"
        row = {k: v[0] for k, v in s.to_dict().items()}
        assert row["n"] == 6 and row["mean"] == pytest.approx(20 / 6)
        assert row["mean_se"] == pytest.approx(math.sqrt((80 - 6 * (20 / 6) ** 2) / 5 / 6))
        assert (row["mean_ci_low"], row["mean_ci_high"]) == pytest.approx(
            (20 / 6 - 2.570582 * 0.666667, 5.0), abs=1e-5
        )
        assert (row["top_box"], row["top_box_n"]) == (0.5, 3)
        assert (row["top_box_ci_low"], row["top_box_ci_high"]) == pytest.approx(
            (0.1876, 0.8124), abs=1e-4
        )

    @pytest.mark.parametrize(
        ("yes", "n", "low", "high"),
        [  # Newcombe (1998), Table I, method 3 (score interval without continuity correction)
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ],
    )
    def test_yes_no_wilson_published(self, yes: int, n: int, low: float, high: float) -> None:
        """The yes share's Wilson interval equals Newcombe's published values."""
        log = InteractionLog.from_records(
            answers("resolved", "score", ["yes"] * yes + ["no"] * (n - yes)), questions=QUESTIONS
        )
        s = quiet_summary(log, "resolved")
        assert (s["n"][0], s["yes"][0]) == (n, yes)
        assert s["share"][0] == pytest.approx(yes / n)
        assert (s["ci_low"][0], s["ci_high"][0]) == pytest.approx((low, high), abs=5e-5)

    def test_single_choice(self) -> None:
        """web 2, phone 1, chat 1 of 4: shares 0.5, 0.25, 0.25, options in declared order."""
        log = InteractionLog.from_records(
            answers("contact", "answer", ["web", "phone", "web", "chat"]), questions=QUESTIONS
        )
        s = quiet_summary(log, "contact")
        assert s["option"].tolist() == ["web", "phone", "chat"]
        assert s["n"].tolist() == [4, 4, 4] and s["count"].tolist() == [2, 1, 1]
        assert s["share"].tolist() == [0.5, 0.25, 0.25]
        assert s["ci_low"][1] == pytest.approx(0.0456, abs=1e-4)  # Wilson 1/4
        assert s["ci_high"][1] == pytest.approx(0.6994, abs=1e-4)

    def test_multiple_choice_shares_of_respondents(self) -> None:
        """3 respondents: price 2, speed 1, staff 2: shares 2/3, 1/3, 2/3 (sum > 1)."""
        log = InteractionLog.from_records(
            answers("improve", "answer", ["price|staff", ["speed"], "staff|price"]),
            questions=QUESTIONS,
        )
        s = quiet_summary(log, "improve")
        assert s["count"].tolist() == [2, 1, 2] and s["n"].tolist() == [3, 3, 3]
        assert s["share"].tolist() == pytest.approx([2 / 3, 1 / 3, 2 / 3])

    def test_text_counts(self) -> None:
        """Text answers are counted; empty answers are not answers."""
        log = InteractionLog.from_records(
            answers("comment", "answer", ["good", "slow", None, ""]), questions=QUESTIONS
        )
        s = quiet_summary(log, "comment")
        assert s.names == ("n",) and s["n"].tolist() == [2]

    def test_by_and_period(self) -> None:
        """Groups by a column and by month, sorted by key."""
        rows = answers("resolved", "score", ["yes", "no", "yes"], channel="web")
        rows += [
            {"customer_id": "x", "timestamp": "2024-04-02T00:00:00Z", "kind": "survey",
             "metric": "resolved", "score": "yes", "channel": "app"},
        ]  # fmt: skip
        log = InteractionLog.from_records(rows, questions=QUESTIONS)
        s = quiet_summary(log, "resolved", by="channel", period="month")
        # each channel over every month from March to April (n = 0 where it had no answer)
        assert s["channel"].tolist() == ["app", "app", "web", "web"]
        assert s["period"].tolist() == ["2024-03", "2024-04"] * 2
        assert s["yes"].tolist() == [0, 1, 2, 0] and s["n"].tolist() == [0, 1, 3, 0]

    def test_empty_and_small_sample(self) -> None:
        """No answer to the question in a log with rows: DataError naming what the log holds,
        with and without a period; few answers warn SmallSampleWarning."""
        log = InteractionLog.from_records(answers("rating", "score", [5]), questions=QUESTIONS)
        for period in (None, "month"):
            with pytest.raises(DataError, match=r"answers 'resolved'; .* to 'rating' \(1\)"):
                question_summary(log, "resolved", period=period)
        with pytest.warns(SmallSampleWarning, match="question 'rating'"):
            question_summary(log, "rating")

    def test_unknown_question_and_pandas_html(self) -> None:
        """An undeclared name has a did-you-mean; the result converts like other tables."""
        log = InteractionLog.from_records(answers("rating", "score", [5]), questions=QUESTIONS)
        with pytest.raises(SchemaError, match="did you mean 'rating'"):
            question_summary(log, "ratin")
        s = quiet_summary(log, Question("rating", "scale", low=1, high=5, top=5))
        assert s["top_box"].tolist() == [1.0]
        assert "<table>" in s._repr_html_()
        pytest.importorskip("pandas")
        assert list(s.to_pandas().columns[:2]) == ["n", "mean"]

    def test_scale_all_equal_warns_for_the_mean(self) -> None:
        """40 answers of 4: the mean's t interval is (4, 4) and warns DataWarning; the Wilson
        top box is not flat."""
        log = InteractionLog.from_records(answers("rating", "score", [4] * 40), questions=QUESTIONS)
        with pytest.warns(DataWarning, match=r"question 'rating' mean: 1 group.*deviation 0"):
            s = question_summary(log, "rating")
        assert (s["mean_ci_low"][0], s["mean_ci_high"][0]) == (4.0, 4.0)
        assert s["top_box_ci_low"][0] < 1.0


class TestQuestionGiven:
    """A Question passed in place of a name must agree with the log's declaration of that
    name: its answers were read (scale, type, choices) against the declaration."""

    def _log(self) -> InteractionLog:
        rows = answers("improve", "answer", ["price|speed", "staff", "price"])
        rows += answers("rating", "score", [4, 5, 2])
        return InteractionLog.from_records(rows, questions=QUESTIONS)

    @pytest.mark.parametrize(
        ("question", "match"),
        [
            (Question("improve", "multiple_choice", choices=["price", "speed"]),
             r"multiple_choice of \['price', 'speed'\] here, but the log read its answers as "
             r"multiple_choice of \['price', 'speed', 'staff'\]"),
            (Question("improve", "single_choice", choices=["price", "speed", "staff"]),
             "single_choice of .* here"),
            (Question("rating", "scale", low=1, high=3), r"a scale 1..3 here, .* a scale 1..5"),
            (Question("rating", "yes_no"), "yes_no here, but the log read its answers as a scale"),
            (Question("rating", "text"), "text here"),
            (Question("ratings", "scale", low=1, high=5), "not in the log's questions.*'rating'"),
        ],
        ids=["fewer-choices", "single-for-multiple", "other-scale", "yes-no-for-scale",
             "text-for-scale", "undeclared-name"],
    )  # fmt: skip
    def test_disagreeing_question_is_refused(self, question: Question, match: str) -> None:
        """A different scale, type or set of choices, or a name the log never declared (so
        none of its answers can be there), is a SchemaError naming both declarations; before,
        these gave a raw ValueError, a mean off the scale, a yes share of 4 or n = 0."""
        log = self._log()
        for analysis in (question_summary, response_rate, satisfaction_by_stage):
            if analysis is not question_summary and not question.in_score:
                continue
            with pytest.raises(SchemaError, match=match):
                analysis(log, question)

    def test_other_top_and_choice_order_are_allowed(self) -> None:
        """The top box and the order of choices are reporting choices, so they may differ."""
        log = self._log()
        s = quiet_summary(log, Question("improve", "multiple_choice", choices=["staff", "speed",
                                                                                "price"]))  # fmt: skip
        assert s["option"].tolist() == ["staff", "speed", "price"]
        assert s["count"].tolist() == [1, 1, 2]
        top = quiet_summary(log, Question("rating", "scale", low=1, high=5, top=5))
        assert top["top_box_n"].tolist() == [1]


# ---------------------------------------------------------------------- response rate
def _sent(customer: str, day: int, metric: str | None = "nps", **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer, "timestamp": f"2024-03-{day:02d}T09:00:00Z",
            "kind": "survey_sent", "metric": metric, **extra}  # fmt: skip


def _answer(customer: str, day: int, score: int = 9, metric: str = "nps") -> dict[str, Any]:
    return {"customer_id": customer, "timestamp": f"2024-03-{day:02d}T10:00:00Z",
            "kind": "survey", "metric": metric, "score": score}  # fmt: skip


class TestResponseRate:
    def test_known_answer(self) -> None:
        """5 sends: answered in window (a, d), too late (b: 20 days), never (c), other question
        (e sent csat, not counted). 2 / 4 = 0.5, Wilson 95 % [0.1500, 0.8500]."""
        log = InteractionLog.from_records([
            _sent("a", 1), _answer("a", 2),
            _sent("b", 1), _answer("b", 21),
            _sent("c", 1),
            _sent("d", 1, metric=None, channel="email"), _answer("d", 14),
            _sent("e", 1, metric="csat"), _answer("e", 2, score=4, metric="csat"),
        ])  # fmt: skip
        r = response_rate(log, "nps", window="14 days")
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n, r.value) == (2, 4, 0.5)
        assert r.ci == pytest.approx((0.1500, 0.8500), abs=1e-4)
        wider = response_rate(log, "nps", window="30 days")
        assert isinstance(wider, RateResult) and wider.numerator == 3

    def test_answer_before_the_send_does_not_count(self) -> None:
        """An answer given before the invitation is not a response to it."""
        log = InteractionLog.from_records([_answer("a", 1), _sent("a", 2)])
        r = response_rate(log, "nps")
        assert isinstance(r, RateResult) and r.numerator == 0

    def test_by_and_period(self) -> None:
        """by= a column of the send row; one row per group with value, interval and counts."""
        log = InteractionLog.from_records([
            _sent("a", 1, channel="email"), _answer("a", 3),
            _sent("b", 1, channel="email"),
            _sent("c", 1, channel="sms"), _answer("c", 2),
        ])  # fmt: skip
        t = response_rate(log, "nps", by="channel")
        assert isinstance(t, MetricTable)
        assert t["channel"].tolist() == ["email", "sms"]
        assert t["responses"].tolist() == [1, 1] and t["n"].tolist() == [2, 1]
        assert t["value"].tolist() == [0.5, 1.0]

    @pytest.mark.parametrize("breakdown", [{}, {"by": "channel"}, {"period": "month"}],
                             ids=["whole", "by", "period"])  # fmt: skip
    def test_question_nobody_answered_warns(self, breakdown: dict[str, str]) -> None:
        """Sends but no row answering the question: the rate is 0 (documented: nobody
        answered), in every group, with a DataWarning saying what the log's survey rows
        answer instead, the message nps() refuses such a log with (it was a quiet 0)."""
        log = InteractionLog.from_records([
            _sent("a", 1, channel="email"), _answer("a", 2, metric="NPS"),
            _sent("b", 1, channel="sms"), _sent("c", 2, channel="sms"),
        ], questions=[Question("NPS", "scale", low=0, high=10)])  # fmt: skip
        with pytest.warns(DataWarning) as caught:
            r = response_rate(log, "nps", **breakdown)
        assert [str(w.message) for w in caught] == [
            "response_rate(): none of the 4 rows answers 'nps'; the survey answers are to "
            "'NPS' (1); did you mean 'NPS'?; none of the 3 send(s) is answered, so the rate is 0"
        ]
        if isinstance(r, RateResult):
            assert (r.numerator, r.n, r.value) == (0, 3, 0.0)
        else:
            assert r["responses"].tolist() == [0] * len(r) and r["value"].tolist() == [0.0] * len(r)
            assert int(r["n"].sum()) == 3

    def test_answers_without_a_score_are_no_responses(self) -> None:
        """Rows of the question without a score are no answers, as in question_summary: the
        rate is 0 without the warning, since the log does hold the question's rows."""
        log = InteractionLog.from_records([
            _sent("a", 1), {**_answer("a", 2), "score": None},
        ])  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            r = response_rate(log, "nps")
        assert isinstance(r, RateResult) and (r.numerator, r.n) == (0, 1)

    def test_a_reminder_logged_as_a_send_is_another_answered_send(self) -> None:
        """Documented convention: one answer answers every send before it in the window. a is
        invited (day 1), reminded (day 3) and answers (day 4); b is invited and silent: 2 of 3
        sends answered, where responses per invited customer would be 1 of 2."""
        log = InteractionLog.from_records([
            _sent("a", 1), _sent("a", 3), _answer("a", 4), _sent("b", 1),
        ])  # fmt: skip
        r = response_rate(log, "nps")
        assert isinstance(r, RateResult) and (r.numerator, r.n) == (2, 3)

    def test_no_sends(self) -> None:
        """Without survey_sent rows the rate cannot be computed: say what to log."""
        log = InteractionLog.from_records([_answer("a", 1)])
        with pytest.raises(SchemaError, match="no 'survey_sent' rows"):
            response_rate(log, "nps")


# ---------------------------------------------------------------------- rated answers
def _journey_log() -> InteractionLog:
    """Two customers; answers tied by rates, by order_id, by ticket_id, and one untied."""
    r: list[tuple[str, int, str, dict[str, Any]]] = [
        # customer, day, kind, extra
        ("a", 1, "purchase", {"touchpoint": "website", "stage": "purchase", "order_id": "o1",
                              "value": 20, "interaction_id": "p1"}),
        ("a", 3, "delivery", {"touchpoint": "delivery", "order_id": "o1", "interaction_id": "d1"}),
        ("a", 4, "survey", {"metric": "csat", "score": 2, "order_id": "o1"}),  # -> d1 (latest)
        ("a", 5, "survey", {"metric": "csat", "score": 5, "rates": "p1"}),  # -> p1
        ("b", 1, "ticket_opened", {"touchpoint": "chat", "ticket_id": "t1", "interaction_id": "t"}),
        ("b", 2, "survey", {"metric": "csat", "score": 4, "ticket_id": "t1"}),  # -> t
        ("b", 3, "survey", {"metric": "csat", "score": 1}),  # rates nothing
        ("b", 4, "survey", {"metric": "csat", "score": 5, "order_id": "o9"}),  # key matches nothing
    ]  # fmt: skip
    return InteractionLog.from_records(
        [{"customer_id": c, "timestamp": f"2024-03-0{d}T00:00:00Z", "kind": k, **x}
         for c, d, k, x in r]
    )  # fmt: skip


class TestRatedAnswers:
    def test_rated_interactions(self) -> None:
        """rates wins; else the latest earlier interaction with the same key; else -1."""
        log = _journey_log()
        ids = log.column("interaction_id")
        rated = rated_interactions(log)
        got = [None if r < 0 else ids[r] for r in rated[log.kind_mask("survey")]]
        assert got == ["d1", "p1", "t", None, None]
        assert rated_interactions(log, keys=())[log.kind_mask("survey")].tolist()[0] == -1

    def test_default_grouping_is_unchanged(self) -> None:
        """Without by_rated, answers group under their own row's touchpoint, as before."""
        log = _journey_log()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            before = csat(log, by="touchpoint")
            after = csat(log, by="touchpoint", by_rated=True)
        assert isinstance(before, MetricTable) and isinstance(after, MetricTable)
        assert before["n"].sum() == 5  # survey rows carry no touchpoint of their own
        assert set(before["touchpoint"][before["n"] > 0]) == {"(missing)"}
        table = dict(zip(after["touchpoint"].tolist(), after["n"].tolist(), strict=True))
        assert table == {"(unrated)": 2, "chat": 1, "delivery": 1, "website": 1}
        shares = dict(zip(after["touchpoint"].tolist(), after["value"].tolist(), strict=True))
        assert shares["delivery"] == 0.0 and shares["website"] == 1.0

    def test_by_rated_needs_a_column(self) -> None:
        """by_rated without a column name is an error, not a silent no-op."""
        with pytest.raises(SchemaError, match="by_rated=True needs"):
            nps(_journey_log(), by_rated=True)
        with pytest.raises(SchemaError, match="by_rated=True needs a log"):
            ces([5, 6], by=["a", "b"], by_rated=True)

    def test_question_summary_by_rated(self) -> None:
        """question_summary groups by the rated interaction's column too."""
        s = quiet_summary(_journey_log(), "csat", by="kind", by_rated=True)
        assert s["kind"].tolist() == ["(unrated)", "delivery", "purchase", "ticket_opened"]
        assert s["n"].tolist() == [2, 1, 1, 1]

    def test_satisfaction_by_stage(self) -> None:
        """Journey order (purchase before service), unrated last; CSAT top-two-box share."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            m = satisfaction_by_stage(_journey_log(), "csat")
        rows = list(zip(m["stage"], m["touchpoint"], m["n"], m["value"], strict=True))
        assert rows == [
            ("purchase", "website", 1, 1.0),
            ("service", "chat", 1, 1.0),
            ("service", "delivery", 1, 0.0),
            ("(unrated)", "(unrated)", 2, 0.5),
        ]

    @pytest.mark.parametrize(
        ("metric", "surveys", "match"),
        [
            ("ces", True, r"none of the 8 rows answers 'ces'; the survey answers are to "
                          r"'csat' \(5\)$"),
            ("csat", False, r"none of the 3 rows answers 'csat'; there is no survey row"),
        ],
        ids=["other-metric", "no-survey"],
    )  # fmt: skip
    def test_satisfaction_by_stage_of_a_metric_not_answered(
        self, metric: str, surveys: bool, match: str
    ) -> None:
        """A log with rows but no answer to the metric is refused as nps() refuses it (the
        journey map was a table without rows, without a word)."""
        log = _journey_log()
        if not surveys:
            log = log.filter(~log.kind_mask("survey"))
        with pytest.raises(DataError, match=r"^satisfaction_by_stage\(\): " + match):
            satisfaction_by_stage(log, metric)

    def test_satisfaction_by_stage_of_a_log_without_rows(self) -> None:
        """A log without rows answers as documented: a table without rows, no exception."""
        log = _journey_log()
        empty = satisfaction_by_stage(log.filter(np.zeros(len(log), dtype=bool)), "csat")
        assert len(empty) == 0 and list(empty.columns)[:3] == ["stage", "touchpoint", "n"]

    def test_synthetic_world(self) -> None:
        """In the synthetic world CSAT rates deliveries (order_id), CES rates tickets."""
        world = cx.datasets.synthetic(customers=300, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            by_late = csat(world.log, by="late", by_rated=True)
            m = satisfaction_by_stage(world.log, "ces")
        assert isinstance(by_late, MetricTable)
        shares = dict(zip(by_late["late"].tolist(), by_late["value"].tolist(), strict=True))
        # every CSAT answer found its order; an answer given after the order came back rates
        # the return, which has no 'late'
        assert {"no", "yes"} <= set(shares) <= {"no", "yes", "(missing)"}
        assert shares["no"] > shares["yes"]  # late deliveries are rated lower
        assert set(m["touchpoint"].tolist()) <= {"chat", "phone_support", "ticket"}
