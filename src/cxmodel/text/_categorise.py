"""Keyword categorisation: any keyword or phrase of a category, matched on normalised tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got, interaction_log, mapping_value, name_sequence, of_type
from cxmodel._result import Result
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.text._documents import documents, pick, spread
from cxmodel.text._tokens import tokenize

__all__ = ["Categories", "categorise"]


@attrs.frozen(eq=False, repr=False)
class Categories(Result):
    """Which categories each text matched.

    Attributes
    ----------
    names : tuple of str
        The categories, in the order given (the order is the priority of :meth:`labels`).
    matches : ndarray of bool, shape (documents, categories)
        Whether each document matched each category (a document may match several).
    counts : ndarray of int
        Documents matching each category.
    unmatched : int
        Documents matching no category.
    rows : ndarray of int
        The log rows that were documents (non-blank text, of the requested kinds).
    n_rows : int
        Length of the log.
    """

    names: tuple[str, ...]
    matches: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]
    unmatched: int
    rows: npt.NDArray[np.int64]
    n_rows: int

    def labels(self) -> npt.NDArray[np.object_]:
        """Each document's first matching category in ``names`` order, ``None`` if none."""
        first = np.where(self.matches.any(axis=1), self.matches.argmax(axis=1), -1)
        return pick(np.array(self.names, dtype=object), first)

    def column(self) -> npt.NDArray[np.object_]:
        """:meth:`labels` in log order (``None`` for rows that were not documents)."""
        return spread(self.n_rows, self.rows, self.labels())

    def add_to(self, log: InteractionLog, column: str = "category") -> InteractionLog:
        """``log`` with each row's first matching category in ``column``."""
        if len(log) != self.n_rows:
            raise SchemaError(
                f"add_to(): the log has {len(log)} rows; the categories were computed on "
                f"a log of {self.n_rows} rows"
            )
        return log.with_column(column, self.column())

    def _rows(self) -> dict[Any, Any]:
        """One row per document: its row, label and one boolean column per category."""
        matched = {name: self.matches[:, j] for j, name in enumerate(self.names)}
        return {"row": self.rows, "label": self.labels(), **matched}

    def _summary(self, n_rows: int | None) -> str:
        d = self.to_dict()
        parts = ", ".join(f"{c}={n}" for c, n in zip(d["category"], d["documents"]))
        return f"Categories({len(self.rows)} documents: {parts})"

    def to_dict(self) -> dict[str, Any]:
        """Counts per category, and the unmatched documents (``to_pandas`` has one row per
        document)."""
        return {
            "category": [*self.names, "(none)"],
            "documents": [*self.counts.tolist(), self.unmatched],
        }


def categorise(
    log: InteractionLog,
    categories: Mapping[str, Sequence[str]],
    *,
    text: str = "text",
    kinds: Sequence[str] | None = None,
) -> Categories:
    """Label texts with every category one of whose keywords or phrases they contain.

    Keywords and texts are both tokenised with :func:`cxmodel.text.tokenize`, so matching
    ignores case, punctuation, diacritics and Arabic/Persian letter variants, and is by whole
    words: ``"refund"`` does not match ``"refunded"`` (list both), and a phrase such as
    ``"money back"`` matches those words next to each other. No stop word is removed.

    Parameters
    ----------
    log : InteractionLog
        The log; one document per row with a non-blank ``text``.
    categories : mapping of str to sequence of str
        Category name to its keywords and phrases; the mapping order is the priority of
        :meth:`Categories.labels`.
    text : str, default "text"
        The string column holding the texts.
    kinds : sequence of str, optional
        Only rows of these kinds; default all rows with a text.

    Returns
    -------
    Categories
        Which categories each document matched.

    Raises
    ------
    SchemaError
        If ``categories`` is empty (there would be nothing to match, so the question has no
        answer), a category has no keyword, or a keyword has no word.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "c", "d"],
    ...     timestamp=["2024-01-01T00:00Z"] * 4, kind=["ticket_opened"] * 4,
    ...     text=["I want my MONEY back", "Le remboursement n'est pas arrivé",
    ...           "app crashes, no refund", None])
    >>> cats = categorise(log, {"refund": ["refund", "money back", "remboursement"],
    ...                         "bug": ["crash", "crashes"]})
    >>> cats.labels().tolist(), cats.counts.tolist(), cats.unmatched
    (['refund', 'refund', 'refund'], [3, 1], 0)
    >>> cats.column().tolist()
    ['refund', 'refund', 'refund', None]
    """
    log = interaction_log(log, "categorise()")
    categories = mapping_value(categories, "categorise()", "categories")
    kinds = None if kinds is None else name_sequence(kinds, "categorise()", "kinds")
    names = tuple(categories)
    if not names:
        raise SchemaError(
            "categorise(): categories is empty, so no text could match; give at least one "
            "category and its keywords, e.g. {'refund': ['refund', 'money back']}"
        )
    phrases: list[tuple[int, tuple[str, ...]]] = []
    for j, name in enumerate(names):
        keywords = categories[name]
        if isinstance(keywords, str):
            raise SchemaError(
                f"categorise(): the keywords of {name!r} must be a list of strings, not one "
                f"string (write [{keywords!r}])"
            )
        hint = "a list of keywords (text)"
        of_type(keywords, Iterable, "categorise()", f"the keywords of {name!r}", hint)
        keywords = list(keywords)
        if not keywords:
            raise SchemaError(
                f"categorise(): category {name!r} has no keyword, so it could never match; "
                "give it at least one keyword or leave it out"
            )
        for keyword in keywords:
            if not isinstance(keyword, str):
                raise ValueTypeError(
                    f"categorise(): each keyword of {name!r} must be text (a str); got "
                    f"{got(keyword)}"
                )
            toks = tuple(tokenize(keyword))
            if not toks:
                raise SchemaError(f"categorise(): keyword {keyword!r} of {name!r} has no word")
            phrases.append((j, toks))
    docs = documents(log, text, kinds)
    per_text = np.zeros((len(docs.texts), len(names)), dtype=bool)
    used = np.unique(docs.codes)
    for code in used:
        tokens = tokenize(str(docs.texts[code]))
        words = set(tokens)
        for j, toks in phrases:
            if per_text[code, j] or not words.issuperset(toks):
                continue
            per_text[code, j] = len(toks) == 1 or _contains(tokens, toks)
    matches = per_text[docs.codes]
    return Categories(
        names,
        matches,
        matches.sum(axis=0).astype(np.int64),
        int((~matches.any(axis=1)).sum()),
        docs.rows,
        docs.n_rows,
    )


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    first = phrase[0]
    return any(
        tokens[i] == first and tuple(tokens[i : i + n]) == phrase
        for i in range(len(tokens) - n + 1)
    )
