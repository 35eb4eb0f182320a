"""Two-group tests for NPS and proportions (CSAT, CES agree share)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import attrs

from cxmodel._arguments import is_integer
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._stats import fpc_factor, pooled_se, two_sided_p, z_value
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.metrics._survey import CESResult, NPSResult, ProportionResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Comparison", "compare_nps", "compare_proportions"]

NAN = float("nan")


@attrs.frozen(repr=False)
class Comparison(Result):
    """Difference ``a - b`` with its standard error, interval and two-sided z-test."""

    difference: float
    se: float
    ci: tuple[float, float]
    statistic: float
    p_value: float
    n_a: int
    n_b: int
    level: float

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the difference with its interval and a zero line (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_comparison`,
        which also draws several comparisons, one row each.
        """
        from cxmodel.plot import plot_comparison

        return plot_comparison(self, ax, **kwargs)


def _warn_flat(caller: str, shown: str, se_test: float) -> None:
    """Warn that the difference's interval has zero width (neither group varies), and why the
    test is undefined when it is."""
    test = " and the z-test is undefined (statistic and p-value NaN)" if not (se_test > 0) else ""
    warn(
        f"{caller}: neither group's answers vary ({shown}), so the standard error of the "
        f"difference is 0: its interval has zero width{test}; the samples cannot show how "
        "much the difference would move in another sample",
        DataWarning,
    )


def _warn_empty(caller: str, n_a: int, n_b: int) -> None:
    """Warn that a group without answers leaves the comparison NaN."""
    empty = [name for name, n in (("a", n_a), ("b", n_b)) if n == 0]
    if empty:
        warn(
            f"{caller}: {' and '.join(empty)} {'has' if len(empty) == 1 else 'have'} no answers "
            f"(n_a = {n_a}, n_b = {n_b}), so the difference, its interval and the test are NaN",
            DataWarning,
        )


def _finish(
    diff: float, se: float, se_test: float, n_a: int, n_b: int, level: float, limit: float
) -> Comparison:
    """The comparison of ``diff`` with its interval ``diff +- z se``, clipped to the range
    ``-limit..limit`` a difference of two such values can take."""
    z = z_value(level)
    if not (se_test > 0):
        stat = NAN
        p = NAN
    else:
        stat = diff / se_test
        p = two_sided_p(stat)
    ci = (max(diff - z * se, -limit), min(diff + z * se, limit))
    return Comparison(diff, se, ci, stat, p, n_a, n_b, level)


def compare_nps(a: NPSResult, b: NPSResult, *, level: float = 0.95) -> Comparison:
    """Compare two NPS results: z = (NPS_a - NPS_b) / sqrt(SE_a^2 + SE_b^2) (points).

    The interval is the difference +- z times that standard error, clipped to -200..200 (the
    range of a difference of two NPS). A result without answers makes every figure NaN, with
    a DataWarning saying which.

    Parameters
    ----------
    a, b : NPSResult
        The two results, from :func:`nps`.
    level : float, default 0.95
        Confidence level of the interval of the difference.

    Examples
    --------
    >>> from cxmodel.metrics import nps
    >>> c = compare_nps(nps([10] * 60 + [0] * 40), nps([10] * 40 + [0] * 60))
    >>> round(c.difference, 1), c.p_value < 0.05
    (40.0, True)
    """
    for name, r in (("a", a), ("b", b)):
        if not isinstance(r, NPSResult):
            raise SchemaError(f"{name} must be an NPSResult from nps(); got {type(r).__name__}")
    _warn_empty("compare_nps()", a.n, b.n)
    se = math.sqrt(a.se**2 + b.se**2) if a.n and b.n else NAN
    if se == 0 and not (_census(a) and _census(b)):
        shown = f"a: NPS {a.value:+g} of {a.n} answers, b: NPS {b.value:+g} of {b.n}"
        _warn_flat("compare_nps()", shown, se)
    return _finish(a.value - b.value, se, se, a.n, b.n, level, 200.0)


def _census(result: Any) -> bool:
    """Whether every member of the result's population answered (no sampling error)."""
    population = getattr(result, "population", None)
    return population is not None and result.n == population


def _correction(result: Any) -> float:
    """The finite population correction of a result's variance (1 without a population)."""
    population = getattr(result, "population", None)
    return 1.0 if population is None or not result.n else float(fpc_factor(result.n, population))


def _counts(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, ProportionResult | CESResult):
        return value.successes, value.n
    if isinstance(value, tuple) and len(value) == 2 and all(map(is_integer, value)):
        s, n = int(value[0]), int(value[1])
        if 0 <= s <= n:
            return s, n
    raise SchemaError(
        f"{name} must be a csat()/ces() result or a (successes, n) pair of whole numbers with "
        f"0 <= successes <= n; got {value!r}"
    )


def compare_proportions(a: Any, b: Any, *, level: float = 0.95) -> Comparison:
    """Two-proportion z-test (pooled SE for the test, unpooled for the interval).

    The interval is the difference +- z times the unpooled SE, clipped to [-1, 1]. ``a`` and
    ``b`` are :func:`csat` / :func:`ces` results or ``(successes, n)`` pairs. One
    with ``n = 0`` makes every figure NaN, with a DataWarning saying which. A result computed
    with ``population=`` keeps its finite population correction ``(N - n) / (N - 1)`` on its
    variance term in both standard errors, as :func:`compare_nps` does through the results'
    standard errors.

    Parameters
    ----------
    a, b : ProportionResult, CESResult or (successes, n)
        The two proportions.
    level : float, default 0.95
        Confidence level of the interval of the difference.

    Examples
    --------
    >>> c = compare_proportions((170, 200), (150, 200))
    >>> round(c.difference, 2), round(c.p_value, 4)
    (0.1, 0.0124)
    """
    sa, na = _counts(a, "a")
    sb, nb = _counts(b, "b")
    if na == 0 or nb == 0:
        _warn_empty("compare_proportions()", na, nb)
        return Comparison(NAN, NAN, (NAN, NAN), NAN, NAN, na, nb, level)
    pa, pb = sa / na, sb / nb
    fa, fb = _correction(a), _correction(b)
    se_test = pooled_se(sa, na, sb, nb, fa, fb)
    se = math.sqrt(pa * (1 - pa) * fa / na + pb * (1 - pb) * fb / nb)
    if se == 0 and not (_census(a) and _census(b)):
        _warn_flat("compare_proportions()", f"a: {sa} of {na}, b: {sb} of {nb}", se_test)
    return _finish(pa - pb, se, se_test, na, nb, level, 1.0)
