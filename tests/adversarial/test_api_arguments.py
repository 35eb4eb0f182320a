"""Every public function and fitted-model method, called with a hostile value in one argument
while the others are valid, either answers or raises a CXModelError (a wrong number of
arguments or an unknown keyword is ordinary Python and out of scope: the calls here always
bind).

The hostile values are few and cheap (None, a number, text, empty containers, a bare object,
NaN and, where a log or table is expected, a pandas DataFrame); the valid arguments are built
once from a small synthetic world.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel import datasets, domain, io, journey, metrics, models, personalize, report, segment
from cxmodel import plot as cxplot
from cxmodel import text as cxtext
from cxmodel.errors import CXModelError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.triggers import evaluate, parse

AS_OF = "2024-10-01T00:00:00Z"
PUBLIC_PACKAGES = (
    "cxmodel",
    "cxmodel.log",
    "cxmodel.metrics",
    "cxmodel.segment",
    "cxmodel.journey",
    "cxmodel.personalize",
    "cxmodel.models",
    "cxmodel.text",
    "cxmodel.io",
    "cxmodel.plot",
    "cxmodel.report",
    "cxmodel.datasets",
    "cxmodel.domain",
)
HOLDOUT_RULE = "trigger welcome:\n    when signup\n    emit coupon\n    holdout 50%"


class World:
    """Valid arguments, built on first use and shared by every test of the module."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.log = datasets.synthetic(30, seed=0).log
        self.ids = self.log.customers
        self.table = self.log.customers_table(AS_OF)
        self.half = np.arange(len(self.table.customer_id)) % 2 == 0
        self.row_half = self.log.customer_codes % 2 == 0
        self.firings = evaluate(parse(HOLDOUT_RULE), self.log, as_of=AS_OF)
        self.tickets = metrics.ticket_lifecycles(self.log)
        self.nps = metrics.nps(self.log)
        self.csat = metrics.csat([5, 4, 3, 5, 1, 2] * 5)
        self.rfm = segment.rfm_scores(self.log, as_of=AS_OF)
        self.summary = models.rfm_summary(self.log, as_of=AS_OF, freq="W")
        self.text_log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c", "a", "b", "c"],
            timestamp=[f"2024-0{m}-01T00:00Z" for m in range(1, 7)],
            kind=["ticket_opened"] * 6,
            text=[
                "late delivery again",
                "great service, thank you",
                "the parcel was late and damaged",
                "refund took weeks",
                "lovely staff",
                "app keeps crashing at checkout",
            ],
            topic=["delivery", "service", "delivery", "refund", "service", "app"],
            sentiment=[-0.5, 0.8, -0.7, -0.2, 0.6, -0.4],
        )
        self.csv = tmp / "log.csv"
        self.jsonl = tmp / "log.jsonl"
        self.parquet = tmp / "log.parquet"
        self.csv.write_text("customer_id,timestamp,kind\na,2024-01-01T00:00:00Z,purchase\n")
        self.jsonl.write_text(
            '{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase"}\n'
        )
        self.out = tmp / "out.csv"
        # a log of three kinds for the plots of journeys and cohorts (fewer ticks to draw)
        self.small_log = InteractionLog.from_arrays(
            customer_id=list("aaabbbccc"),
            timestamp=[f"2024-0{m}-01T00:00Z" for m in (1, 1, 2, 1, 2, 3, 2, 3, 3)],
            kind=["view", "add_to_cart", "purchase"] * 3,
            channel=["web", "email", None] * 3,
        )
        self.built: dict[str, Args] = {}

    @functools.cached_property
    def betageo(self) -> models.BetaGeo:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return models.BetaGeo(penalizer_coef=0.01).fit(self.summary)  # type: ignore[return-value]

    @functools.cached_property
    def gammagamma(self) -> models.GammaGamma:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return models.GammaGamma(penalizer_coef=0.01).fit(self.summary)

    @functools.cached_property
    def covariates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(40, 2))
        durations = rng.exponential(10.0, size=40) + 1.0
        observed = rng.random(40) < 0.7
        return x, durations, observed

    @functools.cached_property
    def coxph(self) -> models.CoxPH:
        x, durations, observed = self.covariates
        return models.CoxPH().fit(x, durations, observed)

    @functools.cached_property
    def hazard(self) -> models.DiscreteHazard:
        x, durations, observed = self.covariates
        periods = np.minimum(durations // 5, 3).astype(int)
        return models.DiscreteHazard().fit(x, observed.astype(float), periods=periods)


Args = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class Recipe:
    """A public callable and how to build a valid call of it from the world."""

    function: Callable[..., Any]
    build: Callable[[World], Args]


def _a(*args: Any, **kwargs: Any) -> Args:
    return args, kwargs


RECIPES: dict[str, Recipe] = {
    # cxmodel and cxmodel.io (the top-level readers and writers are the same functions)
    "io.read_csv": Recipe(io.read_csv, lambda w: _a(w.csv)),
    "io.read_jsonl": Recipe(io.read_jsonl, lambda w: _a(w.jsonl)),
    "io.read_parquet": Recipe(io.read_parquet, lambda w: _a(w.parquet)),
    "io.write_csv": Recipe(io.write_csv, lambda w: _a(w.log, w.out)),
    "io.write_parquet": Recipe(io.write_parquet, lambda w: _a(w.log, w.tmp / "out.parquet")),
    # cxmodel.log
    "log.InteractionLog.from_records": Recipe(
        InteractionLog.from_records,
        lambda w: _a([{"customer_id": "a", "timestamp": AS_OF, "kind": "purchase"}]),
    ),
    "log.InteractionLog.from_arrays": Recipe(
        InteractionLog.from_arrays, lambda w: _a(["a"], [AS_OF], ["purchase"])
    ),
    "log.InteractionLog.from_interactions": Recipe(
        InteractionLog.from_interactions,
        lambda w: _a([domain.Interaction("a", AS_OF, "purchase")]),
    ),
    "log.InteractionLog.from_pandas": Recipe(
        InteractionLog.from_pandas, lambda w: _a(w.log.to_pandas())
    ),
    "log.InteractionLog.from_arrow": Recipe(
        InteractionLog.from_arrow, lambda w: _a(w.log.to_arrow())
    ),
    "log.InteractionLog.between": Recipe(
        InteractionLog.between, lambda w: _a(w.log, "2024-03-01T00:00Z", AS_OF)
    ),
    "log.InteractionLog.categorical": Recipe(
        InteractionLog.categorical, lambda w: _a(w.log, "kind")
    ),
    "log.InteractionLog.column": Recipe(InteractionLog.column, lambda w: _a(w.log, "value")),
    "log.InteractionLog.numeric": Recipe(InteractionLog.numeric, lambda w: _a(w.log, "value")),
    "log.InteractionLog.customer_index": Recipe(
        InteractionLog.customer_index, lambda w: _a(w.log, w.ids[0])
    ),
    "log.InteractionLog.customers_table": Recipe(
        InteractionLog.customers_table, lambda w: _a(w.log, AS_OF)
    ),
    "log.InteractionLog.filter": Recipe(InteractionLog.filter, lambda w: _a(w.log, w.row_half)),
    "log.InteractionLog.interactions": Recipe(
        InteractionLog.interactions, lambda w: _a(w.log, 0, 5)
    ),
    "log.InteractionLog.journey": Recipe(InteractionLog.journey, lambda w: _a(w.log, w.ids[0])),
    "log.InteractionLog.select": Recipe(
        InteractionLog.select, lambda w: _a(w.log, ["value", "channel"])
    ),
    "log.InteractionLog.with_column": Recipe(
        InteractionLog.with_column, lambda w: _a(w.log, "extra", np.zeros(len(w.log)))
    ),
    "log.CustomerTable.from_log": Recipe(CustomerTable.from_log, lambda w: _a(w.log, as_of=AS_OF)),
    "log.CustomerTable.column": Recipe(CustomerTable.column, lambda w: _a(w.table, "frequency")),
    "log.CustomerTable.row": Recipe(CustomerTable.row, lambda w: _a(w.table, w.ids[0])),
    "log.CustomerTable.profile": Recipe(
        CustomerTable.profile, lambda w: _a(w.table, w.ids[0], recent=5)
    ),
    # cxmodel.metrics
    "metrics.action_effect": Recipe(
        metrics.action_effect,
        lambda w: _a(w.firings, w.log, outcome="purchase", as_of=AS_OF),
    ),
    "metrics.average_handle_time": Recipe(
        metrics.average_handle_time,
        lambda w: _a(w.log, kinds=["ticket_replied"], components=["reply_hours"]),
    ),
    "metrics.ces": Recipe(metrics.ces, lambda w: _a(w.log)),
    "metrics.churn_rate": Recipe(
        metrics.churn_rate, lambda w: _a(w.log, "2024-04-01T00:00Z", AS_OF)
    ),
    "metrics.cohort_retention": Recipe(metrics.cohort_retention, lambda w: _a(w.log)),
    "metrics.compare_nps": Recipe(metrics.compare_nps, lambda w: _a(w.nps, w.nps)),
    "metrics.compare_proportions": Recipe(
        metrics.compare_proportions, lambda w: _a((170, 200), (150, 200))
    ),
    "metrics.csat": Recipe(metrics.csat, lambda w: _a(w.log)),
    "metrics.customer_lifetimes": Recipe(metrics.customer_lifetimes, lambda w: _a(w.log, AS_OF)),
    "metrics.driver_model": Recipe(
        metrics.driver_model, lambda w: _a(w.log, drivers=["view", "product_view"])
    ),
    "metrics.experience_drivers": Recipe(metrics.experience_drivers, lambda w: _a(w.log)),
    "metrics.first_contact_resolution": Recipe(
        metrics.first_contact_resolution, lambda w: _a(w.tickets)
    ),
    "metrics.kaplan_meier": Recipe(metrics.kaplan_meier, lambda w: _a([1, 2, 2, 3], [1, 1, 0, 1])),
    "metrics.kaplan_meier_by": Recipe(
        metrics.kaplan_meier_by, lambda w: _a([1, 2, 2, 3], [1, 1, 0, 1], groups=list("aabb"))
    ),
    "metrics.logrank_test": Recipe(
        metrics.logrank_test, lambda w: _a([1, 2, 3, 4], [2, 3, 5, 6], [1, 1, 0, 1], [1, 0, 1, 1])
    ),
    "metrics.multivariate_logrank_test": Recipe(
        metrics.multivariate_logrank_test,
        lambda w: _a([1, 2, 3, 4, 5, 6], list("aabbcc"), [1, 1, 0, 1, 1, 1]),
    ),
    "metrics.nps": Recipe(metrics.nps, lambda w: _a(w.log)),
    "metrics.on_time_delivery_rate": Recipe(metrics.on_time_delivery_rate, lambda w: _a(w.log)),
    "metrics.one_touch_rate": Recipe(metrics.one_touch_rate, lambda w: _a(w.tickets)),
    "metrics.question_summary": Recipe(metrics.question_summary, lambda w: _a(w.log, "nps")),
    "metrics.rated_interactions": Recipe(metrics.rated_interactions, lambda w: _a(w.log)),
    "metrics.recovery_rate": Recipe(metrics.recovery_rate, lambda w: _a(w.firings, w.log)),
    "metrics.repeat_purchase_rate": Recipe(metrics.repeat_purchase_rate, lambda w: _a(w.log)),
    "metrics.response_rate": Recipe(
        metrics.response_rate, lambda w: _a(w.log, "nps", sent_kind="email_sent")
    ),
    "metrics.retention_rate": Recipe(
        metrics.retention_rate, lambda w: _a(w.log, "2024-04-01T00:00Z", AS_OF)
    ),
    "metrics.return_rate": Recipe(metrics.return_rate, lambda w: _a(w.log)),
    "metrics.satisfaction_by_stage": Recipe(metrics.satisfaction_by_stage, lambda w: _a(w.log)),
    "metrics.sentiment_by_topic": Recipe(metrics.sentiment_by_topic, lambda w: _a(w.text_log)),
    "metrics.ticket_lifecycles": Recipe(metrics.ticket_lifecycles, lambda w: _a(w.log)),
    "metrics.ticket_times": Recipe(metrics.ticket_times, lambda w: _a(w.tickets)),
    "metrics.ticket_volume": Recipe(metrics.ticket_volume, lambda w: _a(w.log)),
    "metrics.value_summary": Recipe(metrics.value_summary, lambda w: _a(w.log)),
    # cxmodel.segment
    "segment.cluster": Recipe(
        segment.cluster, lambda w: _a(w.table, ["frequency", "monetary"], n_clusters=2)
    ),
    "segment.contrast": Recipe(segment.contrast, lambda w: _a(w.table, w.half, ~w.half)),
    "segment.newcombe_interval": Recipe(segment.newcombe_interval, lambda w: _a(5, 10, 3, 10)),
    "segment.profile_segments": Recipe(
        segment.profile_segments,
        lambda w: _a(np.where(w.half, "x", "y").astype(object), w.table),
    ),
    "segment.rank_scores": Recipe(segment.rank_scores, lambda w: _a([3.0, 1.0, 2.0, 5.0], 2)),
    "segment.rfm_scores": Recipe(segment.rfm_scores, lambda w: _a(w.log, as_of=AS_OF)),
    "segment.rfm_segments": Recipe(segment.rfm_segments, lambda w: _a(w.rfm)),
    "segment.rule_segments": Recipe(
        segment.rule_segments, lambda w: _a({"loyal": "frequency > 1"}, w.table)
    ),
    "segment.standardise": Recipe(segment.standardise, lambda w: _a(np.ones((3, 2)))),
    "segment.welch_interval": Recipe(
        segment.welch_interval, lambda w: _a(np.array([1.0, 2, 3]), np.array([2.0, 3, 5]))
    ),
    "segment.wilson_interval": Recipe(segment.wilson_interval, lambda w: _a(5, 10)),
    # cxmodel.journey
    "journey.attribution": Recipe(
        journey.attribution, lambda w: _a(w.log, model=["first", "last", "markov"])
    ),
    "journey.compare_friction": Recipe(
        journey.compare_friction, lambda w: _a(w.log, w.row_half, ~w.row_half)
    ),
    "journey.compare_funnels": Recipe(
        journey.compare_funnels,
        lambda w: _a(w.log, ["view", "purchase"], w.row_half, ~w.row_half),
    ),
    "journey.compare_paths": Recipe(
        journey.compare_paths, lambda w: _a(w.log, w.row_half, ~w.row_half)
    ),
    "journey.compare_step_matrices": Recipe(
        journey.compare_step_matrices, lambda w: _a(w.log, w.row_half, ~w.row_half)
    ),
    "journey.compare_transitions": Recipe(
        journey.compare_transitions, lambda w: _a(w.log, w.row_half, ~w.row_half)
    ),
    "journey.friction": Recipe(journey.friction, lambda w: _a(w.log)),
    "journey.funnel": Recipe(journey.funnel, lambda w: _a(w.log, ["view", "purchase"])),
    "journey.markov_removal_effects": Recipe(
        journey.markov_removal_effects,
        lambda w: _a(np.array([[0, 2, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]), 0, 2, 3),
    ),
    "journey.paths": Recipe(journey.paths, lambda w: _a(w.log)),
    "journey.sessions": Recipe(journey.sessions, lambda w: _a(w.log)),
    "journey.shapley_values": Recipe(
        journey.shapley_values, lambda w: _a(np.array([1, 2, 3]), np.array([1.0, 1.0, 2.0]), 2)
    ),
    "journey.step_matrix": Recipe(journey.step_matrix, lambda w: _a(w.log, steps=3)),
    "journey.transitions": Recipe(journey.transitions, lambda w: _a(w.log)),
    # cxmodel.personalize
    "personalize.next_best_action": Recipe(
        personalize.next_best_action,
        lambda w: _a(w.table, [personalize.Action("call", "frequency >= 1", "3")]),
    ),
    "personalize.preferences": Recipe(personalize.preferences, lambda w: _a(w.log, as_of=AS_OF)),
    # cxmodel.models
    "models.auc_score": Recipe(models.auc_score, lambda w: _a([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])),
    "models.calibration_holdout_split": Recipe(
        models.calibration_holdout_split,
        lambda w: _a(w.log, "2024-07-01T00:00Z", AS_OF),
    ),
    "models.churn_features": Recipe(models.churn_features, lambda w: _a(w.log, as_of=AS_OF)),
    "models.churn_risk": Recipe(models.churn_risk, lambda w: _a(w.log, as_of=AS_OF)),
    "models.concordance_index": Recipe(
        models.concordance_index, lambda w: _a([1, 2, 3, 4], [0.9, 0.5, 0.4, 0.1])
    ),
    "models.customer_lifetime_value": Recipe(
        models.customer_lifetime_value,
        lambda w: _a(w.betageo, w.gammagamma, w.summary, horizon=3, freq="M", discount_rate=0.01),
    ),
    "models.expand_person_period": Recipe(
        models.expand_person_period, lambda w: _a([1, 3, 2], [1, 0, 1])
    ),
    "models.rfm_summary": Recipe(models.rfm_summary, lambda w: _a(w.log, as_of=AS_OF)),
    "models.validate_churn": Recipe(
        models.validate_churn, lambda w: _a(w.log, split="2024-08-01T00:00Z", horizon="60 days")
    ),
    "models.BetaGeo.fit": Recipe(models.BetaGeo.fit, lambda w: _a(models.BetaGeo(0.01), w.summary)),
    "models.BetaGeo.predict": Recipe(
        models.BetaGeo.conditional_expected_purchases,
        lambda w: _a(w.betageo, 4.0, w.summary.frequency, w.summary.recency, w.summary.T),
    ),
    "models.BetaGeo.probability_alive": Recipe(
        models.BetaGeo.probability_alive,
        lambda w: _a(w.betageo, w.summary.frequency, w.summary.recency, w.summary.T),
    ),
    "models.BetaGeo.expected_purchases": Recipe(
        models.BetaGeo.expected_purchases, lambda w: _a(w.betageo, 4.0)
    ),
    "models.BetaGeo.sample": Recipe(models.BetaGeo.sample, lambda w: _a(w.betageo, 5, T=10.0)),
    "models.GammaGamma.fit": Recipe(
        models.GammaGamma.fit, lambda w: _a(models.GammaGamma(0.01), w.summary)
    ),
    "models.GammaGamma.conditional_expected_spend": Recipe(
        models.GammaGamma.conditional_expected_spend,
        lambda w: _a(w.gammagamma, w.summary.frequency, w.summary.monetary_value),
    ),
    "models.ShiftedBetaGeo.fit": Recipe(
        models.ShiftedBetaGeo.fit,
        lambda w: _a(models.ShiftedBetaGeo(), survivors=[1000, 631, 468, 382, 326]),
    ),
    "models.CoxPH.fit": Recipe(models.CoxPH.fit, lambda w: _a(models.CoxPH(), *w.covariates)),
    "models.CoxPH.predict_partial_hazard": Recipe(
        models.CoxPH.predict_partial_hazard, lambda w: _a(w.coxph, w.covariates[0])
    ),
    "models.CoxPH.predict_survival_function": Recipe(
        models.CoxPH.predict_survival_function, lambda w: _a(w.coxph, w.covariates[0], [1.0, 5.0])
    ),
    "models.DiscreteHazard.predict_hazard": Recipe(
        models.DiscreteHazard.predict_hazard, lambda w: _a(w.hazard, w.covariates[0])
    ),
    # cxmodel.text
    "text.categorise": Recipe(
        cxtext.categorise, lambda w: _a(w.text_log, {"delivery": ["late", "parcel"]})
    ),
    "text.normalize": Recipe(cxtext.normalize, lambda w: _a("Late DELIVERY")),
    "text.scorer_name": Recipe(cxtext.scorer_name, lambda w: _a(cxtext.BasicScorer())),
    "text.sentiment": Recipe(cxtext.sentiment, lambda w: _a(w.text_log)),
    "text.sentiment_trend": Recipe(cxtext.sentiment_trend, lambda w: _a(w.text_log)),
    "text.stop_words": Recipe(cxtext.stop_words, lambda w: _a("en")),
    "text.tokenize": Recipe(cxtext.tokenize, lambda w: _a("late delivery again")),
    "text.topics": Recipe(cxtext.topics, lambda w: _a(w.text_log, n_topics=2)),
    # cxmodel.report, cxmodel.datasets, cxmodel.domain
    "report.cx_report": Recipe(report.cx_report, lambda w: _a(w.log, as_of=AS_OF)),
    "datasets.synthetic": Recipe(datasets.synthetic, lambda w: _a(5)),
    "domain.question_catalogue": Recipe(domain.question_catalogue, lambda w: _a()),
}

PLOT_RECIPES: dict[str, Recipe] = {
    "plot.plot_attribution": Recipe(
        cxplot.plot_attribution,
        lambda w: _a(journey.attribution(w.small_log, model=["first", "last"])),
    ),
    "plot.plot_calibration_purchases_vs_holdout_purchases": Recipe(
        cxplot.plot_calibration_purchases_vs_holdout_purchases,
        lambda w: _a(w.betageo, w.summary, np.zeros(len(w.summary.frequency)), 10.0),
    ),
    "plot.plot_cohort_retention": Recipe(
        cxplot.plot_cohort_retention,
        lambda w: _a(metrics.cohort_retention(w.small_log), annotate=False, max_periods=3),
    ),
    "plot.plot_comparison": Recipe(
        cxplot.plot_comparison, lambda w: _a(metrics.compare_proportions((17, 20), (15, 20)))
    ),
    "plot.plot_contrast": Recipe(
        cxplot.plot_contrast, lambda w: _a(segment.contrast(w.table, w.half, ~w.half))
    ),
    "plot.plot_drivers": Recipe(
        cxplot.plot_drivers, lambda w: _a(metrics.experience_drivers(w.log))
    ),
    "plot.plot_firings": Recipe(cxplot.plot_firings, lambda w: _a(w.firings)),
    "plot.plot_frequency_recency_matrix": Recipe(
        cxplot.plot_frequency_recency_matrix,
        lambda w: _a(w.betageo, w.summary, max_frequency=4, max_recency=4.0),
    ),
    "plot.plot_friction": Recipe(
        cxplot.plot_friction, lambda w: _a(journey.friction(w.small_log, errors=()))
    ),
    "plot.plot_funnel": Recipe(
        cxplot.plot_funnel, lambda w: _a(journey.funnel(w.log, ["view", "purchase"]))
    ),
    "plot.plot_funnel_comparison": Recipe(
        cxplot.plot_funnel_comparison,
        lambda w: _a(journey.compare_funnels(w.log, ["view", "purchase"], w.row_half, ~w.row_half)),
    ),
    "plot.plot_journey_comparison": Recipe(
        cxplot.plot_journey_comparison,
        lambda w: _a(journey.compare_transitions(w.log, w.row_half, ~w.row_half)),
    ),
    "plot.plot_metric_table": Recipe(
        cxplot.plot_metric_table, lambda w: _a(metrics.nps(w.log, by="channel"))
    ),
    "plot.plot_paths": Recipe(cxplot.plot_paths, lambda w: _a(journey.paths(w.log))),
    "plot.plot_period_transactions": Recipe(
        cxplot.plot_period_transactions, lambda w: _a(w.betageo, w.summary)
    ),
    "plot.plot_probability_alive_matrix": Recipe(
        cxplot.plot_probability_alive_matrix,
        lambda w: _a(w.betageo, w.summary, max_frequency=4, max_recency=4.0),
    ),
    "plot.plot_rfm_segments": Recipe(
        cxplot.plot_rfm_segments, lambda w: _a(segment.rfm_segments(w.rfm))
    ),
    "plot.plot_step_matrix": Recipe(
        cxplot.plot_step_matrix, lambda w: _a(journey.step_matrix(w.log, steps=3))
    ),
    "plot.plot_survival": Recipe(
        cxplot.plot_survival, lambda w: _a(metrics.kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1]))
    ),
    "plot.plot_transitions": Recipe(
        cxplot.plot_transitions, lambda w: _a(journey.transitions(w.small_log), annotate=False)
    ),
}
ALL_RECIPES = {**RECIPES, **PLOT_RECIPES}


def _hostile_values(parameter: inspect.Parameter) -> dict[str, Any]:
    """The values tried in ``parameter``: a DataFrame too where a log or table is expected."""
    values: dict[str, Any] = {
        "None": None,
        "5": 5,
        "'junk'": "junk",
        "[]": [],
        "{}": {},
        "object()": object(),
        "nan": float("nan"),
    }
    if "InteractionLog" in str(parameter.annotation) or "CustomerTable" in str(
        parameter.annotation
    ):
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is in the test extras
            pass
        else:
            values["DataFrame"] = pd.DataFrame({"customer_id": ["a"], "kind": ["purchase"]})
    return {
        name: value
        for name, value in values.items()
        if parameter.default is inspect.Parameter.empty or value is not parameter.default
    }


def _attacked(function: Callable[..., Any]) -> list[str]:
    """The parameters to attack: every named one but ``self`` and ``ax`` (a matplotlib axes)."""
    return [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("self", "ax")
    ]


CASES = [
    pytest.param(recipe_id, name, id=f"{recipe_id}-{name}")
    for recipe_id, recipe in ALL_RECIPES.items()
    for name in _attacked(recipe.function)
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = World(tmp_path_factory.mktemp("attack"))
    pytest.importorskip("pyarrow")
    io.write_parquet(built.text_log, built.parquet)
    return built


def _built(recipe_id: str, world: World) -> Args:
    """The valid call of a recipe, built once per module: the attacks rebind one argument of a
    fresh binding and the functions do not mutate their arguments."""
    if recipe_id not in world.built:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            world.built[recipe_id] = ALL_RECIPES[recipe_id].build(world)
    return world.built[recipe_id]


def _call(function: Callable[..., Any], args: Args) -> BaseException | None:
    """Call and return what was raised (warnings are answers, not escapes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            function(*args[0], **args[1])
        except Exception as error:
            return error
        finally:
            if "matplotlib.pyplot" in sys.modules:
                import matplotlib.pyplot as plt

                plt.close("all")
    return None


def test_every_recipe_is_valid(world: World) -> None:
    """The valid calls the attacks start from answer without an error."""
    pytest.importorskip("matplotlib").use("Agg")
    broken = {
        recipe_id: f"{type(error).__name__}: {error}"
        for recipe_id, recipe in ALL_RECIPES.items()
        if (error := _call(recipe.function, _built(recipe_id, world))) is not None
    }
    assert not broken, "\n".join(f"{k}: {v}" for k, v in broken.items())


def test_every_public_function_has_a_recipe() -> None:
    """Each function in a public package's ``__all__`` is attacked (or listed as taking no
    arguments)."""
    covered = {recipe.function for recipe in ALL_RECIPES.values()}
    no_arguments = {datasets.cdnow, datasets.cdnow_summary, cxtext.default_scorer}
    missing = [
        f"{package}.{name}"
        for package in PUBLIC_PACKAGES
        for name in importlib.import_module(package).__all__
        if inspect.isfunction(function := getattr(importlib.import_module(package), name))
        and function not in covered | no_arguments
    ]
    assert missing == []


@pytest.mark.parametrize(("recipe_id", "name"), CASES)
def test_hostile_argument(
    world: World, recipe_id: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile value in one argument gets an answer or a CXModelError, nothing else."""
    monkeypatch.chdir(world.tmp)  # a path of 'junk' is a valid path: write it there
    recipe = ALL_RECIPES[recipe_id]
    if recipe_id.startswith("plot."):
        pytest.importorskip("matplotlib").use("Agg")
    signature = inspect.signature(recipe.function)
    args, kwargs = _built(recipe_id, world)
    escapes = {}
    for label, value in _hostile_values(signature.parameters[name]).items():
        bound = signature.bind(*args, **kwargs)
        bound.arguments[name] = value
        error = _call(recipe.function, (bound.args, bound.kwargs))
        if error is None or isinstance(error, CXModelError):
            continue
        if isinstance(error, OSError) and "path" in name:
            continue  # a file that is not there: the operating system's answer, as open() gives
        escapes[label] = f"{type(error).__name__}: {str(error)[:120]}"
    assert not escapes, "\n".join(f"{name}={k}: {v}" for k, v in escapes.items())


PLOTS_WITH_KEYWORDS = [
    recipe_id
    for recipe_id, recipe in ALL_RECIPES.items()
    if recipe_id.startswith("plot.")
    and any(p.kind is p.VAR_KEYWORD for p in inspect.signature(recipe.function).parameters.values())
]


@pytest.mark.parametrize("recipe_id", PLOTS_WITH_KEYWORDS)
def test_a_keyword_matplotlib_refuses_is_a_cxmodel_error(world: World, recipe_id: str) -> None:
    """Every plot passing **kwargs to matplotlib checks them first against the artist they
    go to: a British spelling is named, with the property meant, in a CXModelError from the
    plot the user called (matplotlib's own AttributeError escaped)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    recipe = ALL_RECIPES[recipe_id]
    args, kwargs = _built(recipe_id, world)
    try:
        error = _call(recipe.function, (args, {**kwargs, "colour": "red"}))
    finally:
        plt.close("all")
    assert isinstance(error, CXModelError), f"{type(error).__name__}: {error}"
    message = str(error)
    assert f"{recipe.function.__name__}(): unknown keyword 'colour'" in message
    assert "did you mean '" in message  # 'color', or 'colorizer' for an image
