"""Free text: tokenisation beyond English, topics, keyword categories and sentiment.

Ticket texts and survey verbatims become analysable columns: :func:`topics` finds topics
without labels (TF-IDF + NMF, needs ``cxmodel[ml]``), :func:`categorise` labels texts by
keyword rules, and :func:`sentiment` scores them with a pluggable scorer. Each result can be
added to the log as a column (``add_to``) for the metrics, e.g.
:func:`cxmodel.metrics.sentiment_by_topic`.

Examples
--------
>>> import cxmodel as cx
>>> cx.text.tokenize("Où est mon REMBOURSEMENT ?")
['ou', 'est', 'mon', 'remboursement']
"""

from __future__ import annotations

from cxmodel.text._categorise import Categories, categorise
from cxmodel.text._scorers import (
    BasicScorer,
    ReadingScorer,
    Scorer,
    VaderScorer,
    default_scorer,
    scorer_name,
)
from cxmodel.text._sentiment import SentimentScores, sentiment, sentiment_trend
from cxmodel.text._tokens import STOP_WORDS, normalize, stop_words, tokenize
from cxmodel.text._topics import Topics, topics

__all__ = [
    "STOP_WORDS",
    "BasicScorer",
    "Categories",
    "ReadingScorer",
    "Scorer",
    "SentimentScores",
    "Topics",
    "VaderScorer",
    "categorise",
    "default_scorer",
    "normalize",
    "scorer_name",
    "sentiment",
    "sentiment_trend",
    "stop_words",
    "tokenize",
    "topics",
]
