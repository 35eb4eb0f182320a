"""Condition drivers: experience drivers named by a condition on the log."""

from __future__ import annotations

import pytest

import cxmodel as cx
from cxmodel.errors import TriggerTypeError
from cxmodel.metrics import SmallSampleWarning, experience_drivers

NAN = float("nan")


class TestConditionDrivers:
    def _log(self) -> cx.InteractionLog:
        return cx.InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "b", "c"],
            timestamp=["2024-01-01T00:00Z", "2024-01-05T00:00Z", "2024-01-01T00:00Z",
                       "2024-01-05T00:00Z", "2024-01-05T00:00Z"],
            kind=["delivery", "survey", "delivery", "survey", "survey"],
            late=["yes", None, "no", None, None],
            metric=[None, "nps", None, "nps", "nps"],
            score=[NAN, 2.0, NAN, 10.0, 9.0],
        )  # fmt: skip

    def test_late_delivery_driver(self) -> None:
        """A condition over properties is a driver: with = a's -100, without = (100 + 100) / 2."""
        with pytest.warns(SmallSampleWarning, match="'late delivery' .1 with, 2 without."):
            table = experience_drivers(
                self._log(),
                kinds=(),
                conditions={"late delivery": 'kind == "delivery" and late == "yes"'},
            )
        assert table["driver"].tolist() == ["late delivery"]
        assert table["with"].tolist() == [-100.0] and table["without"].tolist() == [100.0]
        assert table["difference"].tolist() == [-200.0]

    def test_condition_is_type_checked(self) -> None:
        """A misspelt column in a condition is reported with a did-you-mean."""
        with pytest.raises(TriggerTypeError, match=r"(?s)driver 'x'.*did you mean late"):
            experience_drivers(self._log(), kinds=(), conditions={"x": 'lte == "yes"'})
