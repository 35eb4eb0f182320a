"""Contact policies: at most N emitted actions per customer per period across a group of rules,
priority deciding which firing wins.

The AST (:class:`ContactPolicy`, its text and JSON) and the one decision both drivers make for
a firing (:func:`blocking`, :func:`contact_reason`, :func:`remember`): the streaming runner
calls them per firing, the batch evaluator in its pass over a group's candidates
(``_policies.apply_contact_policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from cxmodel.expr import Duration
from cxmodel.expr._ast import (
    at_path,
    duration_from_dict,
    duration_to_dict,
    fields,
    identifier,
    invalid,
    json_int,
    json_list,
    json_str,
    positive,
)
from cxmodel.triggers._context import shift

if TYPE_CHECKING:
    from cxmodel.triggers._rules import RuleSet

__all__ = [
    "MAX_CONTACTS",
    "ContactPolicy",
    "blocking",
    "contact_reason",
    "policy_problems",
    "remember",
    "without_rule",
]

#: The largest N of ``at most N per D``.
MAX_CONTACTS = 1_000

Entry = TypeVar("Entry", bound=Sequence[Any])


def _check_policy(p: ContactPolicy, attribute: Any, value: Any) -> None:
    identifier(p.name, "contact policy name")
    limit = p.limit
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_CONTACTS:
        raise invalid(
            f"contact policy {p.name!r}: 'at most' takes a whole number from 1 to "
            f"{MAX_CONTACTS}, got {limit!r}",
            "e.g. at most 2 per 7 days",
            pos=p.pos,
            code="E216",
        )
    if not isinstance(p.per, Duration):
        raise invalid(
            f"contact policy {p.name!r}: the period must be a Duration, got {p.per!r}", code="E102"
        )
    positive(p.per, "per")
    if not isinstance(p.rules, tuple) or not p.rules:
        raise invalid(
            f"contact policy {p.name!r} names no rules",
            "list them highest priority first: rules a > b > c",
            pos=p.pos,
            code="E216",
        )
    seen: set[str] = set()
    for name in p.rules:
        identifier(name, "rule name")
        if name in seen:
            raise invalid(
                f"contact policy {p.name!r} lists rule {name!r} twice",
                "each rule has one place in the priority order",
                pos=p.pos,
                code="E216",
            )
        seen.add(name)


@attrs.frozen
class ContactPolicy:
    """``contact policy NAME: at most N per D, rules A > B > C``: across its rules, a customer
    gets at most ``limit`` emitted actions in any period of length ``per``.

    A firing of one of the rules that its own policies let through is suppressed when
    ``limit`` firings of the policy's rules were already emitted for the customer strictly
    after ``time - per`` (so a firing exactly ``per`` later is allowed, as with ``cooldown``);
    its reason names the policy and those firings. ``rules`` is the priority order, highest
    first: firings of a customer that fall at the same time are decided in that order, so the
    higher-priority one takes the last free place. Months in ``per`` are calendar months in
    UTC.

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> print(ContactPolicy("weekly", 2, Duration(7, "days"), ("vip", "discount")))
    contact policy weekly:
        at most 2 per 7 days
        rules vip > discount
    """

    name: str
    limit: int
    per: Duration
    rules: tuple[str, ...]
    pos: tuple[int, int] = attrs.field(
        default=(0, 0), eq=False, repr=False, kw_only=True, validator=_check_policy
    )

    @property
    def summary(self) -> str:
        """``at most N per D``."""
        return f"at most {self.limit} per {self.per}"

    def __str__(self) -> str:
        return (
            f"contact policy {self.name}:\n    {self.summary}\n    rules {' > '.join(self.rules)}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``{"name", "at_most", "per", "rules"}``."""
        return {
            "name": self.name,
            "at_most": self.limit,
            "per": duration_to_dict(self.per),
            "rules": list(self.rules),
        }

    @classmethod
    def from_dict(cls, data: Any, path: str = "policy") -> ContactPolicy:
        """Rebuild a policy from :meth:`to_dict` output; errors name the JSON path (E214)."""
        d = fields(data, path, ("name", "at_most", "per", "rules"))
        names = json_list(d["rules"], f"{path}.rules")
        return at_path(  # type: ignore[no-any-return]
            path,
            cls,
            json_str(d["name"], f"{path}.name"),
            json_int(d["at_most"], f"{path}.at_most"),
            duration_from_dict(d["per"], f"{path}.per"),
            tuple(json_str(n, f"{path}.rules[{i}]") for i, n in enumerate(names)),
        )


def policy_problems(
    rule_names: Sequence[str], policies: Sequence[ContactPolicy], alert_names: Sequence[str] = ()
) -> list[tuple[int, int | None, str, str | None]]:
    """What is wrong between a rule set's rules and its policies, as ``(policy index, index
    of the rule name in the policy or None, message, hint)``: a policy name used twice, a
    rule that is not in the rule set (with a did-you-mean), an alert (``alert_names``: an
    alert reaches no customer), a rule in two policies."""
    out: list[tuple[int, int | None, str, str | None]] = []
    known = set(rule_names)
    owner: dict[str, str] = {}
    names: dict[str, int] = {}
    for i, policy in enumerate(policies):
        if policy.name in names:
            out.append((i, None, f"a contact policy named {policy.name!r} is defined twice",
                        "give each policy a unique name"))  # fmt: skip
        names.setdefault(policy.name, i)
        for j, rule in enumerate(policy.rules):
            if rule in alert_names:
                out.append((i, j, f"contact policy {policy.name!r} names alert {rule!r}; a "
                            "policy counts what each customer is sent, an alert reaches no "
                            "customer", "take it out of the policy; an alert has its own "
                            "'cooldown'"))  # fmt: skip
            elif rule not in known:
                close = get_close_matches(rule, list(rule_names), n=1)
                hint = f"did you mean {close[0]!r}?" if close else "define the rule, or drop it"
                out.append(
                    (
                        i,
                        j,
                        f"contact policy {policy.name!r} names rule {rule!r}, which is not "
                        "in the rule set",
                        hint,
                    )
                )
            elif rule in owner:
                out.append(
                    (
                        i,
                        j,
                        f"rule {rule!r} is in contact policies {owner[rule]!r} and "
                        f"{policy.name!r}; a rule follows at most one",
                        "merge the two policies, or take the rule out of one",
                    )
                )
            else:
                owner[rule] = policy.name
    return out


def blocking(policy: ContactPolicy, sent: Sequence[int], time: int) -> list[int] | None:
    """For a firing at ``time`` that its rule's own policies let through: the positions in
    ``sent`` (the times of the customer's emitted firings of the policy's rules, oldest first)
    of those that stop it, when ``policy.limit`` of them lie strictly after ``time - per``;
    ``None`` when it may go out.

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> day = 86_400_000_000
    >>> weekly = ContactPolicy("weekly", 1, Duration(7, "days"), ("a",))
    >>> blocking(weekly, [0], 6 * day), blocking(weekly, [0], 7 * day)
    ([0], None)
    """
    start = shift(time, policy.per, None, -1)
    inside = [i for i, t in enumerate(sent) if t > start]
    return inside if len(inside) >= policy.limit else None


def contact_reason(policy: ContactPolicy, by: Sequence[tuple[str, str]]) -> str:
    """The reason of a firing the policy suppressed: the policy and the emitted firings
    (trigger, firing id) that stopped it.

    Examples
    --------
    >>> from cxmodel.expr import Duration
    >>> weekly = ContactPolicy("weekly", 1, Duration(7, "days"), ("a", "b"))
    >>> contact_reason(weekly, [("a", "3f2a")])
    'contact policy weekly: at most 1 per 7 days; after a 3f2a'
    """
    after = ", ".join(f"{trigger} {ident}" for trigger, ident in by)
    return f"contact policy {policy.name}: {policy.summary}; after {after}"


def remember(policy: ContactPolicy, sent: list[Entry], entry: Entry) -> list[Entry]:
    """``sent`` with a newly emitted firing's ``entry`` (its time first) appended, keeping the
    last ``policy.limit`` entries: only they can stop a later firing, since entries come in
    time order."""
    kept = [*sent, entry]
    return kept[-policy.limit :]


def without_rule(rules: RuleSet, name: str) -> RuleSet:
    """``rules`` without the rule ``name``, which also leaves its contact policy (a policy
    left without rules goes too)."""
    from cxmodel.triggers._rules import RuleSet

    policies = [
        attrs.evolve(p, rules=tuple(r for r in p.rules if r != name))
        for p in rules.policies
        if p.rules != (name,)
    ]
    return RuleSet(tuple(r for r in rules if r.name != name), tuple(policies), rules.alerts)
