"""Keyword categorisation: known answers, phrases, priority and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.text import categorise

TEXTS = [
    "Where is my REFUND?",  # refund
    "I want my money back now",  # refund (phrase)
    "money is not back",  # not the phrase "money back"
    "The app crashed and I was charged twice",  # bug + billing
    "Charged twice, refund please",  # refund + billing: label = refund (first)
    "کتاب را پس بدهید، بازپرداخت می‌خواهم",  # refund (Persian, half-space)
    "أريد استرداد المبلغ",  # refund (Arabic, hamza on alef in the text)
    "Lovely staff",  # nothing
    None,  # not a document
]
CATEGORIES = {
    "refund": ["refund", "money back", "بازپرداخت", "استرداد"],
    "bug": ["crashed", "crash", "error"],
    "billing": ["charged twice", "invoice"],
}


def log_of(texts: list[str | None]) -> InteractionLog:
    n = len(texts)
    return InteractionLog.from_arrays(
        customer_id=[f"c{i}" for i in range(n)],
        timestamp=["2024-01-01T00:00Z"] * n,
        kind=["ticket_opened"] * n,
        text=texts,
    )


def test_known_answers() -> None:
    log = log_of(TEXTS)
    cats = categorise(log, CATEGORIES)
    assert cats.names == ("refund", "bug", "billing")
    by_text = dict(zip(log.column("text")[cats.rows], cats.labels()))
    assert by_text == {
        TEXTS[0]: "refund",
        TEXTS[1]: "refund",
        TEXTS[2]: None,
        TEXTS[3]: "bug",
        TEXTS[4]: "refund",
        TEXTS[5]: "refund",
        TEXTS[6]: "refund",
        TEXTS[7]: None,
    }
    assert cats.counts.tolist() == [5, 1, 2]
    assert cats.unmatched == 2
    assert cats.to_dict() == {
        "category": ["refund", "bug", "billing", "(none)"],
        "documents": [5, 1, 2, 2],
    }
    row3 = int(np.flatnonzero(log.column("text")[cats.rows] == TEXTS[3])[0])
    assert cats.matches[row3].tolist() == [False, True, True]


def test_keywords_are_normalised_too() -> None:
    log = log_of(["Le remboursement n'est pas arrivé", "كتاب مفقود"])
    cats = categorise(log, {"refund": ["REMBOURSEMENT"], "book": ["کتاب"], "late": ["arrive"]})
    assert cats.counts.tolist() == [1, 1, 1]


def test_whole_words_only() -> None:
    cats = categorise(log_of(["refunded yesterday"]), {"refund": ["refund"]})
    assert cats.counts.tolist() == [0]


def test_column_and_add_to() -> None:
    log = log_of(TEXTS)
    cats = categorise(log, CATEGORIES, kinds=["ticket_opened"])
    tagged = cats.add_to(log)
    assert len(tagged.column("category")) == len(log)
    assert (tagged.column("category") == cats.column()).all()
    assert sum(v is None for v in cats.column()) == 3  # two unmatched + the missing text
    assert "Categories(" in repr(cats) and "<table>" in cats._repr_html_()
    pd = pytest.importorskip("pandas")
    frame = cats.to_pandas()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns)[:2] == ["row", "label"]


def test_bad_rules() -> None:
    with pytest.raises(SchemaError, match="list of strings"):
        categorise(log_of(["x"]), {"refund": "refund"})
    with pytest.raises(SchemaError, match="has no word"):
        categorise(log_of(["x"]), {"refund": ["?!"]})


@pytest.mark.parametrize(
    ("keywords", "match"),
    [(3, r"keywords of 'refund' must be a list of keywords"), ([3], r"keyword of 'refund'")],
    ids=["keywords-not-a-list", "keyword-not-text"],
)
def test_keywords_of_the_wrong_type(keywords: object, match: str) -> None:
    """Keywords that are not a list of text raise a ValueTypeError naming the category."""
    with pytest.raises(ValueTypeError, match=match):
        categorise(log_of(["x"]), {"refund": keywords})  # type: ignore[dict-item]


def test_a_category_without_keywords_is_refused() -> None:
    """A category with an empty keyword list could never match: refused, naming it."""
    log = InteractionLog.from_arrays(
        customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["ticket_opened"], text=["hi"]
    )
    with pytest.raises(SchemaError, match="'bug' has no keyword"):
        categorise(log, {"refund": ["refund"], "bug": []})
