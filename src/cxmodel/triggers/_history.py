"""The streaming engine's columnar history: interactions as they are released, in event time.

Strings are stored as codes into append-only vocabularies, numbers as float64, so appending a
micro-batch and gathering the customers that need re-evaluation are array operations with no
per-interaction Python work. A gathered slice is exposed through :class:`HistoryView`, which
offers the part of the :class:`~cxmodel.log.InteractionLog` interface the evaluator reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._time import to_us, us_to_datetime
from cxmodel.domain._touchpoint import DEFAULT_CATALOGUE
from cxmodel.errors import SchemaError
from cxmodel.log._columns import NUMERIC_STANDARD, STRING_STANDARD

__all__ = ["Batch", "History", "HistoryView", "grown"]

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[Any]
_FIELDS = (
    "interaction_id",
    "touchpoint",
    "channel",
    "stage",
    "value",
    "metric",
    "score",
    "sentiment",
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@attrs.frozen
class Batch:
    """Interactions in delivery order, as columns: time (microseconds), customer ids, kinds,
    string columns (object arrays, ``None`` missing) and number columns (NaN missing)."""

    time: IntArray
    customer: Array
    kind: Array
    strings: dict[str, Array]
    numbers: dict[str, npt.NDArray[np.float64]]
    # dictionary encodings known from the source, for "customer_id" and "kind": (codes, vocab)
    encoded: dict[str, tuple[IntArray, Array]] = attrs.field(factory=dict)

    def __len__(self) -> int:
        return len(self.time)

    def take(self, rows: npt.NDArray[Any]) -> Batch:
        """The rows ``rows`` (indices or a mask), in that order."""
        return Batch(
            self.time[rows],
            self.customer[rows],
            self.kind[rows],
            {k: v[rows] for k, v in self.strings.items()},
            {k: v[rows] for k, v in self.numbers.items()},
            {k: (codes[rows], vocab) for k, (codes, vocab) in self.encoded.items()},
        )

    @staticmethod
    def concat(parts: Sequence[Batch]) -> Batch:
        """The rows of ``parts`` one after another (columns missing in a part are missing)."""
        parts = [p for p in parts if len(p)]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return Batch.empty()
        strings = {k for p in parts for k in p.strings}
        numbers = {k for p in parts for k in p.numbers}
        return Batch(
            np.concatenate([p.time for p in parts]),
            np.concatenate([p.customer for p in parts]),
            np.concatenate([p.kind for p in parts]),
            {
                k: np.concatenate([p.strings.get(k, np.full(len(p), None)) for p in parts])
                for k in strings
            },
            {
                k: np.concatenate([p.numbers.get(k, np.full(len(p), np.nan)) for p in parts])
                for k in numbers
            },
        )

    @staticmethod
    def empty() -> Batch:
        """No rows."""
        none = np.zeros(0, dtype=object)
        return Batch(np.zeros(0, dtype=np.int64), none, none, {}, {})

    @staticmethod
    def from_log(log: Any) -> Batch:
        """The rows of an :class:`~cxmodel.log.InteractionLog` in input order."""
        order = _input_order(np.asarray(log.row_order, dtype=np.int64))
        strings: dict[str, Array] = {}
        numbers: dict[str, npt.NDArray[np.float64]] = {}
        for name, typ in log.schema.items():
            if name in ("customer_id", "timestamp", "kind"):
                continue
            if typ == "string":  # decode straight into input order: one object gather
                codes32, cats = log.categorical(name)
                table = np.array([*np.asarray(cats, dtype=object).tolist(), None], dtype=object)
                strings[name] = table[np.asarray(codes32)[order]]
            else:
                numbers[name] = np.asarray(log.numeric(name), dtype=np.float64)[order]
        codes = np.asarray(log.customer_codes, dtype=np.int64)[order]
        kind_codes, kinds = log.categorical("kind")
        kind_codes = np.asarray(kind_codes, dtype=np.int64)[order]
        customers = np.asarray(log.customers, dtype=object)
        return Batch(
            np.asarray(log.timestamps, dtype=np.int64)[order],
            customers[codes],
            np.asarray(kinds, dtype=object)[kind_codes],
            strings,
            numbers,
            {
                "customer_id": (codes, customers),
                "kind": (kind_codes, np.asarray(kinds, dtype=object)),
            },
        )

    @staticmethod
    def from_records(records: Sequence[Mapping[str, Any]]) -> Batch:
        """Rows from plain records (``customer_id``, ``timestamp``, ``kind`` and any fields)."""
        n = len(records)
        names: dict[str, None] = {}
        for rec in records:
            names.update(dict.fromkeys(rec))
        strings: dict[str, Array] = {}
        numbers: dict[str, npt.NDArray[np.float64]] = {}
        for name in names:
            if name in ("customer_id", "timestamp", "kind"):
                continue
            values = [rec.get(name) for rec in records]
            present = [v for v in values if v is not None]
            if name in NUMERIC_STANDARD or (
                name not in STRING_STANDARD and present and all(_is_number(v) for v in present)
            ):
                numbers[name] = np.array(
                    [np.nan if v is None else float(v) for v in values], dtype=np.float64
                )
            else:
                strings[name] = np.array([*values, None], dtype=object)[:n]
        _fill_from_catalogue(strings, n)
        return Batch(
            np.array([to_us(rec["timestamp"]) for rec in records], dtype=np.int64),
            np.array([rec["customer_id"] for rec in records] + [None], dtype=object)[:n],
            np.array([rec["kind"] for rec in records] + [None], dtype=object)[:n],
            strings,
            numbers,
        )

    @staticmethod
    def from_interactions(interactions: Iterable[Any]) -> Batch:
        """Rows from :class:`~cxmodel.domain.Interaction` objects."""
        return Batch.from_records([record_of(i) for i in interactions])

    def to_columns(self) -> dict[str, Any]:
        """The rows as JSON-ready columns (times in microseconds, missing numbers NaN), for
        :meth:`from_columns`."""
        return {
            "time": self.time.tolist(),
            "customer_id": self.customer.tolist(),
            "kind": self.kind.tolist(),
            "strings": {k: v.tolist() for k, v in self.strings.items()},
            "numbers": {k: v.tolist() for k, v in self.numbers.items()},
        }

    @staticmethod
    def from_columns(data: Mapping[str, Any]) -> Batch:
        """The batch :meth:`to_columns` wrote."""
        n = len(data["time"])

        def objects(values: Sequence[Any]) -> Array:
            return np.array([*values, None], dtype=object)[:n]

        return Batch(
            np.asarray(data["time"], dtype=np.int64).reshape(n),
            objects(data["customer_id"]),
            objects(data["kind"]),
            {k: objects(v) for k, v in data["strings"].items()},
            {k: np.asarray(v, dtype=np.float64).reshape(n) for k, v in data["numbers"].items()},
        )

    @staticmethod
    def of(events: Sequence[Mapping[str, Any]]) -> Batch:
        """The batch behind ``events``: a :class:`BatchRecords`' own, else built from records."""
        if isinstance(events, BatchRecords):
            return events.batch
        return Batch.from_records(list(events))

    def records(self) -> Iterator[dict[str, Any]]:
        """Each row as a plain record (ISO timestamps; missing fields left out)."""
        strings = {k: v.tolist() for k, v in self.strings.items()}
        numbers = {k: v.tolist() for k, v in self.numbers.items()}
        for j, (t, c, k) in enumerate(
            zip(self.time.tolist(), self.customer.tolist(), self.kind.tolist(), strict=True)
        ):
            rec: dict[str, Any] = {
                "customer_id": c,
                "timestamp": us_to_datetime(t).isoformat(),
                "kind": k,
            }
            for name, values in strings.items():
                if values[j] is not None:
                    rec[name] = values[j]
            for name, numeric in numbers.items():
                if numeric[j] == numeric[j]:
                    rec[name] = numeric[j]
            yield rec


class BatchRecords(Sequence[dict[str, Any]]):
    """A batch's rows as a sequence of records, built only if read; stores that serialise
    events write ``batch`` as columns instead (see :meth:`Batch.to_columns`)."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self._records: list[dict[str, Any]] | None = None

    def _all(self) -> list[dict[str, Any]]:
        if self._records is None:
            self._records = list(self.batch.records())
        return self._records

    def __len__(self) -> int:
        return len(self.batch)

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())


def record_of(interaction: Any) -> dict[str, Any]:
    """An interaction object as a plain record."""
    if not all(hasattr(interaction, name) for name in ("customer_id", "timestamp", "kind")):
        raise SchemaError(
            f"expected an Interaction (with customer_id, timestamp and kind), got "
            f"{type(interaction).__name__}: {interaction!r:.80}; pass cxmodel.domain.Interaction "
            "objects or records (mappings), an InteractionLog, or a mapping of columns"
        )
    rec: dict[str, Any] = {
        "customer_id": interaction.customer_id,
        "timestamp": interaction.timestamp,
        "kind": interaction.kind,
    }
    for name in _FIELDS:
        value = getattr(interaction, name, None)
        if value is not None:
            rec[name] = value
    for key, value in dict(getattr(interaction, "properties", {}) or {}).items():
        if value is not None:
            rec[key] = value
    return rec


def _fill_from_catalogue(strings: dict[str, Array], n: int) -> None:
    """Fill missing channel and stage from the touchpoint, as the log's readers do."""
    touchpoints = strings.get("touchpoint")
    if touchpoints is None:
        return
    for name in ("channel", "stage"):
        derived = np.array(
            [
                getattr(DEFAULT_CATALOGUE[t], name).value if t in DEFAULT_CATALOGUE else None
                for t in touchpoints.tolist()
            ]
            + [None],
            dtype=object,
        )[:n]
        current = strings.get(name, np.full(n, None, dtype=object))
        strings[name] = np.where(current == None, derived, current)  # noqa: E711


class _Column:
    """An append-only column: float64 numbers, Python objects (``None`` missing), or int64
    codes into a vocabulary (``encoded``, for the few-valued ``kind``)."""

    def __init__(self, numeric: bool, size: int, *, encoded: bool = False) -> None:
        self.numeric = numeric
        self.encoded = encoded
        self.data: Array = (
            np.full(size, np.nan)
            if numeric
            else np.full(size, -1, dtype=np.int64)
            if encoded
            else np.empty(size, dtype=object)  # filled with None
        )
        self.vocab: list[Any] = []
        self.index: dict[Any, int] = {}
        self._table: Array = np.array([None], dtype=object)

    def encode(self, values: Array, encoded: tuple[IntArray, Array] | None = None) -> IntArray:
        """Codes for ``values`` (``None`` -> -1), growing the vocabulary; ``encoded`` is the
        source's own (codes, vocabulary) for them, when known."""
        if encoded is not None:
            source_codes, vocab = encoded
            mapped = np.array(
                [self.index.setdefault(v, len(self.index)) for v in vocab.tolist()] + [-1],
                dtype=np.int64,
            )
            self._grew()
            return mapped[source_codes]
        if len(values) == 1:  # one interaction: a dictionary lookup
            value = values[0]
            code = -1 if value is None else self.index.setdefault(value, len(self.index))
            self._grew()
            return np.array([code], dtype=np.int64)
        present = np.asarray(values != None, dtype=bool)  # noqa: E711
        codes = np.full(len(values), -1, dtype=np.int64)
        if present.any():
            given = values[present]
            inverse = np.unique(given.astype(str), return_inverse=True)[1]
            distinct_values = given[np.unique(inverse, return_index=True)[1]]
            mapped = np.array(
                [self.index.setdefault(v, len(self.index)) for v in distinct_values.tolist()],
                dtype=np.int64,
            )
            codes[present] = mapped[inverse]
            self._grew()
        return codes

    def _grew(self) -> None:
        if len(self.vocab) < len(self.index):
            self.vocab.extend(list(self.index)[len(self.vocab) :])
            self._table = np.array([*self.vocab, None], dtype=object)

    def store(self, lo: int, values: Array, encoded: tuple[IntArray, Array] | None = None) -> None:
        """Write ``values`` (objects or floats) from row ``lo`` on."""
        if self.encoded:
            self.data[lo : lo + len(values)] = self.encode(values, encoded)
        else:
            self.data[lo : lo + len(values)] = values

    def decoded(self, rows: IntArray) -> Array:
        """The values at ``rows``: floats, or objects with ``None`` for missing."""
        if self.encoded:
            return self._table[self.data[rows]]
        return np.asarray(self.data[rows])


def _input_order(positions: IntArray) -> IntArray:
    """The permutation putting rows back in input order (``positions``: each row's input
    position): by inverting it in one pass when the positions are distinct and dense."""
    n = len(positions)
    if n and int(positions.min()) >= 0 and int(positions.max()) < 4 * n:
        slots = np.full(int(positions.max()) + 1, -1, dtype=np.int64)
        slots[positions] = np.arange(n, dtype=np.int64)
        order = slots[slots >= 0]
        if len(order) == n:  # no position repeated
            return order
    return np.argsort(positions, kind="stable")


def grown(values: Array, size: int, fill: Any) -> Array:
    """``values`` with room for at least ``size`` entries (doubling; new entries ``fill``);
    ``values`` itself when it is large enough."""
    if len(values) >= size:
        return values
    out = np.full(max(size, 2 * len(values)), fill, dtype=values.dtype)
    out[: len(values)] = values
    return out


def _merge_grouped(
    rows: IntArray, keys: IntArray, more: IntArray, more_keys: IntArray
) -> tuple[IntArray, IntArray]:
    """Merge ``more`` (in release order) into ``rows`` (sorted by key, stable): the result is
    sorted by key, and within a key ``rows`` come first, each part in its own order."""
    if len(more) == 0:
        return rows, keys
    order = np.argsort(more_keys, kind="stable")
    more, more_keys = more[order], more_keys[order]
    at = np.searchsorted(keys, more_keys, side="right") + np.arange(len(more))
    total = len(rows) + len(more)
    out_rows = np.empty(total, dtype=np.int64)
    out_keys = np.empty(total, dtype=np.int64)
    is_more = np.zeros(total, dtype=bool)
    is_more[at] = True
    out_rows[at], out_keys[at] = more, more_keys
    out_rows[~is_more], out_keys[~is_more] = rows, keys
    return out_rows, out_keys


def _as_text(numbers: npt.NDArray[np.float64]) -> Array:
    """Numbers as text (for a column that turned out to hold text too); NaN -> ``None``."""
    return np.array([None if v != v else repr(v) for v in numbers.tolist()] + [None], dtype=object)[
        : len(numbers)
    ]


class History:
    """Every released interaction, in release order (time, then arrival)."""

    def __init__(self) -> None:
        self.n = 0
        self._size = 1024
        self.time = np.zeros(self._size, dtype=np.int64)
        self.cust = np.zeros(self._size, dtype=np.int64)
        self.arrival = np.zeros(self._size, dtype=np.int64)
        self.tie = np.zeros(
            self._size, dtype=np.int64
        )  # rank among the customer's rows at that time
        self._last_time = np.zeros(0, dtype=np.int64)
        self._index_rows = np.zeros(0, dtype=np.int64)
        self._index_offsets = np.zeros(1, dtype=np.int64)
        self._indexed = 0
        self._last_count = np.zeros(0, dtype=np.int64)
        self.kind = _Column(False, self._size, encoded=True)
        self.columns: dict[str, _Column] = {}
        self.customers: list[str] = []
        self._known_ids: Array = np.zeros(0, dtype=str)
        self._known_codes: IntArray = np.zeros(0, dtype=np.int64)
        self._customer_array: Array = np.zeros(0, dtype=object)
        self._customer_filled = 0

    def customer_array(self) -> Array:
        """Customer ids by engine code, as an object array."""
        have, need = self._customer_filled, len(self.customers)
        if have < need:
            if len(self._customer_array) < need:
                grown = np.empty(max(need, 2 * len(self._customer_array)), dtype=object)
                grown[:have] = self._customer_array[:have]
                self._customer_array = grown
            self._customer_array[have:need] = self.customers[have:need]
            self._customer_filled = need
        return self._customer_array[:need]

    @property
    def n_customers(self) -> int:
        """Customers seen so far."""
        return len(self.customers)

    def customer_codes(self, ids: Array, encoded: tuple[IntArray, Array] | None = None) -> IntArray:
        """Engine-wide codes of customer ``ids`` (new customers are added); ``encoded`` is the
        source's (codes, sorted distinct ids), when known."""
        if encoded is None and len(ids) == 1:
            distinct, inverse = ids.astype(str), np.zeros(1, dtype=np.int64)
        elif encoded is None:
            distinct, inverse = np.unique(ids.astype(str), return_inverse=True)
        else:
            inverse, distinct = encoded[0], np.asarray(encoded[1]).astype(str)
        # look the distinct ids up in the sorted known ids; add the new ones
        known = self._known_ids
        pos = np.searchsorted(known, distinct)
        found = np.zeros(len(distinct), dtype=bool)
        inside = pos < len(known)
        found[inside] = known[pos[inside]] == distinct[inside]
        mapped = np.empty(len(distinct), dtype=np.int64)
        mapped[found] = self._known_codes[pos[found]]
        new = distinct[~found]
        if len(new):  # insert the (sorted) new ids at their places
            codes = np.arange(len(self.customers), len(self.customers) + len(new), dtype=np.int64)
            mapped[~found] = codes
            self.customers.extend(new.tolist())
            at = pos[~found]
            self._known_ids = np.insert(known.astype(np.result_type(known, new)), at, new)
            self._known_codes = np.insert(self._known_codes, at, codes)
        return mapped[inverse]

    def _grow(self, need: int) -> None:
        if need <= self._size:
            return
        size = max(need, 2 * self._size)
        for name in ("time", "cust", "arrival", "tie"):
            old = getattr(self, name)
            new = np.zeros(size, dtype=np.int64)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        for col in (self.kind, *self.columns.values()):
            fill = np.nan if col.numeric else -1 if col.encoded else None
            new_data = (
                np.empty(size, dtype=object)
                if fill is None
                else np.full(size, fill, dtype=col.data.dtype)
            )
            new_data[: self.n] = col.data[: self.n]
            col.data = new_data
        self._size = size

    def append(self, batch: Batch, arrival: IntArray) -> IntArray:
        """Append ``batch`` (already in release order); return its customers' codes."""
        m = len(batch)
        if m == 0:
            return np.zeros(0, dtype=np.int64)
        self._grow(self.n + m)
        lo, hi = self.n, self.n + m
        codes = self.customer_codes(batch.customer, batch.encoded.get("customer_id"))
        self.time[lo:hi] = batch.time
        self.cust[lo:hi] = codes
        self.arrival[lo:hi] = arrival
        self.tie[lo:hi] = self._tie_ranks(codes, batch.time)
        self.kind.store(lo, batch.kind, batch.encoded.get("kind"))
        for name, values in batch.strings.items():
            col = self._column(name, numeric=False)
            if col.numeric:  # a number column now receiving text: keep both as text
                col = self._to_text(name)
            col.store(lo, values)
        for name, numeric in batch.numbers.items():
            col = self._column(name, numeric=True)
            if col.numeric:
                col.store(lo, numeric)
            else:
                col.store(lo, _as_text(numeric))
        self.n = hi
        return codes

    def keep(self, rows: npt.NDArray[np.bool_]) -> None:
        """Keep only the rows where ``rows`` (one flag per row) holds, in their order; the
        customers, their codes and every kept row's arrival number and tie rank stay."""
        at = np.flatnonzero(rows)
        m = len(at)
        for name in ("time", "cust", "arrival", "tie"):
            values = getattr(self, name)
            values[:m] = values[at]
        for col in (self.kind, *self.columns.values()):
            col.data[:m] = col.data[at]
            col.data[m : self.n] = np.nan if col.numeric else -1 if col.encoded else None
        self.n = m
        self._index_rows = np.zeros(0, dtype=np.int64)  # rebuilt when next read
        self._index_offsets = np.zeros(1, dtype=np.int64)
        self._indexed = 0

    def _tie_ranks(self, codes: IntArray, times: IntArray) -> IntArray:
        """Each new row's rank among its customer's rows at the same time, counting rows
        appended before (rows arrive in time order)."""
        self._last_time = grown(self._last_time, self.n_customers, -1)
        self._last_count = grown(self._last_count, self.n_customers, 0)
        if len(codes) == 1:  # one interaction: the same, without the sorting
            code, time = int(codes[0]), int(times[0])
            rank = int(self._last_count[code]) if self._last_time[code] == time else 0
            self._last_time[code], self._last_count[code] = time, rank + 1
            return np.array([rank], dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        c, t = codes[order], times[order]
        m = len(c)
        first = np.ones(m, dtype=bool)
        first[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
        everywhere = np.arange(m, dtype=np.int64)
        ranks = everywhere - np.maximum.accumulate(np.where(first, everywhere, 0))
        ranks += np.where(self._last_time[c] == t, self._last_count[c], 0)
        last = np.ones(m, dtype=bool)
        last[:-1] = c[1:] != c[:-1]
        self._last_time[c[last]] = t[last]
        self._last_count[c[last]] = ranks[last] + 1
        out = np.empty(m, dtype=np.int64)
        out[order] = ranks
        return out

    def _column(self, name: str, *, numeric: bool) -> _Column:
        if name not in self.columns:
            self.columns[name] = _Column(numeric, self._size)
        return self.columns[name]

    def _to_text(self, name: str) -> _Column:
        old = self.columns[name]
        col = _Column(False, self._size)
        col.store(0, _as_text(old.data[: self.n]))
        self.columns[name] = col
        return col

    def _reindex(self) -> None:
        """Extend the by-customer index (positions sorted by customer, then release order)
        with the rows appended since it was built."""
        n, start = self.n, self._indexed
        tail = np.arange(start, n, dtype=np.int64)
        old_keys = np.repeat(
            np.arange(len(self._index_offsets) - 1, dtype=np.int64), np.diff(self._index_offsets)
        )
        rows, _ = _merge_grouped(self._index_rows, old_keys, tail, self.cust[start:n])
        counts = np.bincount(self.cust[:n], minlength=self.n_customers)
        self._index_rows = rows
        self._index_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._indexed = n

    def view(self, customers: IntArray) -> HistoryView:
        """The history of ``customers`` (engine codes, ascending), sorted by customer then
        release order.

        Rows are found through a by-customer index of the older rows plus a scan of the rows
        appended since the index was built (rebuilt when that tail grows past an eighth).
        """
        if self.n - self._indexed > max(self._indexed // 8, 4096):
            self._reindex()
        local_of = np.full(self.n_customers, -1, dtype=np.int64)
        local_of[customers] = np.arange(len(customers), dtype=np.int64)
        indexed = customers[customers < len(self._index_offsets) - 1]
        starts = self._index_offsets[indexed]
        counts = self._index_offsets[indexed + 1] - starts
        total = int(counts.sum())
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        old = self._index_rows[np.repeat(starts, counts) + within]
        tail = local_of[self.cust[self._indexed : self.n]]
        new = np.flatnonzero(tail >= 0) + self._indexed
        rows, local = _merge_grouped(old, local_of[self.cust[old]], new, local_of[self.cust[new]])
        return HistoryView(self, rows, customers, local)

    def recent(self, start: int) -> HistoryView:
        """The rows appended from ``start`` on, by customer then release order."""
        codes = self.cust[start : self.n]
        seen = np.zeros(self.n_customers, dtype=bool)
        seen[codes] = True
        customers = np.flatnonzero(seen)
        local_of = np.cumsum(seen) - 1
        order = np.argsort(codes, kind="stable")
        return HistoryView(self, order + start, customers, local_of[codes[order]])


class HistoryView:
    """Some customers' histories, read like an :class:`~cxmodel.log.InteractionLog`."""

    def __init__(
        self,
        history: History,
        rows: IntArray,
        customers: IntArray,
        local: IntArray,
        *,
        customer_ids: Array | None = None,
        timestamps: IntArray | None = None,
        kind_codes: IntArray | None = None,
    ) -> None:
        self.history = history
        self.rows = rows
        self.engine_codes = customers
        self.customer_codes = local
        self.customers = (
            history.customer_array()[customers] if customer_ids is None else customer_ids
        )
        self.timestamps = history.time[rows] if timestamps is None else timestamps
        self.kind_codes = history.kind.data[rows] if kind_codes is None else kind_codes
        counts = np.bincount(local, minlength=len(customers))
        self.offsets = np.zeros(len(customers) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        self.schema = {
            name: ("number" if col.numeric else "string") for name, col in history.columns.items()
        }

    def __len__(self) -> int:
        return len(self.rows)

    def arrival_at(self, rows: IntArray) -> IntArray:
        """Arrival numbers of view rows ``rows``."""
        return self.history.arrival[self.rows[rows]]

    def tie_rank_at(self, rows: IntArray) -> IntArray:
        """Each of view rows ``rows``' rank among its customer's rows at the same time."""
        return self.history.tie[self.rows[rows]]

    def subset(self, keep: npt.NDArray[np.bool_]) -> HistoryView:
        """The rows where ``keep`` holds (every customer stays, possibly with no rows)."""
        at = np.flatnonzero(keep)
        return HistoryView(
            self.history,
            self.rows[at],
            self.engine_codes,
            self.customer_codes[at],
            customer_ids=self.customers,
            timestamps=self.timestamps[at],
            kind_codes=self.kind_codes[at],
        )

    def __contains__(self, name: object) -> bool:
        return name in ("customer_id", "timestamp", "kind") or name in self.history.columns

    def categorical(self, name: str) -> tuple[IntArray, Array]:
        """Codes and vocabulary of the ``kind`` column (the only one asked for)."""
        return self.kind_codes, self.history.kind._table[:-1]

    def column(self, name: str) -> Array:
        """Decoded values in view order."""
        if name == "kind":
            return self.history.kind._table[self.kind_codes]
        return self.history.columns[name].decoded(self.rows)

    def column_at(self, name: str, rows: IntArray) -> Array:
        """Decoded values at view positions ``rows`` (only those are read)."""
        if name == "kind":
            return self.history.kind._table[self.kind_codes[rows]]
        return self.history.columns[name].decoded(self.rows[rows])
