"""Did acting help? Treated customers against a rule's held-out customers."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from cxmodel._arguments import got, interaction_log
from cxmodel._pieces import warn
from cxmodel._power import newcombe_mde
from cxmodel._result import plain
from cxmodel._stats import newcombe_interval, welch_se_interval, z_value
from cxmodel._tables import MetricTable
from cxmodel._time import TimeLike, add_duration, as_of_us, format_duration, parse_duration
from cxmodel.errors import DataWarning, NotFoundError, SchemaError, did_you_mean
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import read_kinds
from cxmodel.log._observed import warn_after_data

__all__ = [
    "ActionEffect",
    "action_effect",
    "as_firings",
    "both_arms",
    "customer_codes_of",
    "first_firings",
    "mixed_groups",
    "mixed_warning",
    "read_until",
    "warn_unknown_customers",
    "warn_unobserved_windows",
    "window_bounds",
]

NAN = float("nan")
POWER = 0.80
Z_POWER = float(stats.norm.ppf(POWER))
RULE_OF_THREE = 3
"""A group with fewer than 3 customers with a non-zero value has its variance in the value
interval taken as at least that of a group in which 3 had one: with none seen among n, a share
up to 3 / n is still plausible at 95 % (the rule of three), so such a group's mean is not read
as exact."""
FEW_VALUES = 20
"""Below this many customers with a non-zero value in a group, the value interval is said to be
unreliable: a mean of few skewed values is far from normal. Simulated with exponential spend,
95 % intervals (with the :data:`RULE_OF_THREE` floor) hold the truth about 91 % of the time
with 10 such customers expected in the smaller group, 93 % with 5 or 25, and 96 % or more
with 3 or fewer (the floor is conservative)."""


@attrs.frozen(eq=False, repr=False)
class ActionEffect(MetricTable):
    """The effect of each trigger's action: one row per trigger, treated against held out.

    Columns: ``trigger``; ``n_treated`` and ``n_held_out`` (customers); ``rate_treated`` and
    ``rate_held_out`` (share with the outcome within the window); ``difference`` (treated -
    held out) with the Newcombe interval ``ci_low`` / ``ci_high``; ``lift`` (relative:
    ``rate_treated / rate_held_out - 1``, NaN when no held-out customer had the outcome);
    ``mde`` (the smallest increase over the held-out
    rate that the interval detects with 80 % power; NaN when no customer, or every one, had
    the outcome, or when no increase reaches that power); ``n_pending`` (customers left out
    because their window had not closed). With ``value=``, the same for the mean value per
    customer: ``value_treated``, ``value_held_out``, ``value_difference``, ``value_ci_low``,
    ``value_ci_high`` (Welch, a group with fewer than 3 customers with a value taken as 3;
    NaN when a group has fewer than 2 customers), ``value_lift`` (NaN when the held-out mean
    is not positive), ``value_mde`` (normal approximation, same variances).

    ``outcome``, ``window`` and ``level`` say what was measured; :meth:`effect` gives one
    trigger's row as a dict.
    """

    outcome: str
    window: str
    level: float

    def effect(self, trigger: str) -> dict[str, Any]:
        """The row of ``trigger`` as a dict of plain values."""
        names = self.columns["trigger"].tolist()
        if trigger not in names:
            raise NotFoundError(
                f"no held-out customers for trigger {trigger!r}; triggers: {names}"
                + did_you_mean(str(trigger), names)
            )
        i = names.index(trigger)
        return {k: plain(v[i], nan=NAN) for k, v in self.columns.items()}


def _outcome_mask(log: InteractionLog, outcome: str | tuple[str, Any]) -> npt.NDArray[np.bool_]:
    if isinstance(outcome, str):
        read_kinds(
            log.kinds.tolist(),
            [outcome],
            argument="action_effect() outcome",
            meaning="every rate is 0",
        )
        return np.asarray(log.kind_mask(outcome), dtype=bool)
    if isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[0], str):
        column, value = outcome
        if column not in log:
            raise SchemaError(f"outcome column {column!r} is not in the log")
        values = log.column(column)
        return np.asarray(values == value, dtype=bool)
    raise SchemaError(
        f"outcome must be an interaction kind or a (column, value) pair; got {outcome!r}"
    )


def window_bounds(
    log: InteractionLog,
    mask: npt.NDArray[np.bool_],
    codes: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The rows of ``mask`` in each unit's window: ``(rows, lo, hi)`` such that
    ``rows[lo[i]:hi[i]]`` are the masked rows of customer ``codes[i]`` with time in
    ``(start[i], stop[i]]``, in log order (none for code -1). The log is sorted by customer then
    time, so ranking the times makes (customer, time) one sortable integer key."""
    rows = np.flatnonzero(mask)
    times = log.timestamps[rows]
    every = np.unique(np.concatenate([times, start, stop]))
    width = np.int64(len(every) + 1)
    row_key = log.customer_codes[rows].astype(np.int64) * width + np.searchsorted(every, times)
    lo = np.searchsorted(row_key, codes * width + np.searchsorted(every, start), side="right")
    hi = np.searchsorted(row_key, codes * width + np.searchsorted(every, stop), side="right")
    hi = np.where(codes >= 0, hi, lo)
    return rows, lo.astype(np.int64), hi.astype(np.int64)


def _windows(
    log: InteractionLog,
    mask: npt.NDArray[np.bool_],
    codes: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    stop: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]:
    """Per unit (customer code, start, stop): the outcome rows in ``(start, stop]`` and the sum
    of their ``values``, and how many of those rows have no value (NaN, summed as 0)."""
    rows, lo, hi = window_bounds(log, mask, codes, start, stop)
    counts = hi - lo
    if values is None:
        return counts, np.zeros(len(codes)), 0
    read = values[rows]
    cum = np.concatenate([[0.0], np.cumsum(np.nan_to_num(read))])
    blank = np.concatenate([[0], np.cumsum(np.isnan(read))])
    return counts, cum[hi] - cum[lo], int((blank[hi] - blank[lo]).sum())


def read_until(log: InteractionLog, as_of: TimeLike | None) -> int:
    """The time (microseconds) up to which outcomes are read: ``as_of``, or by default the
    end of the log's observation (:attr:`~cxmodel.log.InteractionLog.observed_until`; 0 for
    an empty log)."""
    if as_of is not None:
        return as_of_us(as_of)
    return log.observed_until or 0


def warn_unobserved_windows(log: InteractionLog, end: int, unobserved: int, *, caller: str) -> None:
    """Warn that ``unobserved`` customers were measured over windows that end after the log's
    last interaction, because ``as_of`` (``end``) declared the data complete until later: an
    outcome in that span, if there was one, is not in the log, so they count without it."""
    if unobserved:
        warn_after_data(
            log.observed_until,
            end,
            f"{unobserved} customers' windows end in it, so an outcome there counts as none",
            caller=caller,
        )


def warn_unknown_customers(unknown: int, fired: int, *, caller: str) -> None:
    """Warn that ``unknown`` of the ``fired`` customers measured have no interaction in the
    log, so they count as without any outcome (firings of another log, or a log filtered
    before the call)."""
    if unknown:
        warn(
            f"{caller}: {unknown} of the {fired} customers measured never occur in the log, so "
            "they count as without any outcome; pass the log the firings were evaluated on",
            DataWarning,
        )


def customer_codes_of(log: InteractionLog, ids: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Each customer id's index in ``log.customers`` (sorted), -1 for one the log lacks.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(customer_id=["b", "a"], kind=["view", "view"],
    ...     timestamp=["2024-01-01T00:00Z"] * 2)
    >>> customer_codes_of(log, np.array(["b", "z", "a"], dtype=object)).tolist()
    [1, -1, 0]
    """
    known = np.asarray(log.customers, dtype=object)
    ids = np.asarray(ids, dtype=object)
    if known.size == 0 or ids.size == 0:
        return np.full(ids.shape[0], -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(known, ids), known.size - 1)
    return np.where(known[at] == ids, at, -1).astype(np.int64)


def first_firings(
    trig: npt.NDArray[Any], cust: npt.NDArray[Any], time: npt.NDArray[np.int64]
) -> dict[str, npt.NDArray[np.int64]]:
    """Per trigger (sorted by name): the position of each customer's first firing in the
    input arrays (customers sorted by id; equal times: the earlier position)."""
    out: dict[str, npt.NDArray[np.int64]] = {}
    ids = cust.astype(str)
    for name in sorted(set(trig.tolist())):
        sel = np.flatnonzero(trig == name)
        order = sel[np.lexsort((sel, time[sel], ids[sel]))]
        c = ids[order]
        keep = np.ones(len(c), dtype=bool)
        keep[1:] = c[1:] != c[:-1]
        out[name] = order[keep].astype(np.int64)
    return out


def _first(
    trig: npt.NDArray[Any], cust: npt.NDArray[Any], time: npt.NDArray[np.int64]
) -> dict[str, tuple[npt.NDArray[Any], npt.NDArray[np.int64]]]:
    """Per trigger: each customer's first firing time (customers sorted)."""
    return {
        name: (cust[at].astype(str), time[at])
        for name, at in first_firings(trig, cust, time).items()
    }


def both_arms(
    trig: npt.NDArray[Any],
    cust: npt.NDArray[Any],
    treated: npt.NDArray[np.bool_],
    held: npt.NDArray[np.bool_],
    *,
    caller: str,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """``treated`` and ``held`` without the customers of a trigger who are in both (an emitted
    and a held-out firing of one rule: firings of runs with another holdout share or salt),
    with a warning per trigger counting them. Such a customer was not assigned to one group
    at random, and counting it in both would make the two groups share customers."""
    pairs = list(zip(trig.tolist(), cust.tolist(), strict=True))
    in_treated = {p for p, t in zip(pairs, treated.tolist(), strict=True) if t}
    both = {p for p, h in zip(pairs, held.tolist(), strict=True) if h and p in in_treated}
    if not both:
        return treated, held
    for name, count in sorted(Counter(str(t) for t, _ in both).items()):
        warn(
            f"{caller}: trigger {name!r}: {count} customers have both emitted and held-out "
            "firings (firings of runs with another holdout share or salt?), so they were not "
            "assigned to one group; they are left out of both",
            DataWarning,
        )
    mixed = np.array([p in both for p in pairs], dtype=bool)
    return treated & ~mixed, held & ~mixed


_MIXING = {"no consent": "consent", "contact policy": "a contact policy"}


def mixed_groups(trig: npt.NDArray[Any], reason: npt.NDArray[Any]) -> dict[str, list[str]]:
    """Per trigger, what besides the holdout stopped some of its firings (``"consent"``,
    ``"a contact policy"``). The holdout is decided first, so the held-out customers include
    customers these would have stopped, and treated against held out mixes the action with
    them."""
    out: dict[str, list[str]] = {}
    for t, r in zip(trig.tolist(), reason.tolist(), strict=True):
        if isinstance(r, str):
            for prefix, cause in _MIXING.items():
                if r.startswith(prefix) and cause not in out.setdefault(str(t), []):
                    out[str(t)].append(cause)
    return {t: causes for t, causes in out.items() if causes}


def mixed_warning(trigger: str, causes: list[str]) -> str:
    """The warning for :func:`mixed_groups`."""
    return (
        f"trigger {trigger!r} also had firings stopped by {' and '.join(causes)}: held-out "
        "customers include customers who would not have been contacted, so the difference "
        f"mixes the action with {' and '.join(causes)}"
    )


def as_firings(firings: Any) -> Any:
    """``firings`` as :class:`~cxmodel.triggers.Firings` (an iterable of :class:`Firing`
    objects is split into emitted and suppressed by ``reason``)."""
    from cxmodel.triggers._firings import Firing, Firings

    if isinstance(firings, Firings):
        return firings
    listed = isinstance(firings, Iterable) and not isinstance(firings, str)
    items = list(firings) if listed else []
    if not listed or not all(isinstance(f, Firing) for f in items):
        raise SchemaError(
            f"firings must be Firings (from evaluate() or a TriggerEngine) or a list of Firing; "
            f"got {got(firings)}"
        )
    return Firings(
        [f for f in items if f.reason is None], [f for f in items if f.reason is not None]
    )


def action_effect(
    firings: Any,
    log: InteractionLog,
    *,
    outcome: str | tuple[str, Any],
    window: str | timedelta = "14 days",
    value: str | None = None,
    level: float = 0.95,
    expected_effect: float | None = None,
    as_of: TimeLike | None = None,
) -> ActionEffect:
    """Did acting help? The outcome of treated customers against held-out ones, per trigger.

    For each trigger with a ``holdout`` clause, the *treated* customers are those with an
    emitted firing and the *held-out* customers those with a firing suppressed with reason
    ``"holdout"``; each customer counts once, from the time of its first such firing. A
    customer has the outcome when the log holds an interaction of kind ``outcome`` (or whose
    ``column`` equals ``value``, for a ``(column, value)`` pair) strictly after that time
    and at most ``window`` later. With ``value`` (a numeric column, e.g. revenue), the value
    of a customer is the sum of that column over those interactions (0 without any).

    Rates are compared with Newcombe's hybrid score interval for the difference, means with
    Welch's t interval; ``lift`` is relative (``treated / held_out - 1``). ``mde`` is the
    minimal detectable effect at the current sizes: the smallest increase ``d`` of the rate
    such that, with the held-out rate as observed and the treated rate ``d`` higher, the
    interval at ``level`` excludes 0 with probability 80 % (a two-sided test at
    ``1 - level``). The power is computed exactly from the two binomial distributions
    (:func:`~cxmodel._power.newcombe_mde`; past a million pairs of outcomes, for very large
    groups, by a normal approximation within 1 % of it). NaN when no customer had the
    outcome, or every one did (the data give no variance to plan with, and the held-out rate 0
    would make any difference detectable), and when even a treated rate of 1 would be detected
    with less than 80 % power (too few customers).

    Values per customer are mostly 0 when few customers have the outcome, and a group
    without any non-zero value has variance 0: Welch's interval would take its mean as exact.
    So a group with fewer than 3 customers with a non-zero value has its variance taken as at
    least that of a group in which 3 had one (the mean square of the non-zero values of both
    groups; the rule of three: with no buyer among ``n``, a share up to ``3 / n`` is still
    plausible), which makes the interval conservative there. With fewer than 20 such
    customers in a group a warning says the value interval is unreliable: the mean of so few
    skewed values is far from normal, and coverage falls below ``level`` (about 91 % for a
    95 % interval with 10 of them). ``value_mde`` is ``(z + z_0.8) * se`` with the same
    variances (a normal approximation, not the exact power of the rate's ``mde``).

    **One look.** The intervals assume the data are read once, at a horizon fixed in advance
    (a fixed-horizon test). Reading them again as data come in and stopping when the interval
    excludes zero makes a false "it worked" far more likely than ``1 - level``.

    Parameters
    ----------
    firings
        :class:`~cxmodel.triggers.Firings` from :func:`~cxmodel.triggers.evaluate` or the
        streaming engine (emitted and suppressed), for rules with ``holdout P%``.
    log
        The interactions in which to look for the outcome.
    outcome
        An interaction kind (``"purchase"``) or a ``(column, value)`` pair.
    window
        How long after the firing the outcome counts (``"14 days"``; months are calendar
        months in UTC).
    value
        A numeric column to sum over the outcome interactions in the window.
    level
        Confidence level of the intervals (and ``1 - level`` is the test's size for ``mde``).
    expected_effect
        The difference in rate you expect the action to make (e.g. ``0.02`` for two points);
        a :class:`~cxmodel.errors.DataWarning` names each trigger whose ``mde`` is above it
        (the holdout, or the number of customers, is too small to see it).
    as_of
        The time up to which the log is complete (default: the end of its observation,
        :attr:`~cxmodel.log.InteractionLog.observed_until`). Customers whose window ends
        later are left out (``n_pending``), with a warning: their outcome is not known yet.
        An ``as_of`` after the log's last interaction declares the span between them
        observed and empty; a warning counts the customers whose window ends in it.

    Warns
    -----
    DataWarning
        When windows are still open, when the rule also refused firings for lack of consent
        or a contact policy stopped some
        (held-out customers then include customers who would not have been contacted, so the
        groups differ by more than the action), when no trigger has held-out customers, when
        a trigger's treated (or held-out) group is empty, so its difference is NaN (or, with
        ``value``, has one customer, so the value interval is NaN, or fewer than 20
        customers with a non-zero value, so the value interval is unreliable), and for
        ``expected_effect`` above. With counts: when measured customers never occur in the log
        (they count as without the outcome), when windows end after the log's last
        interaction (``as_of`` later than the data), when outcome interactions have no
        ``value`` (NaN counts 0), and when customers have both an emitted and a held-out
        firing of one trigger (firings of runs with another holdout share or salt): they are
        left out of both groups.

    Raises
    ------
    SchemaError
        An ``outcome`` kind that is neither in the log nor a standard kind (with a
        did-you-mean), an ``outcome`` column or ``value`` column the log lacks.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import evaluate, parse
    >>> rules = parse("trigger welcome:\\n    when signup\\n    emit coupon\\n    holdout 50%")
    >>> ids = [f"c{i}" for i in range(8)]
    >>> log = InteractionLog.from_arrays(  # the export runs to Feb 1 (the last views)
    ...     customer_id=ids + ids[:4] + ids, kind=["signup"] * 8 + ["purchase"] * 4 + ["view"] * 8,
    ...     timestamp=["2024-01-01T00:00Z"] * 8 + ["2024-01-05T00:00Z"] * 4
    ...     + ["2024-02-01T00:00Z"] * 8)
    >>> firings = evaluate(rules, log, as_of="2024-02-01T00:00Z")
    >>> effect = action_effect(firings, log, outcome="purchase", window="14 days",
    ...                        as_of="2024-02-01T00:00Z")
    >>> row = effect.effect("welcome")
    >>> row["n_treated"] + row["n_held_out"], row["rate_treated"] - row["rate_held_out"] == row["difference"]
    (8, True)
    """
    log = interaction_log(log, "action_effect()")
    z = z_value(level)
    if expected_effect is not None and not (
        isinstance(expected_effect, int | float)
        and not isinstance(expected_effect, bool)  # True is no difference in rate
        and expected_effect > 0
    ):
        raise SchemaError(f"expected_effect must be a positive number; got {expected_effect!r}")
    duration = parse_duration(window)
    window_text = window if isinstance(window, str) else format_duration(duration)
    from cxmodel.triggers._firings import firing_columns

    cols = firing_columns(as_firings(firings))
    trig, cust, time, reason = cols["trigger"], cols["customer_id"], cols["time"], cols["reason"]
    is_held = np.array([r == "holdout" for r in reason.tolist()], dtype=bool)
    is_treated, is_held = both_arms(
        trig, cust, np.asarray(cols["emitted"], dtype=bool), is_held, caller="action_effect()"
    )
    mixed = mixed_groups(trig, reason)
    held = _first(trig[is_held], cust[is_held], time[is_held])
    treated = _first(trig[is_treated], cust[is_treated], time[is_treated])
    mask = _outcome_mask(log, outcome)
    amounts = None
    if value is not None:
        if value not in log:
            raise SchemaError(f"value column {value!r} is not in the log")
        amounts = np.asarray(log.numeric(value), dtype=np.float64)
    end = read_until(log, as_of)
    until = log.observed_until if log.observed_until is not None else end
    rows: list[dict[str, Any]] = []
    if not held:
        warn(
            "no firing was held out: add 'holdout P%' to the rules to measure their effect",
            DataWarning,
        )
    measured = unknown = unobserved = blank = 0
    for name in sorted(held):
        groups = []
        pending = 0
        for arm in (treated.get(name), held[name]):
            if arm is None:
                groups.append((np.zeros(0), np.zeros(0)))
                continue
            ids, start = arm
            stop = add_duration(start, duration)
            closed = stop <= end
            pending += int((~closed).sum())
            ids, start, stop = ids[closed], start[closed], stop[closed]
            codes = customer_codes_of(log, ids)
            counts, sums, no_value = _windows(log, mask, codes, start, stop, amounts)
            hit = (counts > 0) & (codes >= 0)
            groups.append((hit.astype(np.float64), np.where(codes >= 0, sums, 0.0)))
            measured += len(codes)
            unknown += int((codes < 0).sum())
            unobserved += int((stop > until).sum())
            blank += no_value
        row = _row(name, groups, z, level, value is not None)
        row["n_pending"] = pending
        rows.append(row)
        if pending:
            warn(
                f"trigger {name!r}: {pending} customers fired less than {window_text} before "
                "the end of the log (or after it); they are left out until their window closes",
                DataWarning,
            )
        _warn_small_groups(name, row, value is not None)
        if name in mixed:
            warn(mixed_warning(name, mixed[name]), DataWarning)
        if expected_effect is not None and not row["mde"] <= expected_effect:
            warn(_mde_warning(name, row, expected_effect), DataWarning)
    warn_unknown_customers(unknown, measured, caller="action_effect()")
    warn_unobserved_windows(log, end, unobserved, caller="action_effect()")
    if blank:
        warn(
            f"action_effect(): {blank} outcome interactions in the windows have no {value!r} "
            "value (NaN); they count 0 in the value columns",
            DataWarning,
        )
    names = ["trigger", "n_treated", "n_held_out", "rate_treated", "rate_held_out",
             "difference", "ci_low", "ci_high", "lift", "mde", "n_pending"]  # fmt: skip
    if value is not None:
        names += ["value_treated", "value_held_out", "value_difference", "value_ci_low",
                  "value_ci_high", "value_lift", "value_mde"]  # fmt: skip
    columns: dict[str, npt.NDArray[Any]] = {}
    for column in names:
        data = [r[column] for r in rows]
        if column == "trigger":
            columns[column] = np.array(data, dtype=object)
        elif column.startswith("n_"):
            columns[column] = np.array(data, dtype=np.int64)
        else:
            columns[column] = np.array(data, dtype=np.float64)
    label = outcome if isinstance(outcome, str) else f"{outcome[0]} == {outcome[1]!r}"
    return ActionEffect("action_effect", columns, label, window_text, float(level))


def _warn_small_groups(name: str, row: dict[str, Any], with_value: bool) -> None:
    """Warn when a group is empty (the difference is NaN) or, with values, has one customer
    (Welch's interval needs two in each group) or fewer than :data:`FEW_VALUES` customers with
    a non-zero value (the interval is unreliable)."""
    n_t, n_h = row["n_treated"], row["n_held_out"]
    sizes = f"{n_t} treated and {n_h} held-out customers"
    if not (n_t and n_h):
        warn(
            f"trigger {name!r}: {sizes} whose window has closed: with a group empty the "
            "difference and its interval are NaN",
            DataWarning,
        )
    elif with_value and min(n_t, n_h) < 2:
        warn(
            f"trigger {name!r}: {sizes}: the value interval needs 2 customers in each group, "
            "so it is NaN",
            DataWarning,
        )
    elif with_value and min(row["nonzero"]) < FEW_VALUES:
        k_t, k_h = row["nonzero"]
        if k_t + k_h == 0:
            why = "no customer has a non-zero value, so the value interval is a point"
        else:
            why = (
                f"{k_t} of {n_t} treated and {k_h} of {n_h} held-out customers have a non-zero "
                f"value: with fewer than {FEW_VALUES} in a group the mean of so few values is "
                "far from normal, and the interval can "
                "miss the true difference more often than 1 - level"
            )
        warn(f"trigger {name!r}: the value interval is unreliable: {why}", DataWarning)


def _mde_warning(name: str, row: dict[str, Any], expected_effect: float) -> str:
    """Why the trigger's minimal detectable effect does not reach ``expected_effect``."""
    sizes = f"with {row['n_treated']} treated and {row['n_held_out']} held-out customers"
    if math.isnan(row["mde"]):
        if not (row["n_treated"] and row["n_held_out"]):
            why = "a group is empty"
        elif row["rate_treated"] == row["rate_held_out"] and row["rate_held_out"] in (0, 1):
            why = (
                f"the outcome rate is {row['rate_treated']:g} in both groups, so the data "
                "give no variance to plan with"
            )
        elif row["rate_held_out"] == 1:
            why = "every held-out customer had the outcome, so no increase is possible"
        else:
            why = (
                f"even a treated rate of 1 against the held-out {row['rate_held_out']:g} "
                "would be detected with less than 80 % power"
            )
        return (
            f"trigger {name!r}: {sizes} the minimal detectable effect is unknown (NaN): {why}"
            + f"; the expected {expected_effect:g} cannot be checked"
        )
    return (
        f"trigger {name!r}: {sizes} the minimal detectable effect is {row['mde']:.4f}, above "
        f"the expected {expected_effect:g}: a larger holdout or more customers are needed to "
        "see it"
    )


def _row(
    name: str,
    groups: list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    z: float,
    level: float,
    with_value: bool,
) -> dict[str, Any]:
    (hit_t, val_t), (hit_h, val_h) = groups
    n_t, n_h = len(hit_t), len(hit_h)
    x_t, x_h = float(hit_t.sum()), float(hit_h.sum())
    row: dict[str, Any] = {"trigger": name, "n_treated": n_t, "n_held_out": n_h}
    if n_t and n_h:
        p_t, p_h = x_t / n_t, x_h / n_h
        low, high = newcombe_interval(x_t, n_t, x_h, n_h, z)
        # with no outcome in either group (or in every customer) the data give no variance
        # to plan with: the held-out rate 0 (or 1) would make any difference detectable
        varies = 0 < x_t + x_h < n_t + n_h
        mde = newcombe_mde(n_t, n_h, p_h, z, POWER) if varies else NAN
    else:
        p_t = x_t / n_t if n_t else NAN
        p_h = x_h / n_h if n_h else NAN
        low = high = mde = NAN
    row |= {
        "rate_treated": p_t,
        "rate_held_out": p_h,
        "difference": p_t - p_h,
        "ci_low": low,
        "ci_high": high,
        "lift": p_t / p_h - 1 if p_h > 0 else NAN,
        "mde": mde,
    }
    if with_value:
        m_t = float(val_t.mean()) if n_t else NAN
        m_h = float(val_h.mean()) if n_h else NAN
        se, v_low, v_high = welch_se_interval(val_t, val_h, level, least_nonzero=RULE_OF_THREE)
        v_mde = (z + Z_POWER) * se if se > 0 else NAN  # NaN below 2 customers too
        row["nonzero"] = (int(np.count_nonzero(val_t)), int(np.count_nonzero(val_h)))
        row |= {
            "value_treated": m_t,
            "value_held_out": m_h,
            "value_difference": m_t - m_h,
            "value_ci_low": v_low,
            "value_ci_high": v_high,
            "value_lift": m_t / m_h - 1 if m_h > 0 else NAN,
            "value_mde": v_mde,
        }
    return row
