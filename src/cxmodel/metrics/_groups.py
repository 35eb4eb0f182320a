"""Breakdowns shared by the rate metrics: group labels, calendar periods, Wilson rate tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import missing_labels
from cxmodel._periods import index_labels, period_index
from cxmodel._stats import wilson_bounds, z_value
from cxmodel._tables import MetricTable, check_key_names
from cxmodel.errors import SchemaError
from cxmodel.metrics._accumulators import MAX_GRID, group_rows
from cxmodel.metrics._answers import MISSING, sorted_labels
from cxmodel.metrics._retention import RateResult, rate_result, warn_empty_rate

__all__ = [
    "MAX_GRID",
    "MISSING",
    "group_table",
    "key_columns",
    "key_name",
    "missing_as_label",
    "rate_breakdown",
    "wilson_columns",
]

NAN = float("nan")
IntArray = npt.NDArray[np.int64]


def missing_as_label(values: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """``values`` as objects with None, NaN and pandas' NA replaced by ``"(missing)"`` (a
    copy)."""
    out = np.array(values, dtype=object)
    out[missing_labels(out)] = MISSING
    return out


def group_table(
    names: list[str],
    columns: list[npt.NDArray[Any]],
    n: int,
    period: str | None,
) -> tuple[dict[str, npt.NDArray[Any]], IntArray, int]:
    """Sorted group keys (decoded), each row's group, and the number of groups.

    Labels sort as :func:`~cxmodel.metrics._answers.sorted_labels` does: numbers as
    numbers, ``"(missing)"`` last. ``columns`` hold one key per row: labels, or period
    indexes for the key named
    ``"period"`` (decoded to labels with ``period``). With a period key, every period from the
    first to the last is a group of each combination of the other keys that occurs (n = 0 where
    it has no row), as the survey metrics give: a quiet month is a row, not a gap (up to a
    million rows; beyond, only the groups with rows). Without keys
    and rows the result is one group, so that "nothing" still gives a row with n = 0.
    """
    coded: list[npt.NDArray[Any]] = []
    vocabularies: list[npt.NDArray[np.object_] | None] = []
    for name, col in zip(names, columns, strict=True):
        if name == "period":
            coded.append(col)
            vocabularies.append(None)
        else:  # numbers in numeric order, "(missing)" last
            labels, codes = sorted_labels(col, name)
            coded.append(codes)
            vocabularies.append(np.append(labels, np.array([MISSING], dtype=object)))
    if "period" in names and n:
        keys, group = _every_period(coded, names.index("period"), n)
    else:
        keys, group = group_rows(coded, n)
    if not names and n == 0:
        keys = np.empty((1, 0), dtype=object)
    out: dict[str, npt.NDArray[Any]] = {}
    for j, (name, vocabulary) in enumerate(zip(names, vocabularies, strict=True)):
        part = keys[:, j]
        if vocabulary is not None:
            out[name] = vocabulary[part.astype(np.int64)]
        elif period is not None:
            out[name] = index_labels(part.astype(np.int64), period)
        else:
            out[name] = part.astype(object)
    return out, group, len(keys)


def _every_period(
    coded: list[npt.NDArray[Any]], at: int, n: int
) -> tuple[npt.NDArray[Any], IntArray]:
    """:func:`group_rows` of key columns whose column ``at`` holds period indexes, with every
    period from the first to the last under each combination of the other keys."""
    periods = np.asarray(coded[at], dtype=np.int64)
    lo = int(periods.min())
    width = int(periods.max()) - lo + 1
    other_keys, other = group_rows(coded[:at] + coded[at + 1 :], n)
    if len(other_keys) * width > MAX_GRID:  # as the survey metrics: no grid beyond 1M rows
        return group_rows(coded, n)
    group = other * width + (periods - lo)
    keys = np.empty((len(other_keys) * width, len(coded)), dtype=object)
    rest = [j for j in range(len(coded)) if j != at]
    keys[:, rest] = np.repeat(other_keys, width, axis=0)
    keys[:, at] = np.tile(np.arange(lo, lo + width, dtype=np.int64), len(other_keys))
    return keys, group


def key_name(by: str | npt.ArrayLike | None) -> str:
    """The name of a ``by`` breakdown's key column: the column's name, or ``"by"`` for labels."""
    return by if isinstance(by, str) else "by"


def key_columns(
    name: str,
    labels: npt.NDArray[Any] | None,
    period: str | None,
    times: npt.NDArray[np.int64] | None,
    timezone: str | None,
) -> tuple[list[str], list[npt.NDArray[Any]]]:
    """The key names and columns of a breakdown, for :func:`group_table`.

    ``labels`` (one per row, or None) become the key ``name``; with ``period``, the calendar
    period of each row's time in ``times`` (in ``timezone``) becomes the key ``"period"``.

    Raises
    ------
    SchemaError
        When ``period`` is given without ``times``.
    """
    names: list[str] = []
    columns: list[npt.NDArray[Any]] = []
    if labels is not None:
        names.append(name)
        columns.append(labels)
    if period is not None:
        if times is None:
            raise SchemaError("period= needs the time of each item")
        names.append("period")
        columns.append(period_index(times, period, timezone))
    return names, columns


def wilson_columns(
    successes: IntArray, n: IntArray, z: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Share and Wilson interval per group (NaN where n = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, successes / np.maximum(n, 1), NAN)
    low, high = wilson_bounds(successes, n, z)
    return share, low, high


def rate_breakdown(
    success: npt.NDArray[np.bool_],
    *,
    definition: str,
    caller: str | None,
    labels: npt.NDArray[Any] | None = None,
    by_name: str = "by",
    times: npt.NDArray[np.int64] | None = None,
    period: str | None = None,
    timezone: str | None = None,
    level: float = 0.95,
    table_name: str = "rate",
    numerator_name: str = "numerator",
) -> RateResult | MetricTable:
    """A proportion over items (tickets, orders, deliveries) with Wilson intervals.

    ``success`` has one flag per item in the denominator. Without ``labels`` and ``period``
    the result is a :class:`RateResult`; with them a :class:`MetricTable` keyed by
    ``by_name`` and ``period`` (of ``times``, calendar periods in ``timezone``), with
    ``value``, ``ci_low``, ``ci_high``, ``numerator`` (named ``numerator_name``) and ``n`` per
    group seen. No item at all (an empty denominator) warns, naming ``caller``;
    ``caller=None`` when the caller has already said why there is no item.
    """
    z = z_value(level)
    n_items = int(success.shape[0])
    if caller is not None:
        warn_empty_rate(n_items, definition, caller=caller)
    if labels is None and period is None:
        return rate_result(int(success.sum()), n_items, definition, level)
    if labels is not None:
        if labels.shape != (n_items,):
            raise SchemaError(
                f"by has {labels.shape[0] if labels.ndim else 0} labels for {n_items} items; "
                "expected one label per item or a column name"
            )
        labels = missing_as_label(labels)
    names, columns = key_columns(by_name, labels, period, times, timezone)
    check_key_names(names, ("value", "ci_low", "ci_high", numerator_name, "n"), table_name)
    keys, group, size = group_table(names, columns, n_items, period)
    n = np.bincount(group, minlength=size).astype(np.int64)
    hits = np.bincount(group, weights=success, minlength=size).astype(np.int64)
    share, low, high = wilson_columns(hits, n, z)
    table: dict[str, npt.NDArray[Any]] = dict(keys)
    table |= {"value": share, "ci_low": low, "ci_high": high, numerator_name: hits, "n": n}
    return MetricTable(table_name, table)
