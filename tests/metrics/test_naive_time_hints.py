"""Every naive-time hint names an argument the called function really has."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import churn_rate, cohort_retention, customer_lifetimes, retention_rate
from cxmodel.segment import rfm_scores
from cxmodel.triggers import evaluate, parse

NAIVE = "2024-02-01T00:00:00"


def _log() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a", "b"],
        timestamp=["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
        kind=["purchase", "purchase"],
    )


CASES = [
    pytest.param(InteractionLog.between, lambda: _log().between(NAIVE), id="log.between"),
    pytest.param(
        churn_rate, lambda: churn_rate(_log(), NAIVE, "2024-03-01T00:00:00Z"), id="churn_rate"
    ),
    pytest.param(
        retention_rate,
        lambda: retention_rate(_log(), "2024-01-01T00:00:00Z", NAIVE),
        id="retention_rate",
    ),
    pytest.param(
        cohort_retention, lambda: cohort_retention(_log(), as_of=NAIVE), id="cohort_retention"
    ),
    pytest.param(
        customer_lifetimes, lambda: customer_lifetimes(_log(), NAIVE), id="customer_lifetimes"
    ),
    pytest.param(rfm_scores, lambda: rfm_scores(_log(), as_of=NAIVE), id="rfm_scores"),
    pytest.param(
        InteractionLog.customers_table,
        lambda: _log().customers_table(datetime(2024, 2, 1)),
        id="customers_table-naive-datetime",
    ),
    pytest.param(
        evaluate,
        lambda: evaluate(parse("trigger t:\n    when purchase\n    emit x"), _log(), as_of=NAIVE),
        id="triggers.evaluate",
    ),
    pytest.param(
        InteractionLog.from_arrays,
        lambda: InteractionLog.from_arrays(["a"], [NAIVE], ["view"]),
        id="from_arrays-has-timezone",
    ),
]


@pytest.mark.parametrize(("function", "call"), CASES)
def test_hint_names_only_real_arguments(
    function: Callable[..., Any], call: Callable[[], Any]
) -> None:
    """The hint names ``timezone=`` only where it exists; otherwise it says to add an offset."""
    with pytest.raises(SchemaError, match="has no time zone") as caught:
        call()
    message = str(caught.value)
    named = set(re.findall(r"pass (\w+)=", message))
    parameters = set(inspect.signature(function).parameters)
    assert named <= parameters, (named, parameters)
    if "timezone" in parameters:
        assert "pass timezone='UTC'" in message
    else:  # an example with an offset: the general hint, or the function's own (as_of=...Z)
        assert "'2024-02-01T00:00:00Z'" in message or "='2024-02-01T00:00:00Z'" in message
