"""Sentiment: pluggable scorers, the recorded scorer name, validation, the log workflow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxmodel.errors import (
    DataError,
    SchemaError,
    ValueTypeError,
)
from cxmodel.log import InteractionLog
from cxmodel.metrics import sentiment_by_topic
from cxmodel.text import (
    BasicScorer,
    categorise,
    scorer_name,
    sentiment,
    sentiment_trend,
)


def ticket_log() -> InteractionLog:
    texts = [
        "Great help, thank you",
        "refund never arrived, terrible",
        None,
        "refund late, very disappointed",
        "Excellent and fast",
        "REFUND!!",
    ]
    months = ["2024-01", "2024-01", "2024-01", "2024-02", "2024-02", "2024-02"]
    return InteractionLog.from_arrays(
        customer_id=list("abcdef"),
        timestamp=[f"{m}-10T00:00Z" for m in months],
        kind=["ticket_opened"] * 6,
        text=texts,
    )


def test_custom_scorer_is_used_and_recorded() -> None:
    calls: list[str] = []

    def length_scorer(text: str) -> float:
        calls.append(text)
        return min(len(text) / 100, 1.0)

    scores = sentiment(["ab", None, "  ", "abcd", "ab"], length_scorer)
    assert scores.scorer == "length_scorer"
    assert np.allclose(scores.scores, [0.02, np.nan, np.nan, 0.04, 0.02], equal_nan=True)
    assert calls == ["ab", "abcd", "ab"]  # missing and blank texts are not scored
    assert scores.summary()["n"] == 3


def test_scorer_objects_with_a_name() -> None:
    class Constant:
        name = "always positive"

        def __call__(self, text: str) -> float:
            return 1.0

    assert sentiment(["x"], Constant()).scorer == "always positive"
    assert scorer_name(lambda t: 0.0) == "<lambda>"


@pytest.mark.parametrize("bad", [2.0, -1.5, float("nan"), "good"])
def test_out_of_range_scores_are_refused(bad: object) -> None:
    with pytest.raises(DataError, match="expected a float in"):
        sentiment(["x"], lambda t: bad)  # type: ignore[arg-type, return-value]
    with pytest.raises(SchemaError, match="callable"):
        sentiment(["x"], 0.5)  # type: ignore[arg-type]


def test_log_workflow_with_sentiment_by_topic() -> None:
    """'REFUND!!' is English with no lexicon word: read as neutral (0) and counted in the
    breakdowns; the row without a text is missing (NaN)."""
    log = ticket_log()
    scores = sentiment(log, BasicScorer())
    assert scores.rows is not None and scores.rows.tolist() == [0, 1, 3, 4, 5]
    assert scores.unreadable is not None and scores.unreadable.tolist() == [0, 0, 0, 0, 0]
    column = scores.column()
    assert math.isnan(column[2]) and column[5] == 0.0 and len(column) == len(log)
    tagged = categorise(log, {"refund": ["refund"], "praise": ["great", "excellent"]}).add_to(
        scores.add_to(log), column="topic"
    )
    by_topic = sentiment_by_topic(tagged, by="topic")
    means = dict(zip(by_topic["topic"], by_topic["mean"]))
    assert means["praise"] > 0 > means["refund"]
    trend = sentiment_trend(tagged, by="topic", period="month")
    assert trend.names[:3] == ("topic", "period", "n")
    rows = {(t, p): n for t, p, n in zip(trend["topic"], trend["period"], trend["n"])}
    assert rows == {
        ("praise", "2024-01"): 1,
        ("refund", "2024-01"): 1,
        ("praise", "2024-02"): 1,
        ("refund", "2024-02"): 2,
    }


def test_reprs() -> None:
    scores = sentiment(["good", None], BasicScorer())
    assert "basic English lexicon" in repr(scores) and "<table>" in scores._repr_html_()
    assert scores.to_dict()["scorer"] == BasicScorer.name
    pytest.importorskip("pandas")
    assert list(scores.to_pandas().columns) == ["sentiment"]
    from_log = sentiment(ticket_log(), BasicScorer())
    assert list(from_log.to_pandas().columns) == ["row", "sentiment"]


class TestMissingTexts:
    def test_nan_texts_are_missing_not_neutral(self) -> None:
        """A pandas column's NaN is a missing text (NaN score), not the text 'nan' scored 0."""
        scores = sentiment(["good", float("nan"), None], BasicScorer()).scores
        assert np.isnan(scores[1:]).all()
        assert sentiment(["good", float("nan")], BasicScorer()).summary()["n"] == 1

    def test_a_number_among_the_texts_is_refused_with_its_position(self) -> None:
        """A number is not a text: refused, naming its position, instead of scoring '5'."""
        with pytest.raises(ValueTypeError, match=r"texts\[1\].*int 5"):
            sentiment(["good", 5], BasicScorer())  # type: ignore[list-item]


class TestSentimentOnTicketsOnly:
    def _surveys(self) -> InteractionLog:
        log = InteractionLog.from_arrays(
            customer_id=list("abc"),
            timestamp=["2024-01-02T00:00Z"] * 3,
            kind=["survey_response"] * 3,
            text=["good", "bad", None],
        )
        scored = sentiment(log, BasicScorer()).add_to(log)
        return scored.with_column("topic", np.array(["x", "y", None], dtype=object))

    def test_sentiment_of_surveys_only_is_refused_not_an_empty_table(self) -> None:
        """Verbatims scored on survey rows: the ticket breakdown says so, with the count."""
        log = self._surveys()
        with pytest.raises(DataError, match=r"2 rows of kinds \['survey_response'\]"):
            sentiment_by_topic(log)
        with pytest.raises(DataError, match="no ticket row"):
            sentiment_trend(log)


class TestSentimentTrendPeriods:
    def test_quiet_periods_between_are_rows(self) -> None:
        """A month without ticket sentiment between two with it is a row of each topic that
        occurs (n 0, NaN mean and interval), as the survey tables fill it; sorted by topic,
        then period."""
        log = InteractionLog.from_arrays(
            customer_id=list("abcd"),
            timestamp=["2024-01-05T00:00Z", "2024-03-05T00:00Z", "2024-03-06T00:00Z",
                       "2024-03-07T00:00Z"],
            kind=["ticket_opened"] * 4, topic=["late", "late", "late", None],
            sentiment=[-0.5, -0.1, -0.3, 0.2],
        )  # fmt: skip
        t = sentiment_trend(log)
        assert t["topic"].tolist() == ["late"] * 3 + ["(missing)"] * 3
        assert t["period"].tolist() == ["2024-01", "2024-02", "2024-03"] * 2
        assert t["n"].tolist() == [1, 0, 2, 0, 0, 1]
        assert t["mean"][2] == pytest.approx(-0.2)
        assert np.isnan(t["mean"][[1, 3, 4]]).all() and np.isnan(t["ci_low"][1])
