"""Shared machinery of the customer-value estimators: validation, multi-start fitting, Hessian."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
from scipy.optimize import OptimizeResult, minimize

from cxmodel._arguments import got, integer
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel.errors import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    NotFittedError,
    ValueTypeError,
)
from cxmodel.models._boundary import Feature, outward_direction, run_off_message

__all__ = [
    "Convergence",
    "FloatArray",
    "as_float_array",
    "broadcastable",
    "check_fitted",
    "check_information",
    "fit_columns",
    "maximise_likelihood",
    "sample_size",
    "standard_errors",
    "straddle_one",
    "whole_numbers",
]

FloatArray = npt.NDArray[np.float64]


@attrs.frozen(repr=False)
class Convergence(Result):
    """Diagnostics of a maximum-likelihood fit.

    Attributes
    ----------
    converged : bool
        Whether the best start met the gradient test (or stopped at float64 precision with a
        gradient within 100 times it) at a maximum: for the customer-value models, a point
        from which the log-likelihood falls outwards along every probe (see
        :func:`maximise_likelihood`), not a stop on the way to a limit the data do not
        determine. When false, the fit warned :class:`~cxmodel.errors.ConvergenceWarning`.
    iterations : int
        Optimiser iterations of the best start.
    gradient_norm : float
        Norm of the gradient (log-parameter space) at the optimum.
    n_starts : int
        Starting points tried (they are tried in order until one converges).
    message : str
        Optimiser message of the best start.
    unbounded : tuple of str
        The parameters of a customer-value model that run off towards 0 or infinity, where
        the likelihood keeps rising (or stays level) towards a limit the data do not
        determine: ``converged`` is false, and the predictions are close to those of the
        limit. Empty at a maximum, and for the regression models (their warning names an
        infinite coefficient).
    """

    converged: bool
    iterations: int
    gradient_norm: float
    n_starts: int
    message: str
    unbounded: tuple[str, ...] = ()


def check_fitted(model: object, attribute: str = "params_") -> None:
    """Raise :class:`NotFittedError` unless ``model`` has ``attribute``."""
    if getattr(model, attribute, None) is None:
        raise NotFittedError(
            f"This {type(model).__name__} instance is not fitted yet. Call 'fit' first."
        )


def check_information(
    x: FloatArray, age: FloatArray, w: FloatArray | None, model: str, *, age_name: str = "T"
) -> None:
    """Refuse histories whose likelihood cannot identify the parameters.

    No customer with a positive weight; every ``age`` (``T``, or BG/BB's ``n_periods``) 0, a
    flat likelihood; or no repeat purchase at all, where the likelihood is largest on the
    boundary of a zero purchase rate (or chance) and the drop-out parameters barely enter it.
    Each is a :class:`~cxmodel.errors.DataError` with the count of customers.
    """
    counted = np.ones(x.shape[0], dtype=bool) if w is None else w > 0
    if not counted.any():
        raise DataError(
            f"{model}.fit(): every one of the {x.shape[0]} weights is 0, so no customer counts "
            "and any parameters would fit equally well; give at least one customer a weight > 0"
        )
    n = int(counted.sum())
    if np.all(age[counted] == 0):
        raise DataError(
            f"{model}.fit(): every one of the {n} customers has {age_name} = 0 (observed for no "
            "time after their first purchase), so the data say nothing about purchase or "
            f"dropout rates and any parameters would fit equally well; measure {age_name} up to "
            "the end of the observation period (rfm_summary(log, as_of=...)) or fit on customers "
            "observed for some time"
        )
    if np.all(x[counted] == 0):
        raise DataError(
            f"{model}.fit(): none of the {n} customers made a repeat purchase (every frequency "
            "is 0), so the likelihood is largest where the purchase rate is 0 and says nothing "
            "about drop-out: no parameters are estimable; fit on a longer observation period, "
            "or check that frequency counts repeat purchases (rfm_summary of the purchase kind)"
        )


class _Fitted(Protocol):
    params_: dict[str, float] | None


_M = TypeVar("_M", bound=_Fitted)


def straddle_one(model: _M, name: str) -> tuple[_M, _M] | None:
    """Copies of the fitted ``model`` with the parameter ``name`` at 1 -/+ 1e-6 when it is
    within 1e-7 of 1, where the closed forms are 0/0; ``None`` otherwise.

    The expectations are smooth in the parameter, so the mean over the two copies is the
    limit to ~1e-12.
    """
    check_fitted(model)
    assert model.params_ is not None
    if abs(model.params_[name] - 1.0) >= 1e-7:
        return None
    lo, hi = type(model)(), type(model)()
    lo.params_ = {**model.params_, name: 1.0 - 1e-6}
    hi.params_ = {**model.params_, name: 1.0 + 1e-6}
    return lo, hi


def broadcastable(where: str, **arrays: FloatArray) -> None:
    """Raise a DataError unless ``arrays`` broadcast together (one value, or one per customer)."""
    try:
        np.broadcast_shapes(*(array.shape for array in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {array.shape}" for name, array in arrays.items())
        raise DataError(
            f"{where}: the shapes {shapes} do not match; give one value or one per customer"
        ) from None


def fit_columns(
    summary: Any,
    given: Mapping[str, npt.ArrayLike | None],
    fields: tuple[str, ...] | None = None,
    caller: str = "fit()",
) -> list[npt.ArrayLike]:
    """The per-customer arrays ``fit`` reads: the ``summary``'s ``fields`` (default: the
    names of ``given``) when a summary is given, else the ``given`` keyword arrays.

    A data frame (pandas, polars: anything with ``columns``) gives its columns of those names,
    so that lifetimes' summary frame, whose ``T`` attribute is its transpose, is read by column.
    ``caller`` names the function in the error.

    Raises :class:`~cxmodel.errors.ValueTypeError` for a summary without those fields and
    :class:`~cxmodel.errors.DataError` when an array is missing.
    """
    if summary is not None:
        fields = tuple(given) if fields is None else fields
        names = getattr(summary, "columns", None)
        if names is not None and not isinstance(names, (str, bytes)):
            try:
                has_columns = all(field in list(names) for field in fields)
            except TypeError:
                has_columns = False
            if has_columns:
                return [summary[field] for field in fields]
        if not all(hasattr(summary, field) for field in fields):
            raise ValueTypeError(
                f"{caller}: summary must be an RFMSummary (from cxmodel.models.rfm_summary) or "
                f"have {', '.join(fields)}; got {got(summary)}"
            )
        columns = [getattr(summary, field) for field in fields]
    else:
        columns = list(given.values())
    if any(column is None for column in columns):
        names = [f"{name}=" for name in given]
        raise DataError(f"fit needs a summary or {', '.join(names[:-1])} and {names[-1]}")
    return columns


def whole_numbers(name: str, value: Any, what: str, where: str, hint: str = "") -> FloatArray:
    """``value`` as :func:`as_float_array` does, refusing a fractional value: a count of
    ``what`` (1.5 purchases mean nothing), with a :class:`~cxmodel.errors.DataError` from
    ``where`` naming the first such value and their number, then ``hint``."""
    arr = as_float_array(name, value)
    fractional = arr != np.round(arr)
    if np.any(fractional):
        raise DataError(
            f"{where}: {name} must be whole numbers of {what}, got "
            f"{float(arr[fractional][0])!r} ({int(fractional.sum())} such values){hint}"
        )
    return arr


def as_float_array(name: str, value: Any, *, nonnegative: bool = True) -> FloatArray:
    """``value`` as a 1-d float64 array, rejecting NaN, infinities and (optionally) negatives."""
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as error:
        raise ValueTypeError(
            f"{name} must be numbers (an array or a list); got {got(value)}"
        ) from error
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise DataError(f"{name} must be finite, got {bad!r}")
    if nonnegative and np.any(arr < 0):
        raise DataError(f"{name} must be >= 0, got {arr[arr < 0][0]!r}")
    return arr


def _numeric_hessian(f: Callable[[FloatArray], float], x: FloatArray) -> FloatArray:
    """Central-difference Hessian of ``f`` at ``x`` (step relative to each coordinate)."""
    k = x.shape[0]
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h[i]
            ej[j] = h[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4.0 * h[i] * h[j]
            )
            out[i, j] = out[j, i] = val
    return out


_LOG_BOUND = 25.0  # parameters are kept within exp(-25) .. exp(25)


def _gradient_hessian(grad: Callable[[FloatArray], FloatArray], x: FloatArray) -> FloatArray:
    """Hessian by central differences of an analytic gradient, symmetrised."""
    k = x.shape[0]
    h = 1e-5 * np.maximum(np.abs(x), 1e-2)
    cols = []
    for i in range(k):
        e = np.zeros(k)
        e[i] = h[i]
        cols.append((grad(x + e) - grad(x - e)) / (2.0 * h[i]))
    out = np.column_stack(cols)
    sym: FloatArray = 0.5 * (out + out.T)
    return sym


def _bfgs(
    fun: Callable[[FloatArray], tuple[float, FloatArray]],
    x0: FloatArray,
    *,
    gtol: float,
    maxiter: int,
    callback: Callable[[], None] | None = None,
) -> OptimizeResult:
    """Plain BFGS with backtracking (Armijo) steps for cheap fused (value, gradient) objectives.

    Stops when the largest gradient component is <= ``gtol`` (scipy's BFGS criterion). The
    curvature update is skipped when s.y <= 0; five steps without decrease stop it (not
    converged, like scipy's precision-loss exit). Avoids scipy's per-iteration Python overhead,
    which exceeded the cost of a 4-parameter fused evaluation. ``callback()`` is called after
    each iteration.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    k = x.shape[0]
    eye = np.eye(k)
    h = eye.copy()
    nit = 0
    message = "Maximum number of iterations has been exceeded."
    success = False
    flat = 0
    for nit in range(1, maxiter + 1):
        if np.max(np.abs(g)) <= gtol:
            success, message = True, "Optimization terminated successfully."
            nit -= 1
            break
        d = -h @ g
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction: reset the curvature estimate
            h = eye.copy()
            d = -g
            slope = float(g @ d)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
            if step < 1e-12:
                break
        if step < 1e-12:
            message = "Desired error not necessarily achieved due to precision loss."
            break
        s_vec = x_new - x
        y = g_new - g
        sy = float(s_vec @ y)
        stalled = f - f_new <= 1e-15 * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        flat = flat + 1 if stalled else 0
        if flat >= 5:  # no decrease over five steps: an optimum on the boundary or noise floor
            message = "Desired error not necessarily achieved due to precision loss."
            break
        if sy > 1e-12:
            if nit == 1:
                h = eye * (sy / float(y @ y))
            rho = 1.0 / sy
            a = eye - rho * np.outer(s_vec, y)
            h = a @ h @ a.T + rho * np.outer(s_vec, s_vec)
        if callback is not None:
            callback()
    return OptimizeResult(x=x, fun=f, jac=g, nit=nit, success=success, message=message)


def standard_errors(
    loglik: Callable[[FloatArray], float],
    params: Mapping[str, float],
    *,
    gradient: Callable[[FloatArray], FloatArray] | None = None,
) -> dict[str, float]:
    """Standard errors from the inverse of the Hessian of ``loglik`` at ``params``.

    The Hessian is numerical (central differences of ``gradient`` when given, of ``loglik``
    otherwise) in the natural parameters; NaN where it is not negative definite.
    """
    names = tuple(params)
    p = np.array([params[n] for n in names], dtype=np.float64)
    with np.errstate(all="ignore"):
        if gradient is not None:
            hess = _gradient_hessian(gradient, p)
        else:
            hess = _numeric_hessian(lambda q: float(loglik(q)), p)
        try:
            cov = np.linalg.inv(-hess)
            diag = np.diag(cov)
            se = np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)
        except np.linalg.LinAlgError:
            se = np.full(len(names), np.nan)
    return {n: float(v) for n, v in zip(names, se)}


def maximise_likelihood(
    loglik: Callable[[FloatArray], float],
    names: tuple[str, ...],
    starts: list[FloatArray],
    *,
    model: str,
    maxiter: int = 2000,
    gradient: Callable[[FloatArray], FloatArray] | None = None,
    exhaustive: bool = False,
    value_and_gradient: Callable[[FloatArray], tuple[float, FloatArray]] | None = None,
    gtol: float = 1e-7,
    callback: Callable[[], None] | None = None,
    features: Sequence[Feature] = (),
    penalizer: bool = True,
) -> tuple[dict[str, float], float, Convergence]:
    """Maximise ``loglik`` (a function of the positive parameters) from several starts.

    Optimises on log-parameters with BFGS (L-BFGS-B's BLAS calls were slower on these 2-4
    parameter problems when other processes share the cores). Starts are tried in order until one converges
    (``exhaustive=True`` runs them all and keeps the best); returns
    ``(params, log_likelihood, convergence)``. ``gradient`` (of the log-likelihood in the
    natural parameters), when given, replaces finite differences; ``value_and_gradient``
    returning both at once (sharing intermediate terms) is used in preference when given.
    ``gtol`` bounds the gradient norm at convergence (log-likelihood divided by its magnitude
    at the first start, log-parameters). ``callback()``, when given, is called after each
    optimiser iteration (from every start), e.g. to advance a progress bar.

    Where the optimiser stops, the log-likelihood is probed outwards
    (:func:`~cxmodel.models._boundary.outward_direction`): each log-parameter, and each pair
    of one feature's parameters (one mixing distribution's; every pair without features)
    together, moved by 1 either way. A direction along which it does not fall makes
    the point no maximum but a stop on the way to a limit the data do not determine (r and
    alpha growing without bound at a fixed ratio, a drop-out probability tending to 0),
    however flat the gradient: such a fit is not converged, ``Convergence.unbounded`` names
    the parameters running off, and so does the warning, with those of the ``features`` of
    the population that move with them. ``penalizer`` says whether the model takes a
    ``penalizer_coef``, which the warning then suggests for parameters growing without
    bound.

    Raises
    ------
    ConvergenceError
        When no start reaches a finite likelihood.

    Warns
    -----
    ConvergenceWarning
        When no start converged (see :class:`Convergence`), or the likelihood does not fall
        outwards from where it stopped: the best finite point is returned, with
        ``Convergence.converged`` false.
    """
    scale = 1.0

    def objective(theta: FloatArray) -> float:
        if np.any(np.abs(theta) > _LOG_BOUND):
            return 1e300
        with np.errstate(all="ignore"):
            val = loglik(np.exp(theta))
        return -val / scale if np.isfinite(val) else 1e300

    def objective_and_jac(theta: FloatArray) -> tuple[float, FloatArray]:
        if np.any(np.abs(theta) > _LOG_BOUND):
            return 1e300, np.zeros_like(theta)
        p = np.exp(theta)
        with np.errstate(all="ignore"):
            if value_and_gradient is not None:
                val, g = value_and_gradient(p)
                g = g * p
            else:
                assert gradient is not None
                val = loglik(p)
                g = gradient(p) * p
        if not np.isfinite(val) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(theta)
        return -val / scale, -g / scale

    use_jac = gradient is not None or value_and_gradient is not None
    with np.errstate(all="ignore"):
        first = loglik(np.exp(starts[0]))
    scale = max(abs(first), 1.0) if np.isfinite(first) else 1.0
    best: Any = None
    failures: list[str] = []
    tried = 0
    for start in starts:
        tried += 1
        # degenerate data can send the curvature update out of range: such a step is no
        # optimum (checked below), not a floating-point warning for the caller
        with np.errstate(all="ignore"):
            if value_and_gradient is not None:
                res = _bfgs(objective_and_jac, start, gtol=gtol, maxiter=maxiter, callback=callback)
            else:
                res = minimize(
                    objective if not use_jac else objective_and_jac,
                    start,
                    jac=use_jac,
                    method="BFGS",
                    options={"maxiter": maxiter, "gtol": gtol},
                    callback=None if callback is None else (lambda _xk: callback()),
                )
        if not np.isfinite(res.fun) or res.fun >= 1e299 or not np.all(np.isfinite(res.x)):
            with np.errstate(all="ignore"):
                shown = [float(f"{v:.4g}") for v in np.exp(start).tolist()]
            failures.append(f"start {shown}: {res.message}")
            continue
        if best is None or res.fun < best.fun:
            best = res
        if res.success and not exhaustive:
            break
    if best is None:
        raise ConvergenceError(
            f"{model}: the likelihood could not be maximised from any of {len(starts)} starts",
            diagnostics=failures,
        )
    theta = np.asarray(best.x, dtype=np.float64)
    with np.errstate(all="ignore"):
        params = np.exp(theta)
        ll = float(loglik(params))
    if not (np.all(np.isfinite(params)) and np.isfinite(ll)):
        raise ConvergenceError(
            f"{model}: the likelihood has no finite maximum on these data (the parameters "
            "run off to 0 or infinity); check the summary for degenerate values",
            diagnostics=failures,
        )
    grad = np.asarray(getattr(best, "jac", np.zeros_like(theta)), dtype=np.float64) * scale
    # BFGS often stops on "precision loss" at the optimum: the likelihood cannot improve in
    # float64 although the gradient is just above gtol. A gradient within 100 x gtol counts as
    # converged then; a larger one (a drift towards a boundary, an iteration cap) does not.
    scaled = np.asarray(getattr(best, "jac", np.zeros_like(theta)), dtype=np.float64)
    at_optimum = bool(best.success) or (
        "precision loss" in str(best.message) and float(np.max(np.abs(scaled))) <= 100 * gtol
    )
    # a parameter at the edge of the search range is where the likelihood kept rising
    # towards 0 or infinity: the data do not pin it down, whatever the gradient says; short of
    # the edge, a likelihood that does not fall outwards says the same
    edge = [n for n, t in zip(names, theta.tolist(), strict=True) if abs(t) > _LOG_BOUND - 0.5]
    index = {name: j for j, name in enumerate(names)}
    pairs = sorted(
        {
            (index[a], index[b])
            for feature in features
            for a, b in itertools.combinations(feature.names, 2)
            if a in index and b in index
        }
    )
    outward = outward_direction(loglik, theta, bound=_LOG_BOUND, pairs=pairs or None)
    direction = np.zeros_like(theta) if outward is None else outward
    direction = np.where([n in edge for n in names], np.sign(theta), direction)
    with np.errstate(all="ignore"):  # a huge gradient's norm is inf, not a warning
        gradient_norm = float(np.linalg.norm(grad))
    conv = Convergence(
        converged=at_optimum and not direction.any(),
        iterations=int(best.nit),
        gradient_norm=gradient_norm,
        n_starts=tried,
        message=str(best.message),
        unbounded=tuple(n for n, d in zip(names, direction.tolist()) if d),
    )
    fitted = {n: float(v) for n, v in zip(names, params)}
    if conv.unbounded:
        warn(
            run_off_message(model, fitted, direction, edge, features, penalizer=penalizer),
            ConvergenceWarning,
        )
    elif not conv.converged:
        remedy = "more customers, a longer observation period or penalizer_coef > 0"
        if not penalizer:
            remedy = "more customers or a longer observation period"
        warn(
            f"{model}: the fit did not converge from any of {len(starts)} starts "
            f"({conv.message!r}, gradient norm {conv.gradient_norm:.3g} after "
            f"{conv.iterations} iterations); the parameters are the best point found and may "
            f"sit on a boundary. See the model's convergence_; {remedy} usually help",
            ConvergenceWarning,
        )
    return fitted, ll, conv


def compress(*columns: FloatArray, weights: FloatArray | None = None) -> tuple[FloatArray, ...]:
    """Unique rows of ``columns`` (lexicographic order) and their summed weights (last element)."""
    n = columns[0].shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return (*(np.asarray(c, dtype=np.float64)[:0].copy() for c in columns), w[:0].copy())
    order = np.lexsort(columns[::-1])
    sorted_cols = [np.asarray(c, dtype=np.float64)[order] for c in columns]
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for c in sorted_cols:
        new[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(new)
    counts = np.add.reduceat(w[order], starts)
    return (*(c[starts] for c in sorted_cols), counts)


def params_repr(name: str, params: Mapping[str, float] | None) -> str:
    """``Name(r=0.243, ...)`` or ``Name(unfitted)``."""
    if params is None:
        return f"{name}(unfitted)"
    inner = ", ".join(f"{k}={v:.4g}" for k, v in params.items())
    return f"{name}({inner})"


def sample_size(n: object) -> int:
    """``n`` of ``sample()``: 0 to 10,000,000 customers (a summary row each, in memory)."""
    count = integer(n, "sample()", "n", minimum=0)
    if count > 10_000_000:
        raise DataError(f"sample(): n must be at most 10,000,000 customers; got {count:,}")
    return count
