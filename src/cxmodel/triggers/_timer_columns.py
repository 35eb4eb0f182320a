"""The state of a ``when inactive for D`` rule held as columns, one row (a slot) per customer,
instead of a :class:`~cxmodel.triggers._customer.RuleState` in each customer's state.

Such a rule's state per customer is its timer (the customer's last interaction: time, kind,
id, release number and rank; and its due time, D after) and the time it last emitted. A
large micro-batch reads and writes them for all its customers at once, with numpy
(``_columnar_rules.py``); one interaction at a time reads and writes one slot. The integer
columns are :class:`array.array` (a slot read is a Python integer), seen by numpy through
its buffer for the work over many slots.

The columns are the rule's timer queue too: the runner's queue holds one entry per rule
(``(due, TIMER, -1, CATALOGUE, rule)``) at or before the earliest timer, which fires every
timer due when it comes up and is queued again at the next. Their timers fire independently
of everything else on the queue (no quiet hours, consent, contact policy or aggregate), so
firing them together is firing them one by one.

The JSON a store keeps does not change: :meth:`CustomerState.to_dict
<cxmodel.triggers._customer.CustomerState.to_dict>` writes the rule's ``timer`` and
``last_emitted`` from the columns (:meth:`TimerColumns.rule_dict`), and a state read back
is taken into them when its customer is scheduled (:meth:`TimerColumns.adopt`).
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from cxmodel.triggers._customer import NO_TIME, Anchor, RuleState
from cxmodel.triggers._ingest import Row, bare_fields

if TYPE_CHECKING:
    from cxmodel.triggers._operators import RulePlan

__all__ = ["NEVER", "NO_TIME", "TimerColumns", "held_on_arrays", "inactivity_on_arrays"]

#: the due time of no timer
NEVER = 2**63 - 1
_INTS = ("due", "time", "seq", "rank", "last")
#: slots per block of :attr:`TimerColumns.low` (the columns grow by whole blocks)
BLOCK = 512
_SHIFT = 9


def inactivity_on_arrays(plan: RulePlan) -> bool:
    """Whether ``plan`` is a ``when inactive for D`` decided on arrays: a fixed ``D``, and
    nothing it reads at its firings (aggregates, consent) or decides later (quiet hours)."""
    rule = plan.rule
    return (
        plan.when_mode == "inactive"
        and plan.delay is not None
        and not plan.aggregates
        and not plan.ev_when
        and rule.consent is None
        and rule.quiet is None
    )


def held_on_arrays(plan: RulePlan, contact: Any) -> bool:
    """Whether ``plan``'s state is held as :class:`TimerColumns`: an
    :func:`inactivity_on_arrays` rule whose firings read nothing of the customer's state
    (no ``if``, no payload, no customer time: its anchor is a bare row) and that no contact
    policy (``contact``: rule name -> policy) decides with other rules."""
    rule = plan.rule
    return (
        inactivity_on_arrays(plan)
        and rule.condition is None
        and not rule.emit.payload
        and not plan.customer_time
        and plan.bare_anchor
        and plan.name not in contact
    )


class TimerColumns:
    """One ``when inactive for D`` rule's timers and last emitted times, a slot per customer.

    Examples
    --------
    >>> from cxmodel.triggers import parse
    >>> from cxmodel.triggers._operators import RulePlan
    >>> rule = parse("trigger t:\\n    when inactive for 1 days\\n    emit x").rules[0]
    >>> columns = TimerColumns(RulePlan(rule, {}))
    >>> columns.restart("a", Row("a", 5, "view", {"kind": "view"}, 7, 0))
    86400000005
    >>> columns.rule_dict("a")["timer"][:2]
    [['a', 5, {'kind': 'view'}, 7, 0], 86400000005]
    >>> columns.pending(), columns.earliest()
    (1, 86400000005)
    """

    def __init__(self, plan: RulePlan) -> None:
        assert plan.delay is not None
        self.plan = plan
        self.name = plan.name
        self.delay: int = plan.delay
        self.slots: dict[str, int] = {}  # customer -> slot
        self.names: list[str | None] = []  # slot -> customer (None: free)
        self.free: list[int] = []
        self.due = array("q")  # NEVER: no timer
        self.time = array("q")  # the anchoring interaction's time, release number, rank
        self.seq = array("q")
        self.rank = array("q")
        self.last = array("q")  # NO_TIME: never emitted
        #: per block of BLOCK slots, a time at or before its earliest timer: one interaction
        #: at a time looks for the timers falling due in the blocks it names only
        self.low = array("q")
        self.kind: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        self.ident: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        #: the time of the earliest entry of this rule on the runner's queue (NEVER: none)
        self.queued: int = NEVER
        #: the slots' values before the call changed them, for a rollback (with the
        #: ``RuleRunner.before`` of the call they belong to)
        self.undo: list[tuple[npt.NDArray[np.int64] | int, tuple[Any, ...]]] = []
        self.undo_for: object = None

    # -- slots --------------------------------------------------------------------------------
    def slot(self, cid: str) -> int:
        """The slot of customer ``cid`` (made, empty, when they have none)."""
        slot = self.slots.get(cid)
        if slot is None:
            slot = self.slots_of([cid])[0]
        return int(slot)

    def slots_of(self, cids: list[str]) -> npt.NDArray[np.int64]:
        """The slots of customers ``cids`` (those without one get an empty one)."""
        slots = self.slots
        found = list(map(slots.get, cids))
        if None in found:
            for j, cid in enumerate(cids):
                if found[j] is None:
                    found[j] = slots.get(cid)  # (a customer twice in cids)
                    if found[j] is None:
                        found[j] = slots[cid] = self._new_slot(cid)
        return np.array(found, dtype=np.int64)

    def _new_slot(self, cid: str) -> int:
        if self.free:
            slot = self.free.pop()
            self.names[slot] = cid
            return slot
        slot = len(self.names)
        self.names.append(cid)
        if slot >= len(self.due):
            self._grow(max(1024, 2 * len(self.due)))
        return slot

    def _grow(self, size: int) -> None:
        more = size - len(self.due)
        assert size % BLOCK == 0
        self.low.extend(array("q", [NEVER]) * (more // BLOCK))
        self.due.extend(array("q", [NEVER]) * more)
        self.last.extend(array("q", [NO_TIME]) * more)
        for name in ("time", "seq", "rank"):
            getattr(self, name).extend(array("q", [0]) * more)
        for name in ("kind", "ident"):
            old = getattr(self, name)
            new = np.empty(size, dtype=object)
            new[: len(old)] = old
            setattr(self, name, new)

    def view(self, name: str) -> npt.NDArray[np.int64]:
        """Integer column ``name`` as a numpy array sharing its memory (drop it before a slot
        is made: the column cannot grow while it is seen)."""
        return np.frombuffer(getattr(self, name), dtype=np.int64)

    # -- one slot -----------------------------------------------------------------------------
    def restart(self, cid: str, row: Row, before: object = None) -> int | None:
        """The timer of ``cid`` restarts on ``row`` (as ``RuleRunner.restart``: at the time
        of the timer's own interaction, the later interaction anchors it, due as it was);
        ``before`` is the call's ``RuleRunner.before`` (not ``None``: keep the slot's values
        for a rollback). Return the time to queue an entry at, when the timer falls due
        before the rule's earliest entry (see :meth:`queue_at`)."""
        slot = self.slots.get(cid)
        if slot is None:
            slot = self.slot(cid)
        if before is not None:
            self.save_one(slot, before)
        time = row.time
        due = self.due
        self.seq[slot] = row.seq
        self.rank[slot] = row.rank
        self.kind[slot] = row.kind
        self.ident[slot] = row.interaction_id
        if due[slot] == NEVER or self.time[slot] != time:
            due[slot] = when = time + self.delay
            self.time[slot] = time
            if when < self.low[slot >> _SHIFT]:
                self.low[slot >> _SHIFT] = when
            return self.queue_at(when)
        return None

    def queue_at(self, when: int) -> int | None:
        """``when`` if a timer falling due then needs an entry on the runner's queue (the
        rule's earliest entry is later), noted as queued; else ``None``."""
        if when < self.queued:
            self.queued = when
            return when
        return None

    def anchor(self, slot: int) -> Anchor:
        """The timer of ``slot`` as the per-customer state holds it (a bare row)."""
        cid = self.names[slot]
        assert cid is not None
        kind, ident = self.kind[slot], self.ident[slot]
        row = Row(cid, self.time[slot], kind, bare_fields(kind, ident), self.seq[slot],
                  self.rank[slot])  # fmt: skip
        return Anchor(row, self.due[slot], {}, {})

    def last_emitted(self, slot: int) -> int | None:
        last = self.last[slot]
        return None if last == NO_TIME else last

    def rule_dict(self, cid: str) -> dict[str, Any] | None:
        """What :meth:`RuleState.to_dict <cxmodel.triggers._customer.RuleState.to_dict>`
        writes of the customer's state of this rule (``None``: empty)."""
        state = self.rule_state(cid)
        return None if state is None or state.empty() else state.to_dict()

    def rule_state(self, cid: str) -> RuleState | None:
        """The customer's state of this rule as a :class:`RuleState` (``None``: none)."""
        slot = self.slots.get(cid)
        if slot is None:
            return None
        out = RuleState()
        if self.due[slot] != NEVER:
            out.timer = self.anchor(slot)
        out.last_emitted = self.last_emitted(slot)
        return None if out.empty() else out

    def adopt(self, cid: str, state: RuleState, before: object = None) -> int | None:
        """Take the customer's state of this rule from ``state`` (read back from a store, or
        built by a replay). Return the time to queue an entry at (see :meth:`queue_at`)."""
        slot = self.slot(cid)
        if before is not None:
            self.save_one(slot, before)
        timer = state.timer
        if timer is not None and timer.due is not None:
            row = timer.row
            self.due[slot], self.time[slot] = timer.due, row.time
            self.seq[slot], self.rank[slot] = row.seq, row.rank
            self.kind[slot], self.ident[slot] = row.kind, row.interaction_id
            if timer.due < self.low[slot >> _SHIFT]:
                self.low[slot >> _SHIFT] = timer.due
        else:
            self.due[slot] = NEVER
        self.last[slot] = NO_TIME if state.last_emitted is None else state.last_emitted
        return None if timer is None or timer.due is None else self.queue_at(timer.due)

    def forget(self, cid: str) -> None:
        """Erase customer ``cid``: their slot is emptied and freed."""
        slot = self.slots.pop(cid, None)
        if slot is None:
            return
        self.due[slot], self.last[slot] = NEVER, NO_TIME
        self.kind[slot] = self.ident[slot] = None
        self.names[slot] = None
        self.free.append(slot)

    # -- many slots ---------------------------------------------------------------------------
    def save(self, slots: npt.NDArray[np.int64], before: object) -> None:
        """Keep the values of ``slots`` for :meth:`roll_back` (``before``: the call's
        ``RuleRunner.before``, which a new call replaces)."""
        if self.undo_for is not before:
            self.undo, self.undo_for = [], before
        values = tuple(self.view(name)[slots].copy() for name in _INTS)
        self.undo.append((slots.copy(), (*values, self.kind[slots], self.ident[slots])))

    def save_one(self, slot: int, before: object) -> None:
        """:meth:`save` of one slot, without arrays (once per interaction one at a time)."""
        if self.undo_for is not before:
            self.undo, self.undo_for = [], before
        values = (*(getattr(self, name)[slot] for name in _INTS), self.kind[slot], self.ident[slot])
        self.undo.append((slot, values))

    def roll_back(self, before: object) -> None:
        """Put back what the call of ``before`` changed."""
        if self.undo_for is before:
            for slots, values in reversed(self.undo):  # slots: an array, or one (save_one)
                for name, column in zip(_INTS, values[: len(_INTS)], strict=True):
                    self.view(name)[slots] = column
                self.kind[slots], self.ident[slots] = values[len(_INTS) :]
            self.refresh()
        self.undo, self.undo_for = [], None

    def pending(self) -> int:
        """How many customers have a timer."""
        return int(np.count_nonzero(self.view("due") != NEVER))

    def earliest(self) -> int:
        """A time at or before the earliest timer, the earliest itself after
        :meth:`refresh` (NEVER: no timer)."""
        low = self.view("low")
        return int(low.min()) if len(low) else NEVER

    def refresh(self, blocks: npt.NDArray[np.int64] | None = None) -> None:
        """Set the blocks' (all, or ``blocks``) earliest times from their timers."""
        due = self.view("due").reshape(-1, BLOCK)
        low = self.view("low")
        if blocks is None:
            if len(low):
                low[:] = due.min(axis=1)
        elif len(blocks):
            low[blocks] = due[blocks].min(axis=1)

    def due_soon(self, limit: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """:meth:`due_before` ``limit``, looking only in the blocks whose earliest time says
        they may hold one; and those blocks (to :meth:`refresh` once the timers fired)."""
        blocks = np.flatnonzero(self.view("low") < limit)
        if not len(blocks):
            return blocks.astype(np.int64), blocks.astype(np.int64)
        within = (blocks[:, None] * BLOCK + np.arange(BLOCK)).ravel()
        slots = within[self.view("due")[within] < limit]
        return self._in_firing_order(slots), blocks.astype(np.int64)

    def due_before(self, limit: int) -> npt.NDArray[np.int64]:
        """The slots whose timers fall due before ``limit``, by due time then release
        number (the order one by one fires them in)."""
        return self._in_firing_order(np.flatnonzero(self.view("due") < limit))

    def _in_firing_order(self, slots: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        """``slots`` by due time then release number (the order one by one fires them in)."""
        if len(slots) > 1:
            slots = slots[np.lexsort((self.view("seq")[slots], self.view("due")[slots]))]
        return slots.astype(np.int64)
