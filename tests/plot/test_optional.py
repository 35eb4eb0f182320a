"""Without matplotlib, the analyses and cxmodel.plot import, and .plot() names the extra."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cxmodel.datasets import cdnow_summary
from cxmodel.errors import MissingDependencyError
from cxmodel.journey import attribution, friction, funnel, paths, step_matrix, transitions
from cxmodel.metrics import cohort_retention, compare_nps, customer_lifetimes, nps, value_summary
from cxmodel.models import BetaGeo
from cxmodel.segment import rfm_scores, rfm_segments
from cxmodel.triggers import Firings

AS_OF = "2025-01-01T00:00Z"


def test_importing_does_not_import_matplotlib() -> None:
    code = (
        "import sys, cxmodel.plot, cxmodel.metrics, cxmodel.journey, cxmodel.segment, "
        "cxmodel.models, cxmodel.triggers; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _calls(log: Any) -> list[Callable[[], Any]]:
    bg = BetaGeo()
    bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    summary = cdnow_summary()
    scores = rfm_scores(log, as_of=AS_OF)
    return [
        customer_lifetimes(log, AS_OF).kaplan_meier().plot,
        value_summary(log, by="channel").plot,
        cohort_retention(log).plot,
        compare_nps(nps([10, 0] * 20), nps([9, 3] * 20)).plot,
        funnel(log, ["view", "purchase"]).plot,
        transitions(log).plot,
        step_matrix(log, steps=2).plot,
        paths(log, top=3).plot,
        attribution(log, model="last").plot,
        friction(log, errors=()).plot,
        rfm_segments(scores).plot,
        Firings().plot,
        lambda: bg.plot_frequency_recency_matrix(summary),
        lambda: bg.plot_probability_alive_matrix(summary),
        lambda: bg.plot_period_transactions(summary),
        lambda: bg.plot_calibration_purchases_vs_holdout_purchases(summary, summary.x, 39.0),
    ]


def test_plot_without_matplotlib_names_the_extra(world: Any, no_matplotlib: None) -> None:
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for call in _calls(world.log):
        with pytest.raises(MissingDependencyError, match=r'pip install "cxmodel\[plot\]"'):
            call()
    assert len(plt.get_fignums()) == before  # nothing was drawn


def test_real_helper_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper itself, with matplotlib made unimportable, gives the same message."""
    for name in ("matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(
        MissingDependencyError, match=r'requires matplotlib: pip install "cxmodel\[plot\]"'
    ):
        nps(np.array([10, 0, 7, 9] * 20), by=np.array(["a", "b"] * 40)).plot()


def test_drawing_into_own_figure_leaves_pyplot_alone() -> None:
    """A server rendering SVG into its own Figure never imports pyplot."""
    code = (
        "import io, sys\n"
        "from matplotlib.figure import Figure\n"
        "from cxmodel.metrics import kaplan_meier\n"
        "fig = Figure()\n"
        "kaplan_meier([1, 2, 3], [1, 0, 1]).plot(ax=fig.add_subplot())\n"
        "fig.savefig(io.StringIO(), format='svg')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
