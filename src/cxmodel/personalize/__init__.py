"""Personalisation: per-customer preferences for channel, content and timing."""

from cxmodel.personalize._preferences import DEFAULT_OUTREACH, Preferences, preferences

__all__ = ["DEFAULT_OUTREACH", "Preferences", "preferences"]
