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

from collections import deque
from typing import Any

from cxmodel.expr import AGGREGATE_FUNCTIONS
from cxmodel.expr._aggregates import RunningValue
from cxmodel.triggers._ingest import Row

__all__ = ["Anchor", "CustomerState", "RuleState", "Waiting"]


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
    def from_list(data: list[Any]) -> Anchor:
        row, due, snapshot, tested = data
        return Anchor(Row.from_list(row), due, dict(snapshot), dict(tested))


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
    def from_list(data: list[Any]) -> Waiting:
        due, order, parts, consent = data
        return Waiting(int(due), int(order), dict(parts), consent)


class RuleState:
    """One rule's state for one customer."""

    __slots__ = ("anchors", "last_emitted", "timer", "waiting")

    def __init__(self) -> None:
        self.anchors: dict[int, Anchor] = {}  # by release number; never changed in place
        self.timer: Anchor | None = None  # 'inactive for' / 'no ... for': the restart waiting
        self.waiting: list[Waiting] = []
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
        out.waiting = list(self.waiting)  # a waiting firing is removed, never changed
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
    def from_dict(data: dict[str, Any]) -> RuleState:
        out = RuleState()
        for item in data.get("anchors", ()):
            anchor = Anchor.from_list(item)
            out.anchors[anchor.row.seq] = anchor
        if data.get("timer") is not None:
            out.timer = Anchor.from_list(data["timer"])
        out.waiting = [Waiting.from_list(w) for w in data.get("waiting", ())]
        out.last_emitted = data.get("last_emitted")
        return out


class CustomerState:
    """Everything the engine keeps about one customer (see the module docstring)."""

    __slots__ = (
        "consent",
        "consent_default",
        "contacts",
        "customer",
        "kept",
        "last_time",
        "rules",
        "running",
        "seen",
        "tie_count",
        "windows",
    )

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.last_time: int | None = None  # the latest interaction's time
        self.tie_count = 0  # interactions at last_time so far (the next one's rank)
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
        out = CustomerState(self.customer)
        out.last_time = self.last_time
        out.tie_count = self.tie_count
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
        out = {
            "last_time": self.last_time,
            "tie_count": self.tie_count,
            "seen": self.seen,
            "consent": self.consent,
            "consent_default": self.consent_default,
            "running": {k: v.to_list() for k, v in sorted(self.running.items())},
            "windows": {k: [list(e) for e in v] for k, v in sorted(self.windows.items())},
            "kept": {k: [r.to_list() for r in v] for k, v in self.kept.items()},
            "rules": {k: v.to_dict() for k, v in sorted(self.rules.items()) if not v.empty()},
        }
        if self.contacts:
            out["contacts"] = {k: [list(e) for e in v] for k, v in self.contacts.items()}
        return out

    @staticmethod
    def from_dict(customer: str, data: dict[str, Any]) -> CustomerState:
        """The state :meth:`to_dict` wrote."""
        out = CustomerState(customer)
        out.last_time = data.get("last_time")
        out.tie_count = int(data.get("tie_count", 0))
        out.seen = {str(k): int(v) for k, v in data.get("seen", {}).items()}
        out.consent = {str(k): bool(v) for k, v in data.get("consent", {}).items()}
        out.consent_default = data.get("consent_default")
        out.running = {
            k: RunningValue.from_list(AGGREGATE_FUNCTIONS[k.split("|", 1)[0]], v)
            for k, v in data.get("running", {}).items()
        }
        out.windows = {
            k: deque((int(t), int(s), value) for t, s, value in v)
            for k, v in data.get("windows", {}).items()
        }
        out.kept = {k: deque(Row.from_list(r) for r in v) for k, v in data.get("kept", {}).items()}
        out.rules = {k: RuleState.from_dict(v) for k, v in data.get("rules", {}).items()}
        out.contacts = {
            str(k): [[int(t), str(trigger), str(ident)] for t, trigger, ident in v]
            for k, v in data.get("contacts", {}).items()
        }
        return out
