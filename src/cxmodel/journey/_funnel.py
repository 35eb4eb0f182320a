"""Funnels: loose, strict and any-order conversion with windows, exclusions and held properties."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, of_type
from cxmodel._pieces import warn, warn_counted
from cxmodel._result import Result
from cxmodel._stats import wilson_bounds
from cxmodel._time import DurationLike
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey._common import (
    MISSING_LABEL,
    next_occurrence,
    quantile_levels,
    row_mask,
    session_codes,
    sorted_quantiles,
    step_list,
    string_column,
    value_codes,
    window_us,
)
from cxmodel.journey._groups import By, by_codes
from cxmodel.journey._matching import earliest_steps
from cxmodel.log._kinds import check_kinds, warn_absent_kinds
from cxmodel.log._observed import warn_windows_open

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = [
    "COUNTS",
    "ORDERS",
    "Funnel",
    "FunnelState",
    "check_funnel_options",
    "check_steps",
    "funnel",
    "funnel_result",
    "funnel_state",
    "split_step",
    "step_mask",
    "warn_absent_value",
    "warn_open_windows",
]

Step = str | tuple[str, str]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ORDERS = ("loose", "strict", "any")
"""The funnel orders: ``order=`` of :func:`funnel`."""
COUNTS = ("customers", "totals", "sessions")
"""What a funnel counts: ``count=`` of :func:`funnel`."""


@attrs.frozen(eq=False, repr=False)
class Funnel(Result):
    """Result of :func:`funnel`.

    Attributes
    ----------
    steps : tuple of str
        Step names (``"column=value"`` for pair steps).
    counts : ndarray of int64
        Units (customers, sessions or attempts) reaching each step.
    conversion : ndarray of float64
        ``counts / counts[0]`` (NaN when nobody entered).
    conversion_low, conversion_high : ndarray of float64
        95% Wilson interval of ``conversion``.
    step_conversion : ndarray of float64
        ``counts[k] / counts[k - 1]``; 1 for the first step.
    quantiles : tuple of float
        Levels of ``time_to_step``.
    time_to_step : ndarray of float64, shape (Q, S)
        Quantiles of seconds from the anchoring step-1 event to each step, among units
        reaching that step.
    drop_off_next : tuple of dict
        For step ``k`` (all but the last): among units whose furthest step is ``k``, what
        the customer's next event (``kind``) was after the last matched event; ``"END"``
        when there was none. Sorted by count, descending.
    by_labels : ndarray of str or None
        Segment values of ``by`` (taken at the anchoring event).
    by_counts : ndarray of int64 or None, shape (G, S)
        ``counts`` per segment.
    """

    steps: tuple[str, ...]
    counts: IntArray
    conversion: npt.NDArray[np.float64]
    conversion_low: npt.NDArray[np.float64]
    conversion_high: npt.NDArray[np.float64]
    step_conversion: npt.NDArray[np.float64]
    quantiles: tuple[float, ...]
    time_to_step: npt.NDArray[np.float64]
    drop_off_next: tuple[dict[str, int], ...]
    by_labels: npt.NDArray[np.object_] | None = None
    by_counts: IntArray | None = None

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per step."""
        out: dict[str, Any] = {
            "step": list(self.steps),
            "count": self.counts.tolist(),
            "conversion": self.conversion.tolist(),
            "conversion_low": self.conversion_low.tolist(),
            "conversion_high": self.conversion_high.tolist(),
            "step_conversion": self.step_conversion.tolist(),
        }
        for q, row in zip(self.quantiles, self.time_to_step, strict=True):
            out[f"seconds_q{q:g}"] = row.tolist()
        return out

    def _details(self) -> dict[str, Any]:
        """Drop-offs and the breakdown."""
        out: dict[str, Any] = {}
        out["drop_off_next"] = [dict(d) for d in self.drop_off_next]
        if self.by_labels is not None and self.by_counts is not None:
            out["by"] = {
                str(lab): row.tolist()
                for lab, row in zip(self.by_labels, self.by_counts, strict=True)
            }
        return out

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw bars with conversion and drop-off labelled; ``by=`` groups side by side (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_funnel`.
        """
        from cxmodel.plot import plot_funnel

        return plot_funnel(self, ax, **kwargs)


def split_step(step: Step) -> tuple[str, str]:
    """``(column, value)`` of a step; a kind name is ``("kind", name)``."""
    if isinstance(step, str):
        return "kind", step
    if isinstance(step, tuple) and len(step) == 2 and all(isinstance(s, str) for s in step):
        return step
    raise SchemaError(f"step {step!r} must be a kind name or a (column, value) pair of strings")


def check_steps(
    log: InteractionLog, steps: Sequence[Step], *, argument: str, meaning: str | None
) -> None:
    """Validate steps once, on the whole log: typos raise, absent values may warn.

    A kind step goes through the kind check shared by every analysis
    (:meth:`InteractionLog.kind_mask`): an unknown kind that is not a standard kind raises
    :class:`~cxmodel.errors.SchemaError` with a did-you-mean. A standard kind, or a
    ``(column, value)`` value, that does not occur in the log warns
    (:class:`~cxmodel.errors.DataWarning`) with ``meaning`` (what the result then says), unless
    ``meaning`` is ``None``.
    """
    absent: list[str] = []
    for step in steps:
        column, value = split_step(step)
        string_column(log, column)
        if column == "kind":
            absent.extend(check_kinds(log.kinds.tolist(), [value], argument=argument))
            continue
        _, labels = log.categorical(column)
        known = [str(v) for v in labels.tolist()]
        if value in known or value == MISSING_LABEL or meaning is None:
            continue
        close = get_close_matches(value, known, n=1)
        warn_absent_value(
            argument,
            (column, value),
            meaning,
            close[0] if close else None,
            sorted(known)[:20],
        )
    if meaning is not None:
        warn_absent_kinds(tuple(dict.fromkeys(absent)), argument=argument, meaning=meaning)


def warn_absent_value(
    argument: str,
    step: tuple[str, str],
    meaning: str,
    close: str | None,
    values: Sequence[str],
) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) that a ``(column, value)`` step's value does
    not occur, with the closest value or, without one, the first ``values``."""
    column, value = step
    hint = f"; did you mean {close!r}?" if close else f"; values: {list(values)}"
    warn(
        f"{argument}: {column}={value!r} does not occur in the log, so {meaning}{hint}",
        DataWarning,
    )


def step_mask(log: InteractionLog, step: Step, *, check: bool = True) -> BoolArray:
    """Rows matching a step: a kind name, or a ``(column, value)`` pair.

    Kinds are checked as by :meth:`InteractionLog.kind_mask`: an unknown non-standard kind
    raises :class:`~cxmodel.errors.SchemaError` with a did-you-mean (``check=False`` when the
    caller has decided already, e.g. for default kinds).
    """
    column, value = split_step(step)
    string_column(log, column)
    if check and column == "kind":
        check_kinds(log.kinds.tolist(), [value], argument=f"step {step!r}")
    codes, labels = log.categorical(column)  # compare the stored codes: no copy
    hit = np.flatnonzero(np.asarray(labels, dtype=object) == value)
    out: BoolArray
    if len(hit):
        out = codes == int(hit[0])
    elif value == MISSING_LABEL:
        out = codes < 0
    else:
        out = np.zeros(len(log), dtype=bool)
    return out


def funnel(
    log: InteractionLog,
    steps: Sequence[Step],
    *,
    order: str = "loose",
    window: DurationLike | None = None,
    step_windows: Sequence[DurationLike | None] | None = None,
    exclude: Sequence[Step] | None = None,
    hold: str | None = None,
    count: str = "customers",
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
    quantiles: tuple[float, ...] = (0.5, 0.9),
) -> Funnel:
    """Count units progressing through ordered steps.

    Counting rules
    --------------
    * **Log order.** "After" means later in log order (customer, time, input order): two
      events at the same instant keep their input order.
    * **Attempts.** Every event matching step 1 (for ``order="any"``: any step) anchors an
      attempt. ``loose``: an attempt reaches step ``k`` when some chain of events
      anchor < e2 < ... < ek (in log order) matches steps 1..k and meets every window; step
      ``k`` is then placed at the *earliest* event that ends such a chain, and its time to
      convert is measured to that event. Without ``step_windows`` this is the greedy choice
      (earliest qualifying event after the previous matched one); with them a later
      occurrence of a step is used when only it lets the next step fall within its window.
      ``strict``: each step must be the very next event of the unit. ``any`` asks that
      steps 1..k all occur at or after the anchor, in any order.
    * **Re-entry / which anchor counts.** With ``count="customers"`` or ``"sessions"`` each
      unit is counted once, by its best attempt (most steps reached; ties go to the
      earliest anchor). With ``count="totals"`` every attempt counts.
    * **Windows.** ``window`` bounds the time from the anchor to every matched step (the
      whole funnel); ``step_windows[k]`` bounds the time from step ``k + 1`` to step ``k + 2``.
      Bounds are inclusive. A window is not censored: an attempt anchored less than ``window``
      before the log's last interaction counts the steps reached by then, so recent entrants
      lower the conversion; when that holds for every attempt (``window`` longer than the
      time from the first anchor to the end of the data) a
      :class:`~cxmodel.errors.DataWarning` says so.
    * **Exclusion.** An ``exclude`` event after the anchor ends the attempt: steps matched
      at or after it do not count.
    * **Hold.** With ``hold="product"`` every matched step must carry the anchor's value
      of that column (missing is a value of its own: a row lacking the value matches only
      rows lacking it, and a :class:`~cxmodel.errors.DataWarning` counts the steps' rows
      that lack it). ``hold="session_id"`` keeps an attempt in one session.
    * **Units.** ``"sessions"`` needs a ``session_id`` column (:func:`sessions`); matching
      then stays within the session.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    steps : sequence of str or (column, value)
        At least one step; strings are kinds.
    order : {"loose", "strict", "any"}
    window : duration, optional
    step_windows : sequence of duration or None, optional
        ``len(steps) - 1`` entries; not with ``order="any"``.
    exclude : sequence of steps, optional
    hold : str, optional
        Column held constant across the matched steps.
    count : {"customers", "totals", "sessions"}
    by : str or array, optional
        Breakdown by the value at the anchoring event: a column name, one value per row
        (log order) or one per customer (``log.customers`` order).
    segment : bool array, optional
        Keep only these rows first.
    quantiles : tuple of float
        Levels of ``time_to_step``.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a", "b", "b"],
    ...     timestamp=[0, 10, 20, 0, 5],
    ...     kind=["view", "search", "purchase", "view", "search"])
    >>> f = funnel(log, ["view", "search", "purchase"])
    >>> f.counts.tolist(), f.conversion.tolist()
    ([2, 2, 1], [1.0, 1.0, 0.5])
    """
    log = interaction_log(log, "funnel()")
    steps = step_list(steps, "funnel()", "steps", ordered=True)
    exclude = None if exclude is None else step_list(exclude, "funnel()", "exclude")
    if step_windows is not None:
        hint = "a list of durations, one per step after the first"
        of_type(step_windows, (list, tuple), "funnel()", "step_windows", hint)
    quantiles = quantile_levels(quantiles, "funnel()", "quantiles")
    state = funnel_state(
        log,
        steps,
        order=order,
        window=window,
        step_windows=step_windows,
        exclude=exclude,
        hold=hold,
        count=count,
        by=by,
        segment=segment,
    )
    # every argument is valid now: typos raise, absent kinds warn (filters keep the vocabulary)
    check_steps(state.log, steps, argument="funnel() steps", meaning="no unit reaches that step")
    if exclude:
        check_steps(state.log, exclude, argument="funnel() exclude", meaning=None)
    lev, n_steps = state.level, len(state.names)
    counts = np.array([(lev >= k + 1).sum() for k in range(n_steps)], dtype=np.int64)
    warn_open_windows(window, counts, state.earliest, state.log.observed_until)
    drops: list[dict[str, int]] = []
    for k in range(1, n_steps):
        c = np.bincount(state.next_code[lev == k], minlength=len(state.labels_end))
        idx = np.argsort(-c, kind="stable")
        drops.append({str(state.labels_end[i]): int(c[i]) for i in idx if c[i] > 0})
    by_counts = None
    if state.by_labels is not None and state.segment is not None:
        seg = state.segment
        by_counts = np.stack(
            [
                np.bincount(seg[lev >= k + 1], minlength=len(state.by_labels))
                for k in range(n_steps)
            ],
            axis=1,
        ).astype(np.int64)
    return funnel_result(
        state.names,
        counts,
        [row[~np.isnan(row)] for row in state.seconds],
        quantiles,
        tuple(drops),
        state.by_labels if by_counts is not None else None,
        by_counts,
    )


def funnel_result(
    names: tuple[str, ...],
    counts: IntArray,
    seconds: Sequence[npt.NDArray[np.float64]],
    quantiles: tuple[float, ...],
    drops: tuple[dict[str, int], ...],
    by_labels: npt.NDArray[np.object_] | None,
    by_counts: IntArray | None,
) -> Funnel:
    """The :class:`Funnel` of the units reaching each step (``counts``) and, per step, the
    seconds to it of those units: conversions with Wilson intervals, step conversions and the
    time quantiles."""
    n_steps = len(names)
    entered = int(counts[0])
    conversion = counts / entered if entered else np.full(n_steps, np.nan)
    low, high = wilson_bounds(counts, np.full(len(counts), entered))
    prev = np.concatenate([[counts[0]], counts[:-1]])
    step_conv = np.divide(counts, prev, out=np.full(n_steps, np.nan), where=prev > 0)
    tq = np.full((len(quantiles), n_steps), np.nan)
    for k, v in enumerate(seconds):
        if len(v):
            tq[:, k] = sorted_quantiles(v, np.zeros(len(v), dtype=np.int64), 1, quantiles)[:, 0]
    return Funnel(
        steps=names,
        counts=counts,
        conversion=conversion.astype(np.float64),
        conversion_low=low,
        conversion_high=high,
        step_conversion=step_conv,
        quantiles=tuple(float(q) for q in quantiles),
        time_to_step=tq,
        drop_off_next=drops,
        by_labels=by_labels,
        by_counts=by_counts,
    )


@attrs.frozen(eq=False)
class FunnelState:
    """What :func:`funnel` counts, per counted unit (or attempt with ``count="totals"``).

    ``level`` is the number of steps reached; ``seconds[k]`` the seconds from the anchor to
    step ``k`` (NaN when not reached); ``next_code`` the code in ``labels_end`` (the log's
    kinds, then ``"END"``) of the kind after the last matched event; ``segment`` the ``by``
    code at the anchor, with the ``by_labels``. ``log`` is the (segment-filtered) log;
    ``earliest`` the time of its earliest anchor (``None`` without one).
    """

    log: InteractionLog
    names: tuple[str, ...]
    level: IntArray
    seconds: npt.NDArray[np.float64]
    next_code: IntArray
    labels_end: npt.NDArray[np.object_]
    segment: IntArray | None
    by_labels: npt.NDArray[np.object_] | None
    earliest: int | None


def warn_open_windows(
    window: DurationLike | None,
    counts: IntArray,
    earliest: int | None,
    until: int | None,
) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`) when ``window`` runs past the data's end
    (``until``) for every attempt, the earliest anchored at ``earliest``, and some of the
    units (``counts``: reaching each step) did not reach the last step."""
    win = window_us(window, "window")
    short = int(counts[0] - counts[-1])
    if win is not None and short:
        warn_windows_open(
            earliest,
            until,
            win,
            caller=f"funnel(window={window!r})",
            unknown=f"the {short:,} of {int(counts[0]):,} units that did not reach the last "
            "step may yet reach it",
        )


def check_funnel_options(
    steps: Sequence[Step],
    order: str,
    count: str,
    step_windows: Sequence[Any] | None,
    exclude: Sequence[Step] | None = None,
) -> None:
    """Raise a SchemaError for no steps, an unknown ``order`` or ``count``, step windows
    that do not fit the steps, or steps no unit could reach: a step after the first that is
    also excluded (its event would end the attempt), a step repeated with ``order="any"``
    (one event would match it twice)."""
    if not steps:
        raise SchemaError("steps must hold at least one step")
    if order not in ORDERS:
        raise SchemaError(f"order={order!r}; expected one of {ORDERS}")
    if count not in COUNTS:
        raise SchemaError(f"count={count!r}; expected one of {COUNTS}")
    pairs = [split_step(s) for s in steps]
    excluded = {split_step(s) for s in exclude or ()}
    for k, pair in enumerate(pairs):
        if pair in excluded and (k > 0 or order == "any"):
            raise SchemaError(
                f"step {k + 1} {steps[k]!r} is also in exclude: an excluded event ends the "
                "attempt, so no unit could reach that step; remove it from one of the two"
            )
        if order == "any" and pair in pairs[:k]:
            raise SchemaError(
                f"step {k + 1} {steps[k]!r} repeats step {pairs.index(pair) + 1} with "
                "order='any', where one event would match both; count repeated steps with "
                "order='loose' or 'strict', which match each step to an event of its own"
            )
    if step_windows is not None:
        if order == "any":
            raise SchemaError("step_windows is not defined for order='any'")
        if len(step_windows) != len(steps) - 1:
            raise SchemaError(
                f"step_windows has {len(step_windows)} entries; expected len(steps) - 1 = "
                f"{len(steps) - 1}"
            )


@attrs.frozen(eq=False)
class _Attempts:
    """Every attempt of a log: its anchor row, its unit and match group, and the row before
    which an exclusion ends it (``n`` when none does)."""

    anchors: IntArray
    unit: IntArray
    group: IntArray
    limit: IntArray


def _attempts(
    log: InteractionLog,
    masks: list[BoolArray],
    order: str,
    count: str,
    hold: str | None,
    exclude: Sequence[Step] | None,
) -> _Attempts:
    n = len(log)
    unit = session_codes(log) if count == "sessions" else log.customer_codes.astype(np.int64)
    group = unit
    if hold is not None:
        hold_codes, n_hold = value_codes(log, hold)
        group = unit * (n_hold + 1) + hold_codes
        _warn_missing_held(log, hold, masks)
    if order == "any":
        anchors = np.flatnonzero(np.logical_or.reduce(masks)).astype(np.int64)
    else:
        anchors = np.flatnonzero(masks[0]).astype(np.int64)
    limit = np.full(len(anchors), n, dtype=np.int64)
    if exclude:
        ex_mask = np.logical_or.reduce([step_mask(log, s, check=False) for s in exclude])
        ex = next_occurrence(ex_mask, unit, anchors + 1, unit[anchors])
        limit = np.where(ex >= 0, ex, n)
    return _Attempts(anchors, unit, group, limit)


def _warn_missing_held(log: InteractionLog, hold: str, masks: Sequence[BoolArray]) -> None:
    """Warn (:class:`~cxmodel.errors.DataWarning`, counted) when rows of the steps (``masks``)
    lack the ``hold`` value: such a row matches only rows lacking it too, so a column filled
    on some kinds only stops funnels (an anchor without it reaches no step that has it)."""
    if log.schema.get(hold) == "string":
        missing = log.categorical(hold)[0] < 0
    else:
        missing = np.isnan(log.numeric(hold))
    steps = np.logical_or.reduce(masks)
    name = repr(hold).replace("{", "{{").replace("}", "}}")  # literal in the template
    warn_counted(  # raised at 0 too in a Dask partition, so every partition's rows add up
        DataWarning,
        f"funnel(hold={name}): {{lacking:,}} of {{rows:,}} rows of the steps have no "
        f"{name}; such a row matches only rows without one, so attempts stop where the "
        "column is filled on one step and not the other",
        lacking=int((steps & missing).sum()),
        rows=int(steps.sum()),
    )


def _match_any(
    masks: list[BoolArray], a: _Attempts, t: IntArray, win: int | None
) -> tuple[IntArray, IntArray]:
    """``order="any"``: steps 1..k all at or after the anchor, in any order."""
    reached_at = np.full((len(masks), len(a.anchors)), -1, dtype=np.int64)
    ok_all = np.ones(len(a.anchors), dtype=bool)
    for k in range(len(masks)):
        nxt = next_occurrence(masks[k], a.group, a.anchors, a.group[a.anchors])
        ok = ok_all & (nxt >= 0) & (nxt < a.limit)
        if win is not None:
            ok &= t[np.maximum(nxt, 0)] - t[a.anchors] <= win
        reached_at[k] = np.where(ok, nxt, -1)
        ok_all = ok
    return reached_at, (reached_at >= 0).sum(axis=0)


def _match_with_step_windows(
    masks: list[BoolArray], a: _Attempts, t: IntArray, win: int | None, sw: list[int | None]
) -> tuple[IntArray, IntArray]:
    """``order="loose"`` with step windows: the earliest event ending a chain that meets
    every window."""
    earliest = earliest_steps(masks, a.group, t, a.anchors, sw)
    safe = np.maximum(earliest, 0)
    ok = (earliest >= 0) & (earliest < a.limit[None, :])
    if win is not None:
        ok &= t[safe] - t[a.anchors][None, :] <= win
    ok = np.logical_and.accumulate(ok, axis=0)
    return np.where(ok, earliest, -1), ok.sum(axis=0)


def _match_in_order(
    masks: list[BoolArray],
    a: _Attempts,
    t: IntArray,
    win: int | None,
    sw: list[int | None],
    order: str,
) -> tuple[IntArray, IntArray]:
    """``order="loose"`` (the next matching event) or ``"strict"`` (the very next event),
    step after step."""
    n, anchors, g = len(t), a.anchors, a.group[a.anchors]
    reached_at = np.full((len(masks), len(anchors)), -1, dtype=np.int64)
    reached_at[0] = anchors
    pos = anchors.copy()
    alive = np.ones(len(anchors), dtype=bool)
    for k in range(1, len(masks)):
        if order == "loose":
            nxt = next_occurrence(masks[k], a.group, pos + 1, g)
        else:
            cand = np.minimum(pos + 1, max(n - 1, 0))
            nxt = np.where(
                (pos + 1 < n)
                & (a.unit[cand] == a.unit[anchors])
                & (a.group[cand] == g)
                & masks[k][cand],
                cand,
                -1,
            )
        ok = alive & (nxt >= 0) & (nxt < a.limit)
        safe = np.maximum(nxt, 0)
        if win is not None:
            ok &= t[safe] - t[anchors] <= win
        limit_k = sw[k - 1]
        if limit_k is not None:
            ok &= t[safe] - t[pos] <= limit_k
        reached_at[k] = np.where(ok, nxt, -1)
        pos = np.where(ok, nxt, pos)
        alive = ok
    return reached_at, (reached_at >= 0).sum(axis=0)


def _chosen(a: _Attempts, level: IntArray, count: str, n: int) -> IntArray:
    """The attempts counted: all with ``count="totals"``, else per unit the attempt with the
    most steps, ties to the earliest anchor (the largest ``level * (n + 1) + (n - anchor)``)."""
    if count == "totals":
        return np.arange(len(a.anchors))
    a_unit = a.unit[a.anchors]
    score = level.astype(np.int64) * (n + 1) + (n - a.anchors)
    best = np.full(int(a_unit.max()) + 1 if len(a_unit) else 0, -1, dtype=np.int64)
    np.maximum.at(best, a_unit, score)
    return np.flatnonzero(score == best[a_unit])


def _seconds(
    at: IntArray, lev: IntArray, t: IntArray, anchors: IntArray, order: str
) -> npt.NDArray[np.float64]:
    """Seconds from the anchor to each step reached (for ``"any"``: from the first to the
    last of the steps matched so far); NaN when not reached."""
    secs_list = []
    for k in range(at.shape[0]):
        if order == "any":
            reached = at[: k + 1] >= 0
            times = t[np.maximum(at[: k + 1], 0)]
            firsts = np.where(reached, times, np.iinfo(np.int64).max)
            lasts = np.where(reached, times, np.iinfo(np.int64).min)
            span = lasts.max(axis=0) - firsts.min(axis=0)
        else:
            span = t[np.maximum(at[k], 0)] - t[anchors]
        secs_list.append(np.where(lev >= k + 1, span / 1e6, np.nan))
    secs = np.stack(secs_list) if secs_list else np.zeros((0, 0))
    return secs.astype(np.float64)


def _next_kinds(
    log: InteractionLog, at: IntArray, lev: IntArray, order: str
) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """The kind code of each unit's event after its last matched one (``len(kinds)`` for
    none: ``"END"``), and the labels ``kinds + ["END"]``."""
    n = len(log)
    cust = log.customer_codes.astype(np.int64)
    kind_codes, kind_labels = log.categorical("kind")  # kind is never missing
    last_row = np.where(lev > 0, at[np.maximum(lev - 1, 0), np.arange(len(lev))], 0)
    if order == "any":
        last_row = np.where(at >= 0, at, -1).max(axis=0) if at.size else last_row
    nxt_row = np.minimum(last_row + 1, max(n - 1, 0))
    has_next = (last_row + 1 < n) & (cust[nxt_row] == cust[last_row])
    return np.where(has_next, kind_codes[nxt_row], len(kind_labels)), np.append(kind_labels, "END")


def funnel_state(
    log: InteractionLog,
    steps: Sequence[Step],
    *,
    order: str = "loose",
    window: DurationLike | None = None,
    step_windows: Sequence[DurationLike | None] | None = None,
    exclude: Sequence[Step] | None = None,
    hold: str | None = None,
    count: str = "customers",
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
    check: bool = True,
) -> FunnelState:
    """The per-unit state :func:`funnel` builds its result from (its arguments, validated).

    Every unit's attempts are matched within the unit, so the states of logs holding
    different customers add up to the state of their union (used by ``cxmodel.dask``).
    ``check=False`` skips the kind check of the steps (a part of a log may lack a kind the
    whole log has); the caller checks the steps with :func:`check_steps` either way.
    """
    steps = list(steps)
    check_funnel_options(steps, order, count, step_windows, exclude)
    n_steps = len(steps)
    win = window_us(window, "window")
    sw = [window_us(w, "step_windows") for w in (step_windows or [None] * (n_steps - 1))]
    mask = row_mask(log, segment)
    row_groups = by_codes(log, by) if by is not None else None
    if mask is not None:
        log = log.filter(mask)
    masks = [step_mask(log, s, check=check) for s in steps]
    names = tuple(s if isinstance(s, str) else f"{s[0]}={s[1]}" for s in steps)
    t = log.timestamps
    a = _attempts(log, masks, order, count, hold, exclude)
    if order == "any":
        reached_at, level = _match_any(masks, a, t, win)
    elif order == "loose" and any(w is not None for w in sw):
        reached_at, level = _match_with_step_windows(masks, a, t, win, sw)
    else:
        reached_at, level = _match_in_order(masks, a, t, win, sw, order)
    chosen = _chosen(a, level, count, len(log))
    lev, at = level[chosen], reached_at[:, chosen]
    secs = _seconds(at, lev, t, a.anchors[chosen], order)
    nxt_code, labels_end = _next_kinds(log, at, lev, order)
    seg = by_labels = None
    if row_groups is not None:
        group_codes, by_labels = row_groups
        if mask is not None:
            group_codes = group_codes[mask]
        seg = group_codes[a.anchors[chosen]]
    earliest = int(t[a.anchors].min()) if len(a.anchors) else None
    return FunnelState(log, names, lev, secs, nxt_code, labels_end, seg, by_labels, earliest)
