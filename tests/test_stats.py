"""The shared statistics: published values, properties and simulated coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cxmodel._stats import (
    Z95,
    fpc_factor,
    mean_t_bounds,
    mean_t_interval,
    newcombe_bounds,
    newcombe_interval,
    pooled_se,
    proportion_bounds,
    proportion_interval,
    sample_moments,
    two_sided_p,
    welch_interval,
    welch_se,
    welch_se_interval,
    wilson_bounds,
    wilson_interval,
    z_value,
)
from cxmodel.errors import SchemaError

counts = st.integers(min_value=0, max_value=500)


class TestQuantiles:
    def test_z95_is_the_normal_quantile(self) -> None:
        """Z95 and z_value(0.95) are the 97.5 % standard normal quantile."""
        assert Z95 == z_value(0.95) == pytest.approx(stats.norm.ppf(0.975), abs=1e-15)

    @pytest.mark.parametrize("level", [0.0, 1.0, -0.5, 95, "0.95", None], ids=repr)
    def test_level_outside_the_open_interval_is_refused(self, level: object) -> None:
        """A level that is not a number strictly between 0 and 1 raises a SchemaError."""
        with pytest.raises(SchemaError, match="level must be a number"):
            z_value(level)  # type: ignore[arg-type]

    def test_two_sided_p(self) -> None:
        """Two-sided p of 1.96 is 0.05, of 0 is 1; arrays stay arrays."""
        assert two_sided_p(Z95) == pytest.approx(0.05, abs=1e-12)
        np.testing.assert_allclose(two_sided_p(np.array([0.0, -Z95])), [1.0, 0.05])


class TestWilson:
    @pytest.mark.parametrize(
        ("k", "n", "low", "high"),
        [
            # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
            # Table I, method 3 (score interval).
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
            (29, 29, 0.8830, 1.0),
            # CSAT 170 of 200: 79.4 % to 89.3 % (docs/guide/metrics.md).
            (170, 200, 0.7939, 0.8929),
        ],
    )
    def test_published_values(self, k: int, n: int, low: float, high: float) -> None:
        """The Wilson interval matches published values to 4 decimals."""
        assert wilson_interval(k, n) == pytest.approx((low, high), abs=6e-5)

    def test_empty_group_is_nan(self) -> None:
        """n = 0 gives NaN bounds, not an error."""
        low, high = wilson_bounds([0, 3], [0, 4])
        assert math.isnan(low[0]) and math.isnan(high[0])
        assert 0 < low[1] < 0.75 < high[1] < 1

    @settings(max_examples=100, deadline=None)
    @given(st.integers(1, 10**7))
    def test_no_success_or_all_is_exactly_zero_or_one(self, n: int) -> None:
        """0 of n has a lower bound of exactly 0 and n of n an upper bound of exactly 1 (the
        formula alone leaves rounding such as 2.8e-17 there)."""
        assert wilson_interval(0, n)[0] == 0.0
        assert wilson_interval(n, n)[1] == 1.0
        low, high = wilson_bounds([0, n, 1], [n, n, n + 1])
        assert low[0] == 0.0 and high[1] == 1.0 and low[2] > 0.0 and high[2] < 1.0

    @settings(max_examples=200, deadline=None)
    @given(counts, counts)
    def test_interval_holds_the_estimate(self, k: int, extra: int) -> None:
        """0 <= low <= k/n <= high <= 1, and the scalar form equals the vectorised one."""
        n = k + extra
        if n == 0:
            return
        low, high = wilson_interval(k, n)
        assert 0.0 <= low <= k / n + 1e-12 and k / n - 1e-12 <= high <= 1.0
        v_low, v_high = wilson_bounds([k], [n])
        assert (low, high) == (v_low[0], v_high[0])

    def test_simulated_coverage(self) -> None:
        """Over 20,000 seeded samples of n = 50 at p = 0.3, about 95 % of intervals cover p."""
        rng = np.random.default_rng(17)
        k = rng.binomial(50, 0.3, size=20_000)
        low, high = wilson_bounds(k, np.full(k.shape, 50))
        coverage = float(np.mean((low <= 0.3) & (high >= 0.3)))
        assert 0.93 <= coverage <= 0.97


class TestNewcombe:
    @pytest.mark.parametrize(
        ("x_a", "n_a", "x_b", "n_b", "low", "high"),
        [
            # Newcombe (1998), "Interval estimation for the difference between independent
            # proportions", Table II, method 10.
            (56, 70, 48, 80, 0.0524, 0.3339),
            (9, 10, 3, 10, 0.1705, 0.8090),
            (6, 7, 2, 7, 0.0582, 0.8062),
            (5, 56, 0, 29, -0.0381, 0.1926),
            (0, 10, 0, 20, -0.1611, 0.2775),
            (10, 10, 0, 20, 0.6791, 1.0),
        ],
    )
    def test_published_values(
        self, x_a: int, n_a: int, x_b: int, n_b: int, low: float, high: float
    ) -> None:
        """The hybrid score interval matches Newcombe's table to 4 decimals."""
        assert newcombe_interval(x_a, n_a, x_b, n_b) == pytest.approx((low, high), abs=6e-5)

    @settings(max_examples=200, deadline=None)
    @given(counts, counts, counts, counts)
    def test_swapping_groups_mirrors_the_interval(
        self, x_a: int, extra_a: int, x_b: int, extra_b: int
    ) -> None:
        """Interval(b - a) is minus interval(a - b) reversed, and it holds the difference."""
        n_a, n_b = x_a + extra_a, x_b + extra_b
        if not (n_a and n_b):
            return
        low, high = newcombe_interval(x_a, n_a, x_b, n_b)
        back_low, back_high = newcombe_interval(x_b, n_b, x_a, n_a)
        assert (low, high) == pytest.approx((-back_high, -back_low), abs=1e-12)
        d = x_a / n_a - x_b / n_b
        assert -1.0 - 1e-12 <= low <= d + 1e-12 and d - 1e-12 <= high <= 1.0 + 1e-12

    def test_empty_side_is_nan(self) -> None:
        """A side with n = 0 gives NaN bounds."""
        low, high = newcombe_bounds([1, 2], [0, 4], [1, 1], [2, 2])
        assert math.isnan(low[0]) and math.isnan(high[0])
        assert not math.isnan(low[1])

    def test_simulated_coverage(self) -> None:
        """Over 20,000 seeded pairs (n = 40 at 0.6 against n = 60 at 0.45), coverage is ~95 %."""
        rng = np.random.default_rng(23)
        x_a = rng.binomial(40, 0.6, size=20_000)
        x_b = rng.binomial(60, 0.45, size=20_000)
        low, high = newcombe_bounds(x_a, 40, x_b, 60)
        coverage = float(np.mean((low <= 0.15) & (high >= 0.15)))
        assert 0.93 <= coverage <= 0.97


class TestProportionInterval:
    def test_wald_by_hand(self) -> None:
        """Wald: p +- z sqrt(p (1 - p) / n), clipped to [0, 1]."""
        se, low, high = proportion_interval(30, 100, 2.0, "wald", 1.0)
        assert se == pytest.approx(math.sqrt(0.21 / 100))
        assert (low, high) == pytest.approx((0.3 - 2 * se, 0.3 + 2 * se))

    def test_adjusted_wald_by_hand(self) -> None:
        """Adjusted Wald adds z^2/2 successes and z^2/2 failures (z = 2: two and two)."""
        _, low, high = proportion_interval(30, 100, 2.0, "adjusted-wald", 1.0)
        half = 2.0 * math.sqrt(32 / 104 * (72 / 104) / 104)
        assert (low, high) == pytest.approx((32 / 104 - half, 32 / 104 + half))

    def test_wilson_with_fpc_narrows(self) -> None:
        """A finite population correction below 1 narrows the Wilson interval."""
        _, low, high = proportion_interval(30, 100, Z95, "wilson", 1.0)
        _, low_f, high_f = proportion_interval(30, 100, Z95, "wilson", fpc_factor(100, 200))
        assert low < low_f < 0.3 < high_f < high

    def test_population_smaller_than_sample_is_refused(self) -> None:
        """A population below the number of answers raises with both numbers."""
        with pytest.raises(SchemaError, match=r"population must be >= the number of answers"):
            fpc_factor(10, 5)

    def test_vectorised_proportions_by_hand(self) -> None:
        """One (se, low, high) per group, each by the one-group formula; n = 0 is NaN."""
        se, low, high = proportion_bounds([30, 0, 5], [100, 0, 5], 2.0, "adjusted-wald")
        half = 2.0 * math.sqrt(32 / 104 * (72 / 104) / 104)
        assert (se[0], low[0], high[0]) == pytest.approx(
            (math.sqrt(0.21 / 100), 32 / 104 - half, 32 / 104 + half)
        )
        assert math.isnan(se[1]) and math.isnan(low[1]) and math.isnan(high[1])
        assert (se[2], high[2]) == (0.0, 1.0)

    def test_a_correction_per_group(self) -> None:
        """fpc may hold one correction per group: each group gets its own."""
        fpc = fpc_factor([100, 100], 200)
        assert fpc.tolist() == pytest.approx([100 / 199, 100 / 199])
        se, _, _ = proportion_bounds([30, 30], [100, 100], Z95, "wald", [1.0, float(fpc[0])])
        assert se[1] == pytest.approx(se[0] * math.sqrt(100 / 199))

    def test_unknown_method_is_refused(self) -> None:
        """A method other than wald, adjusted-wald and wilson raises a SchemaError."""
        with pytest.raises(SchemaError, match="method must be one of"):
            proportion_bounds([1], [2], Z95, "exact")

    def test_pooled_se_by_hand(self) -> None:
        """The pooled standard error uses the share of both groups together."""
        pool = (30 + 10) / (100 + 60)
        assert pooled_se(30, 100, 10, 60) == pytest.approx(
            math.sqrt(pool * (1 - pool) * (1 / 100 + 1 / 60)), rel=1e-15
        )


class TestFinitePopulation:
    def test_no_population_is_no_correction(self) -> None:
        """Without a population every size gets 1; a scalar stays a float."""
        assert fpc_factor(10, None) == 1.0
        assert fpc_factor(np.array([0, 3]), None).tolist() == [1.0, 1.0]

    def test_sizes_against_the_largest(self) -> None:
        """(N - n) / (N - 1) per size; the largest size decides whether N is big enough."""
        assert fpc_factor([1, 5, 9], 9).tolist() == [1.0, 0.5, 0.0]
        with pytest.raises(SchemaError, match=r"number of answers \(10\)"):
            fpc_factor([1, 10], 9)


class TestMeans:
    def test_t_interval_by_hand(self) -> None:
        """mean +- t(0.975, n - 1) * sqrt(var / n); NaN below two values."""
        se, low, high = mean_t_interval(4, 10.0, 4.0, 0.95, 1.0)
        t = stats.t.ppf(0.975, 3)
        assert (se, low, high) == pytest.approx((1.0, 10 - t, 10 + t))
        assert all(math.isnan(v) for v in mean_t_interval(1, 10.0, 0.0, 0.95, 1.0))

    def test_t_bounds_match_scipy(self) -> None:
        """Each group's interval is scipy's t interval on sqrt(var fpc / n); NaN below 2 values."""
        n = np.array([4.0, 30.0, 1.0, 0.0])
        mean = np.array([10.0, -2.5, 3.0, np.nan])
        var = np.array([4.0, 9.0, 0.0, np.nan])
        fpc = np.array([1.0, 0.5, 1.0, 1.0])
        se, low, high = mean_t_bounds(n, mean, var, 0.9, fpc)
        for i in range(2):
            scale = math.sqrt(var[i] * fpc[i] / n[i])
            want = stats.t.interval(0.9, n[i] - 1, loc=mean[i], scale=scale)
            np.testing.assert_allclose([se[i], low[i], high[i]], [scale, *want], rtol=1e-12)
        assert np.isnan(se[2:]).all() and np.isnan(low[2:]).all() and np.isnan(high[2:]).all()

    def test_bad_level_without_groups_to_use_it(self) -> None:
        """A level outside (0, 1) is refused even when no group has 2 values."""
        with pytest.raises(SchemaError, match="level must be a number"):
            mean_t_bounds([1.0], [3.0], [0.0], "junk")  # type: ignore[arg-type]
        with pytest.raises(SchemaError, match="level must be a number"):
            mean_t_interval(1, 3.0, 0.0, 1.5, 1.0)

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=40))
    def test_moments_from_sums(self, values: list[float]) -> None:
        """Mean and sample variance from (n, sum, sum of squares) equal numpy's."""
        x = np.array(values)
        mean, var = sample_moments([x.size], [x.sum()], [(x * x).sum()])
        if x.size == 0:
            assert math.isnan(mean[0])
            return
        assert mean[0] == pytest.approx(x.mean(), abs=1e-9)
        if x.size > 1:
            assert var[0] == pytest.approx(x.var(ddof=1), rel=1e-6, abs=1e-6)

    def test_welch_matches_scipy(self) -> None:
        """Welch's interval equals scipy's unequal-variance t-test interval."""
        a = np.array([1.0, 2.0, 3.0, 5.0, 8.0])
        b = np.array([0.0, 1.0, 1.5])
        expected = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.9)
        assert welch_interval(a, b, 0.9) == pytest.approx(tuple(expected), abs=1e-12)

    def test_welch_degenerate(self) -> None:
        """Fewer than two values gives NaN; no spread gives the difference itself."""
        assert all(math.isnan(v) for v in welch_interval(np.array([1.0]), np.array([1.0, 2.0])))
        assert welch_interval(np.array([3.0, 3.0]), np.array([1.0, 1.0])) == (2.0, 2.0)

    def test_welch_least_nonzero_floors_each_variance(self) -> None:
        """``least_nonzero=k``: a sample with fewer than ``k`` non-zero values has a variance
        of at least ``k * m2 / n`` (``m2`` the mean square of both samples' non-zero values);
        samples with ``k`` or more (even of little spread) keep Welch's; values past 1e100
        scale alike; a negative count is refused, naming it."""
        a = np.array([0.0] * 18 + [40.0, 60.0])
        b = np.zeros(10)
        m2 = (40.0**2 + 60.0**2) / 2
        va, vb = 3 * m2 / 20 / 20, 3 * m2 / 10 / 10  # 2 and 0 non-zero values: both floored
        assert a.var(ddof=1) < 3 * m2 / 20
        df = (va + vb) ** 2 / (va**2 / 19 + vb**2 / 9)
        half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
        low, high = welch_interval(a, b, least_nonzero=3)
        assert (low, high) == pytest.approx((5.0 - half, 5.0 + half), rel=1e-12)
        assert welch_se(a, b, least_nonzero=3) == pytest.approx(math.sqrt(va + vb), rel=1e-12)
        spread = np.random.default_rng(0).normal(10.0, 2.0, (2, 50))
        assert welch_interval(spread[0], spread[1], least_nonzero=3) == welch_interval(
            spread[0], spread[1]
        )
        big = welch_interval(a * 1e200, b * 1e200, least_nonzero=3)
        assert big == pytest.approx((low * 1e200, high * 1e200), rel=1e-9)
        assert math.isnan(welch_se(np.array([1.0]), b))
        with pytest.raises(SchemaError, match="least_nonzero"):
            welch_interval(a, b, least_nonzero=-1)

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (np.array([0.0] * 18 + [40.0, 60.0]), np.zeros(10)),
            (np.array([1.0, 2.0, 3.0]) * 1e200, np.array([0.0, 1.0]) * 1e200),
            (np.array([3.0, 3.0]), np.array([1.0, 1.0])),
            (np.array([1.0]), np.array([1.0, 2.0])),
        ],
    )
    def test_welch_se_interval_is_both_at_once(self, a: np.ndarray, b: np.ndarray) -> None:
        """``welch_se_interval`` is ``welch_se`` and ``welch_interval`` to the last bit."""
        se, low, high = welch_se_interval(a, b, 0.9, least_nonzero=3)
        expected = (welch_se(a, b, least_nonzero=3), *welch_interval(a, b, 0.9, least_nonzero=3))
        np.testing.assert_array_equal((se, low, high), expected)

    def test_welch_simulated_coverage(self) -> None:
        """Unequal variances and sizes: 2,000 seeded repetitions cover the difference ~95 %."""
        rng = np.random.default_rng(5)
        hits = 0
        for _ in range(2_000):
            low, high = welch_interval(rng.normal(1.0, 1.0, 12), rng.normal(0.0, 4.0, 30))
            hits += low <= 1.0 <= high
        assert 0.93 <= hits / 2_000 <= 0.97
