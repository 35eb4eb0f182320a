"""Typed domain objects: customers, touchpoints, interactions and journeys.

Frozen, slotted attrs classes, validated on construction, for applications that handle one
customer or one event at a time. Analyses run on :class:`cxmodel.log.InteractionLog`.
"""

from cxmodel.domain._customer import Consent, Customer
from cxmodel.domain._interaction import MONEY_KINDS, Interaction
from cxmodel.domain._journey import Journey
from cxmodel.domain._kinds import (
    METRIC_SCALES,
    STANDARD_KINDS,
    STANDARD_QUESTIONS,
    Channel,
    Kind,
    Question,
    QuestionType,
    Stage,
    question_catalogue,
)
from cxmodel.domain._touchpoint import DEFAULT_CATALOGUE, Touchpoint, TouchpointCatalogue

__all__ = [
    "DEFAULT_CATALOGUE",
    "METRIC_SCALES",
    "MONEY_KINDS",
    "STANDARD_KINDS",
    "STANDARD_QUESTIONS",
    "Channel",
    "Consent",
    "Customer",
    "Interaction",
    "Journey",
    "Kind",
    "Question",
    "QuestionType",
    "Stage",
    "Touchpoint",
    "TouchpointCatalogue",
    "question_catalogue",
]
