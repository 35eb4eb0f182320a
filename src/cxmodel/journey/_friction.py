"""Friction points: exits, self-loops, back-tracks, slow transitions and repeated contacts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, name_sequence, positive_integer, real
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._time import DurationLike
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey._common import (
    duration_us,
    level_codes,
    next_occurrence,
    row_mask,
    step_list,
    value_codes,
    window_us,
)
from cxmodel.journey._funnel import Step, check_steps, step_mask
from cxmodel.journey._groups import By, Grouped, by_codes, unit_groups
from cxmodel.log._kinds import check_kinds

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = ["Friction", "friction"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CONTACT_KINDS = ("ticket_opened", "call", "chat")
ERROR_KINDS = ("error", "payment_failed")
_RANKS = ("exits", "near_error")


@attrs.frozen(eq=False, repr=False)
class Friction(Grouped["Friction"], Result):
    """Result of :func:`friction`; per-label arrays are ranked (see :func:`friction`).

    Attributes
    ----------
    labels : ndarray of str
    events : ndarray of int64
        Events with the label.
    exits : ndarray of int64
        Events that are the last of their customer's journey.
    exit_rate : ndarray of float64
        ``exits / events`` = P(journey ends | event).
    self_loop_rate : ndarray of float64
        Among events followed by another event: share followed by the same label (NaN for a
        label no event follows, like ``backtrack_rate`` and ``slow_rate``: every event of it
        is an exit).
    backtrack_rate : ndarray of float64
        Among events followed by another event: share whose next label is a different label
        already seen earlier in the journey.
    slow_rate : ndarray of float64
        Among events followed by another event: share whose gap to the next event exceeds the
        ``slow_quantile`` of all gaps (``slow_seconds``).
    slow_seconds : float
        The gap threshold.
    contacts : dict
        For each contact kind: ``{"contacts", "repeated", "repeat_rate"}`` where a contact is
        repeated when the same customer has another contact (any contact kind, same
        ``repeat_key`` value when given) within ``repeat_window`` after it.
    errors : tuple of str
        The error steps (kinds, or ``"column=value"``).
    n_errors : int
        Error events in the log.
    near_error : ndarray of int64
        Non-error events followed by an error of the same customer within ``error_steps``
        events and ``error_window`` time.
    near_error_rate : ndarray of float64
        ``near_error`` over the label's non-error events (NaN when it has none, as for an
        error label).
    error_lift : ndarray of float64
        ``near_error_rate`` over the rate of all non-error events (NaN without errors, and
        where ``near_error_rate`` is NaN).
    by_labels : ndarray or None
        Group labels with ``by=``.
    groups : tuple of Friction or None
        One result per group, with ``by=`` (all with the overall ``slow_seconds``).
    """

    labels: npt.NDArray[np.object_]
    events: IntArray
    exits: IntArray
    exit_rate: FloatArray
    self_loop_rate: FloatArray
    backtrack_rate: FloatArray
    slow_rate: FloatArray
    slow_seconds: float
    contacts: dict[str, dict[str, float]]
    errors: tuple[str, ...]
    n_errors: int
    near_error: IntArray
    near_error_rate: FloatArray
    error_lift: FloatArray

    def error_points(self) -> dict[str, list[Any]]:
        """Labels seen before errors, most often first (then by lift, then label).

        Only labels with at least one event near an error; empty lists when the log has
        no error events.
        """
        order = np.lexsort((self.labels, -np.nan_to_num(self.error_lift), -self.near_error))
        order = order[self.near_error[order] > 0]
        return {
            "label": self.labels[order].tolist(),
            "events": self.events[order].tolist(),
            "near_error": self.near_error[order].tolist(),
            "near_error_rate": self.near_error_rate[order].tolist(),
            "error_lift": self.error_lift[order].tolist(),
        }

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per label, in rank order."""
        return {
            "label": self.labels.tolist(),
            "events": self.events.tolist(),
            "exits": self.exits.tolist(),
            "exit_rate": self.exit_rate.tolist(),
            "self_loop_rate": self.self_loop_rate.tolist(),
            "backtrack_rate": self.backtrack_rate.tolist(),
            "slow_rate": self.slow_rate.tolist(),
            "near_error": self.near_error.tolist(),
            "near_error_rate": self.near_error_rate.tolist(),
            "error_lift": self.error_lift.tolist(),
        }

    def _details(self) -> dict[str, Any]:
        """The slow threshold, repeated contacts and error points."""
        return {
            "slow_seconds": self.slow_seconds,
            "contacts": self.contacts,
            "n_errors": self.n_errors,
            "error_points": self.error_points(),
        }

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw ranked horizontal bars of a friction measure (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_friction`.
        """
        from cxmodel.plot import plot_friction

        return plot_friction(self, ax, **kwargs)


def friction(
    log: InteractionLog,
    *,
    level: str = "kind",
    contact_kinds: Sequence[str] = CONTACT_KINDS,
    repeat_key: str | None = None,
    repeat_window: DurationLike = "7d",
    slow_quantile: float = 0.95,
    slow_seconds: float | None = None,
    errors: Sequence[Step] = ERROR_KINDS,
    error_steps: int | None = 3,
    error_window: DurationLike | None = None,
    rank_by: str = "exits",
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
) -> Friction:
    """Rank friction points.

    Labels are ranked by number of exits, then by exit rate, then by label
    (``rank_by="near_error"``: by events near an error, then error lift, then label).
    Journeys are customers; "next" is the next event of the customer in log order.

    **Error proximity.** An error event is a row matching one of ``errors`` (kinds, or
    ``(column, value)`` pairs such as ``("late", "yes")``). A non-error event is *near an
    error* when the customer's next error after it (log order) comes at most
    ``error_steps`` events later (1 = the very next event; ``None``: no limit) and at most
    ``error_window`` later in time (``None``: no limit). Per label, ``near_error_rate`` is
    the share of its non-error events that are near an error and ``error_lift`` that rate
    over the rate of all non-error events. A log without error events gives zero counts,
    NaN lifts and an empty :meth:`Friction.error_points`, with a
    :class:`~cxmodel.errors.DataWarning` when the error kinds never occur in the log at all
    (the defaults, or a standard kind such as ``"refund"``); ``errors=()`` skips error
    proximity without a warning. An error or contact kind that is neither in the log nor a
    standard kind is a typo: :class:`~cxmodel.errors.SchemaError` with a did-you-mean.

    Parameters
    ----------
    log : InteractionLog
    level : str, default "kind"
        String column whose values are ranked.
    contact_kinds : sequence of str
        Kinds counted as contacts for repeated-contact rates.
    repeat_key : str, optional
        Column a repeated contact must share (e.g. ``"order_id"``).
    repeat_window : duration, default "7d"
    slow_quantile : float, default 0.95
        Gaps above this quantile of all gaps are slow.
    slow_seconds : float, optional
        A fixed slow threshold in seconds instead of ``slow_quantile``.
    errors : sequence of steps, default ("error", "payment_failed")
        ``()`` for no error proximity.
    error_steps : int or None, default 3
    error_window : duration, optional
    rank_by : {"exits", "near_error"}
    by : str or array, optional
        Breakdown: a column name, one value per row (log order) or per customer. Each
        customer belongs to the group of their first event; every group uses the slow
        threshold of the whole (segmented) log, so slow rates compare across groups.
    segment : bool array, optional
        Keep only these rows first.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a", "b"],
    ...     timestamp=[0, 1, 2, 0], kind=["view", "search", "search", "search"])
    >>> f = friction(log, errors=())
    >>> f.labels.tolist(), f.exits.tolist(), f.self_loop_rate.tolist()
    (['search', 'view'], [2, 0], [1.0, 0.0])

    Which events come shortly before a failed payment:

    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a", "b", "b"],
    ...     timestamp=[0, 1, 2, 0, 1],
    ...     kind=["view", "checkout", "payment_failed", "view", "search"])
    >>> f = friction(log, error_steps=1)
    >>> f.n_errors, f.error_points()["label"], f.error_points()["error_lift"]
    (1, ['checkout'], [4.0])
    """
    log = interaction_log(log, "friction()")
    contact_kinds = name_sequence(contact_kinds, "friction()", "contact_kinds")
    errors = (
        (errors,) if isinstance(errors, str) else tuple(step_list(errors, "friction()", "errors"))
    )
    slow_quantile = real(slow_quantile, "friction()", "slow_quantile")
    if not 0.0 < slow_quantile < 1.0:
        raise SchemaError(f"slow_quantile={slow_quantile!r}; expected a number in (0, 1)")
    slow_seconds = (
        None if slow_seconds is None else real(slow_seconds, "friction()", "slow_seconds")
    )
    win = duration_us(repeat_window, "friction()", "repeat_window")
    err_win = window_us(error_window, "error_window")
    if error_steps is not None:
        error_steps = positive_integer(error_steps, "friction()", "error_steps")
    if rank_by not in _RANKS:
        raise SchemaError(f"rank_by={rank_by!r}; expected one of {_RANKS}")
    if slow_seconds is not None and not slow_seconds >= 0:
        raise SchemaError(f"slow_seconds={slow_seconds!r}; expected a number >= 0")
    check_kinds(log.kinds.tolist(), contact_kinds, argument="friction() contact_kinds")
    if errors == ERROR_KINDS:  # the defaults: names many logs use, not a claim about this one
        if not set(log.kinds.tolist()).intersection(ERROR_KINDS):
            warn(
                f"friction(): none of the default error kinds {ERROR_KINDS} occur in the log, "
                "so n_errors is 0, error_lift is NaN and error_points() is empty; pass "
                "errors= the kinds or (column, value) pairs that mark errors in your data, or "
                "errors=() to skip error proximity",
                DataWarning,
            )
    elif errors:
        check_steps(
            log,
            errors,
            argument="friction() errors",
            meaning="n_errors is 0 and error_lift is NaN",
        )
    mask = row_mask(log, segment)
    row_groups = by_codes(log, by) if by is not None else None
    if mask is not None:
        log = log.filter(mask)
    run = partial(
        _friction,
        level=level,
        contact_kinds=contact_kinds,
        repeat_key=repeat_key,
        win=win,
        slow_quantile=slow_quantile,
        errors=errors,
        error_steps=error_steps,
        err_win=err_win,
        rank_by=rank_by,
    )
    result = run(log, slow_seconds=slow_seconds)
    if row_groups is None:
        return result
    present, masks = unit_groups(log, row_groups, mask, by_session=False)
    groups = tuple(run(log.filter(m), slow_seconds=result.slow_seconds) for m in masks)
    return attrs.evolve(result, by_labels=present, groups=groups)


def _friction(
    log: InteractionLog,
    *,
    level: str,
    contact_kinds: Sequence[str],
    repeat_key: str | None,
    win: int,
    slow_quantile: float,
    slow_seconds: float | None,
    errors: Sequence[Step],
    error_steps: int | None,
    err_win: int | None,
    rank_by: str,
) -> Friction:
    """The friction table of one log (no segment, no breakdown)."""
    codes, labels = level_codes(log, level)
    k = len(labels)
    n = len(codes)
    cust = log.customer_codes.astype(np.int64)
    t = log.timestamps
    has_next = np.zeros(n, dtype=bool)
    has_next[:-1] = cust[1:] == cust[:-1]
    events = np.bincount(codes, minlength=k).astype(np.int64)
    exits = np.bincount(codes[~has_next], minlength=k).astype(np.int64)
    src = codes[:-1][has_next[:-1]]
    dst = codes[1:][has_next[:-1]]
    rows = np.flatnonzero(has_next)
    followed = np.bincount(src, minlength=k)
    same = src == dst
    key = cust * k + codes
    _, first_idx, inverse = np.unique(key, return_index=True, return_inverse=True)
    first_row = first_idx[inverse.ravel()]
    back = (~same) & (first_row[rows + 1] < rows)
    gaps = (t[1:] - t[:-1])[has_next[:-1]].astype(np.float64) / 1e6
    if slow_seconds is not None:
        slow_s = float(slow_seconds)
    else:
        slow_s = float(np.quantile(gaps, slow_quantile)) if len(gaps) else float("nan")
    slow = gaps > slow_s

    def rate(flags: npt.NDArray[np.bool_]) -> FloatArray:
        hit = np.bincount(src[flags], minlength=k).astype(np.float64)
        shares: FloatArray = np.divide(hit, followed, out=np.full(k, np.nan), where=followed > 0)
        return shares

    exit_rate = np.divide(exits, events, out=np.zeros(k), where=events > 0)
    self_rate, back_rate, slow_rate = rate(same), rate(back), rate(slow)
    kind_codes, kind_labels = level_codes(log, "kind")
    contact_codes = [int(i) for i, lab in enumerate(kind_labels) if lab in set(contact_kinds)]
    is_contact = np.isin(kind_codes, contact_codes)
    group = cust
    if repeat_key is not None:
        rk, n_rk = value_codes(log, repeat_key)
        group = cust * (n_rk + 1) + rk
    c_rows = np.flatnonzero(is_contact).astype(np.int64)
    nxt = next_occurrence(is_contact, group, c_rows + 1, group[c_rows])
    repeated = (nxt >= 0) & (t[np.maximum(nxt, 0)] - t[c_rows] <= win)
    contacts: dict[str, dict[str, float]] = {}
    for name in contact_kinds:
        hit = np.flatnonzero(kind_labels == name)
        sel = kind_codes[c_rows] == (int(hit[0]) if len(hit) else -2)
        total, rep = int(sel.sum()), int(repeated[sel].sum())
        contacts[name] = {
            "contacts": float(total),
            "repeated": float(rep),
            "repeat_rate": rep / total if total else float("nan"),
        }
    error_names, n_errors, near, near_rate, lift = _error_proximity(
        log, codes, k, errors, error_steps, err_win
    )
    present = events > 0
    if rank_by == "exits":
        order = np.lexsort((labels, -exit_rate, -exits))
    else:
        order = np.lexsort((labels, -np.nan_to_num(lift), -near))
    order = order[present[order]]
    return Friction(
        labels=labels[order],
        events=events[order],
        exits=exits[order],
        exit_rate=exit_rate[order],
        self_loop_rate=self_rate[order],
        backtrack_rate=back_rate[order],
        slow_rate=slow_rate[order],
        slow_seconds=slow_s,
        contacts=contacts,
        errors=error_names,
        n_errors=n_errors,
        near_error=near[order],
        near_error_rate=near_rate[order],
        error_lift=lift[order],
    )


def _error_proximity(
    log: InteractionLog,
    codes: IntArray,
    k: int,
    errors: Sequence[Step],
    max_steps: int | None,
    max_us: int | None,
) -> tuple[tuple[str, ...], int, IntArray, FloatArray, FloatArray]:
    """Per label: non-error events near a later error, their rate and lift."""
    if isinstance(errors, str):
        errors = (errors,)
    names = tuple(e if isinstance(e, str) else f"{e[0]}={e[1]}" for e in errors)
    n = len(codes)
    is_error = np.zeros(n, dtype=bool)
    for e in errors:
        is_error |= step_mask(log, e, check=False)  # checked once by friction()
    cust = log.customer_codes.astype(np.int64)
    t = log.timestamps
    rows = np.flatnonzero(~is_error).astype(np.int64)
    nxt = next_occurrence(is_error, cust, rows + 1, cust[rows])
    near_flag = nxt >= 0
    if max_steps is not None:
        near_flag &= nxt - rows <= max_steps
    if max_us is not None:
        near_flag &= t[np.maximum(nxt, 0)] - t[rows] <= max_us
    base = np.bincount(codes[rows], minlength=k)
    near = np.bincount(codes[rows[near_flag]], minlength=k).astype(np.int64)
    rate = np.divide(near, base, out=np.full(k, np.nan), where=base > 0)
    overall = near.sum() / len(rows) if len(rows) else 0.0
    lift = rate / overall if overall > 0 else np.full(k, np.nan)
    return names, int(is_error.sum()), near, rate, lift
