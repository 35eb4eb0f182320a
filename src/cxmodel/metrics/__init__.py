"""CX metrics: survey scores and any survey question with intervals, accumulators, survival,
the effect of a trigger's action against its holdout, the recovery after an alert, experience drivers.

Definitions and formulas are in ``docs/guide/metrics.md``.
"""

from __future__ import annotations

from cxmodel._tables import MetricTable, SmallSampleWarning
from cxmodel.metrics._accumulators import ScoreAccumulator, ScoreCounts
from cxmodel.metrics._compare import Comparison, compare_nps, compare_proportions
from cxmodel.metrics._driver_model import DriverModel, driver_model
from cxmodel.metrics._drivers import experience_drivers
from cxmodel.metrics._effect import ActionEffect, action_effect
from cxmodel.metrics._fulfilment import on_time_delivery_rate, return_rate
from cxmodel.metrics._handle import HandleTime, average_handle_time, kaplan_meier_by
from cxmodel.metrics._questions import (
    RATED_KEYS,
    QuestionSummary,
    question_summary,
    rated_interactions,
    response_rate,
    satisfaction_by_stage,
)
from cxmodel.metrics._recovery import RECOVERED_AT, RecoveryRates, recovery_rate
from cxmodel.metrics._retention import (
    CohortRetention,
    RateResult,
    churn_rate,
    cohort_retention,
    repeat_purchase_rate,
    retention_rate,
)
from cxmodel.metrics._support import (
    TicketTimes,
    first_contact_resolution,
    one_touch_rate,
    sentiment_by_topic,
    ticket_times,
    ticket_volume,
)
from cxmodel.metrics._survey import (
    CESAccumulator,
    CESResult,
    CSATAccumulator,
    IntervalOptions,
    NPSAccumulator,
    NPSResult,
    ProportionResult,
    SurveyAccumulator,
    ces,
    csat,
    nps,
)
from cxmodel.metrics._survival import (
    CustomerLifetimes,
    LogRankResult,
    MultiLogRankResult,
    SurvivalCurve,
    customer_lifetimes,
    kaplan_meier,
    logrank_test,
    multivariate_logrank_test,
)
from cxmodel.metrics._tickets import TicketLifecycles, ticket_lifecycles
from cxmodel.metrics._value import value_summary

__all__ = [
    "RATED_KEYS",
    "RECOVERED_AT",
    "ActionEffect",
    "CESAccumulator",
    "CESResult",
    "CSATAccumulator",
    "CohortRetention",
    "Comparison",
    "CustomerLifetimes",
    "DriverModel",
    "HandleTime",
    "IntervalOptions",
    "LogRankResult",
    "MetricTable",
    "MultiLogRankResult",
    "NPSAccumulator",
    "NPSResult",
    "ProportionResult",
    "QuestionSummary",
    "RateResult",
    "RecoveryRates",
    "ScoreAccumulator",
    "ScoreCounts",
    "SmallSampleWarning",
    "SurveyAccumulator",
    "SurvivalCurve",
    "TicketLifecycles",
    "TicketTimes",
    "action_effect",
    "average_handle_time",
    "ces",
    "churn_rate",
    "cohort_retention",
    "compare_nps",
    "compare_proportions",
    "csat",
    "customer_lifetimes",
    "driver_model",
    "experience_drivers",
    "first_contact_resolution",
    "kaplan_meier",
    "kaplan_meier_by",
    "logrank_test",
    "multivariate_logrank_test",
    "nps",
    "on_time_delivery_rate",
    "one_touch_rate",
    "question_summary",
    "rated_interactions",
    "recovery_rate",
    "repeat_purchase_rate",
    "response_rate",
    "retention_rate",
    "return_rate",
    "satisfaction_by_stage",
    "sentiment_by_topic",
    "ticket_lifecycles",
    "ticket_times",
    "ticket_volume",
    "value_summary",
]
