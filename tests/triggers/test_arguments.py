"""The trigger functions refuse arguments of the wrong type with a ValueTypeError that says
what to pass (never an AttributeError or TypeError from inside an evaluation)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cxmodel.domain import Customer
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.triggers import (
    EXAMPLE_RULES,
    InMemoryStore,
    SQLiteStore,
    TriggerEngine,
    check,
    evaluate,
    explain,
    parse,
)

RULES = parse(EXAMPLE_RULES)
AS_OF = "2024-02-01T00:00:00Z"
LOG = InteractionLog.from_records(
    [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase", "value": 5.0}]
)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (None, "rules must be a RuleSet or a Rule .*got NoneType"),
        ("trigger t: ...", "got text: parse it first"),
        ([1, 2], "got list"),
    ],
)
@pytest.mark.parametrize("call", ["evaluate", "check", "explain", "engine"])
def test_rules_that_are_not_rules(rules: Any, message: str, call: str) -> None:
    runs: dict[str, Callable[[], object]] = {
        "evaluate": lambda: evaluate(rules, LOG, as_of=AS_OF),
        "check": lambda: check(rules, LOG),
        "explain": lambda: explain(rules, LOG, "a", as_of=AS_OF),
        "engine": lambda: TriggerEngine(rules),
    }
    with pytest.raises(ValueTypeError, match=message):
        runs[call]()


@pytest.mark.parametrize("log", [None, 5, [{"customer_id": "a"}], {"customer_id": ["a"]}])
@pytest.mark.parametrize("call", ["evaluate", "check", "explain"])
def test_logs_that_are_not_logs(log: Any, call: str) -> None:
    runs: dict[str, Callable[[], object]] = {
        "evaluate": lambda: evaluate(RULES, log, as_of=AS_OF),
        "check": lambda: check(RULES, log),
        "explain": lambda: explain(RULES, log, "a", as_of=AS_OF),
    }
    with pytest.raises(ValueTypeError, match=r"log must be an InteractionLog.*from_records"):
        runs[call]()


@pytest.mark.parametrize("customers", [5, [Customer("a")], "a"])
def test_customers_must_be_a_mapping(customers: Any) -> None:
    for run in (
        lambda: evaluate(RULES, LOG, as_of=AS_OF, customers=customers),
        lambda: explain(RULES, LOG, "a", as_of=AS_OF, customers=customers),
        lambda: TriggerEngine(RULES, customers=customers),
    ):
        with pytest.raises(ValueTypeError, match="customers must be a mapping"):
            run()


def test_customers_as_a_mapping_are_read() -> None:
    engine = TriggerEngine(RULES, customers={"a": Customer("a", traits={"tier": "gold"})})
    assert engine.customers["a"].traits == {"tier": "gold"}


@pytest.mark.parametrize(
    ("customers", "error", "message"),
    [
        ({"a": {"timezone": "America/Los_Angeles"}}, ValueTypeError,
         r"customers\['a'\] must be a cxmodel.domain.Customer .*got dict .*Customer\('a', traits"),
        ({"a": "gold"}, ValueTypeError, r"customers\['a'\] must be .*got str"),
        ({"b": Customer("a")}, SchemaError, r"customers\['b'\] is the record of customer 'a'"),
    ],
    ids=["traits-dict", "text", "other-customer"],
)  # fmt: skip
@pytest.mark.parametrize("call", ["evaluate", "explain", "engine"])
def test_customer_records_are_refused_when_no_one_would_read_them(
    customers: Any, error: type[Exception], message: str, call: str
) -> None:
    """A dict of traits, a name, or another customer's record under a key were ignored by
    both engines alike (traits, zone and consent silently unread); now refused."""
    runs: dict[str, Callable[[], object]] = {
        "evaluate": lambda: evaluate(RULES, LOG, as_of=AS_OF, customers=customers),
        "explain": lambda: explain(RULES, LOG, "a", as_of=AS_OF, customers=customers),
        "engine": lambda: TriggerEngine(RULES, customers=customers),
    }
    with pytest.raises(error, match=message):
        runs[call]()


def test_integer_keys_are_their_digits() -> None:
    """An integer key is the customer's id as text, as an integer customer_id is read."""
    rules = parse("trigger t:\n    when purchase as p where customer.vip\n    emit x")
    log = InteractionLog.from_records(
        [{"customer_id": 7, "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}]
    )
    people = {7: Customer("7", traits={"vip": True})}
    assert len(evaluate(rules, log, as_of=AS_OF, customers=people)) == 1
    engine = TriggerEngine(rules, customers=people)
    assert len(engine.process_many(log)) == 1


@pytest.mark.parametrize("store", [5, "state.db", object()])
def test_store_must_be_a_store(store: Any) -> None:
    with pytest.raises(ValueTypeError, match="store must be a state store"):
        TriggerEngine(RULES, store=store)


def test_a_store_of_the_hosts_own_is_accepted() -> None:
    class Mine(InMemoryStore):
        pass

    engine = TriggerEngine(RULES, store=Mine())
    assert isinstance(engine.store, Mine)


@pytest.mark.parametrize("path", [5, None, b"state.db", ["state.db"]])
def test_sqlite_store_path_must_be_a_path(path: Any) -> None:
    with pytest.raises(ValueTypeError, match="path must be a file path"):
        SQLiteStore(path)


def test_sqlite_store_takes_a_pathlib_path(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db")
    assert store.path == str(tmp_path / "state.db")
    store.close()


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        ("x", ValueTypeError, "timeout must be a number; got str 'x'"),
        (None, ValueTypeError, "timeout must be a number; got NoneType None"),
        (True, ValueTypeError, "timeout must be a number; got bool True"),
        (float("nan"), SchemaError, "timeout must be a finite number"),
        (float("inf"), SchemaError, "timeout must be a finite number"),
        (-1, SchemaError, "timeout must be at least 0 seconds; got -1.0"),
    ],
    ids=["text", "none", "bool", "nan", "inf", "negative"],
)
def test_sqlite_store_timeout_must_be_seconds(
    timeout: Any, error: type[Exception], message: str, tmp_path: Path
) -> None:
    """A timeout that is not a finite number of seconds is refused, naming the argument."""
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        SQLiteStore(tmp_path / "state.db", timeout=timeout)
    assert not (tmp_path / "state.db").exists()


def test_sqlite_store_timeout_takes_an_integer(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.db", timeout=0)
    assert store.timeout == 0.0
    store.close()


@pytest.mark.parametrize("lateness", [None, [], "", False])
def test_allowed_lateness_that_is_no_duration_is_refused(lateness: Any) -> None:
    """Falsy values other than a zero length are not read as 'no lateness'."""
    with pytest.raises(SchemaError, match="duration"):
        TriggerEngine(RULES, allowed_lateness=lateness)


@pytest.mark.parametrize("lateness", [0, 0.0, timedelta(0)])
def test_allowed_lateness_of_zero_is_taken(lateness: Any) -> None:
    assert TriggerEngine(RULES, allowed_lateness=lateness).lateness == 0


@pytest.mark.parametrize("ids", [5, [5], [None], 3.5])
def test_acknowledge_takes_text_ids(ids: Any, tmp_path: Path) -> None:
    for store in (InMemoryStore(), SQLiteStore(tmp_path / "s.db")):
        with pytest.raises(ValueTypeError, match="firing ids"):
            store.acknowledge(ids)


@pytest.mark.parametrize("customer", [None, "a", {"customer_id": "a"}, 5])
def test_set_customer_takes_a_customer(customer: Any) -> None:
    engine = TriggerEngine(RULES)
    with pytest.raises(ValueTypeError, match="set_customer\\(\\): expected a Customer"):
        engine.set_customer(customer)
    assert engine.customers == {}


@pytest.mark.parametrize("rule", [None, "trigger x:\n    when purchase\n    emit y", RULES])
def test_add_rule_takes_one_rule(rule: Any) -> None:
    engine = TriggerEngine(parse("trigger t:\n    when purchase\n    emit x"))
    with pytest.raises(ValueTypeError, match="add_rule\\(\\): expected a Rule or an Alert"):
        engine.add_rule(rule)
    assert [r.name for r in engine.rules] == ["t"]


def test_remove_rule_takes_a_name() -> None:
    engine = TriggerEngine(RULES)
    with pytest.raises(ValueTypeError, match="remove_rule\\(\\): name must be"):
        engine.remove_rule(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("clock", [5, "now"])
def test_clock_must_be_callable(clock: Any) -> None:
    with pytest.raises(ValueTypeError, match="clock must be a function"):
        TriggerEngine(RULES, clock=clock)


@pytest.mark.parametrize("questions", [5, "nps"])
def test_questions_must_be_questions(questions: Any) -> None:
    with pytest.raises(SchemaError, match="questions must be Question objects"):
        TriggerEngine(RULES, questions=questions)


def test_a_synthetic_world_points_to_its_log() -> None:
    from cxmodel.datasets import synthetic

    world = synthetic(20, seed=0)
    with pytest.raises(ValueTypeError, match="SyntheticWorld, which holds one: pass its .log"):
        evaluate(RULES, world, as_of=AS_OF)
    assert isinstance(evaluate(RULES, world.log, as_of=AS_OF).ids(), set)
