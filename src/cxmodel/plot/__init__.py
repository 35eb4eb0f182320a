"""Figures of the analyses' results, drawn with matplotlib (``pip install "cxmodel[plot]"``).

Every function takes a result and an optional matplotlib ``ax`` and returns the Axes it drew
on; without ``ax`` it makes a new pyplot figure (close it with ``plt.close(ax.figure)`` when
drawing many). The results have the same plots as methods: ``funnel(...).plot()``,
``kaplan_meier(...).plot()``, ``bg.plot_period_transactions(summary)``. Importing this package
does not import matplotlib; a call without it raises
:class:`~cxmodel.errors.MissingDependencyError` naming the ``plot`` extra. Colours come from
colour-blind-safe palettes (:data:`PALETTE`); matplotlib's global settings are never changed.
A plot's ``**kwargs`` go to the matplotlib call its docstring names, checked first against that
call and the artist it draws: a keyword neither takes is a
:class:`~cxmodel.errors.SchemaError` naming the plot and the keyword, with a did-you-mean.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from cxmodel.metrics import kaplan_meier
>>> ax = kaplan_meier([3, 5, 5, 8, 13], [1, 1, 0, 1, 0]).plot()
>>> ax.get_title()
'Survival (Kaplan-Meier)'
>>> matplotlib.pyplot.close(ax.figure)
"""

from __future__ import annotations

from cxmodel.plot._journey import (
    plot_attribution,
    plot_friction,
    plot_funnel,
    plot_funnel_comparison,
    plot_journey_comparison,
    plot_paths,
    plot_step_matrix,
    plot_transitions,
)
from cxmodel.plot._metrics import (
    plot_cohort_retention,
    plot_comparison,
    plot_drivers,
    plot_metric_table,
    plot_survival,
)
from cxmodel.plot._models import (
    plot_calibration_purchases_vs_holdout_purchases,
    plot_frequency_recency_matrix,
    plot_period_transactions,
    plot_probability_alive_matrix,
)
from cxmodel.plot._segment import plot_contrast, plot_rfm_segments
from cxmodel.plot._style import PALETTE, SEQUENTIAL
from cxmodel.plot._triggers import plot_firings

__all__ = [
    "PALETTE",
    "SEQUENTIAL",
    "plot_attribution",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cohort_retention",
    "plot_comparison",
    "plot_contrast",
    "plot_drivers",
    "plot_firings",
    "plot_frequency_recency_matrix",
    "plot_friction",
    "plot_funnel",
    "plot_funnel_comparison",
    "plot_journey_comparison",
    "plot_metric_table",
    "plot_paths",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
    "plot_rfm_segments",
    "plot_step_matrix",
    "plot_survival",
    "plot_transitions",
]
