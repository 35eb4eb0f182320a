"""Small statistical helpers shared by the analyses."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Z95", "wilson_bounds"]

Z95 = 1.959963984540054
"""The two-sided 95 % standard normal quantile."""


def wilson_bounds(
    successes: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Wilson score interval of proportions, vectorised; NaN where ``n`` is 0.

    Examples
    --------
    >>> low, high = wilson_bounds(170, 200)
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
    low: Any = np.where(empty, np.nan, np.clip(centre - half, 0.0, 1.0))
    high: Any = np.where(empty, np.nan, np.clip(centre + half, 0.0, 1.0))
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
