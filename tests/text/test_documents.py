"""Tests of a log's documents: the rows holding a non-blank text, optionally of some kinds, and
the helpers that put per-document values back on the log's rows."""

from __future__ import annotations

import numpy as np

from cxmodel.log import InteractionLog
from cxmodel.text._documents import documents, pick, spread

#: In log order: a@0 "late again", a@1 blank, a@2 no text, b@0 "late again" (a survey), b@1 "thanks".
LOG = InteractionLog.from_arrays(
    customer_id=["a", "a", "a", "b", "b"],
    timestamp=[0, 1, 2, 0, 1],
    kind=["ticket_opened", "ticket_opened", "view", "survey", "ticket_opened"],
    text=["late again", "   ", None, "late again", "thanks"],
)


class TestDocuments:
    def test_rows_with_a_non_blank_text(self) -> None:
        """Missing and blank texts are not documents; equal texts share a code."""
        docs = documents(LOG, "text", None)
        assert docs.rows.tolist() == [0, 3, 4] and len(docs) == 3
        texts = [docs.texts[c] for c in docs.codes]
        assert texts == ["late again", "late again", "thanks"]
        assert docs.codes[0] == docs.codes[1]
        assert docs.n_rows == 5

    def test_restricted_to_kinds(self) -> None:
        """With kinds, only their rows count."""
        docs = documents(LOG, "text", ["ticket_opened"])
        assert docs.rows.tolist() == [0, 4]


class TestSpreadAndPick:
    def test_spread_puts_values_on_their_rows(self) -> None:
        """Values land on their rows; the other rows hold None."""
        out = spread(4, np.array([1, 3]), np.array(["x", "y"], dtype=object))
        assert out.tolist() == [None, "x", None, "y"]

    def test_pick_with_no_label(self) -> None:
        """Index -1 picks None; others pick their label."""
        labels = np.array(["billing", "delivery"], dtype=object)
        assert pick(labels, np.array([1, -1, 0])).tolist() == ["delivery", None, "billing"]
