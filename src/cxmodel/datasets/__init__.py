"""Data sets: a synthetic CX world with known ground truth, and the CDNOW purchase history."""

from cxmodel.datasets._cdnow import CdnowSummary, cdnow, cdnow_summary

__all__ = ["CdnowSummary", "cdnow", "cdnow_summary"]
