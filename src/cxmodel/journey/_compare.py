"""Compare one funnel between two segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import interaction_log
from cxmodel._result import Result
from cxmodel._stats import newcombe_bounds
from cxmodel.journey._common import segment_masks, step_list
from cxmodel.journey._funnel import Funnel, Step, funnel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log import InteractionLog

__all__ = ["FunnelComparison", "compare_funnels"]


@attrs.frozen(eq=False, repr=False)
class FunnelComparison(Result):
    """Result of :func:`compare_funnels`.

    Attributes
    ----------
    a, b : Funnel
        The funnel on each segment.
    difference : ndarray of float64
        ``a.conversion - b.conversion`` per step.
    low, high : ndarray of float64
        95% Newcombe hybrid score interval of the difference (NaN when a segment is empty).
    """

    a: Funnel
    b: Funnel
    difference: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]

    _dict_lists = True

    def _rows(self) -> dict[Any, Any]:
        """One row per step."""
        return {
            "step": list(self.a.steps),
            "count_a": self.a.counts.tolist(),
            "count_b": self.b.counts.tolist(),
            "conversion_a": self.a.conversion.tolist(),
            "conversion_b": self.b.conversion.tolist(),
            "difference": self.difference.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
        }

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a forest plot of the conversion differences with intervals (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_funnel_comparison`.
        """
        from cxmodel.plot import plot_funnel_comparison

        return plot_funnel_comparison(self, ax, **kwargs)


def compare_funnels(
    log: InteractionLog,
    steps: Sequence[Step],
    segment_a: npt.ArrayLike,
    segment_b: npt.ArrayLike,
    **options: Any,
) -> FunnelComparison:
    """Run :func:`funnel` on two row masks and compare conversion step by step.

    ``options`` are passed to :func:`funnel` (not ``segment``).

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    steps : sequence of str or (column, value)
        The funnel's steps, as :func:`funnel` takes them.
    segment_a, segment_b : bool array
        Row masks of the log (one value per row, log order) selecting the two segments.
    **options
        Passed to :func:`funnel` (``segment`` excepted).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> c = compare_funnels(log, ["view", "purchase"], log.customer_codes == 0,
    ...     log.customer_codes == 1)
    >>> c.difference.tolist()
    [0.0, 1.0]
    """
    log = interaction_log(log, "compare_funnels()")
    steps = step_list(steps, "compare_funnels()", "steps", ordered=True)
    mask_a, mask_b = segment_masks(
        log, segment_a, segment_b, options, funnel, where="compare_funnels()", sets=["steps"]
    )
    fa = funnel(log, steps, segment=mask_a, **options)
    fb = funnel(log, steps, segment=mask_b, **options)
    n_a, n_b = int(fa.counts[0]), int(fb.counts[0])
    low, high = newcombe_bounds(fa.counts, n_a, fb.counts, n_b)
    return FunnelComparison(
        a=fa, b=fb, difference=fa.conversion - fb.conversion, low=low, high=high
    )
