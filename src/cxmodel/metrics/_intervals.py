"""Confidence intervals for proportions, NPS and means (formulas in docs/guide/metrics.md)."""

from __future__ import annotations

import math

from scipy import stats

from cxmodel._stats import wilson_bounds
from cxmodel.errors import SchemaError

__all__ = ["fpc_factor", "mean_t_interval", "proportion_interval", "z_value"]

NAN = float("nan")


def z_value(level: float) -> float:
    """Two-sided normal quantile for ``level``, checked to lie in (0, 1)."""
    if not (isinstance(level, float | int) and 0.0 < float(level) < 1.0):
        raise SchemaError(f"level must be a number in the open interval (0, 1); got {level!r}")
    return float(stats.norm.ppf(0.5 + float(level) / 2.0))


def fpc_factor(n: float, population: float | None) -> float:
    """Finite population correction ``(N - n) / (N - 1)`` applied to variances (1 if no N)."""
    if population is None:
        return 1.0
    if population < n or population < 2:
        raise SchemaError(
            f"population must be >= the number of answers ({n:g}) and >= 2; got {population!r}"
        )
    return (population - n) / (population - 1.0)


def proportion_interval(
    successes: float, n: float, z: float, method: str, fpc: float
) -> tuple[float, float, float]:
    """``(se, low, high)`` of a proportion; ``method`` is wald, adjusted-wald or wilson.

    Examples
    --------
    >>> se, lo, hi = proportion_interval(170, 200, 1.959963984540054, "wilson", 1.0)
    >>> round(lo, 3), round(hi, 3)
    (0.794, 0.893)
    """
    if n == 0:
        return NAN, NAN, NAN
    p = successes / n
    se = math.sqrt(p * (1 - p) * fpc / n)
    if method == "wald":
        return se, max(0.0, p - z * se), min(1.0, p + z * se)
    if method == "adjusted-wald":
        n_adj = n + z * z
        p_adj = (successes + z * z / 2) / n_adj
        half = z * math.sqrt(p_adj * (1 - p_adj) * fpc / n_adj)
        return se, max(0.0, p_adj - half), min(1.0, p_adj + half)
    # Wilson; the finite population correction shrinks the effective z^2.
    low, high = wilson_bounds(successes, n, z * math.sqrt(fpc))
    return se, float(low), float(high)


def mean_t_interval(
    n: float, mean: float, var: float, level: float, fpc: float
) -> tuple[float, float, float]:
    """``(se, low, high)`` of a mean with a Student-t interval (NaN when n < 2)."""
    if n < 2:
        return NAN, NAN, NAN
    se = math.sqrt(var * fpc / n)
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    return se, mean - t * se, mean + t * se
