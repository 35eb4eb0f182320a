"""Helpers of the report tests."""

from __future__ import annotations

from cxmodel.report import CXReport, ReportSection


def section_of(report: CXReport, title: str) -> ReportSection:
    """The section of ``report`` with this title."""
    return next(s for s in report.sections if s.title == title)
