"""Confidence intervals and tests shared by every analysis.

Normal quantiles and two-sided p-values; the finite population correction; intervals for a
proportion (Wald, adjusted Wald, Wilson), for the difference of two proportions (Newcombe's
hybrid score), for a mean (Student t) and for the difference of two means (Welch). The
``*_bounds`` functions take one value per group (arrays); the ``*_interval`` functions are the
same formulas for one group. The formulas are written out in docs/guide/metrics.md; the
published examples they reproduce are in the doctests.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from cxmodel._arguments import finite_values, float_array, real
from cxmodel.errors import SchemaError

__all__ = [
    "LARGE",
    "Z95",
    "fpc_factor",
    "mean_t_bounds",
    "mean_t_interval",
    "newcombe_bounds",
    "newcombe_interval",
    "pooled_se",
    "proportion_bounds",
    "proportion_interval",
    "sample_moments",
    "two_sided_p",
    "welch_interval",
    "welch_se",
    "welch_se_interval",
    "wilson_bounds",
    "wilson_interval",
    "z_value",
]

FloatArray = npt.NDArray[np.float64]

Z95 = 1.959963984540054
"""The two-sided 95 % standard normal quantile."""

NAN = float("nan")
LARGE = 1e100
"""Past this magnitude a value's square overflows float sums: spreads are computed on the
values divided by their largest."""


def z_value(level: float) -> float:
    """The two-sided standard normal quantile for a confidence ``level`` in (0, 1).

    Raises
    ------
    SchemaError
        When ``level`` is not a number strictly between 0 and 1.

    Examples
    --------
    >>> z_value(0.95) == Z95, round(z_value(0.9), 4)
    (True, 1.6449)
    """
    # a numpy number (np.float32(0.95), a level read from an array) is a number too
    real = isinstance(level, numbers.Real) and not isinstance(level, bool | np.bool_)
    if not (real and 0.0 < float(level) < 1.0):
        hint = (
            f"; did you mean level={float(level) / 100:g} (a share, not a percentage)?"
            if real and 1.0 < float(level) < 100.0
            else ""
        )
        raise SchemaError(
            f"level must be a number in the open interval (0, 1); got {level!r}{hint}"
        )
    return float(stats.norm.ppf(0.5 + float(level) / 2.0))


def two_sided_p(statistic: npt.ArrayLike) -> Any:
    """Two-sided p-value ``2 * P(Z > |statistic|)`` of standard normal statistics, vectorised.

    Returns a float for a scalar and an array for an array; NaN stays NaN.

    Examples
    --------
    >>> round(two_sided_p(1.959963984540054), 6)
    0.05
    """
    p = 2.0 * special.ndtr(-np.abs(np.asarray(statistic, dtype=np.float64)))
    return float(p) if np.ndim(p) == 0 else p


def fpc_factor(n: npt.ArrayLike, population: float | None) -> Any:
    """Finite population correction ``(N - n) / (N - 1)`` of sample sizes ``n``, vectorised.

    It multiplies a variance; 1 for every size when there is no population ``N``. Returns a
    float for a scalar and an array for an array.

    Raises
    ------
    SchemaError
        When the population is smaller than the largest ``n`` or than 2.

    Examples
    --------
    >>> fpc_factor(10, None), fpc_factor(10, 101)
    (1.0, 0.91)
    >>> fpc_factor([0, 50, 101], 101).tolist()
    [1.01, 0.51, 0.0]
    """
    sizes = np.asarray(n, dtype=np.float64)
    if population is None:
        out = np.ones_like(sizes)
    else:
        largest = sizes.max() if sizes.size else 0.0
        if population < largest or population < 2:
            raise SchemaError(
                f"population must be >= the number of answers ({largest:g}) and >= 2; "
                f"got {population!r}"
            )
        out = (population - sizes) / (population - 1.0)
    return float(out) if out.ndim == 0 else out


def wilson_bounds(
    successes: npt.ArrayLike, n: npt.ArrayLike, z: float | FloatArray = Z95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval of proportions, vectorised; NaN where ``n`` is 0.

    ``z`` is one normal quantile or one per proportion.

    Examples
    --------
    >>> low, high = wilson_bounds(170, 200)  # CSAT 170 of 200
    >>> round(float(low), 3), round(float(high), 3)
    (0.794, 0.893)
    """
    k = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / total
        z2 = z * z
        denom = 1 + z2 / total
        centre = (p + z2 / (2 * total)) / denom
        half = z * np.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denom
    empty = total <= 0
    # at 0 (or n) successes the bound is 0 (or 1) exactly; the formula's difference of two
    # equal terms would leave rounding (2.8e-17) there
    low: Any = np.where(empty, np.nan, np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0)))
    high: Any = np.where(empty, np.nan, np.where(k >= total, 1.0, np.clip(centre + half, 0.0, 1.0)))
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for one proportion ``successes / n``.

    The interval stays inside [0, 1] and is not degenerate at 0 or ``n`` successes; it is
    ``(nan, nan)`` for ``n = 0``.

    Parameters
    ----------
    successes : float
        The number of successes, 0 to ``n``.
    n : float
        The number of trials.
    z : float, default Z95
        The two-sided normal quantile of the confidence level (1.96 for 95 %; see
        :func:`z_value`).

    Returns
    -------
    tuple of (float, float)
        The lower and upper bound.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(56, 70)]
    [0.6918, 0.877]
    """
    where = "wilson_interval()"
    successes, n = _proportion(successes, n, where, "successes", "n")
    low, high = wilson_bounds(successes, n, _z(z, where))
    return (float(low), float(high))


def _proportion(x: float, n: float, where: str, x_name: str, n_name: str) -> tuple[float, float]:
    """``x`` successes of ``n`` trials as floats, if ``0 <= x <= n`` (else the bounds of an
    impossible share come out NaN, or beyond [0, 1])."""
    x, n = real(x, where, x_name), real(n, where, n_name)
    if not 0 <= x <= n:
        raise SchemaError(
            f"{where}: {x_name}={x:g} of {n_name}={n:g} is no share; expected "
            f"0 <= {x_name} <= {n_name}"
        )
    return x, n


def _z(z: float, where: str) -> float:
    """A normal quantile ``z > 0`` (``z <= 0`` turns an interval inside out or to a point)."""
    z = real(z, where, "z")
    if z <= 0:
        raise SchemaError(f"{where}: z must be positive (1.96 for 95 %, see z_value()); got {z!r}")
    return z


def newcombe_bounds(
    x_a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    x_b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    z: float = Z95,
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for ``x_a / n_a - x_b / n_b``, vectorised.

    Built from the two Wilson intervals (Newcombe 1998, method 10); NaN where a side has
    ``n = 0``.

    Examples
    --------
    >>> low, high = newcombe_bounds([56], [70], [48], [80])  # Newcombe (1998), example (a)
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.0524, 0.3339)
    """
    xa, na = np.asarray(x_a, np.float64), np.asarray(n_a, np.float64)
    xb, nb = np.asarray(x_b, np.float64), np.asarray(n_b, np.float64)
    l_a, u_a = wilson_bounds(xa, na, z)
    l_b, u_b = wilson_bounds(xb, nb, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a, p_b = xa / na, xb / nb
        d = p_a - p_b
        low = d - np.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2)
        high = d + np.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)
    return np.asarray(low, np.float64), np.asarray(high, np.float64)


def newcombe_interval(
    x_a: float, n_a: float, x_b: float, n_b: float, z: float = Z95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) for the difference of two proportions.

    The difference is ``x_a / n_a - x_b / n_b``; the interval combines the two Wilson
    intervals and is ``(nan, nan)`` when a side has ``n = 0``.

    Parameters
    ----------
    x_a : float
        The successes of the first group.
    n_a : float
        The trials of the first group.
    x_b : float
        The successes of the second group.
    n_b : float
        The trials of the second group.
    z : float, default Z95
        The two-sided normal quantile of the confidence level (see :func:`z_value`).

    Returns
    -------
    tuple of (float, float)
        The lower and upper bound of the difference.

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_interval(56, 70, 48, 80)]  # Newcombe (1998), example (a)
    [0.0524, 0.3339]
    """
    where = "newcombe_interval()"
    x_a, n_a = _proportion(x_a, n_a, where, "x_a", "n_a")
    x_b, n_b = _proportion(x_b, n_b, where, "x_b", "n_b")
    low, high = newcombe_bounds(x_a, n_a, x_b, n_b, _z(z, where))
    return (float(low), float(high))


def pooled_se(
    x_a: float, n_a: float, x_b: float, n_b: float, fpc_a: float = 1.0, fpc_b: float = 1.0
) -> float:
    """Standard error of ``x_a / n_a - x_b / n_b`` under equal proportions (the pooled share).

    ``sqrt(p (1 - p) (fpc_a / n_a + fpc_b / n_b))`` with ``p = (x_a + x_b) / (n_a + n_b)``:
    the denominator of the two-proportion z-test and of its minimum detectable effect;
    ``fpc_a`` and ``fpc_b`` are the samples' finite population corrections
    (:func:`fpc_factor`, 1 for an infinite population).

    Examples
    --------
    >>> round(pooled_se(170, 200, 150, 200), 6)  # p = 0.8: sqrt(0.8 * 0.2 * (2 / 200))
    0.04
    """
    pool = (x_a + x_b) / (n_a + n_b)
    return math.sqrt(pool * (1 - pool) * (fpc_a / n_a + fpc_b / n_b))


def proportion_bounds(
    successes: npt.ArrayLike,
    n: npt.ArrayLike,
    z: float,
    method: str,
    fpc: float | npt.ArrayLike = 1.0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(se, low, high)`` of proportions ``successes / n``, vectorised; NaN where ``n`` is 0.

    The standard error is ``sqrt(p (1 - p) fpc / n)``. ``method`` is ``"wald"`` (p +- z se),
    ``"adjusted-wald"`` (Agresti-Coull: the same after adding z^2/2 successes and z^2/2
    failures) or ``"wilson"``; the first two are clipped to [0, 1]. The finite population
    correction ``fpc`` (:func:`fpc_factor`, one value or one per proportion) multiplies the
    Wald variance, and replaces z^2 by z^2 fpc in Wilson's interval and in the Agresti-Coull
    pseudo-counts (whose centre is Wilson's): a census (``fpc`` 0) gives the observed share
    with no width, whichever the method.

    Raises
    ------
    SchemaError
        For another ``method``.

    Examples
    --------
    >>> se, low, high = proportion_bounds([170, 0], [200, 0], Z95, "wald")
    >>> se.round(4).tolist(), low.round(3).tolist(), high.round(3).tolist()
    ([0.0252, nan], [0.801, nan], [0.899, nan])
    >>> proportion_bounds(170, 200, Z95, "adjusted-wald", fpc=0.0)[1:]  # a census of 200
    (array(0.85), array(0.85))
    """
    x = np.asarray(successes, dtype=np.float64)
    k = np.asarray(n, dtype=np.float64)
    correction = np.asarray(fpc, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / k
        se = np.sqrt(p * (1 - p) * correction / k)
        if method == "wald":
            low, high = np.maximum(0.0, p - z * se), np.minimum(1.0, p + z * se)
        elif method == "adjusted-wald":
            added = z * z * correction  # pseudo-answers, fewer as the sample nears a census
            k_adj = k + added
            p_adj = (x + added / 2) / k_adj
            half = z * np.sqrt(p_adj * (1 - p_adj) * correction / k_adj)
            low, high = np.maximum(0.0, p_adj - half), np.minimum(1.0, p_adj + half)
        elif method == "wilson":
            low, high = wilson_bounds(x, k, z * np.sqrt(correction))
        else:
            raise SchemaError(
                f"method must be one of ('wald', 'adjusted-wald', 'wilson'); got {method!r}"
            )
    empty = k <= 0
    return (
        np.where(empty, NAN, se).astype(np.float64),
        np.where(empty, NAN, low).astype(np.float64),
        np.where(empty, NAN, high).astype(np.float64),
    )


def proportion_interval(
    successes: float, n: float, z: float, method: str, fpc: float
) -> tuple[float, float, float]:
    """``(se, low, high)`` of one proportion: :func:`proportion_bounds` of a single group.

    ``fpc`` is the finite population correction of :func:`fpc_factor` (1 for none); NaN for
    ``n = 0``.

    Examples
    --------
    >>> se, lo, hi = proportion_interval(170, 200, Z95, "wilson", 1.0)
    >>> round(lo, 3), round(hi, 3)
    (0.794, 0.893)
    """
    se, low, high = proportion_bounds(successes, n, z, method, fpc)
    return float(se), float(low), float(high)


def sample_moments(
    n: npt.ArrayLike, sums: npt.ArrayLike, squares: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Mean and sample variance (``ddof=1``) of groups from their counts, sums and sums of squares.

    The mean is NaN where ``n`` is 0; the variance is floored at 0 (rounding) and is not
    meaningful below 2 values, where :func:`mean_t_bounds` ignores it.

    Examples
    --------
    >>> mean, var = sample_moments([4, 0], [40.0, 0.0], [412.0, 0.0])
    >>> mean.tolist(), var[:1].tolist()
    ([10.0, nan], [4.0])
    """
    k = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.asarray(sums, dtype=np.float64) / k
        var = np.maximum((np.asarray(squares, dtype=np.float64) - k * mean**2) / (k - 1), 0.0)
    return mean, var


def mean_t_bounds(
    n: npt.ArrayLike,
    mean: npt.ArrayLike,
    var: npt.ArrayLike,
    level: float,
    fpc: float | npt.ArrayLike = 1.0,
    limits: tuple[float, float] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(se, low, high)`` of group means with Student-t intervals, vectorised (NaN below 2 values).

    ``n``, ``mean`` and ``var`` (the sample variance) hold one value per group; ``fpc`` is a
    finite population correction (:func:`fpc_factor`), one value or one per group. The
    interval is ``mean +- t(level, n - 1) sqrt(var fpc / n)``, clipped to ``limits`` when the
    values have a range (the lowest and highest point of a rating scale: a mean of answers
    on 1..7 lies in [1, 7], while two answers 1 and 7 give 4 +- 38.1).

    Raises
    ------
    SchemaError
        When ``level`` is not a number strictly between 0 and 1 (even when no group has 2
        values).

    Examples
    --------
    >>> se, low, high = mean_t_bounds([4, 1], [10.0, 3.0], [4.0, 0.0], 0.95)
    >>> se.tolist(), low.round(3).tolist(), high.round(3).tolist()
    ([1.0, nan], [6.818, nan], [13.182, nan])
    >>> mean_t_bounds([2], [4.0], [18.0], 0.95, limits=(1, 7))[1:]  # answers 1 and 7
    (array([1.]), array([7.]))
    """
    z_value(level)
    sizes = np.asarray(n, dtype=np.float64)
    centre = np.asarray(mean, dtype=np.float64)
    enough = sizes >= 2
    correction = np.broadcast_to(np.asarray(fpc, dtype=np.float64), sizes.shape)
    se = np.full(sizes.shape, NAN)
    se[enough] = np.sqrt(
        np.asarray(var, dtype=np.float64)[enough] * correction[enough] / sizes[enough]
    )
    t = np.full(sizes.shape, NAN)
    t[enough] = stats.t.ppf(0.5 + level / 2.0, sizes[enough] - 1)
    low, high = centre - t * se, centre + t * se
    if limits is not None:
        low, high = np.maximum(low, limits[0]), np.minimum(high, limits[1])
    return se, low, high


def mean_t_interval(
    n: float,
    mean: float,
    var: float,
    level: float,
    fpc: float,
    limits: tuple[float, float] | None = None,
) -> tuple[float, float, float]:
    """``(se, low, high)`` of one mean: :func:`mean_t_bounds` of a single group.

    Examples
    --------
    >>> se, lo, hi = mean_t_interval(4, 10.0, 4.0, 0.95, 1.0)
    >>> se, round(lo, 3), round(hi, 3)
    (1.0, 6.818, 13.182)
    """
    se, low, high = mean_t_bounds([n], [mean], [var], level, fpc, limits)
    return float(se[0]), float(low[0]), float(high[0])


def welch_interval(
    a: FloatArray, b: FloatArray, level: float = 0.95, *, least_nonzero: float = 0.0
) -> tuple[float, float]:
    """Welch's t interval for the difference of means ``mean(a) - mean(b)``.

    NaN when either sample has fewer than 2 values; the point itself when both variances are 0.
    The degrees of freedom are Welch-Satterthwaite's.

    Parameters
    ----------
    a : numpy.ndarray
        The first sample (float values, no NaN).
    b : numpy.ndarray
        The second sample (float values, no NaN).
    level : float, default 0.95
        The confidence level, in (0, 1).
    least_nonzero : float, default 0
        For values that are mostly 0 (spend per customer, where most do not buy): a sample
        with fewer than ``least_nonzero`` non-zero values has its variance taken as at least
        ``least_nonzero * m2 / n``, about the variance of a sample of ``n`` in which
        ``least_nonzero`` values were non-zero, ``m2`` being the mean square of the non-zero
        values of both samples. Such a sample otherwise has a variance near 0 (none without a
        non-zero value), and the interval takes its mean as exact. 0 leaves Welch's interval
        as it is.

    Returns
    -------
    tuple of (float, float)
        The lower and upper bound of ``mean(a) - mean(b)``.

    Examples
    --------
    >>> import numpy as np
    >>> low, high = welch_interval(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]))
    >>> round(low, 3), round(high, 3)
    (-0.988, 3.988)
    >>> a, b = np.array([0.0] * 18 + [40.0, 60.0]), np.zeros(10)  # b: no buyer
    >>> [round(v, 2) for v in welch_interval(a, b)]
    [-2.36, 12.36]
    >>> [round(v, 2) for v in welch_interval(a, b, least_nonzero=3)]
    [-16.23, 26.23]
    """
    _, low, high = _welch(a, b, level, least_nonzero, "welch_interval()")
    return low, high


def welch_se(a: FloatArray, b: FloatArray, *, least_nonzero: float = 0.0) -> float:
    """The standard error of ``mean(a) - mean(b)`` in :func:`welch_interval` (the same
    ``least_nonzero``); NaN when either sample has fewer than 2 values.

    Examples
    --------
    >>> import numpy as np
    >>> round(welch_se(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0])), 4)  # sqrt(1/3 + 1/4)
    0.7638
    """
    return _welch(a, b, 0.95, least_nonzero, "welch_se()")[0]


def welch_se_interval(
    a: FloatArray, b: FloatArray, level: float = 0.95, *, least_nonzero: float = 0.0
) -> tuple[float, float, float]:
    """``(se, low, high)``: :func:`welch_se` and :func:`welch_interval` at once (the samples
    checked, and their variances computed, once).

    Examples
    --------
    >>> import numpy as np
    >>> se, low, high = welch_se_interval(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]))
    >>> round(se, 4), round(low, 3), round(high, 3)
    (0.7638, -0.988, 3.988)
    """
    return _welch(a, b, level, least_nonzero, "welch_se_interval()")


def _welch(
    a: FloatArray, b: FloatArray, level: float, least_nonzero: float, where: str
) -> tuple[float, float, float]:
    """``(se, low, high)`` of :func:`welch_se_interval`, errors naming ``where``. Values past
    1e100 (whose squares overflow) are divided by the largest, and the results multiplied
    back."""
    a = float_array(a, where, "a", ndim=1)
    b = float_array(b, where, "b", ndim=1)
    finite_values(a, where, "a")
    finite_values(b, where, "b")
    level = real(level, where, "level")
    z_value(level)  # a level in (0, 1), or a SchemaError naming it
    least_nonzero = real(least_nonzero, where, "least_nonzero")
    if least_nonzero < 0:
        raise SchemaError(f"{where}: least_nonzero must be >= 0; got {least_nonzero!r}")
    n_a, n_b = a.shape[0], b.shape[0]
    if n_a < 2 or n_b < 2:
        return (NAN, NAN, NAN)
    unit = max(float(np.abs(a).max()), float(np.abs(b).max()))
    unit = unit if unit > LARGE else 1.0
    a, b = a / unit, b / unit
    var_a, var_b = float(a.var(ddof=1)), float(b.var(ddof=1))
    if least_nonzero > 0:
        nonzero = np.concatenate([a[a != 0], b[b != 0]])
        m2 = float(np.mean(nonzero**2)) if nonzero.size else 0.0
        if np.count_nonzero(a) < least_nonzero:
            var_a = max(var_a, least_nonzero * m2 / n_a)
        if np.count_nonzero(b) < least_nonzero:
            var_b = max(var_b, least_nonzero * m2 / n_b)
    va, vb = var_a / n_a, var_b / n_b
    d = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return (0.0, float(d * unit), float(d * unit))
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    t = stats.t.ppf(0.5 + level / 2, df)
    return (float(se * unit), float((d - t * se) * unit), float((d + t * se) * unit))
