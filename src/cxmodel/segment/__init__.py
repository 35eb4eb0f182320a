"""Customer segmentation: RFM scores and maps, profiles, contrasts and clusters."""

from cxmodel._stats import newcombe_interval, welch_interval, wilson_interval
from cxmodel.segment._cluster import Clusters, cluster, standardise
from cxmodel.segment._contrast import Contrast, contrast
from cxmodel.segment._profile import SegmentProfile, profile_segments
from cxmodel.segment._rfm import RFMScores, rank_scores, rfm_scores
from cxmodel.segment._rules import RuleSegments, rule_segments
from cxmodel.segment._segment_map import (
    DEFAULT_SEGMENT_MAP,
    RFMSegments,
    SegmentMap,
    SegmentRule,
    rfm_segments,
)

__all__ = [
    "DEFAULT_SEGMENT_MAP",
    "Clusters",
    "Contrast",
    "RFMScores",
    "RFMSegments",
    "RuleSegments",
    "SegmentMap",
    "SegmentProfile",
    "SegmentRule",
    "cluster",
    "contrast",
    "newcombe_interval",
    "profile_segments",
    "rank_scores",
    "rfm_scores",
    "rfm_segments",
    "rule_segments",
    "standardise",
    "welch_interval",
    "wilson_interval",
]
