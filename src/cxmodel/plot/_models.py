"""Diagnostic plots of the fitted transaction models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB).

The plots lifetimes users know, under the same names: expected purchases and the probability
of being alive over a frequency x recency grid, the model's distribution of repeat purchases
against the data's, and calibration-period purchases against hold-out purchases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import float_array, integer, method_of, real
from cxmodel.errors import DataError
from cxmodel.plot._style import (
    artist_options,
    axes,
    closes_on_error,
    colour,
    count,
    finish,
    heatmap,
    number,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_frequency_recency_matrix",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
]

FloatArray = npt.NDArray[np.float64]
_MAX_CELLS = 4_000_000  # a frequency x recency matrix larger than this is no readable heatmap
_UNITS = {"D": "day", "W": "week", "M": "month", "h": "hour", "H": "hour"}


def _fitted(model: Any, method: str, where: str) -> Any:
    """``model``, checked to have ``method`` as the transaction models do."""
    expected = "a fitted BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom"
    return method_of(model, method, where, "model", expected)


def _max_frequency(value: Any, where: str) -> int:
    """The checked ``max_frequency`` of the bar and hold-out plots: a whole number >= 1."""
    max_frequency = integer(value, where, "max_frequency")
    if not 1 <= max_frequency <= 10_000:  # a bar (or a point) per count
        raise DataError(f"max_frequency must be 1 to 10,000, got {max_frequency}")
    return max_frequency


def _history(summary: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(frequency, recency, T) of an ``RFMSummary`` or a ``CdnowSummary`` (x, t_x, T), each a
    finite number >= 0 for every customer."""
    for names in (("frequency", "recency", "T"), ("x", "t_x", "T")):
        if all(hasattr(summary, n) for n in names):
            x, t_x, big_t = (np.asarray(getattr(summary, n), dtype=np.float64) for n in names)
            if x.size == 0:
                raise DataError("the summary has no customers: there is nothing to plot")
            for name, values in zip(names, (x, t_x, big_t), strict=True):
                bad = ~(np.isfinite(values) & (values >= 0))
                if bad.any():
                    row = int(np.flatnonzero(bad)[0])
                    raise DataError(
                        f"the summary's {name}[{row}] is {float(values[row])!r}; expected a "
                        f"finite number >= 0 ({int(bad.sum()):,} such values)"
                    )
            return x, t_x, big_t
    raise DataError(
        "expected a summary with frequency, recency and T (an RFMSummary from rfm_summary() "
        f"or calibration_holdout_split(), or cdnow_summary()); got {type(summary).__name__}"
    )


def _unit(summary: Any, unit: str | None) -> str:
    if unit is not None:
        return unit
    if type(summary).__name__ == "CdnowSummary":
        return "week"
    return _UNITS.get(str(getattr(summary, "freq", "")), "period")


def _span(t: float, word: str) -> str:
    """``"1 week"``, ``"2.5 weeks"``."""
    return f"{number(t)} {word}{'' if t == 1 else 's'}"


def _discrete(model: Any) -> bool:
    return type(model).__name__ == "BetaGeoBetaBinom"


def _grid(
    model: Any, summary: Any, max_frequency: int | None, max_recency: float | None
) -> tuple[FloatArray, FloatArray, float, npt.NDArray[np.bool_]]:
    """Frequencies, recencies, the age used and the valid (frequency, recency) cells."""
    if summary is not None:
        x, _, big_t = _history(summary)
        if max_frequency is None:
            max_frequency = int(np.max(x)) if x.size else 0
        if max_recency is None:
            max_recency = float(np.max(big_t)) if big_t.size else 0.0
    if max_frequency is None or max_recency is None:
        raise DataError(
            "pass the summary the model was fitted on, or max_frequency= and max_recency= "
            "(the largest frequency and customer age to show)"
        )
    age = float(max_recency)
    cells = (int(max_frequency) + 1) * (int(np.floor(max(age, 0.0))) + 1)
    if cells > _MAX_CELLS:
        raise DataError(
            f"a matrix of frequencies 0..{int(max_frequency)} by recencies 0..{age:g} has "
            f"{cells:,} cells, more than the {_MAX_CELLS:,} a heatmap can show; pass smaller "
            "max_frequency= and max_recency=, or summarise in a longer unit (freq='W')"
        )
    freqs = np.arange(int(max_frequency) + 1, dtype=np.float64)
    recs = np.arange(int(np.floor(age)) + 1, dtype=np.float64)
    f, r = np.meshgrid(freqs, recs, indexing="ij")
    valid = (f > 0) | (r == 0)  # no repeat purchase means a recency of 0
    if _discrete(model):
        valid &= f <= r
        age = float(np.round(age))
    return freqs, recs, age, valid


def _limits(max_frequency: Any, max_recency: Any, where: str) -> tuple[int | None, float | None]:
    """The checked ``max_frequency`` (a whole number >= 0) and ``max_recency`` (a number)."""
    return (
        None
        if max_frequency is None
        else integer(max_frequency, where, "max_frequency", minimum=0),
        None if max_recency is None else real(max_recency, where, "max_recency"),
    )


def _matrix(
    model: Any,
    what: str,
    summary: Any,
    max_frequency: int | None,
    max_recency: float | None,
    t: float,
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    freqs, recs, age, valid = _grid(model, summary, max_frequency, max_recency)
    f, r = np.meshgrid(freqs, recs, indexing="ij")
    out = np.full(f.shape, np.nan)
    fv, rv = f[valid], r[valid]
    ages = np.full(fv.shape, age)
    if what == "alive":
        out[valid] = model.probability_alive(fv, rv, ages)
    else:
        out[valid] = model.conditional_expected_purchases(t, fv, rv, ages)
    return freqs, recs, out, age


def _plot_matrix(
    model: Any,
    what: str,
    summary: Any,
    ax: Axes | None,
    *,
    where: str,
    t: float,
    max_frequency: Any,
    max_recency: Any,
    unit: str | None,
    title: str | None,
    **kwargs: Any,
) -> Axes:
    """The frequency x recency heatmap of ``what`` (``"expected"`` purchases in the next ``t``
    periods, or the probability ``"alive"``) with its ticks, labels and title."""
    max_frequency, max_recency = _limits(max_frequency, max_recency, where)
    ax = axes(ax, figsize=(7.5, 5.5))
    freqs, recs, values, age = _matrix(model, what, summary, max_frequency, max_recency, t)
    word = _unit(summary, unit)
    share = what == "alive"
    if share:
        colourbar = "Probability still active"
        default = f"Probability the customer is still active, observed {_span(age, word)}"
    else:
        colourbar = f"Expected purchases in the next {_span(t, word)}"
        default = f"{colourbar}, customers observed {_span(age, word)}"
    heatmap(
        ax,
        values,
        rows=[str(int(v)) for v in freqs.tolist()],
        columns=[str(int(v)) for v in recs.tolist()],
        texts=None,
        colourbar=colourbar,
        vmin=0.0,
        vmax=1.0 if share else None,
        share=share,
        origin="lower",
        empty="No finite value to show: the model gives none on this grid",
        **kwargs,
    )
    step_x = max(1, len(recs) // 12)
    step_y = max(1, len(freqs) // 12)
    ax.set_xticks(np.arange(0, len(recs), step_x), labels=[str(int(v)) for v in recs[::step_x]])
    ax.set_yticks(np.arange(0, len(freqs), step_y), labels=[str(int(v)) for v in freqs[::step_y]])
    return finish(
        ax,
        title=title if title is not None else default,
        xlabel=f"Recency: {word}s from the first to the last purchase",
        ylabel="Frequency: repeat purchases so far",
        grid=None,
    )


@closes_on_error
def plot_frequency_recency_matrix(
    model: Any,
    summary: Any = None,
    ax: Axes | None = None,
    *,
    t: float = 1.0,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    unit: str | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of the purchases expected in the next ``t`` periods by frequency and recency.

    Each cell is a customer with that many repeat purchases (rows) whose last one came that
    long after their first (columns), observed for ``max_recency`` periods. Cells that
    cannot occur (no repeat purchase but a recency above 0; for BG/BB more purchases than
    opportunities) are blank.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom
        A fitted model.
    summary : RFMSummary or CdnowSummary, optional
        The customers the model was fitted on: they give the defaults of ``max_frequency``
        (their largest frequency), ``max_recency`` (their largest ``T``) and the time unit.
    ax : matplotlib Axes, optional
    t : float
        The horizon, in the summary's time unit.
    max_frequency, max_recency : optional
        The grid's extent (needed without ``summary``).
    unit : str, optional
        The time unit's name ("week"); default from the summary.
    title : str, optional
    **kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.models import BetaGeo
    >>> m = BetaGeo()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> ax = plot_frequency_recency_matrix(m, max_frequency=10, max_recency=20, unit="week")
    >>> ax.get_ylabel()
    'Frequency: repeat purchases so far'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    model = _fitted(model, "conditional_expected_purchases", "plot_frequency_recency_matrix()")
    t = real(t, "plot_frequency_recency_matrix()", "t")
    return _plot_matrix(
        model,
        "expected",
        summary,
        ax,
        where="plot_frequency_recency_matrix()",
        t=t,
        max_frequency=max_frequency,
        max_recency=max_recency,
        unit=unit,
        title=title,
        **kwargs,
    )


@closes_on_error
def plot_probability_alive_matrix(
    model: Any,
    summary: Any = None,
    ax: Axes | None = None,
    *,
    max_frequency: int | None = None,
    max_recency: float | None = None,
    unit: str | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Heatmap of the probability that a customer is still active, by frequency and recency.

    Same grid as :func:`plot_frequency_recency_matrix`: customers observed for
    ``max_recency`` periods; a frequent buyer silent for long (low recency, high frequency)
    is the likeliest to have left.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom
        A fitted model.
    summary : RFMSummary or CdnowSummary, optional
        The customers the model was fitted on: they give the defaults of ``max_frequency``,
        ``max_recency`` and the time unit.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    max_frequency, max_recency : optional
        The grid's extent (needed without ``summary``).
    unit : str, optional
        The time unit's name ("week"); default from the summary.
    title : str, optional
        The title; default one naming what is shown.
    **kwargs
        Passed to ``ax.imshow``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.models import ParetoNBD
    >>> m = ParetoNBD()
    >>> m.params_ = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
    >>> ax = plot_probability_alive_matrix(m, max_frequency=10, max_recency=20)
    >>> bool(ax.images[0].get_array().max() <= 1.0)
    True
    >>> matplotlib.pyplot.close(ax.figure)
    """
    model = _fitted(model, "probability_alive", "plot_probability_alive_matrix()")
    return _plot_matrix(
        model,
        "alive",
        summary,
        ax,
        where="plot_probability_alive_matrix()",
        t=0.0,
        max_frequency=max_frequency,
        max_recency=max_recency,
        unit=unit,
        title=title,
        **kwargs,
    )


def _expected_counts(
    model: Any, ages: FloatArray, max_frequency: int, random_state: Any
) -> tuple[FloatArray, bool]:
    """Customers expected with 0, 1, ..., max_frequency - 1 and ``max_frequency`` or more
    repeat purchases, given each customer's age; True when simulated."""
    unique, weights = np.unique(ages, return_counts=True)
    out = np.zeros(max_frequency + 1)
    if hasattr(model, "probability_of_purchases"):
        for k in range(max_frequency):
            p = model.probability_of_purchases(np.full(unique.shape, float(k)), unique)
            out[k] = float(np.sum(weights * p))
        out[max_frequency] = max(float(weights.sum()) - float(out[:max_frequency].sum()), 0.0)
        return out, False
    rng = np.random.default_rng(random_state)
    for age, w in zip(unique.tolist(), weights.tolist(), strict=True):
        if _discrete(model):
            sim = model.sample(int(w), n_periods=round(age), random_state=rng)
        else:
            sim = model.sample(int(w), T=age, random_state=rng)
        freq = np.minimum(np.asarray(sim.frequency, dtype=np.int64), max_frequency)
        out += np.bincount(freq, minlength=max_frequency + 1)
    return out, True


def _bins(max_frequency: int) -> list[str]:
    return [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]


@closes_on_error
def plot_period_transactions(
    model: Any,
    summary: Any,
    ax: Axes | None = None,
    *,
    max_frequency: int = 7,
    random_state: Any = 0,
    title: str | None = "Customers by number of repeat purchases: data vs model",
    **kwargs: Any,
) -> Axes:
    """Bars of the customers with 0, 1, 2, ... repeat purchases, in the data and as the model
    expects them given each customer's observation period.

    The model's counts are exact (``probability_of_purchases``) for BG/NBD, MBG/NBD and BG/BB,
    and simulated with ``model.sample`` (seeded by ``random_state``) for Pareto/NBD. The last
    bar gathers ``max_frequency`` or more.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom
        A fitted model.
    summary : RFMSummary or CdnowSummary
        The customers the model was fitted on.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    max_frequency : int, default 7
        The last bar gathers customers with this many repeat purchases or more.
    random_state : int or numpy Generator, default 0
        Seed of the simulation (Pareto/NBD only).
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.bar``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.datasets import cdnow_summary
    >>> from cxmodel.models import BetaGeo
    >>> s = cdnow_summary()
    >>> m = BetaGeo()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> ax = plot_period_transactions(m, s)
    >>> len(ax.patches)
    16
    >>> matplotlib.pyplot.close(ax.figure)
    """
    model = _fitted(model, "sample", "plot_period_transactions()")
    max_frequency = _max_frequency(max_frequency, "plot_period_transactions()")
    ax = axes(ax)
    x, _, big_t = _history(summary)
    actual = np.bincount(np.minimum(x.astype(np.int64), max_frequency), minlength=max_frequency + 1)
    expected, simulated = _expected_counts(model, big_t, max_frequency, random_state)
    pos = np.arange(max_frequency + 1, dtype=np.float64)
    options: dict[str, Any] = {"width": 0.4}
    ax.bar(
        pos - 0.2,
        actual,
        color=colour(0),
        label="Actual",
        **artist_options("bar", options, kwargs, set_here=("color", "label")),
    )
    name = "Model (simulated)" if simulated else "Model"
    ax.bar(
        pos + 0.2,
        expected,
        color=colour(1),
        label=name,
        **artist_options("bar", options, kwargs, set_here=("color", "label")),
    )
    ax.set_xticks(pos, labels=_bins(max_frequency))
    ax.legend(frameon=False, fontsize=9)
    ylabel = f"Customers (of {count(float(len(x)))})"
    return finish(ax, title=title, xlabel="Repeat purchases", ylabel=ylabel)


@closes_on_error
def plot_calibration_purchases_vs_holdout_purchases(
    model: Any,
    calibration: Any,
    holdout_frequency: npt.ArrayLike,
    holdout_duration: float,
    ax: Axes | None = None,
    *,
    max_frequency: int = 7,
    unit: str | None = None,
    title: str | None = "Hold-out check: actual vs predicted purchases",
    **kwargs: Any,
) -> Axes:
    """Average purchases in the hold-out period by calibration-period repeat purchases,
    actual against the model's prediction.

    The arguments after ``model`` are what :func:`~cxmodel.models.calibration_holdout_split`
    returns, so ``plot_calibration_purchases_vs_holdout_purchases(model, *split)`` works; the
    model should be fitted on the calibration summary. Customers with ``max_frequency`` or
    more calibration purchases are pooled in the last point.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom
        A model fitted on ``calibration``.
    calibration : RFMSummary
        The calibration summary.
    holdout_frequency : array-like of float
        Purchases of each calibration customer in the hold-out period.
    holdout_duration : float
        Length of the hold-out period, in the summary's time unit.
    ax : matplotlib Axes, optional
        Draw here; default a new figure.
    max_frequency : int, default 7
        Customers with this many calibration purchases or more are pooled in the last point.
    unit : str, optional
        The time unit's name ("week"); default from the summary.
    title : str, optional
        The title (``None``: none).
    **kwargs
        Passed to ``ax.plot``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from cxmodel.models import BetaGeo, RFMSummary
    >>> cal = RFMSummary(np.array(["a", "b", "c"], dtype=object), np.array([0.0, 1, 3]),
    ...                  np.array([0.0, 2, 8]), np.array([10.0, 10, 10]), np.zeros(3), "W")
    >>> m = BetaGeo()
    >>> m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> ax = plot_calibration_purchases_vs_holdout_purchases(m, cal, [0, 1, 2], 10.0)
    >>> len(ax.lines)
    2
    >>> matplotlib.pyplot.close(ax.figure)
    """
    model = _fitted(
        model, "conditional_expected_purchases", "plot_calibration_purchases_vs_holdout_purchases()"
    )
    holdout_duration = real(
        holdout_duration, "plot_calibration_purchases_vs_holdout_purchases()", "holdout_duration"
    )
    if holdout_duration <= 0:
        raise DataError(
            "plot_calibration_purchases_vs_holdout_purchases(): holdout_duration must be > 0 "
            f"time units; got {holdout_duration!r}"
        )
    holdout_frequency = float_array(
        holdout_frequency, "plot_calibration_purchases_vs_holdout_purchases()", "holdout_frequency"
    )
    unusable = ~(np.isfinite(holdout_frequency) & (holdout_frequency >= 0))
    if np.any(unusable):
        row = int(np.flatnonzero(unusable)[0])
        raise DataError(
            f"plot_calibration_purchases_vs_holdout_purchases(): holdout_frequency[{row}] is "
            f"{float(holdout_frequency.reshape(-1)[row])!r}; hold-out purchases must be counts "
            f">= 0 ({int(unusable.sum()):,} such values)"
        )
    max_frequency = _max_frequency(
        max_frequency, "plot_calibration_purchases_vs_holdout_purchases()"
    )
    ax = axes(ax)
    x, t_x, big_t = _history(calibration)
    actual = np.asarray(holdout_frequency, dtype=np.float64).reshape(-1)
    if actual.shape != x.shape:
        raise DataError(
            f"holdout_frequency has {actual.size} values for {x.size} calibration customers"
        )
    predicted = np.asarray(
        model.conditional_expected_purchases(float(holdout_duration), x, t_x, big_t),
        dtype=np.float64,
    )
    group = np.minimum(x.astype(np.int64), max_frequency)
    n = np.bincount(group, minlength=max_frequency + 1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.bincount(group, weights=actual, minlength=max_frequency + 1) / n
        mean_pred = np.bincount(group, weights=predicted, minlength=max_frequency + 1) / n
    pos = np.arange(max_frequency + 1, dtype=np.float64)
    options: dict[str, Any] = {"marker": "o", "linewidth": 1.8}
    ax.plot(
        pos,
        mean_actual,
        color=colour(0),
        label="Actual",
        **artist_options("plot", options, kwargs, set_here=("color", "label")),
    )
    ax.plot(
        pos,
        mean_pred,
        color=colour(1),
        linestyle="--",
        label="Model",
        **artist_options("plot", options, kwargs, set_here=("color", "linestyle", "label")),
    )
    labels = [f"{b}\n(n={count(c)})" for b, c in zip(_bins(max_frequency), n.tolist())]
    ax.set_xticks(pos, labels=labels, fontsize=8)
    ax.legend(frameon=False, fontsize=9)
    word = _unit(calibration, unit)
    return finish(
        ax,
        title=title,
        xlabel="Repeat purchases in the calibration period",
        ylabel=f"Average purchases in the {number(float(holdout_duration))}-{word} hold-out",
    )
