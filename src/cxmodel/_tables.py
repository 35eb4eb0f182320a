"""Tables of labelled columns shared by the analyses: MetricTable and the small-sample warning."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._pieces import warn
from cxmodel._result import Result, columns
from cxmodel.errors import DataWarning, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "FLAT_MEAN",
    "SMALL_N",
    "MetricTable",
    "SmallSampleWarning",
    "check_key_names",
    "warn_flat_intervals",
    "warn_small_groups",
]

SMALL_N = 30

FLAT_MEAN = (
    "every answer is the same point (standard deviation 0), so the t interval of the mean has "
    "no spread and does not measure its uncertainty"
)
"""What :func:`warn_flat_intervals` says of a mean's interval when every answer is equal."""


class SmallSampleWarning(UserWarning):
    """A metric was computed from fewer than 30 answers; its interval is unreliable."""


def warn_small_groups(n: npt.ArrayLike, what: str) -> None:
    """Warn :class:`SmallSampleWarning` when a group has answers, but fewer than 30.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_small_groups([0, 12, 40], "NPS")
    >>> str(caught[0].message)
    'NPS: 1 group(s) have fewer than 30 answers (smallest n = 12); intervals are unreliable'
    """
    counts = np.asarray(n)
    small = (counts > 0) & (counts < SMALL_N)
    if small.any():
        warn(
            f"{what}: {int(small.sum())} group(s) have fewer than {SMALL_N} answers "
            f"(smallest n = {int(counts[small].min())}); intervals are unreliable",
            SmallSampleWarning,
        )


def warn_flat_intervals(
    n: npt.ArrayLike,
    low: npt.ArrayLike,
    high: npt.ArrayLike,
    what: str,
    why: str,
    *,
    census: npt.ArrayLike | None = None,
) -> None:
    """Warn :class:`~cxmodel.errors.DataWarning` when a group of at least 30 answers has an
    interval of zero width, with the count of such groups.

    A zero-width interval (``+100 (95 % CI +100 to +100)``) claims certainty the sample cannot
    give: it comes from a formula whose variance vanishes when every answer is alike. Smaller
    groups already warn :class:`SmallSampleWarning`; groups flagged in ``census`` (every member
    of the population answered) have no sampling error, so they are not counted. ``why`` says
    what made the interval flat and what to do.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_flat_intervals([50, 40], [100.0, 20.0], [100.0, 30.0], "NPS", "all alike")
    >>> str(caught[0].message)
    'NPS: 1 group(s) of 30 or more answers have an interval of zero width (n = 50): all alike'
    """
    counts = np.asarray(n)
    with np.errstate(invalid="ignore"):
        flat = (counts >= SMALL_N) & (np.asarray(high) - np.asarray(low) == 0)
    if census is not None:
        flat &= ~np.asarray(census, dtype=bool)
    if flat.any():
        low_n, high_n = int(counts[flat].min()), int(counts[flat].max())
        shown = f"n = {low_n}" if low_n == high_n else f"n = {low_n} to {high_n}"
        warn(
            f"{what}: {int(flat.sum())} group(s) of {SMALL_N} or more answers have an interval "
            f"of zero width ({shown}): {why}",
            DataWarning,
        )


def check_key_names(names: Iterable[str], statistics: Iterable[str], table: str) -> None:
    """Refuse a table whose key columns (``names``: a ``by=`` column's name, ``"period"``)
    share a name with each other or with one of its ``statistics`` columns: the table's
    columns are one mapping of names, so the groups' labels would be overwritten by the
    numbers and no row would say which group it is.

    Examples
    --------
    >>> check_key_names(["touchpoint", "period"], ["n", "value"], "NPS")
    >>> check_key_names(["n"], ["n", "value"], "NPS")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: by='n' names a column the NPS table has too (its 'n'), ...
    """
    taken = set(statistics)
    seen: set[str] = set()
    for name in names:
        if name in taken or name in seen:
            what = f"its {name!r}" if name in taken else "the period= groups"
            raise SchemaError(
                f"by={name!r} names a column the {table} table has too ({what}), so the "
                "groups' labels would be overwritten; copy the column under another name "
                f"first, e.g. log = log.with_column({name + '_group'!r}, log.column({name!r})), "
                f"and pass by={name + '_group'!r}"
            )
        seen.add(name)


@attrs.frozen(eq=False, repr=False)
class MetricTable(Result):
    """A breakdown: one row per group, one ndarray per column.

    Key columns come first (``by``, ``period``), then the metric's columns. Interval columns
    are ``ci_low`` and ``ci_high``.

    Examples
    --------
    >>> import numpy as np
    >>> t = MetricTable("demo", {"group": np.array(["a", "b"], dtype=object),
    ...                          "n": np.array([1, 2])})
    >>> len(t), t["n"].tolist()
    (2, [1, 2])
    """

    name: str
    columns: Mapping[str, npt.NDArray[Any]] = attrs.field(metadata=columns())

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first)

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self.columns[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(self.columns)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a trend over periods with interval bands, or bars with interval whiskers by group (experience drivers: a forest plot) (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_metric_table`.
        """
        from cxmodel.plot import plot_metric_table

        return plot_metric_table(self, ax, **kwargs)
