"""Preferences on synthetic data with planted channels, categories and rhythms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.personalize import preferences

DAY = 86_400_000_000
HOUR = 3_600_000_000


def _planted(n: int = 300, seed: int = 0) -> tuple[InteractionLog, np.ndarray, np.ndarray]:
    """Each customer prefers email or push (open rate 0.5 vs 0.1); push-lovers are sent three
    times more email than push, so volume would point the wrong way."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(np.array(["email", "push"], dtype=object), n)
    hour = rng.integers(0, 24, n)
    rows: list[tuple[str, int, str, str | None]] = []
    for i in range(n):
        cid = f"c{i:04d}"
        n_email, n_push = (12, 12) if truth[i] == "email" else (18, 6)
        for channel, count in (("email", n_email), ("push", n_push)):
            rate = 0.5 if truth[i] == channel else 0.1
            for _ in range(count):
                t = int(rng.integers(0, 200)) * DAY + int(hour[i]) * HOUR
                rows.append((cid, t, f"{channel}_sent", None))
                if rng.random() < rate:
                    rows.append((cid, t + 60_000_000, f"{channel}_opened", None))
    ids, ts, kinds, cats = zip(*rows, strict=True)
    log = InteractionLog.from_arrays(
        customer_id=np.array(ids, dtype=object),
        timestamp=np.array(ts).astype("datetime64[us]"),
        kind=np.array(kinds, dtype=object),
        category=np.array(cats, dtype=object),
    )
    return log, truth, hour


class TestPreferredChannel:
    def test_recovers_planted_channel(self) -> None:
        """Response-rate preference recovers the planted channel for >= 85% of customers,
        where message volume would get the push-lovers wrong."""
        log, truth, hour = _planted()
        prefs = preferences(log, as_of=np.datetime64(300 * DAY, "us"))
        accuracy = float((prefs.preferred_channel == truth).mean())
        assert accuracy >= 0.85, accuracy
        assert (prefs.best_hour == hour).mean() == 1.0
        assert set(prefs.to_pandas().columns) >= {"response_rate_email", "response_rate_push"}

    def test_nothing_sent_gives_none(self) -> None:
        """A customer never contacted has no preferred channel and NaN rates."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"],
            timestamp=["2024-01-01T00:00Z"] * 2,
            kind=["login", "email_sent"],
        )
        p = preferences(log, as_of="2024-02-01T00:00Z")
        assert p.preferred_channel.tolist() == [None, "email"]
        assert np.isnan(p.response_rate["email"][0])


class TestRhythmAndFavourites:
    def test_against_pandas(self) -> None:
        """Median gaps (between distinct purchase times), next purchase and favourite
        category equal a pandas computation."""
        rng = np.random.default_rng(1)
        n = 2000
        df = pd.DataFrame(
            {
                "customer_id": [f"c{i:03d}" for i in rng.integers(0, 150, n)],
                "timestamp": (rng.integers(0, 365 * 24, n) * HOUR).astype("datetime64[us]"),
                "kind": "purchase",
                "category": rng.choice(["books", "music", "games"], n),
            }
        )
        log = InteractionLog.from_arrays(
            customer_id=df["customer_id"].to_numpy(dtype=object),
            timestamp=df["timestamp"].to_numpy(),
            kind=df["kind"].to_numpy(dtype=object),
            category=df["category"].to_numpy(dtype=object),
        )
        as_of = np.datetime64(400 * DAY, "us")  # the export ran until then
        p = preferences(log.with_observed_until(as_of), as_of=as_of).to_pandas()
        d = df.sort_values(["customer_id", "timestamp"], kind="stable")
        once = d.drop_duplicates(["customer_id", "timestamp"])  # one purchase per time
        gaps = once.groupby("customer_id")["timestamp"].diff().dt.total_seconds() / 86_400
        ref_gap = gaps.groupby(once["customer_id"]).median()
        np.testing.assert_allclose(p["purchase_interval_days"], ref_gap.to_numpy())
        last = d.groupby("customer_id")["timestamp"].max()
        expected = (last + pd.to_timedelta(ref_gap, unit="D")).to_numpy().astype("datetime64[us]")
        got = p["next_purchase"].to_numpy().astype("datetime64[us]")
        np.testing.assert_array_equal(np.isnat(got), np.isnat(expected))
        ok = ~np.isnat(got)
        assert np.abs((got[ok] - expected[ok]).astype(np.int64)).max() <= 1  # float days -> us
        counts = d.groupby(["customer_id", "category"]).size().unstack(fill_value=0)
        ref_fav = counts[sorted(counts.columns)].idxmax(axis=1)
        assert p["favourite_category"].tolist() == ref_fav.tolist()

    def test_single_purchase_has_no_interval(self) -> None:
        """One purchase: NaN interval and NaT next purchase."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
        )
        p = preferences(log, as_of="2024-02-01T00:00Z")
        assert np.isnan(p.purchase_interval_days[0]) and np.isnat(p.next_purchase[0])
        assert p.favourite_category.tolist() == [None]

    def test_lines_of_one_order_are_one_purchase(self) -> None:
        """Three lines of an order on Jan 1 and three on Jan 31 are two purchases 30 days
        apart (the zero gaps between lines made the interval 0 and the next purchase the
        last one)."""
        times = ["2024-01-01T09:00Z"] * 3 + ["2024-01-31T09:00Z"] * 3
        log = InteractionLog.from_arrays(
            customer_id=["a"] * 6, timestamp=times, kind=["purchase"] * 6
        )
        p = preferences(log, as_of="2024-02-01T00:00Z")
        assert p.purchase_interval_days.tolist() == [30.0]
        assert p.next_purchase.tolist() == [np.datetime64("2024-03-01T09:00", "us").item()]
        one_order = log.filter(np.arange(6) < 3)
        assert np.isnan(preferences(one_order, as_of="2024-02-01T00:00Z").purchase_interval_days[0])


class TestAsOfAfterTheData:
    def _log(self) -> InteractionLog:
        # purchases every 10 days, the last on 21 January: the next is due on 31 January
        days = ["2024-01-01", "2024-01-11", "2024-01-21"]
        return InteractionLog.from_arrays(["a"] * 3, [f"{d}T00:00Z" for d in days],
                                          ["purchase"] * 3)  # fmt: skip

    def test_a_purchase_due_in_the_unobserved_span_warns(self) -> None:
        """as_of 20 days after the data: the purchase due on 31 January falls in the span
        nobody observed, counted and named as other as_of analyses name it."""
        with pytest.warns(DataWarning, match=r"preferences\(\): as_of 2024-02-10T00:00:00Z is "
                          r"20.0 days after .*: 1 customer's next_purchase falls in it"):  # fmt: skip
            p = preferences(self._log(), as_of="2024-02-10T00:00Z")
        assert p.next_purchase.tolist() == [np.datetime64("2024-01-31T00:00", "us").item()]

    def test_quiet_when_nothing_falls_in_it_or_the_export_covers_it(self) -> None:
        """No warning when no purchase is due before as_of, or when the log declares itself
        observed until as_of (with_observed_until)."""
        log = self._log()
        preferences(log, as_of="2024-01-25T00:00Z")
        preferences(log.with_observed_until("2024-02-10T00:00Z"), as_of="2024-02-10T00:00Z")


class TestBadInput:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"smoothing": -1.0}, "smoothing"),
            ({"smoothing": float("nan")}, "smoothing"),
            ({"outreach": {}}, "outreach"),
            ({"outreach": {"email": "email_sent"}}, r"outreach\['email'\] must be a pair"),
            ({"outreach": {"email": ("email_sent",) * 3}}, r"outreach\['email'\] must be a pair"),
            ({"as_of": "soon"}, "as_of"),
        ],
    )
    def test_rejected(self, kwargs: dict[str, object], match: str) -> None:
        """Bad smoothing, empty or malformed outreach (a raw ValueError of unpacking) and bad
        as_of are rejected, naming the argument."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
        )
        args: dict[str, object] = {"as_of": "2024-02-01T00:00Z", **kwargs}
        with pytest.raises(SchemaError, match=match):
            preferences(log, **args)  # type: ignore[arg-type]

    def test_as_of_before_the_data_is_refused(self) -> None:
        """An as_of before the first interaction is a DataError, not an empty table."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
        )
        with pytest.raises(DataError, match="before the log's first interaction"):
            preferences(log, as_of="2023-01-01T00:00Z")

    def test_numeric_categories_are_said(self) -> None:
        """Category codes held as numbers gave favourite_category None for all, quietly."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "a"],
            timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
            kind=["purchase"] * 2,
            category=[3.0, 3.0],
        )
        with pytest.warns(DataWarning, match="column 'category' holds float values, not text"):
            prefs = preferences(log, as_of="2024-01-02T00:00Z")
        assert prefs.favourite_category.tolist() == [None]


class TestOnSyntheticWorld:
    def test_planted_channel_accuracy(self) -> None:
        """On cx.datasets.synthetic, the preferred channel of contacted email/push lovers is
        recovered for >= 80% (measured 83%; SMS lovers cannot be, the log has no SMS kinds)."""
        import cxmodel as cx

        world = cx.datasets.synthetic(2000, seed=0)
        prefs = preferences(world.log, as_of="2025-01-01T00:00Z")
        truth = np.asarray(world.truth.preferred_channel)
        contacted = np.not_equal(prefs.preferred_channel, np.array([None], dtype=object))
        mask = contacted & (truth != "sms")
        accuracy = float((prefs.preferred_channel[mask] == truth[mask]).mean())
        assert mask.sum() > 500 and accuracy >= 0.8, accuracy
