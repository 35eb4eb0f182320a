"""The CX report: one overview of an interaction log, as text or HTML."""

from cxmodel.report._report import REPORT_RULES, CXReport, ReportSection, cx_report

__all__ = ["REPORT_RULES", "CXReport", "ReportSection", "cx_report"]
