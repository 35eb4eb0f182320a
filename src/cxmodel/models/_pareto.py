"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), numerically safe form (Fader & Hardie)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.special import expit, gammaln, hyp2f1

from cxmodel._arguments import random_seed
from cxmodel.models._base import FloatArray, as_float_array, sample_size
from cxmodel.models._betageo import _simulate, observation_length
from cxmodel.models._boundary import gamma_features
from cxmodel.models._rfm import RFMSummary
from cxmodel.models._transaction import TransactionModel, validate_history

__all__ = ["ParetoNBD"]


def _log_a0(
    params: FloatArray | tuple[float, ...], x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> FloatArray:
    """log A_0 of Fader & Hardie's note, with Pfaff's transform so no 2F1 can overflow."""
    r, alpha, s, beta = params
    rsx = r + s + x
    if alpha < beta:
        lo, hi, b_arg = alpha, beta, r + x
    else:
        lo, hi, b_arg = beta, alpha, s + 1.0 + 0 * x
    diff = hi - lo

    def log_term(u: FloatArray) -> FloatArray:
        # log[ 2F1(rsx, b; rsx+1; z) / (hi+u)^rsx ], z = diff/(hi+u), 1-z = (lo+u)/(hi+u)
        # 2F1(a,b;c;z) = (1-z)^-b 2F1(c-a, b; c; z/(z-1)) = (1-z)^-b 2F1(1, b; rsx+1; -diff/(lo+u))
        # and again 2F1(1, b; c; w) = (1-w)^-1 2F1(1, c-b; c; w/(w-1)) so the argument is in [0, 1)
        w = -diff / (lo + u)
        zz = w / (w - 1.0)
        log_f = -np.log1p(-w) + np.log(hyp2f1(1.0, rsx + 1.0 - b_arg, rsx + 1.0, zz))
        out: FloatArray = -b_arg * (np.log(lo + u) - np.log(hi + u)) + log_f - rsx * np.log(hi + u)
        return out

    l1 = log_term(t_x)
    l2 = log_term(big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        res: FloatArray = l1 + np.log(-np.expm1(np.minimum(l2 - l1, 0.0)))
    return res


def _pairs(x: FloatArray, u: FloatArray, v: FloatArray) -> tuple[FloatArray, ...]:
    """Distinct (x, time) pairs over both (x, u) and (x, v), and each row's index into them."""
    n = x.shape[0]
    xx = np.concatenate([x, x])
    uu = np.concatenate([u, v])
    order = np.lexsort((uu, xx))
    xs, us = xx[order], uu[order]
    new = np.ones(2 * n, dtype=bool)
    new[1:] = (xs[1:] != xs[:-1]) | (us[1:] != us[:-1])
    group = np.cumsum(new) - 1
    inv = np.empty(2 * n, dtype=np.intp)
    inv[order] = group
    return xs[new], us[new], inv[:n], inv[n:]


def _batch_loglik(
    params: FloatArray,
    data: tuple[FloatArray, ...],
) -> FloatArray:
    """Weighted log-likelihood for each row of ``params`` (shape (m, 4)), vectorised.

    ``data`` is ``(xs, wx, x, big_t, w, px, pu, inv1, inv2)``: distinct frequencies and their
    weights, the per-history columns and weights, the distinct (x, time) pairs of
    :func:`_pairs` and the indices of (x, recency) and (x, T) into them. Each 2F1 is evaluated
    once per distinct pair for all parameter rows in one call.
    """
    xs, wx, x, big_t, w, px, pu, inv1, inv2 = data
    r, alpha, s, beta = (params[:, i : i + 1] for i in range(4))
    below = alpha < beta
    lo = np.where(below, alpha, beta)
    hi = np.where(below, beta, alpha)
    diff = hi - lo
    rsx = r + s + px
    b_arg = np.where(below, r + px, s + 1.0)
    log_lo, log_hi = np.log(lo + pu), np.log(hi + pu)
    wz = -diff / (lo + pu)
    zz = wz / (wz - 1.0)
    log_term = (
        -b_arg * (log_lo - log_hi)
        - np.log1p(-wz)
        + np.log(hyp2f1(1.0, rsx + 1.0 - b_arg, rsx + 1.0, zz))
        - rsx * log_hi
    )
    l1 = log_term[:, inv1]
    l2 = log_term[:, inv2]
    with np.errstate(divide="ignore", invalid="ignore"):
        la0 = l1 + np.log(-np.expm1(np.minimum(l2 - l1, 0.0)))
    a2 = np.logaddexp(
        -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t),
        np.log(s) - np.log(r + s + x) + la0,
    )
    total = w.sum()
    out: FloatArray = (
        (gammaln(r + xs) @ wx)
        + total * (-gammaln(r[:, 0]) + r[:, 0] * np.log(alpha[:, 0]) + s[:, 0] * np.log(beta[:, 0]))
        + a2 @ w
    )
    return out


_FD_STEP = float(np.sqrt(np.finfo(np.float64).eps))
_FD_STEP_CENTRAL = float(np.cbrt(np.finfo(np.float64).eps))


class ParetoNBD(TransactionModel):
    """Pareto/NBD: Poisson purchasing during an exponential lifetime.

    Heterogeneity: purchase rate ~ Gamma(r, alpha), drop-out rate ~ Gamma(s, beta).

    Examples
    --------
    >>> from cxmodel.models import ParetoNBD
    >>> m = ParetoNBD(penalizer_coef=0.01).fit(frequency=[0, 1, 2, 0, 5, 1], recency=[0, 3.0, 5, 0, 9, 1],
    ...                     T=[10.0] * 6)
    >>> sorted(m.params_)
    ['alpha', 'beta', 'r', 's']
    """

    _names = ("r", "alpha", "s", "beta")
    _features = (
        *gamma_features("r", "alpha", "purchase rates"),
        *gamma_features("s", "beta", "drop-out rates"),
    )
    _gtol = 1e-8  # the (s, beta) ridge is flat: 1e-7 stops ~3e-4 short of the optimum on CDNOW

    @staticmethod
    def _loglik_terms(
        params: FloatArray, x: FloatArray, t_x: FloatArray, big_t: FloatArray
    ) -> FloatArray:
        r, alpha, s, beta = params
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        la0 = _log_a0(params, x, t_x, big_t)
        a2 = np.logaddexp(
            -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t),
            np.log(s) - np.log(r + s + x) + la0,
        )
        out: FloatArray = a1 + a2
        return out

    def _value_and_gradient(
        self, x: FloatArray, t_x: FloatArray, big_t: FloatArray, w: FloatArray
    ) -> Callable[[FloatArray], tuple[float, FloatArray]] | None:
        """Weighted log-likelihood and its forward-difference gradient in one vectorised call.

        The value and the four steps (relative, in log-parameters, as scipy's default) share
        each 2F1 call, which is made once per distinct (x, time) pair.
        """
        xs, inv = np.unique(x, return_inverse=True)
        wx = np.asarray(
            np.bincount(inv.ravel(), weights=w, minlength=xs.shape[0]), dtype=np.float64
        )
        px, pu, inv1, inv2 = _pairs(x, t_x, big_t)
        data = (xs, wx, x, big_t, w, px, pu, inv1, inv2)

        near = 1e-4 * float(np.sum(w))  # switch to central differences below this gradient

        def fused(params: FloatArray) -> tuple[float, FloatArray]:
            theta = np.log(params)
            h = _FD_STEP * np.maximum(1.0, np.abs(theta))
            grid = np.vstack([params, params * np.exp(np.diag(h))])
            vals = _batch_loglik(grid, data)
            grad_theta = (vals[1:] - vals[0]) / h
            if np.all(np.abs(grad_theta) < near):
                # near the optimum the forward-difference bias would shift the flat (s, beta)
                # direction by ~1e-4; central differences remove it
                hc = _FD_STEP_CENTRAL * np.maximum(1.0, np.abs(theta))
                steps = np.exp(np.diag(hc))
                both = _batch_loglik(np.vstack([params * steps, params / steps]), data)
                grad_theta = (both[:4] - both[4:]) / (2.0 * hc)
            return float(vals[0]), grad_theta / params

        return fused

    def _starts(self) -> list[FloatArray]:
        return [np.zeros(4), np.log(np.array([0.5, 10.0, 0.5, 10.0])), np.full(4, 1.0)]

    def probability_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """P(alive at T | x, t_x, T)."""
        r, alpha, s, beta = p = self._p()
        x, t_x, big_t = validate_history(frequency, recency, T, allow_empty=True)
        term = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + big_t)
            + s * np.log(beta + big_t)
            + _log_a0(p, x, t_x, big_t)
        )
        return np.asarray(expit(-term), dtype=np.float64)

    def expected_purchases(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in (0, t]."""
        r, alpha, s, beta = self._p()
        tt = as_float_array("t", t)
        if abs(s - 1.0) < 1e-9:
            return np.asarray(r * beta / alpha * np.log1p(tt / beta), dtype=np.float64)
        return np.asarray(
            r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + tt)) ** (s - 1)), dtype=np.float64
        )

    def conditional_expected_purchases(
        self, t: npt.ArrayLike, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t]."""
        r, alpha, s, beta = self._p()
        x, t_x, big_t = validate_history(frequency, recency, T, allow_empty=True)
        tt = as_float_array("t", t)
        if abs(s - 1.0) < 1e-9:
            life = (beta + big_t) * np.log1p(tt / (beta + big_t))
        else:
            life = (
                (beta + big_t) / (s - 1) * (1 - ((beta + big_t) / (beta + big_t + tt)) ** (s - 1))
            )
        out = (r + x) / (alpha + big_t) * life * self.probability_alive(x, t_x, big_t)
        return np.asarray(out, dtype=np.float64)

    def sample(
        self, n: int, *, T: float, random_state: int | np.random.Generator | None = None
    ) -> RFMSummary:
        """Simulate ``n`` customers observed for ``T`` time units after their first purchase."""
        n = sample_size(n)
        T = observation_length(T)
        rng = np.random.default_rng(random_seed(random_state, "sample()", "random_state"))
        r, alpha, s, beta = self._p()
        lam = rng.gamma(r, 1.0 / alpha, size=n)
        mu = rng.gamma(s, 1.0 / beta, size=n)
        life = rng.exponential(1.0 / np.maximum(mu, 1e-300))
        window = np.minimum(life, float(T))
        cap = np.full(n, np.iinfo(np.int64).max)
        return _simulate(rng, lam, window, cap, np.full(n, float(T)))
