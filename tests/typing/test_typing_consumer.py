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


def test_consumer_survey_metrics() -> None:
    """nps, csat and ces say by their types whether they return one result or a table."""
    from typing_extensions import assert_type

    from cxmodel.metrics import CESResult, MetricTable, NPSResult, ProportionResult, ces, csat, nps

    scores = [10] * 80 + [6] * 20
    labels = ["a", "b"] * 50
    one = assert_type(nps(scores), NPSResult)
    table = assert_type(nps(scores, by=labels), MetricTable)
    share = assert_type(csat([5, 4, 2] * 20), ProportionResult)
    effort = assert_type(ces([7, 5, 2] * 20), CESResult)
    monthly = assert_type(
        csat([5, 4] * 20, period="month", timestamps=["2024-01-01T00:00Z"] * 40), MetricTable
    )
    assert one.n == 100 and len(table) == 2 and share.n == effort.n == 60 and len(monthly) == 1
