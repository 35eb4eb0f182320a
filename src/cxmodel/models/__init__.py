"""Customer-value models: RFM summaries, buy-till-you-die estimators, CLV, survival regression."""

from __future__ import annotations

from cxmodel.models._base import Convergence
from cxmodel.models._betageo import BetaGeo, ModifiedBetaGeo
from cxmodel.models._clv import CLVResult, customer_lifetime_value
from cxmodel.models._cox import CoxPH, RegressionSummary, concordance_index
from cxmodel.models._discrete import BetaGeoBetaBinom, ShiftedBetaGeo
from cxmodel.models._pareto import ParetoNBD
from cxmodel.models._rfm import RFMSummary, calibration_holdout_split, rfm_summary
from cxmodel.models._spend import GammaGamma

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "CLVResult",
    "Convergence",
    "CoxPH",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMSummary",
    "RegressionSummary",
    "ShiftedBetaGeo",
    "calibration_holdout_split",
    "concordance_index",
    "customer_lifetime_value",
    "rfm_summary",
]
