"""Which coefficients of a regression the data determine: constant or collinear covariates
(refused before fitting), and estimates that ran off to infinity (found after fitting)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cxmodel._stats import LARGE
from cxmodel.errors import DataError
from cxmodel.models._base import FloatArray
from cxmodel.models._newton import NewtonFit

__all__ = ["check_identifiable", "column_means", "infinite_coefficients", "infinite_estimates"]

#: Singular values of the column-normalised centred design below this share of the largest
#: mean a combination of covariates is constant up to rounding.
_RANK_TOLERANCE = 1e-10


def _combination(weights: FloatArray, names: Sequence[str]) -> str:
    """``1 x - 0.5 y`` for the covariates with a visible weight (the largest scaled to 1)."""
    scaled = weights / weights[np.argmax(np.abs(weights))]
    terms = [(float(w), n) for w, n in zip(scaled, names) if abs(w) > 1e-6]
    out = f"{terms[0][0]:.4g} {terms[0][1]}"
    for w, name in terms[1:]:
        out += f" {'-' if w < 0 else '+'} {abs(w):.4g} {name}"
    return out


def column_means(design: FloatArray) -> FloatArray:
    """The mean of each column of ``design``, finite for any finite values: a column past
    1e100 is divided by its largest magnitude before it is summed (two values of 1e308 add up
    to inf).

    Examples
    --------
    >>> column_means(np.array([[1e308, 1.0], [1e308, 3.0]])).tolist()
    [1e+308, 2.0]
    """
    unit = _column_units(design)
    out: FloatArray = (design / unit).mean(axis=0) * unit
    return out


def _column_units(design: FloatArray) -> FloatArray:
    """Per column of ``design``, its largest magnitude when past ``LARGE`` (1e100), else 1:
    dividing by it keeps the column's sums finite."""
    largest = np.max(np.abs(design), axis=0, initial=0.0)
    unit: FloatArray = np.where(largest > LARGE, largest, 1.0)
    return unit


def check_identifiable(
    design: FloatArray,
    names: Sequence[str],
    where: str,
    *,
    periods: npt.NDArray[np.intp] | None = None,
) -> None:
    """Refuse covariates whose coefficients no data can determine, without a penalty.

    A model without an intercept column of its own (Cox: the baseline hazard absorbs one)
    cannot estimate the coefficient of a constant covariate, nor split an effect between
    covariates of which some combination is constant: any split fits equally well, and an
    optimiser would return an arbitrary one with enormous standard errors. ``design`` has one
    row per subject (or stretch of follow-up) and one column per covariate. A model with a
    baseline per period (a discrete hazard) absorbs anything that is constant within each
    period: pass each row's period as ``periods``.

    Raises
    ------
    DataError
        Naming the constant covariate, or the covariates of a constant combination and the
        combination.

    Examples
    --------
    >>> check_identifiable(np.array([[1.0, 2.0], [2.0, 4.0], [4.0, 8.0]]), ["visits", "pages"], "f()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): covariates 'visits', 'pages' are collinear (1 visits - 0.5 pages is the same in every row, up to rounding): their coefficients cannot be told apart; drop one of them or fit with penalizer > 0
    >>> check_identifiable(np.array([[1.0], [1.0], [3.0]]), ["tenure"], "f()",
    ...                    periods=np.array([0, 0, 1]))
    Traceback (most recent call last):
    ...
    cxmodel.errors.DataError: f(): covariate 'tenure' is the same in every row of each period: the period baselines absorb it, so it has no coefficient to estimate; drop it
    """
    if design.shape[1] == 0 or design.shape[0] == 0:
        return
    group = np.zeros(design.shape[0], dtype=np.intp) if periods is None else periods
    same = "the same in every row" if periods is None else "the same in every row of each period"
    flat = _flat_within(design, group)
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        absorbed = (
            "a model whose baseline absorbs any constant has no coefficient to estimate for it"
            if periods is None
            else "the period baselines absorb it, so it has no coefficient to estimate"
        )
        raise DataError(f"{where}: covariate {names[j]!r} is {same}: {absorbed}; drop it")
    with np.errstate(over="ignore", invalid="ignore"):
        centred = _centred_within(design, group)
    if not np.isfinite(centred).all():
        return  # values spread past the float range: the fit refuses them as it overflows
    # each column divided by its largest deviation first: squares of values past 1e154 overflow
    largest = np.max(np.abs(centred), axis=0)
    scaled = centred / largest
    lengths = np.sqrt(np.einsum("ij,ij->j", scaled, scaled))
    unit = scaled / lengths
    # fewer rows than covariates: the full V holds the directions no row reaches
    _, singular, vt = np.linalg.svd(unit, full_matrices=unit.shape[0] < unit.shape[1])
    if singular.size < unit.shape[1] or singular[-1] < _RANK_TOLERANCE * singular[0]:
        null = vt[-1] / lengths / largest  # back to the covariates' own units
        involved = np.flatnonzero(np.abs(vt[-1]) > 1e-6).tolist()
        order = sorted(involved, key=lambda j: -abs(float(null[j])))
        listed = ", ".join(repr(names[j]) for j in involved)
        raise DataError(
            f"{where}: covariates {listed} are collinear "
            f"({_combination(null[order], [names[j] for j in order])} is {same}, up to "
            "rounding): their coefficients cannot be told apart; drop one of them or fit "
            "with penalizer > 0"
        )


def _flat_within(design: FloatArray, group: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
    """Mask of the columns of ``design`` that take one value within each group (exactly)."""
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    rows = design[order]
    high = np.maximum.reduceat(rows, starts, axis=0)
    low = np.minimum.reduceat(rows, starts, axis=0)
    out: npt.NDArray[np.bool_] = (high == low).all(axis=0)
    return out


def _centred_within(design: FloatArray, group: npt.NDArray[np.intp]) -> FloatArray:
    """``design`` less the mean of each column within each row's group."""
    unit = _column_units(design)
    x = design / unit
    counts = np.bincount(group).astype(np.float64)
    means = (
        np.column_stack(  # one bincount per covariate, not a loop over rows
            [np.bincount(group, weights=x[:, j], minlength=counts.size) for j in range(x.shape[1])]
        )
        / np.maximum(counts, 1.0)[:, None]
    )
    out: FloatArray = (x - means[group]) * unit
    return out


def infinite_coefficients(
    coef: FloatArray, covariance: FloatArray, gradient: FloatArray, tol: float
) -> npt.NDArray[np.bool_]:
    """Mask of coefficients whose maximum likelihood estimate is infinite.

    At a finite optimum the next Newton step, ``covariance @ gradient``, is far below the
    convergence tolerance. When the likelihood keeps rising as a coefficient grows (a
    covariate separates events from non-events) the gradient vanishes while the variance
    explodes, and the next step stays large: flagged where it exceeds ``tol`` and
    ``sqrt(tol)`` times the coefficient (the test of R's ``coxph``). A coefficient whose
    variance cannot be computed is flagged too.

    Examples
    --------
    >>> infinite_coefficients(np.array([0.5, -29.7]), np.diag([0.01, 2.6e12]),
    ...                       np.array([1e-13, 3.8e-13]), 1e-9).tolist()
    [False, True]
    """
    if coef.size == 0:
        return np.zeros(0, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.abs(covariance @ gradient)
    out: npt.NDArray[np.bool_] = ~np.isfinite(step) | (
        (step > tol) & (step > np.sqrt(tol) * np.abs(coef))
    )
    return out


def infinite_estimates(
    fit: NewtonFit, cov: FloatArray, names: Sequence[str], tol: float, objective: str
) -> NewtonFit:
    """``fit``, marked unconverged when the ``objective`` (``"likelihood"``) was still rising
    along some coefficient (its estimate is infinite: the gradient vanished, not the step),
    or is flat along it (no information: a coefficient that never left 0 has no curvature,
    so the data do not determine it); the message names them. ``names`` has one name per
    coefficient of ``fit.theta``.

    Examples
    --------
    >>> fit = NewtonFit(np.array([0.5, 0.0]), -3.0, np.zeros(2), np.diag([-100.0, 0.0]),
    ...                 True, 4, "converged")
    >>> out = infinite_estimates(fit, np.full((2, 2), np.nan), ["a", "b"], 1e-9, "likelihood")
    >>> out.converged, out.message
    (False, "stopped with the likelihood flat along 'b', which the data do not determine,")
    """
    infinite = infinite_coefficients(fit.theta, cov, fit.gradient, tol)
    if not infinite.any():
        return fit
    if not np.isfinite(cov).all():
        # no covariance (-hessian singular): the coefficients along which the likelihood has
        # no curvature (its near-null eigenvectors) are those, not every coefficient
        values, vectors = np.linalg.eigh(-fit.hessian)
        null = vectors[:, values <= 1e-8 * max(float(values.max()), 0.0)]
        if null.size:
            infinite = np.linalg.norm(null, axis=1) > 1e-3
    # flat: no curvature where the fit started (a coefficient starts at 0 and never moved),
    # while an estimate running off to infinity leaves 0 far behind
    curvature = np.abs(np.diag(fit.hessian))
    flat = infinite & (curvature <= 1e-10 * (1.0 + float(curvature.max())))
    flat &= np.abs(fit.theta) <= tol
    parts = []
    for mask, text in (
        (
            infinite & ~flat,
            "still rising along {}, whose estimate is infinite, not the value reached,",
        ),
        (flat, "flat along {}, which the data do not determine,"),
    ):
        if mask.any():
            which = ", ".join(
                f"{names[j]!r}" + ("" if flat[j] else f" (at {fit.theta[j]:+.3g})")
                for j in np.flatnonzero(mask).tolist()
            )
            parts.append(f"the {objective} " + text.format(which))
    return fit._replace(converged=False, message="stopped with " + " and ".join(parts))
