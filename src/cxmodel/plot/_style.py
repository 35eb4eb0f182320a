"""Colours, labels, number formats and the drawing helpers shared by the plots.

Nothing here changes matplotlib's global state: colours, fonts and sizes are passed to each
drawing call explicitly. matplotlib is imported on first use, through
:func:`cxmodel._optional.import_optional`, so this module imports without it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import numpy as np
import numpy.typing as npt

from cxmodel import _optional
from cxmodel._arguments import got
from cxmodel._html import inert
from cxmodel.errors import SchemaError, ValueTypeError, did_you_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "GREY",
    "LABEL_WIDTH",
    "LIGHT",
    "PALETTE",
    "SEQUENTIAL",
    "TICK_WIDTH",
    "artist_options",
    "axes",
    "closes_on_error",
    "colour",
    "count",
    "drawable",
    "drawn_bound",
    "finish",
    "forest",
    "grouped_bars",
    "heatmap",
    "legend",
    "not_drawn",
    "nothing",
    "number",
    "percent",
    "percent_axis",
    "percent_texts",
    "plain",
    "ranked_bars",
    "require",
    "rows_figsize",
    "shorten",
]

PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito's colour-blind-safe palette (2008), in the order series are drawn."""

LIGHT: tuple[str, ...] = (
    "#77AADD",
    "#EE8866",
    "#EEDD88",
    "#FFAABB",
    "#99DDFF",
    "#44BB99",
    "#BBCC33",
    "#AAAA00",
    "#DDDDDD",
    "#CCBBEE",
    "#F4C2A1",
    "#B8D8C8",
)
"""Paul Tol's colour-blind-safe "light" palette, extended: fills that dark text reads on."""

GREY = "#6B6B6B"
SEQUENTIAL = "cividis"
"""Colour map of heatmaps: perceptually uniform and readable with colour-vision deficiency."""

FEATURE = "plotting"

MAX_FIGSIZE = (24.0, 18.0)
"""The largest figure, in inches, a plot makes for itself: a figure sized by its labels (a
heatmap of hundreds of kinds, a cohort matrix of centuries) stays one that can be drawn."""

MAX_TICKS = 100
"""The labels an axis of a heatmap shows in full; beyond them every k-th label, 10 at most."""

LABEL_WIDTH = 40
"""The characters of a name from the data a label, legend entry or annotation shows: a kind,
channel or segment of thousands of characters would otherwise push the plot out of its figure
(matplotlib then draws an empty frame and warns that its layout collapsed)."""

TICK_WIDTH = 24
"""The characters of a name on a tick of a categorical axis (a heatmap's rows and columns, the
bars of channels or groups): turned upright or slanted, a longer one takes the figure's height."""

P = ParamSpec("P")
R = TypeVar("R")

_MADE: ContextVar[list[Any] | None] = ContextVar("cxmodel_plot_figures_made", default=None)
"""The pyplot figures :func:`axes` made during the current :func:`closes_on_error` call."""


_PLOT: ContextVar[str | None] = ContextVar("cxmodel_plot_called", default=None)
"""The name of the plot the user called (the outermost :func:`closes_on_error` call), for
messages about its arguments."""

_DRAWS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "plot": ("matplotlib.lines", "Line2D", (), ()),
    "step": ("matplotlib.lines", "Line2D", ("x", "y"), ()),
    "bar": ("matplotlib.patches", "Rectangle", ("x", "height"),
            ("tick_label", "xerr", "yerr", "ecolor", "capsize", "error_kw", "log")),
    "barh": ("matplotlib.patches", "Rectangle", ("y", "width"),
             ("tick_label", "xerr", "yerr", "ecolor", "capsize", "error_kw", "log")),
    "imshow": ("matplotlib.image", "AxesImage", ("X",), ()),
    "scatter": ("matplotlib.collections", "PathCollection", ("x", "y"), ()),
    "pcolormesh": ("matplotlib.collections", "QuadMesh", (), ()),
}  # fmt: skip
"""Per drawing method of an Axes that a plot's ``**kwargs`` go to: the artist it draws (its
module and class), the parameters cxmodel fills positionally, and the keywords the method
takes from ``**kwargs`` itself besides the artist's properties (``ax.bar``'s error bars)."""


@functools.cache
def _keywords(method: str) -> tuple[str, frozenset[str], dict[str, str]]:
    """The artist ``ax.<method>`` draws, every keyword it takes (the artist's settable
    properties and their aliases, as ``artist.set()`` takes them, the method's own named
    parameters, and the keywords it reads from ``**kwargs``: :data:`_DRAWS`), and the
    property each alias stands for (``lw`` -> ``linewidth``)."""
    import inspect

    module, name, positional, extra = _DRAWS[method]
    artist = getattr(require(module), name)
    inspector = require("matplotlib.artist").ArtistInspector(artist)
    names = set(inspector.get_setters())
    canonical = {a: full for full, aliases in inspector.aliasd.items() for a in aliases}
    names.update(canonical)
    parameters = inspect.signature(getattr(require("matplotlib.axes").Axes, method)).parameters
    names.update(
        n
        for n, p in parameters.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "self"
    )
    names.update(extra)
    return name, frozenset(names - set(positional)), canonical


def artist_options(
    method: str,
    options: dict[str, Any],
    kwargs: dict[str, Any],
    *,
    set_here: Sequence[str] = (),
) -> dict[str, Any]:
    """``options | kwargs`` for ``ax.<method>``, once every keyword of ``kwargs`` (a plot's
    ``**kwargs``) is known to be one the method and the artist it draws take.

    Every plot passes its ``**kwargs`` on through this function, so that a keyword matplotlib
    would refuse with its own ``AttributeError`` (``Line2D.set() got an unexpected keyword
    argument 'colour'``), deep in its code, is refused here with the plot's name, the keyword
    and the closest one matplotlib takes; and a keyword the plot sets itself (``set_here``,
    passed beside these options) is refused rather than given twice.

    Raises
    ------
    SchemaError
        A keyword the method and its artist do not take (with a did-you-mean), or one the plot
        sets itself.

    Examples
    --------
    >>> artist_options("step", {"color": "k"}, {"linewidth": 2})
    {'color': 'k', 'linewidth': 2}
    >>> artist_options("step", {}, {"colour": "red"})
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: ax.step(): unknown keyword 'colour' for matplotlib's ax.step() and the Line2D it draws; did you mean 'color'?
    """
    if not kwargs:
        return options
    where = f"{_PLOT.get()}()" if _PLOT.get() else f"ax.{method}()"
    artist, known, canonical = _keywords(method)
    fixed = {canonical.get(n, n) for n in set_here}
    given: dict[str, str] = {}
    for name in kwargs:
        if name not in known:
            hint = did_you_mean(name, sorted(known))
            raise SchemaError(
                f"{where}: unknown keyword {name!r} for matplotlib's ax.{method}() and the "
                f"{artist} it draws{hint or f'; see the properties of {artist}'}"
            )
        full = canonical.get(name, name)
        if full in fixed:
            raise SchemaError(
                f"{where}: {name!r} is set by the plot itself and cannot be given as a keyword"
            )
        if full in given:
            raise SchemaError(
                f"{where}: {given[full]!r} and {name!r} name one property of the {artist} "
                f"({full}): give it once"
            )
        given[full] = name
    # a default the caller overrides under another name (lw for linewidth) is left out:
    # matplotlib refuses a property given twice
    kept = {k: v for k, v in options.items() if canonical.get(k, k) not in given}
    return kept | kwargs


def require(module: str = "matplotlib.pyplot") -> Any:
    """Import a matplotlib module or raise ``MissingDependencyError`` naming the ``plot`` extra.

    Looked up through the module attribute so tests can simulate an absent matplotlib by
    monkeypatching :func:`cxmodel._optional.import_optional`.
    """
    return _optional.import_optional(module, FEATURE)


def colour(i: int) -> str:
    """The ``i``-th series colour (the palette repeats after eight).

    Examples
    --------
    >>> colour(0), colour(8)
    ('#0072B2', '#0072B2')
    """
    return PALETTE[i % len(PALETTE)]


def axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 4.2)) -> Axes:
    """``ax``, or the axes of a new pyplot figure of ``figsize`` inches (at most
    :data:`MAX_FIGSIZE`) when ``ax`` is None.

    matplotlib is imported (or the missing-dependency error raised) either way; pyplot only
    when a figure is made, so drawing into a ``matplotlib.figure.Figure`` of one's own (a
    server rendering SVG) never touches pyplot's figure manager. An ``ax`` that is not a
    matplotlib Axes (a Figure, an array of axes) is refused with a ``ValueTypeError``.
    """
    if ax is not None:
        if not isinstance(ax, require("matplotlib.axes").Axes):
            hint = {"Figure": "fig.add_subplot()", "ndarray": "one of the array's axes"}
            raise ValueTypeError(
                f"ax must be a matplotlib Axes ({hint.get(type(ax).__name__, 'plt.subplots()')}"
                f" gives one); got {got(ax)}"
            )
        return cast("Axes", ax)
    plt = require("matplotlib.pyplot")
    size = (min(figsize[0], MAX_FIGSIZE[0]), min(figsize[1], MAX_FIGSIZE[1]))
    figure, new = plt.subplots(figsize=size, layout="constrained")
    made = _MADE.get()
    if made is not None:
        made.append(figure)
    return cast("Axes", new)


def closes_on_error(plot: Callable[P, R]) -> Callable[P, R]:
    """``plot``, closing the pyplot figure it made when it fails: a plot refused after its
    figure was made (a bad argument, an empty result) leaves no figure open, so failed calls
    in a loop do not pile figures up in pyplot."""

    @functools.wraps(plot)
    def draw(*args: P.args, **kwargs: P.kwargs) -> R:
        made: list[Any] = []
        token = _MADE.set(made)
        # the plot the user called names the errors of the plots it draws with
        named = _PLOT.set(_PLOT.get() or plot.__name__)
        try:
            return plot(*args, **kwargs)
        except BaseException:
            if made:
                plt = require("matplotlib.pyplot")
                for figure in made:
                    plt.close(figure)
            raise
        finally:
            _PLOT.reset(named)
            _MADE.reset(token)

    return draw


def rows_figsize(rows: int, width: float = 7.5) -> tuple[float, float]:
    """The size in inches of a figure of ``rows`` horizontal bars or intervals, ``width`` wide.

    Examples
    --------
    >>> rows_figsize(10), rows_figsize(1, 8.0)
    ((7.5, 5.5), (8.0, 3.1))
    """
    return (width, 0.4 * max(rows, 4) + 1.5)


def nothing(ax: Axes, text: str) -> None:
    """Write ``text`` across the middle of ``ax``: why a plot has nothing to draw, so that a
    figure is never blank without a word."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY,
            wrap=True)  # fmt: skip


MAX_LEGEND = 10
"""The series a legend lists; the others are counted in its last line. A legend of sixty rules
or groups is taller than its plot (matplotlib then draws an empty frame and warns that its
layout collapsed), and beyond the eight colours of :data:`PALETTE` its entries repeat anyway."""


def legend(ax: Axes, **kwargs: Any) -> None:
    """The legend of ``ax``'s labelled series, the first :data:`MAX_LEGEND` of them listed and
    the others counted (``… 50 more not listed``); ``kwargs`` go to ``ax.legend``."""
    handles, labels = ax.get_legend_handles_labels()
    hidden = len(labels) - MAX_LEGEND
    if hidden > 0:
        lines = require("matplotlib.lines")
        handles = [*handles[:MAX_LEGEND], lines.Line2D([], [], linestyle="none")]
        labels = [*labels[:MAX_LEGEND], f"… {hidden:,} more not listed"]
    ax.legend(handles, labels, **kwargs)


def finish(
    ax: Axes,
    *,
    title: str | None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    grid: str | None = "y",
) -> Axes:
    """Title, axis labels, a light grid and no top/right frame; a date axis kept to the years
    matplotlib draws."""
    _dates_in_range(ax)
    if title:
        ax.set_title(title, fontsize=11)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid is not None:
        ax.grid(True, axis=cast(Any, grid), color="#E5E5E5", linewidth=0.8)
        ax.set_axisbelow(True)
    return ax


def _dates_in_range(ax: Axes) -> None:
    """Keep a date axis within the years 1..9999 that matplotlib can draw: the margins around
    data reaching year 1 or 9999 would otherwise fail the drawing, not the plot call."""
    import matplotlib.dates as mdates

    bounds = np.array(["0001-01-01", "9999-12-31"], dtype="datetime64[D]")
    first, last = (float(x) for x in cast(Any, mdates).date2num(bounds))
    for axis, limits, set_limits in (
        (ax.xaxis, ax.get_xlim, ax.set_xlim),
        (ax.yaxis, ax.get_ylim, ax.set_ylim),
    ):
        if isinstance(axis.get_major_locator(), mdates.DateLocator):
            low, high = limits()
            if low < first or high > last:
                set_limits(max(low, first), min(high, last))


def grouped_bars(
    ax: Axes,
    x: npt.NDArray[np.float64],
    rows: Sequence[npt.ArrayLike],
    names: Sequence[str],
    **kwargs: Any,
) -> list[Any]:
    """One series of bars per row, side by side around each ``x``, in the palette's order.

    The series share a slot 0.8 wide at each ``x``; each is labelled with its name for the
    legend; ``kwargs`` go to ``ax.bar``. Returns the bar containers, one per row.
    """
    width = 0.8 / max(len(rows), 1)
    drawn = []
    for g, (name, row) in enumerate(zip(names, rows, strict=True)):
        offset = (g - (len(rows) - 1) / 2) * width
        options: dict[str, Any] = {"color": colour(g), "width": width * 0.95}
        drawn.append(
            ax.bar(x + offset, row, label=plain(name),
                   **artist_options("bar", options, kwargs, set_here=("label",)))
        )  # fmt: skip
    return drawn


def percent(x: float, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage; an empty string for NaN.

    Examples
    --------
    >>> percent(0.4567), percent(0.4567, 1), percent(float("nan"))
    ('46%', '45.7%', '')
    """
    if not math.isfinite(x):
        return ""
    return f"{100.0 * x:.{digits}f}%"


def percent_texts(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Each share of ``values`` written by :func:`percent`, in an array of the same shape.

    Examples
    --------
    >>> percent_texts([[0.5, float("nan")]]).tolist()
    [['50%', '']]
    """
    write = np.vectorize(lambda v: percent(float(v)), otypes=[object])
    return cast("npt.NDArray[np.object_]", write(values))


def count(n: float) -> str:
    """A count with thousands separators, shortened from a million.

    Examples
    --------
    >>> count(1816), count(2_450_000)
    ('1,816', '2.45M')
    """
    if not math.isfinite(n):
        return ""
    if abs(n) >= 1_000_000:
        return f"{n / 1_000_000:.3g}M"
    return f"{n:,.0f}"


def number(x: float) -> str:
    """A value with three significant digits (thousands separated; from 1e15 in scientific
    notation, so a label stays short).

    Examples
    --------
    >>> number(0.12345), number(1234.5), number(-12.0), number(2e300)
    ('0.123', '1,234', '-12', '2e+300')
    """
    if not math.isfinite(x):
        return ""
    if abs(x) >= 1e15:
        return f"{x:.3g}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def plain(text: object, width: int = LABEL_WIDTH) -> str:
    """``text`` for a matplotlib label, drawn as written: its dollar signs escaped, so that a
    name holding two of them is not read as mathtext (``$\\frac$`` would fail the drawing,
    ``cost $5 or $6`` would lose its words), its characters that would act rather than show
    (control characters, newlines, bidirectional overrides: :func:`cxmodel._html.inert`)
    written as their escapes, and cut to ``width`` characters with an ellipsis.

    Examples
    --------
    >>> plain("cost $5"), plain("view"), plain("x" * 100)[-3:], len(plain("x" * 100))
    ('cost \\\\$5', 'view', 'xx…', 40)
    """
    text = inert(str(text), breaks=True)
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def shorten(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with an ellipsis, for a label (:func:`plain`).

    Examples
    --------
    >>> shorten("view > add_to_cart > checkout > purchase", 20)
    'view > add_to_cart…'
    """
    return plain(text, width)


def percent_axis(ax: Axes, axis: str = "y", digits: int | None = None) -> None:
    """Label an axis holding shares in [0, 1] as percentages (``digits`` None: as needed)."""
    ticker = require("matplotlib.ticker")
    formatter = ticker.PercentFormatter(xmax=1.0, decimals=digits)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def ranked_bars(
    ax: Axes | None,
    labels: Sequence[str],
    values: npt.ArrayLike,
    texts: Sequence[str],
    *,
    fill: str,
    width: float,
    margin: float,
    share: bool,
    xlabel: str,
    title: str | None,
    text_colour: str | None = None,
    empty: str = "Nothing to show",
    **kwargs: Any,
) -> Axes:
    """Horizontal bars in the given order from the top, each labelled with its text.

    Drawn on :func:`axes` of ``ax`` (a new figure ``width`` inches wide, tall enough for the
    bars); ``margin`` is the room left right of the longest bar for its text, as a share of the
    axis; ``share`` labels the values as percentages; ``empty`` is written when there is no
    bar; ``kwargs`` go to ``ax.barh``.
    """
    ax = axes(ax, figsize=rows_figsize(len(labels), width))
    if not len(labels):
        nothing(ax, empty)
    y = np.arange(len(labels))[::-1]
    options: dict[str, Any] = {"color": fill, "height": 0.65}
    bars = ax.barh(y, values, **artist_options("barh", options, kwargs))
    written: dict[str, Any] = {} if text_colour is None else {"color": text_colour}
    ax.bar_label(bars, labels=list(texts), fontsize=8, padding=3, **written)
    ax.set_yticks(y, labels=list(labels))
    ax.margins(x=margin)
    if share:
        percent_axis(ax, "x")
    return finish(ax, title=title, xlabel=xlabel, grid="x")


def _every_kth(n: int) -> npt.NDArray[np.int64]:
    """The positions of the labels an axis of ``n`` labels shows: all up to :data:`MAX_TICKS`,
    else every k-th, 10 at most.

    Examples
    --------
    >>> _every_kth(3).tolist(), len(_every_kth(MAX_TICKS)), len(_every_kth(120_000))
    ([0, 1, 2], 100, 10)
    """
    step = 1 if n <= MAX_TICKS else -(-n // 10)
    return np.arange(0, n, step, dtype=np.int64)


def _text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on a fill colour (relative luminance)."""
    r, g, b = rgba[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "white"


def heatmap(
    ax: Axes,
    values: npt.NDArray[np.float64],
    *,
    rows: Sequence[str],
    columns: Sequence[str],
    texts: npt.NDArray[Any] | None,
    colourbar: str,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: Any = None,
    share: bool = False,
    origin: str = "upper",
    empty: str = "Nothing to show",
    **kwargs: Any,
) -> Any:
    """Draw ``values`` (NaN cells left blank) with labelled rows and columns.

    ``texts`` (same shape, ``""`` for none) are written in each cell in black or white by the
    cell's colour; ``share`` formats the colour bar as percentages; an axis of more than
    :data:`MAX_TICKS` labels shows every k-th. Returns the image, or None when ``values`` has
    no cell; ``empty`` is written when no cell has a finite value.
    """
    mpl = require("matplotlib")
    if not np.size(values):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.spines[:].set_visible(False)
        nothing(ax, empty)
        return None
    base = mpl.colormaps[cmap or SEQUENTIAL]
    colours = base.with_extremes(bad=(1.0, 1.0, 1.0, 0.0))
    data = np.ma.masked_invalid(np.asarray(values, dtype=np.float64))
    options: dict[str, Any] = {
        "cmap": colours,
        "vmin": vmin,
        "vmax": vmax,
        "aspect": "auto",
        "interpolation": "nearest",
        "origin": origin,
    }
    image = ax.imshow(data, **artist_options("imshow", options, kwargs))
    if data.mask.all():
        nothing(ax, empty)
    shown_columns, shown_rows = _every_kth(len(columns)), _every_kth(len(rows))
    width = TICK_WIDTH
    ax.set_xticks(shown_columns, labels=[plain(columns[i], width) for i in shown_columns.tolist()])
    ax.set_yticks(shown_rows, labels=[plain(rows[i], width) for i in shown_rows.tolist()])
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    if texts is not None:
        size = 8 if max(len(rows), len(columns)) <= 12 else 6
        shades = np.asarray(image.to_rgba(data), dtype=np.float64)
        for (i, j), text in np.ndenumerate(texts):
            if text and not np.ma.is_masked(data[i, j]):
                ax.text(j, i, str(text), ha="center", va="center", fontsize=size,
                        color=_text_colour(shades[i, j].tolist()))  # fmt: skip
    bar = ax.figure.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
    bar.set_label(colourbar)
    bar.outline.set_visible(False)
    if share:
        ticker = require("matplotlib.ticker")
        bar.ax.yaxis.set_major_formatter(ticker.PercentFormatter(xmax=1.0))
    return image


DRAWABLE = 1e300
"""The largest magnitude of a value a plot draws: an axis of values near the largest float
(1.8e308) spans more than a float holds, and matplotlib's ticks fail on it."""


def drawable(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which ``values`` an axis can show: finite and within :data:`DRAWABLE`.

    Examples
    --------
    >>> drawable(np.array([1.0, np.nan, np.inf, 1e308])).tolist()
    [True, False, False, False]
    """
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.abs(values) <= DRAWABLE)


def drawn_bound(bound: npt.NDArray[np.float64], shown: npt.NDArray[np.bool_]) -> Any:
    """An interval bound where its value is drawn and the bound itself can be (NaN elsewhere:
    an infinite bound, clipped, would stretch the axis to ±1e300 and flatten every other row).

    Examples
    --------
    >>> drawn_bound(np.array([1.0, np.inf, 2.0]), np.array([True, True, False])).tolist()
    [1.0, nan, nan]
    """
    return np.where(shown & drawable(bound), bound, np.nan)


def not_drawn(ax: Axes, hidden: int, total: int, what: str = "values") -> None:
    """Say on ``ax`` that ``hidden`` of ``total`` values are not drawn (NaN, infinite or beyond
    :data:`DRAWABLE`): every one across the middle, some in the top-left corner."""
    if hidden == total:
        nothing(ax, f"No {what} to draw: every value is NaN, infinite or beyond ±1e300")
    elif hidden:
        said = f"{hidden:,} of {total:,} {what} are NaN, infinite or beyond ±1e300: not drawn"
        ax.text(0.01, 0.99, said, ha="left", va="top", transform=ax.transAxes, color=GREY,
                fontsize=8)  # fmt: skip


def forest(
    ax: Axes | None,
    labels: Sequence[str],
    estimates: npt.ArrayLike,
    low: npt.ArrayLike,
    high: npt.ArrayLike,
    *,
    reference: float = 0.0,
    xlabel: str,
    title: str | None,
    log: bool = False,
    share: bool = False,
    empty: str = "Nothing to show",
    **kwargs: Any,
) -> Axes:
    """A forest plot: one row per label, a point with its interval, and a reference line.

    Rows keep their given order from top to bottom; intervals that exclude the reference are
    drawn in the first palette colour, the others in grey. Drawn on :func:`axes` of ``ax``;
    ``log`` puts the estimates on a log scale, ``share`` labels them as percentages; ``empty``
    is written when there is no row.
    """
    ax = axes(ax)
    if not len(labels):
        nothing(ax, empty)
    est = np.asarray(estimates, dtype=np.float64)
    shown = drawable(est)
    if len(labels):
        not_drawn(ax, int(np.count_nonzero(~shown)), len(est), "estimates")
    est = np.where(shown, est, np.nan)
    lo = drawn_bound(np.asarray(low, dtype=np.float64), shown)
    hi = drawn_bound(np.asarray(high, dtype=np.float64), shown)
    y = np.arange(len(est))[::-1].astype(np.float64)
    clear = (lo > reference) | (hi < reference)
    colours = [colour(0) if c else GREY for c in clear.tolist()]
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.hlines(y[ok], lo[ok], hi[ok], colors=[c for c, k in zip(colours, ok) if k], linewidth=2)
    options: dict[str, Any] = {"s": 36, "zorder": 3}
    ax.scatter(est, y, c=colours, **artist_options("scatter", options, kwargs, set_here=("c",)))
    ax.axvline(reference, color="black", linewidth=0.9, linestyle="--", zorder=1)
    ax.set_yticks(y, labels=[shorten(str(s), 45) for s in labels])
    ax.set_ylim(-0.7, len(est) - 0.3)
    if log:
        ax.set_xscale("log")
        low_x, high_x = ax.get_xlim()
        nice = [m * 10.0**e for e in range(-3, 4) for m in (1.0, 2.0, 5.0)]
        ticks = [v for v in nice if low_x <= v <= high_x]
        ax.set_xticks(ticks, labels=[f"{v:g}×" for v in ticks])
        ax.xaxis.set_minor_formatter(require("matplotlib.ticker").NullFormatter())
    if share:
        percent_axis(ax, "x")
    return finish(ax, title=title, xlabel=xlabel, grid="x")
