"""The answers to a survey metric in a chunk of data, and the group each answer belongs to.

A chunk is a log (its ``survey`` rows whose ``metric`` names the metric) or an array of scores
(with optional labels and timestamps). Group keys come out as integers: a ``by`` label is a
code into a small sorted vocabulary that travels with it (so two chunks' codes can be aligned
whatever rows they hold), a period is a calendar-period index (the same in every chunk).
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flat_labels, float_array, got, label_array, missing_labels
from cxmodel._periods import period_index
from cxmodel._time import timestamps_to_us
from cxmodel.errors import DataError, RowSchemaError, SchemaError, did_you_mean
from cxmodel.log import InteractionLog

__all__ = [
    "MISSING",
    "SurveyChunk",
    "answer_rows",
    "answer_scores",
    "factorize",
    "held_metrics",
    "refuse_unanswered",
    "sorted_labels",
    "survey_chunk",
    "unanswered",
]

MISSING = "(missing)"
"""The label of answers whose ``by`` value is missing."""
INT64_MAX = int(np.iinfo(np.int64).max)
"""The largest int64: integer labels past it (unsigned ids) are not offset into codes."""

IntArray = npt.NDArray[np.int64]


@attrs.frozen(eq=False)
class SurveyChunk:
    """The answers of one chunk: scores, their row numbers and their integer group keys.

    When ``by`` is given (``labelled``), the first key is a ``by`` label: a code into
    ``labels`` (the code ``len(labels)`` is a missing value of a string column), or, when
    ``labels`` is None, the integer label itself. ``every_label`` says whether each label is
    a group even without answers (the categories of a string column), or only the labels the
    answers carry count. ``period`` names the unit of the key ``"period"``.
    """

    scores: npt.NDArray[Any]
    rows: IntArray | None
    key_names: tuple[str, ...]
    keys: tuple[npt.NDArray[Any], ...]
    labelled: bool
    labels: npt.NDArray[Any] | None
    every_label: bool
    period: str | None


def answer_rows(log: InteractionLog, metric: str) -> npt.NDArray[np.bool_]:
    """The ``survey`` rows of ``log`` whose ``metric`` is ``metric``.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(["a", "a", "b"], [0, 1, 2], ["survey", "view", "survey"],
    ...                                  metric=["nps", None, "csat"], score=[9.0, None, 4.0])
    >>> answer_rows(log, "nps").tolist()
    [True, False, False]
    """
    if "metric" not in log:
        return np.zeros(len(log), dtype=bool)
    codes, cats = log.categorical("metric")
    hit = np.flatnonzero(cats == metric)
    mask = log.kind_mask("survey") & (codes == (hit[0] if hit.size else -2))
    return np.asarray(mask, dtype=bool)


def held_metrics(log: InteractionLog) -> Counter[str]:
    """How many ``survey`` rows of ``log`` answer each metric (a row without one counts under
    ``""``): what a log holds, for the message of :func:`refuse_unanswered`.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(["a", "b", "c"], [0, 1, 2], ["survey", "survey", "view"],
    ...                                  metric=["nps", "nps", None], score=[9.0, 3.0, None])
    >>> held_metrics(log)
    Counter({'nps': 2})
    """
    survey = log.kind_mask("survey")
    if "metric" not in log:
        return Counter({"": int(survey.sum())} if survey.any() else {})
    codes, cats = log.categorical("metric")
    counts = np.bincount(codes[survey] + 1, minlength=len(cats) + 1)
    names = ["", *(str(c) for c in cats)]
    return Counter({names[i]: int(counts[i]) for i in np.flatnonzero(counts)})


def unanswered(
    metric: str, answers: int, rows: int, held: Counter[str], *, caller: str
) -> str | None:
    """The message for data of ``rows`` rows with no answer to ``metric`` (None when there
    are ``answers``, or no rows): the metrics the data's survey rows answer instead (with a
    did-you-mean), or that they hold none. ``held`` counts the survey rows by metric
    (:func:`held_metrics`). :func:`refuse_unanswered` raises it; an analysis whose answer
    without answers is documented (a response rate of 0) warns it.

    Examples
    --------
    >>> from collections import Counter
    >>> unanswered("nps", 0, 4, Counter({"": 2}), caller="response_rate()")
    "response_rate(): none of the 4 rows answers 'nps'; the 2 survey row(s) name no metric (column 'metric')"
    >>> unanswered("nps", 3, 4, Counter({"nps": 3}), caller="nps()") is None
    True
    """
    if answers or not rows:
        return None
    named = {k: v for k, v in held.items() if k}
    if named:
        holds = ", ".join(f"{k!r} ({v:,})" for k, v in sorted(named.items()))
        what = f"the survey answers are to {holds}"
        if held[""]:
            what += f", and {held['']:,} survey row(s) name no metric"
        hint = _spelling(metric, named)
    elif held[""]:
        what = f"the {held['']:,} survey row(s) name no metric (column 'metric')"
        hint = ""
    else:
        what = "there is no survey row (kind 'survey')"
        hint = ""
    return f"{caller}: none of the {rows:,} rows answers {metric!r}; {what}{hint}"


def refuse_unanswered(
    metric: str, answers: int, rows: int, held: Counter[str], *, caller: str
) -> None:
    """Refuse to summarise ``metric`` over data of ``rows`` rows that hold none of its
    ``answers``: a NaN, or a table without rows, would read as a quiet survey when the data
    hold other metrics' answers, another spelling of it, or no survey at all. ``held`` counts
    the data's survey rows by metric (:func:`held_metrics`). Data without rows pass: they
    answer as documented (NaN, ``n = 0``).

    Raises
    ------
    DataError
        With the message of :func:`unanswered`: the metric, the metrics the data hold (with a
        did-you-mean) or that they hold no survey rows.

    Examples
    --------
    >>> from collections import Counter
    >>> refuse_unanswered("csat", 0, 3, Counter({"nps": 2, "CSAT": 1}), caller="csat()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: csat(): none of the 3 rows answers 'csat'; the survey answers are to 'CSAT' (1), 'nps' (2); did you mean 'CSAT'?
    """
    message = unanswered(metric, answers, rows, held, caller=caller)
    if message is not None:
        raise DataError(message)


def _spelling(metric: str, held: Iterable[str]) -> str:
    """A did-you-mean among the metrics ``held``: a close spelling, or the same up to case."""
    held = list(held)
    folded = {k.casefold(): k for k in held}
    if metric.casefold() in folded:
        return f"; did you mean {folded[metric.casefold()]!r}?"
    return did_you_mean(metric, held)


def answer_scores(
    log: InteractionLog, mask: npt.NDArray[np.bool_], metric: str
) -> npt.NDArray[np.float64]:
    """The ``score`` of the ``mask`` rows (answers to ``metric``).

    Raises
    ------
    SchemaError
        There are answers but the log has no ``score`` column: counting them as no answers
        would make an empty metric of a full survey.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(["a", "b"], [0, 1], ["survey", "survey"],
    ...                                  metric=["nps", "nps"])
    >>> answer_scores(log, answer_rows(log, "nps"), "nps")
    Traceback (most recent call last):
    ...
    cxmodel.errors.RowSchemaError: row 1: 2 'nps' answer(s) but the log has no 'score' column; the answers' scores go in column 'score'
    """
    if "score" in log:
        return log.numeric("score")[mask]
    if mask.any():
        row = int(log.row_order[np.flatnonzero(mask)[0]])
        reason = (
            f"{int(mask.sum()):,} {metric!r} answer(s) but the log has no 'score' column; the "
            "answers' scores go in column 'score'"
        )
        raise RowSchemaError(f"row {row + 1}: {reason}", row, reason, 0)
    return np.zeros(0)


def compact_range(col: npt.NDArray[Any]) -> tuple[int, int] | None:
    """``(lowest, highest)`` of an integer column whose range is compact enough for its
    offsets to be codes (at most ``max(4 n, 65536)`` values wide) and within int64, else None
    (unsigned ids past 2**63 are factorised like any other labels).

    Examples
    --------
    >>> compact_range(np.array([7, 3, 9])), compact_range(np.array([2**63], dtype=np.uint64))
    ((3, 9), None)
    """
    if col.dtype.kind not in "iu" or not col.size:
        return None
    lo, hi = int(col.min()), int(col.max())
    if hi > INT64_MAX or hi - lo >= max(4 * col.size, 1 << 16):
        return None
    return lo, hi


def factorize(col: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], IntArray]:
    """Sorted uniques and codes; O(n) for integer columns with a compact range.

    Examples
    --------
    >>> uniques, codes = factorize(np.array([7, 3, 7, 9]))
    >>> uniques.tolist(), codes.tolist()
    ([3, 7, 9], [1, 0, 1, 2])
    """
    bounds = compact_range(col)
    if bounds is not None:
        lo = bounds[0]
        shifted = (col - lo).astype(np.int64)
        present = np.bincount(shifted) > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present) + lo, remap[shifted]
    u, inv = np.unique(col, return_inverse=True)
    return u, inv.reshape(-1).astype(np.int64)


def sorted_labels(
    values: npt.ArrayLike, name: str = "by"
) -> tuple[npt.NDArray[np.object_], IntArray]:
    """The distinct labels of ``values``, sorted, and each value's code into them.

    Numbers sort as numbers (a store number or an age band coded 1..12 gives 1, 2, ..., 10,
    not "1", "10", "2"), anything else as text; a missing value (None, NaN or
    ``"(missing)"``) is the code ``len(labels)``, the group ``"(missing)"`` that sorts last.
    Labels mixing text and numbers are read as text, and refused (a :class:`SchemaError`
    naming the argument ``name`` and both labels) when a number's text is also a text label
    (``1`` and ``"1"``), which would merge two groups into one, as the readers refuse a
    column holding both.

    Examples
    --------
    >>> labels, codes = sorted_labels(np.array([10.0, np.nan, 2.0, 10.0]))
    >>> labels.tolist(), codes.tolist()
    ([2.0, 10.0], [1, 2, 0, 1])
    >>> sorted_labels(np.array(["b", None, "a"], dtype=object))[0].tolist()
    ['a', 'b']
    >>> sorted_labels(np.array(["1", 1], dtype=object))
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: by holds the text '1' and the number 1, which would merge into one group '1'; give labels all as text or all as numbers (the readers refuse a column mixing them for the same reason)
    """
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
        labels, inner = factorize(arr[~missing])
    else:
        objects = arr.astype(object)
        missing = missing_labels(objects, MISSING)
        given = objects[~missing]
        present = np.array(given.tolist())
        if present.dtype.kind in "iuf":
            labels, inner = factorize(present)
        else:  # text, or numbers mixed with text
            labels, inner = factorize(given.astype(str))
            if arr.dtype.kind == "O":  # only an array of objects mixes text with numbers
                _refuse_merged(given, labels, inner, name)
    codes = np.full(arr.shape[0], len(labels), dtype=np.int64)
    codes[~missing] = inner
    return labels.astype(object), codes


def _refuse_merged(
    given: npt.NDArray[np.object_], labels: npt.NDArray[Any], codes: IntArray, name: str
) -> None:
    """Refuse labels ``given`` whose text (coded ``codes`` into ``labels``) comes from both a
    text label and another value: ``"1"`` and ``1`` would be one group."""
    is_text = np.asarray(given == labels[codes], dtype=bool)  # only text equals its own text
    if is_text.all() or not is_text.any():
        return
    from_text = np.bincount(codes[is_text], minlength=len(labels)) > 0
    from_other = np.bincount(codes[~is_text], minlength=len(labels)) > 0
    clashes = np.flatnonzero(from_text & from_other)
    if not clashes.size:
        return
    code = int(clashes[0])
    other = given[~is_text & (codes == code)][0]
    other = other.item() if isinstance(other, np.generic) else other  # 3, not np.int64(3)
    what = "number" if isinstance(other, numbers.Number) else type(other).__name__
    more = f" ({clashes.size:,} labels clash so)" if clashes.size > 1 else ""
    label = str(labels[code])
    raise SchemaError(
        f"{name} holds the text {label!r} and the {what} {other!r}, which would merge into one "
        f"group {label!r}{more}; give labels all as text or all as numbers (the readers refuse "
        "a column mixing them for the same reason)"
    )


def _coded(
    values: npt.NDArray[Any], name: str = "by"
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    """Keys of labels: integers and booleans as they are (no vocabulary: the groups' values
    make it), anything else as codes into its :func:`sorted_labels` (numbers in numeric
    order); a missing value (None or NaN) is the code ``len(labels)``, the group
    ``"(missing)"`` that sorts last.

    Examples
    --------
    >>> codes, labels = _coded(np.array([2.0, np.nan, 1.0, 10.0]))
    >>> codes.tolist(), labels.tolist()
    ([1, 3, 0, 2], [1.0, 2.0, 10.0])
    """
    if values.dtype.kind in "iub":
        return values, None
    labels, codes = sorted_labels(values, name)
    return codes, labels


def _array(value: Any, what: str) -> npt.NDArray[Any]:
    """``np.asarray(value)``, refusing nested lists of different lengths (``what`` names the
    argument in the message)."""
    try:
        return label_array(value)
    except ValueError as error:  # ragged nesting
        raise SchemaError(f"{what} must be a flat list or 1-d array; got {got(value)}") from error


def _log_labels(
    log: InteractionLog,
    mask: npt.NDArray[np.bool_],
    by: Any,
    by_rated: bool,
) -> tuple[str, npt.NDArray[Any], npt.NDArray[Any] | None, bool]:
    """The ``by`` key name, keys of the ``mask`` rows, the vocabulary (None: the keys are the
    labels) and whether every label of it is a group, for a log."""
    if by_rated:
        if not isinstance(by, str):
            raise SchemaError("by_rated=True needs by= a column name (e.g. by='touchpoint')")
        from cxmodel.metrics._questions import RATED_KEYS, rated_labels

        codes, labels = _coded(rated_labels(log, by, mask, RATED_KEYS))
        return by, codes, labels, False
    if isinstance(by, str):
        if log.schema.get(by) == "string":
            # every category of the column is a label, answered or not; missing sorts last
            all_codes, cats = log.categorical(by)
            codes = np.where(all_codes < 0, len(cats), all_codes)[mask].astype(np.int64)
            return by, codes, cats.astype(object), True
        codes, labels = _coded(log.column(by)[mask])
        return by, codes, labels, False
    given = _array(by, "by")
    if given.ndim != 1:
        raise SchemaError(f"by must be a column name or one label per row; got {got(by)}")
    if len(given) != len(log):
        raise SchemaError(
            f"by has {len(given)} labels for a log of {len(log)} rows; "
            "expected one label per row or a column name"
        )
    codes, labels = _coded(given[mask], "by")
    return "by", codes, labels, False


def _times(timestamps: Any) -> IntArray | None:
    if timestamps is None:
        return None
    stamps = np.asarray(timestamps)
    if stamps.dtype == np.dtype("datetime64[us]"):
        if np.isnat(stamps).any():
            row = int(np.flatnonzero(np.isnat(stamps))[0])
            raise SchemaError(f"row {row + 1}: timestamps is missing (NaT); expected a time")
        return stamps.view(np.int64)
    times, errors = timestamps_to_us(stamps, column="timestamps", timezone_arg=None)
    if errors:
        row, reason = next(iter(errors.items()))
        raise SchemaError(f"row {row + 1}: {reason}")
    return times


def survey_chunk(
    data: InteractionLog | npt.ArrayLike,
    metric: str,
    *,
    by: str | npt.ArrayLike | None = None,
    period: str | None = None,
    timezone: str | None = None,
    timestamps: npt.ArrayLike | None = None,
    by_rated: bool = False,
) -> SurveyChunk:
    """The answers to ``metric`` in ``data`` with their group keys (see :func:`nps` for the
    meaning of the arguments).

    Examples
    --------
    >>> chunk = survey_chunk([9, 3, 10], "nps", by=["b", "a", "b"])
    >>> chunk.key_names, chunk.keys[0].tolist(), chunk.labels.tolist()
    (('by',), [1, 0, 1], ['a', 'b'])
    >>> survey_chunk([9, 3], "nps", by=[20, 10]).labels is None  # integers are their own keys
    True
    """
    names: list[str] = []
    keys: list[npt.NDArray[Any]] = []
    labels: npt.NDArray[Any] | None = None
    every_label = False
    if isinstance(data, InteractionLog):
        if not by_rated and (by is None or (isinstance(by, str) and by != "customer_id")):
            # the survey rows alone hold every answer and every category of a text column
            # (customers aside): a log not sorted yet sorts only them
            data = data._of_kinds(("survey",), "survey_chunk()")
        mask = answer_rows(data, metric)
        scores = answer_scores(data, mask, metric)
        rows: IntArray | None = data.row_order[mask]
        times: IntArray | None = data.timestamps[mask]
        if by is not None or by_rated:
            name, codes, labels, every_label = _log_labels(data, mask, by, by_rated)
            names.append(name)
            keys.append(codes)
    else:
        if by_rated:
            raise SchemaError("by_rated=True needs a log (answers tied to what they rate)")
        given = _array(data, f"{metric}(): data")
        if given.ndim > 1:
            raise SchemaError(
                f"{metric}(): data must be a log or a flat list or 1-d array of scores; got "
                f"an array of shape {given.shape}"
            )
        if given.dtype.kind == "b":
            raise SchemaError(
                f"{metric}(): data holds True/False; expected scores, whole numbers on the "
                f"{metric!r} scale (a bool is not an answer)"
            )
        scores = given.reshape(-1)
        if scores.dtype.kind not in "iu":  # integer scores stay as they are (no 8x copy)
            scores = float_array(data, f"{metric}()", "data").reshape(-1)
        rows = None  # positions are the row numbers
        times = _times(timestamps)
        if by is not None:
            if isinstance(by, str):
                raise SchemaError("by must be an array of labels when scores are an array")
            given = flat_labels(
                _array(by, f"{metric}(): by"), f"{metric}()", "by", each=", one per score"
            )
            if len(given) != len(scores):
                raise SchemaError(
                    f"by has {len(given)} labels for {len(scores)} scores; expected one each"
                )
            codes, labels = _coded(given, f"{metric}(): by")
            names.append("by")
            keys.append(codes)
    if period is not None:
        if times is None or len(times) != len(scores):
            raise SchemaError("period= needs timestamps: pass a log or timestamps= of each score")
        names.append("period")
        keys.append(period_index(times, period, timezone))
    labelled = len(names) > (period is not None)  # a by key before the period
    return SurveyChunk(
        scores, rows, tuple(names), tuple(keys), labelled, labels, every_label, period
    )
