"""Plots of the metrics results, on the synthetic world."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes

import cxmodel as cx
from cxmodel.errors import SchemaError
from cxmodel.metrics import (
    MetricTable,
    SmallSampleWarning,
    cohort_retention,
    compare_nps,
    customer_lifetimes,
    experience_drivers,
    kaplan_meier_by,
    nps,
    ticket_volume,
    value_summary,
)
from cxmodel.plot import plot_comparison, plot_survival

Check = Callable[[Callable[..., Any]], Axes]
AS_OF = "2025-01-01T00:00Z"


def _quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        return fn()


def test_survival_curve(world: Any, check: Check) -> None:
    curve = customer_lifetimes(world.log, AS_OF).kaplan_meier()
    ax = check(curve.plot)
    assert ax.get_ylabel() == "Share of customers still active"
    assert ax.collections  # the confidence band
    assert ax.get_legend() is None


def test_survival_curves_by_group(world: Any, check: Check) -> None:
    lt = customer_lifetimes(world.log, AS_OF)
    groups = np.where(np.arange(len(lt.durations)) % 2 == 0, "even", "odd")
    curves = kaplan_meier_by(lt.durations, lt.observed, groups=groups)
    ax = check(lambda ax=None: plot_survival(curves, ax, ci=False))
    assert len(ax.lines) == 2 and not ax.collections
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text().split(" (")[0] for t in legend.get_texts()] == ["even", "odd"]


def test_survival_needs_a_curve() -> None:
    with pytest.raises(SchemaError):
        plot_survival({})


def test_metric_table_by_period_is_a_trend(world: Any, check: Check) -> None:
    table = _quiet(lambda: nps(world.log, period="month"))
    assert isinstance(table, MetricTable)
    ax = check(table.plot)
    assert len(ax.lines) == 1 and ax.collections  # the line and its interval band
    assert ax.get_ylabel().startswith("NPS")


def test_metric_table_by_group_is_bars_with_whiskers(world: Any, check: Check) -> None:
    labels = np.where(world.log.customer_codes % 2 == 0, "A", "B")
    table = _quiet(lambda: cx.metrics.csat(world.log, by=labels))
    ax = check(table.plot)
    assert len(ax.patches) == 2
    assert ax.lines or ax.collections  # whiskers
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["A", "B"]


def test_metric_table_groups_by_period(world: Any, check: Check) -> None:
    table = ticket_volume(world.log, by="topic", period="month")
    ax = check(table.plot)
    assert len(ax.lines) == len(set(table["topic"].tolist()))
    assert ax.get_ylabel() == "Tickets opened"


def test_metric_table_other_column(world: Any, check: Check) -> None:
    table = value_summary(world.log, by="channel")
    ax = check(lambda ax=None: table.plot(ax, value="aov"))
    assert ax.get_ylabel() == "Average order value"
    with pytest.raises(SchemaError):
        table.plot(value="nope")


def test_experience_drivers_forest(world: Any, check: Check) -> None:
    table = experience_drivers(world.log, min_n=5)
    ax = check(table.plot)
    assert ax.get_title() == "Experience drivers"
    assert len(ax.get_yticklabels()) == min(15, len(table))


def test_comparison_forest(world: Any, check: Check) -> None:
    a, b = nps([10] * 60 + [0] * 40), nps([10] * 40 + [0] * 60)
    ax = check(compare_nps(a, b).plot)
    assert len(ax.get_yticklabels()) == 1
    ax = check(
        lambda ax=None: plot_comparison({"x": compare_nps(a, b), "y": compare_nps(b, a)}, ax)
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]


def test_cohort_retention_heatmap(world: Any, check: Check) -> None:
    result = cohort_retention(world.log, period="month")
    ax = check(result.plot)
    image = ax.images[0].get_array()
    assert np.ma.is_masked(image) and image.mask.any()  # not-yet-observed cells are blank
    assert ax.texts and all(t.get_text().endswith("%") for t in ax.texts)
    observed = int(np.isfinite(result.rates).sum())
    assert len(ax.texts) == observed
    ax = check(lambda ax=None: result.plot(ax, annotate=False, max_periods=3))
    assert not ax.texts and ax.images[0].get_array().shape[1] == 4
