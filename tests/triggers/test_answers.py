"""Survey answers read alike by a log and by the streaming engine.

A survey row's ``metric`` names its question (``questions=`` on the log and on the engine,
besides the standard ``nps``, ``csat`` and ``ces``), and its answer is read against it by
one function on both sides, :func:`~cxmodel.log._answers.read_answer`, a scale's score then
checked by :func:`~cxmodel.log._answers.scale_refused`. Each check of a log is made by the
stream too, with the same message (a record and a field where a log names a row and a
column):

* a score or an answer without a metric, and a metric no question has, are refused;
* a scale and a yes/no question are answered in ``score``, the others in ``answer``: an
  answer in the other column is refused;
* a scale's score is a whole point of its scale;
* a yes/no answer is written yes/no, true/false or 1/0 (any case), or true/false, or the
  numbers 1 and 0, and stored as 1.0 or 0.0;
* a choice is one of the question's choices, text or a whole number (read as the
  ``answer`` column reads text: ``1`` is ``"1"``), spaces around dropped; a multiple-choice
  answer is text with its choices separated by ``|`` or a list of them, stored with each
  choice once, in the question's order; a single-choice answer is one choice (a list of
  one too); an empty list is missing.

What changed, and why. The stream read none of this before: it took an answer without a
metric, an answer to a scale or a yes/no question, a score to a choice or text question,
an answer that is not among the choices and several choices to a single-choice question,
and kept each as given: silent wrong answers, which a rule comparing the answer or a
payload then carried on. It refuses them now, as a log does. It refused what a log reads by
its documented rules (``QuestionType``, ``InteractionLog.from_records``): yes/no written as
text or true/false, and a list of choices; it reads them now, and stores a choice answer as
a log does (``"c|a"`` is ``"a|c"``), so a rule or a payload reading it is the same on both
sides. Two readings of a log changed to the rule both sides share: a number answering a
choice question, which a log refused where the stream read its digits (``1`` for the
choice ``"1"``), is read by the ids' rule as every other ``answer`` is; and a ``Fraction``
or a numpy duration, which a log read as a yes/no answer of 1 or 0, is refused, as it is
as any other number (``test_odd_values.py``).

Batch over :meth:`InteractionLog.from_records <cxmodel.log.InteractionLog.from_records>`
and the stream (``process_many`` on either path and in a later block of a micro-batch read
a block at a time, ``process`` one at a time) over the same records fire alike, with
the same payloads, or refuse the same record with the same reason.
"""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Question
from cxmodel.domain._kinds import question_catalogue
from cxmodel.errors import DataWarning, RowSchemaError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from cxmodel.triggers._ingest import _BLOCK, record_columns, row_from_record, rows_from
from tests.triggers.helpers import (
    PER_ROW,
    T0,
    engine_of,
    evaluate_complete,
    streamed_alike,
    whole,
)

QUESTIONS = [
    Question("ok", "yes_no"),
    Question("pick", "single_choice", choices=["a", "b", "c"]),
    Question("why", "multiple_choice", choices=["a", "b", "c"]),
    Question("digits", "single_choice", choices=["1", "2"]),
    Question("comment", "text"),
]
CATALOGUE = question_catalogue(QUESTIONS)
RULES = parse(
    """trigger answered:
    when survey as s
    emit answered(score = s.score, answer = s.answer)
"""
)
AS_OF = T0 + timedelta(days=2)


def stamp(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def survey(customer: str, minutes: int, **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer, "timestamp": stamp(minutes), "kind": "survey", **fields}


def three(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Three survey answers a minute apart: an NPS score, the answer ``fields`` and a
    multiple-choice answer (so that a log has both columns, whatever the second holds)."""
    return [
        survey("a", 0, metric="nps", score=9.0),
        survey("b", 1, **fields),
        survey("c", 2, metric="why", answer="b"),
    ]


def many(fields: dict[str, Any], at: int) -> list[dict[str, Any]]:
    """Two hundred records more than a block, product views and survey answers to every type
    of question, each as a log stores it (read as columns a block at a time), the one at
    ``at`` the answer ``fields``."""
    answers = [
        {"metric": "nps", "score": 7.0},
        {"metric": "ok", "score": 1.0},
        {"metric": "pick", "answer": "c"},
        {"metric": "why", "answer": "a|c"},
        {"metric": "comment", "answer": "slow"},
    ]
    recs = [
        survey(f"c{j % 50}", j, **answers[j % 10 // 2])
        if j % 2
        else {"customer_id": f"c{j % 50}", "timestamp": stamp(j), "kind": "product_view"}
        for j in range(_BLOCK + 200)
    ]
    recs[at] = survey(f"c{at % 50}", at, **fields)
    return recs


def streamed(recs: list[dict[str, Any]], position: int) -> tuple[str, Any]:
    """What the stream does with ``recs``: ``("fired", firings)`` or ``("refused",
    message)``, the same on the columnar and the per-interaction path of ``process_many``
    and one at a time with ``process`` (whose message names the record refused as the one
    at ``position``, counted from 1)."""
    return streamed_alike(RULES, recs, position, AS_OF, questions=QUESTIONS)


def batched(recs: list[dict[str, Any]], position: int) -> tuple[str, Any]:
    """What batch over a log of ``recs`` does: ``("fired", firings)`` or ``("refused",
    message)``, refusing the row at ``position`` (counted from 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            log = InteractionLog.from_records(recs, questions=QUESTIONS)
        except RowSchemaError as refused:
            assert refused.position == position - 1, refused
            return "refused", str(refused)
        return "fired", whole(evaluate_complete(RULES, log, as_of=AS_OF))


def quarantined(recs: list[dict[str, Any]], position: int) -> str:
    """Under ``errors="quarantine"`` a log keeps the other rows and lists the one at
    ``position`` in ``log.rejected``; its reason."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        log = InteractionLog.from_records(recs, questions=QUESTIONS, errors="quarantine")
    said = [str(w.message) for w in seen if w.category is DataWarning]
    assert any(f"1 of {len(recs):,} rows rejected" in message for message in said), said
    assert len(log) == len(recs) - 1 and log.rejected.row.tolist() == [position]
    return str(log.rejected.reason[0])


def payloads(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The payloads the stream emits for ``recs``, in order."""
    return [f.payload for f in engine_of(RULES, PER_ROW, questions=QUESTIONS).process_many(recs)]


def alike(recs: list[dict[str, Any]], position: int, refused: tuple[str, str] | None) -> None:
    """Batch and the stream over ``recs`` fire alike, or (``refused``: the column and a
    part of the reason) both refuse the record at ``position`` with the same reason, a log
    naming the row and the column, the stream the record and the field, and a log under
    ``errors="quarantine"`` keeps the others."""
    stream, batch = streamed(recs, position), batched(recs, position)
    if refused is None:
        assert stream == batch and stream[0] == "fired", (stream, batch)
        return
    column, reason = refused
    assert stream[0] == batch[0] == "refused", (stream, batch)
    assert batch[1].startswith(f"row {position}: "), batch
    assert reason in batch[1] and f"column {column!r}" in batch[1], batch
    as_a_record = batch[1].replace(f"row {position}: ", f"record {position}: ", 1)
    assert stream[1] == as_a_record.replace("(column ", "(field ").replace(
        "go in column ", "go in field "
    )
    assert quarantined(recs, position) == batch[1].removeprefix(f"row {position}: ")


# -- the checks -------------------------------------------------------------------------------
#: (answer given, the column refused and a part of the reason)
REFUSED = {
    "answer-without-metric": ({"answer": "a"}, "metric", "answer 'a' has no metric"),
    "score-without-metric": ({"score": 7.0}, "metric", "score 7.0 has no metric"),
    "unknown-metric": ({"metric": "npss", "score": 7.0}, "metric", "did you mean 'nps'?"),
    "answer-to-a-scale": (
        {"metric": "nps", "answer": "7"}, "score",
        "answer '7' is given for the scale question 'nps', whose answers go in column 'score'",
    ),
    "answer-beside-a-scale-score": (
        {"metric": "nps", "score": 7.0, "answer": "a"}, "score", "answer 'a' is given for",
    ),
    "answer-to-yes-no": (
        {"metric": "ok", "answer": "yes"}, "score",
        "answer 'yes' is given for the yes/no question 'ok'",
    ),
    "score-to-a-choice": (
        {"metric": "pick", "score": 1.0}, "answer",
        "score 1.0 is given for the single-choice question 'pick', whose answers go in column "
        "'answer'",
    ),
    "score-to-text": ({"metric": "comment", "score": 1.0}, "answer", "the text question"),
    "score-outside-the-scale": (
        {"metric": "nps", "score": 11.0}, "score", "score 11.0 is outside the NPS scale 0..10",
    ),
    "score-below-the-scale": (
        {"metric": "csat", "score": 0}, "score", "score 0 is outside the CSAT scale 1..5",
    ),
    "score-outside-and-not-whole": (
        {"metric": "nps", "score": 10.5}, "score", "score 10.5 is outside the NPS scale",
    ),
    "score-not-whole": ({"metric": "nps", "score": 7.5}, "score", "is not a whole number"),
    "yes-no-two": ({"metric": "ok", "score": 2}, "score", "score 2 is not an answer to the yes/no"),
    "yes-no-half": ({"metric": "ok", "score": 0.5}, "score", "0.5 is not an answer"),
    "yes-no-maybe": ({"metric": "ok", "score": "maybe"}, "score", "'maybe' is not an answer"),
    "yes-no-fraction": ({"metric": "ok", "score": Fraction(1)}, "score", "is not an answer"),
    "yes-no-duration": (
        {"metric": "ok", "score": np.timedelta64(1, "D")}, "score", "is not an answer",
    ),
    "not-a-choice": (
        {"metric": "pick", "answer": "z"}, "answer",
        "answer 'z' is not a choice of question 'pick' (column 'answer'); expected one of "
        "['a', 'b', 'c']",
    ),
    "two-choices-joined-to-single": ({"metric": "pick", "answer": "a|b"}, "answer", "not a choice"),
    "two-choices-listed-to-single": (
        {"metric": "pick", "answer": ["a", "b"]}, "answer",
        "gives 2 choices to the single-choice question 'pick'",
    ),
    "a-number-not-a-choice": ({"metric": "pick", "answer": 5}, "answer", "5 is not a choice"),
    "a-fraction-float-choice": ({"metric": "digits", "answer": 1.5}, "answer", "is a float"),
    "a-bool-choice": ({"metric": "digits", "answer": True}, "answer", "True is a bool"),
    "a-dict-choice": ({"metric": "why", "answer": {"a": 1}}, "answer", "a JSON object"),
    "one-of-several-not-a-choice": (
        {"metric": "why", "answer": "a|z"}, "answer",
        "answer 'a|z': 'z' is not a choice of question 'why' (column 'answer'); expected some "
        "of ['a', 'b', 'c'] separated by '|'",
    ),
    "an-empty-choice": ({"metric": "why", "answer": "a|"}, "answer", "'' is not a choice"),
    "a-listed-choice-not-among": (
        {"metric": "why", "answer": ["a", "z"]}, "answer", "'z' is not a choice",
    ),
    "a-list-of-text": ({"metric": "comment", "answer": ["slow"]}, "answer", "is a list"),
}  # fmt: skip
#: (answer given, the score and the answer stored)
READ = {
    "scale": ({"metric": "nps", "score": 7}, 7.0, None),
    "scale-as-text": ({"metric": "nps", "score": "7"}, 7.0, None),
    "yes-as-text": ({"metric": "ok", "score": "Yes"}, 1.0, None),
    "no-spaced": ({"metric": "ok", "score": " no "}, 0.0, None),
    "true-as-text": ({"metric": "ok", "score": "TRUE"}, 1.0, None),
    "false": ({"metric": "ok", "score": False}, 0.0, None),
    "numpy-true": ({"metric": "ok", "score": np.bool_(True)}, 1.0, None),
    "one": ({"metric": "ok", "score": 1}, 1.0, None),
    "numpy-zero": ({"metric": "ok", "score": np.int8(0)}, 0.0, None),
    "one-as-text": ({"metric": "ok", "score": "1.0"}, 1.0, None),
    "yes-no-missing": ({"metric": "ok", "score": ""}, None, None),
    "a-choice": ({"metric": "pick", "answer": "a"}, None, "a"),
    "a-choice-spaced": ({"metric": "pick", "answer": " a "}, None, "a"),
    "a-list-of-one-choice": ({"metric": "pick", "answer": ["b"]}, None, "b"),
    "a-number-choice": ({"metric": "digits", "answer": 1}, None, "1"),
    "a-whole-float-choice": ({"metric": "digits", "answer": 2.0}, None, "2"),
    "choices": ({"metric": "why", "answer": "a|c"}, None, "a|c"),
    "choices-reordered": ({"metric": "why", "answer": "c|a"}, None, "a|c"),
    "a-choice-twice": ({"metric": "why", "answer": "a|a"}, None, "a"),
    "choices-spaced": ({"metric": "why", "answer": "c | a"}, None, "a|c"),
    "a-list-of-choices": ({"metric": "why", "answer": ["c", "a"]}, None, "a|c"),
    "a-tuple-of-choices": ({"metric": "why", "answer": ("b", "a", "b")}, None, "a|b"),
    "an-empty-list": ({"metric": "why", "answer": []}, None, None),
    "text": ({"metric": "comment", "answer": "too slow"}, None, "too slow"),
    "a-number-as-text": ({"metric": "comment", "answer": 5}, None, "5"),
    "a-metric-alone": ({"metric": "pick"}, None, None),
}


def _refused(name: str) -> Any:
    fields, column, reason = REFUSED[name]
    return pytest.param(fields, (column, reason), id=name)


@pytest.mark.parametrize(("fields", "refused"), [_refused(name) for name in REFUSED])
def test_a_refused_answer_is_refused_alike(fields: dict[str, Any], refused: Any) -> None:
    """Each answer a log refuses (a bad row naming the row, the column and the value, kept
    in ``log.rejected`` under ``errors="quarantine"``) the stream refuses with the same
    reason, naming the record and the field; where the stream took an answer that is no
    answer to its question, or gave it to no question, it now refuses it (no silent wrong
    answer: a payload or a rule reading it would carry it on)."""
    alike(three(fields), 2, refused)


@pytest.mark.parametrize(
    ("fields", "score", "answer"), [pytest.param(*READ[name], id=name) for name in READ]
)
def test_an_answer_is_read_alike(fields: dict[str, Any], score: Any, answer: Any) -> None:
    """Each answer a log reads the stream reads alike, stored as the log stores it: yes/no
    as 1.0 or 0.0 (written as text or true/false too, which the stream refused), a choice
    answer with each choice once in the question's order (a list of choices too, which the
    stream refused), so the payloads are the same."""
    recs = three(fields)
    alike(recs, 2, None)
    assert payloads(recs)[1] == {"score": score, "answer": answer}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        log = InteractionLog.from_records(recs, questions=QUESTIONS)
    stored = log.column("score").tolist()[1], log.column("answer").tolist()[1]
    assert (None if np.isnan(stored[0]) else stored[0], stored[1]) == (score, answer)


LATER = ["answer-without-metric", "answer-to-a-scale", "score-to-a-choice", "not-a-choice",
         "two-choices-joined-to-single", "yes-no-two", "score-outside-the-scale",
         "a-listed-choice-not-among"]  # fmt: skip
READ_LATER = ["yes-as-text", "choices-reordered", "a-list-of-choices", "a-choice-spaced",
              "a-number-choice", "choices", "an-empty-list", "one"]  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "refused"),
    [_refused(name) for name in LATER]
    + [pytest.param(READ[name][0], None, id=name) for name in READ_LATER],
)
@pytest.mark.parametrize("at", [_BLOCK - 1, _BLOCK + 10], ids=["first-block", "second-block"])
def test_an_answer_in_a_later_block_reads_alike(
    fields: dict[str, Any], refused: Any, at: int
) -> None:
    """In a micro-batch read as columns a block of ``_BLOCK`` records at a time (on its last
    record, in the second block), as in a record alone: the block path, the per-interaction
    path and one at a time agree with batch."""
    recs = many(fields, at)
    assert record_columns(many({"metric": "nps", "score": 7.0}, at), CATALOGUE) is not None
    alike(recs, at + 1, refused)


@pytest.mark.parametrize(
    ("fields", "as_columns"),
    [
        pytest.param({"metric": "why", "answer": "a|c"}, True, id="choices-as-stored"),
        pytest.param({"metric": "ok", "score": 0.0}, True, id="yes-no-as-stored"),
        pytest.param({"metric": "comment", "answer": "a|c"}, True, id="text"),
        pytest.param({"metric": "why", "answer": "c|a"}, False, id="choices-reordered"),
        pytest.param({"metric": "pick", "answer": " a"}, False, id="a-choice-spaced"),
        pytest.param({"metric": "ok", "score": "yes"}, False, id="yes-no-as-text"),
        pytest.param({"metric": "why", "answer": ["a"]}, False, id="a-list"),
        pytest.param({"metric": "pick", "answer": "z"}, False, id="not-a-choice"),
        pytest.param({"metric": "nps", "answer": "7"}, False, id="answer-to-a-scale"),
        pytest.param({"metric": "ok", "score": 2.0}, False, id="yes-no-two"),
        pytest.param({"metric": "pick", "score": 1.0}, False, id="score-to-a-choice"),
        pytest.param({"answer": "a"}, False, id="answer-without-metric"),
    ],
)
def test_the_block_path_takes_only_answers_as_stored(
    fields: dict[str, Any], as_columns: bool
) -> None:
    """The block path reads answers as columns only where a log stores them as given (a
    scale's and a yes/no question's whole points of it checked over arrays, each distinct
    choice answer read once); an answer to rewrite or refuse is read one by one, which
    names the record, and the rows are then the same either way."""
    recs = many(fields, _BLOCK + 10)
    columns = record_columns(recs, CATALOGUE)
    assert (columns is not None) == as_columns
    try:
        rows = rows_from(recs, CATALOGUE)
    except SchemaError as refused:
        assert not as_columns and str(refused).startswith(f"record {_BLOCK + 11}: ")
        return
    if columns is not None:
        made = columns.rows(np.arange(len(recs)))
        assert [r.fields for r in made] == [r.fields for r in rows]


def test_a_declared_question_is_needed_on_both_sides() -> None:
    """Without ``questions=`` a declared question's metric is unknown to a log and to the
    engine alike, with the same hint to declare it."""
    recs = [survey("a", 0, metric="nps", score=9.0), survey("b", 1, metric="ok", score=1.0)]
    with pytest.raises(RowSchemaError) as in_batch:
        InteractionLog.from_records(recs)
    with pytest.raises(SchemaError) as in_stream:
        engine_of(RULES, PER_ROW).process_many(recs)
    reason = str(in_batch.value).removeprefix("row 2: ")
    assert reason.startswith("metric 'ok' is unknown") and "questions=[Question(" in reason
    assert str(in_stream.value) == "record 2: " + reason.replace("(column ", "(field ")


#: answers of every class: text (choices, yes/no, numbers, blank), numbers, true/false,
#: lists and odd values
ANSWERS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "a", " b", "a|c", "c|a|c", "a|", "z", "yes", "No", "1", "7",
                     "7.5", "nan", "great"]),
    st.text(st.sampled_from("abc| "), max_size=6),
    st.integers(-2, 12),
    st.floats(-1, 12).filter(lambda v: v == v),
    st.sampled_from([float("nan"), float("inf"), 2.0, 7.0]),
    st.booleans(),
    st.lists(st.sampled_from(["a", "b", "c", "z", 1]), max_size=3),
    st.sampled_from([Fraction(1), np.int8(1), np.float32(0.0), np.bool_(False), {"a": 1}]),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([None, "npss", *sorted(CATALOGUE)]), ANSWERS, ANSWERS)
def test_random_answers_read_alike(metric: str | None, score: Any, answer: Any) -> None:
    """A random score and answer to a random question (or none): a log and a record read
    them alike, storing the same values, or both refuse them, with the same reason when
    it is the answer's (a number is read by rules of its own, ``test_odd_values.py``)."""
    rec = survey("a", 0)
    for name, value in (("metric", metric), ("score", score), ("answer", answer)):
        if value is not None:
            rec[name] = value
    try:
        fields = row_from_record(rec, "record 1", CATALOGUE).fields
        stream: Any = (fields.get("score"), fields.get("answer"))
    except SchemaError as refused:
        stream = str(refused).removeprefix("record 1: ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            log = InteractionLog.from_records([rec], questions=QUESTIONS)
        except RowSchemaError as refused:
            batch: Any = str(refused).removeprefix("row 1: ")
        else:
            read = [
                log.column(c).tolist()[0] if c in log.schema else None for c in ("score", "answer")
            ]
            batch = tuple(None if isinstance(v, float) and v != v else v for v in read)
    assert isinstance(stream, str) == isinstance(batch, str), (stream, batch)
    if not isinstance(stream, str):
        assert stream == batch
    elif re.search("metric|question", batch):  # a log of one row has no metric column
        said = batch.replace("column 'metric' is not in the data", "column 'metric' is missing")
        assert stream == said.replace("(column ", "(field ").replace("in column ", "in field ")


@st.composite
def survey_batches(draw: Any) -> list[dict[str, Any]]:
    """One to eight survey answers to random questions, scores numbers and answers text
    (or missing): those the block path may read as columns."""
    out = []
    for j in range(draw(st.integers(1, 8))):
        rec = survey(f"c{j % 3}", j)
        metric = draw(st.sampled_from([None, *sorted(CATALOGUE)]))
        if metric is not None:
            rec["metric"] = metric
        if draw(st.booleans()):
            rec["score"] = draw(st.one_of(st.none(), st.integers(-1, 11), st.floats(-1, 11)))
        if draw(st.booleans()):
            rec["answer"] = draw(
                st.one_of(st.none(), st.text(st.sampled_from("abc12| "), max_size=5))
            )
        out.append(rec)
    return out


@settings(max_examples=300, deadline=None)
@given(survey_batches())
def test_the_block_path_reads_answers_as_one_by_one(recs: list[dict[str, Any]]) -> None:
    """Random survey answers read as columns only when one by one reads them all as given,
    and then into the same rows."""
    columns = record_columns(recs, CATALOGUE)
    try:
        rows = rows_from(recs, CATALOGUE)
    except SchemaError:
        assert columns is None
        return
    if columns is not None:
        made = columns.rows(np.arange(len(recs)))
        assert [r.fields for r in made] == [r.fields for r in rows]


def test_a_log_of_arrays_reads_answers_as_records() -> None:
    """Columns of numbers and text (``from_arrays``) are read by the same function as
    records: yes/no scores in a column of floats stay numbers, a score to a choice
    question and a yes/no score of 2 are bad rows, with the reasons records get."""
    recs = [
        survey("a", 0, metric="nps", score=9.0),
        survey("b", 1, metric="ok", score=1.0),
        survey("c", 2, metric="pick", score=1.0),
        survey("d", 3, metric="ok", score=2.0),
        survey("e", 4, metric="why", answer="c|a"),
    ]
    columns = {
        name: [r.get(name) for r in recs]
        for name in ("customer_id", "timestamp", "kind", "metric", "answer")
    }
    score = np.array([r.get("score", np.nan) for r in recs])
    with pytest.warns(DataWarning, match="2 of 5 rows rejected"):
        log = InteractionLog.from_arrays(
            **columns, score=score, questions=QUESTIONS, errors="quarantine"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_records = InteractionLog.from_records(recs, questions=QUESTIONS, errors="quarantine")
    assert log.rejected.reason.tolist() == from_records.rejected.reason.tolist()
    assert log.rejected.row.tolist() == [3, 4]
    assert log.column("score").tolist()[:2] == [9.0, 1.0]
    assert log.column("answer").tolist()[2] == "a|c"
