"""The main results render compact, readable HTML: capped rows, short numbers, escaped text."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel._html import MAX_ROWS
from cxmodel.journey import funnel, transitions
from cxmodel.log import InteractionLog
from cxmodel.metrics import MetricTable
from cxmodel.segment import rfm_scores, rfm_segments
from cxmodel.triggers import EXAMPLE_RULES, evaluate, parse

AS_OF = "2030-01-01T00:00:00Z"
LONG_FLOAT = re.compile(r"\d\.0*[1-9]\d{5,}")  # six or more significant decimals


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    log = cx.datasets.synthetic(customers=300, seed=0).log
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "NPSResult": cx.metrics.nps(log),
            "MetricTable": cx.metrics.nps(log, period="day"),
            "Funnel": funnel(log, ["view", "add_to_cart", "purchase"], window="7d"),
            "Transitions": transitions(log),
            "RFMSegments": rfm_segments(rfm_scores(log, as_of=AS_OF)),
            "Firings": evaluate(parse(EXAMPLE_RULES), log, as_of=AS_OF),
            "SurvivalCurve": cx.metrics.customer_lifetimes(log, as_of=AS_OF).kaplan_meier(),
        }


@pytest.mark.parametrize(
    "name",
    [
        "NPSResult",
        "MetricTable",
        "Funnel",
        "Transitions",
        "RFMSegments",
        "Firings",
        "SurvivalCurve",
    ],
)
def test_html_is_compact_and_readable(results: dict[str, Any], name: str) -> None:
    page = results[name]._repr_html_()
    assert "<table" in page
    assert page.count("<tr") <= MAX_ROWS + 1  # the header and at most MAX_ROWS rows
    assert not LONG_FLOAT.search(page), LONG_FLOAT.search(page)
    assert len(page) < 8000


@pytest.mark.parametrize("name", ["MetricTable", "Transitions", "RFMSegments", "Firings"])
def test_long_results_say_how_many_rows_are_hidden(results: dict[str, Any], name: str) -> None:
    page = results[name]._repr_html_()
    hidden = re.search(r"… ([\d,]+) more rows?", page)
    assert hidden is not None
    assert int(hidden.group(1).replace(",", "")) > 0


def test_short_table_has_no_more_line() -> None:
    table = MetricTable(
        "demo", {"group": np.array(["a", "b"], dtype=object), "n": np.array([1, 2])}
    )
    assert "more row" not in table._repr_html_()
    long = MetricTable("demo", {"n": np.arange(MAX_ROWS + 1)})
    assert "… 1 more row</p>" in long._repr_html_()


def test_firings_html_escapes_ids() -> None:
    log = InteractionLog.from_records(
        [
            {
                "customer_id": "<script>x</script>",
                "timestamp": "2024-01-01T00:00:00Z",
                "kind": "purchase",
                "value": 500.0,
            }
        ]
    )
    rules = parse("trigger big:\n    when purchase as p where p.value > 100\n    emit thanks")
    page = evaluate(rules, log, as_of=AS_OF)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
