"""Trigger-language benchmark: cxmodel vs rule-engine, same run.

1. A single predicate ``value > 100 and channel == "web"`` over N interactions (default 1M):
   cxmodel's vectorised expression evaluator vs ``rule_engine.Rule(...).matches(record)`` on
   every record; the match counts are compared. Then the same predicate as a rule
   (``when purchase as p where p.value > 100 and p.channel == "web"``, no policy) through
   ``evaluate``, which builds the firing table (best of 3; its firing count is compared).
2. The six example rules (``cxmodel.triggers.EXAMPLE_RULES``) in batch over the same N
   interactions (firings kept as columns); building every Firing object is timed at the end.
3. The streaming ``TriggerEngine`` with all six rules over the same N interactions, in time
   order, fed as micro-batches of ``--batch`` interactions with ``process_many``, then
   ``advance_to(as_of)``; its firings are checked against batch (ids equal).
   3b. The same with two simple rules (an NPS detractor, and the predicate of 1 on purchases),
   each reading only its own interaction; compared with rule-engine's records per second in 1.
   3c. The six rules with a ``SQLiteStore`` (one transaction per 10,000-event micro-batch) over
   the first 200,000 interactions, and the time to reload that state.
4. The streaming engine fed one interaction at a time with ``process`` (``--single`` events
   after the rest of the stream was loaded).

Sections 5 and 6 (in ``_triggers_service.py``) run the engine as a service does, over a
stationary stream of ``--customers`` customers (default 2,000) over ``--years`` years (default
2) at ``--rate`` interactions per customer per year (default 44: 176,000 records), each record
carrying only its kind's fields (product views a product; purchases value, order and product;
NPS surveys a score and the customer's latest order; tickets a topic; consent grants and
revocations a purpose) and an ``interaction_id`` unless ``--no-ids``.
5. One record at a time: JSON lines decoded with ``json.loads`` (timed alone too) and fed to
   ``process`` one by one (per-call latency), against rule-engine's ``Rule.matches`` on the same
   decoded records with the predicate the six rules' anchors decide alone (events/s, ratio;
   target 0.25x); ``process`` into an engine with a ``SQLiteStore`` (a transaction per call)
   over the first 20,000 records; then ``process_many`` on micro-batches of ``--micro`` sizes
   (100 and 50,000).
   Firings are checked against batch ``evaluate``.
6. The stream in daily micro-batches (``process_many``, then ``advance_to`` at the day's end)
   into an engine with a ``SQLiteStore``; the host acknowledges each day's firings once it has
   them and prunes them from the store, as a service does. At the end of each year: the engine's memory
   (tracemalloc traced size since before it was built, deep size, process RSS),
   ``engine.stats()``, the store's size (+ -wal) and the time to restart (a new process builds
   an engine on a copy of the store, then calls ``advance_to``; the last year restarts from the
   closed store). Prints year-2 growth (target +30 %), the restart ratio year 2 / year 1 (target
   1.3x) and whether the firings returned over the stream equal batch ``evaluate``.

Installs nothing; exits 0. If rule-engine is missing its timing is reported as skipped.
Usage: python benchmarks/bench_triggers.py [--rows N] [--customers N] [--batch N] [--single N]
       [--years N] [--rate R] [--micro N,N] [--repeats N] [--no-ids] [--no-trace]
       [--sections predicate,batch,streaming,service,stationary]
A run of a few seconds: --rows 20000 --customers 100 --single 200 --repeats 1
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any

import _triggers_service as svc  # sections 5 and 6, next to this script
import numpy as np
from _timing import best_of

from cxmodel.errors import DataWarning
from cxmodel.expr import evaluate as evaluate_expr
from cxmodel.expr import parse_expr
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    EXAMPLE_RULES,
    Firings,
    SQLiteStore,
    TriggerEngine,
    evaluate,
    parse,
)

RULES = EXAMPLE_RULES
# the firings are read from the calls' return values and never acknowledged: past 100,000 the
# in-memory store drops its oldest, as it should, and need not say so at every call here
warnings.filterwarnings("ignore", "the in-memory store keeps at most", DataWarning)
SIMPLE_RULES = """
trigger detractor_follow_up:
    when survey as r where r.metric == "nps" and r.score <= 6
    emit follow_up_task(priority = "high", score = r.score)

trigger big_web_order:
    when purchase as p where p.value > 100 and p.channel == "web"
    emit thank_you(value = p.value)
"""


def synthetic(n: int, n_customers: int, seed: int = 0) -> dict[str, Any]:
    """Columns of n random interactions over one year."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["view", "product_view", "purchase", "survey", "ticket_opened",
                      "consent_granted"], dtype=object)  # fmt: skip
    kind = kinds[rng.choice(len(kinds), n, p=[0.35, 0.3, 0.15, 0.08, 0.1, 0.02])]
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    ts = start + rng.integers(0, 365 * 86_400, n) * 1_000_000
    survey = kind == "survey"
    metric = np.full(n, None, dtype=object)
    metric[survey] = "nps"
    purpose = np.full(n, None, dtype=object)
    purpose[kind == "consent_granted"] = "marketing"
    return {
        "customer_id": np.array([f"c{i}" for i in range(n_customers)], dtype=object)[
            rng.integers(0, n_customers, n)
        ],
        "timestamp": ts.astype("datetime64[us]"),
        "kind": kind,
        "channel": np.array(["web", "app", "store"], dtype=object)[rng.integers(0, 3, n)],
        "value": np.where(kind == "purchase", rng.gamma(2.0, 60.0, n), np.nan),
        "metric": metric,
        "score": np.where(survey, rng.integers(0, 11, n).astype(float), np.nan),
        "product": np.array([f"p{i}" for i in range(50)], dtype=object)[rng.integers(0, 50, n)],
        "order_id": np.array([f"o{i}" for i in range(n)], dtype=object),
        "topic": np.array(["payment", "delivery"], dtype=object)[rng.integers(0, 2, n)],
        "purpose": purpose,
    }


def _ids(parts: list[Any]) -> set[str]:
    """The firing ids of several calls' results (tables and lists of firings)."""
    return {i for part in parts for i in (part.ids() if hasattr(part, "ids") else
                                          [f.firing_id for f in part])}  # fmt: skip


def streaming(args: argparse.Namespace) -> None:
    """Sections 3 and 4: the streaming engine, micro-batches then one at a time."""
    cols = synthetic(args.rows, args.customers)
    rules = parse(RULES)
    as_of = "2025-01-01T00:00:00Z"
    # 3. streaming, micro-batches in time order
    order = np.argsort(cols["timestamp"], kind="stable")
    ordered = {k: v[order] for k, v in cols.items()}
    chunks = [
        InteractionLog.from_arrays(**{k: v[i : i + args.batch] for k, v in ordered.items()})
        for i in range(0, args.rows, args.batch)
    ]
    engine = TriggerEngine(rules)
    streamed: list[Any] = []
    t = time.perf_counter()
    for chunk in chunks:
        streamed.append(engine.process_many(chunk))
    streamed.append(engine.advance_to(as_of))
    stream_s = time.perf_counter() - t
    six_ids = _ids(streamed)
    complete = InteractionLog.from_arrays(**cols).with_observed_until(as_of)  # as advance_to
    same = six_ids == evaluate(rules, complete, as_of=as_of).ids()
    del streamed, engine
    gc.collect()
    print(
        f"six rules, streaming:   {stream_s:8.3f} s for {args.rows:,} events in micro-batches of "
        f"{args.batch:,} ({args.rows / stream_s:,.0f} events/s; {len(six_ids):,} firings, "
        f"equal to batch: {same})"
    )

    # 3b. two simple rules (each reads only its own interaction), streaming, same batches
    simple = parse(SIMPLE_RULES)
    engine = TriggerEngine(simple)
    t = time.perf_counter()
    parts = [engine.process_many(chunk) for chunk in chunks]
    last = engine.advance_to(as_of)
    simple_s = time.perf_counter() - t
    ids = {i for part in parts for i in part.ids()} | {f.firing_id for f in last}
    count = len(ids)
    complete = InteractionLog.from_arrays(**cols).with_observed_until(as_of)  # as advance_to
    same = ids == evaluate(simple, complete, as_of=as_of).ids()
    versus = (
        f"; {args.rows / simple_s / args.peer_rate:,.1f}x rule-engine's "
        f"{args.peer_rate:,.0f} records/s for one predicate"
        if args.peer_rate
        else ""
    )
    print(
        f"two simple rules, streaming: {simple_s:8.3f} s ({args.rows / simple_s:,.0f} events/s; "
        f"{count:,} firings, equal to batch: {same}{versus})"
    )

    # 3c. the six rules with a durable SQLite store (a commit per micro-batch of 10,000)
    durable_rows = min(args.rows, 200_000)
    small = [
        InteractionLog.from_arrays(**{k: v[i : i + 10_000] for k, v in ordered.items()})
        for i in range(0, durable_rows, 10_000)
    ]
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(os.path.join(folder, "state.db"))
        engine = TriggerEngine(rules, store=store)
        t = time.perf_counter()
        for chunk in small:
            engine.process_many(chunk)
        durable_s = time.perf_counter() - t
        store.close()
        t = time.perf_counter()
        store = SQLiteStore(os.path.join(folder, "state.db"))
        TriggerEngine(rules, store=store)
        load_s = time.perf_counter() - t
        store.close()
    print(
        f"six rules, SQLite store:  {durable_s:8.3f} s for {durable_rows:,} events in "
        f"micro-batches of 10,000 ({durable_rows / durable_s:,.0f} events/s); reloading the "
        f"state takes {load_s:.2f} s"
    )

    # 4. streaming, one interaction at a time after the rest of the stream
    head = args.rows - args.single
    engine = TriggerEngine(rules)
    engine.process_many(InteractionLog.from_arrays(**{k: v[:head] for k, v in ordered.items()}))
    tail = InteractionLog.from_arrays(**{k: v[head:] for k, v in ordered.items()})
    events = sorted(tail.interactions(), key=lambda i: (i.timestamp, i.interaction_id or ""))
    t = time.perf_counter()
    emitted = 0
    for event in events:
        emitted += len(engine.process(event))
    single_s = time.perf_counter() - t
    print(
        f"six rules, one at a time: {single_s:8.3f} s for {len(events):,} events after "
        f"{head:,} ({len(events) / single_s:,.0f} events/s, {emitted} firings)"
    )


SECTIONS = ("predicate", "batch", "streaming", "service", "stationary")


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def _sections(text: str) -> set[str]:
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    if not chosen <= set(SECTIONS):
        raise argparse.ArgumentTypeError(f"sections are {', '.join(SECTIONS)} (got {text!r})")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add, hide = parser.add_argument, argparse.SUPPRESS
    # fmt: off
    add("--rows", type=int, default=1_000_000, help="interactions in 1-4 (default 1,000,000)")
    add("--customers", type=int, help="customers (default 100,000 in 1-4, 2,000 in 5 and 6)")
    add("--batch", type=int, default=50_000, help="micro-batch size in 3 (default 50,000)")
    add("--single", type=int, default=2_000, help="events one at a time in 4 (default 2,000)")
    add("--sections", type=_sections, default=set(SECTIONS), help="comma-separated sections "
        "to run: predicate (1), batch (2), streaming (3, 4), service (5), stationary (6); all")
    add("--years", type=int, default=2, help="years of the stream in 5 and 6 (default 2)")
    add("--rate", type=float, default=44.0, help="interactions per customer per year in 5 "
        "and 6 (default 44)")
    add("--micro", type=_sizes, default=[100, 50_000], help="process_many batch sizes in 5 "
        "(default 100,50000)")
    add("--repeats", type=int, default=3, help="runs per timing in 5 and 6, median reported "
        "(a run over 5 s is not repeated; restarts always are); default 3")
    add("--ids", action=argparse.BooleanOptionalAction, default=True, help="records in 5 and "
        "6 carry an interaction_id (default yes)")
    add("--trace", action=argparse.BooleanOptionalAction, default=True, help="6 runs under "
        "tracemalloc for the engine's traced size (slows its stream; default yes)")
    add("--streaming", action="store_true", help=hide)  # internal: 3 and 4 in a child
    add("--peer-rate", type=float, default=0.0, help=hide)
    add("--child", choices=("service", "stationary", "restart"), help=hide)  # 5, 6, restarts
    add("--probe", help=hide)
    add("--as-of", help=hide)
    # fmt: on
    args = parser.parse_args()
    if args.child == "restart":
        svc.restart_probe(args.probe, args.as_of)
        return
    if args.child is not None:
        args.customers = 2_000 if args.customers is None else args.customers
        if args.child == "service":
            svc.service(args)
        else:
            svc.stationary(args, __file__)
        return
    args.customers = 100_000 if args.customers is None else args.customers
    if args.streaming:
        streaming(args)
        return
    sections = args.sections
    peer_rate, firings = 0.0, None
    if sections & {"predicate", "batch"}:
        peer_rate, firings = first_sections(args, sections)
    if "streaming" in sections:
        # 3 and 4 run in a fresh process, as a service would: the objects built above would
        # otherwise slow the garbage collector during the timings
        subprocess.run(
            [sys.executable, __file__, "--streaming", "--rows", str(args.rows), "--customers",
             str(args.customers), "--batch", str(args.batch), "--single", str(args.single),
             "--peer-rate", str(peer_rate)],
            check=True,
        )  # fmt: skip
    for child in ("service", "stationary"):  # 5 and 6, each in a fresh process too
        if child in sections:
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--child", child], check=True)
    if firings is not None:
        # last: hundreds of thousands of live Firing objects would slow the timings above
        t = time.perf_counter()
        objects = list(firings)
        build_s = time.perf_counter() - t
        print(f"batch: building all {len(objects):,} Firing objects: {build_s:.3f} s")


def first_sections(args: argparse.Namespace, sections: set[str]) -> tuple[float, Firings | None]:
    """Sections 1 and 2 (in this process); return rule-engine's records per second in 1 and
    the batch firings of 2."""
    cols = synthetic(args.rows, args.customers)
    # the synthetic year is observed to its end, as the streaming sections' advance_to declares
    log = InteractionLog.from_arrays(**cols).with_observed_until("2025-01-01T00:00:00Z")
    log.customer_codes  # noqa: B018 (the log sorts its rows on this first read, untimed)
    print(f"data: {len(log):,} interactions, {log.n_customers:,} customers")

    # 1. single predicate
    peer_rate = 0.0
    if "predicate" in sections:
        peer_rate = predicate(log)

    # 2. the six example rules in batch
    if "batch" not in sections:
        return peer_rate, None
    rules = parse(RULES)
    as_of = "2025-01-01T00:00:00Z"  # the end of the declared observation above
    t = time.perf_counter()
    firings = evaluate(rules, log, as_of=as_of)
    batch_s = time.perf_counter() - t
    print(
        f"six rules, batch:       {batch_s:8.3f} s  ({len(firings):,} firings, "
        f"{len(firings.suppressed):,} suppressed; {len(log) / batch_s:,.0f} interactions/s)"
    )
    return peer_rate, firings


def predicate(log: InteractionLog) -> float:
    """Section 1; return rule-engine's records per second (0 without it)."""
    expr = parse_expr('value > 100 and channel == "web"')
    t = time.perf_counter()
    columns = {"value": log.numeric("value"), "channel": log.column("channel")}
    decode_s = time.perf_counter() - t
    t = time.perf_counter()
    ours = evaluate_expr(expr, columns)
    ours_s = time.perf_counter() - t
    print(
        f"predicate, cxmodel:     {ours_s:8.3f} s  ({int(ours.sum()):,} matches; "
        f"+{decode_s:.3f} s to decode the two columns from the log)"
    )
    try:
        rule_engine: Any = importlib.import_module("rule_engine")
    except ImportError:
        print("predicate, rule-engine: skipped (rule-engine not installed)")
        return 0.0
    values = columns["value"].tolist()
    channels = columns["channel"].tolist()
    records = [
        {"value": None if v != v else v, "channel": c}
        for v, c in zip(values, channels, strict=True)
    ]
    rule = rule_engine.Rule('value != null and value > 100 and channel == "web"')
    t = time.perf_counter()
    theirs = sum(1 for r in records if rule.matches(r))
    theirs_s = time.perf_counter() - t
    print(f"predicate, rule-engine: {theirs_s:8.3f} s  ({theirs:,} matches)")
    same = theirs == int(ours.sum())
    print(
        f"predicate speed-up: {theirs_s / ours_s:,.0f}x evaluation only, "
        f"{theirs_s / (ours_s + decode_s):,.0f}x with decoding  (same matches: {same})"
    )
    fired_s, fired = predicate_rule(log)
    print(
        f"predicate as a rule with its firing table: {fired_s:.3f} s "
        f"({theirs_s / fired_s:,.0f}x rule-engine; target 60x; same count: {fired == theirs})"
    )
    n = len(records)
    del records, values, channels  # a million live dicts would slow the later timings
    gc.collect()
    return n / theirs_s


def predicate_rule(log: InteractionLog) -> tuple[float, int]:
    """The predicate of section 1 as a rule without policies, through ``evaluate`` (which
    returns the sorted firing table): best of 3 seconds, and the number of firings."""
    rule = parse(SIMPLE_RULES)["big_web_order"]
    best, firings = best_of(lambda: evaluate(rule, log, as_of="2025-01-01T00:00:00Z"))
    return best, len(firings)


if __name__ == "__main__":
    main()
