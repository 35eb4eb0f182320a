"""Diagnostic plots of the fitted transaction models, on CDNOW and the synthetic world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from matplotlib.axes import Axes

from cxmodel.datasets import cdnow_summary
from cxmodel.errors import DataError
from cxmodel.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    ModifiedBetaGeo,
    ParetoNBD,
    RFMSummary,
    calibration_holdout_split,
)
from cxmodel.plot import plot_frequency_recency_matrix

Check = Callable[[Callable[..., Any]], Axes]
CDNOW_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def _with(cls: type, params: dict[str, float]) -> Any:
    model = cls()
    model.params_ = dict(params)
    return model


@pytest.fixture(scope="module")
def summary() -> Any:
    return cdnow_summary()


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    """Models with the published CDNOW parameters (weeks); fitting is tested elsewhere."""
    return {
        "BetaGeo": _with(BetaGeo, CDNOW_BG),
        "ModifiedBetaGeo": _with(
            ModifiedBetaGeo, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
        ),
        "ParetoNBD": _with(ParetoNBD, CDNOW_PARETO),
    }


NAMES = ["BetaGeo", "ModifiedBetaGeo", "ParetoNBD"]


@pytest.mark.parametrize("name", NAMES)
def test_frequency_recency_matrix(models: Any, summary: Any, check: Check, name: str) -> None:
    model = models[name]
    ax = check(lambda ax=None: model.plot_frequency_recency_matrix(summary, ax=ax))
    image = ax.images[0].get_array()
    assert image.shape == (int(summary.x.max()) + 1, int(summary.T.max()) + 1)
    assert image.mask[0, 1:].all() and not image.mask[0, 0]  # no repeat purchase: recency 0
    assert "next 1 week," in ax.get_title()


@pytest.mark.parametrize("name", NAMES)
def test_probability_alive_matrix(models: Any, summary: Any, check: Check, name: str) -> None:
    model = models[name]
    ax = check(lambda ax=None: model.plot_probability_alive_matrix(summary, ax=ax))
    values = ax.images[0].get_array().compressed()
    assert values.min() >= 0.0 and values.max() <= 1.0


@pytest.mark.parametrize("name", NAMES)
def test_period_transactions(models: Any, summary: Any, check: Check, name: str) -> None:
    model = models[name]
    ax = check(lambda ax=None: model.plot_period_transactions(summary, ax=ax))
    heights = np.array([p.get_height() for p in ax.patches]).reshape(2, -1)
    assert heights[0].sum() == len(summary)  # actual customers
    assert abs(heights[1].sum() - len(summary)) < 1e-6 * len(summary)  # model, all customers
    assert abs(heights[1, 0] - heights[0, 0]) < 0.1 * heights[0, 0]  # one-time buyers fit
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"


# the calibration weeks show no drop-out to speak of: a -> 0, and the plot is of that limit
@pytest.mark.filterwarnings("ignore::cxmodel.errors.ConvergenceWarning")
def test_calibration_vs_holdout(world: Any, check: Check) -> None:
    split = calibration_holdout_split(world.log, "2024-09-01Z", "2024-12-31Z", freq="W")
    model = BetaGeo().fit(split[0])
    ax = check(lambda ax=None: model.plot_calibration_purchases_vs_holdout_purchases(*split, ax=ax))
    actual, predicted = (line.get_ydata() for line in ax.lines)
    cal, holdout, _ = split
    assert actual[0] == pytest.approx(holdout[cal.frequency == 0].mean())
    assert len(predicted) == 8
    assert "hold-out" in ax.get_ylabel()


def test_bgbb_plots(check: Check) -> None:
    x, t_x, n = np.array([0.0, 1, 2, 3, 1, 5]), np.array([0.0, 1, 4, 5, 3, 6]), np.full(6, 6.0)
    model = BetaGeoBetaBinom(penalizer_coef=0.01).fit(
        frequency=x, recency=t_x, n_periods=n, weights=[10, 5, 4, 6, 3, 2]
    )
    summary = RFMSummary(np.array(list("abcdef"), dtype=object), x, t_x, n, np.zeros(6), "")
    ax = check(lambda ax=None: model.plot_frequency_recency_matrix(summary, ax=ax))
    image = ax.images[0].get_array()
    assert image.mask[3, 2] and not image.mask[2, 3]  # more purchases than opportunities
    check(lambda ax=None: model.plot_probability_alive_matrix(summary, ax=ax))
    ax = check(lambda ax=None: model.plot_period_transactions(summary, ax=ax, max_frequency=3))
    assert abs(sum(p.get_height() for p in ax.patches[4:]) - 6) < 1e-9
    check(lambda ax=None: model.plot_calibration_purchases_vs_holdout_purchases(
        summary, [0, 1, 1, 2, 0, 3], 3.0, ax=ax, max_frequency=3))  # fmt: skip


def test_matrix_needs_an_extent(models: Any) -> None:
    with pytest.raises(DataError, match="max_frequency"):
        plot_frequency_recency_matrix(models["BetaGeo"])
    ax = plot_frequency_recency_matrix(models["BetaGeo"], max_frequency=5, max_recency=10, t=4)
    assert ax.images[0].get_array().shape == (6, 11)
    assert "next 4 periods" in ax.get_title()


def test_holdout_length_must_match(models: Any, summary: Any) -> None:
    with pytest.raises(DataError, match="holdout_frequency"):
        models["BetaGeo"].plot_calibration_purchases_vs_holdout_purchases(summary, [1, 2], 39.0)


def _summary(x: list[float], t_x: list[float], big_t: list[float]) -> RFMSummary:
    ids = np.array([str(i) for i in range(len(x))], dtype=object)
    return RFMSummary(ids, np.array(x), np.array(t_x), np.array(big_t), np.zeros(len(x)), "W")


def test_empty_summary_is_refused(models: Any) -> None:
    """No customers: a DataError from every plot, not an empty figure."""
    empty = _summary([], [], [])
    model = models["BetaGeo"]
    for draw in (
        lambda: model.plot_frequency_recency_matrix(empty),
        lambda: model.plot_period_transactions(empty),
        lambda: model.plot_calibration_purchases_vs_holdout_purchases(empty, [], 10.0),
    ):
        with pytest.raises(DataError, match="the summary has no customers"):
            draw()


@pytest.mark.parametrize(
    ("holdout", "duration", "match"),
    [
        pytest.param([0.0, 1.0, 1.0], 0.0, r"holdout_duration must be > 0", id="no-hold-out"),
        pytest.param([0.0, float("nan"), 1.0], 5.0, r"holdout_frequency\[1\] is nan", id="nan"),
        pytest.param([0.0, -1.0, 1.0], 5.0, r"holdout_frequency\[1\] is -1\.0", id="negative"),
    ],
)
def test_holdout_values_are_checked(
    models: Any, holdout: list[float], duration: float, match: str
) -> None:
    """A hold-out of no time or an unknown count was drawn as if it were data."""
    cal = _summary([0, 1, 2], [0, 3, 5], [10, 10, 10])
    with pytest.raises(DataError, match=match):
        models["BetaGeo"].plot_calibration_purchases_vs_holdout_purchases(cal, holdout, duration)


def test_matrix_too_large_for_a_heatmap(models: Any) -> None:
    """A frequency of a million made a terabyte grid (MemoryError): refused, naming the size."""
    big = _summary([0, 1e6], [0, 1e6], [1e6, 1e6])
    with pytest.raises(DataError, match=r"1,000,002,000,001 cells.*max_frequency="):
        models["BetaGeo"].plot_frequency_recency_matrix(big)
