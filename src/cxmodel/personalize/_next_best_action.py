"""Next best action: ranked actions per customer from declared eligibility, consent and value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._tables import columns_to_html, columns_to_pandas
from cxmodel.errors import SchemaError
from cxmodel.expr._checked import evaluate_checked, table_namespace

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["Action", "NextBestActions", "next_best_action"]


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"Action.{attribute.name} must be a non-empty string (got {value!r})")


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
    needs_consent: bool = True


@attrs.frozen(eq=False)
class NextBestActions:
    """Per customer, the actions ranked by expected value and the reason for the best one.

    Attributes
    ----------
    customer_id : ndarray of str
    action : ndarray of str or None
        The best eligible action (None when no action is eligible).
    value : ndarray of float
        Its expected value (NaN when none).
    reason : ndarray of str
        Why: the winning action's rule, value and how many actions were eligible; or why none.
    rank : ndarray of int, shape (n_customers, n_actions)
        1 = best; 0 = not eligible (columns in ``actions`` order).
    actions : tuple of str
    """

    customer_id: npt.NDArray[np.object_]
    action: npt.NDArray[np.object_]
    value: npt.NDArray[np.float64]
    reason: npt.NDArray[np.object_]
    rank: npt.NDArray[np.int64]
    actions: tuple[str, ...]

    def to_dict(self) -> dict[str, npt.NDArray[Any]]:
        """``customer_id``, ``action``, ``value``, ``reason`` and ``rank_<action>`` columns."""
        out: dict[str, npt.NDArray[Any]] = {
            "customer_id": self.customer_id,
            "action": self.action,
            "value": self.value,
            "reason": self.reason,
        }
        for j, name in enumerate(self.actions):
            out[f"rank_{name}"] = self.rank[:, j]
        return out

    def to_pandas(self) -> Any:
        """One row per customer (needs pandas)."""
        return columns_to_pandas(self.to_dict(), "NextBestActions.to_pandas()")

    def _repr_html_(self) -> str:
        return columns_to_html("NextBestActions", self.to_dict())


def next_best_action(table: CustomerTable, actions: Sequence[Action]) -> NextBestActions:
    """Rank the declared actions for every customer.

    An action is eligible when its ``eligible`` condition holds, its expected ``value`` is a
    number (not missing) and, if ``needs_consent``, the customer's ``consent_marketing`` is true.
    Eligible actions are ranked by expected value, highest first; ties go to the action declared
    first. Everything is evaluated column-wise over the table.

    Raises
    ------
    SchemaError
        No actions, duplicate names, or non-Action items.
    TriggerSyntaxError, TriggerTypeError
        A condition or value that does not parse or type-check (naming the action).

    Examples
    --------
    >>> from cxmodel.log import InteractionLog, CustomerTable
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b", "b"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z"] * 2,
    ...     kind=["consent_granted", "purchase", "purchase", "purchase"],
    ...     value=[None, 80.0, 20.0, 30.0])
    >>> t = CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")
    >>> nba = next_best_action(t, [
    ...     Action("win-back email", "recency_days > 90", "0.2 * aov"),
    ...     Action("service call", "frequency >= 2", "3", needs_consent=False)])
    >>> nba.action.tolist(), nba.value.tolist()
    (['win-back email', 'service call'], [16.0, 3.0])
    """
    items = list(actions)
    if not items:
        raise SchemaError("actions must declare at least one Action (got none)")
    for item in items:
        if not isinstance(item, Action):
            raise SchemaError(f"actions must be Action objects (got {item!r})")
    names = [a.name for a in items]
    if len(set(names)) != len(names):
        raise SchemaError(f"action names must be unique (got {names})")
    columns, schema = table_namespace(table)
    n, k = len(table), len(items)
    consent = table.column("consent_marketing").astype(bool)
    values = np.full((n, k), -np.inf)
    for j, act in enumerate(items):  # loop over actions; each is vectorised over customers
        label = f"action {act.name!r}"
        ok = evaluate_checked(label, act.eligible, columns, schema, n, "bool").astype(bool)
        v = evaluate_checked(label, act.value, columns, schema, n, "float").astype(np.float64)
        ok &= ~np.isnan(v)
        if act.needs_consent:
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
    action = np.full(n, None, dtype=object)
    action[has] = label_arr[best[has]]
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
    return NextBestActions(
        customer_id=table.customer_id,
        action=action,
        value=value,
        reason=reason,
        rank=rank,
        actions=tuple(names),
    )
