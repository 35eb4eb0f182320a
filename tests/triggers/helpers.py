"""Helpers shared by the trigger tests: random interaction records and rule sets, firing keys,
a failing store, the fixed alert fixtures, micro-batches in every input form and the
columnar-versus-per-interaction differential."""

from __future__ import annotations

import copy
import random
import re
import sqlite3
import warnings
from collections import Counter
from collections.abc import Mapping
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
from hypothesis import strategies as st

from cxmodel.domain import Interaction
from cxmodel.errors import DataWarning, SchemaError, StoreError
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, SQLiteStore, StateChange, TriggerEngine

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


KINDS = [
    "product_view",
    "purchase",
    "survey",
    "ticket_opened",
    "consent_granted",
    "consent_revoked",
]


def records(seed: int, n: int, n_customers: int = 4, days: int = 60) -> list[dict[str, Any]]:
    """Random interactions in time order (ties included)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(KINDS)
        rec: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(n_customers)}",
            "timestamp": T0 + timedelta(hours=12 * rng.randrange(days * 2)),
            "kind": kind,
            "interaction_id": f"i{i}",
            "product": rng.choice(["p1", "p2"]),
            "value": float(rng.randrange(0, 300, 50)),
            "topic": "payment",
            "order_id": f"o{rng.randrange(5)}",
        }
        if kind == "survey":
            rec["metric"] = "nps"
            rec["score"] = float(rng.randrange(11))
        if kind in ("consent_granted", "consent_revoked"):
            rec["purpose"] = "marketing"
        out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


#: the optional fields of :class:`Interaction` (every other field of a record is a property)
_FIELDS = frozenset(a.name for a in attrs.fields(Interaction)) - {
    "customer_id",
    "timestamp",
    "kind",
    "properties",
}


def interaction(rec: dict[str, Any]) -> Interaction:
    """The domain object for a record: its optional fields as fields and every other field
    as a property, so the objects carry what the record does (a stream fed objects that
    dropped some properties would differ from batch over the records, by the harness's
    fault)."""
    std = {k: v for k, v in rec.items() if k in _FIELDS}
    props = {
        k: v
        for k, v in rec.items()
        if k not in _FIELDS and k not in ("customer_id", "timestamp", "kind")
    }
    return Interaction(rec["customer_id"], rec["timestamp"], rec["kind"], properties=props, **std)


durations = st.sampled_from(["1 days", "3 days", "7 days", "10 days"])


kinds = st.sampled_from(KINDS[:4])


@st.composite
def rules_text(draw: st.DrawFn) -> str:
    """A random rule drawn from the grammar's clause shapes."""
    d = draw(durations)
    k1, k2 = draw(kinds), draw(kinds)
    when = draw(
        st.sampled_from(
            [
                f"inactive for {d}",
                f"no {k1} for {d}",
                f"{k1} as x",
                f"{k1} as x where x.value >= 100",
                f"{k1} as x then after {d}",
                f"{k1} as x then no {k2} where product == x.product for {d}",
                f"{k1} as x then {k2} where value > x.value within {d}",
                f"{k1} as x then {k2}",
            ]
        )
    )
    lines = [f"trigger r:\n    when {when}"]
    if "then after" in when and draw(st.booleans()):
        lines.append(f"    unless {k2} where order_id == x.order_id")
    if draw(st.booleans()):
        lines.append(f"    if count({k2} within {draw(durations)}) >= {draw(st.integers(0, 2))}")
    payload = "(v = x.value)" if " as x" in when else ""
    lines.append(f"    emit act{payload}")
    if draw(st.booleans()):
        lines.append(f"    cooldown {draw(durations)}")
    if draw(st.booleans()):
        every = draw(st.sampled_from(["", f" every {draw(durations)}"]))
        lines.append(f"    once per customer{every}")
    if draw(st.booleans()):
        lines.append("    requires consent marketing")
    return "\n".join(lines)


def assert_ids_queued(engine: TriggerEngine) -> None:
    """Every customer whose state holds interaction ids is among those forgetting ids looks
    at (``RuleRunner.remembering``), queued at or before their earliest id."""
    runner = engine._runner
    queued = set(runner.id_queue)
    for cid, state in runner.states.items():
        if state.seen:
            at = runner.remembering[cid]
            assert at <= min(state.seen.values())
            assert (at, cid) in queued


def key(firings: Any) -> Counter[Any]:
    """Firings compared whole: trigger, customer, time, payload, because and id."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id)
        for f in firings
    )


def cuts(rng: random.Random, n: int) -> list[tuple[int, int]]:
    """Random consecutive [start, stop) slices covering range(n)."""
    out, start = [], 0
    while start < n:
        stop = min(n, start + rng.randint(1, max(1, n // 3)))
        out.append((start, stop))
        start = stop
    return out


SPANS = ["1 days", "3 days", "7 days", "10 days", "36 hours", "1 months"]


RULE_KINDS = ["product_view", "purchase", "survey", "ticket_opened"]


def random_rule_set(rng: random.Random) -> str:
    """One to three rules mixing every clause shape with aggregates of every function, quiet
    hours, calendar months and policies, sometimes under a contact policy (a wider net than
    ``rules_text``)."""
    texts = []
    for i in range(rng.randint(1, 3)):
        k1, k2, d = rng.choice(RULE_KINDS), rng.choice(RULE_KINDS), rng.choice(SPANS)
        when = rng.choice(
            [
                f"inactive for {d}",
                f"no {k1} for {d}",
                f"no {k1} where value > 100 for {d}",
                f"{k1} as x",
                f"{k1} as x where x.value >= 100",
                f"{k1} as x then after {d}",
                f"{k1} as x then no {k2} where product == x.product for {d}",
                f"{k1} as x then {k2} where value > x.value within {d}",
                f"{k1} as x then {k2}",
                f"{k1} as x where count({k2} before x) >= 1 and x.value > max({k2}.value before x)",
            ]
        )
        lines = [f"trigger r{i}:", f"    when {when}"]
        if "then after" in when and rng.random() < 0.5:
            lines.append(f"    unless {k2} where order_id == x.order_id")
        if rng.random() < 0.6:
            condition = rng.choice(
                [
                    f"count({k2} within {rng.choice(SPANS)}) >= {rng.randint(0, 2)}",
                    f"sum({k2}.value within {rng.choice(SPANS)}) > 100",
                    f"avg({k2}.value) >= 100",
                    f"median({k2}.value within {rng.choice(SPANS)}) >= 100",
                    f"max({k2}.value within {rng.choice(SPANS)}) >= 150",
                    f"min({k2}.value) < 100",
                    f"first({k2}.value) > 50",
                    f"last({k2}.value) ?? 0 > 50",
                    f"distinct({k2}.product within {rng.choice(SPANS)}) >= 2",
                    f'last({k2}.product) == "p1"',
                    f'count({k2} where product == "p1") >= 1',
                ]
            )
            lines.append(f"    if {condition}")
        bound = "v = x.value, " if " as x" in when else ""
        lines.append(f"    emit act({bound}n = count(purchase))")
        if rng.random() < 0.4:
            lines.append(f"    cooldown {rng.choice(SPANS)}")
        if rng.random() < 0.3:
            lines.append(f"    once per customer{rng.choice(['', ' every ' + rng.choice(SPANS)])}")
        if rng.random() < 0.3:
            lines.append("    requires consent marketing")
        if rng.random() < 0.25:
            lines.append(f"    quiet hours {rng.choice(['22:00-06:00', '09:00-17:00'])}")
        if rng.random() < 0.3:
            salt = rng.choice(["", ' salt "v2"', ' salt "x"'])
            lines.append(f"    holdout {rng.choice([10, 25, 50, 80, 12.5])}%{salt}")
        texts.append("\n".join(lines))
    if rng.random() < 0.4:  # a contact policy over some of the rules, in a random priority
        names = [f"r{i}" for i in range(len(texts))]
        rng.shuffle(names)
        chosen = names[: rng.randint(1, len(names))]
        period = rng.choice(SPANS)
        texts.insert(
            rng.randint(0, len(texts)),
            f"contact policy cap:\n    at most {rng.choice([1, 1, 2])} per {period}"
            f"\n    rules {' > '.join(chosen)}",
        )
    return "\n\n".join(texts)


LATENESS_HOURS = [0, 6, 24, 72]


def plan(
    rng: random.Random, recs: list[dict[str, Any]], lateness_h: int, as_of: datetime
) -> list[tuple[str, Any]]:
    """The delivery: records out of order by less than the allowed lateness, some delivered
    twice a few steps later, and ticks that never reach a record still to come."""
    jitter = [
        timedelta(minutes=rng.randrange(lateness_h * 60)) if lateness_h else timedelta(0)
        for _ in recs
    ]
    order = sorted(range(len(recs)), key=lambda j: recs[j]["timestamp"] + jitter[j])
    stream: list[tuple[str, Any]] = [("rec", recs[j]) for j in order]
    for _ in range(rng.randint(0, len(recs) // 8) if recs else 0):  # duplicates, shortly after
        at = rng.randrange(len(stream))
        if stream[at][0] == "rec":
            stream.insert(min(len(stream), at + rng.randint(1, 5)), ("dup", stream[at][1]))
    out: list[tuple[str, Any]] = []
    first_times = [r["timestamp"] if what == "rec" else None for what, r in stream]
    # the earliest time still to come (first deliveries only) after each position
    upcoming: list[datetime] = [as_of + timedelta(microseconds=1)] * (len(stream) + 1)
    for pos in range(len(stream) - 1, -1, -1):
        t = first_times[pos]
        upcoming[pos] = upcoming[pos + 1] if t is None else min(t, upcoming[pos + 1])
    for pos, item in enumerate(stream):
        if rng.random() < 0.12:
            limit = min(upcoming[pos], as_of + timedelta(microseconds=1))
            tick = limit - timedelta(minutes=rng.randint(1, 3 * 24 * 60))
            out.append(("tick", tick))
        out.append(("rec", item[1]))
    return out


def first_delivery_order(steps: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The distinct records in the order the engine first received them, sorted by time
    (stable: same-time records keep that order, as the engine releases ties)."""
    seen: set[str] = set()
    out = []
    for what, rec in steps:
        if what == "rec" and rec["interaction_id"] not in seen:
            seen.add(rec["interaction_id"])
            out.append(rec)
    return sorted(out, key=lambda r: r["timestamp"])


class FailingStore:
    """A store wrapper (not an InMemoryStore) whose next ``fail`` commits raise StoreError."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fail = 0
        self.commits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open(self) -> Any:
        return self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def commit(self, change: StateChange) -> None:
        if self.fail:
            self.fail -= 1
            raise StoreError("simulated: the disk is full")
        self.commits += 1
        self.inner.commit(change)

    def forget(self, customer_id: str, meta: Mapping[str, Any]) -> None:
        self.inner.forget(customer_id, meta)


CHILD = r"""
import json, sys
from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
recs = json.load(open(sys.argv[1]))
store = SQLiteStore(sys.argv[2])
engine = TriggerEngine(parse(open(sys.argv[3]).read()), store=store, redelivery_window="60 days")
def deliver(firings, what="fired"):
    ids = [f.firing_id for f in firings]
    for ident in ids:  # one write per line: a kill never leaves half a line to the host
        sys.stdout.write(f"{what} {ident}\n")
        sys.stdout.flush()
    store.acknowledge(ids)
deliver(store.pending(), "pending")  # emitted before the last crash but not acknowledged
print("start", flush=True)
for i in range(int(sys.argv[5]), len(recs)):  # the host re-delivers from its last offset
    deliver(engine.process(recs[i]))
    if i + 1 < len(recs) and recs[i + 1]["timestamp"] > recs[i]["timestamp"] and i % 7 == 0:
        deliver(engine.advance_to(recs[i]["timestamp"]))  # a clock tick mid-stream
    print("ok", i, flush=True)
deliver(engine.advance_to(sys.argv[4]))
store.close()  # a run that is not killed ends cleanly, leaving no lock file
print("done", flush=True)
"""


def host_messages(lines: list[str]) -> list[tuple[str, str]]:
    """What a host reads from a child's output: (word, rest) per complete line. A line the
    child was killed in the middle of (no newline yet) is not a message and is left out."""
    return [line.strip().partition(" ")[::2] for line in lines if line.endswith("\n")]


def _records(seed: int, n: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out: list[dict[str, object]] = []
    for i in range(n):
        kind = rng.choice(["product_view", "purchase", "survey", "ticket_opened", "view"])
        rec: dict[str, object] = {
            "customer_id": f"c{rng.randrange(6)}",
            "timestamp": (t0 + timedelta(hours=6 * rng.randrange(4 * 150))).isoformat(),
            "kind": kind,
            "interaction_id": f"i{i}",
            "product": rng.choice(["p1", "p2"]),
            "order_id": f"o{rng.randrange(30)}",
            "topic": "payment",
        }
        if kind == "purchase":
            rec["value"] = float(rng.randrange(10, 500))
        if kind == "survey":
            rec["metric"] = "nps"
            rec["score"] = float(rng.randrange(11))
        out.append(rec)
    out.sort(key=lambda r: str(r["timestamp"]))
    return out


AS_OF = "2024-02-01T00:00Z"


def at(minutes: float) -> datetime:
    """T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def log_of(events: list[tuple[str, float, str, dict[str, Any]]]) -> InteractionLog:
    """(customer, minutes after T0, kind, fields) rows as a log."""
    return InteractionLog.from_records(
        [
            {"customer_id": c, "timestamp": at(m).isoformat(), "kind": k, **fields}
            for c, m, k, fields in events
        ]
    )


PAY = {"topic": "payment"}


#: Payment tickets of five customers: three in 45 minutes, then three in 18 minutes.
TICKETS = [
    ("a", 0, "ticket_opened", PAY),
    ("b", 30, "ticket_opened", PAY),
    ("c", 45, "ticket_opened", PAY),
    ("a", 180, "ticket_opened", PAY),
    ("d", 192, "ticket_opened", PAY),
    ("e", 198, "ticket_opened", PAY),
]


SPIKE = """alert spike:
    when count(ticket_opened where topic == "payment" within 1 hours) >= 3
    emit page(n = count(ticket_opened within 1 hours))
"""


#: Property types of the rule-language tests' logs.
SCHEMA = {
    "value": "float",
    "score": "float",
    "metric": "string",
    "product": "string",
    "order_id": "string",
    "topic": "string",
    "channel": "string",
    "purpose": "string",
}


def one_rule(body: str) -> str:
    """The text of one trigger ``t`` with ``body`` as its clauses."""
    return "trigger t:\n" + body


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware ``moment``."""
    return round((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 1_000_000)


def firing_times(firings: Any) -> list[datetime]:
    """The times of ``firings``, in order."""
    return [f.time for f in firings]


def evaluate_complete(rules: Any, log: Any, *, as_of: Any, **kwargs: Any) -> Any:
    """Batch ``evaluate`` over ``log`` declared observed until ``as_of`` when that is after
    its last interaction: what a streaming engine's ``advance_to(as_of)`` declares, so the
    firings of waiting rules after the data are answered without the warning about them (nor
    the note that the data hold no consent record, which a stream cannot give).
    Batch refuses an ``as_of`` before the log's first interaction; a stream at that time has
    seen nothing and fires nothing, so the comparison's answer is then no firings."""
    import warnings

    import numpy as np
    import pytest

    from cxmodel._time import as_of_us
    from cxmodel.errors import DataError
    from cxmodel.triggers import Firings, evaluate

    cutoff, times = as_of_us(as_of), np.asarray(log.timestamps)
    if times.size and cutoff < times.min():
        with pytest.raises(DataError, match="before the log's first interaction"):
            evaluate(rules, log, as_of=as_of, **kwargs)
        return Firings.from_blocks([], [])
    until = log.observed_until
    if until is not None and cutoff > until:
        log = log.with_observed_until(as_of)
    with warnings.catch_warnings():
        # a stream has no "all of the data" to find no consent record in: batch's note on it
        # is no difference between the two
        warnings.filterwarnings("ignore", "evaluate\\(\\): .* no consent record was found")
        return evaluate(rules, log, as_of=as_of, **kwargs)


# -- the two streaming paths, side by side ------------------------------------------------------
#: ``engine._columnar_from`` forcing every call with rows onto the columnar micro-batch path, or
#: never (the per-interaction path)
COLUMNAR, PER_ROW = 1, None


#: ``redelivery_window`` of the tests that re-deliver rows from an earlier point of a sparse
#: stream (days or weeks behind the watermark, where a one-day window would make them late);
#: their streams are longer than it, so ids are still forgotten on the way
REDELIVERY = "30 days"


def engine_of(rules: Any, path: int | None, **kwargs: Any) -> TriggerEngine:
    """An engine forced onto one path (``COLUMNAR``: every call with rows; ``PER_ROW``)."""
    kwargs.setdefault("max_future", None)
    engine = TriggerEngine(rules, **kwargs)
    engine._columnar_from = path
    return engine


def whole(firings: Any) -> list[tuple[Any, ...]]:
    """Firings compared whole (their reasons too) and in their returned order."""
    fields = ("trigger", "customer_id", "time", "action", "payload", "because", "firing_id")
    return [tuple(repr(getattr(f, name)) for name in (*fields, "reason")) for f in firings]


def streamed_alike(
    rules: Any, recs: list[dict[str, Any]], position: int, as_of: Any, **kwargs: Any
) -> tuple[str, Any]:
    """What the stream does with ``recs``: ``("fired", firings)`` (whole, with those
    ``advance_to(as_of)`` returns) or ``("refused", message)``, asserted the same on the
    columnar and the per-interaction path of ``process_many`` and one at a time with
    ``process``, whose message names no position (the record refused is the one at
    ``position``, counted from 1). ``kwargs`` go to each engine."""
    outcomes = []
    for path in (COLUMNAR, PER_ROW):
        engine = engine_of(rules, path, **kwargs)
        try:
            got = engine.process_many(recs)
            outcomes.append(("fired", whole([*got, *engine.advance_to(as_of)])))
        except SchemaError as refused:
            outcomes.append(("refused", str(refused)))
    engine = engine_of(rules, None, **kwargs)
    try:
        got = [f for rec in recs for f in engine.process(rec)]
        one = ("fired", whole([*got, *engine.advance_to(as_of)]))
    except SchemaError as refused:
        one = ("refused", re.sub(r"^record: ", f"record {position}: ", str(refused)))
    outcomes.append(one)
    assert outcomes[0] == outcomes[1] == outcomes[2], outcomes
    return outcomes[0]


def state_of(engine: TriggerEngine) -> Any:
    """Everything an engine keeps: customers' states, the meta, late rows, duplicates."""
    return copy.deepcopy(
        (
            {cid: s.to_dict() for cid, s in engine._runner.states.items()},
            engine._meta(),
            [(q.record, q.reason) for q in engine.late],
            engine.duplicates,
        )
    )


class EnginePair:
    """A columnar and a per-row engine (``engines[0]`` and ``engines[1]``) side by side, on
    stores of one kind: ``"memory"``, ``"failing"`` (a :class:`FailingStore`) or
    ``"sqlite"`` (files in ``tmp``, kept across :meth:`restart`)."""

    def __init__(self, rules: Any, store: str, tmp: Path, **kwargs: Any) -> None:
        self.rules, self.kind, self.tmp, self.kwargs = rules, store, tmp, kwargs
        self.stores: list[Any] = [self._store(j) for j in (0, 1)]
        self.engines = [self._start(j) for j in (0, 1)]

    def close(self) -> None:
        for s in self.stores:
            s.close()

    def _store(self, j: int) -> Any:
        if self.kind == "sqlite":
            return SQLiteStore(self.tmp / f"s{j}.db")
        inner = InMemoryStore()
        return FailingStore(inner) if self.kind == "failing" else inner

    def _start(self, j: int) -> TriggerEngine:
        return engine_of(self.rules, (COLUMNAR, PER_ROW)[j], store=self.stores[j], **self.kwargs)

    def restart(self) -> None:
        """Both engines started again from their stores (a SQLite file read back), their
        states then alike."""
        for j in (0, 1):
            self.stores[j].close()
            if self.kind == "sqlite":
                self.stores[j] = SQLiteStore(self.tmp / f"s{j}.db")
            self.engines[j] = self._start(j)
        self.check()

    def check(self) -> None:
        assert state_of(self.engines[0]) == state_of(self.engines[1])


def purchase_record(customer: str, at: Any, ident: str, **extra: Any) -> dict[str, Any]:
    """A purchase record of 500 at ``at`` (a datetime), with an ``interaction_id``, as decoded
    from a JSON message (a rule ``where p.value > 100`` fires on it)."""
    return {
        "customer_id": customer,
        "timestamp": at.isoformat(),
        "kind": "purchase",
        "value": 500.0,
        "interaction_id": ident,
        **extra,
    }


def stored_customers(path: Path) -> list[tuple[str, str]]:
    """The ``customers`` table of the SQLite store file at ``path``: (customer id, state
    text) rows ordered by customer id, read with a fresh connection."""
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute("SELECT customer_id, state FROM customers ORDER BY 1").fetchall()


def form(part: list[dict[str, Any]], how: str) -> Any:
    """A micro-batch in one of the input forms ``process_many`` takes."""
    if how == "records":
        return part
    if how == "objects":
        return [interaction(r) for r in part]
    if how == "columns":
        names = sorted({name for r in part for name in r})
        return {name: [r.get(name) for r in part] for name in names}
    firsts: dict[Any, dict[str, Any]] = {}
    for r in part:  # a log refuses an id given twice
        firsts.setdefault(r.get("interaction_id", id(r)), r)
    with warnings.catch_warnings():  # text beside numbers in a property: read as text, said
        warnings.filterwarnings("ignore", "column .* holds text in", DataWarning)
        return InteractionLog.from_records(list(firsts.values()))


FORMS = ["records", "objects", "columns", "log"]


def stream(
    rules: Any, batches: list[Any], as_of: datetime, path: int | None, **kwargs: Any
) -> tuple[list[Any], Any, list[str]]:
    """Each call's (emitted, suppressed) and then advance_to(as_of)'s, the state after, and
    the warnings (late and refused rows)."""
    engine = engine_of(rules, path, **kwargs)
    out: list[Any] = []
    with warnings.catch_warnings(record=True) as seen:  # late and refused rows: compared too
        warnings.simplefilter("always", DataWarning)
        for batch in batches:
            got = engine.process_many(batch() if callable(batch) else batch)
            out.append((whole(got), whole(got.suppressed)))
        out.append((whole(engine.advance_to(as_of)), []))
    return out, state_of(engine), [str(w.message) for w in seen]


def assert_paths_agree(rules: Any, batches: list[Any], as_of: datetime, **kwargs: Any) -> None:
    """The columnar and per-interaction paths return and keep the same, call by call."""
    columnar = stream(rules, batches, as_of, COLUMNAR, **kwargs)
    per_row = stream(rules, batches, as_of, PER_ROW, **kwargs)
    assert columnar[0] == per_row[0]
    assert columnar[1] == per_row[1]
    assert columnar[2] == per_row[2]
