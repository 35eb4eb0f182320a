"""Tests for Kaplan-Meier, the log-rank test and customer lifetimes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import customer_lifetimes, kaplan_meier, logrank_test
from cxmodel.metrics._survival import _grid_table, _table


def _realish(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    life = np.round(rng.weibull(1.3, n) * 200)  # days, with ties
    cens = np.round(rng.uniform(0, 400, n))
    return np.minimum(life, cens), life <= cens


# Remission times in weeks of the 6-MP trial (Freireich et al. 1963, Blood 21; analysed by
# Gehan 1965, Biometrika 52): 21 patients on 6-MP (9 relapses, 12 censored) and 21 on placebo
# (all relapsed). Textbook values (Klein & Moeschberger, Survival Analysis, 2nd ed., example
# 4.1; Kleinbaum & Klein, Survival Analysis, ch. 2): S(t) and Greenwood standard errors to 4
# decimals, median 23 weeks, log-rank chi-square 16.79.
GEHAN_6MP = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
GEHAN_6MP_EVENTS = [1] * 9 + [0] * 12
GEHAN_PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


class TestPublishedGehan:
    def test_kaplan_meier_and_greenwood(self) -> None:
        """The 6-MP curve at its relapse times, with Greenwood's standard error S sqrt(V),
        equals the published table to its 4 decimals; ties of relapse and censoring at week
        6 count the censored patient at risk."""
        km = kaplan_meier(GEHAN_6MP, GEHAN_6MP_EVENTS)
        at = km.events > 0
        v = np.cumsum(np.where(at, km.events / (km.at_risk * (km.at_risk - km.events)), 0.0))
        assert km.times[at].tolist() == [6, 7, 10, 13, 16, 22, 23]
        expected = [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
        np.testing.assert_allclose(km.survival[at], expected, atol=5e-5)
        se = [0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282, 0.1346]
        np.testing.assert_allclose((km.survival * np.sqrt(v))[at], se, atol=5e-5)
        assert km.median == 23.0

    def test_logrank_against_placebo(self) -> None:
        """6-MP against placebo: the published log-rank chi-square 16.79 (1 df)."""
        r = logrank_test(GEHAN_6MP, GEHAN_PLACEBO, GEHAN_6MP_EVENTS, [1] * 21)
        assert abs(r.statistic - 16.79) <= 0.005
        assert r.p_value < 1e-4


class TestKaplanMeier:
    def test_hand_computed(self) -> None:
        """Small example: S = 4/5, 4/5 * 3/4, then 3/4 * 1/2 of that."""
        km = kaplan_meier([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
        assert km.times.tolist() == [1, 2, 3, 4]
        assert km.survival.tolist() == pytest.approx([0.8, 0.6, 0.3, 0.3])
        assert km.at_risk.tolist() == [5, 4, 2, 1]
        assert km.median == 3.0
        assert km.at(0.5) == 1.0 and km.at(2.0) == pytest.approx(0.6)

    def test_greenwood_by_hand(self) -> None:
        """Greenwood variance and log(-log) interval at the first step."""
        km = kaplan_meier([1, 2, 3, 4, 5])
        v = 1 / (5 * 4)
        s = 0.8
        z = 1.959963984540054
        low = math.exp(-math.exp(math.log(-math.log(s)) + z * math.sqrt(v) / abs(math.log(s))))
        assert km.ci_low[0] == pytest.approx(low, rel=1e-12)

    def test_median_not_reached(self) -> None:
        """A curve that never falls to 0.5 has an infinite median."""
        assert kaplan_meier([1, 2, 3, 4], [1, 0, 0, 0]).median == math.inf

    def test_percentile_is_the_quantile_of_durations(self) -> None:
        """percentile(p) is the time by which a share p had the event; lifelines'
        percentile(p) is survival_time(p): on durations 1..10 lifelines 0.30.3 gives
        percentile(0.25) = 8.0 and percentile(0.75) = 3.0, the median 5.0 for both."""
        km = kaplan_meier(list(range(1, 11)))
        assert (km.percentile(0.25), km.percentile(0.75), km.median) == (3.0, 8.0, 5.0)
        assert (km.survival_time(0.25), km.survival_time(0.75)) == (8.0, 3.0)

    def test_a_step_exactly_at_the_quantile_is_not_lost_to_rounding(self) -> None:
        """On durations 1..6, S(3) = 5/6 * 4/5 * 3/4 = 0.5 exactly, computed as
        0.5000000000000001: the median is 3 (the smallest t with S(t) <= 0.5), not 4 as an
        exact comparison gives (lifelines 0.30.3 gives 4). Likewise S(9) = 0.1 on 1..10 and
        S(30) = 0.5 on 1..60 (lifelines: 31); by hand, without censoring the p-quantile is
        the ceil(p n)-th duration."""
        assert kaplan_meier([1, 2, 3, 4, 5, 6]).median == 3.0
        assert kaplan_meier(list(range(1, 61))).median == 30.0
        for n in range(2, 201):
            km = kaplan_meier(np.arange(1.0, n + 1))
            assert km.median == math.ceil(n / 2), n
            assert km.percentile(0.9) == math.ceil(round(0.9 * n, 9)), n
        # a censored case: 18, 79, 94 (S = 0.5), 102, 159 and 273 censored: the median is 94
        km = kaplan_meier([273, 79, 18, 94, 102, 159], [0, 1, 1, 1, 1, 1])
        assert km.median == 94.0

    def test_matches_lifelines(self) -> None:
        """Same curve and interval as lifelines' KaplanMeierFitter to 1e-9."""
        lifelines = pytest.importorskip("lifelines")
        d, e = _realish(1, 3000)
        km = kaplan_meier(d, e)
        ref = lifelines.KaplanMeierFitter().fit(d, e)
        sf = ref.survival_function_.iloc[:, 0]
        ci = ref.confidence_interval_
        idx = np.searchsorted(sf.index.to_numpy(), km.times)
        np.testing.assert_allclose(km.survival, sf.to_numpy()[idx], rtol=0, atol=1e-9)
        np.testing.assert_allclose(km.ci_low, ci.iloc[idx, 0].to_numpy(), rtol=0, atol=1e-9)
        np.testing.assert_allclose(km.ci_high, ci.iloc[idx, 1].to_numpy(), rtol=0, atol=1e-9)
        assert km.median == ref.median_survival_time_

    @settings(max_examples=60, deadline=None)
    @given(
        st.integers(0, 2**32 - 1),
        st.integers(1, 400),
        st.sampled_from([0, 1, 2, 3]),
        st.floats(0.0, 1.0),
    )
    def test_grid_table_matches_sort(self, seed: int, n: int, digits: int, p: float) -> None:
        """The counting-sort table equals the sorting table bit for bit on rounded data."""
        rng = np.random.default_rng(seed)
        d = np.round(rng.uniform(0, 50, n), digits)
        e = rng.random(n) < p
        grid = _grid_table(d, e)
        assert grid is not None
        for got, want in zip(grid, _table(d, e.astype(np.float64)), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)

    def test_grid_table_declines_continuous(self) -> None:
        """Unrounded durations fall back to sorting, with the same curve either way."""
        d, e = np.random.default_rng(3).uniform(0, 9, 500), np.ones(500, dtype=bool)
        assert _grid_table(d, e) is None
        assert kaplan_meier(d, e).times.tolist() == np.sort(d).tolist()

    def test_bool_and_float_observed_agree(self) -> None:
        """Boolean and 0/1 float ``observed`` give identical curves."""
        d, e = _realish(4, 2000)
        a, b = kaplan_meier(d, e), kaplan_meier(d, e.astype(float))
        np.testing.assert_array_equal(a.survival, b.survival)
        np.testing.assert_array_equal(a.ci_low, b.ci_low)

    @pytest.mark.parametrize(
        ("durations", "observed", "error", "match"),
        [
            ([1, -2], None, SchemaError, r"durations\[1\] = -2.0"),
            ([1, float("nan")], None, SchemaError, "finite"),
            ([1, float("inf")], None, SchemaError, "finite"),
            ([1, 2], [1], SchemaError, "observed has 1 values"),
            ([1, 2], [1, 2], SchemaError, "booleans"),
            ([], None, DataError, "no durations"),
        ],
        ids=["negative", "nan", "inf", "observed-length", "observed-not-bool", "empty"],
    )
    def test_bad_input(
        self, durations: list[float], observed: list[int] | None, error: type, match: str
    ) -> None:
        """Bad durations raise a clear error."""
        with pytest.raises(error, match=match):
            kaplan_meier(durations, observed)

    def test_to_pandas(self) -> None:
        """The curve converts to a DataFrame with one row per time."""
        pytest.importorskip("pandas")
        assert kaplan_meier([1, 2, 3]).to_pandas().shape == (3, 6)


class TestLogRank:
    def test_matches_lifelines(self) -> None:
        """Statistic and p-value equal lifelines' logrank_test."""
        statistics = pytest.importorskip("lifelines.statistics")
        da, ea = _realish(2, 800)
        db, eb = _realish(3, 600)
        db = db * 1.2
        ours = logrank_test(da, db, ea, eb)
        ref = statistics.logrank_test(da, db, ea, eb)
        assert ours.statistic == pytest.approx(ref.test_statistic, rel=1e-9)
        assert ours.p_value == pytest.approx(ref.p_value, rel=1e-9)

    def test_identical_groups(self) -> None:
        """Identical samples give statistic 0 and p-value 1."""
        r = logrank_test([1, 2, 3], [1, 2, 3])
        assert r.statistic == pytest.approx(0.0) and r.p_value == pytest.approx(1.0)

    def test_all_censored_warns(self) -> None:
        """No event at all: a DataWarning counting the censored durations, NaN statistic."""
        with pytest.warns(DataWarning, match="none of the 5 durations is an event"):
            r = logrank_test([1, 2, 3], [2, 4], [False] * 3, [False] * 2)
        assert math.isnan(r.statistic) and math.isnan(r.p_value)
        assert (r.observed_a, r.expected_a) == (0.0, 0.0)

    def test_events_with_one_group_at_risk_warn(self) -> None:
        """Events only when one group is left at risk carry no information: warned."""
        with pytest.warns(DataWarning, match="the 2 events happened while only one group"):
            r = logrank_test([5, 6], [1, 2], [True, True], [False, False])
        assert math.isnan(r.statistic) and (r.observed_a, r.expected_a) == (2.0, 2.0)

    def test_all_censored_stratified_warns(self) -> None:
        """The stratified test warns in logrank_test()'s name."""
        with pytest.warns(DataWarning, match=r"^logrank_test\(\): none of the 4"):
            r = logrank_test([1, 2], [3, 4], [0, 0], [0, 0], strata_a=[0, 1], strata_b=[0, 1])
        assert math.isnan(r.p_value)


class TestCustomerLifetimes:
    def test_known_lifetimes(self) -> None:
        """Churned: first to last activity; active: censored at as_of; later rows ignored."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "b", "c"],
            timestamp=[
                "2024-01-01T00:00Z",
                "2024-01-11T00:00Z",
                "2024-03-01T00:00Z",
                "2024-03-21T00:00Z",
                "2024-05-01T00:00Z",
            ],
            kind=["purchase", "login", "purchase", "login", "purchase"],
        )
        lt = customer_lifetimes(log, "2024-04-01T00:00Z", inactivity="30d")
        assert lt.customers.tolist() == ["a", "b"]
        assert lt.durations.tolist() == [10.0, 31.0]
        assert lt.observed.tolist() == [True, False]
        assert lt.kaplan_meier().survival.tolist() == [0.5, 0.5]


class TestCustomerLifetimesRepr:
    def test_repr_shows_as_of_as_a_time(self) -> None:
        """The summary line of customer_lifetimes names its as_of as a date a reader can read
        (it showed raw microseconds since the epoch)."""
        log = InteractionLog.from_arrays(
            ["a", "a", "b"],
            ["2024-10-01T00:00:00Z", "2024-12-01T00:00:00Z", "2024-11-01T00:00:00Z"],
            "view",
        ).with_observed_until("2024-12-31T00:00:00Z")
        lifetimes = customer_lifetimes(log, "2024-12-31T00:00:00Z")
        assert "as_of=2024-12-31 00:00:00," in repr(lifetimes).splitlines()[0]
        assert lifetimes.as_of == np.datetime64("2024-12-31T00:00:00", "us")
