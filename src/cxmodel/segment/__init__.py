"""Customer segmentation: RFM scores and maps, profiles, contrasts and clusters."""

from cxmodel.segment._rfm import RFMScores, rank_scores, rfm_scores
from cxmodel.segment._segment_map import (
    DEFAULT_SEGMENT_MAP,
    RFMSegments,
    SegmentMap,
    SegmentRule,
    rfm_segments,
)

__all__ = [
    "DEFAULT_SEGMENT_MAP",
    "RFMScores",
    "RFMSegments",
    "SegmentMap",
    "SegmentRule",
    "rank_scores",
    "rfm_scores",
    "rfm_segments",
]
