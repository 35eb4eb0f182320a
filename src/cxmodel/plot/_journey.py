"""Plots of the journey views: funnels, transitions, step matrices, paths, attribution, friction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cxmodel._arguments import flag, integer, name_sequence, of_type, text_value
from cxmodel.errors import SchemaError
from cxmodel.journey import (
    Attribution,
    Comparison,
    Friction,
    Funnel,
    FunnelComparison,
    Paths,
    StepMatrix,
    Transitions,
)
from cxmodel.plot._style import (
    GREY,
    TICK_WIDTH,
    artist_options,
    axes,
    closes_on_error,
    colour,
    count,
    finish,
    forest,
    grouped_bars,
    heatmap,
    legend,
    nothing,
    percent,
    percent_axis,
    percent_texts,
    plain,
    ranked_bars,
    shorten,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_attribution",
    "plot_friction",
    "plot_funnel",
    "plot_funnel_comparison",
    "plot_journey_comparison",
    "plot_paths",
    "plot_step_matrix",
    "plot_transitions",
]


@closes_on_error
def plot_funnel(
    funnel: Funnel,
    ax: Axes | None = None,
    *,
    by: bool = True,
    ylabel: str = "Reached the step",
    title: str | None = "Funnel",
    **kwargs: Any,
) -> Axes:
    """Bars of the units reaching each step, labelled with conversion and drop-off.

    Each bar says how many reached the step and the share of those who entered; between
    bars, the share lost from one step to the next. A funnel computed with ``by=`` draws
    one bar per group side by side (``by=False``: the total only), each labelled with the
    group's conversion from the first step; groups nobody entered are left out.

    Parameters
    ----------
    funnel : Funnel
    ax : matplotlib Axes, optional
    by : bool
        Draw the ``by=`` groups side by side when the funnel has them.
    ylabel, title : str
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import funnel
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> ax = plot_funnel(funnel(log, ["view", "purchase"]))
    >>> [t.get_text() for t in ax.texts]
    ['2\\n100%', '1\\n50%', '50%\\ndrop off']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    funnel = of_type(
        funnel, Funnel, "plot_funnel()", "funnel", "a Funnel (from cxmodel.journey.funnel)"
    )
    ax = axes(ax)
    steps = [shorten(s, 22) for s in funnel.steps]
    x = np.arange(len(steps), dtype=np.float64)
    grouped = (
        flag(by, "plot_funnel()", "by")
        and funnel.by_labels is not None
        and funnel.by_counts is not None
    )
    if grouped:
        assert funnel.by_labels is not None and funnel.by_counts is not None
        entered = np.flatnonzero(funnel.by_counts[:, 0] > 0) if len(steps) else np.zeros(0, int)
        labels = [str(s) for s in funnel.by_labels[entered].tolist()]
        rows = list(funnel.by_counts[entered])
        for bars, row in zip(grouped_bars(ax, x, rows, labels, **kwargs), rows, strict=True):
            first = float(row[0]) if len(row) else 0.0
            texts = [percent(v / first) if first else "" for v in row.tolist()]
            ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
        if labels:
            legend(ax, frameon=False, fontsize=9)
    else:
        options: dict[str, Any] = {"color": colour(0), "width": 0.6}
        bars = ax.bar(x, funnel.counts, **artist_options("bar", options, kwargs))
        texts = [
            f"{count(c)}\n{percent(v)}"
            for c, v in zip(funnel.counts.tolist(), funnel.conversion.tolist(), strict=True)
        ]
        ax.bar_label(bars, labels=texts, fontsize=8, padding=2)
        top = float(funnel.counts.max()) if len(funnel.counts) else 0.0
        for k in range(1, len(steps)):
            lost = 1.0 - float(funnel.step_conversion[k])
            if np.isfinite(lost):
                ax.annotate(f"{percent(lost)}\ndrop off", ((k - 0.5), 0.5 * top), ha="center",
                            va="center", fontsize=8, color=colour(5))  # fmt: skip
    if not (len(funnel.counts) and funnel.counts[0] > 0):
        nothing(ax, "No one reached the first step")
    ax.set_xticks(x, labels=steps)
    ax.margins(y=0.15)
    return finish(ax, title=title, ylabel=ylabel)


@closes_on_error
def plot_funnel_comparison(
    comparison: FunnelComparison,
    ax: Axes | None = None,
    *,
    title: str | None = "Conversion from the first step, A minus B",
    **kwargs: Any,
) -> Axes:
    """Forest plot of :func:`~cxmodel.journey.compare_funnels`: the conversion difference at
    each step with its 95% interval and a zero line.

    Parameters
    ----------
    comparison : FunnelComparison
        From :func:`~cxmodel.journey.compare_funnels`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.scatter`` (the points).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import compare_funnels
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> c = compare_funnels(log, ["view", "purchase"], [True, True, False], [False, False, True])
    >>> ax = plot_funnel_comparison(c)
    >>> len(ax.get_yticklabels())
    2
    >>> matplotlib.pyplot.close(ax.figure)
    """
    comparison = of_type(
        comparison,
        FunnelComparison,
        "plot_funnel_comparison()",
        "comparison",
        "a FunnelComparison (from cxmodel.journey.compare_funnels)",
    )
    return forest(
        ax,
        list(comparison.a.steps),
        comparison.difference,
        comparison.low,
        comparison.high,
        xlabel="Difference in conversion (percentage points)",
        title=title,
        share=True,
        empty="No steps to compare",
        **kwargs,
    )


def _key_label(keys: dict[str, list[Any]], i: int) -> str:
    parts = [str(v[i]) for v in keys.values()]
    if set(keys) == {"source", "target"}:
        return f"{keys['source'][i]} → {keys['target'][i]}"
    if "path" in keys:
        return str(keys["path"][i])
    return " · ".join(parts)


_MEASURES = {
    "p_next": "share of next interactions",
    "share": "share of customers",
    "exit_rate": "exit rate",
}


@closes_on_error
def plot_journey_comparison(
    comparison: Comparison[Any],
    ax: Axes | None = None,
    *,
    top: int = 15,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Forest plot of a journey comparison (``compare_transitions``, ``compare_paths``, ...):
    the ``top`` largest differences A minus B with their 95% intervals and a zero line.

    Parameters
    ----------
    comparison : Comparison
        From ``compare_transitions``, ``compare_step_matrices``, ``compare_paths`` or
        ``compare_friction``.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    top : int, default 15
        Rows drawn (the comparison's first, largest differences).
    title : str, optional
        The title; default one naming what is shown.
    **kwargs
        Passed to ``ax.scatter`` (the points).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import compare_transitions
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b", "b"],
    ...     timestamp=[0, 1, 0, 1], kind=["view", "purchase", "view", "view"])
    >>> a = [True, True, False, False]
    >>> ax = plot_journey_comparison(compare_transitions(log, a, [not x for x in a]))
    >>> ax.get_xlabel()
    'Difference in share of next interactions (percentage points), A minus B'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    top = integer(top, "plot_journey_comparison()", "top", minimum=1)
    comparison = of_type(
        comparison,
        Comparison,
        "plot_journey_comparison()",
        "comparison",
        "a journey Comparison (from compare_paths, compare_transitions, ...)",
    )
    n = min(top, len(comparison.difference))
    labels = [_key_label(comparison.keys, i) for i in range(n)]
    measure = _MEASURES.get(comparison.measure, comparison.measure.replace("_", " "))
    return forest(
        ax,
        labels,
        comparison.difference[:n],
        comparison.low[:n],
        comparison.high[:n],
        xlabel=f"Difference in {measure} (percentage points), A minus B",
        title=title if title is not None else f"Largest differences in {measure}",
        share=True,
        empty="No differences to show: the comparison has no rows",
        **kwargs,
    )


def _nonempty(counts: Any) -> tuple[Any, Any]:
    rows = np.flatnonzero(np.asarray(counts).sum(axis=1) > 0)
    cols = np.flatnonzero(np.asarray(counts).sum(axis=0) > 0)
    return rows, cols


@closes_on_error
def plot_transitions(
    transitions: Transitions,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    title: str | None = "What comes next",
    **kwargs: Any,
) -> Axes:
    """Heatmap of the share of each interaction followed by each next interaction.

    Row ``i``, column ``j`` is ``p_next[i, j]``: of the interactions labelled ``i``, the share
    directly followed by ``j`` (each row sums to 100%). Rows and columns without any
    transition are left out. Cells are annotated with percentages when there are at most 15
    labels (``annotate=`` forces either way).

    Parameters
    ----------
    transitions : Transitions
        From :func:`~cxmodel.journey.transitions`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    annotate : bool, optional
        Write the percentage in each cell; default when there are at most 15 labels.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.imshow``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import transitions
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> ax = plot_transitions(transitions(log))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['START', 'purchase', 'view']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    transitions = of_type(
        transitions,
        Transitions,
        "plot_transitions()",
        "transitions",
        "a Transitions (from cxmodel.journey.transitions)",
    )
    rows, cols = _nonempty(transitions.counts)
    size = max(len(rows), len(cols))
    ax = axes(ax, figsize=(0.45 * size + 3.0, 0.38 * size + 1.8))
    values = np.asarray(transitions.p_next, dtype=np.float64)[np.ix_(rows, cols)]
    values = np.where(np.asarray(transitions.counts)[np.ix_(rows, cols)] > 0, values, np.nan)
    show = size <= 15 if annotate is None else flag(annotate, "plot_transitions()", "annotate")
    texts = percent_texts(values) if show else None
    heatmap(
        ax,
        values,
        rows=[str(s) for s in transitions.labels[rows].tolist()],
        columns=[str(s) for s in transitions.labels[cols].tolist()],
        texts=texts,
        colourbar="Share of next interactions",
        vmin=0.0,
        vmax=1.0,
        share=True,
        empty="No transitions to show",
        **kwargs,
    )
    ax.tick_params(axis="x", labelrotation=90)
    return finish(ax, title=title, xlabel="Next interaction", ylabel="Interaction", grid=None)


@closes_on_error
def plot_step_matrix(
    matrix: StepMatrix,
    ax: Axes | None = None,
    *,
    annotate: bool | None = None,
    title: str | None = "Where customers are, step by step",
    **kwargs: Any,
) -> Axes:
    """Heatmap of the share of customers at each label at each step.

    Columns are steps (around the anchor when the matrix has one: 0 is the anchor event);
    each column sums to 100%. Labels never seen are left out.

    Parameters
    ----------
    matrix : StepMatrix
        From :func:`~cxmodel.journey.step_matrix`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    annotate : bool, optional
        Write the percentage in each cell; default when there are at most 15 steps.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.imshow``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import step_matrix
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> ax = plot_step_matrix(step_matrix(log, steps=2))
    >>> ax.get_xlabel()
    'Step in the journey'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    matrix = of_type(
        matrix,
        StepMatrix,
        "plot_step_matrix()",
        "matrix",
        "a StepMatrix (from cxmodel.journey.step_matrix)",
    )
    rows = np.flatnonzero(np.asarray(matrix.counts).sum(axis=1) > 0)
    ax = axes(ax, figsize=(0.55 * len(matrix.steps) + 3.5, 0.38 * max(len(rows), 4) + 1.8))
    values = np.asarray(matrix.shares, dtype=np.float64)[rows]
    show = (
        len(matrix.steps) <= 15
        if annotate is None
        else flag(annotate, "plot_step_matrix()", "annotate")
    )
    texts = percent_texts(values) if show else None
    if texts is not None:
        texts[values == 0] = ""
    heatmap(
        ax,
        values,
        rows=[str(s) for s in matrix.labels[rows].tolist()],
        columns=[str(s) for s in matrix.steps.tolist()],
        texts=texts,
        colourbar="Share of customers",
        vmin=0.0,
        vmax=1.0,
        share=True,
        empty="No steps to show",
        **kwargs,
    )
    anchored = bool(len(matrix.steps)) and int(matrix.steps.min()) < 0
    xlabel = "Steps from the anchor event" if anchored else "Step in the journey"
    return finish(ax, title=title, xlabel=xlabel, ylabel="Interaction", grid=None)


@closes_on_error
def plot_paths(
    paths: Paths,
    ax: Axes | None = None,
    *,
    top: int = 10,
    title: str | None = "Most common paths",
    **kwargs: Any,
) -> Axes:
    """Horizontal bars of the ``top`` most common paths and the share of customers on each.

    The most common path is at the top; each bar is labelled with its count and, when the
    paths were computed with ``conversion=``, the path's conversion rate.

    Parameters
    ----------
    paths : Paths
        From :func:`~cxmodel.journey.paths`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    top : int, default 10
        Paths drawn, most common first.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.barh``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import paths
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> ax = plot_paths(paths(log))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['view > purchase', 'view']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    top = integer(top, "plot_paths()", "top", minimum=1)
    paths = of_type(paths, Paths, "plot_paths()", "paths", "a Paths (from cxmodel.journey.paths)")
    n = min(top, len(paths.paths))
    texts = []
    for i in range(n):
        text = count(float(paths.counts[i]))
        if paths.conversion_rate is not None:
            text += f", {percent(float(paths.conversion_rate[i]))} convert"
        texts.append(text)
    return ranked_bars(
        ax,
        [shorten(" > ".join(p), 55) for p in paths.paths[:n]],
        paths.shares[:n],
        texts,
        fill=colour(0),
        width=8.0,
        margin=0.4,
        share=True,
        xlabel="Share of customers",
        title=title,
        empty="No paths to show",
        **kwargs,
    )


@closes_on_error
def plot_attribution(
    attribution: Attribution,
    ax: Axes | None = None,
    *,
    models: tuple[str, ...] | None = None,
    title: str | None = "Conversion credit by channel",
    **kwargs: Any,
) -> Axes:
    """Grouped bars: each channel's share of the attributed conversions, one series per model.

    Shares (credit / total) make the models comparable whatever the total; ``models`` picks
    and orders the series (default: all, as computed).

    Parameters
    ----------
    attribution : Attribution
        From :func:`~cxmodel.journey.attribution`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    models : tuple of str, optional
        The models drawn, in this order; default all, as computed.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.bar``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import attribution
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "a"], timestamp=[0, 1, 2],
    ...     kind=["view", "view", "purchase"], channel=["email", "web", "web"])
    >>> ax = plot_attribution(attribution(log, model=["first", "last"]))
    >>> len(ax.patches)
    4
    >>> matplotlib.pyplot.close(ax.figure)
    """
    models = None if models is None else name_sequence(models, "plot_attribution()", "models")
    attribution = of_type(
        attribution,
        Attribution,
        "plot_attribution()",
        "attribution",
        "an Attribution (from cxmodel.journey.attribution)",
    )
    chosen = attribution.models if models is None else tuple(models)
    unknown = [m for m in chosen if m not in attribution.models]
    if unknown:
        raise SchemaError(f"models {unknown} were not computed; available: {attribution.models}")
    channels = [str(c) for c in attribution.channels.tolist()]
    ax = axes(ax, figsize=(max(7.0, 0.9 * len(channels) + 2), 4.2))
    x = np.arange(len(channels), dtype=np.float64)
    total = attribution.total if attribution.total else float("nan")
    shares = [
        np.nan_to_num(attribution.credit[attribution.models.index(m)] / total) for m in chosen
    ]
    grouped_bars(ax, x, shares, [m.replace("_", " ") for m in chosen], **kwargs)
    ax.set_xticks(x, labels=[plain(c, TICK_WIDTH) for c in channels])
    if len(channels) > 6:
        ax.tick_params(axis="x", labelrotation=45)
    percent_axis(ax)
    ax.legend(frameon=False, fontsize=8, title="Model", ncols=min(len(chosen), 4))
    if not (np.isfinite(total) and total > 0):  # no share of a credit that does not exist
        nothing(ax, "No conversions (or no conversion value) to attribute")
    return finish(ax, title=title, xlabel="Channel", ylabel="Share of conversion credit")


_FRICTION = {
    "exit_rate": "Share of these interactions that end the journey",
    "self_loop_rate": "Share followed by the same interaction again",
    "backtrack_rate": "Share followed by going back to an earlier step",
    "slow_rate": "Share followed by an unusually long wait",
    "near_error_rate": "Share followed shortly by an error",
    "error_lift": "Errors soon after, relative to all interactions (lift)",
}


@closes_on_error
def plot_friction(
    friction: Friction,
    ax: Axes | None = None,
    *,
    measure: str = "exit_rate",
    top: int = 15,
    min_events: int = 1,
    title: str | None = "Where the journey breaks",
    **kwargs: Any,
) -> Axes:
    """Ranked horizontal bars of one friction measure per interaction, worst at the top.

    ``measure`` is ``"exit_rate"`` (default), ``"self_loop_rate"``, ``"backtrack_rate"``,
    ``"slow_rate"``, ``"near_error_rate"`` or ``"error_lift"``. Labels with fewer than
    ``min_events`` events are left out; bars are labelled with the events behind them.

    Parameters
    ----------
    friction : Friction
        From :func:`~cxmodel.journey.friction`.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    measure : str, default "exit_rate"
        The friction measure (a per-label column of :class:`~cxmodel.journey.Friction`).
    top : int, default 15
        Labels drawn, worst first.
    min_events : int, default 1
        Labels with fewer events are left out.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.barh``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.journey import friction
    >>> log = InteractionLog.from_arrays(customer_id=["a", "a", "b"], timestamp=[0, 1, 0],
    ...     kind=["view", "purchase", "view"])
    >>> ax = plot_friction(friction(log, errors=()))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['purchase', 'view']
    >>> matplotlib.pyplot.close(ax.figure)
    """
    top = integer(top, "plot_friction()", "top", minimum=1)
    min_events = integer(min_events, "plot_friction()", "min_events", minimum=0)
    measure = text_value(measure, "plot_friction()", "measure")
    friction = of_type(
        friction,
        Friction,
        "plot_friction()",
        "friction",
        "a Friction (from cxmodel.journey.friction)",
    )
    if measure not in _FRICTION:
        raise SchemaError(f"measure must be one of {tuple(_FRICTION)}; got {measure!r}")
    values = np.asarray(getattr(friction, measure), dtype=np.float64)
    keep = np.flatnonzero((friction.events >= min_events) & np.isfinite(values))
    order = keep[np.argsort(-values[keep], kind="stable")][:top]
    return ranked_bars(
        ax,
        [shorten(str(s), 40) for s in friction.labels[order].tolist()],
        values[order],
        [f"{count(float(e))} events" for e in friction.events[order].tolist()],
        fill=colour(5),
        width=7.5,
        margin=0.2,
        share=measure != "error_lift",
        xlabel=_FRICTION[measure],
        title=title,
        text_colour=GREY,
        empty=f"No interaction with {min_events:,} or more events to rank by "
        f"{measure.replace('_', ' ')}",
        **kwargs,
    )
