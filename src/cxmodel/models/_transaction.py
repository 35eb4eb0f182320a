"""Shared front end of the (frequency, recency, T) transaction models."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from cxmodel._progress import progress_bar
from cxmodel.errors import DataError
from cxmodel.models._base import (
    Convergence,
    FloatArray,
    as_float_array,
    check_fitted,
    check_information,
    compress,
    fit_columns,
    maximise_likelihood,
    params_repr,
    standard_errors,
)
from cxmodel.models._boundary import Feature
from cxmodel.models._plots import TransactionPlots

__all__ = ["TransactionModel", "validate_history"]

_Model = TypeVar("_Model", bound="TransactionModel")
"""The model class ``fit`` is called on, so ``BetaGeo().fit(...)`` is typed a ``BetaGeo``."""


def validate_history(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike, *, allow_empty: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Check and broadcast (frequency, recency, T): finite, >= 0, frequency whole, recency <= T,
    recency 0 iff x 0."""
    x = as_float_array("frequency", frequency)
    t_x = as_float_array("recency", recency)
    big_t = as_float_array("T", T)
    try:
        x, t_x, big_t = np.broadcast_arrays(x, t_x, big_t)
    except ValueError as exc:
        raise DataError(
            f"frequency, recency and T must have the same length, got {x.shape[0]}, "
            f"{t_x.shape[0]} and {big_t.shape[0]}"
        ) from exc
    if x.size == 0 and not allow_empty:
        raise DataError("no customers: frequency, recency and T are empty")
    fractional = x != np.round(x)
    if np.any(fractional):
        i = int(np.argmax(fractional))
        raise DataError(
            f"frequency must be whole numbers of repeat purchases (purchase periods after the "
            f"first), got {float(x[i])!r} at {i} ({int(fractional.sum()):,} such values)"
        )
    bad = t_x > big_t + 1e-12
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataError(f"recency must be <= T, got recency {t_x[i]!r} > T {big_t[i]!r} at {i}")
    bad = (x == 0) & (t_x > 0)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataError(f"recency must be 0 when frequency is 0, got recency {t_x[i]!r} at {i}")
    return (
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(t_x, dtype=np.float64),
        np.ascontiguousarray(big_t, dtype=np.float64),
    )


class TransactionModel(TransactionPlots, abc.ABC):
    """Base of BG/NBD, MBG/NBD and Pareto/NBD: fitting on (frequency, recency, T) histories."""

    _names: tuple[str, ...] = ()
    #: what the parameters describe, named when a fit runs off towards a limit
    _features: tuple[Feature, ...] = ()
    params_: dict[str, float] | None = None
    log_likelihood_: float | None = None
    convergence_: Convergence | None = None
    _se: dict[str, float] | None = None
    #: the ``freq`` of the summary ``fit`` read (None for plain arrays), so that
    #: customer_lifetime_value can refuse a summary in another time unit
    _fit_unit: str | None = None
    _gtol = 1e-7
    # compressed histories and penalty kept for the lazy standard errors (plain arrays, so a
    # fitted model still pickles)
    _se_data: tuple[FloatArray, FloatArray, FloatArray, FloatArray, float] | None = None

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    @property
    def standard_errors_(self) -> dict[str, float] | None:
        """Standard errors of the fitted parameters (None before ``fit``).

        From the inverse of the numerical Hessian of the log-likelihood, computed on first
        access and cached (NaN when the Hessian is not negative definite).
        """
        if self._se is None and self._se_data is not None and self.params_ is not None:
            loglik, gradient = self._objective(*self._se_data)
            self._se = standard_errors(loglik, self.params_, gradient=gradient)
            self._se_data = None
        return self._se

    @standard_errors_.setter
    def standard_errors_(self, value: dict[str, float] | None) -> None:
        self._se = value
        self._se_data = None

    def __repr__(self) -> str:
        return params_repr(type(self).__name__, self.params_)

    # -- to implement -------------------------------------------------------------------------
    @staticmethod
    @abc.abstractmethod
    def _loglik_terms(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        """Each customer's log-likelihood under ``params``."""

    def _value_and_gradient(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]] | None:
        """Optional fused (weighted log-likelihood, gradient) of the unpenalised model."""
        return None

    def _starts(self) -> list[FloatArray]:
        k = len(self._names)
        return [np.zeros(k), np.full(k, np.log(0.5)), np.array([np.log(0.5)] * k) + 1.0]

    # -- public --------------------------------------------------------------------------------
    def fit(
        self: _Model,
        summary: Any = None,
        *,
        frequency: npt.ArrayLike | None = None,
        recency: npt.ArrayLike | None = None,
        T: npt.ArrayLike | None = None,
        weights: npt.ArrayLike | None = None,
        progress: bool = False,
    ) -> _Model:
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : RFMSummary, optional
            Per-customer summary; alternatively pass ``frequency``, ``recency`` and ``T``.
        frequency, recency, T : array_like, optional
            Repeat purchases, time of the last purchase and age, in one time unit.
        weights : array_like, optional
            Number of customers with each history (default 1 each).
        progress : bool, default False
            Show a progress bar on standard error advancing once per optimiser iteration
            (needs the ``progress`` extra); the fit is the same.

        Returns
        -------
        self

        Raises
        ------
        DataError
            Bad histories, or histories that carry no information: every weight is 0; every
            customer (with a positive weight) has ``T = 0``, so the likelihood is flat and any
            parameters fit; or no customer made a repeat purchase (every ``frequency`` is 0),
            so the maximum lies on the boundary where the purchase rate is 0.
        MissingDependencyError
            ``progress=True`` without tqdm installed.

        Warns
        -----
        ConvergenceWarning
            The optimiser stopped without converging, or where the likelihood keeps rising (or
            stays level) towards a limit the data do not determine (one customer, identical
            histories); the parameters are the best point found and :attr:`convergence_` says
            how it ended (``unbounded`` names the parameters running off).
        """
        frequency, recency, T = fit_columns(
            summary, {"frequency": frequency, "recency": recency, "T": T}
        )
        x, t_x, big_t = validate_history(frequency, recency, T)
        w = None
        if weights is not None:
            w = as_float_array("weights", weights)
            if w.shape != x.shape:
                raise DataError(f"weights must have {x.shape[0]} entries, got {w.shape[0]}")
        if self.penalizer_coef < 0 or not np.isfinite(self.penalizer_coef):
            raise DataError(
                f"penalizer_coef must be a finite number >= 0, got {self.penalizer_coef}"
            )
        check_information(x, big_t, w, type(self).__name__)
        ux, ut, uT, uw = compress(x, t_x, big_t, weights=w)
        pen = float(self.penalizer_coef)
        loglik, grad = self._objective(ux, ut, uT, uw, pen)
        fused = self._value_and_gradient(ux, ut, uT, uw)

        def value_and_gradient(p: FloatArray) -> tuple[float, FloatArray]:
            assert fused is not None
            val, g = fused(p)
            if pen == 0.0:
                return val, g
            return val - pen * float(np.sum(p**2)), g - 2.0 * pen * p

        with progress_bar(progress, desc=f"{type(self).__name__} fit", unit="iter") as bar:
            params, ll, conv = maximise_likelihood(
                loglik,
                self._names,
                self._starts(),
                model=type(self).__name__,
                gradient=grad,
                value_and_gradient=None if fused is None else value_and_gradient,
                gtol=self._gtol,
                callback=bar.update if progress else None,
                features=self._features,
            )
        self.params_ = params
        self.log_likelihood_ = ll
        self.standard_errors_ = None
        self._se_data = (ux, ut, uT, uw, pen)
        self.convergence_ = conv
        self._fit_unit = getattr(summary, "freq", None) or None
        return self

    def _objective(
        self, ux: FloatArray, ut: FloatArray, uT: FloatArray, uw: FloatArray, pen: float
    ) -> tuple[Callable[[FloatArray], float], Callable[[FloatArray], FloatArray] | None]:
        """Weighted, penalised log-likelihood and its analytic gradient (None if there is none)."""

        def loglik(p: FloatArray) -> float:
            val = float(np.sum(uw * self._loglik_terms(p, ux, ut, uT)))
            return val - pen * float(np.sum(p**2))

        grad_terms = getattr(self, "_loglik_grad", None)

        def gradient(p: FloatArray) -> FloatArray:
            assert grad_terms is not None
            g: FloatArray = np.sum(uw[:, None] * grad_terms(p, ux, ut, uT), axis=0) - 2.0 * pen * p
            return g

        return loglik, None if grad_terms is None else gradient

    def _p(self) -> tuple[float, ...]:
        check_fitted(self)
        assert self.params_ is not None
        return tuple(self.params_[n] for n in self._names)

    def log_likelihood(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """Per-customer log-likelihood of the histories under the fitted parameters."""
        p = np.array(self._p())
        x, t_x, big_t = validate_history(frequency, recency, T, allow_empty=True)
        return self._loglik_terms(p, x, t_x, big_t)
