"""Customer-value models: RFM summaries, buy-till-you-die estimators and CLV."""

from __future__ import annotations

from cxmodel.models._base import Convergence
from cxmodel.models._betageo import BetaGeo, ModifiedBetaGeo
from cxmodel.models._clv import CLVResult, customer_lifetime_value
from cxmodel.models._discrete import BetaGeoBetaBinom, ShiftedBetaGeo
from cxmodel.models._pareto import ParetoNBD
from cxmodel.models._rfm import RFMSummary, calibration_holdout_split, rfm_summary
from cxmodel.models._spend import GammaGamma

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "CLVResult",
    "Convergence",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMSummary",
    "ShiftedBetaGeo",
    "calibration_holdout_split",
    "customer_lifetime_value",
    "rfm_summary",
]
