"""Scorers: the built-in lexicon, VADER, the default, and what each can read."""

from __future__ import annotations

import sys
import types

import pytest

from cxmodel.errors import MissingDependencyError
from cxmodel.text import (
    BasicScorer,
    ReadingScorer,
    VaderScorer,
    default_scorer,
    scorer_name,
    sentiment,
)
from tests.text.samples import FOREIGN, LEXICON_ENGLISH, NEUTRAL_ENGLISH, SYMBOLS


def test_basic_scorer() -> None:
    score = BasicScorer()
    assert score("great, thanks") > 0.5
    assert score("terrible, awful") < -0.5
    assert score("not good") < 0 < score("good")
    assert score("very good") > score("good")
    assert score("the parcel is blue") == 0.0
    assert all(-1 <= score(t) <= 1 for t in ["good " * 50, "bad " * 50])


def test_default_scorer_and_its_name() -> None:
    scores = sentiment(["great"])
    try:
        import vaderSentiment  # noqa: F401
    except ImportError:
        assert scores.scorer == BasicScorer.name
    else:
        assert scores.scorer.startswith("vader")
    assert scorer_name(default_scorer()) == scores.scorer


def test_vader_when_installed() -> None:
    pytest.importorskip("vaderSentiment")
    vader = VaderScorer()
    assert vader("I love it, great service") > 0.5 and vader("awful, I hate it") < -0.5


def test_vader_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", None)
    with pytest.raises(MissingDependencyError, match=r"cxmodel\[text\]"):
        VaderScorer()
    assert isinstance(default_scorer(), BasicScorer)  # falls back, and says so by name


class TestBasicScorerReads:
    @pytest.mark.parametrize("text", FOREIGN + SYMBOLS)
    def test_foreign_emoji_and_numbers_are_not_read(self, text: str) -> None:
        """No lexicon word and no English word: the scorer says it read nothing."""
        assert BasicScorer().reads(text) is False

    @pytest.mark.parametrize("text", NEUTRAL_ENGLISH + LEXICON_ENGLISH)
    def test_english_is_read_even_when_neutral(self, text: str) -> None:
        """English function words and negators make a neutral English text a reading of 0."""
        assert BasicScorer().reads(text) is True

    def test_a_lexicon_word_in_another_language_is_read(self) -> None:
        """'excellent' is a lexicon word whatever the language around it: read, and scored."""
        score = BasicScorer()
        assert score.reads("Le service est excellent") and score("Le service est excellent") > 0

    def test_the_built_in_scorers_follow_the_protocol(self) -> None:
        assert isinstance(BasicScorer(), ReadingScorer)
        assert not isinstance(lambda t: 0.0, ReadingScorer)


class TestVaderReads:
    def test_vader_reads_its_lexicon_emoticons_and_emoji(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a stand-in for vaderSentiment: its words, ':)' and a described emoji count."""

        class Analyzer:
            def __init__(self) -> None:
                self.lexicon = {"good": 1.9, ":)": 2.0, "grinning": 1.5}
                self.emojis = {"😀": "grinning face", "📦": "package"}

            def polarity_scores(self, text: str) -> dict[str, float]:
                return {"compound": 0.0}

        module = types.ModuleType("vaderSentiment.vaderSentiment")
        module.SentimentIntensityAnalyzer = Analyzer  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", module)
        vader = VaderScorer()
        read = {t: vader.reads(t) for t in ["good", "thanks :)", "😀", "📦", "the box", "Le colis"]}
        assert read == {
            "good": True,
            "thanks :)": True,
            "😀": True,
            "📦": False,
            "the box": True,
            "Le colis": False,
        }
