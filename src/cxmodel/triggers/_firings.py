"""Firings: what a rule emitted (or would have, when a policy suppressed it)."""

from __future__ import annotations

import csv
import hashlib
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TextIO, overload

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._result import Result, plain
from cxmodel._spreadsheet import spreadsheet_cell
from cxmodel._time import EPOCH, to_us, us_to_datetime
from cxmodel.errors import IndexOutOfRangeError, SchemaError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Firing",
    "FiringBlock",
    "FiringRows",
    "Firings",
    "firing_blocks",
    "firing_columns",
    "firing_id",
    "firing_ids_of",
    "firing_rows",
    "firing_sort_key",
    "write_firings",
]

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[Any]


def firing_id(rule: str, customer_id: str, anchor: str) -> str:
    """The deterministic id of a firing: a hash of rule, customer and anchoring interaction.

    Parameters
    ----------
    rule : str
        The rule's name.
    customer_id : str
        The customer.
    anchor : str
        The key of the anchoring interaction: ``"id=..."`` (its id), ``"t=...#r"`` (its time
        and rank among same-time rows) or ``"t=..."`` (a restart time).

    Examples
    --------
    >>> firing_id("churn_risk", "c1", "t=0") == firing_id("churn_risk", "c1", "t=0")
    True
    """
    digest = hashlib.sha1(f"{rule}\x1f{customer_id}\x1f{anchor}".encode(), usedforsecurity=False)
    return digest.hexdigest()[:20]


def firing_ids_of(rule: str, customers: Iterable[str], anchors: Iterable[str]) -> list[str]:
    """:func:`firing_id` of each customer and anchor key of one rule, in bulk: the hash of
    the rule's part is begun once and copied for each (for one id, :func:`firing_id` is
    three times faster).

    Examples
    --------
    >>> firing_ids_of("r", ["c1", "c2"], ["t=0", "t=0"]) == [
    ...     firing_id("r", "c1", "t=0"), firing_id("r", "c2", "t=0")]
    True
    """
    begun = hashlib.sha1(f"{rule}\x1f".encode(), usedforsecurity=False)
    out: list[str] = []
    for customer_id, anchor in zip(customers, anchors, strict=True):
        digest = begun.copy()
        digest.update(f"{customer_id}\x1f{anchor}".encode())
        out.append(digest.hexdigest()[:20])
    return out


@attrs.frozen
class Firing:
    """One firing of a rule for a customer.

    ``because`` names the interactions and values that satisfied each clause; ``reason`` is
    ``None`` for an emitted firing and says which policy suppressed it otherwise.
    """

    trigger: str
    customer_id: str
    time: datetime
    action: str
    payload: dict[str, Any] = attrs.field(eq=True, hash=False)
    because: dict[str, Any] = attrs.field(eq=True, hash=False)
    firing_id: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (time in ISO 8601; payload and because copied)."""
        out = self._fields()
        out["payload"], out["because"] = _copied(self.payload), _copied(self.because)
        return out

    def to_json(self) -> str:
        """Return :meth:`to_dict` as JSON text (values JSON cannot hold written as text)."""
        return json.dumps(self._fields(), default=str)

    def _fields(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "customer_id": self.customer_id,
            "time": self.time.isoformat(),
            "action": self.action,
            "payload": self.payload,
            "because": self.because,
            "firing_id": self.firing_id,
            "reason": self.reason,
        }


def _copied(value: Any) -> Any:
    """A copy of nested dicts and lists (other values shared)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


@attrs.frozen(eq=False)
class FiringBlock:
    """Firings of one rule as columns, materialised as :class:`Firing` objects on demand.

    Internal: the batch evaluator builds one block per rule and outcome, so evaluating does
    no per-firing Python work beyond the policies; iteration builds the objects.
    """

    trigger: str
    action: str
    customer: Array  # customer ids
    rank: IntArray  # sortable customer rank (equal ranks = equal ids within one evaluation)
    time: IntArray  # firing time, microseconds
    when_kind: Array
    when_time: IntArray
    when_id: Array | None  # interaction ids of the anchors (None: the log has none)
    anchor_rank: IntArray  # position among the customer's interactions at when_time
    restart: bool  # 'when no ...' rules key firings by restart time only
    then_kind: Array | None = None  # matched 'then' interactions (None entries: no match)
    then_time: IntArray | None = None
    then_id: Array | None = None
    delayed_from: IntArray | None = None  # time before quiet hours
    payload: dict[str, Array] = attrs.field(factory=dict)
    reason: Array | None = None
    anchor: IntArray | None = None  # anchoring rows in the evaluated log (internal)
    ranked: bool = True  # False: ``rank`` does not follow customer id order
    tested: dict[str, dict[str, Array]] = attrs.field(factory=dict)  # clause -> value -> column
    absent: dict[str, Any] | None = None  # what did not happen before a timer fired
    matched_as: str = "then"  # the part of 'because' showing then_*: "then", or "with"

    def take(self, rows: npt.NDArray[Any]) -> FiringBlock:
        """The firings at ``rows`` (indices or a mask)."""

        def pick(values: Any) -> Any:
            return None if values is None else values[rows]

        return attrs.evolve(
            self,
            customer=self.customer[rows],
            rank=self.rank[rows],
            time=self.time[rows],
            when_kind=self.when_kind[rows],
            when_time=self.when_time[rows],
            when_id=pick(self.when_id),
            anchor_rank=self.anchor_rank[rows],
            then_kind=pick(self.then_kind),
            then_time=pick(self.then_time),
            then_id=pick(self.then_id),
            delayed_from=pick(self.delayed_from),
            payload={k: v[rows] for k, v in self.payload.items()},
            reason=pick(self.reason),
            anchor=pick(self.anchor),
            tested={c: {k: v[rows] for k, v in cols.items()} for c, cols in self.tested.items()},
        )

    def __len__(self) -> int:
        return len(self.time)

    def keys(self, rows: IntArray) -> list[str]:
        """The anchor keys of firings ``rows`` (the last part of their ids): the anchoring
        interaction's id, else its time and rank among same-time rows (restart time only
        for ``when no`` rules)."""
        times = self.when_time[rows].tolist()
        if self.restart:
            return [f"t={t}" for t in times]
        ids = _take(self.when_id, rows)
        ranks = self.anchor_rank[rows].tolist()
        return [
            f"id={i}" if isinstance(i, str) else f"t={t}#{r}"
            for i, t, r in zip(ids, times, ranks, strict=True)
        ]

    def firing_id(self, i: int) -> str:
        """The id of firing ``i``."""
        return self.firing_ids(np.array([i], dtype=np.int64))[0]

    def firing_ids(self, rows: IntArray) -> list[str]:
        """The ids of firings ``rows``, their keys made in bulk."""
        customers = map(str, self.customer[rows].tolist())
        return firing_ids_of(self.trigger, customers, self.keys(rows))

    def firing(self, i: int) -> Firing:
        """Firing ``i`` as an object."""
        return _bulk(self, np.array([i], dtype=np.int64))[0]


def _datetimes(us: IntArray) -> list[datetime]:
    """Microsecond times as aware UTC datetimes, converted in bulk."""
    naive = np.asarray(us, dtype=np.int64).astype("datetime64[us]").tolist()
    return [d.replace(tzinfo=timezone.utc) for d in naive]


def _take(values: Array | None, rows: IntArray) -> list[Any]:
    return [None] * len(rows) if values is None else values[rows].tolist()


def _plain_list(values: Array) -> list[Any]:
    """``values`` as plain Python values, as :func:`plain` gives them, converted in bulk."""
    if values.dtype.kind == "f":
        return [None if x != x else x for x in values.tolist()]  # NaN -> None
    if values.dtype.kind in "biu":
        return list(values.tolist())
    return [plain(x) for x in values.tolist()]


def _records(columns: dict[str, Array], rows: IntArray) -> list[dict[str, Any]]:
    """Rows ``rows`` of ``columns`` as one dict each (plain Python values)."""
    names = list(columns)
    values = [_plain_list(columns[k][rows]) for k in names]
    if not names:
        return [{} for _ in range(len(rows))]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _bulk(block: FiringBlock, rows: IntArray) -> list[Firing]:
    """Firings ``rows`` of ``block`` as objects: one conversion per column, then one loop."""
    times = _datetimes(block.time[rows])
    when_times = [d.isoformat() for d in _datetimes(block.when_time[rows])]
    when_kind, when_id = _take(block.when_kind, rows), _take(block.when_id, rows)
    customer = [str(c) for c in block.customer[rows].tolist()]
    keys = block.keys(rows)
    then_kind = _take(block.then_kind, rows)
    then_times = (
        [None] * len(rows)
        if block.then_time is None
        else [d.isoformat() for d in _datetimes(block.then_time[rows])]
    )
    then_id = _take(block.then_id, rows)
    delayed = (
        [None] * len(rows)
        if block.delayed_from is None
        else [
            None if d == t else us_to_datetime(d).isoformat()
            for d, t in zip(
                block.delayed_from[rows].tolist(), block.time[rows].tolist(), strict=True
            )
        ]
    )
    payload = _records(block.payload, rows)
    before_quiet = block.time if block.delayed_from is None else block.delayed_from
    due = [d.isoformat() for d in _datetimes(before_quiet[rows])] if block.absent else []
    tested = {c: _records(cols, rows) for c, cols in block.tested.items()}
    reasons = _take(block.reason, rows)
    ids = firing_ids_of(block.trigger, customer, keys)
    out = []
    for j in range(len(rows)):
        when: dict[str, Any] = {"kind": when_kind[j], "time": when_times[j]}
        if when_id[j] is not None:
            when["interaction_id"] = when_id[j]
        if "when" in tested:
            when["values"] = tested["when"][j]
        because: dict[str, Any] = {"when": when}
        if then_kind[j] is not None:  # 'then B', or a catalogue rule's customer interaction
            then: dict[str, Any] = {"kind": then_kind[j], "time": then_times[j]}
            if then_id[j] is not None:
                then["interaction_id"] = then_id[j]
            if block.matched_as in tested:
                then["values"] = tested[block.matched_as][j]
            because[block.matched_as] = then
        if block.absent is not None:  # nothing of the kind in (when, until]
            because["no"] = {**block.absent, "from": when_times[j], "until": due[j]}
        if "if" in tested:
            because["if"] = tested["if"][j]
        if delayed[j] is not None:
            because["quiet_hours_delayed_from"] = delayed[j]
        out.append(
            Firing(
                trigger=block.trigger,
                customer_id=customer[j],
                time=times[j],
                action=block.action,
                payload=payload[j],
                because=because,
                firing_id=ids[j],
                reason=None if reasons[j] is None else str(reasons[j]),
            )
        )
    return out


#: the order of firings: time, customer id, trigger, firing id
firing_sort_key = operator.attrgetter("time", "customer_id", "trigger", "firing_id")

_ONE_US = timedelta(microseconds=1)


def _time_us(time: datetime) -> int:
    """A firing's time in microseconds since the epoch (UTC)."""
    if time.tzinfo is not None and time.utcoffset() is not None:
        return (time - EPOCH) // _ONE_US
    return to_us(time, what="time of a firing")


class FiringRows(Sequence[Firing]):
    """A sequence of firings: :class:`Firing` objects, rows of columnar blocks, or both, a
    block's row built as an object when first read.

    Objects alone are kept in the order given. With blocks, every firing is put in
    :data:`firing_sort_key` (time, customer id, trigger, firing id), objects and block rows
    together; the objects take their places in ``cache`` and each block row's object is
    built on demand (in bulk, block by block, by :meth:`all`). ``which`` and ``row`` say
    where each position comes from: block ``which[i]``, row ``row[i]``, or, where
    ``which[i]`` is -1, the object ``row[i]`` given. Building an object twice (two threads
    reading at once) gives two equal objects, one of them kept.
    """

    __slots__ = ("blocks", "cache", "n", "row", "which")

    def __init__(self, objects: Sequence[Firing] = (), blocks: Sequence[FiringBlock] = ()) -> None:
        self.blocks = tuple(blocks)
        if not any(len(b) for b in self.blocks):  # objects alone, in the order given
            self.which = np.zeros(0, dtype=np.int64)
            self.row = np.zeros(0, dtype=np.int64)
            self.cache: list[Firing | None] = list(objects)
            self.n = len(self.cache)
            return
        self.n = len(objects) + sum(len(b) for b in self.blocks)
        self.cache = [None] * self.n
        self.which, self.row = self._order(objects)
        if len(objects):
            at = np.flatnonzero(self.which < 0)
            for j, k in zip(at.tolist(), self.row[at].tolist(), strict=True):
                self.cache[j] = objects[k]

    def _order(self, objects: Sequence[Firing]) -> tuple[IntArray, IntArray]:
        blocks = [(w, b) for w, b in enumerate(self.blocks) if len(b)]
        n_objects = len(objects)
        names = sorted({b.trigger for _, b in blocks}.union(f.trigger for f in objects))
        code = {name: i for i, name in enumerate(names)}
        which = np.concatenate(
            [np.full(n_objects, -1, dtype=np.int64)]
            + [np.full(len(b), w, dtype=np.int64) for w, b in blocks]
        )
        row = np.concatenate(
            [np.arange(n_objects, dtype=np.int64)]
            + [np.arange(len(b), dtype=np.int64) for _, b in blocks]
        )
        time = np.concatenate(
            [np.array([_time_us(f.time) for f in objects], dtype=np.int64)]
            + [b.time for _, b in blocks]
        )
        rank: IntArray
        if not n_objects and all(b.ranked for _, b in blocks):
            rank = np.concatenate([b.rank for _, b in blocks])
        else:  # rank customer ids here, compared as Python text (numpy's drops trailing NULs)
            ids = [f.customer_id for f in objects]
            for _, b in blocks:
                ids += [str(c) for c in b.customer.tolist()]
            index = {c: j for j, c in enumerate(sorted(set(ids)))}
            rank = np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))
        trig = np.concatenate(
            [np.array([code[f.trigger] for f in objects], dtype=np.int64)]
            + [np.full(len(b), code[b.trigger], dtype=np.int64) for _, b in blocks]
        )
        order = np.lexsort((trig, rank, time))
        which, row = which[order], row[order]
        t, r, g = time[order], rank[order], trig[order]
        tie = (t[1:] == t[:-1]) & (r[1:] == r[:-1]) & (g[1:] == g[:-1])
        if tie.any():  # equal time, customer and trigger: order by firing id
            edges = np.diff(np.concatenate([[0], tie.astype(np.int8), [0]]))
            starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
                run = np.arange(s, e + 1)
                run_ids = [
                    objects[x].firing_id if w < 0 else self.blocks[w].firing_id(x)
                    for w, x in zip(which[run].tolist(), row[run].tolist(), strict=True)
                ]
                sub = run[np.argsort(np.array(run_ids, dtype=object), kind="stable")]
                which[run], row[run] = which[sub], row[sub]
        return which, row

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> Firing: ...
    @overload
    def __getitem__(self, i: slice) -> list[Firing]: ...
    def __getitem__(self, i: int | slice) -> Firing | list[Firing]:
        if isinstance(i, slice):
            return [self.get(j) for j in range(self.n)[i]]
        if not -self.n <= i < self.n:
            raise IndexOutOfRangeError(f"firing index {i} out of range for {self.n} firings")
        return self.get(i % self.n)

    def __iter__(self) -> Iterator[Firing]:
        return iter(self.all())

    def get(self, i: int) -> Firing:
        got = self.cache[i]
        if got is None:
            got = self.cache[i] = self.blocks[int(self.which[i])].firing(int(self.row[i]))
        return got

    def all(self) -> list[Firing]:
        """Every firing, block rows materialised in bulk (block by block) on first use."""
        if self.n and any(f is None for f in self.cache):
            for w, block in enumerate(self.blocks):
                at = np.flatnonzero(self.which == w)
                if len(at):
                    for j, firing in zip(at.tolist(), _bulk(block, self.row[at]), strict=True):
                        self.cache[j] = firing
        return self.cache  # type: ignore[return-value]

    def firing_id(self, i: int) -> str:
        got = self.cache[i]
        if got is not None:
            return got.firing_id
        return self.blocks[int(self.which[i])].firing_id(int(self.row[i]))

    def firing_ids(self) -> list[str]:
        """Every firing's id, in order: those of block rows made in bulk, block by block
        (without building the firings)."""
        out: list[str | None] = [None if f is None else f.firing_id for f in self.cache]
        for w, block in enumerate(self.blocks):
            at = np.flatnonzero(self.which == w)
            if len(at):
                for j, ident in zip(at.tolist(), block.firing_ids(self.row[at]), strict=True):
                    if out[j] is None:
                        out[j] = ident
        return out  # type: ignore[return-value]


def _parts(objects: Sequence[Firing], blocks: Sequence[FiringBlock]) -> FiringRows:
    """:class:`FiringRows` of ``objects`` and ``blocks`` in :data:`firing_sort_key`."""
    if not any(len(b) for b in blocks) and len(objects) > 1:  # objects alone: sort them
        objects = sorted(objects, key=firing_sort_key)
    return FiringRows(objects, blocks)


class Firings(Result):
    """A table of firings, sorted by time, customer, trigger and id; ``suppressed`` holds the
    firings a policy stopped, each with its ``reason``.

    Evaluation keeps firings as columns; a :class:`Firing` object is built when it is first
    read (by index or iteration), so ``len()`` and counting are cheap on millions of firings.
    A streaming engine's micro-batch may hold some as objects and some as columns, in the same
    order.

    Examples
    --------
    >>> Firings(()).to_dict()
    {'firings': [], 'suppressed': []}
    """

    __slots__ = ("_emitted", "_suppressed")

    def __init__(
        self, firings: Iterable[Firing] = (), suppressed_firings: Iterable[Firing] = ()
    ) -> None:
        self._emitted = FiringRows(tuple(firings))
        self._suppressed = FiringRows(tuple(suppressed_firings))

    @classmethod
    def from_blocks(
        cls, emitted: Sequence[FiringBlock], suppressed: Sequence[FiringBlock] = ()
    ) -> Firings:
        """Firings from columnar blocks (sorted here)."""
        out = cls.__new__(cls)
        out._emitted = FiringRows((), emitted)
        out._suppressed = FiringRows((), suppressed)
        return out

    @classmethod
    def from_parts(
        cls,
        emitted: Sequence[Firing],
        emitted_blocks: Sequence[FiringBlock],
        suppressed: Sequence[Firing] = (),
        suppressed_blocks: Sequence[FiringBlock] = (),
    ) -> Firings:
        """Firings from objects and columnar blocks together, in :data:`firing_sort_key` (time,
        customer id, trigger, firing id) as if every one were an object; the blocks' rows are
        built as objects when first read."""
        out = cls.__new__(cls)
        out._emitted = _parts(emitted, emitted_blocks)
        out._suppressed = _parts(suppressed, suppressed_blocks)
        return out

    def __len__(self) -> int:
        return self._emitted.n

    def __iter__(self) -> Iterator[Firing]:
        return iter(self._emitted.all())

    @overload
    def __getitem__(self, i: int) -> Firing: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[Firing, ...]: ...
    def __getitem__(self, i: int | slice) -> Firing | tuple[Firing, ...]:
        if isinstance(i, slice):
            return tuple(self._emitted.get(j) for j in range(self._emitted.n)[i])
        n = self._emitted.n
        if not -n <= i < n:
            raise IndexOutOfRangeError(f"firing index {i} out of range for {n} firings")
        return self._emitted.get(i % n if n else i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Firings):
            return NotImplemented
        return self.firings == other.firings and self.suppressed_firings == other.suppressed_firings

    __hash__ = None  # type: ignore[assignment]

    @property
    def firings(self) -> tuple[Firing, ...]:
        """Every emitted firing, in order."""
        return tuple(self)

    @property
    def suppressed_firings(self) -> tuple[Firing, ...]:
        """Every suppressed firing, in order."""
        return tuple(self._suppressed.all())

    @property
    def suppressed(self) -> Firings:
        """The firings a policy suppressed, each with its ``reason``."""
        out = Firings.__new__(Firings)
        out._emitted = self._suppressed
        out._suppressed = FiringRows(())
        return out

    def ids(self) -> set[str]:
        """The set of ``firing_id`` values."""
        return set(self._emitted.firing_ids())

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "firings": [f.to_dict() for f in self],
            "suppressed": [f.to_dict() for f in self.suppressed],
        }

    def _rows(self) -> dict[Any, Any]:
        """One row per firing, one column per field of :class:`Firing` (``reason`` says
        which policy suppressed a suppressed firing)."""
        return _firing_columns(self)

    def _preview(self, limit: int) -> tuple[dict[Any, Any], int] | None:
        return _firing_columns(self[:limit]), len(self)

    def _summary(self, n_rows: int | None) -> str:
        return f"Firings({len(self):,} firings, {self._suppressed.n:,} suppressed)"

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw firings and suppressions per trigger over time (needs matplotlib).

        Returns the matplotlib Axes; keyword arguments as :func:`cxmodel.plot.plot_firings`.
        """
        from cxmodel.plot import plot_firings

        return plot_firings(self, ax, **kwargs)


def _firing_columns(firings: Iterable[Firing]) -> dict[str, list[Any]]:
    """Firings as columns, one per field of :class:`Firing`."""
    rows = list(firings)
    return {f.name: [getattr(x, f.name) for x in rows] for f in attrs.fields(Firing)}


def _rows_columns(rows: FiringRows, ids: bool) -> tuple[Array, Array, IntArray, Array, Array]:
    if not (rows.n and len(rows.which)):  # objects alone
        return _object_columns(rows.all(), ids)
    # block rows straight from their columns, objects given with them as they are
    objects = [rows.get(j) for j in np.flatnonzero(rows.which < 0).tolist()]
    parts = [_object_columns(objects, ids)]
    for w, block in enumerate(rows.blocks):
        at = rows.row[rows.which == w]
        reason = np.full(len(at), None, dtype=object) if block.reason is None else block.reason[at]
        customer = np.asarray(block.customer, dtype=object)[at]
        names = np.full(len(at), None, dtype=object)
        if ids:
            names[:] = firing_ids_of(block.trigger, map(str, customer.tolist()), block.keys(at))
        parts.append((np.full(len(at), block.trigger, dtype=object), customer,
                      block.time[at], np.asarray(reason, dtype=object), names))  # fmt: skip
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]).astype(np.int64),
        np.concatenate([p[3] for p in parts]),
        np.concatenate([p[4] for p in parts]),
    )


def _object_columns(
    got: Sequence[Firing], ids: bool
) -> tuple[Array, Array, IntArray, Array, Array]:
    return (
        np.array([f.trigger for f in got], dtype=object),
        np.array([f.customer_id for f in got], dtype=object),
        np.array([_time_us(f.time) for f in got], dtype=np.int64),
        np.array([f.reason for f in got], dtype=object),
        np.array([f.firing_id if ids else None for f in got], dtype=object),
    )


def firing_blocks(firings: Firings) -> tuple[tuple[FiringBlock, ...], tuple[FiringBlock, ...]]:
    """The columnar blocks (emitted, suppressed) ``firings`` was built from, empty ones left
    out (internal: the Dask evaluator ships these instead of :class:`Firing` objects); a table
    built from objects has none, and one built from both (:meth:`Firings.from_parts`) gives
    its blocks without the objects held beside them."""
    return (
        tuple(b for b in firings._emitted.blocks if len(b)),
        tuple(b for b in firings._suppressed.blocks if len(b)),
    )


def firing_rows(firings: Firings) -> FiringRows:
    """The emitted firings of ``firings`` as the lazy sequence it holds them in (internal:
    the streaming engine commits them so to an in-memory store, unbuilt)."""
    return firings._emitted


def firing_columns(firings: Firings, *, ids: bool = False) -> dict[str, Array]:
    """Every firing, emitted and suppressed, as columns: ``trigger``, ``customer_id``,
    ``time`` (microseconds), ``reason`` (``None`` for emitted), ``emitted`` and, with
    ``ids``, ``firing_id`` (``None`` entries without) (internal: read by
    :func:`cxmodel.metrics.action_effect` without building a :class:`Firing` per row)."""
    emitted = _rows_columns(firings._emitted, ids)
    suppressed = _rows_columns(firings._suppressed, ids)
    names = ("trigger", "customer_id", "time", "reason", "firing_id")
    out: dict[str, Array] = {
        name: np.concatenate([emitted[i], suppressed[i]]) for i, name in enumerate(names)
    }
    out["time"] = out["time"].astype(np.int64)
    out["emitted"] = np.concatenate(
        [np.ones(len(emitted[0]), dtype=bool), np.zeros(len(suppressed[0]), dtype=bool)]
    )
    return out


def write_firings(firings: Firings, stream: TextIO, *, format: str = "jsonl") -> None:
    """Write firings as JSON lines or CSV (payload and because as JSON text).

    In CSV, a text cell a spreadsheet would run as a formula (a customer id or an action
    starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a
    single quote before it, as OWASP advises against CSV injection, and so is one that starts
    with a single quote itself: a reader gets the text back by dropping the first character of
    a cell that starts with a quote followed by one of those characters or another quote, as
    :func:`cxmodel.io.read_csv` does. JSON lines are written as they are.

    Parameters
    ----------
    firings : Firings
        The firings to write (emitted ones, in order).
    stream : text file
        Where to write, e.g. ``sys.stdout`` or an open file.
    format : {"jsonl", "csv"}, default "jsonl"
        One JSON object per line, or CSV with a header row.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write_firings(Firings(()), buf, format="csv")
    >>> buf.getvalue().strip()
    'trigger,customer_id,time,action,payload,because,firing_id'
    >>> from datetime import datetime, timezone
    >>> risky = Firing("t", '=HYPERLINK("http://x")', datetime(2024, 1, 1, tzinfo=timezone.utc),
    ...                "-call", {}, {}, "f1")
    >>> buf = io.StringIO()
    >>> write_firings(Firings([risky]), buf, format="csv")
    >>> print(buf.getvalue().splitlines()[1])
    t,"'=HYPERLINK(""http://x"")",2024-01-01T00:00:00+00:00,'-call,{},{},f1
    """
    if format == "jsonl":
        for f in firings:
            stream.write(json.dumps(f.to_dict(), default=str) + "\n")
        return
    if format != "csv":
        raise SchemaError(f"format must be 'jsonl' or 'csv', got {format!r}")
    writer = csv.writer(stream, lineterminator="\n")
    # quoting quotes only the line terminator's characters: a carriage return in a cell would
    # end the record for a reader, so a row with one is written with every cell quoted
    quoted = csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["trigger", "customer_id", "time", "action", "payload", "because", "firing_id"])
    for f in firings:
        row = [
            f.trigger,
            f.customer_id,
            f.time.isoformat(),
            f.action,
            json.dumps(f.payload, default=str),
            json.dumps(f.because, default=str),
            f.firing_id,
        ]
        cells = [spreadsheet_cell(v) if isinstance(v, str) else v for v in row]
        (quoted if any("\r" in c for c in cells if isinstance(c, str)) else writer).writerow(cells)
