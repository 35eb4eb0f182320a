"""Sentiment scorers: the protocols a scorer follows, the built-in English lexicon and VADER."""

from __future__ import annotations

import functools
import math
from collections.abc import Container, Sequence
from typing import Protocol, runtime_checkable

from cxmodel._optional import import_optional
from cxmodel.text._tokens import stop_words, tokenize

__all__ = [
    "BasicScorer",
    "ReadingScorer",
    "Scorer",
    "VaderScorer",
    "default_scorer",
    "scorer_name",
]


class Scorer(Protocol):
    """A sentiment scorer: any callable taking a text and returning a score in [-1, 1].

    Negative is unhappy, positive happy, 0 neutral. An optional ``name`` attribute is what
    :class:`SentimentScores` records (else the function's ``__name__``). A scorer that can
    also tell when it read nothing follows :class:`ReadingScorer`.
    """

    def __call__(self, text: str, /) -> float: ...


@runtime_checkable
class ReadingScorer(Scorer, Protocol):
    """A scorer that also says whether it can read a text at all.

    ``reads(text)`` is ``False`` when the text holds no token the scorer knows (a comment in
    another language, only emoji, numbers or an order number): its score would be a 0 that
    is no reading. :func:`sentiment` leaves such texts unscored (NaN) and counts them. A
    plain ``str -> float`` scorer without ``reads`` keeps working: its 0 is taken as neutral,
    with no count and no warning.

    Examples
    --------
    >>> isinstance(BasicScorer(), ReadingScorer), isinstance(lambda t: 0.0, ReadingScorer)
    (True, False)
    """

    def reads(self, text: str, /) -> bool: ...


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
# Neutral English words that carry no valence but say the text was read.
_NEUTRAL = frozenset(["ok", "okay", "please", "yes", "hello"])
# English function words, negators and intensifiers that are also everyday words of French,
# German, Spanish, Italian, Dutch or Portuguese ("a", "on", "in", "was", "no", "super"): alone
# they do not make a text English.
_SHARED = frozenset(
    [
        "a",
        "am",
        "an",
        "also",
        "as",
        "do",
        "dont",
        "had",
        "has",
        "he",
        "her",
        "in",
        "is",
        "me",
        "no",
        "on",
        "once",
        "or",
        "over",
        "so",
        "super",
        "was",
        "we",
        "will",
    ]
)


@functools.lru_cache(maxsize=1)
def _tokens(text: str) -> tuple[str, ...]:
    """The tokens of the text last seen: :func:`sentiment` asks ``reads`` then scores."""
    return tuple(tokenize(text))


@functools.cache
def _english_words() -> frozenset[str]:
    """Tokens that make a text readable English though no lexicon holds them."""
    return (stop_words("en") | _NEGATORS | _BOOSTERS | _NEUTRAL) - _SHARED


#: very common function words of French, German, Spanish, Italian, Dutch and Portuguese
#: that are no English words: one of them in a text of unknown words marks another language
# fmt: off
_FOREIGN = frozenset((
    "le", "la", "les", "est", "et", "des", "du", "une", "un", "pas", "je", "il", "elle", "nous",
    "vous", "mais", "pour", "avec", "dans", "sur", "ce", "cette", "qui", "que", "tres", "mon",
    "ma", "mes", "der", "das", "ist", "und", "nicht", "ein", "eine", "ich", "mein", "meine",
    "mit", "auf", "zu", "sehr", "wir", "sie", "es", "dem", "noch", "kein", "el", "los", "las",
    "y", "muy", "mi", "por", "una", "pero", "del", "se", "su", "di", "che", "non", "sono", "gli",
    "della", "molto", "het", "een", "niet", "ik", "en", "mijn", "wel", "os", "um", "uma", "nao",
    "com", "para", "muito", "meu", "minha",
))
# fmt: on


def _reads_english(tokens: Sequence[str], text: str, lexicon: Container[str]) -> bool:
    """Whether a text (its ``tokens``) is English to a scorer: it holds a word of ``lexicon``
    or an English word of :func:`_english_words`; or, made of unknown words, it holds a word
    of plain letters and no sign of another language (a letter outside ASCII, or a common
    function word of another language, :data:`_FOREIGN`): "Parcel arrived" is English the
    scorer reads as neutral, "Wo ist mein Paket?" and "Le colis est arrivé" are not (a foreign
    text of unknown words without such a sign, "Grazie mille", is taken for English)."""
    english = _english_words()
    if any(t in lexicon or t in english for t in tokens):
        return True
    if any(c.isalpha() and not c.isascii() for c in text):
        return False
    words = [t for t in tokens if t.isalpha() and len(t) > 2]  # "AB" of "#AB-40213" is a code
    return bool(words) and not any(t in _FOREIGN for t in tokens)


class BasicScorer:
    """A basic built-in English lexicon scorer (about 80 words; no network, no download).

    Each known word adds its valence (-3 to 3); a negator among the three words before flips
    and damps it, an intensifier just before strengthens it; the sum ``s`` is squashed to
    ``s / sqrt(s**2 + 15)`` as VADER does. It knows nothing of sarcasm or other languages:
    prefer :class:`VaderScorer` (``pip install "cxmodel[text]"``) or your own scorer.

    :meth:`reads` says whether a text holds anything it reads: a lexicon word, or an English
    function word, negator or intensifier (``the``, ``after``, ``not``, ``very``), or one of
    ``ok``, ``okay``, ``please``, ``yes``, ``hello``. The few such words that are also common
    in French, German, Spanish, Italian, Dutch or Portuguese (``a``, ``on``, ``in``, ``was``,
    ``no``, ``so``, ``super`` ...) do not count alone. A text of words it does not know is
    read (as neutral) when it holds a word of three or more plain letters and no sign of
    another language (a letter outside ASCII, or a common function word such as ``est``,
    ``ist``, ``und``, ``muy``). So "The parcel arrived on Tuesday" and "Parcel arrived" are read as neutral,
    while "Le colis est arrivé mardi", "👍", "12345" are not read at all.

    Examples
    --------
    >>> score = BasicScorer()
    >>> score("Great service, very helpful") > 0.5, score("not helpful at all") < 0
    (True, True)
    >>> score("The parcel arrived on Tuesday"), score.reads("The parcel arrived on Tuesday")
    (0.0, True)
    >>> score.reads("Le colis est arrivé mardi"), score.reads("#40213 👍")
    (False, False)
    """

    name = "basic English lexicon (cxmodel built-in)"

    def __call__(self, text: str) -> float:
        tokens = _tokens(text)
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

    def reads(self, text: str) -> bool:
        """Whether ``text`` holds a lexicon word or an English word (see the class)."""
        return _reads_english(_tokens(text), text, _LEXICON)

    def __repr__(self) -> str:
        return f"BasicScorer({self.name!r})"


class VaderScorer:
    """VADER's compound score (vaderSentiment, with its bundled English lexicon).

    Needs the optional ``vaderSentiment`` package: ``pip install "cxmodel[text]"``.
    :meth:`reads` is :meth:`BasicScorer.reads` with VADER's lexicon of about 7,500 words and
    emoticons, and its emoji (an emoji whose description holds a lexicon word is read).
    """

    def __init__(self) -> None:
        module = import_optional("vaderSentiment.vaderSentiment", "VaderScorer")
        self._analyzer = module.SentimentIntensityAnalyzer()
        version = _version("vaderSentiment")
        self.name = f"vader (vaderSentiment {version})" if version else "vader (vaderSentiment)"

    def __call__(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])

    def reads(self, text: str) -> bool:
        """Whether ``text`` holds a word, emoticon or emoji VADER knows, or an English word."""
        lexicon = self._analyzer.lexicon
        if _reads_english(tokenize(text), text, lexicon):
            return True
        if any(word in lexicon for word in text.lower().split()):  # emoticons such as ":)"
            return True
        emojis = self._analyzer.emojis
        return any(c in emojis and any(w in lexicon for w in tokenize(emojis[c])) for c in text)

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
