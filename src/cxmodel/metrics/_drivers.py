"""Experience drivers: score with and without each experience in the window before the answer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import integer, interaction_log, mapping_value, name_sequence
from cxmodel._pieces import warn
from cxmodel._stats import z_value
from cxmodel._tables import MetricTable, SmallSampleWarning
from cxmodel._time import duration_to_us
from cxmodel.errors import DataWarning, NotFoundError, SchemaError
from cxmodel.expr import evaluate_checked
from cxmodel.log import InteractionLog
from cxmodel.metrics._answers import answer_rows, answer_scores, held_metrics, refuse_unanswered

__all__ = ["experience_drivers"]

_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class _LogColumns(Mapping[str, npt.NDArray[Any]]):
    """The log's string and numeric columns, decoded only when an expression reads them."""

    def __init__(self, log: InteractionLog) -> None:
        self._log = log
        self._names = [n for n, t in log.schema.items() if t in ("string", "float")]
        self._cache: dict[str, npt.NDArray[Any]] = {}

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        if name not in self._names:
            raise NotFoundError(f"column {name!r} is not a string or numeric column of the log")
        if name not in self._cache:
            self._cache[name] = self._log.column(name)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def condition_mask(log: InteractionLog, name: str, text: str) -> npt.NDArray[np.bool_]:
    """Rows of ``log`` where the expression ``text`` holds (missing counts as false).

    The expression uses the trigger language's syntax over the log's columns, e.g.
    ``kind == "delivery" and late == "yes"``; it is parsed and type-checked first.
    """
    columns = _LogColumns(log)
    schema = {n: log.schema[n] for n in columns}
    return evaluate_checked(f"driver {name!r}", text, columns, schema, len(log), "bool").astype(
        bool
    )


def survey_scores(
    log: InteractionLog, metric: str, cutoff: int | None = None, *, caller: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """The survey rows answering ``metric`` (before ``cutoff``, in microseconds) and the score
    of each: the answer itself, or for NPS +100 for a promoter, -100 for a detractor, 0 else.

    Raises
    ------
    SchemaError
        When an answer is missing or off the metric's scale (naming its row), or the log has
        answers but no ``score`` column.
    DataError
        When the log has rows but none answers ``metric`` (at any time), naming what its survey
        rows answer (:func:`~cxmodel.metrics._answers.refuse_unanswered`).
    """
    answer = answer_rows(log, metric)
    if not answer.any():
        refuse_unanswered(metric, 0, len(log), held_metrics(log), caller=caller)
    if cutoff is not None:
        answer &= log.timestamps < cutoff
    raw = answer_scores(log, answer, metric)
    low, high = _SCALES[metric]
    bad = np.flatnonzero(~((raw >= low) & (raw <= high)))  # NaN is bad too
    if bad.size:
        row = int(log.row_order[np.flatnonzero(answer)[bad[0]]]) + 1
        raise SchemaError(
            f"row {row}: score {float(raw[bad[0]])!r} is not on the {metric.upper()} scale "
            f"{low}..{high} (column 'score'); {bad.size:,} answer(s) are off it or missing"
        )
    score = np.where(raw >= 9, 100.0, np.where(raw <= 6, -100.0, 0.0)) if metric == "nps" else raw
    return answer, score.astype(np.float64)


def _had_before(
    log: InteractionLog, hit: npt.NDArray[np.bool_], window: int
) -> npt.NDArray[np.bool_]:
    """Per row: did the same customer have a ``hit`` row strictly earlier, within ``window``?"""
    n = len(log)
    if not n:
        return np.zeros(0, dtype=bool)
    idx = np.where(hit, np.arange(n), -1)
    last = np.maximum.accumulate(idx)
    ts, codes = log.timestamps, log.customer_codes
    # The last hit strictly earlier in time: the last one before the first row at the same
    # customer and instant (rows sort by customer, then time), so a hit at the answer's own
    # instant neither drives it nor hides an earlier hit.
    starts = np.r_[True, (codes[1:] != codes[:-1]) | (ts[1:] != ts[:-1])]
    first_at_instant = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    prev = np.concatenate([[-1], last[:-1]])[first_at_instant]
    ok = prev >= 0
    safe = np.where(ok, prev, 0)
    same = ok & (codes[safe] == codes)
    out: npt.NDArray[np.bool_] = same & (ts - ts[safe] <= window)
    return out


def experience_drivers(
    log: InteractionLog,
    *,
    metric: str = "nps",
    window: str = "30d",
    kinds: tuple[str, ...] | None = None,
    conditions: Mapping[str, str] | None = None,
    level: float = 0.95,
    min_n: int = 1,
) -> MetricTable:
    """Rank experiences by how the score differs with and without them.

    Candidate drivers are interaction kinds (default: every non-survey kind in the log; pass
    ``kinds=()`` for none) and named ``conditions``: expressions in the trigger language's syntax
    over the log's columns, such as ``{"late delivery": 'kind == "delivery" and late == "yes"'}``.
    For each ``metric`` answer and each driver, the answer is "with" the driver when the same
    customer had a matching interaction in the ``window`` before the answer (strictly earlier). For NPS the score is in points (100 x the
    +1/0/-1 mean), otherwise the mean answer. ``difference`` = with - without, with a normal
    (Welch) interval; rows are sorted by ``|difference|``, largest first. Associations, not
    causal effects. Kinds with fewer than ``min_n`` answers on either side are left out; a
    driver with a single answer on one side has no spread to estimate there, so its ``se``
    and interval are NaN (with a warning), not a zero-width interval.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    metric : str, default "nps"
        The survey metric whose answers are compared.
    window : str, default "30d"
        How long before an answer a driver counts.
    kinds : tuple of str, optional
        Candidate kinds; default every non-survey kind in the log (``()`` for none).
    conditions : mapping of str to str, optional
        Named candidate conditions, as expressions over the log's columns.
    level : float, default 0.95
        Confidence level of the intervals.
    min_n : int, default 1
        Drivers with fewer answers with or without them are left out.

    Warns
    -----
    SmallSampleWarning
        With the count of drivers that have a single answer on one side (NaN interval).
    DataWarning
        When the table is empty although candidates were asked for (a log without rows, or
        every driver left out by ``min_n``, naming them with their counts), and with the count
        of drivers whose answers do not vary on either side (se 0, a zero-width interval).

    Raises
    ------
    SchemaError
        An unknown ``metric``, or an answer off its scale or without a score (naming its row).
    TriggerSyntaxError, TriggerTypeError
        A condition that does not parse, or is not a condition (naming it).
    DataError
        The log has rows but no answer to ``metric``, naming the metrics it holds (with a
        did-you-mean) or that it holds no survey rows, as :func:`~cxmodel.metrics.nps`.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b", "b", "c", "d"],
    ...     kind=["return", "survey", "return", "survey", "survey", "survey"],
    ...     metric=[None, "nps", None, "nps", "nps", "nps"], score=[None, 2, None, 8, 10, 9],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-05T00:00Z"] * 3)
    >>> t = experience_drivers(log)
    >>> t["driver"].tolist(), t["difference"].tolist(), t["n_with"].tolist()
    (['return'], [-150.0], [2])
    """
    log = interaction_log(log, "experience_drivers()")
    kinds = None if kinds is None else name_sequence(kinds, "experience_drivers()", "kinds")
    conditions = mapping_value(conditions, "experience_drivers()", "conditions")
    min_n = integer(min_n, "experience_drivers()", "min_n")
    if not isinstance(metric, str) or metric not in _SCALES:
        raise SchemaError(f"metric must be one of {tuple(_SCALES)!r}; got {metric!r}")
    span = duration_to_us(window)
    answer, score = survey_scores(log, metric, caller="experience_drivers()")
    if kinds is None:
        kinds = tuple(k for k in log.kinds.tolist() if k != "survey")
    z = z_value(level)
    out: dict[str, list[float | str | int]] = {
        k: [] for k in ("driver", "n_with", "n_without", "with", "without", "difference")
    }
    out |= {"se": [], "ci_low": [], "ci_high": []}
    candidates: list[tuple[str, npt.NDArray[np.bool_]]] = [
        (kind, log.kind_mask(kind)) for kind in kinds
    ]
    for name, text in conditions.items():
        candidates.append((name, condition_mask(log, name, text)))
    if not candidates:
        raise SchemaError(
            "experience_drivers(): no candidate driver: kinds names none and there are no "
            "conditions; leave kinds out for every kind in the log, or name some"
        )
    single: list[str] = []
    flat: list[str] = []
    left_out: list[str] = []
    for kind, hits in candidates:  # one vectorised pass per candidate, not per row
        flag = _had_before(log, hits, span)[answer]
        a, b = score[flag], score[~flag]
        sides = f"{kind!r} ({len(a)} with, {len(b)} without)"
        if len(a) < max(min_n, 1) or len(b) < max(min_n, 1):
            left_out.append(sides)
            continue
        if min(len(a), len(b)) < 2:  # one answer has no spread to estimate: no interval
            single.append(sides)
        elif np.ptp(a) == 0 and np.ptp(b) == 0:
            flat.append(sides)
        var_a = a.var(ddof=1) if len(a) > 1 else np.nan
        var_b = b.var(ddof=1) if len(b) > 1 else np.nan
        diff = float(a.mean() - b.mean())
        se = float(np.sqrt(var_a / len(a) + var_b / len(b)))
        for name, value in (
            ("driver", kind), ("n_with", len(a)), ("n_without", len(b)),
            ("with", float(a.mean())), ("without", float(b.mean())), ("difference", diff),
            ("se", se), ("ci_low", diff - z * se), ("ci_high", diff + z * se),
        ):  # fmt: skip
            out[name].append(value)
    if single:
        warn(
            f"experience_drivers(): {len(single)} driver(s) have a single answer on one side, "
            f"so their se and interval are NaN: {', '.join(single[:3])}"
            + (" ..." if len(single) > 3 else ""),
            SmallSampleWarning,
        )
    _warn_quiet_table(metric, int(answer.sum()), len(out["driver"]), left_out, flat, min_n)
    order = np.argsort(-np.abs(np.asarray(out["difference"], dtype=np.float64)), kind="stable")
    columns = {
        name: np.asarray(values, dtype=object if name == "driver" else None)[order]
        for name, values in out.items()
    }
    return MetricTable("experience drivers", columns)


def _shown(drivers: list[str]) -> str:
    return ", ".join(drivers[:3]) + (" ..." if len(drivers) > 3 else "")


def _warn_quiet_table(
    metric: str, answers: int, rows: int, left_out: list[str], flat: list[str], min_n: int
) -> None:
    """Warn (DataWarning) when the drivers table is empty although drivers were asked for, and
    when drivers' answers do not vary on either side (a zero-width interval)."""
    if not answers:
        warn(
            f"experience_drivers(): the log has no {metric!r} answers, so there is nothing to "
            "compare and the table is empty; check metric=",
            DataWarning,
        )
    elif not rows and left_out:
        warn(
            f"experience_drivers(): all {len(left_out)} driver(s) were left out, as each has "
            f"fewer than {max(min_n, 1)} answer(s) with or without it: {_shown(left_out)}; "
            "the table is empty (change window= or min_n=)",
            DataWarning,
        )
    if flat:
        warn(
            f"experience_drivers(): {len(flat)} driver(s) have answers that do not vary on "
            f"either side, so their se is 0 and their interval has zero width: {_shown(flat)}; "
            "the samples cannot show how much the difference would move in another sample",
            DataWarning,
        )
