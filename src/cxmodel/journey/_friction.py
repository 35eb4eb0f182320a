"""Friction points: exits, self-loops, back-tracks, slow transitions and repeated contacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional
from cxmodel._time import DurationLike
from cxmodel.errors import SchemaError
from cxmodel.journey._common import (
    level_codes,
    next_occurrence,
    row_mask,
    table_html,
    value_codes,
    window_us,
)

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["Friction", "friction"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CONTACT_KINDS = ("ticket_opened", "call", "chat")


@attrs.frozen(eq=False)
class Friction:
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
        Among events followed by another event: share followed by the same label.
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

    def _columns(self) -> dict[str, Any]:
        return {
            "label": self.labels.tolist(),
            "events": self.events.tolist(),
            "exits": self.exits.tolist(),
            "exit_rate": self.exit_rate.tolist(),
            "self_loop_rate": self.self_loop_rate.tolist(),
            "backtrack_rate": self.backtrack_rate.tolist(),
            "slow_rate": self.slow_rate.tolist(),
        }

    def to_dict(self) -> dict[str, Any]:
        """Per-label columns, the slow threshold and repeated contacts."""
        return {**self._columns(), "slow_seconds": self.slow_seconds, "contacts": self.contacts}

    def to_pandas(self) -> Any:
        """One row per label, in rank order."""
        pd = import_optional("pandas", "Friction.to_pandas()")
        return pd.DataFrame(self._columns())

    def _repr_html_(self) -> str:
        return table_html("Friction", self._columns())


def friction(
    log: InteractionLog,
    *,
    level: str = "kind",
    contact_kinds: Sequence[str] = CONTACT_KINDS,
    repeat_key: str | None = None,
    repeat_window: DurationLike = "7d",
    slow_quantile: float = 0.95,
    segment: npt.ArrayLike | None = None,
) -> Friction:
    """Rank friction points.

    Labels are ranked by number of exits, then by exit rate, then by label. Journeys are
    customers; "next" is the next event of the customer in log order.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a", "b"],
    ...     timestamp=[0, 1, 2, 0], kind=["view", "search", "search", "search"])
    >>> f = friction(log)
    >>> f.labels.tolist(), f.exits.tolist(), f.self_loop_rate.tolist()
    (['search', 'view'], [2, 0], [1.0, 0.0])
    """
    if not 0.0 < slow_quantile < 1.0:
        raise SchemaError(f"slow_quantile={slow_quantile!r}; expected a number in (0, 1)")
    win = window_us(repeat_window, "repeat_window")
    assert win is not None
    mask = row_mask(log, segment)
    if mask is not None:
        log = log.filter(mask)
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
    slow_s = float(np.quantile(gaps, slow_quantile)) if len(gaps) else float("nan")
    slow = gaps > slow_s

    def rate(flags: npt.NDArray[np.bool_]) -> FloatArray:
        hit = np.bincount(src[flags], minlength=k).astype(np.float64)
        return np.divide(hit, followed, out=np.zeros(k), where=followed > 0)

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
    present = events > 0
    order = np.lexsort((labels, -exit_rate, -exits))
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
    )
