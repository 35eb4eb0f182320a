"""Any survey question: summaries with intervals, response rates, answers tied to what they rate.

A log's survey rows answer the questions of its catalogue (:attr:`InteractionLog.questions`:
the standard ``nps``, ``csat``, ``ces`` and those declared with ``questions=``). Scale and yes/no
answers are in ``score``, choice and text answers in ``answer`` (several choices joined by
``|``). A survey row may say what it rates with ``rates`` (an ``interaction_id``) or through a
key such as ``order_id`` shared with the interaction it rates; :func:`rated_interactions` finds
that interaction and ``by_rated=True`` groups answers by its columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, name_sequence
from cxmodel._pieces import warn
from cxmodel._stats import mean_t_bounds, sample_moments, z_value
from cxmodel._tables import (
    FLAT_MEAN,
    MetricTable,
    check_key_names,
    warn_flat_intervals,
    warn_small_groups,
)
from cxmodel._time import duration_to_us
from cxmodel.domain._kinds import CHOICE_SEPARATOR, Question, QuestionType, Stage
from cxmodel.errors import DataWarning, SchemaError, did_you_mean
from cxmodel.log import InteractionLog
from cxmodel.metrics._answers import (
    MISSING,
    answer_rows,
    held_metrics,
    refuse_unanswered,
    unanswered,
)
from cxmodel.metrics._groups import (
    group_table,
    key_columns,
    key_name,
    rate_breakdown,
    wilson_columns,
)
from cxmodel.metrics._retention import RateResult

__all__ = [
    "RATED_KEYS",
    "QuestionSummary",
    "question_summary",
    "rated_interactions",
    "rated_labels",
    "response_rate",
    "satisfaction_by_stage",
]

NAN = float("nan")
UNRATED = "(unrated)"

RATED_KEYS: tuple[str, ...] = ("order_id", "ticket_id")
"""Key columns that tie an answer without ``rates`` to the interaction it rates."""

IntArray = npt.NDArray[np.int64]


# ---------------------------------------------------------------------- what an answer rates
def rated_interactions(log: InteractionLog, *, keys: Sequence[str] = RATED_KEYS) -> IntArray:
    """For each row of ``log``, the position (in log order) of the interaction it rates, or -1.

    Only survey rows rate. A survey row with ``rates`` rates the row whose ``interaction_id``
    is that value (of the same customer). Otherwise, for the first of ``keys`` (columns such as
    ``order_id``, ``ticket_id``) the survey row carries, it rates the latest earlier non-survey
    interaction of the same customer carrying the same key value ("earlier" in log order: by
    time, then input order). Rows that rate nothing found are -1.

    Examples
    --------
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
    ...      "order_id": "o1", "value": 20},
    ...     {"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "delivery",
    ...      "order_id": "o1", "interaction_id": "d1"},
    ...     {"customer_id": "a", "timestamp": "2024-01-04T00:00:00Z", "kind": "survey",
    ...      "metric": "csat", "score": 5, "order_id": "o1"},
    ...     {"customer_id": "a", "timestamp": "2024-01-05T00:00:00Z", "kind": "survey",
    ...      "metric": "csat", "score": 2, "rates": "d1"},
    ... ])
    >>> rated_interactions(log).tolist()
    [-1, -1, 1, 1]
    """
    log = interaction_log(log, "rated_interactions()")
    keys = name_sequence(keys, "rated_interactions()", "keys")
    n = len(log)
    out = np.full(n, -1, dtype=np.int64)
    if "metric" not in log or not n:
        return out
    survey = log.kind_mask("survey")
    customers = log.customer_codes
    if "rates" in log and "interaction_id" in log:
        rate_codes, rated = log.categorical("rates")
        id_codes, ids = log.categorical("interaction_id")
        has_id = np.flatnonzero(id_codes >= 0)
        where_id = np.full(len(ids) + 1, -1, dtype=np.int64)
        where_id[id_codes[has_id]] = has_id
        found = np.searchsorted(ids, rated) if len(ids) else np.zeros(len(rated), np.int64)
        found = np.minimum(found, max(len(ids) - 1, 0))
        hit = (ids[found] == rated) if len(ids) else np.zeros(len(rated), dtype=bool)
        id_of_rated = np.append(np.where(hit, found, len(ids)), len(ids))
        target = where_id[id_of_rated[np.where(rate_codes >= 0, rate_codes, len(rated))]]
        same = (target >= 0) & (customers[np.maximum(target, 0)] == customers)
        use = survey & (rate_codes >= 0) & same
        out[use] = target[use]
    for key in keys:
        if key not in log or log.schema[key] != "string":
            continue
        todo = survey & (out < 0)
        if not todo.any():
            break
        codes, _ = log.categorical(key)
        rows = np.flatnonzero((codes >= 0) & (todo | ~survey))
        order = rows[np.lexsort((rows, codes[rows], customers[rows]))]
        cust, code = customers[order], codes[order]
        start = np.ones(len(order), dtype=bool)
        start[1:] = (cust[1:] != cust[:-1]) | (code[1:] != code[:-1])
        group_start = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
        candidate = ~survey[order]
        last = np.maximum.accumulate(np.where(candidate, np.arange(len(order)), -1))
        ok = ~candidate & (last >= group_start)
        out[order[ok]] = order[last[ok]]
    return out


def rated_labels(
    log: InteractionLog, by: str, mask: npt.NDArray[np.bool_], keys: Sequence[str]
) -> npt.NDArray[np.object_]:
    """The ``by`` column of the interaction each ``mask`` row rates; ``(unrated)`` if none."""
    if by not in log:
        raise log._unknown(by)
    target = rated_interactions(log, keys=keys)[mask]
    values = log.column(by)
    labels = np.full(len(target), UNRATED, dtype=object)
    found = target >= 0
    picked = values[target[found]].astype(object)
    picked[np.array([v is None or v != v for v in picked], dtype=bool)] = MISSING
    labels[found] = picked
    return labels


# ---------------------------------------------------------------------- question lookup
def _describe(question: Question) -> str:
    """A question's type and what its answers may be, as in messages."""
    if question.type is QuestionType.SCALE:
        return f"a scale {question.low}..{question.high}"
    if question.choices:
        return f"{question.type.value} of {sorted(question.choices)}"
    return str(question.type.value)


def _question(log: InteractionLog, question: str | Question) -> Question:
    """The question asked: a name in ``log.questions``, or a :class:`Question` that agrees with
    the log's declaration of its name (its answers were read against that declaration); only
    the ``top`` of a scale and the order of choices may differ."""
    known = log.questions
    name = question.name if isinstance(question, Question) else question
    if not isinstance(name, str) or name not in known:
        hint = did_you_mean(str(name), known)
        raise SchemaError(
            f"question {name!r} is not in the log's questions {sorted(known)}{hint}; a log holds "
            "answers only to the questions it was read with: declare it when reading "
            "(questions=[Question(...)])"
        )
    declared = known[name]
    if not isinstance(question, Question):
        return declared
    same = (question.type, question.scale, set(question.choices)) == (
        declared.type, declared.scale, set(declared.choices),
    )  # fmt: skip
    if not same:
        raise SchemaError(
            f"question {name!r} is {_describe(question)} here, but the log read its answers as "
            f"{_describe(declared)}; pass the name (or log.questions[{name!r}]), or a Question "
            "that differs only in its top box or the order of its choices"
        )
    return question


def _labels(
    log: InteractionLog,
    mask: npt.NDArray[np.bool_],
    by: str | npt.ArrayLike | None,
    by_rated: bool,
    keys: Sequence[str],
) -> npt.NDArray[np.object_] | None:
    """Group labels of the ``mask`` rows: a column (of the row or of what it rates) or labels."""
    if by is None:
        if by_rated:
            raise SchemaError("by_rated=True needs by= a column name (e.g. by='touchpoint')")
        return None
    if isinstance(by, str):
        if by_rated:
            return rated_labels(log, by, mask, keys)
        values = log.column(by)[mask].astype(object)
    else:
        if by_rated:
            raise SchemaError("by_rated=True needs by= a column name, not an array of labels")
        values = np.asarray(by, dtype=object).reshape(-1)
        if len(values) != len(log):
            raise SchemaError(
                f"by has {len(values)} labels for a log of {len(log)} rows; expected one label "
                "per row or a column name"
            )
        values = values[mask]
    missing = np.array([v is None or v != v for v in values.tolist()], dtype=bool)
    values[missing] = MISSING
    return values


# ---------------------------------------------------------------------- summaries
@attrs.frozen(eq=False, repr=False)
class QuestionSummary(MetricTable):
    """The summary of one question: a :class:`MetricTable` with the question and the level.

    Columns by question type (after the ``by``/``period`` keys):

    - scale: ``n``, ``mean``, ``mean_se``, ``mean_ci_low``, ``mean_ci_high`` (Student t),
      ``top_box`` (share of answers >= the question's ``top``), ``top_box_n``,
      ``top_box_ci_low``, ``top_box_ci_high`` (Wilson);
    - yes/no: ``n``, ``yes``, ``share``, ``ci_low``, ``ci_high`` (Wilson);
    - single and multiple choice: one row per group and option: ``option``, ``n``
      (respondents), ``count``, ``share``, ``ci_low``, ``ci_high`` (Wilson); multiple-choice
      shares are of respondents, so they may add up to more than 1;
    - text: ``n`` (answers).
    """

    question: Question
    level: float


def question_summary(
    log: InteractionLog,
    question: str | Question,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    by_rated: bool = False,
    rated_keys: Sequence[str] = RATED_KEYS,
    level: float = 0.95,
) -> QuestionSummary:
    """Summarise the answers to one question, with intervals, per group and period.

    Parameters
    ----------
    log
        The interactions; answers are its survey rows whose ``metric`` is the question's name.
        Rows of the question without an answer (no score, no answer text) are not counted.
    question
        A name in ``log.questions`` or a :class:`~cxmodel.domain.Question` of that name that
        agrees with the log's declaration (only its ``top`` and the order of its choices may
        differ: the answers were read against the declaration).
    by
        A column name (missing values are the group ``"(missing)"``) or one label per log row.
    period
        ``"day"``, ``"week"``, ``"month"`` or ``"quarter"`` of the answer, in ``timezone``.
    timezone
        Zone of the calendar periods; default UTC.
    by_rated
        Group by the ``by`` column of the interaction each answer rates (see
        :func:`rated_interactions`); answers that rate nothing found are the group
        ``"(unrated)"``.
    rated_keys
        Key columns tried, after ``rates``, to find the interaction each answer rates.
    level
        The confidence level of the intervals.

    Returns
    -------
    QuestionSummary
        One row per group seen (per group and option for choices), sorted by key; see
        :class:`QuestionSummary` for the columns of each type. Groups with fewer than 30
        answers warn :class:`SmallSampleWarning`; groups of 30 or more whose answers to a
        scale are all equal (a mean interval of zero width) warn
        :class:`~cxmodel.errors.DataWarning`.

    Raises
    ------
    SchemaError
        The question is not in ``log.questions`` (with a did-you-mean), or a ``Question`` given
        disagrees with the log's declaration of its name (type, scale or set of choices).
    DataError
        The log has rows but none of the question's (naming the metrics it holds, with a
        did-you-mean), as :func:`~cxmodel.metrics.nps`.

    Examples
    --------
    >>> from cxmodel.domain import Question
    >>> t = "2024-01-01T00:00:00Z"
    >>> log = InteractionLog.from_records(
    ...     [{"customer_id": f"c{i}", "timestamp": t, "kind": "survey", "metric": "resolved",
    ...       "score": "yes" if i < 81 else "no"} for i in range(263)],
    ...     questions=[Question("resolved", "yes_no")])
    >>> s = question_summary(log, "resolved")
    >>> int(s["n"][0]), int(s["yes"][0]), round(float(s["share"][0]), 4)
    (263, 81, 0.308)
    >>> round(float(s["ci_low"][0]), 4), round(float(s["ci_high"][0]), 4)
    (0.2553, 0.3662)
    """
    log = interaction_log(log, "question_summary()")
    asked = _question(log, question)
    z = z_value(level)
    mask = answer_rows(log, asked.name)
    if not mask.any():
        refuse_unanswered(asked.name, 0, len(log), held_metrics(log), caller="question_summary()")
    if asked.in_score:
        score = log.numeric("score")[mask] if "score" in log else np.full(int(mask.sum()), NAN)
        answered = ~np.isnan(score)
    else:
        text = log.column("answer")[mask] if "answer" in log else np.full(int(mask.sum()), None)
        answered = np.array([v is not None for v in text.tolist()], dtype=bool)
    rows = np.flatnonzero(mask)[answered]
    keep = np.zeros(len(log), dtype=bool)
    keep[rows] = True
    labels = _labels(log, keep, by, by_rated, rated_keys)
    names, columns = key_columns(key_name(by), labels, period, log.timestamps[keep], timezone)
    check_key_names(names, _SUMMARY_COLUMNS.get(asked.type, _CHOICE_COLUMNS), "question")
    keys, group, size = group_table(names, columns, len(rows), period)
    n = np.bincount(group, minlength=size).astype(np.int64)
    table: dict[str, npt.NDArray[Any]] = dict(keys)
    if asked.type is QuestionType.SCALE:
        values = score[answered]
        sums = np.bincount(group, weights=values, minlength=size)
        squares = np.bincount(group, weights=values * values, minlength=size)
        top_box = values >= float(asked.top if asked.top is not None else asked.high or 0)
        top = np.bincount(group, weights=top_box, minlength=size).astype(np.int64)
        mean, var = sample_moments(n, sums, squares)
        mean_se, mean_low, mean_high = mean_t_bounds(n, mean, var, level, limits=asked.scale)
        share, low, high = wilson_columns(top, n, z)
        table |= {
            "n": n,
            "mean": np.where(n > 0, mean, NAN),
            "mean_se": mean_se,
            "mean_ci_low": mean_low,
            "mean_ci_high": mean_high,
            "top_box": share,
            "top_box_n": top,
            "top_box_ci_low": low,
            "top_box_ci_high": high,
        }
    elif asked.type is QuestionType.YES_NO:
        yes = np.bincount(group, weights=score[answered], minlength=size).astype(np.int64)
        share, low, high = wilson_columns(yes, n, z)
        table |= {"n": n, "yes": yes, "share": share, "ci_low": low, "ci_high": high}
    elif asked.type is QuestionType.TEXT:
        table |= {"n": n}
    else:
        table = _choice_table(asked, text[answered], group, size, keys, n, z)
    warn_small_groups(n, f"question {asked.name!r}")
    if asked.type is QuestionType.SCALE:
        warn_flat_intervals(
            n, table["mean_ci_low"], table["mean_ci_high"], f"question {asked.name!r} mean",
            FLAT_MEAN,
        )  # fmt: skip
    return QuestionSummary(asked.name, table, asked, level)


#: the columns of a question's summary after its keys, by the question's type
_CHOICE_COLUMNS = ("option", "n", "count", "share", "ci_low", "ci_high")
_SUMMARY_COLUMNS = {
    QuestionType.SCALE: (
        "n", "mean", "mean_se", "mean_ci_low", "mean_ci_high",
        "top_box", "top_box_n", "top_box_ci_low", "top_box_ci_high",
    ),
    QuestionType.YES_NO: ("n", "yes", "share", "ci_low", "ci_high"),
    QuestionType.TEXT: ("n",),
}  # fmt: skip


def _choice_table(
    asked: Question,
    answers: npt.NDArray[Any],
    group: IntArray,
    size: int,
    keys: dict[str, npt.NDArray[Any]],
    n: IntArray,
    z: float,
) -> dict[str, npt.NDArray[Any]]:
    """Per group and option: respondents, count, share and Wilson interval (long format)."""
    options = asked.choices
    counts = np.zeros((size, len(options)), dtype=np.int64)
    distinct, inverse = np.unique(answers.astype(str), return_inverse=True)
    for code, text in enumerate(distinct.tolist()):
        picked = [options.index(c) for c in text.split(CHOICE_SEPARATOR)]
        hits = np.bincount(group[inverse.reshape(-1) == code], minlength=size)
        counts[:, picked] += hits[:, None]
    width = len(options)
    table: dict[str, npt.NDArray[Any]] = {k: np.repeat(v, width) for k, v in keys.items()}
    total = np.repeat(n, width)
    count = counts.reshape(-1)
    share, low, high = wilson_columns(count, total, z)
    table |= {
        "option": np.tile(np.array(options, dtype=object), size),
        "n": total,
        "count": count,
        "share": share,
        "ci_low": low,
        "ci_high": high,
    }
    return table


# ---------------------------------------------------------------------- response rate
@overload
def response_rate(
    log: InteractionLog,
    question: str | Question,
    *,
    window: str = "14 days",
    sent_kind: str = "survey_sent",
    by: None = None,
    period: None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult: ...
@overload
def response_rate(
    log: InteractionLog,
    question: str | Question,
    *,
    window: str = "14 days",
    sent_kind: str = "survey_sent",
    by: str,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
@overload
def response_rate(
    log: InteractionLog,
    question: str | Question,
    *,
    window: str = "14 days",
    sent_kind: str = "survey_sent",
    by: str | None = None,
    period: str,
    timezone: str | None = None,
    level: float = 0.95,
) -> MetricTable: ...
def response_rate(
    log: InteractionLog,
    question: str | Question,
    *,
    window: str = "14 days",
    sent_kind: str = "survey_sent",
    by: str | None = None,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
) -> RateResult | MetricTable:
    """Share of survey invitations answered: responded sends / sends, with a Wilson interval.

    A send is a ``sent_kind`` row (default ``survey_sent``) whose ``metric`` is the question's
    name, or is missing (an invitation to the whole survey counts for every question). It is
    answered when the same customer answers the question (a survey row with a score or an
    answer) at or after the send and within ``window``. One answer answers every send before
    it in the window: a reminder logged as a second send is a second answered send (a customer
    invited, reminded and answering counts 2 of 2, and with a silent customer the rate is 2 of
    3, where responses per invited customer are 1 of 2), so log reminders under another kind.
    ``by`` is a column of the send row (the channel it went out by, say) and ``period`` its
    calendar period in ``timezone``.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    question : str or Question
        The question answered: a name in ``log.questions`` or a
        :class:`~cxmodel.domain.Question`.
    window : str, default "14 days"
        How long after a send an answer counts.
    sent_kind : str, default "survey_sent"
        The kind of the invitations.
    by : str, optional
        A column of the send rows to break down by.
    period : {"day", "week", "month", "quarter"}, optional
        Break down by the send's calendar period, in ``timezone``.
    timezone : str, optional
        Zone of the calendar periods; default UTC.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    RateResult or MetricTable
        Without ``by``/``period`` a :class:`~cxmodel.metrics.RateResult` (``numerator`` =
        answered sends, ``n`` = sends); with them a table with ``value``, ``ci_low``,
        ``ci_high``, ``responses`` and ``n`` per group (groups with a send).

    Raises
    ------
    SchemaError
        The log has no ``sent_kind`` rows, or the question is not known (a ``Question`` given
        must agree with the log's declaration, as in :func:`question_summary`).

    Warns
    -----
    DataWarning
        When no row of the log answers the question. The rate is still returned, as 0 (in
        every group): invitations nobody answered are a response rate of 0, e.g. a survey just
        sent. The warning says what the log's survey rows answer instead, with a did-you-mean,
        as :func:`~cxmodel.metrics.nps` does when it refuses such a log.

    Examples
    --------
    >>> rows = [{"customer_id": c, "timestamp": "2024-01-01T00:00:00Z", "kind": "survey_sent",
    ...          "metric": "nps"} for c in "abcd"]
    >>> rows += [{"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "survey",
    ...           "metric": "nps", "score": 9},
    ...          {"customer_id": "b", "timestamp": "2024-02-01T00:00:00Z", "kind": "survey",
    ...           "metric": "nps", "score": 3}]
    >>> r = response_rate(InteractionLog.from_records(rows), "nps", window="14 days")
    >>> r.value, r.numerator, r.n
    (0.25, 1, 4)
    """
    log = interaction_log(log, "response_rate()")
    asked = _question(log, question)
    width = duration_to_us(window)
    if sent_kind not in log.kinds.tolist():
        raise SchemaError(
            f"response_rate(): the log has no {sent_kind!r} rows; log each survey invitation as "
            f"a {sent_kind!r} interaction (its metric names the question, or is empty for all), "
            "or name your kind with sent_kind="
        )
    sends = log.kind_mask(sent_kind)
    if "metric" in log:
        codes, cats = log.categorical("metric")
        hit = np.flatnonzero(cats == asked.name)
        sends &= (codes < 0) | (codes == (hit[0] if hit.size else -2))
    answers = answer_rows(log, asked.name)
    if not answers.any():
        _warn_unanswered(log, asked.name, int(sends.sum()))
    if asked.in_score and "score" in log:
        answers &= ~np.isnan(log.numeric("score"))
    elif not asked.in_score and "answer" in log:
        answers &= log.categorical("answer")[0] >= 0
    else:
        answers &= False
    responded = _answered_within(log, sends, answers, width)
    definition = (
        f"{sent_kind!r} rows answered ({asked.name!r}) by the same customer within {window}"
    )
    return rate_breakdown(
        responded,
        definition=definition,
        caller="response_rate()",
        labels=_labels(log, sends, by, False, ()),
        by_name=key_name(by),
        times=log.timestamps[sends],
        period=period,
        timezone=timezone,
        level=level,
        table_name="response rate",
        numerator_name="responses",
    )


def _warn_unanswered(log: InteractionLog, question: str, sends: int) -> None:
    """Warn that no row of ``log`` answers ``question`` (what it holds instead, as the survey
    scores' refusal says), so none of its ``sends`` is answered: the rate of 0 is the answer,
    but a misspelt question would get it too."""
    message = unanswered(question, 0, len(log), held_metrics(log), caller="response_rate()")
    if message is not None:
        warn(
            f"{message}; none of the {sends:,} send(s) is answered, so the rate is 0",
            DataWarning,
        )


def _answered_within(
    log: InteractionLog,
    sends: npt.NDArray[np.bool_],
    answers: npt.NDArray[np.bool_],
    width: int,
) -> npt.NDArray[np.bool_]:
    """For each send (in log order), whether its customer answers in [send, send + width]."""
    s_rows, a_rows = np.flatnonzero(sends), np.flatnonzero(answers)
    if not a_rows.size or not s_rows.size:
        return np.zeros(s_rows.size, dtype=bool)
    times = log.timestamps
    cust = log.customer_codes.astype(np.int64)
    _, rank = np.unique(np.concatenate([times[s_rows], times[a_rows]]), return_inverse=True)
    span = int(rank.max()) + 1
    send_key = cust[s_rows] * span + rank[: s_rows.size]
    answer_key = cust[a_rows] * span + rank[s_rows.size :]  # sorted: the log is (customer, time)
    first = np.searchsorted(answer_key, send_key, side="left")
    found = first < a_rows.size
    nxt = a_rows[np.minimum(first, a_rows.size - 1)]
    near = (cust[nxt] == cust[s_rows]) & (times[nxt] - times[s_rows] <= width)
    return np.asarray(found & near, dtype=bool)


# ---------------------------------------------------------------------- journey map
def satisfaction_by_stage(
    log: InteractionLog,
    metric: str | Question = "csat",
    *,
    rated_keys: Sequence[str] = RATED_KEYS,
    level: float = 0.95,
) -> MetricTable:
    """A journey map: satisfaction with each stage and touchpoint of the rated interactions.

    Every answer to ``metric`` (a scale or yes/no question) is placed at the ``stage`` and
    ``touchpoint`` of the interaction it rates (:func:`rated_interactions`); answers that rate
    nothing found are one last row ``(unrated)``. Per row: ``n``, ``value`` with ``ci_low``,
    ``ci_high`` and ``mean``. ``value`` is the NPS in points (Wald interval) for ``nps``, and
    the top-box share (Wilson) otherwise: CSAT 4-5, CES 5-7, a declared scale from its ``top``,
    the yes share of a yes/no question. Rows follow the journey: stages in
    :class:`~cxmodel.domain.Stage` order (other stages after, by name), touchpoints by name.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    metric : str or Question, default "csat"
        A scale or yes/no question (a name in ``log.questions`` or a
        :class:`~cxmodel.domain.Question` that agrees with the log's, as in
        :func:`question_summary`). For ``nps``, a stage of 30 or more answers all in one
        category (a Wald interval of zero width) warns :class:`~cxmodel.errors.DataWarning`.
    rated_keys : sequence of str, default ("order_id", "ticket_id")
        Key columns tried, after ``rates``, to find the interaction each answer rates.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    MetricTable
        One row per stage and touchpoint answered (none for a log without rows, or whose
        rows of ``metric`` all lack a score).

    Raises
    ------
    SchemaError
        ``metric`` is not a known question (with a did-you-mean), disagrees with the log's
        declaration, or is not a scale or yes/no question.
    DataError
        The log has rows but no answer to ``metric``, naming the metrics it holds (with a
        did-you-mean) or that it holds no survey rows, as :func:`~cxmodel.metrics.nps`.

    Examples
    --------
    >>> t = "2024-01-0{}T00:00:00Z"
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "a", "timestamp": t.format(1), "kind": "purchase",
    ...      "touchpoint": "web", "order_id": "o1", "value": 10},
    ...     {"customer_id": "a", "timestamp": t.format(2), "kind": "delivery",
    ...      "touchpoint": "delivery", "order_id": "o1"},
    ...     {"customer_id": "a", "timestamp": t.format(3), "kind": "survey", "metric": "csat",
    ...      "score": 2, "order_id": "o1"},
    ... ])
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m = satisfaction_by_stage(log)
    >>> m["stage"].tolist(), m["touchpoint"].tolist(), m["value"].tolist()
    (['service'], ['delivery'], [0.0])
    """
    log = interaction_log(log, "satisfaction_by_stage()")
    rated_keys = name_sequence(rated_keys, "satisfaction_by_stage()", "rated_keys")
    asked = _question(log, metric)
    if not asked.in_score:
        raise SchemaError(
            f"satisfaction_by_stage() needs a scale or yes/no question; {asked.name!r} is "
            f"{asked.type.value}"
        )
    z = z_value(level)
    mask = answer_rows(log, asked.name)
    if not mask.any():
        refuse_unanswered(
            asked.name, 0, len(log), held_metrics(log), caller="satisfaction_by_stage()"
        )
    if "score" in log:
        mask &= ~np.isnan(log.numeric("score"))
    else:
        mask &= False
    score = log.numeric("score")[mask] if "score" in log else np.zeros(0)
    columns: list[npt.NDArray[Any]] = []
    for name in ("stage", "touchpoint"):
        if name in log:
            columns.append(rated_labels(log, name, mask, rated_keys))
        else:
            target = rated_interactions(log, keys=rated_keys)[mask]
            columns.append(np.where(target >= 0, MISSING, UNRATED).astype(object))
    keys, group, size = group_table(["stage", "touchpoint"], columns, len(score), None)
    n = np.bincount(group, minlength=size).astype(np.int64)
    mean = np.bincount(group, weights=score, minlength=size) / np.maximum(n, 1)
    if asked.name == "nps":
        from cxmodel.metrics._survey import IntervalOptions, nps_statistics

        points = np.clip(score, 0, 10).astype(np.int64)
        counts = np.bincount(group * 11 + points, minlength=size * 11).reshape(size, 11)
        nps_row = nps_statistics(counts, IntervalOptions("wald", level))
        value, low, high = nps_row.value, nps_row.ci_low, nps_row.ci_high
    else:
        top = 1 if asked.type is QuestionType.YES_NO else asked.top
        hits = np.bincount(group, weights=score >= float(top or 0), minlength=size)
        hits = hits.astype(np.int64)
        value, low, high = wilson_columns(hits, n, z)
    stage_rank = {s.value: i for i, s in enumerate(Stage)}
    stages = keys["stage"].tolist()
    order = sorted(
        range(size),
        key=lambda i: (
            stages[i] == UNRATED,
            stage_rank.get(stages[i], len(stage_rank)),
            str(stages[i]),
            str(keys["touchpoint"][i]),
        ),
    )
    idx = np.asarray(order, dtype=np.int64)
    warn_small_groups(n, f"satisfaction_by_stage({asked.name!r})")
    if asked.name == "nps":
        warn_flat_intervals(
            n, low, high, "satisfaction_by_stage('nps')",
            "every answer of the group is a promoter, every answer a passive or every answer a "
            "detractor, and the Wald interval has no spread there; nps(log, by='stage', "
            "by_rated=True, ci='adjusted-wald') gives an interval that allows for the answers "
            "the sample did not show",
        )  # fmt: skip
    return MetricTable(
        f"{asked.name} by stage",
        {
            "stage": keys["stage"][idx],
            "touchpoint": keys["touchpoint"][idx],
            "n": n[idx],
            "value": value[idx],
            "ci_low": low[idx],
            "ci_high": high[idx],
            "mean": np.where(n > 0, mean, NAN)[idx],
        },
    )
