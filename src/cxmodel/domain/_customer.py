"""Customers and their consent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from cxmodel._arguments import got
from cxmodel._time import to_utc
from cxmodel.domain._mapping import frozen_mapping
from cxmodel.errors import SchemaError, ValueTypeError

__all__ = ["Consent", "Customer"]


def _purposes(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):  # {"marketing": False} read as a set would grant it
        raise ValueTypeError(
            f"'granted' must be a set of purposes (str); got a mapping {dict(value)!r}: pass "
            "the purposes granted, e.g. {purpose for purpose, ok in flags.items() if ok}"
        )
    if not isinstance(value, Iterable):
        raise ValueTypeError(f"'granted' must be a set of purposes (str); got {got(value)}")
    purposes: set[str] = set()
    for purpose in value:
        if not isinstance(purpose, str) or not purpose.strip():
            raise SchemaError(f"consent purpose {purpose!r} must be a non-empty string")
        purposes.add(_purpose(purpose))
    return frozenset(purposes)


def _purpose(purpose: str) -> str:
    """A purpose as consent compares it: trimmed and case-folded."""
    return purpose.strip().casefold()


@attrs.frozen
class Consent:
    """The purposes and channels a customer agreed to (``marketing``, ``service``, ``email`` ...).

    Anything not granted is not consented: no record means no consent. Purposes are kept
    trimmed and case-folded, as consent interactions are compared, so ``{"Email"}`` and
    ``{"email "}`` are the same consent.

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
        if not isinstance(purpose, str):
            raise ValueTypeError(f"allows(): purpose must be text (a str); got {got(purpose)}")
        return _purpose(purpose) in self.granted


def _customer_id(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"'customer_id' must be a non-empty string (got {value!r})")


def _traits(value: Any) -> MappingProxyType[str, Any]:
    return frozen_mapping(value, "traits")


@attrs.frozen
class Customer:
    """A person or account, with traits and consent.

    Two customers are equal when their ids, traits, consent and creation times are; the hash
    leaves the traits out (their values need not be hashable).

    Examples
    --------
    >>> Customer("c1", traits={"plan": "pro"}).traits["plan"]
    'pro'
    """

    customer_id: str = attrs.field(validator=_customer_id)
    traits: MappingProxyType[str, Any] = attrs.field(
        factory=dict, kw_only=True, converter=_traits, hash=False
    )
    consent: Consent = attrs.field(factory=Consent, kw_only=True)
    created_at: datetime | None = attrs.field(
        default=None, kw_only=True, converter=attrs.converters.optional(to_utc)
    )
