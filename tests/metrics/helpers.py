"""Helpers of the metric tests: answer sets with published or hand-computed scores."""

from __future__ import annotations

#: 100 NPS answers: 50 promoters, 30 passives, 20 detractors (NPS 30).
GOLDEN_NPS = [10] * 50 + [8] * 30 + [3] * 20
