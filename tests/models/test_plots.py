"""Tests of the models' plot methods: each draws what the function of the same name in
cxmodel.plot draws, into the axes given, and returns them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from cxmodel.models import BetaGeo, RFMSummary

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
plot = pytest.importorskip("cxmodel.plot")

#: Six customers: (frequency, recency, T) in weeks.
SUMMARY = RFMSummary(
    np.array(list("abcdef"), dtype=object),
    np.array([0.0, 1, 2, 3, 1, 5]),
    np.array([0.0, 1, 4, 5, 3, 6]),
    np.full(6, 6.0),
    np.zeros(6),
    "W",
)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def model() -> BetaGeo:
    """BG/NBD with the published CDNOW parameters."""
    m = BetaGeo()
    m.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    return m


def _drawn(ax: Any) -> list[Any]:
    """What the axes show: image data, line data and bar heights (-1 where nothing is)."""
    return (
        [np.nan_to_num(np.ma.filled(im.get_array(), -1.0), nan=-1.0).tolist() for im in ax.images]
        + [
            np.nan_to_num(np.asarray(line.get_ydata(), float), nan=-1.0).tolist()
            for line in ax.lines
        ]
        + [p.get_height() for p in ax.patches]
    )


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("plot_frequency_recency_matrix", (SUMMARY,)),
        ("plot_probability_alive_matrix", (SUMMARY,)),
        ("plot_period_transactions", (SUMMARY,)),
        ("plot_calibration_purchases_vs_holdout_purchases", (SUMMARY, [0, 1, 1, 2, 0, 3], 3.0)),
    ],
    ids=["frequency-recency", "probability-alive", "period-transactions", "calibration"],
)
def test_method_draws_what_the_function_draws(
    model: BetaGeo, method: str, args: tuple[Any, ...]
) -> None:
    """The method returns the axes it was given, drawn as the plot function draws them."""
    _, (mine, theirs) = plt.subplots(1, 2)
    out = getattr(model, method)(*args, ax=mine)
    getattr(plot, method)(model, *args, ax=theirs)
    assert out is mine
    expected = _drawn(theirs)
    assert expected and expected == _drawn(mine)
    assert theirs.get_title() == mine.get_title()


def test_keyword_options_reach_the_function(model: BetaGeo) -> None:
    """Options such as max_frequency pass through: bars for 0..3+ actual and model."""
    ax = model.plot_period_transactions(SUMMARY, max_frequency=3)
    assert len(ax.patches) == 8
