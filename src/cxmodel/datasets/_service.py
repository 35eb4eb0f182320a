"""After-sales planting of the synthetic world: agents, transfers and reopened tickets, returns,
offers that bring buyers back (a planted spend driver) and price-rise notices that make
customers leave (a planted churn driver).

Everything here draws from a random stream of its own (``aftercare_rng(seed)``), so adding it
left every number drawn by the main stream as it was; the exits remove the rows a customer
would have made after leaving, and nothing else.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel.datasets._events import EventBlocks

__all__ = [
    "AGENTS",
    "BUSINESS_KINDS",
    "EXIT_PROBABILITY",
    "NOTICE_SHARE",
    "OFFER_DELAY_DAYS",
    "OFFER_SHARE",
    "OFFER_TAKE_UP",
    "OFFER_VALUE",
    "REOPEN_RATE",
    "RETURN_RATE_LATE",
    "RETURN_RATE_ON_TIME",
    "TRANSFER_RATE",
    "TicketHandling",
    "add_offer_purchases",
    "add_returns",
    "aftercare_rng",
    "campaigns",
    "customer_traits",
    "exit_times",
    "handle_tickets",
    "leave",
]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
B = npt.NDArray[np.bool_]
O = npt.NDArray[np.object_]  # noqa: E741

AGENTS = np.array([f"A{i:02d}" for i in range(1, 9)], dtype=object)
TRANSFER_RATE = 0.15  # replied tickets passed to a second agent (a second reply)
REOPEN_RATE = 0.12  # resolved tickets reopened and resolved again
RETURN_RATE_ON_TIME = 0.05  # delivered orders returned
RETURN_RATE_LATE = 0.20
RETURN_DELAY_DAYS = 5.0  # mean days from delivery to return
OFFER_SHARE = 0.15  # marketing emails that carry an offer
OFFER_TAKE_UP = 0.25  # offers redeemed by a buyer who is still there
OFFER_VALUE = 40.0  # the value of a redeemed offer
OFFER_DELAY_DAYS = 21.0  # mean days from the offer to the purchase
NOTICE_SHARE = 0.05  # marketing emails that announce a price rise
EXIT_PROBABILITY = 0.25  # a customer still there leaves at a price-rise notice
COUNTRIES = np.array(["DE", "FR", "IR", "UK", "US"], dtype=object)
#: Rows the business makes whatever the customer does: they go on after a customer leaves.
BUSINESS_KINDS = ("email_sent", "push_sent")


def aftercare_rng(seed: int) -> np.random.Generator:
    """The stream of this module: independent of ``default_rng(seed)``, fixed per seed."""
    return np.random.default_rng([int(seed), 19])


@attrs.frozen(eq=False)
class TicketHandling:
    """Per ticket: who replied first and who resolved, transfers and reopenings.

    ``transfer_at`` is the second agent's reply (NaN without a transfer); ``again_at`` the
    second resolution of a reopened ticket (NaN when not reopened).
    """

    first_agent: O
    last_agent: O
    transfer_at: F
    again_at: F

    @property
    def transferred(self) -> B:
        """Tickets answered by a second agent."""
        return ~np.isnan(self.transfer_at)

    @property
    def reopened(self) -> B:
        """Tickets resolved, reopened and resolved again."""
        return ~np.isnan(self.again_at)


def handle_tickets(
    rng: np.random.Generator, replied: B, reply_at: F, resolved: B, resolve_at: F, span: float
) -> TicketHandling:
    """Agents, transfers (``TRANSFER_RATE`` of replied tickets) and reopenings
    (``REOPEN_RATE`` of resolved tickets, resolved again 1 + 2 days later on average)."""
    k = replied.shape[0]
    first = rng.integers(0, AGENTS.shape[0], k)
    other = (first + rng.integers(1, AGENTS.shape[0], k)) % AGENTS.shape[0]
    transfer = replied & (rng.random(k) < TRANSFER_RATE)
    # the second agent answers between the first reply and the resolution (or within days)
    until = np.where(resolved, resolve_at, reply_at + rng.exponential(1.0, k))
    transfer_at = np.where(transfer, reply_at + rng.random(k) * (until - reply_at), np.nan)
    last = np.where(transfer, other, first)
    reopen = resolved & (rng.random(k) < REOPEN_RATE)
    again = resolve_at + rng.exponential(2.0, k) + rng.exponential(1.0, k)
    again_at = np.where(reopen & (again < span), again, np.nan)
    return TicketHandling(AGENTS[first], AGENTS[last], transfer_at, again_at)


def add_returns(
    ev: EventBlocks,
    rng: np.random.Generator,
    customer: I,
    delivered: F,
    order_id: O,
    product: O,
    value: F,
    late: B,
    last_day: F,
) -> B:
    """Returns of delivered orders: ``RETURN_RATE_LATE`` of late ones, ``RETURN_RATE_ON_TIME``
    of the others, a few days after delivery and no later than ``last_day`` of the customer."""
    m = customer.shape[0]
    rate = np.where(late, RETURN_RATE_LATE, RETURN_RATE_ON_TIME)
    at = delivered + rng.exponential(RETURN_DELAY_DAYS, m)
    back = (rng.random(m) < rate) & (at <= last_day)
    ev.add(customer[back], at[back], "return", "website", order_id=order_id[back],
           product=product[back], value=value[back])  # fmt: skip
    return back


def add_offer_purchases(
    ev: EventBlocks,
    rng: np.random.Generator,
    who: I,
    sent_at: F,
    first_purchase: F,
    death: F,
    products: O,
    categories: O,
) -> None:
    """Add the purchases that redeem an offer.

    An offer sent at t is redeemed at t + an exponential delay (mean ``OFFER_DELAY_DAYS``)
    with probability ``OFFER_TAKE_UP`` by a customer who had bought before then and is still
    there (before their death time): one store purchase of ``OFFER_VALUE``.
    """
    m = who.shape[0]
    at = sent_at + rng.exponential(OFFER_DELAY_DAYS, m)
    take = rng.random(m) < OFFER_TAKE_UP
    pick = np.asarray(rng.integers(0, products.shape[0], m), dtype=np.int64)
    redeem = take & (at > first_purchase[who]) & (at < death[who])
    count = int(redeem.sum())
    ids = np.array([f"R{i:05d}" for i in range(1, count + 1)], dtype=object)
    ev.add(who[redeem], at[redeem], "purchase", "store", value=OFFER_VALUE, order_id=ids,
           product=products[pick[redeem]], category=categories[pick[redeem]],
           campaign="offer")  # fmt: skip


def campaigns(rng: np.random.Generator, n: int) -> O:
    """The campaign of each of ``n`` marketing emails: ``offer``, ``price_rise`` or None."""
    u = rng.random(n)
    out = np.full(n, None, dtype=object)
    out[u < OFFER_SHARE] = "offer"
    out[(u >= OFFER_SHARE) & (u < OFFER_SHARE + NOTICE_SHARE)] = "price_rise"
    return out


def exit_times(rng: np.random.Generator, who: I, notice_at: F, death: F) -> F:
    """Per customer, the first price-rise notice at which they leave (inf if none).

    A customer still there (before their death time) leaves at a notice with probability
    ``EXIT_PROBABILITY``; the coin is tossed for every notice, so the draws do not depend on
    whether the customer left earlier.
    """
    leaves = (rng.random(who.shape[0]) < EXIT_PROBABILITY) & (notice_at < death[who])
    out = np.full(death.shape[0], np.inf)
    np.minimum.at(out, who[leaves], notice_at[leaves])
    return out


def leave(cols: dict[str, npt.NDArray[Any]], exit_day: F) -> dict[str, npt.NDArray[Any]]:
    """Drop the rows each customer would have made after leaving at ``exit_day``.

    Kept after the exit: the business's sends (``BUSINESS_KINDS``), agent replies and
    resolutions of tickets opened before it, and deliveries of orders placed before it.
    """
    kind = cols["kind"]
    after = cols["days"] > exit_day[cols["customer"]]
    origin_ticket = (kind == "ticket_opened") & ~after
    origin_order = (kind == "purchase") & ~after
    kept_tickets = np.unique(cols["ticket_id"][origin_ticket].astype(str))
    kept_orders = np.unique(cols["order_id"][origin_order].astype(str))
    agent_rows = np.isin(kind, ["ticket_replied", "ticket_resolved"]) & np.isin(
        cols["ticket_id"].astype(str), kept_tickets
    )
    delivery_rows = (kind == "delivery") & np.isin(cols["order_id"].astype(str), kept_orders)
    keep = ~after | np.isin(kind, BUSINESS_KINDS) | agent_rows | delivery_rows
    return {name: values[keep] for name, values in cols.items()}


def customer_traits(rng: np.random.Generator, ids: O, newsletter: B) -> dict[str, npt.NDArray[Any]]:
    """A traits table: a country, an age (18-75) and the newsletter opt-in at sign-up."""
    n = ids.shape[0]
    country = COUNTRIES[rng.choice(COUNTRIES.shape[0], n, p=[0.25, 0.2, 0.15, 0.15, 0.25])]
    age = rng.integers(18, 76, n).astype(np.float64)
    return {"customer_id": ids, "country": country, "age": age, "newsletter": newsletter.copy()}
