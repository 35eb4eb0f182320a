"""The CX report: sections computed from a log, text and HTML forms, sections left out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel._time import to_us
from cxmodel.cli import main
from cxmodel.errors import DataError
from cxmodel.report import CXReport, ReportFigure, ReportSection, cx_report
from cxmodel.report._figures import has_matplotlib
from cxmodel.report._sections import _figure

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


@pytest.fixture(scope="module")
def world_log() -> cx.InteractionLog:
    return cx.datasets.synthetic(customers=400, seed=3).log


@pytest.fixture(scope="module")
def world_report(world_log: cx.InteractionLog) -> CXReport:
    return cx_report(world_log)


def _only(log: cx.InteractionLog, kinds: tuple[str, ...]) -> cx.InteractionLog:
    mask = np.zeros(len(log), dtype=bool)
    for kind in kinds:
        mask |= log.kind_mask(kind)
    return log.filter(mask)


def _section(report: CXReport, title: str) -> ReportSection:
    return next(s for s in report.sections if s.title == title)


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
        segments = dict(_section(world_report, "RFM segments and personas").rows)
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
        text = str(_section(world_report, "Customer value"))
        assert "typical customer buys" in text and "still active" in text
        assert not re.search(r"\br \d|alpha|BG/NBD parameters|Gamma-Gamma parameters", text)

    def test_act_now_table(self, world_report: CXReport) -> None:
        """Triggers list the customers they concern: the first few and a count of the rest."""
        section = _section(world_report, "Act now (triggers)")
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


class TestLeftOut:
    @pytest.mark.parametrize(
        ("kinds", "present", "absent"),
        [
            pytest.param(
                ("purchase",),
                {"Customer value", "Cohort retention", "RFM segments and personas"},
                {"NPS over time", "Purchase funnel", "Experience drivers", "Friction points"},
                id="only-purchases",
            ),
            pytest.param(
                ("survey",),
                {"Key indicators", "NPS over time"},
                {"Customer value", "RFM segments and personas", "Purchase funnel"},
                id="only-surveys",
            ),
            pytest.param(
                ("view", "product_view", "search", "add_to_cart", "checkout"),
                {"Common next steps", "Friction points"},
                {"Customer value", "NPS over time", "Purchase funnel", "Cohort retention"},
                id="only-clickstream",
            ),
        ],
    )
    def test_partial_logs(
        self,
        world_log: cx.InteractionLog,
        kinds: tuple[str, ...],
        present: set[str],
        absent: set[str],
    ) -> None:
        """A log with one family of interactions gets its sections; the rest are left out
        with a one-line reason each, in the text and in the page."""
        report = cx_report(_only(world_log, kinds))
        titles = {s.title for s in report.sections}
        assert present <= titles
        assert not absent & titles
        reasons = {item.title: item.reason for item in report.left_out}
        assert absent <= set(reasons)
        assert all(reason and "\n" not in reason for reason in reasons.values())
        assert "Left out" in str(report)
        page = report.to_html()
        assert all(f"id='left-out-{item.key}'" in page for item in report.left_out)

    def test_no_purchases_or_surveys(self) -> None:
        """Two views: an overview, the triggers and reasons for everything else."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "b"], timestamp=[0, 86_400], kind=["view", "login"]
        )
        report = cx_report(log)
        assert [s.title for s in report.sections] == ["Overview", "Act now (triggers)"]
        reasons = {item.title: item.reason for item in report.left_out}
        assert reasons["Customer value"] == "the log has no purchases"
        assert "no survey answers" in reasons["Key indicators"]

    def test_empty_log_is_an_error(self) -> None:
        """An empty log cannot be reported on."""
        empty = cx.InteractionLog.from_arrays(customer_id=[], timestamp=[], kind=[])
        with pytest.raises(DataError, match="at least one interaction"):
            cx_report(empty)

    def test_as_of_before_the_log_is_an_error(self, world_log: cx.InteractionLog) -> None:
        """A report date before the first interaction says so."""
        with pytest.raises(DataError, match="at or before as_of"):
            cx_report(world_log, as_of="2000-01-01T00:00:00Z")


def test_cdnow_value_with_zero_spend_buyers() -> None:
    """CDNOW has repeat buyers whose purchases are worth 0: the value section keeps them out of
    the spend model, says so, and the report is built."""
    report = cx_report(cx.datasets.cdnow())
    value = _section(report, "Customer value")
    assert "worth 0 left out of the lifetime value" in value.note
    assert "expected value of today's buyers, 12 months" in dict(value.rows)
    assert {"NPS over time", "Purchase funnel"} <= {item.title for item in report.left_out}


def test_as_of_uses_only_earlier_interactions(world_log: cx.InteractionLog) -> None:
    """A report as of mid-year counts only the interactions up to then."""
    report = cx_report(world_log, as_of="2024-06-30T00:00:00Z")
    seen = int(np.count_nonzero(world_log.timestamps <= to_us("2024-06-30T00:00:00Z")))
    assert dict(report.sections[0].rows)["interactions"] == f"{seen:,}"
    assert f"{report.as_of:%Y-%m-%d}" == "2024-06-30"


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


class TestCommandLine:
    def test_writes_the_page(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`cxmodel report --sample --out` prints the report and writes the page."""
        out = tmp_path / "report.html"
        assert main(["report", "--sample", "--customers", "300", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "Customer value" in printed and f"HTML report written to {out}" in printed
        assert "fewer than 30 answers" in printed  # 300 customers give few answers a month
        assert out.read_text(encoding="utf-8").startswith("<!doctype html>")

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


def test_churn_risk_count_matches_gap_rule(
    world_log: cx.InteractionLog, world_report: CXReport
) -> None:
    """'churn_risk' customers are those with a 90-day silence ending in the report's last 30 days."""
    line = dict(_section(world_report, "Act now (triggers)").rows)["churn_risk"]
    as_of = int(world_log.timestamps.max())
    day = 86_400 * 10**6
    t = world_log.timestamps
    codes = world_log.customer_codes
    nxt = np.append(t[1:], np.iinfo(np.int64).max)
    last_of_customer = np.append(codes[1:] != codes[:-1], True)
    nxt[last_of_customer] = np.iinfo(np.int64).max
    due = t + 90 * day
    fires = (nxt > due) & (due <= as_of) & (due > as_of - 30 * day)
    expected = np.unique(codes[fires]).size
    assert line == f"{expected:,} customers in the last 30 days"
