"""The public API used as a consumer would; mypy --strict checks this file too."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import numpy.typing as npt

import cxmodel as cx
from cxmodel.io import read_csv


def build() -> cx.InteractionLog:
    times: npt.NDArray[np.datetime64] = np.array(
        ["2024-01-01T00:00", "2024-01-02T00:00"], dtype="datetime64[us]"
    )
    return cx.InteractionLog.from_arrays(
        customer_id=["a", "b"], timestamp=times, kind=["view", "purchase"], value=[np.nan, 5.0]
    )


def test_consumer_types() -> None:
    """Typed use of the log, domain objects and readers."""
    log: cx.InteractionLog = build()
    values: npt.NDArray[np.float64] = log.numeric("value")
    codes, categories = log.categorical("kind")
    journey: cx.Journey = log.journey("a")
    first: datetime | None = journey.start
    interaction = cx.Interaction("a", datetime(2024, 1, 1, tzinfo=timezone.utc), "view")
    assert first == interaction.timestamp
    assert values.dtype == np.float64 and codes.dtype == np.int32 and len(categories) == 2
    assert callable(read_csv)


def test_consumer_triggers_and_journeys() -> None:
    """Typed use of the streaming engine's micro-batches and the journey breakdowns."""
    from cxmodel.journey import Comparison, Transitions, compare_transitions, transitions
    from cxmodel.triggers import Firing, Firings, TriggerEngine, parse

    log = build()
    engine = TriggerEngine(parse("trigger t:\n    when purchase as p\n    emit thanks"))
    got: Firings = engine.process_many(log)
    fired: list[Firing] = list(got)
    later: list[Firing] = engine.advance_to("2024-02-01T00:00:00Z")
    assert [f.action for f in fired] == ["thanks"] and later == [] and len(got.ids()) == 1
    by_kind = transitions(log, by="kind")
    labels = by_kind.by_labels
    web = np.asarray(log.column("kind")) == "view"
    diff: Comparison[Transitions] = compare_transitions(log, web, ~web)
    assert labels is not None and diff is not None


def test_consumer_catalogue_rules() -> None:
    """Typed use of a catalogue rule: the clause, batch with catalogue events, the engine."""
    from cxmodel.triggers import Firings, Reach, TriggerEngine, evaluate, trigger

    rule = (
        trigger("back")
        .when("restock", as_="r")
        .for_customers_with("view", within="30 days")
        .emit("back")
        .build()
    )
    reach: Reach | None = rule.when.reach
    event = {"timestamp": "2024-01-03T00:00:00Z", "kind": "restock"}
    got: Firings = evaluate(rule, build(), as_of="2024-02-01T00:00:00Z", catalogue=[event])
    engine = TriggerEngine(rule)
    kinds: frozenset[str] = engine.catalogue_kinds
    assert reach is not None and kinds == {"restock"} and [f.customer_id for f in got] == ["a"]
