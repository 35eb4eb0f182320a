"""The frozen rule AST: :class:`Rule`, its clauses, :class:`RuleSet`, printing and JSON.

Every class checks its invariants when it is built (the parser, :meth:`RuleSet.from_json` and
the Python builder all go through these constructors), raising
:class:`~cxmodel.errors.TriggerSyntaxError`: modes are :class:`WhenMode` / :class:`ThenMode`,
a clause has exactly the parts its mode needs, durations are positive and at most 100 years,
names are identifiers.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from cxmodel.errors import NotFoundError, TriggerSyntaxError, TriggerTypeError, did_you_mean
from cxmodel.expr import Duration, Expr
from cxmodel.expr._ast import (
    _format_number,
    _quote,
    at_path,
    check_condition,
    check_duration,
    fields,
    identifier,
    invalid,
    json_error,
    json_list,
    known,
)
from cxmodel.expr._diagnostics import Diagnostic, render_diagnostics
from cxmodel.triggers._contact import ContactPolicy, policy_problems
from cxmodel.triggers._reach import Reach, check_catalogue_clauses

if TYPE_CHECKING:
    from cxmodel.triggers._alerts import Alert

__all__ = [
    "MAX_RULES",
    "Emit",
    "Holdout",
    "Pattern",
    "QuietHours",
    "Rule",
    "RuleSet",
    "Then",
    "ThenMode",
    "Unless",
    "WhenMode",
]

#: Most rules accepted in one rule set.
MAX_RULES = 1_000

_POS = attrs.field(default=(0, 0), eq=False, repr=False, kw_only=True)


_M = TypeVar("_M", bound="_Mode")


class _Mode(str, enum.Enum):
    """A mode of a clause: a ``str`` enum that prints as its value and is read from its value
    with a did-you-mean (``WhenMode`` is the "when mode")."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls: type[_M], value: object) -> _M:
        """The mode named ``value`` (a member or its string)."""
        if isinstance(value, cls):
            return value
        what = cls.__name__.removesuffix("Mode").lower() + " mode"
        return cls(known(value, tuple(m.value for m in cls), what))


class WhenMode(_Mode):
    """The kind of ``when`` clause: ``event`` (``when KIND``), ``inactive``
    (``when inactive for D``) or ``absent`` (``when no KIND for D``).

    A ``str`` enum: ``WhenMode.EVENT == "event"``, and it prints as its value.

    Examples
    --------
    >>> WhenMode.parse("inactive") is WhenMode.INACTIVE
    True
    >>> WhenMode.parse("evnt")
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: unknown when mode 'evnt'; expected one of 'event', 'inactive', 'absent' (hint: did you mean 'event'?)
    """

    EVENT = "event"
    INACTIVE = "inactive"
    ABSENT = "absent"


class ThenMode(_Mode):
    """The kind of ``then`` part: ``event`` (``then B``), ``absent`` (``then no B for D``) or
    ``after`` (``then after D``).

    Examples
    --------
    >>> ThenMode.parse("after") == "after"
    True
    """

    EVENT = "event"
    ABSENT = "absent"
    AFTER = "after"


def _when_mode(value: object) -> WhenMode:
    return WhenMode.parse(value)


def _then_mode(value: object) -> ThenMode:
    return ThenMode.parse(value)


def _clause(message: str, pos: tuple[int, int], hint: str | None = None) -> TriggerSyntaxError:
    return invalid(message, hint, pos=pos, code="E213")


def _check_kind(
    kind: str | None, clause: str, mode: _Mode, words: tuple[str, ...], pos: tuple[int, int]
) -> None:
    """The interaction kind of a ``when`` or ``then`` clause: given, an identifier, and after
    a bare ``clause`` none of the ``words`` that would read as another mode."""
    if kind is None:
        raise _clause(f"'{clause}' in mode {mode.value!r} needs an interaction kind", pos)
    identifier(kind, "interaction kind")
    if mode.value == "event" and kind in words:
        raise _clause(f"the kind {kind!r} cannot follow '{clause}'", pos, "rename the kind")


def _check_pattern(p: Pattern, attribute: Any, value: Any) -> None:
    mode = p.mode
    if mode is WhenMode.INACTIVE:
        if p.kind is not None or p.alias is not None or p.where is not None:
            raise _clause(
                "'when inactive for D' takes no kind, 'as' or 'where'", p.pos,
                "inactivity is over every kind; use 'when no KIND for D' for one kind",
            )  # fmt: skip
    else:
        _check_kind(p.kind, "when", mode, ("no", "inactive"), p.pos)
    if p.alias is not None:
        if mode is not WhenMode.EVENT:
            raise _clause("'as' binds an interaction only in 'when KIND as x'", p.pos)
        identifier(p.alias, "bound name")
    if mode is WhenMode.EVENT:
        if p.duration is not None:
            raise _clause("'when KIND' takes no duration", p.pos)
    elif p.duration is None:
        what = "inactive" if mode is WhenMode.INACTIVE else f"no {p.kind}"
        raise _clause(f"'when {what}' needs a duration: 'for D'", p.pos, "e.g. for 30 days")
    check_duration(p.duration, "for")
    check_condition(p.where, "when")
    if p.reach is not None:
        if not isinstance(p.reach, Reach):
            raise invalid(f"'reach' must be a Reach or None, got {p.reach!r}")
        if mode is not WhenMode.EVENT:
            raise _clause("'for customers with' follows only 'when KIND as x'", p.reach.pos)
        check_catalogue_clauses(p.alias, p.where, p.reach)


@attrs.frozen
class Pattern:
    """The ``when`` clause.

    ``mode`` is :attr:`WhenMode.EVENT` (``when KIND [as x] [where C]``),
    :attr:`WhenMode.INACTIVE` (``when inactive for D``) or :attr:`WhenMode.ABSENT`
    (``when no KIND [where C] for D``); a string is converted. ``event`` and ``absent`` need a
    ``kind``, ``inactive`` and ``absent`` a positive ``duration``. ``reach`` (a
    :class:`Reach`, only with ``event`` and ``as x``) makes ``kind`` a catalogue kind: its
    events belong to no customer and reach the customers ``for customers with ...`` names.

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> str(Pattern("absent", "purchase", duration=Duration(30, "days")))
    'no purchase for 30 days'
    >>> Pattern("absent", "purchase")
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: 'when no purchase' needs a duration: 'for D' (hint: e.g. for 30 days)
    """

    mode: WhenMode = attrs.field(converter=_when_mode)
    kind: str | None = None
    alias: str | None = None
    where: Expr | None = None
    duration: Duration | None = attrs.field(default=None)
    reach: Reach | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_pattern
    )

    def __str__(self) -> str:
        if self.mode is WhenMode.INACTIVE:
            return f"inactive for {self.duration}"
        text = f"no {self.kind}" if self.mode is WhenMode.ABSENT else str(self.kind)
        if self.alias is not None:
            text += f" as {self.alias}"
        if self.where is not None:
            text += f" where {self.where}"
        if self.reach is not None:
            text += f" for customers with {self.reach}"
        if self.mode is WhenMode.ABSENT:
            text += f" for {self.duration}"
        return text


def _check_then(t: Then, attribute: Any, value: Any) -> None:
    mode = t.mode
    if mode is ThenMode.AFTER:
        if t.kind is not None or t.where is not None:
            raise _clause("'then after D' takes no kind or 'where'", t.pos)
        if t.duration is None:
            raise _clause("'then after' needs a duration", t.pos, "e.g. then after 2 days")
    else:
        _check_kind(t.kind, "then", mode, ("no", "after"), t.pos)
        if mode is ThenMode.ABSENT and t.duration is None:
            raise _clause(f"'then no {t.kind}' needs a duration: 'for D'", t.pos, "e.g. for 7 days")
    check_duration(t.duration, "within" if mode is ThenMode.EVENT else str(mode.value))
    check_condition(t.where, "then")


@attrs.frozen
class Then:
    """The ``then`` part: ``mode`` is :attr:`ThenMode.EVENT` (``then B [where C] [within D]``),
    :attr:`ThenMode.ABSENT` (``then no B [where C] for D``) or :attr:`ThenMode.AFTER`
    (``then after D``); a string is converted.

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> str(Then("after", duration=Duration(2, "days")))
    'after 2 days'
    """

    mode: ThenMode = attrs.field(converter=_then_mode)
    kind: str | None = None
    where: Expr | None = None
    duration: Duration | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_then
    )

    def __str__(self) -> str:
        if self.mode is ThenMode.AFTER:
            return f"after {self.duration}"
        text = f"no {self.kind}" if self.mode is ThenMode.ABSENT else str(self.kind)
        if self.where is not None:
            text += f" where {self.where}"
        if self.mode is ThenMode.ABSENT:
            text += f" for {self.duration}"
        elif self.duration is not None:
            text += f" within {self.duration}"
        return text


def _check_unless(u: Unless, attribute: Any, value: Any) -> None:
    identifier(u.kind, "interaction kind")
    check_condition(u.where, "unless")


@attrs.frozen
class Unless:
    """``unless KIND [where C]``: cancels a ``then after D`` firing when a matching interaction
    comes first (only with ``then after``).

    Examples
    --------
    >>> str(Unless("purchase"))
    'purchase'
    """

    kind: str
    where: Expr | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_unless
    )

    def __str__(self) -> str:
        return self.kind if self.where is None else f"{self.kind} where {self.where}"


def _check_emit(e: Emit, attribute: Any, value: Any) -> None:
    identifier(e.action, "action name")
    if not isinstance(e.payload, tuple):
        raise invalid(f"the payload must be a tuple of (key, expression), got {e.payload!r}")
    keys: set[str] = set()
    for item in e.payload:
        if not isinstance(item, tuple) or len(item) != 2:
            raise invalid(f"a payload item is a (key, expression) pair, got {item!r}")
        key, expr = item
        identifier(key, "payload key")
        if key in keys:
            raise invalid(f"payload key {key!r} given twice", pos=e.pos, code="E212")
        keys.add(key)
        if expr is None:
            raise invalid(f"payload key {key!r} has no value")
        check_condition(expr, f"emit {e.action}({key} = ...)")


@attrs.frozen
class Emit:
    """``emit ACTION(key = expr, ...)``."""

    action: str
    payload: tuple[tuple[str, Expr], ...] = ()
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_emit
    )

    def __str__(self) -> str:
        if not self.payload:
            return self.action
        args = ", ".join(f"{k} = {v}" for k, v in self.payload)
        return f"{self.action}({args})"


def _check_quiet(q: QuietHours, attribute: Any, value: Any) -> None:
    for name in ("start", "end"):
        minute = getattr(q, name)
        if not isinstance(minute, int) or isinstance(minute, bool) or not 0 <= minute <= 1439:
            raise invalid(
                f"quiet hours {name} must be minutes after midnight in 0..1439, got {minute!r}",
                code="E208",
            )
    if q.start == q.end:
        raise invalid(
            f"quiet hours {q} start and end at the same time",
            "give a window such as 22:00-08:00",
            code="E208",
        )
    if not isinstance(q.customer_timezone, bool):
        raise invalid(f"customer_timezone must be true or false, got {q.customer_timezone!r}")


@attrs.frozen
class QuietHours:
    """``quiet hours HH:MM-HH:MM [in customer timezone]``; times in minutes after midnight
    (0..1439, start and end different).

    The suffix (``customer_timezone``) puts the whole rule in customer time, exactly like a
    separate ``in customer timezone`` line (see :attr:`Rule.in_customer_time`).

    Examples
    --------
    >>> str(QuietHours(22 * 60, 8 * 60))
    '22:00-08:00'
    """

    start: int
    end: int
    customer_timezone: bool = attrs.field(default=False, validator=_check_quiet)

    def __str__(self) -> str:
        text = (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )
        return text + (" in customer timezone" if self.customer_timezone else "")


def _check_holdout(h: Holdout, attribute: Any, value: Any) -> None:
    p = h.percent
    if not isinstance(p, int | float) or isinstance(p, bool) or not math.isfinite(p):
        raise invalid(f"the holdout share must be a number of percent, got {p!r}", code="E215")
    if not 0 < p < 100:
        raise invalid(
            f"the holdout share must lie strictly between 0% and 100%, got {_percent(p)}%",
            "e.g. holdout 10%",
            pos=h.pos,
            code="E215",
        )
    if h.salt is not None and (not isinstance(h.salt, str) or "\n" in h.salt):
        raise invalid(f"the holdout salt must be a one-line string, got {h.salt!r}", code="E215")


def _percent(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _format_number(value)


@attrs.frozen
class Holdout:
    """``holdout P% [salt "S"]``: a deterministic share of customers never gets the action.

    A customer is held out of a rule when the hash of (rule name, salt, customer id) mapped to
    [0, 1) lies below ``percent / 100`` (see :func:`~cxmodel.triggers.holdout_fraction`); the
    assignment is stable across runs, processes and Python versions, and a new ``salt`` draws a
    new one. ``percent`` lies strictly between 0 and 100 (error E215 otherwise).

    Examples
    --------
    >>> str(Holdout(10)), str(Holdout(2.5, "v2"))
    ('10%', '2.5% salt "v2"')
    >>> Holdout(100)
    Traceback (most recent call last):
    ...
    cxmodel.errors.TriggerSyntaxError: the holdout share must lie strictly between 0% and 100%, got 100% (hint: e.g. holdout 10%)
    """

    percent: float
    salt: str | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_holdout
    )

    @property
    def share(self) -> float:
        """The held-out share in [0, 1] (``percent / 100``)."""
        return float(self.percent) / 100.0

    def __str__(self) -> str:
        salt = "" if self.salt is None else f" salt {_quote(self.salt)}"
        return f"{_percent(self.percent)}%{salt}"


def _check_rule(r: Rule, attribute: Any, value: Any) -> None:
    identifier(r.name, "rule name")
    for name, cls in (("when", Pattern), ("emit", Emit)):
        if not isinstance(getattr(r, name), cls):
            raise invalid(f"rule {r.name!r}: {name!r} must be a {cls.__name__}")
    for name, kind in (
        ("then", Then),
        ("unless", Unless),
        ("quiet", QuietHours),
        ("holdout", Holdout),
    ):
        got = getattr(r, name)
        if got is not None and not isinstance(got, kind):
            raise invalid(f"rule {r.name!r}: {name!r} must be a {kind.__name__} or None")
    if r.then is not None:
        if r.when.mode is not WhenMode.EVENT:
            raise _clause(f"rule {r.name!r}: 'then' follows only 'when KIND as x'", r.then.pos)
        if r.when.alias is None:
            raise invalid(
                f"rule {r.name!r}: 'then' needs the first event bound with 'as'",
                f"write 'when {r.when.kind} as x then ...'",
                pos=r.then.pos,
                code="E211",
            )
    if r.unless is not None and (r.then is None or r.then.mode is not ThenMode.AFTER):
        raise invalid(
            f"rule {r.name!r}: 'unless' needs a delay: write 'when A as x then after D'",
            "unless cancels a delayed firing",
            pos=r.unless.pos,
            code="E210",
        )
    check_condition(r.condition, "if")
    reach = r.when.reach
    if reach is not None:
        if r.then is not None or r.unless is not None:
            raise _clause(
                f"rule {r.name!r}: a catalogue rule ('for customers with') takes no 'then' or "
                "'unless'",
                reach.pos,
                "it fires at the catalogue event, for each customer it reaches",
            )
        check_catalogue_clauses(r.when.alias, r.when.where, reach, r.condition, r.emit.payload)
    check_duration(r.cooldown, "cooldown")
    check_duration(r.once_every, "every")
    for name in ("once", "customer_timezone"):
        if not isinstance(getattr(r, name), bool):
            raise invalid(f"rule {r.name!r}: {name!r} must be true or false")
    if r.once_every is not None and not r.once:
        raise _clause(
            f"rule {r.name!r}: 'every' belongs to 'once per customer every D'",
            r.once_every.pos,
            "set once=True (once_per_customer(every=...))",
        )
    if r.consent is not None:
        identifier(r.consent, "consent purpose")


@attrs.frozen
class Rule:
    """One trigger: a pattern, optional ``then``/``unless``/``if``, an action and policies.

    ``unless`` (an :class:`Unless`) is allowed only with ``then after D``; ``once_every`` only
    with ``once``. ``customer_timezone`` is the line ``in customer timezone``: the rule's
    calendar months and quiet hours are read in each customer's ``timezone`` trait (see
    :attr:`in_customer_time`).

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> rule = Rule(
    ...     "remind",
    ...     Pattern("event", "add_to_cart", "c"),
    ...     Emit("reminder"),
    ...     then=Then("after", duration=Duration(2, "hours")),
    ...     unless=Unless("purchase"),
    ... )
    >>> print(rule)
    trigger remind:
        when add_to_cart as c then after 2 hours
        unless purchase
        emit reminder
    """

    name: str
    when: Pattern
    emit: Emit
    then: Then | None = None
    unless: Unless | None = None
    condition: Expr | None = None
    cooldown: Duration | None = None
    once: bool = False
    once_every: Duration | None = None
    consent: str | None = None
    quiet: QuietHours | None = None
    customer_timezone: bool = False
    holdout: Holdout | None = None
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_rule
    )

    @property
    def alias(self) -> str | None:
        """The name bound by ``as``, if any."""
        return self.when.alias

    @property
    def in_customer_time(self) -> bool:
        """Whether the rule is in customer time: it has the line ``in customer timezone`` or
        its quiet hours end with ``in customer timezone`` (the two spellings mean the same).

        In customer time, every calendar-month duration of the rule (timers, ``within``
        windows, ``cooldown``, ``once per customer every``) and the quiet hours are computed
        on the customer's local wall clock; other durations are fixed lengths either way.
        """
        return self.customer_timezone or (self.quiet is not None and self.quiet.customer_timezone)

    def expressions(self) -> tuple[Expr, ...]:
        """The rule's expressions over interactions: the ``where`` of ``when``, ``then`` and
        ``unless``, the ``if`` condition and the payload's values (not the ``where`` of a
        catalogue rule's ``for customers with``).

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> rule = parse("trigger t:\\n    when purchase as p where p.value > 1\\n"
        ...              "    emit x(v = p.value)")["t"]
        >>> [str(e) for e in rule.expressions()]
        ['p.value > 1', 'p.value']
        """
        return (*self.conditions(), *(e for _, e in self.emit.payload))

    def conditions(self) -> tuple[Expr, ...]:
        """The rule's conditions over interactions: the ``where`` of ``when``, ``then`` and
        ``unless``, and the ``if`` (each read as true or false).

        Examples
        --------
        >>> from cxmodel.triggers import parse
        >>> rule = parse("trigger t:\\n    when purchase as p where p.value > 1\\n"
        ...              "    if p.vip\\n    emit x(v = p.value)")["t"]
        >>> [str(e) for e in rule.conditions()]
        ['p.value > 1', 'p.vip']
        """
        then, unless = self.then, self.unless
        exprs = (
            self.when.where,
            None if then is None else then.where,
            None if unless is None else unless.where,
            self.condition,
        )
        return tuple(e for e in exprs if e is not None)

    def __str__(self) -> str:
        lines = [f"trigger {self.name}:"]
        when = f"    when {self.when}"
        reach = self.when.reach
        if reach is not None:  # the join to customers on a line of its own
            suffix = f" for customers with {reach}"
            when = f"{when[: len(when) - len(suffix)]}\n        for customers with {reach}"
        if self.then is not None:
            when += f" then {self.then}"
        lines.append(when)
        if self.unless is not None:
            lines.append(f"    unless {self.unless}")
        if self.condition is not None:
            lines.append(f"    if {self.condition}")
        lines.append(f"    emit {self.emit}")
        if self.customer_timezone:  # before 'quiet hours', whose suffix it would otherwise be
            lines.append("    in customer timezone")
        if self.cooldown is not None:
            lines.append(f"    cooldown {self.cooldown}")
        if self.once:
            every = f" every {self.once_every}" if self.once_every is not None else ""
            lines.append(f"    once per customer{every}")
        if self.consent is not None:
            lines.append(f"    requires consent {self.consent}")
        if self.quiet is not None:
            lines.append(f"    quiet hours {self.quiet}")
        if self.holdout is not None:
            lines.append(f"    holdout {self.holdout}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict form of the rule (modes as their plain strings)."""
        from cxmodel.triggers._json import rule_to_dict

        return rule_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any, path: str = "rule") -> Rule:
        """Rebuild a rule from :meth:`to_dict` output.

        Every key and value is checked through the same constructors the parser uses; a
        problem raises :class:`~cxmodel.errors.TriggerSyntaxError` naming its JSON path (with
        ``path`` as the prefix, e.g. ``rules[0].when.mode``).
        """
        from cxmodel.triggers._json import rule_from_dict

        return rule_from_dict(data, path)


def _check_ruleset(rs: RuleSet, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(r, Rule) for r in value):
        raise invalid(f"a rule set holds a tuple of Rule objects, got {value!r}")
    if len(value) > MAX_RULES:
        raise invalid(f"{len(value)} rules, more than the limit {MAX_RULES}", code="E100")
    seen: set[str] = set()
    for rule in value:
        if rule.name in seen:
            raise invalid(
                f"a rule named {rule.name!r} is defined twice", "give each rule a unique name",
                pos=rule.pos, code="E209",
            )  # fmt: skip
        seen.add(rule.name)


def _check_policies(rs: RuleSet, attribute: Any, value: Any) -> None:
    if not isinstance(value, tuple) or not all(isinstance(p, ContactPolicy) for p in value):
        raise invalid(f"a rule set's policies are a tuple of ContactPolicy objects, got {value!r}")
    if len(value) > MAX_RULES:
        raise invalid(
            f"{len(value)} contact policies, more than the limit {MAX_RULES}", code="E100"
        )
    problems = policy_problems([r.name for r in rs.rules], value, [a.name for a in rs.alerts])
    if problems:
        i, _, message, hint = problems[0]
        raise invalid(message, hint, pos=value[i].pos, code="E217")
    catalogue = {r.name for r in rs.rules if r.when.reach is not None}
    for policy in value:
        for name in policy.rules:
            if name in catalogue:
                raise invalid(
                    f"contact policy {policy.name!r} names catalogue rule {name!r}; a contact "
                    "policy spans customers' own rules only",
                    "give the catalogue rule a cooldown instead",
                    pos=policy.pos,
                    code="E217",
                )


def _check_alerts(rs: RuleSet, attribute: Any, value: Any) -> None:
    from cxmodel.triggers._alerts import Alert

    if not isinstance(value, tuple) or not all(isinstance(a, Alert) for a in value):
        raise invalid(f"a rule set's alerts are a tuple of Alert objects, got {value!r}")
    if len(value) > MAX_RULES:
        raise invalid(f"{len(value)} alerts, more than the limit {MAX_RULES}", code="E100")
    seen = {r.name for r in rs.rules}
    for alert in value:
        if alert.name in seen:
            raise invalid(
                f"a rule or alert named {alert.name!r} is defined twice",
                "give each rule and alert a unique name", pos=alert.pos, code="E209",
            )  # fmt: skip
        seen.add(alert.name)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def _uniquely_named(
    items: list[Any], path: str, build: Callable[[Any, str], _N], seen: dict[str, str]
) -> list[_N]:
    """``build`` each JSON item (a rule or an alert) at ``path[i]``, refusing a name already
    in ``seen`` (name -> path of the item that defined it), which it extends."""
    built: list[_N] = []
    for i, item in enumerate(items):
        at = f"{path}[{i}]"
        one = build(item, at)
        if one.name in seen:
            raise json_error(
                f"{at}.name",
                f"a rule or alert named {one.name!r} is already defined at {seen[one.name]}",
                "give each rule and alert a unique name",
            )
        seen[one.name] = at
        built.append(one)
    return built


@attrs.frozen
class RuleSet:
    """An ordered collection of rules with unique names (at most :data:`MAX_RULES`), the
    contact policies over them (:class:`ContactPolicy`; a rule follows at most one), and the
    alerts across customers (:class:`~cxmodel.triggers.Alert`, named apart from the rules).

    Iteration, ``len``, indexing and :attr:`names` are about the rules; :attr:`alerts` holds
    the alerts.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rules = parse("trigger t:\\n    when purchase as p where p.value > 100\\n    emit thanks")
    >>> len(rules), rules["t"].emit.action
    (1, 'thanks')
    >>> RuleSet.from_json(rules.to_json()) == rules
    True
    """

    rules: tuple[Rule, ...] = attrs.field(default=(), validator=_check_ruleset)
    policies: tuple[ContactPolicy, ...] = attrs.field(default=(), validator=_check_policies)
    alerts: tuple[Alert, ...] = attrs.field(default=(), validator=_check_alerts)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        known_names = ", ".join(r.name for r in self.rules)
        if any(a.name == name for a in self.alerts):
            raise NotFoundError(f"{name!r} is an alert, not a rule: find it in .alerts")
        raise NotFoundError(
            f"no rule named {name!r}; rules are: {known_names}" + did_you_mean(name, self.names)
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The rule names in order."""
        return tuple(r.name for r in self.rules)

    def policy_of(self, name: str) -> ContactPolicy | None:
        """The contact policy rule ``name`` follows (``None``: none).

        Raises
        ------
        NotFoundError
            If no rule is named ``name`` (with a did-you-mean), as ``rules[name]`` does: a
            misspelt name would otherwise read as a rule outside every policy.
        """
        rule = self[name]  # a rule of this set, or NotFoundError naming the close ones
        for policy in self.policies:
            if rule.name in policy.rules:
                return policy
        return None

    def __str__(self) -> str:
        parts = [
            *(str(r) for r in self.rules),
            *(str(a) for a in self.alerts),
            *(str(p) for p in self.policies),
        ]
        return "\n\n".join(parts) + ("\n" if parts else "")

    def to_json(self) -> str:
        """Serialise to a JSON string (lossless)."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> RuleSet:
        """Rebuild a rule set from :meth:`to_json` output, with the checks :func:`parse` makes.

        Raises
        ------
        TriggerSyntaxError
            For text that is not JSON, and for a wrong shape, an unknown key, mode, operator
            or function, or a broken invariant; the message names the JSON path
            (``rules[0].when.where.left.op``).
        TriggerTypeError
            When the rules are well formed but do not type-check (e.g. a name bound by no
            ``as``), as :func:`parse` would.

        Examples
        --------
        >>> RuleSet.from_json('{"rules": [{"name": "t", "when": {"mode": "evnt"}, '
        ...                   '"emit": {"action": "a"}}]}')
        Traceback (most recent call last):
        ...
        cxmodel.errors.TriggerSyntaxError: rules[0].when.mode: unknown when mode 'evnt'; expected one of 'event', 'inactive', 'absent' (hint: did you mean 'event'?)
        """
        if not isinstance(text, (str, bytes, bytearray)):
            raise json_error("$", f"expected JSON text, got a {type(text).__name__}")
        try:
            data = json.loads(text)
        except RecursionError:
            raise json_error("$", "the JSON is nested too deeply") from None
        except ValueError as exc:
            line, column = getattr(exc, "lineno", 0), getattr(exc, "colno", 0)
            message = f"not valid JSON: {getattr(exc, 'msg', exc)}"
            d = Diagnostic("E214", line, column, message)
            source = text if isinstance(text, str) else None
            raise TriggerSyntaxError(render_diagnostics((d,), source), (d,)) from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Any) -> RuleSet:
        """Rebuild a rule set from :meth:`to_dict` output (see :meth:`from_json`)."""
        d = fields(data, "$", ("rules",), ("version", "policies", "alerts"))
        if d.get("version", 1) != 1:
            raise json_error("version", f"unsupported version {d['version']!r}; expected 1")
        items = json_list(d["rules"], "rules")
        if len(items) > MAX_RULES:
            raise json_error("rules", f"{len(items)} rules, more than the limit {MAX_RULES}")
        from cxmodel.triggers._alerts import Alert

        seen: dict[str, str] = {}
        rules = _uniquely_named(items, "rules", Rule.from_dict, seen)
        alerts = _uniquely_named(
            json_list(d.get("alerts", []), "alerts"), "alerts", Alert.from_dict, seen
        )
        policies = [
            ContactPolicy.from_dict(item, f"policies[{i}]")
            for i, item in enumerate(json_list(d.get("policies", []), "policies"))
        ]
        conflicts = policy_problems([r.name for r in rules], policies, [a.name for a in alerts])
        if conflicts:
            i, j, message, hint = conflicts[0]
            where = f"policies[{i}]" + ("" if j is None else f".rules[{j}]")
            raise json_error(where, message, hint)
        ruleset: RuleSet = at_path("policies", cls, tuple(rules), tuple(policies), tuple(alerts))
        from cxmodel.triggers._check import check_rules  # the checks parse makes

        problems = [
            attrs.evolve(
                d, line=0, column=0, message=f"rules[{i}] (rule {rule.name!r}): {d.message}"
            )
            for i, rule in enumerate(ruleset)
            for d in check_rules(cls((rule,)))
        ]
        problems += [
            attrs.evolve(
                d, line=0, column=0, message=f"alerts[{i}] (alert {alert.name!r}): {d.message}"
            )
            for i, alert in enumerate(ruleset.alerts)
            for d in check_rules(cls(alerts=(alert,)))
        ]
        if problems:  # no text, so no line and column: the JSON path names the place
            n = len(problems)
            shown = [
                f"{d.code} {d.message}" + (f"\nhint: {d.hint}" if d.hint else "") for d in problems
            ]
            head = f"{n} error{'s' if n != 1 else ''}:\n"
            raise TriggerTypeError(head + "\n\n".join(shown), tuple(problems))
        return ruleset

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict form."""
        out: dict[str, Any] = {"version": 1, "rules": [r.to_dict() for r in self.rules]}
        if self.policies:  # only when set: older readers see the same JSON
            out["policies"] = [p.to_dict() for p in self.policies]
        if self.alerts:
            out["alerts"] = [a.to_dict() for a in self.alerts]
        return out
