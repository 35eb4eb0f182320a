"""Driver model: all experience drivers in one least-squares regression, controlling for each other.

Formulas (also in ``docs/guide/metrics.md``, "Experience drivers"):

* ``y = b0 + X b + e`` by ordinary least squares (a linear probability model for ``churn`` and
  ``retention``);
* HC1 robust covariance ``n / (n - k) (X'X)^-1 X' diag(e^2) X (X'X)^-1`` (``k`` = drivers + 1),
  or, when rows are grouped in clusters (a customer's answers), the CR1 cluster-robust
  covariance ``G / (G - 1) (n - 1) / (n - k) (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1``;
  normal intervals ``b +- z se``;
* relative importance: the Shapley value (LMG) of each driver in the R^2 of the regressions on
  every subset of drivers; the shares sum to the full model's R^2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import boolean_mask, interaction_log, name_sequence
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._stats import two_sided_p, z_value
from cxmodel._sums import grouped_sums
from cxmodel._tables import MetricTable
from cxmodel._time import TimeLike, as_of_us, duration_to_us, us_to_datetime
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics._collinearity import implied_by, warn_near_collinear
from cxmodel.metrics._drivers import _SCALES, condition_mask, survey_scores
from cxmodel.metrics._value import check_purchase_values

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CLUSTERS", "DriverModel", "driver_model", "ols_robust", "shapley_r2"]

F = npt.NDArray[np.float64]
OUTCOMES = ("nps", "csat", "ces", "churn", "spend", "retention")
CLUSTERS = ("customer", None)  # the values of driver_model(cluster=...)
EXACT_SHAPLEY_MAX = 12  # exact enumeration of the 2^p subsets up to this many drivers
PERMUTATIONS = 2000  # sampled orderings above it
_KIND_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DEFINITIONS = {
    "nps": "NPS answer in points (+100 promoter, 0 passive, -100 detractor)",
    "csat": "CSAT answer (1-5)",
    "ces": "CES answer (1-7)",
    "churn": "1 if no activity in [as_of - window, as_of), among customers active in the "
    "window before it (linear probability model)",
    "retention": "1 if any activity in [as_of - window, as_of), among customers active in the "
    "window before it (linear probability model; = 1 - churn)",
    "spend": "sum of purchase values in [as_of - window, as_of), among customers active in "
    "the window before it",
}


@attrs.frozen(eq=False)
class OLSFit:
    """Least-squares fit with an intercept: coefficients, robust covariance, R^2.

    ``n_clusters`` is the number of clusters of the CR1 covariance, or 0 for HC1;
    ``leverage`` is each row's leverage ``h_ii`` (the diagonal of the hat matrix): near 1, the
    row fits itself, its residual is 0 and the robust covariance cannot see its error.
    """

    coef: F  # intercept first
    cov: F  # HC1, or CR1 with clusters
    r2: float
    n: int
    n_clusters: int = 0
    leverage: F = attrs.field(factory=lambda: np.empty(0))


def ols_robust(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    names: Sequence[str] | None = None,
    *,
    clusters: npt.ArrayLike | None = None,
) -> OLSFit:
    """Ordinary least squares of ``y`` on an intercept and the columns of ``x``, robust errors.

    Without ``clusters`` the covariance is HC1 (each row its own error). With ``clusters``
    (one label per row) it is CR1, robust to errors correlated within a cluster:
    ``G / (G - 1) (n - 1) / (n - k) (X'X)^-1 (sum_g X_g' e_g e_g' X_g) (X'X)^-1``, the
    default of Stata's ``vce(cluster)`` and statsmodels' ``cov_type="cluster"``. With one row
    per cluster it equals HC1.

    Raises
    ------
    SchemaError
        Too few rows, collinear columns, clusters of the wrong length, or a single cluster.

    Examples
    --------
    >>> fit = ols_robust([[0.0], [1.0], [2.0], [3.0]], [1.0, 3.0, 5.0, 7.5])
    >>> [round(float(b), 3) for b in fit.coef], round(fit.r2, 4)
    ([0.9, 2.15], 0.9968)
    >>> same = ols_robust([[0.0], [1.0], [2.0], [3.0]], [1.0, 3.0, 5.0, 7.5], clusters=[1, 2, 3, 4])
    >>> bool(abs(same.cov - fit.cov).max() < 1e-12), same.n_clusters
    (True, 4)
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    n = ys.shape[0]
    design = np.column_stack([np.ones(n), xs.reshape(n, -1)])
    k = design.shape[1]
    if n <= k:
        raise SchemaError(f"the driver model needs more rows ({n}) than parameters ({k})")
    rank = int(np.linalg.matrix_rank(design))
    if rank < k:
        # name the first column that adds nothing to the ones before it, and what implies it
        first = next(j for j in range(2, k + 1) if np.linalg.matrix_rank(design[:, :j]) < j)
        shown = [f"column {j}" for j in range(1, k)] if names is None else list(map(repr, names))
        raise SchemaError(
            f"the drivers are collinear (rank {rank} of {k} columns with the intercept): "
            + implied_by(design[:, :first], first - 1, shown)
        )
    coef, *_ = np.linalg.lstsq(design, ys, rcond=None)
    resid = ys - design @ coef
    bread = np.linalg.inv(design.T @ design)
    g = 0
    if clusters is None:
        meat = (design * (resid**2)[:, None]).T @ design
        factor = n / (n - k)
    else:
        labels = np.asarray(clusters).reshape(-1)
        if labels.shape != (n,):
            raise SchemaError(
                f"clusters has {labels.shape[0]} labels for {n} rows; expected one each"
            )
        _, group = np.unique(labels, return_inverse=True)
        g = int(group.max()) + 1
        if g < 2:
            raise SchemaError("cluster-robust errors need at least 2 clusters; got 1")
        scores = np.zeros((g, k))
        np.add.at(scores, group.reshape(-1), design * resid[:, None])
        meat = scores.T @ scores
        factor = g / (g - 1) * (n - 1) / (n - k)
    cov = bread @ meat @ bread * factor
    centred = ys - ys.mean()
    tss = float(centred @ centred)
    r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else float("nan")
    leverage = np.einsum("ij,jk,ik->i", design, bread, design)
    return OLSFit(
        coef=coef.astype(np.float64),
        cov=cov.astype(np.float64),
        r2=r2,
        n=n,
        n_clusters=g,
        leverage=leverage.astype(np.float64),
    )


def _subset_r2(sxx: F, sxy: F, syy: float, columns: list[int]) -> float:
    if not columns or syy <= 0:
        return 0.0
    a = sxx[np.ix_(columns, columns)]
    b = sxy[columns]
    beta, *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(b @ beta) / syy


def shapley_r2(x: npt.ArrayLike, y: npt.ArrayLike, *, permutations: int = PERMUTATIONS) -> F:
    """Shapley (LMG) decomposition of R^2 over the columns of ``x``; sums to the full R^2.

    Each column's share is its marginal gain in R^2 averaged over all orders of entry. With up
    to 12 columns every subset is enumerated (exact); beyond, ``permutations`` random orders
    (seed 0) are averaged, and the shares still sum exactly to the full R^2.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> y = x @ [1.0, 0.5, 0.0] + rng.normal(size=200)
    >>> shares = shapley_r2(x, y)
    >>> bool(np.isclose(shares.sum(), ols_robust(x, y).r2)), int(shares.argmax())
    (True, 0)
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    xs = xs.reshape(ys.shape[0], -1)
    p = xs.shape[1]
    xc = xs - xs.mean(axis=0)
    yc = ys - ys.mean()
    sxx, sxy, syy = xc.T @ xc, xc.T @ yc, float(yc @ yc)
    cache: dict[int, float] = {}

    def r2(mask: int) -> float:
        if mask not in cache:
            cache[mask] = _subset_r2(sxx, sxy, syy, [j for j in range(p) if mask >> j & 1])
        return cache[mask]

    out = np.zeros(p)
    if p == 0:
        return out
    if p <= EXACT_SHAPLEY_MAX:
        masks = np.arange(1 << p)
        values = np.array([r2(int(m)) for m in masks])
        size = np.array([int(m).bit_count() for m in masks])
        weight = np.array(
            [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
        )
        for j in range(p):
            without = masks[(masks >> j & 1) == 0]
            out[j] = float(weight[size[without]] @ (values[without | (1 << j)] - values[without]))
        return out
    rng = np.random.default_rng(0)
    for _ in range(permutations):
        mask, before = 0, 0.0
        for j in rng.permutation(p).tolist():
            mask |= 1 << j
            after = r2(mask)
            out[j] += after - before
            before = after
    return out / permutations


@attrs.frozen(eq=False, repr=False)
class DriverModel(Result):
    """All drivers in one regression: effects that control for each other, and their importance.

    ``table`` has one row per driver, sorted by importance (largest first): ``driver``,
    ``coefficient`` (change in the outcome per unit of the driver, the others held fixed), ``se``
    (robust: ``se_method`` says which), ``ci_low``/``ci_high``, ``p_value`` (normal, two-sided), ``mean`` (the driver's mean
    over the rows), ``importance`` (Shapley share of R^2; the column sums to ``r2``),
    ``importance_share`` (importance / r2) and ``vif`` (variance inflation factor,
    ``1 / (1 - R^2)`` of the driver on the others: above 10 the others nearly imply it).
    ``model[...]``, ``len(model)`` read the table.
    """

    outcome: str
    definition: str
    encoding: str
    window: str
    as_of: np.datetime64 | None
    n: int
    r2: float
    adj_r2: float
    intercept: float
    intercept_se: float
    level: float
    importance_method: str
    outcome_mean: float
    table: MetricTable
    se_method: str = "HC1"
    n_clusters: int = 0

    _dict_rows_key = "drivers"
    _frame_figures = True

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self.table[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names of the per-driver table."""
        return self.table.names

    def summary(self) -> dict[str, Any]:
        """The model-level fields (everything but the per-driver table).

        ``to_dict()`` gives them with ``drivers``, the per-driver columns as a dict of arrays;
        ``to_pandas()`` has one row per driver, with them in ``DataFrame.attrs``.
        """
        return self._figures()

    def _rows(self) -> dict[Any, Any]:
        return self.table.to_dict()

    def _summary(self, n_rows: int | None) -> str:
        return (
            f"DriverModel(outcome={self.outcome}, n={self.n:,}, R²={self.r2:.4g}, "
            f"intercept={self.intercept:.4g})"
        )

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Forest plot of the coefficients and their intervals (needs matplotlib).

        Keyword arguments as :func:`cxmodel.plot.plot_drivers` (``top``, ``xlabel``, ``title``).
        """
        from cxmodel.plot import plot_drivers

        forest = MetricTable(
            "driver model",
            {
                "driver": self.table["driver"],
                "difference": self.table["coefficient"],
                "ci_low": self.table["ci_low"],
                "ci_high": self.table["ci_high"],
            },
        )
        unit = " (NPS points)" if self.outcome == "nps" else ""
        kwargs.setdefault("xlabel", f"Effect on {self.outcome}{unit}, other drivers held fixed")
        kwargs.setdefault("title", f"Driver model (R² = {self.r2:.3f}, n = {self.n})")
        return plot_drivers(forest, ax, **kwargs)


def _count_before(
    hit_codes: npt.NDArray[np.int64],
    hit_ts: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Per query (code, t): hits of the same code strictly earlier than t (hits sorted by code)."""
    both_codes = np.concatenate([hit_codes, codes])
    both_ts = np.concatenate([hit_ts, ts])
    is_hit = np.concatenate([np.ones(hit_codes.shape[0], bool), np.zeros(codes.shape[0], bool)])
    # at equal times queries sort first, so a hit at the same instant is not "before"
    order = np.lexsort((is_hit, both_ts, both_codes))
    before = np.cumsum(is_hit[order]) - is_hit[order]
    position = np.empty_like(order)
    position[order] = np.arange(order.shape[0])
    global_before = before[position[hit_codes.shape[0] :]]
    earlier_customers = np.searchsorted(hit_codes, codes, side="left")
    out: npt.NDArray[np.int64] = (global_before - earlier_customers).astype(np.int64)
    return out


def _resolve(
    log: InteractionLog, drivers: Sequence[str] | Mapping[str, Any] | None
) -> list[tuple[str, npt.NDArray[np.bool_]]]:
    """(name, row mask) per driver: kinds, expressions or boolean row masks."""
    if drivers is None:
        drivers = [k for k in log.kinds.tolist() if k != "survey"]
    items = list(drivers.items()) if isinstance(drivers, Mapping) else [(d, d) for d in drivers]
    out: list[tuple[str, npt.NDArray[np.bool_]]] = []
    for name, spec in items:
        if isinstance(spec, str):
            if _KIND_NAME.match(spec):
                mask = log.kind_mask(spec)
            else:
                mask = condition_mask(log, name, spec)
        else:
            mask = boolean_mask(spec, len(log), f"driver {name!r}: a mask")
        out.append((str(name), mask))
    if not out:
        raise SchemaError(
            f"driver_model(): drivers names no driver (got {drivers!r}); leave it out for "
            "every kind in the log, or name some"
        )
    if len({name for name, _ in out}) < len(out):
        raise SchemaError(f"driver names must be unique; got {[name for name, _ in out]!r}")
    return out


def driver_model(
    log: InteractionLog,
    *,
    outcome: str = "nps",
    drivers: Sequence[str] | Mapping[str, Any] | None = None,
    window: str = "30 days",
    as_of: TimeLike | None = None,
    level: float = 0.95,
    encoding: str = "indicator",
    activity: Sequence[str] | None = None,
    cluster: str | None = "customer",
) -> DriverModel:
    """Fit every experience driver in one least-squares regression, so each controls for the others.

    Unlike :func:`experience_drivers` (with and without one experience at a time), an
    experience that merely travels with another (customers who browse more also buy more and
    so meet more late deliveries) gets its own effect with the others held fixed. Still
    associations from observational data, not causal effects: a confounder that is not a
    driver in the model is not controlled for.

    Parameters
    ----------
    log
        The interaction log.
    outcome
        ``"nps"``, ``"csat"``, ``"ces"``: one row per answer of that metric (answers before
        ``as_of`` if given); the score is the answer (NPS in points: +100 promoter, 0 passive,
        -100 detractor) and the drivers are counted in the ``window`` strictly before it.
        ``"churn"``, ``"retention"``, ``"spend"``: one row per customer. With
        ``c = as_of - window``, the rows are the customers with any activity in
        ``[c - window, c)``, the drivers are counted in that same window, and the outcome is
        read in ``[c, as_of)``: churn = 1 if no activity there, retention = 1 - churn (any
        activity again), spend = the sum of ``purchase`` values there (0 without purchases; a
        purchase there without a value is a SchemaError, as it would count as 0).
        Binary outcomes are fitted as a linear probability model: a coefficient is a change
        in probability (0-1 scale).
    drivers
        A list of interaction kinds (e.g. ``"delivery"``) or expressions in the trigger
        language's syntax over the log's columns (e.g. ``'kind == "delivery" and late ==
        "yes"'``; named by their text), or a mapping of a name to a kind, an expression or a
        boolean mask with one value per log row. Default: every non-survey kind in the log.
    window
        A fixed duration such as ``"30 days"``.
    as_of
        The end of the outcome period for customer outcomes (default: just after the log's
        last interaction); for survey outcomes, only answers before it are used.
    level
        Confidence level of the intervals (normal quantile with HC1 standard errors).
    encoding
        ``"indicator"`` (1 if the customer had at least one such experience in the window) or
        ``"count"`` (how many).
    activity
        Kinds that count as activity for ``churn``/``retention``/``spend`` rows (default: every
        kind, as :func:`churn_rate` with ``definition="activity"``).
    cluster
        ``"customer"`` (default): standard errors robust to a customer's rows being alike,
        CR1 clustered by customer, for a customer who answered several times; with one row
        per customer (customer outcomes, or one answer each) this is HC1 exactly. ``None``:
        HC1, every row its own error.

    Returns
    -------
    DriverModel
        Coefficients with robust standard errors and intervals (``se_method``), ``n``,
        ``r2`` and the Shapley (LMG) importance of each driver, which sums to ``r2``.

    Warns
    -----
    DataWarning
        When a row alone sets a driver's coefficient (a combination of drivers no other row
        shares, leverage 1): its residual is 0, so the robust standard error would be 0; the
        drivers present in such rows get NaN ``se``, interval and p-value, named in the
        warning. Also when drivers are nearly implied by the others (variance inflation factor
        above 10, as two kinds that almost always come together): their coefficients rest
        on the few rows that tell them apart, so they are unstable and their intervals can be
        far too narrow; the warning names them with their factor and closest correlate.
        And when the drivers explain every row exactly (R² = 1, each combination of drivers
        has one outcome): no residual is left, so every se, interval and p-value is NaN.

    Raises
    ------
    SchemaError
        An unknown outcome, encoding or cluster, an unknown kind or a malformed expression, a
        constant driver, collinear drivers (naming the driver and those that imply it, or the
        one it duplicates), or too few rows.
    DataError
        A log with rows but no answer to a survey ``outcome`` (naming the metrics it holds,
        with a did-you-mean, as :func:`~cxmodel.metrics.nps`), no rows (no answers before
        ``as_of``; for customer outcomes, nobody active in the first window), or one outcome
        for every row (all promoters, say): nothing to explain.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b", "b", "c", "d", "d", "e", "f", "f"],
    ...     kind=["delivery", "survey", "return", "survey", "survey", "return", "survey",
    ...           "survey", "delivery", "survey"],
    ...     metric=[None, "nps", None, "nps", "nps", None, "nps", "nps", None, "nps"],
    ...     score=[None, 3, None, 8, 10, None, 2, 9, None, 7],
    ...     timestamp=[f"2024-01-0{d}T00:00Z" for d in (1, 5, 1, 5, 5, 1, 5, 5, 1, 5)])
    >>> m = driver_model(log, drivers=["delivery", "return"])
    >>> m.n, m["driver"].tolist(), [round(float(b), 1) for b in m["coefficient"]]
    (6, ['delivery', 'return'], [-150.0, -150.0])
    >>> bool(abs(m["importance"].sum() - m.r2) < 1e-12)
    True
    """
    log = interaction_log(log, "driver_model()")
    if drivers is not None and not isinstance(drivers, Mapping):
        drivers = name_sequence(drivers, "driver_model()", "drivers")
    if activity is not None:
        activity = name_sequence(activity, "driver_model()", "activity", at_least_one=True)
    if outcome not in OUTCOMES:
        raise SchemaError(f"outcome must be one of {OUTCOMES!r}; got {outcome!r}")
    if encoding not in ("indicator", "count"):
        raise SchemaError(f"encoding must be 'indicator' or 'count'; got {encoding!r}")
    if cluster not in CLUSTERS:
        raise SchemaError(f"cluster must be 'customer' or None; got {cluster!r}")
    z = z_value(level)
    span = duration_to_us(window)
    if span <= 0:
        raise SchemaError(f"window must be positive; got {window!r}")
    cutoff = None if as_of is None else as_of_us(as_of)
    resolved = _resolve(log, drivers)
    codes = log.customer_codes.astype(np.int64)
    ts = log.timestamps
    if outcome in _SCALES:
        rows, y = survey_scores(log, outcome, cutoff, caller="driver_model()")
        q_codes, q_end = codes[rows], ts[rows]
    else:
        end = (int(ts.max()) + 1 if len(log) else 0) if cutoff is None else cutoff
        split = end - span
        q_start = split - span
        active = np.ones(len(log), bool) if activity is None else log.kind_mask(*activity)
        before = np.zeros(log.n_customers, bool)
        before[codes[active & (ts >= q_start) & (ts < split)]] = True
        after_rows = active & (ts >= split) & (ts < end)
        after = np.zeros(log.n_customers, bool)
        after[codes[after_rows]] = True
        q_codes = np.flatnonzero(before).astype(np.int64)
        q_end = np.full(q_codes.shape[0], split, dtype=np.int64)
        if outcome == "spend":
            if "value" not in log:
                raise SchemaError("outcome='spend' needs a 'value' column on purchase rows")
            buys = after_rows & log.kind_mask("purchase")
            values = log.numeric("value")
            check_purchase_values(log, values, buys)
            total = grouped_sums(
                codes[buys],
                values[buys],
                log.n_customers,
                column="value",
                where="driver_model(outcome='spend')",
                names=log.customers,
            )
            y = total[q_codes].astype(np.float64)
        else:
            y = (after[q_codes] != (outcome == "churn")).astype(np.float64)
        cutoff = end
    x = np.zeros((q_codes.shape[0], len(resolved)))
    for j, (_, mask) in enumerate(resolved):
        h_codes, h_ts = codes[mask], ts[mask]
        count = _count_before(h_codes, h_ts, q_codes, q_end) - _count_before(
            h_codes, h_ts, q_codes, q_end - span
        )
        x[:, j] = count if encoding == "count" else count > 0
    _check_outcome(y, outcome, None if outcome in _SCALES else (q_start, q_start + span))
    constant = [name for j, (name, _) in enumerate(resolved) if np.unique(x[:, j]).size < 2]
    if constant:
        raise SchemaError(
            f"driver(s) {constant!r} take a single value over the {x.shape[0]} rows; "
            "leave them out (nothing to compare)"
        )
    clusters = q_codes if cluster == "customer" and np.unique(q_codes).size > 1 else None
    names = [name for name, _ in resolved]
    fit = ols_robust(x, y, names, clusters=clusters)
    vif = warn_near_collinear(x, names, "driver_model()")
    se = np.sqrt(np.diag(fit.cov))
    if _exact_fit(fit.r2, y.size):
        se[:] = np.nan
    else:
        se[1:][_lean_on_rows(x, fit.leverage, names)] = np.nan
    importance = shapley_r2(x, y)
    p = len(resolved)
    beta, bse = fit.coef[1:], se[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = two_sided_p(beta / bse)
        share = importance / fit.r2
    order = np.argsort(-importance, kind="stable")
    columns: dict[str, npt.NDArray[Any]] = {
        "driver": np.array(names, dtype=object),
        "coefficient": beta,
        "se": bse,
        "ci_low": beta - z * bse,
        "ci_high": beta + z * bse,
        "p_value": p_value,
        "mean": x.mean(axis=0) if x.shape[0] else np.full(p, np.nan),
        "importance": importance,
        "importance_share": share,
        "vif": vif,
    }
    n = fit.n
    return DriverModel(
        outcome=outcome,
        definition=_DEFINITIONS[outcome],
        encoding=encoding,
        window=window,
        as_of=None if cutoff is None else np.datetime64(cutoff, "us"),
        n=n,
        r2=fit.r2,
        adj_r2=1.0 - (1.0 - fit.r2) * (n - 1) / (n - p - 1),
        intercept=float(fit.coef[0]),
        intercept_se=float(se[0]),
        level=float(level),
        importance_method="exact Shapley (all subsets)"
        if p <= EXACT_SHAPLEY_MAX
        else f"Shapley over {PERMUTATIONS} random orders (seed 0)",
        outcome_mean=float(y.mean()) if y.shape[0] else float("nan"),
        table=MetricTable("driver model", {k: v[order] for k, v in columns.items()}),
        se_method="HC1" if fit.n_clusters == 0 else "CR1 (clustered by customer)",
        n_clusters=fit.n_clusters,
    )


SINGLE_ROW = 1.0 - 1e-9  # leverage of a row that alone sets a coefficient


def _lean_on_rows(x: F, leverage: F, names: list[str]) -> npt.NDArray[np.bool_]:
    """The drivers whose standard error cannot be estimated (a row sets them alone), with a
    DataWarning naming them.

    A row of leverage 1 fits itself: its residual is 0, so a robust covariance gives the
    coefficients it sets a standard error of 0 (an interval of zero width). The drivers
    present (non-zero) in such rows get NaN instead.
    """
    single = leverage >= SINGLE_ROW
    unknown: npt.NDArray[np.bool_] = (x[single] != 0).any(axis=0)
    if unknown.any():
        named = [names[j] for j in np.flatnonzero(unknown)]
        warn(
            f"driver_model(): {int(single.sum()):,} row(s) alone set the coefficient of "
            f"{named!r} (a combination of drivers no other row shares), so its standard error "
            "cannot be estimated: se, interval and p-value are NaN; leave out or merge rare "
            "drivers (see the 'mean' column)",
            DataWarning,
        )
    return unknown


EXACT_FIT = 1.0 - 1e-12  # R^2 at or above it: every residual is 0 up to rounding


def _exact_fit(r2: float, n: int) -> bool:
    """Whether the drivers explain every row exactly (R^2 = 1 up to rounding), with a
    DataWarning: every residual is 0, so a robust covariance (HC1 or CR1) has no error to
    see and would give standard errors of 0 up to rounding, zero-width intervals and p-values
    of rounding noise; the standard errors, intervals and p-values are NaN instead."""
    if not r2 >= EXACT_FIT:
        return False
    warn(
        f"driver_model(): the drivers explain every one of the {n:,} rows exactly (R² = 1: "
        "each combination of drivers has a single outcome, e.g. all customers with a driver "
        "are detractors and all without it promoters), so no residual is left to estimate "
        "the standard errors from: se, intervals and p-values are NaN (the coefficients "
        "stand; how much they would move in another sample is unknown)",
        DataWarning,
    )
    return True


def _check_outcome(y: F, outcome: str, span: tuple[int, int] | None) -> None:
    """Refuse a fit with no rows, or whose rows all have one outcome (coefficients would be
    rounding noise around 0); ``span`` is the customer outcomes' ``[start, as_of)``."""
    if y.size == 0:
        if span is None:
            what = f"no {outcome!r} answers"
        else:
            start, end = (us_to_datetime(t).isoformat() for t in span)
            what = f"no customer active in {start} .. {end} (the window before the outcome)"
        raise DataError(f"driver_model(): {what}: no rows to fit; check as_of, window and activity")
    if float(y.min()) == float(y.max()):
        raise DataError(
            f"driver_model(): every one of the {y.size:,} rows has the outcome {float(y[0]):g} "
            f"({outcome}): nothing to explain, so no driver has an effect to estimate; "
            "widen the window or as_of, or choose another outcome"
        )
