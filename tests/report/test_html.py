"""Tests of the report page: one self-contained HTML document with escaped text, cards, tables,
a navigation bar and the sections left out."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from cxmodel.report import KPI, CXReport, LeftOut, ReportFigure, ReportSection, ReportTable
from cxmodel.report._html import render

AS_OF = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)
OVERVIEW = ReportSection(
    "Overview & totals",
    rows=(("customers", "<2>"),),
    key="overview",
    lead="What the log holds.",
    note="Counted as of the report date.",
)
INDICATORS = ReportSection(
    "Key indicators",
    key="indicators",
    cards=(KPI("NPS", "+12.0", "95 % CI +4.1 to +19.9", "380 answers"), KPI("CSAT", "81%")),
    tables=(ReportTable(("segment", "n"), (("Can't Lose", "3"),), more="and 2 more"),),
)


class TestRender:
    def test_page_head_and_date(self) -> None:
        """A complete document dated in its title and header, with a strict content policy."""
        page = render(CXReport(AS_OF, (OVERVIEW,)), figures=False)
        assert page.startswith("<!doctype html><html lang='en'>")
        assert page.endswith("</footer></main></body></html>")
        assert "<title>CX report, 2024-05-01</title>" in page
        assert "As of 01 May 2024, 09:30 UTC" in page
        assert "default-src 'none'" in page

    def test_text_is_escaped(self) -> None:
        """Titles, values and table cells are HTML-escaped."""
        page = render(CXReport(AS_OF, (OVERVIEW, INDICATORS)), figures=False)
        assert "<h2>Overview &amp; totals</h2>" in page
        assert "<td>&lt;2&gt;</td>" in page
        assert "<td>Can&#x27;t Lose</td>" in page

    def test_navigation_links_every_section(self) -> None:
        """The navigation bar links each section by its key, in order."""
        page = render(CXReport(AS_OF, (OVERVIEW, INDICATORS)), figures=False)
        nav = re.search(r"<nav[^>]*>(.*?)</nav>", page)
        assert nav is not None
        assert re.findall(r"href='([^']+)'", nav.group(1)) == ["#overview", "#indicators"]
        assert "<section id='overview'>" in page and "<section id='indicators'>" in page

    def test_cards_with_and_without_interval(self) -> None:
        """A card shows its label and value, and its interval and detail when it has them."""
        page = render(CXReport(AS_OF, (INDICATORS,)), figures=False)
        nps = ("<div class='card'><h3>NPS</h3><div class='value'>+12.0</div><div class='interval'>"
               "95 % CI +4.1 to +19.9</div><div class='detail'>380 answers</div></div>")  # fmt: skip
        assert nps in page
        assert "<div class='card'><h3>CSAT</h3><div class='value'>81%</div></div>" in page

    def test_lead_note_and_more(self) -> None:
        """The lead sentence, the note and the line for rows left out of a table are shown."""
        page = render(CXReport(AS_OF, (OVERVIEW, INDICATORS)), figures=False)
        assert "<p class='lead'>What the log holds.</p>" in page
        assert "<p class='note'>Counted as of the report date.</p>" in page
        assert "<p class='more'>and 2 more</p>" in page

    def test_left_out_sections(self) -> None:
        """Sections the data cannot support are listed with their reasons and linked."""
        left = (LeftOut("Customer value", "value", "the log has no purchases"),)
        page = render(CXReport(AS_OF, (OVERVIEW,), left), figures=False)
        assert "<a href='#left-out'>Left out</a>" in page
        assert ("<li id='left-out-value'><strong>Customer value</strong>: "
                "the log has no purchases</li>") in page  # fmt: skip
        assert "left-out" not in render(CXReport(AS_OF, (OVERVIEW,)), figures=False)

    def test_figures_off(self) -> None:
        """With figures=False nothing is drawn and the footer asks for nothing."""
        section = ReportSection("Bars", key="bars", figures=(ReportFigure(print, "bars"),))
        page = render(CXReport(AS_OF, (section,)), figures=False)
        assert "<svg" not in page and "<figure>" not in page
        assert "<footer>Made with cxmodel.</footer>" in page
