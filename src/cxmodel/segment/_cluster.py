"""Clusters of customers on standardised CustomerTable features (scikit-learn estimators)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import (
    customer_table,
    float_array,
    name_sequence,
    positive_integer,
    random_seed,
)
from cxmodel._optional import import_optional
from cxmodel._pieces import warn
from cxmodel._result import Result, column
from cxmodel._stats import LARGE
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.segment._features import feature_columns, feature_matrix

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["Clusters", "cluster", "standardise"]


@attrs.frozen(eq=False, repr=False)
class Clusters(Result):
    """Cluster labels per customer and each cluster's feature means in original units.

    Attributes
    ----------
    customer_id, labels : ndarray
        One integer label per table row.
    features : tuple of str
        The features clustered on: those named (text ones as their levels), less those with a
        single value.
    mean : ndarray, shape (n_clusters, n_features)
        Per-cluster means of the raw (unscaled) features, NaN ignored.
    size : ndarray of int
        Customers per cluster (clusters numbered 0..k-1 as the estimator labelled them).
    center, scale : ndarray
        The standardisation used: z = (x - center) / scale.
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    labels: npt.NDArray[np.int64] = attrs.field(metadata=column())
    features: tuple[str, ...]
    mean: npt.NDArray[np.float64]
    size: npt.NDArray[np.int64]
    center: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    def _figures(self) -> dict[str, Any]:
        return {"k": self.size.shape[0], "features": self.features}


def standardise(
    x: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Z-scores per column: subtract the mean, divide by the population standard deviation
    (ddof=0); constant columns get scale 1 and z-scores 0; NaN becomes 0 (the column mean).
    ``x`` is a table (rows, columns); values up to the float range are standardised without
    overflow. A column is constant when its values are equal up to rounding: a standard
    deviation within ``n * eps`` of its largest magnitude (n values, eps = 2.2e-16) is the
    rounding of the sums, not a spread (0.3 and 0.1 + 0.2 are one value, as scikit-learn's
    ``StandardScaler`` takes them).

    Examples
    --------
    >>> z, c, s = standardise(np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]]))
    >>> z.tolist(), c.tolist(), s.tolist()
    ([[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]], [2.0, 5.0], [1.0, 1.0])
    """
    x = float_array(x, "standardise()", "x", ndim=2)
    # a column past 1e100 (whose squares overflow) is divided by its largest value first
    # and its centre and scale multiplied back: z-scores do not depend on the unit
    with np.errstate(invalid="ignore"):
        largest = np.nanmax(np.abs(x), axis=0, initial=0.0)
    unit = np.where(largest > LARGE, largest, 1.0)
    x = x / unit
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(x)
        n = np.maximum(ok.sum(axis=0), 1)
        center = np.where(ok, x, 0.0).sum(axis=0) / n
        var = (np.where(ok, x - center, 0.0) ** 2).sum(axis=0) / n
    spread = np.sqrt(var)
    varies = spread > _rounding_spread(np.where(ok, np.abs(x), 0.0).max(axis=0, initial=0.0), n)
    z = np.where(ok & varies, (x - center) / np.where(varies, spread, 1.0), 0.0)
    return z, center * unit, np.where(varies, spread * unit, 1.0)


def _rounding_spread(largest: npt.NDArray[np.float64], n: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The largest spread that rounding alone gives ``n`` values of magnitude up to ``largest``
    (``n * eps * largest``): a column spread no more is constant.

    Examples
    --------
    >>> _rounding_spread(np.array([0.3]), 3) > np.std([0.3, 0.1 + 0.2, 0.3])
    array([ True])
    """
    out: npt.NDArray[np.float64] = np.asarray(n) * np.finfo(np.float64).eps * largest
    return out


def _distinct_enough(z: npt.NDArray[np.float64], n_clusters: int) -> int:
    """``n_clusters``, or the number of distinct customers (rows of ``z``) when fewer, with a
    DataWarning: k-means cannot make more clusters than there are distinct points (a text or
    true/false feature alone has a few), and scikit-learn's own warning would say so in its
    terms.

    Examples
    --------
    >>> _distinct_enough(np.array([[0.0], [1.0], [1.0]]), 2)
    2
    """
    distinct = int(np.unique(z, axis=0).shape[0])
    if distinct >= n_clusters:
        return n_clusters
    warn(
        f"cluster(): the {z.shape[0]:,} customers take only {distinct:,} distinct values of "
        f"the features, fewer than n_clusters={n_clusters}: {distinct:,} clusters are formed; "
        "add features that tell the customers apart, or ask for fewer clusters",
        DataWarning,
    )
    return distinct


def _check_values(
    x: npt.NDArray[np.float64], names: list[str], customers: npt.NDArray[np.object_]
) -> None:
    """Refuse infinite feature values, naming the first customer and feature, with the count."""
    infinite = np.isinf(x)
    if infinite.any():
        row, col = (int(i[0]) for i in np.nonzero(infinite))
        raise SchemaError(
            f"cluster(): feature {names[col]!r} is {x[row, col]} for customer "
            f"{customers[row]!r} ({int(infinite.sum()):,} infinite values in all); clustering "
            "needs finite values: clip or transform the feature first"
        )


def _varying(x: npt.NDArray[np.float64], names: list[str]) -> npt.NDArray[np.intp]:
    """The positions of the features that vary: two or more distinct values among the customers
    who have one.

    Any other feature is 0 for everyone after standardising and separates nothing: it is left
    out with a DataWarning naming it and its single value. When no feature varies, a DataError.
    """
    ok = ~np.isnan(x)
    low = np.where(ok, x, np.inf).min(axis=0, initial=np.inf)
    high = np.where(ok, x, -np.inf).max(axis=0, initial=-np.inf)
    # equal up to rounding is one value (0.3 and 0.1 + 0.2), as standardise() takes it
    with np.errstate(over="ignore", invalid="ignore"):
        width = high - low
        largest = np.maximum(np.abs(low), np.abs(high))
        varies = (low < high) & ~(width <= _rounding_spread(largest, ok.sum(axis=0)))
    if varies.all():
        return np.flatnonzero(varies)
    n = x.shape[0]
    described = [
        f"{name!r} ({_single_value(float(low[j]), bool(ok[:, j].all()))})"
        for j, name in enumerate(names)
        if not varies[j]
    ]
    if not varies.any():
        raise DataError(
            f"cluster(): no feature varies over the {n:,} customers, so there is nothing to "
            f"cluster on: {', '.join(described)}; choose features that differ between customers"
        )
    warn(
        f"cluster(): {len(described)} of {len(names)} features take a single value over the "
        f"{n:,} customers and are left out (they separate nothing): {', '.join(described)}",
        DataWarning,
    )
    return np.flatnonzero(varies)


def _labels(
    answer: Any, estimator: Any, customers: npt.NDArray[np.object_]
) -> npt.NDArray[np.int64]:
    """The estimator's ``fit_predict`` answer as int64 labels, one per customer: whole numbers
    0, 1, ... and -1 (noise, as DBSCAN answers). Anything else (0.7, NaN, text, -2) is refused
    naming the first customer it was answered for, not truncated or cast."""
    given = np.asarray(answer)
    what = f"cluster(): {type(estimator).__name__}.fit_predict() answered"
    if given.shape != customers.shape:
        raise SchemaError(
            f"{what} labels of shape {given.shape}; expected one label per customer, shape "
            f"{customers.shape}: the estimator's fit_predict(X) must return one label per row "
            "of X"
        )
    expected = "expected whole-number cluster labels 0, 1, ... (and -1 for noise)"
    if given.dtype.kind not in "iuf":
        first = f" ({given.flat[0].item()!r} for customer {customers[0]!r})" if given.size else ""
        raise SchemaError(f"{what} labels of dtype {given.dtype}{first}; {expected}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(given) | (given != np.floor(given)) | (given < -1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"{what} {given[i].item()!r} for customer {customers[i]!r} ({int(bad.sum()):,} of "
            f"{given.size:,} labels are no cluster number); {expected}"
        )
    return given.astype(np.int64)


def _single_value(value: float, everyone: bool) -> str:
    """How a feature with one value reads: its value, for whom."""
    if np.isinf(value):  # the min over no value
        return "no customer has a value"
    return f"{value!r} for every customer" + ("" if everyone else " who has a value")


def cluster(
    table: CustomerTable,
    features: Sequence[str],
    *,
    n_clusters: int = 4,
    estimator: Any = None,
    random_state: int = 0,
) -> Clusters:
    """Cluster customers on standardised features.

    Each feature is standardised (see :func:`standardise`: z-scores with the population standard
    deviation, missing values at the mean) so that no feature dominates by its units. Skewed
    features such as ``monetary`` can be log-transformed inside your own scikit-learn
    ``Pipeline`` passed as ``estimator`` (it receives the standardised matrix). A feature with
    a single value over the customers who have one (constant, or missing for everyone) would
    be 0 for everyone and separate nothing: it is left out, with a warning naming it.

    Parameters
    ----------
    table : CustomerTable
    features : sequence of str
        Bool, numeric or text columns of the table (a text column enters as one 0/1
        indicator per value, ``plan=pro``).
    n_clusters : int, default 4
        Used by the default estimator only.
    estimator : object with ``fit_predict(X)``, optional
        Any scikit-learn-compatible clusterer; by default
        ``sklearn.cluster.KMeans(n_clusters, n_init=10, random_state=random_state)``
        (extra ``ml``).
    random_state : int, default 0
        Seed of the default estimator.

    Returns
    -------
    Clusters

    Warns
    -----
    DataWarning
        When features with a single value are left out (named, with their value).

    Raises
    ------
    SchemaError
        Bad features, ``n_clusters``, an estimator without ``fit_predict``, an infinite
        feature value (naming the customer), or labels from the estimator that are not whole
        numbers >= -1 (0.7, NaN, text: naming the first and its customer).
    DataError
        More clusters than customers, or no feature varies (each is named with its value).
    MissingDependencyError
        When scikit-learn is needed but not installed.
    """
    table = customer_table(table, "cluster()")
    features = None if features is None else name_sequence(features, "cluster()", "features")
    random_state = random_seed(random_state, "cluster()", "random_state", generator=False)
    columns = feature_columns(table, features)
    names = list(columns)
    default = estimator is None
    if estimator is None:
        n_clusters = positive_integer(n_clusters, "cluster()", "n_clusters")
        if n_clusters > len(table):
            raise DataError(
                f"n_clusters={n_clusters} exceeds the number of customers ({len(table)})"
            )
        sk = import_optional("sklearn.cluster", "cluster()")
    elif not callable(getattr(estimator, "fit_predict", None)):
        raise SchemaError(
            f"estimator {estimator!r} has no fit_predict(X) method; pass a scikit-learn-compatible "
            "clusterer"
        )
    x = feature_matrix(columns)
    _check_values(x, names, table.customer_id)
    kept = _varying(x, names)
    x, names = x[:, kept], [names[j] for j in kept.tolist()]
    z, center, scale = standardise(x)
    if default:
        n_clusters = _distinct_enough(z, n_clusters)
        estimator = sk.KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    labels = _labels(estimator.fit_predict(z), estimator, table.customer_id)
    k = int(labels.max()) + 1 if labels.size else 0
    codes = np.where(labels >= 0, labels, k)  # noise labels (-1, e.g. DBSCAN) are set aside
    size = np.bincount(codes, minlength=k + 1)[:k].astype(np.int64)
    ok = ~np.isnan(x)
    mean = np.full((k, len(names)), np.nan)
    for j in range(len(names)):  # loop over features
        s = np.bincount(codes[ok[:, j]], weights=x[ok[:, j], j], minlength=k + 1)[:k]
        c = np.bincount(codes[ok[:, j]], minlength=k + 1)[:k]
        mean[c > 0, j] = s[c > 0] / c[c > 0]
    return Clusters(
        customer_id=table.customer_id,
        labels=labels,
        features=tuple(names),
        mean=mean,
        size=size,
        center=center,
        scale=scale,
    )
