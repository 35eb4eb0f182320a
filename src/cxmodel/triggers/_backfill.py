"""A rule added to a running engine with a backfill: the history it reads, checked, and the
state built from it handed over to the engine.

The engine replays the backfill through a runner of the new rule alone (see
``TriggerEngine.add_rule``); :func:`adopt` then takes that runner's state for the rule, and
the values of aggregates no active rule read before, into the engine's customers.
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from cxmodel.domain._kinds import Question
from cxmodel.triggers._alerts import Alert
from cxmodel.triggers._ingest import CATALOGUE, Row, rows_from
from cxmodel.triggers._operators import RulePlan
from cxmodel.triggers._rules import Rule, RuleSet
from cxmodel.triggers._runner import TIMER, RuleRunner
from cxmodel.triggers._truths import refuse_misread, truth_uses

__all__ = ["adopt", "alone", "history", "released_rows"]


def alone(rule: Rule | Alert) -> RuleSet:
    """The rules holding ``rule`` (a rule or an alert) and nothing else.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> len(alone(parse("trigger t:\\n    when view\\n    emit x")["t"]).rules)
    1
    """
    return RuleSet(alerts=(rule,)) if isinstance(rule, Alert) else RuleSet((rule,))


def history(
    backfill: Any,
    rule: Rule | Alert,
    questions: Mapping[str, Question],
    catalogue_kinds: Iterable[str],
    released: int | None,
) -> list[Row]:
    """The backfill's checked rows that the engine has released (up to ``released``), in
    time order: ``backfill`` is read as the engine reads a call's interactions (its
    ``questions``; a record without a customer is a catalogue event if its kind is one of
    ``catalogue_kinds`` or the catalogue kind ``rule`` reads).
    """
    kinds = set(catalogue_kinds)
    if isinstance(rule, Rule) and rule.when.reach is not None and rule.when.kind is not None:
        kinds.add(rule.when.kind)
    return released_rows(rows_from(backfill, questions, kinds), released, rule)


def released_rows(rows: list[Row], released: int | None, rule: Rule | Alert) -> list[Row]:
    """The rows of a backfill the engine has released (at or before ``released``, its
    watermark or the time given to ``advance_to``; none when it has released nothing), in
    time order (ties keep the backfill's order), checked against ``rule`` as a call's rows
    are (no text where it computes with numbers, no misread true/false).

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> rule = parse("trigger t:\\n    when purchase as p\\n    emit a")["t"]
    >>> rows = [Row("a", t, "purchase", {"kind": "purchase"}) for t in (30, 10, 20)]
    >>> [r.time for r in released_rows(rows, 25, rule)]
    [10, 20]
    """
    if released is None:
        return []
    kept = sorted((r for r in rows if r.time <= released), key=operator.attrgetter("time"))
    only = alone(rule)
    numeric = RuleRunner(only, {}).numeric
    refuse_misread(kept, numeric, truth_uses(only))
    return kept


def adopt(runner: RuleRunner, helper: RuleRunner, plan: RulePlan, held: set[str]) -> None:
    """Take into ``runner`` (the engine's) what ``helper`` (the new rule's replay) built for
    each customer: the rule's state, the aggregates of ``plan`` not in ``held`` (those no
    active rule read before) and a catalogue rule's join buffers; each customer is touched
    (so the change commits, or rolls back) and the rule's timers are queued."""
    name = plan.name
    new_keys = [runner.aggregates[k] for k in plan.aggregates if k not in held]
    for cid, theirs in helper.states.items():
        fresh = cid not in runner.states
        mine = runner.touch(cid)
        if fresh:
            mine.last_time, mine.tie_count = theirs.last_time, theirs.tie_count
        rs = helper.rule_state(theirs, name)  # (held as columns there, maybe)
        if rs is not None:
            mine.rules[name] = rs
        for agg in new_keys:
            if agg.mode == "running" and agg.store_key in theirs.running:
                mine.running.setdefault(agg.store_key, theirs.running[agg.store_key])
            elif agg.mode == "window" and agg.store_key in theirs.windows:
                mine.windows.setdefault(agg.store_key, theirs.windows[agg.store_key])
            elif agg.mode == "pairs" and agg.kind in theirs.kept:
                mine.kept.setdefault(agg.kind, theirs.kept[agg.kind])
        for key, kept in theirs.windows.items():  # a catalogue rule's join buffers
            if key.startswith("with|"):
                mine.windows.setdefault(key, kept)
        runner.catalogue.register(mine)
        runner.schedule(mine, only=name)
    if plan.rule.when.reach is not None:
        _adopt_events(runner, helper)


def _adopt_events(runner: RuleRunner, helper: RuleRunner) -> None:
    """Take into ``runner`` the catalogue events ``helper`` still holds undecided (at the
    latest time the engine released: decided once a later interaction comes), unless the
    engine holds them already."""
    catalogue = runner.catalogue
    waiting = {(r.time, r.kind, r.interaction_id) for r in catalogue.pending.values()}
    for seq, row in helper.catalogue.pending.items():
        if seq in catalogue.pending or (row.time, row.kind, row.interaction_id) in waiting:
            continue
        catalogue.pending[seq] = row
        heapq.heappush(runner.timers, (row.time, TIMER, seq, CATALOGUE, ""))
        if row.interaction_id is not None:  # a re-delivery of it is a duplicate
            catalogue.seen.setdefault(row.interaction_id, row.time)
