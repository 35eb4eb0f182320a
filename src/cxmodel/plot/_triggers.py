"""Plot of trigger firings: how often each rule fired, and was suppressed, over time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flag, of_type
from cxmodel._periods import period_name
from cxmodel.plot._style import (
    GREY,
    artist_options,
    axes,
    closes_on_error,
    colour,
    finish,
    legend,
    plain,
)
from cxmodel.triggers import Firings

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_firings"]

_PERIODS = ("day", "week", "month")


def _bucket(times: npt.NDArray[np.int64], period: str) -> npt.NDArray[np.datetime64]:
    """Microsecond UTC times floored to the start of their day, ISO week (Monday) or month."""
    days = times.astype("datetime64[us]").astype("datetime64[D]")
    if period == "day":
        return days
    if period == "week":
        # 1970-01-01 was a Thursday: shift so that weeks start on Monday
        offset = (days.astype(np.int64) + 3) % 7
        out: npt.NDArray[np.datetime64] = days - offset.astype("timedelta64[D]")
        return out
    return days.astype("datetime64[M]").astype("datetime64[D]")


def _columns(firings: Firings) -> tuple[list[str], npt.NDArray[np.int64]]:
    names = [f.trigger for f in firings]
    stamps = [f.time.timestamp() for f in firings]
    us = np.round(np.asarray(stamps, dtype=np.float64) * 1e6).astype(np.int64)
    return names, us


@closes_on_error
def plot_firings(
    firings: Firings,
    ax: Axes | None = None,
    *,
    period: str | None = None,
    suppressed: bool = True,
    title: str | None = "Trigger firings over time",
    **kwargs: Any,
) -> Axes:
    """Firings per trigger per period (solid lines), and the firings a policy suppressed
    (dashed, same colour).

    Parameters
    ----------
    firings : Firings
        From :func:`~cxmodel.triggers.evaluate` or a :class:`~cxmodel.triggers.TriggerEngine`.
    ax : matplotlib Axes, optional
    period : {"day", "week", "month"}, optional
        Bucket width (UTC); default by the time span: days up to 2 months, weeks up to 2
        years, months beyond.
    suppressed : bool
        Also draw the suppressed firings.
    title : str, optional
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import evaluate, parse
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b"], kind=["purchase"] * 2,
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-09T00:00Z"], value=[5.0, 7.0])
    >>> rules = parse("trigger big:\\n    when purchase as p where p.value > 1\\n    emit alert")
    >>> ax = plot_firings(evaluate(rules, log, as_of="2024-02-01T00:00Z"))
    >>> ax.get_ylabel()
    'Firings per day'
    >>> matplotlib.pyplot.close(ax.figure)
    """
    firings = of_type(
        firings,
        Firings,
        "plot_firings()",
        "firings",
        "Firings (from cxmodel.triggers.evaluate or an engine)",
    )
    ax = axes(ax, figsize=(8.0, 4.2))
    if period is not None:
        period_name(period, _PERIODS)
    fired, fired_us = _columns(firings)
    suppressed = flag(suppressed, "plot_firings()", "suppressed")
    held, held_us = _columns(firings.suppressed) if suppressed else ([], np.zeros(0, np.int64))
    everything = np.concatenate([fired_us, held_us])
    if period is None:
        span_days = (
            (int(everything.max()) - int(everything.min())) / 86_400e6 if everything.size else 0
        )
        period = "day" if span_days <= 62 else "week" if span_days <= 730 else "month"
    triggers = sorted(set(fired) | set(held))
    if not triggers:
        ax.text(0.5, 0.5, "No firings", ha="center", va="center", transform=ax.transAxes,
                color=GREY)  # fmt: skip
    buckets = _bucket(everything, period)
    axis = np.unique(buckets)
    for i, name in enumerate(triggers):
        for names, us, style, what in (
            (fired, fired_us, "-", "fired"),
            (held, held_us, "--", "suppressed"),
        ):
            sel = np.array([n == name for n in names], dtype=bool)
            if not sel.any():
                continue
            at = np.searchsorted(axis, _bucket(us[sel], period))
            counts = np.bincount(at, minlength=len(axis))
            label = plain(name) if what == "fired" else f"{plain(name)} (suppressed)"
            options: dict[str, Any] = {"color": colour(i), "linestyle": style, "linewidth": 1.6}
            if len(axis) == 1:  # one period: a line of one point is not drawn without a marker
                options["marker"] = "o"
            ax.plot(
                axis,
                counts,
                label=label,
                **artist_options("plot", options, kwargs, set_here=("label",)),
            )
    if triggers:
        legend(ax, frameon=False, fontsize=8, ncols=2 if len(triggers) > 3 else 1)
        ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=30)
    return finish(ax, title=title, xlabel="Date (UTC)", ylabel=f"Firings per {period}")
