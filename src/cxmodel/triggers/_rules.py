"""The frozen rule AST: :class:`Rule`, its clauses, :class:`RuleSet`, printing and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs

from cxmodel.expr import Duration, Expr, expr_from_dict, expr_to_dict

__all__ = ["Emit", "Pattern", "QuietHours", "Rule", "RuleSet", "Then"]

_POS = attrs.field(default=(0, 0), eq=False, repr=False, kw_only=True)


def _dur(d: Duration | None) -> dict[str, Any] | None:
    return None if d is None else {"amount": d.amount, "unit": d.unit}


def _undur(d: dict[str, Any] | None) -> Duration | None:
    return None if d is None else Duration(int(d["amount"]), str(d["unit"]))


def _ex(e: Expr | None) -> dict[str, Any] | None:
    return None if e is None else expr_to_dict(e)


def _unex(e: dict[str, Any] | None) -> Expr | None:
    return None if e is None else expr_from_dict(e)


@attrs.frozen
class Pattern:
    """The ``when`` clause.

    ``mode`` is ``"event"`` (``when KIND [as x] [where C]``), ``"inactive"``
    (``when inactive for D``) or ``"absent"`` (``when no KIND [where C] for D``).
    """

    mode: str
    kind: str | None = None
    alias: str | None = None
    where: Expr | None = None
    duration: Duration | None = None
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        if self.mode == "inactive":
            return f"inactive for {self.duration}"
        text = f"no {self.kind}" if self.mode == "absent" else str(self.kind)
        if self.alias is not None:
            text += f" as {self.alias}"
        if self.where is not None:
            text += f" where {self.where}"
        if self.mode == "absent":
            text += f" for {self.duration}"
        return text


@attrs.frozen
class Then:
    """The ``then`` part: ``mode`` is ``"event"`` (``then B [where C] [within D]``), ``"absent"``
    (``then no B [where C] for D``) or ``"after"`` (``then after D``)."""

    mode: str
    kind: str | None = None
    where: Expr | None = None
    duration: Duration | None = None
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        if self.mode == "after":
            return f"after {self.duration}"
        text = f"no {self.kind}" if self.mode == "absent" else str(self.kind)
        if self.where is not None:
            text += f" where {self.where}"
        if self.mode == "absent":
            text += f" for {self.duration}"
        elif self.duration is not None:
            text += f" within {self.duration}"
        return text


@attrs.frozen
class Emit:
    """``emit ACTION(key = expr, ...)``."""

    action: str
    payload: tuple[tuple[str, Expr], ...] = ()
    pos: tuple[int, int] = _POS

    def __str__(self) -> str:
        if not self.payload:
            return self.action
        args = ", ".join(f"{k} = {v}" for k, v in self.payload)
        return f"{self.action}({args})"


@attrs.frozen
class QuietHours:
    """``quiet hours HH:MM-HH:MM [in customer timezone]``; times in minutes after midnight.

    The suffix (``customer_timezone``) puts the whole rule in customer time, exactly like a
    separate ``in customer timezone`` line (see :attr:`Rule.in_customer_time`).
    """

    start: int
    end: int
    customer_timezone: bool = False

    def __str__(self) -> str:
        text = (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )
        return text + (" in customer timezone" if self.customer_timezone else "")


@attrs.frozen
class Rule:
    """One trigger: a pattern, optional ``then``/``unless``/``if``, an action and policies.

    ``customer_timezone`` is the line ``in customer timezone``: the rule's calendar months and
    quiet hours are read in each customer's ``timezone`` trait (see
    :attr:`in_customer_time`).
    """

    name: str
    when: Pattern
    emit: Emit
    then: Then | None = None
    unless_kind: str | None = None
    unless_where: Expr | None = None
    condition: Expr | None = None
    cooldown: Duration | None = None
    once: bool = False
    once_every: Duration | None = None
    consent: str | None = None
    quiet: QuietHours | None = None
    customer_timezone: bool = False
    pos: tuple[int, int] = _POS

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

    def __str__(self) -> str:
        lines = [f"trigger {self.name}:"]
        when = f"    when {self.when}"
        if self.then is not None:
            when += f" then {self.then}"
        lines.append(when)
        if self.unless_kind is not None:
            unless = f"    unless {self.unless_kind}"
            if self.unless_where is not None:
                unless += f" where {self.unless_where}"
            lines.append(unless)
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
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict form of the rule."""
        when = self.when
        then = self.then
        return {
            "name": self.name,
            "when": {
                "mode": when.mode,
                "kind": when.kind,
                "alias": when.alias,
                "where": _ex(when.where),
                "duration": _dur(when.duration),
            },
            "then": None
            if then is None
            else {
                "mode": then.mode,
                "kind": then.kind,
                "where": _ex(then.where),
                "duration": _dur(then.duration),
            },
            "unless": None
            if self.unless_kind is None
            else {"kind": self.unless_kind, "where": _ex(self.unless_where)},
            "if": _ex(self.condition),
            "emit": {
                "action": self.emit.action,
                "payload": [[k, expr_to_dict(v)] for k, v in self.emit.payload],
            },
            "cooldown": _dur(self.cooldown),
            "once": self.once,
            "once_every": _dur(self.once_every),
            "consent": self.consent,
            "quiet": None
            if self.quiet is None
            else {
                "start": self.quiet.start,
                "end": self.quiet.end,
                "customer_timezone": self.quiet.customer_timezone,
            },
            "customer_timezone": self.customer_timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        """Rebuild a rule from :meth:`to_dict` output."""
        w = data["when"]
        t = data.get("then")
        u = data.get("unless")
        q = data.get("quiet")
        e = data["emit"]
        return cls(
            name=str(data["name"]),
            when=Pattern(
                str(w["mode"]),
                w.get("kind"),
                w.get("alias"),
                _unex(w.get("where")),
                _undur(w.get("duration")),
            ),
            emit=Emit(
                str(e["action"]), tuple((str(k), expr_from_dict(v)) for k, v in e["payload"])
            ),
            then=None
            if t is None
            else Then(
                str(t["mode"]), t.get("kind"), _unex(t.get("where")), _undur(t.get("duration"))
            ),
            unless_kind=None if u is None else str(u["kind"]),
            unless_where=None if u is None else _unex(u.get("where")),
            condition=_unex(data.get("if")),
            cooldown=_undur(data.get("cooldown")),
            once=bool(data.get("once", False)),
            once_every=_undur(data.get("once_every")),
            consent=data.get("consent"),
            quiet=None
            if q is None
            else QuietHours(int(q["start"]), int(q["end"]), bool(q.get("customer_timezone"))),
            customer_timezone=bool(data.get("customer_timezone", False)),
        )


@attrs.frozen
class RuleSet:
    """An ordered collection of rules with unique names.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rules = parse("trigger t:\\n    when purchase as p where p.value > 100\\n    emit thanks")
    >>> len(rules), rules["t"].emit.action
    (1, 'thanks')
    >>> RuleSet.from_json(rules.to_json()) == rules
    True
    """

    rules: tuple[Rule, ...] = ()

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __getitem__(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        known = ", ".join(r.name for r in self.rules)
        raise KeyError(f"no rule named {name!r}; rules are: {known}")

    @property
    def names(self) -> tuple[str, ...]:
        """The rule names in order."""
        return tuple(r.name for r in self.rules)

    def __str__(self) -> str:
        return "\n\n".join(str(r) for r in self.rules) + ("\n" if self.rules else "")

    def to_json(self) -> str:
        """Serialise to a JSON string (lossless)."""
        return json.dumps({"version": 1, "rules": [r.to_dict() for r in self.rules]}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RuleSet:
        """Rebuild a rule set from :meth:`to_json` output."""
        data = json.loads(text)
        return cls(tuple(Rule.from_dict(r) for r in data["rules"]))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict form."""
        return {"version": 1, "rules": [r.to_dict() for r in self.rules]}
