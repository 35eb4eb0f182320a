"""evaluate on Dask: partition firings combine exactly in any order, and the Dask firings
equal the one-process firings (customers, consent, catalogue events, checks)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel import triggers
from cxmodel._time import as_of_us
from cxmodel.dask._triggers import evaluate_partial, firings_of
from cxmodel.domain import Consent, Customer
from cxmodel.errors import SchemaError, TriggerTypeError, ValueTypeError
from cxmodel.log import InteractionLog
from tests.dask.frames import uneven
from tests.dask.worlds import (
    OnSmallWorld,
    shuffled_world_fixture,  # noqa: F401 (the module's world)
    split,
)

AS_OF = "2024-12-31T00:00Z"
RULES = triggers.parse(triggers.EXAMPLE_RULES)


class TestPartials(OnSmallWorld):
    """The partitions' partial states, called directly (no scheduler), on a small world."""

    @settings(max_examples=15, deadline=None)
    @given(data=st.data())
    def test_evaluate_partials_merge_exactly(
        self, world: tuple[InteractionLog, Any], data: st.DataObject
    ) -> None:
        """The partitions' firings, in any order, are the one-process firings and suppressed
        firings, with the same ids and order."""
        cutoff = as_of_us(AS_OF)
        partials = [evaluate_partial(p, RULES, cutoff, None) for p in split(world, data)]
        got = firings_of(data.draw(st.permutations(partials), label="partition order"))
        one = triggers.evaluate(RULES, world[0], as_of=AS_OF)
        assert got.to_dict() == one.to_dict()
        assert [f.firing_id for f in got.suppressed] == [f.firing_id for f in one.suppressed]


class TestEvaluate:
    def test_example_rules(self, world: tuple[InteractionLog, Any], parts: Any) -> None:
        rules = triggers.parse(triggers.EXAMPLE_RULES)
        one = triggers.evaluate(rules, world[0], as_of=AS_OF)
        got = cxd.evaluate(rules, parts, as_of=AS_OF)
        assert len(one) and len(one.suppressed)
        assert got.to_dict() == one.to_dict()
        assert [f.firing_id for f in got.suppressed] == [f.firing_id for f in one.suppressed]

    def test_customers_consent_and_a_frame(self, world: tuple[InteractionLog, Any]) -> None:
        log, rows = world
        ids = log.customers.tolist()
        customers = {
            c: Customer(c, consent=Consent(granted={"marketing"} if i % 2 else set()))
            for i, c in enumerate(ids)
        }
        rules = triggers.parse(
            "trigger t:\n    when product_view as v\n    emit offer(p = v.product)\n"
            "    cooldown 3 days\n    requires consent marketing"
        )
        one = triggers.evaluate(rules, log, as_of=AS_OF, customers=customers)
        got = cxd.evaluate(rules["t"], uneven(rows, [len(rows) - 40, 0, 40]), as_of=AS_OF,
                           customers=customers)  # fmt: skip
        assert got.to_dict() == one.to_dict()

    def test_catalogue_events_reach_every_partition(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        """Catalogue events go to every partition; each joins them to its own customers,
        and the result is the one-process result."""
        rules = triggers.parse(
            "trigger back:\n    when restock as r\n"
            "        for customers with product_view where product == r.product within 30 days\n"
            "    emit back(p = r.product)\n    cooldown 20 days"
        )
        restocks = [
            {"timestamp": f"2024-{month:02d}-15T00:00:00Z", "kind": "restock", "product": p}
            for month in range(2, 12)
            for p in ("P02", "P12")
        ]
        one = triggers.evaluate(rules, world[0], as_of=AS_OF, catalogue=restocks)
        got = cxd.evaluate(rules, parts, as_of=AS_OF, catalogue=restocks)
        assert len(one) > 10 and len(one.suppressed)
        assert got.to_dict() == one.to_dict()

    def test_checked_once_against_all_partitions(self, parts: Any) -> None:
        with pytest.raises(TriggerTypeError, match="purchse"):
            cxd.evaluate(triggers.parse("trigger t:\n    when purchse\n    emit x"), parts,
                         as_of=AS_OF)  # fmt: skip
        with pytest.raises(SchemaError, match="time zone"):
            cxd.evaluate(triggers.parse(triggers.EXAMPLE_RULES), parts, as_of="2024-12-31")


def _frame() -> Any:
    """Purchases of customers 7 and 8 over three partitions (one empty)."""
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "customer_id": ["7", "8", "7", "8"],
            "timestamp": pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC"),
            "kind": ["purchase"] * 4,
        }
    )


CONSENTED = triggers.parse(
    "trigger t:\n    when purchase\n    emit offer\n    requires consent marketing"
)


class TestCustomers:
    """``customers=`` is checked as one process checks it, on the synchronous scheduler."""

    @pytest.mark.parametrize(
        ("customers", "error"),
        [
            pytest.param({"7": {"timezone": "Europe/Paris"}}, ValueTypeError, id="traits-dict"),
            pytest.param({"7": Customer("8")}, SchemaError, id="another-customers-record"),
            pytest.param({"7": "Ann"}, ValueTypeError, id="a-name"),
            pytest.param([Customer("7")], ValueTypeError, id="not-a-mapping"),
        ],
    )
    def test_bad_customers_refused_as_in_one_process(
        self, customers: Any, error: type[Exception]
    ) -> None:
        """A customers value that is not id -> Customer is refused with the error and
        message of :func:`cxmodel.triggers.evaluate`, named after the Dask function (it was
        passed on, and its traits and consent read by no one)."""
        dask = pytest.importorskip("dask")
        frame = _frame()
        with pytest.raises(error) as one:
            triggers.evaluate(
                CONSENTED, InteractionLog.from_pandas(frame), as_of=AS_OF, customers=customers
            )
        with dask.config.set(scheduler="synchronous"), pytest.raises(error) as got:
            cxd.evaluate(CONSENTED, uneven(frame, [2, 0, 2]), as_of=AS_OF, customers=customers)
        expected = str(one.value).replace("evaluate()", "cxmodel.dask.evaluate()", 1)
        assert str(got.value) == expected

    def test_integer_keys_read_as_in_one_process(self) -> None:
        """A customer keyed by an integer id is the customer of that id's digits, as in one
        process (the partitions looked it up by text and never found it)."""
        dask = pytest.importorskip("dask")
        frame = _frame()
        customers = {7: Customer("7", consent=Consent(granted={"marketing"}))}
        one = triggers.evaluate(
            CONSENTED, InteractionLog.from_pandas(frame), as_of=AS_OF, customers=customers
        )
        with dask.config.set(scheduler="synchronous"):
            got = cxd.evaluate(CONSENTED, uneven(frame, [2, 0, 2]), as_of=AS_OF,
                               customers=customers)  # fmt: skip
        assert [f.customer_id for f in one] == ["7", "7"]
        assert got.to_dict() == one.to_dict()


class TestBoolProperty:
    @pytest.mark.parametrize("condition", ["p.vip", "not p.vip", "p.vip == false"])
    def test_a_nullable_bool_column_in_partitions(self, condition: str) -> None:
        """A pandas 'boolean' column, missing on some rows and on every row of some
        partitions, is a bool column in each partition, and fires as in one process."""
        pd = pytest.importorskip("pandas")
        vips = [True, False, None, True, None, None, None, None, False, True, None, False]
        frame = pd.DataFrame(
            {
                "customer_id": [f"c{j % 5}" for j in range(len(vips))],
                "timestamp": pd.date_range("2024-01-01", periods=len(vips), freq="D", tz="UTC"),
                "kind": ["purchase"] * len(vips),
                "vip": pd.array(vips, dtype="boolean"),
            }
        )
        rules = triggers.parse(f"trigger t:\n    when purchase as p where {condition}\n    emit x")
        one = triggers.evaluate(rules, InteractionLog.from_pandas(frame), as_of=AS_OF)
        got = cxd.evaluate(rules, uneven(frame, [4, 0, 4, 4]), as_of=AS_OF)
        assert len(one)
        assert got.to_dict() == one.to_dict()
