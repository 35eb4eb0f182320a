"""Plots of the segmentation results: the RFM segment map and group contrasts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import integer, of_type
from cxmodel.errors import SchemaError
from cxmodel.plot._style import (
    LIGHT,
    artist_options,
    axes,
    closes_on_error,
    count,
    finish,
    forest,
    percent,
    plain,
    require,
    rows_figsize,
)
from cxmodel.segment import Contrast, RFMScores, RFMSegments

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_contrast", "plot_rfm_segments"]


def _rf_grid(segments: RFMSegments) -> tuple[npt.NDArray[np.int64], bool]:
    """Rule index per (r, f) cell: the rule of the cell when it does not depend on m, else the
    rule most of the m scores give (and a flag saying so)."""
    sm = segments.segment_map
    n = sm.n_bins
    r, f, m = np.meshgrid(*(np.arange(1, n + 1),) * 3, indexing="ij")
    names = sm.assign(r.ravel(), f.ravel(), m.ravel()).reshape(n, n, n)
    index = {name: i for i, name in enumerate(sm.names)}
    codes = np.vectorize(index.__getitem__, otypes=[np.int64])(names)
    grid = np.zeros((n, n), dtype=np.int64)
    varies = False
    for i in range(n):
        for j in range(n):
            cell = codes[i, j]
            grid[i, j] = int(np.bincount(cell).argmax())
            varies |= bool((cell != cell[0]).any())
    return grid, varies


@closes_on_error
def plot_rfm_segments(
    segments: RFMSegments,
    ax: Axes | None = None,
    *,
    scores: RFMScores | None = None,
    title: str | None = "RFM segments",
    **kwargs: Any,
) -> Axes:
    """The R x F grid of the segment map: each segment's cells, name and customer count.

    Recency score runs up (most recent at the top), frequency score to the right. Each segment
    is labelled once, with its customers and their share. Pass the ``scores`` the segments
    came from to write the number of customers in every cell as well.

    Parameters
    ----------
    segments : RFMSegments
    ax : matplotlib Axes, optional
    scores : RFMScores, optional
        The scores given to :func:`~cxmodel.segment.rfm_segments`, for per-cell counts.
    title : str, optional
    **kwargs
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cxmodel.segment import RFMScores, rfm_segments
    >>> one = np.array([1, 5])
    >>> s = RFMScores(np.array(["a", "b"], dtype=object), np.zeros(2), one, np.zeros(2),
    ...               r=np.array([5, 1]), f=np.array([5, 1]), m=one, n_bins=5, as_of=0)
    >>> ax = plot_rfm_segments(rfm_segments(s))
    >>> sorted(t.get_text().split("\\n")[0] for t in ax.texts)[:2]
    ['About to Sleep', 'At Risk']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    scores = (
        None
        if scores is None
        else of_type(
            scores,
            RFMScores,
            "plot_rfm_segments()",
            "scores",
            "RFMScores (from cxmodel.segment.rfm_scores)",
        )
    )
    segments = of_type(
        segments,
        RFMSegments,
        "plot_rfm_segments()",
        "segments",
        "RFMSegments (from cxmodel.segment.rfm_segments)",
    )
    sm = segments.segment_map
    n = sm.n_bins
    if scores is not None and scores.n_bins != n:
        raise SchemaError(f"scores have n_bins={scores.n_bins}; the segment map has {n}")
    ax = axes(ax, figsize=(7.5, 6.0))
    colors = require("matplotlib.colors")
    grid, varies = _rf_grid(segments)
    fills = [LIGHT[i % len(LIGHT)] for i in range(len(sm.names))]
    cmap = colors.ListedColormap(fills)
    edges = np.arange(n + 1) + 0.5
    options: dict[str, Any] = {"edgecolors": "white", "linewidth": 2.0}
    ax.pcolormesh(edges, edges, grid, cmap=cmap, vmin=-0.5, vmax=len(fills) - 0.5,
                  **artist_options("pcolormesh", options, kwargs,
                                   set_here=("cmap", "vmin", "vmax")))  # fmt: skip
    totals = segments.counts()
    everyone = max(len(segments), 1)
    rr, ff = np.meshgrid(np.arange(1, n + 1), np.arange(1, n + 1), indexing="ij")
    for k, name in enumerate(sm.names):
        cells = np.argwhere(grid == k)
        if not len(cells):
            continue
        centre = cells.mean(axis=0)
        near = cells[np.argmin(((cells - centre) ** 2).sum(axis=1))]
        r_at, f_at = (centre + 1) if _convex(cells) else (near + 1)
        share = percent(totals.get(name, 0) / everyone)
        text = f"{plain(name)}\n{count(totals.get(name, 0))} ({share})"
        ax.text(float(f_at), float(r_at), text, ha="center", va="center", fontsize=8.5,
                fontweight="bold", color="#222222",
                bbox={"boxstyle": "round,pad=0.25", "fc": "white", "alpha": 0.65, "ec": "none"})  # fmt: skip
    if scores is not None:
        cell_counts = np.zeros((n, n), dtype=np.int64)
        np.add.at(cell_counts, (np.asarray(scores.r) - 1, np.asarray(scores.f) - 1), 1)
        for i, j in zip(rr.ravel().tolist(), ff.ravel().tolist(), strict=True):
            ax.text(j + 0.42, i - 0.38, count(cell_counts[i - 1, j - 1]), ha="right",
                    va="bottom", fontsize=7, color="#444444")  # fmt: skip
    ax.set_xticks(np.arange(1, n + 1))
    ax.set_yticks(np.arange(1, n + 1))
    ax.set_aspect("equal")
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    note = " (segment most common over M scores)" if varies else ""
    return finish(
        ax,
        title=(f"{title}{note}") if title else None,
        xlabel="Frequency score (5 = buys most often)",
        ylabel="Recency score (5 = bought most recently)",
        grid=None,
    )


def _convex(cells: npt.NDArray[np.int64]) -> bool:
    """Whether the cells fill their bounding rectangle (then the centre lies inside)."""
    lo, hi = cells.min(axis=0), cells.max(axis=0)
    return bool(len(cells) == int(np.prod(hi - lo + 1)))


@closes_on_error
def plot_contrast(
    contrast: Contrast,
    ax: Axes | None = None,
    *,
    top: int = 15,
    title: str | None = "What distinguishes group A from group B",
    **kwargs: Any,
) -> Axes:
    """Forest plot of the lifts (A / B) of a :func:`~cxmodel.segment.contrast`, with intervals.

    Each feature is a point at its lift (1 = no difference) on a log scale. The interval is
    the contrast's interval of the difference A - B divided by group B's value, i.e. ``1 +
    [low, high] / b`` (group B's value taken as known). Features with no lift (B is 0) are
    left out; the first ``top`` in the contrast's rank order are drawn. A linear scale is used
    when an interval reaches zero or below.

    Parameters
    ----------
    contrast : Contrast
        From :func:`~cxmodel.segment.contrast`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    top : int, default 15
        Features drawn, in the contrast's rank order.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.scatter`` (the points).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cxmodel.segment import Contrast
    >>> c = Contrast(np.array(["late", "tickets"], dtype=object),
    ...     np.array(["proportion", "mean"], dtype=object), np.array([0.6, 2.0]),
    ...     np.array([0.2, 1.0]), np.array([0.4, 1.0]), np.array([0.3, 0.5]),
    ...     np.array([0.5, 1.5]), np.array([3.0, 2.0]), np.array([0.8, 0.9]), 50, 60)
    >>> ax = plot_contrast(c)
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_yticklabels()]
    ('log', ['late (share)', 'tickets (mean)'])
    >>> matplotlib.pyplot.close(ax.figure)
    """
    top = integer(top, "plot_contrast()", "top", minimum=1)
    contrast = of_type(
        contrast,
        Contrast,
        "plot_contrast()",
        "contrast",
        "a Contrast (from cxmodel.segment.contrast)",
    )
    ax = axes(ax, figsize=rows_figsize(min(top, len(contrast.feature))))
    b = np.asarray(contrast.b, dtype=np.float64)
    lift = np.asarray(contrast.lift, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = 1.0 + np.asarray(contrast.low, dtype=np.float64) / b
        high = 1.0 + np.asarray(contrast.high, dtype=np.float64) / b
    flip = b < 0
    low, high = np.where(flip, high, low), np.where(flip, low, high)
    keep = np.flatnonzero(np.isfinite(lift) & (b != 0))[:top]
    log = bool(len(keep)) and bool(np.all(lift[keep] > 0)) and bool(np.all(low[keep] > 0))
    labels = [
        f"{name} ({'share' if kind == 'proportion' else 'mean'})"
        for name, kind in zip(
            contrast.feature[keep].tolist(), contrast.kind[keep].tolist(), strict=True
        )
    ]
    return forest(
        ax,
        labels,
        lift[keep],
        low[keep],
        high[keep],
        reference=1.0,
        xlabel=f"Group A relative to group B (1 = no difference; A: {contrast.n_a:,}, "
        f"B: {contrast.n_b:,} customers)",
        title=title,
        log=log,
        empty="No feature to show: group B's value is 0 or missing for every feature",
        **kwargs,
    )
