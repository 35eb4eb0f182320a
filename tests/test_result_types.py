"""Every public result type renders HTML, converts to a dict and to pandas, and has a short repr.

The result types are read from the packages' ``__all__`` (a class with ``to_pandas`` or
``_repr_html_``, or deriving from the result base), so a new one without an example here
fails :func:`test_every_result_type_has_an_example`.
"""

from __future__ import annotations

import functools
import html
import importlib
import inspect
import pkgutil
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel._html import TEXT_ROWS, TEXT_WIDTH
from cxmodel._result import Result
from cxmodel.log import CustomerTable, InteractionLog

pd = pytest.importorskip("pandas")

AS_OF = "2025-01-01T00:00:00Z"

NOT_RESULTS: dict[type, str] = {
    InteractionLog: "the data every analysis reads, shown by its own summary",
}
"""Public classes with ``to_pandas`` or ``_repr_html_`` that are not analysis results."""

NOT_ON_THE_BASE_YET: dict[type, str] = {}
"""Result types that render through the one renderer but do not derive from the base yet
(strict: moving one onto the base fails :func:`test_results_derive_from_the_base` until it
leaves this table)."""


def public_classes() -> set[type]:
    """Every class named in the ``__all__`` of ``cxmodel`` and of its public packages."""
    names = ["cxmodel"] + [
        f"cxmodel.{m.name}" for m in pkgutil.iter_modules(cx.__path__) if not m.name.startswith("_")
    ]
    found: set[type] = set()
    for name in names:
        module = importlib.import_module(name)
        found |= {obj for obj in map(module.__dict__.get, module.__all__) if inspect.isclass(obj)}
    return found


def result_types() -> set[type]:
    """The public classes that are results: on the base, or with a table or HTML view."""
    return {
        cls
        for cls in public_classes()
        if cls not in NOT_RESULTS
        and (issubclass(cls, Result) or hasattr(cls, "to_pandas") or hasattr(cls, "_repr_html_"))
    }


# ---------------------------------------------------------------------------- examples
@functools.cache
def _world() -> Any:
    return cx.datasets.synthetic(customers=150, seed=3)


def _log() -> InteractionLog:
    log: InteractionLog = _world().log
    return log


@functools.cache
def _table() -> CustomerTable:
    return CustomerTable.from_log(_log(), as_of=AS_OF)


def _halves() -> Any:
    mask = _log().customer_codes % 2 == 0
    return mask, ~mask


@functools.cache
def _texts() -> InteractionLog:
    texts = [
        "refund my money please",
        "parcel late and damaged",
        "cannot reset password",
        "refund not received",
        "delivery box broken",
        "password login fails",
    ] * 3
    n = len(texts)
    return InteractionLog.from_arrays(
        customer_id=[f"c{i % 5}" for i in range(n)],
        timestamp=[f"2024-0{1 + i % 3}-0{1 + i % 9}T00:00:00Z" for i in range(n)],
        kind=["ticket_opened"] * n,
        text=texts,
    )


def _rejected() -> Any:
    records = [
        {"customer_id": "a", "timestamp": "2024-01-01T00:00Z", "kind": "view"},
        {"customer_id": "", "timestamp": "2024-01-01T00:00Z", "kind": "view"},
    ]
    return InteractionLog.from_records(records, errors="quarantine").rejected


def _handle_time() -> Any:
    handled = InteractionLog.from_arrays(
        customer_id=["a", "b", "c"],
        timestamp=[0, 1, 2],
        kind=["call", "chat", "call"],
        talk_seconds=[300.0, 100.0, 200.0],
        hold_seconds=[60.0, np.nan, 10.0],
        after_work_seconds=[40.0, 20.0, 5.0],
    )
    return cx.metrics.average_handle_time(handled)


def _action_effect() -> Any:
    from cxmodel.triggers import evaluate, parse

    rule = parse("trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%")
    firings = evaluate(rule, _log(), as_of=AS_OF)
    return cx.metrics.action_effect(firings, _log(), outcome="purchase", as_of=AS_OF)


def _recovery_rate() -> Any:
    from cxmodel.triggers import evaluate, parse

    rule = parse(
        'trigger detractor:\n    when survey as r where r.metric == "nps" and r.score <= 6\n'
        "    emit call\n    holdout 50%"
    )
    firings = evaluate(rule, _log(), as_of=AS_OF)
    return cx.metrics.recovery_rate(firings, _log(), as_of=AS_OF)


def _clv() -> Any:
    from cxmodel.models import BetaGeo, GammaGamma

    summary = cx.models.rfm_summary(_log(), as_of=AS_OF)
    repeat = summary.frequency > 0
    spend = GammaGamma().fit(
        frequency=summary.frequency[repeat], monetary_value=summary.monetary_value[repeat]
    )
    return cx.models.customer_lifetime_value(
        BetaGeo().fit(summary), spend, summary, horizon=3, freq="M", discount_rate=0.01
    )


def _regression() -> Any:
    x = np.array([[1, 0.2], [0, 1.1], [1, 0.5], [0, 0.3], [1, 0.9], [0, 0.1], [1, 0.4], [0, 0.8]])
    durations, events = [5, 1, 4, 2, 3, 6, 2, 7], [1, 1, 1, 1, 0, 1, 1, 0]
    return cx.models.CoxPH().fit(x, durations, events).summary


def _tickets() -> Any:
    return cx.metrics.ticket_lifecycles(_log(), as_of=AS_OF)


def _scores() -> Any:
    return cx.segment.rfm_scores(_log(), as_of=AS_OF)


def _nba() -> Any:
    actions = [
        cx.personalize.Action("win-back", "recency_days > 60", "0.15 * aov"),
        cx.personalize.Action("follow-up", "tickets_open > 0", "5", needs_consent=False),
    ]
    return cx.personalize.next_best_action(_table(), actions)


def _explanation() -> Any:
    from cxmodel.triggers import EXAMPLE_RULES, explain, parse

    return explain(parse(EXAMPLE_RULES), _log(), str(_log().customers[0]), as_of=AS_OF)


def _firings() -> Any:
    from cxmodel.triggers import EXAMPLE_RULES, evaluate, parse

    return evaluate(parse(EXAMPLE_RULES), _log(), as_of=AS_OF)


def _nps(scores: list[int]) -> Any:
    return cx.metrics.nps(scores)


EXAMPLES: dict[type, Callable[[], Any]] = {
    # log
    CustomerTable: _table,
    cx.log.RejectedRows: _rejected,
    # datasets
    cx.datasets.CdnowSummary: cx.datasets.cdnow_summary,
    cx.datasets.SyntheticTruth: lambda: _world().truth,
    cx.datasets.SyntheticWorld: _world,
    # journey
    cx.journey.Attribution: lambda: cx.journey.attribution(_log()),
    cx.journey.Comparison: lambda: cx.journey.compare_transitions(_log(), *_halves()),
    cx.journey.Friction: lambda: cx.journey.friction(_log()),
    cx.journey.Funnel: lambda: cx.journey.funnel(_log(), ["view", "add_to_cart", "purchase"]),
    cx.journey.FunnelComparison: lambda: cx.journey.compare_funnels(
        _log(), ["view", "add_to_cart", "purchase"], *_halves()
    ),
    cx.journey.Paths: lambda: cx.journey.paths(_log(), top=5, max_length=4),
    cx.journey.StepMatrix: lambda: cx.journey.step_matrix(_log(), anchor="purchase", steps=3),
    cx.journey.Transitions: lambda: cx.journey.transitions(_log()),
    # metrics
    cx.metrics.ActionEffect: _action_effect,
    cx.metrics.RecoveryRates: _recovery_rate,
    cx.metrics.CESResult: lambda: cx.metrics.ces(_log()),
    cx.metrics.CohortRetention: lambda: cx.metrics.cohort_retention(_log(), as_of=AS_OF),
    cx.metrics.Comparison: lambda: cx.metrics.compare_nps(
        _nps([10] * 6 + [0] * 4), _nps([10] * 4 + [0] * 6)
    ),
    cx.metrics.CustomerLifetimes: lambda: cx.metrics.customer_lifetimes(_log(), as_of=AS_OF),
    cx.metrics.DriverModel: lambda: cx.metrics.driver_model(
        _log(), outcome="spend", drivers=["view", "search", "ticket_opened"], as_of=AS_OF
    ),
    cx.metrics.HandleTime: _handle_time,
    cx.metrics.LogRankResult: lambda: cx.metrics.logrank_test(
        [1, 2, 3, 4], [2, 3, 5, 8], [1, 1, 0, 1], [1, 1, 1, 0]
    ),
    cx.metrics.MetricTable: lambda: cx.metrics.nps(_log(), period="month"),
    cx.metrics.MultiLogRankResult: lambda: cx.metrics.multivariate_logrank_test(
        [1, 2, 3, 4, 5, 6, 7, 8, 9], ["a", "b", "c"] * 3, [1, 1, 0, 1, 1, 1, 0, 1, 1]
    ),
    cx.metrics.NPSResult: lambda: cx.metrics.nps(_log()),
    cx.metrics.ProportionResult: lambda: cx.metrics.csat(_log()),
    cx.metrics.QuestionSummary: lambda: cx.metrics.question_summary(
        _log(), "csat", period="quarter"
    ),
    cx.metrics.RateResult: lambda: cx.metrics.churn_rate(
        _log(), "2024-03-01T00:00Z", "2024-09-01T00:00Z"
    ),
    cx.metrics.SurvivalCurve: lambda: cx.metrics.kaplan_meier(
        [1, 2, 2, 3, 5, 8], [1, 1, 0, 1, 1, 0]
    ),
    cx.metrics.TicketLifecycles: _tickets,
    cx.metrics.TicketTimes: lambda: cx.metrics.ticket_times(_tickets(), "first_resolution"),
    # models
    cx.models.CLVResult: _clv,
    cx.models.ChurnRisk: lambda: cx.models.churn_risk(_log(), as_of=AS_OF),
    cx.models.ChurnValidation: lambda: cx.models.validate_churn(_log(), split="2024-09-01T00:00Z"),
    cx.models.Convergence: lambda: (
        cx.models.BetaGeo().fit(cx.models.rfm_summary(_log(), as_of=AS_OF)).convergence_
    ),
    cx.models.RFMSummary: lambda: cx.models.rfm_summary(_log(), as_of=AS_OF),
    cx.models.RegressionSummary: _regression,
    # personalize
    cx.personalize.NextBestActions: _nba,
    cx.personalize.Preferences: lambda: cx.personalize.preferences(_log(), as_of=AS_OF),
    # report
    cx.report.CXReport: lambda: cx.report.cx_report(_log(), as_of=AS_OF),
    # segment
    cx.segment.Clusters: lambda: cx.segment.cluster(
        _table(), ["frequency", "monetary"], n_clusters=3
    ),
    cx.segment.Contrast: lambda: cx.segment.contrast(
        _table(), _table().column("frequency") > 1, _table().column("frequency") <= 1
    ),
    cx.segment.RFMScores: _scores,
    cx.segment.RFMSegments: lambda: cx.segment.rfm_segments(_scores()),
    cx.segment.RuleSegments: lambda: cx.segment.rule_segments(
        {"big": "monetary > 100", "active": "frequency > 1"}, _table()
    ),
    cx.segment.SegmentProfile: lambda: cx.segment.profile_segments(
        cx.segment.rfm_segments(_scores()), _table(), features=["frequency", "monetary"]
    ),
    # text
    cx.text.Categories: lambda: cx.text.categorise(
        _texts(), {"refund": ["refund"], "login": ["password", "login"]}
    ),
    cx.text.SentimentScores: lambda: cx.text.sentiment(_texts(), cx.text.BasicScorer()),
    cx.text.Topics: lambda: cx.text.topics(_texts(), n_topics=3, top_terms=4),
    # triggers
    cx.triggers.Explanation: _explanation,
    cx.triggers.Firings: _firings,
}


@functools.cache
def example(cls: type) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small samples, convergence on a small world
        result = EXAMPLES[cls]()
    assert type(result) is cls
    return result


TYPES = sorted(EXAMPLES, key=lambda cls: f"{cls.__module__}.{cls.__name__}")
IDS = [f"{cls.__module__.split('.')[1]}.{cls.__name__}" for cls in TYPES]


# ---------------------------------------------------------------------------- tests
def test_every_result_type_has_an_example() -> None:
    """The examples cover exactly the result types the packages export."""
    assert set(EXAMPLES) == result_types()


def test_results_derive_from_the_base() -> None:
    """Every result type derives from the one base, except those listed as not yet."""
    off = {cls for cls in result_types() if not issubclass(cls, Result)}
    assert off == set(NOT_ON_THE_BASE_YET)


def test_result_classes_leave_repr_to_the_base() -> None:
    """A result class declared without ``repr=False`` would get attrs' repr, not the summary."""
    own = [cls for cls in result_types() if issubclass(cls, Result) and "__repr__" in vars(cls)]
    assert own == []


@pytest.mark.parametrize("cls", TYPES, ids=IDS)
class TestEveryResult:
    def test_html(self, cls: type) -> None:
        """The HTML view has a table of short values, not a dump of arrays (a report's page
        is in a frame of its own, its markup escaped in ``srcdoc``)."""
        page = html.unescape(example(cls)._repr_html_())
        assert "<table" in page
        assert "array(" not in page

    def test_dict(self, cls: type) -> None:
        """``to_dict`` gives a non-empty dict with string keys."""
        got = example(cls).to_dict()
        assert isinstance(got, dict) and got
        assert all(isinstance(key, str) for key in got)

    def test_pandas(self, cls: type) -> None:
        """``to_pandas`` gives a DataFrame with rows."""
        frame = example(cls).to_pandas()
        assert isinstance(frame, pd.DataFrame)
        assert len(frame) > 0 and len(frame.columns) > 0

    def test_repr_is_short(self, cls: type) -> None:
        """The plain repr is a few lines that start with the type's name: a summary line (up
        to three when it wraps), the column names, at most five rows and a line counting the
        rest."""
        text = repr(example(cls))
        lines = text.splitlines()
        assert text.startswith(cls.__name__), text[:80]
        assert len(lines) <= 3 + 1 + TEXT_ROWS + 1, text
        assert len(text) <= 8 * TEXT_WIDTH, text


def test_suppressed_firings_keep_their_reason() -> None:
    """``Firings.to_pandas()`` of the suppressed firings says which policy stopped each."""
    suppressed = example(cx.triggers.Firings).suppressed
    frame = suppressed.to_pandas()
    assert len(frame) == len(suppressed) > 0
    assert frame["reason"].tolist() == [f.reason for f in suppressed]
    assert frame["reason"].notna().all()


@pytest.mark.parametrize(
    ("cls", "limit"),
    [(cx.metrics.TicketTimes, 300), (cx.journey.Transitions, 900), (cx.journey.Comparison, 900)],
    ids=["ticket_times", "transitions", "compare_transitions"],
)
def test_reprs_that_were_huge(cls: type, limit: int) -> None:
    """The results whose attrs repr printed every array (tens of thousands of characters)."""
    assert len(repr(example(cls))) <= limit
