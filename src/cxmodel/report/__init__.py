"""The CX report: one overview of an interaction log, as text or one self-contained HTML page.

Examples
--------
>>> import cxmodel as cx
>>> report = cx.report.cx_report(cx.datasets.synthetic(customers=300, seed=1).log)
>>> report.sections[0].title, "Key indicators" in [s.title for s in report.sections]
('Overview', True)
"""

from cxmodel.report._report import (
    KPI,
    CXReport,
    LeftOut,
    ReportFigure,
    ReportSection,
    ReportTable,
    cx_report,
)
from cxmodel.report._sections import ACT_NOW_DAYS, REPORT_RULES

__all__ = [
    "ACT_NOW_DAYS",
    "KPI",
    "REPORT_RULES",
    "CXReport",
    "LeftOut",
    "ReportFigure",
    "ReportSection",
    "ReportTable",
    "cx_report",
]
