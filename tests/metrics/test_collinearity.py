"""Collinearity of drivers: variance inflation factors and what implies a collinear column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning
from cxmodel.metrics._collinearity import (
    VIF_LIMIT,
    implied_by,
    variance_inflation,
    warn_near_collinear,
)


def _r2_on_others(x: np.ndarray, j: int) -> float:
    """R^2 of column j regressed on the other columns and an intercept, written out."""
    design = np.column_stack([np.ones(x.shape[0]), np.delete(x, j, axis=1)])
    beta = np.linalg.lstsq(design, x[:, j], rcond=None)[0]
    e = x[:, j] - design @ beta
    c = x[:, j] - x[:, j].mean()
    return float(1 - e @ e / (c @ c))


class TestVarianceInflation:
    def test_hand_computed(self) -> None:
        """Correlation 2 / sqrt(8) between two columns: R^2 = 0.5, a factor of 2 each; a third
        column uncorrelated with both has 1."""
        x = np.array([[1.0, 1, 1], [1, 0, -1], [-1, 0, -1], [-1, -1, 1]])
        assert variance_inflation(x).tolist() == pytest.approx([2.0, 2.0, 1.0], abs=1e-12)

    def test_equals_one_over_one_minus_r2(self) -> None:
        """Against the definition on correlated random drivers."""
        rng = np.random.default_rng(0)
        x = rng.normal(size=(300, 4))
        x[:, 2] = x[:, 0] - x[:, 1] + 0.3 * rng.normal(size=300)
        expected = [1 / (1 - _r2_on_others(x, j)) for j in range(4)]
        assert variance_inflation(x) == pytest.approx(expected, rel=1e-9)

    def test_degenerate_columns(self) -> None:
        """A constant column or one the others imply exactly is inflated without bound; a lone
        column has 1; no column gives an empty answer."""
        a = np.array([0.0, 1, 2, 4])
        assert variance_inflation(np.column_stack([a, np.full(4, 3.0)])).tolist() == [1.0, np.inf]
        assert variance_inflation(np.column_stack([a, 2 * a + 1])).tolist() == [np.inf, np.inf]
        assert variance_inflation(a[:, None]).tolist() == [1.0]
        assert variance_inflation(np.empty((4, 0))).tolist() == []

    @settings(max_examples=50, deadline=None)
    @given(
        seed=st.integers(0, 2**32 - 1),
        scale=st.floats(1e-3, 1e3),
        shift=st.floats(-1e3, 1e3),
    )
    def test_at_least_one_and_unit_free(self, seed: int, scale: float, shift: float) -> None:
        """Factors are at least 1 and do not change when a column is rescaled or shifted."""
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(50, 3))
        x[:, 1] += x[:, 0]
        vif = variance_inflation(x)
        moved = x.copy()
        moved[:, 1] = moved[:, 1] * scale + shift
        assert np.all(vif >= 1.0 - 1e-12)
        assert variance_inflation(moved) == pytest.approx(vif, rel=1e-6)


class TestImpliedBy:
    def test_duplicate_names_the_original(self) -> None:
        ones, a, b = np.ones(5), np.array([0.0, 1, 1, 0, 1]), np.array([1.0, 0, 1, 0, 0])
        design = np.column_stack([ones, a, b, b])
        assert implied_by(design, 3, ["'a'", "'b'", "'c'"]) == (
            "'c' is implied by 'b': the two are equal on every one of the 5 rows; leave one out"
        )

    def test_combination_names_only_the_columns_used(self) -> None:
        """c = 1 - a: implied by 'a' (and the intercept), not by 'b'."""
        ones, a, b = np.ones(5), np.array([0.0, 1, 1, 0, 1]), np.array([1.0, 0, 1, 0, 0])
        design = np.column_stack([ones, a, b, 1 - a])
        assert implied_by(design, 3, ["'a'", "'b'", "'c'"]).startswith("'c' is implied by 'a' (")


class TestWarning:
    def test_names_each_inflated_driver_with_its_factor_and_partner(self) -> None:
        rng = np.random.default_rng(1)
        a, c = rng.normal(size=400), rng.normal(size=400)
        b = a + 0.05 * rng.normal(size=400)
        x = np.column_stack([a, b, c])
        vif = variance_inflation(x)
        r = np.corrcoef(a, b)[0, 1]
        with pytest.warns(DataWarning) as caught:
            got = warn_near_collinear(x, ["a", "b", "c"], "driver_model()")
        message = str(caught[0].message)
        assert f"'a' (VIF {vif[0]:,.1f}; correlation {r:.3f} with 'b')" in message
        assert f"'b' (VIF {vif[1]:,.1f}; correlation {r:.3f} with 'a')" in message
        assert "'c'" not in message and message.startswith("driver_model(): 2 of 3 drivers")
        assert got.tolist() == vif.tolist()

    def test_silent_at_or_below_the_limit(self) -> None:
        """Unrelated drivers (factors near 1, below the documented limit of 10) pass quietly
        (warnings are errors in this suite)."""
        assert VIF_LIMIT == 10.0
        rng = np.random.default_rng(2)
        x = rng.normal(size=(200, 2))
        got = warn_near_collinear(x, ["a", "b"], "driver_model()")
        assert np.all(got < VIF_LIMIT)
