"""The CX report: one overview of an interaction log, as text or HTML."""

from cxmodel.report._report import CXReport, ReportSection, cx_report

__all__ = ["CXReport", "ReportSection", "cx_report"]
