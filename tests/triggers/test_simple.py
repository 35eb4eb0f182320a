"""Event-local and inactivity rules streamed equal batch, firing for firing (payloads included)."""

from __future__ import annotations

import random
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, EvaluationLimitError, SchemaError, TriggerTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import TriggerEngine, check, parse
from tests.triggers.helpers import evaluate_complete, interaction

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
KINDS = ["product_view", "purchase", "survey", "consent_granted", "consent_revoked"]


def records(seed: int, n: int, n_customers: int = 3, days: int = 40) -> list[dict[str, Any]]:
    """Random interactions in time order, with ties, missing fields and consent changes."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.choice(KINDS)
        rec: dict[str, Any] = {
            "customer_id": f"c{rng.randrange(n_customers)}",
            "timestamp": T0 + timedelta(hours=12 * rng.randrange(days * 2)),
            "kind": kind,
        }
        if rng.random() < 0.8:
            rec["interaction_id"] = f"i{i}"
        if rng.random() < 0.7:
            rec["product"] = rng.choice(["p1", "p2"])
        if rng.random() < 0.7:
            rec["value"] = float(rng.randrange(0, 300, 50))
        if kind == "survey" and rng.random() < 0.7:
            rec["metric"] = "nps"
            rec["score"] = float(rng.randrange(11))
        if kind.startswith("consent"):
            rec["purpose"] = rng.choice(["marketing", "service"])
        if kind == "consent_revoked":
            # a revocation tied with an earlier-delivered firing cannot un-emit it (neither
            # engine path retracts), so revocations sit between the 12-hour grid points
            rec["timestamp"] += timedelta(hours=6)
        out.append(rec)
    out.sort(key=lambda r: r["timestamp"])
    return out


def full_key(firings: Any) -> list[Any]:
    """Every field of every firing, sorted."""
    return sorted(
        (f.trigger, f.customer_id, f.time, f.firing_id, f.action, repr(f.payload), repr(f.because))
        for f in firings
    )


durations = st.sampled_from(["1 days", "3 days", "7 days", "2 weeks"])


@st.composite
def fast_rules(draw: st.DrawFn) -> str:
    """A random rule of a shape the engine evaluates incrementally."""
    d = draw(st.sampled_from(["1 days", "3 days", "7 days", "1 months"]))
    k = draw(st.sampled_from(KINDS[:3]))
    when = draw(
        st.sampled_from(
            [
                f"inactive for {d}",
                f"{k}",
                f"{k} as x",
                f"{k} as x where x.value >= 100",
                f'{k} as x where x.product == "p1" or value < 50',
                f'{k} as x where metric == "nps" and x.score <= 6',
                f'{k} where product in ["p2"] and not (value > 200)',
            ]
        )
    )
    lines = [f"trigger r:\n    when {when}"]
    payload = draw(st.sampled_from(["", "(v = value)", '(p = product, s = score ?? -1, c = "x")']))
    if " as x" in when and draw(st.booleans()):
        payload = "(v = x.value, p = x.product)"
    lines.append(f"    emit act{payload}")
    if draw(st.booleans()):
        lines.append(f"    cooldown {draw(durations)}")
    if draw(st.booleans()):
        every = draw(st.sampled_from(["", f" every {draw(durations)}"]))
        lines.append(f"    once per customer{every}")
    if draw(st.booleans()):
        lines.append(f"    requires consent {draw(st.sampled_from(['marketing', 'service']))}")
    return "\n".join(lines)


def run(text: str, recs: list[dict[str, Any]], as_of: datetime, lateness: str | None) -> Any:
    rules = parse(text)
    engine = TriggerEngine(rules, allowed_lateness=lateness or 0)
    out = []
    for rec in recs:
        out.extend(engine.process(interaction(rec)))
    out.extend(engine.advance_to(as_of))
    return out


class TestSimpleShapes:
    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(fast_rules(), st.integers(0, 10_000), st.integers(1, 60), st.booleans())
    def test_fast_rules_equal_batch(self, text: str, seed: int, n: int, late: bool) -> None:
        """Event-local and inactivity rules streamed (in order, or shuffled within a lateness) equal batch."""
        rule = parse(text)["r"]
        recs = records(seed, n)
        as_of = T0 + timedelta(days=30)
        visible = [r for r in recs if r["timestamp"] <= as_of]
        delivered = visible
        if late:
            rng = random.Random(seed)
            delivered = sorted(
                visible, key=lambda r: r["timestamp"] + timedelta(hours=rng.randrange(48))
            )
        # ties are processed in arrival order: the batch log gets the same order
        in_order = sorted(delivered, key=lambda r: r["timestamp"])
        try:
            batch = evaluate_complete(rule, InteractionLog.from_records(in_order), as_of=as_of)
        except TriggerTypeError:  # a tiny log without a column the rule reads: refused
            assume(False)
        got = run(text, delivered, as_of, "3 days" if late else None)
        assert full_key(got) == full_key(batch)

    def test_mixed_rules_and_timer_ties(self) -> None:
        """An inactivity rule next to a delay rule: a timer due exactly at the next event is
        cancelled by it, and advance_to fires a timer due exactly at the target time."""
        text = (
            "trigger idle:\n    when inactive for 1 days\n    emit q\n\n"
            "trigger seq:\n    when purchase as p then after 1 days\n    emit s"
        )
        engine = TriggerEngine(parse(text))
        assert (
            engine.process(interaction({"customer_id": "a", "timestamp": T0, "kind": "view"})) == []
        )
        t1 = T0 + timedelta(days=1)
        assert (
            engine.process(interaction({"customer_id": "a", "timestamp": t1, "kind": "purchase"}))
            == []
        )
        got = engine.advance_to(t1 + timedelta(days=1))
        assert sorted(f.trigger for f in got) == ["idle", "seq"]


class TestEvaluateRefusesAndBounds:
    """``evaluate`` refuses what ``check`` refuses, names ``as_of`` and bounds a whole call."""

    LOG = InteractionLog.from_records(
        [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
             "value": 5.0, "product": "p1"},
            {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "survey",
             "value": 1.0, "product": "p1", "metric": "nps", "score": 3.0},
        ]
    )  # fmt: skip

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ("when purchse\n    emit a", "E301"),
            ('when survey as r where r.score <= "six"\n    emit a', "E303"),
            ("when purchase where product + 1 > 2\n    emit a", "E303"),
            ("when purchase as p where p.valu > 1\n    emit a", "E302"),
            ("when survey as r then purchase where value > r.valeu\n    emit a", "E302"),
            ("when inactive for 3 days\n    emit a(v = valu)", "E302"),
        ],
    )
    def test_refuses_what_check_refuses(self, body: str, code: str) -> None:
        """Typos and type errors raise TriggerTypeError naming the rule, not 0 firings."""
        rules = parse(f"trigger t:\n    {body}")
        with pytest.raises(TriggerTypeError) as info:
            check(rules, self.LOG)
        assert info.value.errors[0].code == code  # type: ignore[attr-defined]
        with pytest.raises(TriggerTypeError, match="rule 't'") as info:
            evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00Z")
        assert info.value.errors[0].code == code  # type: ignore[attr-defined]

    def test_a_property_of_a_kind_the_log_lacks_reads_as_missing(self) -> None:
        """A rule reading a property the log has no column for is refused only when the log
        holds interactions it reads it from; over a log without tickets, a ticket rule's
        'topic' cannot matter and reads as missing (no firing, no error)."""
        rules = parse(
            'trigger t:\n    when ticket_opened as t where t.topic == "payment"\n    emit a'
        )
        assert len(evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00Z")) == 0
        # check refuses what evaluate refuses, and says which properties it could not verify
        with pytest.warns(DataWarning, match="rule 't': 'topic'"):
            check(rules, self.LOG)

    def test_check_and_evaluate_refuse_the_same_rules(self) -> None:
        """Over the same log, check raises exactly when evaluate raises, with the same codes."""
        texts = [
            'when ticket_opened as t where t.topic == "payment"',
            "when purchase as p where p.valu > 1",
            "when purchse",
            'when purchase as p where p.value <= "six"',
            "when purchase as p where p.value + p.product > 1",
            "when purchase as p then survey where score < p.value",
            "when inactive for 3 days\n    if count(purchase where valu > 1) > 0",
            "when ticket_opened as t where count(purchase where valeu > 1) > 0",
        ]
        for text in texts:
            rules = parse(f"trigger t:\n    {text}\n    emit a")
            codes = []
            for call in (
                lambda r=rules: check(r, self.LOG),
                lambda r=rules: evaluate_complete(r, self.LOG, as_of="2024-02-01T00:00:00Z"),
            ):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DataWarning)
                        call()
                except TriggerTypeError as exc:
                    codes.append(sorted(d.code for d in exc.errors))
                else:
                    codes.append([])
            assert codes[0] == codes[1], text

    def test_naive_as_of_hint_names_as_of(self) -> None:
        """The naive-time error suggests an aware as_of, not a timezone= argument."""
        rules = parse("trigger t:\n    when purchase\n    emit a")
        with pytest.raises(SchemaError, match="as_of '2024-02-01T00:00:00' has no time zone") as e:
            evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00")
        assert "timezone=" not in str(e.value)
        with pytest.raises(SchemaError, match="as_of"):
            evaluate_complete(rules, self.LOG, as_of=datetime(2024, 2, 1))

    def test_total_pair_budget_over_one_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Many rules each under the per-aggregate bound still stop at the total bound."""
        from cxmodel.triggers import _context

        rule = (
            "trigger r{i}:\n    when survey as s"
            " where count(purchase where product == s.product before s) >= 1\n    emit a"
        )
        rules = parse("\n".join(rule.format(i=i) for i in range(100)))
        assert len(evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00Z")) == 100
        monkeypatch.setattr(_context, "MAX_TOTAL_PAIRS", 10)
        with pytest.raises(EvaluationLimitError, match="over all its rules.*fewer rules per call"):
            evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00Z")

    def test_long_or_chain_evaluates(self) -> None:
        """A 5,000-term or chain of product tests evaluates."""
        chain = " or ".join(f'product == "p{i}"' for i in range(5000))
        rules = parse(f"trigger t:\n    when purchase where {chain}\n    emit a")
        assert [
            f.customer_id for f in evaluate_complete(rules, self.LOG, as_of="2024-02-01T00:00:00Z")
        ] == ["a"]
