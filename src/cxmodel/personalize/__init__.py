"""Personalisation: per-customer preferences and the next best action."""

from cxmodel.personalize._next_best_action import (
    HOLDOUT_NAME,
    Action,
    NextBestActions,
    next_best_action,
)
from cxmodel.personalize._preferences import DEFAULT_OUTREACH, Preferences, preferences

__all__ = [
    "DEFAULT_OUTREACH",
    "HOLDOUT_NAME",
    "Action",
    "NextBestActions",
    "Preferences",
    "next_best_action",
    "preferences",
]
