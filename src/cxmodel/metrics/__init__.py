"""CX metrics: survey scores with intervals, mergeable accumulators, survival.

Definitions and formulas are in ``docs/guide/metrics.md``.
"""

from __future__ import annotations

from cxmodel.metrics._accumulators import ScoreAccumulator, ScoreCounts
from cxmodel.metrics._compare import Comparison, compare_nps, compare_proportions
from cxmodel.metrics._survey import (
    CESAccumulator,
    CESResult,
    CSATAccumulator,
    NPSAccumulator,
    NPSResult,
    ProportionResult,
    ces,
    csat,
    nps,
)
from cxmodel.metrics._tables import MetricTable, SmallSampleWarning

__all__ = [
    "CESAccumulator",
    "CESResult",
    "CSATAccumulator",
    "Comparison",
    "MetricTable",
    "NPSAccumulator",
    "NPSResult",
    "ProportionResult",
    "ScoreAccumulator",
    "ScoreCounts",
    "SmallSampleWarning",
    "ces",
    "compare_nps",
    "compare_proportions",
    "csat",
    "nps",
]
