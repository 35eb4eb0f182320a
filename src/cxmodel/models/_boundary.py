"""Whether a maximum-likelihood optimum is a maximum, or a likelihood still rising (or flat)
towards the edge of the parameter space, where the data do not determine the parameters.

The customer-value models mix a purchase or drop-out process over customers with a gamma or
beta distribution. Data without the variation such a distribution describes (one customer,
customers with identical histories) have their likelihood largest in a limit: r and alpha
growing without bound at a fixed ratio (every customer buying at the same rate), a drop-out
probability tending to 0. An optimiser stops on the way there, where the gradient has become
too flat to measure, and its stop looks like convergence.

The rule (:func:`outward_direction`) probes outwards from the optimum: each log-parameter, and
every pair of them together, is moved by 1 (a factor e) either way, and the fit is a maximum
only when the log-likelihood falls along every such direction. At a true maximum it falls by
its curvature, which grows with the data (by 8 units of log-likelihood or more on CDNOW's
2,357 customers, by about 0.4 for a parameter known to within a factor of 10); towards a limit
of the likelihood it rises, or stays level to rounding, because the data do not tell the
probed point from the optimum. The tolerance is 1e-8 of the log-likelihood's magnitude, far
below any curvature the data determine, or 10 times the log-likelihood's rounding where that
is more (its terms cancel to ~0.05 at r = 1e10). Pairs suffice because each limit of these
models lies within one mixing distribution, of one or two parameters ((r, alpha) + t (1, 1),
a alone to 0); they cost 2 k^2 evaluations of the log-likelihood for k parameters (32 for
BG/NBD), a third of the fit's time on 200,000 simulated customers.

The observed information (the Hessian in the optimiser's coordinates) was the alternative: it
is nearly singular in the same cases, but how small an eigenvalue must be to count as singular
has no scale of its own (it grows with the number of customers at a maximum and shrinks with
how far the optimiser ran towards a limit; at r = 2.4e10 finite differences even give a
positive one), while a probe asks the question in the likelihood's own units: does a point a
factor e further out fit the data worse?
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "Feature",
    "beta_features",
    "gamma_features",
    "outward_direction",
    "run_off_message",
]

FloatArray = npt.NDArray[np.float64]

#: Share of the log-likelihood's magnitude by which it must fall along every probe.
_FALL = 1e-8

#: A move of every log-parameter that measures the rounding of the log-likelihood, and how
#: many times that rounding a fall must exceed.
_JIGGLE = 1e-12
_ROUNDING = 10.0

#: Probes shortened by the search range to less than this step are not made.
_SHORTEST = 0.1


@attrs.frozen
class Feature:
    """A property of the fitted population as a function of the parameters (the mean or the
    spread of purchase rates across customers, say): named in the warning of a fit that runs
    off when it moves along with the parameters.

    Attributes
    ----------
    label : str
        What it is, as the warning names it ("the spread of purchase rates across customers").
    names : tuple of str
        The parameters it depends on: the warning tells how they move together.
    value : callable
        Its value at a mapping of parameter names to values; a non-finite value is left out.
    """

    label: str
    names: tuple[str, ...]
    value: Callable[[Mapping[str, float]], float]


def gamma_features(shape: str, rate: str, quantity: str) -> tuple[Feature, Feature]:
    """Mean and spread (standard deviation) across customers of a ``quantity`` (plural noun
    phrase) distributed as Gamma(``shape``, ``rate``)."""
    return (
        Feature(f"the mean of the {quantity}", (shape, rate), lambda p: p[shape] / p[rate]),
        Feature(
            f"the spread of {quantity} across customers",
            (shape, rate),
            lambda p: float(np.sqrt(p[shape])) / p[rate],
        ),
    )


def beta_features(a: str, b: str, quantity: str) -> tuple[Feature, Feature]:
    """Mean and spread (standard deviation) across customers of a ``quantity`` (plural noun
    phrase) distributed as Beta(``a``, ``b``)."""

    def spread(p: Mapping[str, float]) -> float:
        total = p[a] + p[b]
        return float(np.sqrt(p[a] / total * p[b] / total / (total + 1.0)))

    return (
        Feature(f"the mean of the {quantity}", (a, b), lambda p: p[a] / (p[a] + p[b])),
        Feature(f"the spread of {quantity} across customers", (a, b), spread),
    )


def outward_direction(
    loglik: Callable[[FloatArray], float],
    theta: FloatArray,
    *,
    bound: float,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> FloatArray | None:
    """A direction of log-parameters along which ``loglik`` does not fall from ``theta``, or
    ``None`` when it falls along every one probed: ``theta`` is then a maximum.

    Parameters
    ----------
    loglik : callable
        The log-likelihood of the natural (positive) parameters.
    theta : ndarray
        The optimum, in log-parameters.
    bound : float
        The search range is ``-bound .. bound``: a probe is shortened to stay within it, and
        not made when that leaves less than a tenth of a step (the caller reports a parameter
        at the edge).
    pairs : sequence of (int, int), optional
        The pairs of parameters probed together (``None``: every pair). A model's limits lie
        within one mixing distribution, so its fit probes the pairs of each one's parameters
        (:class:`Feature`), a few evaluations instead of every pair's.

    Returns
    -------
    ndarray or None
        Of -1, 0 and +1 per parameter. Each parameter and each pair is moved by 1 either way;
        a direction is one along which the log-likelihood did not fall by 1e-8 of its
        magnitude (or by 10 times its rounding, measured by a move of 1e-12, when that is
        more). Of those, the one moving the most parameters, further from 1 (the way they ran
        off), then rising the most, is returned, joined by the next ones that move other
        parameters as long as the log-likelihood does not fall along the sum either.

    Examples
    --------
    Rising as x and y grow together; a maximum at 1 in z:

    >>> f = lambda p: -1 / p[0] - 1 / p[1] - (p[0] / p[1] - 1) ** 2 - np.log(p[2]) ** 2
    >>> outward_direction(f, np.log([1e3, 1e3, 1.0]), bound=25.0).tolist()
    [1.0, 1.0, 0.0]
    >>> print(outward_direction(lambda p: -((np.log(p) - 1) ** 2).sum(), np.ones(3), bound=25.0))
    None
    """

    def at(point: FloatArray) -> float:
        with np.errstate(all="ignore"):
            value = float(loglik(np.exp(point)))
        return value if np.isfinite(value) else -np.inf

    def rise(direction: FloatArray) -> float:
        """The change of the log-likelihood a step along ``direction``, kept in the search
        range; -inf when that leaves less than ``_SHORTEST`` of a step."""
        moving = direction != 0
        room = (bound - direction[moving] * theta[moving]) / np.abs(direction[moving])
        step = min(1.0, float(np.min(room)))
        return -np.inf if step < _SHORTEST else at(theta + step * direction) - top

    top = at(theta)
    if not np.isfinite(top):
        return None
    k = theta.shape[0]
    moved = [at(theta + side * _JIGGLE) for side in (-1.0, 1.0)]
    noise = max((abs(value - top) for value in moved if np.isfinite(value)), default=0.0)
    tolerance = max(_FALL * max(abs(top), 1.0), _ROUNDING * noise)
    outward = np.sign(theta)
    level: list[tuple[tuple[int, float, float], FloatArray]] = []
    together = list(itertools.combinations(range(k), 2)) if pairs is None else list(pairs)
    for size, groups in ((1, [(j,) for j in range(k)]), (2, together)):
        for where in groups:
            for signs in itertools.product((-1.0, 1.0), repeat=size):
                direction = np.zeros(k)
                direction[list(where)] = signs
                change = rise(direction)
                if change >= -tolerance:
                    level.append(((size, float(direction @ outward), change), direction))
    if not level:
        return None
    level.sort(key=lambda item: item[0], reverse=True)
    found = level[0][1]
    for _, direction in level[1:]:
        joined = found + direction
        if not np.any((found != 0) & (direction != 0)) and rise(joined) >= -tolerance:
            found = joined
    return found


def _names(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _movement(signs: Mapping[str, int], features: Sequence[Feature]) -> str:
    """``r and alpha grow without bound at a fixed ratio, a shrinks towards 0 and b grows
    without bound``: how the parameters with a non-zero sign move, those of one feature (the
    first naming them) together."""
    groups: list[list[str]] = []
    for name in signs:
        if not signs[name] or any(name in group for group in groups):
            continue
        family = next((f.names for f in features if name in f.names), (name,))
        groups.append([n for n in family if signs.get(n)])
    parts = []
    for group in groups:
        ways = {signs[n] for n in group}
        if len(group) > 1 and len(ways) == 1:
            verb = "grow without bound" if ways == {1} else "shrink towards 0"
            parts.append(f"{_names(group)} {verb} at a fixed ratio")
            continue
        parts.extend(
            f"{n} {'grows without bound' if signs[n] > 0 else 'shrinks towards 0'}" for n in group
        )
    return _names(parts)


def run_off_message(
    model: str,
    params: Mapping[str, float],
    direction: FloatArray,
    edge: Sequence[str],
    features: Sequence[Feature],
    *,
    penalizer: bool,
) -> str:
    """The warning of a fit whose likelihood does not fall along ``direction`` (signs per
    parameter, in the order of ``params``), with the parameters in ``edge`` at the edge of the
    search range: which parameters run off, which ``features`` move with them (what the data
    do not determine), and what would help."""
    signs = {n: int(s) for n, s in zip(params, np.sign(direction))}
    shown = ", ".join(f"{n}={params[n]:.3g}" for n, s in signs.items() if s)
    further = {n: v * float(np.exp(signs[n])) for n, v in params.items()}
    lacking = []
    for feature in features:
        with np.errstate(all="ignore"):
            before, after = feature.value(params), feature.value(further)
        if not (np.isfinite(before) and np.isfinite(after) and before > 0 and after > 0):
            continue
        change = float(np.log(after / before))
        if abs(change) > 1e-3:
            limit = "grows without bound" if change > 0 else "tends to 0"
            lacking.append(f"{feature.label} (it {limit})")
    if len(lacking) > 1:
        what = f"{', '.join(lacking[:-1])} or {lacking[-1]}"
    else:
        what = lacking[0] if lacking else _names([n for n, s in signs.items() if s])
    reached = ""
    if edge:
        verb = "has" if len(edge) == 1 else "have"
        reached = f" ({_names(list(edge))} {verb} reached the edge of the search range, exp(+-25))"
    growing = [n for n, s in signs.items() if s > 0]
    helps = ""
    if penalizer and growing:  # the penalty is on the squares: it keeps none from 0
        helps = f"; penalizer_coef > 0 keeps {_names(growing)} finite"
    return (
        f"{model}: the likelihood does not fall as {_movement(signs, features)} "
        f"({shown}){reached}: "
        "it keeps rising, or stays level, towards the edge of the parameter space, so the data "
        f"do not determine {what}. The parameters are a point on the way, not a maximum "
        "(convergence_.converged is False), and the predictions are close to those of the "
        "limit. More customers, or customers whose histories differ more, would determine "
        f"them{helps}"
    )
