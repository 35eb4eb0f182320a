"""Sentiment of many texts through a pluggable scorer (any callable ``str -> float`` in [-1, 1])."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got, interaction_log, name_sequence
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._tables import MetricTable, check_key_names
from cxmodel.errors import DataError, DataWarning, SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.text._documents import documents
from cxmodel.text._scorers import ReadingScorer, Scorer, default_scorer, scorer_name

__all__ = ["SentimentScores", "sentiment", "sentiment_trend"]


@attrs.frozen(eq=False, repr=False)
class SentimentScores(Result):
    """Sentiment scores in [-1, 1] and the scorer that made them.

    A score is NaN for a missing text and for a text the scorer could not read (no word it
    knows, see :class:`ReadingScorer`): so means and shares, here and in every breakdown of
    the column (:func:`cxmodel.metrics.sentiment_by_topic`, :func:`sentiment_trend`, the
    customer table's ``mean_sentiment``), are over the texts the scorer read.

    Attributes
    ----------
    scores : ndarray of float
        One score per text (or per document row of the log).
    scorer : str
        Which scorer was used (:func:`scorer_name`).
    rows : ndarray of int or None
        The log rows scored when :func:`sentiment` was given a log, else ``None``.
    n_rows : int
        Length of the log (or of the texts).
    unreadable : ndarray of bool or None
        One flag per score: the text is there but the scorer read no word of it. ``None``
        when the scorer cannot tell (a plain callable without ``reads``).
    """

    scores: npt.NDArray[np.float64]
    scorer: str
    rows: npt.NDArray[np.int64] | None
    n_rows: int
    unreadable: npt.NDArray[np.bool_] | None = None

    @property
    def n_unreadable(self) -> int | None:
        """How many texts the scorer could not read (``None``: the scorer cannot tell)."""
        return None if self.unreadable is None else int(np.count_nonzero(self.unreadable))

    def __len__(self) -> int:
        return len(self.scores)

    def column(self) -> npt.NDArray[np.float64]:
        """Scores in log order, NaN for rows that were not scored or not read."""
        if self.rows is None:
            return self.scores
        out = np.full(self.n_rows, np.nan)
        out[self.rows] = self.scores
        return out

    def add_to(self, log: InteractionLog, column: str = "sentiment") -> InteractionLog:
        """``log`` with the scores in ``column`` (NaN elsewhere), for
        :func:`cxmodel.metrics.sentiment_by_topic` and :func:`sentiment_trend`."""
        if len(log) != self.n_rows:
            raise SchemaError(
                f"add_to(): the log has {len(log)} rows; the scores are for {self.n_rows} rows"
            )
        return log.with_column(column, self.column())

    def _rows(self) -> dict[Any, Any]:
        """One row per score, with the row of the log when known."""
        rows = {} if self.rows is None else {"row": self.rows}
        return {**rows, "sentiment": self.scores}

    def _summary(self, n_rows: int | None) -> str:
        s = self.summary()
        unread = "" if s["unreadable"] is None else f", unreadable={s['unreadable']}"
        return f"SentimentScores(n={s['n']}, mean={s['mean']:.3f}{unread}, scorer={s['scorer']!r})"

    def to_dict(self) -> dict[str, Any]:
        """Scores, the scorer's name and how many texts it could not read (or ``None``)."""
        return {"scores": self.scores, "scorer": self.scorer, "n_unreadable": self.n_unreadable}

    def summary(self) -> dict[str, Any]:
        """Scorer, texts scored (read), mean score, shares of positive/negative (beyond 0.05)
        among them, and texts not read (``None`` when the scorer cannot tell)."""
        ok = self.scores[~np.isnan(self.scores)]
        n = len(ok)
        return {
            "scorer": self.scorer,
            "n": n,
            "mean": float(ok.mean()) if n else math.nan,
            "positive": float((ok > 0.05).mean()) if n else math.nan,
            "negative": float((ok < -0.05).mean()) if n else math.nan,
            "unreadable": self.n_unreadable,
        }


def sentiment(
    texts: Iterable[str | None] | InteractionLog,
    scorer: Scorer | None = None,
    *,
    text: str = "text",
    kinds: Sequence[str] | None = None,
) -> SentimentScores:
    """Score texts with ``scorer`` (default :func:`default_scorer`).

    A scorer that follows :class:`ReadingScorer` (both built-in ones do) is first asked
    whether it reads each text; a text it cannot read (another language, only emoji, numbers
    or an order number) gets NaN, not a 0 that would pass for neutral, and is counted in
    ``unreadable``, with a :class:`~cxmodel.errors.DataWarning` giving the count and share.
    Means and shares are then over the texts read. A plain callable scores every text.

    Parameters
    ----------
    texts : iterable of str or None, or InteractionLog
        The texts; ``None``, NaN (a missing value of a pandas column) or blank gives NaN.
        Given a log, its rows with a non-blank
        ``text`` (of ``kinds``, if given) are scored, each distinct text once.
    scorer : callable str -> float, optional
        Any function or object returning a score in [-1, 1]; its name is recorded.
    text : str, default "text"
        With a log: the string column holding the texts.
    kinds : sequence of str, optional
        With a log: only rows of these kinds.

    Raises
    ------
    DataError
        The scorer returned something that is not a number in [-1, 1].
    ValueTypeError
        A text is neither a str nor missing (e.g. a number), naming its position.

    Warns
    -----
    DataWarning
        Some texts hold no word the scorer reads: how many, of how many, and what to do.

    Examples
    --------
    >>> from cxmodel.text import BasicScorer
    >>> scores = sentiment(["great, thanks!", "terrible delay", None], scorer=BasicScorer())
    >>> [round(float(s), 2) for s in scores.scores], scores.scorer
    ([0.78, -0.78, nan], 'basic English lexicon (cxmodel built-in)')
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     mixed = sentiment(["great", "It arrived on Tuesday", "très bien"], BasicScorer())
    >>> mixed.scores.round(2).tolist(), mixed.n_unreadable, caught[0].category.__name__
    ([0.61, 0.0, nan], 1, 'DataWarning')
    >>> def shouting(t: str) -> float:
    ...     return -1.0 if t.isupper() else 0.0
    >>> sentiment(["WHERE IS IT", "ok"], shouting).scores.tolist()
    [-1.0, 0.0]
    """
    score = default_scorer() if scorer is None else scorer
    if not callable(score):
        raise SchemaError(f"scorer must be a callable str -> float; got {score!r}")
    name = scorer_name(score)
    if isinstance(texts, InteractionLog):
        kinds = None if kinds is None else name_sequence(kinds, "sentiment()", "kinds")
        docs = documents(texts, text, kinds)
        used = np.unique(docs.codes)
        per_text = np.full(len(docs.texts), np.nan)
        unread_text = np.zeros(len(docs.texts), dtype=bool)
        values, unread = _score_all(score, name, [str(docs.texts[c]) for c in used])
        per_text[used] = values
        unreadable = None
        if unread is not None:
            unread_text[used] = unread
            unreadable = unread_text[docs.codes]
        result = SentimentScores(per_text[docs.codes], name, docs.rows, docs.n_rows, unreadable)
    else:
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            raise ValueTypeError(
                f"sentiment(): texts must be a list of texts or an InteractionLog; got {got(texts)}"
            )
        if isinstance(texts, Mapping):  # iterated, it gives its keys (ids), not its texts
            raise ValueTypeError(
                "sentiment(): texts must be a list of texts, not a mapping (its keys would be "
                f"scored); pass its .values(), got {got(texts)}"
            )
        items = list(texts)
        present = [i for i, t in enumerate(items) if not _missing(t, i) and str(t).strip()]
        out = np.full(len(items), np.nan)
        values, unread = _score_all(score, name, [str(items[i]) for i in present])
        out[present] = values
        unreadable = None
        if unread is not None:
            unreadable = np.zeros(len(items), dtype=bool)
            unreadable[present] = unread
        result = SentimentScores(out, name, None, len(items), unreadable)
    _warn_unreadable(result)
    return result


def _missing(item: object, index: int) -> bool:
    """Whether ``item`` is a missing text (None, NaN, pandas' NA); refuses anything but text.

    A pandas column of texts holds NaN where a text is missing: scored as the string ``"nan"``
    it would count as a neutral text.
    """
    if item is None or (isinstance(item, float) and math.isnan(item)):
        return True
    if type(item).__name__ in ("NAType", "NaTType"):
        return True
    if not isinstance(item, str):
        raise ValueTypeError(
            f"sentiment(): texts[{index}] must be text (a str) or None; got {got(item)}"
        )
    return False


def _score_all(
    score: Scorer, name: str, texts: list[str]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_] | None]:
    """The scores of ``texts`` (NaN where not read) and which were not read (``None``: the
    scorer cannot tell)."""
    reads = score.reads if isinstance(score, ReadingScorer) else None
    values = np.full(len(texts), np.nan)
    unread = np.zeros(len(texts), dtype=bool)
    for i, t in enumerate(texts):
        if reads is not None and not reads(t):
            unread[i] = True
            continue
        value = score(t)
        try:
            values[i] = value
            ok = -1.0 <= values[i] <= 1.0  # also catches NaN
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(
                f"scorer {name!r} returned {value!r} for {t[:60]!r}; expected a float in [-1, 1]"
            )
    return values, (None if reads is None else unread)


def _warn_unreadable(result: SentimentScores) -> None:
    """Warn with the count and share of texts the scorer could not read, if any."""
    n_unread = result.n_unreadable
    if not n_unread:
        return
    n_texts = n_unread + int(np.count_nonzero(~np.isnan(result.scores)))
    share = n_unread / n_texts
    percent = f"{share:.0%}" if 0.01 <= share <= 0.99 or share == 1.0 else f"{share:.1%}"
    warn(
        f"sentiment(): {n_unread:,} of {n_texts:,} texts ({percent}) have no word the scorer "
        f"{result.scorer!r} reads (another language? only emoji, numbers or an order number?); "
        "their score 0 would not be a reading, so they are left unscored (NaN) and means and "
        f"shares are over the {n_texts - n_unread:,} texts it read. To score them, pass a "
        "scorer for their language; scores.unreadable marks them",
        DataWarning,
    )


def sentiment_trend(
    log: InteractionLog,
    *,
    by: str = "topic",
    period: str = "month",
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable:
    """:func:`cxmodel.metrics.sentiment_by_topic` per calendar period.

    Mean ``sentiment`` of ticket rows by ``by`` and ``period`` with Student-t intervals, as
    ``sentiment_by_topic`` computes it (ticket kinds only, NaN ignored). Rows are sorted by
    ``by`` then period, and every period from the first to the last with a sentiment is a row
    of each group, as in the survey tables: a quiet period has ``n`` 0 and a NaN mean.
    Add the columns first with :meth:`Topics.add_to` (or :meth:`Categories.add_to`) and
    :meth:`SentimentScores.add_to`.

    Parameters
    ----------
    log : InteractionLog
        The log, with a ``sentiment`` column and the ``by`` column.
    by : str, default "topic"
        The column to break down by (missing values are the group ``"(missing)"``).
    period : {"day", "week", "month", "quarter"}, default "month"
        Calendar period of the ticket row, in ``timezone``.
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    level : float, default 0.95
        Confidence level of the intervals.

    Raises
    ------
    DataError
        No ticket row has a sentiment, as :func:`cxmodel.metrics.sentiment_by_topic`.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=list("abcd"),
    ...     timestamp=["2024-01-02T00:00Z", "2024-01-03T00:00Z", "2024-02-02T00:00Z",
    ...                "2024-02-03T00:00Z"], kind=["ticket_opened"] * 4,
    ...     topic=["refund"] * 4, sentiment=[-0.5, -0.3, 0.2, 0.4])
    >>> t = sentiment_trend(log)
    >>> t["period"].tolist(), [round(float(m), 2) for m in t["mean"]]
    (['2024-01', '2024-02'], [-0.4, 0.3])
    """
    log = interaction_log(log, "sentiment_trend()")
    from cxmodel._stats import mean_t_bounds, sample_moments
    from cxmodel.metrics._groups import group_table, key_columns
    from cxmodel.metrics._support import check_ticket_sentiment
    from cxmodel.metrics._tickets import TICKET_KINDS

    for name in (by, "sentiment"):
        if name not in log:
            raise SchemaError(f"column {name!r} is not in the log")
    check_ticket_sentiment(log, "sentiment_trend()")
    sentiment = log.numeric("sentiment")
    rows = log.kind_mask(*TICKET_KINDS) & ~np.isnan(sentiment)
    codes, cats = log.categorical(by)
    labels = np.append(cats.astype(object), "(missing)")[
        np.where(codes < 0, len(cats), codes)[rows]
    ]
    names, columns = key_columns(by, labels, period, log.timestamps[rows], timezone)
    check_key_names(names, ("n", "mean", "se", "ci_low", "ci_high"), "sentiment trend")
    keys, group, size = group_table(names, columns, int(rows.sum()), period)
    values = sentiment[rows]
    n = np.bincount(group, minlength=size)
    sums = np.bincount(group, weights=values, minlength=size)
    squares = np.bincount(group, weights=values * values, minlength=size)
    mean, var = sample_moments(n.astype(np.float64), sums, squares)
    se, low, high = mean_t_bounds(n.astype(np.float64), mean, var, level)
    return MetricTable(
        "sentiment",
        {
            **keys,
            "n": n.astype(np.int64),
            "mean": np.where(n > 0, mean, np.nan),
            "se": se,
            "ci_low": low,
            "ci_high": high,
        },
    )
