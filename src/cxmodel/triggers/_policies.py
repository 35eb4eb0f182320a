"""A rule's policies for one firing: quiet hours, consent, ``once per customer`` and
``cooldown``, as the streaming engine applies them one firing at a time.

The batch evaluator applies the same definitions to arrays of firings (its quiet hours and
policy steps in ``_batch.py`` are tested equal to these by the stream-equals-batch tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cxmodel.triggers._operators import shift
from cxmodel.triggers._rules import Rule

__all__ = ["consent_key", "policy_reason", "quiet_until"]

_DAY = 86_400_000_000
_MINUTE = 60_000_000


def consent_key(purpose: str) -> str:
    """A purpose as compared: trimmed and case-folded (``' Marketing '`` is ``marketing``)."""
    return purpose.strip().casefold()


def _delay(time: int, start: int, end: int) -> int:
    tod = time % _DAY
    if start <= end:
        return time - tod + end if start <= tod < end else time
    if tod >= start:
        return time - tod + _DAY + end
    return time - tod + end if tod < end else time


def quiet_until(rule: Rule, time: int, zone: str | None) -> int:
    """When a firing at ``time`` may go out: the end of the rule's quiet hours if ``time``
    falls inside them (on the customer's wall clock in ``zone`` when the rule is in customer
    time; UTC otherwise), else ``time``."""
    quiet = rule.quiet
    if quiet is None:
        return time
    start, end = quiet.start * _MINUTE, quiet.end * _MINUTE
    if zone is None:
        return _delay(time, start, end)
    from cxmodel.triggers._calendar import Zones, local_to_utc, utc_offsets

    zones = Zones(np.zeros(1, dtype=np.int64), (zone,))
    offset = int(utc_offsets(np.array([time], dtype=np.int64), zones)[0])
    local = time + offset
    target = _delay(local, start, end)
    if target == local:
        return time
    ends = int(local_to_utc(np.array([target], dtype=np.int64), zones)[0])
    return ends if ends > time else target - offset


def policy_reason(
    rule: Rule, last_emitted: int | None, time: int, consent: bool, zone: str | None
) -> str | None:
    """Why a firing at ``time`` is suppressed (``None``: it is emitted), given the customer's
    last emitted firing of the rule and its consent: ``once per customer [every D]`` first,
    then ``cooldown D`` (an earlier firing strictly after ``time - D``), then consent."""
    if last_emitted is not None:
        if rule.once:
            every = rule.once_every
            if every is None:
                return "once per customer"
            if last_emitted > shift(time, every, zone, -1):
                return f"once per customer every {every}"
        if rule.cooldown is not None and last_emitted > shift(time, rule.cooldown, zone, -1):
            return f"cooldown {rule.cooldown}"
    if not consent:
        return f"no consent for {rule.consent}"
    return None


def customer_consent(customers: Mapping[str, Any], customer: str, purpose: str) -> bool:
    """Consent from the customer's record (when no consent interaction decides)."""
    consent = getattr(customers.get(customer), "consent", None)
    return consent is not None and bool(consent.allows(purpose))
