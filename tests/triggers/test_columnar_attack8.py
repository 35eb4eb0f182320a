"""The columnar micro-batch path attacked where it last changed: the ids a call does not keep
because its own sweep forgets them, the customers and kinds coded once, the collector paused
(and its objects moved to the oldest generation) around calls and restarts, and a rule's
anchors merged without a set union. Each case is compared with the per-interaction path
after every call: firings (emitted and suppressed, whole), state, late rows, duplicates."""

from __future__ import annotations

import gc
import random
import warnings
import weakref
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxmodel.errors import CXModelError, DataWarning, StoreError
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, parse
from cxmodel.triggers._collector import collector_paused
from cxmodel.triggers._columnar import COLUMNAR_FROM
from tests.triggers.helpers import (
    COLUMNAR,
    PER_ROW,
    T0,
    EnginePair,
    engine_of,
    form,
    random_rule_set,
    state_of,
    whole,
)

#: rules the columnar path runs (anchors, timers after anchors, inactivity, a pair within a
#: span, an aggregate): every part of a call's bookkeeping is read by one of them
RULES = parse(
    """trigger big:
    when purchase as p where p.value > 100
    emit thanks(v = p.value)

trigger later:
    when purchase as p then after 2 hours
    unless ticket_opened
    emit follow(v = p.value)

trigger idle:
    when inactive for 3 hours
    emit nudge

trigger pair:
    when product_view as v then purchase within 1 hours
    emit conv

trigger many:
    when purchase as p
    if count(purchase within 1 days) >= 2
    emit loyal(n = count(purchase))
"""
)

#: customer ids: plain, equal texts made as different objects, a trailing NUL, non-ASCII
CUSTOMERS = ["a", "b", "a\x00", "é", "日本"]
KINDS = ["purchase", "product_view", "ticket_opened", "survey"]
#: redelivery windows: tiny (one microsecond), a second, under and over the grid step
WINDOWS: list[Any] = [timedelta(microseconds=1), "1 s", "1 hours", "2 hours", "1 days"]
LATENESS: list[Any] = [0, "30 m", "2 hours"]


def fresh_text(text: str) -> str:
    """An equal text as a new object (not interned)."""
    return "".join(list(text))


def record(
    cust: str | None, minutes: int, kind: str, ident: str | None, value: Any = None
) -> dict[str, Any]:
    """A record as decoded from JSON; ``cust`` ``None`` leaves the customer out; ``value``
    "missing" leaves the value out (``None``: 150 or 50 by the minute)."""
    rec: dict[str, Any] = {
        "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(),
        "kind": fresh_text(kind),
        "value": (150.0 if minutes % 2 else 50.0) if value is None else value,
    }
    if value == "missing":
        del rec["value"]
    if cust is not None:
        rec["customer_id"] = fresh_text(cust)
    if ident is not None:
        rec["interaction_id"] = fresh_text(ident)
    if kind == "survey":
        rec["metric"], rec["score"] = "nps", 3.0
    return rec


#: the pairs a test made, whose stores it closes (``closed`` fixture)
_OPEN: list[Pair] = []


@pytest.fixture(autouse=True)
def closed() -> Any:
    """Close the stores of the pairs each test made."""
    yield
    while _OPEN:
        _OPEN.pop().close()


class Pair(EnginePair):
    """A columnar and a per-row engine on stores of the same kind, run side by side."""

    def __init__(self, rules: Any, store: str, tmp: Path, **kwargs: Any) -> None:
        super().__init__(rules, store, tmp, **kwargs)
        _OPEN.append(self)

    def both(self, call: Any) -> list[Any]:
        """``call(engine)`` on each; the same result (or error), warnings and state."""
        results: list[Any] = []
        for engine in self.engines:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always", DataWarning)
                try:
                    got = call(engine)
                    out: Any = (whole(got), whole(getattr(got, "suppressed", [])))
                except CXModelError as error:
                    out = ("error", type(error).__name__, str(error))
            results.append((out, [str(w.message) for w in seen]))
        assert results[0] == results[1]
        self.check()
        return results

    def batch(self, recs: list[dict[str, Any]], how: str) -> None:
        self.both(lambda e: e.process_many(form(recs, how)))

    def advance(self, minutes: int) -> None:
        self.both(lambda e: e.advance_to(T0 + timedelta(minutes=minutes)))

    def failed_then_retried(self, recs: list[dict[str, Any]], how: str) -> None:
        """A commit that fails (or a call refused before it) leaves both as before, with the
        same error; the retry agrees."""
        before = [state_of(e) for e in self.engines]
        errors = []
        for j, engine in enumerate(self.engines):
            self.stores[j].fail = 1
            with pytest.raises(CXModelError) as caught:
                engine.process_many(form(recs, how))
            self.stores[j].fail = 0
            errors.append(str(caught.value))
            assert state_of(engine) == before[j]
        assert errors[0] == errors[1]
        self.batch(recs, how)


# -- 1. ids not kept because the call's own sweep forgets them ---------------------------------
rows_drawn = st.lists(
    st.tuples(
        st.integers(0, len(CUSTOMERS) - 1),
        st.integers(-8, 24),  # quarter hours around the call's base
        st.sampled_from(KINDS),
        st.one_of(st.none(), st.integers(0, 9)),  # a small pool of ids: re-deliveries
        st.sampled_from([None, None, None, "missing", 500]),  # the value
    ),
    min_size=1,
    max_size=14,
)

#: a call spoilt rarely: one record without a customer, or with text as its value
spoilt = st.sampled_from([None] * 10 + ["no customer", "text value"])

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("batch"), st.integers(-2, 16), rows_drawn, st.sampled_from(range(4)), spoilt
        ),
        st.tuples(st.just("advance"), st.integers(-4, 16), st.just([]), st.just(0), st.none()),
        st.tuples(st.just("restart"), st.just(0), st.just([]), st.just(0), st.none()),
        st.tuples(
            st.just("fail"), st.integers(-2, 16), rows_drawn, st.sampled_from(range(2)), spoilt
        ),
    ),
    min_size=1,
    max_size=8,
)

FORMS4 = ["records", "objects", "columns", "log"]


def drive(pair: Pair, steps: list[Any], failing: bool) -> None:
    base = 0  # quarter hours: the calls move forward, by up to four hours each
    for what, move, rows, how, spoil in steps:
        base += move
        if what == "advance":
            pair.advance(15 * base)
        elif what == "restart":
            pair.restart()
        else:
            recs = [
                record(CUSTOMERS[c], 15 * (base + q), kind, None if i is None else f"i{i}", value)
                for c, q, kind, i, value in rows
            ]
            if spoil == "no customer":
                del recs[-1]["customer_id"]
                how = 0  # only a record can leave its customer out
            elif spoil == "text value":
                recs[-1]["value"] = "lots"
            if what == "fail" and failing:
                pair.failed_then_retried(recs, FORMS4[how])
            else:
                pair.batch(recs, FORMS4[how])
    pair.advance(15 * base + 24 * 60)


#: the random streams of calls: reproducible, with slow examples allowed
_RANDOM_CALLS = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(_RANDOM_CALLS, max_examples=300)
@given(
    steps=ops,
    window=st.sampled_from(WINDOWS),
    lateness=st.sampled_from(LATENESS),
    store=st.sampled_from(["memory", "failing", "sqlite"]),
)
def test_random_calls_agree(
    tmp_path_factory: Any, steps: list[Any], window: Any, lateness: Any, store: str
) -> None:
    """Random calls (ids re-delivered across and inside calls, late parts, advance_to,
    restarts, failed commits) with tiny redelivery windows: the paths agree after each."""
    tmp = tmp_path_factory.mktemp("pair")
    pair = Pair(RULES, store, tmp, allowed_lateness=lateness, redelivery_window=window)
    try:
        drive(pair, steps, store == "failing")
    finally:
        _OPEN.remove(pair)
        pair.close()


def id_at(minutes: int, ident: str, cust: str = "a") -> dict[str, Any]:
    return record(cust, minutes, "purchase", ident)


@pytest.mark.parametrize("window", ["1 hours", timedelta(microseconds=1), "1 s"])
@pytest.mark.parametrize("lateness", [0, "30 m"])
@pytest.mark.parametrize("store", ["memory", "sqlite", "failing"])
def test_redelivery_at_the_mark(tmp_path: Path, window: Any, lateness: Any, store: str) -> None:
    """Ids at the sweep mark, just before and just after it, re-delivered in the next call
    (and inside the call), with restarts between: duplicates or late alike."""
    pair = Pair(RULES, store, tmp_path, allowed_lateness=lateness, redelivery_window=window)
    # one call spanning many windows: ids every 15 minutes for ten hours
    first = [id_at(15 * k, f"k{k}") for k in range(41)] + [id_at(15 * 3, "k3")]
    pair.batch(first, "records")
    # the frontier is 600 minutes (less the lateness); the mark one window behind it, on a
    # quarter window; re-deliver around it
    again = [id_at(15 * k, f"k{k}") for k in range(30, 41)]
    pair.batch(again, "records")
    pair.restart()
    pair.batch([id_at(15 * k, f"k{k}") for k in (36, 37, 38, 39, 40)], "objects")
    pair.batch([id_at(600, "k40"), id_at(601, "k40"), id_at(601, "n1")], "columns")
    pair.advance(600)
    pair.batch([id_at(600, "k40"), id_at(601, "k40")], "log")
    pair.restart()
    pair.batch([id_at(599, "k39"), id_at(660, "k40"), id_at(660, "k40", "b")], "records")


@pytest.mark.parametrize("store", ["memory", "failing"])
def test_ids_released_from_the_buffer_later(tmp_path: Path, store: str) -> None:
    """With lateness, interactions buffered in one call are released (and their ids kept or
    not) in a later call whose frontier is many windows on; re-delivered after."""
    pair = Pair(RULES, store, tmp_path, allowed_lateness="2 hours", redelivery_window="1 hours")
    pair.batch([id_at(0, "x0"), id_at(60, "x1"), id_at(119, "x2"), id_at(30, "x3")], "records")
    pair.batch([id_at(60, "x1"), id_at(45, "x4")], "objects")  # buffered still: duplicate
    if store == "failing":
        pair.failed_then_retried([id_at(24 * 60, "far"), id_at(120, "x5")], "records")
    else:
        pair.batch([id_at(24 * 60, "far"), id_at(120, "x5")], "records")
    pair.batch([id_at(119, "x2"), id_at(24 * 60, "far"), id_at(22 * 60 - 1, "y")], "records")
    pair.restart()
    pair.batch([id_at(22 * 60 + 30, "x2"), id_at(22 * 60 + 30, "x2", "b")], "records")
    pair.advance(2 * 24 * 60)


def test_ids_with_and_without_customers_ids_repeated_in_a_call(tmp_path: Path) -> None:
    """Customers with ids and without, one id for several customers, an id twice in a call
    (the second late, or at the same time), across a call that forgets them."""
    pair = Pair(RULES, "memory", tmp_path, redelivery_window="1 hours")
    batch = []
    for k in range(20):
        batch.append(record(CUSTOMERS[k % 5], 30 * k, KINDS[k % 4], "same" if k % 3 else None))
    batch.append(record("a", 0, "purchase", "same"))
    batch.append(record("b", 30 * 19, "purchase", "same"))
    pair.batch(batch, "records")
    pair.batch([record(c, 30 * 19, "purchase", "same") for c in CUSTOMERS], "records")
    pair.batch([record(c, 30 * 30, "purchase", "same") for c in CUSTOMERS * 2], "objects")


# -- 2. customers and kinds coded once --------------------------------------------------------
@pytest.mark.parametrize("how", ["records", "objects", "columns", "log"])
@pytest.mark.parametrize("lateness", [0, "1 hours"])
def test_codes_out_of_order_partly_late(tmp_path: Path, how: str, lateness: Any) -> None:
    """Batches out of time order, the first part late, equal ids as different objects,
    a NUL-ended id and non-ASCII ids: the codes give what one by one gives."""
    pair = Pair(RULES, "memory", tmp_path, allowed_lateness=lateness, redelivery_window="1 s")
    pair.batch([record(c, 600, "purchase", f"s{c}") for c in CUSTOMERS], how)
    part = [record(c, 60 * j, KINDS[j % 4], None) for j, c in enumerate(CUSTOMERS)]  # late
    part += [record(c, 900 - 20 * j, KINDS[(j + 1) % 4], f"t{j}") for j, c in enumerate(CUSTOMERS)]
    part += [record(c, 580, "purchase", None) for c in reversed(CUSTOMERS)]  # in the lateness
    pair.batch(part, how)
    pair.batch([record(c, 905, "product_view", None) for c in CUSTOMERS * 3], how)
    pair.advance(2000)


def test_whole_batch_in_order_then_not(tmp_path: Path) -> None:
    """A whole batch released in order (the source's codes reused) beside one released in
    part, with customers first seen in a different order than their codes."""
    pair = Pair(RULES, "memory", tmp_path, allowed_lateness="1 hours", redelivery_window="1 s")
    recs = [record(c, 10 * j, KINDS[j % 4], None) for j, c in enumerate(CUSTOMERS * 4)]
    pair.batch(recs[::-1], "log")  # the log's codes are sorted; the input order is not
    pair.batch(recs, "records")  # all late
    pair.batch([record(c, 400, "survey", None) for c in reversed(CUSTOMERS)], "log")
    pair.batch([record(c, 460, "purchase", None) for c in CUSTOMERS], "records")
    pair.advance(1000)


def test_mixed_catalogue_like_and_missing_customer(tmp_path: Path) -> None:
    """A record without a customer in a large batch (no catalogue rule reads it): refused the
    same on both paths, nothing taken."""
    pair = Pair(RULES, "memory", tmp_path)
    recs = [record(c, 10 * j, "purchase", None) for j, c in enumerate(CUSTOMERS)]
    recs.insert(2, record(None, 15, "purchase", None))
    recs.append(record("", 80, "purchase", None))
    pair.batch(recs, "records")
    pair.batch([record(c, 100, "purchase", None) for c in CUSTOMERS], "records")


# -- 3. the collector ---------------------------------------------------------------------------
class _Node:
    itself: object


def test_collector_nested_and_raising() -> None:
    """Nested pauses leave the collector off until the outer one ends, also when the inner
    one raises; the host's frozen objects stay frozen."""
    assert gc.isenabled()
    with collector_paused():
        with pytest.raises(ValueError), collector_paused():
            raise ValueError("inner")
        assert not gc.isenabled()
    assert gc.isenabled()
    held = [object()]  # tracked by the collector, frozen below
    gc.freeze()
    try:
        with collector_paused():
            pass
        # still frozen (a frozen object is in no generation), and the move was skipped; the
        # count itself may fall meanwhile, as frozen objects of other threads are freed
        assert gc.get_freeze_count() > 0
        assert all(o is not held for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is held for o in gc.get_objects())


def test_cycles_made_by_the_host_during_a_call_are_collected(tmp_path: Path) -> None:
    """A cycle the host's clock makes during a large call, and one made while a restart
    reads its state, are collected by the next full collection."""
    refs: list[Any] = []

    def clock() -> Any:
        node = _Node()
        node.itself = node  # a cycle
        refs.append(weakref.ref(node))
        return T0 + timedelta(days=400)

    store = SQLiteStore(tmp_path / "s.db")
    engine = TriggerEngine(RULES, store=store, clock=clock, max_future="1 days")
    engine._columnar_from = COLUMNAR
    engine.process_many([record(c, 10 * j, "purchase", f"q{j}") for j, c in enumerate(CUSTOMERS)])
    assert refs and gc.isenabled()
    store.close()
    reopened = SQLiteStore(tmp_path / "s.db")
    try:
        TriggerEngine(RULES, store=reopened, clock=clock)
        gc.collect()
        assert all(r() is None for r in refs)
    finally:
        reopened.close()


def test_a_raising_clock_leaves_both_paths_as_before(tmp_path: Path) -> None:
    """The host's clock raising inside a large call (collector paused): the collector runs
    again, nothing changed, and the paths agree afterwards."""
    fail = [False]

    def clock() -> Any:
        if fail[0]:
            raise RuntimeError("clock")
        return T0 + timedelta(days=400)

    engines = [
        engine_of(RULES, p, clock=clock, max_future="1 days", redelivery_window="1 s")
        for p in (COLUMNAR, PER_ROW)
    ]
    first = [record(c, 10 * j, "purchase", f"q{j}") for j, c in enumerate(CUSTOMERS)]
    for e in engines:
        e.process_many(first)
    before = [state_of(e) for e in engines]
    fail[0] = True
    for e, was in zip(engines, before, strict=True):
        with pytest.raises(RuntimeError):
            e.process_many([record("a", 500, "purchase", "r")] * 3)
        assert gc.isenabled()
        assert state_of(e) == was
    fail[0] = False
    got = [e.process_many([record("a", 500, "purchase", "r")] * 3) for e in engines]
    assert whole(got[0]) == whole(got[1])
    assert state_of(engines[0]) == state_of(engines[1])


# -- 4. anchors merged, customers read from the sorted log -------------------------------------
@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_carried_and_fresh_anchors_at_one_time(tmp_path: Path, store: str) -> None:
    """Anchors carried from earlier calls (and across a restart) beside fresh ones of the
    same customers at the same time, and other customers' falling due in the call."""
    pair = Pair(RULES, store, tmp_path, redelivery_window="1 hours")
    pair.batch([record(c, 60, "purchase", f"p{c}") for c in CUSTOMERS[::-1]], "records")
    pair.batch([record(c, 60, "purchase", f"q{c}") for c in CUSTOMERS], "log")
    pair.restart()
    pair.batch([record(c, 60, "purchase", None) for c in CUSTOMERS[:2]] * 2, "objects")
    pair.batch(
        [record("b", 150, "ticket_opened", None), record("é", 170, "purchase", None)], "records"
    )
    pair.batch([record("日本", 400, "product_view", None)], "columns")
    pair.advance(1000)


# -- 2b. logs whose codes have gaps ------------------------------------------------------------
def shuffled_log(recs: list[dict[str, Any]]) -> Any:
    """A log of ``recs`` (each id once) in their input order."""
    return form(recs, "log")


@pytest.mark.parametrize("cut", ["filter", "between", "select"])
@pytest.mark.parametrize("lateness", [0, "1 hours"])
def test_filtered_logs(tmp_path: Path, cut: str, lateness: Any) -> None:
    """Logs filtered, cut in time or narrowed to some columns (customer and kind labels no
    row uses, input positions with gaps), out of time order: the recoded customers and
    kinds give what one by one gives."""
    pair = Pair(RULES, "memory", tmp_path, allowed_lateness=lateness, redelivery_window="1 s")
    recs = [
        record(CUSTOMERS[(7 * j) % 5], (37 * j) % 600, KINDS[j % 4], f"f{j}") for j in range(40)
    ]
    log = shuffled_log(recs)
    if cut == "filter":
        made = log.filter(~log.kind_mask("product_view") & (log.customer_codes != 0))
    elif cut == "between":
        made = log.between(T0 + timedelta(minutes=100), T0 + timedelta(minutes=500))
    else:
        made = log.select(["interaction_id"])
    pair.both(lambda e: e.process_many(made))
    later = shuffled_log(
        [record(c, 700 - j, KINDS[j % 3], f"g{j}") for j, c in enumerate(CUSTOMERS)]
    )
    pair.both(lambda e: e.process_many(later.filter(later.customer_codes % 2 == 1)))
    pair.both(lambda e: e.process_many(log))  # all again: duplicates and late
    pair.advance(2000)


# -- 1b. random rule sets over the random calls ------------------------------------------------
@settings(_RANDOM_CALLS, max_examples=150)
@given(
    seed=st.integers(0, 10_000),
    steps=ops,
    window=st.sampled_from(WINDOWS),
    lateness=st.sampled_from(LATENESS),
)
def test_random_rule_sets_agree(
    tmp_path_factory: Any, seed: int, steps: list[Any], window: Any, lateness: Any
) -> None:
    """Random rule sets (aggregates, policies, quiet hours, holdouts) over random calls with
    tiny redelivery windows and failed commits: the paths agree after each."""
    rules = parse(random_rule_set(random.Random(seed)))
    pair = Pair(
        rules, "failing", tmp_path_factory.mktemp("p"), allowed_lateness=lateness,
        redelivery_window=window,
    )  # fmt: skip
    drive(pair, steps, True)


# -- 1c. the real threshold: one large call spanning many windows -----------------------------
def big_batch(seed: int, n: int, start_minutes: int) -> list[dict[str, Any]]:
    """``n`` records of 40 customers over about ten days from ``start_minutes``, out of order
    by up to three hours, ids from a pool (so re-delivered inside the call), some without."""
    rng = random.Random(seed)
    out = []
    for j in range(n):
        minutes = start_minutes + j * 6 - rng.randrange(180)
        ident = None if rng.random() < 0.2 else f"b{rng.randrange(n)}"
        out.append(record(f"c{rng.randrange(40)}", minutes, rng.choice(KINDS), ident))
    return out


@pytest.mark.parametrize("store", ["sqlite", "failing"])
def test_threshold_sized_calls(tmp_path: Path, store: str) -> None:
    """Calls of ``COLUMNAR_FROM`` interactions and more on the default path (not forced),
    against one by one, with a one-hour redelivery window and two hours' lateness; the
    second call re-delivers the first's tail and is retried after a failed commit."""
    pair = Pair(RULES, store, tmp_path, allowed_lateness="2 hours", redelivery_window="1 hours")
    pair.engines[0]._columnar_from = COLUMNAR_FROM
    first = big_batch(1, COLUMNAR_FROM + 100, 0)
    pair.batch(first, "records")
    second = first[-300:] + big_batch(2, COLUMNAR_FROM, (COLUMNAR_FROM + 100) * 6 - 120)
    if store == "failing":
        pair.failed_then_retried(second, "log")
    else:
        pair.batch(second, "log")
    pair.restart()
    pair.engines[0]._columnar_from = COLUMNAR_FROM
    pair.batch(second[-COLUMNAR_FROM:], "records")
    pair.advance((2 * COLUMNAR_FROM + 200) * 6 + 24 * 60)


# -- 3b. the collector around restarts ---------------------------------------------------------
class _Unopenable(InMemoryStore):
    def open(self) -> Any:
        raise StoreError("simulated: cannot read")


def test_restart_that_fails_resumes_the_collector(tmp_path: Path) -> None:
    """A restart whose store cannot be read raises its error with the collector running
    again; one with the host's collector off leaves it off; a call leaves nothing frozen."""
    with pytest.raises(StoreError):
        TriggerEngine(RULES, store=_Unopenable())
    assert gc.isenabled()
    store = SQLiteStore(tmp_path / "s.db")
    try:
        engine = engine_of(RULES, COLUMNAR, store=store)
        engine.process_many([record(c, 5, "purchase", "x") for c in CUSTOMERS])
        assert gc.get_freeze_count() == 0
        store.close()
        store = SQLiteStore(tmp_path / "s.db")
        gc.disable()
        try:
            again = engine_of(RULES, COLUMNAR, store=store)
            again.process_many([record(c, 6, "purchase", "y") for c in CUSTOMERS])
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert state_of(again)[0].keys() == state_of(engine)[0].keys()
    finally:
        store.close()


@pytest.mark.parametrize("how", ["records", "objects", "columns", "log"])
def test_awkward_customer_texts(tmp_path: Path, how: str) -> None:
    """Integer customer ids beside their text, composed and decomposed accents, kinds with
    a space: coded once on the columnar path, as one by one reads them."""
    pair = Pair(RULES, "memory", tmp_path, redelivery_window="1 s")
    odd = ["1", "é", "e\u0301", "a\x00", "a", "ＡＢ"]
    recs = [record(c, 10 * j, "purchase", f"w{j}") for j, c in enumerate(odd * 2)]
    recs[3]["customer_id"] = 1  # an integer beside "1"
    recs.append(record("b", 130, "purchase ", "w99"))  # a kind no rule reads
    pair.batch(recs, how)
    pair.batch([record(c, 200, "ticket_opened", None) for c in odd[::-1]], how)
    pair.advance(1000)


def test_text_with_nul_characters_is_read_alike_as_records_and_as_a_log() -> None:
    """Customers and kinds ending in or holding NUL characters are kept as written by the
    stream and by a log made from the same records (numpy's own text would drop trailing
    NULs, and pandas' hashing stops at the first one): the same firings, on both paths, and
    batch over the log agrees."""
    from cxmodel.log import InteractionLog
    from cxmodel.triggers import evaluate

    rules = parse("trigger t:\n    when purchase as p where p.value > 100\n    emit go")
    recs = [
        {"customer_id": cid, "timestamp": f"2024-01-01T0{j}:00:00Z", "kind": kind,
         "value": 500.0}
        for j, (cid, kind) in enumerate(
            [("a", "purchase"), ("a\x00", "purchase"), ("a\x00b", "purchase"),
             ("a", "purchase\x00")]
        )
    ]  # fmt: skip
    log = InteractionLog.from_records(recs)
    batch = evaluate(rules, log, as_of=T0 + timedelta(days=400))
    want = sorted((f.customer_id, f.time) for f in batch)
    assert [c for c, _ in want] == ["a", "a\x00", "a\x00b"]  # "purchase\x00" is no purchase
    for path in (COLUMNAR, PER_ROW):
        for batch_input in (recs, log):
            got = engine_of(rules, path).process_many(batch_input)
            assert sorted((f.customer_id, f.time) for f in got) == want
