"""Draw the guides' figures into docs/images/ from the synthetic world and CDNOW.

Run from the repository root: ``python docs/figures.py`` (needs ``cxmodel[plot]``). Each figure
is a PNG named after the guide section that shows it; the script is deterministic (seeded data).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

import cxmodel as cx
from cxmodel.datasets import cdnow, cdnow_summary, synthetic
from cxmodel.journey import (
    attribution,
    compare_transitions,
    friction,
    funnel,
    paths,
    sessions,
    step_matrix,
    transitions,
)
from cxmodel.log import CustomerTable
from cxmodel.metrics import (
    cohort_retention,
    customer_lifetimes,
    experience_drivers,
    kaplan_meier_by,
    nps,
)
from cxmodel.models import BetaGeo, ParetoNBD, calibration_holdout_split
from cxmodel.segment import contrast, rfm_scores, rfm_segments
from cxmodel.triggers import EXAMPLE_RULES, evaluate, parse

OUT = Path(__file__).resolve().parent / "images"
AS_OF = "2025-01-01T00:00Z"


def save(name: str, draw: Callable[[], Any]) -> None:
    """Run ``draw`` (it returns the Axes), save its figure as ``OUT/name.png`` and close it."""
    ax = draw()
    path = OUT / f"{name}.png"
    ax.figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(ax.figure)
    print(path.relative_to(OUT.parent.parent))


def metrics() -> None:
    world = synthetic(2000, seed=0)
    log = world.log
    lifetimes = customer_lifetimes(log, AS_OF, inactivity="90d")
    late_rows = log.kind_mask("delivery") & (log.column("late") == "yes")
    late = np.bincount(log.customer_codes[late_rows], minlength=log.n_customers) > 0
    groups = np.where(late, "had a late delivery", "no late delivery")
    curves = kaplan_meier_by(lifetimes.durations, lifetimes.observed, groups=groups)
    save("metrics-survival-by-group", lambda: cx.plot.plot_survival(curves))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cx.metrics.SmallSampleWarning)
        trend = nps(log, period="month")
    save("metrics-nps-by-month", lambda: trend.plot())
    by_late = nps(log, by=groups[log.customer_codes])
    save("metrics-nps-by-group", lambda: by_late.plot())
    save("metrics-cohort-retention", lambda: cohort_retention(log, period="month").plot())
    drivers = experience_drivers(
        log, conditions={"late delivery": 'kind == "delivery" and late == "yes"'}, min_n=30
    )
    save("metrics-experience-drivers", lambda: drivers.plot())


def models() -> None:
    summary = cdnow_summary()
    bg = BetaGeo().fit(frequency=summary.x, recency=summary.t_x, T=summary.T)
    save("models-frequency-recency", lambda: bg.plot_frequency_recency_matrix(summary))
    save("models-probability-alive", lambda: bg.plot_probability_alive_matrix(summary))
    save("models-period-transactions", lambda: bg.plot_period_transactions(summary))
    pareto = ParetoNBD().fit(frequency=summary.x, recency=summary.t_x, T=summary.T)
    save("models-period-transactions-pareto", lambda: pareto.plot_period_transactions(summary))
    split = calibration_holdout_split(
        cdnow(), "1997-09-30", "1998-06-30", freq="W", timezone="UTC"
    )
    calibrated = BetaGeo().fit(split[0])
    save(
        "models-calibration-holdout",
        lambda: calibrated.plot_calibration_purchases_vs_holdout_purchases(*split),
    )


def journeys() -> None:
    log = sessions(synthetic(2000, seed=1).log)
    steps = ["view", "add_to_cart", "purchase"]
    save("journeys-funnel", lambda: funnel(log, steps, window="7d").plot())
    save("journeys-funnel-by", lambda: funnel(log, steps, window="7d", by="touchpoint").plot())
    save("journeys-transitions", lambda: transitions(log).plot())
    save("journeys-step-matrix", lambda: step_matrix(log, anchor="purchase", steps=3).plot())
    top = paths(log, top=8, max_length=4, collapse_repeats=True, conversion="purchase")
    save("journeys-paths", lambda: top.plot())
    save("journeys-attribution", lambda: attribution(log).plot())
    save("journeys-friction", lambda: friction(log, errors=()).plot())
    has_ticket = (
        np.bincount(log.customer_codes[log.kind_mask("ticket_opened")], minlength=log.n_customers)
        > 0
    )
    mask = has_ticket[log.customer_codes]
    save("journeys-compare", lambda: compare_transitions(log, mask, ~mask).plot(top=10))


def segmentation() -> None:
    world = synthetic(2000, seed=0)
    log = world.log
    scores = rfm_scores(log, as_of=AS_OF)
    save("segmentation-rfm-map", lambda: rfm_segments(scores).plot(scores=scores))
    late_rows = log.kind_mask("delivery") & (log.column("late") == "yes")
    late = np.bincount(log.customer_codes[late_rows], minlength=log.n_customers)
    table = CustomerTable.from_log(log, as_of=AS_OF, models={"late_deliveries": lambda t: late})
    churned = np.asarray(world.truth.churned)
    buyers = table.column("frequency") > 0
    c = contrast(table, churned & buyers, ~churned & buyers)
    save("segmentation-contrast", lambda: c.plot(top=10))


def triggers() -> None:
    log = synthetic(1000, seed=0).log
    firings = evaluate(parse(EXAMPLE_RULES), log, as_of=AS_OF)
    save("triggers-firings", lambda: firings.plot())


def main(argv: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    chosen = argv or ["metrics", "models", "journeys", "segmentation", "triggers"]
    for name in chosen:
        globals()[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
