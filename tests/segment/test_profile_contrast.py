"""Segment profiles and group contrasts on synthetic data with planted drivers."""

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
    profile_segments,
    rfm_scores,
    rfm_segments,
    welch_interval,
)

DAY = 86_400_000_000


def _planted(seed: int = 0, n: int = 400) -> tuple[CustomerTable, np.ndarray]:
    """Churned customers (first half) get more unresolved tickets and returns; purchases and
    consent are drawn from the same distribution in both groups."""
    rng = np.random.default_rng(seed)
    churned = np.arange(n) < n // 2
    ids, ts, kinds, tickets = [], [], [], []
    for i in range(n):
        cid = f"c{i:04d}"
        n_buy = rng.poisson(3) + 1
        n_ticket = rng.poisson(3 if churned[i] else 0.5)
        n_ret = rng.poisson(2 if churned[i] else 0.3)
        for k, count in (("purchase", n_buy), ("ticket_opened", n_ticket), ("return", n_ret)):
            ids += [cid] * count
            ts += list(rng.integers(0, 300, count) * DAY)
            kinds += [k] * count
            tickets += [f"t{j}" for j in range(count)] if k == "ticket_opened" else [None] * count
        if rng.random() < 0.5:
            ids.append(cid)
            ts.append(int(rng.integers(0, 300)) * DAY)
            kinds.append("consent_granted")
            tickets.append(None)
    log = InteractionLog.from_arrays(
        customer_id=np.array(ids, dtype=object),
        timestamp=np.array(ts, dtype=np.int64).astype("datetime64[us]"),
        kind=np.array(kinds, dtype=object),
        value=rng.uniform(5, 50, len(ids)),
        ticket_id=np.array(tickets, dtype=object),
    )
    table = CustomerTable.from_log(log, as_of=np.datetime64(300 * DAY, "us"))
    return table, churned


class TestContrast:
    def test_recovers_planted_drivers(self) -> None:
        """The two planted drivers rank first with intervals excluding 0; purchases do not."""
        table, churned = _planted()
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
        table, churned = _planted(1, 60)
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
        table, churned = _planted(2, 20)
        with pytest.raises(error, match=match):
            contrast(table, a, ~churned if b is None else b)

    def test_text_feature_by_level(self) -> None:
        """A text column named in features is compared level by level as proportions; a
        timestamp column cannot be contrasted."""
        table, churned = _planted(2, 20)
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


class TestProfileSegments:
    def test_against_pandas(self) -> None:
        """Size, share, means, medians and index equal a pandas groupby."""
        table, churned = _planted(4, 120)
        labels = np.where(churned, "churned", "kept").astype(object)
        prof = profile_segments(labels, table, features=["frequency", "monetary", "recency_days"])
        df = table.to_pandas()
        df["label"] = labels
        g = df.groupby("label")
        assert prof.segments.tolist() == ["churned", "kept"]
        np.testing.assert_array_equal(prof.size, g.size().to_numpy())
        np.testing.assert_allclose(prof.share, g.size().to_numpy() / len(df))
        for j, name in enumerate(prof.features):
            np.testing.assert_allclose(prof.mean[:, j], g[name].mean().to_numpy())
            np.testing.assert_allclose(prof.median[:, j], g[name].median().to_numpy())
            np.testing.assert_allclose(
                prof.index[:, j], g[name].mean().to_numpy() / df[name].mean() * 100
            )
        assert "frequency_index" in prof.to_pandas().columns

    def test_rfm_segments_align_by_id(self) -> None:
        """RFM segments align with the table by customer id; sizes sum to labelled customers."""
        table, _ = _planted(5, 200)
        seg = rfm_segments(rfm_scores(table.log, as_of=np.datetime64(300 * DAY, "us")))
        prof = profile_segments(seg, table)
        assert prof.size.sum() == len(seg)
        assert set(prof.segments.tolist()) == set(seg.labels.tolist())

    def test_wrong_length_labels(self) -> None:
        """Labels must have one value per table row."""
        table, _ = _planted(6, 10)
        with pytest.raises(SchemaError, match="one label per table row"):
            profile_segments(["a"], table)


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
