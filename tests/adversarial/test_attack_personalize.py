"""Preferences and next best actions attacked: number arguments that Python or numpy hold but
a float cannot (an int past 1e308, numpy scalars), and favourites over a large catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.personalize import preferences

AS_OF = "2024-02-01T00:00Z"


def _one_purchase() -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
    )


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
