"""Rule segments: named predicates in the shared expression syntax over CustomerTable columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._arguments import customer_table, mapping_value, of_type
from cxmodel._result import Result, column
from cxmodel.errors import SchemaError
from cxmodel.expr._checked import evaluate_checked, table_namespace

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable

__all__ = ["RuleSegments", "rule_segments"]


@attrs.frozen(eq=False, repr=False)
class RuleSegments(Result):
    """Labels from named rules (first matching rule wins) and each rule's own matches.

    Attributes
    ----------
    customer_id, labels : ndarray of str
        ``labels`` holds the first matching rule's name, or ``default``.
    matches : dict of str to bool ndarray
        Every customer each rule matches, before first-match assignment.
    shadowed : dict of str to int
        Customers a rule matches that an earlier rule already claimed (the overlap diagnostic).
    """

    customer_id: npt.NDArray[np.object_] = attrs.field(metadata=column())
    labels: npt.NDArray[np.object_] = attrs.field(metadata=column())
    matches: dict[str, npt.NDArray[np.bool_]]
    shadowed: dict[str, int]
    default: str

    def counts(self) -> dict[str, int]:
        """Customers per label, rules in order then the default."""
        names = [*self.matches, self.default]
        return {name: int(np.count_nonzero(self.labels == name)) for name in names}


def rule_segments(
    rules: Mapping[str, str], table: CustomerTable, *, default: str = "other"
) -> RuleSegments:
    """Segment customers with named rules in the trigger language's expression syntax.

    Rules are checked in order; a customer gets the first rule it matches, else ``default``.
    Names are the table's bool, numeric and string columns (timestamps are not exposed: use
    ``tenure_days`` and ``recency_days``). A comparison with a missing value is false.

    Parameters
    ----------
    rules : mapping of segment name to expression
        e.g. ``{"lapsed VIP": "recency_days > 180 and monetary > 500"}``.
    table : CustomerTable
    default : str, default "other"
        Label for customers no rule matches.

    Raises
    ------
    TriggerSyntaxError
        A rule that does not parse (message names the rule and shows every error with a caret).
    TriggerTypeError
        A rule that does not type-check against the table (unknown columns get a did-you-mean).
    SchemaError
        No rules, or ``default`` equal to a rule name.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog, CustomerTable
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b"],
    ...     timestamp=["2024-01-01T00:00Z", "2024-02-01T00:00Z", "2024-01-01T00:00Z"],
    ...     kind=["purchase", "purchase", "purchase"], value=[400.0, 300.0, 20.0])
    >>> log = log.with_observed_until("2024-06-01T00:00Z")  # the export runs to June
    >>> t = CustomerTable.from_log(log, as_of="2024-06-01T00:00Z")
    >>> rule_segments({"big": "monetary > 500"}, t).labels.tolist()
    ['big', 'other']
    """
    table = customer_table(table, "rule_segments()")
    rules = mapping_value(rules, "rule_segments()", "rules")
    default = of_type(default, str, "rule_segments()", "default", "a label (text)")
    if not rules:
        raise SchemaError("rules must name at least one segment (got an empty mapping)")
    if default in rules:
        raise SchemaError(f"default label {default!r} is also a rule name; choose another")
    columns, schema = table_namespace(table)
    matches: dict[str, npt.NDArray[np.bool_]] = {}
    for segment, text in rules.items():
        result = evaluate_checked(f"rule {segment!r}", text, columns, schema, len(table), "bool")
        matches[segment] = result.astype(bool)
    labels = np.full(len(table), default, dtype=object)
    claimed = np.zeros(len(table), dtype=bool)
    shadowed: dict[str, int] = {}
    for segment, hit in matches.items():
        shadowed[segment] = int(np.count_nonzero(hit & claimed))
        labels[hit & ~claimed] = segment
        claimed |= hit
    return RuleSegments(
        customer_id=table.customer_id,
        labels=labels,
        matches=matches,
        shadowed=shadowed,
        default=default,
    )
