"""Journey stages, channels and the standard interaction kinds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import attrs

from cxmodel.errors import SchemaError, did_you_mean

__all__ = [
    "METRIC_SCALES",
    "STANDARD_KINDS",
    "STANDARD_QUESTIONS",
    "Channel",
    "Kind",
    "Question",
    "QuestionType",
    "Stage",
    "question_catalogue",
]


class Stage(str, Enum):
    """The stage of the customer journey a touchpoint belongs to.

    Examples
    --------
    >>> Stage("service") is Stage.SERVICE
    True
    """

    AWARENESS = "awareness"
    CONSIDERATION = "consideration"
    PURCHASE = "purchase"
    SERVICE = "service"
    LOYALTY = "loyalty"
    ADVOCACY = "advocacy"


class Channel(str, Enum):
    """The medium through which customer and business meet.

    Examples
    --------
    >>> Channel.EMAIL.value
    'email'
    """

    WEB = "web"
    APP = "app"
    STORE = "store"
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    PUSH = "push"
    SMS = "sms"
    SOCIAL = "social"
    DELIVERY = "delivery"
    SURVEY = "survey"
    OTHER = "other"


class Kind(str, Enum):
    """The standard interaction kinds. Users may log kinds of their own as plain strings.

    Examples
    --------
    >>> Kind.PURCHASE.value
    'purchase'
    """

    VIEW = "view"
    PRODUCT_VIEW = "product_view"
    SEARCH = "search"
    ADD_TO_CART = "add_to_cart"
    CHECKOUT = "checkout"
    PURCHASE = "purchase"
    RETURN = "return"
    REFUND = "refund"
    TICKET_OPENED = "ticket_opened"
    TICKET_REPLIED = "ticket_replied"
    TICKET_RESOLVED = "ticket_resolved"
    CALL = "call"
    CHAT = "chat"
    SURVEY = "survey"
    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    PUSH_SENT = "push_sent"
    PUSH_OPENED = "push_opened"
    DELIVERY = "delivery"
    SIGNUP = "signup"
    LOGIN = "login"
    CANCEL = "cancel"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_REVOKED = "consent_revoked"


STANDARD_KINDS: tuple[str, ...] = tuple(kind.value for kind in Kind)
"""The names of the standard interaction kinds, in journey order."""


class QuestionType(str, Enum):
    """What kind of answer a survey question takes, and so where the answer is stored.

    ``SCALE`` and ``YES_NO`` answers are numbers in the ``score`` column (yes = 1, no = 0);
    ``SINGLE_CHOICE``, ``MULTIPLE_CHOICE`` and ``TEXT`` answers are text in the ``answer``
    column (several choices joined by ``|``).

    Examples
    --------
    >>> QuestionType("yes_no") is QuestionType.YES_NO
    True
    """

    SCALE = "scale"
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TEXT = "text"


CHOICE_SEPARATOR = "|"
"""The separator of several choices in one ``answer`` field (multiple-choice questions)."""

_CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)


def _question_type(value: object) -> QuestionType:
    """``value`` as a :class:`QuestionType`: the member, or its value as text; anything else
    is a SchemaError listing the types, with the closest one (Enum's ValueError says
    neither).

    Examples
    --------
    >>> _question_type("yes_no")
    <QuestionType.YES_NO: 'yes_no'>
    >>> _question_type("scal")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: question type 'scal' is not one of [...]; did you mean 'scale'?
    """
    try:
        return QuestionType(value)
    except ValueError:
        known = [t.value for t in QuestionType]
        raise SchemaError(
            f"question type {value!r} is not one of {known}{did_you_mean(value, known)}"
        ) from None


def _as_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@attrs.frozen
class Question:
    """A survey question: its name (the ``metric`` value of its answers) and its answer type.

    Attributes
    ----------
    name
        The value of the ``metric`` column on the rows that answer this question.
    type
        A :class:`QuestionType` (or its value, e.g. ``"yes_no"``).
    low
        The lowest point of a ``SCALE`` question (a whole number); only for scales.
    high
        The highest point of a ``SCALE`` question (a whole number); only for scales.
    choices
        The options of a choice question, in the order to report them; only for choices. An
        option is non-empty text without ``|``.
    top
        The first point of the top box of a scale (default: the top two boxes, ``high - 1``).

    Raises
    ------
    SchemaError
        An empty name, a scale without whole ``low < high``, a top outside the scale, a choice
        question without choices (or with duplicate, empty or ``|``-holding options), or a bound,
        top or choices given to a type that has none.

    Examples
    --------
    >>> rating = Question("rating", QuestionType.SCALE, low=1, high=5)
    >>> rating.top, rating.scale
    (4, (1, 5))
    >>> Question("improve", "multiple_choice", choices=["price", "speed"]).choices
    ('price', 'speed')
    >>> Question("resolved", QuestionType.YES_NO, low=0, high=1)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: question 'resolved' is yes_no: it takes no low, high or top (those are for scale questions)
    """

    name: str
    type: QuestionType = attrs.field(converter=_question_type)
    low: int | None = attrs.field(default=None, kw_only=True)
    high: int | None = attrs.field(default=None, kw_only=True)
    choices: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_as_tuple)
    top: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SchemaError(f"a question needs a non-empty name (got {self.name!r})")
        where = f"question {self.name!r}"
        if self.type is QuestionType.SCALE:
            if not (_whole(self.low) and _whole(self.high)) or not self.low < self.high:  # type: ignore[operator]
                raise SchemaError(
                    f"{where} is a scale: it needs whole numbers low < high (got low={self.low!r}, "
                    f"high={self.high!r})"
                )
            if self.top is None:
                object.__setattr__(self, "top", self.high - 1)  # type: ignore[operator]
            elif not _whole(self.top) or not self.low <= self.top <= self.high:  # type: ignore[operator]
                raise SchemaError(
                    f"{where}: top {self.top!r} is not a whole point of the scale "
                    f"{self.low}..{self.high}"
                )
        elif (self.low, self.high, self.top) != (None, None, None):
            raise SchemaError(
                f"{where} is {self.type.value}: it takes no low, high or top (those are for scale "
                "questions)"
            )
        if self.type in _CHOICE_TYPES:
            bad = [c for c in self.choices if not isinstance(c, str) or not c.strip()]
            bad += [c for c in self.choices if isinstance(c, str) and CHOICE_SEPARATOR in c]
            if not self.choices or bad:
                raise SchemaError(
                    f"{where} is {self.type.value}: it needs choices, each non-empty text without "
                    f"{CHOICE_SEPARATOR!r} (got {list(self.choices)!r})"
                )
            if len(set(self.choices)) != len(self.choices):
                raise SchemaError(f"{where} lists a choice twice: {list(self.choices)!r}")
        elif self.choices:
            raise SchemaError(
                f"{where} is {self.type.value}: it takes no choices (those are for choice "
                "questions)"
            )

    @property
    def scale(self) -> tuple[int, int] | None:
        """``(low, high)`` of a scale (yes/no is ``(0, 1)``); ``None`` for text answers."""
        if self.type is QuestionType.YES_NO:
            return (0, 1)
        if self.low is None or self.high is None:
            return None
        return (self.low, self.high)

    @property
    def in_score(self) -> bool:
        """Whether answers are numbers in the ``score`` column (scales and yes/no)."""
        return self.type in (QuestionType.SCALE, QuestionType.YES_NO)


NPS_QUESTION = Question("nps", QuestionType.SCALE, low=0, high=10, top=9)
"""Net Promoter Score, 0-10; the top box is the promoters (9-10)."""
CSAT_QUESTION = Question("csat", QuestionType.SCALE, low=1, high=5, top=4)
"""Customer satisfaction, 1-5; the top two boxes (4-5) are satisfied."""
CES_QUESTION = Question("ces", QuestionType.SCALE, low=1, high=7, top=5)
"""Customer Effort Score 2.0, 1-7 agreement; the agree share is 5-7."""

STANDARD_QUESTIONS: tuple[Question, ...] = (NPS_QUESTION, CSAT_QUESTION, CES_QUESTION)
"""The questions every log knows: ``nps``, ``csat`` and ``ces``."""

METRIC_SCALES: dict[str, tuple[float, float]] = {
    q.name: (float(q.low), float(q.high))  # type: ignore[arg-type]
    for q in STANDARD_QUESTIONS
}
"""The closed score range of each standard survey metric (``nps``, ``csat``, ``ces``)."""


def question_catalogue(
    questions: Iterable[Question] | Mapping[str, Question] | None = None,
) -> dict[str, Question]:
    """The standard questions plus ``questions``, by name.

    A standard question may be repeated as it is, not redefined; two declared questions may not
    share a name.

    Examples
    --------
    >>> sorted(question_catalogue([Question("resolved", "yes_no")]))
    ['ces', 'csat', 'nps', 'resolved']
    >>> question_catalogue([Question("csat", "scale", low=1, high=7)])
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: question 'csat' is standard (scale 1..5); a redefinition (scale 1..7) is not allowed: give your question another name
    """
    out = {q.name: q for q in STANDARD_QUESTIONS}
    if questions is None:
        return out
    items: Any = questions.values() if isinstance(questions, Mapping) else questions
    if isinstance(items, Question):
        items = [items]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise SchemaError(
            f"questions must be Question objects (a list of them); got {type(items).__name__}"
        )
    declared: set[str] = set()
    for question in items:
        if not isinstance(question, Question):
            raise SchemaError(
                f"questions holds {question!r}; expected Question objects, e.g. "
                "Question('rating', QuestionType.SCALE, low=1, high=5)"
            )
        if question.name in declared:
            raise SchemaError(f"question {question.name!r} is declared twice")
        declared.add(question.name)
        known = out.get(question.name)
        if known is not None and known != question and known in STANDARD_QUESTIONS:
            raise SchemaError(
                f"question {question.name!r} is standard ({_describe(known)}); a redefinition "
                f"({_describe(question)}) is not allowed: give your question another name"
            )
        out[question.name] = question
    return out


def _describe(question: Question) -> str:
    if question.type is QuestionType.SCALE:
        return f"scale {question.low}..{question.high}"
    return str(question.type.value)
