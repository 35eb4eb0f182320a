"""explain(): per rule, why it fired or which clause failed; CLI helpers."""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timezone

import pytest

from cxmodel.errors import DataError, DataWarning, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import EXAMPLE_RULES as ACCEPTANCE
from cxmodel.triggers import evaluate, explain, parse, write_firings
from tests.triggers.helpers import evaluate_complete

RECS = [
    {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 50.0,
     "order_id": "o1"},
    {"customer_id": "a", "timestamp": "2024-01-03T00:00:00Z", "kind": "purchase", "value": 500.0,
     "order_id": "o2"},
    {"customer_id": "a", "timestamp": "2024-01-04T00:00:00Z", "kind": "survey", "metric": "nps",
     "score": 9.0, "order_id": "o2"},
]  # fmt: skip
AS_OF = datetime(2024, 1, 20, tzinfo=timezone.utc)


class TestExplain:
    def test_reasons_per_rule(self) -> None:
        """Fired rules say why; others name the clause that stopped them."""
        log = InteractionLog.from_records(RECS).with_observed_until(AS_OF)
        got = {r.trigger: r for r in explain(parse(ACCEPTANCE), log, "a", as_of=AS_OF).rules}
        assert got["vip_opportunity"].fired and "fired 1 time" in got["vip_opportunity"].reason
        assert "none where" in got["detractor_follow_up"].reason
        assert got["payment_escalation"].reason == "no ticket_opened interaction"
        assert len(got["satisfaction_check"].fired) == 1  # o1 fires, o2 cancelled by its survey
        assert "never held" in got["churn_risk"].reason

    def test_matches_batch(self) -> None:
        """explain's firings are the batch firings of that customer."""
        log = InteractionLog.from_records(RECS).with_observed_until(AS_OF)
        rules = parse(ACCEPTANCE)
        fired = [f for r in explain(rules, log, "a", as_of=AS_OF).rules for f in r.fired]
        assert sorted(f.firing_id for f in fired) == sorted(evaluate(rules, log, as_of=AS_OF).ids())

    def test_unknown_customer_suggests_an_id(self) -> None:
        """A customer not in the log is an error naming the closest ids (case, zero padding or
        spelling), not an empty explanation."""
        log = InteractionLog.from_records(
            [{**RECS[0], "customer_id": "C00042"}, {**RECS[1], "customer_id": "maria"}]
        )
        rules = parse(ACCEPTANCE)
        with pytest.raises(DataError, match=r"'c42' is not in the log .*did you mean 'C00042'\?"):
            explain(rules, log, "c42", as_of=AS_OF)
        with pytest.raises(DataError, match=r"did you mean 'maria'\?"):
            explain(rules, log, "marie", as_of=AS_OF)
        with pytest.raises(DataError, match=r"'zz' is not in the log \(2 customers\)$"):
            explain(rules, log, "zz", as_of=AS_OF)

    def test_as_of_before_the_customer_says_when_they_start(self) -> None:
        """With ``as_of`` before the customer's first interaction, each rule says so and names
        that first time, so a wrong ``as_of`` is visible."""
        log = InteractionLog.from_records(RECS)
        got = explain(parse(ACCEPTANCE), log, "a", as_of="2023-06-01T00:00:00Z")
        assert {r.reason for r in got.rules} == {
            "no interactions up to as_of (the first is at 2024-01-01T00:00:00+00:00)"
        }

    def test_a_kind_the_log_holds_spelt_otherwise_warns(self) -> None:
        """explain warns, as evaluate does, when a rule's kind is in the log only spelt
        otherwise; its reason still says no such interaction."""
        log = InteractionLog.from_records([{**RECS[0], "kind": "PURCHASE"}])
        rules = parse("trigger t:\n    when purchase\n    emit x")
        with pytest.warns(DataWarning, match=r"holds 'PURCHASE' \(1 row\)"):
            got = explain(rules, log, "a", as_of=AS_OF)
        assert got.rules[0].reason == "no purchase interaction"

    def test_a_wait_cancelled_before_its_end_is_named(self) -> None:
        """A ``then after D unless U`` wait cancelled by ``as_of`` but not yet due names what
        cancelled it, not "did not complete by as_of" (which reads as still waiting)."""
        log = InteractionLog.from_records([
            {"customer_id": "b", "timestamp": "2024-01-03T10:00:00Z", "kind": "product_view"},
            {"customer_id": "b", "timestamp": "2024-01-04T10:00:00Z", "kind": "survey",
             "metric": "nps", "score": 3.0},
        ])  # fmt: skip
        rules = parse(
            "trigger a:\n    when product_view as v\n    then after 2 days unless survey\n    emit x"
        )
        reason = explain(rules, log, "b", as_of="2024-01-05T00:00:00Z").rules[0].reason
        assert reason == (
            "'when product_view as v' matched at product_view at 2024-01-03T10:00:00+00:00, "
            "but survey at 2024-01-04T10:00:00+00:00 cancelled it: 'unless survey'"
        )
        waiting = explain(rules, log, "b", as_of="2024-01-04T00:00:00Z").rules[0].reason
        assert waiting.endswith("'then after 2 days' did not complete by as_of")


class TestWriters:
    def test_jsonl_and_csv(self) -> None:
        """write_firings emits one line per firing in both formats."""
        firings = evaluate_complete(
            parse(ACCEPTANCE), InteractionLog.from_records(RECS), as_of=AS_OF
        )
        for fmt, extra in (("jsonl", 0), ("csv", 1)):
            buf = io.StringIO()
            write_firings(firings, buf, format=fmt)
            assert len(buf.getvalue().splitlines()) == len(firings) + extra


def test_an_integer_customer_id_is_read_as_the_log_reads_it() -> None:
    """``explain(..., 5)`` finds the customer the log keeps as ``"5"``; anything else that is not
    text is refused naming ``explain()`` (not an internal function)."""
    log = InteractionLog.from_records(
        [{"customer_id": 5, "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}]
    )
    rules = parse("trigger t:\n    when purchase\n    emit x")
    text = str(explain(rules, log, "5", as_of="2024-02-01T00:00:00Z"))
    assert str(explain(rules, log, 5, as_of="2024-02-01T00:00:00Z")) == text
    with pytest.raises(ValueTypeError, match=r"explain\(\): customer_id"):
        explain(rules, log, 5.0, as_of="2024-02-01T00:00:00Z")  # type: ignore[arg-type]


def test_firings_after_the_data_warn_as_evaluate_does() -> None:
    """explain counts the firings after the log's last interaction (the whole log's, not the
    customer's) as evaluate does."""
    log = InteractionLog.from_records(
        [
            {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"},
            {"customer_id": "b", "timestamp": "2024-01-25T00:00:00Z", "kind": "view"},
        ]
    )
    rules = parse("trigger lapsed:\n    when inactive for 10 days\n    emit nudge")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a's firing (Jan 11) is inside the data
        assert explain(rules, log, "a", as_of="2024-02-01T00:00:00Z").rules[0].fired
    with pytest.warns(DataWarning, match=r"explain\(\): .*1 firing falls in it \(lapsed: 1\)"):
        explain(rules, log, "b", as_of="2024-02-10T00:00:00Z")
