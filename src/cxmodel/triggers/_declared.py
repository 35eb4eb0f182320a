"""The data a streaming engine's host declares ahead (``schema=`` and ``kinds=``): the rules are
checked against it as batch checks them against a log, and each interaction against it.

Batch :func:`~cxmodel.triggers.evaluate` refuses a rule that reads a kind the log never has
(E301) or a property the log has no column for (E302): it sees the data. A streaming engine
sees the data only as it arrives, so by itself it can refuse only what every log refuses.
A host that knows its stream declares the kinds and the properties (with their types, as
:attr:`InteractionLog.schema <cxmodel.log.InteractionLog.schema>` gives them); the engine then
refuses a rule as batch would over a log with exactly that data, and an interaction that
does not fit the declaration, instead of running a rule that can never fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cxmodel._arguments import got, mapping_value
from cxmodel.errors import SchemaError, ValueTypeError, did_you_mean
from cxmodel.log._columns import NUMERIC_STANDARD, STRING_STANDARD
from cxmodel.log._log import DTYPE_NAMES
from cxmodel.triggers._alerts import property_kinds as alert_property_kinds
from cxmodel.triggers._alerts import read_aggregates
from cxmodel.triggers._api import property_kinds, refuse_unchecked, rule_kinds
from cxmodel.triggers._check import STANDARD_KINDS
from cxmodel.triggers._rules import RuleSet

__all__ = ["DeclaredData", "declared_data"]

#: the standard columns, with their fixed types (as a log's schema shows them): always
#: declared, and checked by the engine's ingest whatever the schema says
_STANDARD = {
    **dict.fromkeys(STRING_STANDARD, "string"),
    **dict.fromkeys(NUMERIC_STANDARD, "float"),
    "timestamp": "timestamp",
}
#: the class a property's value has in the engine, by declared type
_CLASS = {"string": str, "float": float, "bool": bool}
_TYPE_WORD = {str: "text", float: "a number", bool: "true or false"}


class DeclaredData:
    """The kinds and properties a host declared (``None``: not declared, so not checked).

    ``kinds`` are the kinds besides :data:`~cxmodel.triggers.STANDARD_KINDS`, which every
    stream may carry (as every log may); ``properties`` maps a property to ``"string"``,
    ``"float"`` or ``"bool"``. The standard fields (``value``, ``score``, ``channel``, ...)
    are always declared, with their fixed types: a rule may read them whatever the stream.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> declared = DeclaredData(["renewal"], {"plan": "string"})
    >>> declared.refuse_rules(parse("trigger t:\\n    when renewl as r\\n    emit x"))
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerTypeError: 1 error:
    E301 line 2, column 10: rule 't': unknown kind 'renewl'
    hint: did you mean 'renewal'?
    """

    def __init__(self, kinds: Sequence[str] | None, properties: Mapping[str, str] | None) -> None:
        self.kinds = None if kinds is None else frozenset(kinds) | frozenset(STANDARD_KINDS)
        self.properties = properties

    def refuse_rules(self, rules: RuleSet) -> None:
        """Raise :class:`~cxmodel.errors.TriggerTypeError` for what batch refuses of ``rules``
        over a log holding the declared kinds and properties, with batch's codes and
        messages (a kind or a property not declared is assumed present, of any type)."""
        kinds: Iterable[str] | None = self.kinds
        if kinds is None:  # not declared: every kind the rules read is held
            kinds = {kind for rule in rules for kind in rule_kinds(rule)}
            kinds |= {node.kind for alert in rules.alerts for node in read_aggregates(alert)}
        properties = self.properties
        if properties is None:  # not declared: every property the rules read is held
            read = {name for rule in rules for name in property_kinds(rule)}
            read |= {name for alert in rules.alerts for name in alert_property_kinds(alert)}
            properties = dict.fromkeys(read, "any")
        refuse_unchecked(rules, _Declared(sorted(kinds), {**properties, **_STANDARD}))

    def refuse(self, rows: Sequence[Any]) -> None:
        """Raise :class:`~cxmodel.errors.SchemaError` naming the first of ``rows`` (the
        engine's rows, catalogue events among them) whose kind is not declared, or that
        carries a property not declared or of another type than declared."""
        kinds, properties = self.kinds, self.properties
        for j, row in enumerate(rows):
            where = "record" if len(rows) == 1 else f"record {j + 1}"
            if kinds is not None and row.kind not in kinds:
                raise SchemaError(
                    f"{where}: kind {row.kind!r} is not declared (field 'kind'): the engine's "
                    f"kinds= does not list it{did_you_mean(row.kind, kinds)}"
                )
            if properties is None:
                continue
            for name, value in row.fields.items():
                if name in _STANDARD or name == "kind":
                    continue
                declared = properties.get(name)
                if declared is None:
                    raise SchemaError(
                        f"{where}: property {name!r} is not declared (field {name!r}): the "
                        f"engine's schema= does not list it{did_you_mean(name, properties)}"
                    )
                wanted = _CLASS[declared]
                if value.__class__ is not wanted:
                    raise SchemaError(
                        f"{where}: {name} {value!r} is {_TYPE_WORD[value.__class__]} (field "
                        f"{name!r}), and schema= declares it {declared!r}; send "
                        f"{_TYPE_WORD[wanted]} or leave the field out"
                    )


class _Declared:
    """The declared data as :func:`~cxmodel.triggers._api.refuse_unchecked` reads a log."""

    def __init__(self, kinds: list[str], schema: dict[str, str]) -> None:
        self.kinds = kinds
        self.schema = schema


def declared_data(kinds: Any, schema: Any, where: str) -> DeclaredData | None:
    """The host's declaration from ``kinds=`` and ``schema=`` (``None`` when neither is given),
    checked: kinds are non-empty text; a property's type is ``"string"``, ``"float"`` or
    ``"bool"`` (or a synonym a log's ``dtypes=`` takes), a standard field's its fixed one."""
    if kinds is None and schema is None:
        return None
    names: list[str] | None = None
    if kinds is not None:
        if isinstance(kinds, (str, bytes)) or not isinstance(kinds, Iterable):
            raise ValueTypeError(f"{where}: kinds must be a list of kinds; got {got(kinds)}")
        names = list(kinds)
        for kind in names:
            if not isinstance(kind, str) or not kind.strip():
                raise ValueTypeError(f"{where}: kinds holds {kind!r}; a kind is non-empty text")
    properties: dict[str, str] | None = None
    if schema is not None:
        properties = {}
        for name, typ in mapping_value(schema, where, "schema").items():
            normal = DTYPE_NAMES.get(typ) if isinstance(typ, str) else None
            if not isinstance(name, str) or normal not in _CLASS:
                raise SchemaError(
                    f"{where}: schema[{name!r}] is {typ!r}; a property is 'string', 'float' or "
                    "'bool'"
                )
            fixed = _STANDARD.get(name)
            if fixed is not None and fixed != normal:
                raise SchemaError(
                    f"{where}: schema[{name!r}] is {typ!r}, but {name!r} is always a {fixed} field"
                )
            if fixed is None:
                properties[name] = normal
    return DeclaredData(names, properties)
