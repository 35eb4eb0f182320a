"""Step matrices: what share of customers is at each event label, step by step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, positive_integer
from cxmodel._result import Result
from cxmodel.errors import SchemaError
from cxmodel.journey._common import level_codes, row_mask
from cxmodel.journey._funnel import Step, check_steps, step_mask
from cxmodel.journey._groups import By, Grouped, by_codes, first_rows, unit_masks
from cxmodel.journey._transitions import END, START

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = [
    "ANCHOR_ABSENT",
    "StepMatrix",
    "anchored_groups",
    "check_steps_argument",
    "step_counts",
    "step_matrix",
]

IntArray = npt.NDArray[np.int64]
ANCHOR_ABSENT = "no customer is anchored and every count is 0 (n_units 0)"
"""What an anchor that does not occur in the log does to a step matrix (its warning)."""


@attrs.frozen(eq=False, repr=False)
class StepMatrix(Grouped["StepMatrix"], Result):
    """Result of :func:`step_matrix`.

    Attributes
    ----------
    labels : ndarray of str
        Row labels: the level's values, then ``"START"`` (before the first event; only
        with an anchor) and ``"END"`` (after the last event).
    steps : ndarray of int64
        Column step numbers: ``1..steps`` without an anchor, ``-steps..steps`` with one
        (0 is the anchor event).
    counts : ndarray of int64, shape (K, S)
        Units at each label at each step.
    shares : ndarray of float64, shape (K, S)
        ``counts / n_units``; each column sums to 1.
    n_units : int
        Customers counted (with an anchor: those having the anchor event).
    by_labels : ndarray or None
        Group labels with ``by=``.
    groups : tuple of StepMatrix or None
        One result per group (same labels and steps), with ``by=``.
    """

    labels: npt.NDArray[np.object_]
    steps: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]
    shares: npt.NDArray[np.float64]
    n_units: int

    _frame_index = "label"

    def _rows(self) -> dict[Any, Any]:
        """Shares: one row per label, one column per step."""
        return {"label": self.labels, **dict(zip(self.steps.tolist(), self.shares.T, strict=True))}

    def to_dict(self) -> dict[str, Any]:
        """Labels, steps and the share matrix as nested lists."""
        return {
            "labels": self.labels.tolist(),
            "steps": self.steps.tolist(),
            "counts": self.counts.tolist(),
            "shares": self.shares.tolist(),
            "n_units": self.n_units,
        }

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a heatmap of the share of customers at each label and step (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_step_matrix`.
        """
        from cxmodel.plot import plot_step_matrix

        return plot_step_matrix(self, ax, **kwargs)


def step_matrix(
    log: InteractionLog,
    *,
    anchor: Step | None = None,
    steps: int = 10,
    level: str = "kind",
    by: By | None = None,
    segment: npt.ArrayLike | None = None,
) -> StepMatrix:
    """Share of customers at each label, step by step.

    Without ``anchor`` step ``s`` is each customer's ``s``-th event in log order. With an
    ``anchor`` (a kind or ``(column, value)``), step 0 is the customer's *first* anchor
    event and step ``s`` the event ``s`` positions after it (negative: before it);
    customers without the anchor are left out. Positions past the journey's end are
    ``"END"``, before its start ``"START"``. An anchor kind that is neither in the log nor
    a standard kind raises :class:`~cxmodel.errors.SchemaError` with a did-you-mean; one
    (or a ``(column, value)``) that never occurs in the log warns
    (:class:`~cxmodel.errors.DataWarning`), as the matrix is then empty.

    With ``by`` (a column name, one value per row in log order, or one per customer) each
    customer belongs to the group of the event that anchors them: their first anchor event,
    or their first event without an anchor; ``groups`` holds one matrix per group.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    anchor : str or (column, value), optional
        The event that is step 0; without it steps count from each customer's first event.
    steps : int, default 10
        Steps on each side of the anchor (from 1 without one).
    level : str, default "kind"
        The string column whose values are the labels.
    by : str or array, optional
        Breakdown: a column name, one value per row (log order) or per customer; results in
        ``groups``.
    segment : bool array, optional
        Keep only these rows before counting.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"],
    ...     timestamp=[0, 1, 0], kind=["view", "purchase", "view"])
    >>> m = step_matrix(log, steps=2)
    >>> m.labels.tolist(), m.counts.tolist()
    (['purchase', 'view', 'END'], [[0, 1], [2, 0], [0, 1]])
    >>> step_matrix(log, steps=2, by=["x", "y"]).group("y").counts.tolist()
    [[0, 0], [1, 0], [0, 1]]
    """
    log = interaction_log(log, "step_matrix()")
    steps = check_steps_argument(steps, "step_matrix()")
    if anchor is not None:
        # a misspelt anchor kind raises with a did-you-mean, an absent one warns
        check_steps(log, [anchor], argument="step_matrix() anchor", meaning=ANCHOR_ABSENT)
    mask = row_mask(log, segment)
    row_groups = by_codes(log, by) if by is not None else None
    if mask is not None:
        log = log.filter(mask)
    result = step_counts(log, anchor, steps, level)
    if row_groups is None:
        return result
    codes, labels = row_groups
    if mask is not None:
        codes = codes[mask]
    present, masks = anchored_groups(log, codes, labels, anchor)
    groups = tuple(step_counts(log.filter(m), anchor, steps, level) for m in masks)
    return attrs.evolve(result, by_labels=present, groups=groups)


#: The most steps a step matrix shows (on each side of an anchor): a column per step.
MAX_STEPS = 10_000


def check_steps_argument(steps: int, where: str) -> int:
    """``steps`` as an int (numpy integers taken); SchemaError unless a positive integer of at
    most :data:`MAX_STEPS`."""
    steps = positive_integer(steps, where, "steps")
    if steps > MAX_STEPS:
        raise SchemaError(
            f"{where}: steps={steps:,} is more columns than a step matrix shows (at most "
            f"{MAX_STEPS:,}); past a customer's last event every column is END"
        )
    return steps


def anchored_groups(
    log: InteractionLog, codes: IntArray, labels: npt.NDArray[np.object_], anchor: Step | None
) -> tuple[npt.NDArray[np.object_], list[npt.NDArray[np.bool_]]]:
    """The groups with customers and their row masks: a customer belongs to the group of the
    event that anchors them (their first anchor event, or their first event)."""
    cust = log.customer_codes.astype(np.int64)
    if anchor is None:
        base = first_rows(cust)
    else:
        hits = np.flatnonzero(step_mask(log, anchor, check=False)).astype(np.int64)
        base = hits[first_rows(cust[hits])] if len(hits) else hits
    return unit_masks(codes, labels, cust, base)


def step_counts(log: InteractionLog, anchor: Step | None, steps: int, level: str) -> StepMatrix:
    """The step matrix of one log (no segment, no breakdown; the anchor is checked already)."""
    codes, cats = level_codes(log, level)
    offsets = log.offsets.astype(np.int64)
    starts, stops = offsets[:-1], offsets[1:]
    if anchor is None:
        base = starts[stops > starts]
        lo, hi = starts[stops > starts], stops[stops > starts]
        numbers = np.arange(1, steps + 1, dtype=np.int64)
        shift = numbers - 1
        labels = np.concatenate([cats, np.array([END], dtype=object)])
    else:
        hits = np.flatnonzero(step_mask(log, anchor, check=False))
        cust = log.customer_codes[hits]
        first = np.ones(len(hits), dtype=bool)
        first[1:] = cust[1:] != cust[:-1]
        base = hits[first].astype(np.int64)
        lo, hi = starts[cust[first]], stops[cust[first]]
        numbers = np.arange(-steps, steps + 1, dtype=np.int64)
        shift = numbers
        labels = np.concatenate([cats, np.array([START, END], dtype=object)])
    k = len(labels)
    end_code = k - 1
    start_code = k - 2
    counts = np.zeros((k, len(numbers)), dtype=np.int64)
    for j, s in enumerate(shift.tolist()):
        row = base + s
        inside = (row >= lo) & (row < hi)
        code = np.where(inside, codes[np.clip(row, 0, max(len(codes) - 1, 0))], end_code)
        code = np.where(row < lo, start_code, code)
        counts[:, j] = np.bincount(code, minlength=k)
    n_units = len(base)
    shares = counts / n_units if n_units else np.zeros(counts.shape)
    return StepMatrix(labels=labels, steps=numbers, counts=counts, shares=shares, n_units=n_units)
