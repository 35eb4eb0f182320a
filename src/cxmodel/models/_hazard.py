"""Discrete-time hazard model: logistic regression on person-period rows, fitted by IRLS."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import special

from cxmodel._arguments import event_flags, float_array, got
from cxmodel._pieces import warn
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.models._base import Convergence, FloatArray, check_fitted
from cxmodel.models._cox import WaldRegression, as_design, prediction_design
from cxmodel.models._identifiable import check_identifiable, column_means, infinite_estimates
from cxmodel.models._newton import inverse_information, newton_raphson, warn_unconverged

__all__ = ["MAX_PERSON_PERIODS", "DiscreteHazard", "expand_person_period"]

#: The most person-period rows :func:`expand_person_period` makes (three arrays of 8 bytes a
#: row: 2.4 GB at the limit).
MAX_PERSON_PERIODS = 100_000_000


def expand_person_period(
    durations: npt.ArrayLike, observed: npt.ArrayLike | None = None
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], FloatArray]:
    """Person-period rows of whole-period durations: ``(subject, period, event)``.

    A subject with duration d (a whole number of periods >= 1) contributes rows for periods
    0 .. d - 1; the last row's event is 1 when the event was observed in period d - 1 (so
    ``d`` counts the period of the event, 1-based), else every row is 0 (censored after d
    periods). Subjects with duration 0 contribute nothing. ``observed`` holds event flags:
    booleans or the numbers 0 and 1 (anything else, 0.5 or NaN, is refused). Durations adding
    up to more than ``MAX_PERSON_PERIODS`` (100,000,000) rows are refused with a ``DataError``.

    Examples
    --------
    >>> subject, period, event = expand_person_period([2, 1, 3], [1, 0, 1])
    >>> subject.tolist(), period.tolist(), event.tolist()
    ([0, 0, 1, 2, 2, 2], [0, 1, 0, 0, 1, 2], [0.0, 1.0, 0.0, 0.0, 0.0, 1.0])
    """
    where = "expand_person_period()"
    d = float_array(durations, where, "durations", ndim=1)
    bad = ~(np.isfinite(d) & (d >= 0) & (d == np.round(d)))
    if bad.any():
        i = int(np.argmax(bad))
        raise SchemaError(
            f"{where}: durations must be whole numbers of periods >= 0; got {float(d[i]):g} "
            f"at position {i} ({int(bad.sum())} of {d.size} durations are not)"
        )
    e = np.ones(d.size, dtype=bool) if observed is None else event_flags(observed, where)
    if e.shape != d.shape:
        raise SchemaError(f"{where}: observed has {e.size} values for {d.size} durations")
    rows = float(d.sum())
    if rows > MAX_PERSON_PERIODS:
        i = int(np.argmax(d))
        raise DataError(
            f"{where}: the durations add up to {rows:,.0f} person-period rows, more than the "
            f"{MAX_PERSON_PERIODS:,} this expands (the longest, {d[i]:,.0f} periods, is at "
            f"{i}); use longer periods (weeks instead of days) or check the durations' unit"
        )
    counts = d.astype(np.intp)
    subject = np.repeat(np.arange(d.size), counts)
    starts = np.cumsum(counts) - counts
    period = np.arange(subject.size) - starts[subject]
    event = np.zeros(subject.size)
    last = starts + counts - 1
    has = counts > 0
    event[last[has]] = e[has].astype(np.float64)
    return subject, period, event


def _warn_empty_periods(present: npt.NDArray[np.bool_]) -> None:
    """A DataWarning naming the periods (below the largest given) that no row was at risk in."""
    empty = np.flatnonzero(~present)
    if not empty.size:
        return
    shown = ", ".join(str(int(p)) for p in empty[:10]) + (", ..." if empty.size > 10 else "")
    warn(
        f"DiscreteHazard.fit(): {empty.size:,} of {present.size:,} periods had no row at risk "
        f"(periods {shown}): their baselines, and hazards predicted in them, are NaN",
        DataWarning,
    )


class DiscreteHazard(WaldRegression):
    """Discrete-time hazard model, logit h(k | x) = alpha_k + x . beta.

    Fitted on person-period rows (one row per subject and period at risk, ``event`` 1 in the
    period the event happens) by iteratively reweighted least squares: Newton-Raphson on the
    Bernoulli log-likelihood with step halving, scipy for the linear algebra. ``alpha_k`` is a
    baseline log-odds per period (``periods`` given) or one intercept; covariates may change
    from period to period (time-varying covariates: one row per period carries that period's
    values).

    Parameters
    ----------
    penalizer : float
        Ridge penalty ``penalizer / 2 * ||beta||^2`` on the covariate coefficients (not on the
        baseline); > 0 keeps coefficients finite under separation.
    level : float
        Confidence level of the Wald intervals in ``summary``.
    tol : float
        Convergence: largest coefficient change of a Newton step.
    max_iter : int
        Newton iterations before warning ``ConvergenceWarning``.

    Attributes
    ----------
    coef_, standard_errors_ : ndarray
        Covariate coefficients (log odds ratios) and standard errors.
    baseline_ : ndarray
        Baseline log-odds per period (one value without ``periods``); NaN for a period below
        the largest one given that no row was at risk in (the fit warns ``DataWarning``
        naming them), so hazards predicted in it are NaN too.
    log_likelihood_ : float
    convergence_ : Convergence

    Examples
    --------
    >>> subject, period, event = expand_person_period([1, 2, 3, 3, 2, 1], [1, 1, 1, 0, 0, 1])
    >>> x = [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    >>> m = DiscreteHazard().fit([[x[i]] for i in subject], event, periods=period)
    >>> m.coef_.round(3).tolist(), round(float(m.baseline_[2]), 3)
    ([-1.609], 1.609)
    >>> m.predict_survival([[[1.0]] * 2]).round(3).tolist()
    [[0.833, 0.694]]
    """

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        level: float = 0.95,
        tol: float = 1e-8,
        max_iter: int = 100,
    ) -> None:
        self.penalizer = penalizer
        self.level = level
        self.tol = tol
        self.max_iter = max_iter

    def fit(
        self,
        X: npt.ArrayLike,
        events: npt.ArrayLike,
        *,
        periods: npt.ArrayLike | None = None,
        names: Sequence[str] | None = None,
    ) -> DiscreteHazard:
        """Fit on person-period rows.

        Parameters
        ----------
        X : array-like, mapping or DataFrame
            Covariates of each person-period row (rows x covariates).
        events : array-like of 0/1
            1 in the period the event happened.
        periods : array-like of int, optional
            Period index (0, 1, ...) of each row: one baseline log-odds per period. Without
            it, one intercept.
        names : sequence of str, optional
            Covariate names.

        Returns
        -------
        DiscreteHazard
            ``self``.

        Raises
        ------
        DataError
            Without a penalty, a covariate the baselines absorb (the same in every row, or in
            every row of each period) or covariates of which a combination is, as
            :meth:`CoxPH.fit <cxmodel.models.CoxPH.fit>` refuses them.

        Warns
        -----
        DataWarning
            Naming the periods no row was at risk in (their baselines are NaN).
        ConvergenceWarning
            When the fit does not converge, or when an estimate is infinite: a covariate that
            separates the rows with an event from those without, or a period whose rows all
            (or none) have the event, named, with ``convergence_.converged`` false, as
            :meth:`CoxPH.fit <cxmodel.models.CoxPH.fit>` warns.
        """
        if not self.penalizer >= 0:
            raise SchemaError(f"penalizer must be >= 0, got {self.penalizer!r}")
        where = "DiscreteHazard.fit()"
        mat, feature_names = as_design(X, names, where=where)
        y = float_array(events, where, "events").reshape(-1)
        if y.shape[0] != mat.shape[0]:
            raise SchemaError(f"{where}: X has {mat.shape[0]} rows and events {y.shape[0]}")
        odd = ~((y == 0) | (y == 1))
        if odd.any():
            i = int(np.argmax(odd))
            raise SchemaError(
                f"{where}: events must be 0 or 1; got {float(y[i]):g} at row {i} "
                f"({int(odd.sum())} of {y.size} events are not)"
            )
        if y.size == 0 or y.sum() == 0 or y.sum() == y.size:
            raise DataError("DiscreteHazard.fit() needs rows with and without events")
        if periods is None:
            per = np.zeros(y.size, dtype=np.intp)
        else:
            given = float_array(periods, where, "periods").reshape(-1)
            whole = np.isfinite(given) & (given >= 0) & (given == np.round(given))
            whole &= given < float(np.iinfo(np.intp).max)  # else the cast to indices wraps
            if given.shape != y.shape or not whole.all():
                raise SchemaError(
                    f"{where}: periods must be one whole number >= 0 per row ({y.size} rows); "
                    f"got {got(periods)}"
                )
            per = given.astype(np.intp)
        k = int(per.max()) + 1
        # a period no row was at risk in has no baseline to estimate: fitted without it
        present = np.bincount(per, minlength=k) > 0
        _warn_empty_periods(present)
        per = (np.cumsum(present) - 1)[per]
        if self.penalizer == 0:
            check_identifiable(
                mat,
                feature_names,
                "DiscreteHazard.fit()",
                periods=None if periods is None else per,
            )
        k_fit = int(present.sum())
        mean = column_means(mat)
        with np.errstate(over="ignore"):  # a spread past 1e308: refused by the fit below
            design = np.column_stack([np.eye(k_fit)[per], mat - mean])
        p = mat.shape[1]
        penalty = np.r_[np.zeros(k_fit), np.full(p, float(self.penalizer))]
        start_rate = np.clip(np.bincount(per, weights=y, minlength=k_fit), 0.5, None) / np.maximum(
            np.bincount(per, minlength=k_fit), 1
        )
        theta = np.r_[special.logit(np.clip(start_rate, 1e-6, 1 - 1e-6)), np.zeros(p)]

        def evaluate(th: FloatArray) -> tuple[float, FloatArray, FloatArray]:
            eta = design @ th
            ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * penalty @ th**2)
            mu = special.expit(eta)
            grad = design.T @ (y - mu) - penalty * th
            w = mu * (1 - mu)
            hess = -(design.T * w) @ design - np.diag(penalty)
            return ll, grad, hess

        fit = newton_raphson(evaluate, theta, tol=self.tol, max_iter=self.max_iter)
        cov, se_all = inverse_information(fit.hessian)
        if fit.converged:
            baselines = (
                [f"period {k} baseline" for k in np.flatnonzero(present)]
                if periods is not None
                else ["intercept"]
            )
            # read in the reported parameters (baselines at covariates 0, not at their means):
            # reported = to @ theta
            to, back = np.eye(k_fit + p), np.eye(k_fit + p)
            to[:k_fit, k_fit:], back[:k_fit, k_fit:] = -mean, mean  # back is to's inverse
            reported = fit._replace(
                theta=to @ fit.theta,
                gradient=back.T @ fit.gradient,
                hessian=back.T @ fit.hessian @ back,
            )
            marked = infinite_estimates(
                reported, to @ cov @ to.T, [*baselines, *feature_names], self.tol, "likelihood"
            )
            fit = fit._replace(converged=marked.converged, message=marked.message)
        theta, ll, grad = fit.theta, fit.log_likelihood, fit.gradient
        warn_unconverged(
            fit,
            "DiscreteHazard: IRLS",
            "a period or covariate with no (or only) events drives its coefficient to "
            "infinity, penalizer > 0 helps",
        )
        beta = theta[k_fit:]
        self.feature_names_ = feature_names
        self.coef_ = beta
        self.standard_errors_ = se_all[k_fit:]
        # baselines are reported for covariates at zero (undo the centring)
        self.baseline_ = np.full(k, np.nan)
        self.baseline_[present] = theta[:k_fit] - float(mean @ beta)
        self.log_likelihood_ = float(ll + 0.5 * penalty @ theta**2)
        self.n_periods_ = k
        self.convergence_ = Convergence(
            fit.converged, fit.iterations, float(np.linalg.norm(grad)), 1, fit.message
        )
        return self

    def predict_hazard(self, X: npt.ArrayLike, periods: npt.ArrayLike | None = None) -> FloatArray:
        """h = expit(alpha_period + x . beta) for each row (period 0 when ``periods`` is None).

        Periods beyond the fitted ones use the last period's baseline. A mapping or DataFrame
        ``X`` is read by column name (a name not fitted, or a fitted one missing, is refused).
        """
        check_fitted(self, "coef_")
        assert self.coef_ is not None
        mat = prediction_design(X, self.feature_names_, "DiscreteHazard.predict_hazard()")
        per = np.zeros(mat.shape[0], dtype=np.intp)
        if periods is not None:
            given = float_array(periods, "DiscreteHazard.predict_hazard()", "periods").reshape(-1)
            whole = np.isfinite(given) & (given >= 0) & (given == np.floor(given))
            if given.size not in (1, per.size) or not whole.all():
                raise SchemaError(
                    f"DiscreteHazard.predict_hazard(): periods must be whole numbers >= 0, one "
                    f"or one per row of X ({per.size}); got {got(periods)}"
                )
            # clipped as floats first: a period past int64 (1e308) would wrap to a negative index
            per = np.minimum(given, self.n_periods_ - 1).astype(np.intp)
        out: FloatArray = special.expit(self.baseline_[per] + mat @ self.coef_)
        return out

    def predict_survival(self, X: npt.ArrayLike) -> FloatArray:
        """Probability of no event through each period: S_k = prod_{j <= k} (1 - h_j).

        ``X`` has shape (subjects, periods, covariates): each subject's covariates in each
        future period (time-varying covariates projected by the caller). Returns shape
        (subjects, periods).
        """
        check_fitted(self, "coef_")
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 3:
            raise SchemaError(f"X must be (subjects, periods, covariates), got shape {arr.shape}")
        n, k, p = arr.shape
        per = np.tile(np.arange(k), n)
        h = self.predict_hazard(arr.reshape(n * k, p), per).reshape(n, k)
        out: FloatArray = np.asarray(np.cumprod(1.0 - h, axis=1), dtype=np.float64)
        return out
