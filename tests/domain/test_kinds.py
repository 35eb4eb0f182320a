"""Survey questions: declaration checks, scales, and the question catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from cxmodel.domain import Question, QuestionType, question_catalogue
from cxmodel.errors import SchemaError


class TestQuestion:
    def test_standard_questions(self) -> None:
        """nps, csat and ces are predefined with their scales and top boxes."""
        cat = question_catalogue()
        assert {n: (q.low, q.high, q.top) for n, q in cat.items()} == {
            "nps": (0, 10, 9),
            "csat": (1, 5, 4),
            "ces": (1, 7, 5),
        }

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"type": "scale"}, "needs whole numbers low < high"),
            ({"type": "scale", "low": 5, "high": 1}, "needs whole numbers low < high"),
            ({"type": "scale", "low": 1.5, "high": 5}, "needs whole numbers low < high"),
            ({"type": "scale", "low": 1, "high": 5, "top": 6}, "top 6 is not a whole point"),
            ({"type": "yes_no", "high": 1}, "takes no low, high or top"),
            ({"type": "single_choice"}, "needs choices"),
            ({"type": "single_choice", "choices": ["a|b"]}, "without '|'"),
            ({"type": "multiple_choice", "choices": ["a", "a"]}, "lists a choice twice"),
            ({"type": "text", "choices": ["a"]}, "takes no choices"),
            ({"type": "stars"}, "question type 'stars' is not one of"),
        ],
    )
    def test_bad_declarations(self, kwargs: dict[str, Any], message: str) -> None:
        """A question that cannot be answered consistently is refused when declared."""
        qtype = kwargs.pop("type")
        with pytest.raises((SchemaError, ValueError), match=message):
            Question("q", qtype, **kwargs)

    def test_catalogue_refuses_redefinition_and_duplicates(self) -> None:
        """A standard name cannot be redefined; a declared name cannot repeat."""
        with pytest.raises(SchemaError, match="'csat' is standard"):
            question_catalogue([Question("csat", "scale", low=0, high=10)])
        with pytest.raises(SchemaError, match="declared twice"):
            question_catalogue([Question("r", "yes_no"), Question("r", "text")])
        same = Question("csat", "scale", low=1, high=5)  # repeating it as it is is fine
        assert question_catalogue([same])["csat"] == same

    @pytest.mark.parametrize(
        ("question", "scale", "in_score"),
        [
            (Question("r", QuestionType.SCALE, low=1, high=5), (1, 5), True),
            (Question("ok", QuestionType.YES_NO), (0, 1), True),
            (Question("c", QuestionType.SINGLE_CHOICE, choices=["a", "b"]), None, False),
            (Question("t", QuestionType.TEXT), None, False),
        ],
        ids=["scale", "yes-no", "choice", "text"],
    )
    def test_scale_and_score_column(
        self, question: Question, scale: tuple[int, int] | None, in_score: bool
    ) -> None:
        """Scales and yes/no (as 0..1) answer in the score column; choices and text do not."""
        assert (question.scale, question.in_score) == (scale, in_score)
