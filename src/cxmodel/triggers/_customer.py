"""The streaming engine's state for one customer: bounded by what the active rules can still
read, never the customer's whole history.

- running values (count, sums, extremes, first/last, distinct values) for aggregates over all
  of the history or ``before x``;
- time-trimmed buffers for ``within D`` aggregates, and kept rows for aggregates whose
  ``where`` compares with the bound interaction (trimmed to their window when they have one);
- for catalogue rules, the interactions their ``for customers with ... within D`` joins on,
  trimmed to the window (in ``windows``, under ``with|...``; see ``_catalogue_stream.py``);
- consent per purpose; the interaction ids that could still be re-delivered;
- per rule: the anchors still waiting (``then``, ``then no``, ``then after``), the inactivity
  or absence timer, firings waiting for their time (quiet hours, or a contact policy's
  decision), and the last emitted time;
- per contact policy: the last N emitted firings of its rules (time, trigger, firing id).

Everything is plain Python; :meth:`CustomerState.to_dict` / :meth:`CustomerState.from_dict`
give the JSON form a durable store keeps.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._arguments import got
from cxmodel.expr import AGGREGATE_FUNCTIONS
from cxmodel.expr._aggregates import RunningValue
from cxmodel.triggers._ingest import Row
from cxmodel.triggers._stored import DamagedState, Stored

__all__ = ["NO_TIME", "Anchor", "Bookkeeping", "CustomerState", "RuleState", "Waiting"]

#: no time, in an integer column: the latest time of a customer with no interaction yet
#: (:class:`Bookkeeping`), the last emitted time of a rule that never emitted
NO_TIME = -(2**63)
#: the largest tie count a :class:`Bookkeeping` column holds
COUNT_MOST = 2**63 - 1


class Anchor:
    """An interaction a rule is waiting on: its row, when it falls due (``None``: waits for a
    completing interaction with no time limit), the ``before x`` values and the values its
    ``when ... where`` tested."""

    __slots__ = ("due", "row", "snapshot", "tested")

    def __init__(
        self, row: Row, due: int | None, snapshot: dict[str, Any], tested: dict[str, Any]
    ) -> None:
        self.row = row
        self.due = due
        self.snapshot = snapshot
        self.tested = tested

    def copy(self) -> Anchor:
        """A copy whose ``row``, ``due`` and ``tested`` can be set apart from this one's (the
        row and the dicts, which the engine replaces but never changes, are shared)."""
        return Anchor(self.row, self.due, self.snapshot, self.tested)

    def to_list(self) -> list[Any]:
        return [self.row.to_list(), self.due, self.snapshot, self.tested]

    @staticmethod
    def from_list(data: Any) -> Anchor:
        """The anchor :meth:`to_list` wrote (checked: see :class:`Stored`)."""
        return Anchor.read(Stored(data, "anchor"))

    @staticmethod
    def read(stored: Stored) -> Anchor:
        """The anchor :meth:`to_list` wrote, read from a snapshot."""
        row, due, snapshot, tested = stored.entries(4)
        return Anchor(Row.read(row), due.optional_due(), snapshot.mapping(), tested.mapping())


class Waiting:
    """A firing decided but for its policies, which are applied at ``due`` (after quiet
    hours): its firing parts and the consent read when it was found (``None``: read at
    ``due``)."""

    __slots__ = ("consent", "due", "order", "parts")

    def __init__(self, due: int, order: int, parts: dict[str, Any], consent: bool | None) -> None:
        self.due = due
        self.order = order
        self.parts = parts
        self.consent = consent

    def to_list(self) -> list[Any]:
        return [self.due, self.order, self.parts, self.consent]

    @staticmethod
    def from_list(data: Any) -> Waiting:
        """The waiting firing :meth:`to_list` wrote (checked: see :class:`Stored`)."""
        return Waiting.read(Stored(data, "waiting"))

    @staticmethod
    def read(stored: Stored) -> Waiting:
        """The waiting firing :meth:`to_list` wrote, read from a snapshot."""
        due, order, parts, consent = stored.entries(4)
        return Waiting(due.due(), order.integer(), parts.mapping(), consent.optional_flag())


class RuleState:
    """One rule's state for one customer."""

    __slots__ = ("anchors", "last_emitted", "timer", "waiting")

    def __init__(self) -> None:
        self.anchors: dict[int, Anchor] = {}  # by release number; never changed in place
        self.timer: Anchor | None = None  # 'inactive for' / 'no ... for': the restart waiting
        # a tuple, replaced when it changes: most rule states never have one, and an empty
        # tuple is no object of its own for the garbage collector to visit
        self.waiting: tuple[Waiting, ...] = ()
        self.last_emitted: int | None = None

    def empty(self) -> bool:
        return (
            not self.anchors
            and self.timer is None
            and not self.waiting
            and self.last_emitted is None
        )

    def copy(self) -> RuleState:
        """An independent copy (see :meth:`CustomerState.copy`)."""
        out = RuleState()
        out.anchors = dict(self.anchors)  # an anchor is removed when done, never changed
        out.timer = None if self.timer is None else self.timer.copy()
        out.waiting = self.waiting  # a tuple, replaced when it changes
        out.last_emitted = self.last_emitted
        return out

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.anchors:
            out["anchors"] = [a.to_list() for a in self.anchors.values()]
        if self.timer is not None:
            out["timer"] = self.timer.to_list()
        if self.waiting:
            out["waiting"] = [w.to_list() for w in self.waiting]
        if self.last_emitted is not None:
            out["last_emitted"] = self.last_emitted
        return out

    @staticmethod
    def from_dict(data: Any) -> RuleState:
        """The state :meth:`to_dict` wrote (checked: see :class:`Stored`)."""
        return RuleState.read(Stored(data, "rule"))

    @staticmethod
    def read(stored: Stored) -> RuleState:
        """The state :meth:`to_dict` wrote, read from a snapshot."""
        out = RuleState()
        for item in stored["anchors"].entries():
            anchor = Anchor.read(item)
            out.anchors[anchor.row.seq] = anchor
        timer = stored["timer"]
        if timer.value is not None:
            out.timer = Anchor.read(timer)
        out.waiting = tuple(Waiting.read(w) for w in stored["waiting"].entries())
        out.last_emitted = stored["last_emitted"].optional_time()
        return out


class Bookkeeping:
    """Each customer's latest interaction time and how many of their interactions came at
    it so far (the next one's rank among them), a slot per customer, as columns.

    Every interaction reads and writes them, so a large micro-batch does it for all its
    customers at once with numpy (``_columnar.py``), and one interaction at a time reads
    and writes one slot. The columns are :class:`array.array` (a slot read is a Python
    integer), seen by numpy through their buffer. An engine's customers share its
    bookkeeping; a state made on its own (copied for a rollback, or read from a snapshot
    without one) keeps its two values apart until the engine takes it in (:meth:`adopt`).

    Examples
    --------
    >>> book = Bookkeeping()
    >>> slot = book.slot("a")
    >>> book.last_time[slot] == NO_TIME, book.tie_count[slot]
    (True, 0)
    >>> state = CustomerState("b")
    >>> state.last_time = 5
    >>> book.adopt(state)
    >>> state.book is book, state.last_time
    (True, 5)
    """

    __slots__ = ("free", "last_time", "slots", "tie_count")

    def __init__(self) -> None:
        self.slots: dict[str, int] = {}  # customer -> slot
        self.free: list[int] = []
        self.last_time = array("q")  # NO_TIME: no interaction yet
        self.tie_count = array("q")

    def slot(self, customer: str) -> int:
        """A slot for ``customer`` (theirs if they have one), set to no interaction yet."""
        slot = self.slots.get(customer)
        if slot is None:
            if self.free:
                slot = self.free.pop()
            else:
                slot = len(self.last_time)
                self.last_time.append(NO_TIME)
                self.tie_count.append(0)
            self.slots[customer] = slot
        self.last_time[slot] = NO_TIME
        self.tie_count[slot] = 0
        return slot

    def adopt(self, state: CustomerState) -> None:
        """Take ``state`` in: its customer's slot holds its values, which it reads from here
        on (nothing when it reads them here already)."""
        if state.book is self:
            return
        last_time, tie_count = state.last_time, state.tie_count
        slot = self.slot(state.customer)
        self.last_time[slot] = NO_TIME if last_time is None else last_time
        self.tie_count[slot] = tie_count
        state.book, state.slot = self, slot

    def forget(self, customer: str) -> None:
        """Free the slot of ``customer`` (erased), for another customer to take."""
        slot = self.slots.pop(customer, None)
        if slot is not None:
            self.free.append(slot)

    def view(self, name: str) -> npt.NDArray[np.int64]:
        """Column ``name`` (``"last_time"`` or ``"tie_count"``) as a numpy array sharing its
        memory (drop it before a slot is made: the column cannot grow while it is seen)."""
        column: array[int] = getattr(self, name)
        return np.frombuffer(column, dtype=np.int64)


class _Alone:
    """The latest time and tie count of a state on its own, in slot 0 (see
    :class:`Bookkeeping`)."""

    __slots__ = ("last_time", "tie_count")

    def __init__(self, last_time: int = NO_TIME, tie_count: int = 0) -> None:
        self.last_time = [last_time]
        self.tie_count = [tie_count]


class CustomerState:
    """Everything the engine keeps about one customer (see the module docstring)."""

    __slots__ = (
        "book",
        "consent",
        "consent_default",
        "contacts",
        "customer",
        "held",
        "kept",
        "rules",
        "running",
        "seen",
        "slot",
        "windows",
    )

    def __init__(
        self,
        customer: str,
        held: Mapping[str, Any] | None = None,
        book: Bookkeeping | None = None,
    ) -> None:
        self.customer = customer
        #: the rules whose state is held as columns, not in ``rules`` (rule name ->
        #: :class:`~cxmodel.triggers._timer_columns.TimerColumns`, the runner's, shared)
        self.held = held
        #: where the latest interaction's time and the next one's rank are kept (the
        #: engine's, shared, or the state's own): see :attr:`last_time`
        self.book: Bookkeeping | _Alone
        if book is None:
            self.book, self.slot = _Alone(), 0
        else:
            self.book, self.slot = book, book.slot(customer)
        self.seen: dict[str, int] = {}  # interaction id -> time, while it may be re-delivered
        self.consent: dict[str, bool] = {}  # purpose (trimmed, case-folded) -> granted
        self.consent_default: bool | None = None  # False after a revocation of every purpose
        # running values by 'func|kind|field|where' (see AggregatePlan.store_key)
        self.running: dict[str, RunningValue] = {}
        self.windows: dict[str, deque[tuple[int, int, Any]]] = {}  # (time, seq, value)
        self.kept: dict[str, deque[Row]] = {}  # rows of a kind, for aggregates over pairs
        self.rules: dict[str, RuleState] = {}
        # contact policy name -> its last emitted firings [time, trigger, firing id], oldest first
        self.contacts: dict[str, list[list[Any]]] = {}

    @property
    def last_time(self) -> int | None:
        """The latest interaction's time (``None``: none yet)."""
        time = self.book.last_time[self.slot]
        return None if time == NO_TIME else time

    @last_time.setter
    def last_time(self, time: int | None) -> None:
        self.book.last_time[self.slot] = NO_TIME if time is None else time

    @property
    def tie_count(self) -> int:
        """The customer's interactions at :attr:`last_time` so far (the next one's rank)."""
        return self.book.tie_count[self.slot]

    @tie_count.setter
    def tie_count(self, count: int) -> None:
        self.book.tie_count[self.slot] = count

    def rule(self, name: str) -> RuleState:
        """The state of rule ``name`` (created empty on first use)."""
        state = self.rules.get(name)
        if state is None:
            state = self.rules[name] = RuleState()
        return state

    def copy(self) -> CustomerState:
        """An independent copy, for putting the state back when a call's commit fails.

        Every container the engine changes is copied; rows, values and the dicts an anchor
        holds are shared, since the engine replaces them and never changes them in place.
        It equals ``copy.deepcopy`` in what it keeps and costs a fraction of it.

        Examples
        --------
        >>> state = CustomerState("a")
        >>> state.seen["e1"] = 5
        >>> twin = state.copy()
        >>> twin.seen["e2"] = 6
        >>> sorted(state.seen), sorted(twin.seen)
        (['e1'], ['e1', 'e2'])
        """
        # made without __init__, whose empty containers would be replaced here, and with its
        # latest time and tie count on its own: a call with a store whose commit can fail
        # copies every customer it touches
        out = CustomerState.__new__(CustomerState)
        out.customer, out.held, out.slot = self.customer, self.held, 0
        book, slot = self.book, self.slot
        out.book = _Alone(book.last_time[slot], book.tie_count[slot])
        out.seen = dict(self.seen)
        out.consent = dict(self.consent)
        out.consent_default = self.consent_default
        out.running = {key: value.copy() for key, value in self.running.items()}
        out.windows = {key: deque(buffer) for key, buffer in self.windows.items()}
        out.kept = {kind: deque(rows) for kind, rows in self.kept.items()}
        out.rules = {name: rs.copy() for name, rs in self.rules.items()}
        out.contacts = {name: [list(e) for e in sent] for name, sent in self.contacts.items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (``contacts`` only when a contact policy counted a firing);
        values, windows and rules by name, so that the text a store keeps does not depend
        on the order the engine first met them in (which differs between its paths)."""
        rules = {k: v.to_dict() for k, v in self.rules.items() if not v.empty()}
        if self.held:  # those held as columns, written as a RuleState writes them
            for name, columns in self.held.items():
                held = columns.rule_dict(self.customer)
                if held is not None:
                    rules[name] = held
        out = {
            "last_time": self.last_time,
            "tie_count": self.tie_count,
            "seen": self.seen,
            "consent": self.consent,
            "consent_default": self.consent_default,
            "running": {k: v.to_list() for k, v in sorted(self.running.items())},
            "windows": {k: [list(e) for e in v] for k, v in sorted(self.windows.items())},
            "kept": {k: [r.to_list() for r in v] for k, v in self.kept.items()},
            "rules": dict(sorted(rules.items())),
        }
        if self.contacts:
            out["contacts"] = {k: [list(e) for e in v] for k, v in self.contacts.items()}
        return out

    @staticmethod
    def from_dict(customer: str, data: Any, book: Bookkeeping | None = None) -> CustomerState:
        """The state :meth:`to_dict` wrote, checked as it is read: a value of the wrong type
        or range raises :class:`~cxmodel.triggers._stored.DamagedState` naming its path
        (``customers['a'].rules['ask'].last_emitted``). Its latest time and tie count are
        kept in ``book`` (an engine's) when given.

        Examples
        --------
        >>> CustomerState.from_dict("a", {"seen": {"e1": "x"}})
        Traceback (most recent call last):
        ...
        cxmodel.triggers._stored.DamagedState: customers['a'].seen['e1'] is str 'x'; expected a time (an integer of microseconds since 1970-01-01, within years 1 to 9999)
        """
        stored = Stored(data, f"customers[{customer!r}]")
        stored.mapping()  # a state that is no mapping is named as such
        out = CustomerState(customer, book=book)
        out.last_time = stored["last_time"].optional_time()
        # held in a 64-bit column: a larger count is damaged state, not an OverflowError
        out.tie_count = stored["tie_count"].count(default=0, most=COUNT_MOST)
        out.seen = {k: v.time() for k, v in stored["seen"].items()}
        out.consent = {k: v.flag() for k, v in stored["consent"].items()}
        out.consent_default = stored["consent_default"].optional_flag()
        out.running = {k: _running(k, v) for k, v in stored["running"].items()}
        out.windows = {
            k: deque((t.time(), s.integer(), value.value) for t, s, value in _triples(v))
            for k, v in stored["windows"].items()
        }
        out.kept = {k: deque(Row.read(r) for r in v.entries()) for k, v in stored["kept"].items()}
        out.rules = {k: RuleState.read(v) for k, v in stored["rules"].items()}
        out.contacts = {
            k: [[t.time(), trigger.text(), ident.text()] for t, trigger, ident in _triples(v)]
            for k, v in stored["contacts"].items()
        }
        return out


def _triples(stored: Stored) -> Iterator[list[Stored]]:
    """The items of a stored list of three-item lists."""
    return (entry.entries(3) for entry in stored.entries())


def _running(key: str, stored: Stored) -> RunningValue:
    """The running value stored under ``key`` (``'func|kind|field|where'``)."""
    name = key.split("|", 1)[0]
    function = AGGREGATE_FUNCTIONS.get(name)
    if function is None:
        raise DamagedState(
            f"{stored.path} is the running value of an unknown aggregate {name!r}; expected "
            f"one of {', '.join(sorted(AGGREGATE_FUNCTIONS))}"
        )
    count, state = stored.entries(2)
    if function.name == "distinct" and not isinstance(state.value, list):
        raise DamagedState(f"{state.path} is {got(state.value)}; expected a list of values")
    return RunningValue.from_list(function, [count.count(), state.value])
