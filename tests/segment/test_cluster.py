"""Clustering on standardised CustomerTable features."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.datasets import synthetic
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CustomerTable
from cxmodel.segment import cluster, standardise

DAY = 86_400_000_000


def _two_groups() -> tuple[CustomerTable, np.ndarray]:
    """Big spenders buy 10x (orders of their own, some on one day), small spenders once;
    planted truth = big."""
    rng = np.random.default_rng(0)
    ids, ts, vals, big = [], [], [], []
    for i in range(60):
        is_big = i % 2 == 0
        big.append(is_big)
        k = 10 if is_big else 1
        ids += [f"c{i:02d}"] * k
        ts += list(rng.integers(0, 100, k) * DAY)
        vals += list(rng.uniform(100, 200, k) if is_big else rng.uniform(5, 10, k))
    log = InteractionLog.from_arrays(
        customer_id=np.array(ids, dtype=object),
        timestamp=np.array(ts).astype("datetime64[us]"),
        kind=np.full(len(ids), "purchase", dtype=object),
        value=np.array(vals),
        order_id=np.array([f"o{j}" for j in range(len(ids))], dtype=object),
    )
    return CustomerTable.from_log(log, as_of=np.datetime64(100 * DAY, "us")), np.array(big)


class TestCluster:
    def test_kmeans_recovers_groups(self) -> None:
        """Default KMeans with k=2 separates the planted groups exactly."""
        table, big = _two_groups()
        result = cluster(table, ["frequency", "monetary"], n_clusters=2)
        same = result.labels == result.labels[0]
        assert (same == big).all() or (same == ~big).all()
        assert result.size.sum() == len(table)
        assert result.mean.shape == (2, 2)

    def test_numpy_integer_n_clusters(self) -> None:
        """A number of clusters computed with numpy (``np.int64``) acts as an int."""
        table, _ = _two_groups()
        result = cluster(table, ["frequency", "monetary"], n_clusters=np.int64(2))
        assert result.mean.shape == (2, 2)

    def test_custom_estimator(self) -> None:
        """Any object with fit_predict works and receives standardised features."""
        seen: list[np.ndarray] = []

        class Sign:
            def fit_predict(self, x: np.ndarray) -> np.ndarray:
                seen.append(x)
                return (x[:, 0] > 0).astype(int)

        table, big = _two_groups()
        result = cluster(table, ["frequency"], estimator=Sign())
        np.testing.assert_allclose(seen[0].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(seen[0].std(axis=0), 1)
        assert (result.labels.astype(bool) == big).all()

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"estimator": object()}, SchemaError, "fit_predict"),
            ({"n_clusters": 0}, SchemaError, "n_clusters"),
            ({"n_clusters": 1000}, DataError, "exceeds"),
        ],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], error: type, match: str) -> None:
        """Bad estimators and cluster counts are rejected with clear messages."""
        table, _ = _two_groups()
        with pytest.raises(error, match=match):
            cluster(table, ["frequency"], **kwargs)  # type: ignore[arg-type]

    def test_standardise_constant_and_nan(self) -> None:
        """Constant columns map to 0 and NaN to the mean."""
        z, _, scale = standardise(np.array([[1.0, 2.0], [1.0, np.nan], [1.0, 4.0]]))
        assert z[:, 0].tolist() == [0.0, 0.0, 0.0] and scale[0] == 1.0
        assert z[1, 1] == 0.0

    def test_standardise_rounding_is_no_spread(self) -> None:
        """Values equal up to rounding are a constant column; a small real spread on large
        values (1e6 and 1e6 + 1e-6) is kept: z-scores -1 and 1."""
        z, _, scale = standardise(np.array([[0.3, 1e6], [0.1 + 0.2, 1e6 + 1e-6]]))
        assert z[:, 0].tolist() == [0.0, 0.0] and scale[0] == 1.0
        assert z[:, 1].tolist() == pytest.approx([-1.0, 1.0], rel=1e-6)

    def test_standardise_agrees_with_standard_scaler(self) -> None:
        """Columns constant up to rounding, ordinary and tiny-valued columns: the z-scores of
        scikit-learn's StandardScaler to 1e-6 (the 1e9 column loses digits to cancellation in
        either)."""
        preprocessing = pytest.importorskip("sklearn.preprocessing")
        rng = np.random.default_rng(8)
        x = np.column_stack(
            [
                np.full(50, 0.1) * 3 + rng.integers(0, 2, 50) * 5.551115123125783e-17,
                rng.normal(size=50),
                rng.normal(size=50) * 1e-12,
                1e9 + rng.normal(size=50) * 1e-3,
            ]
        )
        z, _, _ = standardise(x)
        expected = preprocessing.StandardScaler().fit_transform(x)
        np.testing.assert_allclose(z, expected, rtol=1e-6, atol=1e-6)


def test_infinite_and_empty_features_are_named() -> None:
    """An infinite value is refused with its customer (it made KMeans raise a raw ValueError);
    a feature no customer has is left out with a warning (it was silently 0 for everyone)."""
    pytest.importorskip("sklearn")
    table = synthetic(100, seed=1).log.customers_table("2024-10-01T00:00Z")
    monetary = np.asarray(table.column("monetary"), dtype=float).copy()
    monetary[0] = np.inf
    broken = attrs.evolve(table, data={**table.data, "monetary": monetary})
    with pytest.raises(SchemaError, match=r"'monetary' is inf for customer 'C0000.*1 infinite"):
        cluster(broken, ["frequency", "monetary"], n_clusters=3)
    blank = attrs.evolve(table, data={**table.data, "score": np.full(len(table), np.nan)})
    with pytest.warns(DataWarning, match=r"over the 67 customers .*'score' \(no customer has"):
        result = cluster(blank, ["frequency", "score"], n_clusters=3)
    assert result.features == ("frequency",)


def _with(table: CustomerTable, **columns: np.ndarray) -> CustomerTable:
    return attrs.evolve(table, data={**table.data, **columns})


class TestSingleValuedFeatures:
    """A feature with one value separates nothing: left out with a warning naming it; none
    varying is an error (it was a raw scikit-learn ConvergenceWarning and one cluster)."""

    def test_constant_feature_is_left_out_and_named(self) -> None:
        """The clusters are those of the varying features alone; the warning names the
        constant feature, its value and the customer count."""
        pytest.importorskip("sklearn")
        table, _ = _two_groups()
        flat = _with(table, flat=np.full(len(table), 3.0))
        with pytest.warns(DataWarning, match=r"1 of 3 features .* 60 customers .*'flat' \(3\.0 "):
            result = cluster(flat, ["frequency", "flat", "monetary"], n_clusters=2)
        alone = cluster(table, ["frequency", "monetary"], n_clusters=2)
        assert result.features == ("frequency", "monetary")
        assert result.labels.tolist() == alone.labels.tolist()
        assert result.mean.shape == (2, 2) and result.scale.shape == (2,)

    def test_constant_among_those_with_a_value(self) -> None:
        """A feature that is 1 where known and missing elsewhere is 0 for everyone after
        standardising: also left out, saying so."""
        table, _ = _two_groups()
        partly = np.where(np.arange(len(table)) % 3 == 0, np.nan, 1.0)
        seen: list[np.ndarray] = []

        class Sign:
            def fit_predict(self, x: np.ndarray) -> np.ndarray:
                seen.append(x)
                return (x[:, 0] > 0).astype(int)

        with pytest.warns(DataWarning, match=r"'partly' \(1\.0 for every customer who has"):
            result = cluster(_with(table, partly=partly), ["frequency", "partly"], estimator=Sign())
        assert seen[0].shape == (len(table), 1) and result.features == ("frequency",)

    def test_constant_text_level_is_left_out(self) -> None:
        """A text trait every customer shares is one indicator that is always 1."""
        table, _ = _two_groups()
        plan = np.full(len(table), "pro", dtype=object)
        with pytest.warns(DataWarning, match=r"'plan=pro' \(1\.0 for every customer\)"):
            result = cluster(_with(table, plan=plan), ["frequency", "plan"], estimator=_FirstSign())
        assert result.features == ("frequency",)

    @pytest.mark.parametrize(
        ("columns", "match"),
        [
            ({"a": np.full(60, 2.0), "b": np.full(60, np.nan)}, r"'a' \(2\.0 for every .*'b' \(no"),
            ({"a": np.zeros(60, dtype=bool)}, r"'a' \(0\.0 for every customer\)"),
        ],
        ids=["constant-and-empty", "all-false-bool"],
    )
    def test_no_feature_varies_is_an_error(
        self, columns: dict[str, np.ndarray], match: str
    ) -> None:
        """With nothing varying the estimator is not called: a DataError names each feature."""
        table, _ = _two_groups()
        with pytest.raises(DataError, match=r"no feature varies over the 60 customers.*" + match):
            cluster(_with(table, **columns), list(columns), estimator=_FirstSign())

    def test_clean_features_do_not_warn(self) -> None:
        """Varying features pass without a warning (warnings are errors in this suite)."""
        table, _ = _two_groups()
        result = cluster(table, ["frequency", "monetary"], estimator=_FirstSign())
        assert result.features == ("frequency", "monetary")

    @given(value=st.floats(-1e12, 1e12), position=st.integers(0, 2))
    @settings(max_examples=25, deadline=None)
    def test_adding_a_constant_changes_nothing(self, value: float, position: int) -> None:
        """Whatever its value and position, a constant feature leaves the labels, means and
        scaling of the others unchanged."""
        table, _ = _two_groups()
        names = ["frequency", "monetary"]
        names.insert(position, "flat")
        with pytest.warns(DataWarning, match="'flat'"):
            result = cluster(
                _with(table, flat=np.full(len(table), value)), names, estimator=_FirstSign()
            )
        alone = cluster(table, ["frequency", "monetary"], estimator=_FirstSign())
        assert result.labels.tolist() == alone.labels.tolist()
        np.testing.assert_array_equal(result.mean, alone.mean)
        np.testing.assert_array_equal(result.scale, alone.scale)


class _FirstSign:
    """A clusterer without scikit-learn: the sign of the first standardised feature."""

    def fit_predict(self, x: np.ndarray) -> np.ndarray:
        return (x[:, 0] > 0).astype(int)


class TestAgainstScikitLearn:
    def test_kmeans_on_the_documented_z_scores(self) -> None:
        """The labels are scikit-learn KMeans(n_clusters, n_init=10, random_state=0) on z-scores
        with the mean and population SD of the present values, missing values at 0. (A
        SimpleImputer + StandardScaler pipeline scales after imputing: other z-scores.)"""
        from sklearn.cluster import KMeans

        table = CustomerTable.from_log(synthetic(300, seed=2).log, as_of="2025-01-01T00:00Z")
        names = ["recency_days", "frequency", "monetary"]
        x = np.column_stack([table.column(n).astype(np.float64) for n in names])
        assert np.isnan(x[:, 0]).any()  # customers without a purchase have no recency
        mean, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
        z = np.where(np.isnan(x), 0.0, (x - mean) / sd)
        expected = KMeans(n_clusters=3, n_init=10, random_state=0).fit_predict(z)
        result = cluster(table, names, n_clusters=3)
        np.testing.assert_array_equal(result.labels, expected)
        np.testing.assert_allclose(result.center, mean)
        np.testing.assert_allclose(result.scale, sd)


class _FixedLabels:
    """A clusterer answering ``low`` for customers below the mean of the first feature."""

    def __init__(self, low: object, high: object) -> None:
        self.low, self.high = low, high

    def fit_predict(self, x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] > 0, self.high, self.low)


class TestEstimatorLabels:
    def test_whole_numbers_as_floats_and_noise_accepted(self) -> None:
        """Labels 2.0 and -1 (noise): cluster 2 holds the high ones, noise is set aside."""
        table, _ = _two_groups()
        found = cluster(table, ["frequency"], estimator=_FixedLabels(-1, 2.0))
        assert found.labels.dtype == np.int64
        assert found.size.tolist() == [0, 0, int((found.labels == 2).sum())]

    @pytest.mark.parametrize(
        ("low", "high", "match"),
        [
            (0.5, 1, "answered 0.5 for customer"),
            (float("nan"), 1, "answered nan for customer"),
            (-2, 1, "answered -2 for customer"),
            ("a", "b", "answered labels of dtype <U1"),
        ],
        ids=["fraction", "nan", "below-noise", "text"],
    )
    def test_other_labels_refused(self, low: object, high: object, match: str) -> None:
        """Labels that are not whole numbers >= -1 are a SchemaError naming the estimator."""
        table, _ = _two_groups()
        with pytest.raises(SchemaError, match=f"_FixedLabels.fit_predict\\(\\) {match}"):
            cluster(table, ["frequency"], estimator=_FixedLabels(low, high))
