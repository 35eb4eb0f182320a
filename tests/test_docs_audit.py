"""Behaviour a reader of the documentation would expect and the code does not give yet.

Each test states what the documentation leads a user to expect; it is marked ``xfail(strict=True)``
until the code is fixed, so the fix shows up as an unexpected pass to remove the mark.
"""

from __future__ import annotations

import warnings

import pytest

import cxmodel as cx
from cxmodel.errors import DataWarning


class TestCustomerLifetimesRepr:
    @pytest.mark.xfail(
        strict=True,
        reason="CustomerLifetimes shows as_of as raw epoch microseconds (as_of=1735603200000000), "
        "where other results (ChurnRisk) print the time",
    )
    def test_repr_shows_as_of_as_a_time(self) -> None:
        """The summary line of customer_lifetimes names its as_of as a date a reader can read."""
        log = cx.InteractionLog.from_arrays(
            ["a", "a", "b"],
            ["2024-10-01T00:00:00Z", "2024-12-01T00:00:00Z", "2024-11-01T00:00:00Z"],
            "view",
        ).with_observed_until("2024-12-31T00:00:00Z")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            lifetimes = cx.metrics.customer_lifetimes(log, "2024-12-31T00:00:00Z")
        assert "2024-12-31" in repr(lifetimes).splitlines()[0]
