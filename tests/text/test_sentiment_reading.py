"""Texts a scorer cannot read: left unscored and counted, never averaged in as neutral 0."""

from __future__ import annotations

import math
import random
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.metrics import sentiment_by_topic
from cxmodel.text import BasicScorer, SentimentScores, sentiment
from tests.text.samples import FOREIGN, LEXICON_ENGLISH, NEUTRAL_ENGLISH, SYMBOLS

BASIC = BasicScorer.name


def quietly(texts: list[str | None]) -> SentimentScores:
    """The basic scorer's scores, the warning about unreadable texts silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return sentiment(texts, BasicScorer())


class TestSentimentCountsUnreadable:
    def test_the_warning_names_count_share_and_scorer(self) -> None:
        """3 French texts of 5: the warning says 3 of 5 (60%), the scorer, and what to do."""
        texts = [*FOREIGN[:3], "great", "The parcel arrived"]
        with pytest.warns(DataWarning) as caught:
            scores = sentiment(texts, BasicScorer())
        assert len(caught) == 1
        message = str(caught[0].message)
        assert message.startswith(
            f"sentiment(): 3 of 5 texts (60%) have no word the scorer {BASIC!r} reads "
            "(another language? only emoji, numbers or an order number?)"
        )
        assert "left unscored (NaN)" in message and "over the 2 texts it read" in message
        assert "pass a scorer for their language" in message
        assert scores.n_unreadable == 3
        assert scores.unreadable is not None
        assert scores.unreadable.tolist() == [True, True, True, False, False]

    @pytest.mark.parametrize("text", FOREIGN + SYMBOLS)
    def test_each_kind_of_unreadable_text_is_counted(self, text: str) -> None:
        with pytest.warns(DataWarning, match=r"1 of 1 texts \(100%\)"):
            scores = sentiment([text], BasicScorer())
        assert scores.n_unreadable == 1 and math.isnan(scores.scores[0])
        assert scores.summary()["n"] == 0 and math.isnan(scores.summary()["mean"])

    def test_neutral_english_is_not_counted(self) -> None:
        """Read as neutral: scored 0, no warning (warnings are errors in this suite)."""
        scores = sentiment(NEUTRAL_ENGLISH, BasicScorer())
        assert scores.n_unreadable == 0
        assert scores.scores.tolist() == [0.0] * len(NEUTRAL_ENGLISH)
        assert scores.summary()["mean"] == 0.0

    def test_mean_and_shares_are_over_the_texts_read(self) -> None:
        """Hand-computed: great = 3/sqrt(24), 'terrible, awful' = -6/sqrt(51), neutral 0."""
        texts = ["great", FOREIGN[0], "terrible, awful", "😡", "The parcel arrived", None]
        with pytest.warns(DataWarning, match=r"2 of 5 texts \(40%\)"):
            summary = sentiment(texts, BasicScorer()).summary()
        expected = (3 / math.sqrt(24) - 6 / math.sqrt(51) + 0.0) / 3
        assert summary["n"] == 3 and summary["unreadable"] == 2
        assert summary["mean"] == pytest.approx(expected, rel=1e-12)
        assert summary["positive"] == pytest.approx(1 / 3) == summary["negative"]

    def test_a_missing_text_is_missing_not_unreadable(self) -> None:
        scores = sentiment(["good", None, "  "], BasicScorer())
        assert scores.unreadable is not None and not scores.unreadable.any()
        assert scores.n_unreadable == 0

    def test_a_small_share_keeps_a_decimal(self) -> None:
        with pytest.warns(DataWarning, match=r"1 of 200 texts \(0\.5%\)"):
            sentiment(["good"] * 199 + ["12345"], BasicScorer())

    def test_the_count_shows_in_repr_html_and_to_dict(self) -> None:
        scores = quietly(["good", "12345", "😡"])
        assert "unreadable=2" in repr(scores)
        assert "unreadable=2" in scores._repr_html_()
        assert scores.to_dict()["n_unreadable"] == 2


class TestScorersWithoutReads:
    def test_a_plain_callable_scores_everything_without_a_count(self) -> None:
        """No ``reads``: the old behaviour, 0 taken as neutral, no count, no warning."""
        scores = sentiment([*FOREIGN[:2], "good"], lambda t: 0.0)
        assert scores.scores.tolist() == [0.0, 0.0, 0.0]
        assert scores.unreadable is None and scores.n_unreadable is None
        assert "unreadable" not in repr(scores)
        assert scores.to_dict()["n_unreadable"] is None

    def test_a_custom_scorer_with_reads_is_not_asked_to_score_what_it_cannot_read(self) -> None:
        class Persian:
            name = "persian test scorer"

            def __init__(self) -> None:
                self.scored: list[str] = []

            def reads(self, text: str) -> bool:
                return "خوب" in text

            def __call__(self, text: str) -> float:
                self.scored.append(text)
                return 0.5

        scorer = Persian()
        with pytest.warns(DataWarning, match=r"1 of 2 texts \(50%\).*'persian test scorer'"):
            scores = sentiment(["خیلی خوب", "great"], scorer)
        assert scorer.scored == ["خیلی خوب"] and scores.n_unreadable == 1


class TestLogAndBreakdowns:
    def _log(self) -> InteractionLog:
        texts = ["great", FOREIGN[3], FOREIGN[3], "terrible, awful", "12345", None]
        return InteractionLog.from_arrays(
            customer_id=list("abcdef"),
            timestamp=["2024-01-02T00:00Z"] * 6,
            kind=["ticket_opened"] * 6,
            text=texts,
            topic=["t"] * 6,
        )

    def test_rows_are_counted_and_left_out_of_sentiment_by_topic(self) -> None:
        """A repeated unreadable text counts once per row; the breakdown's n is the rows read."""
        log = self._log()
        with pytest.warns(DataWarning, match=r"3 of 5 texts \(60%\)"):
            scores = sentiment(log, BasicScorer())
        assert scores.n_unreadable == 3
        table = sentiment_by_topic(scores.add_to(log), by="topic")
        assert table["n"].tolist() == [2]
        expected = (3 / math.sqrt(24) - 6 / math.sqrt(51)) / 2
        assert table["mean"][0] == pytest.approx(expected, rel=1e-12)


readable_texts = st.sampled_from(NEUTRAL_ENGLISH + LEXICON_ENGLISH)
unreadable_texts = st.one_of(
    st.sampled_from(FOREIGN + SYMBOLS),
    st.text(alphabet="0123456789#-/.,!? 😀👍📦", min_size=1).filter(str.strip),
)


@given(
    readable=st.lists(readable_texts, min_size=1, max_size=20),
    unreadable=st.lists(unreadable_texts, max_size=20),
    rng=st.randoms(use_true_random=False),
)
def test_unreadable_texts_never_change_the_mean_of_the_readable_ones(
    readable: list[str], unreadable: list[str], rng: random.Random
) -> None:
    """Inserting unreadable texts anywhere leaves the mean, n and shares of the others as they
    were, and the count of unreadable texts is exactly the number inserted."""
    mixed: list[str | None] = list(readable)
    for text in unreadable:
        mixed.insert(rng.randint(0, len(mixed)), text)
    alone = sentiment(list(readable), BasicScorer()).summary()
    together = quietly(mixed).summary()
    assert together["unreadable"] == len(unreadable)
    assert {k: together[k] for k in ("n", "mean", "positive", "negative")} == {
        k: alone[k] for k in ("n", "mean", "positive", "negative")
    }
