"""Collinearity of regression drivers: which drivers the others imply, exactly or nearly.

* Exactly: a column of the design (intercept first) that is a linear combination of the
  columns before it; :func:`implied_by` says of which ones, or that it equals one of them.
* Nearly: the variance inflation factor ``VIF_j = 1 / (1 - R_j^2)``, with ``R_j^2`` the R^2 of
  driver ``j`` regressed on the other drivers and an intercept, is the factor by which the
  others inflate the variance of its coefficient (Kutner, Nachtsheim, Neter & Li, *Applied
  Linear Statistical Models*, 5th ed., 2005, section 10.5). Above :data:`VIF_LIMIT` (R_j^2 above 0.9, the book's rule
  of thumb) :func:`warn_near_collinear` warns naming the drivers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from cxmodel._pieces import warn
from cxmodel.errors import DataWarning

__all__ = ["VIF_LIMIT", "implied_by", "variance_inflation", "warn_near_collinear"]

F = npt.NDArray[np.float64]
VIF_LIMIT = 10.0


def implied_by(design: F, column: int, labels: Sequence[str]) -> str:
    """How ``design[:, column]`` follows from the columns before it (column 0 the intercept):
    a phrase naming the drivers it equals or combines; ``labels[j]`` names design column
    ``j + 1``.

    Examples
    --------
    >>> ones, a, b = np.ones(4), np.array([0.0, 1, 1, 0]), np.array([1.0, 1, 0, 0])
    >>> implied_by(np.column_stack([ones, a, a]), 2, ["'a'", "'b'"])
    "'b' is implied by 'a': the two are equal on every one of the 4 rows; leave one out"
    >>> implied_by(np.column_stack([ones, a, b, a + 2 * b]), 3, ["'a'", "'b'", "'c'"])
    "'c' is implied by 'a', 'b' (with the intercept, a linear combination of them); leave it out"
    >>> implied_by(np.column_stack([ones, a, 3 * ones]), 2, ["'a'", "'b'"])
    "'b' is constant over the 4 rows; leave it out"
    """
    target, before = design[:, column], design[:, :column]
    label = labels[column - 1]
    n = design.shape[0]
    same = [labels[j - 1] for j in range(1, column) if np.array_equal(before[:, j], target)]
    if same:
        return (
            f"{label} is implied by {same[0]}: the two are equal on every one of the {n:,} "
            "rows; leave one out"
        )
    weights, *_ = np.linalg.lstsq(before, target, rcond=None)
    scale = np.abs(before).max(axis=0) * np.abs(weights)
    used = [labels[j - 1] for j in range(1, column) if scale[j] > 1e-9 * np.abs(target).max()]
    if not used:
        return f"{label} is constant over the {n:,} rows; leave it out"
    return (
        f"{label} is implied by {', '.join(used)} (with the intercept, a linear combination "
        "of them); leave it out"
    )


def variance_inflation(x: F) -> F:
    """The variance inflation factor of each column of ``x`` (drivers, no intercept column):
    ``1 / (1 - R_j^2)``, the column's total over its residual sum of squares on the others.

    1 for a column uncorrelated with the others; infinite for a constant column or one the
    others imply exactly.

    Examples
    --------
    Two columns with correlation ``2 / sqrt(4 * 2)``, so ``R^2 = 0.5`` and a factor of 2 each:

    >>> variance_inflation(np.array([[1.0, 1], [1, 0], [-1, 0], [-1, -1]])).round(12).tolist()
    [2.0, 2.0]
    """
    xs = np.asarray(x, dtype=np.float64)
    p = xs.shape[1]
    centred = xs - xs.mean(axis=0)
    norm = np.sqrt((centred**2).sum(axis=0))
    out = np.full(p, np.inf)
    varies = np.flatnonzero(norm > 0)
    z = centred[:, varies] / norm[varies]  # unit total sum of squares: VIF = 1 / residual SS
    for i, j in enumerate(varies.tolist()):  # one least-squares fit per driver
        others = np.delete(z, i, axis=1)
        weights, *_ = np.linalg.lstsq(others, z[:, i], rcond=None)
        residual = z[:, i] - others @ weights
        rss = float(residual @ residual)
        out[j] = 1.0 / rss if rss > 1e-15 else np.inf
    return out


def warn_near_collinear(x: F, names: Sequence[str], what: str) -> F:
    """The variance inflation factors of the drivers, with a :class:`DataWarning` naming each
    one above :data:`VIF_LIMIT`, its factor and the driver it correlates with most."""
    vif = variance_inflation(x)
    high = np.flatnonzero(vif > VIF_LIMIT)
    if high.size == 0:
        return vif
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.atleast_2d(np.corrcoef(x, rowvar=False))
    np.fill_diagonal(correlation, 0.0)
    parts = []
    for j in high.tolist():
        partner = int(np.nanargmax(np.abs(correlation[j])))
        parts.append(
            f"{names[j]!r} (VIF {vif[j]:,.1f}; correlation {correlation[j, partner]:.3f} with "
            f"{names[partner]!r})"
        )
    warn(
        f"{what}: {high.size} of {len(names)} drivers nearly implied by the others "
        f"(variance inflation factor above {VIF_LIMIT:g}, that is R² above 0.9 on the other "
        f"drivers, over {x.shape[0]:,} rows): {', '.join(parts)}. Their effects are hard to "
        "tell apart: the coefficients are unstable, and when few rows tell them apart the "
        "intervals can be far too narrow; their importance is split between them. Merge them "
        "into one driver or leave one out (the 'vif' column has each driver's factor)",
        DataWarning,
    )
    return vif
