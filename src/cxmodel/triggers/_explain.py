"""``explain``: for one customer, why each rule fired or which clause stopped it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from cxmodel._arguments import got
from cxmodel._result import Result
from cxmodel._time import TimeLike, as_of_us, us_to_datetime
from cxmodel.errors import ValueTypeError
from cxmodel.triggers._api import warn_misspelt_kinds
from cxmodel.triggers._arguments import customer_records, evaluated_log, rule_set
from cxmodel.triggers._batch import (
    consent_kinds,
    consent_recorded,
    evaluate_us,
    warn_unconsented,
    warn_unobserved_firings,
)
from cxmodel.triggers._candidates import cancellations, rule_candidates
from cxmodel.triggers._catalogue import catalogue_log, events_until
from cxmodel.triggers._catalogue_batch import why_not_reached
from cxmodel.triggers._context import LogContext
from cxmodel.triggers._firings import Firing
from cxmodel.triggers._policies import quiet_times
from cxmodel.triggers._rules import Rule, RuleSet

__all__ = ["Explanation", "RuleExplanation", "describe_because", "explain"]


@attrs.frozen
class RuleExplanation:
    """Why one rule fired (``fired``) or did not (``reason`` names the clause that stopped it)."""

    trigger: str
    fired: tuple[Firing, ...]
    suppressed: tuple[Firing, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "trigger": self.trigger,
            "fired": [f.to_dict() for f in self.fired],
            "suppressed": [f.to_dict() for f in self.suppressed],
            "reason": self.reason,
        }


@attrs.frozen(repr=False)
class Explanation(Result):
    """Per-rule explanations for one customer.

    ``alerts`` names the rule set's alerts: an alert's condition is over all customers, so it
    is not explained per customer (:func:`~cxmodel.triggers.evaluate` gives its firings); the
    text says so, one line per alert, instead of leaving them out without a word.
    """

    customer_id: str
    rules: tuple[RuleExplanation, ...]
    alerts: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"customer {self.customer_id}:"]
        lines += [f"  {r.trigger}: {r.reason}" for r in self.rules]
        lines += [
            f"  alert {name}: over all customers, so not explained per customer (evaluate "
            "gives its firings)"
            for name in self.alerts
        ]
        return "\n".join(lines)

    def _rows(self) -> dict[Any, Any]:
        """One row per rule: how many firings it emitted and suppressed, and why."""
        return {
            "trigger": [r.trigger for r in self.rules],
            "fired": [len(r.fired) for r in self.rules],
            "suppressed": [len(r.suppressed) for r in self.rules],
            "why": [r.reason for r in self.rules],
        }

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``to_pandas`` has one row per rule)."""
        return {
            "customer_id": self.customer_id,
            "rules": [r.to_dict() for r in self.rules],
            "alerts": list(self.alerts),
        }


def _values(values: Mapping[str, Any]) -> str:
    shown = [f"{k} = {round(v, 4) if isinstance(v, float) else v!r}" for k, v in values.items()]
    return f" ({', '.join(shown)})" if shown else ""


def describe_because(because: Mapping[str, Any]) -> str:
    """A firing's ``because`` as one sentence.

    Examples
    --------
    >>> describe_because({"when": {"kind": "survey", "time": "2024-01-01T00:00:00+00:00",
    ...                    "values": {"score": 3.0}}})
    'survey at 2024-01-01T00:00:00+00:00 (score = 3.0)'

    An alert's firing (no interaction kind: the condition over everyone) reads as the
    condition holding:

    >>> describe_because({"when": {"kind": None, "time": "2024-01-01T00:00:00+00:00",
    ...                    "values": {"count(ticket_opened within 1 hours)": 51.0}}})
    'condition held at 2024-01-01T00:00:00+00:00 (count(ticket_opened within 1 hours) = 51.0)'
    """
    when = because["when"]
    what = "condition held" if when.get("kind") is None else when["kind"]
    parts = [f"{what} at {when['time']}{_values(when.get('values', {}))}"]
    if "with" in because:  # the customer's interaction a catalogue event reached
        seen = because["with"]
        parts.append(f"with {seen['kind']} at {seen['time']}{_values(seen.get('values', {}))}")
    if "then" in because:
        then = because["then"]
        parts.append(f"then {then['kind']} at {then['time']}{_values(then.get('values', {}))}")
    if "no" in because:
        no = because["no"]
        what = "no interaction" if no["kind"] is None else f"no {no['kind']}"
        if "where" in no:
            what += f" where {no['where']}"
        parts.append(f"{what} after it until {no['until']}")
    if "if" in because:
        parts.append(f"if{_values(because['if'])}")
    if "quiet_hours_delayed_from" in because:
        parts.append(f"delayed by quiet hours from {because['quiet_hours_delayed_from']}")
    return "; ".join(parts)


def _cancelled(ctx: LogContext, rule: Rule, cancelled: list[tuple[int, int]]) -> str:
    """Why a waiting firing did not fire: the interaction that cancelled it, in words."""
    anchor, blocker = cancelled[0]

    def named(row: int) -> str:
        kind = ctx._kind_names[int(ctx._kind_codes[row])]
        text = f"{kind} at {us_to_datetime(int(ctx.ts[row])).isoformat()}"
        if "interaction_id" in ctx.log:
            ident = ctx.column_at("interaction_id", np.array([row]))[0]
            if isinstance(ident, str):
                text += f" ({ident})"
        return text

    then = rule.then
    assert then is not None
    clause = (
        f"'then {then}'"
        if then.mode == "absent"
        else f"'unless {rule.unless.kind}{'' if rule.unless.where is None else ' where ' + str(rule.unless.where)}'"
        if rule.unless is not None
        else f"'then {then}'"
    )
    more = f" ({len(cancelled) - 1} more cancelled likewise)" if len(cancelled) > 1 else ""
    return f"'when {rule.when}' matched at {named(anchor)}, but {named(blocker)} cancelled it: {clause}{more}"


def _why_not(ctx: LogContext, rule: Rule, cutoff: int, events: LogContext | None) -> str:
    when = rule.when
    if when.reach is not None:
        return why_not_reached(ctx, events, rule)
    if when.mode == "event":
        assert when.kind is not None
        n_kind = int(ctx.kind_mask(when.kind).sum())
        if n_kind == 0:
            return f"no {when.kind} interaction"
        if when.where is not None:
            rows = np.flatnonzero(ctx.kind_mask(when.kind)).astype(np.int64)
            ok = ctx.evaluate(when.where, rows, alias=rule.alias, alias_rows=rows).astype(bool)
            if not ok.any():
                return f"{n_kind} {when.kind} interaction(s), none where {when.where}"
    cands = rule_candidates(ctx, rule, cutoff)
    if len(cands.cust) == 0:
        cancelled = cancellations(ctx, rule, cutoff)
        if cancelled:
            return _cancelled(ctx, rule, cancelled)
        if rule.then is not None:
            return f"'when {when}' matched but 'then {rule.then}' did not complete by as_of"
        return f"'when {when}' never held by as_of"
    n = len(cands.cust)
    # as the policies see them: quiet hours move the firings first, then the `if` is read
    zoned = ctx.in_customer_time(rule.name) if rule.in_customer_time else ctx
    due = int((quiet_times(zoned, rule, cands.cust, cands.time) <= cutoff).sum())
    if rule.condition is None or not due:
        return f"{n} candidate(s) were not due by as_of (quiet hours)"
    late = "" if due == n else f" ({n - due} more not due by as_of: quiet hours)"
    return f"{due} candidate(s), but 'if {rule.condition}' was false each time{late}"


def explain(
    rules: RuleSet | Rule,
    log: Any,
    customer_id: str | int,
    *,
    as_of: TimeLike,
    customers: Mapping[str, Any] | None = None,
    catalogue: Any = None,
) -> Explanation:
    """Explain, for each rule, why it fired for ``customer_id`` or which clause failed.

    Parameters
    ----------
    rules : RuleSet or Rule
        The rules.
    log : InteractionLog
        The interactions (as of ``as_of``).
    customer_id : str
        The customer to explain.
    as_of : time-like
        Event time of the evaluation, as in :func:`evaluate`.
    customers : mapping of str to Customer, optional
        Traits and consent per customer id, as in :func:`evaluate`.
    catalogue : records or columns, optional
        The catalogue events, as :func:`~cxmodel.triggers.evaluate` takes them. A catalogue
        rule that did not fire says whether no event came, none passed its ``when ...
        where``, none reached the customer, or its ``if`` was false.

    Returns
    -------
    Explanation
        One explanation per rule; the rule set's alerts, which are over all customers, are
        named in :attr:`Explanation.alerts` and not explained.

    Raises
    ------
    DataError
        If ``customer_id`` is not in the log (with the ids it probably meant).

    Warns
    -----
    DataWarning
        When a rule reads a kind the log holds only spelt otherwise, or firings fall after
        the log's observation ends, as :func:`~cxmodel.triggers.evaluate` does.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records(
    ...     [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5.0}])
    >>> rules = parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit x")
    >>> print(explain(rules, log, "a", as_of="2024-02-01T00:00:00Z"))
    customer a:
      big: 1 purchase interaction(s), none where p.value > 100
    """
    rules = rule_set(rules, "explain()")
    log = evaluated_log(log, "explain()")
    customers = customer_records(customers, "explain()")
    cutoff = as_of_us(as_of)
    if isinstance(customer_id, (int, np.integer)) and not isinstance(customer_id, bool):
        customer_id = str(customer_id)  # as the log keeps an integer customer id
    if not isinstance(customer_id, str) or not customer_id:
        raise ValueTypeError(
            f"explain(): customer_id must be a customer id (text, or an integer as the log "
            f"read it); got {got(customer_id)}"
        )
    index = log.customer_index(customer_id)
    warn_misspelt_kinds(rules, log)
    mine_rows = np.asarray(log.customer_codes) == index
    sub = log.filter(mine_rows & (np.asarray(log.timestamps) <= cutoff))
    mine = customers.get(customer_id)
    traits = {} if mine is None else {customer_id: dict(getattr(mine, "traits", {}))}
    ctx = LogContext(sub, traits)  # one for every rule: its columns and kind masks are cached
    events = catalogue_log(catalogue)
    seen = None if events is None else LogContext(events_until(events, cutoff))
    out = []
    # contact policies span rules: evaluate the set together
    result = evaluate_us(rules, sub, cutoff, customers=customers, events=events)
    warn_unobserved_firings(result, log.observed_until, cutoff, "explain()")
    warn_unconsented(result, rules, consent_recorded(consent_kinds(log), customers), "explain()")
    every, stopped = tuple(result), tuple(result.suppressed)
    for rule in rules:
        fired = tuple(f for f in every if f.trigger == rule.name)
        suppressed = tuple(f for f in stopped if f.trigger == rule.name)
        if fired:
            first = fired[0]
            reason = (
                f"fired {len(fired)} time(s), first at {first.time.isoformat()}: "
                f"{describe_because(first.because)}"
            )
        elif suppressed:
            reason = f"{len(suppressed)} firing(s) suppressed: {suppressed[0].reason}"
        elif len(sub) == 0:  # as_of before the customer's first interaction
            start = us_to_datetime(int(np.asarray(log.timestamps)[mine_rows].min()))
            reason = f"no interactions up to as_of (the first is at {start.isoformat()})"
        else:
            reason = _why_not(ctx, rule, cutoff, seen)
        out.append(RuleExplanation(rule.name, fired, suppressed, reason))
    return Explanation(customer_id, tuple(out), tuple(a.name for a in rules.alerts))
