"""Named RFM segments: ordered rule lists checked for coverage and reachability."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import of_type
from cxmodel._result import Result, column
from cxmodel.errors import SchemaError
from cxmodel.segment._rfm import RFMScores

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DEFAULT_SEGMENT_MAP", "RFMSegments", "SegmentMap", "SegmentRule", "rfm_segments"]

Range = tuple[float, float] | None


def _range(value: Any) -> Range:
    if value is None:
        return None
    try:
        lo, hi = value
        lo_f, hi_f = float(lo), float(hi)
    except (TypeError, ValueError):
        raise SchemaError(
            f"a segment rule range must be a (low, high) pair or None (got {value!r})"
        ) from None
    if lo_f > hi_f:
        raise SchemaError(f"a segment rule range must have low <= high (got {value!r})")
    return (lo_f, hi_f)


@attrs.frozen
class SegmentRule:
    """One named rule: inclusive ranges on the ``r``, ``f``, ``m`` scores and ``fm`` (the mean of
    ``f`` and ``m``); ``None`` means any value.

    Examples
    --------
    >>> SegmentRule("Champions", r=(4, 5), f=(4, 5)).matches(5, 4, 1)
    True
    """

    name: str = attrs.field()
    r: Range = attrs.field(default=None, converter=_range)
    f: Range = attrs.field(default=None, converter=_range)
    m: Range = attrs.field(default=None, converter=_range)
    fm: Range = attrs.field(default=None, converter=_range)

    @name.validator
    def _check_name(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value:
            raise SchemaError(f"a segment rule needs a non-empty name (got {value!r})")

    def matches(self, r: float, f: float, m: float) -> bool:
        """Whether the score cell (r, f, m) satisfies every range."""
        checks = ((self.r, r), (self.f, f), (self.m, m), (self.fm, (f + m) / 2))
        return all(rng is None or rng[0] <= v <= rng[1] for rng, v in checks)


def _rules(value: Sequence[SegmentRule]) -> tuple[SegmentRule, ...]:
    rules = tuple(value)
    for rule in rules:
        if not isinstance(rule, SegmentRule):
            raise SchemaError(f"segment map rules must be SegmentRule objects (got {rule!r})")
    return rules


@attrs.frozen
class SegmentMap:
    """An ordered rule list mapping score cells to segment names (first match wins).

    Checked when built, over the full grid of scores ``1..n_bins`` for r, f and m: every cell must
    be matched by some rule (else :class:`~cxmodel.errors.SchemaError` lists uncovered cells) and
    every rule must win at least one cell (else the error names the unreachable rules, which are
    shadowed by earlier ones).

    Examples
    --------
    >>> sm = SegmentMap([SegmentRule("recent", r=(4, 5)), SegmentRule("other")])
    >>> sm.names
    ('recent', 'other')
    >>> SegmentMap([SegmentRule("all"), SegmentRule("never", r=(5, 5))])
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: segment map has unreachable rules (shadowed by earlier rules): 'never'
    """

    rules: tuple[SegmentRule, ...] = attrs.field(converter=_rules)
    n_bins: int = 5
    _grid: npt.NDArray[np.int64] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if not self.rules:
            raise SchemaError("a segment map needs at least one rule (got none)")
        names = [rule.name for rule in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SchemaError(f"segment map has duplicate rule names: {dupes}")
        n = self.n_bins
        grid = np.full((n, n, n), -1, dtype=np.int64)
        for r, f, m in itertools.product(range(1, n + 1), repeat=3):
            for index, rule in enumerate(self.rules):
                if rule.matches(r, f, m):
                    grid[r - 1, f - 1, m - 1] = index
                    break
        uncovered = np.argwhere(grid < 0) + 1
        if uncovered.size:
            cells = ", ".join(f"(r={a}, f={b}, m={c})" for a, b, c in uncovered[:5].tolist())
            more = f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else ""
            raise SchemaError(
                f"segment map does not cover {len(uncovered)} score cells: {cells}{more}; "
                "add a rule for them or a final catch-all rule"
            )
        used = np.zeros(len(self.rules), dtype=bool)
        used[np.unique(grid)] = True
        if not used.all():
            dead = ", ".join(repr(names[i]) for i in np.flatnonzero(~used).tolist())
            raise SchemaError(
                f"segment map has unreachable rules (shadowed by earlier rules): {dead}"
            )
        object.__setattr__(self, "_grid", grid)

    @property
    def names(self) -> tuple[str, ...]:
        """The segment names in rule order."""
        return tuple(rule.name for rule in self.rules)

    def assign(self, r: npt.ArrayLike, f: npt.ArrayLike, m: npt.ArrayLike) -> npt.NDArray[Any]:
        """Segment names for arrays of scores (vectorised lookup in the precomputed grid)."""
        ri, fi, mi = (np.asarray(x, dtype=np.int64) - 1 for x in (r, f, m))
        for label, arr in (("r", ri), ("f", fi), ("m", mi)):
            if arr.size and (arr.min() < 0 or arr.max() >= self.n_bins):
                raise SchemaError(
                    f"score {label} has values outside 1..{self.n_bins} (the map's n_bins)"
                )
        names = np.array(self.names, dtype=object)
        return names[self._grid[ri, fi, mi]]


DEFAULT_SEGMENT_MAP = SegmentMap(
    [
        SegmentRule("Champions", r=(5, 5), f=(4, 5)),
        SegmentRule("Loyal", r=(3, 4), f=(4, 5)),
        SegmentRule("Potential Loyalists", r=(4, 5), f=(2, 3)),
        SegmentRule("New Customers", r=(5, 5), f=(1, 1)),
        SegmentRule("Promising", r=(4, 4), f=(1, 1)),
        SegmentRule("Need Attention", r=(3, 3), f=(3, 3)),
        SegmentRule("About to Sleep", r=(3, 3), f=(1, 2)),
        SegmentRule("Can't Lose", r=(1, 2), f=(5, 5)),
        SegmentRule("At Risk", r=(1, 2), f=(3, 4)),
        SegmentRule("Hibernating", r=(1, 2), f=(1, 2)),
    ]
)
"""The default R x F map (5 score levels; ``m`` is not used)."""


@attrs.frozen(eq=False, repr=False)
class RFMSegments(Result):
    """Segment labels per customer.

    Attributes
    ----------
    customer_id : ndarray of str
    labels : ndarray of str
    segment_map : SegmentMap
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    labels: npt.NDArray[np.object_] = attrs.field(metadata=column())
    segment_map: SegmentMap

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])

    def counts(self) -> dict[str, int]:
        """Customers per segment, in the map's rule order."""
        return {name: int(np.count_nonzero(self.labels == name)) for name in self.segment_map.names}

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the R x F grid map with segment names and counts (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_rfm_segments`.
        """
        from cxmodel.plot import plot_rfm_segments

        return plot_rfm_segments(self, ax, **kwargs)


def rfm_segments(
    scores: RFMScores, segment_map: SegmentMap | Sequence[SegmentRule] | None = None
) -> RFMSegments:
    """Name each customer's segment from their RFM scores.

    Parameters
    ----------
    scores : RFMScores
        From :func:`rfm_scores`.
    segment_map : SegmentMap or sequence of SegmentRule, optional
        An ordered rule list (first match wins); by default :data:`DEFAULT_SEGMENT_MAP`, the
        R x F grid, which needs ``n_bins=5``. A list of rules is checked as a
        :class:`SegmentMap` with the scores' ``n_bins``.

    Returns
    -------
    RFMSegments

    Raises
    ------
    SchemaError
        When the map's ``n_bins`` differs from the scores', or the rules do not cover the grid or
        contain unreachable rules.

    Examples
    --------
    >>> import numpy as np
    >>> from cxmodel.segment import RFMScores
    >>> one = np.array([1, 5])
    >>> s = RFMScores(np.array(["a", "b"], dtype=object), np.zeros(2), one, np.zeros(2),
    ...               r=np.array([5, 1]), f=np.array([5, 1]), m=one, n_bins=5, as_of=0)
    >>> rfm_segments(s).labels.tolist()
    ['Champions', 'Hibernating']
    """
    of_type(scores, RFMScores, "rfm_segments()", "scores", "RFMScores (from rfm_scores)")
    if segment_map is None:
        chosen = DEFAULT_SEGMENT_MAP
    elif isinstance(segment_map, SegmentMap):
        chosen = segment_map
    else:
        hint = "a SegmentMap or a list of SegmentRule"
        rules = of_type(segment_map, Sequence, "rfm_segments()", "segment_map", hint)
        chosen = SegmentMap(list(rules), n_bins=scores.n_bins)
    if chosen.n_bins != scores.n_bins:
        raise SchemaError(
            f"segment_map is built for n_bins={chosen.n_bins} but the scores have "
            f"n_bins={scores.n_bins}; build the map with SegmentMap(rules, n_bins={scores.n_bins})"
        )
    return RFMSegments(
        customer_id=scores.customer_id,
        labels=chosen.assign(scores.r, scores.f, scores.m),
        segment_map=chosen,
    )
