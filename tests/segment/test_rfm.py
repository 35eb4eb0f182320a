"""RFM scores, checked against an independent pandas computation on CDNOW."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmodel.datasets
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.segment import (
    rank_scores,
    rfm_scores,
    rfm_segments,
)

# the bundled copy of CDNOW_master.txt (see src/cxmodel/datasets/data/PROVENANCE.md)
CDNOW = Path(cxmodel.datasets.__file__).parent / "data" / "cdnow_master.txt.gz"
AS_OF = np.datetime64("1997-12-31T00:00:00", "us")


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    df = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    df["ts"] = pd.to_datetime(df["date"], format="%Y%m%d").astype("datetime64[us]")
    return df


@pytest.fixture(scope="module")
def cdnow_log(cdnow: pd.DataFrame) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=cdnow["customer_id"].to_numpy(dtype=object),
        timestamp=cdnow["ts"].to_numpy(),
        kind=np.full(len(cdnow), "purchase", dtype=object),
        value=cdnow["dollar_value"].to_numpy(),
    )


def _pandas_rfm(df: pd.DataFrame, as_of: np.datetime64, n_bins: int) -> pd.DataFrame:
    """Independent reference: groupby, then pandas ``rank(method="min")`` so ties share a score."""
    d = df[df["ts"] <= as_of]
    g = d.groupby("customer_id").agg(
        last=("ts", "max"), frequency=("ts", "size"), monetary=("dollar_value", "sum")
    )
    g = g.reset_index()
    g["monetary"] = g["monetary"].round(9)
    g["recency_days"] = (as_of - g["last"]) / pd.Timedelta(days=1)
    n = len(g)
    for col, key in (("r", -g["recency_days"]), ("f", g["frequency"]), ("m", g["monetary"])):
        low = key.rank(method="min").to_numpy().astype(np.int64) - 1
        g[col] = 1 + (low * n_bins) // n
    return g.sort_values("customer_id").reset_index(drop=True)


# CDNOW has 1,583 purchases (to AS_OF) on a day its customer already bought on; the reference
# counts rows, as rfm_scores does with a warning (TestOrderLinesOnCDNOW checks both).
@pytest.mark.filterwarnings(
    "ignore:rfm_scores.*further lines of an order:cxmodel.errors.DataWarning"
)
class TestRFMScoresOnCDNOW:
    @pytest.mark.parametrize("n_bins", [3, 5])
    def test_equal_to_pandas_reference(
        self, cdnow: pd.DataFrame, cdnow_log: InteractionLog, n_bins: int
    ) -> None:
        """Every column equals the independent pandas computation on CDNOW."""
        got = rfm_scores(cdnow_log, as_of=AS_OF, n_bins=n_bins).to_pandas()
        ref = _pandas_rfm(cdnow, AS_OF, n_bins)
        assert got["customer_id"].tolist() == ref["customer_id"].tolist()
        np.testing.assert_allclose(got["recency_days"], ref["recency_days"])
        np.testing.assert_array_equal(got["frequency"], ref["frequency"])
        np.testing.assert_allclose(got["monetary"], ref["monetary"], rtol=1e-12)
        for col in ("r", "f", "m"):
            np.testing.assert_array_equal(got[col], ref[col], err_msg=col)

    def test_later_purchases_ignored(self, cdnow: pd.DataFrame, cdnow_log: InteractionLog) -> None:
        """Only customers with a purchase at or before as_of appear."""
        early = np.datetime64("1997-01-15T00:00:00", "us")
        got = rfm_scores(cdnow_log, as_of=early)
        expected = cdnow.loc[cdnow["ts"] <= early, "customer_id"].nunique()
        assert len(got) == expected
        assert (got.recency_days >= 0).all()

    def test_default_map_equals_reference_grid(
        self, cdnow: pd.DataFrame, cdnow_log: InteractionLog
    ) -> None:
        """The default R x F map labels customers exactly as a lookup of the REFERENCES grid."""
        grid = {
            5: [
                "New Customers",
                "Potential Loyalists",
                "Potential Loyalists",
                "Champions",
                "Champions",
            ],
            4: ["Promising", "Potential Loyalists", "Potential Loyalists", "Loyal", "Loyal"],
            3: ["About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"],
            2: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose"],
            1: ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose"],
        }
        ref = _pandas_rfm(cdnow, AS_OF, 5)
        expected = [grid[r][f - 1] for r, f in zip(ref["r"], ref["f"], strict=True)]
        seg = rfm_segments(rfm_scores(cdnow_log, as_of=AS_OF))
        assert seg.labels.tolist() == expected
        assert sum(seg.counts().values()) == len(seg)

    def test_identical_customers_share_a_segment(self, cdnow_log: InteractionLog) -> None:
        """Customers with the same last purchase day and purchase count get one segment (by id
        tie-breaking, 2,480 identical one-time buyers used to split between two segments)."""
        scores = rfm_scores(cdnow_log, as_of=AS_OF)
        seg = rfm_segments(scores)
        frame = pd.DataFrame(
            {
                "recency": scores.recency_days,
                "frequency": scores.frequency,
                "r": scores.r,
                "f": scores.f,
                "label": seg.labels,
            }
        )
        per_group = frame.groupby(["recency", "frequency"])[["r", "f", "label"]].nunique()
        assert (per_group == 1).all().all()
        one_timers = frame[frame["frequency"] == 1]
        assert one_timers["f"].nunique() == 1  # all one-time buyers share the frequency score


class TestOrderLinesOnCDNOW:
    def test_purchases_on_one_day_are_counted_and_merged(
        self, cdnow: pd.DataFrame, cdnow_log: InteractionLog
    ) -> None:
        """The warning counts the rows pandas finds duplicated on (customer, day); scored on
        ``log.orders()``, frequency is the number of distinct days and monetary the same sum."""
        rows = cdnow[cdnow["ts"] <= AS_OF]
        lines = int(rows.duplicated(["customer_id", "ts"]).sum())
        assert lines == 1583
        with pytest.warns(DataWarning, match=f"rfm_scores\\(\\): {lines:,} of {len(rows):,} "):
            rfm_scores(cdnow_log, as_of=AS_OF)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = rfm_scores(cdnow_log.orders(), as_of=AS_OF)
        days = rows.groupby("customer_id").agg(
            frequency=("ts", "nunique"), monetary=("dollar_value", "sum")
        )
        np.testing.assert_array_equal(got.frequency, days["frequency"].to_numpy())
        np.testing.assert_allclose(got.monetary, days["monetary"].to_numpy(), rtol=1e-12)


class TestOrderLines:
    @pytest.mark.parametrize(
        ("kind", "counted", "advice"),
        [("purchase", "2 of 4 purchases", "log.orders()"),
         (["order"], "1 of 2 rows of kind 'order'", "log.orders(kind='order')"),
         (["purchase", "order"], "3 of 6 rows of kinds 'purchase', 'order'",
          "log.orders(kind=...) for each of 'purchase', 'order'")],
        ids=["purchase", "another-kind", "two-kinds"],
    )  # fmt: skip
    def test_lines_counted_as_purchases_warn(self, kind: Any, counted: str, advice: str) -> None:
        """Lines of one order (one instant, or one order_id) count as purchases of their own,
        with a warning that counts them, names the kinds counted and the log.orders() call that
        merges them; rows of two kinds at one instant are two orders."""
        log = InteractionLog.from_arrays(
            ["a", "a", "a", "a", "b", "b"],
            [0, 0, 0, 0, 1, 9],
            ["purchase", "order", "purchase", "order", "purchase", "purchase"],
            order_id=[None, None, None, None, "x", "x"],
        )
        with pytest.warns(DataWarning) as seen:
            rfm_scores(log, as_of=10, kind=kind)
        assert [str(w.message) for w in seen] == [
            f"rfm_scores(): {counted} are further lines of an order (same customer "
            "and order_id, or same instant): counted here as purchases of their own; collapse "
            f"them with {advice}"
        ]


class TestMissingValues:
    def test_purchases_without_a_value_are_counted(self) -> None:
        """A purchase without a value counts as 0 and a DataWarning says how many."""
        log = InteractionLog.from_arrays(
            ["a", "a", "b"], [0, 5, 3], ["purchase"] * 3, value=[1.0, float("nan"), 4.0]
        )
        with pytest.warns(DataWarning, match="1 of 3 purchases have no 'value'"):
            scores = rfm_scores(log, as_of=10)
        assert scores.monetary.tolist() == [1.0, 4.0]


class TestSameRecency:
    def test_everyone_bought_at_once_warns(self) -> None:
        """Ten customers who all bought yesterday all score r = 1 ('Hibernating' in the default
        map, silently): a DataWarning now says the recency score ranks nothing."""
        log = InteractionLog.from_arrays(
            [f"c{i}" for i in range(10)],
            ["2024-06-01T00:00Z"] * 10,
            ["purchase"] * 10,
            value=[float(i) for i in range(10)],
        )
        with pytest.warns(DataWarning, match=r"all 10 customers made their last purchase at"):
            scores = rfm_scores(log, as_of="2024-06-02T00:00Z")
        assert scores.r.tolist() == [1] * 10
        assert scores.m.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]

    def test_one_customer_is_silent(self) -> None:
        """A single customer has nothing to be ranked against: no warning."""
        log = InteractionLog.from_arrays(["a"], ["2024-06-01T00:00Z"], ["purchase"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert rfm_scores(log, as_of="2024-06-02T00:00Z").r.tolist() == [1]


class TestMagnitudes:
    def test_huge_totals_keep_their_value_and_order(self) -> None:
        """Totals beyond 1e299 are not rounded to inf (which tied them all): 2e300 > 1.5e300 >
        9e299 keep their values and monetary scores 3, 2, 1."""
        log = InteractionLog.from_arrays(
            ["a", "a", "b", "c"],
            [0, 5, 3, 4],
            ["purchase"] * 4,
            value=[1e300, 1e300, 1.5e300, 9e299],
        )
        scores = rfm_scores(log, as_of=10, n_bins=3)
        assert scores.monetary.tolist() == [2e300, 1.5e300, 9e299]
        assert scores.m.tolist() == [3, 2, 1]


class TestRankScores:
    def test_nan_takes_the_top_score_with_a_warning(self) -> None:
        """An unknown quantity ranks above every number (documented): a warning counts it,
        since it silently made a customer without a value a top scorer."""
        with pytest.warns(DataWarning, match=r"1 of 3 quantities are NaN"):
            assert rank_scores([float("nan"), 1.0, 2.0], 3).tolist() == [3, 1, 2]

    @settings(max_examples=50, deadline=None)
    @given(
        st.lists(st.integers(0, 5), min_size=1, max_size=60),
        st.integers(2, 10),
    )
    def test_scores_monotone_and_ties_shared(self, values: list[int], n_bins: int) -> None:
        """Scores are in 1..n_bins, never decrease with the value, and equal values share one."""
        scores = rank_scores(values, n_bins)
        assert scores.min() >= 1 and scores.max() <= n_bins
        order = np.argsort(values, kind="stable")
        assert (np.diff(scores[order]) >= 0).all()
        for v in set(values):
            assert len(set(scores[np.asarray(values) == v].tolist())) == 1

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(st.sampled_from([0.5, 1.0, 2.5, -3.0, 7.0]), min_size=1, max_size=200),
        st.integers(2, 10),
    )
    def test_equals_pandas_min_rank(self, values: list[float], n_bins: int) -> None:
        """Scores equal ``1 + (rank(method="min") - 1) * n_bins // N`` with many ties."""
        low = pd.Series(values).rank(method="min").to_numpy().astype(np.int64) - 1
        expected = 1 + (low * n_bins) // len(values)
        np.testing.assert_array_equal(rank_scores(values, n_bins), expected)

    @settings(max_examples=100, deadline=None)
    @given(
        st.lists(st.sampled_from([float("nan"), -0.0, 0.0, 1.5, -2.0]), min_size=1, max_size=80),
        st.integers(2, 10),
    )
    def test_nan_and_signed_zeros_tie_as_pandas_min_rank(
        self, values: list[float], n_bins: int
    ) -> None:
        """NaN tie with one another above every number, and -0.0 ties with 0.0, as in pandas
        ``rank(method="min", na_option="bottom")``."""
        low = pd.Series(values).rank(method="min", na_option="bottom").to_numpy()
        expected = 1 + (low.astype(np.int64) - 1) * n_bins // len(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            np.testing.assert_array_equal(rank_scores(values, n_bins), expected)

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=80), st.integers(2, 10))
    def test_large_integers_equal_pandas_min_rank(self, values: list[int], n_bins: int) -> None:
        """Integer quantities (the last purchase times of ``r``) rank without a float cast."""
        low = pd.Series(values).rank(method="min").to_numpy().astype(np.int64) - 1
        expected = 1 + (low * n_bins) // len(values)
        np.testing.assert_array_equal(rank_scores(values, n_bins), expected)

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.integers(0, 3), min_size=1, max_size=50), st.integers(0, 2**32 - 1))
    def test_input_order_does_not_matter(self, values: list[int], seed: int) -> None:
        """Shuffling the customers shuffles their scores and nothing else."""
        perm = np.random.default_rng(seed).permutation(len(values))
        arr = np.asarray(values)
        np.testing.assert_array_equal(rank_scores(arr[perm], 5), rank_scores(arr, 5)[perm])

    @pytest.mark.parametrize(
        ("values", "n_bins", "expected"),
        [
            pytest.param([1.0, 1.0, 1.0, 1.0], 2, [1, 1, 1, 1], id="all-equal-share-score-1"),
            pytest.param([1, 1, 1, 2], 4, [1, 1, 1, 4], id="big-tie-skips-scores"),
            pytest.param([3, 1, 2, 4], 4, [3, 1, 2, 4], id="distinct-one-per-bin"),
            pytest.param([5.0, 5.0, 1.0], 3, [2, 2, 1], id="tie-takes-lowest-position"),
            # docs/guide/segmentation.md: 1 + floor(5 i / 7); pd.qcut(x, 5) gives 1,1,2,3,4,5,5
            pytest.param(list(range(7)), 5, [1, 1, 2, 3, 3, 4, 5], id="seven-not-qcut"),
        ],
    )
    def test_known_answers(self, values: list[float], n_bins: int, expected: list[int]) -> None:
        """Ties share the score of their lowest position, whatever their ids."""
        assert rank_scores(values, n_bins).tolist() == expected


class TestBadInput:
    @pytest.mark.parametrize("n_bins", [1, 0, 101, 2.5, True, "5"])
    def test_bad_n_bins(self, n_bins: object) -> None:
        """n_bins outside [2, 100] or not an int is rejected, naming the parameter."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
        )
        with pytest.raises(SchemaError, match="n_bins"):
            rfm_scores(log, as_of="2024-02-01T00:00Z", n_bins=n_bins)  # type: ignore[arg-type]

    def test_numpy_integer_n_bins(self) -> None:
        """n_bins computed with numpy (``np.int64``) acts as an int."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b"],
            timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"],
            kind=["purchase"] * 2,
        )
        scores = rfm_scores(log, as_of="2024-02-01T00:00Z", n_bins=np.int64(3))
        expected = rfm_scores(log, as_of="2024-02-01T00:00Z", n_bins=3)
        assert scores.to_pandas().equals(expected.to_pandas())

    def test_bad_as_of(self) -> None:
        """An unparsable as_of names the argument."""
        log = InteractionLog.from_arrays(
            customer_id=["a"], timestamp=["2024-01-01T00:00Z"], kind=["purchase"]
        )
        with pytest.raises(SchemaError, match="as_of"):
            rfm_scores(log, as_of="yesterday")


class TestRFMTotals:
    @settings(max_examples=40, deadline=None)
    @given(st.integers(1, 60), st.integers(0, 2**16), st.lists(st.integers(0, 60), max_size=4))
    def test_pieces_merge_to_the_whole(self, n: int, seed: int, cuts: list[int]) -> None:
        """Totals of separately built pieces of a log, merged, score like the whole log."""
        from cxmodel.segment._rfm import RFMTotals

        rng = np.random.default_rng(seed)
        columns = {
            "customer_id": [f"c{i}" for i in rng.integers(0, 9, n)],
            "timestamp": (1_700_000_000 + rng.integers(0, 86_400 * 60, n)).tolist(),
            "kind": rng.choice(["purchase", "view"], n).tolist(),
            "value": rng.integers(1, 50, n).astype(float).tolist(),
        }
        cutoff = (1_700_000_000 + 86_400 * 45) * 1_000_000
        bounds = [0, *sorted(min(c, n) for c in cuts), n]
        merged = RFMTotals.empty(cutoff, ("purchase",))
        for lo, hi in itertools.pairwise(bounds):
            if hi > lo:
                piece = InteractionLog.from_arrays(**{k: v[lo:hi] for k, v in columns.items()})
                merged = RFMTotals.partial(piece, as_of=cutoff, kinds=("purchase",)).merge(merged)
        whole = InteractionLog.from_arrays(**columns)
        if not (whole.kind_mask("purchase") & (whole.timestamps <= cutoff)).any():
            return
        expected = rfm_scores(whole, as_of=np.datetime64(cutoff, "us"), n_bins=3).to_dict()
        got = merged.scores(3).to_dict()
        for key, value in expected.items():
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)

    def test_unknown_kind_is_checked_once_against_every_piece(self) -> None:
        """A kind that only one piece holds is no typo; a kind no piece holds is one."""
        from cxmodel.segment._rfm import RFMTotals

        one = InteractionLog.from_arrays(["a"], [0], ["order"], value=[1.0])
        two = InteractionLog.from_arrays(["b"], [0], ["view"])
        totals = RFMTotals.partial(two, as_of=10**12, kinds=("order",)).merge(
            RFMTotals.partial(one, as_of=10**12, kinds=("order",))
        )
        assert totals.scores(2).customer_id.tolist() == ["a"]
        typo = RFMTotals.partial(two, as_of=10**12, kinds=("ordr",))
        with pytest.raises(SchemaError, match=r"rfm_scores\(\) kind: unknown kind 'ordr'"):
            typo.scores(2)
