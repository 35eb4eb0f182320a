"""Sections 5 and 6 of ``bench_triggers.py``: the streaming engine as a service runs it.

5. One record at a time, as a service gets them: JSON lines decoded with ``json.loads`` and
   fed to ``TriggerEngine.process`` one by one (the six example rules), against rule-engine's
   ``Rule.matches`` on the same decoded records; the same one by one into an engine with a
   ``SQLiteStore`` (a transaction per call) over the first ``DURABLE`` records; then
   micro-batches with ``process_many``.
6. A stationary stream over ``--years`` years in daily micro-batches (``advance_to`` at each
   day's end) into an engine with a ``SQLiteStore``: memory, ``stats()``, store size and
   restart time at the end of each year, and the firings checked against batch ``evaluate``.

Not a benchmark script itself (``make bench`` runs ``bench_*.py``); imported by
``bench_triggers.py``, whose ``--help`` lists the flags.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from _timing import peak_rss, rss

from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES, SQLiteStore, TriggerEngine, evaluate, parse

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
KINDS = ("view", "product_view", "purchase", "survey", "ticket_opened", "consent_granted",
         "consent_revoked")  # fmt: skip
SHARES = (0.345, 0.3, 0.15, 0.08, 0.1, 0.02, 0.005)
# the parts of the six example rules that one record decides alone (their anchors' conditions)
PEER_PREDICATE = (
    '(kind == "survey" and metric == "nps" and score <= 6)'
    ' or (kind == "purchase" and value > 100)'
    ' or (kind == "ticket_opened" and topic == "payment")'
    ' or (kind == "product_view" and product != null)'
)
MB = 1024 * 1024
#: the records fed one by one to an engine with a SQLiteStore (each call a transaction)
DURABLE = 20_000


# -- data ----------------------------------------------------------------------------------------
def service_records(
    customers: int, years: int, rate: float, *, ids: bool = True, seed: int = 1
) -> list[dict[str, Any]]:
    """Records in time order, as a service receives them: ``rate`` interactions per customer
    per year, uniform over ``years`` years of 365 days (a stationary stream), each carrying
    only the fields of its kind (surveys name the customer's latest earlier order, if any)."""
    rng = np.random.default_rng(seed)
    n = round(customers * years * rate)
    kind = rng.choice(len(KINDS), n, p=SHARES).tolist()
    seconds = np.sort(rng.integers(0, years * 365 * 86_400, n))
    stamps = (np.datetime64("2024-01-01T00:00:00", "s") + seconds).astype(str).tolist()
    cust = rng.integers(0, customers, n).tolist()
    channel = rng.choice(["web", "app", "store"], n).tolist()
    product = rng.integers(0, 50, n).tolist()
    value = np.round(rng.gamma(2.0, 60.0, n), 2).tolist()
    score = rng.integers(0, 11, n).tolist()
    topic = rng.choice(["payment", "delivery"], n).tolist()
    last_order: dict[int, str] = {}
    out: list[dict[str, Any]] = []
    for i in range(n):
        k, c = KINDS[kind[i]], cust[i]
        record: dict[str, Any] = {"customer_id": f"c{c}", "timestamp": stamps[i] + "Z",
                                  "kind": k, "channel": channel[i]}  # fmt: skip
        if ids:
            record["interaction_id"] = f"e{i}"
        if k == "product_view":
            record["product"] = f"p{product[i]}"
        elif k == "purchase":
            last_order[c] = f"o{i}"
            record.update(value=value[i], order_id=f"o{i}", product=f"p{product[i]}")
        elif k == "survey":
            record.update(metric="nps", score=score[i])
            if c in last_order:
                record["order_id"] = last_order[c]
        elif k == "ticket_opened":
            record["topic"] = topic[i]
        elif k.startswith("consent"):
            record["purpose"] = "marketing"
        out.append(record)
    return out


def json_lines(args: Any) -> tuple[list[str], list[int]]:
    """The stream of sections 5 and 6 as JSON text, one record a line, and each line's day
    (counted from the start)."""
    records = service_records(args.customers, args.years, args.rate, ids=args.ids)
    days = np.array([r["timestamp"][:10] for r in records], dtype="datetime64[D]")
    day = (days - np.datetime64("2024-01-01", "D")).astype(np.int64).tolist()
    return [json.dumps(r, separators=(",", ":")) for r in records], day


def firing_ids(part: Any) -> list[str]:
    """The firing ids of one call's result (a table of firings or a list of them)."""
    return list(part.ids()) if hasattr(part, "ids") else [f.firing_id for f in part]


# -- measuring -----------------------------------------------------------------------------------
def repeated(run: Callable[[], tuple[float, Any]], repeats: int, budget: float = 5.0) -> Any:
    """Run ``run`` (returning seconds and a result) once, and ``repeats - 1`` more times if
    it took under ``budget`` seconds; return (median seconds, the median run's result, runs)."""
    runs = [run()]
    if runs[0][0] < budget:
        runs += [run() for _ in range(repeats - 1)]
    runs.sort(key=lambda r: r[0])
    middle = runs[(len(runs) - 1) // 2]  # the median run (the lower one of an even count)
    return middle[0], middle[1], len(runs)


_SHARED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)


def deep_size(root: object) -> int:
    """Bytes reachable from ``root`` (each object once; numpy data counted by its owner;
    classes, modules and functions left out)."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _SHARED):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray):
            if obj.base is not None:
                stack.append(obj.base)
            elif obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        else:
            stack.extend(gc.get_referents(obj))
    return total


def _pct(new: float, old: float) -> str:
    return f"{(new - old) / old * 100:+.0f} %" if old else "n/a"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# -- section 5 -----------------------------------------------------------------------------------
def service(args: Any) -> None:
    """Section 5: one record at a time as a service gets them, against rule-engine."""
    lines, _ = json_lines(args)
    n = len(lines)
    rules = parse(EXAMPLE_RULES)
    as_of = START + timedelta(days=365 * args.years)
    print(
        f"service: {n:,} JSON records, {args.customers:,} customers over {args.years} years "
        f"(ids: {args.ids}); the six example rules; medians of up to {args.repeats} runs"
    )

    def decode() -> tuple[float, None]:
        t = time.perf_counter()
        [json.loads(line) for line in lines]
        return time.perf_counter() - t, None

    decode_s, _, k = repeated(decode, args.repeats)
    print(
        f"service, json.loads alone:          {decode_s:8.3f} s ({n / decode_s:,.0f} records/s; "
        f"runs: {k})"
    )

    # cxmodel, one record at a time: decode a line, process it (each process call timed)
    def one_at_a_time() -> tuple[float, Any]:
        engine = TriggerEngine(rules)
        latency = np.empty(n)
        fired: list[str] = []
        clock = time.perf_counter
        t, cpu = clock(), time.process_time()
        for j, line in enumerate(lines):
            record = json.loads(line)
            t0 = clock()
            out = engine.process(record)
            latency[j] = clock() - t0
            if out:
                fired.extend(f.firing_id for f in out)
        wall, cpu = clock() - t, time.process_time() - cpu
        t0 = clock()
        fired.extend(firing_ids(engine.advance_to(as_of)))
        return float(latency.sum()), (wall, latency, fired, clock() - t0, cpu)

    gc.collect()
    # as many runs as the peer gets (a run takes seconds): one run is at the mercy of the machine
    ours_s, (wall_s, latency, fired, last_s, ours_cpu), k = repeated(
        one_at_a_time, args.repeats, budget=60.0
    )
    p50, p99 = np.percentile(latency, [50, 99]) * 1e3
    print(
        f"service, cxmodel process():         {ours_s:8.3f} s ({n / ours_s:,.0f} events/s "
        f"processing only; {n / wall_s:,.0f} events/s with decoding; latency p50 {p50:.2f} ms, "
        f"p99 {p99:.2f} ms, max {latency.max() * 1e3:.1f} ms; final advance_to {last_s:.3f} s; "
        f"runs: {k})"
    )

    decoded = [json.loads(line) for line in lines]
    # the engine's advance_to(as_of) declares the stream complete until as_of; so does the log
    complete = InteractionLog.from_records(decoded).with_observed_until(as_of)
    expected = evaluate(rules, complete, as_of=as_of).ids()
    print(
        f"service, cxmodel process() firings: {len(fired):,}, equal to batch: "
        f"{set(fired) == expected} (none twice: {len(set(fired)) == len(fired)})"
    )

    # the peer: rule-engine, one predicate per record over the same decoded records
    try:
        rule_engine: Any = importlib.import_module("rule_engine")
    except ImportError:
        print("service, rule-engine: skipped (rule-engine not installed)")
    else:
        rule = rule_engine.Rule(PEER_PREDICATE, context=rule_engine.Context(default_value=None))

        def matches() -> tuple[float, tuple[int, float]]:
            t, cpu = time.perf_counter(), time.process_time()
            count = sum(1 for r in decoded if rule.matches(r))
            return time.perf_counter() - t, (count, time.process_time() - cpu)

        theirs_s, (count, theirs_cpu), k = repeated(matches, args.repeats)
        ratio, with_decoding = theirs_s / ours_s, (theirs_s + decode_s) / wall_s
        print(f"service, rule-engine predicate: {PEER_PREDICATE}")
        print(
            f"service, rule-engine matches():     {theirs_s:8.3f} s ({n / theirs_s:,.0f} records/s "
            f"matching only; {n / (theirs_s + decode_s):,.0f} records/s with decoding; "
            f"{count:,} matches; runs: {k})"
        )
        print(
            f"service, cxmodel / rule-engine rate: {ratio:.3f}x processing only, "
            f"{with_decoding:.3f}x with decoding (target: at least 0.25x: {_verdict(ratio >= 0.25)})"
        )
        # in CPU seconds of this process, decoding included on both sides: less moved by
        # other processes on a shared machine than the wall-clock rates above
        decode_cpu = time.process_time()
        [json.loads(line) for line in lines]
        decode_cpu = time.process_time() - decode_cpu
        print(
            f"service, in CPU time, with decoding: cxmodel {n / ours_cpu:,.0f} events/s, "
            f"rule-engine {n / (theirs_cpu + decode_cpu):,.0f} records/s: "
            f"{(theirs_cpu + decode_cpu) / ours_cpu:.3f}x"
        )

    # one at a time into a SQLiteStore: each call commits its change in one transaction
    def durable() -> tuple[float, int]:
        m = min(n, DURABLE)
        with tempfile.TemporaryDirectory() as folder:
            store = SQLiteStore(os.path.join(folder, "service.db"))
            try:
                engine = TriggerEngine(rules, store=store)
                t = time.perf_counter()
                for line in lines[:m]:
                    engine.process(json.loads(line))
                return time.perf_counter() - t, m
            finally:
                store.close()

    durable_s, m, k = repeated(durable, args.repeats)
    print(
        f"service, cxmodel process(), SQLiteStore: {durable_s:8.3f} s for the first {m:,} records "
        f"({m / durable_s:,.0f} events/s with decoding, a transaction per call; runs: {k})"
    )

    # micro-batches of decoded records with process_many
    for size in args.micro:

        def batches(size: int = size) -> tuple[float, tuple[set[str], float]]:
            engine = TriggerEngine(rules)
            got: list[str] = []
            t, cpu = time.perf_counter(), time.process_time()
            for i in range(0, n, size):
                got.extend(firing_ids(engine.process_many(decoded[i : i + size])))
            got.extend(firing_ids(engine.advance_to(as_of)))
            return time.perf_counter() - t, (set(got), time.process_time() - cpu)

        batch_s, (got, batch_cpu), k = repeated(batches, args.repeats)
        # per CPU second of this process too: less moved by other processes on a shared host
        print(
            f"service, {f'cxmodel process_many({size:,}):':<29}{batch_s:8.3f} s ({n / batch_s:,.0f} events/s, "
            f"{n / batch_cpu:,.0f} per CPU second, {n / (batch_s + decode_s):,.0f} with decoding; "
            f"calls: {-(-n // size):,}; firings equal to batch: {got == expected}; runs: {k})"
        )


# -- section 6 -----------------------------------------------------------------------------------
def _stats(engine: Any) -> dict[str, Any] | None:
    """``engine.stats()`` as a dict, or ``None`` when the engine has no such method."""
    if not callable(getattr(engine, "stats", None)):
        return None
    return dict(engine.stats())


def _show(stats: dict[str, Any] | None) -> str:
    if stats is None:
        return "not available (this engine has no stats() method)"
    return ", ".join(
        f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}"
        for key, value in stats.items()
    )


def _file_sizes(path: str) -> tuple[int, int]:
    wal = path + "-wal"
    return os.path.getsize(path), os.path.getsize(wal) if os.path.exists(wal) else 0


def _restarts(script: str, source: str, as_of: datetime, repeats: int) -> dict[str, Any] | None:
    """Restart an engine from copies of ``source`` in fresh processes; the median run (``None``
    if a restart failed: its error is printed)."""
    runs = []
    folder = os.path.dirname(source)
    for _ in range(repeats):
        probe = os.path.join(folder, "probe.db")
        shutil.copyfile(source, probe)
        done = subprocess.run(
            [sys.executable, script, "--child", "restart", "--probe", probe,
             "--as-of", as_of.isoformat()],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            print(f"stationary, restart FAILED:\n{done.stderr[-2000:]}")
            return None
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        for path in (probe, probe + "-wal", probe + "-shm"):
            if os.path.exists(path):
                os.remove(path)
    runs.sort(key=lambda r: r["total_s"])
    return {**runs[(len(runs) - 1) // 2], "runs": len(runs)}


def restart_probe(path: str, as_of: str) -> None:
    """(Child process.) Open the store at ``path``, build the engine, advance to ``as_of``;
    print one JSON line with the times and the process's RSS."""
    rules = parse(EXAMPLE_RULES)
    before = rss()
    t = time.perf_counter()
    store = SQLiteStore(path)
    engine = TriggerEngine(rules, store=store)
    built = time.perf_counter() - t
    again = engine.advance_to(datetime.fromisoformat(as_of))
    total = time.perf_counter() - t
    if callable(getattr(store, "close", None)):
        store.close()
    print(json.dumps({"construct_s": built, "total_s": total, "rss": rss(), "rss_before": before,
                      "firings": len(list(again))}))  # fmt: skip


def stationary(args: Any, script: str) -> None:
    """Section 6: a stationary stream in daily micro-batches with a SQLite store; memory,
    stats, store size and restart time at the end of each year; firings against batch."""
    lines, day_of = json_lines(args)
    n, days = len(lines), 365 * args.years
    bounds = np.searchsorted(np.asarray(day_of), np.arange(days + 1)).tolist()
    rules = parse(EXAMPLE_RULES)
    tick = timedelta(microseconds=1)
    print(
        f"stationary: {n:,} JSON records, {args.customers:,} customers over {args.years} years "
        f"in daily micro-batches (process_many, then advance_to at each day's end), SQLiteStore "
        f"(the day's firings acknowledged and pruned once delivered); "
        f"tracemalloc: {args.trace}"
    )
    years: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "state.db")
        fired_path = os.path.join(folder, "fired.txt")
        _warm_up(args, lines[: bounds[min(days, 7)]], os.path.join(folder, "warm.db"))
        gc.collect()
        if args.trace:
            tracemalloc.start()
        base_traced = tracemalloc.get_traced_memory()[0] if args.trace else 0
        base_rss = rss()
        store = SQLiteStore(path)
        engine = TriggerEngine(rules, store=store)
        stream_s = 0.0
        with open(fired_path, "w") as fired:
            for day in range(days):
                end = START + timedelta(days=day + 1) - tick
                t = time.perf_counter()
                batch = [json.loads(line) for line in lines[bounds[day] : bounds[day + 1]]]
                parts: list[Any] = [engine.process_many(batch), engine.advance_to(end)]
                stream_s += time.perf_counter() - t
                delivered = [i for part in parts for i in firing_ids(part)]
                fired.writelines(i + "\n" for i in delivered)
                store.acknowledge(delivered)  # as a service does once it has delivered them
                store.prune()
                del batch, parts, delivered
                if (day + 1) % 365 == 0:
                    years.append(_checkpoint(args, script, engine, store, end, base_traced,
                                             base_rss, last=day + 1 == days))  # fmt: skip
        del engine, store
        gc.collect()
        if args.trace:
            tracemalloc.stop()
        with open(fired_path) as f:
            returned = f.read().split()
    print(
        f"stationary, streaming: {stream_s:8.3f} s for {n:,} events ({n / stream_s:,.0f} "
        f"events/s{', under tracemalloc' if args.trace else ''})"
    )
    _year_lines(years)
    decoded = [json.loads(line) for line in lines]
    end = START + timedelta(days=days) - tick  # the last advance_to, which declares it complete
    expected = evaluate(
        rules, InteractionLog.from_records(decoded).with_observed_until(end), as_of=end
    ).ids()
    print(
        f"stationary, firings: {len(returned):,} returned over the stream, equal to batch "
        f"evaluate: {set(returned) == expected} (none returned twice: "
        f"{len(set(returned)) == len(returned)})"
    )


def _warm_up(args: Any, lines: Sequence[str], path: str) -> None:
    """Run a throwaway engine over the first week, so that the modules and caches it loads
    on first use are not counted as the measured engine's memory."""
    store = SQLiteStore(path)
    engine = TriggerEngine(parse(EXAMPLE_RULES), store=store)
    engine.process_many([json.loads(line) for line in lines])
    engine.advance_to(START + timedelta(days=7))
    _stats(engine)
    deep_size(engine)
    if callable(getattr(store, "close", None)):
        store.close()
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name):
            os.remove(name)


def _checkpoint(
    args: Any,
    script: str,
    engine: Any,
    store: Any,
    end: datetime,
    base_traced: int,
    base_rss: int,
    *,
    last: bool,
) -> dict[str, Any]:
    """The figures at the end of a year; restarts from a copy of the store (the running
    engine goes on) or, after the last year, from the closed store itself."""
    gc.collect()
    row: dict[str, Any] = {"year": (end - START).days // 365 + 1}
    bookkeeping = 0
    if args.trace:
        traced, peak = tracemalloc.get_traced_memory()
        row["traced"], row["traced_peak"] = traced - base_traced, peak - base_traced
        bookkeeping = tracemalloc.get_tracemalloc_memory()
        tracemalloc.reset_peak()
    row["rss"], row["bookkeeping"] = rss() - bookkeeping, bookkeeping
    row["rss_engine"] = row["rss"] - base_rss
    row["rss_peak"] = peak_rss()
    row["deep"] = deep_size(engine)
    row["stats"] = _stats(engine)
    path = store.path
    row["db"], row["wal"] = _file_sizes(path)
    if last:
        if callable(getattr(store, "close", None)):
            store.close()
        source = path
    else:  # a consistent copy through SQLite's backup API, while the engine keeps running
        source = os.path.join(os.path.dirname(path), "snapshot.db")
        reader, copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(source)
        with copy:
            reader.backup(copy)
        reader.close()
        copy.close()
    row["restart"] = _restarts(script, source, end, args.repeats)
    if not last:
        os.remove(source)
    if args.trace:
        tracemalloc.reset_peak()
    return row


def _year_lines(years: Sequence[dict[str, Any]]) -> None:
    for row in years:
        r = row["restart"] or {"total_s": float("nan"), "construct_s": float("nan"), "runs": 0,
                               "rss": 0, "rss_before": 0, "firings": "?"}  # fmt: skip
        traced = (
            f"{row['traced'] / MB:,.1f} MB traced (tracemalloc, peak during the year "
            f"{row['traced_peak'] / MB:,.1f} MB); "
            if "traced" in row
            else ""
        )
        less = f"; less tracemalloc's own {row['bookkeeping'] / MB:,.1f} MB" if traced else ""
        print(
            f"stationary, end of year {row['year']}: engine {traced}deep size "
            f"{row['deep'] / MB:,.1f} MB; process RSS {row['rss'] / MB:,.1f} MB "
            f"({row['rss_engine'] / MB:+,.1f} MB since the engine started{less}; process peak "
            f"{row['rss_peak'] / MB:,.1f} MB)"
        )
        print(f"stationary, end of year {row['year']}: engine.stats(): {_show(row['stats'])}")
        print(
            f"stationary, end of year {row['year']}: store {row['db'] / MB:,.1f} MB + "
            f"{row['wal'] / MB:,.1f} MB -wal; restart {r['total_s']:.3f} s (construction "
            f"{r['construct_s']:.3f} s + first advance_to {r['total_s'] - r['construct_s']:.3f} "
            f"s; median of {r['runs']} in fresh processes; their RSS after {r['rss'] / MB:,.1f} "
            f"MB, {(r['rss'] - r['rss_before']) / MB:+,.1f} MB over the restart; "
            f"{r['firings']} firings returned again)"
        )
    if len(years) < 2:
        return
    one, two = years[0], years[1]
    key = "traced" if "traced" in one else "deep"
    growth = (two[key] - one[key]) / one[key] * 100 if one[key] else float("inf")
    print(
        f"stationary, year-2 growth: engine {key} {growth:+.0f} % of year 1 (target at most "
        f"+30 %: {_verdict(growth <= 30)}); deep size {_pct(two['deep'], one['deep'])}; RSS "
        f"since the engine started {_pct(two['rss_engine'], one['rss_engine'])}; store file "
        f"{_pct(two['db'], one['db'])} (with -wal {_pct(two['db'] + two['wal'], one['db'] + one['wal'])})"
    )
    if one["stats"] is not None and two["stats"] is not None:
        counts = [
            f"{key} {_pct(two['stats'][key], value)}"
            for key, value in one["stats"].items()
            if isinstance(value, (int, float)) and isinstance(two["stats"].get(key), (int, float))
        ]
        print(f"stationary, year-2 growth of engine.stats(): {', '.join(counts) or 'no numbers'}")
    if one["restart"] is None or two["restart"] is None:
        print("stationary, restart ratio year 2 / year 1: not measured (a restart failed)")
        return
    ratio = two["restart"]["total_s"] / one["restart"]["total_s"]
    print(
        f"stationary, restart ratio year 2 / year 1: {ratio:.2f}x (target at most 1.3x: "
        f"{_verdict(ratio <= 1.3)})"
    )
