"""Rules anchored on interactions, decided on arrays in a large micro-batch (step 3 of the
columnar path, ``_columnar.py``, for the rules it can take whole).

A rule that anchors on interactions (``when K as x where C``) and fires at them, or waits a
fixed time for something not to happen (``then no B where ... for D``, ``then after D unless U
where ...``), with no quiet hours, no customer time and no aggregate (but, firing at its
anchors, the aggregates combined from their parts, see :func:`on_arrays`), decides each anchor
from the anchor's own properties, the interactions after it and those aggregates. Between calls
its state is the anchors still waiting and, per customer, the last time it emitted. So a
micro-batch is one small log for the batch evaluator's kernels (``_candidates.py``,
``_policies.py``):

1. the log holds the rule's waiting anchors and the released interactions it reads (its kinds,
   its aggregates' kinds, and consent when it requires consent), each customer's in release
   order (:func:`_rule_log`); its aggregates also take in what the customers' states hold
   (:class:`~cxmodel.triggers._columnar_aggregates.SeededContext`);
2. the anchors are the waiting ones and the released interactions its ``where`` accepts; an
   anchor is cancelled by the first blocking interaction up to its due time, fires when it falls
   due before the call's frontier (or at once, for a rule without ``then``), and waits
   otherwise;
3. the firings go through the ``if`` clause and the policies, seeded with each customer's last
   emitted time and consent before the call, in (customer, time, anchor) order, and stay columns
   (:class:`~cxmodel.triggers._firings.FiringBlock`);
4. the waiting anchors, timers and last emitted times are written back to the customers' states,
   as the per-interaction path leaves them (:meth:`Decision.apply`).

Everything up to step 4 reads and changes nothing (:func:`decide`); a micro-batch whose columns
the batch evaluator cannot read as the per-interaction path reads them (a property holding text
in some interactions and numbers in others) takes the per-interaction operators instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._grouping import group_by_code
from cxmodel.errors import EvaluationLimitError
from cxmodel.expr import Name
from cxmodel.triggers._batch import CONSENT_KINDS
from cxmodel.triggers._candidates import Candidates, anchors_of, upper_bound, waited
from cxmodel.triggers._codes import first_seen_codes, object_array
from cxmodel.triggers._columnar_aggregates import (
    MicroBatchLog,
    SeededContext,
    log_column,
    seedable,
    state_seeds,
)
from cxmodel.triggers._context import LogContext, aggregates_in, names_in
from cxmodel.triggers._customer import Anchor, CustomerState
from cxmodel.triggers._firings import FiringBlock
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._operators import RulePlan
from cxmodel.triggers._policies import (
    NEVER_EMITTED,
    ConsentSeed,
    consent_key,
    policy_input,
    policy_output,
    policy_verdicts,
)
from cxmodel.triggers._runner import TIMER, RuleRunner

if TYPE_CHECKING:  # they import this module
    from cxmodel.triggers._columnar import Released
    from cxmodel.triggers._columnar_rules import Timer

__all__ = ["Decision", "NewAnchor", "decide", "on_arrays"]

IntArray = npt.NDArray[np.int64]


def on_arrays(plan: RulePlan) -> bool:
    """Whether ``plan`` is decided on arrays in a large micro-batch.

    It is when the rule anchors on interactions (not a catalogue rule's events) and fires at
    them, or after a fixed wait (``then after D``, ``then no B for D``; not calendar months)
    for something not to happen, with no quiet hours and not in customer time; a rule that
    waits reads no aggregate, and one firing at its anchors only aggregates combined from
    their parts (:func:`~cxmodel.triggers._columnar_aggregates.seedable`).
    """
    rule = plan.rule
    return (
        plan.when_mode == "event"
        and rule.when.reach is None
        and plan.then_mode in (None, "absent", "after")
        and (plan.then_mode is None or plan.delay is not None)
        and (
            not plan.aggregates
            or (plan.then_mode is None and all(map(seedable, plan.aggregates.values())))
        )
        and rule.quiet is None
        and not rule.in_customer_time
    )


class NewAnchor(NamedTuple):
    """An anchor released in the call that still waits after it."""

    customer: str
    #: its position among the call's released interactions (release order)
    position: int
    due: int
    #: the values its ``when ... where`` tested
    tested: dict[str, Any]


@attrs.frozen(eq=False)
class Decision:
    """What one rule decided over a micro-batch, before anything is changed: the firings as
    blocks, the anchors that are done, the new anchors still waiting and each customer's
    last emitted time afterwards."""

    plan: RulePlan
    emitted: FiringBlock
    suppressed: FiringBlock
    #: the anchors carried from earlier calls that fired or were cancelled: (customer,
    #: release number)
    done: list[tuple[str, int]]
    waiting: list[NewAnchor]
    #: by customer, the time the rule last emitted, for the customers it emitted to (kept
    #: only for a rule with ``once`` or ``cooldown``: see ``RulePlan.keeps_last_emitted``)
    last_emitted: dict[str, int]

    def apply(
        self, runner: RuleRunner, released: Released, heap: list[Timer], frontier: int
    ) -> None:
        """Change the customers' states and the rule's timers (``heap``) as the
        per-interaction path leaves them, and add the firings to the call's output."""
        name = self.plan.name
        states, touched = runner.states, runner.touched  # touch: once a call, for a rollback
        for cid, seq in self.done:
            state = states[cid] if cid in touched else runner.touch(cid)
            state.rules[name].anchors.pop(seq, None)
        for cid, time in self.last_emitted.items():
            state = states[cid] if cid in touched else runner.touch(cid)
            state.rule(name).last_emitted = time
        if self.waiting:  # their customers are the call's, touched already
            rows = released.rows(np.array([k for _, k, _, _ in self.waiting], dtype=np.int64))
            for (cid, _, due, tested), row in zip(self.waiting, rows, strict=True):
                rs = states[cid].rules.get(name) or states[cid].rule(name)
                rs.anchors[row.seq] = Anchor(row, due, {}, tested)
                heap.append((due, TIMER, row.seq, cid, name))
        heap[:] = [entry for entry in heap if entry[0] >= frontier]  # the rest were decided
        if len(self.emitted):
            runner.emitted_blocks.append(self.emitted)
        if len(self.suppressed) and runner.suppressed is not None:
            runner.suppressed_blocks.append(self.suppressed)


def decide(
    runner: RuleRunner,
    plan: RulePlan,
    released: Released,
    batch_states: Mapping[str, CustomerState],
    heap: list[Timer],
    frontier: int,
) -> Decision | None:
    """Decide ``plan`` over the interactions one call releases, without changing anything
    (see the module docstring).

    Parameters
    ----------
    runner
        The engine's rules and customers' states, as before the call's rules run.
    plan
        A rule that :func:`on_arrays` accepts.
    released
        The interactions the call releases, in release order.
    batch_states
        The states of the customers with released interactions, by customer id.
    heap
        The rule's timers before the call.
    frontier
        The call's frontier: an anchor falling due before it fires.

    Returns
    -------
    Decision or None
        What the rule decided; ``None`` when the batch evaluator would read the columns,
        or the aggregates the states hold, apart from the per-interaction path, or when the evaluation would test more pairs
        than one batch evaluation may: the rule then runs one interaction at a time.
    """
    carried = _carried(runner, plan, released, batch_states, heap, frontier)
    rule_log = _rule_log(plan, released, carried)
    if rule_log is None:
        return None
    log = rule_log.log
    by_code = _states_by_code(runner, released, log.customers)
    seeds = state_seeds(
        plan.aggregates, by_code, log.customers, _customers_with(log, plan.when_kind)
    )
    if seeds is None:
        return None
    ctx = SeededContext(log, runner.traits, seeds)
    try:
        return _decision(runner, plan, ctx, rule_log, by_code, released.start, frontier)
    except EvaluationLimitError:
        return None


def _states_by_code(
    runner: RuleRunner, released: Released, customers: npt.NDArray[Any]
) -> list[CustomerState | None]:
    """The states of a rule log's ``customers``, by customer code (``None``: no state). The
    log's codes extend the released interactions' (:func:`_rule_log`), whose customers'
    states the call's bookkeeping holds in code order: only the carried anchors' other
    customers are looked up by id, each once for every aggregate and policy reading them."""
    out: list[CustomerState | None] = list(released.states)
    if len(out) < len(customers):
        out.extend(map(runner.states.get, customers[len(out) :].tolist()))
    return out


# -- the rule's log ---------------------------------------------------------------------------
def _carried(
    runner: RuleRunner, plan: RulePlan, released: Released,
    batch_states: Mapping[str, CustomerState], heap: list[Timer], frontier: int,
) -> list[tuple[str, int, Anchor]]:  # fmt: skip
    """The rule's anchors waiting before the call that it can decide now, as (customer,
    release number, anchor): every batch customer's, and other customers' falling due
    before ``frontier`` (none for a rule firing at its anchors, which never waits)."""
    if plan.then_mode is None:
        return []
    name, everyone = plan.name, runner.states
    queued: set[str] = set()  # the batch customers with a timer on the queue
    others: list[tuple[str, int, Anchor]] = []
    seen: set[tuple[str, int]] = set()
    for due, _, seq, cid, _ in heap:
        if cid in batch_states:
            queued.add(cid)
            continue
        if due >= frontier or (cid, seq) in seen:
            continue
        other = everyone.get(cid)
        rs = None if other is None else other.rules.get(name)
        anchor = None if rs is None else rs.anchors.get(seq)
        if anchor is not None and anchor.due == due:  # else a timer left from an earlier due
            seen.add((cid, seq))
            others.append((cid, seq, anchor))
    # when every anchor has a due time, each has an entry on the queue: only the batch
    # customers with one can have anchors (looked at in the batch's order all the same)
    every_due = plan.then_mode in ("absent", "after") or plan.then_duration is not None
    # the batch's order is its customers' codes' (the bookkeeping's states, by code)
    by_code = released.states
    if every_due:
        waiting = [by_code[c] for c in sorted(map(released.customer_names.__getitem__, queued))]
    else:
        waiting = by_code
    out: list[tuple[str, int, Anchor]] = []
    for state in waiting:
        rs = state.rules.get(name)
        if rs is not None and rs.anchors:
            cid = state.customer
            out.extend((cid, seq, anchor) for seq, anchor in rs.anchors.items())
    out.extend(others)
    return out


@attrs.frozen(eq=False)
class _RuleLog:
    """One rule's small log over a call (rows sorted by customer code and release order),
    with what its firings and the states need besides."""

    log: MicroBatchLog
    #: each row's release number
    seqs: IntArray
    #: each row's rank among its customer's interactions at its time (set on release)
    ranks: IntArray
    #: the rows of the carried anchors
    carried: IntArray


def _rule_log(
    plan: RulePlan, released: Released, carried: list[tuple[str, int, Anchor]]
) -> _RuleLog | None:
    """The rows of the ``carried`` anchors and the released interactions ``plan`` reads,
    as the log its kernels run over; ``None`` when the batch evaluator would read a column
    apart from the per-interaction path.

    The customer and kind codes extend the released interactions' codes with those of the
    carried rows.
    """
    ks = released.reading(_kinds_read(plan))
    rows: list[Row] = [anchor.row for _, _, anchor in carried]
    old_codes, customers = first_seen_codes((c for c, _, _ in carried), released.customer_names)
    codes = np.concatenate([old_codes, released.customer_codes[ks]])
    old_kinds, kinds = first_seen_codes((r.kind for r in rows), released.kind_names)
    kind_codes = np.concatenate([old_kinds, released.kind_codes[ks]])
    times = np.concatenate([np.array([r.time for r in rows], dtype=np.int64), released.times[ks]])
    seqs = np.concatenate([np.array([r.seq for r in rows], dtype=np.int64), released.start + ks])
    ranks = np.concatenate([np.array([r.rank for r in rows], dtype=np.int64), released.ranks[ks]])
    columns = _property_columns(plan, released, ks, rows)
    if columns is None:
        return None
    kind_values = object_array(kinds)
    columns = {"kind": kind_values[kind_codes], **columns}
    order = _log_order(codes, times, seqs, len(rows))
    log = MicroBatchLog(
        object_array(customers), codes[order], times[order],
        {name: values[order] for name, values in columns.items()},
        {"kind": (kind_codes[order], kind_values)},
    )  # fmt: skip
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    return _RuleLog(log, seqs[order], ranks[order], position[: len(rows)])


def _log_order(codes: IntArray, times: IntArray, seqs: IntArray, carried: int) -> IntArray:
    """The order of a rule log's rows by (customer code, time, release number): the
    ``carried`` rows first, then the released ones in release order (by time, then release
    number), which grouping by customer keeps when the carried rows come before them in
    time (as ``np.lexsort((seqs, times, codes))``, by a radix sort)."""
    ahead = np.arange(len(codes))
    if carried > 1:
        ahead[:carried] = np.lexsort((seqs[:carried], times[:carried]))
    t, s = times[ahead], seqs[ahead]
    later = (t[1:] > t[:-1]) | ((t[1:] == t[:-1]) & (s[1:] > s[:-1]))
    if not bool(later.all()):
        return np.lexsort((seqs, times, codes))
    return ahead[group_by_code(codes[ahead])]


def _kinds_read(plan: RulePlan) -> set[str]:
    """The kinds of interaction ``plan`` reads: its anchors', the blocking ones', its
    aggregates', and consent's when it requires consent."""
    kinds = {k for k in (plan.when_kind, plan.block_kind) if k is not None}
    kinds.update(agg.kind for agg in plan.aggregates.values())
    if plan.rule.consent is not None:
        kinds.update(CONSENT_KINDS)
    return kinds


def _property_columns(
    plan: RulePlan, released: Released, ks: IntArray, rows: list[Row]
) -> dict[str, npt.NDArray[Any]] | None:
    """The properties ``plan`` reads over the carried ``rows`` then the released
    interactions ``ks``, as the batch evaluator reads a log's columns (a property no
    interaction has is a column of missing values); ``None`` when it would read one apart from the
    per-interaction path: values of mixed types, or an aggregate ordering text or
    true/false values."""
    columns: dict[str, npt.NDArray[Any]] = {}
    for name in _properties_read(plan):
        fresh = released.id_column(ks) if name == "interaction_id" else released.column(name, ks)
        old = [r.fields.get(name) for r in rows]
        if fresh is None:  # no released interaction has it: missing (None), not NaN
            if name == "interaction_id" and all(v is None for v in old):
                continue
            fresh = np.full(len(ks), None, dtype=object)
        # of one class with nothing carried: log_column would return it as it is
        one_class = released.one_class(name)
        values = fresh if not rows and one_class else log_column(fresh, old, one_class=one_class)
        if values is None:
            return None
        if name == "interaction_id" and bool(np.all(values == None)):  # noqa: E711
            continue  # no interaction has an id
        columns[name] = values
    if any(
        agg.field is not None
        and agg.func != "count"
        and agg.field in columns
        and columns[agg.field].dtype.kind != "f"
        for agg in plan.aggregates.values()
    ):
        return None
    return columns


def _properties_read(plan: RulePlan) -> set[str]:
    """The properties of interactions ``plan`` reads: those it names bare or through its
    alias (``customer_id`` and ``timestamp`` aside), those it aggregates, the id (which
    firings name), and the purpose of consent when it requires consent."""
    rule = plan.rule
    out = {
        node.name
        for expr in rule.expressions()
        for node in names_in(expr)
        if node.qualifier in (None, rule.alias) and node.name not in ("customer_id", "timestamp")
    }
    out |= {
        node.field
        for expr in rule.expressions()
        for node in aggregates_in(expr)
        if node.field is not None
    }
    return out | {"interaction_id"} | ({"purpose"} if rule.consent is not None else set())


def _customers_with(log: MicroBatchLog, kind: str | None) -> IntArray:
    """The codes of the customers with an interaction of ``kind`` in ``log``, ascending."""
    kind_codes, kinds = log.categorical("kind")
    known = kinds.tolist()
    code = known.index(kind) if kind in known else -1
    codes: IntArray = log.customer_codes[kind_codes == code]  # ascending, as the log's rows
    return codes[np.append(True, codes[1:] != codes[:-1])] if len(codes) else codes


# -- deciding ---------------------------------------------------------------------------------
def _decision(
    runner: RuleRunner,
    plan: RulePlan,
    ctx: LogContext,
    rule_log: _RuleLog,
    by_code: list[CustomerState | None],
    start: int,
    frontier: int,
) -> Decision:
    """What ``plan`` decides over ``rule_log`` (read through ``ctx``; its customers'
    states ``by_code``), whose released interactions are numbered from ``start``."""
    fresh = rule_log.seqs >= start  # released in this call, not carried
    found = anchors_of(ctx, plan.rule)
    # the carried rows and the fresh anchors are distinct rows; the fresh ones ascending
    anchors = np.sort(np.concatenate([rule_log.carried, found[fresh[found]]]), kind="stable")
    done: list[tuple[str, int]] = []
    waiting: list[NewAnchor] = []
    if plan.then_mode is None:  # fires at its anchors
        cust = ctx.codes[anchors]
        cand = Candidates(cust, ctx.ts[anchors], anchors, anchors, np.full(len(anchors), -1))
    else:
        cand, done, waiting = _waits(runner, plan, ctx, rule_log.seqs, start, anchors, frontier)
    emitted, suppressed = _policies_applied(runner, plan, ctx, by_code, cand, fresh, frontier)
    # the anchors' ranks among their customers' interactions, not among the log's rows; and
    # the log's customer codes, in order of first appearance, do not follow the ids' order
    emitted, suppressed = (
        attrs.evolve(block, anchor_rank=rule_log.ranks[block.anchor], ranked=False)
        for block in (emitted, suppressed)
    )
    # in (customer, time) order: each customer's last is the time deciding one by one leaves
    last = (
        dict(zip(emitted.customer.tolist(), emitted.time.tolist(), strict=True))
        if plan.keeps_last_emitted
        else {}
    )
    return Decision(plan, emitted, suppressed, done, waiting, last)


def _waits(
    runner: RuleRunner,
    plan: RulePlan,
    ctx: LogContext,
    seqs: IntArray,
    start: int,
    anchors: IntArray,
    frontier: int,
) -> tuple[Candidates, list[tuple[str, int]], list[NewAnchor]]:
    """For a rule that waits after its ``anchors`` (rows of a log whose release numbers
    are ``seqs``, the call's from ``start``): the firings of those falling due, uncancelled,
    before ``frontier``; the carried ones done (fired or cancelled); and the released ones
    still waiting."""
    anchors, due, blocker = waited(ctx, plan.rule, frontier, anchors, due_only=False)
    alive = blocker < 0
    fires = alive & (due < frontier)
    stays = alive & ~fires
    carried = seqs[anchors] < start
    customers = ctx.customers
    gone = anchors[carried & ~stays]
    done = list(zip(customers[ctx.codes[gone]].tolist(), seqs[gone].tolist(), strict=True))
    new = anchors[~carried & stays]
    waiting = list(
        map(
            NewAnchor._make,
            zip(
                customers[ctx.codes[new]].tolist(),
                (seqs[new] - start).tolist(),
                due[~carried & stays].tolist(),
                _when_tested(runner, plan, ctx, new),
                strict=True,
            ),
        )
    )
    anchors, due = anchors[fires], due[fires]
    cust = ctx.codes[anchors]
    end = upper_bound(ctx, cust, due) - 1
    return Candidates(cust, due, anchors, end, np.full(len(anchors), -1)), done, waiting


def _when_tested(
    runner: RuleRunner, plan: RulePlan, ctx: LogContext, rows: IntArray
) -> list[dict[str, Any]]:
    """The values the ``when ... where`` of each anchor ``rows`` tested, as
    :meth:`RulePlan.anchor_test <cxmodel.triggers._operators.RulePlan.anchor_test>` keeps
    them (properties as the interaction holds them, traits as numbers or as given; a rule
    that waits reads no aggregate)."""
    columns: dict[str, list[Any]] = {}
    ids = ctx.customers[ctx.codes[rows]].tolist()
    for what, node in plan.ev_when:
        if what == "field":
            if node == "customer_id":
                columns[node] = ids
            elif node == "timestamp":
                columns[node] = ctx.ts[rows].astype(float).tolist()
            elif node in ctx.log:
                values = ctx.column_at(node, rows)
                columns[node] = (
                    [None if v != v else v for v in values.tolist()]  # NaN: missing
                    if values.dtype.kind == "f"
                    else values.tolist()
                )
            else:
                columns[node] = [None] * len(rows)
        else:
            assert what == "trait" and isinstance(node, Name)
            traits = runner.traits
            columns[str(node)] = [
                float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                for v in (traits.get(cid, {}).get(node.name) for cid in ids)
            ]
    if not columns:
        return [{} for _ in ids]
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _policies_applied(
    runner: RuleRunner,
    plan: RulePlan,
    ctx: LogContext,
    by_code: list[CustomerState | None],
    cand: Candidates,
    fresh: npt.NDArray[np.bool_],
    frontier: int,
) -> tuple[FiringBlock, FiringBlock]:
    """The ``if`` clause and the policies over ``cand``, from each customer's consent and
    last emitted time before the call (the carried rows' consent is in the states already;
    the states ``by_code``): (emitted, suppressed)."""
    rule = plan.rule
    previous, consent = _before_call(runner, plan, ctx.customers, by_code, cand.cust)
    seed = ConsentSeed(fresh, consent.__getitem__)
    p = policy_input(ctx, rule, cand, frontier, runner.customers, seed)
    reasons = policy_verdicts(rule, p.cust, p.times, p.consent, previous, p.zones, p.held)
    return policy_output(p, reasons)


def _before_call(
    runner: RuleRunner,
    plan: RulePlan,
    customers: npt.NDArray[Any],
    by_code: list[CustomerState | None],
    cust: IntArray,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """By customer code (of ``customers``, whose states are ``by_code``), for the customers
    ``cust``, as their states held them before the call: the time rule ``plan`` last
    emitted to them (:data:`~cxmodel.triggers._policies.NEVER_EMITTED` for none, and when
    the rule keeps no last emitted time) and their consent for the rule's purpose
    (``False`` when it requires none); each customer's state read once for both."""
    last = np.full(len(customers), NEVER_EMITTED, dtype=np.int64)
    given = np.zeros(len(customers), dtype=bool)
    purpose, keeps = plan.rule.consent, plan.keeps_last_emitted
    if purpose is None and not keeps:
        return last, given
    codes = np.unique(cust)
    name = plan.name
    key = consent_key(purpose or "")
    times: list[int] = []
    consents: list[bool] = []
    listed = codes.tolist()
    for cid, state in zip(customers[codes].tolist(), map(by_code.__getitem__, listed), strict=True):
        if keeps:
            rs = None if state is None else state.rules.get(name)
            time = None if rs is None else rs.last_emitted
            times.append(NEVER_EMITTED if time is None else time)
        if purpose is not None:
            consents.append(runner.consent_of(state, key, cid, purpose))
    if keeps:
        last[codes] = times
    if purpose is not None:
        given[codes] = consents
    return last, given
