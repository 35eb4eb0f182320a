"""The streaming engine's bounded memory attacked construct by construct.

``TriggerEngine`` keeps, per customer, only what its rules can still read (docs/guide/
streaming.md, "State, atomicity and recovery"; docs/reference/triggers.md, "Streaming"), so on
a stationary stream (a fixed set of customers, the same mix of kinds all along, an id on every
interaction) its state is as large in the middle of the second year as in the middle of the
first. Each rule construct (every ``when`` and ``then`` mode, ``unless``, every aggregate
function with ``within D``, calendar months, ``before x``, over all history and with ``where``;
the policies, quiet hours and customer time with their waiting decisions; contact policies,
catalogue rules and alerts) runs over two simulated years on the columnar path (micro-batches
of 2,000), one interaction at a time, and on a ``SQLiteStore`` (firings acknowledged and
pruned): the serialised state, the meta, the timer queue and the checkpointed file of year
two are at most 30 % above year one's, and both paths hold the same state.

What a rule can still read grows by design (a ``median`` over all history, ``distinct`` of a
field that never repeats, a ``then B`` that waits for ever, rows kept for a ``where`` that
reads the bound interaction without ``within``): those tests check that it does, and only
there. A window, kept rows and a catalogue join buffer must not keep a burst for a customer
who stops bringing their kind. ``remove_rule`` and ``forget`` must leave nothing of the rule
or the customer behind: no rule state, no contact policy's counts, no catalogue index entry,
no timer that outlives its time, on either path.
"""

from __future__ import annotations

import json
import random
import sqlite3
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning
from cxmodel.triggers import EXAMPLE_RULES, SQLiteStore, TriggerEngine, parse
from tests.triggers.helpers import COLUMNAR, PER_ROW, engine_of

EXAMPLES = parse(EXAMPLE_RULES)

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
ZONES = ["America/New_York", "Europe/Paris", "Asia/Tokyo", "UTC", "Australia/Sydney"]
N_CUSTOMERS = 30
CUSTOMERS = {
    f"c{i}": Customer(f"c{i}", traits={"timezone": ZONES[i % 5], "tier": i % 3})
    for i in range(N_CUSTOMERS)
}
#: the kinds of the stationary stream, in their proportions
KINDS = [
    "purchase",
    "purchase",
    "product_view",
    "product_view",
    "survey",
    "ticket_opened",
    "view",
    "consent_granted",
    "consent_revoked",
]
GROWTH = 1.3  # year two may exceed year one by at most this factor


def stationary(
    seed: int, n: int = 8000, days: int = 730, restocks: int = 0
) -> list[dict[str, Any]]:
    """``n`` interactions of ``N_CUSTOMERS`` customers spread evenly over ``days``, each with
    an id, the same mix of kinds all along (and ``restocks`` catalogue events), in time
    order, timestamps as text."""
    rng = random.Random(seed)
    out: list[tuple[datetime, dict[str, Any]]] = []
    for j in range(n):
        kind = rng.choice(KINDS)
        rec: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(N_CUSTOMERS)}",
            "kind": kind,
            "interaction_id": f"i{j}",
            "value": float(rng.randrange(10, 300)),
            "product": rng.choice(["p1", "p2", "p3", "p4"]),
            "order_id": f"o{rng.randrange(40)}",
            "topic": "payment",
        }
        if kind == "survey":
            rec.update(metric="nps", score=float(rng.randrange(11)))
        if kind.startswith("consent"):
            rec["purpose"] = rng.choice(["marketing", "sms"])
        out.append((T0 + timedelta(minutes=rng.randrange(days * 1440)), rec))
    for j in range(restocks):
        event = {"kind": "restock", "product": rng.choice(["p1", "p2", "p3", "p4"])}
        event["interaction_id"] = f"r{j}"
        out.append((T0 + timedelta(minutes=rng.randrange(days * 1440)), event))
    out.sort(key=lambda item: item[0])
    return [{**rec, "timestamp": t.isoformat()} for t, rec in out]


def files_of(path: Path) -> list[Path]:
    """The SQLite file and its sidecars that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def disk_bytes(path: Path) -> int:
    """The store's bytes on disk after a WAL checkpoint."""
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return sum(p.stat().st_size for p in files_of(path))


def states(engine: TriggerEngine) -> dict[str, Any]:
    """Every customer's serialised state."""
    return {cid: s.to_dict() for cid, s in engine._runner.states.items()}


class Mark:
    """What an engine holds at one point of the stream: the serialised customer states'
    bytes, the meta's bytes (alert and catalogue state, the lateness buffer), the timer
    queue's length, the values in alerts' windows, and the store's bytes on disk."""

    def __init__(self, engine: TriggerEngine, path: Path | None) -> None:
        stats = engine.stats()
        self.state = int(stats["state_bytes"])
        self.meta = len(json.dumps(engine._meta(), separators=(",", ":"), default=str))
        self.timers = len(engine._runner.timers)
        self.alert_values = int(stats["alert_window_values"])
        self.disk = disk_bytes(path) if path is not None else 0
        self.states = states(engine)

    def __repr__(self) -> str:
        return (
            f"Mark(state={self.state}, meta={self.meta}, timers={self.timers}, "
            f"alert_values={self.alert_values}, disk={self.disk})"
        )


def two_years(
    rules: Any,
    recs: list[dict[str, Any]],
    path: int | None,
    batch: int,
    store: Path | None = None,
    **kwargs: Any,
) -> list[Mark]:
    """Stream ``recs`` (two years) in calls of ``batch`` interactions (``process`` when 1) on
    ``path``, with a clock tick at the end of each quarter of the stream; with ``store``, on
    a ``SQLiteStore`` there, firings acknowledged and pruned. The marks after the first and
    the third quarter: the middle of year one and of year two."""
    sqlite = SQLiteStore(store) if store is not None else None
    engine = engine_of(rules, path, customers=CUSTOMERS, store=sqlite, **kwargs)
    quarter = len(recs) // 4
    marks = []
    try:
        for q in range(4):
            part = recs[q * quarter : (q + 1) * quarter]
            for start in range(0, len(part), batch):
                if batch == 1:
                    got = [f.firing_id for f in engine.process(part[start])]
                else:
                    got = engine.process_many(part[start : start + batch]).ids()
                if sqlite is not None:
                    sqlite.acknowledge(got)
            ticked = engine.advance_to(part[-1]["timestamp"])
            if sqlite is not None:
                sqlite.acknowledge([f.firing_id for f in ticked])
                sqlite.prune()
            if q in (0, 2):
                marks.append(Mark(engine, store))
    finally:
        if sqlite is not None:
            sqlite.close()
    return marks


def assert_bounded(first: Mark, second: Mark, what: str) -> None:
    """Year two's mark is within ``GROWTH`` of year one's, in every measure."""
    for name in ("state", "meta", "timers", "alert_values", "disk"):
        one, two = getattr(first, name), getattr(second, name)
        assert two <= GROWTH * one + 64, f"{what}: {name} grew from {one} to {two}"


@pytest.fixture(autouse=True)
def _no_warnings() -> Iterator[None]:
    """Late interactions are expected where a stream jitters."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        yield


# -- the constructs --------------------------------------------------------------------------
EVENT = "trigger r:\n    when purchase as p where p.value > 100\n    emit a(v = p.value)\n"

WHEN_THEN = {
    "inactive": "trigger r:\n    when inactive for 30 days\n    emit a",
    "inactive-months-customer-time": (
        "trigger r:\n    when inactive for 1 months\n    emit a\n    in customer timezone"
    ),
    "no-for": "trigger r:\n    when no purchase for 14 days\n    emit a",
    "no-where-for": "trigger r:\n    when no purchase where value > 100 for 14 days\n    emit a",
    "event": EVENT,
    "then-within": "trigger r:\n    when product_view as v then purchase within 7 days\n    emit a",
    "then-pair-within": (
        "trigger r:\n    when product_view as v then purchase where product == v.product "
        "within 7 days\n    emit a"
    ),
    "then-no": "trigger r:\n    when product_view as v then no purchase for 3 days\n    emit a",
    "then-no-pair": (
        "trigger r:\n    when product_view as v then no purchase where product == v.product "
        "for 3 days\n    emit a"
    ),
    "then-after": "trigger r:\n    when purchase as p then after 30 days\n    emit a",
    "then-after-unless": (
        "trigger r:\n    when purchase as p then after 30 days\n"
        "    unless ticket_opened where order_id == p.order_id\n    emit a"
    ),
    "then-after-months-customer-time": (
        "trigger r:\n    when purchase as p then after 1 months\n    emit a\n"
        "    in customer timezone"
    ),
    # completed by the next purchase of any product: bounded on a stationary stream
    "then-without-within": "trigger r:\n    when product_view as v then purchase\n    emit a",
}

POLICIES = {
    "cooldown": EVENT + "    cooldown 7 days",
    "once": EVENT + "    once per customer",
    "once-every": EVENT + "    once per customer every 30 days",
    "consent": EVENT + "    requires consent marketing",
    "quiet-hours": EVENT + "    quiet hours 22:00-06:00",
    "quiet-hours-customer-time": EVENT + "    quiet hours 22:00-06:00 in customer timezone",
    "quiet-consent-cooldown": (
        EVENT + "    quiet hours 09:00-17:00 in customer timezone\n"
        "    requires consent marketing\n    cooldown 3 days"
    ),
    "holdout": EVENT + "    holdout 25%",
    "traits": "trigger r:\n    when purchase as p where customer.tier + 1 > 1\n    emit a",
    "inactive-quiet-consent": (
        "trigger r:\n    when inactive for 10 days\n    emit a\n"
        "    quiet hours 09:00-17:00 in customer timezone\n    requires consent sms"
    ),
    "then-after-quiet-once-every": (
        "trigger r:\n    when purchase as p then after 3 days\n    unless ticket_opened\n"
        "    emit a\n    quiet hours 22:00-06:00\n    once per customer every 10 days"
    ),
    "examples": EXAMPLE_RULES,
}

#: (function, its argument) of every aggregate function
FUNCTIONS = [
    ("count", "purchase"),
    ("sum", "purchase.value"),
    ("avg", "purchase.value"),
    ("median", "purchase.value"),
    ("min", "purchase.value"),
    ("max", "purchase.value"),
    ("distinct", "purchase.product"),
    ("first", "purchase.value"),
    ("last", "purchase.value"),
]
#: how an aggregate reads: a window, a calendar window, before x, all history, a where
SCOPES = {
    "within": " within 30 days",
    "months": " within 1 months",
    "before": " before p",
    "all": "",
    "where": ' where product == "p1" within 30 days',
    "where-all": ' where product == "p1"',
}


def aggregate_rule(func: str, arg: str, scope: str) -> str:
    """A rule firing at each purchase whose ``if`` reads the aggregate (always true)."""
    return f"trigger r:\n    when purchase as p\n    if {_test(func, arg, scope)}\n    emit a"


def _test(func: str, arg: str, scope: str) -> str:
    call = f"{func}({arg}{scope})"
    return f"{call} >= 0" if func in ("count", "distinct") else f"({call} ?? 0) >= 0"


#: per scope, a rule reading every function so (a median over all history or before x keeps
#: its values: see TestInherentGrowth)
AGGREGATES = {
    scope: "trigger r:\n    when purchase as p\n    if "
    + " and ".join(
        _test(func, arg, text)
        for func, arg in FUNCTIONS
        if not (func == "median" and scope in ("before", "all", "where-all"))
    )
    + "\n    emit a"
    for scope, text in SCOPES.items()
}
#: an aggregate whose where reads the bound interaction keeps the kind's rows: in its window
AGGREGATES["pairs-within"] = aggregate_rule(
    "sum", "purchase.value", " where product == p.product within 30 days"
)


def check_stationary(text: str, tmp_path: Path, restocks: int = 0) -> None:
    """The construct over two years, on the columnar path in micro-batches of 2,000, one
    interaction at a time, and on SQLite in micro-batches of 100: bounded, and the paths
    hold the same state at each mark."""
    rules = parse(text)
    recs = stationary(1, restocks=restocks)
    columnar = two_years(rules, recs, COLUMNAR, 2000)
    per_row = two_years(rules, recs, PER_ROW, 1)
    on_disk = two_years(rules, recs, PER_ROW, 100, store=tmp_path / "s.db")
    for label, (first, second) in [
        ("columnar", columnar),
        ("per-row", per_row),
        ("sqlite", on_disk),
    ]:
        assert_bounded(first, second, label)
    for j in (0, 1):
        assert columnar[j].states == per_row[j].states == on_disk[j].states


class TestStationaryTwoYears:
    @pytest.mark.parametrize("name", list(WHEN_THEN))
    def test_when_and_then_modes(self, name: str, tmp_path: Path) -> None:
        check_stationary(WHEN_THEN[name], tmp_path)

    @pytest.mark.parametrize("name", list(AGGREGATES))
    def test_aggregates(self, name: str, tmp_path: Path) -> None:
        check_stationary(AGGREGATES[name], tmp_path)

    @pytest.mark.parametrize("name", list(POLICIES))
    def test_policies_and_customer_time(self, name: str, tmp_path: Path) -> None:
        check_stationary(POLICIES[name], tmp_path)

    @pytest.mark.parametrize(
        "text",
        [
            EVENT + "    cooldown 1 days\n\ntrigger s:\n    when product_view as v then no "
            "purchase for 2 days\n    emit b\n    quiet hours 22:00-06:00\n\n"
            "contact policy cap:\n    at most 2 per 7 days\n    rules r > s",
            EVENT + "\ntrigger s:\n    when product_view as v\n    emit b\n\n"
            "contact policy cap:\n    at most 3 per 1 months\n    rules s > r",
        ],
        ids=["quiet-hours", "months"],
    )
    def test_contact_policies(self, text: str, tmp_path: Path) -> None:
        """Each customer keeps the policy's last N emitted firings, no more."""
        check_stationary(text, tmp_path)

    @pytest.mark.parametrize(
        "alert",
        [
            "alert spike:\n    when count(ticket_opened within 1 hours) >= 2\n"
            "    emit page(n = count(ticket_opened within 1 hours))\n    cooldown 1 days",
            'alert spend:\n    when sum(purchase.value where product == "p1" within 1 days) '
            ">= 300\n    emit page",
            "alert many:\n    when distinct(purchase.customer_id within 7 days) >= 5\n"
            "    emit page\n    once",
        ],
        ids=["count", "sum-where", "distinct-customers"],
    )
    def test_alerts(self, alert: str, tmp_path: Path) -> None:
        """An alert's windows (in the store, one record per value) hold the last D."""
        check_stationary(EVENT + "\n" + alert, tmp_path)

    @pytest.mark.parametrize(
        "text",
        [
            "trigger back:\n    when restock as r for customers with product_view where "
            "product == r.product within 7 days\n    emit notify(p = r.product)\n"
            "    cooldown 1 days",
            'trigger back:\n    when restock as r where r.product == "p1" for customers with '
            "product_view within 3 days\n    emit notify\n"
            "    quiet hours 22:00-06:00 in customer timezone",
        ],
        ids=["keyed", "unkeyed-quiet-hours"],
    )
    def test_catalogue_rules(self, text: str, tmp_path: Path) -> None:
        """The join buffers, the index, the events waiting for their time and their ids."""
        check_stationary(text, tmp_path, restocks=400)

    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW], ids=["columnar", "per-row"])
    def test_late_and_repeated_delivery(self, path: int | None) -> None:
        """Out of order within the allowed lateness, one in ten delivered twice, ids kept for
        30 days: the lateness buffer, its ids and the remembered ids stay bounded."""
        rules = parse(EXAMPLE_RULES + "\n" + WHEN_THEN["then-pair-within"].replace(" r:", " x:"))
        recs = stationary(4, n=10_000)
        rng = random.Random(9)
        jitter = [timedelta(minutes=rng.randrange(360)) for _ in recs]
        order = sorted(
            range(len(recs)),
            key=lambda j: datetime.fromisoformat(recs[j]["timestamp"]) + jitter[j],
        )
        feed = [recs[j] for j in order for _ in range(2 if rng.random() < 0.1 else 1)]
        marks = two_years(
            rules,
            feed,
            path,
            2000 if path else 25,
            allowed_lateness="6 hours",
            redelivery_window="30 days",
        )
        assert_bounded(*marks, "late and repeated")


BUFFERED = {
    "window": "trigger r:\n    when view as v\n    if count(purchase within 1 days) >= 0\n    emit a",
    "window-months-customer-time": (
        "trigger r:\n    when view as v\n    if (max(purchase.value within 1 months) ?? 0) >= 0"
        "\n    emit a\n    in customer timezone"
    ),
    "kept-rows": (
        "trigger r:\n    when view as v\n    if count(purchase where product == v.product "
        "within 1 days) >= 0\n    emit a"
    ),
    "catalogue-join": (
        "trigger r:\n    when restock as x for customers with purchase where "
        "product == x.product within 1 days\n    emit a"
    ),
}


class TestBuffersPastTheirWindow:
    """A window, the rows kept for a ``where`` reading the bound interaction, and a catalogue
    rule's join buffer are trimmed as their kind's interactions arrive. A customer who
    stops bringing that kind (who goes quiet, or only views from then on) must not keep a
    burst of it for ever: no query can read it once its window has passed."""

    @staticmethod
    def _after_burst(text: str, burst: int, path: int | None, store: Any = None) -> TriggerEngine:
        """The engine after customer ``c0`` bought ``burst`` times in a minute, then viewed
        daily for two months (customer ``c1`` too), then a clock tick a month later."""
        engine = engine_of(parse(text), path, customers=CUSTOMERS, store=store)
        a = [
            {
                "customer_id": "c0",
                "timestamp": (T0 + timedelta(milliseconds=20 * i)).isoformat(),
                "kind": "purchase",
                "interaction_id": f"a{i}",
                "value": 10.0,
                "product": f"p{i % 7}",
            }
            for i in range(burst)
        ]
        engine.process_many(a)
        views = [
            {
                "customer_id": cid,
                "timestamp": (T0 + timedelta(days=day, hours=h)).isoformat(),
                "kind": "view",
                "interaction_id": f"{cid}-{day}",
            }
            for day in range(1, 60)
            for h, cid in enumerate(["c0", "c1"])
        ]
        if path is None:
            for view in views:
                engine.process(view)
        else:
            engine.process_many(views)
        engine.advance_to(T0 + timedelta(days=90))
        return engine

    @pytest.mark.parametrize("name", list(BUFFERED))
    def test_a_burst_leaves_nothing(self, name: str) -> None:
        """As much state after a burst of 2,000 as after one purchase, and the same on both
        paths."""
        sizes, held = [], []
        for path in (COLUMNAR, PER_ROW):
            one = self._after_burst(BUFFERED[name], 1, path)
            many = self._after_burst(BUFFERED[name], 2000, path)
            sizes.append((one.stats()["state_bytes"], many.stats()["state_bytes"]))
            held.append(states(many))
        assert all(one == many for one, many in sizes), sizes
        assert held[0] == held[1]

    def test_a_burst_leaves_the_file(self, tmp_path: Path) -> None:
        """The trimmed buffers are committed: the customer's row in the store holds none."""
        with SQLiteStore(tmp_path / "s.db") as store:
            self._after_burst(BUFFERED["window"], 2000, PER_ROW, store=store)
            row = _stored(tmp_path / "s.db")["c0"]
        assert not any(row["windows"].values()), row["windows"]


class TestInherentGrowth:
    """What a rule can still read grows with the interactions that bring it, by design
    (docs/guide/streaming.md says so): these check that it does, so that a change that
    bounds it also changes the documentation."""

    @pytest.mark.parametrize(
        "text",
        [
            aggregate_rule("median", "purchase.value", ""),
            aggregate_rule("median", "purchase.value", " before p"),
            aggregate_rule("distinct", "purchase.ident", ""),
            "trigger r:\n    when product_view as v then purchase where product == v.product "
            'and v.product == "none"\n    emit a',
            aggregate_rule("count", "purchase", " where product == p.product"),
        ],
        ids=["median", "median-before", "distinct-unique", "then-never", "pairs-all-history"],
    )
    def test_grows(self, text: str) -> None:
        recs = stationary(2, n=6000)
        for j, rec in enumerate(recs):
            rec["ident"] = f"u{j}"  # never repeats
        first, second = two_years(parse(text), recs, PER_ROW, 100)
        assert second.state > GROWTH * first.state, (first, second)

    def test_consent_per_purpose(self) -> None:
        """Consent is kept per purpose named, whatever the rules read: one per campaign."""
        recs = stationary(2, n=6000)
        for j, rec in enumerate(recs):
            if rec["kind"].startswith("consent"):
                rec["purpose"] = f"campaign{j}"
        first, second = two_years(parse(EVENT), recs, PER_ROW, 100)
        assert second.state > GROWTH * first.state, (first, second)

    def test_outbox_until_acknowledged_and_pruned(self) -> None:
        """The default in-memory store keeps every firing the calls returned until the host
        acknowledges and prunes it, and then nothing."""
        recs = stationary(1, n=4000)
        kept, pruned = (
            TriggerEngine(EXAMPLES, max_future=None),
            TriggerEngine(EXAMPLES, max_future=None),
        )
        sizes = []
        for start in range(0, len(recs), 1000):
            kept.process_many(recs[start : start + 1000])
            got = pruned.process_many(recs[start : start + 1000])
            pruned.store.acknowledge(got.ids())
            pruned.store.prune()
            sizes.append((len(kept.store.firings()), len(pruned.store.firings())))
        assert sizes[-1][0] > 3 * sizes[0][0] > 0, sizes
        assert all(after == 0 for _, after in sizes), sizes


# -- remove_rule ----------------------------------------------------------------------------
BASE = "trigger base:\n    when purchase as p where p.value > 250\n    emit a\n"

REMOVED = {
    "contact-policy": (
        "trigger r:\n    when product_view as v\n    emit b\n\n"
        "contact policy cap:\n    at most 2 per 7 days\n    rules r"
    ),
    "contact-policy-two-rules": (
        "trigger r:\n    when product_view as v\n    emit b\n\ntrigger s:\n    when survey as v\n"
        "    emit c\n\ncontact policy cap:\n    at most 2 per 7 days\n    rules r > s"
    ),
    "catalogue": (
        "trigger r:\n    when restock as x for customers with product_view where "
        "product == x.product within 7 days\n    emit n"
    ),
    "quiet-hours": "trigger r:\n    when product_view as v\n    emit b\n    quiet hours 00:00-23:00",
    "then-after": "trigger r:\n    when product_view as v then after 60 days\n    emit b",
    "aggregates": (
        "trigger r:\n    when product_view as v\n    if median(purchase.value) > 0 and "
        "count(survey within 30 days) >= 0 and sum(purchase.value where product == v.product) > 0"
        "\n    emit b"
    ),
    "inactive": "trigger r:\n    when inactive for 90 days\n    emit b\n    in customer timezone",
    "alert": "alert r:\n    when count(ticket_opened within 1 days) >= 2\n    emit page",
}


class TestRemoveRule:
    @pytest.mark.parametrize("path", [COLUMNAR, PER_ROW], ids=["columnar", "per-row"])
    @pytest.mark.parametrize("name", list(REMOVED))
    def test_nothing_of_the_rule_is_left(self, name: str, path: int | None) -> None:
        """A year with the rule, then it is removed (with every rule but ``base``) and a year
        more streams: the customers' states are those of an engine that only ever had
        ``base``; no catalogue index, and no timer of the removed rules once due (the
        columnar path drops them as the per-interaction path does)."""
        rules = parse(BASE + "\n" + REMOVED[name])
        recs = stationary(2, n=6000, restocks=300 if "restock" in REMOVED[name] else 0)
        half = len(recs) // 2
        engine = engine_of(rules, path, customers=CUSTOMERS)
        alone = engine_of(parse(BASE), path, customers=CUSTOMERS)
        batch = 2000 if path else 1

        def feed(target: TriggerEngine, part: list[dict[str, Any]]) -> None:
            for start in range(0, len(part), batch):
                if batch == 1:
                    target.process(part[start])
                else:
                    target.process_many(part[start : start + batch])

        feed(engine, recs[:half])
        for rule_name in [r.name for r in rules] + [a.name for a in rules.alerts]:
            if rule_name != "base":
                engine.remove_rule(rule_name)
        customers_only = [r for r in recs if "customer_id" in r]
        feed(engine, [r for r in recs[half:] if "customer_id" in r])
        feed(alone, customers_only)
        assert states(engine) == states(alone)
        runner = engine._runner
        assert not runner.catalogue.index and not runner.buffering
        assert not [t for t in runner.timers if t[4] != "base"]

    def test_contact_counts_leave_the_file(self, tmp_path: Path) -> None:
        """The counts a contact policy kept per customer leave the store's rows with the
        policy's last rule, and do not come back on a restart."""
        path = tmp_path / "s.db"
        rules = parse(BASE + "\n" + REMOVED["contact-policy"])
        recs = stationary(3, n=1500)
        with SQLiteStore(path) as store:
            engine = TriggerEngine(rules, store=store, max_future=None)
            engine.process_many(recs)
            assert "contacts" in json.dumps(_stored(path))
            engine.remove_rule("r")
            assert "contacts" not in json.dumps(_stored(path))
        with SQLiteStore(path) as store:
            TriggerEngine(parse(BASE), store=store, max_future=None)
            assert "contacts" not in json.dumps(_stored(path))

    def test_restart_without_the_policy_drops_its_counts_from_the_file(
        self, tmp_path: Path
    ) -> None:
        """A restart whose rules no longer have the policy drops its counts from the
        customers' rows at once, not at each customer's next interaction."""
        path = tmp_path / "s.db"
        rules = parse(BASE + "\n" + REMOVED["contact-policy"])
        with SQLiteStore(path) as store:
            TriggerEngine(rules, store=store, max_future=None).process_many(stationary(3, 1500))
        with SQLiteStore(path) as store:
            engine = TriggerEngine(parse(BASE), store=store, max_future=None)
            assert not any(s.contacts for s in engine._runner.states.values())
            assert "contacts" not in json.dumps(_stored(path))


def _stored(path: Path) -> dict[str, Any]:
    """The customers' rows of a SQLite store, decoded."""
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT customer_id, state FROM customers").fetchall()
    finally:
        raw.close()
    return {cid: json.loads(text) for cid, text in rows}


# -- forget ---------------------------------------------------------------------------------
CHURN_RULES = """trigger cat:
    when restock as x for customers with product_view where product == x.product within 30 days
    emit n
trigger later:
    when purchase as p then after 90 days
    emit l
    quiet hours 22:00-06:00 in customer timezone
trigger idle:
    when inactive for 120 days
    emit i
alert spike:
    when count(ticket_opened within 30 days) >= 2
    emit page
alert buyers:
    when distinct(purchase.customer_id within 30 days) >= 3
    emit page
"""


def churn(seed: int) -> tuple[list[dict[str, Any]], dict[str, Customer]]:
    """Two years of generations of 20 customers, each active for 60 days, with 200
    products (rarely restocked, so the catalogue index is seldom tidied by an event)."""
    rng = random.Random(seed)
    out: list[tuple[datetime, dict[str, Any]]] = []
    for j in range(5000):
        day = rng.randrange(720)
        rec = {
            "customer_id": f"g{day // 60}c{rng.randrange(20)}",
            "kind": rng.choice(["purchase", "product_view", "ticket_opened", "view"]),
            "interaction_id": f"i{j}",
            "product": f"p{rng.randrange(200)}",
            "value": 1.0,
        }
        out.append((T0 + timedelta(days=day, minutes=rng.randrange(1440)), rec))
    for j in range(300):
        event = {"kind": "restock", "product": f"p{rng.randrange(200)}", "interaction_id": f"r{j}"}
        out.append((T0 + timedelta(days=rng.randrange(720), minutes=rng.randrange(1440)), event))
    out.sort(key=lambda item: item[0])
    customers = {
        f"g{g}c{i}": Customer(f"g{g}c{i}", traits={"timezone": ZONES[i % 5]})
        for g in range(12)
        for i in range(20)
    }
    return [{**rec, "timestamp": t.isoformat()} for t, rec in out], customers


class TestForget:
    def test_forgotten_customers_leave_nothing(self, tmp_path: Path) -> None:
        """Customers come and go: each generation is forgotten 60 days after its last day.
        Nothing in the engine names a forgotten customer (states, traits, readers, the
        catalogue index, alerts' windows, the ids being remembered) but timers queued for
        them that are not yet due, which fire nothing; the state and the file stay as large
        in year two as in year one."""
        path = tmp_path / "s.db"
        recs, customers = churn(5)
        forgotten: set[str] = set()
        sizes: list[tuple[int, int]] = []
        with SQLiteStore(path) as store:
            engine = TriggerEngine(
                parse(CHURN_RULES), store=store, customers=customers, max_future=None
            )
            for start in range(0, len(recs), 100):
                chunk = recs[start : start + 100]
                store.acknowledge(engine.process_many(chunk).ids())
                store.prune()
                now = datetime.fromisoformat(chunk[-1]["timestamp"])
                ended = (now - T0).days // 60 - 1
                for cid in sorted(customers):
                    if int(cid[1:].split("c")[0]) < ended and cid not in forgotten:
                        engine.forget(cid)
                        forgotten.add(cid)
                if start // 100 in (15, 40):  # the middle of each year
                    sizes.append((engine.stats()["state_bytes"], disk_bytes(path)))
                runner = engine._runner
                assert not forgotten & set(runner.states)
                assert not forgotten & (set(runner.traits) | set(runner.readers))
                assert not forgotten & set(engine.customers)
                assert not any(cid in runner.remembering for cid in forgotten)
                indexed = {
                    cid
                    for by_key in runner.catalogue.index.values()
                    for cids in by_key.values()
                    for cid in cids
                }
                assert not forgotten & indexed
                assert not [
                    e
                    for s in runner.alerts.states.values()
                    for w in s.windows.values()
                    for e in w.entries
                    if e[2] in forgotten
                ]
                released = engine._delivery.released
                assert all(t[0] >= released for t in runner.timers if t[3] in forgotten)
            assert not forgotten & set(_stored(path))
        (state_one, disk_one), (state_two, disk_two) = sizes
        assert state_two <= GROWTH * state_one, sizes
        assert disk_two <= GROWTH * disk_one, sizes

    def test_forget_many_then_stream(self) -> None:
        """Half the customers forgotten at once: the catalogue index holds only the others,
        and the stream goes on as for an engine that never knew them."""
        recs = stationary(6, n=4000, restocks=200)
        half = len(recs) // 2
        rules = parse(REMOVED["catalogue"])
        engine = engine_of(rules, PER_ROW, customers=CUSTOMERS)
        engine.process_many(recs[:half])
        gone = {f"c{i}" for i in range(0, N_CUSTOMERS, 2)}
        for cid in sorted(gone):
            engine.forget(cid)
        indexed = {
            cid
            for by_key in engine._runner.catalogue.index.values()
            for cids in by_key.values()
            for cid in cids
        }
        assert indexed and not indexed & gone
        rest = [r for r in recs[half:] if r.get("customer_id") not in gone]
        engine.process_many(rest)
        assert not gone & set(engine._runner.states)
