"""What distinguishes two groups of customers: per-feature differences with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import customer_table, name_sequence
from cxmodel._result import Result, column
from cxmodel._stats import LARGE, newcombe_interval, welch_interval
from cxmodel.errors import DataError
from cxmodel.segment._features import feature_columns, group_mask

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from cxmodel.log._customer_table import CustomerTable

__all__ = ["Contrast", "contrast"]


@attrs.frozen(eq=False, repr=False)
class Contrast(Result):
    """Per-feature comparison of group A against group B, ranked by absolute effect size.

    ``kind`` is ``"proportion"`` for bool features (``a``/``b`` are prevalences, the interval is
    Newcombe's for the difference, ``lift`` = a / b) or ``"mean"`` (``a``/``b`` are means, the
    interval is Welch's for the difference, ``lift`` = a / b, NaN for a feature that takes
    negative values, where a ratio of means has no meaning). ``effect_size`` is Cohen's h for
    proportions and Cohen's d for means, the difference over the pooled standard deviation
    ``sqrt(((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / (n_a + n_b - 2))``; when neither group
    varies, d is 0 for equal means and +-inf for different ones (the groups do not overlap),
    which ranks first.
    """

    feature: npt.NDArray[np.object_] = attrs.field(metadata=column())
    kind: npt.NDArray[np.object_] = attrs.field(metadata=column())
    a: npt.NDArray[np.float64] = attrs.field(metadata=column())
    b: npt.NDArray[np.float64] = attrs.field(metadata=column())
    difference: npt.NDArray[np.float64] = attrs.field(metadata=column())
    low: npt.NDArray[np.float64] = attrs.field(metadata=column())
    high: npt.NDArray[np.float64] = attrs.field(metadata=column())
    lift: npt.NDArray[np.float64] = attrs.field(metadata=column())
    effect_size: npt.NDArray[np.float64] = attrs.field(metadata=column())
    n_a: int
    n_b: int

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a forest plot of the lifts with intervals (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_contrast`.
        """
        from cxmodel.plot import plot_contrast

        return plot_contrast(self, ax, **kwargs)


def contrast(
    table: CustomerTable,
    group_a: Any,
    group_b: Any,
    *,
    features: Sequence[str] | None = None,
) -> Contrast:
    """What distinguishes group A from group B ("VIPs vs churned customers").

    Parameters
    ----------
    table : CustomerTable
    group_a, group_b : boolean mask over the table rows, or a collection of customer ids
    features : sequence of str, optional
        Columns to compare; by default every bool and numeric column. NaN values are ignored.
        A text column (a trait such as ``plan``) is compared level by level as the
        proportions ``plan=basic``, ``plan=pro``, ...

    Returns
    -------
    Contrast
        Ranked by absolute effect size, largest first.

    Raises
    ------
    DataError
        When a group has fewer than 2 customers.
    SchemaError
        When a group of ids names no customer of the table.

    Warns
    -----
    DataWarning
        When some of a group's ids are not customers of the table (their count and an
        example); they are left out.
    """
    table = customer_table(table, "contrast()")
    features = None if features is None else name_sequence(features, "contrast()", "features")
    mask_a = group_mask(table, group_a, "group_a")
    mask_b = group_mask(table, group_b, "group_b")
    for what, mask in (("group_a", mask_a), ("group_b", mask_b)):
        if mask.sum() < 2:
            raise DataError(f"{what} has {int(mask.sum())} customers; contrast() needs at least 2")
    columns = feature_columns(table, features)
    rows: list[tuple[str, str, float, float, float, float, float, float, float]] = []
    for name, col in columns.items():  # loop over features; each step is vectorised
        a, b = col[mask_a], col[mask_b]
        if col.dtype == np.bool_:
            xa, xb, na, nb = float(a.sum()), float(b.sum()), a.shape[0], b.shape[0]
            pa, pb = xa / na, xb / nb
            low, high = newcombe_interval(xa, na, xb, nb)
            effect = 2 * np.arcsin(np.sqrt(pa)) - 2 * np.arcsin(np.sqrt(pb))
            rows.append((name, "proportion", pa, pb, pa - pb, low, high, _ratio(pa, pb), effect))
            continue
        fa = a.astype(np.float64)
        fb = b.astype(np.float64)
        fa, fb = fa[~np.isnan(fa)], fb[~np.isnan(fb)]
        if fa.size < 2 or fb.size < 2:
            nan = float("nan")
            rows.append((name, "mean", nan, nan, nan, nan, nan, nan, nan))
            continue
        # values past 1e100 (squares overflow) in units of the largest; d has no unit
        unit = max(float(np.abs(fa).max()), float(np.abs(fb).max()))
        unit = unit if unit > LARGE else 1.0
        sa, sb = fa / unit, fb / unit
        ma, mb = float(sa.mean() * unit), float(sb.mean() * unit)
        # a ratio of means needs a true zero: none for a feature that takes negative values
        lift = _ratio(ma, mb) if min(fa.min(), fb.min()) >= 0 else float("nan")
        low, high = welch_interval(fa, fb)
        # Cohen's pooled standard deviation: the groups' variances weighted by their degrees
        # of freedom (the plain mean of the two variances is only right for equal sizes)
        pooled = np.sqrt(
            ((sa.size - 1) * sa.var(ddof=1) + (sb.size - 1) * sb.var(ddof=1))
            / (sa.size + sb.size - 2)
        )
        if pooled > 0:
            effect = (sa.mean() - sb.mean()) / pooled
        else:  # no spread in either group: equal means do not differ, others separate fully
            effect = 0.0 if ma == mb else float(np.copysign(np.inf, ma - mb))
        rows.append((name, "mean", ma, mb, ma - mb, low, high, lift, float(effect)))
    effects = np.array([r[8] for r in rows], dtype=np.float64)
    order = np.lexsort((np.arange(len(rows)), -np.nan_to_num(np.abs(effects), nan=-1.0)))
    cols = list(zip(*[rows[i] for i in order], strict=True))
    return Contrast(
        feature=np.array(cols[0], dtype=object),
        kind=np.array(cols[1], dtype=object),
        a=np.array(cols[2], dtype=np.float64),
        b=np.array(cols[3], dtype=np.float64),
        difference=np.array(cols[4], dtype=np.float64),
        low=np.array(cols[5], dtype=np.float64),
        high=np.array(cols[6], dtype=np.float64),
        lift=np.array(cols[7], dtype=np.float64),
        effect_size=np.array(cols[8], dtype=np.float64),
        n_a=int(mask_a.sum()),
        n_b=int(mask_b.sum()),
    )


def _ratio(a: float, b: float) -> float:
    return a / b if b != 0 else float("nan")
