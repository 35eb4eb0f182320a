"""Discrete-time models: BG/BB (Fader, Hardie & Shang 2010) and sBG (Fader & Hardie 2007)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import betaln, gammaln, logsumexp

from cxmodel._arguments import integer, random_seed
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
    sample_size,
    standard_errors,
    straddle_one,
    whole_numbers,
)
from cxmodel.models._boundary import beta_features
from cxmodel.models._plots import TransactionPlots

__all__ = ["BetaGeoBetaBinom", "ShiftedBetaGeo"]


def _validate_bgbb(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, n_periods: npt.ArrayLike
) -> tuple[FloatArray, ...]:
    x = as_float_array("frequency", frequency)
    t_x = as_float_array("recency", recency)
    n = as_float_array("n_periods", n_periods)
    try:
        x, t_x, n = (np.ascontiguousarray(a) for a in np.broadcast_arrays(x, t_x, n))
    except ValueError as exc:
        raise DataError(
            f"frequency, recency and n_periods must have the same length, got {x.shape[0]}, "
            f"{t_x.shape[0]} and {n.shape[0]}"
        ) from exc
    if np.any(x > t_x):
        raise DataError("frequency must be <= recency (transactions happen at opportunities)")
    bad = (x == 0) & (t_x > 0)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataError(
            f"recency must be 0 when frequency is 0 (it is the opportunity of the last "
            f"transaction), got recency {float(t_x[i])!r} at {i}"
        )
    if np.any(t_x > n):
        raise DataError("recency must be <= n_periods")
    if np.any((x != np.round(x)) | (t_x != np.round(t_x)) | (n != np.round(n))):
        raise DataError("frequency, recency and n_periods must be whole numbers of opportunities")
    return x, t_x, n


def _opportunities(name: str, value: npt.ArrayLike, where: str, hint: str = "") -> FloatArray:
    """``value`` as whole numbers of BG/BB opportunities (1.5 opportunities mean nothing);
    ``hint`` ends the error message."""
    return whole_numbers(name, value, "opportunities", f"BetaGeoBetaBinom.{where}()", hint)


class BetaGeoBetaBinom(TransactionPlots):
    """BG/BB: a Bernoulli purchase chance at each opportunity while alive, geometric drop-out.

    p ~ Beta(alpha, beta) (purchase), theta ~ Beta(gamma, delta) (drop-out).

    Examples
    --------
    >>> from cxmodel.models import BetaGeoBetaBinom
    >>> m = BetaGeoBetaBinom(penalizer_coef=0.01).fit(frequency=[0, 1, 2, 3, 1], recency=[0, 1, 4, 5, 3],
    ...                            n_periods=[5] * 5, weights=[10, 5, 4, 6, 3])
    >>> sorted(m.params_)
    ['alpha', 'beta', 'delta', 'gamma']
    """

    params_: dict[str, float] | None = None
    log_likelihood_: float | None = None
    standard_errors_: dict[str, float] | None = None
    convergence_: Convergence | None = None
    _names = ("alpha", "beta", "gamma", "delta")
    _features = (
        *beta_features("alpha", "beta", "purchase probabilities"),
        *beta_features("gamma", "delta", "drop-out probabilities"),
    )

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        self.penalizer_coef = penalizer_coef

    def __repr__(self) -> str:
        return params_repr("BetaGeoBetaBinom", self.params_)

    @staticmethod
    def _loglik_terms(par: FloatArray, x: FloatArray, t_x: FloatArray, n: FloatArray) -> FloatArray:
        al, be, ga, de = par
        base = betaln(al, be) + betaln(ga, de)
        first = betaln(al + x, be + n - x) + betaln(ga, de + n) - base
        width = int(np.max(n - t_x)) if x.size else 0
        if width == 0:
            out0: FloatArray = first
            return out0
        i = np.arange(width, dtype=np.float64)[None, :]
        terms = (
            betaln(al + x[:, None], be + t_x[:, None] - x[:, None] + i)
            + betaln(ga + 1, de + t_x[:, None] + i)
            - base
        )
        terms = np.where(i < (n - t_x)[:, None], terms, -np.inf)
        out: FloatArray = logsumexp(np.column_stack([first, terms]), axis=1)
        return out

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: npt.ArrayLike | None = None,
        recency: npt.ArrayLike | None = None,
        n_periods: npt.ArrayLike | None = None,
        weights: npt.ArrayLike | None = None,
    ) -> BetaGeoBetaBinom:
        """Fit on (frequency, recency, n_periods) in opportunities; returns self.

        Raises
        ------
        DataError
            Bad histories, or histories without information: every weight 0, every
            ``n_periods`` 0, or no customer with a transaction (every ``frequency`` 0).
        """
        frequency, recency, n_periods = fit_columns(
            summary,
            {"frequency": frequency, "recency": recency, "n_periods": n_periods},
            ("frequency", "recency", "T"),
        )
        x, t_x, n = _validate_bgbb(frequency, recency, n_periods)
        if x.size == 0:
            raise DataError("no customers to fit")
        w = None if weights is None else as_float_array("weights", weights)
        if w is not None and w.shape != x.shape:
            raise DataError(f"weights must have {x.shape[0]} entries, got {w.shape[0]}")
        check_information(x, n, w, "BetaGeoBetaBinom", age_name="n_periods")
        ux, ut, un, uw = compress(x, t_x, n, weights=w)
        pen = float(self.penalizer_coef)

        def loglik(par: FloatArray) -> float:
            val = float(np.sum(uw * self._loglik_terms(par, ux, ut, un)))
            return val - pen * float(np.sum(par**2))

        starts = [np.zeros(4), np.full(4, np.log(0.5)), np.full(4, 1.0)]
        params, ll, conv = maximise_likelihood(
            loglik, self._names, starts, model="BetaGeoBetaBinom", features=self._features
        )
        se = standard_errors(loglik, params)
        self.params_, self.log_likelihood_, self.standard_errors_ = params, ll, se
        self.convergence_ = conv
        return self

    def _p(self) -> FloatArray:
        check_fitted(self)
        assert self.params_ is not None
        return np.array([self.params_[k] for k in self._names])

    def _gamma_near_one(self) -> tuple[BetaGeoBetaBinom, BetaGeoBetaBinom] | None:
        """Copies with gamma = 1 -/+ 1e-6 when gamma is within 1e-7 of 1 (0/0 in the forms)."""
        return straddle_one(self, "gamma")

    def probability_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, n_periods: npt.ArrayLike
    ) -> FloatArray:
        """P(alive at opportunity n_periods + 1 | x, t_x, n)."""
        par = self._p()
        al, be, ga, de = par
        x, t_x, n = _validate_bgbb(frequency, recency, n_periods)
        num = betaln(al + x, be + n - x) + betaln(ga, de + n + 1) - betaln(al, be) - betaln(ga, de)
        return np.asarray(np.exp(num - self._loglik_terms(par, x, t_x, n)), dtype=np.float64)

    def expected_purchases(self, n: npt.ArrayLike) -> FloatArray:
        """E[X(n)]: expected transactions of a new customer over n opportunities."""
        pair = self._gamma_near_one()
        if pair is not None:
            return 0.5 * (pair[0].expected_purchases(n) + pair[1].expected_purchases(n))
        al, be, ga, de = self._p()
        nn = _opportunities("n", n, "expected_purchases")
        ratio = np.exp(
            gammaln(ga + de) - gammaln(ga + de + nn) + gammaln(1 + de + nn) - gammaln(1 + de)
        )
        return np.asarray(al / (al + be) * de / (ga - 1) * (1 - ratio), dtype=np.float64)

    def probability_of_purchases(self, n: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
        """P(X(t) = n): ``n`` transactions in the first ``t`` opportunities (eq. 8 of the paper)."""
        al, be, ga, de = self._p()
        k, tt = np.broadcast_arrays(as_float_array("n", n), as_float_array("t", t))
        if np.any((k != np.round(k)) | (tt != np.round(tt))):
            raise DataError("n and t must be whole numbers")
        base = betaln(al, be) + betaln(ga, de)

        def log_comb(m: FloatArray, j: FloatArray) -> Any:
            return gammaln(m + 1) - gammaln(j + 1) - gammaln(m - j + 1)

        with np.errstate(invalid="ignore"):
            first = np.where(
                k <= tt,
                log_comb(tt, k) + betaln(al + k, be + tt - k) + betaln(ga, de + tt) - base,
                -np.inf,
            )
            width = int(np.max(tt)) if tt.size else 0
            i = np.arange(max(width, 1), dtype=np.float64)[None, :]
            kk, tcol = k[:, None], tt[:, None]
            terms = log_comb(i, kk) + betaln(al + kk, be + i - kk) + betaln(ga + 1, de + i) - base
            terms = np.where((i >= kk) & (i < tcol), terms, -np.inf)
            total = logsumexp(np.column_stack([first, terms]), axis=1)
        return np.asarray(np.exp(total), dtype=np.float64)

    def sample(
        self, n: int, *, n_periods: int, random_state: int | np.random.Generator | None = None
    ) -> Any:
        """Simulate ``n`` customers over ``n_periods`` opportunities; an ``RFMSummary``."""
        from cxmodel.models._rfm import RFMSummary

        al, be, ga, de = self._p()
        n = sample_size(n)
        n_periods = integer(n_periods, "sample()", "n_periods", minimum=0)
        if n * n_periods > 10**8:  # a customers x periods matrix of draws
            raise DataError(
                f"sample(): n x n_periods must be at most 100,000,000; got {n * n_periods:,}"
            )
        rng = np.random.default_rng(random_seed(random_state, "sample()", "random_state"))
        p = rng.beta(al, be, size=n)
        theta = np.clip(rng.beta(ga, de, size=n), 1e-12, 1.0)
        life = rng.geometric(theta) - 1  # opportunities alive: 0, 1, 2, ...
        t = np.arange(1, n_periods + 1)
        buys = (rng.random((n, n_periods)) < p[:, None]) & (t[None, :] <= life[:, None])
        x = buys.sum(axis=1).astype(np.float64)
        last = np.where(buys.any(axis=1), n_periods - np.argmax(buys[:, ::-1], axis=1), 0)
        return RFMSummary(
            customer_id=np.array([str(j) for j in range(n)], dtype=object),
            frequency=x,
            recency=last.astype(np.float64),
            T=np.full(n, float(n_periods)),
            monetary_value=np.zeros(n),
            freq="",
        )

    def conditional_expected_purchases(
        self,
        t: npt.ArrayLike,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        n_periods: npt.ArrayLike,
    ) -> FloatArray:
        """Expected transactions in the next ``t`` opportunities given (x, t_x, n)."""
        pair = self._gamma_near_one()
        if pair is not None:
            lo, hi = (
                m.conditional_expected_purchases(t, frequency, recency, n_periods) for m in pair
            )
            return 0.5 * (lo + hi)
        par = self._p()
        al, be, ga, de = par
        x, t_x, n = _validate_bgbb(frequency, recency, n_periods)
        tt = _opportunities(
            "t",
            t,
            "conditional_expected_purchases",
            "; with customer_lifetime_value, give freq as a whole number of opportunities",
        )
        log_l = self._loglik_terms(par, x, t_x, n)
        lead = (
            betaln(al + x + 1, be + n - x)
            - betaln(al, be)
            + gammaln(ga + de)
            - gammaln(1 + de)
            - log_l
        )
        a = np.exp(gammaln(1 + de + n) - gammaln(ga + de + n))
        b = np.exp(gammaln(1 + de + n + tt) - gammaln(ga + de + n + tt))
        return np.asarray(np.exp(lead) * de / (ga - 1) * (a - b), dtype=np.float64)


class ShiftedBetaGeo:
    """sBG: contractual retention with a Beta(alpha, beta) spread of per-period churn probability.

    Examples
    --------
    >>> from cxmodel.models import ShiftedBetaGeo
    >>> m = ShiftedBetaGeo().fit(survivors=[1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(m.params_["alpha"], 3), round(m.params_["beta"], 3)
    (0.668, 3.806)
    """

    params_: dict[str, float] | None = None
    log_likelihood_: float | None = None
    standard_errors_: dict[str, float] | None = None
    convergence_: Convergence | None = None
    _names = ("alpha", "beta")
    _features = beta_features("alpha", "beta", "churn probabilities")

    def __init__(self) -> None:
        pass

    def __repr__(self) -> str:
        return params_repr("ShiftedBetaGeo", self.params_)

    def fit(self, *, survivors: npt.ArrayLike) -> ShiftedBetaGeo:
        """Fit on survivor counts S_0 >= S_1 >= ... (S_0 = cohort size); returns self.

        At least two periods (three counts) are needed: one period's churn identifies only the
        mean churn probability, which every spread of churn across customers matches.
        """
        s = whole_numbers(
            "survivors",
            survivors,
            "customers",
            "ShiftedBetaGeo.fit()",
            "; give counts (cohort size x share retained), not shares: the standard errors "
            "depend on the cohort size",
        )
        if s.size < 2:
            raise DataError(f"survivors needs at least 2 counts, got {s.size}")
        if np.any(np.diff(s) > 0):
            raise DataError("survivors must be non-increasing")
        if s[0] == 0:
            raise DataError(
                "ShiftedBetaGeo.fit(): the cohort is empty (survivors[0] = 0): no customer "
                "could churn, so any parameters would fit equally well"
            )
        if s[-1] == s[0]:
            raise DataError(
                f"ShiftedBetaGeo.fit(): none of the {s[0]:,.0f} customers churned in "
                f"{s.size - 1} periods, so the likelihood is largest where the churn "
                "probability is 0 and no parameters are estimable; fit on a cohort observed "
                "until some customers left"
            )
        if s[1] == 0:
            raise DataError(
                f"ShiftedBetaGeo.fit(): all {s[0]:,.0f} customers churned in the first period, "
                "so the likelihood is largest where the churn probability is 1 and no "
                "parameters are estimable"
            )
        if s.size == 2:
            raise DataError(
                f"ShiftedBetaGeo.fit(): survivors {s[0]:,.0f} -> {s[1]:,.0f} cover one period, "
                "whose churn identifies only the mean churn probability alpha / (alpha + beta), "
                "not how churn is spread across customers: every spread fits equally and "
                "projects another retention curve; give the survivors of at least two periods"
            )
        lost = s[:-1] - s[1:]
        t = np.arange(1, s.size, dtype=np.float64)
        last = float(s[-1])

        def loglik(par: FloatArray) -> float:
            a, b = par
            lp = betaln(a + 1, b + t - 1) - betaln(a, b)
            ls = betaln(a, b + t[-1]) - betaln(a, b)
            return float(np.sum(lost * lp) + last * ls)

        params, ll, conv = maximise_likelihood(
            loglik,
            self._names,
            [np.zeros(2), np.log(np.array([0.5, 3.0]))],
            model="ShiftedBetaGeo",
            features=self._features,
            penalizer=False,
        )
        se = standard_errors(loglik, params)
        self.params_, self.log_likelihood_, self.standard_errors_ = params, ll, se
        self.convergence_ = conv
        return self

    def survival(self, t: npt.ArrayLike) -> FloatArray:
        """S(t) = B(alpha, beta + t) / B(alpha, beta)."""
        check_fitted(self)
        assert self.params_ is not None
        a, b = self.params_["alpha"], self.params_["beta"]
        tt = as_float_array("t", t)
        return np.asarray(np.exp(betaln(a, b + tt) - betaln(a, b)), dtype=np.float64)

    def retention(self, t: npt.ArrayLike) -> FloatArray:
        """r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1), t >= 1."""
        check_fitted(self)
        assert self.params_ is not None
        a, b = self.params_["alpha"], self.params_["beta"]
        tt = as_float_array("t", t)
        if np.any(tt < 1):
            raise DataError("retention is defined for t >= 1")
        return np.asarray((b + tt - 1) / (a + b + tt - 1), dtype=np.float64)

    def sample(
        self, n: int, *, periods: int, random_state: int | np.random.Generator | None = None
    ) -> FloatArray:
        """Simulate survivor counts S_0..S_periods of a cohort of ``n`` customers."""
        check_fitted(self)
        assert self.params_ is not None
        n = sample_size(n)
        periods = integer(periods, "sample()", "periods", minimum=0)
        if n * (periods + 1) > 10**8:  # a periods x customers matrix of comparisons
            raise DataError(
                f"sample(): n x periods must be at most 100,000,000; got {n * (periods + 1):,}"
            )
        rng = np.random.default_rng(random_seed(random_state, "sample()", "random_state"))
        theta = np.clip(rng.beta(self.params_["alpha"], self.params_["beta"], size=n), 1e-12, 1)
        life = rng.geometric(theta)
        t = np.arange(periods + 1)
        return np.asarray((life[None, :] > t[:, None]).sum(axis=1), dtype=np.float64)
