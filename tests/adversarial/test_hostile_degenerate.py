"""Degenerate data in the journey, segmentation and personalisation functions: a label per
row (100,000 kinds or channels), conversions no touch reaches, revenue past the float range,
features whose squares overflow.
Each was a run out of memory or time, or an answer of zeros without a word."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import journey, segment
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import CustomerTable, InteractionLog

AS_OF = "2024-03-01T00:00:00Z"


def _distinct(n: int, *, customers: int, kind: str | None = None) -> InteractionLog:
    """``n`` rows, each of its own kind (or of ``kind``) and its own channel."""
    rng = np.random.default_rng(0)
    ids = np.array([f"c{i}" for i in rng.integers(0, customers, n)], dtype=object)
    seconds = rng.integers(0, 86_400 * 50, n).astype("timedelta64[s]")
    times = (np.datetime64("2024-01-01T00:00") + seconds).astype("datetime64[us]")
    kinds = np.array([f"k{i}" for i in range(n)] if kind is None else [kind] * n, dtype=object)
    channels = np.array([f"ch{i}" for i in range(n)], dtype=object)
    return InteractionLog.from_arrays(ids, times, kinds, channel=channels)


class TestALabelPerRow:
    def test_transitions_refuse_a_matrix_past_memory(self) -> None:
        """5,000 kinds made 5,002 x 5,002 matrices (2 GB); 20,000 kinds were killed for
        memory. Past 4,096 labels it is a DataError naming the level and its labels."""
        log = _distinct(5_000, customers=500)
        with pytest.raises(DataError, match=r"level='kind' has 5,002 labels .* at most 4,096"):
            journey.transitions(log)

    def test_dask_transitions_refuse_them_too(self) -> None:
        """The same limit over partitions."""
        dask = pytest.importorskip("dask")
        dd = pytest.importorskip("dask.dataframe")
        from cxmodel import dask as cxd

        frame = dd.from_pandas(_distinct(5_000, customers=500).to_pandas(), npartitions=2)
        with (
            dask.config.set(scheduler="synchronous"),
            pytest.raises(DataError, match=r"cxmodel.dask.transitions\(\): level='kind' has"),
        ):
            cxd.transitions(frame)

    def test_markov_attribution_refuses_thousands_of_channels(self) -> None:
        """One chain solve per channel removed: 20,000 channels ran for hours."""
        log = _distinct(1_000, customers=100, kind="purchase")
        with pytest.raises(DataError, match=r"1,000 values, and the Markov model takes at most"):
            journey.attribution(log, model="markov")

    def test_customer_table_of_a_channel_per_row(self) -> None:
        """The preferred channel was counted in a customers x channels table (10,000 x
        100,000: 8 GB, 70 s); it counts the pairs that occur."""
        table = CustomerTable.from_log(_distinct(100_000, customers=10_000), as_of=AS_OF)
        assert len(table) == 10_000

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from("abc"), st.sampled_from(["x", "y", "z", None])),
            min_size=1,
            max_size=25,
        )
    )
    def test_preferred_channel_is_the_most_used(self, rows: list[tuple[str, str | None]]) -> None:
        """Each customer's preferred channel is their most used one, the first by name among
        ties, None without one: the same as counting every channel per customer."""
        ids, channels = zip(*rows, strict=True)
        times = [f"2024-01-01T00:{i:02d}:00Z" for i in range(len(rows))]
        log = InteractionLog.from_arrays(
            list(ids), times, ["view"] * len(rows), channel=list(channels)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            table = CustomerTable.from_log(log, as_of="2024-01-01T01:00:00Z")
        for customer, preferred in zip(
            table.column("customer_id"), table.column("preferred_channel"), strict=True
        ):
            used = [c for i, c in rows if i == customer and c is not None]
            expected = min(set(used), key=lambda c: (-used.count(c), c)) if used else None
            assert preferred == expected


class TestAttributionWithoutTouches:
    LOG = InteractionLog.from_arrays(
        ["a", "a", "b"],
        ["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z"],
        ["view", "purchase", "purchase"],
        channel=[None, None, None],
        value=[np.nan, 1e308, 1e308],
    )

    def test_no_conversion_reached_by_a_touch_warns(self) -> None:
        """Two conversions, no touch with a channel: every credit was 0 without a word."""
        with pytest.warns(DataWarning, match=r"none of the 2 conversions has a touch"):
            result = journey.attribution(self.LOG, model=("first", "linear"))
        assert result.unattributed == 2.0
        assert not result.credit.any()

    def test_one_touched_conversion_is_quiet(self) -> None:
        """A conversion with a touch is attributed: no warning."""
        log = InteractionLog.from_arrays(
            ["a", "a", "b"],
            ["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z"],
            ["view", "purchase", "purchase"],
            channel=["email", None, None],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = journey.attribution(log, model="first")
        assert result.credit.tolist() == [[1.0]]

    def test_revenue_past_the_float_range_is_refused(self) -> None:
        """Two conversions of 1e308 made an infinite unattributed revenue."""
        with (
            warnings.catch_warnings(),
            pytest.raises(DataError, match=r"attribution\(revenue=True\): the sum of column"),
        ):
            warnings.simplefilter("ignore", DataWarning)
            journey.attribution(self.LOG, model="first", revenue=True)


def _four_buyers(values: list[float]) -> CustomerTable:
    """Customers a-d, one purchase each on 1-4 January 2024 worth ``values``."""
    log = InteractionLog.from_arrays(
        ["a", "b", "c", "d"],
        ["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-01-03T00:00Z", "2024-01-04T00:00Z"],
        ["purchase"] * 4,
        value=values,
    )
    return CustomerTable.from_log(log, as_of="2024-01-04T00:00:00Z")


class TestFeaturesPastTheSquareRange:
    """Spreads of values past 1e154 overflowed in their squares: standardise() gave the
    feature a scale of inf (every z-score 0, so cluster() ignored it) and Welch's interval
    and Cohen's d were NaN, with numpy's RuntimeWarning. They are computed in units of the
    largest value and scaled back."""

    def test_standardise_keeps_a_huge_column(self) -> None:
        z, center, scale = segment.standardise(np.array([[1e200], [-1e200], [0.0]]))
        expected, _, _ = segment.standardise(np.array([[1.0], [-1.0], [0.0]]))
        np.testing.assert_allclose(z, expected, rtol=1e-12)
        assert center.tolist() == [0.0]
        np.testing.assert_allclose(scale, [np.sqrt(2 / 3) * 1e200], rtol=1e-12)

    def test_standardise_refuses_a_list(self) -> None:
        """A 1-d array gave a scalar centre and a 0-d scale; it is a table or nothing."""
        with pytest.raises(SchemaError, match="must be a 2-d array"):
            segment.standardise(np.ones(3))

    def test_cluster_separates_by_a_huge_feature(self) -> None:
        table = _four_buyers([1e200, 1.0, 2.0, 1e200])
        labels = segment.cluster(table, ["monetary"], n_clusters=2).labels
        assert labels[0] == labels[3] != labels[1] == labels[2]

    @pytest.mark.parametrize("unit", [1.0, 1e200])
    def test_welch_interval_scales_with_the_data(self, unit: float) -> None:
        a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0])
        low, high = segment.welch_interval(a * unit, b * unit)
        np.testing.assert_allclose([low, high], [-0.9877338 * unit, 3.9877338 * unit], rtol=1e-6)

    def test_contrast_of_a_huge_feature(self) -> None:
        """The difference's interval and Cohen's d were NaN (and a RuntimeWarning)."""
        table = _four_buyers([1e200, 1.0, 3e200, 2.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = segment.contrast(table, ["a", "b"], ["c", "d"], features=["monetary"])
        assert np.isfinite([result.low[0], result.high[0], result.effect_size[0]]).all()
        # d = (5e199 - 1.5e200) / sqrt((0.5e400 + 4.5e400) / 2) = -1 / sqrt(2.5)
        assert result.effect_size[0] == pytest.approx(-1 / np.sqrt(2.5), rel=1e-9)
