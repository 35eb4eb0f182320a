"""Policies not covered by the acceptance rules: quiet hours, once per customer, Customer consent."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.domain import Consent, Customer
from cxmodel.log import InteractionLog
from cxmodel.triggers import parse
from tests.triggers.helpers import evaluate_complete

LOG = InteractionLog.from_records(
    [
        {"customer_id": "a", "timestamp": "2024-01-01T23:30:00Z", "kind": "purchase"},
        {"customer_id": "a", "timestamp": "2024-01-02T12:00:00Z", "kind": "purchase"},
        {"customer_id": "b", "timestamp": "2024-01-01T12:00:00Z", "kind": "purchase"},
    ]
)
AS_OF = datetime(2024, 2, 1, tzinfo=timezone.utc)


class TestPolicies:
    def test_quiet_hours_delay_to_window_end(self) -> None:
        """A firing at 23:30 inside 22:00-08:00 moves to 08:00 the next day; others stay."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    quiet hours 22:00-08:00")
        times = sorted(f.time.isoformat() for f in evaluate_complete(rules, LOG, as_of=AS_OF))
        assert times == [
            "2024-01-01T12:00:00+00:00",
            "2024-01-02T08:00:00+00:00",
            "2024-01-02T12:00:00+00:00",
        ]

    def test_once_per_customer(self) -> None:
        """Only the first emitted firing per customer; the rest are suppressed with a reason."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    once per customer")
        got = evaluate_complete(rules, LOG, as_of=AS_OF)
        assert sorted(f.customer_id for f in got) == ["a", "b"]
        assert [f.reason for f in got.suppressed] == ["once per customer"]

    def test_consent_from_customer_objects(self) -> None:
        """Without consent events, Customer.consent decides; no record means no consent."""
        rules = parse("trigger t:\n    when purchase\n    emit x\n    requires consent marketing")
        customers = {"a": Customer("a", consent=Consent(granted={"marketing"}))}
        got = evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
        assert sorted(f.customer_id for f in got) == ["a", "a"]
        assert [f.reason for f in got.suppressed] == ["no consent for marketing"]

    def test_customer_traits_in_conditions(self) -> None:
        """customer.plan reads the customer's traits."""
        rules = parse('trigger t:\n    when purchase\n    if customer.plan == "gold"\n    emit x')
        customers = {"b": Customer("b", traits={"plan": "gold"})}
        got = evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
        assert [f.customer_id for f in got] == ["b"]

    def test_quiet_hours_in_customer_timezone(self) -> None:
        """With 'in customer timezone', the window is read in the customer's timezone trait."""
        rules = parse(
            "trigger t:\n    when purchase\n    emit x\n"
            "    quiet hours 09:00-17:00 in customer timezone"
        )
        customers = {"b": Customer("b", traits={"timezone": "Europe/Paris"})}
        got = [
            f
            for f in evaluate_complete(rules, LOG, as_of=AS_OF, customers=customers)
            if f.customer_id == "b"
        ]
        # 12:00 UTC is 13:00 in Paris (winter, UTC+1): delayed to 17:00 Paris = 16:00 UTC
        assert [f.time.isoformat() for f in got] == ["2024-01-01T16:00:00+00:00"]


# -- policy_verdicts against deciding each candidate in order -----------------------------------
_POLICIES = [
    "once per customer",
    "once per customer every 3 days",
    "cooldown 2 days",
    "once per customer every 1 months\n    cooldown 5 days",
    "once per customer\n    cooldown 1 days",
    "cooldown 1 months",
]
_DAY_US = 86_400_000_000


def _in_order(
    rule: Any, cust: Any, times: Any, consent: Any, previous: Any, held: Any
) -> list[Any]:
    """The verdicts decided one candidate at a time, in the given order (the oracle)."""
    from cxmodel.triggers._policies import HOLDOUT, NEVER_EMITTED, _minus

    once = None if rule.once_every is None else _minus(times, rule.once_every, None).tolist()
    cool = None if rule.cooldown is None else _minus(times, rule.cooldown, None).tolist()
    out: list[Any] = []
    for j, c in enumerate(cust.tolist()):
        if held[j]:
            out.append(HOLDOUT)
            continue
        before = int(previous[c])
        if before != NEVER_EMITTED and rule.once and (once is None or before > once[j]):
            out.append(
                "once per customer"
                if once is None
                else f"once per customer every {rule.once_every}"
            )
        elif before != NEVER_EMITTED and cool is not None and before > cool[j]:
            out.append(f"cooldown {rule.cooldown}")
        elif not consent[j]:
            out.append(f"no consent for {rule.consent}")
        else:
            out.append(None)
            previous[c] = int(times[j])
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    policy=st.sampled_from(_POLICIES),
    per_customer=st.lists(
        st.lists(st.tuples(st.integers(0, 40), st.booleans(), st.booleans()), max_size=30),
        min_size=1,
        max_size=12,
    ),
    seeded=st.lists(st.one_of(st.none(), st.integers(-5, 10)), min_size=12, max_size=12),
    interleave=st.booleans(),
    few=st.sampled_from([0, 3, 1_000]),
)
def test_policy_verdicts_equal_deciding_in_order(
    policy: str, per_customer: list[Any], seeded: list[Any], interleave: bool, few: int
) -> None:
    """Once, once every, cooldown and their mixes, with consent, holdouts and an earlier
    emitted time per customer, many candidates per customer (the rounds, then the few left
    one at a time), grouped by customer or interleaved: the same verdicts and last emitted
    times as deciding each candidate in order. ``few``: the customers left when the rounds
    give way to one candidate at a time (0: rounds only; 1,000: one at a time only)."""
    from cxmodel.triggers import _policies
    from cxmodel.triggers._policies import NEVER_EMITTED, policy_verdicts

    rule = parse(f"trigger t:\n    when purchase as p\n    emit go\n    {policy}\n"
                 "    requires consent marketing").rules[0]  # fmt: skip
    rows = []
    for code, cands in enumerate(per_customer):
        t = 0
        for step, ok, held in cands:
            t += step * _DAY_US // 4  # quarter days, ties included
            rows.append((code, t, ok, held))
    if interleave:
        rows.sort(key=lambda r: (r[1], r[0]))  # time order across customers
    cust = np.array([r[0] for r in rows], dtype=np.int64)
    times = np.array([r[1] for r in rows], dtype=np.int64)
    consent = np.array([r[2] for r in rows], dtype=bool)
    held = np.array([r[3] for r in rows], dtype=bool)
    previous = np.array(
        [NEVER_EMITTED if s is None else s * _DAY_US for s in seeded], dtype=np.int64
    )
    expected_previous = previous.copy()
    expected = _in_order(rule, cust, times, consent, expected_previous, held)
    kept, _policies._FEW = _policies._FEW, few
    try:
        got = policy_verdicts(rule, cust, times, consent, previous, None, held)
    finally:
        _policies._FEW = kept
    assert got.tolist() == expected
    assert previous.tolist() == expected_previous.tolist()
