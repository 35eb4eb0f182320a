"""The CX report: sections computed from a log, text and HTML forms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.cli import main
from cxmodel.errors import DataError
from cxmodel.report import cx_report


@pytest.fixture(scope="module")
def world_log() -> cx.InteractionLog:
    return cx.datasets.synthetic(customers=400, seed=3).log


class TestReport:
    def test_sections_and_counts(self, world_log: cx.InteractionLog) -> None:
        """The overview counts match the log; value and segment sections are present."""
        report = cx_report(world_log)
        titles = [s.title for s in report.sections]
        assert titles == [
            "Overview",
            "Survey scores",
            "Customer value",
            "RFM segments",
            "Purchase funnel",
            "Act now (triggers)",
        ]
        overview = dict(report.sections[0].rows)
        assert overview["interactions"] == f"{len(world_log):,}"
        assert overview["customers"] == f"{world_log.n_customers:,}"
        segments = dict(report.sections[3].rows)
        buyers = np.unique(world_log.customer_codes[world_log.kind_mask("purchase")]).size
        assert sum(int(v.split()[0].replace(",", "")) for v in segments.values()) == buyers

    def test_nps_matches_metrics(self, world_log: cx.InteractionLog) -> None:
        """The NPS line is the value cxmodel.metrics.nps computes on the survey rows."""
        from cxmodel.metrics import NPSResult, nps

        result = nps(world_log.filter(world_log.kind_mask("survey")))
        assert isinstance(result, NPSResult)
        line = dict(cx_report(world_log).sections[1].rows)["NPS"]
        assert line.startswith(f"{result.value:+.1f} ") and f"n {result.n:,}" in line

    def test_text_and_html(self, world_log: cx.InteractionLog) -> None:
        """The text form lists every section; the HTML form escapes labels."""
        report = cx_report(world_log)
        text = str(report)
        assert all(s.title in text for s in report.sections)
        assert report.to_html().startswith("<!doctype html>")
        assert "Can&#x27;t Lose" in report.to_html() or "Can't Lose" not in text

    def test_no_purchases_leaves_value_out(self) -> None:
        """A log without purchases or surveys has no value, segment, survey or funnel section."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "b"], timestamp=[0, 86_400], kind=["view", "login"]
        )
        titles = [s.title for s in cx_report(log).sections]
        assert titles == ["Overview", "Act now (triggers)"]

    def test_empty_log_is_an_error(self) -> None:
        """An empty log cannot be reported on."""
        empty = cx.InteractionLog.from_arrays(customer_id=[], timestamp=[], kind=[])
        with pytest.raises(DataError, match="at least one interaction"):
            cx_report(empty)


def test_cli_report_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cxmodel report --sample --html` prints the report and writes the page."""
    out = tmp_path / "report.html"
    assert main(["report", "--sample", "--customers", "300", "--html", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Customer value" in printed
    assert "small sample, interval unreliable" in printed  # 300 customers give few CES answers
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_churn_risk_count_matches_gap_rule(world_log: cx.InteractionLog) -> None:
    """'churn_risk' customers are those with a 90-day silence ending in the report's last 30 days."""
    report = cx_report(world_log)
    line = dict(report.sections[-1].rows)["churn_risk"]
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
