"""Journey stages, channels and the standard interaction kinds."""

from __future__ import annotations

from enum import Enum

__all__ = ["METRIC_SCALES", "STANDARD_KINDS", "Channel", "Kind", "Stage"]


class Stage(str, Enum):
    """The stage of the customer journey a touchpoint belongs to.

    Examples
    --------
    >>> Stage("service") is Stage.SERVICE
    True
    """

    AWARENESS = "awareness"
    CONSIDERATION = "consideration"
    PURCHASE = "purchase"
    SERVICE = "service"
    LOYALTY = "loyalty"
    ADVOCACY = "advocacy"


class Channel(str, Enum):
    """The medium through which customer and business meet.

    Examples
    --------
    >>> Channel.EMAIL.value
    'email'
    """

    WEB = "web"
    APP = "app"
    STORE = "store"
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    PUSH = "push"
    SMS = "sms"
    SOCIAL = "social"
    DELIVERY = "delivery"
    SURVEY = "survey"
    OTHER = "other"


class Kind(str, Enum):
    """The standard interaction kinds. Users may log kinds of their own as plain strings.

    Examples
    --------
    >>> Kind.PURCHASE.value
    'purchase'
    """

    VIEW = "view"
    PRODUCT_VIEW = "product_view"
    SEARCH = "search"
    ADD_TO_CART = "add_to_cart"
    CHECKOUT = "checkout"
    PURCHASE = "purchase"
    RETURN = "return"
    REFUND = "refund"
    TICKET_OPENED = "ticket_opened"
    TICKET_REPLIED = "ticket_replied"
    TICKET_RESOLVED = "ticket_resolved"
    CALL = "call"
    CHAT = "chat"
    SURVEY = "survey"
    EMAIL_SENT = "email_sent"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    PUSH_SENT = "push_sent"
    PUSH_OPENED = "push_opened"
    DELIVERY = "delivery"
    SIGNUP = "signup"
    LOGIN = "login"
    CANCEL = "cancel"
    CONSENT_GRANTED = "consent_granted"
    CONSENT_REVOKED = "consent_revoked"


STANDARD_KINDS: tuple[str, ...] = tuple(kind.value for kind in Kind)
"""The names of the standard interaction kinds, in journey order."""

METRIC_SCALES: dict[str, tuple[float, float]] = {
    "nps": (0.0, 10.0),
    "csat": (1.0, 5.0),
    "ces": (1.0, 7.0),
}
"""The closed score range of each survey metric."""
