"""Tables of labelled columns shared by the analyses: MetricTable, dict/pandas/HTML conversion,
the small-sample warning."""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._html import MAX_ROWS, html_cell, more_rows
from cxmodel._optional import import_optional

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "SMALL_N",
    "MetricTable",
    "SmallSampleWarning",
    "columns_to_html",
    "columns_to_pandas",
    "result_html",
    "result_to_pandas",
    "warn_small_groups",
]

SMALL_N = 30


class SmallSampleWarning(UserWarning):
    """A metric was computed from fewer than 30 answers; its interval is unreliable."""


def warn_small_groups(n: npt.ArrayLike, what: str, *, stacklevel: int = 3) -> None:
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
        warnings.warn(
            f"{what}: {int(small.sum())} group(s) have fewer than {SMALL_N} answers "
            f"(smallest n = {int(counts[small].min())}); intervals are unreliable",
            SmallSampleWarning,
            stacklevel=stacklevel,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def result_to_pandas(fields: Mapping[str, Any], feature: str) -> Any:
    """One-row DataFrame of a scalar result (tuples become ``_low``/``_high`` columns)."""
    pd = import_optional("pandas", feature)
    row: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(value, tuple):
            row[f"{name}_low"], row[f"{name}_high"] = value
        else:
            row[name] = value
    return pd.DataFrame([row])


def result_html(title: str, fields: Mapping[str, Any]) -> str:
    """A small two-column HTML table of a result's fields."""
    body = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html_cell(value)}</td></tr>"
        for name, value in fields.items()
    )
    return f"<table><caption>{html.escape(title)}</caption>{body}</table>"


def columns_to_pandas(columns: Mapping[str, npt.NDArray[Any]], feature: str) -> Any:
    """A pandas DataFrame from named equal-length columns (pandas imported lazily)."""
    pd = import_optional("pandas", feature)
    return pd.DataFrame({name: np.asarray(values) for name, values in columns.items()})


def columns_to_html(title: str, columns: Mapping[str, npt.NDArray[Any]], limit: int = 10) -> str:
    """A small HTML table showing the first ``limit`` rows of named columns, then how many
    more there are."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if names else 0
    head = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    rows = []
    for i in range(min(n, limit)):
        cells = "".join(f"<td>{html_cell(columns[name][i])}</td>" for name in names)
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<p><b>{html.escape(title)}</b> ({n} rows)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + more_rows(n, len(rows))
    )


@attrs.frozen(eq=False)
class MetricTable:
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
    columns: Mapping[str, npt.NDArray[Any]]

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else len(first)

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        return self.columns[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(self.columns)

    def to_dict(self) -> dict[str, npt.NDArray[Any]]:
        """The columns as a dict of arrays."""
        return dict(self.columns)

    def to_pandas(self) -> Any:
        """One row per group (needs pandas)."""
        pd = import_optional("pandas", "MetricTable.to_pandas()")
        return pd.DataFrame(dict(self.columns))

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw a trend over periods with interval bands, or bars with interval whiskers by group (experience drivers: a forest plot) (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_metric_table`.
        """
        from cxmodel.plot import plot_metric_table

        return plot_metric_table(self, ax, **kwargs)

    def _repr_html_(self, limit: int = MAX_ROWS) -> str:
        head = "".join(f"<th>{html.escape(n)}</th>" for n in self.columns)
        rows = []
        shown = min(len(self), limit)
        for i in range(shown):
            cells = "".join(f"<td>{html_cell(col[i])}</td>" for col in self.columns.values())
            rows.append(f"<tr>{cells}</tr>")
        caption = html.escape(f"{self.name} ({len(self)} rows)")
        return (
            f"<table><caption>{caption}</caption><tr>{head}</tr>{''.join(rows)}</table>"
            + more_rows(len(self), shown)
        )
