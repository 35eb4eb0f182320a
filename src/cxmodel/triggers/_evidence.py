"""What a firing's ``because`` shows beyond the interactions: the values its clauses tested."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel.expr import Aggregate, Expr, Name
from cxmodel.expr._ast import children
from cxmodel.triggers._context import LogContext
from cxmodel.triggers._rules import Rule

__all__ = ["evidence", "outer_nodes", "tested_items"]

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[Any]


def outer_nodes(expr: Expr | None) -> list[Name | Aggregate]:
    """Names and aggregates of ``expr`` outside any aggregate, in order, without repeats."""
    found: dict[str, Name | Aggregate] = {}
    stack: list[Expr] = [] if expr is None else [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (Name, Aggregate)):
            found.setdefault(str(node), node)
        else:
            stack.extend(reversed(children(node)))
    return list(found.values())


def evidence(ctx: LogContext, rule: Rule, anchor: IntArray, matched: IntArray, end: IntArray,
             now: IntArray) -> dict[str, dict[str, Array]]:  # fmt: skip
    """The values each clause tested, per firing: ``when`` (the bound interaction's fields
    named by the rule, and the aggregates of ``when ... where`` at that interaction), ``then``
    (the fields and aggregates of ``then ... where`` at the interaction that completed it) and
    ``if`` (each aggregate and ``customer.`` trait of the condition, at the firing's time).

    ``anchor``, ``matched`` (the ``then`` row, -1 for none), ``end`` (the last row the
    firing sees) and ``now`` (its time) are per firing, in ``ctx``'s rows.
    """
    alias = rule.alias
    when: dict[str, Array] = {}
    then: dict[str, Array] = {}
    condition: dict[str, Array] = {}

    def field(name: str, rows: IntArray, into: dict[str, Array]) -> None:
        if name not in into:  # a column the log does not have is missing, as in streaming
            into[name] = ctx.column_at(name, rows) if name in ctx.log else np.full(len(rows), None)

    items = tested_items(rule)
    for _, node in items["when"]:  # at the bound interaction
        if isinstance(node, Aggregate):
            when[str(node)] = ctx.evaluate(node, anchor, alias=alias, alias_rows=anchor)
        else:
            field(node.name, anchor, when)
    for _, node in items["then"]:  # at the interaction completing it
        if isinstance(node, Aggregate):
            then[str(node)] = ctx.evaluate(node, matched, alias=alias, alias_rows=anchor)
        else:
            field(node.name, matched, then)
    for _, node in items["if"]:  # at the firing's time
        if isinstance(node, Aggregate):
            condition[str(node)] = ctx.evaluate(
                node, anchor, alias=alias, alias_rows=anchor, end=end, now=now
            )
        else:
            condition[str(node)] = ctx.evaluate(node, anchor)
    out = {"when": when, "then": then, "if": condition}
    return {k: v for k, v in out.items() if v}


def tested_items(rule: Rule) -> dict[str, list[tuple[str, Name | Aggregate]]]:
    """What a firing's ``because`` shows, per part, in the order it shows them (both drivers
    read this): ``when``: the bound interaction's fields named by the rule (``"field"``) and
    the aggregates of ``when ... where`` (``"agg"``); ``then``: the fields and aggregates of
    ``then B where ...`` (only for ``then B``); ``with``: the fields of the customer's
    interaction named by ``for customers with ... where`` (a catalogue rule); ``if``: the
    aggregates and ``customer.`` traits (``"trait"``) of the condition. A field is listed
    once per part. A catalogue rule's ``customer_id`` is the reached customer's, not a field
    of the event.
    """
    alias = rule.alias
    completes = rule.then is not None and rule.then.mode == "event"
    reach = rule.when.reach
    out: dict[str, list[tuple[str, Name | Aggregate]]] = {
        "when": [], "then": [], "with": [], "if": [],
    }  # fmt: skip
    fields: dict[str, set[str]] = {"when": set(), "then": set(), "with": set()}

    def add_field(part: str, node: Name) -> None:
        if node.name not in fields[part]:
            fields[part].add(node.name)
            out[part].append(("field", node))

    clauses = (
        ("when", rule.when.where),
        ("with", None if reach is None else reach.where),
        ("then", None if rule.then is None else rule.then.where),
        ("unless", None if rule.unless is None else rule.unless.where),
        ("if", rule.condition),
    )
    for clause, expr in clauses:
        for node in outer_nodes(expr):
            if isinstance(node, Aggregate):
                if clause == "if" or clause == "when" or (clause == "then" and completes):
                    out[clause].append(("agg", node))
            elif node.qualifier == "customer":
                if clause == "if":
                    out["if"].append(("trait", node))
            elif node.qualifier == (alias or "") or (
                node.qualifier is None and clause in ("when", "if")
            ):  # the bound interaction's own fields
                if reach is None or node.qualifier is not None or node.name != "customer_id":
                    add_field("when", node)
            elif node.qualifier is None and clause == "then" and completes:
                add_field("then", node)
            elif node.qualifier is None and clause == "with":
                add_field("with", node)
    return out
