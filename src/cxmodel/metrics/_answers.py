"""The answers to a survey metric in a chunk of data, and the group each answer belongs to.

A chunk is a log (its ``survey`` rows whose ``metric`` names the metric) or an array of scores
(with optional labels and timestamps). Group keys come out as integers: a ``by`` label is a
code into a small sorted vocabulary that travels with it (so two chunks' codes can be aligned
whatever rows they hold), a period is a calendar-period index (the same in every chunk).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._periods import period_index
from cxmodel._time import timestamps_to_us
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog

__all__ = ["MISSING", "SurveyChunk", "answer_rows", "survey_chunk"]

MISSING = "(missing)"
"""The label of answers whose ``by`` value is missing."""

IntArray = npt.NDArray[np.int64]


@attrs.frozen(eq=False)
class SurveyChunk:
    """The answers of one chunk: scores, their row numbers and their integer group keys.

    ``labels`` is the vocabulary of the first key when it is a ``by`` label: codes index it,
    and the code ``len(labels)`` means a missing value of a string column. ``period`` names
    the unit of the key ``"period"``.
    """

    scores: npt.NDArray[Any]
    rows: IntArray | None
    key_names: tuple[str, ...]
    keys: tuple[IntArray, ...]
    labels: npt.NDArray[Any] | None
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


def _coded(values: npt.NDArray[Any]) -> tuple[IntArray, npt.NDArray[Any]]:
    """Codes into sorted labels: integers and booleans as they are, anything else as text
    (a missing value is the label ``"(missing)"``)."""
    if values.dtype.kind not in "iub":
        values = np.where(values == None, MISSING, values).astype(str)  # noqa: E711
    labels, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), labels.astype(object)


def _log_labels(
    log: InteractionLog,
    mask: npt.NDArray[np.bool_],
    by: Any,
    by_rated: bool,
) -> tuple[str, IntArray, npt.NDArray[Any]]:
    """The ``by`` key name, codes of the ``mask`` rows and the vocabulary, for a log."""
    if by_rated:
        if not isinstance(by, str):
            raise SchemaError("by_rated=True needs by= a column name (e.g. by='touchpoint')")
        from cxmodel.metrics._questions import RATED_KEYS, rated_labels

        codes, labels = _coded(rated_labels(log, by, mask, RATED_KEYS))
        return by, codes, labels
    if isinstance(by, str):
        if log.schema.get(by) == "string":
            # every category of the column is a label, answered or not; missing sorts last
            all_codes, cats = log.categorical(by)
            codes = np.where(all_codes < 0, len(cats), all_codes)[mask].astype(np.int64)
            return by, codes, cats.astype(object)
        codes, labels = _coded(log.column(by)[mask])
        return by, codes, labels
    given = np.asarray(by)
    if len(given) != len(log):
        raise SchemaError(
            f"by has {len(given)} labels for a log of {len(log)} rows; "
            "expected one label per row or a column name"
        )
    codes, labels = _coded(given[mask])
    return "by", codes, labels


def _times(timestamps: Any) -> IntArray | None:
    if timestamps is None:
        return None
    stamps = np.asarray(timestamps)
    if stamps.dtype == np.dtype("datetime64[us]"):
        if np.isnat(stamps).any():
            row = int(np.flatnonzero(np.isnat(stamps))[0])
            raise SchemaError(f"row {row}: timestamps is missing (NaT); expected a time")
        return stamps.view(np.int64)
    times, errors = timestamps_to_us(stamps, column="timestamps", timezone_arg=None)
    if errors:
        row, reason = next(iter(errors.items()))
        raise SchemaError(f"row {row}: {reason}")
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
    """
    names: list[str] = []
    keys: list[IntArray] = []
    labels: npt.NDArray[Any] | None = None
    if isinstance(data, InteractionLog):
        mask = answer_rows(data, metric)
        scores = data.numeric("score")[mask] if "score" in data else np.zeros(0)
        rows: IntArray | None = data.row_order[mask]
        times: IntArray | None = data.timestamps[mask]
        if by is not None or by_rated:
            name, codes, labels = _log_labels(data, mask, by, by_rated)
            names.append(name)
            keys.append(codes)
    else:
        if by_rated:
            raise SchemaError("by_rated=True needs a log (answers tied to what they rate)")
        scores = np.asarray(data).reshape(-1)
        if scores.dtype.kind not in "iu":  # integer scores stay as they are (no 8x copy)
            scores = scores.astype(np.float64)
        rows = None  # positions are the row numbers
        times = _times(timestamps)
        if by is not None:
            if isinstance(by, str):
                raise SchemaError("by must be an array of labels when scores are an array")
            given = np.asarray(by).reshape(-1)
            if len(given) != len(scores):
                raise SchemaError(
                    f"by has {len(given)} labels for {len(scores)} scores; expected one each"
                )
            codes, labels = _coded(given)
            names.append("by")
            keys.append(codes)
    if period is not None:
        if times is None or len(times) != len(scores):
            raise SchemaError("period= needs timestamps: pass a log or timestamps= of each score")
        names.append("period")
        keys.append(period_index(times, period, timezone))
    return SurveyChunk(scores, rows, tuple(names), tuple(keys), labels, period)
