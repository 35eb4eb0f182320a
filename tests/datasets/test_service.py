"""The after-sales plants of the synthetic world: transfers, reopenings, returns, on-time
deliveries, offers and price-rise exits, recovered by the metrics within tolerance.

Tolerance: the measured rate lies within 3 standard errors (sqrt(p (1 - p) / n) at the planted
p) of the planted rate; n is a few hundred tickets and a few thousand orders and deliveries.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from cxmodel.datasets import SyntheticWorld, synthetic
from cxmodel.datasets._synthetic import generate
from cxmodel.metrics import (
    RateResult,
    first_contact_resolution,
    on_time_delivery_rate,
    one_touch_rate,
    return_rate,
    ticket_lifecycles,
)
from cxmodel.models import ACTIVITY_KINDS

WORLD = (3000, 0)


@cache
def _world() -> SyntheticWorld:
    return synthetic(WORLD[0], seed=WORLD[1])


def _close(result: RateResult | object, planted: float) -> None:
    assert isinstance(result, RateResult)
    se = math.sqrt(planted * (1 - planted) / result.n)
    assert abs(result.value - planted) < 3 * se, (result.value, planted, result.n)


class TestTickets:
    def test_first_contact_resolution(self) -> None:
        """A resolved ticket is reopened (and resolved again) with the planted probability, so
        FCR is 1 - reopen_rate, no longer exactly 1."""
        world = _world()
        tickets = ticket_lifecycles(world.log)
        planted = 1 - world.truth.service_parameters["reopen_rate"]
        fcr = first_contact_resolution(tickets)
        _close(fcr, planted)
        assert isinstance(fcr, RateResult) and fcr.value < 0.95

    def test_one_touch(self) -> None:
        """A replied ticket is passed to a second agent with the planted probability: one-touch
        is 1 - transfer_rate x (share of resolved tickets with a reply)."""
        world = _world()
        tickets = ticket_lifecycles(world.log)
        replied = float((tickets.replies[tickets.resolved] > 0).mean())
        planted = 1 - world.truth.service_parameters["transfer_rate"] * replied
        _close(one_touch_rate(tickets), planted)

    def test_agents_differ_after_a_transfer(self) -> None:
        """A transferred ticket's two replies come from two agents; by agent, every agent
        resolves tickets."""
        log = _world().log
        rows = log.kind_mask("ticket_replied")
        ticket = log.categorical("ticket_id")[0][rows]
        agent = log.categorical("agent")[0][rows]
        pairs = np.unique(np.column_stack([ticket, agent]), axis=0)
        twice = np.unique(ticket, return_counts=True)
        moved = twice[0][twice[1] == 2]
        assert moved.size and np.isin(moved, pairs[:, 0]).all()
        assert (np.unique(pairs[:, 0], return_counts=True)[1] <= 2).all()
        by_agent = first_contact_resolution(ticket_lifecycles(log), by="agent")
        assert len(by_agent) == 8 and (by_agent["n"] > 0).all()  # type: ignore[index]


class TestOrders:
    def test_returns(self) -> None:
        """Delivered orders are returned at the planted rates, higher after a late delivery;
        store purchases (including redeemed offers) are never returned."""
        world = _world()
        log = world.log
        params = world.truth.service_parameters
        # label each purchase row by what happened to its delivery
        order = log.column("order_id")
        late_orders = order[log.kind_mask("delivery") & (log.column("late") == "yes")]
        delivered = order[log.kind_mask("delivery")]
        labels = np.where(
            np.isin(order, late_orders),
            "late",
            np.where(np.isin(order, delivered), "on time", "store"),
        )
        table = return_rate(log, window="60 days", by=labels)
        rate = dict(zip(table["by"].tolist(), table["value"].tolist(), strict=True))  # type: ignore[index]
        n = dict(zip(table["by"].tolist(), table["n"].tolist(), strict=True))  # type: ignore[index]
        for group, planted in (("late", params["return_rate_late"]),
                               ("on time", params["return_rate_on_time"])):  # fmt: skip
            se = math.sqrt(planted * (1 - planted) / n[group])
            assert abs(rate[group] - planted) < 3 * se, (group, rate[group], planted)
        assert rate["store"] == 0.0

    def test_on_time_deliveries(self) -> None:
        """A delivery is late with probability 0.02 + 0.5 x friction^2 of its customer."""
        world = _world()
        log = world.log
        rows = log.kind_mask("delivery")
        friction = world.truth.friction[log.customer_codes[rows]]
        planted = 1 - float(np.mean(0.02 + 0.5 * friction**2))
        _close(on_time_delivery_rate(log), planted)

    def test_offer_purchases(self) -> None:
        """Offer purchases are store purchases of the offer value, counted in the truth."""
        world = _world()
        log = world.log
        offer = log.kind_mask("purchase") & (log.column("campaign") == "offer")
        counts = np.bincount(log.customer_codes[offer], minlength=log.n_customers)
        assert offer.any() and (counts == world.truth.offer_purchases).all()
        value = world.truth.service_parameters["offer_value"]
        assert (log.numeric("value")[offer] == value).all()
        assert set(log.column("touchpoint")[offer].tolist()) == {"store"}


class TestExits:
    def test_counterfactual_differs_only_by_the_leavers_rows(self) -> None:
        """Without exits the world is the same plus the rows the leavers would have made: no
        customer-initiated row after an exit, and every row of the world with exits is in the
        world without them."""
        with_exits = generate(300, start="2024-01-01", end="2025-01-01", seed=4)
        without = generate(300, start="2024-01-01", end="2025-01-01", seed=4, exits=False)
        gone = ~np.isnat(with_exits.truth.exit_time)
        assert gone.any() and np.isnat(without.truth.exit_time).all()
        a, b = with_exits.log, without.log
        assert len(a) < len(b)

        def rows(log: object) -> set[tuple[object, ...]]:
            cols = [log.column(c) for c in ("customer_id", "timestamp", "kind")]  # type: ignore[attr-defined]
            return set(zip(*(c.tolist() for c in cols), strict=True))

        assert rows(a) <= rows(b)
        exit_us = with_exits.truth.exit_time.astype("datetime64[us]").astype(np.int64)
        after = gone[a.customer_codes] & (a.timestamps > exit_us[a.customer_codes])
        assert not (after & a.kind_mask(*ACTIVITY_KINDS)).any()
        assert (with_exits.truth.churned[gone]).all()
