"""The CX report, its figures and the command line against hostile input: names holding markup,
mathtext or control characters, degenerate and huge data, and bad command lines."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import CXModelError, DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.report import cx_report

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _world(**renamed_kinds: str) -> InteractionLog:
    """A small synthetic world with some kinds renamed (standard name -> hostile name)."""
    frame = cx.datasets.synthetic(customers=150, seed=2).log.to_pandas()
    for name in frame.columns:
        if str(frame[name].dtype) == "category":
            frame[name] = frame[name].astype(object)
    frame["kind"] = frame["kind"].replace(renamed_kinds)
    return InteractionLog.from_pandas(frame)


def _quiet(call: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _svg(ax: Any) -> str:
    """The figure of ``ax`` as SVG with its text kept as text."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        ax.figure.savefig(buffer, format="svg")
    return buffer.getvalue()


class TestDollarSignsInNames:
    """matplotlib reads text between two dollar signs as mathtext: a kind named ``$\\frac$``
    failed the whole page with a ValueError, and ``cost $5 or $6`` lost its words."""

    def test_the_page_draws_a_kind_that_is_bad_mathtext(self) -> None:
        log = _world(view="$\\frac$", email_sent="cost $5 or $6")
        page = _quiet(lambda: cx_report(log).to_html())
        assert "$\\frac$" in page and "cost $5 or $6" in page

    def test_a_plot_draws_the_name_as_written(self) -> None:
        log = _world(view="$\\frac$", email_sent="cost $5 or $6")
        svg = _svg(cx.journey.transitions(log).plot())
        assert "$\\frac$" in svg and "cost $5 or $6" in svg


def _small_log() -> InteractionLog:
    return InteractionLog.from_arrays(
        ["a", "a", "b", "b", "c"],
        ["2024-01-01T00:00Z", "2024-01-03T00:00Z", "2024-01-02T00:00Z", "2024-02-05T00:00Z",
         "2024-03-01T00:00Z"],
        ["view", "purchase", "view", "purchase", "survey"],
        value=[float("nan"), 5.0, float("nan"), 7.0, float("nan")],
        metric=[None, None, None, None, "nps"],
        score=[float("nan")] * 4 + [9.0],
    )  # fmt: skip


def _failing_plots() -> list[tuple[str, Any, type[Exception]]]:
    from cxmodel import plot
    from cxmodel.metrics import nps
    from cxmodel.models import BetaGeo, RFMSummary
    from cxmodel.triggers import evaluate, parse

    log = _small_log()
    firings = evaluate(
        parse("trigger t:\n    when purchase as p\n    emit thanks\n"),
        log,
        as_of="2024-04-01T00:00Z",
    )
    model = BetaGeo()
    model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    empty = RFMSummary(*(np.zeros(0, dtype=t) for t in (object, float, float, float, float)), "W")
    funnel = cx.journey.funnel(log, ["view", "purchase"])
    table = _quiet(lambda: nps(log, period="month"))
    return [
        ("survival of no curve", lambda: plot.plot_survival({}), SchemaError),
        ("metric table, unknown column", lambda: table.plot(value="nope"), SchemaError),
        ("firings, unknown period", lambda: firings.plot(period="year"), CXModelError),
        ("empty model summary", lambda: model.plot_period_transactions(empty), DataError),
        ("funnel, keyword matplotlib refuses", lambda: funnel.plot(bogus=1), AttributeError),
    ]


class TestFailedPlotsCloseTheirFigure:
    """A plot that made a pyplot figure and then failed left it open: called in a loop, the
    figures piled up (matplotlib warns after 20) until the process ran out of memory."""

    @pytest.mark.parametrize("case", range(5))
    def test_no_figure_is_left_open(self, case: int) -> None:
        name, draw, error = _failing_plots()[case]
        for _ in range(3):
            with pytest.raises(error):
                _quiet(draw)
        assert plt.get_fignums() == [], name
