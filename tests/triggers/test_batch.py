"""The batch evaluator against an independent, obviously-correct per-customer reference."""

from __future__ import annotations

import random
import warnings
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from cxmodel.errors import DataWarning
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import evaluate, parse

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def synthetic(seed: int, n_customers: int = 12, n_events: int = 800) -> list[dict[str, Any]]:
    """Random records over ~300 days with ties, missing values and consent flips."""
    rng = random.Random(seed)
    kinds = ["product_view", "purchase", "survey", "ticket_opened", "view", "consent_granted",
             "consent_revoked"]  # fmt: skip
    weights = [30, 15, 10, 25, 20, 5, 3]
    records = []
    for i in range(n_events):
        kind = rng.choices(kinds, weights)[0]
        who = rng.randrange(n_customers)
        span = 300 if who >= 3 else 60  # three customers go quiet (churn risk)
        rec: dict[str, Any] = {
            "customer_id": f"c{who:02d}",
            "timestamp": (T0 + timedelta(hours=rng.randrange(span * 24 // 6) * 6)).isoformat(),
            "kind": kind,
            "interaction_id": f"i{i}",
        }
        if kind in ("product_view", "purchase"):
            rec["product"] = rng.choice(["p1", "p2", "p3"])
        if kind == "purchase":
            rec["value"] = rng.choice([None, 10.0, 50.0, 120.0, 300.0, rng.uniform(0, 500)])
            rec["order_id"] = f"o{rng.randrange(40)}"
        if kind == "survey":
            rec["metric"] = rng.choice(["nps", "csat"])
            rec["score"] = float(
                rng.randrange(11) if rec["metric"] == "nps" else rng.randrange(1, 6)
            )
            rec["order_id"] = f"o{rng.randrange(40)}"
        if kind == "ticket_opened":
            rec["topic"] = rng.choice(["payment", "payment", "delivery"])
        if kind.startswith("consent"):
            rec["purpose"] = rng.choice(["marketing", "service"])
        records.append(rec)
    return records


def _t(rec: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(rec["timestamp"])


def reference(records: list[dict[str, Any]], as_of: datetime) -> tuple[Counter[Any], Counter[Any]]:
    """Plain per-customer evaluation of the six acceptance rules, straight from the spec."""
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for i, rec in enumerate(records):
        if _t(rec) <= as_of:
            by_customer.setdefault(rec["customer_id"], []).append({**rec, "_i": i})
    emitted: Counter[Any] = Counter()
    suppressed: Counter[Any] = Counter()
    for cid, rows in by_customer.items():
        rows.sort(key=lambda r: (_t(r), r["_i"]))
        cands: dict[str, list[tuple[datetime, int, tuple[Any, ...]]]] = {}

        def add(
            rule: str, time: datetime, pos: int, payload: tuple[Any, ...], cands: Any = cands
        ) -> None:
            cands.setdefault(rule, []).append((time, pos, payload))

        for pos, r in enumerate(rows):
            t = _t(r)
            # churn_risk
            later = [_t(x) for x in rows if _t(x) > t]
            nxt = min(later) if later else None
            last_at_time = pos + 1 == len(rows) or _t(rows[pos + 1]) > t
            if last_at_time and t + 90 * DAY <= as_of and (nxt is None or nxt > t + 90 * DAY):
                add("churn_risk", t + 90 * DAY, pos, ())
            # detractor
            if r["kind"] == "survey" and r.get("metric") == "nps" and r["score"] <= 6:
                add("detractor_follow_up", t, pos, (("priority", "high"), ("score", r["score"])))
            if r["kind"] == "purchase":
                earlier = [x for x in rows[:pos] if x["kind"] == "purchase"]
                vals = [x["value"] for x in earlier if x.get("value") is not None]
                if earlier and vals and r.get("value") is not None and r["value"] > max(vals):
                    add(
                        "vip_opportunity", t, pos, (("order", r["order_id"]), ("value", r["value"]))
                    )
                due = t + 7 * DAY
                if due <= as_of and not any(
                    x["kind"] == "survey"
                    and x.get("order_id") == r["order_id"]
                    and t < _t(x) <= due
                    for x in rows
                ):
                    add("satisfaction_check", due, pos, (("order", r["order_id"]),))
            if r["kind"] == "product_view":
                due = t + 7 * DAY
                if due <= as_of and not any(
                    x["kind"] == "purchase"
                    and x.get("product") == r["product"]
                    and t < _t(x) <= due
                    for x in rows
                ):
                    add("browse_abandonment", due, pos, (("product", r["product"]),))
            if r["kind"] == "ticket_opened" and r.get("topic") == "payment":
                n = sum(
                    1
                    for x in rows[: pos + 1]
                    if x["kind"] == "ticket_opened"
                    and x.get("topic") == "payment"
                    and _t(x) >= t - 30 * DAY
                )
                if n > 3:
                    add("payment_escalation", t, pos, (("topic", "payment"),))

        def consent(time: datetime, rows: list[dict[str, Any]] = rows) -> bool:
            state = False
            for x in rows:
                if _t(x) <= time and x.get("purpose") == "marketing":
                    state = x["kind"] == "consent_granted"
            return state

        gaps = {"churn_risk": 90, "browse_abandonment": 30, "payment_escalation": 30}
        for rule, items in cands.items():
            last: datetime | None = None
            for time, _pos, payload in sorted(items, key=lambda c: (c[0], c[1])):
                key = (rule, cid, time, payload)
                gap = gaps.get(rule)
                if (gap is not None and last is not None and last > time - gap * DAY) or (
                    rule == "browse_abandonment" and not consent(time)
                ):
                    suppressed[key] += 1
                else:
                    last = time
                    emitted[key] += 1
    return emitted, suppressed


def _ours(firings: Any) -> Counter[Any]:
    return Counter((f.trigger, f.customer_id, f.time, tuple(f.payload.items())) for f in firings)


class TestAcceptanceRules:
    @pytest.mark.parametrize("seed", [1, 2, 3, 4])
    def test_equals_reference(self, seed: int) -> None:
        """All six acceptance rules equal the plain per-customer reference, suppressed too."""
        records = synthetic(seed)
        log = InteractionLog.from_records(records)
        rules = parse(ACCEPTANCE)
        as_of = T0 + 280 * DAY
        got = evaluate(rules, log, as_of=as_of)
        want, want_suppressed = reference(records, as_of)
        assert _ours(got) == want
        assert _ours(got.suppressed) == want_suppressed
        assert sum(want.values()) > 20
        assert {k[0] for k in want} == {r.name for r in rules}

    def test_firing_ids_unique_and_stable(self) -> None:
        """firing_id is deterministic across runs and unique among firings."""
        log = InteractionLog.from_records(synthetic(5))
        rules = parse(ACCEPTANCE)
        a = evaluate(rules, log, as_of=T0 + 280 * DAY)
        b = evaluate(rules, log, as_of=T0 + 280 * DAY)
        assert [f.firing_id for f in a] == [f.firing_id for f in b]
        assert len(a.ids()) == len(a)

    def test_later_events_invisible(self) -> None:
        """Interactions after as_of change nothing that fired before as_of."""
        records = synthetic(6)
        log = InteractionLog.from_records(records)
        rules = parse(ACCEPTANCE)
        early = evaluate(rules, log, as_of=T0 + 100 * DAY)
        cut = InteractionLog.from_records([r for r in records if _t(r) <= T0 + 100 * DAY])
        assert _ours(early) == _ours(evaluate(rules, cut, as_of=T0 + 100 * DAY))

    def test_suppressed_have_reasons(self) -> None:
        """Suppressed firings carry the policy that suppressed them."""
        log = InteractionLog.from_records(synthetic(7))
        got = evaluate(parse(ACCEPTANCE), log, as_of=T0 + 280 * DAY)
        reasons = {f.reason for f in got.suppressed}
        assert reasons and all(r for r in reasons)
        assert all(f.reason is None for f in got)


class TestAsOf:
    LOG = InteractionLog.from_records(
        [
            {"customer_id": "b", "timestamp": "2023-12-31T00:00:00Z", "kind": "view"},
            {"customer_id": "a", "timestamp": "2024-01-01T23:00:00Z", "kind": "purchase"},
        ]
    )
    RULES = parse("trigger t:\n    when purchase\n    emit a")

    @pytest.mark.parametrize(
        ("as_of", "n_firings"),
        [
            ("2024-01-02Z", 1),  # the form the naive-time error suggests
            ("2024-01-02+02:00", 0),  # 22:00 UTC on the 1st, before the purchase
            ("2024-01-01-02:00", 0),  # 02:00 UTC on the 1st
        ],
    )
    def test_date_with_offset_is_midnight_at_that_offset(self, as_of: str, n_firings: int) -> None:
        """A date with an offset is accepted as midnight at that offset, not refused as naive."""
        assert len(evaluate(self.RULES, self.LOG, as_of=as_of)) == n_firings


def test_a_kind_the_log_holds_spelt_otherwise_warns() -> None:
    """``when purchase`` over ``Purchase`` rows finds no firing: evaluate says why, naming the
    kind as the log writes it and its rows, instead of a quiet empty result."""
    log = InteractionLog.from_records(
        [{"customer_id": c, "timestamp": "2024-01-01T00:00:00Z", "kind": "Purchase"} for c in "abc"]
    )
    with pytest.warns(DataWarning, match=r"reads 'purchase' .* holds 'Purchase' \(3 rows\)"):
        firings = evaluate(
            parse("trigger t:\n    when purchase\n    emit x"), log, as_of="2024-02-01Z"
        )
    assert len(firings) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a kind simply absent is no warning
        assert (
            len(
                evaluate(parse("trigger r:\n    when refund\n    emit x"), log, as_of="2024-02-01Z")
            )
            == 0
        )


class TestFiringsAfterTheData:
    """Firings after the log's last interaction assume nobody came in a span the data never
    saw: evaluate answers them (``as_of`` declares the data complete) and counts them per
    rule in a warning, unless the log is declared observed that long."""

    LOG = InteractionLog.from_records(
        [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"},
            {"customer_id": "b", "timestamp": "2024-01-20T00:00:00Z", "kind": "purchase"},
            {"customer_id": "b", "timestamp": "2024-02-01T00:00:00Z", "kind": "view"},
        ]
    )
    RULES = parse(
        "trigger lapsed:\n    when inactive for 10 days\n    emit nudge\n\n"
        "trigger ask:\n    when purchase as p then after 5 days\n    emit survey\n\n"
        "trigger bought:\n    when purchase\n    emit thanks"
    )

    def test_counts_per_rule(self) -> None:
        # lapsed: a on Jan 11 and b on Jan 30 (inside the data), b on Feb 11 (after it);
        # ask: a on Jan 6, b on Jan 25 (inside); bought: at the purchases
        with pytest.warns(DataWarning, match=r"1 firing falls in it \(lapsed: 1\)") as caught:
            firings = evaluate(self.RULES, self.LOG, as_of="2024-03-01Z")
        assert len(caught) == 1
        assert "29.0 days after the log's last interaction (2024-02-01T00:00:00Z)" in str(
            caught[0].message
        )
        assert sorted((f.trigger, f.customer_id) for f in firings) == [
            ("ask", "a"), ("ask", "b"), ("bought", "a"), ("bought", "b"),
            ("lapsed", "a"), ("lapsed", "b"), ("lapsed", "b"),
        ]  # fmt: skip

    def test_suppressed_firings_count_too(self) -> None:
        rules = parse(
            "trigger lapsed:\n    when inactive for 3 days\n    emit nudge\n    once per customer"
        )
        log = InteractionLog.from_records(
            [
                {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
                {"customer_id": "a", "timestamp": "2024-01-10T00:00:00Z", "kind": "view"},
            ]
        )
        with pytest.warns(DataWarning, match=r"1 firing falls in it \(lapsed: 1\)"):
            firings = evaluate(rules, log, as_of="2024-02-01Z")
        assert len(firings) == 1 and len(firings.suppressed) == 1

    def test_declared_observation_or_earlier_as_of_is_silent(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            declared = evaluate(
                self.RULES, self.LOG.with_observed_until("2024-03-01Z"), as_of="2024-03-01Z"
            )
            inside = evaluate(self.RULES, self.LOG, as_of="2024-02-01Z")
            events_only = evaluate(parse("trigger t:\n    when view\n    emit x"), self.LOG,
                                   as_of="2024-03-01Z")  # fmt: skip
        assert len(declared) == 7
        assert len(inside) == 6
        assert len(events_only) == 1

    def test_the_declared_answer_is_the_same(self) -> None:
        with pytest.warns(DataWarning):
            warned = evaluate(self.RULES, self.LOG, as_of="2024-03-01Z")
        declared = evaluate(
            self.RULES, self.LOG.with_observed_until("2024-03-01Z"), as_of="2024-03-01Z"
        )
        assert warned == declared
