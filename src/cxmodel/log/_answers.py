"""Survey answers: a row's ``score`` and ``answer`` read against the question its ``metric``
names, by a log and by the streaming engine alike.

:func:`read_answer` reads one answer (the yes/no reading, the choices, the column each type
of question is answered in), :func:`scale_refused` checks a score against its scale, and
:func:`unknown_metric` and :func:`no_metric` say why a metric is refused or wanted; a log
reads its columns with them (:func:`prepare_answers`, :func:`validate_answers`), the engine
each record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import count
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.domain._kinds import (
    CHOICE_SEPARATOR,
    STANDARD_QUESTIONS,
    Question,
    QuestionType,
    question_catalogue,
)
from cxmodel.errors import did_you_mean
from cxmodel.log._columns import (
    Codes,
    Encoded,
    RowErrors,
    _kind_of,
    id_text,
    is_missing,
    is_missing_value,
    is_number,
    show,
)

__all__ = [
    "ANSWER_COLUMNS",
    "STANDARD_CATALOGUE",
    "no_metric",
    "prepare_answers",
    "read_answer",
    "scale_refused",
    "unknown_metric",
    "validate_answers",
    "written",
    "yes_no",
]

#: the columns (a record's fields) that hold a survey answer
ANSWER_COLUMNS = ("score", "answer")
#: the questions every log and engine know: ``nps``, ``csat`` and ``ces``, by name
STANDARD_CATALOGUE = question_catalogue()
_TYPE_NAMES = {
    QuestionType.SCALE: "scale",
    QuestionType.YES_NO: "yes/no",
    QuestionType.SINGLE_CHOICE: "single-choice",
    QuestionType.MULTIPLE_CHOICE: "multiple-choice",
    QuestionType.TEXT: "text",
}
_CHOICES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
_YES = {
    "yes": 1.0,
    "true": 1.0,
    "1": 1.0,
    "1.0": 1.0,
    "no": 0.0,
    "false": 0.0,
    "0": 0.0,
    "0.0": 0.0,
}


def written(item: object) -> str:
    """A score as messages quote it: text as it is written (a CSV field), anything else as
    :func:`~cxmodel.log._columns.show` shows it.

    Examples
    --------
    >>> written("11"), written(11.0), written(True)
    ('11', '11.0', 'True')
    """
    return item if isinstance(item, str) else show(item)


def yes_no(item: object) -> float | None:
    """The answer to a yes/no question as stored: 1.0 for yes, 0.0 for no, ``None`` for
    anything else.

    Yes and no may be written ``yes``/``no``, ``true``/``false`` or ``1``/``0`` (any case,
    spaces around), as true/false, or as the numbers 1 and 0 (:func:`is_number`: not a
    ``Decimal``, a ``Fraction`` or a duration).

    Examples
    --------
    >>> [yes_no(v) for v in ("Yes", " no ", "TRUE", True, 0, 1.0, np.int8(1))]
    [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    >>> [yes_no(v) for v in ("maybe", 2, 0.5, None)]
    [None, None, None, None]
    """
    if isinstance(item, str):
        return _YES.get(item.strip().lower())
    if isinstance(item, (bool, np.bool_)):
        return 1.0 if item else 0.0
    if is_number(item) and item in (0, 1):
        return float(item)
    return None


def _choice(part: object) -> str | None:
    """One choice as given: text (spaces around dropped), or a whole number's digits, as
    the ``answer`` column reads text (:func:`~cxmodel.log._columns.id_text`)."""
    text = id_text(part)
    return None if text is None else text.strip()


def choice_text(
    item: object, question: Question, place: str = "column"
) -> tuple[str | None, str | None]:
    """The answer ``item`` to the choice question ``question`` as stored, or why it is
    refused: ``(text, None)`` or ``(None, reason)``; ``(None, None)`` when it is missing.

    A choice is text or a whole number (read as the ``answer`` column reads text: ``1`` is
    ``"1"``), spaces around dropped. A multiple-choice answer is text with its choices
    separated by ``|`` or a list of them (a tuple, an array), stored with its choices once
    each, in the question's order; a single-choice answer is one choice (a list of one
    too). An empty list is missing. ``place`` is ``"column"`` (a log's) or ``"field"`` (a
    record's).

    Examples
    --------
    >>> why = Question("why", "multiple_choice", choices=["a", "b", "c"])
    >>> choice_text(["c", "a"], why), choice_text("b| a", why)
    (('a|c', None), ('a|b', None))
    >>> choice_text("a|z", why, "field")[1]
    "answer 'a|z': 'z' is not a choice of question 'why' (field 'answer'); expected some of ['a', 'b', 'c'] separated by '|'"
    """
    if is_missing_value(item):
        return None, None
    shown = show(item)
    where = f"({place} 'answer')"
    multiple = question.type is QuestionType.MULTIPLE_CHOICE
    parts: list[Any]
    if isinstance(item, (list, tuple, np.ndarray)):
        parts = list(item)
    else:
        text = id_text(item)
        if text is None:
            what = "a bool" if isinstance(item, (bool, np.bool_)) else _kind_of(item)
            return None, (
                f"answer {shown} is {what} {where}; expected a choice of question "
                f"{question.name!r}: one of {list(question.choices)}"
            )
        parts = text.split(CHOICE_SEPARATOR) if multiple else [text]
    picked: set[str] = set()
    for part in parts:
        name = _choice(part)
        if name not in question.choices:
            if len(parts) == 1 and not isinstance(item, (list, tuple, np.ndarray)):
                return None, (
                    f"answer {shown} is not a choice of question {question.name!r} {where}; "
                    f"expected one of {list(question.choices)}"
                )
            return None, (
                f"answer {shown}: {show(part)} is not a choice of question {question.name!r} "
                f"{where}; expected some of {list(question.choices)} separated by "
                f"{CHOICE_SEPARATOR!r}"
            )
        picked.add(name)
    if not multiple and len(picked) > 1:
        return None, (
            f"answer {shown} gives {len(picked)} choices to the single-choice question "
            f"{question.name!r} {where}; expected one of {list(question.choices)}"
        )
    if not picked:
        return None, None
    return CHOICE_SEPARATOR.join(c for c in question.choices if c in picked), None


def read_answer(
    question: Question, score: object, answer: object, place: str = "column"
) -> tuple[Any, Any, str | None]:
    """The ``score`` and ``answer`` of a row that answers ``question``, as stored, or why
    they are refused: the one reading of an answer of a log and of the streaming engine.

    Returns ``(score, answer, reason)``; ``reason`` is ``None`` when the answer is read, and
    a missing value (:func:`~cxmodel.log._columns.is_missing_value`) is ``None``. A scale
    and a yes/no question are answered in ``score``, the others in ``answer``: an answer in
    the other column is refused. A yes/no score is read by :func:`yes_no` (1.0 or 0.0), a
    choice answer by :func:`choice_text`; a scale's score and a text answer are returned as
    given, for the caller to read as a number (then checked by :func:`scale_refused`) and
    as text. ``place`` is ``"column"`` (a log's) or ``"field"`` (a record's).

    Examples
    --------
    >>> ok = Question("ok", "yes_no")
    >>> read_answer(ok, "Yes", None)
    (1.0, None, None)
    >>> read_answer(ok, None, "yes", "field")[2]
    "answer 'yes' is given for the yes/no question 'ok', whose answers go in field 'score'"
    """
    has_score = not is_missing_value(score)
    has_answer = not is_missing_value(answer)
    if question.in_score:
        if has_answer:
            return None, None, _misplaced("answer", show(answer), question, place)
        if not has_score:
            return None, None, None
        if question.type is not QuestionType.YES_NO:
            return score, None, None
        read = yes_no(score)
        if read is None:
            return (
                None,
                None,
                (
                    f"score {show(score)} is not an answer to the yes/no question "
                    f"{question.name!r} ({place} 'score'); expected yes or no (or true/false, 1/0)"
                ),
            )
        return read, None, None
    if has_score:
        return None, None, _misplaced("score", written(score), question, place)
    if question.type not in _CHOICES:
        return None, answer if has_answer else None, None
    text, reason = choice_text(answer, question, place)
    return None, text, reason


def _misplaced(column: str, shown: str, question: Question, place: str) -> str:
    other = "answer" if column == "score" else "score"
    return (
        f"{column} {shown} is given for the {_TYPE_NAMES[question.type]} question "
        f"{question.name!r}, whose answers go in {place} {other!r}"
    )


def scale_refused(
    score: float, question: Question, given: object, place: str = "column"
) -> str | None:
    """Why the score ``score`` (a number, given as ``given``) is refused as an answer to the
    scale (or yes/no) question ``question``: outside its scale, or not a whole point;
    ``None`` when it is an answer.

    Examples
    --------
    >>> from cxmodel.domain._kinds import NPS_QUESTION
    >>> scale_refused(11.0, NPS_QUESTION, "11", "field")
    "score 11 is outside the NPS scale 0..10 (field 'score', metric 'nps')"
    >>> scale_refused(9.0, NPS_QUESTION, 9.0) is None
    True
    """
    scale = question.scale
    if scale is None:
        return None
    low, high = scale
    metric = question.name
    if not low <= score <= high:
        return (
            f"score {written(given)} is outside the {metric.upper()} scale {low:g}..{high:g} "
            f"({place} 'score', metric {metric!r})"
        )
    if score != round(score):
        return (
            f"score {written(given)} is not a whole number ({place} 'score', metric "
            f"{metric!r}); survey scales are answered in whole points"
        )
    return None


def unknown_metric(metric: str, catalogue: Mapping[str, Question], place: str = "column") -> str:
    """Why ``metric``, which names no question of ``catalogue``, is refused.

    Examples
    --------
    >>> unknown_metric("npss", STANDARD_CATALOGUE, "field")  # doctest: +ELLIPSIS
    "metric 'npss' is unknown (field 'metric'); did you mean 'nps'?; expected one of ['ces', 'csat', 'nps']; declare ..."
    """
    hint = ""
    if len(catalogue) <= len(STANDARD_QUESTIONS):
        hint = (
            "; declare other questions with questions=[Question('rating', QuestionType.SCALE, "
            "low=1, high=5), ...]"
        )
    return (
        f"metric {metric!r} is unknown ({place} 'metric'){did_you_mean(metric, catalogue)}; "
        f"expected one of {sorted(catalogue)}{hint}"
    )


def no_metric(
    column: str,
    shown: str,
    catalogue: Mapping[str, Question],
    place: str = "column",
    absent: bool = False,
) -> str:
    """Why a score or an answer (``column``, its value written ``shown``) without a metric is
    refused; ``absent``: the data have no ``metric`` column at all.

    Examples
    --------
    >>> no_metric("score", "7", STANDARD_CATALOGUE, "field")
    "score 7 has no metric (field 'metric' is missing); say which question it answers: one of ['ces', 'csat', 'nps']"
    """
    missing = f"{place} 'metric' is not in the data" if absent else f"{place} 'metric' is missing"
    return (
        f"{column} {shown} has no metric ({missing}); say which question it answers: one of "
        f"{sorted(catalogue)}"
    )


# -- a log's columns --------------------------------------------------------------------------
def _values(column: Any) -> npt.NDArray[Any]:
    """A column as given, as objects (an Arrow column decoded)."""
    values = column.decode() if isinstance(column, Encoded) else np.asarray(column)
    return values.astype(object)


def _question(questions: Mapping[str, Question], metric: object) -> Question | None:
    """The question ``metric`` names, read as the ``metric`` column reads text
    (:func:`~cxmodel.log._columns.id_text`: ``5`` names question ``"5"``)."""
    if type(metric) is str:
        return questions.get(metric)
    name = id_text(metric)
    return None if name is None else questions.get(name)


def _metric_codes(column: Any) -> tuple[npt.NDArray[np.intp], list[Any]]:
    """Each row's metric as a code into the distinct metrics (the last code: missing), so
    that questions are looked up once per metric, not once per row.

    Values are told apart by class as well as by value (``1``, ``1.0`` and ``True`` are
    three metrics, as :func:`_question` reads them); a column holding unhashable values
    (lists) has a code per row.

    Examples
    --------
    >>> code, distinct = _metric_codes(np.array(["nps", None, "nps", 1, True], dtype=object))
    >>> code.tolist(), distinct
    ([0, 1, 0, 2, 3], ['nps', None, 1, True])
    """
    if isinstance(column, Encoded):  # coded already: missing (-1) becomes the last code
        categories = column.categories.tolist()
        return np.where(column.codes >= 0, column.codes, len(categories)), [*categories, None]
    values = np.asarray(column, dtype=object).tolist()
    first: dict[tuple[type, Any], int] = {}
    try:  # the position each (class, value) is first seen at, in C
        at = np.fromiter(
            map(first.setdefault, zip(map(type, values), values), count()), np.intp, len(values)
        )
    except TypeError:  # an unhashable value: one code per row
        return np.arange(len(values)), values
    renumber = np.zeros(len(values), dtype=np.intp)
    renumber[np.fromiter(first.values(), np.intp, len(first))] = np.arange(len(first))
    return renumber[at], [value for _, value in first]


def prepare_answers(
    raw: dict[str, Any], questions: dict[str, Question], errors: RowErrors
) -> dict[str, Any]:
    """Survey answers as stored: yes/no in ``score`` as 1/0, choices as text in ``answer``.

    Each row whose metric names a question of ``questions`` and that holds an answer (a
    present ``answer``, or a present ``score`` to a question other than a scale) is read by
    :func:`read_answer`; a refused one is a bad row. Returns the columns to convert in place
    of ``raw``'s (``raw`` keeps the values as written for messages); the scores of scales
    are checked once numbers (:func:`validate_answers`).

    Examples
    --------
    >>> from cxmodel.domain import Question
    >>> catalogue = {"ok": Question("ok", "yes_no"),
    ...              "why": Question("why", "multiple_choice", choices=["a", "b", "c"])}
    >>> raw = {"metric": np.array(["ok", "ok", "why", "why"], dtype=object),
    ...        "score": np.array(["Yes", False, None, None], dtype=object),
    ...        "answer": np.array([None, None, ["c", "a"], "b|z"], dtype=object)}
    >>> errs = RowErrors()
    >>> out = prepare_answers(raw, catalogue, errs)
    >>> out["score"].tolist(), out["answer"].tolist()
    ([1.0, 0.0, None, None], [None, None, 'a|c', None])
    >>> errs.reasons[3]
    "answer 'b|z': 'z' is not a choice of question 'why' (column 'answer'); expected some of ['a', 'b', 'c'] separated by '|'"
    """
    special = {n for n, q in questions.items() if q.type is not QuestionType.SCALE}
    if "metric" not in raw or (not special and "answer" not in raw):
        return {}
    if "score" not in raw and "answer" not in raw:
        return {}
    code, distinct = _metric_codes(raw["metric"])
    asked = [_question(questions, m) for m in distinct]  # a question per distinct metric
    n = len(code)
    # the rows to read: those holding a score to a question other than a scale, or an
    # answer to a question other than text (a text answer alone is read as it is); the
    # column of scores is looked at only when there are such questions (it is numbers)
    to_read = np.zeros(n, dtype=bool)
    scores = answers = None
    if "answer" in raw:
        answers = _values(raw["answer"])
        missing = is_missing(answers)
        answers[missing] = None  # one missing value: the same answer read once (below)
        not_text = np.array(
            [q is not None and q.type is not QuestionType.TEXT for q in asked], bool
        )
        to_read |= not_text[code] & ~missing
    not_scale = np.array([q is not None and q.type is not QuestionType.SCALE for q in asked], bool)
    if "score" in raw and not_scale[code].any():
        scores = _values(raw["score"])
        missing = is_missing(scores)
        scores[missing] = None
        to_read |= not_scale[code] & ~missing
    read: dict[str, dict[int, Any]] = {"score": {}, "answer": {}}
    seen: dict[Any, tuple[Any, Any, str | None]] = {}  # each distinct answer read once
    for row in np.flatnonzero(to_read).tolist():
        question = asked[code[row]]
        assert question is not None
        given = (
            None if scores is None else scores[row],
            None if answers is None else answers[row],
        )
        key = (question.name, *map(type, given), *given)
        try:
            score, answer, reason = seen[key]
        except KeyError:
            score, answer, reason = seen[key] = read_answer(question, *given)
        except TypeError:  # a list of choices: not a key
            score, answer, reason = read_answer(question, *given)
        if reason is not None:
            errors.reasons.setdefault(row, reason)
        if question.type is QuestionType.YES_NO or reason is not None:
            read["score"][row] = score
        if question.type in _CHOICES or reason is not None:
            read["answer"][row] = answer
    out: dict[str, Any] = {}
    for column, values in (("score", scores), ("answer", answers)):
        if not read[column] or column not in raw:  # only a column some answer changed
            continue
        given = raw[column]
        if isinstance(given, np.ndarray) and given.dtype.kind in "fiu":  # numbers stay numbers
            numbers = given.astype(np.float64)
            for row, value in read[column].items():
                numbers[row] = np.nan if value is None else value
            out[column] = numbers
            continue
        stored = _values(given) if values is None else values
        for row, value in read[column].items():
            stored[row] = value
        out[column] = stored
    return out


def validate_answers(
    strings: dict[str, tuple[Codes, npt.NDArray[np.object_]]],
    numeric: dict[str, npt.NDArray[np.float64]],
    errors: RowErrors,
    catalogue: Mapping[str, Question],
    given_at: Callable[[str, int], object],
) -> None:
    """Survey rows, vectorised: a known metric, a score on its question's scale
    (:func:`scale_refused`), no score or answer without a metric. ``given_at(column, row)``
    is a value as given, for messages."""
    score = numeric.get("score")
    has_answer = strings["answer"][0] >= 0 if "answer" in strings else None

    def shown(column: str, row: int) -> str:
        item = given_at(column, row)
        return written(item) if column == "score" else show(item)

    if "metric" not in strings:
        present = {
            "score": None if score is None else ~np.isnan(score),
            "answer": has_answer,
        }
        for column, rows in present.items():
            if rows is not None:
                errors.add(
                    np.flatnonzero(rows),
                    lambda row, column=column: no_metric(  # type: ignore[misc]
                        column, shown(column, row), catalogue, absent=True
                    ),
                )
        return
    metric_codes, metrics = strings["metric"]
    asked = [catalogue.get(m) for m in metrics]
    has_metric = metric_codes >= 0
    rows = np.flatnonzero(has_metric)  # the checks below read only the rows with a metric
    code = metric_codes[rows]
    known = np.array([q is not None for q in asked], dtype=bool)[code]
    errors.add(rows[~known], lambda row: unknown_metric(metrics[metric_codes[row]], catalogue))
    if score is not None:
        answered = score[rows]
        bounds = [q.scale if q is not None and q.scale else (-np.inf, np.inf) for q in asked]
        low_of = np.array([b[0] for b in bounds], dtype=np.float64)[code]
        high_of = np.array([b[1] for b in bounds], dtype=np.float64)[code]
        with np.errstate(invalid="ignore"):
            off = (answered < low_of) | (answered > high_of) | (answered != np.round(answered))
        for row in rows[off & known & ~np.isnan(answered)].tolist():
            question = asked[metric_codes[row]]
            assert question is not None
            reason = scale_refused(float(score[row]), question, given_at("score", row))
            if reason is not None:
                errors.reasons.setdefault(row, reason)
        errors.add(
            np.flatnonzero(~has_metric & ~np.isnan(score)),
            lambda row: no_metric("score", shown("score", row), catalogue),
        )
    if has_answer is not None:
        errors.add(
            np.flatnonzero(has_answer & ~has_metric),
            lambda row: no_metric("answer", shown("answer", row), catalogue),
        )
