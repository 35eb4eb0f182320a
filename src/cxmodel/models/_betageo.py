"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.integrate import quad
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, xlog1py, xlogy
from scipy.stats import nbinom

from cxmodel._arguments import random_seed, real
from cxmodel.errors import DataError
from cxmodel.models._base import (
    FloatArray,
    as_float_array,
    broadcastable,
    sample_size,
    straddle_one,
    whole_numbers,
)
from cxmodel.models._boundary import beta_features, gamma_features
from cxmodel.models._rfm import RFMSummary
from cxmodel.models._transaction import TransactionModel, validate_history

__all__ = ["BetaGeo", "ModifiedBetaGeo", "observation_length"]


def _rng(random_state: int | np.random.Generator | None) -> np.random.Generator:
    return np.random.default_rng(random_state)


def _hyp2f1_neg(a: Any, b: Any, c: Any, w: Any) -> FloatArray:
    """2F1(a, b; c; w) for w <= 0 via Pfaff: (1 - w)^-b 2F1(b, c - a; c; w / (w - 1)).

    With ``b = a_model - 1`` and ``c - a`` free of the frequency, the series argument lies in
    [0, 1) and no parameter grows with the frequency, so nothing overflows.
    """
    w = np.asarray(w, dtype=np.float64)
    z = w / (w - 1.0)
    with np.errstate(all="ignore"):
        g = hyp2f1(b, c - a, c, z)
        out = np.exp(-b * np.log1p(-w) + np.log(np.abs(g))) * np.sign(g)
        bad = ~np.isfinite(out)
        if np.any(bad):  # extreme (a, b) from tiny data sets: scipy's own transformations
            direct = hyp2f1(a, b, c, w)
            out = np.where(bad, direct, out)
    res: FloatArray = np.asarray(out, dtype=np.float64)
    return res


def _mixture_one(r: float, alpha: float, a: float, b: float, t: float) -> float:
    """E over p ~ Beta(a, b) of (1 - (1 + p t / alpha)^-r) / p, by adaptive quadrature.

    The integrand is the expected purchases in ``t`` of customers who drop out with chance p
    after each purchase, their rates Gamma(r, alpha); it falls from r t / alpha at p = 0 to
    about 1 / p past p = alpha / (r t), where the range is split. The Beta density is taken in
    log space (a and b in the thousands underflow its factors); an exponent below 0 (a or b
    below 1, a density unbounded at that end) is left to the weight of scipy's
    algebraic-weight rule, and a density peaked inside is given its mean as a break point.
    """
    if t == 0.0:
        return 0.0
    rate = r * t / alpha
    log_beta = float(betaln(a, b))

    def purchases(p: float) -> float:
        return -math.expm1(-r * math.log1p(p * t / alpha)) / p if p > 0.0 else rate

    def piece(lo: float, hi: float, wa: float, wb: float) -> float:
        def integrand(p: float) -> float:
            density = xlogy(a - 1.0 - wa, p) + xlog1py(b - 1.0 - wb, -p) - log_beta
            return purchases(p) * math.exp(density)

        options: dict[str, Any] = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 200, "full_output": 1}
        if wa < 0.0 or wb < 0.0:
            return float(quad(integrand, lo, hi, weight="alg", wvar=(wa, wb), **options)[0])
        mean = a / (a + b)
        points = [mean] if lo < mean < hi else None
        return float(quad(integrand, lo, hi, points=points, **options)[0])

    knee = min(0.5, 1.0 / rate)
    return piece(0.0, knee, min(a - 1.0, 0.0), 0.0) + piece(knee, 1.0, 0.0, min(b - 1.0, 0.0))


def _or_mixture(
    closed: npt.ArrayLike,
    r: npt.ArrayLike,
    alpha: npt.ArrayLike,
    a: float,
    b: npt.ArrayLike,
    t: npt.ArrayLike,
    *,
    survive_first: bool = False,
) -> FloatArray:
    """``closed``, an expectation of purchases from the 2F1 closed form, with the Beta mixture
    it stands for where the closed form is not finite.

    Given the drop-out chance p, the purchases of a customer alive with a Gamma(r, alpha) rate
    average (1 - (1 + p t / alpha)^-r) / p over the next ``t``; the closed forms are this
    averaged over p ~ Beta(a, b) (times 1 - p with ``survive_first``: MBG/NBD's chance to drop
    out before the first repeat purchase). scipy's 2F1 gives NaN once a parameter passes about
    1e4, which a fit reaches when purchase rates barely vary (r in the millions); the mixture
    has no such limit. Each distinct combination of arguments is integrated once.
    """
    out = np.array(closed, dtype=np.float64)
    bad = ~np.isfinite(out)
    if not bad.any():
        return out
    columns = [
        np.broadcast_to(np.asarray(v, dtype=np.float64), out.shape)[bad] for v in (r, alpha, b, t)
    ]
    if survive_first:  # the factor 1 - p: Beta(a, b + 1) scaled by its mean share b / (a + b)
        columns[2] = columns[2] + 1.0
    done: dict[tuple[float, ...], float] = {}
    values = np.empty(columns[0].shape[0])
    for i, key in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
        if key not in done:
            done[key] = _mixture_one(key[0], key[1], a, key[2], key[3])
        values[i] = done[key]
    if survive_first:
        values *= columns[2] - 1.0
        values /= a + columns[2] - 1.0
    out[bad] = values
    return out


def _purchase_counts(n: npt.ArrayLike) -> FloatArray:
    """``n`` of ``probability_of_purchases``: whole numbers of purchases (1.5 has no probability)."""
    return whole_numbers("n", n, "purchases", "probability_of_purchases()")


def observation_length(T: object) -> float:
    """``T`` of ``sample()``: a finite number of time units from 0 to a million (more than a
    century even in hours; past it the Poisson draws overflow)."""
    length = real(T, "sample()", "T")
    if not 0 <= length <= 1e6:
        raise DataError(
            f"sample(): T must be >= 0 and at most 1,000,000 time units of observation; "
            f"got {length!r}"
        )
    return length


def _bg_branches(
    params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The two log-terms of the BG/NBD likelihood's mixture: alive at ``T``, and dropped out
    after the last purchase at ``t_x`` (-inf without repeat purchases)."""
    r, alpha, a, b = params
    a3 = -(r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a3, a4


class BetaGeo(TransactionModel):
    """BG/NBD: Poisson purchasing while alive, geometric drop-out after each repeat purchase.

    Heterogeneity: purchase rate ~ Gamma(r, alpha), drop-out probability ~ Beta(a, b).
    Time is in whatever unit ``recency`` and ``T`` use (weeks on CDNOW).

    Parameters
    ----------
    penalizer_coef : float, default 0.0
        L2 penalty on the parameters (0 = plain maximum likelihood).

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel.models import BetaGeo
    >>> m = BetaGeo().fit(frequency=[0, 1, 2, 0, 5, 1], recency=[0, 3.0, 5, 0, 9, 1],
    ...                   T=[10.0, 10, 10, 10, 10, 10])
    >>> sorted(m.params_)
    ['a', 'alpha', 'b', 'r']
    >>> bool(0 < m.probability_alive(2, 5.0, 10.0)[0] <= 1)
    True
    """

    _names = ("r", "alpha", "a", "b")
    _features = (
        *gamma_features("r", "alpha", "purchase rates"),
        *beta_features("a", "b", "drop-out probabilities"),
    )

    @staticmethod
    def _loglik_terms(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3, a4 = _bg_branches(params, x, t_x, big_t)
        out: FloatArray = a1 + a2 + np.logaddexp(a3, a4)
        return out

    @staticmethod
    def _loglik_grad(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        """Per-customer gradient of the log-likelihood in (r, alpha, a, b)."""
        r, alpha, a, b = params
        a3, a4 = _bg_branches(params, x, t_x, big_t)
        w4 = expit(a4 - a3)
        w3 = 1.0 - w4
        dr = (
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - w3 * np.log(alpha + big_t)
            - w4 * np.log(alpha + t_x)
        )
        dalpha = r / alpha - (r + x) * (w3 / (alpha + big_t) + w4 / (alpha + t_x))
        dab = digamma(a + b) - digamma(a + b + x)
        da = dab + w4 / a
        db = dab + digamma(b + x) - digamma(b) - w4 / np.maximum(b + x - 1, 1e-300)
        return np.column_stack([dr, dalpha, da, db])

    def _value_and_gradient(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]] | None:
        """Weighted log-likelihood and gradient in one pass.

        Terms that depend on the frequency only (gammaln, betaln, digamma) are evaluated once per
        distinct frequency; customers without repeat purchases need no mixture term.
        """
        xs, inv = np.unique(x, return_inverse=True)
        wx = np.bincount(inv.ravel(), weights=w, minlength=xs.shape[0])
        w_all = float(np.sum(w))
        zero = x == 0
        w0, t0 = w[zero], big_t[zero]
        pos = ~zero
        wp, xp, tp, bigp = w[pos], x[pos], t_x[pos], big_t[pos]

        k = xs.shape[0]
        base = np.concatenate([xs, xs, xs, np.zeros(3)])
        reps = np.array([k, k, k, 1, 1, 1])

        def fused(params: FloatArray) -> tuple[float, FloatArray]:
            r, alpha, a, b = (float(v) for v in params)
            # frequency-only terms, once per distinct x, in one gammaln and one digamma call:
            # arguments r + x, b + x, a + b + x, then r, b, a + b
            arg = base + np.repeat(np.array([r, b, a + b, r, b, a + b]), reps)
            gl = gammaln(arg)
            dg = digamma(arg)
            log_alpha = np.log(alpha)
            val = float(
                wx @ (gl[:k] + gl[k : 2 * k] - gl[2 * k : 3 * k])
                + w_all * (gl[3 * k + 2] - gl[3 * k] - gl[3 * k + 1] + r * log_alpha)
            )
            d_ab = dg[3 * k + 2] - dg[2 * k : 3 * k]
            dr = float(wx @ dg[:k]) + w_all * (log_alpha - dg[3 * k])
            dalpha = w_all * r / alpha
            da = float(wx @ d_ab)
            db = float(wx @ (d_ab + dg[k : 2 * k])) - w_all * dg[3 * k + 1]
            # no repeat purchases: log-likelihood term -r log(alpha + T)
            l0 = np.log(alpha + t0)
            val -= r * float(w0 @ l0)
            dr -= float(w0 @ l0)
            dalpha -= r * float(w0 @ (1.0 / (alpha + t0)))
            # repeat purchasers: a3 + log(1 + exp(a4 - a3))
            lt, lx = np.log(alpha + bigp), np.log(alpha + tp)
            rxp = r + xp
            bxm = np.maximum(b + xp - 1.0, 1e-300)
            dlt = lt - lx
            diff = np.log(a) - np.log(bxm) + rxp * dlt
            w4 = expit(diff)
            val += float(wp @ (np.logaddexp(0.0, diff) - rxp * lt))
            dr += float(wp @ (w4 * dlt - lt))
            dalpha -= float(wp @ (rxp * ((1.0 - w4) / (alpha + bigp) + w4 / (alpha + tp))))
            da += float(wp @ w4) / a
            db -= float(wp @ (w4 / bxm))
            return val, np.array([dr, dalpha, da, db])

        return fused

    def _alive_log_odds_inv(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._p()
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(
                x > 0,
                np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x)),
                -np.inf,
            )
        return np.asarray(term, dtype=np.float64)

    def _a_near_one(self) -> tuple[BetaGeo, BetaGeo] | None:
        """Copies with a = 1 -/+ 1e-6 when a is within 1e-7 of 1 (see :func:`straddle_one`)."""
        return straddle_one(self, "a")

    def probability_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """P(alive at T | x, t_x, T)."""
        x, t_x, big_t = validate_history(frequency, recency, T, allow_empty=True)
        return np.asarray(expit(-self._alive_log_odds_inv(x, t_x, big_t)), dtype=np.float64)

    def expected_purchases(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t]."""
        pair = self._a_near_one()
        if pair is not None:
            return 0.5 * (pair[0].expected_purchases(t) + pair[1].expected_purchases(t))
        r, alpha, a, b = self._p()
        tt = as_float_array("t", t)
        f = _hyp2f1_neg(r, a - 1, a + b - 1, -tt / alpha)
        return _or_mixture((a + b - 1) / (a - 1) * (1 - f), r, alpha, a, b, tt)

    def conditional_expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] given the history."""
        pair = self._a_near_one()
        if pair is not None:
            lo, hi = (m.conditional_expected_purchases(t, frequency, recency, T) for m in pair)
            return 0.5 * (lo + hi)
        r, alpha, a, b = self._p()
        x, t_x, big_t = validate_history(frequency, recency, T, allow_empty=True)
        tt = as_float_array("t", t)
        broadcastable("conditional_expected_purchases()", t=tt, frequency=x)
        # a + b + x - 1 for BG/NBD; MBG/NBD's extra chance to drop out makes it a + b + x
        c = a + b + x - (1 - self._geometric_shift)
        f = _hyp2f1_neg(r + x, a - 1, c, -tt / (alpha + big_t))
        # given alive, the rate is Gamma(r + x, alpha + T) and the drop-out chance
        # Beta(a, b + x) (Beta(a, b + x + 1) for MBG/NBD)
        num = _or_mixture(
            c / (a - 1) * (1 - f), r + x, alpha + big_t, a, b + x + self._geometric_shift, tt
        )
        return np.asarray(num * expit(-self._alive_log_odds_inv(x, t_x, big_t)), dtype=np.float64)

    def probability_of_purchases(self, n: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer (Fader, Hardie & Lee 2005, eq. 8)."""
        r, alpha, a, b = self._p()
        k = _purchase_counts(n)
        tt = as_float_array("t", t)
        p = alpha / (alpha + tt)
        first = np.exp(betaln(a, b + k) - betaln(a, b)) * nbinom.pmf(k, r, p)
        with np.errstate(invalid="ignore"):
            second = np.where(
                k > 0,
                np.exp(betaln(a + 1, b + np.maximum(k, 1) - 1) - betaln(a, b))
                * nbinom.sf(k - 1, r, p),
                0.0,
            )
        return np.asarray(first + second, dtype=np.float64)

    def sample(
        self, n: int, *, T: float, random_state: int | np.random.Generator | None = None
    ) -> RFMSummary:
        """Simulate ``n`` customers observed for ``T`` time units after their first purchase."""
        n = sample_size(n)
        T = observation_length(T)
        rng = _rng(random_seed(random_state, "sample()", "random_state"))
        r, alpha, a, b = self._p()
        lam = rng.gamma(r, 1.0 / alpha, size=n)
        p = np.clip(rng.beta(a, b, size=n), 1e-12, 1.0)
        cap = rng.geometric(p) - self._geometric_shift
        return _simulate(rng, lam, np.full(n, float(T)), cap)

    #: 1 where a customer may drop out right after the first purchase (MBG/NBD), else 0.
    _geometric_shift = 0


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: as BG/NBD, but customers may also drop out right after the first purchase.

    Examples
    --------
    >>> from cxmodel.models import ModifiedBetaGeo
    >>> m = ModifiedBetaGeo(penalizer_coef=0.01).fit(
    ...     frequency=[0, 1, 2, 0, 5, 1], recency=[0, 3.0, 5, 0, 9, 1], T=[10.0] * 6)
    >>> bool(m.probability_alive(0, 0, 10.0)[0] < 1)
    True
    """

    _names = ("r", "alpha", "a", "b")
    _geometric_shift = 1

    def _value_and_gradient(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]] | None:
        return None  # the per-customer terms and gradient below are used as they are

    @staticmethod
    def _loglik_terms(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x + 1) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + big_t)
        a4 = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        out: FloatArray = a1 + a2 + a3 + np.logaddexp(a4, 0.0)
        return out

    @staticmethod
    def _loglik_grad(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        """Per-customer gradient of the log-likelihood in (r, alpha, a, b)."""
        r, alpha, a, b = params
        la, lt = np.log(alpha + big_t), np.log(alpha + t_x)
        q = expit(np.log(a) - np.log(b + x) + (r + x) * (la - lt))
        dr = digamma(r + x) - digamma(r) + np.log(alpha) - la + q * (la - lt)
        dalpha = (
            r / alpha
            - (r + x) / (alpha + big_t)
            + q * (r + x) * (1 / (alpha + big_t) - 1 / (alpha + t_x))
        )
        dab = digamma(a + b) - digamma(a + b + x + 1)
        da = dab + q / a
        db = dab + digamma(b + x + 1) - digamma(b) - q / (b + x)
        return np.column_stack([dr, dalpha, da, db])

    def _alive_log_odds_inv(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._p()
        term = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        return np.asarray(term, dtype=np.float64)

    def expected_purchases(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected repeat purchases of a new customer in (0, t]."""
        pair = self._a_near_one()
        if pair is not None:
            return 0.5 * (pair[0].expected_purchases(t) + pair[1].expected_purchases(t))
        r, alpha, a, b = self._p()
        tt = as_float_array("t", t)
        f = _hyp2f1_neg(r, a - 1, a + b, -tt / alpha)
        return _or_mixture(b / (a - 1) * (1 - f), r, alpha, a, b, tt, survive_first=True)

    def probability_of_purchases(self, n: npt.ArrayLike, t: npt.ArrayLike) -> FloatArray:
        """P(X(t) = n) for a new customer (Batislam et al. 2007)."""
        r, alpha, a, b = self._p()
        k = _purchase_counts(n)
        tt = as_float_array("t", t)
        p = alpha / (alpha + tt)
        first = np.exp(betaln(a, b + k + 1) - betaln(a, b)) * nbinom.pmf(k, r, p)
        second = np.exp(betaln(a + 1, b + k) - betaln(a, b)) * nbinom.sf(k - 1, r, p)
        return np.asarray(first + second, dtype=np.float64)


def _simulate(
    rng: np.random.Generator, lam: Any, window: Any, cap: Any, big_t: Any = None
) -> RFMSummary:
    """Poisson purchasing at rate ``lam`` for ``window``, at most ``cap`` repeat purchases."""
    window = np.asarray(window, dtype=np.float64)
    big_t = window if big_t is None else np.asarray(big_t, dtype=np.float64)
    n_arr = rng.poisson(lam * window)
    x = np.minimum(n_arr, cap).astype(np.float64)
    pos = x > 0
    rec = np.zeros_like(x)
    rec[pos] = window[pos] * rng.beta(x[pos], n_arr[pos] - x[pos] + 1)
    ids = np.array([str(i) for i in range(x.shape[0])], dtype=object)
    return RFMSummary(
        customer_id=ids,
        frequency=x,
        recency=rec,
        T=big_t.copy(),
        monetary_value=np.zeros_like(x),
        freq="",
    )
