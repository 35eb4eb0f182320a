"""Tests of the report's figures: a result's plot drawn to an inline SVG with ids unique to the page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cxmodel.report import CXReport, ReportFigure, ReportSection
from cxmodel.report._figures import can_plot, has_matplotlib, svg
from cxmodel.report._sections import _figure


class _Plottable:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        ax.bar(["a", "b"], [3, 1], label=kwargs.get("label"))
        return ax


class TestFigures:
    def test_figure_only_for_plottable_results(self) -> None:
        """A section gets a figure exactly when its result has .plot."""
        assert _figure(object(), "nothing") == ()
        (figure,) = _figure(_Plottable(), "bars")
        assert figure.alt == "bars"

    @pytest.mark.skipif(not has_matplotlib(), reason="figures need matplotlib (cxmodel[plot])")
    def test_figures_render_inline(self, world_report: CXReport) -> None:
        """A section's figure becomes an inline SVG with ids unique to the page."""
        result = _Plottable()
        section = ReportSection("Bars", key="bars", figures=_figure(result, "two bars") * 2)
        report = CXReport(world_report.as_of, (section,))
        page = report.to_html()
        assert page.count("<svg") == 2 and result.calls == [{}, {}]
        ids = re.findall(r'id="([^"]+)"', page)
        assert ids and len(ids) == len(set(ids))
        assert all(i.startswith(("bars-0-", "bars-1-")) for i in ids)
        assert "<?xml" not in page and "<!DOCTYPE svg" not in page
        assert "<svg" not in report.to_html(figures=False)

    def test_without_matplotlib(
        self, world_report: CXReport, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without matplotlib the page has the numbers and says how to get the figures."""
        monkeypatch.setattr("cxmodel.report._html.has_matplotlib", lambda: False)
        section = ReportSection("Bars", key="bars", figures=(ReportFigure(print, "bars"),))
        page = CXReport(world_report.as_of, (section,)).to_html()
        assert "<svg" not in page and "cxmodel[plot]" in page


@pytest.mark.skipif(not has_matplotlib(), reason="figures need matplotlib (cxmodel[plot])")
class TestSvg:
    def test_inline_element_scaled_to_its_container(self) -> None:
        """The markup is one <svg> element with a viewBox, no fixed size, prolog or DOCTYPE."""
        markup = svg(lambda ax: ax.plot([0, 1], [1, 0]))
        assert markup.startswith('<svg width="100%"') and 'role="img"' in markup
        assert "viewBox=" in markup and 'height="' not in markup.split(">", 1)[0]
        assert "<?xml" not in markup and "<!DOCTYPE" not in markup

    def test_ids_and_references_carry_the_prefix(self) -> None:
        """Every id and every reference to one starts with the figure's prefix."""
        markup = svg(lambda ax: ax.bar(["a", "b"], [3, 1]), id_prefix="f7-")
        ids = re.findall(r'\bid="([^"]+)"', markup)
        refs = re.findall(r'(?:url\(|href=")#([^")]+)', markup)
        assert ids and all(i.startswith("f7-") for i in ids)
        assert all(r.startswith("f7-") for r in refs)

    def test_text_stays_text(self) -> None:
        """Labels are written as text, not as glyph paths, so they can be read and searched."""
        markup = svg(lambda ax: ax.set_title("Weekly NPS"))
        assert "Weekly NPS" in markup


def test_can_plot() -> None:
    """Only an object with a callable ``plot`` can be drawn."""

    class NotCallable:
        plot = "no"

    assert (can_plot(_Plottable()), can_plot(object()), can_plot(NotCallable())) == (
        True,
        False,
        False,
    )
