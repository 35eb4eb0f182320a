"""Damped Newton-Raphson for the concave log-likelihoods of the regression models.

:class:`~cxmodel.models.CoxPH` (partial likelihood) and
:class:`~cxmodel.models.DiscreteHazard` (logistic likelihood, i.e. IRLS) both maximise with
full Newton steps, halved until the log-likelihood does not fall, and report the
standard errors from the inverse of the negative Hessian at the optimum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy import linalg

from cxmodel._pieces import warn
from cxmodel.errors import ConvergenceError, ConvergenceWarning
from cxmodel.models._base import FloatArray

__all__ = ["NewtonFit", "inverse_information", "newton_raphson", "warn_unconverged"]

#: The log-likelihood, its gradient and its Hessian at a point.
Evaluation = tuple[float, FloatArray, FloatArray]

_SMALLEST_STEP = 1e-10


class NewtonFit(NamedTuple):
    """Where :func:`newton_raphson` stopped, and why."""

    theta: FloatArray
    log_likelihood: float
    gradient: FloatArray
    hessian: FloatArray
    converged: bool
    iterations: int
    message: str


def newton_raphson(
    evaluate: Callable[[FloatArray], Evaluation],
    start: FloatArray,
    *,
    tol: float,
    max_iter: int,
    objective: str = "likelihood",
    gradient_tol: float = 0.0,
) -> NewtonFit:
    """Maximise the function ``evaluate`` returns (value, gradient, Hessian) from ``start``.

    Each iteration solves ``-H step = g`` (least squares when ``-H`` is singular) and halves
    the step until the value does not fall (to within 1e-12 relative); it stops, converged,
    when no coordinate moves by ``tol`` or more, or when every gradient entry is below
    ``gradient_tol``. It stops unconverged after ``max_iter`` iterations, or when halving
    cannot keep the value from falling (the message names ``objective``).

    Examples
    --------
    >>> import numpy as np
    >>> fit = newton_raphson(
    ...     lambda x: (float(-((x - 3.0) ** 2).sum()), -2 * (x - 3.0), -2 * np.eye(1)),
    ...     np.zeros(1), tol=1e-9, max_iter=10)
    >>> fit.theta.tolist(), fit.converged, fit.iterations
    ([3.0], True, 2)
    """
    # numpy's overflow warnings stay inside: an overflow shows as a value that is not finite,
    # refused below with advice (a ConvergenceError) or halved away in the line search
    with np.errstate(all="ignore"):
        return _maximise(evaluate, start, tol, max_iter, objective, gradient_tol)


def _maximise(
    evaluate: Callable[[FloatArray], Evaluation],
    start: FloatArray,
    tol: float,
    max_iter: int,
    objective: str,
    gradient_tol: float,
) -> NewtonFit:
    """The iterations of :func:`newton_raphson`."""
    theta = start
    ll, grad, hess = evaluate(theta)
    converged = False
    message = "maximum number of iterations reached"
    it = 0
    for it in range(1, max_iter + 1):
        if not (np.isfinite(grad).all() and np.isfinite(hess).all()):
            raise ConvergenceError(
                f"the {objective}'s gradient or curvature overflowed at iteration {it} (values "
                "past 1e308): the covariates are too large to fit as they are; rescale them "
                "(e.g. thousands of euros instead of cents, or standardise)",
                diagnostics={"iteration": it, "theta": theta.tolist()},
            )
        step = _newton_step(hess, grad)
        scale = 1.0
        while True:
            new = theta + scale * step
            ll_new, g_new, h_new = evaluate(new)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * max(1.0, abs(ll)):
                break
            scale *= 0.5
            if scale < _SMALLEST_STEP:
                break
        if scale < _SMALLEST_STEP:
            message = f"step halving could not increase the {objective}"
            break
        change = float(np.max(np.abs(new - theta))) if theta.size else 0.0
        theta, ll, grad, hess = new, ll_new, g_new, h_new
        if change < tol or (theta.size and float(np.max(np.abs(grad))) < gradient_tol):
            converged, message = True, "converged"
            break
    return NewtonFit(theta, ll, grad, hess, converged, it, message)


def _newton_step(hess: FloatArray, grad: FloatArray) -> FloatArray:
    """The solution of ``-hess @ step = grad`` where ``-hess`` is positive definite (its
    Cholesky factor exists), else the least-squares one. numpy's ``solve``, which does not
    warn of an ill-conditioned matrix: near separation it is, and scipy's ``solve`` warned
    at every step."""
    try:
        linalg.cho_factor(-hess)
        step: FloatArray = np.asarray(np.linalg.solve(-hess, grad), dtype=np.float64)
    except (linalg.LinAlgError, np.linalg.LinAlgError, ValueError):
        step = linalg.lstsq(-hess, grad)[0]
    return step


def warn_unconverged(fit: NewtonFit, method: str, hint: str) -> None:
    """Warn :class:`~cxmodel.errors.ConvergenceWarning` when ``fit`` did not converge, at the
    line that called the model's ``fit``: ``method`` names the model and the algorithm,
    ``hint`` says what usually causes it."""
    if not fit.converged:
        warn(
            f"{method} did not converge ({fit.message} after {fit.iterations} iterations); {hint}",
            ConvergenceWarning,
        )


def inverse_information(hessian: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The covariance matrix ``inv(-hessian)`` and the standard errors on its diagonal.

    A standard error is NaN where its variance is not positive; both are all NaN when
    ``-hessian`` cannot be inverted.

    Examples
    --------
    >>> import numpy as np
    >>> cov, se = inverse_information(np.diag([-4.0, 1.0]))
    >>> se.tolist()
    [0.5, nan]
    """
    p = hessian.shape[0]
    try:  # numpy's inverse: scipy's warns of an ill-conditioned matrix, which a huge se shows
        cov: FloatArray = np.asarray(np.linalg.inv(-hessian), dtype=np.float64)
    except (np.linalg.LinAlgError, ValueError):
        return np.full((p, p), np.nan), np.full(p, np.nan)
    diag = np.diag(cov)
    return cov, np.sqrt(np.where(diag > 0, diag, np.nan))
