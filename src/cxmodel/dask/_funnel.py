"""Funnels over customer partitions: per-partition counts and time samples, merged in a tree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._time import DurationLike
from cxmodel.dask._common import FAN_IN, GroupKey, check_by, extreme, group_keys, merge_keyed
from cxmodel.dask._steps import StepVocabulary
from cxmodel.dask._whole import map_reduce
from cxmodel.journey import Funnel
from cxmodel.journey._common import quantile_levels, step_list
from cxmodel.journey._funnel import (
    Step,
    check_funnel_options,
    funnel_state,
    split_step,
    warn_open_windows,
)
from cxmodel.journey._funnel import funnel_result as build_funnel
from cxmodel.log import InteractionLog

__all__ = ["FunnelPartial", "funnel", "funnel_partial", "funnel_result"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class FunnelPartial:
    """Mergeable state of :func:`funnel` over some customers.

    ``counts`` are the units reaching each step; ``seconds[k]`` the times to step ``k`` of the
    units reaching it; ``drops[k - 1]`` counts the next kind (or ``"END"``) of the units whose
    furthest step is ``k``; ``by`` the per-step counts of each ``by=`` group, ``groups`` every
    group of the column (reached or not). ``vocabulary`` is what the client checks the steps
    against; ``earliest`` the time of the earliest anchor and ``until`` the end of the
    observation (``None``: none seen). ``merge`` is exact when the two states hold different
    customers.
    """

    counts: IntArray
    seconds: tuple[FloatArray, ...]
    drops: tuple[Counter[str], ...]
    by: dict[GroupKey, IntArray]
    groups: frozenset[GroupKey]
    vocabulary: StepVocabulary
    earliest: int | None = None
    until: int | None = None

    @classmethod
    def empty(cls, n_steps: int) -> FunnelPartial:
        """The identity state of a funnel of ``n_steps`` steps."""
        return cls(
            np.zeros(n_steps, dtype=np.int64),
            tuple(np.zeros(0) for _ in range(n_steps)),
            tuple(Counter() for _ in range(n_steps - 1)),
            {},
            frozenset(),
            StepVocabulary.empty(),
        )

    def merge(self, other: FunnelPartial) -> FunnelPartial:
        """The state of both states' customers: counts add, samples concatenate."""
        return FunnelPartial(
            self.counts + other.counts,
            tuple(np.concatenate([a, b]) for a, b in zip(self.seconds, other.seconds, strict=True)),
            tuple(a + b for a, b in zip(self.drops, other.drops, strict=True)),
            merge_keyed(self.by, other.by, np.add),
            self.groups | other.groups,
            self.vocabulary.merge(other.vocabulary),
            extreme(min, self.earliest, other.earliest),
            extreme(max, self.until, other.until),
        )


def funnel_partial(
    log: InteractionLog | None,
    steps: tuple[Step, ...],
    exclude: tuple[Step, ...] | None,
    options: dict[str, Any],
    by: str | None,
) -> FunnelPartial:
    """One partition's :class:`FunnelPartial` from the one-process per-unit state."""
    n_steps = len(steps)
    if log is None:
        return FunnelPartial.empty(n_steps)
    state = funnel_state(log, steps, exclude=exclude, by=by, check=False, **options)
    lev, secs = state.level, state.seconds
    counts = np.array([(lev >= k + 1).sum() for k in range(n_steps)], dtype=np.int64)
    seconds = tuple(secs[k][~np.isnan(secs[k])] for k in range(n_steps))
    labels = [str(x) for x in state.labels_end.tolist()]
    drops = []
    for k in range(1, n_steps):
        c = np.bincount(state.next_code[lev == k], minlength=len(labels))
        drops.append(Counter({labels[i]: int(c[i]) for i in np.flatnonzero(c).tolist()}))
    grouped: dict[GroupKey, IntArray] = {}
    groups: frozenset[GroupKey] = frozenset()
    if state.by_labels is not None and state.segment is not None:
        keys = group_keys(state.by_labels)
        groups = frozenset(keys)
        per_step = np.stack(
            [np.bincount(state.segment[lev >= k + 1], minlength=len(keys)) for k in range(n_steps)],
            axis=1,
        ).astype(np.int64)
        grouped = {keys[g]: per_step[g] for g in np.flatnonzero(per_step[:, 0]).tolist()}
    vocabulary = StepVocabulary.of(log, [*steps, *(exclude or ())])
    return FunnelPartial(
        counts,
        seconds,
        tuple(drops),
        grouped,
        groups,
        vocabulary,
        state.earliest,
        state.log.observed_until,
    )


def funnel(
    data: Any,
    steps: Sequence[Step],
    *,
    order: str = "loose",
    window: DurationLike | None = None,
    step_windows: Sequence[DurationLike | None] | None = None,
    exclude: Sequence[Step] | None = None,
    hold: str | None = None,
    count: str = "customers",
    by: str | None = None,
    quantiles: tuple[float, ...] = (0.5, 0.9),
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    fan_in: int = FAN_IN,
) -> Funnel:
    """:func:`cxmodel.journey.funnel` over a Dask DataFrame or :class:`CustomerPartitions`.

    Each customer partition runs the one-process matching (every attempt stays within one
    customer) and keeps a small :class:`FunnelPartial`: units reaching each step, the seconds
    to each step of those units, the next kinds after a drop-off and the per-group counts of
    ``by``. The partials are merged in a tree of ``fan_in`` (counts add, samples concatenate)
    and the result is built once on the client, with exact quantiles of the merged samples.
    The steps are checked against the kinds and values of all partitions together. The result
    equals the one-process funnel for every ``order``, ``count``, window, exclusion, ``hold``
    and ``by``. ``by`` must be a column name and ``segment`` is not taken: filter the frame
    first.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, or the logs of :func:`from_dask`.
    steps, order, window, step_windows, exclude, hold, count, quantiles
        As in :func:`cxmodel.journey.funnel`.
    by : str, optional
        Column whose value at the anchoring event breaks the counts down.
    mapping, timezone : optional
        As in :func:`from_dask`, when ``data`` is a frame.
    fan_in : int, default 8
        Inputs per merge task.

    Returns
    -------
    Funnel

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "kind": ["view", "search", "purchase", "view", "search"],
    ...     "timestamp": pd.to_datetime([0, 10, 20, 0, 5], unit="s", utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     f = cxd.funnel(dd.from_pandas(frame, npartitions=2), ["view", "search", "purchase"])
    >>> f.counts.tolist(), f.time_to_step[0].tolist()
    ([2, 2, 1], [0.0, 7.5, 20.0])
    """
    steps = tuple(step_list(steps, "cxmodel.dask.funnel()", "steps", ordered=True))
    quantiles = quantile_levels(quantiles, "cxmodel.dask.funnel()", "quantiles")
    check_funnel_options(steps, order, count, step_windows, exclude)
    check_by(by, "cxmodel.dask.funnel()")
    for step in (*steps, *(exclude or ())):
        split_step(step)
    options = {
        "order": order,
        "window": window,
        "step_windows": None if step_windows is None else list(step_windows),
        "hold": hold,
        "count": count,
    }
    n_steps = len(steps)
    state = map_reduce(
        data,
        funnel_partial,
        FunnelPartial.merge,
        (steps, None if exclude is None else tuple(exclude), options, by),
        mapping=mapping,
        timezone=timezone,
        fan_in=fan_in,
        feature="cxmodel.dask.funnel()",
        by=by,
    )
    state = state if state is not None else FunnelPartial.empty(n_steps)
    state.vocabulary.require(steps)  # typos raise as the one-process step masks raise them
    state.vocabulary.check(steps, argument="funnel() steps", meaning="no unit reaches that step")
    if exclude:
        state.vocabulary.check(exclude, argument="funnel() exclude", meaning=None)
    warn_open_windows(window, state.counts, state.earliest, state.until)
    return funnel_result(state, steps, by is not None, quantiles)


def funnel_result(
    state: FunnelPartial, steps: tuple[Step, ...], by: bool, quantiles: tuple[float, ...]
) -> Funnel:
    """The :class:`~cxmodel.journey.Funnel` of a merged state (``by``: whether it was asked)."""
    n_steps = len(steps)
    labels_end = [*sorted(state.vocabulary.kinds), "END"]
    rank = {label: i for i, label in enumerate(labels_end)}
    drops = tuple(
        dict(sorted(c.items(), key=lambda item: (-item[1], rank[item[0]])))
        for c in (Counter({k: n for k, n in d.items() if n > 0}) for d in state.drops)
    )
    by_labels = by_counts = None
    if by:
        keys = sorted(state.groups)
        by_labels = np.array([label for _, label in keys], dtype=object)
        by_counts = np.zeros((len(keys), n_steps), dtype=np.int64)
        for g, key in enumerate(keys):
            if key in state.by:
                by_counts[g] = state.by[key]
    names = tuple(s if isinstance(s, str) else f"{s[0]}={s[1]}" for s in steps)
    return build_funnel(names, state.counts, state.seconds, quantiles, drops, by_labels, by_counts)
