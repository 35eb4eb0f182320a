"""Cox proportional hazards regression: Efron ties, Newton-Raphson, Breslow baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import event_flags, finite_values, float_array, got, name_sequence
from cxmodel._result import Result, column
from cxmodel._stats import two_sided_p, z_value
from cxmodel.errors import DataError, SchemaError, ValueTypeError, did_you_mean
from cxmodel.models._base import Convergence, FloatArray, check_fitted, params_repr
from cxmodel.models._identifiable import check_identifiable, column_means, infinite_estimates
from cxmodel.models._newton import inverse_information, newton_raphson, warn_unconverged

__all__ = [
    "CoxPH",
    "RegressionSummary",
    "WaldRegression",
    "as_design",
    "concordance_index",
    "prediction_design",
]


def as_design(
    X: npt.ArrayLike,
    names: Sequence[str] | None = None,
    *,
    what: str = "X",
    where: str = "as_design()",
) -> tuple[FloatArray, tuple[str, ...]]:
    """``X`` as a finite float64 matrix (rows = subjects) and its column names.

    Accepts a 2-d array-like, a mapping of column name to values, or a pandas DataFrame
    (anything with ``columns`` and ``to_numpy``). Names default to the mapping's keys or the
    frame's columns, else ``x0``, ``x1``, ...
    """
    if isinstance(X, Mapping):
        keys = [str(k) for k in X]
        columns = [float_array(X[k], where, f"{what}[{k!r}]") for k in X]
        mat = np.column_stack(columns) if keys else None
        if mat is None:
            raise SchemaError(f"{what} has no columns")
        default: tuple[str, ...] = tuple(keys)
    elif hasattr(X, "columns") and hasattr(X, "to_numpy"):
        default = tuple(str(c) for c in X.columns)
        try:
            mat = np.asarray(X.to_numpy(dtype=np.float64), dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise ValueTypeError(f"{where}: {what} must hold numbers only; got {got(X)}") from error
    else:
        mat = float_array(X, where, what)
        if mat.ndim == 1:
            mat = mat[:, None]
        default = tuple(f"x{j}" for j in range(mat.shape[1] if mat.ndim == 2 else 0))
    if mat.ndim != 2:
        raise SchemaError(
            f"{what} must be two-dimensional (subjects x covariates), got {mat.shape}"
        )
    if not np.isfinite(mat).all():
        i, j = np.argwhere(~np.isfinite(mat))[0]
        raise SchemaError(f"{what}[{i}, {j}] = {mat[i, j]!r}: covariates must be finite")
    out_names = name_sequence(names, where, "names") if names is not None else default
    if len(out_names) != mat.shape[1]:
        raise SchemaError(f"{len(out_names)} names for {mat.shape[1]} columns of {what}")
    first: dict[str, int] = {}
    for j, name in enumerate(out_names):  # one coefficient per name: a repeat would be lost
        if name in first:
            raise SchemaError(
                f"{where}: covariate {name!r} names columns {first[name] + 1} and {j + 1} of "
                f"{what}; the fitted coefficients are looked up by name, so give each column "
                "its own"
            )
        first[name] = j
    return np.ascontiguousarray(mat), out_names


def prediction_design(X: npt.ArrayLike, names: tuple[str, ...], where: str) -> FloatArray:
    """``X`` as the covariate matrix of a model fitted on covariates ``names``, in their order.

    A mapping or a DataFrame is read by name, whatever the order of its columns; a name that
    is not one of ``names``, or one of ``names`` missing, is refused (a column read by
    position would silently take one covariate for another). An array is read by position.

    Examples
    --------
    >>> prediction_design({"b": [2.0], "a": [1.0]}, ("a", "b"), "f()").tolist()
    [[1.0, 2.0]]
    >>> prediction_design({"a": [1.0], "bb": [2.0]}, ("a", "b"), "f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): X has a column 'bb' that is not a covariate of the fitted model ('a', 'b'); did you mean 'b'?
    """
    given: Any = X  # a mapping or a frame is read by column label
    if isinstance(given, Mapping):
        by_label: dict[str, Any] = {str(k): given[k] for k in given}
        count = len(given)
    elif hasattr(given, "columns") and hasattr(given, "to_numpy"):
        by_label = {str(c): given[c] for c in given.columns}
        count = len(given.columns)
    else:
        mat, _ = as_design(X, names, where=where)
        return mat
    fitted = ", ".join(repr(n) for n in names)
    if len(by_label) != count:
        raise SchemaError(f"{where}: X names a column twice; the fitted covariates are {fitted}")
    for label in by_label:
        if label not in names:
            raise SchemaError(
                f"{where}: X has a column {label!r} that is not a covariate of the fitted "
                f"model ({fitted}){did_you_mean(label, names)}"
            )
    missing = [n for n in names if n not in by_label]
    if missing:
        raise SchemaError(
            f"{where}: X has no column {missing[0]!r}; the model was fitted on {fitted} and "
            "needs each of them by name"
        )
    in_order: Any = {n: by_label[n] for n in names}
    mat, _ = as_design(in_order, names, where=where)
    return mat


@attrs.frozen(eq=False, repr=False)
class RegressionSummary(Result):
    """Coefficient table of a fitted regression: one row per covariate.

    ``ci_low``/``ci_high`` is the Wald interval coef +- z se at ``level``; ``p`` the two-sided
    Wald p-value; ``exp_coef`` the hazard ratio (Cox) or odds ratio (discrete hazard).
    """

    covariate: tuple[str, ...]
    coef: FloatArray = attrs.field(metadata=column())
    exp_coef: FloatArray = attrs.field(metadata=column())
    se: FloatArray = attrs.field(metadata=column())
    z: FloatArray = attrs.field(metadata=column())
    p: FloatArray = attrs.field(metadata=column())
    ci_low: FloatArray = attrs.field(metadata=column())
    ci_high: FloatArray = attrs.field(metadata=column())
    level: float

    _frame_index = "covariate"

    def _rows(self) -> dict[Any, Any]:
        """Columns as a dict of arrays (``covariate`` first)."""
        covariate = np.asarray(self.covariate, dtype=object)
        return {"covariate": covariate, **(super()._rows() or {})}

    def _figures(self) -> dict[str, Any]:
        return {"level": self.level}

    def __str__(self) -> str:
        lines = [f"{'covariate':<24}{'coef':>10}{'se':>10}{'p':>10}"]
        lines += [
            f"{name:<24}{self.coef[i]:>10.4f}{self.se[i]:>10.4f}{self.p[i]:>10.3g}"
            for i, name in enumerate(self.covariate)
        ]
        return "\n".join(lines)


def wald_summary(
    names: tuple[str, ...], coef: FloatArray, se: FloatArray, level: float
) -> RegressionSummary:
    """The coefficient table from estimates and standard errors."""
    z_crit = z_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / se
    p = two_sided_p(z)
    return RegressionSummary(
        names, coef, np.exp(coef), se, z, p, coef - z_crit * se, coef + z_crit * se, level
    )


class WaldRegression:
    """What the regressions on named covariates share once fitted: ``coef_`` and
    ``standard_errors_`` in the order of ``feature_names_``, a ``Name(x=0.0952)`` repr and the
    Wald ``summary``."""

    coef_: FloatArray | None = None
    feature_names_: tuple[str, ...]
    standard_errors_: FloatArray
    level: float

    def __repr__(self) -> str:
        coef = None if self.coef_ is None else dict(zip(self.feature_names_, self.coef_))
        return params_repr(type(self).__name__, coef)

    @property
    def summary(self) -> RegressionSummary:
        """Coefficients, their exponentials (hazard ratios of a Cox model, odds ratios of a
        discrete hazard), standard errors, z, p and Wald intervals."""
        check_fitted(self, "coef_")
        assert self.coef_ is not None
        return wald_summary(self.feature_names_, self.coef_, self.standard_errors_, self.level)


def concordance_index(
    durations: npt.ArrayLike, risk: npt.ArrayLike, observed: npt.ArrayLike | None = None
) -> float:
    """Harrell's C: the share of comparable pairs whose higher risk failed first.

    A pair (i, j) is comparable when i had the event and either ``T_i < T_j`` or
    ``T_i == T_j`` with j censored; it is concordant when ``risk_i > risk_j`` and counts one
    half when the risks tie. Higher ``risk`` means an earlier event (pass partial hazards, not
    predicted survival times). O(n log n) by a merge count over risk ranks.

    Parameters
    ----------
    durations : array-like of float
        Time to the event or to censoring, one per subject.
    risk : array-like of float
        Predicted risk: higher means an earlier event.
    observed : array-like of bool, optional
        True where the event happened; default all.

    Examples
    --------
    >>> concordance_index([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0])
    1.0
    >>> concordance_index([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], [1, 1, 1, 0])
    0.0
    """
    where = "concordance_index()"
    t = finite_values(float_array(durations, where, "durations", ndim=1), where, "durations")
    r = finite_values(float_array(risk, where, "risk", ndim=1), where, "risk")
    e = np.ones(t.shape, dtype=bool) if observed is None else event_flags(observed, where)
    if not (t.shape == r.shape == e.shape):
        raise SchemaError(
            f"{where}: durations, risk and observed must have one value per subject; got "
            f"{t.size:,}, {r.size:,} and {e.size:,} values"
        )
    if not t.size:
        raise _no_comparable_pairs(where)
    # Sort by time; within a time, censored rows come first so that "T_j == T_i, j censored"
    # falls in i's later set when we scan from the end.
    order = np.lexsort((e, t))
    t, r, e = t[order], r[order], e[order]
    n = t.size
    # Rows "after" i (comparable partners of an event i): T_j > T_i, or T_j == T_i & censored.
    last_of_time = np.searchsorted(t, t, side="right")
    # ranks of risks for counting smaller / equal risks among a suffix
    ranks = np.unique(r, return_inverse=True)[1].reshape(-1)
    m = int(ranks.max()) + 1 if n else 0
    # Fenwick tree over ranks, filled from the end of the time order.
    tree = np.zeros(m + 1, dtype=np.int64)

    def add(i: int) -> None:
        i += 1
        while i <= m:
            tree[i] += 1
            i += i & -i

    def prefix(i: int) -> int:  # count of inserted ranks < i
        s = 0
        while i > 0:
            s += int(tree[i])
            i -= i & -i
        return s

    concordant = 0.0
    comparable = 0.0
    pos = n
    # walk time groups from the latest; insert rows with later times before querying
    groups = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    for g in groups[::-1]:
        end = int(last_of_time[g])
        ev = np.flatnonzero(e[g:end]) + g
        if ev.size:
            # partners: everything already inserted (later times) plus censored rows tied here
            tied_censored = np.flatnonzero(~e[g:end]) + g
            for i in ev:
                ri = int(ranks[i])
                smaller = prefix(ri)
                equal = prefix(ri + 1) - smaller
                total = n - pos
                sc = int(np.sum(r[tied_censored] < r[i]))
                ec = int(np.sum(r[tied_censored] == r[i]))
                concordant += smaller + sc + 0.5 * (equal + ec)
                comparable += total + tied_censored.size
        for i in range(g, end):
            add(int(ranks[i]))
        pos = g
    if comparable == 0:
        raise _no_comparable_pairs(where)
    return float(concordant / comparable)


def _no_comparable_pairs(where: str) -> DataError:
    return DataError(
        f"{where}: no comparable pairs: concordance needs an event before a later time; give "
        "subjects with at least one observed event and a later duration"
    )


class CoxPH(WaldRegression):
    """Cox proportional hazards model, h(t | x) = h0(t) exp(x . beta).

    The partial likelihood uses Efron's approximation for tied event times (or Breslow's,
    ``ties="breslow"``) and is maximised by Newton-Raphson with step halving; standard errors
    come from the inverse of the observed information. Time-varying covariates are fitted in
    the counting-process (start, stop] form: pass ``entry=`` (each row's start) to
    :meth:`fit`, one row per subject and stretch of time over which its covariates hold. Covariates are centred at their means
    before fitting (the coefficients do not change): ``predict_partial_hazard`` returns
    exp((x - mean) . beta), as lifelines does, and the Breslow baseline is the hazard of a
    subject at the mean. The ``predict_*`` methods read a mapping or DataFrame by column name
    (refusing a name not fitted, or a fitted one missing) and an array by position.

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Handling of tied event times.
    penalizer : float
        Ridge penalty: the log partial likelihood minus ``penalizer / 2 * ||beta||^2`` on the
        coefficients as given (not lifelines' scale, which penalises standardised coefficients
        of the mean log-likelihood); standardise the covariates first for a scale-free penalty.
    level : float
        Confidence level of the intervals in ``summary``.
    tol : float
        Convergence: the Newton step's largest coefficient change.
    max_iter : int
        Newton iterations before giving up (warns ``ConvergenceWarning``).

    Attributes
    ----------
    coef_, standard_errors_ : ndarray
        Estimates and standard errors, in the order of ``feature_names_``.
    log_likelihood_ : float
        Maximised log partial likelihood (penalty excluded).
    baseline_cumulative_hazard_ : tuple of ndarray
        ``(times, H0)`` at the distinct event times (Breslow estimator).
    convergence_ : Convergence
    concordance_ : float
        Harrell's C of the training data (computed on first access; not defined for a fit
        with ``entry``).
    counting_process_ : bool
        Whether the fit had start times (``entry``).

    Examples
    --------
    >>> X = [[0.0], [1.0], [0.0], [1.0], [0.5], [1.0]]
    >>> m = CoxPH().fit(X, [5, 1, 4, 2, 3, 6], [1, 1, 1, 1, 0, 1])
    >>> round(float(m.coef_[0]), 4), round(m.concordance_, 4)
    (0.0952, 0.6667)
    >>> m.predict_survival_function([[0.0]], times=[0.5, 3]).round(4).tolist()
    [[1.0, 0.7061]]
    """

    def __init__(
        self,
        *,
        ties: str = "efron",
        penalizer: float = 0.0,
        level: float = 0.95,
        tol: float = 1e-9,
        max_iter: int = 100,
    ) -> None:
        self.ties = ties
        self.penalizer = penalizer
        self.level = level
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: npt.ArrayLike,
        durations: npt.ArrayLike,
        observed: npt.ArrayLike | None = None,
        *,
        entry: npt.ArrayLike | None = None,
        names: Sequence[str] | None = None,
    ) -> CoxPH:
        """Fit on covariates ``X`` (subjects x covariates), durations and event flags.

        Parameters
        ----------
        X : array-like, mapping of name to values, or DataFrame
        durations : array-like
            Follow-up times, finite and >= 0.
        observed : array-like of bool, optional
            True where the event was seen, False where right-censored (default all true).
        entry : array-like, optional
            Start times for time-varying covariates (or late entry): each row then covers
            the interval (entry, duration] of its subject, with the covariates that held in
            it, and the event flag says whether the event ended that interval. A subject is
            in the risk set of an event time t when one of its rows has entry < t <= duration,
            as in lifelines' ``CoxTimeVaryingFitter`` and R's ``Surv(start, stop, event)``.
            Split a subject's follow-up at each change of its covariates, with the event
            flag on its last row only. Default: every row enters at 0.
        names : sequence of str, optional
            Covariate names (default: the mapping keys or frame columns, else x0, x1, ...).

        Returns
        -------
        CoxPH
            ``self``.
        """
        if self.ties not in ("efron", "breslow"):
            raise SchemaError(f"ties must be 'efron' or 'breslow', got {self.ties!r}")
        if not self.penalizer >= 0:
            raise SchemaError(f"penalizer must be >= 0, got {self.penalizer!r}")
        mat, feature_names = as_design(X, names, where="CoxPH.fit()")
        t = float_array(durations, "CoxPH.fit()", "durations", ndim=1)
        e = (
            np.ones(t.shape, dtype=bool)
            if observed is None
            else float_array(observed, "CoxPH.fit()", "observed", ndim=1)
        )
        if t.shape[0] != mat.shape[0] or np.shape(e) != t.shape:
            raise SchemaError(
                f"X has {mat.shape[0]} rows, durations {t.shape[0]} and observed "
                f"{np.shape(e)[0]}; expected one each"
            )
        if t.size and not (np.isfinite(t).all() and float(t.min()) >= 0):
            raise SchemaError("durations must be finite and >= 0")
        e_arr = np.asarray(e, dtype=np.float64)
        if not ((e_arr == 0) | (e_arr == 1)).all():
            raise SchemaError("observed must be booleans (1 = event seen, 0 = censored)")
        events = e_arr > 0
        if not events.any():
            raise DataError("CoxPH.fit() needs at least one observed event")
        start = None if entry is None else _entry(entry, t)
        if self.penalizer == 0:
            check_identifiable(mat, feature_names, "CoxPH.fit()")
        mean = column_means(mat)
        with np.errstate(over="ignore"):  # a spread past 1e308: refused by the fit below
            xc = mat - mean
        order = np.argsort(t, kind="stable")
        ts, xs, es = t[order], xc[order], events[order]
        data = _CoxData.build(
            ts, xs, es, self.ties == "efron", None if start is None else start[order]
        )
        p = mat.shape[1]
        fit = newton_raphson(
            lambda b: data.evaluate(b, self.penalizer),
            np.zeros(p),
            tol=self.tol,
            max_iter=self.max_iter,
            objective="partial likelihood",
            gradient_tol=1e-12,
        )
        beta, ll, grad = fit.theta, fit.log_likelihood, fit.gradient
        cov, se = inverse_information(fit.hessian)
        if fit.converged:
            fit = infinite_estimates(fit, cov, feature_names, self.tol, "partial likelihood")
        warn_unconverged(
            fit,
            "CoxPH: Newton-Raphson",
            "a covariate that separates events from censorings drives its coefficient to "
            "infinity, penalizer > 0 helps",
        )
        self.feature_names_ = feature_names
        self.coef_ = beta
        self.standard_errors_ = se
        self.variance_matrix_ = cov if np.isfinite(se).all() else np.full((p, p), np.nan)
        self.log_likelihood_ = float(ll + 0.5 * self.penalizer * float(beta @ beta))
        self.mean_ = mean
        self.n_samples_ = int(t.size)
        self.n_events_ = int(events.sum())
        self.convergence_ = Convergence(
            fit.converged, fit.iterations, float(np.linalg.norm(grad)), 1, fit.message
        )
        self.baseline_cumulative_hazard_ = data.breslow(beta)
        self._train = (t, mat, events)
        self._concordance: float | None = None
        self.counting_process_ = start is not None
        return self

    # ------------------------------------------------------------------ results
    @property
    def params_(self) -> dict[str, float] | None:
        """Coefficients by covariate name (None before ``fit``)."""
        if self.coef_ is None:
            return None
        return {n: float(c) for n, c in zip(self.feature_names_, self.coef_)}

    @property
    def concordance_(self) -> float:
        """Harrell's C of the fitted model on its training data."""
        check_fitted(self, "coef_")
        if self.counting_process_:
            raise DataError(
                "concordance_ is not defined for a fit with entry= (rows are stretches of a "
                "subject's follow-up, not subjects); compute concordance_index on subjects"
            )
        if self._concordance is None:
            t, mat, events = self._train
            self._concordance = concordance_index(t, self._linear(mat), events)
        return self._concordance

    def _linear(self, X: npt.ArrayLike) -> FloatArray:
        check_fitted(self, "coef_")
        assert self.coef_ is not None
        mat = prediction_design(X, self.feature_names_, "CoxPH.predict()")
        out: FloatArray = (mat - self.mean_) @ self.coef_
        return out

    def predict_log_partial_hazard(self, X: npt.ArrayLike) -> FloatArray:
        """(x - mean) . beta for each row of ``X``."""
        return self._linear(X)

    def predict_partial_hazard(self, X: npt.ArrayLike) -> FloatArray:
        """exp((x - mean) . beta): the hazard relative to a subject at the covariate means."""
        return np.exp(self._linear(X))

    def predict_cumulative_hazard(
        self, X: npt.ArrayLike, times: npt.ArrayLike | None = None
    ) -> FloatArray:
        """H(t | x) = H0(t) exp((x - mean) . beta); shape (rows of X, times).

        ``times`` default to the distinct event times of the training data; H0 is a step
        function (0 before the first event time). Times must be finite numbers: a NaN or an
        infinite time is refused (``SchemaError``), as :meth:`SurvivalCurve.at
        <cxmodel.metrics.SurvivalCurve.at>` refuses it, not answered with the last step.
        """
        rel = self.predict_partial_hazard(X)
        grid, h0 = self.baseline_cumulative_hazard_
        at = grid
        if times is not None:
            at = finite_values(
                float_array(times, "CoxPH.predict()", "times").reshape(-1),
                "CoxPH.predict()",
                "times",
            )
        idx = np.searchsorted(grid, at, side="right") - 1
        base = np.where(idx >= 0, h0[np.maximum(idx, 0)], 0.0)
        out: FloatArray = rel[:, None] * base[None, :]
        return out

    def predict_survival_function(
        self, X: npt.ArrayLike, times: npt.ArrayLike | None = None
    ) -> FloatArray:
        """S(t | x) = exp(-H0(t) exp((x - mean) . beta)) with the Breslow baseline.

        Returns an array of shape (rows of X, times); ``times`` (finite numbers) default to the
        distinct event times of the training data.
        """
        return np.exp(-self.predict_cumulative_hazard(X, times))


def _entry(entry: npt.ArrayLike, durations: FloatArray) -> FloatArray:
    """Checked start times: finite and before each row's duration."""
    start = float_array(entry, "CoxPH.fit()", "entry", ndim=1)
    if start.shape != durations.shape:
        raise SchemaError(
            f"entry has {start.shape[0]} values for {durations.shape[0]} durations; expected "
            "one start time per row"
        )
    bad = ~np.isfinite(start) | (start >= durations)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"row {i + 1}: entry {float(start[i])!r} must be finite and before the duration "
            f"{float(durations[i])!r} (a row covers the interval (entry, duration])"
        )
    return start


@attrs.frozen
class _CoxData:
    """Sorted data and the index structures of the partial likelihood."""

    x: FloatArray  # centred covariates, sorted by time
    starts: npt.NDArray[np.intp]  # first row of each distinct event time's risk set
    times: FloatArray  # distinct event times
    deaths: FloatArray  # events at each distinct event time
    event_group: npt.NDArray[np.intp]  # for each event row: its distinct event time
    frac: FloatArray  # Efron's l / d for each event row (0 for Breslow)
    event_rows: npt.NDArray[np.intp]
    x_events: FloatArray  # sum of covariates over events
    # counting process: rows by entry time, and for each event time the first of them that
    # enters at or after it (those are not yet at risk); None without entry times
    entry_order: npt.NDArray[np.intp] | None = None
    entry_starts: npt.NDArray[np.intp] | None = None

    @classmethod
    def build(
        cls,
        t: FloatArray,
        x: FloatArray,
        e: npt.NDArray[np.bool_],
        efron: bool,
        entry: FloatArray | None = None,
    ) -> _CoxData:
        event_rows = np.flatnonzero(e)
        et = t[event_rows]
        first = np.r_[True, et[1:] != et[:-1]]
        group = np.cumsum(first) - 1
        times = et[first]
        deaths = np.bincount(group).astype(np.float64)
        starts = np.searchsorted(t, times, side="left")
        pos_in_group = np.arange(et.size) - np.flatnonzero(first)[group]
        frac = pos_in_group / deaths[group] if efron else np.zeros(et.size)
        entry_order = entry_starts = None
        if entry is not None:
            entry_order = np.argsort(entry, kind="stable")
            entry_starts = np.searchsorted(entry[entry_order], times, side="left")
        return cls(
            x,
            starts,
            times,
            deaths,
            group,
            frac,
            event_rows,
            x[event_rows].sum(axis=0),
            entry_order,
            entry_starts,
        )

    def _risk_sums(self, values: FloatArray) -> FloatArray:
        """Sum of ``values`` (rows in time order) over each event time's risk set."""
        total = np.cumsum(values[::-1], axis=0)[::-1][self.starts]
        if self.entry_order is None or self.entry_starts is None:
            return total
        late = np.cumsum(values[self.entry_order][::-1], axis=0)[::-1]
        late = np.concatenate([late, np.zeros((1, *late.shape[1:]))])  # nobody enters later
        out: FloatArray = total - late[self.entry_starts]
        return out

    def evaluate(self, beta: FloatArray, penalizer: float) -> tuple[float, FloatArray, FloatArray]:
        """Penalised log partial likelihood, gradient and Hessian at ``beta``."""
        x = self.x
        xb = x @ beta
        shift = float(xb.max()) if xb.size else 0.0
        w = np.exp(xb - shift)
        wx = w[:, None] * x
        s0 = self._risk_sums(w)
        s1 = self._risk_sums(wx)
        outer = wx[:, :, None] * x[:, None, :]
        s2 = self._risk_sums(outer)
        g = self.event_group
        ew = w[self.event_rows]
        t0 = np.bincount(g, weights=ew, minlength=self.times.size)
        t1 = np.zeros_like(s1)
        np.add.at(t1, g, wx[self.event_rows])
        t2 = np.zeros_like(s2)
        np.add.at(t2, g, outer[self.event_rows])
        f = self.frac
        den = s0[g] - f * t0[g]
        num1 = s1[g] - f[:, None] * t1[g]
        num2 = s2[g] - f[:, None, None] * t2[g]
        ll = float(xb[self.event_rows].sum() - np.sum(np.log(den) + shift))
        mean1 = num1 / den[:, None]
        grad = self.x_events - mean1.sum(axis=0)
        hess = -(num2 / den[:, None, None]).sum(axis=0) + mean1.T @ mean1
        ll -= 0.5 * penalizer * float(beta @ beta)
        grad = grad - penalizer * beta
        hess = hess - penalizer * np.eye(beta.size)
        return ll, grad, hess

    def breslow(self, beta: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Breslow's baseline cumulative hazard at the distinct event times."""
        xb = self.x @ beta
        w = np.exp(xb)
        s0 = self._risk_sums(w)
        return self.times.copy(), np.cumsum(self.deaths / s0)
