"""Customer-value models: RFM summaries, buy-till-you-die estimators, CLV, survival regression."""

from __future__ import annotations

from cxmodel.models._base import Convergence
from cxmodel.models._betageo import BetaGeo, ModifiedBetaGeo
from cxmodel.models._churn import (
    ACTIVITY_KINDS,
    ChurnRisk,
    ChurnValidation,
    auc_score,
    churn_features,
    churn_risk,
    validate_churn,
)
from cxmodel.models._clv import CLVResult, customer_lifetime_value
from cxmodel.models._cox import CoxPH, RegressionSummary, concordance_index
from cxmodel.models._discrete import BetaGeoBetaBinom, ShiftedBetaGeo
from cxmodel.models._hazard import DiscreteHazard, expand_person_period
from cxmodel.models._pareto import ParetoNBD
from cxmodel.models._rfm import RFMSummary, calibration_holdout_split, rfm_summary
from cxmodel.models._spend import GammaGamma

__all__ = [
    "ACTIVITY_KINDS",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "CLVResult",
    "ChurnRisk",
    "ChurnValidation",
    "Convergence",
    "CoxPH",
    "DiscreteHazard",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "RFMSummary",
    "RegressionSummary",
    "ShiftedBetaGeo",
    "auc_score",
    "calibration_holdout_split",
    "churn_features",
    "churn_risk",
    "concordance_index",
    "customer_lifetime_value",
    "expand_person_period",
    "rfm_summary",
    "validate_churn",
]
