"""Clustering on standardised CustomerTable features."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from cxmodel.datasets import synthetic
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._customer_table import CustomerTable
from cxmodel.segment import cluster, standardise

DAY = 86_400_000_000


def _two_groups() -> tuple[CustomerTable, np.ndarray]:
    """Big spenders buy 10x, small spenders once; planted truth = big."""
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


def test_infinite_and_empty_features_are_named() -> None:
    """An infinite value is refused with its customer (it made KMeans raise a raw ValueError);
    a feature no customer has warns (it was silently 0 for everyone)."""
    pytest.importorskip("sklearn")
    table = synthetic(100, seed=1).log.customers_table("2024-10-01T00:00Z")
    monetary = np.asarray(table.column("monetary"), dtype=float).copy()
    monetary[0] = np.inf
    broken = attrs.evolve(table, data={**table.data, "monetary": monetary})
    with pytest.raises(SchemaError, match=r"'monetary' is inf for customer 'C0000.*1 infinite"):
        cluster(broken, ["frequency", "monetary"], n_clusters=3)
    blank = attrs.evolve(table, data={**table.data, "score": np.full(len(table), np.nan)})
    with pytest.warns(DataWarning, match=r"feature 'score' has no value for any of the 67"):
        cluster(blank, ["frequency", "score"], n_clusters=3)
