"""The active rules of a running streaming engine changed: a rule or an alert added (its
state built from a backfill, if one is given) or removed, each change committed to the store
with the customers it changed, or undone whole if it or its commit fails.

Each function takes the engine's active rules and its :class:`RuleRunner`, changes the
runner, and returns the rules now active; the engine keeps them once the change is
committed (see :func:`change_rules`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cxmodel.errors import StoreError
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._backfill import adopt
from cxmodel.triggers._calendar import refuse_bad_zones
from cxmodel.triggers._contact import without_rule
from cxmodel.triggers._operators import RulePlan
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._runner import RuleRunner
from cxmodel.triggers._snapshot import ChangedStates
from cxmodel.triggers._store import StateChange, StateStore, commit
from cxmodel.triggers._truths import refuse_text_traits

__all__ = ["add_alert", "add_rule", "change_rules", "remove"]

#: the state of ``rules`` (the new rules alone) after the backfill (``None``: no backfill)
Replay = Callable[[RuleSet], RuleRunner] | None


def add_alert(rules: RuleSet, runner: RuleRunner, alert: Alert, replay: Replay) -> RuleSet:
    """``rules`` with ``alert`` added to them and to ``runner``; with ``replay``, the alert's
    windows and episode are built from the backfill (the firings found there are not
    returned)."""
    added = RuleSet(rules.rules, rules.policies, (*rules.alerts, alert))
    runner.alerts.add(alert)
    if replay is not None:
        helper = replay(RuleSet(alerts=(alert,)))
        runner.alerts.states[alert.name] = helper.alerts.states[alert.name]
    runner.index()
    return added


def add_rule(rules: RuleSet, runner: RuleRunner, rule: Rule, replay: Replay) -> RuleSet:
    """``rules`` with ``rule`` added to them and to ``runner``; with ``replay``, the rule's
    state (and the values of aggregates no active rule read yet) is built from the backfill."""
    plan = RulePlan(rule, runner.aggregates)
    held = {k for p in runner.plans.values() for k in p.aggregates}
    added = RuleSet((*rules.rules, rule), rules.policies, rules.alerts)
    runner.plans[rule.name] = plan
    runner.index()
    if replay is not None:
        adopt(runner, replay(RuleSet((rule,))), plan, held)
    return added


def remove(rules: RuleSet, runner: RuleRunner, name: str) -> RuleSet:
    """``rules`` without the rule or alert called ``name``, which ``runner`` drops with its
    state and the values of aggregates no other active rule reads."""
    if name in runner.alerts.plans:
        alerts = tuple(a for a in rules.alerts if a.name != name)
        runner.alerts.remove(name)
        runner.index()
        return RuleSet(rules.rules, rules.policies, alerts)
    kept = without_rule(rules, name)
    runner.use_policies(kept)
    del runner.plans[name]
    runner.index()
    for state in list(runner.states.values()):
        runner.tidy(state)
    return kept


def change_rules(
    rules: RuleSet,
    runner: RuleRunner,
    store: StateStore,
    change: Callable[[], RuleSet],
    meta: Callable[[RuleSet], dict[str, Any]],
) -> RuleSet:
    """Make ``change`` to the active ``rules`` (it returns the rules then active) and commit
    it to ``store``: the meta (``meta`` of the new rules) and the customers it changed.
    Return the new rules; if the change or its commit fails, put ``runner`` back as it was
    with ``rules`` and raise."""
    runner.touched = set()
    runner.before = {}
    catalogue = runner.catalogue
    saved = (
        dict(runner.plans),
        runner.alerts.watched(),
        dict(catalogue.pending),
        dict(catalogue.seen),
    )
    try:
        try:
            changed = change()
            refuse_text_traits(runner.traits, runner.numeric_traits)  # the new rules' reading
            refuse_bad_zones(runner.traits, changed)
            state_change = StateChange(
                meta=meta(changed),
                customers=ChangedStates(runner.states, runner.touched),
                alerts=runner.alerts.changes(),
            )
        except BaseException:
            _put_back(rules, runner, saved)
            raise
        try:
            commit(store, state_change)
        except StoreError:
            _put_back(rules, runner, saved)
            raise
        runner.alerts.committed()
    finally:
        runner.before = None
        runner.held_gone.clear()  # (kept for a rollback of the change)
    return changed


def _put_back(rules: RuleSet, runner: RuleRunner, saved: tuple[Any, ...]) -> None:
    """``runner`` as it was with ``rules`` active, before a change that failed."""
    plans, watched, pending, seen = saved
    runner.catalogue.pending, runner.catalogue.seen = pending, seen  # events a backfill adopted
    runner.plans.clear()
    runner.plans.update(plans)
    runner.use_policies(rules)
    runner.alerts.watch(watched)
    runner.index()
    runner.put_back()
