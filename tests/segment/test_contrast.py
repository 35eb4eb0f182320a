"""Group contrasts on synthetic data with planted drivers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cxmodel.errors import DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CustomerTable
from cxmodel.segment import (
    contrast,
    newcombe_interval,
    welch_interval,
)
from tests.segment.helpers import planted


class TestContrast:
    def test_recovers_planted_drivers(self) -> None:
        """The two planted drivers rank first with intervals excluding 0; purchases do not."""
        table, churned = planted()
        result = contrast(table, churned, ~churned)
        assert {"tickets_open", "returns"} <= set(result.feature[:3].tolist())
        for name in ("tickets_open", "returns"):
            i = result.feature.tolist().index(name)
            assert result.low[i] > 0 and result.lift[i] > 2
        i = result.feature.tolist().index("frequency")
        assert result.low[i] < 0 < result.high[i]
        j = result.feature.tolist().index("consent_marketing")
        assert result.kind[j] == "proportion" and result.low[j] < 0 < result.high[j]
        size = np.abs(result.effect_size)
        finite = size[~np.isnan(size)]
        assert (np.diff(finite) <= 0).all() and np.isnan(size[len(finite) :]).all()
        assert len(result.to_pandas()) == len(result.feature)

    def test_groups_by_customer_ids(self) -> None:
        """Groups may be given as customer ids instead of masks."""
        table, churned = planted(1, 60)
        by_mask = contrast(table, churned, ~churned, features=["returns"])
        by_ids = contrast(
            table, table.customer_id[churned], table.customer_id[~churned], features=["returns"]
        )
        np.testing.assert_allclose(by_mask.difference, by_ids.difference)

    def test_newcombe_published_example(self) -> None:
        """Newcombe (1998) example (a): 56/70 vs 48/80 -> 0.0524 .. 0.3339."""
        low, high = newcombe_interval(56, 70, 48, 80)
        assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)

    def test_welch_matches_scipy(self) -> None:
        """Welch's interval equals scipy's unequal-variance t-test interval."""
        rng = np.random.default_rng(3)
        a, b = rng.normal(1, 2, 30), rng.normal(0, 1, 50)
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        np.testing.assert_allclose(welch_interval(a, b), (ci.low, ci.high))

    @pytest.mark.parametrize(
        ("a", "b", "error", "match"),
        [
            (np.zeros(3, dtype=bool), None, SchemaError, "group_a is a boolean mask of shape"),
            (["nobody"], None, SchemaError, "names no customer"),
            (["c0000"], None, DataError, "at least 2"),
        ],
    )
    def test_bad_groups(self, a: object, b: object, error: type, match: str) -> None:
        """Wrong-length masks, unknown ids and tiny groups are rejected."""
        table, churned = planted(2, 20)
        with pytest.raises(error, match=match):
            contrast(table, a, ~churned if b is None else b)

    def test_text_feature_by_level(self) -> None:
        """A text column named in features is compared level by level as proportions; a
        timestamp column cannot be contrasted."""
        table, churned = planted(2, 20)
        c = contrast(table, churned, ~churned, features=["preferred_channel"])
        channels = table.column("preferred_channel")
        levels = sorted({"(missing)" if v is None else v for v in channels.tolist()})
        assert sorted(c.feature.tolist()) == [f"preferred_channel={v}" for v in levels]
        assert set(c.kind.tolist()) == {"proportion"}
        for name, a in zip(c.feature.tolist(), c.a.tolist(), strict=True):
            level = name.split("=", 1)[1]
            hit = np.array([(v or "(missing)") == level for v in channels[churned].tolist()])
            assert a == pytest.approx(hit.mean())
        with pytest.raises(SchemaError, match="first_seen"):
            contrast(table, churned, ~churned, features=["first_seen"])


class TestContrastWithoutSpread:
    def test_groups_that_do_not_vary_separate_fully(self) -> None:
        """Two groups each without spread: different means have an infinite effect size and
        rank first, equal means an effect of 0 (a zero effect hid a full separation)."""
        log = InteractionLog.from_arrays(
            list("abcdef"), ["2024-01-01T00:00Z"] * 6, ["purchase"] * 6,
            value=[5.0, 5.0, 5.0, 3.0, 3.0, 3.0],
        )  # fmt: skip
        table = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        result = contrast(
            table, ["a", "b", "c"], ["d", "e", "f"], features=["frequency", "monetary"]
        )
        assert result.feature.tolist() == ["monetary", "frequency"]
        assert result.effect_size.tolist() == [np.inf, 0.0]
        flipped = contrast(table, ["d", "e", "f"], ["a", "b", "c"], features=["monetary"])
        assert flipped.effect_size.tolist() == [-np.inf]


class TestContrastOnSyntheticWorld:
    def test_churn_drivers_recovered(self) -> None:
        """On cx.datasets.synthetic, churned buyers had more late deliveries and more unresolved
        tickets (the generator's planted drivers): both intervals exclude 0 with lift > 1.5."""
        import cxmodel as cx

        world = cx.datasets.synthetic(2000, seed=0)
        log, truth = world.log, world.truth
        late_rows = log.kind_mask("delivery") & (log.column("late") == "yes")
        late = np.bincount(log.customer_codes[late_rows], minlength=log.n_customers)
        table = CustomerTable.from_log(
            log, as_of="2025-01-01T00:00Z", models={"late_deliveries": lambda t: late}
        )
        churned = np.asarray(truth.churned)[np.searchsorted(truth.customers, table.customer_id)]
        buyers = table.column("frequency") > 0
        result = contrast(table, churned & buyers, ~churned & buyers)
        names = result.feature.tolist()
        for driver in ("late_deliveries", "tickets_open"):
            i = names.index(driver)
            assert result.low[i] > 0 and result.lift[i] > 1.5, (driver, result.lift[i])


class TestCohensD:
    def test_pooled_sd_weights_the_groups_by_size(self) -> None:
        """Cohen's d divides by the pooled SD sqrt(((n_a-1) s_a^2 + (n_b-1) s_b^2) / (n_a+n_b-2))
        (Cohen 1988). Group a spends 5, 6, 7 (mean 6, s^2 = 1), group b 0 and 4 five times each
        (mean 2, s^2 = 40/9): pooled s^2 = (2 + 40) / 11, d = 4 / sqrt(42 / 11) = 2.0471.
        The unweighted mean of the variances gave 4 / sqrt((1 + 40/9) / 2) = 2.4244."""
        ids = [f"a{i}" for i in range(3)] + [f"b{i}" for i in range(10)]
        spend = [5.0, 6.0, 7.0] + [0.0, 4.0] * 5
        log = InteractionLog.from_arrays(
            ids, ["2024-01-01T00:00Z"] * 13, ["purchase"] * 13, value=spend
        )
        table = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        result = contrast(table, ids[:3], ids[3:], features=["monetary"])
        assert result.difference[0] == pytest.approx(4.0)
        assert result.effect_size[0] == pytest.approx(4 / np.sqrt(42 / 11), rel=1e-12)
        assert result.effect_size[0] == pytest.approx(2.0471, abs=1e-4)

    def test_equal_sizes_keep_the_mean_of_the_variances(self) -> None:
        """With equal sizes the pooled variance is the mean of the two: the same d as before."""
        ids = [f"a{i}" for i in range(4)] + [f"b{i}" for i in range(4)]
        spend = [1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 4.0, 4.0]
        log = InteractionLog.from_arrays(
            ids, ["2024-01-01T00:00Z"] * 8, ["purchase"] * 8, value=spend
        )
        table = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        result = contrast(table, ids[:4], ids[4:], features=["monetary"])
        var_a, var_b = np.var(spend[:4], ddof=1), np.var(spend[4:], ddof=1)
        assert result.effect_size[0] == pytest.approx(0.5 / np.sqrt((var_a + var_b) / 2))


class TestLiftOfSignedFeatures:
    def test_no_lift_for_a_feature_with_negative_values(self) -> None:
        """Mean sentiment 0.25 against -0.35: the lift a / b read -0.71, a ratio without
        meaning on a scale without a true zero; it is NaN, while the difference, its interval
        and Cohen's d stay."""
        log = InteractionLog.from_arrays(
            list("abcd"), ["2024-01-01T00:00Z"] * 4, ["ticket_opened"] * 4,
            sentiment=[0.3, 0.2, -0.5, -0.2],
        )  # fmt: skip
        table = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        result = contrast(table, ["a", "b"], ["c", "d"], features=["mean_sentiment"])
        assert result.difference[0] == pytest.approx(0.6)
        assert np.isnan(result.lift[0])
        assert result.low[0] < 0.6 < result.high[0] and result.effect_size[0] > 0
