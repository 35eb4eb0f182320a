"""Unicode-aware normalisation and tokenisation (no network, no model downloads).

Normalisation, in order: Unicode compatibility decomposition (NFKD: presentation forms,
ligatures and full-width letters become plain letters), case folding, removal of diacritics
(Latin/Greek/Cyrillic combining accents, Hebrew points, Arabic harakat, superscript alef and
Quranic marks), Arabic/Persian letter variants mapped to one form (Arabic yeh and alef maksura
to Persian yeh, Arabic kaf to Persian keheh, hamza-carrying and madda alefs to bare alef, teh
marbuta and heh-with-yeh to heh, hamza-on-waw to waw), tatweel and zero-width joiners removed,
Arabic-Indic and Persian digits mapped to ASCII digits, and a final NFC recomposition.

Tokens are maximal runs (an apostrophe inside a word is dropped: ``didn't`` -> ``didnt``) of letters, digits and the combining marks that remain (vowel signs of
Indic scripts stay inside their word). Han ideographs and hiragana are emitted one character
per token, as the Unicode standard tokenisers do, since those scripts do not mark word
boundaries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cache

from cxmodel._arguments import of_type
from cxmodel.errors import NotFoundError, SchemaError, ValueTypeError
from cxmodel.text._stopwords import RAW_STOP_WORDS

__all__ = ["STOP_WORDS", "is_ideograph", "normalize", "stop_words", "tokenize", "word_list"]

# Combining marks removed as diacritics (the script's letters carry the meaning).
_DIACRITIC_RANGES = (
    (0x0300, 0x036F),  # combining diacritical marks (Latin, Greek, Cyrillic accents)
    (0x0483, 0x0489),  # Cyrillic combining marks
    (0x0591, 0x05C7),  # Hebrew points and cantillation
    (0x0610, 0x061A),  # Arabic honorific signs
    (0x064B, 0x065F),  # Arabic harakat, shadda, sukun, hamza above/below
    (0x0670, 0x0670),  # Arabic superscript alef
    (0x06D6, 0x06ED),  # Quranic annotation marks
    (0x08D3, 0x08FF),  # Arabic extended-A marks
    (0x1AB0, 0x1AFF),  # combining diacritical marks extended
    (0x1DC0, 0x1DFF),  # combining diacritical marks supplement
    (0x20D0, 0x20FF),  # combining marks for symbols
    (0xFE20, 0xFE2F),  # combining half marks
)

_LETTERS = {
    "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
    "\u0649": "\u06cc",  # alef maksura -> Persian yeh
    "\u06d2": "\u06cc",  # yeh barree -> Persian yeh
    "\u0643": "\u06a9",  # Arabic kaf -> keheh (Persian kaf)
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c0": "\u0647",  # heh with yeh above -> heh
    "\u06d5": "\u0647",  # ae -> heh
    "\u0671": "\u0627",  # alef wasla -> alef
    "\u0672": "\u0627",
    "\u0673": "\u0627",
    "\u0675": "\u0627",
    "\u0640": "",  # tatweel (kashida)
    "\u200c": "",  # zero-width non-joiner (Persian half-space): join the word
    "\u200d": "",  # zero-width joiner
    "\u200b": "",  # zero-width space
    "\ufeff": "",  # byte-order mark
}
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}

# an apostrophe inside a word joins it (didn't -> didnt, customer's -> customers)
_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = "\u3041-\u309f" + _HAN
_IDEOGRAPH = re.compile(f"[{_HAN}]")


def is_ideograph(token: str) -> bool:
    """Whether ``token`` is one Han ideograph: a word of one character, where a one-letter
    token of an alphabet is no word.

    Examples
    --------
    >>> is_ideograph("款"), is_ideograph("a"), is_ideograph("の")
    (True, False, False)
    """
    return len(token) == 1 and _IDEOGRAPH.match(token) is not None


def word_list(words: object, function: str, argument: str) -> None:
    """Refuse one string given where a collection of words is expected: iterated, it would be
    its letters, and the words it names would silently stay.

    Examples
    --------
    >>> word_list({"the"}, "tokenize()", "stop_words")
    >>> word_list("the", "tokenize()", "stop_words")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: tokenize(): stop_words must be a collection of words, not one string (write {'the'})
    """
    if isinstance(words, str):
        raise ValueTypeError(
            f"{function}: {argument} must be a collection of words, not one string "
            f"(write {{{words!r}}})"
        )


@cache
def _tables() -> tuple[dict[int, str | None], re.Pattern[str]]:
    table: dict[int, str | None] = {ord(k): (v or None) for k, v in _LETTERS.items()}
    table.update(_DIGITS)
    for lo, hi in _DIACRITIC_RANGES:
        table.update(dict.fromkeys(range(lo, hi + 1)))
    # Combining marks that survive normalisation belong inside words; Python's \w does not
    # match them, so they are added to the character class (found once, from unicodedata).
    marks: list[tuple[int, int]] = []
    for cp in range(0x0300, 0x30000):
        if unicodedata.category(chr(cp))[0] == "M" and cp not in table:
            if marks and marks[-1][1] == cp - 1:
                marks[-1] = (marks[-1][0], cp)
            else:
                marks.append((cp, cp))
    mark_class = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in marks
    )
    # one CJK character per token, else a run of word characters (underscore excluded)
    pattern = re.compile(rf"[{_CJK}]|(?:[^\W_{_CJK}]|[{mark_class}])+")
    return table, pattern


def normalize(text: str) -> str:
    """Fold case, strip diacritics and unify Arabic/Persian letter variants.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The normalised text (NFC), suitable for matching regardless of case, accents,
        Arabic-vs-Persian letter forms, tatweel, diacritics and digit script.

    Examples
    --------
    >>> normalize("Café ÉLAN")
    'cafe elan'
    >>> normalize("كتاب") == normalize("کتاب")  # Arabic kaf vs Persian keheh
    True
    >>> normalize("علـــي") == normalize("علی")  # tatweel, Arabic vs Persian yeh
    True
    >>> normalize("مُحَمَّد") == normalize("محمد")  # harakat removed
    True
    >>> normalize("۱۲۳ ١٢٣")
    '123 123'
    """
    of_type(text, str, "normalize()", "text", "text (a str)")
    table, _ = _tables()
    folded = unicodedata.normalize("NFKD", text).casefold()
    return unicodedata.normalize("NFC", folded.translate(table))


def tokenize(text: str | None, *, stop_words: Iterable[str] | None = None) -> list[str]:
    """Split ``text`` into normalised word tokens.

    Parameters
    ----------
    text : str or None
        Any text; ``None`` gives no tokens.
    stop_words : iterable of str, optional
        Tokens to drop, compared after normalisation (e.g. :func:`stop_words`).

    Returns
    -------
    list of str
        Normalised tokens in order (see :func:`normalize`).

    Examples
    --------
    >>> tokenize("The REFUND didn't arrive!")
    ['the', 'refund', 'didnt', 'arrive']
    >>> tokenize("The refund didn't arrive", stop_words=stop_words("en"))
    ['refund', 'arrive']
    >>> tokenize("پول من برنگشت")
    ['پول', 'من', 'برنگشت']
    >>> tokenize("می‌خواهم") == tokenize("میخواهم")  # Persian half-space joins the word
    True
    >>> tokenize("退款没到")
    ['退', '款', '没', '到']
    """
    if text is None:
        return []
    of_type(text, str, "tokenize()", "text", "text (a str) or None")
    if stop_words is not None:
        word_list(stop_words, "tokenize()", "stop_words")
        of_type(stop_words, Iterable, "tokenize()", "stop_words", "an iterable of words")
    if not text:
        return []
    _, pattern = _tables()
    tokens = pattern.findall(_APOSTROPHE.sub("", normalize(text)))
    if stop_words is None:
        return tokens
    drop = stop_words if isinstance(stop_words, frozenset) else _normalized_set(stop_words)
    return [t for t in tokens if t not in drop]


def _normalized_set(words: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for w in words:
        out.update(tokenize(w))
    return frozenset(out)


@cache
def _stop_words(language: str) -> frozenset[str]:
    return _normalized_set(RAW_STOP_WORDS[language].split())


def stop_words(*languages: str) -> frozenset[str]:
    """The built-in stop words of ``languages`` (``"en"``, ``"fa"``, ``"ar"``), normalised.

    With no argument, the union of all three lists.

    Examples
    --------
    >>> "the" in stop_words("en"), "the" in stop_words("fa")
    (True, False)
    >>> stop_words("ar") <= stop_words()
    True
    """
    wanted = languages or tuple(RAW_STOP_WORDS)
    unknown = [x for x in wanted if x not in RAW_STOP_WORDS]
    if unknown:
        raise SchemaError(
            f"no built-in stop words for {unknown!r}; available: {sorted(RAW_STOP_WORDS)!r}"
        )
    out: frozenset[str] = frozenset()
    for language in wanted:
        out |= _stop_words(language)
    return out


class _StopWords(Mapping[str, frozenset[str]]):
    def __getitem__(self, key: str) -> frozenset[str]:
        if key not in RAW_STOP_WORDS:
            raise NotFoundError(
                f"no built-in stop words for {key!r}; available: {sorted(RAW_STOP_WORDS)!r}"
            )
        return _stop_words(key)

    def __iter__(self) -> Iterator[str]:
        return iter(RAW_STOP_WORDS)

    def __len__(self) -> int:
        return len(RAW_STOP_WORDS)


STOP_WORDS: Mapping[str, frozenset[str]] = _StopWords()
"""Built-in stop words by language code (``en``, ``fa``, ``ar``), normalised on first use."""
