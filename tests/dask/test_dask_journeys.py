"""evaluate, funnel and transitions(by=) on Dask equal the one-process results exactly."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client

import dask
from cxmodel import dask as cxd
from cxmodel import journey, triggers
from cxmodel.datasets import synthetic
from cxmodel.domain import Consent, Customer
from cxmodel.errors import DataWarning, SchemaError, TriggerTypeError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, uneven

AS_OF = "2024-12-31T00:00Z"
STEPS = ["view", "product_view", "add_to_cart", "purchase"]


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """The one-process log and its rows in random order, some touchpoints missing."""
    frame = synthetic(customers=150, seed=2).log.to_pandas()
    rows = frame.sample(frac=1.0, random_state=4).reset_index(drop=True)
    rows["touchpoint"] = rows["touchpoint"].astype(object)
    rows.loc[rows.index[::17], "touchpoint"] = None
    return InteractionLog.from_pandas(rows), rows


@pytest.fixture(scope="module")
def parts(world: tuple[InteractionLog, Any], client: Client) -> cxd.CustomerPartitions:
    """One shuffle of unevenly split partitions, two of them empty."""
    rows = world[1]
    n = len(rows)
    return cxd.from_dask(uneven(rows, [n // 2, 0, 7, n // 5, 0, 1, n - n // 2 - n // 5 - 8]))


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


class TestFunnel:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"order": "strict"},
            {"order": "any", "count": "totals", "by": "channel"},
            {"count": "totals", "window": "7d"},
            {"step_windows": ["1d", None, "2d"], "quantiles": (0.0, 0.37, 1.0)},
            {"exclude": ["ticket_opened"], "by": "touchpoint"},
            {"hold": "category", "by": "value"},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        assert_same(cxd.funnel(parts, STEPS, **kwargs), journey.funnel(world[0], STEPS, **kwargs))

    def test_sessions_and_pair_steps(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        log = journey.sessions(world[0])
        rows = log.to_pandas().sample(frac=1.0, random_state=1).reset_index(drop=True)
        steps: list[Any] = [("touchpoint", "website"), "add_to_cart", "checkout"]
        one = journey.funnel(InteractionLog.from_pandas(rows), steps, count="sessions")
        got = cxd.funnel(uneven(rows, [5, 0, len(rows) - 5]), steps, count="sessions")
        assert_same(got, one)

    def test_checks_as_one_process(self, world: tuple[InteractionLog, Any], parts: Any) -> None:
        steps: list[Any] = ["view", ("touchpoint", "websit"), "refund"]
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            cxd.funnel(parts, steps)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            journey.funnel(world[0], steps)
        assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
        assert all(w.category is DataWarning for w in mine) and len(mine) == 2
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.funnel(parts, ["view", "purchse"])
        with pytest.raises(SchemaError, match="exclude"):
            cxd.funnel(parts, ["view"], exclude=["tiket_opened"])
        with pytest.raises(SchemaError, match="order"):
            cxd.funnel(parts, ["view"], order="sideways")
        with pytest.raises(SchemaError, match="column name"):
            cxd.funnel(parts, ["view"], by=["a"])


class TestTransitionsBy:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"by": "touchpoint"},
            {"by": "touchpoint", "level": "touchpoint"},
            {"by": "value", "start_end": False},
            {"by": "channel", "quantiles": ()},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        assert_same(cxd.transitions(parts, **kwargs), journey.transitions(world[0], **kwargs))


class TestPaths:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"top": 5},
            {"collapse_repeats": True, "max_length": 3, "conversion": "purchase", "by": "channel"},
            {"level": "touchpoint", "by": "touchpoint", "top": 3},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        """The top variants, counts, shares and conversion rates, per group too."""
        assert_same(cxd.paths(parts, **kwargs), journey.paths(world[0], **kwargs))

    def test_sessions_from_a_frame(self, world: tuple[InteractionLog, Any], client: Client) -> None:
        """Session paths of a shuffled frame: ties go to the first session in log order."""
        log = journey.sessions(world[0])
        rows = log.to_pandas().sample(frac=1.0, random_state=2).reset_index(drop=True)
        one = journey.paths(InteractionLog.from_pandas(rows), by_session=True, max_length=2)
        got = cxd.paths(uneven(rows, [9, 0, len(rows) - 9]), by_session=True, max_length=2)
        assert_same(got, one)

    def test_checks_as_one_process(self, world: tuple[InteractionLog, Any], parts: Any) -> None:
        """A misspelt conversion kind raises, an absent value warns, bad options raise."""
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            cxd.paths(parts, conversion=("touchpoint", "websit"))
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            journey.paths(world[0], conversion=("touchpoint", "websit"))
        assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
        assert len(mine) == 1 and "did you mean 'website'" in str(mine[0].message)
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.paths(parts, conversion="purchse")
        with pytest.raises(SchemaError, match="top"):
            cxd.paths(parts, top=0)
        with pytest.raises(SchemaError, match="column name"):
            cxd.paths(parts, by=["a"])


class TestStepMatrix:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"steps": 4},
            {"anchor": "add_to_cart", "steps": 3, "by": "channel"},
            {"level": "touchpoint", "anchor": ("touchpoint", "website"), "by": "touchpoint"},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        """Every row label, step, count and share, per group too."""
        assert_same(cxd.step_matrix(parts, **kwargs), journey.step_matrix(world[0], **kwargs))

    def test_checks_as_one_process(self, parts: Any) -> None:
        """A misspelt anchor kind raises with a did-you-mean; bad steps raise."""
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.step_matrix(parts, anchor="purchse")
        with pytest.raises(SchemaError, match="steps"):
            cxd.step_matrix(parts, steps=0)


def test_all_partitions_empty(world: tuple[InteractionLog, Any]) -> None:
    empty = world[1].iloc[:0]
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(empty, [0, 0]))
        f = cxd.funnel(parts, ["view", "purchase"], by="channel")
        assert f.counts.tolist() == [0, 0] and f.by_counts is not None
        assert f.by_counts.shape == (0, 2)
        assert len(cxd.evaluate(triggers.parse(triggers.EXAMPLE_RULES), parts, as_of=AS_OF)) == 0
        assert cxd.transitions(parts, by="channel").groups == ()
        assert cxd.paths(parts, by="channel").n_units == 0
        assert cxd.step_matrix(parts).counts.tolist() == [[0] * 10]
