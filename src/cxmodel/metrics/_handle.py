"""Average handle time, and survival curves by group."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import flat_labels, interaction_log, name_sequence, real
from cxmodel._pieces import warn
from cxmodel._result import Result
from cxmodel._stats import mean_t_interval
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.metrics._answers import sorted_labels
from cxmodel.metrics._groups import missing_as_label
from cxmodel.metrics._survival import SurvivalCurve, durations_and_events, kaplan_meier

__all__ = ["HandleTime", "average_handle_time", "kaplan_meier_by"]


@attrs.frozen(repr=False)
class HandleTime(Result):
    """Average handle time: (talk + hold + after-contact work) / handled contacts, in seconds."""

    value: float
    se: float
    ci: tuple[float, float]
    median: float
    n: int
    components: tuple[str, ...]
    level: float


def average_handle_time(
    log: InteractionLog,
    *,
    kinds: Sequence[str] = ("call", "chat"),
    components: Sequence[str] = ("talk_seconds", "hold_seconds", "after_work_seconds"),
    level: float = 0.95,
) -> HandleTime:
    """Average handle time of the contacts of ``kinds`` that carry handling durations.

    AHT = (talk + hold + after-contact work) / handled contacts. A contact counts as handled when
    at least one of the ``components`` columns has a value on it; a missing component counts as
    0 s. The interval is a Student-t interval on the mean; the median is reported too because
    handle times are skewed.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    kinds : sequence of str, default ("call", "chat")
        The contact kinds.
    components : sequence of str, default ("talk_seconds", "hold_seconds", "after_work_seconds")
        Numeric columns of handling durations, in seconds, summed per contact.
    level : float, default 0.95
        Confidence level of the interval.

    Raises
    ------
    SchemaError
        A component column is absent from the log, or holds a negative duration (the
        message names its row, column and value).

    Warns
    -----
    DataWarning
        When the result is NaN because none of ``kinds`` occurs in the log, or none of
        their contacts has a duration (with their count).

    Examples
    --------
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "b", "c"], timestamp=[0, 60, 120], kind=["call", "call", "view"],
    ...     talk_seconds=[300.0, 200.0, float("nan")], hold_seconds=[60.0, float("nan"), float("nan")],
    ...     after_work_seconds=[40.0, 0.0, float("nan")])
    >>> aht = average_handle_time(log)
    >>> aht.value, aht.n
    (300.0, 2)
    """
    log = interaction_log(log, "average_handle_time()")
    kinds = name_sequence(kinds, "average_handle_time()", "kinds")
    components = name_sequence(components, "average_handle_time()", "components", at_least_one=True)
    level = real(level, "average_handle_time()", "level")
    missing = [c for c in components if c not in log]
    if missing:
        raise SchemaError(
            f"average_handle_time(): column {missing[0]!r} is not in the log (columns: "
            f"{list(log.columns)}); name your duration columns with components=(...)"
        )
    read_kinds(
        log.kinds,
        kinds,
        argument="average_handle_time() kinds",
        meaning="there is no contact and the handle time is NaN",
    )
    rows = log.kind_mask(*kinds)
    parts = np.stack([log.numeric(c)[rows] for c in components]) if components else np.empty((0, 0))
    negative = np.argwhere(parts < 0)  # (component, contact) pairs
    if negative.size:
        c, i = (int(j) for j in negative[0])
        row = int(log.row_order[np.flatnonzero(rows)[i]]) + 1
        raise SchemaError(
            f"average_handle_time(): row {row}: {components[c]} {float(parts[c, i])!r} is "
            f"negative (column {components[c]!r}); handling durations are seconds >= 0"
        )
    handled = ~np.isnan(parts).all(axis=0) if parts.size else np.zeros(0, dtype=bool)
    totals = np.nansum(parts[:, handled], axis=0) if parts.size else np.zeros(0)
    n = int(totals.size)
    if n == 0 and rows.any():
        warn(
            f"average_handle_time(): none of the {int(rows.sum()):,} {'/'.join(kinds)} "
            f"contact(s) has a value in {', '.join(components)}, so the handle time is NaN",
            DataWarning,
        )
    if n == 0:
        nan = float("nan")
        return HandleTime(nan, nan, (nan, nan), nan, 0, tuple(components), float(level))
    mean = float(totals.mean())
    var = float(totals.var(ddof=1)) if n > 1 else float("nan")
    se, low, high = mean_t_interval(n, mean, var, level, 1.0)
    return HandleTime(mean, se, (low, high), float(np.median(totals)), n, tuple(components),
                      float(level))  # fmt: skip


def kaplan_meier_by(
    durations: npt.ArrayLike,
    observed: npt.ArrayLike | None = None,
    *,
    groups: npt.ArrayLike,
    level: float = 0.95,
) -> dict[str, SurvivalCurve]:
    """One Kaplan-Meier curve per group (a cohort, a segment), keyed by the group label.

    Each curve is :func:`kaplan_meier` on that group's durations; compare two with
    :func:`logrank_test`. Groups are returned in sorted label order; a missing label (None
    or NaN) is the group ``"(missing)"``.

    Parameters
    ----------
    durations : array-like of float
        Time to the event or to censoring, one per subject.
    observed : array-like of bool, optional
        True where the event happened; default all.
    groups : array-like
        One group label per subject.
    level : float, default 0.95
        Confidence level of each curve's interval.

    Raises
    ------
    SchemaError
        A duration that is negative, NaN or infinite (named by its position in
        ``durations``), or labels or event flags of the wrong length.

    Examples
    --------
    >>> curves = kaplan_meier_by([1, 2, 3, 4], [1, 1, 1, 0], groups=["a", "a", "b", "b"])
    >>> sorted(curves), curves["a"].median
    (['a', 'b'], 1.0)
    """
    d, e = durations_and_events(durations, observed, "kaplan_meier_by()")
    given = flat_labels(np.asarray(groups, dtype=object), "kaplan_meier_by()", "groups")
    sorted_labels(given, "kaplan_meier_by(): groups")  # refuses "1" with 1: one group
    labels = missing_as_label(given).astype(str)
    if labels.shape != d.shape:
        raise SchemaError(
            f"kaplan_meier_by(): groups has {labels.size} labels for {d.size} durations; "
            "expected one label per duration"
        )
    if d.size == 0:
        raise DataError("kaplan_meier_by() got no durations; expected at least one")
    names, codes = np.unique(labels, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(names.size + 1))
    return {
        str(name): kaplan_meier(d[order[lo:hi]], e[order[lo:hi]], level=level)
        for name, lo, hi in zip(names, bounds[:-1], bounds[1:])
    }
