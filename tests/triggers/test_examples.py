"""The packaged example rules are the specification's six acceptance rules."""

from __future__ import annotations

from cxmodel.triggers import EXAMPLE_RULES, parse
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE


def test_example_rules_equal_the_specification() -> None:
    """cxmodel.triggers.EXAMPLE_RULES parses to the same rules as the verbatim spec text."""
    assert parse(EXAMPLE_RULES) == parse(ACCEPTANCE)
    assert parse(EXAMPLE_RULES).names == (
        "churn_risk",
        "detractor_follow_up",
        "vip_opportunity",
        "browse_abandonment",
        "satisfaction_check",
        "payment_escalation",
    )
