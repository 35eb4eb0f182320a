"""The power of Newcombe's interval, and the minimal detectable difference it implies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cxmodel._power import (
    MAX_CELLS,
    _cells,
    newcombe_mde,
    newcombe_mde_normal,
    newcombe_power,
)
from cxmodel._stats import Z95, newcombe_bounds, z_value

SIZES = [  # n_treated, n_held_out, held-out rate
    (400, 100, 0.05),
    (800, 200, 0.10),
    (200, 10, 0.02),
    (30, 30, 0.50),
    (1000, 1000, 0.0),
    (5000, 1000, 0.05),
]


def full_power(d: float, n_t: int, n_h: int, p_h: float, z: float) -> float:
    """The power by every pair of counts, without truncation."""
    x_t, x_h = np.arange(n_t + 1), np.arange(n_h + 1)
    low, high = newcombe_bounds(x_t[:, None], n_t, x_h[None, :], n_h, z)
    f_t, f_h = stats.binom.pmf(x_t, n_t, p_h + d), stats.binom.pmf(x_h, n_h, p_h)
    return float(f_t @ ((low > 0) | (high < 0)) @ f_h)


class TestPower:
    @pytest.mark.parametrize(("n_t", "n_h", "p_h"), SIZES[:4])
    def test_truncation_leaves_out_at_most_4_tails(self, n_t: int, n_h: int, p_h: float) -> None:
        """Against every pair of counts: the two tails left out of each binomial hold at most
        1e-10 each, so the power differs by at most 4e-10."""
        for d in (0.0, 0.03, 0.1, 0.3):
            exact = full_power(d, n_t, n_h, p_h, Z95)
            assert abs(newcombe_power(d, n_t, n_h, p_h, Z95) - exact) <= 4e-10

    @pytest.mark.parametrize(("n_t", "n_h", "p_h"), SIZES)
    def test_power_crosses_80_percent_once(self, n_t: int, n_h: int, p_h: float) -> None:
        """Bracketing finds the smallest d only if the power crosses 0.80 once. It first
        dips a little (from d = 0 the chance of excluding 0 from below fades faster than
        the chance from above grows), then grows: checked on a grid of 400 differences up
        to a treated rate of 1 (1e-9: the truncated tails), the dip staying below 0.1."""
        grid = np.linspace(0.0, 1.0 - p_h, 400)
        power = np.array([newcombe_power(float(d), n_t, n_h, p_h, Z95) for d in grid])
        lowest = int(np.argmin(power))
        assert power[: lowest + 1].max() < 0.1
        assert (np.diff(power[lowest:]) >= -1e-9).all()

    def test_size_at_no_difference_is_at_most_the_level(self) -> None:
        """At d = 0 the power is the test's size: at most 1 - level (within Newcombe's
        known excess at small sizes, 1 point) at 95 % and 90 %."""
        for level in (0.95, 0.90):
            for n_t, n_h, p_h in SIZES:
                size = newcombe_power(0.0, n_t, n_h, p_h, z_value(level))
                assert size <= 1 - level + 0.01, (n_t, n_h, p_h, size)


class TestMinimalDetectableDifference:
    @pytest.mark.parametrize(("n_t", "n_h", "p_h"), SIZES)
    def test_power_at_the_mde_is_80_percent(self, n_t: int, n_h: int, p_h: float) -> None:
        """At the mde the exact power is 0.80 (Brent's method to a relative 1e-6 of d), and a
        1 % smaller difference has less."""
        mde = newcombe_mde(n_t, n_h, p_h, Z95)
        assert 0 < mde <= 1 - p_h
        assert newcombe_power(mde, n_t, n_h, p_h, Z95) == pytest.approx(0.8, abs=1e-4)
        assert newcombe_power(0.99 * mde, n_t, n_h, p_h, Z95) < 0.8

    def test_400_treated_100_held_out_at_5_percent(self) -> None:
        """The normal approximation with the pooled rate gave 0.0683 here, with power 0.53;
        the interval needs 0.0956."""
        assert newcombe_mde(400, 100, 0.05, Z95) == pytest.approx(0.0956, abs=1e-4)
        assert newcombe_power(0.0683, 400, 100, 0.05, Z95) == pytest.approx(0.53, abs=0.01)

    def test_a_larger_level_or_power_needs_a_larger_difference(self) -> None:
        base = newcombe_mde(800, 200, 0.1, Z95)
        assert newcombe_mde(800, 200, 0.1, z_value(0.99)) > base
        assert newcombe_mde(800, 200, 0.1, Z95, power=0.9) > base
        assert newcombe_mde(800, 200, 0.1, z_value(0.90)) < base

    @pytest.mark.parametrize(
        ("n_t", "n_h", "p_h"), [(5, 3, 0.5), (3, 3, 1 / 3), (50, 50, 1.0), (2, 2, 0.5)]
    )
    def test_nan_when_no_difference_reaches_the_power(self, n_t: int, n_h: int, p_h: float) -> None:
        """Too few customers (even a treated rate of 1 is detected less than 80 % of the
        time), or a held-out rate of 1 (no increase possible)."""
        assert math.isnan(newcombe_mde(n_t, n_h, p_h, Z95))
        if p_h < 1:
            assert newcombe_power(1 - p_h, n_t, n_h, p_h, Z95) < 0.8

    @pytest.mark.parametrize(
        ("n_t", "n_h", "p_h"),
        [
            (100_000, 25_000, 0.1),
            (60_000, 15_000, 0.1),
            (100_000, 20_000, 0.02),
            (400_000, 100_000, 0.01),
            (200_000, 20_000, 0.05),
        ],
    )
    def test_normal_approximation_agrees_with_the_exact_power_for_large_groups(
        self, n_t: int, n_h: int, p_h: float
    ) -> None:
        """Where both apply (large groups, up to about a million cells): the approximation is
        within 1 % of the exact difference, and the exact power there is within 0.01 of
        0.80 (the residual is the skew of the counts and the spread of Newcombe's margin,
        both shrinking with the expected counts)."""
        exact = newcombe_mde(n_t, n_h, p_h, Z95)
        normal = newcombe_mde_normal(n_t, n_h, p_h, Z95)
        assert _cells(n_t, n_h, p_h + exact, p_h) <= 1.5 * MAX_CELLS
        assert normal == pytest.approx(exact, rel=0.01)
        assert abs(newcombe_power(normal, n_t, n_h, p_h, Z95) - 0.8) <= 0.01

    def test_very_large_groups_use_the_normal_approximation(self) -> None:
        """Past MAX_CELLS pairs of counts the approximation is returned as is."""
        n_t, n_h, p_h = 1_000_000, 250_000, 0.1
        mde = newcombe_mde(n_t, n_h, p_h, Z95)
        assert _cells(n_t, n_h, p_h + mde, p_h) > MAX_CELLS
        assert mde == newcombe_mde_normal(n_t, n_h, p_h, Z95)
