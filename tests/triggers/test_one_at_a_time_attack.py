"""The streaming engine's one-interaction path attacked where it was made to do less per call:

- interaction ids forgotten from a queue of customers by earliest id time
  (``RuleRunner.remember`` / ``forget_ids`` / ``remembering`` / ``id_queue``), sorted at each
  sweep, instead of a look at every customer remembering ids;
- a firing the rule's policies would suppress not made at all when the call returns no
  suppressed firings (``RuleRunner.candidate`` / ``stopped``, as ``process()`` calls);
- an anchor tested without building an environment when its rule has no ``where`` and
  ``because`` shows only its fields (``RulePlan.anchor_by_fields``);
- the in-memory store keeping one mapping of every customer's latest state
  (``LatestStates``) instead of one per call;
- a record's field kept as given decided once per name (``_ingest._KEEPS`` / ``_keeps``).

Each is compared with what it replaced, rebuilt here on a reference engine (ids forgotten by a
look at every customer, every firing made and then decided, every anchor tested in an
environment; fields read by the checked path alone), over random policy-heavy rule sets and
streams mixing ``process``, ``process_many`` (small and columnar), ``advance_to``,
``forget``, restarts from SQLite and in-memory stores, failed commits and re-delivered ids
under redelivery windows from one second to 60 days. Streams without re-delivery, erasure or
failure are also compared with batch ``evaluate``, and no firing may be returned twice.
"""

from __future__ import annotations

import math
import random
import tempfile
import warnings
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxmodel.domain import Customer
from cxmodel.errors import CXModelError, DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import InMemoryStore, SQLiteStore, TriggerEngine, _ingest, parse
from cxmodel.triggers._runner import RuleRunner
from tests.triggers.helpers import (
    T0,
    FailingStore,
    assert_ids_queued,
    evaluate_complete,
    key,
    random_rule_set,
    state_of,
    whole,
)

#: rules heavy in policies: cooldown, once (every D), consent, quiet hours, a contact policy
#: across rules, ``then after D unless``, ``inactive for``, ``no K for``, payloads reading
#: aggregates and traits, ``if`` conditions, an anchor shown by its fields alone, policies
#: decided in the customer's time zone
POLICIES = """trigger thanks:
    when purchase as p
    if count(purchase within 3 days) >= 1
    emit thank(v = p.value, n = count(purchase), tier = customer.tier, o = p.order_id)
    cooldown 2 days
    requires consent marketing

trigger once_nps:
    when survey as s where s.score >= 5
    emit ask(s = s.score, avg = avg(survey.score))
    once per customer every 7 days

trigger once_ever:
    when ticket_opened
    emit sorry(t = customer.tier)
    once per customer

trigger plain:
    when product_view
    emit seen
    cooldown 1 days

trigger follow:
    when purchase as p then after 2 days
    unless survey where order_id == p.order_id
    emit follow(v = p.value)
    cooldown 3 days

trigger idle:
    when inactive for 5 days
    if count(purchase) >= 1
    emit winback(last = last(purchase.value))
    requires consent marketing

trigger lapse:
    when no purchase for 4 days
    emit nudge
    quiet hours 22:00-06:00

trigger quiet_buy:
    when purchase as p where p.value >= 100
    emit big(v = p.value)
    quiet hours 09:00-17:00
    once per customer every 3 days

trigger remind:
    when survey as s then after 1 days
    unless purchase
    if s.score >= 3
    emit remind(s = s.score, n = count(survey within 10 days))
    once per customer every 10 days
    requires consent marketing

trigger zoned:
    when purchase as p
    emit z(v = p.value, tier = customer.tier)
    once per customer every 1 months
    in customer timezone

trigger zoned_view:
    when product_view
    emit zv
    cooldown 36 hours
    requires consent marketing
    in customer timezone

contact policy cap:
    at most 1 per 2 days
    rules follow > plain > once_ever
"""

WINDOWS = ["1 second", "1 hour", "1 days", "3 days", "30 days", "60 days"]
KINDS = [
    "purchase",
    "survey",
    "product_view",
    "ticket_opened",
    "consent_granted",
    "consent_revoked",
]
STEPS_MIN = [0, 0, 1, 30, 600, 60 * 24, 60 * 24 * 5, 60 * 24 * 40]
ZONES = ["Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]
CUSTOMERS = {
    f"c{j}": Customer(
        f"c{j}",
        traits={"tier": ["gold", "basic"][j % 2]}
        | ({"timezone": ZONES[j % 5]} if j % 5 < len(ZONES) else {}),
    )
    for j in range(30)
}


# -- the code replaced, rebuilt on a reference engine --------------------------------------------
def _forget_ids_by_a_look_at_everyone(runner: RuleRunner, before: int) -> None:
    """``forget_ids`` as it was: every customer's first id looked at."""
    runner.catalogue.forget_ids(before)
    for cid in list(runner.states):
        seen = runner.states[cid].seen
        if seen and next(iter(seen.values())) < before:
            seen = runner.touch(cid).seen
            for ident in [k for k, t in seen.items() if t < before]:
                del seen[ident]


def _as_before(engine: TriggerEngine) -> TriggerEngine:
    """``engine`` made to work as the one-interaction path did before it did less per call."""
    runner = engine._runner

    def forget_ids(before: int) -> None:
        _forget_ids_by_a_look_at_everyone(runner, before)

    def every_candidate(plan: Any, state: Any, time: int, anchor: Any, reader: Any) -> Any:
        return plan.candidate(state, time, anchor, None, None, reader)

    runner.forget_ids = forget_ids  # type: ignore[method-assign]
    runner.candidate = every_candidate  # type: ignore[method-assign]
    for plan in runner.plans.values():
        plan.anchor_by_fields = False
    return engine


# -- random streams --------------------------------------------------------------------------------
def _records(rng: random.Random, *, unique_ids: bool) -> list[dict[str, Any]]:
    """Records in time order (ties included), ids drawn from a small pool (reused, shared
    by customers) unless ``unique_ids``."""
    pool = [f"i{j}" for j in range(rng.choice([2, 10, 300]))]
    n_customers = rng.choice([1, 3, 8, 30])
    at, out = T0, []
    for j in range(rng.randint(10, 90)):
        at += timedelta(minutes=rng.choice(STEPS_MIN))
        kind = rng.choice(KINDS)
        rec: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(n_customers)}",
            "timestamp": at.isoformat(),
            "kind": kind,
            "value": float(rng.randrange(0, 300, 50)),
            "order_id": f"o{rng.randrange(4)}",
            "product": rng.choice(["p1", "p2"]),
        }
        if unique_ids:
            rec["interaction_id"] = f"u{j}"
        elif rng.random() < 0.85:
            rec["interaction_id"] = rng.choice(pool)
        if kind == "survey":
            rec["metric"], rec["score"] = "nps", float(rng.randrange(11))
        if kind.startswith("consent"):
            rec["purpose"] = "marketing"
        out.append(rec)
    return out


def _steps(rng: random.Random, recs: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The delivery: mostly one at a time, with micro-batches, re-deliveries (shortly or far
    after), ticks, erasures, restarts and failed commits between."""
    steps: list[tuple[str, Any]] = []
    j = 0
    while j < len(recs):
        r = rng.random()
        if r < 0.12:
            size = rng.randint(1, 8)
            steps.append(("many", recs[j : j + size]))
            j += size
            continue
        steps.append(("one", recs[j]))
        j += 1
        r = rng.random()
        if r < 0.06:
            steps.append(("restart", None))
        elif r < 0.10:
            steps.append(("forget", recs[j - 1]["customer_id"]))
        elif r < 0.14:
            steps.append(("fail", None))
        elif r < 0.22:  # re-delivered: the last record, or one from anywhere before
            steps.append(("one", rng.choice([recs[j - 1], rng.choice(recs[:j])])))
        elif r < 0.25:
            steps.append(("advance", datetime.fromisoformat(recs[j - 1]["timestamp"])))
    return steps


class _Run:
    """One engine through the steps, on a store of one kind (``"memory"``, ``"sqlite"``,
    ``"failing"``), started again from its store at each restart."""

    def __init__(self, rules_text: str, store: str, path: Path, reference: bool, **kw: Any):
        self.text, self.kind, self.path, self.reference, self.kw = (
            rules_text, store, path, reference, kw)  # fmt: skip
        self.store = self._store()
        self.engine = self._start()

    def _store(self) -> Any:
        if self.kind == "sqlite":
            return SQLiteStore(self.path)
        return FailingStore(InMemoryStore()) if self.kind == "failing" else InMemoryStore()

    def _start(self) -> TriggerEngine:
        engine = TriggerEngine(
            parse(self.text), store=self.store, max_future=None, customers=CUSTOMERS, **self.kw
        )
        return _as_before(engine) if self.reference else engine

    def step(self, what: str, arg: Any) -> Any:
        engine = self.engine
        try:
            if what == "one":
                return whole(engine.process(arg))
            if what == "many":
                engine._columnar_from = 1 if len(arg) % 2 else None
                got = engine.process_many(arg)
                return whole(got), whole(got.suppressed)
            if what == "advance":
                return whole(engine.advance_to(arg))
            if what == "forget":
                engine.forget(arg)
            elif what == "restart":
                self.store.close()
                if self.kind == "sqlite":
                    self.store = SQLiteStore(self.path)
                self.engine = self._start()
            elif what == "fail" and self.kind == "failing":
                self.store.fail = 1
        except CXModelError as error:
            return ("refused", type(error).__name__, str(error))
        return None

    def close(self) -> None:
        self.store.close()


def _no_firing_twice(outs: list[Any]) -> None:
    """No firing returned twice. A firing's id is made from its anchor's interaction id, so
    an id taken again further apart than the redelivery window (another interaction, by
    design) makes a firing of the same id at another time: a firing is its id and time."""
    ids: Counter[tuple[str, str]] = Counter()
    for out in outs:
        if isinstance(out, list):
            ids.update((f[6], f[2]) for f in out)
        elif isinstance(out, tuple) and len(out) == 2:
            ids.update((f[6], f[2]) for f in out[0])
    assert not [i for i, n in ids.items() if n > 1]


class TestAsBefore:
    """The path doing less per call returns and keeps exactly what the path before did."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        seed=st.integers(0, 10**9),
        store=st.sampled_from(["memory", "sqlite", "failing"]),
        window=st.sampled_from(WINDOWS),
        heavy=st.booleans(),
    )
    def test_streams_equal_the_reference(
        self, seed: int, store: str, window: str, heavy: bool
    ) -> None:
        rng = random.Random(seed)
        text = POLICIES if heavy else random_rule_set(rng)
        recs = _records(rng, unique_ids=False)
        steps = _steps(rng, recs)
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # late rows: the same on both
            runs = [
                _Run(text, store, Path(tmp) / f"{j}.db", bool(j), redelivery_window=window)
                for j in (0, 1)
            ]
            outs = []
            for what, arg in steps:
                got = [run.step(what, arg) for run in runs]
                assert got[0] == got[1], (what, arg)
                assert state_of(runs[0].engine) == state_of(runs[1].engine)
                assert_ids_queued(runs[0].engine)
                outs.append(got[0])
            end = datetime.fromisoformat(recs[-1]["timestamp"]) + timedelta(days=90)
            last = [run.step("advance", end) for run in runs]  # (may fail, alike)
            assert last[0] == last[1]
            assert state_of(runs[0].engine) == state_of(runs[1].engine)
            for run in runs:
                run.close()
        if store != "failing" and "forget" not in {w for w, _ in steps}:
            _no_firing_twice([*outs, last[0]])

    @settings(max_examples=40, deadline=None)
    @given(seed=st.integers(0, 10**9), heavy=st.booleans())
    def test_one_at_a_time_equals_batch(self, seed: int, heavy: bool) -> None:
        """Without re-delivery, erasure or failure: ``process`` one at a time (no suppressed
        firings made), ``process_many`` of one record each (every firing made and decided)
        and batch ``evaluate`` fire alike; states of the two streams equal."""
        rng = random.Random(seed)
        text = POLICIES if heavy else random_rule_set(rng)
        recs = _records(rng, unique_ids=True)
        end = datetime.fromisoformat(recs[-1]["timestamp"]) + timedelta(days=60)
        one = TriggerEngine(parse(text), max_future=None, customers=CUSTOMERS)
        many = TriggerEngine(parse(text), max_future=None, customers=CUSTOMERS)
        fired_one: list[Any] = []
        fired_many: list[Any] = []
        for rec in recs:
            fired_one += one.process(rec)
            got = many.process_many([rec])
            fired_many += got
        fired_one += one.advance_to(end)
        fired_many += many.advance_to(end)
        assert whole(fired_one) == whole(fired_many)
        assert state_of(one) == state_of(many)
        assert len({f.firing_id for f in fired_one}) == len(fired_one)
        batch = evaluate_complete(
            parse(text), InteractionLog.from_records(recs), as_of=end, customers=CUSTOMERS
        )
        assert key(fired_one) == key(batch)


class TestIds:
    """Interaction ids: reused far apart, re-delivered at the window's edge, shared by many
    customers, forgotten across restarts."""

    RULE = "trigger t:\n    when purchase as p\n    emit x(v = p.value)\n"

    @staticmethod
    def _rec(cid: str, at: datetime, ident: str) -> dict[str, Any]:
        return {"customer_id": cid, "timestamp": at.isoformat(), "kind": "purchase",
                "value": 1.0, "interaction_id": ident}  # fmt: skip

    @pytest.mark.parametrize(
        "window", [timedelta(seconds=1), timedelta(days=1), timedelta(days=60)]
    )
    @pytest.mark.parametrize("sweep", [timedelta(0), timedelta(microseconds=1)])
    def test_redelivery_at_the_window_edge(self, window: timedelta, sweep: timedelta) -> None:
        """An interaction re-delivered once the watermark is exactly a window (and a sweep
        step) on, or just past it; its id given again by a later interaction at the edge and
        far later (refused within the window, another interaction past it): one at a time
        and on the reference alike, calls, warnings and states."""
        step = max(window // 4, timedelta(microseconds=1))
        first = self._rec("a", T0, "same")
        edge = T0 + window + step + sweep
        plan = [first, self._rec("b", edge, "tick"), first,
                self._rec("a", edge, "same"), self._rec("b", edge + 3 * window, "tick2"),
                first, self._rec("a", edge + 3 * window, "same"),
                self._rec("a", edge + 3 * window, "same")]  # fmt: skip
        runs = [_Run(self.RULE, "memory", Path("-"), bool(j), redelivery_window=window)
                for j in (0, 1)]  # fmt: skip
        outcomes = []
        for j in (0, 1):
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always", DataWarning)
                fired = [runs[j].step("one", rec) for rec in plan]
            outcomes.append((fired, [str(w.message) for w in seen], state_of(runs[j].engine)))
            assert_ids_queued(runs[j].engine)
        assert outcomes[0] == outcomes[1]
        fired = outcomes[0][0]
        # the first delivery and the later interaction past the window fire; re-deliveries
        # (of the same time) never do
        assert len(fired[0]) == 1 and fired[2] == [] and fired[5] == [] and fired[7] == []
        assert len(fired[6]) == 1

    def test_many_customers_sharing_ids_forgotten_alike(self) -> None:
        """Fifty customers giving the same ids: each customer's are theirs, forgotten by
        each at the same sweeps, across restarts from SQLite (the queue rebuilt from the
        states read back) and an erasure."""
        with tempfile.TemporaryDirectory() as tmp:
            runs = [_Run(self.RULE, "sqlite", Path(tmp) / f"{j}.db", bool(j),
                         redelivery_window="1 hour") for j in (0, 1)]  # fmt: skip
            at = T0
            for k in range(12):
                for c in range(50):
                    at += timedelta(minutes=1)
                    rec = self._rec(f"c{c}", at, f"id{k % 3}")
                    got = [run.step("one", rec) for run in runs]
                    assert got[0] == got[1]
                for what, arg in [("restart", None), ("forget", f"c{k}")][k % 2 :]:
                    for run in runs:
                        run.step(what, arg)
                assert state_of(runs[0].engine) == state_of(runs[1].engine)
                assert_ids_queued(runs[0].engine)
            # every id is forgotten once the watermark is two hours on
            for run in runs:
                run.step("one", self._rec("z", at + timedelta(hours=3), "late"))
                assert {c for c, s in run.engine._runner.states.items() if s.seen} == {"z"}
            assert state_of(runs[0].engine) == state_of(runs[1].engine)
            for run in runs:
                run.close()

    def test_forgotten_after_a_rolled_back_sweep(self) -> None:
        """A commit failing after its call's sweep forgot a customer's every id: the state
        put back remembers them, so the customer is queued again and a later sweep forgets
        them (they are not kept for ever)."""
        runs = [_Run(self.RULE, "failing", Path("-"), bool(j), redelivery_window="1 hour")
                for j in (0, 1)]  # fmt: skip
        for run in runs:
            run.step("one", self._rec("a", T0, "e1"))
            run.step("fail", None)
            got = run.step("one", self._rec("b", T0 + timedelta(hours=5), "e2"))
            assert got is not None and got[0] == "refused"
            assert run.engine._runner.states["a"].seen  # put back
            assert_ids_queued(run.engine)
            run.step("one", self._rec("b", T0 + timedelta(hours=6), "e3"))
            assert not run.engine._runner.states["a"].seen
        assert state_of(runs[0].engine) == state_of(runs[1].engine)


class TestSuppressedNotMade:
    """A firing the policies suppress is not made by ``process``; the firings made and kept
    are those ``process_many`` (which makes and decides every one) keeps."""

    def test_consent_granted_by_the_anchoring_interaction_call(self) -> None:
        """Consent granted and the anchor at one instant, cooldown running out exactly at
        a later anchor, once per customer every D at its edge."""
        text = POLICIES
        at = T0
        recs = []
        for minutes, kind in [(0, "purchase"), (0, "consent_granted"), (0, "purchase"),
                              (2 * 24 * 60, "purchase"), (0, "consent_revoked"),
                              (1, "purchase"), (0, "consent_granted"), (1, "purchase"),
                              (0, "survey"), (7 * 24 * 60, "survey"), (1, "survey")]:  # fmt: skip
            at += timedelta(minutes=minutes)
            rec: dict[str, Any] = {"customer_id": "c1", "timestamp": at.isoformat(),
                                   "kind": kind, "value": 150.0, "order_id": "o1"}  # fmt: skip
            if kind.startswith("consent"):
                rec["purpose"] = "marketing"
            if kind == "survey":
                rec["metric"], rec["score"] = "nps", 9.0
            recs.append(rec)
        one = TriggerEngine(parse(text), max_future=None, customers=CUSTOMERS)
        many = TriggerEngine(parse(text), max_future=None, customers=CUSTOMERS)
        a = [whole(one.process(r)) for r in recs]
        b = [whole(many.process_many([r])) for r in recs]
        assert a == b
        assert state_of(one) == state_of(many)
        assert any(a)


# -- records with odd field names ----------------------------------------------------------------
class _Name(str):
    """A field name of a ``str`` subclass (kept by the checked path, never cached)."""


_NAMES = ["note", _Name("note"), "order_id", _Name("order_id"), "sku", "zip", "value",
          _Name("value"), "score", _Name("score"), "answer", "metric", "kind", _Name("kind"),
          "customer_id", _Name("timestamp"), "", "a\ud800", _Name("a\ud800"), "é\ud800", 3,
          1.5, True, None, ("t",), "naïve", "Order_ID", "orderId", "id", "value_id",
          "sentiment", "channel", "interaction_id", "purpose", "x", "price", "é"]  # fmt: skip
_VALUES = ["", "x", "é", "a\ud800", 1.0, 0.0, -0.0, math.nan, math.inf, -math.inf, 1, True,
           False, None, 7, 10**30, "12", "nps", "csat", 5.0, 12.0, _Name("s"), 3.5]  # fmt: skip


class _NothingAsGiven(dict):  # type: ignore[type-arg]
    """A ``_KEEPS`` that keeps nothing as given: every field read by the checked path."""

    def get(self, name: Any, default: Any = None) -> Any:
        return _ingest._REQUIRED_FIELD if name in _ingest._REQUIRED else 0


def _outcome(rec: dict[Any, Any]) -> Any:
    try:
        row = _ingest.row_from_record(rec, "record")
    except CXModelError as error:
        return ("refused", str(error))
    return (row.customer, row.time, row.kind,
            sorted((repr(k), type(k).__name__, repr(v), type(v).__name__)
                   for k, v in row.fields.items()))  # fmt: skip


class TestFieldsKeptAsGiven:
    """The fields kept as given by what their name allows (cached per name) are kept as
    the checked path would keep them, whichever names came first."""

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=4),
            min_size=1,
            max_size=6,
        ),
        st.booleans(),
    )
    def test_as_the_checked_path(self, recs: list[list[tuple[Any, Any]]], warm: bool) -> None:
        built = []
        for fields in recs:
            rec: dict[Any, Any] = {"customer_id": "c", "timestamp": "2024-01-01T00:00:00Z",
                                   "kind": "purchase"}  # fmt: skip
            rec.update(fields)
            built.append(rec)
        saved = _ingest._KEEPS
        try:
            if not warm:
                _ingest._KEEPS = {}
            fast = [_outcome(rec) for rec in built]
            _ingest._KEEPS = _NothingAsGiven()
            checked = [_outcome(rec) for rec in built]
        finally:
            _ingest._KEEPS = saved
        assert fast == checked

    def test_process_reads_them_as_a_log_does(self) -> None:
        """Fields of text and numbers kept as given by ``process`` are the properties a log
        reads from the same records (names like ids keep their numbers as numbers in
        neither: both read them as text, or both as numbers)."""
        recs = [
            {
                "customer_id": "c",
                "timestamp": f"2024-01-0{j + 1}T00:00:00Z",
                "kind": "purchase",
                "interaction_id": f"e{j}",
                "note": "n",
                "value": 2.5,
                "order_id": "o7",
                "channel": "web",
                "sku": "s1",
                "price": 3.0,
            }
            for j in range(3)
        ]
        text = (
            "trigger t:\n    when purchase as p\n"
            "    emit x(n = p.note, o = p.order_id, s = p.sku, pr = p.price, v = p.value)\n"
        )
        engine = TriggerEngine(parse(text), max_future=None)
        streamed = [f for rec in recs for f in engine.process(rec)]
        end = datetime(2024, 2, 1, tzinfo=T0.tzinfo)
        batch = evaluate_complete(parse(text), InteractionLog.from_records(recs), as_of=end)
        assert key(streamed) == key(batch)
        assert [f.payload for f in streamed] == [f.payload for f in batch]


def test_in_memory_store_reopened_reads_the_latest_states() -> None:
    """An engine started again on the in-memory store of an engine that processed one
    interaction at a time (and erased a customer) reads every customer's latest state."""
    rng = random.Random(7)
    recs = _records(rng, unique_ids=True)
    store = InMemoryStore()
    engine = TriggerEngine(parse(POLICIES), store=store, max_future=None, customers=CUSTOMERS)
    for j, rec in enumerate(recs):
        engine.process(rec)
        if j % 17 == 5:
            engine.forget(rec["customer_id"])
        if j % 11 == 3:
            before = state_of(engine)
            store.close()
            engine = TriggerEngine(
                parse(POLICIES), store=store, max_future=None, customers=CUSTOMERS
            )
            assert state_of(engine) == before
    store.close()
