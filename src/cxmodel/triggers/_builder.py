"""A Python builder for rules, polars style: operators build the same frozen AST as the text.

Examples
--------
>>> from cxmodel.triggers import col, parse, trigger
>>> built = (
...     trigger("detractor_follow_up")
...     .when("survey", as_="r", where=(col("r.metric") == "nps") & (col("r.score") <= 6))
...     .emit("follow_up_task", priority="high", score=col("r.score"))
...     .build()
... )
>>> text = '''trigger detractor_follow_up:
...     when survey as r where r.metric == "nps" and r.score <= 6
...     emit follow_up_task(priority = "high", score = r.score)'''
>>> built == parse(text)["detractor_follow_up"]
True
"""

from __future__ import annotations

from typing import Any

import attrs

from cxmodel._holdout import percent_text, warn_if_share
from cxmodel.errors import ValueTypeError
from cxmodel.expr import Aggregate, Binary, Call, Duration, Expr, InList, Literal, Name, Unary
from cxmodel.expr import parse_expr as _parse_expr
from cxmodel.expr._ast import invalid
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._contact import ContactPolicy
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

__all__ = ["E", "agg", "alert", "col", "contact_policy", "count", "lit", "trigger"]


def _node(value: Any) -> Expr:
    if isinstance(value, E):
        return value.node
    if value is None or isinstance(value, (bool, int, float, str)):
        return Literal(value)
    raise invalid(f"cannot use {value!r} (a {type(value).__name__}) in a rule expression")


def _duration(value: str | Duration) -> Duration:
    if isinstance(value, Duration):
        return value
    node = _parse_expr(value) if isinstance(value, str) else None
    if not isinstance(node, Duration):
        raise invalid(f"expected a duration such as '30 days', got {value!r}", code="E102")
    return node


class E:
    """An expression under construction; wrap a node and combine with operators."""

    __slots__ = ("node",)

    def __init__(self, node: Expr) -> None:
        self.node = node

    def __bool__(self) -> bool:
        raise ValueTypeError(
            "a rule expression has no truth value: use `a & b`, `a | b` and `~a`, "
            "not `a and b`, `a or b`, `not a` (and wrap comparisons in parentheses)"
        )

    def __repr__(self) -> str:
        return f"E({self.node})"

    def __str__(self) -> str:
        return str(self.node)

    def _bin(self, op: str, other: Any, *, swap: bool = False) -> E:
        left, right = (_node(other), self.node) if swap else (self.node, _node(other))
        return E(Binary(op, left, right))

    def __eq__(self, other: Any) -> E:  # type: ignore[override]
        return self._bin("==", other)

    def __ne__(self, other: Any) -> E:  # type: ignore[override]
        return self._bin("!=", other)

    __hash__ = None  # type: ignore[assignment]

    def __lt__(self, other: Any) -> E:
        return self._bin("<", other)

    def __le__(self, other: Any) -> E:
        return self._bin("<=", other)

    def __gt__(self, other: Any) -> E:
        return self._bin(">", other)

    def __ge__(self, other: Any) -> E:
        return self._bin(">=", other)

    def __and__(self, other: Any) -> E:
        return self._bin("and", other)

    def __or__(self, other: Any) -> E:
        return self._bin("or", other)

    def __invert__(self) -> E:
        return E(Unary("not", self.node))

    def __neg__(self) -> E:
        return E(Unary("-", self.node))

    def __add__(self, other: Any) -> E:
        return self._bin("+", other)

    def __radd__(self, other: Any) -> E:
        return self._bin("+", other, swap=True)

    def __sub__(self, other: Any) -> E:
        return self._bin("-", other)

    def __rsub__(self, other: Any) -> E:
        return self._bin("-", other, swap=True)

    def __mul__(self, other: Any) -> E:
        return self._bin("*", other)

    def __rmul__(self, other: Any) -> E:
        return self._bin("*", other, swap=True)

    def __truediv__(self, other: Any) -> E:
        return self._bin("/", other)

    def is_in(self, values: list[Any]) -> E:
        """``self in [values]``."""
        return E(InList(self.node, tuple(_node(v) for v in values)))

    def fill_null(self, default: Any) -> E:
        """``self ?? default``."""
        return self._bin("??", default)

    def lower(self) -> E:
        """``lower(self)``."""
        return E(Call("lower", (self.node,)))


def _emit(action: str, payload: dict[str, Any]) -> Emit:
    """``emit ACTION(key = value, ...)`` with each value as an expression."""
    return Emit(action, tuple((key, _node(value)) for key, value in payload.items()))


def col(name: str) -> E:
    """A property: ``col("value")``, ``col("p.value")`` or ``col("customer.plan")``."""
    if "." in name:
        qualifier, field = name.split(".", 1)
        return E(Name(field, qualifier))
    return E(Name(name))


def lit(value: Any) -> E:
    """A literal value (number, string, boolean, ``None``) or a duration string like '7 days'."""
    if isinstance(value, str) and value[:1].isdigit():
        return E(_duration(value))
    return E(_node(value))


def agg(
    func: str,
    kind: str,
    field: str | None = None,
    *,
    where: E | None = None,
    within: str | None = None,
    before: str | None = None,
) -> E:
    """An aggregate: ``agg("max", "purchase", "value", before="p")``.

    Parameters
    ----------
    func : str
        The aggregate function, e.g. ``"count"``, ``"sum"``, ``"max"`` or ``"median"``
        (:data:`cxmodel.expr.AGGREGATE_FUNCTIONS`).
    kind : str
        The kind of the interactions aggregated.
    field : str, optional
        The property aggregated (``None`` for ``count``).
    where : E, optional
        A condition on those interactions.
    within : str, optional
        Only interactions in the closed window ``[now - D, now]``, e.g. ``"30 days"``.
    before : str, optional
        Only interactions strictly before (in log order) the one bound to this name.
    """
    return E(
        Aggregate(
            func,
            kind,
            field,
            None if where is None else where.node,
            None if within is None else _duration(within),
            before,
        )
    )


def count(
    kind: str, *, where: E | None = None, within: str | None = None, before: str | None = None
) -> E:
    """``count(kind [where ...] [within D | before x])``.

    Parameters
    ----------
    kind : str
        The kind of the interactions counted.
    where : E, optional
        A condition on those interactions.
    within : str, optional
        Only interactions in the closed window ``[now - D, now]``, e.g. ``"30 days"``.
    before : str, optional
        Only interactions strictly before (in log order) the one bound to this name.
    """
    return agg("count", kind, where=where, within=within, before=before)


@attrs.frozen
class _Draft:
    """A rule with its pattern; add ``then``/``unless``/``if`` and finish with :meth:`emit`."""

    name: str
    when_: Pattern
    then_: Then | None = None
    unless_: Unless | None = None
    condition_: Expr | None = None

    def for_customers_with(self, kind: str, *, within: str, where: E | None = None) -> _Draft:
        """``for customers with KIND [where C] within D``: the ``when`` kind is a catalogue
        kind, whose events reach the customers with a matching ``kind`` interaction in the
        window (see :class:`~cxmodel.triggers.Reach`).

        Examples
        --------
        >>> rule = (trigger("back_in_stock").when("restock", as_="r")
        ...         .for_customers_with("product_view", where=col("product") == col("r.product"),
        ...                             within="30 days")
        ...         .emit("back_in_stock", product=col("r.product")).build())
        >>> print(rule)
        trigger back_in_stock:
            when restock as r
                for customers with product_view where product == r.product within 30 days
            emit back_in_stock(product = r.product)
        """
        reach = Reach(kind, None if where is None else where.node, _duration(within))
        return attrs.evolve(self, when_=attrs.evolve(self.when_, reach=reach))

    def then(self, kind: str, *, where: E | None = None, within: str | None = None) -> _Draft:
        """``then KIND [where C] [within D]``."""
        w = None if where is None else where.node
        d = None if within is None else _duration(within)
        return attrs.evolve(self, then_=Then(ThenMode.EVENT, kind, w, d))

    def then_no(self, kind: str, *, for_: str, where: E | None = None) -> _Draft:
        """``then no KIND [where C] for D``."""
        w = None if where is None else where.node
        return attrs.evolve(self, then_=Then(ThenMode.ABSENT, kind, w, _duration(for_)))

    def then_after(self, delay: str) -> _Draft:
        """``then after D``."""
        return attrs.evolve(self, then_=Then(ThenMode.AFTER, duration=_duration(delay)))

    def unless(self, kind: str, *, where: E | None = None) -> _Draft:
        """``unless KIND [where C]``."""
        return attrs.evolve(self, unless_=Unless(kind, None if where is None else where.node))

    def if_(self, condition: E) -> _Draft:
        """``if COND``."""
        return attrs.evolve(self, condition_=condition.node)

    def emit(self, action: str, **payload: Any) -> _Ready:
        """``emit ACTION(key = value, ...)``; then add policies and call ``build()``."""
        rule = Rule(
            name=self.name,
            when=self.when_,
            emit=_emit(action, payload),
            then=self.then_,
            unless=self.unless_,
            condition=self.condition_,
        )
        return _Ready(rule)


@attrs.frozen
class _Ready:
    """A complete rule; add policies, then :meth:`build`."""

    rule: Rule

    def cooldown(self, duration: str) -> _Ready:
        """``cooldown D``."""
        return _Ready(attrs.evolve(self.rule, cooldown=_duration(duration)))

    def once_per_customer(self, every: str | None = None) -> _Ready:
        """``once per customer [every D]``."""
        d = None if every is None else _duration(every)
        return _Ready(attrs.evolve(self.rule, once=True, once_every=d))

    def requires_consent(self, purpose: str) -> _Ready:
        """``requires consent PURPOSE``."""
        return _Ready(attrs.evolve(self.rule, consent=purpose))

    def in_customer_timezone(self) -> _Ready:
        """``in customer timezone``: calendar months and quiet hours in each customer's
        ``timezone`` trait (see :attr:`~cxmodel.triggers.Rule.in_customer_time`)."""
        return _Ready(attrs.evolve(self.rule, customer_timezone=True))

    def quiet_hours(self, start: str, end: str, *, customer_timezone: bool = False) -> _Ready:
        """``quiet hours HH:MM-HH:MM [in customer timezone]`` (UTC unless the rule is in
        customer time; ``customer_timezone=True`` writes the suffix, which puts the whole
        rule in customer time)."""

        def minutes(text: str) -> int:
            parts = text.split(":") if isinstance(text, str) else []
            if (
                len(parts) != 2
                or not all(p.isascii() and p.isdigit() for p in parts)
                or len(parts[1]) != 2
                or int(parts[0]) > 23
                or int(parts[1]) > 59
            ):
                raise invalid(
                    f"expected a time of day HH:MM such as '22:00', got {text!r}", code="E208"
                )
            return int(parts[0]) * 60 + int(parts[1])

        quiet = QuietHours(minutes(start), minutes(end), customer_timezone)
        return _Ready(attrs.evolve(self.rule, quiet=quiet))

    def holdout(self, percent: float | str, *, salt: str | None = None) -> _Ready:
        """``holdout P% [salt "S"]``: hold ``percent`` % of customers out of the action.

        ``percent`` is a percentage, as in the text (``10`` is 10 %); a number strictly
        between 0 and 1 is most likely a share meant (``0.5`` for a half) and warns
        (``DataWarning``): a half is ``50``, and a small percentage written with its sign,
        ``"0.5%"``, is taken as meant without a warning.

        Examples
        --------
        >>> rule = trigger("t").when("purchase").emit("thanks").holdout(10, salt="v2").build()
        >>> print(rule.holdout)
        10% salt "v2"
        >>> print(trigger("t").when("purchase").emit("thanks").holdout("0.5%").build().holdout)
        0.5%
        """
        explicit = percent_text(percent)
        if explicit is None:
            warn_if_share(percent, f"trigger({self.rule.name!r}).holdout()", "percent")
        value = percent if explicit is None else explicit
        return _Ready(attrs.evolve(self.rule, holdout=Holdout(value, salt)))  # type: ignore[arg-type]

    def build(self) -> Rule:
        """Return the frozen :class:`Rule`."""
        return self.rule


@attrs.frozen
class _Start:
    name: str

    def when(self, kind: str, *, as_: str | None = None, where: E | None = None) -> _Draft:
        """``when KIND [as x] [where C]``."""
        return _Draft(
            self.name, Pattern(WhenMode.EVENT, kind, as_, None if where is None else where.node)
        )

    def when_inactive(self, duration: str) -> _Draft:
        """``when inactive for D``."""
        return _Draft(self.name, Pattern(WhenMode.INACTIVE, duration=_duration(duration)))

    def when_no(self, kind: str, *, for_: str, where: E | None = None) -> _Draft:
        """``when no KIND [where C] for D``."""
        w = None if where is None else where.node
        return _Draft(self.name, Pattern(WhenMode.ABSENT, kind, None, w, _duration(for_)))


def trigger(name: str) -> _Start:
    """Start building a rule named ``name``."""
    return _Start(name)


@attrs.frozen
class _PolicyLimit:
    """A contact policy with its limit; name its rules with :meth:`rules`."""

    name: str
    limit: int
    per: Duration

    def rules(self, *names: str) -> _PolicyReady:
        """``rules A > B > ...``: the policy's rules, highest priority first."""
        return _PolicyReady(ContactPolicy(self.name, self.limit, self.per, tuple(names)))


@attrs.frozen
class _PolicyReady:
    """A complete contact policy; :meth:`build` returns it."""

    policy: ContactPolicy

    def build(self) -> ContactPolicy:
        """Return the frozen :class:`ContactPolicy`."""
        return self.policy


@attrs.frozen
class _PolicyStart:
    name: str

    def at_most(self, limit: int, *, per: str) -> _PolicyLimit:
        """``at most N per D``."""
        return _PolicyLimit(self.name, limit, _duration(per))


def contact_policy(name: str) -> _PolicyStart:
    """Start building a contact policy named ``name``; put it in a
    :class:`~cxmodel.triggers.RuleSet` with its rules.

    Examples
    --------
    >>> from cxmodel.triggers import RuleSet, parse
    >>> vip = trigger("vip").when("purchase").emit("vip_offer").build()
    >>> thanks = trigger("thanks").when("purchase").emit("thank_you").build()
    >>> weekly = contact_policy("weekly").at_most(1, per="7 days").rules("vip", "thanks").build()
    >>> rules = RuleSet((vip, thanks), (weekly,))
    >>> parse(str(rules)) == rules
    True
    """
    return _PolicyStart(name)


@attrs.frozen
class _AlertReady:
    """A complete alert; add ``cooldown`` / ``once``, then :meth:`build`."""

    alert: Alert

    def cooldown(self, duration: str) -> _AlertReady:
        """``cooldown D``: no firing within ``D`` of the last emitted one."""
        return _AlertReady(attrs.evolve(self.alert, cooldown=_duration(duration)))

    def once(self) -> _AlertReady:
        """``once``: only the first emitted firing ever."""
        return _AlertReady(attrs.evolve(self.alert, once=True))

    def build(self) -> Alert:
        """Return the frozen :class:`~cxmodel.triggers.Alert`."""
        return self.alert


@attrs.frozen
class _AlertDraft:
    """An alert with its condition; add a segment, then :meth:`emit`."""

    name: str
    when_: Expr
    segment_: Expr | None = None

    def for_customers(self, where: E) -> _AlertDraft:
        """``for customers where TRAITS``: count only these customers' interactions."""
        return attrs.evolve(self, segment_=where.node)

    def emit(self, action: str, **payload: Any) -> _AlertReady:
        """``emit ACTION(key = value, ...)``; then add ``cooldown`` / ``once`` and build."""
        return _AlertReady(Alert(self.name, self.when_, _emit(action, payload), self.segment_))


@attrs.frozen
class _AlertStart:
    name: str

    def when(self, condition: E) -> _AlertDraft:
        """``when COND``: aggregates of everyone's interactions in trailing windows."""
        return _AlertDraft(self.name, condition.node)


def alert(name: str) -> _AlertStart:
    """Start building an alert across customers named ``name``; put it in a
    :class:`~cxmodel.triggers.RuleSet` with ``alerts=``.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> built = (
    ...     alert("payment_spike")
    ...     .when(count("ticket_opened", where=col("topic") == "payment", within="1 hours") > 20)
    ...     .emit("page_support_lead")
    ...     .cooldown("1 days")
    ...     .build()
    ... )
    >>> text = '''alert payment_spike:
    ...     when count(ticket_opened where topic == "payment" within 1 hours) > 20
    ...     emit page_support_lead
    ...     cooldown 1 days'''
    >>> built == parse(text).alerts[0]
    True
    """
    return _AlertStart(name)
