"""The type a rule expects of each property it reads, and the streaming engine's refusal of
an interaction that carries another type there.

A log holding text (or numbers) in a property that a rule uses as a condition (``where
p.vip``, ``not p.vip``, ``p.vip == true``) is refused by the checker, and so is a log whose
bool property a rule compares with text or a number (``p.vip == "True"``), whose numeric
property a rule compares with text (``p.size == "L"``) or whose text property a rule
compares with a number (``p.size > 3``). The streaming engine has no schema; it refuses the
same uses when an interaction brings them, before it takes any in, as it refuses text where
a rule computes with numbers. Without the refusal a comparison of text with a number would
be false for the engine, where batch refuses the rule or (over a column mixing numbers and
text, which a log reads as text) compares the number's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from cxmodel.errors import SchemaError
from cxmodel.expr import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Binary,
    Call,
    Expr,
    InList,
    Literal,
    Name,
    Unary,
    walk,
)
from cxmodel.expr._evaluate import COMPARISONS
from cxmodel.log._log import is_key_like
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._ingest import STANDARD_FIELDS, is_number
from cxmodel.triggers._rules import Rule

__all__ = [
    "TruthUses",
    "refuse_misread",
    "refuse_misread_truths",
    "refuse_text_numbers",
    "refuse_text_traits",
    "truth_uses",
]

#: the functions that read their argument as text
_WORDED = frozenset(("length", "lower", "upper"))


class TruthUses:
    """How rules read properties, each mapped to one such rule's name and the literal it is
    compared with: ``conditions`` the properties used as a condition or compared with
    ``true``/``false`` (the literal ``True``), ``compared`` those compared with text or a
    number, ``texts`` and ``numbers`` those compared with text and with a number."""

    __slots__ = ("_checks", "compared", "conditions", "numbers", "texts", "worded")

    def __init__(self) -> None:
        self.conditions: dict[str, tuple[str, Any]] = {}
        self.compared: dict[str, tuple[str, Any]] = {}
        self.texts: dict[str, tuple[str, Any]] = {}
        self.numbers: dict[str, tuple[str, Any]] = {}
        #: properties read as text by ``length``, ``lower`` or ``upper`` (the "literal" is
        #: the function's name)
        self.worded: dict[str, tuple[str, Any]] = {}
        self._checks: list[tuple[str, str, Any, _Misreading]] | None = None

    def checks(self) -> list[tuple[str, str, Any, _Misreading]]:
        """Each (property, rule, literal, the misreading to look for), once the rules are read
        (the engine checks every record)."""
        if self._checks is None:
            readings = (self.conditions, self.compared, self.texts, self.numbers, self.worded)
            self._checks = [
                (name, rule, literal, misreading)
                for used, misreading in zip(readings, _MISREADINGS, strict=True)
                for name, (rule, literal) in used.items()
            ]
        return self._checks

    def __bool__(self) -> bool:
        return bool(self.conditions or self.compared or self.worded)


def truth_uses(rules: Iterable[Rule], alerts: Iterable[Alert] = ()) -> TruthUses:
    """How ``rules`` and ``alerts`` read properties (see :class:`TruthUses`).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rules = parse('trigger t:\\n    when purchase as p where not p.vip and p.plan == "gold"'
    ...               '\\n    emit x')
    >>> uses = truth_uses(rules)
    >>> uses.conditions, uses.compared
    ({'vip': ('t', True)}, {'plan': ('t', 'gold')})
    """
    uses = TruthUses()
    for rule in rules:
        _scan(rule.name, rule.alias, rule.conditions(), rule.expressions(), uses)
    for alert in alerts:
        payload = [expr for _, expr in alert.emit.payload]
        _scan(alert.name, None, (), [alert.when, *payload], uses)
    return uses


def _scan(
    rule: str,
    alias: str | None,
    roots: Iterable[Expr],
    expressions: Iterable[Expr],
    uses: TruthUses,
) -> None:
    """Read how ``expressions`` (of rule or alert ``rule``, bound as ``alias``) use the
    interactions' properties; ``roots`` are read as conditions."""

    def field(node: Expr) -> str | None:
        """A property ``node`` reads whose type the interactions decide (standard fields
        are numbers or text whatever is sent)."""
        if (
            isinstance(node, Name)
            and node.qualifier in (None, alias)
            and node.name not in STANDARD_FIELDS
        ):
            return node.name
        return None

    def valued(node: Expr) -> list[str]:
        """The properties whose value ``node`` takes: a property, either side of ``??``
        (``(p.a ?? p.b) > 3`` compares both with a number), or an aggregate of a property's
        own values (``last(purchase.b) > 3``)."""
        if isinstance(node, Binary) and node.op == "??":
            return valued(node.left) + valued(node.right)
        if (
            isinstance(node, Aggregate)
            and node.field is not None
            and node.field not in STANDARD_FIELDS
            and AGGREGATE_FUNCTIONS[node.func].result is None
        ):
            return [node.field]
        name = field(node)
        return [] if name is None else [name]

    def condition(node: Expr | None) -> None:
        """``node`` is read as true/false: a property there must hold a bool (either side
        of a ``??`` is read so too)."""
        while isinstance(node, Binary) and node.op == "??":
            condition(node.left)
            node = node.right
        name = None if node is None else field(node)
        if name is not None:
            uses.conditions.setdefault(name, (rule, True))

    for root in roots:
        condition(root)
    for expr in expressions:
        for node in walk(expr):
            if isinstance(node, Unary) and node.op == "not":
                condition(node.operand)
            elif isinstance(node, Binary) and node.op in ("and", "or"):
                condition(node.left)
                condition(node.right)
            elif isinstance(node, Aggregate):
                condition(node.where)
            elif isinstance(node, Binary) and node.op in COMPARISONS:
                for name in valued(node.left):
                    _compared(name, node.right, rule, uses)
                for name in valued(node.right):
                    _compared(name, node.left, rule, uses)
            elif isinstance(node, InList):
                for name in valued(node.operand):
                    for item in node.items:
                        _compared(name, item, rule, uses)
            elif isinstance(node, Call) and node.func in _WORDED:
                for arg in node.args:
                    for name in valued(arg):
                        uses.worded.setdefault(name, (rule, node.func))


def _compared(name: str | None, other: Expr, rule: str, uses: TruthUses) -> None:
    """``name`` compared with ``other``: a true/false literal makes it a condition, a text or
    number literal a property that is not true/false."""
    if name is None or not isinstance(other, Literal) or other.value is None:
        return
    if isinstance(other.value, bool):
        uses.conditions.setdefault(name, (rule, True))
        return
    uses.compared.setdefault(name, (rule, other.value))
    if isinstance(other.value, str):
        uses.texts.setdefault(name, (rule, other.value))
    elif isinstance(other.value, (int, float)):
        uses.numbers.setdefault(name, (rule, other.value))


def refuse_misread_truths(rows: Iterable[Any], uses: TruthUses) -> None:
    """Raise :class:`~cxmodel.errors.SchemaError` naming the first interaction of ``rows``
    (the engine's rows, with ``fields``) that carries a property ``uses`` reads as true/false
    holding something else, or a bool where a rule compares the property with text or a
    number.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from cxmodel.triggers import parse
    >>> uses = truth_uses(parse("trigger t:\\n    when purchase as p where p.vip\\n    emit x"))
    >>> refuse_misread_truths([SimpleNamespace(fields={"vip": True})], uses)
    >>> refuse_misread_truths([SimpleNamespace(fields={"vip": "yes"})], uses)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: record: vip 'yes' is not true or false (field 'vip'), and rule 't' uses it as a condition; send true or false, or leave the field out
    """
    if not uses:
        return
    listed = rows if isinstance(rows, list) else list(rows)
    for name, rule, literal, misreading in uses.checks():
        for j, row in enumerate(listed):
            value = row.fields.get(name)
            kind = value.__class__
            if kind in misreading.fine or (misreading.wrong not in (None, kind)):
                continue
            where = "record" if len(listed) == 1 else f"record {j + 1}"
            problem = misreading.message.format(
                name=name, rule=rule, literal=literal, send_a_number=_number_advice(name)
            )
            raise SchemaError(f"{where}: {name} {value!r} {problem}")


class _Misreading(NamedTuple):
    """A value a rule would misread: its class is not one of ``fine`` and is ``wrong`` (any
    class but the fine ones when ``None``); ``message`` goes on from ``"{name} {value!r} "``."""

    fine: frozenset[type]
    wrong: type | None
    message: str


# in the order of TruthUses.checks: conditions, compared, texts, numbers (the engine's field
# values are text, float, bool or missing)
_MISREADINGS = (
    _Misreading(
        frozenset({bool, type(None)}),
        None,
        "is not true or false (field {name!r}), and rule {rule!r} uses it as a condition; "
        "send true or false, or leave the field out",
    ),
    _Misreading(
        frozenset({str, float, type(None)}),
        bool,
        "is true or false (field {name!r}), and rule {rule!r} compares it with {literal!r}; "
        "compare it with true or false, or use it as a condition (where {name})",
    ),
    _Misreading(
        frozenset({str, bool, type(None)}),
        float,
        "is a number (field {name!r}), and rule {rule!r} compares it with the text "
        "{literal!r}; send it as text (or name the field like an id, e.g. product_id, whose "
        "numbers are read as text), or leave the field out",
    ),
    _Misreading(
        frozenset({float, bool, type(None)}),
        str,
        "is text (field {name!r}), and rule {rule!r} compares it with the number "
        "{literal!r}; {send_a_number}",
    ),
    _Misreading(
        frozenset({str, type(None)}),
        None,
        "is not text (field {name!r}), and rule {rule!r} reads it with {literal}(); send "
        "text or leave the field out",
    ),
)


_SEND_A_NUMBER = "send a number or leave the field out"


def _number_advice(name: str) -> str:
    """What to do about text in property ``name`` where a rule needs a number: send a
    number, unless the property is named like an id, whose numbers the engine reads as text
    as a log does (sending a number there is no cure).

    Examples
    --------
    >>> _number_advice("qty")
    'send a number or leave the field out'
    >>> _number_advice("zip")
    "but 'zip' is named like an id, whose numbers are read as text (their digits), as a log reads them: give the number a name that is not an id's, or leave the field out"
    """
    if not is_key_like(name):
        return _SEND_A_NUMBER
    return (
        f"but {name!r} is named like an id, whose numbers are read as text (their digits), "
        "as a log reads them: give the number a name that is not an id's, or leave the "
        "field out"
    )


def refuse_text_numbers(rows: Iterable[Any], numeric: Mapping[str, str]) -> None:
    """Raise :class:`~cxmodel.errors.SchemaError` naming the first interaction of ``rows``
    that carries something other than a number in a property a rule computes with
    (``numeric``: property -> one such rule's name, e.g. ``p.qty * 2``): it could not be
    evaluated, and a log holding it would be refused by the checker too.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> refuse_text_numbers([SimpleNamespace(fields={"qty": 2.0})], {"qty": "t"})
    >>> refuse_text_numbers([SimpleNamespace(fields={"qty": "two"})], {"qty": "t"})
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: record: qty 'two' is not a number (field 'qty'), and rule 't' computes with it; send a number or leave the field out
    """
    if not numeric:
        return
    listed = rows if isinstance(rows, list) else list(rows)
    for j, row in enumerate(listed):
        for name, rule in numeric.items():
            value = row.fields.get(name)
            if value is not None and not isinstance(value, float):
                where = "record" if len(listed) == 1 else f"record {j + 1}"
                advice = _number_advice(name) if isinstance(value, str) else _SEND_A_NUMBER
                raise SchemaError(
                    f"{where}: {name} {value!r} is not a number (field {name!r}), and rule "
                    f"{rule!r} computes with it; {advice}"
                )


def refuse_misread(rows: list[Any], numeric: Mapping[str, str], uses: TruthUses) -> None:
    """:func:`refuse_text_numbers` then :func:`refuse_misread_truths` of ``rows``: every
    interaction a rule would misread, as the engine refuses it before taking any in.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from cxmodel.triggers import parse
    >>> uses = truth_uses(parse("trigger t:\\n    when purchase as p where p.vip\\n    emit x"))
    >>> refuse_misread([SimpleNamespace(fields={"vip": True, "qty": 2.0})], {"qty": "t"}, uses)
    >>> refuse_misread([SimpleNamespace(fields={"vip": 1.0})], {}, uses)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: record: vip 1.0 is not true or false (field 'vip'), and rule 't' uses it as a condition; send true or false, or leave the field out
    """
    if numeric:  # (each call also returns at once without them: this is once per record)
        refuse_text_numbers(rows, numeric)
    if uses:
        refuse_misread_truths(rows, uses)


#: one check of :func:`refuse_misread` on a record: (property, the classes its value may
#: have, the class it must not have, if only that one is wrong)
RecordCheck = tuple[str, frozenset[type], type | None]

_NUMBER_CLASSES: frozenset[type] = frozenset({float, type(None)})


def record_checks(numeric: Mapping[str, str], uses: TruthUses) -> tuple[RecordCheck, ...]:
    """What :func:`refuse_misread` looks at in each record, as plain checks that
    :func:`refuse_misread_one` runs on one record without building anything.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> uses = truth_uses(parse("trigger t:\\n    when purchase as p where p.vip\\n    emit x"))
    >>> [(name, sorted(c.__name__ for c in fine), wrong)
    ...  for name, fine, wrong in record_checks({"qty": "t"}, uses)]
    [('qty', ['NoneType', 'float'], None), ('vip', ['NoneType', 'bool'], None)]
    """
    numbers: list[RecordCheck] = [(name, _NUMBER_CLASSES, None) for name in numeric]
    truths: list[RecordCheck] = (
        [(name, misreading.fine, misreading.wrong) for name, _, _, misreading in uses.checks()]
        if uses
        else []
    )
    return (*numbers, *truths)


def refuse_misread_one(
    row: Any, checks: tuple[RecordCheck, ...], numeric: Mapping[str, str], uses: TruthUses
) -> None:
    """:func:`refuse_misread` of one row, by its :func:`record_checks` ``checks``: the
    engine's path for one interaction at a time, which raises the same error.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> checks = record_checks({"qty": "t"}, TruthUses())
    >>> refuse_misread_one(SimpleNamespace(fields={"qty": 2.0}), checks, {"qty": "t"}, TruthUses())
    >>> refuse_misread_one(SimpleNamespace(fields={"qty": "2"}), checks, {"qty": "t"}, TruthUses())
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: record: qty '2' is not a number (field 'qty'), and rule 't' computes with it; send a number or leave the field out
    """
    fields = row.fields
    for name, fine, wrong in checks:
        kind = fields.get(name).__class__
        if kind not in fine and (wrong is None or wrong is kind):
            refuse_misread([row], numeric, uses)  # raises, naming what is wrong first


def refuse_text_traits(
    customers: Mapping[str, Mapping[str, Any]], numeric: Mapping[str, str]
) -> None:
    """Raise :class:`~cxmodel.errors.SchemaError` naming the first customer whose trait a
    rule computes with or compares with a number (``numeric``: trait -> one such rule's
    name) holds something other than a number: the rule would read it as no number, and
    the customer's firings would depend on the other customers' traits.

    Examples
    --------
    >>> refuse_text_traits({"a": {"age": 40}, "b": {}}, {"age": "t"})
    >>> refuse_text_traits({"a": {"age": "old"}}, {"age": "t"})
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: customer 'a': trait 'age' 'old' is not a number, and rule 't' computes with it or compares it with a number; give a number or leave the trait out
    """
    if not numeric:
        return
    for cid, traits in customers.items():
        for name, rule in numeric.items():
            value = traits.get(name)
            if value is None or is_number(value):
                continue
            raise SchemaError(
                f"customer {cid!r}: trait {name!r} {value!r} is not a number, and rule "
                f"{rule!r} computes with it or compares it with a number; give a number or "
                "leave the trait out"
            )
