"""Data sets: a synthetic CX world with known ground truth, and the CDNOW purchase history."""

from cxmodel.datasets._cdnow import CdnowSummary, cdnow, cdnow_summary
from cxmodel.datasets._synthetic import synthetic
from cxmodel.datasets._world import SyntheticTruth, SyntheticWorld

__all__ = [
    "CdnowSummary",
    "SyntheticTruth",
    "SyntheticWorld",
    "cdnow",
    "cdnow_summary",
    "synthetic",
]
