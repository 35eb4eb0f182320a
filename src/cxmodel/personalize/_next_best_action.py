"""Next best action: ranked actions per customer from declared eligibility, consent and value."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import customer_table, flag, of_type
from cxmodel._holdout import held_out_customers, holdout_percent
from cxmodel._pieces import warn
from cxmodel._result import Result, column
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.expr._checked import evaluate_checked, table_namespace

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable
    from cxmodel.triggers import Firings

__all__ = ["HOLDOUT_NAME", "Action", "NextBestActions", "next_best_action"]

HOLDOUT_NAME = "next best action"
"""The experiment name hashed with the salt and the customer id for ``holdout=``; it cannot
be a rule's name (rule names have no spaces), so the assignment is independent of every
trigger rule's holdout."""


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"Action.{attribute.name} must be a non-empty string (got {value!r})")


def _flag(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    flag(value, "Action()", attribute.name)  # "no" would be read as True


@attrs.frozen
class Action:
    """A declared action.

    Attributes
    ----------
    name : str
    eligible : str
        Condition in the expression syntax over CustomerTable columns, e.g.
        ``"recency_days > 90 and frequency >= 2"``.
    value : str
        Expected value, a numeric expression (``"0.1 * aov"``) or a number as text (``"5"``).
    needs_consent : bool, default True
        Marketing actions need ``consent_marketing``.
    """

    name: str = attrs.field(validator=_non_empty)
    eligible: str = attrs.field(validator=_non_empty)
    value: str = attrs.field(default="1", converter=str)
    needs_consent: bool = attrs.field(default=True, validator=_flag)


@attrs.frozen(eq=False, repr=False)
class NextBestActions(Result):
    """Per customer, the actions ranked by expected value and the reason for the best one.

    Attributes
    ----------
    customer_id : ndarray of str
    action : ndarray of str or None
        The action to take: the best eligible one (None when no action is eligible or the
        customer is held out).
    value : ndarray of float
        The expected value of the best eligible action, held out or not (NaN when none).
    reason : ndarray of str
        Why: the winning action's rule, value and how many actions were eligible; why none;
        or, for a held-out customer, the action withheld.
    rank : ndarray of int, shape (n_customers, n_actions)
        1 = best; 0 = not eligible (columns in ``actions`` order; held-out customers too).
    actions : tuple of str
    held_out : ndarray of bool
        Whether the customer is in the holdout (all false without ``holdout=``).
    withheld : ndarray of str or None
        For a held-out customer, the best eligible action it did not get (None otherwise).
    as_of : int
        The table's ``as_of`` (microseconds since the epoch): when the actions were chosen.
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    action: npt.NDArray[np.object_] = attrs.field(metadata=column())
    value: npt.NDArray[np.float64] = attrs.field(metadata=column())
    reason: npt.NDArray[np.object_] = attrs.field(metadata=column())
    rank: npt.NDArray[np.int64]
    actions: tuple[str, ...]
    held_out: npt.NDArray[np.bool_] = attrs.field(metadata=column())
    withheld: npt.NDArray[np.object_] = attrs.field(metadata=column())
    as_of: int

    def to_firings(self) -> Firings:
        """The choices as :class:`~cxmodel.triggers.Firings`, to measure them with
        :func:`cxmodel.metrics.action_effect`: one firing per customer with an action (emitted)
        or a withheld one (suppressed with reason ``"holdout"``), at ``as_of``, whose
        ``trigger`` and ``action`` are the action's name and whose payload holds its expected
        ``value``. Firing ids hash the name, the customer and ``as_of``.

        Examples
        --------
        >>> from cxmodel.log import InteractionLog, CustomerTable
        >>> log = InteractionLog.from_arrays(
        ...     customer_id=["c1", "c2", "c3"], timestamp=["2024-01-01T00:00Z"] * 3,
        ...     kind=["purchase"] * 3, value=[10.0, 20.0, 30.0])
        >>> log = log.with_observed_until("2024-06-01T00:00Z")  # the export runs to June
        >>> t = CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")
        >>> nba = next_best_action(
        ...     t, [Action("call", "frequency >= 1", needs_consent=False)],
        ...     holdout=40, salt="spring")
        >>> firings = nba.to_firings()
        >>> len(firings), [(f.customer_id, f.reason) for f in firings.suppressed]
        (1, [('c1', 'holdout'), ('c3', 'holdout')])
        """
        from cxmodel._time import us_to_datetime
        from cxmodel.triggers import Firing, Firings, firing_id

        time = us_to_datetime(self.as_of)
        emitted: list[Firing] = []
        suppressed: list[Firing] = []
        rows = zip(
            self.customer_id.tolist(),
            self.action.tolist(),
            self.withheld.tolist(),
            self.value.tolist(),
            strict=True,
        )
        for cid, act, kept, amount in rows:  # one object per customer, as Firings holds
            name = act if act is not None else kept
            if name is None:
                continue
            firing = Firing(
                trigger=name,
                customer_id=str(cid),
                time=time,
                action=name,
                payload={"value": None if math.isnan(amount) else amount},
                because={"next_best_action": name},
                firing_id=firing_id(name, str(cid), f"next_best_action@{self.as_of}"),
                reason=None if act is not None else "holdout",
            )
            (emitted if act is not None else suppressed).append(firing)
        return Firings(emitted, suppressed)

    def _rows(self) -> dict[Any, Any]:
        """``customer_id``, ``action``, ``value``, ``reason``, ``held_out``, ``withheld`` and
        ``rank_<action>`` columns."""
        ranks = {f"rank_{name}": self.rank[:, j] for j, name in enumerate(self.actions)}
        return {**(super()._rows() or {}), **ranks}


def next_best_action(
    table: CustomerTable,
    actions: Sequence[Action],
    *,
    holdout: float | str | None = None,
    salt: str | None = None,
) -> NextBestActions:
    """Rank the declared actions for every customer.

    An action is eligible when its ``eligible`` condition holds, its expected ``value`` is a
    finite number (a missing one, e.g. ``aov`` without purchases, or an infinite one, an
    overflow, warns with the count) and, if ``needs_consent``, the customer's
    ``consent_marketing`` is true (an action that no customer it suits has consent for warns).
    Eligible actions are ranked by expected value, highest first; ties go to the action declared
    first. Everything is evaluated column-wise over the table.

    With ``holdout=P``, as a rule's ``holdout P% [salt "S"]``, a deterministic ``P`` % of the
    customers gets no action: the SHA-256 of (:data:`HOLDOUT_NAME`, ``salt``, customer id)
    read as a number in [0, 1) (:func:`cxmodel.triggers.holdout_fraction`) is below
    ``P / 100``. The assignment is the same in every run and for every action set, and does
    not depend on the ranking, so for each action the customers it was chosen for and those
    it was withheld from form a randomised comparison (:meth:`NextBestActions.to_firings`
    hands both to :func:`cxmodel.metrics.action_effect`). A new ``salt`` draws a new group.

    Parameters
    ----------
    table : CustomerTable
    actions : sequence of Action
    holdout : float or str, optional
        The percentage of customers held out, strictly between 0 and 100: ``holdout=10`` is
        10 %, as ``holdout 10%`` in a trigger rule and the builder's ``.holdout(10)`` (every
        holdout of the library is a percentage; shares such as ``level`` are in [0, 1]). A
        number strictly between 0 and 1 is most likely a share meant (``0.5`` for a half)
        and warns (``DataWarning``), since it holds out a hundred times fewer customers: a
        half is ``holdout=50``; a small percentage is meant when written with its sign,
        ``holdout="0.5%"``, which does not warn.
    salt : str, optional
        Names the experiment; changing it draws another held-out group.

    Raises
    ------
    SchemaError
        No actions, duplicate names, non-Action items, a ``holdout`` outside (0, 100) (NaN,
        a bool or text without a percent sign too, naming the value), or a ``salt`` without
        a ``holdout``.
    TriggerSyntaxError, TriggerTypeError
        A condition or value that does not parse or type-check (naming the action).

    Warns
    -----
    DataWarning
        A ``holdout`` number strictly between 0 and 1 (a share where a percentage is read).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog, CustomerTable
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b", "b"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"] * 2,
    ...     kind=["consent_granted", "purchase", "purchase", "purchase"],
    ...     value=[None, 80.0, 20.0, 30.0])
    >>> log = log.with_observed_until("2024-06-01T00:00Z")  # the export runs to June
    >>> t = CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")
    >>> actions = [
    ...     Action("win-back email", "recency_days > 90", "0.2 * aov"),
    ...     Action("service call", "frequency >= 2", "3", needs_consent=False)]
    >>> nba = next_best_action(t, actions)
    >>> nba.action.tolist(), nba.value.tolist()
    (['win-back email', 'service call'], [16.0, 3.0])
    >>> held = next_best_action(t, actions, holdout=50, salt="summer")
    >>> held.action.tolist(), held.withheld.tolist()
    (['win-back email', None], [None, 'service call'])
    """
    table = customer_table(table, "next_best_action()")
    hint = "a list of Action"
    items = list(of_type(actions, Iterable, "next_best_action()", "actions", hint))
    if not items:
        raise SchemaError("actions must declare at least one Action (got none)")
    for item in items:
        if not isinstance(item, Action):
            raise SchemaError(f"actions must be Action objects (got {item!r})")
    names = [a.name for a in items]
    if len(set(names)) != len(names):
        raise SchemaError(f"action names must be unique (got {names})")
    percent = _check_holdout(holdout, salt)
    columns, schema = table_namespace(table)
    n, k = len(table), len(items)
    consent = table.column("consent_marketing").astype(bool)
    values = np.full((n, k), -np.inf)
    for j, act in enumerate(items):  # loop over actions; each is vectorised over customers
        label = f"action {act.name!r}"
        ok = evaluate_checked(label, act.eligible, columns, schema, n, "bool").astype(bool)
        v = evaluate_checked(label, act.value, columns, schema, n, "float").astype(np.float64)
        infinite = int((ok & np.isinf(v)).sum())
        if infinite:
            warn(
                f"{label}: the expected value {act.value!r} is infinite for {infinite} "
                "customers (an overflow); the action is not eligible for them",
                DataWarning,
            )
        missing = int((ok & np.isnan(v)).sum())
        if missing:
            warn(
                f"{label}: the expected value {act.value!r} is missing (NaN) for {missing} of "
                f"the {int(ok.sum())} customers whose condition holds; the action is not "
                "eligible for them",
                DataWarning,
            )
        ok &= np.isfinite(v)
        if act.needs_consent:
            if ok.any() and not (ok & consent).any():
                warn(
                    f"{label}: none of the {int(ok.sum())} customers it suits has marketing "
                    "consent (consent_marketing), so it goes to nobody; check that the log "
                    "holds consent_granted rows, or declare a service action with "
                    "needs_consent=False",
                    DataWarning,
                )
            ok &= consent
        values[ok, j] = v[ok]
    order = np.argsort(-values, axis=1, kind="stable")
    eligible = np.isfinite(values)
    rank = np.zeros((n, k), dtype=np.int64)
    np.put_along_axis(rank, order, np.arange(1, k + 1)[None, :].repeat(n, axis=0), axis=1)
    rank[~eligible] = 0
    best = order[:, 0]
    has = eligible[np.arange(n), best]
    label_arr = np.array(names, dtype=object)
    chosen = np.full(n, None, dtype=object)
    chosen[has] = label_arr[best[has]]
    value = np.full(n, np.nan)
    value[has] = values[np.arange(n), best][has]
    count = eligible.sum(axis=1)
    why = np.array(
        [
            f"{a.name}: {a.eligible}; expected value {a.value}"
            + ("; marketing consent given" if a.needs_consent else "")
            for a in items
        ],
        dtype=object,
    )
    reason = np.full(n, "no action eligible (conditions, missing values or consent)", dtype=object)
    reason[has] = why[best[has]] + "; highest of " + count[has].astype(str).astype(object)
    reason[has] = reason[has] + " eligible"
    held = np.zeros(n, dtype=bool)
    if percent is not None:
        held = held_out_customers(HOLDOUT_NAME, salt, percent / 100.0, table.customer_id.tolist())
        stop = held & has
        reason[stop] = f"held out (holdout {percent:g}%): withheld " + reason[stop]
    action = chosen.copy()
    action[held] = None
    withheld = np.full(n, None, dtype=object)
    withheld[held] = chosen[held]
    return NextBestActions(
        customer_id=table.customer_id,
        action=action,
        value=value,
        reason=reason,
        rank=rank,
        actions=tuple(names),
        held_out=held,
        withheld=withheld,
        as_of=int(table.as_of),
    )


def _check_holdout(holdout: float | str | None, salt: str | None) -> float | None:
    """``holdout`` as a number of percent (``None`` without one), checked with ``salt``."""
    if holdout is None:
        if salt is not None:
            raise SchemaError(f"salt={salt!r} names a holdout experiment: give holdout=P too")
        return None
    percent = holdout_percent(holdout, "next_best_action()")
    if salt is not None and not isinstance(salt, str):
        raise SchemaError(f"salt must be a string (got {salt!r})")
    return percent
