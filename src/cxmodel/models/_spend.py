"""Gamma-Gamma spend model (Fader & Hardie note 025, 2013)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from cxmodel._arguments import random_seed
from cxmodel._pieces import warn_counted
from cxmodel._progress import progress_bar
from cxmodel.errors import DataError, DataWarning
from cxmodel.models._base import (
    Convergence,
    FloatArray,
    as_float_array,
    broadcastable,
    check_fitted,
    compress,
    fit_columns,
    maximise_likelihood,
    params_repr,
    sample_size,
    standard_errors,
)
from cxmodel.models._boundary import Feature

__all__ = ["GammaGamma"]


class GammaGamma:
    """Gamma-Gamma model of the mean transaction value of repeat buyers.

    Each transaction ~ Gamma(p, nu); nu ~ Gamma(q, gamma) across customers. Fit only on
    customers with frequency > 0 (those with 0 are dropped, as in the note).

    Examples
    --------
    >>> from cxmodel.models import GammaGamma
    >>> m = GammaGamma(penalizer_coef=0.01).fit(frequency=[1, 2, 3, 1, 4, 2], monetary_value=[10.0, 20, 15, 30, 12, 18])
    >>> sorted(m.params_)
    ['gamma', 'p', 'q']
    """

    params_: dict[str, float] | None = None
    log_likelihood_: float | None = None
    standard_errors_: dict[str, float] | None = None
    convergence_: Convergence | None = None
    _names = ("p", "q", "gamma")
    # a customer's transaction values ~ Gamma(p, nu), so their mean is p / nu, with 1 / nu
    # inverse-gamma(q, gamma) across customers
    _features = (
        Feature(
            "the mean of customers' average spends",
            ("p", "q", "gamma"),
            lambda v: v["p"] * v["gamma"] / (v["q"] - 1.0) if v["q"] > 1.0 else np.inf,
        ),
        Feature(
            "the spread of average spends across customers",
            ("p", "q", "gamma"),
            lambda v: (
                v["p"] * v["gamma"] / (v["q"] - 1.0) / float(np.sqrt(v["q"] - 2.0))
                if v["q"] > 2.0
                else np.inf
            ),
        ),
        Feature(
            "the variation of each customer's spends about their average",
            ("p",),
            lambda v: 1.0 / float(np.sqrt(v["p"])),
        ),
    )

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def __repr__(self) -> str:
        return params_repr("GammaGamma", self.params_)

    @staticmethod
    def _loglik_terms(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
        p, q, g = params
        px = p * x
        out: FloatArray = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(g)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(x * m + g)
        )
        return out

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: npt.ArrayLike | None = None,
        monetary_value: npt.ArrayLike | None = None,
        weights: npt.ArrayLike | None = None,
        progress: bool = False,
    ) -> GammaGamma:
        """Fit on repeat buyers' (frequency, mean repeat value); returns self.

        ``progress=True`` shows a progress bar on standard error, one step per optimiser
        iteration (needs the ``progress`` extra); the fit is the same.
        """
        frequency, monetary_value = fit_columns(
            summary, {"frequency": frequency, "monetary_value": monetary_value}
        )
        x = as_float_array("frequency", frequency)
        m = as_float_array("monetary_value", monetary_value)
        if x.shape != m.shape:
            raise DataError(f"frequency and monetary_value lengths differ: {x.shape} vs {m.shape}")
        w = np.ones_like(x) if weights is None else as_float_array("weights", weights)
        if w.shape != x.shape:
            raise DataError(
                f"weights has {w.size} values for {x.size} customers; expected one each"
            )
        keep = x > 0
        unpriced = keep & (m <= 0)
        if unpriced.any():
            row = int(np.flatnonzero(unpriced)[0])
            raise DataError(
                f"row {row + 1}: monetary_value must be > 0 for customers with frequency > 0; got "
                f"{float(m[row])!r} with frequency {float(x[row])!r} ({int(unpriced.sum()):,} "
                "such customers; purchases without a value count as 0 in rfm_summary: fit on "
                "summary.subset(summary.monetary_value > 0) or fill the values)"
            )
        if not np.any(keep):
            raise DataError("no repeat buyers (frequency > 0) to fit the Gamma-Gamma model on")
        ux, um, uw = compress(x[keep], m[keep], weights=w[keep])
        pen = float(self.penalizer_coef)

        def loglik(par: FloatArray) -> float:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                total = float(np.sum(uw * self._loglik_terms(par, ux, um)))
            if not np.isfinite(total):  # out of range for these values: not a maximum
                return -np.inf
            return total - pen * float(np.sum(par**2))

        starts = [np.zeros(3), np.log(np.array([2.0, 2.0, float(np.mean(m[keep]))]))]
        with progress_bar(progress, desc="GammaGamma fit", unit="iter") as bar:
            params, ll, conv = maximise_likelihood(
                loglik,
                self._names,
                starts,
                model="GammaGamma",
                callback=bar.update if progress else None,
                features=self._features,
            )
        se = standard_errors(loglik, params)
        self.params_, self.log_likelihood_, self.standard_errors_ = params, ll, se
        self.convergence_ = conv
        return self

    def conditional_expected_spend(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> FloatArray:
        """E[mean spend | x, mean repeat value]; population mean p gamma / (q - 1) when x = 0.

        With a fitted ``q`` <= 1 the population mean spend is infinite: customers without a
        repeat purchase get ``inf``, with a :class:`~cxmodel.errors.DataWarning` counting them.
        """
        check_fitted(self)
        assert self.params_ is not None
        p, q, g = (self.params_[n] for n in self._names)
        x = as_float_array("frequency", frequency)
        m = as_float_array("monetary_value", monetary_value)
        broadcastable("conditional_expected_spend()", frequency=x, monetary_value=m)
        denom = p * x + q - 1
        with np.errstate(divide="ignore"):
            # q <= 1 makes the mean spend of a customer without history infinite
            out = np.where(denom > 0, p * (g + x * m) / np.where(denom > 0, denom, 1.0), np.inf)
        warn_counted(
            DataWarning,
            "conditional_expected_spend(): {infinite:,} of {customers:,} customers get an "
            f"infinite expected spend: the fitted q = {q:.4g} <= 1 makes the mean spend of a "
            "customer without repeat purchases infinite; fit on more repeat buyers or with "
            "penalizer_coef > 0",
            infinite=int(np.count_nonzero(denom <= 0)),
            customers=int(np.size(denom)),
        )
        return np.asarray(out, dtype=np.float64)

    def sample(
        self,
        n: int,
        *,
        frequency: npt.ArrayLike,
        random_state: int | np.random.Generator | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Simulate mean values of ``frequency`` transactions for ``n`` customers."""
        check_fitted(self)
        assert self.params_ is not None
        p, q, g = (self.params_[k] for k in self._names)
        n = sample_size(n)
        rng = np.random.default_rng(random_seed(random_state, "sample()", "random_state"))
        x = np.broadcast_to(as_float_array("frequency", frequency), (n,)).astype(np.float64)
        nu = rng.gamma(q, 1.0 / g, size=n)
        total = rng.gamma(p * np.maximum(x, 1e-300), 1.0 / nu)
        return x, np.where(x > 0, total / np.maximum(x, 1), 0.0)
