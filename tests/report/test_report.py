"""The CX report: sections computed from a log, text and HTML forms, the command line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import cxmodel as cx
from cxmodel._time import to_us
from cxmodel.cli import main
from cxmodel.report import CXReport, cx_report
from tests.report.helpers import section_of

ALL_TITLES = [
    "Overview",
    "Key indicators",
    "NPS over time",
    "Customer value",
    "Cohort retention",
    "Staying active, by last NPS answer",
    "Purchase funnel",
    "Common next steps",
    "Friction points",
    "RFM segments and personas",
    "VIPs vs churned customers",
    "Experience drivers",
    "Act now (triggers)",
]


class TestSyntheticWorld:
    def test_every_section(self, world_report: CXReport) -> None:
        """The synthetic world supports every section; none is left out."""
        assert [s.title for s in world_report.sections] == ALL_TITLES
        assert world_report.left_out == ()
        assert len({s.key for s in world_report.sections}) == len(ALL_TITLES)

    def test_overview_counts(self, world_log: cx.InteractionLog, world_report: CXReport) -> None:
        """The overview counts match the log; the RFM segments cover every buyer."""
        overview = dict(world_report.sections[0].rows)
        assert overview["interactions"] == f"{len(world_log):,}"
        assert overview["customers"] == f"{world_log.n_customers:,}"
        segments = dict(section_of(world_report, "RFM segments and personas").rows)
        buyers = np.unique(world_log.customer_codes[world_log.kind_mask("purchase")]).size
        assert sum(int(v.split()[0].replace(",", "")) for v in segments.values()) == buyers

    def test_nps_card_matches_metrics(
        self, world_log: cx.InteractionLog, world_report: CXReport
    ) -> None:
        """The NPS card is the value cxmodel.metrics.nps computes on the survey rows."""
        from cxmodel.metrics import NPSResult, nps

        result = nps(world_log.filter(world_log.kind_mask("survey")))
        assert isinstance(result, NPSResult)
        card = next(c for c in world_report.sections[1].cards if c.label == "NPS")
        assert card.value == f"{result.value:+.1f}"
        assert card.interval == f"95 % CI {result.ci[0]:+.1f} to {result.ci[1]:+.1f}"
        assert card.detail.startswith(f"{result.n:,} answers")

    def test_indicator_cards(self, world_report: CXReport) -> None:
        """Every indicator of the issue has a card with an interval."""
        cards = world_report.sections[1].cards
        labels = [c.label.split(" (")[0].split(",")[0] for c in cards]
        assert labels[:6] == ["NPS", "CSAT", "CES", "Churn", "Retention", "Repeat purchase"]
        # the value card, or the reason it is missing (this small world's fit is degenerate)
        assert labels[6:] == ["12-month value per buyer"] or (
            len(labels) == 6 and "no customer value" in world_report.sections[1].note
        )
        assert all(c.interval.startswith("95 % CI") for c in cards)

    def test_words_for_analysts(self, world_report: CXReport) -> None:
        """Customer value speaks of buying intervals and being active, not model parameters."""
        text = str(section_of(world_report, "Customer value"))
        assert "typical customer buys" in text and "still active" in text
        assert not re.search(r"\br \d|alpha|BG/NBD parameters|Gamma-Gamma parameters", text)

    def test_act_now_table(self, world_report: CXReport) -> None:
        """Triggers list the customers they concern: the first few and a count of the rest."""
        section = section_of(world_report, "Act now (triggers)")
        table = section.tables[0]
        assert table.columns[0] == "Trigger" and table.rows
        for _, _, count, who, why in table.rows:
            shown = who.split(" and ")[0].split(", ")
            assert len(shown) == min(5, int(count.replace(",", "")))
            assert why and "T00:" not in why  # dates, not ISO instants

    def test_text_and_html(self, world_report: CXReport) -> None:
        """The text form lists every section; the HTML form escapes labels."""
        text = str(world_report)
        assert all(s.title in text for s in world_report.sections)
        page = world_report.to_html(figures=False)
        assert page.startswith("<!doctype html>")
        assert "Can&#x27;t Lose" in page or "Can't Lose" not in text

    def test_html_is_self_contained(self, world_report: CXReport) -> None:
        """No script, no external stylesheet, image or font; links only within the page."""
        page = world_report.to_html()
        assert "<script" not in page and "<link" not in page and "@import" not in page
        assert not re.search(r"""(src|href)=['"](?!#|data:)""", page)  # inline only
        assert not re.search(r"url\((?!#)", page)
        assert "Content-Security-Policy" in page and "default-src 'none'" in page
        for section in world_report.sections:
            assert f"<section id='{section.key}'>" in page


def test_as_of_uses_only_earlier_interactions(world_log: cx.InteractionLog) -> None:
    """A report as of mid-year counts only the interactions up to then."""
    report = cx_report(world_log, as_of="2024-06-30T00:00:00Z")
    seen = int(np.count_nonzero(world_log.timestamps <= to_us("2024-06-30T00:00:00Z")))
    assert dict(report.sections[0].rows)["interactions"] == f"{seen:,}"
    assert f"{report.as_of:%Y-%m-%d}" == "2024-06-30"


class TestCommandLine:
    def test_writes_the_page(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`cxmodel report --sample --out` prints the report and writes the page."""
        out = tmp_path / "report.html"
        assert main(["report", "--sample", "--customers", "300", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "Customer value" in printed and f"HTML report written to {out}" in printed
        assert "fewer than 30 answers" in printed  # 300 customers give few answers a month
        assert out.read_text(encoding="utf-8").startswith("<!doctype html>")

    def test_writes_the_text(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`--out report.txt` writes the text printed (it wrote an HTML page under any name)."""
        out = tmp_path / "report.txt"
        assert main(["report", "--sample", "--customers", "300", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        text = out.read_text(encoding="utf-8")
        assert text.startswith("cxmodel CX report") and "<" not in text[:100]
        assert printed.startswith(text) and f"text report written to {out}" in printed

    def test_as_of(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--as-of sets the report date of the text and the page."""
        out = tmp_path / "report.html"
        argv = ["report", "--sample", "--customers", "300", "--out", str(out)]
        assert main([*argv, "--as-of", "2024-09-01T00:00:00Z"]) == 0
        assert "as of 2024-09-01 00:00 UTC" in capsys.readouterr().out
        assert "As of 01 September 2024" in out.read_text(encoding="utf-8")

    def test_refuses_to_overwrite(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An existing page is kept unless --force is given."""
        out = tmp_path / "report.html"
        out.write_text("precious", encoding="utf-8")
        assert main(["report", "--sample", "--customers", "100", "--out", str(out)]) == 2
        assert "--force" in capsys.readouterr().err
        assert out.read_text(encoding="utf-8") == "precious"


def test_a_refusal_headed_by_a_count_keeps_its_first_item() -> None:
    """A section refused with "2 errors:" and a list gives the first item, not just the count."""
    from cxmodel.errors import TriggerTypeError
    from cxmodel.report._report import _build

    def refuse(context: object) -> str:
        raise TriggerTypeError("2 errors:\nE302 line 1: unknown property 'x'\n\nE302 line 2: y")

    outcome, _ = _build(refuse, None, "a section")
    assert (
        outcome
        == "could not be computed on this data (2 errors: E302 line 1: unknown property 'x')"
    )
