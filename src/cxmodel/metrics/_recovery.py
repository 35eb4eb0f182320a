"""Did the alert's follow-up recover the customer? What happened after an alert rule fired,
for firings acted on, not acted on, and held out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, name_sequence, of_type
from cxmodel._pieces import warn
from cxmodel._result import plain
from cxmodel._stats import (
    mean_t_interval,
    newcombe_interval,
    proportion_interval,
    welch_interval,
    z_value,
)
from cxmodel._tables import MetricTable
from cxmodel._time import TimeLike, add_duration, format_duration, parse_duration
from cxmodel.errors import DataWarning, NotFoundError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics._answers import answer_rows, held_metrics, unanswered
from cxmodel.metrics._effect import (
    as_firings,
    both_arms,
    customer_codes_of,
    first_firings,
    mixed_groups,
    mixed_warning,
    read_until,
    warn_unknown_customers,
    warn_unobserved_windows,
    window_bounds,
)

__all__ = ["RECOVERED_AT", "RecoveryRates", "recovery_rate"]

NAN = float("nan")

RECOVERED_AT: dict[str, float] = {"nps": 7.0, "csat": 4.0, "ces": 5.0}
"""The next score that counts as recovered, per survey metric: no longer a detractor (NPS 7
or more), satisfied (CSAT 4-5 of 5), easy (CES 5-7 of 7)."""

GROUPS = ("emitted", "acknowledged", "not acknowledged", "held out")

_COLUMNS = (
    "trigger", "group", "measure", "n", "value", "ci_low", "ci_high",
    "difference", "diff_ci_low", "diff_ci_high", "n_pending",
)  # fmt: skip


@attrs.frozen(eq=False, repr=False)
class RecoveryRates(MetricTable):
    """What happened after each alert rule fired: one row per trigger, group and measure.

    Columns: ``trigger``; ``group`` (``"emitted"``: every customer the alert was emitted
    for; ``"acknowledged"`` and ``"not acknowledged"``: those split by whether the host acted
    on the firing; ``"held out"``); ``measure`` (``"responded"``, ``"recovered"``,
    ``"next_score"``, ``"retained_<D>"``); ``n`` (customers measured); ``value`` (a share, or
    the mean next score) with ``ci_low`` / ``ci_high`` (Wilson; Student t for the mean,
    within the scale); ``difference`` (the group minus held out) with ``diff_ci_low`` /
    ``diff_ci_high`` (Newcombe for shares, Welch for the mean; NaN for the held-out rows);
    ``n_pending`` (customers left out because the measure's window had not closed).

    ``metric``, ``recovered_at``, ``window``, ``retention``, ``active`` and ``level`` say
    what was measured; :meth:`row` gives one row as a dict.
    """

    metric: str | None
    recovered_at: float | None
    window: str
    retention: tuple[str, ...]
    active: tuple[str, ...]
    level: float

    def groups(self, trigger: str) -> list[str]:
        """The groups of ``trigger``, in table order."""
        sel = self.columns["trigger"] == trigger
        return list(dict.fromkeys(self.columns["group"][sel].tolist()))

    def row(self, trigger: str, group: str, measure: str) -> dict[str, Any]:
        """The row of (``trigger``, ``group``, ``measure``) as a dict of plain values."""
        keys = list(
            zip(
                self.columns["trigger"].tolist(),
                self.columns["group"].tolist(),
                self.columns["measure"].tolist(),
                strict=True,
            )
        )
        key = (trigger, group, measure)
        if key not in keys:
            found = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
            measures = sorted({k[2] for k in keys})
            raise NotFoundError(
                f"no row {key!r}; triggers {found[0]}, groups {found[1]}, measures {measures}"
            )
        i = keys.index(key)
        return {k: plain(v[i], nan=float("nan")) for k, v in self.columns.items()}


@attrs.frozen
class _Outcome:
    """Per measure of one arm: the values of the customers measured (0/1 for shares) and
    how many were left out with their window open; the customers who never occur in the log
    and those measured over a window that ends after the log's last interaction."""

    values: dict[str, npt.NDArray[np.float64]]
    pending: dict[str, int]
    unknown: int
    unobserved: int


def recovery_rate(
    firings: Any,
    log: InteractionLog,
    *,
    acknowledged: Iterable[str] | None = None,
    metric: str | None = None,
    recovered_at: float | None = None,
    window: str | timedelta = "90 days",
    retention: Sequence[str | timedelta] = ("30 days", "90 days"),
    active: str | Sequence[str] = "purchase",
    level: float = 0.95,
    as_of: TimeLike | None = None,
) -> RecoveryRates:
    """What happened after an alert rule fired (a detractor, a low CSAT, a late delivery, an
    escalation): for the firings acted on, those not acted on, and those held out.

    For each trigger, each customer counts once, from its first emitted firing (group
    ``"emitted"``, split into ``"acknowledged"`` when that firing's id is in
    ``acknowledged`` and ``"not acknowledged"`` otherwise) or from its first firing suppressed
    with reason ``"holdout"`` (group ``"held out"``). From that time ``t``, strictly after it:

    - ``responded``: the customer answered a survey of ``metric`` within ``window``;
    - ``recovered``: among those, the first such answer (the *next score*) is at least
      ``recovered_at`` (default :data:`RECOVERED_AT`: NPS 7, CSAT 4, CES 5);
    - ``next_score``: the mean of that next score;
    - ``retained_<D>``: for each ``D`` in ``retention``, an interaction of an ``active`` kind
      within ``D`` (the customer came back).

    Shares have Wilson intervals and the mean a Student t interval; each group is compared
    with the held-out group, with Newcombe's interval for a difference of shares and Welch's
    for the difference of means. The mean's interval lies within the question's scale (0 to
    10 for NPS), and that of its difference within the scale's width either way. A measure
    whose window ends after ``as_of`` is not known yet: the customer is left out of it
    (``n_pending``).

    **Which difference is an experiment.** The holdout is drawn at random, so ``"emitted"``
    against ``"held out"`` measures the effect of the alert being raised. Whether the host
    acted on a firing is not random (the cases acted on may be the easy ones, or the urgent
    ones), so ``"acknowledged"`` and ``"not acknowledged"`` against ``"held out"`` describe
    what happened, not what acting caused. ``recovered`` and ``next_score`` are read among
    the customers who answered; when the action changes who answers (compare ``responded``),
    they mix the two. Like :func:`action_effect`, the intervals assume one look at a horizon
    fixed in advance.

    Parameters
    ----------
    firings
        :class:`~cxmodel.triggers.Firings` (emitted and suppressed) from
        :func:`~cxmodel.triggers.evaluate` or the streaming engine.
    log
        The interactions in which to look for what happened next.
    acknowledged
        The ids of the firings the host acted on (e.g. the firings it marked with
        ``store.acknowledge``); ``None`` leaves out the two acknowledgement groups.
    metric
        The survey metric whose next answer is read (``"nps"``, ``"csat"``, ``"ces"`` or any
        other value of the log's ``metric`` column, on ``survey`` interactions);
        ``None`` measures retention only.
    recovered_at
        The lowest next score that counts as recovered (required for a metric not in
        :data:`RECOVERED_AT`).
    window
        How long after the firing the next answer counts.
    retention
        The horizons of the retention measures.
    active
        The interaction kind (or kinds) that count as the customer coming back.
    level
        Confidence level of the intervals.
    as_of
        The time up to which the log is complete (default: the end of its observation,
        :attr:`~cxmodel.log.InteractionLog.observed_until`). An ``as_of`` after the log's
        last interaction declares the span between them observed and empty; a warning counts
        the customers measured over windows that end in it.

    Warns
    -----
    DataWarning
        When no row of the log answers ``metric`` (nobody responded: the survey measures are
        0 and NaN, the retention measures stand), naming what the log's survey rows answer
        instead with a did-you-mean, as :func:`~cxmodel.metrics.nps` does when it refuses such
        a log. When a trigger has no held-out customers (no difference can be measured), when
        a trigger has held-out firings only (the differences are NaN), when
        measures are pending, when acknowledged ids match no emitted firing, and when the
        rule also refused firings for lack of consent or a contact policy stopped some (the
        held-out group then includes customers who would not have been contacted). With
        counts: when measured customers never occur in the log (they count as not having
        responded or come back), when windows end after the log's last interaction, and
        when customers have both an emitted and a held-out firing of one trigger (firings of
        runs with another holdout share or salt): they are left out of every group.

    Raises
    ------
    SchemaError
        A ``metric`` without ``recovered_at`` default, a log without ``metric`` and
        ``score`` columns, an empty ``active`` or a window that is not positive.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import evaluate, parse
    >>> rules = parse('''
    ... trigger detractor:
    ...     when survey as r where r.metric == "nps" and r.score <= 6
    ...     emit follow_up
    ...     holdout 50%''')
    >>> ids = ["c1", "c2", "c3", "c4"]
    >>> log = InteractionLog.from_arrays(  # the export runs to Jun 1 (the last views)
    ...     customer_id=ids * 3, kind=["survey"] * 8 + ["view"] * 4, metric=["nps"] * 8 + [None] * 4,
    ...     score=[3.0, 5.0, 2.0, 6.0, 9.0, 4.0, 8.0, 7.0] + [None] * 4,
    ...     timestamp=["2024-01-01T00:00Z"] * 4 + ["2024-02-01T00:00Z"] * 4
    ...     + ["2024-06-01T00:00Z"] * 4)
    >>> firings = evaluate(rules, log, as_of="2024-06-01T00:00Z")
    >>> ack = [f.firing_id for f in firings if f.customer_id == "c1"]
    >>> rates = recovery_rate(firings, log, acknowledged=ack, metric="nps", retention=(),
    ...                       as_of="2024-06-01T00:00Z")
    >>> [(g, rates.row("detractor", g, "recovered")["n"]) for g in rates.groups("detractor")]
    [('emitted', 2), ('acknowledged', 1), ('not acknowledged', 1), ('held out', 2)]
    >>> rates.row("detractor", "emitted", "next_score")["value"]
    8.5
    """
    log = interaction_log(log, "recovery_rate()")
    if acknowledged is not None:
        of_type(acknowledged, Iterable, "recovery_rate()", "acknowledged", "a list of firing ids")
    of_type(retention, (list, tuple), "recovery_rate()", "retention", "a list of durations")
    kinds = name_sequence(active, "recovery_rate()", "active")
    z = z_value(level)
    duration = parse_duration(window)
    window_text = window if isinstance(window, str) else format_duration(duration)
    horizons = [parse_duration(d) for d in retention]
    horizon_names = [f"retained_{format_duration(d).replace(' ', '_')}" for d in horizons]
    if not kinds:
        raise SchemaError(f"active must name at least one interaction kind; got {active!r}")
    threshold = _threshold(metric, recovered_at)
    from cxmodel.triggers._firings import firing_columns

    cols = firing_columns(as_firings(firings), ids=acknowledged is not None)
    trig, cust, time, reason = cols["trigger"], cols["customer_id"], cols["time"], cols["reason"]
    emitted, held = both_arms(
        trig,
        cust,
        np.asarray(cols["emitted"], dtype=bool),
        np.asarray(reason == "holdout", dtype=bool),
        caller="recovery_rate()",
    )
    acked = np.zeros(len(trig), dtype=bool)
    if acknowledged is not None:
        wanted = {
            str(i) for i in ([acknowledged] if isinstance(acknowledged, str) else acknowledged)
        }
        names = cols["firing_id"].tolist()
        acked = emitted & np.array([i in wanted for i in names], dtype=bool)
        unknown = len(wanted - set(cols["firing_id"][cols["emitted"]].tolist()))
        if unknown:
            warn(
                f"{unknown} acknowledged firing ids match no emitted firing (ids of other "
                "rules, runs or suppressed firings?); they are ignored",
                DataWarning,
            )
    end = read_until(log, as_of)
    answers, score = _score_rows(log, metric)
    spec = _Measures(
        log=log,
        end=end,
        window=duration,
        answers=answers,
        score=score,
        threshold=threshold,
        horizons=tuple(horizons),
        names=tuple(horizon_names),
        comes_back=np.asarray(log.kind_mask(*kinds), dtype=bool),
    )
    first_emitted = first_firings(trig[emitted], cust[emitted], time[emitted])
    first_held = first_firings(trig[held], cust[held], time[held])
    where_emitted, where_held = np.flatnonzero(emitted), np.flatnonzero(held)
    mixed = mixed_groups(trig, reason)
    measures = ["responded", "recovered", "next_score"] if metric is not None else []
    question = log.questions.get(metric) if metric is not None else None
    scale = question.scale if question is not None else None  # next_score's range
    measures += horizon_names
    none = np.zeros(0, dtype=np.int64)
    rows: list[dict[str, Any]] = []
    measured = unknown = unobserved = 0
    for name in sorted(set(first_emitted) | set(first_held)):
        at = where_emitted[first_emitted.get(name, none)]
        arms = {"emitted": at}
        if acknowledged is not None:
            arms["acknowledged"] = at[acked[at]]
            arms["not acknowledged"] = at[~acked[at]]
        arms["held out"] = where_held[first_held.get(name, none)]
        outcomes = {group: spec.of(cust[at], time[at]) for group, at in arms.items()}
        base = outcomes["held out"]
        for group in ("emitted", "held out"):
            measured += len(arms[group])
            unknown += outcomes[group].unknown
            unobserved += outcomes[group].unobserved
        for group, outcome in outcomes.items():
            versus = None if group == "held out" else base
            rows += [_row(name, group, m, outcome, versus, z, level, scale) for m in measures]
        if not len(arms["emitted"]):
            warn(
                f"trigger {name!r} has no emitted firings, only held-out ones: the "
                "differences from the held-out group are NaN",
                DataWarning,
            )
        if not len(arms["held out"]):
            warn(
                f"trigger {name!r} has no held-out customers: add 'holdout P%' to the rule to "
                "compare with customers it did not act on",
                DataWarning,
            )
        pending = {m: n for m, n in outcomes["emitted"].pending.items() if n}
        if pending:
            text = ", ".join(f"{n} for {m}" for m, n in pending.items())
            warn(
                f"trigger {name!r}: customers left out while their window is open ({text})",
                DataWarning,
            )
        if name in mixed and len(arms["held out"]):
            warn(mixed_warning(name, mixed[name]), DataWarning)
    warn_unknown_customers(unknown, measured, caller="recovery_rate()")
    warn_unobserved_windows(log, end, unobserved, caller="recovery_rate()")
    columns: dict[str, npt.NDArray[Any]] = {}
    for column in _COLUMNS:
        data = [r[column] for r in rows]
        if column in ("trigger", "group", "measure"):
            columns[column] = np.array(data, dtype=object)
        elif column.startswith("n"):
            columns[column] = np.array(data, dtype=np.int64)
        else:
            columns[column] = np.array(data, dtype=np.float64)
    return RecoveryRates(
        "recovery_rate",
        columns,
        metric,
        threshold,
        window_text,
        tuple(format_duration(d) for d in horizons),
        kinds,
        float(level),
    )


def _threshold(metric: str | None, recovered_at: float | None) -> float | None:
    if metric is None:
        if recovered_at is not None:
            raise SchemaError("recovered_at needs metric= (the survey whose next score is read)")
        return None
    if not isinstance(metric, str) or not metric:
        raise SchemaError(f"metric must be a survey metric name such as 'nps'; got {metric!r}")
    if recovered_at is None:
        if metric not in RECOVERED_AT:
            raise SchemaError(
                f"recovered_at is needed for metric {metric!r} (defaults exist for "
                f"{sorted(RECOVERED_AT)}): the lowest next score that counts as recovered"
            )
        return RECOVERED_AT[metric]
    if not isinstance(recovered_at, int | float) or isinstance(recovered_at, bool):
        raise SchemaError(f"recovered_at must be a number; got {recovered_at!r}")
    return float(recovered_at)


def _score_rows(
    log: InteractionLog, metric: str | None
) -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.float64]]:
    """The survey answers of ``metric`` (a mask; None without a metric) and the scores."""
    if metric is None:
        return None, np.zeros(0)
    missing = [c for c in ("metric", "score") if c not in log]
    if missing:
        raise SchemaError(
            f"metric={metric!r} reads the next survey answer, but the log has no "
            f"{' or '.join(repr(c) for c in missing)} column"
        )
    score = np.asarray(log.numeric("score"), dtype=np.float64)
    named = answer_rows(log, metric)
    mask = named & ~np.isnan(score)
    if not mask.any():
        held = held_metrics(log)
        message = unanswered(metric, int(named.sum()), len(log), held, caller="recovery_rate()")
        warn(
            (message or f"the log has no survey answer for metric {metric!r}")
            + ": nobody responded",
            DataWarning,
        )
    return mask, score


@attrs.frozen
class _Measures:
    """What is measured after a firing, and where: the log, its end, the survey answers of
    the metric (``answers``, ``score``; None without a metric), the recovery threshold, the
    retention horizons and their names, and the interactions that count as coming back."""

    log: InteractionLog
    end: int
    window: Any  # timedelta or relativedelta
    answers: npt.NDArray[np.bool_] | None
    score: npt.NDArray[np.float64]
    threshold: float | None
    horizons: tuple[Any, ...]
    names: tuple[str, ...]
    comes_back: npt.NDArray[np.bool_]

    def of(self, customers: npt.NDArray[Any], start: npt.NDArray[np.int64]) -> _Outcome:
        """The outcomes of customers first fired for at ``start``."""
        codes = customer_codes_of(self.log, customers)
        values: dict[str, npt.NDArray[np.float64]] = {}
        pending: dict[str, int] = {}
        until = self.log.observed_until if self.log.observed_until is not None else self.end
        late = np.zeros(len(codes), dtype=bool)
        if self.answers is not None and self.threshold is not None:
            stop = add_duration(start, self.window)
            closed = stop <= self.end
            late |= closed & (stop > until)
            rows, lo, hi = window_bounds(
                self.log, self.answers, codes[closed], start[closed], stop[closed]
            )
            answered = hi > lo
            following = self.score[rows[lo[answered]]]  # the first answer in the window
            values["responded"] = answered.astype(np.float64)
            values["recovered"] = (following >= self.threshold).astype(np.float64)
            values["next_score"] = following
            for name in ("responded", "recovered", "next_score"):
                pending[name] = int((~closed).sum())
        for horizon, name in zip(self.horizons, self.names, strict=True):
            stop = add_duration(start, horizon)
            closed = stop <= self.end
            late |= closed & (stop > until)
            _, lo, hi = window_bounds(
                self.log, self.comes_back, codes[closed], start[closed], stop[closed]
            )
            values[name] = (hi > lo).astype(np.float64)
            pending[name] = int((~closed).sum())
        return _Outcome(values, pending, int((codes < 0).sum()), int(late.sum()))


def _row(
    trigger: str,
    group: str,
    measure: str,
    outcome: _Outcome,
    base: _Outcome | None,
    z: float,
    level: float,
    scale: tuple[int, int] | None,
) -> dict[str, Any]:
    """One row of the table; the intervals of ``next_score`` (a mean answer) lie within the
    question's ``scale``, and those of its difference within the scale's width either way."""
    x = outcome.values[measure]
    n = len(x)
    row: dict[str, Any] = {"trigger": trigger, "group": group, "measure": measure, "n": n,
                           "n_pending": outcome.pending[measure]}  # fmt: skip
    diff = low = high = NAN
    if measure == "next_score":
        mean = float(x.mean()) if n else NAN
        var = float(x.var(ddof=1)) if n > 1 else NAN
        _, lo, hi = mean_t_interval(n, mean, var, level, 1.0, scale)
        if base is not None:
            y = base.values[measure]
            if n and len(y):
                diff = mean - float(y.mean())
                low, high = welch_interval(x, y, level)
                if scale is not None:
                    width = float(scale[1] - scale[0])
                    low, high = max(low, -width), min(high, width)
    else:
        hits = float(x.sum())
        mean = hits / n if n else NAN
        _, lo, hi = proportion_interval(hits, n, z, "wilson", 1.0)
        if base is not None:
            y = base.values[measure]
            if n and len(y):
                diff = mean - float(y.mean())
                low, high = newcombe_interval(hits, n, float(y.sum()), len(y), z)
    row |= {"value": mean, "ci_low": lo, "ci_high": hi, "difference": diff,
            "diff_ci_low": low, "diff_ci_high": high}  # fmt: skip
    return row
