"""cxmodel.text attacked: tokens of scripts beyond English, rules that are empty, topics asked
of a corpus that has fewer, sentiment of empty and foreign texts."""

from __future__ import annotations

import pytest

from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.text import BasicScorer, categorise, sentiment, tokenize, topics
from tests.adversarial.helpers import foreign_warnings


def _tickets(texts: list[str | None]) -> InteractionLog:
    """One ticket per text, one customer each, on successive January days."""
    n = len(texts)
    return InteractionLog.from_arrays(
        customer_id=[f"c{i}" for i in range(n)],
        timestamp=[f"2024-01-{1 + i % 28:02d}T10:00Z" for i in range(n)],
        kind=["ticket_opened"] * n,
        text=texts,
    )


class TestTokens:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Straße STRASSE", ["strasse", "strasse"]),
            ("cafe\u0301 café", ["cafe", "cafe"]),
            ("٣ ۳ 3", ["3", "3", "3"]),
            ("退款", ["退", "款"]),
            ("great 👍 service", ["great", "service"]),
            ("", []),
        ],
        ids=["eszett", "combining-accent", "digits", "han", "emoji", "empty"],
    )
    def test_by_hand(self, text: str, expected: list[str]) -> None:
        """casefold, diacritics off, digits to ASCII, one token per Han character."""
        assert tokenize(text) == expected

    def test_a_han_keyword_matches_with_or_without_a_space(self) -> None:
        """Han text is one token per character, so the keyword 退款 matches 退款 and 退 款."""
        found = categorise(_tickets(["退款还没收到", "退 款"]), {"refund": ["退款"]})
        assert found.matches[:, 0].tolist() == [True, True]


class TestCategorise:
    def test_phrases_need_adjacent_words_in_order(self) -> None:
        """'money back' matches "money, back" (punctuation is no word) but not "back money";
        a repeated-word phrase needs the word twice."""
        found = categorise(
            _tickets(["money, back", "back money", "refund refund", "refund"]),
            {"back": ["money back"], "twice": ["refund refund"]},
        )
        assert found.matches.tolist() == [
            [True, False],
            [False, False],
            [False, True],
            [False, False],
        ]

    def test_no_category_at_all(self) -> None:
        """No categories is no question: a SchemaError naming the argument."""
        with pytest.raises(SchemaError, match=r"categorise\(\): categories is empty"):
            categorise(_tickets(["refund please"]), {})


class TestTopics:
    def test_identical_texts_warn_only_through_cxmodel(self) -> None:
        """Five copies of one text, three topics asked: no raw numpy warning."""
        assert (
            foreign_warnings(
                lambda: topics(_tickets(["refund money"] * 5), n_topics=3, random_state=0)
            )
            == []
        )

    def test_fewer_topics_than_asked_have_distinct_labels(self) -> None:
        """A label is what add_to writes in the topic column, so two topics with one label
        cannot be told apart; the guide says a corpus with fewer topics gives fewer: here
        one topic holding every text, and a DataWarning saying 1 of the 3 asked was found."""
        with pytest.warns(DataWarning, match="found 1 of the 3 topics asked"):
            found = topics(_tickets(["refund money"] * 5), n_topics=3, random_state=0)
        labels = found.to_pandas()["label"].tolist()
        assert len(labels) == len(set(labels))
        assert (labels, found.volume.tolist()) == (["money / refund"], [5])

    def test_row_order_does_not_change_the_topics(self) -> None:
        """The same six texts reversed: the same topics with the same volumes, and each text
        keeps its topic's label."""
        texts = [
            "refund money back",
            "parcel late damaged",
            "refund money please",
            "parcel late box",
            "refund slow",
            "parcel lost",
        ]
        forward = topics(_tickets(list(texts)), n_topics=2, random_state=0)
        backward = topics(_tickets(texts[::-1]), n_topics=2, random_state=0)
        assert sorted(forward.to_pandas()["label"]) == sorted(backward.to_pandas()["label"])
        labels_f = forward.to_pandas()["label"].to_numpy()[forward.document_topic]
        labels_b = backward.to_pandas()["label"].to_numpy()[backward.document_topic]
        assert labels_f.tolist() == labels_b[::-1].tolist()


class TestSentiment:
    def test_negation_by_hand(self) -> None:
        """'not good' is the mirror of 'not bad'; 'good' and 'bad' are mirrors."""
        scorer = BasicScorer()
        assert scorer("good") == pytest.approx(-scorer("bad"))
        assert scorer("not good") == pytest.approx(-scorer("not bad"))
        assert scorer("not good") < 0 < scorer("not bad")

    def test_foreign_text_is_unread_and_counted(self) -> None:
        """A French comment is not averaged in as neutral: NaN, counted, warned."""
        with pytest.warns(DataWarning, match="1 of 2 texts"):
            scores = sentiment(["Great, thanks", "Le colis est arrivé"], BasicScorer())
        assert scores.n_unreadable == 1
        assert scores.summary()["mean"] == pytest.approx(BasicScorer()("Great, thanks"))

    def test_out_of_range_scorer_is_refused(self) -> None:
        """A scorer answering 2.0 breaks the [-1, 1] contract: a CXModelError."""
        with pytest.raises(CXModelError, match="2.0"):
            sentiment(["a"], lambda text: 2.0)
