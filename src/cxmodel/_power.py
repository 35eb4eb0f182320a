"""The power of Newcombe's interval for a difference of two rates, and the minimal detectable
difference it implies.

The test is the one the interval reports: "the difference differs from 0" when Newcombe's
hybrid score interval (:func:`~cxmodel._stats.newcombe_bounds`) excludes 0. Its power at a
true difference is computed exactly, by enumerating the two binomial outcomes; the minimal
detectable difference is the smallest difference with the requested power, found by
bracketing. For groups so large that the enumeration would take millions of cells, a normal
approximation (accurate there) takes its place.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

from cxmodel._stats import newcombe_bounds, wilson_bounds

__all__ = ["MAX_CELLS", "TAIL", "newcombe_mde", "newcombe_mde_normal", "newcombe_power"]

NAN = float("nan")

TAIL = 1e-10
"""Each binomial is enumerated between its ``TAIL`` and ``1 - TAIL`` quantiles: the mass left
out is at most ``TAIL`` on each side of each group, so a power is exact within ``4 * TAIL``."""

MAX_CELLS = 1_000_000
"""Past this many pairs of outcomes (treated x held-out counts enumerated) the minimal
detectable difference uses :func:`newcombe_mde_normal`; an enumeration of a million cells
takes about 20 ms, and the normal approximation is within 1 % of the exact difference
there (tests/test_power.py)."""


def _span(n: int, p: float) -> tuple[int, int]:
    """The least and greatest counts of Binomial(n, p) between its ``TAIL`` and ``1 - TAIL``
    quantiles (all the mass but at most ``2 * TAIL``)."""
    if p <= 0.0:
        return 0, 0
    if p >= 1.0:
        return n, n
    low = int(stats.binom.ppf(TAIL, n, p))
    high = int(stats.binom.isf(TAIL, n, p))
    return max(low, 0), min(high, n)


def _support(n: int, p: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The counts of :func:`_span` and their probabilities."""
    low, high = _span(n, p)
    if p <= 0.0 or p >= 1.0:
        return np.full(1, low, dtype=np.int64), np.ones(1)
    counts = np.arange(low, high + 1, dtype=np.int64)
    return counts, np.asarray(stats.binom.pmf(counts, n, p), dtype=np.float64)


def _cells(n_t: int, n_h: int, p_t: float, p_h: float) -> int:
    """How many pairs of counts :func:`newcombe_power` enumerates at these rates."""
    (low_t, high_t), (low_h, high_h) = _span(n_t, p_t), _span(n_h, p_h)
    return (high_t - low_t + 1) * (high_h - low_h + 1)


def newcombe_power(d: float, n_t: int, n_h: int, p_h: float, z: float) -> float:
    """The probability that Newcombe's interval (normal quantile ``z``) for ``x_t / n_t -
    x_h / n_h`` excludes 0, when the held-out rate is ``p_h`` and the treated rate
    ``p_h + d``.

    Exact within ``4 * TAIL``: the two binomial outcomes are enumerated (each between its
    ``TAIL`` and ``1 - TAIL`` quantiles), and the probabilities of the pairs whose interval
    excludes 0 summed.

    Examples
    --------
    >>> round(newcombe_power(0.0, 400, 100, 0.05, 1.959963984540054), 4)  # the test's size
    0.0435
    >>> round(newcombe_power(0.0956, 400, 100, 0.05, 1.959963984540054), 3)  # at the mde
    0.8
    """
    x_t, f_t = _support(n_t, min(max(p_h + d, 0.0), 1.0))
    x_h, f_h = _support(n_h, p_h)
    low, high = newcombe_bounds(x_t[:, None], n_t, x_h[None, :], n_h, z)
    excluded = (low > 0) | (high < 0)
    return float(f_t @ excluded @ f_h)


def newcombe_mde_normal(n_t: int, n_h: int, p_h: float, z: float, power: float = 0.8) -> float:
    """:func:`newcombe_mde` by the normal approximation, for large groups.

    The interval excludes 0 from above when the estimate exceeds Newcombe's margin below it,
    ``sqrt((p_t - l_t)^2 + (u_h - p_h)^2)`` with the Wilson bounds ``l_t`` and ``u_h``;
    with large groups the margin hardly varies and the estimate is normal with the unpooled
    variance of the alternative, so ``d`` solves ``d = margin(p_h + d, p_h) + z_power *
    se(d)``, ``se(d)^2 = (p_h + d)(1 - p_h - d) / n_t + p_h (1 - p_h) / n_h``, margin taken at
    the expected counts. NaN when no ``d`` up to ``1 - p_h`` solves it.

    Examples
    --------
    >>> round(newcombe_mde_normal(100_000, 25_000, 0.1, 1.959963984540054), 5)
    0.00602
    """
    z_power = float(stats.norm.ppf(power))
    _, u_h = wilson_bounds(p_h * n_h, n_h, z)
    up_h = float(u_h) - p_h

    def excess(d: float) -> float:
        p_t = p_h + d
        l_t, _ = wilson_bounds(p_t * n_t, n_t, z)
        margin = math.hypot(p_t - float(l_t), up_h)
        return d - margin - z_power * math.sqrt(p_t * (1 - p_t) / n_t + p_h * (1 - p_h) / n_h)

    top = 1.0 - p_h
    if top <= 0 or excess(top) < 0:
        return NAN
    return float(optimize.brentq(excess, 0.0, top, xtol=1e-12, rtol=1e-9))


def newcombe_mde(n_t: int, n_h: int, p_h: float, z: float, power: float = 0.8) -> float:
    """The smallest increase ``d > 0`` of the treated rate over the held-out rate ``p_h`` that
    Newcombe's interval (normal quantile ``z``) detects with probability ``power``.

    "Detects" is what the interval reports: it excludes 0. The power at a ``d`` is
    :func:`newcombe_power` (exact); from ``d = 0`` it dips a little below the test's size,
    then grows, so it crosses ``power`` once (tests/test_power.py checks it), and ``d`` is
    bracketed from the normal approximation outwards and the crossing found by
    Brent's method (bisection safeguarded by secant steps) to a relative 1e-6. When the
    enumeration would exceed :data:`MAX_CELLS` pairs of counts, the normal approximation
    :func:`newcombe_mde_normal` is returned instead. NaN when even a treated rate of 1
    (``d = 1 - p_h``) is detected with less than ``power``.

    Examples
    --------
    >>> round(newcombe_mde(400, 100, 0.05, 1.959963984540054), 4)  # 400 treated, 100 held out
    0.0956
    >>> newcombe_mde(5, 3, 0.5, 1.959963984540054)  # too few customers for any difference
    nan
    """
    top = 1.0 - p_h
    if top <= 0:
        return NAN
    guess = newcombe_mde_normal(n_t, n_h, p_h, z, power)
    if not math.isnan(guess) and _cells(n_t, n_h, p_h + guess, p_h) > MAX_CELLS:
        return guess

    def shortfall(d: float) -> float:
        return newcombe_power(d, n_t, n_h, p_h, z) - power

    # bracket the crossing, starting at the approximation and widening by half each time
    low, high = 0.0, top if math.isnan(guess) else min(max(guess, 1e-12), top)
    while shortfall(high) < 0:
        if high >= top:
            return NAN
        low, high = high, min(high * 1.5, top)
    if low == 0.0 and high > 1e-12:
        # the approximation may sit far above the crossing: narrow from below as well
        trial = high / 1.5
        while trial > 1e-12 and shortfall(trial) >= 0:
            high, trial = trial, trial / 1.5
        if trial <= 1e-12:  # detected at any difference: not a size seen in practice
            return high
        low = trial
    return float(optimize.brentq(shortfall, low, high, xtol=1e-12, rtol=1e-6))
