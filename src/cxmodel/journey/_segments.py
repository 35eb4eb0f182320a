"""Two-segment comparisons of transitions, step matrices, paths and friction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log, positive_integer
from cxmodel._result import Result
from cxmodel._stats import newcombe_bounds
from cxmodel.journey._common import segment_masks
from cxmodel.journey._friction import Friction, friction
from cxmodel.journey._paths import Paths, paths
from cxmodel.journey._step_matrix import StepMatrix, step_matrix
from cxmodel.journey._transitions import Transitions, transitions

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = [
    "Comparison",
    "compare_friction",
    "compare_paths",
    "compare_step_matrices",
    "compare_transitions",
]

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@attrs.frozen(eq=False, repr=False)
class Comparison(Generic[T], Result):
    """A view run on two segments, with per-item differences of one proportion.

    Rows are the items of the view (edges, cells, variants or labels) present in either
    segment, largest absolute difference first (ties in item order).

    Attributes
    ----------
    a, b : result
        The view on segment A and on segment B.
    measure : str
        The proportion compared, e.g. ``"p_next"`` or ``"exit_rate"``.
    keys : dict of str to list
        Columns naming each row's item.
    x_a, n_a, x_b, n_b : ndarray of int64
        Numerator and denominator of the proportion in each segment.
    estimate_a, estimate_b : ndarray of float64
        ``x / n`` (NaN when ``n`` is 0).
    difference : ndarray of float64
        ``estimate_a - estimate_b``.
    low, high : ndarray of float64
        95% Newcombe hybrid score interval of the difference.
    """

    a: T
    b: T
    measure: str
    keys: dict[str, list[Any]]
    x_a: IntArray
    n_a: IntArray
    x_b: IntArray
    n_b: IntArray
    estimate_a: FloatArray
    estimate_b: FloatArray
    difference: FloatArray
    low: FloatArray
    high: FloatArray

    @property
    def significant(self) -> npt.NDArray[np.bool_]:
        """Rows whose interval excludes 0."""
        out: npt.NDArray[np.bool_] = (self.low > 0) | (self.high < 0)
        return out

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per item."""
        m = self.measure
        return {
            **self.keys,
            "x_a": self.x_a.tolist(),
            "n_a": self.n_a.tolist(),
            "x_b": self.x_b.tolist(),
            "n_b": self.n_b.tolist(),
            f"{m}_a": self.estimate_a.tolist(),
            f"{m}_b": self.estimate_b.tolist(),
            "difference": self.difference.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
        }

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a forest plot of the largest differences with intervals (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_journey_comparison`.
        """
        from cxmodel.plot import plot_journey_comparison

        return plot_journey_comparison(self, ax, **kwargs)


def _build(
    a: T,
    b: T,
    measure: str,
    keys: dict[str, list[Any]],
    counts: tuple[npt.ArrayLike, npt.ArrayLike, npt.ArrayLike, npt.ArrayLike],
) -> Comparison[T]:
    x_a, n_a, x_b, n_b = (np.asarray(c, dtype=np.int64) for c in counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        est_a = np.where(n_a > 0, x_a / np.maximum(n_a, 1), np.nan)
        est_b = np.where(n_b > 0, x_b / np.maximum(n_b, 1), np.nan)
    diff = est_a - est_b
    low, high = newcombe_bounds(x_a, n_a, x_b, n_b)
    order = np.argsort(-np.nan_to_num(np.abs(diff), nan=-1.0), kind="stable")
    return Comparison(
        a=a,
        b=b,
        measure=measure,
        keys={k: [v[i] for i in order.tolist()] for k, v in keys.items()},
        x_a=x_a[order],
        n_a=n_a[order],
        x_b=x_b[order],
        n_b=n_b[order],
        estimate_a=est_a[order],
        estimate_b=est_b[order],
        difference=diff[order],
        low=low[order],
        high=high[order],
    )


class _Cells(Protocol):
    """A view whose result is a matrix of counts (rows x columns)."""

    @property
    def counts(self) -> IntArray: ...


C = TypeVar("C", bound=_Cells)


def _compare_cells(
    a: C,
    b: C,
    measure: str,
    rows: tuple[str, npt.NDArray[Any]],
    columns: tuple[str, npt.NDArray[Any]],
    trials: tuple[IntArray, IntArray],
) -> Comparison[C]:
    """Compare two count matrices cell by cell: each non-zero cell of either is a row, its
    count the successes and its matrix row's entry of ``trials`` (per segment) the trials.

    ``rows`` and ``columns`` name the matrix rows and columns and hold their labels.
    """
    i, j = np.nonzero(a.counts + b.counts)
    keys = {rows[0]: rows[1][i].tolist(), columns[0]: columns[1][j].tolist()}
    counts = (a.counts[i, j], trials[0][i], b.counts[i, j], trials[1][i])
    return _build(a, b, measure, keys, counts)


def compare_transitions(
    log: InteractionLog, segment_a: npt.ArrayLike, segment_b: npt.ArrayLike, **options: Any
) -> Comparison[Transitions]:
    """Compare ``P(next | current)`` edge by edge between two row masks.

    For edge ``i -> j`` the proportion is ``counts[i, j] / counts[i].sum()`` in each
    segment (the transitions out of ``i`` are the trials). ``options`` go to
    :func:`transitions`.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    segment_a, segment_b : bool array
        Row masks of the log (one value per row, log order) selecting the two segments.
    **options
        Passed to :func:`transitions` (``segment`` excepted).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b", "b"],
    ...     timestamp=[0, 1, 0, 1], kind=["view", "purchase", "view", "view"])
    >>> c = compare_transitions(log, log.customer_codes == 0, log.customer_codes == 1,
    ...     start_end=False)
    >>> c.keys["source"], c.keys["target"], c.difference.tolist()
    (['view', 'view'], ['purchase', 'view'], [1.0, -1.0])
    """
    log = interaction_log(log, "compare_transitions()")
    ta, tb = (
        transitions(log, segment=m, **options)
        for m in segment_masks(
            log, segment_a, segment_b, options, transitions, where="compare_transitions()"
        )
    )
    trials = (ta.counts.sum(axis=1), tb.counts.sum(axis=1))
    return _compare_cells(ta, tb, "p_next", ("source", ta.labels), ("target", ta.labels), trials)


def compare_step_matrices(
    log: InteractionLog, segment_a: npt.ArrayLike, segment_b: npt.ArrayLike, **options: Any
) -> Comparison[StepMatrix]:
    """Compare the share of units at each label and step between two row masks.

    For cell (label, step) the proportion is ``counts / n_units``. ``options`` go to
    :func:`step_matrix`.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    segment_a, segment_b : bool array
        Row masks of the log (one value per row, log order) selecting the two segments.
    **options
        Passed to :func:`step_matrix` (``segment`` excepted).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b"], timestamp=[0, 0],
    ...     kind=["view", "search"])
    >>> c = compare_step_matrices(log, log.customer_codes == 0, log.customer_codes == 1,
    ...     steps=1)
    >>> sorted(zip(c.keys["label"], c.difference.tolist()))
    [('search', -1.0), ('view', 1.0)]
    """
    log = interaction_log(log, "compare_step_matrices()")
    ma, mb = (
        step_matrix(log, segment=m, **options)
        for m in segment_masks(
            log, segment_a, segment_b, options, step_matrix, where="compare_step_matrices()"
        )
    )
    trials = (np.full(len(ma.labels), ma.n_units), np.full(len(mb.labels), mb.n_units))
    return _compare_cells(ma, mb, "share", ("label", ma.labels), ("step", ma.steps), trials)


def compare_paths(
    log: InteractionLog,
    segment_a: npt.ArrayLike,
    segment_b: npt.ArrayLike,
    *,
    top: int = 20,
    **options: Any,
) -> Comparison[Paths]:
    """Compare the share of units following each variant between two row masks.

    Rows are the union of the ``top`` variants of each segment; the proportion is the
    variant's units over the segment's units (a variant absent from a segment counts 0
    there). ``options`` go to :func:`paths`; ``a`` and ``b`` hold every variant.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    segment_a, segment_b : bool array
        Row masks of the log (one value per row, log order) selecting the two segments.
    top : int, default 20
        Variants kept from each segment; the rows are the union of both segments' ``top``.
    **options
        Passed to :func:`paths` (``segment`` and ``top`` excepted).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "c"], timestamp=[0, 0, 0],
    ...     kind=["view", "view", "search"])
    >>> c = compare_paths(log, log.customer_codes < 2, log.customer_codes == 2)
    >>> c.keys["path"], c.difference.tolist()
    (['view', 'search'], [1.0, -1.0])
    """
    log = interaction_log(log, "compare_paths()")
    top = positive_integer(top, "compare_paths()", "top")
    mask_a, mask_b = segment_masks(
        log, segment_a, segment_b, options, paths, where="compare_paths()", sets=["top"]
    )
    everything = max(len(log), 1)
    pa = paths(log, segment=mask_a, top=everything, **options)
    pb = paths(log, segment=mask_b, top=everything, **options)
    count_a = dict(zip(pa.paths, pa.counts.tolist(), strict=True))
    count_b = dict(zip(pb.paths, pb.counts.tolist(), strict=True))
    chosen = list(dict.fromkeys([*pa.paths[:top], *pb.paths[:top]]))
    keys = {"path": [" > ".join(p) for p in chosen]}
    counts = (
        [count_a.get(p, 0) for p in chosen],
        [pa.n_units] * len(chosen),
        [count_b.get(p, 0) for p in chosen],
        [pb.n_units] * len(chosen),
    )
    return _build(pa, pb, "share", keys, counts)


def compare_friction(
    log: InteractionLog, segment_a: npt.ArrayLike, segment_b: npt.ArrayLike, **options: Any
) -> Comparison[Friction]:
    """Compare exit rates (P(journey ends | event)) label by label between two row masks.

    Both segments use one slow threshold, that of the two segments together, unless
    ``slow_seconds`` is given. ``options`` go to :func:`friction`.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    segment_a, segment_b : bool array
        Row masks of the log (one value per row, log order) selecting the two segments.
    **options
        Passed to :func:`friction` (``segment`` excepted).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b", "b"],
    ...     timestamp=[0, 1, 0, 1], kind=["view", "search", "search", "view"])
    >>> c = compare_friction(log, log.customer_codes == 0, log.customer_codes == 1, errors=())
    >>> dict(zip(c.keys["label"], c.difference.tolist()))
    {'search': 1.0, 'view': -1.0}
    """
    log = interaction_log(log, "compare_friction()")
    mask_a, mask_b = segment_masks(
        log, segment_a, segment_b, options, friction, where="compare_friction()"
    )
    if options.get("slow_seconds") is None:
        both = friction(log, segment=mask_a | mask_b, **options)
        if np.isfinite(both.slow_seconds):
            options = {**options, "slow_seconds": both.slow_seconds}
    fa = friction(log, segment=mask_a, **options)
    fb = friction(log, segment=mask_b, **options)
    labels = sorted(set(fa.labels.tolist()) | set(fb.labels.tolist()))
    pos_a = {lab: i for i, lab in enumerate(fa.labels.tolist())}
    pos_b = {lab: i for i, lab in enumerate(fb.labels.tolist())}

    def pick(values: IntArray, pos: dict[str, int]) -> list[int]:
        return [int(values[pos[lab]]) if lab in pos else 0 for lab in labels]

    counts = (
        pick(fa.exits, pos_a),
        pick(fa.events, pos_a),
        pick(fb.exits, pos_b),
        pick(fb.events, pos_b),
    )
    return _build(fa, fb, "exit_rate", {"label": labels}, counts)
