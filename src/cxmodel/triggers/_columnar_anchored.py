"""Rules anchored on interactions, decided on arrays in a large micro-batch (step 3 of the
columnar path, ``_columnar.py``, for the rules it can take whole).

A rule that anchors on interactions (``when K as x where C``) and fires at them, or waits a
fixed time for something not to happen (``then no B where ... for D``, ``then after D unless U
where ...``), reading no aggregate, no calendar month and no quiet hours, decides each anchor
from the anchor's own properties and the interactions after it. Between calls its state is the
anchors still waiting and, per customer, the last time it emitted. So a micro-batch is one small
log for the batch evaluator's kernels (``_candidates.py``, ``_policies.py``):

1. the log holds the rule's waiting anchors and the released interactions it reads (its kinds,
   and consent when it requires consent), each customer's in release order;
2. the anchors are the waiting ones and the released interactions its ``where`` accepts; an
   anchor is cancelled by the first blocking interaction up to its due time, fires when it falls
   due before the call's frontier (or at once, for a rule without ``then``), and waits
   otherwise;
3. the firings go through the ``if`` clause and the policies, seeded with each customer's last
   emitted time and consent before the call, in (customer, time, anchor) order, and stay columns
   (:class:`~cxmodel.triggers._firings.FiringBlock`);
4. the waiting anchors, timers and last emitted times are written back to the customers' states,
   as the per-interaction path leaves them.

Everything up to step 4 reads and changes nothing (:func:`decide`); a micro-batch whose columns
the batch evaluator cannot read as the per-interaction path reads them (a property holding text
in some interactions and numbers in others) takes the per-interaction operators instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.errors import EvaluationLimitError
from cxmodel.expr import Name
from cxmodel.triggers._batch import CONSENT_KINDS
from cxmodel.triggers._candidates import Candidates, anchors_of, upper_bound, waited
from cxmodel.triggers._columnar_aggregates import (
    MicroBatchLog,
    SeededContext,
    column_values,
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
    policy_input,
    policy_output,
    policy_verdicts,
)
from cxmodel.triggers._runner import TIMER, RuleRunner

if TYPE_CHECKING:  # both import this module
    from cxmodel.triggers._columnar import Released
    from cxmodel.triggers._columnar_rules import Timer

__all__ = ["Decision", "decide", "on_arrays"]

IntArray = npt.NDArray[np.int64]


def on_arrays(plan: RulePlan) -> bool:
    """Whether ``plan`` is decided on arrays in a large micro-batch: anchored on interactions,
    firing at them or after a fixed wait for something not to happen, with no aggregate, no
    customer time and no quiet hours."""
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


@attrs.define(eq=False)
class Decision:
    """What one rule decided over a micro-batch, before anything is changed: the firings as
    blocks, the anchors that are done, the new anchors still waiting and each customer's
    last emitted time afterwards."""

    plan: RulePlan
    emitted: FiringBlock
    suppressed: FiringBlock
    done: list[tuple[str, int]]  # (customer, release number) of carried anchors done
    #: the new anchors still waiting: customer, index in the released, due time, the values
    #: their ``when ... where`` tested
    waiting: list[tuple[str, int, int, dict[str, Any]]]
    last_emitted: dict[str, int]

    def apply(
        self, runner: RuleRunner, released: Released, heap: list[Timer], frontier: int
    ) -> None:
        """Change the customers' states and the rule's timers (``heap``) as the
        per-interaction path leaves them, and add the firings to the call's output."""
        plan = self.plan
        name = plan.name
        states = runner.states
        for cid, seq in self.done:
            state = states[cid] if cid in runner.touched else runner.touch(cid)
            state.rules[name].anchors.pop(seq, None)
        for cid, t in self.last_emitted.items():
            state = states[cid] if cid in runner.touched else runner.touch(cid)
            state.rule(name).last_emitted = t
        if self.waiting:
            ks = np.array([k for _, k, _, _ in self.waiting], dtype=np.int64)
            for (cid, _, due, tested), row in zip(self.waiting, released.rows(ks), strict=True):
                rs = states[cid].rules.get(name) or states[cid].rule(name)
                rs.anchors[row.seq] = Anchor(row, due, {}, tested)
                heap.append((due, TIMER, row.seq, cid, name))
        # the timers due before the frontier were decided here
        kept = [entry for entry in heap if entry[0] >= frontier]
        heap[:] = kept
        if len(self.emitted):
            runner.emitted_blocks.append(self.emitted)
        if len(self.suppressed) and runner.suppressed is not None:
            runner.suppressed_blocks.append(self.suppressed)


def _when_values(
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
                    [None if v != v else v for v in values.tolist()]
                    if values.dtype.kind == "f"
                    else values.tolist()
                )
            else:
                columns[node] = [None] * len(rows)
        else:
            assert what == "trait" and isinstance(node, Name)
            traits = runner.traits
            columns[str(node)] = [
                float(v) if isinstance(v, (int, float)) else v
                for v in (traits.get(cid, {}).get(node.name) for cid in ids)
            ]
    names = list(columns)
    return (
        [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
        if names
        else [{} for _ in ids]
    )


def _fields(plan: RulePlan) -> set[str]:
    """The properties ``plan`` reads of an interaction (its own, or the bound one's)."""
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


def _carried(
    runner: RuleRunner, plan: RulePlan, states: Mapping[str, CustomerState], heap: list[Timer],
    frontier: int,
) -> list[tuple[str, int, Anchor]]:  # fmt: skip
    """The rule's anchors waiting before the call that it can decide now: every batch
    customer's, and other customers' falling due before ``frontier`` (none for a rule
    firing at its anchors, which never waits)."""
    if plan.then_mode is None:
        return []
    name = plan.name
    out: list[tuple[str, int, Anchor]] = []
    for cid, state in states.items():
        rs = state.rules.get(name)
        if rs is not None and rs.anchors:
            out.extend((cid, seq, anchor) for seq, anchor in rs.anchors.items())
    seen: set[tuple[str, int]] = set()
    everyone = runner.states
    for due, _, seq, cid, _ in heap:
        if due >= frontier or cid in states or (cid, seq) in seen:
            continue
        other = everyone.get(cid)
        rs = None if other is None else other.rules.get(name)
        anchor = None if rs is None else rs.anchors.get(seq)
        if anchor is not None and anchor.due == due:
            seen.add((cid, seq))
            out.append((cid, seq, anchor))
    return out


def decide(
    runner: RuleRunner,
    plan: RulePlan,
    released: Released,
    states: Mapping[str, CustomerState],
    heap: list[Timer],
    frontier: int,
) -> Decision | None:
    """Decide ``plan`` over the released interactions of one call (see the module docstring)
    without changing anything; ``None`` when the batch evaluator cannot read the columns as
    the per-interaction path reads them."""
    rule = plan.rule
    carried = _carried(runner, plan, states, heap, frontier)
    kinds = {k for k in (plan.when_kind, plan.block_kind) if k is not None}
    kinds.update(agg.kind for agg in plan.aggregates.values())
    if rule.consent is not None:
        kinds.update(CONSENT_KINDS)
    ks = released.reading(kinds)
    rows: list[Row] = [anchor.row for _, _, anchor in carried]
    n_old = len(rows)
    # customer codes: the released interactions', then those of customers only waiting
    names = released.customer_names
    extra: dict[str, int] = {}
    old_codes = [
        names[cid] if cid in names else extra.setdefault(cid, len(names) + len(extra))
        for cid, _, _ in carried
    ]
    codes = np.concatenate([np.array(old_codes, dtype=np.int64), released.customer_codes[ks]])
    customers = np.empty(len(names) + len(extra), dtype=object)
    customers[:] = [*names, *extra]
    times = np.concatenate([np.array([r.time for r in rows], dtype=np.int64), released.times[ks]])
    seqs = np.concatenate([np.array([r.seq for r in rows], dtype=np.int64), released.start + ks])
    ranks = np.concatenate([np.array([r.rank for r in rows], dtype=np.int64), released.ranks[ks]])
    kind_col = np.empty(len(codes), dtype=object)
    kind_col[:n_old] = [r.kind for r in rows]
    kind_col[n_old:] = released.kinds[ks]
    kind_names = dict(released.kind_names)
    kind_codes = np.concatenate(
        [
            np.array([kind_names.setdefault(r.kind, len(kind_names)) for r in rows], np.int64),
            released.kind_codes[ks],
        ]
    )
    columns: dict[str, npt.NDArray[Any]] = {"kind": kind_col}
    for name in _fields(plan):
        fresh = released.id_column(ks) if name == "interaction_id" else released.column(name, ks)
        old = [r.fields.get(name) for r in rows]
        if fresh is None:  # no released interaction has it
            if all(v is None for v in old):
                continue
            fresh = np.full(len(ks), None, dtype=object)
        values = column_values(fresh, old)
        if values is None:
            return None
        if name == "interaction_id" and bool(np.all(values == None)):  # noqa: E711
            continue
        columns[name] = values
    order = np.lexsort((seqs, times, codes))
    kinds_known = np.empty(len(kind_names), dtype=object)
    kinds_known[:] = list(kind_names)
    log = MicroBatchLog(
        customers, codes[order], times[order],
        {name: values[order] for name, values in columns.items()},
        {"kind": (kind_codes[order], kinds_known)},
    )  # fmt: skip
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    seqs, ranks = seqs[order], ranks[order]
    asking = np.unique(log.customer_codes[kind_codes[order] == kind_names.get(plan.when_kind, -1)])
    seeded = state_seeds(plan.aggregates, runner.states, log.customers, asking)
    if seeded is None or any(
        agg.field is not None
        and agg.func != "count"
        and agg.field in columns
        and columns[agg.field].dtype.kind != "f"
        for agg in plan.aggregates.values()
    ):
        return None  # text values: the batch evaluator reads them apart
    ctx = SeededContext(log, runner.traits, seeded)
    old_rows = position[:n_old]
    try:
        return _decided(runner, plan, ctx, old_rows, seqs, ranks, released, frontier)
    except EvaluationLimitError:
        return None  # more pairs than one batch evaluation may test: one by one


def _decided(
    runner: RuleRunner,
    plan: RulePlan,
    ctx: LogContext,
    old_rows: IntArray,
    seqs: IntArray,
    ranks: IntArray,
    released: Released,
    frontier: int,
) -> Decision:
    rule = plan.rule
    start = released.start
    fresh = seqs >= start
    new_anchors = anchors_of(ctx, rule)
    new_anchors = new_anchors[fresh[new_anchors]]
    anchors = np.union1d(old_rows, new_anchors).astype(np.int64)
    done: list[tuple[str, int]] = []
    waiting: list[tuple[str, int, int, dict[str, Any]]] = []
    if plan.then_mode is None:
        cust = ctx.codes[anchors]
        cand = Candidates(cust, ctx.ts[anchors], anchors, anchors, np.full(len(anchors), -1))
    else:
        anchors, fire, blocker = waited(ctx, rule, frontier, anchors, due_only=False)
        alive = blocker < 0
        fires = alive & (fire < frontier)
        stays = alive & ~fires
        old = ~fresh[anchors]
        customers = ctx.customers
        gone = anchors[old & ~stays]
        done = list(zip(customers[ctx.codes[gone]].tolist(), seqs[gone].tolist(), strict=True))
        new = anchors[~old & stays]
        waiting = list(
            zip(
                customers[ctx.codes[new]].tolist(),
                (seqs[new] - start).tolist(),
                fire[~old & stays].tolist(),
                _when_values(runner, plan, ctx, new),
                strict=True,
            )
        )
        anchors, fire = anchors[fires], fire[fires]
        cust = ctx.codes[anchors]
        end = upper_bound(ctx, cust, fire) - 1
        cand = Candidates(cust, fire, anchors, end, np.full(len(anchors), -1))
    states = runner.states
    customers = ctx.customers

    def consent_before(codes: IntArray) -> npt.NDArray[np.bool_]:
        """Consent for the rule's purpose before the call (no consent interaction in it)."""
        purpose = rule.consent or ""
        out = np.zeros(len(codes), dtype=bool)
        for j, code in enumerate(codes.tolist()):
            cid = str(customers[code])
            state = states.get(cid)
            out[j] = (
                runner.consent(state, purpose)
                if state is not None
                else runner.consent(CustomerState(cid), purpose)
            )
        return out

    seed = ConsentSeed(fresh, consent_before)  # earlier calls' consent is in the states
    p = policy_input(ctx, rule, cand, frontier, runner.customers, seed)
    previous = np.full(len(customers), NEVER_EMITTED, dtype=np.int64)
    firing_customers = np.unique(p.cust)
    for code in firing_customers.tolist():
        state = states.get(str(customers[code]))
        rs = None if state is None else state.rules.get(plan.name)
        if rs is not None and rs.last_emitted is not None:
            previous[code] = rs.last_emitted
    reasons = policy_verdicts(rule, p.cust, p.times, p.consent, previous, p.zones, p.held)
    emitted, suppressed = policy_output(p, reasons)
    emitted, suppressed = (
        attrs.evolve(block, anchor_rank=ranks[block.anchor], ranked=False)
        for block in (emitted, suppressed)
    )
    # each customer's last emitted time, as deciding one by one leaves it (in time order)
    last = dict(zip(emitted.customer.tolist(), emitted.time.tolist(), strict=True))
    return Decision(plan, emitted, suppressed, done, waiting, last)
