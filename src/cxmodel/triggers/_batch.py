"""The batch evaluator: every rule over a whole :class:`~cxmodel.log.InteractionLog`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from cxmodel._pieces import warn
from cxmodel._progress import progress_bar
from cxmodel._time import TimeLike, as_of_us
from cxmodel.errors import DataWarning
from cxmodel.log._observed import check_as_of, first_time, warn_after_data
from cxmodel.triggers._alert_batch import alert_firings
from cxmodel.triggers._api import refuse_unchecked, unread_catalogue, warn_misspelt_kinds
from cxmodel.triggers._arguments import customer_records, evaluated_log, rule_set
from cxmodel.triggers._candidates import rule_candidates
from cxmodel.triggers._catalogue import catalogue_log, events_until
from cxmodel.triggers._catalogue_batch import catalogue_firings
from cxmodel.triggers._context import LogContext, pair_budget
from cxmodel.triggers._firings import FiringBlock, Firings, firing_blocks
from cxmodel.triggers._operators import numeric_traits
from cxmodel.triggers._policies import (
    PolicyInput,
    apply_contact_policy,
    apply_policies,
    policy_input,
)
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._truths import refuse_text_traits

__all__ = [
    "consent_kinds",
    "consent_recorded",
    "evaluate",
    "evaluate_us",
    "warn_unconsented",
    "warn_unobserved_firings",
]

#: The kinds that record a customer's consent (see ``consent_at``).
CONSENT_KINDS = ("consent_granted", "consent_revoked")


def evaluate(
    rules: RuleSet | Rule,
    log: Any,
    *,
    as_of: TimeLike,
    customers: Mapping[str, Any] | None = None,
    progress: bool = False,
    catalogue: Any = None,
) -> Firings:
    """Evaluate ``rules`` over ``log`` as of event time ``as_of``.

    Only interactions at or before ``as_of`` (an aware time: a datetime with a time zone or
    an ISO-8601 string with an offset such as ``Z``) are seen; timers fire when due at or
    before ``as_of``. ``customers`` (id -> :class:`~cxmodel.domain.Customer`) supplies traits
    for ``customer.x`` and consent when the log has no consent events for a purpose.
    ``catalogue`` holds the catalogue events, which belong to no customer (a product
    restocked, a price dropped): records with ``timestamp``, ``kind`` and properties and no
    ``customer_id``, or a mapping of such columns. Catalogue rules (``when KIND as x for
    customers with ...``) read them, at or before ``as_of``; other rules never do.
    ``progress=True`` shows a progress bar on standard error advancing one step per rule
    (needs the ``progress`` extra); the firings are the same.

    Parameters
    ----------
    rules : RuleSet or Rule
        The rules.
    log : InteractionLog
        The interactions (as of ``as_of``).
    as_of : time-like
        Event time of the evaluation: an aware datetime or ISO-8601 text with an offset.
    customers : mapping of str to Customer, optional
        Traits and consent per customer id.
    progress : bool, default False
        Show a progress bar on standard error, one step per rule (needs the ``progress`` extra).
    catalogue : records or columns, optional
        Catalogue events (records without ``customer_id``, or columns) for catalogue rules
        (``when KIND as x for customers with ...``).

    Raises
    ------
    TriggerTypeError
        If :func:`~cxmodel.triggers.check` refuses the rules against ``log`` (an unknown kind
        or property, a type mismatch); the diagnostics name each rule.
    EvaluationLimitError
        If one aggregate or condition would compare more than
        :data:`~cxmodel.triggers._context.MAX_PAIRS` (query, row) pairs, or the whole call more
        than :data:`~cxmodel.triggers._context.MAX_TOTAL_PAIRS`.
    SchemaError
        If ``as_of`` is not an aware time, or a catalogue event is bad or names a customer.
    DataError
        If ``as_of`` is before the log's first interaction: no rule could see anything, and
        an empty answer would hide a wrong year or time zone.
    MissingDependencyError
        If ``progress=True`` and tqdm is not installed.

    Warns
    -----
    DataWarning
        When a rule reads a kind the log holds only in another case or with spaces
        (``purchase`` over ``Purchase`` rows, naming them and their count): the rule sees
        none of those interactions. Also when a catalogue rule cannot fire: ``catalogue`` is
        not given, or holds none of its kind but events of a kind spelt like it. And when
        firings fall after the log's observation ends (``log.observed_until``, its last
        interaction unless declared with :meth:`~cxmodel.log.InteractionLog.with_observed_until`)
        and at or before ``as_of``: a rule that waits (``inactive for``, ``no X for``, ``then
        no``, ``then after``) fires there as if no interaction came in that span, which the
        data cannot say; the warning counts them per rule. And when a rule that ``requires
        consent`` had firings suppressed for want of it while the data hold no consent record
        at all (no ``consent_granted`` or ``consent_revoked`` row, no customer record with
        consent): the warning names the rule and counts those firings.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_records([
    ...     {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 50.0},
    ...     {"customer_id": "a", "timestamp": "2024-02-01T00:00:00Z", "kind": "purchase", "value": 500.0},
    ... ])
    >>> rules = parse("trigger big:\\n    when purchase as p where p.value > 100\\n    emit thanks(v = p.value)")
    >>> [(f.customer_id, f.payload) for f in evaluate(rules, log, as_of="2024-12-31T00:00:00Z")]
    [('a', {'v': 500.0})]
    """
    rules = rule_set(rules, "evaluate()")
    log = evaluated_log(log, "evaluate()")
    customers = customer_records(customers, "evaluate()")
    refuse_text_traits({cid: c.traits for cid, c in customers.items()}, numeric_traits(rules))
    cutoff = as_of_us(as_of)
    check_as_of(first_time(log), cutoff, caller="evaluate()")
    events = catalogue_log(catalogue)
    refuse_unchecked(rules, log, events)
    warn_misspelt_kinds(rules, log)
    for note in unread_catalogue(rules, events):
        warn(note, DataWarning)
    with progress_bar(progress, desc="evaluate", total=len(rules), unit="rule") as bar:

        def step(rule: Rule) -> None:
            bar.set_postfix_str(rule.name)
            bar.update(1)

        firings = evaluate_us(rules, log, cutoff, customers=customers, done=step, events=events)
    warn_unobserved_firings(firings, getattr(log, "observed_until", None), cutoff, "evaluate()")
    warn_unconsented(firings, rules, consent_recorded(consent_kinds(log), customers), "evaluate()")
    return firings


def consent_recorded(kinds: Iterable[str], customers: Mapping[str, Any] | None) -> bool:
    """Whether the data hold any record of consent: ``kinds`` (the kinds of the log's rows)
    include ``consent_granted`` or ``consent_revoked``, or a customer record's consent grants
    a purpose or was updated (an empty :class:`~cxmodel.domain.Consent` is the default, not a
    record)."""
    if not set(CONSENT_KINDS).isdisjoint(kinds):
        return True
    for record in (customers or {}).values():
        consent = getattr(record, "consent", None)
        if consent is not None and (consent.granted or consent.updated_at is not None):
            return True
    return False


def consent_kinds(log: Any) -> set[str]:
    """The consent kinds ``log`` has rows of (read from the rows: the kind vocabulary of a
    filtered log may name kinds it no longer holds)."""
    return {kind for kind in CONSENT_KINDS if bool(log.kind_mask(kind).any())}


def warn_unconsented(firings: Firings, rules: RuleSet, recorded: bool, caller: str) -> None:
    """Warn, per rule, about the firings suppressed for want of consent when the data hold
    no consent record at all (``recorded`` is :func:`consent_recorded`): every customer then
    lacks consent, so the rule's ``requires consent`` stops each firing, which reads as the
    rule not matching rather than as consent data missing.

    Examples
    --------
    >>> import warnings
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_arrays(["a", "b"], ["2024-01-01T00:00Z"] * 2, ["signup"] * 2)
    >>> rules = parse("trigger hi:\\n    when signup\\n    emit mail\\n    requires consent marketing")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     firings = evaluate(rules, log, as_of="2024-01-01T00:00Z")
    >>> len(firings), len(firings.suppressed)
    (0, 2)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    evaluate(): rule 'hi' requires consent marketing, but no consent record was found (...): 2 of its firings were suppressed as 'no consent for marketing'; ...
    """
    if recorded:
        return
    _, suppressed = firing_blocks(firings)
    for rule in rules:
        if rule.consent is None:
            continue
        refused = f"no consent for {rule.consent}"
        blocks = [b for b in suppressed if b.trigger == rule.name and b.reason is not None]
        n = sum(int(np.count_nonzero(b.reason == refused)) for b in blocks)
        if not n:
            continue
        warn(
            f"{caller}: rule {rule.name!r} requires consent {rule.consent}, but no consent "
            "record was found (no consent_granted or consent_revoked interaction in the data, "
            f"and no customer record with consent): {n:,} of its firing"
            f"{'s were' if n != 1 else ' was'} suppressed as {refused!r}; add the consent "
            "interactions, or pass each customer's consent (customers=)",
            DataWarning,
        )


def warn_unobserved_firings(firings: Firings, until: int | None, as_of: int, caller: str) -> None:
    """Warn, counting them per rule, about the firings (emitted or suppressed) at times after
    ``until``, the end of the log's observation, when ``as_of`` is after it: they were found
    or decided over a span in which no interaction was seen, as if none came.

    Examples
    --------
    >>> import warnings
    >>> from cxmodel.log import InteractionLog
    >>> from cxmodel.triggers import parse
    >>> log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["view"])
    >>> rules = parse("trigger lapsed:\\n    when inactive for 30 days\\n    emit nudge")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     firings = evaluate(rules, log, as_of="2024-03-01T00:00Z")
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    evaluate(): as_of 2024-03-01T00:00:00Z is 60.0 days after the log's last interaction (2024-01-01T00:00:00Z), a span in which nothing was seen: 1 firing falls in it (lapsed: 1), found as if no interaction came then (declare the log observed that long with log.with_observed_until(...) if it was); ...
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error")
    ...     len(evaluate(rules, log.with_observed_until("2024-03-01T00:00Z"), as_of="2024-03-01T00:00Z"))
    1
    """
    if until is None or as_of <= until:
        return
    counts: dict[str, int] = {}
    emitted, suppressed = firing_blocks(firings)
    for block in (*emitted, *suppressed):
        n = int(np.count_nonzero(block.time > until))
        if n:
            counts[block.trigger] = counts.get(block.trigger, 0) + n
    total = sum(counts.values())
    if not total:
        return
    per_rule = ", ".join(f"{name}: {n:,}" for name, n in sorted(counts.items()))
    warn_after_data(
        until,
        as_of,
        f"{total:,} firing{'s fall' if total != 1 else ' falls'} in it ({per_rule}), found as "
        "if no interaction came then (declare the log observed that long with "
        "log.with_observed_until(...) if it was)",
        caller=caller,
    )


def evaluate_us(
    rules: RuleSet,
    log: Any,
    cutoff: int,
    *,
    customers: Mapping[str, Any] | None = None,
    done: Callable[[Rule], None] | None = None,
    events: Any = None,
) -> Firings:
    """:func:`evaluate` with ``as_of`` in microseconds since the epoch (UTC); ``done`` is
    called after each rule (a progress bar's step); ``events`` are the catalogue events as
    :func:`~cxmodel.triggers._catalogue.catalogue_log` gives them."""
    visible = np.asarray(log.timestamps) <= cutoff
    if not visible.all():
        log = log.filter(visible)
    traits = {k: dict(getattr(v, "traits", {})) for k, v in (customers or {}).items()}
    ctx = LogContext(log, traits)
    catalogue = None if events is None else LogContext(events_until(events, cutoff))
    emitted: list[FiringBlock] = []
    suppressed: list[FiringBlock] = []
    if ctx.n:
        with pair_budget():  # one bound on the pairs compared over the whole call
            grouped: dict[str, PolicyInput] = {}  # rules of a contact policy wait for the group
            for rule in rules:
                if rule.when.reach is not None:  # a catalogue rule: its events reach customers
                    e, s = catalogue_firings(ctx, catalogue, rule, cutoff, customers or {})
                    emitted.append(e)
                    suppressed.append(s)
                    continue
                cand = rule_candidates(ctx, rule, cutoff)
                if rules.policy_of(rule.name) is not None:
                    grouped[rule.name] = policy_input(ctx, rule, cand, cutoff, customers or {})
                else:
                    e, s = apply_policies(ctx, rule, cand, cutoff, customers or {})
                    emitted.append(e)
                    suppressed.append(s)
                if done is not None:
                    done(rule)
            for policy in rules.policies:
                members = [grouped[name] for name in policy.rules]
                for e, s in apply_contact_policy(policy, members):
                    emitted.append(e)
                    suppressed.append(s)
            for alert in rules.alerts:  # over everyone's interactions, not per customer
                e, s = alert_firings(ctx, alert, cutoff)
                emitted.append(e)
                suppressed.append(s)
    return Firings.from_blocks(emitted, suppressed)
