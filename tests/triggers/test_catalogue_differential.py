"""Catalogue rules, stream equals batch: random catalogue rules (beside random customer
rules), random logs and random catalogue events on the same time grid (ties included),
delivered out of order within the allowed lateness, with duplicates and ``advance_to`` ticks,
one at a time or in random micro-batches, some through a SQLiteStore restarted between calls.

The sweep size is ``CXMODEL_DIFF_CASES`` (default 300, as the engine's differential sweep),
spread over this file's blocks at a fifth of it.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.log import InteractionLog
from cxmodel.triggers import SQLiteStore, TriggerEngine, parse
from tests.triggers.helpers import (
    LATENESS_HOURS,
    REDELIVERY,
    SPANS,
    evaluate_complete,
    first_delivery_order,
    plan,
    random_rule_set,
    records,
)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
CASES = int(os.environ.get("CXMODEL_DIFF_CASES", "300")) // 5
BLOCKS = 4
CUSTOMER_KINDS = ["product_view", "purchase", "survey", "ticket_opened"]


def key(firings: Any) -> Counter[Any]:
    """Firings compared whole: trigger, customer, time, payload, because, id and reason."""
    return Counter(
        (f.trigger, f.customer_id, f.time, repr(f.payload), repr(f.because), f.firing_id, f.reason)
        for f in firings
    )


def catalogue_rule(rng: random.Random, i: int) -> str:
    """A random catalogue rule: keys, tests, windows (months too), if, payload, policies."""
    kind = rng.choice(["restock", "price_drop"])
    seen = rng.choice(CUSTOMER_KINDS)
    event_test = rng.choice(["", " where x.qty > 0", " where x.qty >= 2"])
    join = rng.choice(
        [
            " where product == x.product",
            " where x.product == product and value >= 100",
            " where product == x.product and order_id == x.order_id",
            " where value == x.price",
            " where value > 50",
            "",
        ]
    )
    lines = [f"trigger c{i}:", f"    when {kind} as x{event_test}",
             f"        for customers with {seen}{join} within {rng.choice(SPANS)}"]  # fmt: skip
    if rng.random() < 0.5:
        lines.append("    if " + rng.choice([
            f"count(purchase where product == x.product within {rng.choice(SPANS)}) == 0",
            f"count({seen} within {rng.choice(SPANS)}) >= 2",
            "sum(purchase.value) > 100 or x.qty == 1",
            f"max({rng.choice(CUSTOMER_KINDS)}.value within {rng.choice(SPANS)}) ?? 0 > 100",
        ]))  # fmt: skip
    lines.append("    emit act(p = x.product, q = qty, who = customer_id, n = count(purchase))")
    if rng.random() < 0.4:
        lines.append(f"    cooldown {rng.choice(SPANS)}")
    if rng.random() < 0.25:
        lines.append(f"    once per customer{rng.choice(['', ' every ' + rng.choice(SPANS)])}")
    if rng.random() < 0.3:
        lines.append("    requires consent marketing")
    if rng.random() < 0.25:
        lines.append(f"    quiet hours {rng.choice(['22:00-06:00', '09:00-17:00'])}")
    if rng.random() < 0.2:
        lines.append(f"    holdout {rng.choice([10, 50, 80])}%")
    return "\n".join(lines)


def rule_text(rng: random.Random) -> str:
    """One to three catalogue rules, sometimes beside random customer rules."""
    texts = [catalogue_rule(rng, i) for i in range(rng.randint(1, 3))]
    if rng.random() < 0.4:
        texts.append(random_rule_set(rng))
    return "\n\n".join(texts)


def catalogue_events(rng: random.Random, n: int, days: int, rules: Any) -> list[dict[str, Any]]:
    """Random catalogue events of the kinds ``rules`` read (the engine refuses others) on the
    customers' 12-hour grid, ids ``k0``, ``k1``, ..."""
    kinds = sorted({r.when.kind for r in rules if r.when.reach is not None})
    out = []
    for i in range(n):
        rec: dict[str, Any] = {
            "timestamp": T0 + timedelta(hours=12 * rng.randrange(days * 2)),
            "kind": rng.choice(kinds),
            "interaction_id": f"k{i}",
            "product": rng.choice(["p1", "p2"]),
            "qty": float(rng.randrange(4)),
            "order_id": f"o{rng.randrange(5)}",
            "price": float(rng.randrange(0, 300, 50)),
        }
        out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


def split(recs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(customers' interactions, catalogue events), each in the given order."""
    return [r for r in recs if "customer_id" in r], [r for r in recs if "customer_id" not in r]


def deliver(
    rules: Any,
    steps: list[tuple[str, Any]],
    as_of: datetime,
    lateness_h: int,
    rng: random.Random,
    path: Path | None,
) -> list[Any]:
    """Ticks and records in random micro-batches (size 1: ``process``); with ``path``,
    through a SQLiteStore closed and reopened between some calls."""
    lateness = f"{lateness_h} hours" if lateness_h else 0

    def start() -> tuple[Any, Any]:
        store = SQLiteStore(path) if path is not None else None
        engine = TriggerEngine(
            rules,
            store=store,
            allowed_lateness=lateness,
            max_future=None,
            redelivery_window=REDELIVERY,
        )
        return store, engine

    store, engine = start()
    got: list[Any] = []
    pos = 0
    try:
        while pos < len(steps):
            if steps[pos][0] == "tick":
                got.extend(engine.advance_to(steps[pos][1]))
                pos += 1
            else:
                stop, size = pos, rng.choice([1, 1, rng.randint(1, 20)])
                while stop < len(steps) and steps[stop][0] == "rec" and stop - pos < size:
                    stop += 1
                part = [rec for _, rec in steps[pos:stop]]
                if len(part) == 1:
                    got.extend(engine.process(part[0]))
                else:
                    got.extend(engine.process_many(part))
                pos = stop
            if store is not None and rng.random() < 0.3:
                store.close()
                store, engine = start()
        got.extend(engine.advance_to(as_of))
        return got
    finally:
        if store is not None:
            store.close()


def check_case(case: int, tmp_path: Path) -> None:
    rng = random.Random(7_000_001 * case + 3)
    text = rule_text(rng)
    rules = parse(text)
    days = rng.choice([20, 60])
    recs = records(case, rng.randint(5, 100), n_customers=rng.randint(1, 6), days=days)
    events = catalogue_events(rng, rng.randint(0, 40), days, rules)
    as_of = T0 + timedelta(days=rng.choice([10, 30, 70]))
    visible = sorted(
        [r for r in [*recs, *events] if r["timestamp"] <= as_of], key=lambda r: r["timestamp"]
    )
    lateness_h = rng.choice(LATENESS_HOURS)
    steps = plan(rng, visible, lateness_h, as_of)
    mine, theirs = split(first_delivery_order(steps))
    log = InteractionLog.from_records(mine) if mine else InteractionLog.from_records(recs[:0])
    batch = evaluate_complete(rules, log, as_of=as_of, catalogue=theirs)
    path = tmp_path / f"k{case}.db" if case % 4 == 0 else None
    got = deliver(rules, steps, as_of, lateness_h, rng, path)
    context = (case, text, lateness_h)
    assert key(got) == key(batch), context
    assert len({f.firing_id for f in got}) == len(got), context


@pytest.mark.parametrize("block", range(BLOCKS))
def test_catalogue_stream_equals_batch(block: int, tmp_path: Path) -> None:
    """Catalogue rules streamed (cut, reordered, duplicated, restarted) equal batch."""
    for case in range(block, CASES, BLOCKS):
        check_case(case, tmp_path)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(0, 10_000))
def test_catalogue_firings_in_time_order_equal_batch(seed: int) -> None:
    """Events and interactions in time order, one call each, equal batch, and the firings
    reached customers only through an interaction inside the window."""
    rng = random.Random(seed)
    rules = parse(rule_text(rng))
    recs = records(seed, rng.randint(5, 60), n_customers=rng.randint(1, 5), days=30)
    events = catalogue_events(rng, rng.randint(1, 12), 30, rules)
    as_of = T0 + timedelta(days=40)
    batch = evaluate_complete(
        rules, InteractionLog.from_records(recs), as_of=as_of, catalogue=events
    )
    engine = TriggerEngine(rules, max_future=None)
    got: list[Any] = []
    for item in sorted([*recs, *events], key=lambda r: r["timestamp"]):
        got.extend(engine.process(item))
    got.extend(engine.advance_to(as_of))
    assert key(got) == key(batch)
    for f in batch:
        if "with" in f.because:
            assert f.because["with"]["time"] <= f.because["when"]["time"]
