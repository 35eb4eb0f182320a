"""Customers and their consent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from cxmodel._time import to_utc
from cxmodel.errors import SchemaError

__all__ = ["Consent", "Customer"]


def _purposes(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    purposes = frozenset(value)
    for purpose in purposes:
        if not isinstance(purpose, str) or not purpose:
            raise SchemaError(f"consent purpose {purpose!r} must be a non-empty string")
    return purposes


@attrs.frozen
class Consent:
    """The purposes and channels a customer agreed to (``marketing``, ``service``, ``email`` ...).

    Anything not granted is not consented: no record means no consent.

    Examples
    --------
    >>> consent = Consent(granted={"service", "email"})
    >>> consent.allows("email"), consent.allows("marketing")
    (True, False)
    """

    granted: frozenset[str] = attrs.field(factory=frozenset, converter=_purposes)
    updated_at: datetime | None = attrs.field(
        default=None, converter=attrs.converters.optional(to_utc)
    )

    def allows(self, purpose: str) -> bool:
        """Whether ``purpose`` was granted; purposes are compared trimmed and case-folded
        (``"Marketing "`` grants ``marketing``), as consent interactions are.

        Examples
        --------
        >>> Consent(granted={"Marketing"}).allows("marketing ")
        True
        """
        wanted = purpose.strip().casefold()
        return any(p.strip().casefold() == wanted for p in self.granted)


def _customer_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"'customer_id' must be a non-empty string (got {value!r})")


def _frozen_mapping(value: Mapping[str, Any]) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(value))


@attrs.frozen
class Customer:
    """A person or account, with traits and consent.

    Examples
    --------
    >>> Customer("c1", traits={"plan": "pro"}).traits["plan"]
    'pro'
    """

    customer_id: str = attrs.field(validator=_customer_id)
    traits: MappingProxyType[str, Any] = attrs.field(
        factory=dict, kw_only=True, converter=_frozen_mapping, eq=False
    )
    consent: Consent = attrs.field(factory=Consent, kw_only=True)
    created_at: datetime | None = attrs.field(
        default=None, kw_only=True, converter=attrs.converters.optional(to_utc)
    )
