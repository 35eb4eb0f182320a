"""Tests of parsing alert blocks: what an alert cannot say is refused with a stable code, its
place and a hint."""

from __future__ import annotations

import pytest

from cxmodel.errors import TriggerSyntaxError
from cxmodel.triggers import (
    parse,
)

GOOD = "when count(x within 1 days) > 1\n    emit y"


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("when count(x) > 1\n    emit y", "E226", "has no window"),
        ("when count(x within 1 months) > 1\n    emit y", "E226", "calendar months"),
        ("when first(x.value within 1 days) > 1\n    emit y", "E226", "no order across"),
        ("when count(x within 1 days) > value\n    emit y", "E226", "value in the condition"),
        ("when customer.plan == 1\n    emit y", "E226", "customer.plan in the condition"),
        ("when count(x where p.v == 1 within 1 days) > 1\n    emit y", "E226", "p.v in the"),
        ("when 1 > 0\n    emit y", "E226", "reads no aggregate"),
        (GOOD + "(v = value)", "E226", "emit y(v = ...)"),
        (
            "when count(x within 1 days) > 1\n    for customers where plan == 1\n    emit y",
            "E226",
            "the segment reads plan",
        ),
        (GOOD + "\n    holdout 10%", "E225", "'holdout' does not apply"),
        (GOOD + "\n    requires consent marketing", "E225", "'requires' does not apply"),
        (GOOD + "\n    quiet hours 22:00-06:00", "E225", "'quiet' does not apply"),
        (GOOD + "\n    in customer timezone", "E225", "'in customer timezone' does not"),
        (GOOD + "\n    if count(x within 1 days) > 2", "E225", "'if' does not apply"),
        (GOOD + "\n    cooldown 1 days\n    cooldown 2 days", "E206", "appears twice"),
        (GOOD + "\n    every 2 days", "E205", "expected an alert clause"),
        ("emit y", "E203", "has no 'when'"),
        ("when count(x within 1 days) > 1", "E204", "has no 'emit'"),
    ],
    ids=[
        "no-window",
        "months",
        "first",
        "bare-name",
        "trait",
        "bound-name",
        "no-aggregate",
        "payload-name",
        "segment-property",
        "holdout",
        "consent",
        "quiet-hours",
        "customer-time",
        "if",
        "twice",
        "unknown-clause",
        "no-when",
        "no-emit",
    ],
)
def test_syntax_diagnostics(text: str, code: str, message: str) -> None:
    """What an alert cannot say is refused with a stable code, the place and a hint."""
    with pytest.raises(TriggerSyntaxError) as info:
        parse("alert a:\n    " + text)
    found = [d for d in info.value.errors if d.code == code]
    assert found, info.value
    assert message in found[0].message
    assert found[0].line >= 1 and found[0].hint
