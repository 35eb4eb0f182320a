"""Sentiment scorers: the protocol a scorer follows, the built-in English lexicon and VADER."""

from __future__ import annotations

import math
from typing import Protocol

from cxmodel._optional import import_optional
from cxmodel.text._tokens import tokenize

__all__ = ["BasicScorer", "Scorer", "VaderScorer", "default_scorer", "scorer_name"]


class Scorer(Protocol):
    """A sentiment scorer: any callable taking a text and returning a score in [-1, 1].

    Negative is unhappy, positive happy, 0 neutral. An optional ``name`` attribute is what
    :class:`SentimentScores` records (else the function's ``__name__``).
    """

    def __call__(self, text: str, /) -> float: ...


# Valences on VADER's -4..4 scale, for customer-service English. Written for cxmodel; basic.
_LEXICON: dict[str, float] = {
    **dict.fromkeys(
        [
            "good",
            "nice",
            "fine",
            "helpful",
            "easy",
            "quick",
            "fast",
            "friendly",
            "polite",
            "resolved",
            "solved",
            "fixed",
            "works",
            "working",
            "clear",
            "smooth",
            "recommend",
            "thanks",
            "thank",
            "pleased",
            "happy",
            "glad",
            "satisfied",
            "reliable",
            "kind",
        ],
        1.9,
    ),
    **dict.fromkeys(
        [
            "great",
            "excellent",
            "amazing",
            "awesome",
            "fantastic",
            "perfect",
            "love",
            "loved",
            "wonderful",
            "brilliant",
            "outstanding",
            "superb",
            "delighted",
        ],
        3.0,
    ),
    **dict.fromkeys(
        [
            "bad",
            "slow",
            "late",
            "delay",
            "delayed",
            "broken",
            "wrong",
            "missing",
            "lost",
            "problem",
            "issue",
            "error",
            "fail",
            "fails",
            "failed",
            "rude",
            "difficult",
            "confusing",
            "unhelpful",
            "disappointed",
            "disappointing",
            "annoyed",
            "unhappy",
            "complaint",
            "damaged",
            "cancelled",
            "expensive",
            "poor",
            "crash",
            "crashes",
        ],
        -1.9,
    ),
    **dict.fromkeys(
        [
            "terrible",
            "awful",
            "horrible",
            "worst",
            "hate",
            "useless",
            "scam",
            "furious",
            "angry",
            "disgusting",
            "unacceptable",
            "ridiculous",
            "pathetic",
            "never",
        ],
        -3.0,
    ),
}
_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "without",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "arent",
        "werent",
        "wont",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "havent",
        "hasnt",
        "hadnt",
    ]
)
_BOOSTERS = frozenset(
    ["very", "really", "extremely", "so", "too", "super", "totally", "absolutely", "incredibly"]
)


class BasicScorer:
    """A basic built-in English lexicon scorer (about 80 words; no network, no download).

    Each known word adds its valence (-3 to 3); a negator among the three words before flips
    and damps it, an intensifier just before strengthens it; the sum ``s`` is squashed to
    ``s / sqrt(s**2 + 15)`` as VADER does. It knows nothing of sarcasm or other languages:
    prefer :class:`VaderScorer` (``pip install "cxmodel[text]"``) or your own scorer.

    Examples
    --------
    >>> score = BasicScorer()
    >>> score("Great service, very helpful") > 0.5, score("not helpful at all") < 0
    (True, True)
    >>> score("The parcel arrived on Tuesday")
    0.0
    """

    name = "basic English lexicon (cxmodel built-in)"

    def __call__(self, text: str) -> float:
        tokens = tokenize(text)
        total = 0.0
        for i, token in enumerate(tokens):
            valence = _LEXICON.get(token)
            if valence is None:
                continue
            if i and tokens[i - 1] in _BOOSTERS:
                valence += math.copysign(0.293, valence)  # VADER's booster increment
            if any(t in _NEGATORS for t in tokens[max(0, i - 3) : i]):
                valence *= -0.74
            total += valence
        return total / math.sqrt(total * total + 15.0)

    def __repr__(self) -> str:
        return f"BasicScorer({self.name!r})"


class VaderScorer:
    """VADER's compound score (vaderSentiment, with its bundled English lexicon).

    Needs the optional ``vaderSentiment`` package: ``pip install "cxmodel[text]"``.
    """

    def __init__(self) -> None:
        module = import_optional("vaderSentiment.vaderSentiment", "VaderScorer")
        self._analyzer = module.SentimentIntensityAnalyzer()
        version = _version("vaderSentiment")
        self.name = f"vader (vaderSentiment {version})" if version else "vader (vaderSentiment)"

    def __call__(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])

    def __repr__(self) -> str:
        return f"VaderScorer({self.name!r})"


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def default_scorer() -> Scorer:
    """VADER when ``vaderSentiment`` is installed, else the basic built-in lexicon.

    Both are English-only; for other languages pass your own scorer to :func:`sentiment`.

    Examples
    --------
    >>> scorer_name(default_scorer()) in (BasicScorer.name,) or "vader" in scorer_name(
    ...     default_scorer())
    True
    """
    try:
        return VaderScorer()
    except ImportError:
        return BasicScorer()


def scorer_name(scorer: Scorer) -> str:
    """A scorer's ``name`` attribute, else its ``__name__``, else its type's name.

    Examples
    --------
    >>> scorer_name(str.upper), scorer_name(lambda t: 0.0), scorer_name(BasicScorer())
    ('upper', '<lambda>', 'basic English lexicon (cxmodel built-in)')
    """
    name = getattr(scorer, "name", None) or getattr(scorer, "__name__", None)
    return str(name) if name else type(scorer).__name__
