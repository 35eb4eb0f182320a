"""Rules as JSON: one cattrs converter reads and writes the rule classes.

The converter is declared, not written: cattrs generates the (un)structuring of each rule class
from its attrs fields; hooks say how the leaves look in JSON (modes as their strings,
expressions through :func:`~cxmodel.expr.expr_to_dict`, durations as ``{"amount", "unit"}``,
the payload as ``[key, expression]`` pairs) and refuse what the parser would refuse: a number
where a string belongs, an unknown key, an unknown mode. Reading builds every class through its
constructor, so the rule invariants are checked exactly as for parsed text. cattrs collects the
problems with the attribute or index where each happened; :func:`rule_from_dict` reports the
first one as a :class:`~cxmodel.errors.TriggerSyntaxError` naming its JSON path
(``rules[0].when.mode``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from cxmodel.errors import TriggerSyntaxError
from cxmodel.expr import Duration, Expr, expr_from_dict, expr_to_dict
from cxmodel.expr._ast import (
    _kind_of,
    duration_from_dict,
    duration_to_dict,
    identifier,
    invalid,
    json_error,
)
from cxmodel.expr._diagnostics import Diagnostic
from cxmodel.triggers._reach import Reach
from cxmodel.triggers._rules import (
    Emit,
    Holdout,
    Pattern,
    QuietHours,
    Rule,
    Then,
    ThenMode,
    Unless,
    WhenMode,
)

if TYPE_CHECKING:
    import cattrs

__all__ = ["rule_from_dict", "rule_to_dict"]

_CLASSES = (Reach, Pattern, Then, Unless, Emit, QuietHours, Holdout, Rule)
_PAYLOAD = tuple[tuple[str, Expr], ...]
# JSON keys that differ from the attribute names
_KEYS = {"condition": "if"}
# the order of a rule's keys in JSON (the attrs order puts 'emit' before 'then')
_RULE_ORDER = (
    "name",
    "when",
    "then",
    "unless",
    "if",
    "emit",
    "cooldown",
    "once",
    "once_every",
    "consent",
    "quiet",
    "customer_timezone",
    "holdout",
)


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The JSON-ready dict form of ``rule`` (``holdout`` only when set).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rule = parse("trigger t:\\n    when inactive for 90 days\\n    emit alert").rules[0]
    >>> rule_to_dict(rule)["when"]
    {'mode': 'inactive', 'kind': None, 'alias': None, 'where': None, 'duration': {'amount': 90, 'unit': 'days'}}
    """
    data: dict[str, Any] = _converter().unstructure(rule, Rule)
    return {key: data[key] for key in _RULE_ORDER if key in data}


def rule_from_dict(data: Any, path: str = "rule") -> Rule:
    """Rebuild a rule from :func:`rule_to_dict` output, checked as the parser checks text.

    Raises
    ------
    TriggerSyntaxError
        For a wrong shape, an unknown key or mode, or a broken invariant; the message names
        the JSON path of the first problem, with ``path`` as its prefix.

    Examples
    --------
    >>> rule_from_dict({"name": "t", "when": {"mode": "evnt"}, "emit": {"action": "a"}})
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: rule.when.mode: unknown when mode 'evnt'; expected one of 'event', 'inactive', 'absent' (hint: did you mean 'event'?)
    """
    import cattrs

    try:
        rule: Rule = _converter().structure(data, Rule)
    except (cattrs.BaseValidationError, TriggerSyntaxError) as exc:
        raise _located(exc, path) from None
    return rule


# -- reading: strict leaves -----------------------------------------------------------------
def _relative(message: str, hint: str | None = None, where: str = "") -> TriggerSyntaxError:
    """A JSON error at ``where`` below the value being read; the caller adds the path."""
    return json_error(where, message, hint)


def _string(value: object, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    raise _relative(f"expected a string, got {_kind_of(value)}")


def _whole(value: object, _: Any = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _relative(f"expected a whole number, got {_kind_of(value)}")


def _flag(value: object, _: Any = None) -> bool:
    if isinstance(value, bool):
        return value
    raise _relative(f"expected true or false, got {_kind_of(value)}")


def _number(value: object, _: Any = None) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise _relative(f"expected a number, got {value!r}")


def _payload(value: object, _: Any = None) -> tuple[tuple[str, Expr], ...]:
    if not isinstance(value, list):
        raise _relative(f"expected a list, got {_kind_of(value)}")
    pairs = []
    for i, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2:
            raise _relative("expected [key, expression]", where=f"[{i}]")
        if not isinstance(item[0], str):
            raise _relative(f"expected a string, got {_kind_of(item[0])}", where=f"[{i}][0]")
        pairs.append((item[0], expr_from_dict(item[1], f"[{i}][1]")))
    return tuple(pairs)


def _rule_name(value: object, _: Any = None) -> str:
    return identifier(value, "rule name")


def _is_expr(t: Any) -> bool:
    return bool(t == Expr or t == Expr | None)


def _expr(value: object, _: Any = None) -> Expr | None:
    return None if value is None else expr_from_dict(value, "")


# -- writing ----------------------------------------------------------------------------------
def _expr_dict(e: Expr | None) -> dict[str, Any] | None:
    return None if e is None else expr_to_dict(e)


def _payload_list(payload: tuple[tuple[str, Expr], ...]) -> list[list[Any]]:
    return [[key, expr_to_dict(value)] for key, value in payload]


@functools.cache
def _converter() -> cattrs.Converter:
    import cattrs
    from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

    c = cattrs.Converter(forbid_extra_keys=True)
    c.register_structure_hook(str, _string)
    c.register_structure_hook(int, _whole)
    c.register_structure_hook(bool, _flag)
    c.register_structure_hook(float, _number)
    c.register_structure_hook(WhenMode, lambda v, _: WhenMode.parse(v))
    c.register_structure_hook(ThenMode, lambda v, _: ThenMode.parse(v))
    c.register_structure_hook(Duration, lambda v, _: duration_from_dict(v, ""))
    c.register_structure_hook_func(_is_expr, _expr)
    c.register_structure_hook_func(lambda t: t == _PAYLOAD, _payload)
    c.register_unstructure_hook(WhenMode, lambda m: m.value)
    c.register_unstructure_hook(ThenMode, lambda m: m.value)
    c.register_unstructure_hook(Duration, duration_to_dict)
    c.register_unstructure_hook_func(_is_expr, _expr_dict)
    c.register_unstructure_hook_func(lambda t: t == _PAYLOAD, _payload_list)
    for cls in _CLASSES:
        attrs.resolve_types(cls)
        names = {f.name for f in attrs.fields(cls)}
        options: dict[str, Any] = {"pos": override(omit=True)}
        options |= {a: override(rename=key) for a, key in _KEYS.items() if a in names}
        write = dict(options)
        if cls is Rule:  # the name is checked where it is, as the parser checks it
            options["name"] = override(struct_hook=_rule_name)
        if cls is Rule:  # written only when set, so older readers see the same JSON
            write["holdout"] = override(omit_if_default=True)
        if cls is Pattern:  # a catalogue rule's clause, likewise only when set
            write["reach"] = override(omit_if_default=True)
        c.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, c, **write))
        read = make_dict_structure_fn(cls, c, _cattrs_forbid_extra_keys=True, **options)
        c.register_structure_hook(cls, _object(read, cls))
    return c


def _object(read: Callable[..., Any], cls: type) -> Callable[[Any, Any], Any]:
    """``read`` for JSON objects only: anything else is refused before cattrs looks inside."""

    def structure(value: Any, _: Any = None) -> Any:
        if not isinstance(value, dict):
            raise _relative(f"expected an object, got {_kind_of(value)}")
        return read(value, cls)

    return structure


# -- errors -----------------------------------------------------------------------------------
def _located(exc: BaseException, path: str) -> TriggerSyntaxError:
    """The first problem cattrs collected, as a TriggerSyntaxError naming its JSON path."""
    import cattrs
    from cattrs.errors import AttributeValidationNote, IterableValidationNote

    while isinstance(exc, cattrs.BaseValidationError):
        inner = list(exc.exceptions)
        unknown = [e for e in inner if isinstance(e, cattrs.ForbiddenExtraKeysError)]
        first = unknown[0] if unknown else inner[0]  # a misspelt key explains a missing one
        if isinstance(first, cattrs.ForbiddenExtraKeysError):
            return _unknown_key(first, path)
        for note in getattr(first, "__notes__", ()):
            if isinstance(note, AttributeValidationNote):
                key = _KEYS.get(note.name, note.name)
                if isinstance(first, KeyError) and first.args in ((note.name,), (key,)):
                    return json_error(path, f"missing key {key!r}")
                path += "." + key
            elif isinstance(note, IterableValidationNote):
                path += f"[{note.index}]"
        exc = first
    if isinstance(exc, TriggerSyntaxError) and exc.errors:
        d = exc.errors[0]
        if isinstance(d, Diagnostic):
            if d.code == "E214" and d.message[:1] in (".", "[", ":"):
                return invalid(path + d.message, d.hint, code="E214")
            return json_error(path, d.message, d.hint)
    return json_error(path, str(exc))


def _unknown_key(exc: Any, path: str) -> TriggerSyntaxError:
    import difflib

    cls = exc.cl
    allowed = [_KEYS.get(f.name, f.name) for f in attrs.fields(cls) if f.name != "pos"]
    key = sorted(str(k) for k in exc.extra_fields)[0]
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"keys are {', '.join(allowed)}"
    return json_error(f"{path}.{key}", f"unknown key {key!r}", hint)
