"""Preferences and next best actions attacked: number arguments that Python or numpy hold but
a float cannot (an int past 1e308, numpy scalars), and favourites over a large catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.personalize import Action, next_best_action, preferences

AS_OF = "2024-02-01T00:00Z"


def _one_purchase() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
    )


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    """Two buyers, neither with marketing consent, seen until June."""
    log = InteractionLog.from_arrays(
        customer_id=["a", "b"],
        timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
        kind=["purchase", "purchase"],
        value=[10.0, 20.0],
    ).with_observed_until("2024-06-01T00:00Z")
    return CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")


CALL = [Action("call", "frequency >= 1", "3", needs_consent=False)]


class TestSmoothing:
    def test_an_int_too_large_for_a_float_is_refused(self) -> None:
        """10**400 is a finite int that no float holds: a SchemaError, not an OverflowError."""
        with pytest.raises(SchemaError, match="smoothing"):
            preferences(_one_purchase(), as_of=AS_OF, smoothing=10**400)

    def test_a_bool_is_not_a_pseudo_count(self) -> None:
        """smoothing=True would silently be a pseudo-count of 1."""
        with pytest.raises(ValueTypeError, match="smoothing"):
            preferences(_one_purchase(), as_of=AS_OF, smoothing=True)

    def test_a_numpy_integer_is_a_number(self) -> None:
        """np.int64(2) (a count read from an array) smooths as 2 does."""
        numpy_two = preferences(_one_purchase(), as_of=AS_OF, smoothing=np.int64(2))
        python_two = preferences(_one_purchase(), as_of=AS_OF, smoothing=2)
        assert numpy_two.to_pandas().equals(python_two.to_pandas())


class TestHoldout:
    @pytest.mark.parametrize(
        "holdout", [np.int64(50), np.float32(50.0), np.float64(50.0)], ids=repr
    )
    def test_numpy_numbers_are_percentages(self, table: CustomerTable, holdout: object) -> None:
        """A numpy 50 was refused as 'not strictly between 0 and 100'; it is the same
        experiment as a Python 50."""
        held = next_best_action(table, CALL, holdout=holdout, salt="s")  # type: ignore[arg-type]
        assert (
            held.held_out.tolist()
            == next_best_action(table, CALL, holdout=50, salt="s").held_out.tolist()
        )

    def test_an_int_too_large_for_a_float_is_refused(self, table: CustomerTable) -> None:
        with pytest.raises(SchemaError, match="strictly between 0 and 100"):
            next_best_action(table, CALL, holdout=10**400)
