"""Topics without labels: TF-IDF over normalised tokens, factorised by NMF (scikit-learn)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import integer, interaction_log, name_sequence, of_type, random_seed
from cxmodel._optional import import_optional
from cxmodel._periods import index_labels, period_index
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._tables import MetricTable
from cxmodel.errors import ConvergenceWarning, DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.text._documents import documents, pick, spread
from cxmodel.text._tokens import is_ideograph, stop_words, tokenize, word_list

__all__ = ["Topics", "topics"]


@attrs.frozen(eq=False, repr=False)
class Topics(Result):
    """Topics found in the texts of a log, largest first.

    Attributes
    ----------
    terms : tuple of tuple of str
        The top terms of each topic, heaviest first.
    weights : ndarray, shape (n_topics, top_terms)
        The NMF weight of each top term.
    labels : ndarray of str
        A readable name per topic: its three top terms joined by ``" / "``. Labels are
        distinct: a topic whose top terms repeat a larger topic's gets its number,
        ``"refund / money (#3)"``.
    volume : ndarray of int
        Documents assigned to each topic (a document goes to its heaviest topic); at least 1.
    share : ndarray of float
        ``volume`` over the documents assigned to any topic.
    rows : ndarray of int
        The log rows that were documents (non-blank text, of the requested kinds).
    document_topic : ndarray of int
        Each document's topic index, ``-1`` when none of its tokens is in the vocabulary.
    trend : MetricTable
        Documents per topic and period: columns ``topic``, ``period``, ``documents`` and
        ``share`` (of that period's assigned documents).
    n_rows : int
        Length of the log the topics were found in.
    """

    terms: tuple[tuple[str, ...], ...]
    weights: npt.NDArray[np.float64]
    labels: npt.NDArray[np.object_]
    volume: npt.NDArray[np.int64]
    share: npt.NDArray[np.float64]
    rows: npt.NDArray[np.int64]
    document_topic: npt.NDArray[np.int64]
    trend: MetricTable
    n_rows: int

    def __len__(self) -> int:
        return len(self.terms)

    def document_labels(self) -> npt.NDArray[np.object_]:
        """Each document's topic label (``None`` when unassigned), in ``rows`` order."""
        return pick(self.labels, self.document_topic)

    def column(self) -> npt.NDArray[np.object_]:
        """A column in log order: each row's topic label, ``None`` for rows without one."""
        return spread(self.n_rows, self.rows, self.document_labels())

    def add_to(self, log: InteractionLog, column: str = "topic") -> InteractionLog:
        """``log`` with each row's topic label in ``column`` (the log the topics came from).

        Then, e.g., :func:`cxmodel.metrics.sentiment_by_topic` and
        :func:`cxmodel.metrics.ticket_volume` break down by the found topics.
        """
        if len(log) != self.n_rows:
            raise SchemaError(
                f"add_to(): the log has {len(log)} rows; the topics were found in a log of "
                f"{self.n_rows} rows"
            )
        return log.with_column(column, self.column())

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per topic: label, top terms (joined), volume and share."""
        return {
            "topic": list(range(len(self))),
            "label": self.labels,
            "terms": [", ".join(t) for t in self.terms],
            "volume": self.volume,
            "share": self.share,
        }

    def _summary(self, n_rows: int | None) -> str:
        return f"Topics({len(self)} topics, {len(self.rows)} documents)"

    def to_dict(self) -> dict[str, Any]:
        """One entry per topic: label, top terms (as lists), volume and share."""
        return {**super().to_dict(), "terms": [list(t) for t in self.terms]}


def topics(
    log: InteractionLog,
    *,
    text: str = "text",
    kinds: Sequence[str] | None = None,
    n_topics: int = 8,
    top_terms: int = 10,
    period: str = "month",
    timezone: str | None = None,
    stop: frozenset[str] | None = None,
    random_state: int = 0,
) -> Topics:
    """Find topics in free texts (ticket texts, survey verbatims) without any labels.

    Texts are tokenised with :func:`cxmodel.text.tokenize` (Unicode-aware, case-, diacritic-
    and Arabic/Persian-variant-insensitive), built-in English, Persian and Arabic stop words
    and one-character tokens (but Han ideographs, each a word) are dropped, and the TF-IDF
    matrix (scikit-learn) is factorised by non-negative matrix factorisation. Each document is
    assigned to its heaviest topic (document weights taken against unit-norm topics, so they
    compare across topics); topics are numbered by volume, largest first.

    Parameters
    ----------
    log : InteractionLog
        The log; one document per row with a non-blank ``text``.
    text : str, default "text"
        The string column holding the texts.
    kinds : sequence of str, optional
        Only rows of these kinds (e.g. ``["ticket_opened"]``); default all rows with a text.
    n_topics : int, default 8
        Topics to find (fewer when there are fewer documents or terms).
    top_terms : int, default 10
        Terms kept per topic.
    period : {"day", "week", "month", "quarter"}, default "month"
        Calendar period of :attr:`Topics.trend`, in ``timezone``.
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    stop : frozenset of str, optional
        Stop words (normalised); default :func:`cxmodel.text.stop_words` of all languages.
    random_state : int, default 0
        Seed of the factorisation, for reproducible topics.

    Raises
    ------
    MissingDependencyError
        scikit-learn is not installed (``pip install "cxmodel[ml]"``).
    DataError
        No document has a token outside the stop words.

    Warns
    -----
    DataWarning
        With the count of documents in no topic (no word in the vocabulary: only stop words,
        one-letter words or symbols); shares are of the others. With the count of topics
        found when it is fewer than ``n_topics``: components the factorisation leaves empty,
        and components no document is assigned to (repeats of a larger topic, in a corpus
        holding fewer topics than asked), are dropped, so every topic has a document.
    ConvergenceWarning
        The factorisation stopped at its iteration limit; the topics are its last iterate.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> texts = ["refund not received", "where is my refund", "refund still missing",
    ...          "login password reset", "cannot login to the app", "password reset fails"]
    >>> log = InteractionLog.from_arrays(customer_id=list("abcdef"),
    ...     timestamp=["2024-01-05T00:00Z"] * 3 + ["2024-02-05T00:00Z"] * 3,
    ...     kind=["ticket_opened"] * 6, text=texts)
    >>> found = topics(log, n_topics=2, top_terms=3)
    >>> found.volume.tolist(), found.share.tolist()
    ([3, 3], [0.5, 0.5])
    >>> refund = found.document_topic[0]
    >>> "refund" in found.terms[refund], found.document_topic.tolist().count(refund)
    (True, 3)
    >>> found.trend["documents"].tolist()
    [3, 3]
    """
    log = interaction_log(log, "topics()")
    kinds = None if kinds is None else name_sequence(kinds, "topics()", "kinds")
    n_topics = integer(n_topics, "topics()", "n_topics", minimum=1)
    top_terms = integer(top_terms, "topics()", "top_terms", minimum=1)
    if stop is not None:
        word_list(stop, "topics()", "stop")
        stop = of_type(stop, Iterable, "topics()", "stop", "a set of words")
    random_state = random_seed(random_state, "topics()", "random_state", generator=False)
    text_mod = import_optional("sklearn.feature_extraction.text", "cxmodel.text.topics()")
    decomp = import_optional("sklearn.decomposition", "cxmodel.text.topics()")
    docs = documents(log, text, kinds)
    drop = stop_words() if stop is None else stop
    tokens = [
        [t for t in tokenize(str(s), stop_words=drop) if len(t) > 1 or is_ideograph(t)]
        for s in docs.texts
    ]
    corpus = [tokens[c] for c in docs.codes]
    if not any(corpus):
        raise DataError(
            f"topics(): no {text!r} text has a word outside the stop words ({len(docs)} documents)"
        )
    large = len(corpus) >= 50
    vectorizer = text_mod.TfidfVectorizer(
        analyzer=_identity,
        min_df=2 if large else 1,
        max_df=0.95 if large else 1.0,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(corpus)
    except ValueError:
        if not large:
            raise
        # the pruning of a large corpus (words of one document, words of nearly every
        # document) left no word: every text is the same, or no word is in two of them, so
        # every word is kept rather than the call failing
        vectorizer = text_mod.TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        matrix = vectorizer.fit_transform(corpus)
    vocab = np.asarray(vectorizer.get_feature_names_out(), dtype=object)
    k = max(1, min(n_topics, matrix.shape[0], matrix.shape[1]))
    w, h = _factorise(decomp, matrix, k, random_state)
    # NMF fixes neither factor's scale: a topic with small term weights gets large document
    # weights. Unit-norm topics (H rows) make document weights comparable across topics.
    norms = np.linalg.norm(h, axis=1)
    live = norms > 0  # NMF can leave a component empty: no term, no document, no label
    if live.any():
        w, h, norms, k = w[:, live], h[live], norms[live], int(live.sum())
    w = w * norms
    h = h / np.where(norms > 0, norms, 1.0)[:, None]
    assigned = np.where(w.max(axis=1) > 0, w.argmax(axis=1), -1).astype(np.int64)
    counts = np.bincount(assigned[assigned >= 0], minlength=k)
    order = np.argsort(-counts, kind="stable")  # topics renumbered, largest first
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    # A topic no document is assigned to is a repeat of a heavier one (a corpus with fewer
    # topics than asked): it is dropped, and it sorts last, so dropping keeps the numbering.
    k = max(1, int(np.count_nonzero(counts)))
    order = order[:k]
    h = h[order]
    doc_topic = np.where(assigned >= 0, rank[np.maximum(assigned, 0)], -1).astype(np.int64)
    volume = counts[order].astype(np.int64)
    total = int(volume.sum())
    if total < len(corpus):
        warn(
            f"topics(): {len(corpus) - total:,} of {len(corpus):,} documents have no word in "
            f"the topics' vocabulary (only stop words, one-letter words or symbols) and are in "
            f"no topic (document_topic -1); shares are of the {total:,} others",
            DataWarning,
        )
    if k < n_topics:
        warn(
            f"topics(): found {k} of the {n_topics} topics asked: the {len(corpus):,} documents "
            f"and their {matrix.shape[1]:,} distinct words hold no more distinct topics",
            DataWarning,
        )
    top = np.argsort(-h, axis=1, kind="stable")[:, :top_terms]
    terms = tuple(tuple(str(vocab[j]) for j in row if h[i, j] > 0) for i, row in enumerate(top))
    weights = np.take_along_axis(h, top, axis=1)
    labels = _distinct_labels(terms)
    trend = _trend(log, docs.rows, doc_topic, labels, period, timezone)
    return Topics(
        terms,
        weights,
        labels,
        volume,
        volume / total if total else np.zeros(k),
        docs.rows,
        doc_topic,
        trend,
        docs.n_rows,
    )


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _factorise(
    decomp: Any, matrix: Any, k: int, random_state: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """NMF of ``matrix`` into ``k`` components: document weights ``w`` and topics ``h``.

    scikit-learn's own warnings do not reach the caller: its initialisation takes square
    roots of rounding-negative numbers on a corpus of fewer topics than ``k`` (harmless, the
    components are clipped at 0), and a fit that stops at ``max_iter`` is reported as
    cxmodel's :class:`~cxmodel.errors.ConvergenceWarning`.
    """
    model = decomp.NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=500)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        w = np.asarray(model.fit_transform(matrix), dtype=np.float64)
    if any(type(c.message).__name__ == "ConvergenceWarning" for c in caught):
        warn(
            f"topics(): the factorisation into {k} topics stopped after {model.n_iter_} "
            "iterations without converging; the topics are the last iterate (try another "
            "random_state or fewer topics)",
            ConvergenceWarning,
        )
    return w, np.asarray(model.components_, dtype=np.float64)


def _distinct_labels(terms: tuple[tuple[str, ...], ...]) -> npt.NDArray[np.object_]:
    """Each topic's three top terms joined by ``" / "``; a label already taken by a larger
    topic gets the topic's number, as ``"refund / money (#3)"``, so that the labels
    :meth:`Topics.add_to` writes tell every topic apart."""
    labels: list[str] = []
    for i, top in enumerate(terms):
        label = " / ".join(top[:3])
        labels.append(f"{label} (#{i})" if label in labels else label)
    return np.array(labels, dtype=object)


def _trend(
    log: InteractionLog,
    rows: npt.NDArray[np.int64],
    doc_topic: npt.NDArray[np.int64],
    labels: npt.NDArray[np.object_],
    period: str,
    timezone: str | None,
) -> MetricTable:
    keep = doc_topic >= 0
    idx = period_index(log.timestamps[rows[keep]], period, timezone)
    topic = doc_topic[keep]
    if idx.size == 0:
        empty: dict[str, npt.NDArray[Any]] = {
            "topic": np.zeros(0, dtype=object),
            "period": np.zeros(0, dtype=object),
            "documents": np.zeros(0, dtype=np.int64),
            "share": np.zeros(0),
        }
        return MetricTable("topic trend", empty)
    lo = int(idx.min())
    width = int(idx.max()) - lo + 1
    flat = topic * width + (idx - lo)
    used, counts = np.unique(flat, return_counts=True)
    per_period = np.bincount(idx - lo, minlength=width)
    slot = used % width
    return MetricTable(
        "topic trend",
        {
            "topic": labels[used // width],
            "period": index_labels(slot + lo, period),
            "documents": counts.astype(np.int64),
            "share": counts / per_period[slot],
        },
    )
