"""Plots of the CX metrics: survival curves, metric tables, cohort retention, drivers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag, integer, of_type, text_value
from cxmodel.errors import SchemaError
from cxmodel.metrics import CohortRetention, Comparison, MetricTable, SurvivalCurve
from cxmodel.plot._style import (
    GREY,
    TICK_WIDTH,
    artist_options,
    axes,
    closes_on_error,
    colour,
    drawable,
    drawn_bound,
    finish,
    forest,
    heatmap,
    legend,
    not_drawn,
    nothing,
    number,
    percent,
    percent_axis,
    percent_texts,
    plain,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_cohort_retention",
    "plot_comparison",
    "plot_drivers",
    "plot_metric_table",
    "plot_survival",
]

T = TypeVar("T")

_PERIOD_WORDS = {"day": "Days", "week": "Weeks", "month": "Months", "quarter": "Quarters"}


def _by_label(value: Any, kind: type[T], label: str, where: str, name: str) -> dict[str, T]:
    """``value``, one ``kind`` of result (given ``label``) or a mapping of label to result, as
    a dict of label to result."""
    expected = f"a {kind.__name__} or a mapping of label to {kind.__name__}"
    value = of_type(value, (kind, Mapping), where, name, expected)
    if isinstance(value, kind):
        return {label: value}
    for key, item in value.items():  # the mapping's values are results too
        of_type(item, kind, where, f"{name}[{key!r}]", f"a {kind.__name__}")
    return dict(value)


@closes_on_error
def plot_survival(
    curve: SurvivalCurve | Mapping[str, SurvivalCurve],
    ax: Axes | None = None,
    *,
    ci: bool = True,
    xlabel: str = "Days",
    ylabel: str = "Share of customers still active",
    title: str | None = "Survival (Kaplan-Meier)",
    **kwargs: Any,
) -> Axes:
    """Kaplan-Meier step curve with its confidence band; several curves with a legend.

    Parameters
    ----------
    curve : SurvivalCurve or mapping of str to SurvivalCurve
        One curve (:func:`~cxmodel.metrics.kaplan_meier`) or the curves of
        :func:`~cxmodel.metrics.kaplan_meier_by`, one line per group.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    ci : bool
        Shade the pointwise confidence band.
    xlabel, ylabel, title : str
        Labels; the x unit is whatever the durations were measured in (days for
        :func:`~cxmodel.metrics.customer_lifetimes`).
    **kwargs
        Passed to ``ax.step`` (e.g. ``linewidth``).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.metrics import kaplan_meier
    >>> ax = plot_survival(kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0]))
    >>> ax.get_ylabel()
    'Share of customers still active'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    curves = _by_label(curve, SurvivalCurve, "", "plot_survival()", "curve")
    ci = flag(ci, "plot_survival()", "ci")
    ax = axes(ax)
    if not curves:
        raise SchemaError("plot_survival() needs at least one curve")
    for i, (name, c) in enumerate(curves.items()):
        times = np.concatenate([[0.0], c.times])
        surv = np.concatenate([[1.0], c.survival])
        shade = colour(i)
        median = f"median {number(c.median)}" if np.isfinite(c.median) else "median not reached"
        label = f"{plain(name)} ({median})" if name else None
        options: dict[str, Any] = {"where": "post", "color": shade, "linewidth": 1.8}
        ax.step(
            times, surv, label=label, **artist_options("step", options, kwargs, set_here=("label",))
        )
        if ci:
            low = np.concatenate([[1.0], c.ci_low])
            high = np.concatenate([[1.0], c.ci_high])
            ax.fill_between(times, low, high, step="post", color=shade, alpha=0.2, linewidth=0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlim(left=0.0)
    if not any(np.any(c.times > 0) for c in curves.values()):  # a step on the frame itself
        nothing(ax, "Every duration is 0: no time to show a curve over")
    percent_axis(ax)
    if len(curves) > 1 or next(iter(curves)):
        legend(ax, frameon=False, fontsize=9)
    return finish(ax, title=title, xlabel=xlabel, ylabel=ylabel)


# ---------------------------------------------------------------------------------------------
# metric tables

_LABELS = {
    ("nps", "value"): "NPS (points, -100 to 100)",
    ("csat", "value"): "Share of satisfied answers (CSAT)",
    ("ces", "value"): "Share finding it easy (CES)",
    ("ces", "mean"): "Mean effort score (CES)",
    ("ticket volume", "tickets"): "Tickets opened",
    ("sentiment", "mean"): "Mean ticket sentiment",
    ("value", "revenue"): "Revenue",
    ("value", "net_revenue"): "Net revenue (after refunds)",
    ("value", "refunds"): "Refunds",
    ("value", "orders"): "Orders",
    ("value", "customers"): "Buying customers",
    ("value", "aov"): "Average order value",
    ("value", "frequency"): "Orders per buying customer",
    ("value", "historical_clv"): "Past spend per buying customer",
}
_SHARES = {("csat", "value"), ("ces", "value")}
_PRIMARY = ("value", "mean", "tickets", "revenue", "difference")


def _value_column(table: MetricTable, value: str | None) -> str:
    if value is not None:
        if value not in table.columns:
            raise SchemaError(f"value={value!r} is not a column of the table: {list(table.names)}")
        return value
    for name in _PRIMARY:
        if name in table.columns:
            return name
    numeric = [n for n in table.names if np.asarray(table[n]).dtype.kind in "fiu"]
    if not numeric:
        raise SchemaError(f"the table {table.name!r} has no numeric column to plot")
    return numeric[-1]


def _interval(table: MetricTable, column: str) -> tuple[Any, Any] | None:
    """The interval columns of ``column``: ``<column>_ci_low`` or, for the first metric
    column, ``ci_low``/``ci_high``."""
    own = (f"{column}_ci_low", f"{column}_ci_high")
    if all(n in table.columns for n in own):
        return table[own[0]], table[own[1]]
    primary = next((n for n in _PRIMARY if n in table.columns), None)
    if column == primary and "ci_low" in table.columns and "ci_high" in table.columns:
        return table["ci_low"], table["ci_high"]
    return None


def _group_column(table: MetricTable) -> str | None:
    for name in table.names:
        if name in ("period", "driver"):
            continue
        if np.asarray(table[name]).dtype.kind in "OUS":
            return name
    return None


@closes_on_error
def plot_metric_table(
    table: MetricTable,
    ax: Axes | None = None,
    *,
    value: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """A metric breakdown: a trend over periods with interval bands, or bars with whiskers.

    With a ``period`` column each group is a line over the periods, its interval shaded;
    otherwise each group is a bar with its interval as a whisker. The experience-driver
    table (:func:`~cxmodel.metrics.experience_drivers`) is drawn by :func:`plot_drivers`.

    Parameters
    ----------
    table : MetricTable
        From ``nps``/``csat``/``ces`` with ``by=`` or ``period=``, ``ticket_volume``,
        ``sentiment_by_topic``, ``value_summary`` or ``experience_drivers``.
    ax : matplotlib Axes, optional
    value : str, optional
        The column to draw (default: ``value``, else ``mean``, ``tickets``, ``revenue``).
    ylabel, title : str, optional
        Override the labels chosen from the table's name.
    **kwargs
        Passed to ``ax.plot`` or ``ax.bar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.metrics import nps
    >>> table = nps([10, 9, 3, 8] * 20, by=["web", "app"] * 40)
    >>> ax = plot_metric_table(table)
    >>> len(ax.patches)
    2
    >>> matplotlib.pyplot.close(ax.figure)
    """
    value = None if value is None else text_value(value, "plot_metric_table()", "value")
    table = of_type(
        table,
        MetricTable,
        "plot_metric_table()",
        "table",
        "a MetricTable (from a metric with by= or period=)",
    )
    if "driver" in table.columns and "difference" in table.columns:
        if title is not None:
            kwargs["title"] = title
        return plot_drivers(table, ax, **kwargs)
    ax = axes(ax)
    if len(table) == 0:
        nothing(ax, "No rows to show: the table is empty")
    column = _value_column(table, value)
    key = (table.name.lower(), column)
    ylabel = ylabel or _LABELS.get(key, plain(column.replace("_", " ").capitalize()))
    share = key in _SHARES
    group = _group_column(table)
    y = np.asarray(table[column], dtype=np.float64)
    bounds = _interval(table, column)
    # a value that is no number, or one beyond what an axis can span, is left out and counted:
    # drawn as 0 it would pass for a measured 0, and near the largest float matplotlib fails
    shown = drawable(y)
    not_drawn(ax, int(np.count_nonzero(~shown)), len(y))
    y = np.where(shown, y, np.nan)
    if bounds is not None:
        bounds = tuple(drawn_bound(np.asarray(b, dtype=np.float64), shown) for b in bounds)
    labels = (
        np.array(["all"], dtype=object).repeat(len(table))
        if group is None
        else np.asarray(table[group]).astype(str)
    )
    names = list(dict.fromkeys(labels.tolist()))
    if "period" in table.columns:
        periods = np.asarray(table["period"]).astype(str)
        ticks = sorted(set(periods.tolist()))
        where = {p: i for i, p in enumerate(ticks)}
        for i, name in enumerate(names):
            sel = np.flatnonzero(labels == name)
            sel = sel[np.argsort(periods[sel], kind="stable")]
            x = np.array([where[p] for p in periods[sel].tolist()], dtype=np.float64)
            shade = colour(i)
            options: dict[str, Any] = {"color": shade, "marker": "o", "markersize": 3.5}
            ax.plot(x, y[sel], label=plain(name) if group else None,
                    **artist_options("plot", options, kwargs, set_here=("label",)))  # fmt: skip
            if bounds is not None:
                lo = np.asarray(bounds[0], dtype=np.float64)[sel]
                hi = np.asarray(bounds[1], dtype=np.float64)[sel]
                ax.fill_between(x, lo, hi, color=shade, alpha=0.18, linewidth=0)
        step = max(1, len(ticks) // 12)
        ax.set_xticks(np.arange(0, len(ticks), step), labels=[plain(t) for t in ticks[::step]])
        ax.tick_params(axis="x", labelrotation=45)
        if group is not None:
            legend(ax, frameon=False, fontsize=9, title=plain(group.replace("_", " ")))
        xlabel = "Period"
    else:
        x = np.arange(len(y), dtype=np.float64)
        err = None
        if bounds is not None:
            lo = np.asarray(bounds[0], dtype=np.float64)
            hi = np.asarray(bounds[1], dtype=np.float64)
            err = np.vstack([np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)])
        options = {"color": colour(0), "width": 0.65}
        ax.bar(x, np.where(shown, y, 0.0), yerr=err, ecolor="black", capsize=3,
               **artist_options("bar", options, kwargs, set_here=("yerr", "ecolor", "capsize")))  # fmt: skip
        sizes = np.asarray(table["n"]).tolist() if "n" in table.columns else [None] * len(y)
        ticks = [
            f"{plain(name, TICK_WIDTH)}\n"
            + ("not drawn" if not math.isfinite(v) else percent(v) if share else number(v))
            + ("" if n is None else f" (n={n:,})")
            for name, v, n in zip(labels.tolist(), y.tolist(), sizes, strict=True)
        ]
        ax.set_xticks(x, labels=ticks)
        if len(x) > 6:
            ax.tick_params(axis="x", labelrotation=45)
        ax.axhline(0, color=GREY, linewidth=0.8)
        xlabel = "" if group in (None, "by") else plain(str(group).replace("_", " ").capitalize())
    if share:
        percent_axis(ax)
    ci_note = " with 95% intervals" if bounds is not None else ""
    default = f"{ylabel}{ci_note}"
    return finish(ax, title=title if title is not None else default, xlabel=xlabel, ylabel=ylabel)


@closes_on_error
def plot_drivers(
    table: MetricTable,
    ax: Axes | None = None,
    *,
    top: int = 15,
    xlabel: str = "Score with the experience minus without (NPS in points)",
    title: str | None = "Experience drivers",
    **kwargs: Any,
) -> Axes:
    """Forest plot of :func:`~cxmodel.metrics.experience_drivers`: the score difference with
    and without each experience, its interval and a zero line.

    Drivers keep the table's order (largest absolute difference first, at the top); only the
    ``top`` first are drawn. These are associations, not causal effects.

    Parameters
    ----------
    table : MetricTable
        From :func:`~cxmodel.metrics.experience_drivers` (``driver``, ``difference``,
        ``ci_low``, ``ci_high``).
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    top : int, default 15
        Drivers drawn, in the table's order.
    xlabel : str
        The label of the difference axis.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.scatter`` (the points).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cxmodel.metrics import MetricTable
    >>> t = MetricTable("experience drivers", {"driver": np.array(["late", "return"], dtype=object),
    ...     "difference": np.array([-30.0, -5.0]), "ci_low": np.array([-45.0, -20.0]),
    ...     "ci_high": np.array([-15.0, 10.0])})
    >>> ax = plot_drivers(t)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['late', 'return']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    top = integer(top, "plot_drivers()", "top", minimum=1)
    table = of_type(
        table,
        MetricTable,
        "plot_drivers()",
        "table",
        "a MetricTable (from cxmodel.metrics.experience_drivers)",
    )
    n = min(top, len(table))
    names = [str(s) for s in np.asarray(table["driver"])[:n].tolist()]
    return forest(
        ax,
        names,
        np.asarray(table["difference"])[:n],
        np.asarray(table["ci_low"])[:n],
        np.asarray(table["ci_high"])[:n],
        xlabel=xlabel,
        title=title,
        empty="No experience drivers: the table has no rows",
        **kwargs,
    )


@closes_on_error
def plot_comparison(
    comparison: Comparison | Mapping[str, Comparison],
    ax: Axes | None = None,
    *,
    xlabel: str = "Difference, A minus B",
    title: str | None = "Comparison with 95% intervals",
    **kwargs: Any,
) -> Axes:
    """Forest plot of :func:`~cxmodel.metrics.compare_nps` / ``compare_proportions`` results.

    ``comparison`` is one result or a mapping of a label to each result (one row each).

    Parameters
    ----------
    comparison : Comparison or mapping of str to Comparison
        One result, or several by label (one row each).
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    xlabel : str, default "Difference, A minus B"
        The label of the difference axis.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.scatter`` (the points).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.metrics import compare_proportions
    >>> ax = plot_comparison({"CSAT web vs app": compare_proportions((170, 200), (150, 200))})
    >>> len(ax.collections) >= 2
    True
    >>> matplotlib.pyplot.close(ax.figure)
    """
    items = _by_label(comparison, Comparison, "A - B", "plot_comparison()", "comparison")
    values = list(items.values())
    return forest(
        ax,
        list(items),
        [c.difference for c in values],
        [c.ci[0] for c in values],
        [c.ci[1] for c in values],
        xlabel=xlabel,
        title=title,
        empty="No comparisons to show",
        **kwargs,
    )


@closes_on_error
def plot_cohort_retention(
    result: CohortRetention,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    max_periods: int | None = None,
    title: str | None = "Cohort retention",
    **kwargs: Any,
) -> Axes:
    """Heatmap of cohort x periods since the first purchase: the share of each cohort active.

    Cells that have not happened yet (NaN) stay blank; each cell is annotated with its
    percentage when at most 40 periods are drawn (``annotate=`` forces either way). Rows are
    labelled with the cohort and its size.
    The colour scale spans the later periods (column 0 is always 100% and is drawn at the top
    colour), so differences between cohorts stay visible.

    Parameters
    ----------
    result : CohortRetention
        From :func:`~cxmodel.metrics.cohort_retention`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    annotate : bool, optional
        Write the percentage in each cell; default when at most 40 periods are drawn.
    max_periods : int, optional
        Draw the periods 0 to ``max_periods`` since the first purchase; default all.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.imshow``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.metrics import cohort_retention
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "a", "c"], kind=["purchase"] * 4,
    ...     timestamp=["2024-01-05T00:00Z", "2024-01-06T00:00Z", "2024-02-03T00:00Z",
    ...                "2024-02-10T00:00Z"])
    >>> ax = plot_cohort_retention(cohort_retention(log))
    >>> [t.get_text() for t in ax.texts]
    ['100%', '50%', '100%']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    max_periods = (
        None
        if max_periods is None
        else integer(max_periods, "plot_cohort_retention()", "max_periods", minimum=1)
    )
    result = of_type(
        result,
        CohortRetention,
        "plot_cohort_retention()",
        "result",
        "a CohortRetention (from cxmodel.metrics.cohort_retention)",
    )
    ax = axes(ax, figsize=(8.0, 0.35 * max(len(result.cohorts), 6) + 1.5))
    rates: npt.NDArray[np.float64] = np.asarray(result.rates, dtype=np.float64)
    if max_periods is not None:
        rates = rates[:, : max_periods + 1]
    show = (
        rates.shape[1] <= 40
        if annotate is None
        else flag(annotate, "plot_cohort_retention()", "annotate")
    )
    texts = percent_texts(rates) if show else None
    rows = [f"{c} (n={int(s):,})" for c, s in zip(result.cohorts.tolist(), result.sizes.tolist())]
    word = _PERIOD_WORDS.get(result.period, result.period.capitalize() + "s")
    later = rates[:, 1:]
    top = float(np.nanmax(later)) if np.isfinite(later).any() else 1.0
    heatmap(
        ax,
        rates,
        rows=rows,
        columns=[str(k) for k in range(rates.shape[1])],
        texts=texts,
        colourbar="Share of the cohort active",
        vmin=0.0,
        vmax=max(top, 0.01),
        share=True,
        empty="No cohorts: no customer joined one",
        **kwargs,
    )
    return finish(
        ax,
        title=title,
        xlabel=f"{word} since the first purchase",
        ylabel=f"Cohort (first {result.period})",
        grid=None,
    )
