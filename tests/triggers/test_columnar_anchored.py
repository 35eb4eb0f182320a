"""Rules anchored on interactions decided on arrays in a large micro-batch
(``_columnar_anchored.py``) equal the per-interaction path and batch: the same firings
(emitted and suppressed, whole), the same states after every call, however the stream is cut,
shuffled within the lateness, re-delivered, restarted or rolled back."""

from __future__ import annotations

import gc
import random
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import CXModelError
from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from cxmodel.triggers._columnar_anchored import Decision, _log_order, decide, on_arrays
from cxmodel.triggers._columnar_rules import run_rules
from cxmodel.triggers._operators import RulePlan
from tests.triggers.helpers import (
    COLUMNAR,
    T0,
    engine_of,
    evaluate_complete,
    key,
    records,
)
from tests.triggers.test_columnar import (
    check_failed_commit,
    restart_both,
    run_both,
    shuffled_within,
)

KINDS = ["product_view", "purchase", "survey", "ticket_opened", "consent_granted"]
SPANS = ["12 hours", "1 days", "3 days", "7 days", "36 hours"]


def anchored_rule_set(rng: random.Random) -> str:
    """One to three rules the columnar path decides on arrays (anchored on interactions,
    firing at them or after a wait, with conditions on the bound interaction, every policy),
    sometimes beside one it does not (an aggregate, quiet hours or calendar months)."""
    texts = []
    for i in range(rng.randint(1, 3)):
        k1, k2, d = rng.choice(KINDS), rng.choice(KINDS), rng.choice(SPANS)
        when = rng.choice(
            [
                f"{k1} as x",
                f"{k1} as x where x.value >= 100",
                f'{k1} as x where x.product == "p1" or x.value < 50',
                f"{k1} as x then after {d}",
                f"{k1} as x where x.value > 0 then after {d}",
                f"{k1} as x then no {k2} where product == x.product for {d}",
                f"{k1} as x then no {k2} for {d}",
                f"{k1} as x then no {k2} where value > x.value for {d}",
            ]
        )
        if rng.random() < 0.4:  # fires at its anchors, reading aggregates
            when = rng.choice(
                [
                    f"{k1} as x where count({k2} before x) >= 1 and x.value > max({k2}.value"
                    " before x)",
                    f"{k1} as x where min({k2}.value within {d}) ?? 0 < x.value",
                    f"{k1} as x where first({k2}.value) ?? -1 <= x.value",
                ]
            )
            when += rng.choice(
                [
                    "",
                    f'\n    if count({k2} where product == "p1" within {d}) > 1',
                    f"\n    if last({k2}.value) ?? 0 >= 100 or max({k2}.value within {d}) ?? 0"
                    " > 200",
                    f"\n    if sum({k2}.value within {d}) > 100",  # the per-row path
                    f"\n    if count({k2} where value > x.value within {d}) >= 1",  # per row
                ]
            )
        if rng.random() < 0.15:  # timers on arrays, their firings kept as columns
            when = f"inactive for {d}"
        lines = [f"trigger r{i}:", f"    when {when}"]
        if "then after" in when and rng.random() < 0.7:
            lines.append(
                rng.choice(
                    [
                        f"    unless {k2} where order_id == x.order_id",
                        f"    unless {k2}",
                        f"    unless {k2} where value >= 200",
                    ]
                )
            )
        bound = " as x" in when
        if rng.random() < 0.3 and "\n    if" not in when and bound:
            lines.append(rng.choice(["    if x.value > 50", '    if x.product != "p2"']))
        lines.append(
            rng.choice(
                [
                    "    emit act(v = x.value, p = x.product)" if bound else "    emit act",
                    "    emit act",
                    f"    emit act(n = count({k2}), top = max({k2}.value within {d}))",
                ]
            )
        )
        if rng.random() < 0.4:
            lines.append(f"    cooldown {rng.choice(SPANS)}")
        if rng.random() < 0.3:
            lines.append(f"    once per customer{rng.choice(['', ' every ' + rng.choice(SPANS)])}")
        if rng.random() < 0.4:
            lines.append(f"    requires consent {rng.choice(['marketing', 'Marketing '])}")
        if rng.random() < 0.2:
            lines.append(f"    holdout {rng.choice([25, 50])}%")
        texts.append("\n".join(lines))
    if rng.random() < 0.3:  # beside a rule the array path does not take
        texts.append(
            rng.choice(
                [
                    "trigger other:\n    when purchase as p where count(purchase before p) >= 1"
                    "\n    emit again",
                    "trigger other:\n    when purchase as p then after 1 months\n    emit later",
                    "trigger other:\n    when survey as s\n    emit hushed\n"
                    "    quiet hours 22:00-06:00",
                ]
            )
        )
    return "\n\n".join(texts)


def varied_records(seed: int, n: int, n_customers: int, days: int = 30) -> list[dict[str, Any]]:
    """:func:`records` with consent in several spellings (and revocations of every
    purpose), and some interactions without an id (their firings keyed by time and rank)."""
    rng = random.Random(seed + 1)
    out = records(seed, n, n_customers=n_customers, days=days)
    for rec in out:
        if rec["kind"] == "consent_granted" and rng.random() < 0.5:
            rec["kind"] = "consent_revoked"
        if rec["kind"].startswith("consent_"):
            choice = rng.choice(["marketing", " Marketing", "MARKETING ", "email", None])
            if choice is None and rec["kind"] == "consent_revoked":
                del rec["purpose"]
            elif choice is not None:
                rec["purpose"] = choice
        if rng.random() < 0.3:
            del rec["interaction_id"]
    return out


def check_case(seed: int, lateness_hours: int = 0) -> None:
    """Random anchored rules over random interactions: columnar equals per-row equals
    batch (and each call returns and keeps the same on both paths)."""
    rng = random.Random(seed)
    rules = parse(anchored_rule_set(rng))
    recs = varied_records(seed, rng.randint(30, 200), n_customers=rng.randint(1, 6))
    as_of = T0 + timedelta(days=rng.choice([20, 35]))
    visible = [r for r in recs if r["timestamp"] <= as_of]
    sent = shuffled_within(visible, lateness_hours, seed) if lateness_hours else visible
    lateness = f"{lateness_hours} hours" if lateness_hours else 0
    columnar, per_row = run_both(rules, sent, seed, as_of, lateness)
    assert key(columnar) == key(per_row)
    if not lateness_hours:
        batch = evaluate_complete(rules, InteractionLog.from_records(visible), as_of=as_of)
        assert key(columnar) == key(batch)


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[Decision | None]:
    """What ``decide`` returns in the test's calls (``None``: the rule ran one by one)."""
    out: list[Decision | None] = []

    def recorded(*args: Any) -> Decision | None:
        out.append(decide(*args))
        return out[-1]

    monkeypatch.setattr("cxmodel.triggers._columnar_rules.decide", recorded)
    return out


class TestAnchoredOnArrays:
    def test_the_generated_rules_are_mostly_taken_on_arrays(self) -> None:
        """Not vacuous: most rules of :func:`anchored_rule_set` are ones the array path
        takes."""
        taken = total = 0
        for seed in range(100):
            for rule in parse(anchored_rule_set(random.Random(seed))):
                total += 1
                taken += on_arrays(RulePlan(rule, {}))
        assert taken > 0.5 * total

    def test_the_rules_are_decided_on_arrays(self, decisions: list[Decision | None]) -> None:
        """Not vacuous: the array path decides the rules it takes (rather than falling
        back to the per-interaction operators), and its firings are the call's."""
        rules = parse(
            "trigger a:\n    when purchase as x then no purchase where product == x.product"
            " for 3 days\n    emit act(p = x.product)\n    requires consent marketing\n\n"
            "trigger b:\n    when survey as x where count(purchase within 7 days) >= 1\n"
            "    emit ask\n    cooldown 2 days"
        )
        engine = engine_of(rules, COLUMNAR)
        recs = varied_records(3, 200, 3)
        emitted = [engine.process_many(recs[j : j + 50]) for j in range(0, 200, 50)]
        assert len(decisions) == 8
        assert all(d is not None for d in decisions)
        assert sum(len(d.emitted) for d in decisions if d is not None) == sum(
            len(e) for e in emitted
        )
        assert sum(len(e) for e in emitted) > 0

    @pytest.mark.parametrize("block", range(4))
    def test_seeded_rule_sets(self, block: int) -> None:
        """50 seeds per block: every shape, policy and consent spelling, ids or not."""
        for seed in range(block * 50, (block + 1) * 50):
            check_case(seed)

    @pytest.mark.usefixtures("quiet")  # re-delivered rows without an id can be late
    @pytest.mark.parametrize("block", range(2))
    def test_out_of_order_and_repeated(self, block: int) -> None:
        """Rows out of order within the allowed lateness, some re-delivered, some late."""
        for seed in range(block * 40, (block + 1) * 40):
            check_case(seed, lateness_hours=random.Random(seed).choice([12, 48, 96]))

    @pytest.mark.usefixtures("quiet")  # rows behind advance_to's time are late
    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(st.integers(0, 10_000), st.sampled_from([0, 12, 48]))
    def test_restarts_between_micro_batches(self, seed: int, hours: int) -> None:
        """A restart from the store after random calls, and time declared complete
        mid-stream: both paths return and keep the same."""
        rng = random.Random(seed)
        rules = parse(anchored_rule_set(rng))
        recs = varied_records(seed, rng.randint(30, 150), n_customers=rng.randint(1, 5))
        as_of = T0 + timedelta(days=35)
        sent = shuffled_within(recs, hours, seed) if hours else recs
        restart_both(rules, sent, rng, hours, advance=True, as_of=as_of)

    def test_failed_commit_rolls_back(self) -> None:
        """A commit that fails leaves the engine as before the call; the retry returns what
        the per-row engine returns."""
        rules = parse(anchored_rule_set(random.Random(11)))
        check_failed_commit(rules, varied_records(9, 400, n_customers=5))

    def test_text_and_numbers_in_one_property_go_one_by_one(
        self, decisions: list[Decision | None]
    ) -> None:
        """A property holding text in some interactions and numbers in others is read by
        the per-interaction operators (the batch evaluator would read the column apart),
        with the same result. The property is only emitted: one compared with text would be
        refused, and one named like an id (``code``) is read as text throughout."""
        rules = parse(
            "trigger t:\n    when purchase as x where x.value >= 0 then after 1 days\n"
            "    emit act(c = x.level)"
        )
        recs = records(2, 120, n_customers=3, days=20)
        for j, rec in enumerate(recs):
            rec["level"] = "a" if j % 3 else 7.0
        columnar, per_row = run_both(rules, recs, 2, T0 + timedelta(days=25))
        assert None in decisions
        assert key(columnar) == key(per_row)
        assert {"a", 7.0} <= {f.payload["c"] for f in columnar}

    def test_true_false_properties_read_as_batch_reads_them(self) -> None:
        """A true/false property tested, bound and emitted: the same values (``True``, not
        ``1.0``) on both paths and in batch."""
        rules = parse(
            "trigger t:\n    when purchase as x where x.vip then after 1 days\n"
            "    unless survey where vip == x.vip\n    emit act(v = x.vip)\n\n"
            "trigger u:\n    when product_view as x where not x.vip\n    emit seen(v = x.vip)"
        )
        recs = records(4, 150, n_customers=3, days=20)
        for j, rec in enumerate(recs):
            if j % 4:
                rec["vip"] = j % 3 == 0
        as_of = T0 + timedelta(days=25)
        columnar, per_row = run_both(rules, recs, 4, as_of)
        batch = evaluate_complete(rules, InteractionLog.from_records(recs), as_of=as_of)
        assert key(columnar) == key(per_row) == key(batch)
        assert {True, False} <= {f.payload["v"] for f in columnar}

    def test_the_collector_is_paused_only_during_a_large_micro_batch(self) -> None:
        """The cyclic garbage collector runs again after a call, also one that raised, and
        stays off when the host turned it off."""
        rules = parse("trigger t:\n    when survey_x as x\n    emit go(top = max(survey_x.level))")
        good = [
            {"customer_id": "a", "timestamp": T0 + timedelta(hours=j), "kind": "survey_x",
             "level": float(j)}
            for j in range(3)
        ]  # fmt: skip
        bad = [dict(good[0], timestamp=T0 + timedelta(days=1), level="high")]
        engine = engine_of(rules, COLUMNAR)
        seen: list[bool] = []

        def spy(*args: Any) -> Any:
            seen.append(gc.isenabled())
            return run_rules(*args)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("cxmodel.triggers._columnar.run_rules", spy)
            engine.process_many(good)
            assert seen == [False] and gc.isenabled()
            with pytest.raises(CXModelError):
                engine.process_many(bad)
            assert gc.isenabled()
            gc.disable()
            try:
                engine.process_many(
                    [dict(r, timestamp=r["timestamp"] + timedelta(days=2)) for r in good]
                )
                assert not gc.isenabled()
            finally:
                gc.enable()

    def test_what_a_large_micro_batch_keeps_is_not_left_young(self) -> None:
        """The objects a call made and kept move to the oldest generation unscanned (the
        young generation is empty after it), unless the host froze objects itself, whose
        freeze is left as it was."""
        rules = parse("trigger t:\n    when survey_x as x\n    emit go(top = max(survey_x.level))")
        recs = [
            {"customer_id": f"c{j % 50}", "timestamp": T0 + timedelta(minutes=j),
             "kind": "survey_x", "level": float(j)}
            for j in range(3_000)
        ]  # fmt: skip
        engine = engine_of(rules, COLUMNAR)
        engine.process_many(recs[:1_500])
        assert gc.get_count()[0] < 50 and gc.get_freeze_count() == 0
        frozen = [[j] for j in range(10)]
        gc.freeze()
        try:
            held = gc.get_freeze_count()
            engine.process_many(recs[1_500:])
            assert 0 < gc.get_freeze_count() <= held  # still frozen: not unfrozen by the call
        finally:
            gc.unfreeze()
        assert len(frozen) == 10


@pytest.mark.parametrize("seed", range(12))
def test_every_anchor_with_a_due_time_is_queued(seed: int) -> None:
    """What the columnar path relies on to find a then-rule's carried anchors (only among
    the customers with a queued timer): after every call, on both paths, each anchor with a
    due time has an entry of its rule and customer on the queue falling due at or before it."""
    rng = random.Random(seed)
    rules = parse(anchored_rule_set(rng))
    recs = varied_records(seed, rng.randint(60, 200), n_customers=rng.randint(1, 6))
    for path in (COLUMNAR, None):
        engine = engine_of(rules, path)
        cuts = sorted(rng.sample(range(1, len(recs)), 3))
        for lo, hi in zip([0, *cuts], [*cuts, len(recs)], strict=True):
            engine.process_many(recs[lo:hi])
            runner = engine._runner
            queued: dict[tuple[str, str], int] = {}
            for due, _, _, cid, name in runner.timers:
                queued[cid, name] = min(due, queued.get((cid, name), due))
            for cid, state in runner.states.items():
                for name, rs in state.rules.items():
                    for anchor in rs.anchors.values():
                        if anchor.due is not None:
                            assert queued.get((cid, name), anchor.due + 1) <= anchor.due


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 20)), max_size=12),  # carried rows
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=40),  # released: code, step
)
def test_a_rule_logs_order_equals_a_lexsort(
    carried: list[tuple[int, int]], released: list[tuple[int, int]]
) -> None:
    """Carried rows (any order, earlier release numbers) then released ones in release order
    (times not decreasing): ordered as by (customer, time, release number), whether or not the
    carried rows come before the released ones in time."""
    times = [t for _, t in carried]
    now = 10
    for _, step in released:
        now += step
        times.append(now)
    codes = np.array([c for c, _ in carried] + [c for c, _ in released], dtype=np.int64)
    seqs = np.array(
        random.Random(len(carried)).sample(range(100), len(carried))
        + list(range(100, 100 + len(released))),
        dtype=np.int64,
    )
    stamps = np.array(times, dtype=np.int64)
    expected = np.lexsort((seqs, stamps, codes))
    assert _log_order(codes, stamps, seqs, len(carried)).tolist() == expected.tolist()
