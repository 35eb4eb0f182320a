"""The clause that joins catalogue events to customers: ``for customers with KIND [where C]
within D``.

A catalogue event (a product restocked, a price dropped) belongs to no customer. A rule
``when restock as r for customers with product_view where product == r.product within 30
days`` reaches, at each restock, every customer whose latest ``product_view`` of that product
lies in the window ``[r.time - 30 days, r.time]``. This module holds the clause as an AST node
(:class:`Reach`), the checks a catalogue rule's clauses must pass, and the split of the
clause's condition into the join keys and the test of the customer's interaction
(:func:`join_terms`), which both engines read.
"""

from __future__ import annotations

from typing import Any

import attrs

from cxmodel.expr import Aggregate, Binary, Duration, Expr, Name, walk
from cxmodel.expr._ast import check_condition, check_duration, identifier, invalid

__all__ = ["Reach", "check_catalogue_clauses", "join_terms"]

_HINT = "join on a key, e.g. 'for customers with product_view where product == r.product'"


def _check_reach(r: Reach, attribute: Any, value: Any) -> None:
    identifier(r.kind, "interaction kind")
    check_condition(r.where, "for customers with")
    if r.within is None:
        raise invalid(
            f"'for customers with {r.kind}' needs a window: 'within D'",
            "e.g. for customers with product_view within 30 days",
            pos=r.pos,
            code="E213",
        )
    check_duration(r.within, "within")


@attrs.frozen
class Reach:
    """``for customers with KIND [where C] within D``: the customers a catalogue event reaches.

    Part of a ``when`` clause (:attr:`Pattern.reach <cxmodel.triggers.Pattern.reach>`): the
    ``when`` kind is then a catalogue kind, whose events belong to no customer, and the rule
    fires, at each matching catalogue event bound as ``x``, for every customer with an
    interaction of ``kind`` satisfying ``where`` in ``[x.time - within, x.time]``. Inside
    ``where``, bare names are properties of the customer's interaction and ``x.name`` of the
    catalogue event; ``where`` is ``and`` of key tests ``name == x.name`` and tests of the
    customer's interaction alone.

    Examples
    --------
    >>> from cxmodel.expr import Duration, parse_expr
    >>> str(Reach("product_view", parse_expr("product == r.product"), Duration(30, "days")))
    'product_view where product == r.product within 30 days'
    """

    kind: str
    where: Expr | None = None
    within: Duration | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_reach
    )

    def __str__(self) -> str:
        where = "" if self.where is None else f" where {self.where}"
        return f"{self.kind}{where} within {self.within}"


def _conjuncts(expr: Expr | None) -> list[Expr]:
    """The terms of ``a and b and ...`` in source order (one term for anything else)."""
    out: list[Expr] = []
    stack: list[Expr] = [] if expr is None else [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Binary) and node.op == "and":
            stack.append(node.right)
            stack.append(node.left)
        else:
            out.append(node)
    return out


def _key(term: Expr, alias: str) -> tuple[str, str] | None:
    """``(customer field, event field)`` if ``term`` is ``name == alias.name`` (either way)."""
    if not isinstance(term, Binary) or term.op != "==":
        return None
    left, right = term.left, term.right
    if isinstance(right, Name) and right.qualifier is None:
        left, right = right, left
    if (
        isinstance(left, Name)
        and left.qualifier is None
        and isinstance(right, Name)
        and right.qualifier == alias
    ):
        return left.name, right.name
    return None


def join_terms(where: Expr | None, alias: str) -> tuple[tuple[tuple[str, str], ...], Expr | None]:
    """Split the condition of ``for customers with KIND where ...`` into its join keys
    (``(customer field, event field)`` pairs, in order) and the test of the customer's
    interaction (the other terms, joined by ``and``; ``None`` when there are none).

    Examples
    --------
    >>> from cxmodel.expr import parse_expr
    >>> keys, rest = join_terms(parse_expr("product == r.product and value > 0"), "r")
    >>> keys, str(rest)
    ((('product', 'product'),), 'value > 0')
    """
    keys: list[tuple[str, str]] = []
    rest: list[Expr] = []
    for term in _conjuncts(where):
        key = _key(term, alias)
        if key is not None:
            keys.append(key)
        else:
            rest.append(term)
    test: Expr | None = None
    for term in rest:
        test = term if test is None else Binary("and", test, term, pos=term.pos)
    return tuple(keys), test


def _refuse(message: str, node: Any, hint: str | None = None) -> None:
    raise invalid(message, hint, pos=getattr(node, "pos", (0, 0)), code="E218")


def _event_test(where: Expr | None, alias: str | None) -> None:
    """``when KIND as x where C`` of a catalogue rule: a test of the event alone."""
    for node in walk(where):
        if isinstance(node, Aggregate):
            _refuse(
                f"'{node}' in the condition of a catalogue event: the event belongs to no "
                "customer, so it has no history to aggregate",
                node,
                "test the customer's history in 'if'",
            )
        if isinstance(node, Name) and (
            node.qualifier == "customer"
            or (node.name == "customer_id" and node.qualifier in (None, alias))
        ):
            _refuse(
                f"'{node}' in the condition of a catalogue event, which belongs to no customer",
                node,
                "test the customer in 'if'",
            )


def _join_test(reach: Reach, alias: str) -> None:
    """``for customers with KIND where C``: key tests and tests of the customer's interaction."""
    for term in _conjuncts(reach.where):
        names = [n for n in walk(term) if isinstance(n, Name)]
        if any(isinstance(n, Aggregate) for n in walk(term)):
            _refuse(
                f"'{term}' aggregates in 'for customers with {reach.kind}', which tests one "
                "interaction at a time",
                term,
                "test the customer's history in 'if'",
            )
        if any(n.qualifier == "customer" for n in names):
            _refuse(
                f"'{term}' reads a customer trait in 'for customers with {reach.kind}'",
                term,
                "test the customer in 'if'",
            )
        bound = [n for n in names if n.qualifier == alias]
        if not bound:
            continue
        key = _key(term, alias)
        if key is None:
            _refuse(
                f"'{term}' compares the catalogue event {alias!r} otherwise than as a key: "
                f"'for customers with {reach.kind}' joins on tests 'name == {alias}.name', "
                "joined by 'and'",
                term,
                _HINT,
            )
        elif key[1] == "customer_id":
            _refuse(f"'{alias}.customer_id': a catalogue event belongs to no customer", term)


def check_catalogue_clauses(
    alias: str | None,
    when_where: Expr | None,
    reach: Reach,
    condition: Expr | None = None,
    payload: tuple[tuple[str, Expr], ...] = (),
) -> None:
    """Raise :class:`~cxmodel.errors.TriggerSyntaxError` (E218) unless a catalogue rule's
    clauses read what exists: the event alone in ``when ... where`` (no aggregate, no
    customer), keys and the customer's interaction in ``for customers with ... where``, and
    no ``before x`` or ``x.customer_id`` of the event anywhere."""
    if alias is None:
        raise invalid(
            "'for customers with' needs the catalogue event bound with 'as'",
            "write e.g. 'when restock as r for customers with ...'",
            pos=reach.pos,
            code="E211",
        )
    _event_test(when_where, alias)
    _join_test(reach, alias)
    exprs = [condition, *(e for _, e in payload)]
    for expr in exprs:
        for node in walk(expr):
            if isinstance(node, Aggregate) and node.before == alias:
                _refuse(
                    f"'{node}': the catalogue event {alias!r} is not in the customer's history",
                    node,
                    f"use 'within D' instead of 'before {alias}'",
                )
            if isinstance(node, Name) and node.qualifier == alias and node.name == "customer_id":
                _refuse(f"'{node}': a catalogue event belongs to no customer", node)
