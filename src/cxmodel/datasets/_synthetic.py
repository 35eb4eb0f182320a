"""A synthetic customer-experience world with known ground truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import special, stats

from cxmodel._arguments import integer
from cxmodel._time import US_PER_DAY, to_us
from cxmodel.datasets._events import EventBlocks
from cxmodel.datasets._service import (
    add_offer_purchases,
    add_returns,
    aftercare_rng,
    campaigns,
    customer_traits,
    exit_times,
    handle_tickets,
    leave,
)
from cxmodel.datasets._world import SyntheticTruth, SyntheticWorld
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog

__all__ = ["synthetic"]

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I = npt.NDArray[np.int64]  # noqa: E741
O = npt.NDArray[np.object_]  # noqa: E741

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW estimates, weeks
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PRODUCTS = np.array([f"P{i:02d}" for i in range(1, 13)], dtype=object)
CATEGORIES = np.array(["books", "music", "electronics", "home"], dtype=object)
PRODUCT_CATEGORY = CATEGORIES[np.arange(12) % 4]
TOPICS = np.array(["payment", "product", "account", "delivery"], dtype=object)
TICKET_TOUCHPOINTS = np.array(["ticket", "chat", "phone_support"], dtype=object)
PREFERRED = np.array(["email", "push", "sms"], dtype=object)
SERVICE_TAIL_DAYS = 30.0  # tickets and surveys about earlier orders may follow death this long
MINUTE = 1.0 / 1440.0


def _ids(prefix: str, count: int) -> O:
    width = max(5, len(str(count)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, count + 1)], dtype=object)


def _yes_no(flags: npt.NDArray[np.bool_]) -> O:
    return np.where(flags, "yes", "no").astype(object)


def _count_before(
    owner: I, days: F, event_owner: I, event_days: F, width: float
) -> npt.NDArray[np.int64]:
    """For each (owner, day), how many events of the same owner happened strictly before."""
    keys = np.sort(event_owner * width + event_days)
    query = owner * width + days
    return np.searchsorted(keys, query, side="left") - np.searchsorted(keys, owner * width)


def _sessions(ev: EventBlocks, rng: np.random.Generator, start: F, stop: F, app_share: F) -> None:
    """Browsing sessions: view, search, product_view and add_to_cart at website or mobile_app."""
    n = start.shape[0]
    rate = rng.gamma(2.0, 0.04, n)  # sessions per day
    count = rng.poisson(rate * np.maximum(stop - start, 0.0))
    owner = np.repeat(np.arange(n), count)
    begin = start[owner] + rng.random(owner.shape[0]) * (stop - start)[owner]
    device = np.where(rng.random(owner.shape[0]) < app_share[owner], "mobile_app", "website")
    length = 1 + rng.poisson(1.8, owner.shape[0])
    session = np.repeat(np.arange(owner.shape[0]), length)
    first = np.cumsum(length) - length
    step = np.arange(session.shape[0]) - first[session]
    gaps = rng.exponential(2.0 * MINUTE, session.shape[0])
    gaps[first] = 0.0
    cum = np.cumsum(gaps)
    days = begin[session] + cum - cum[first][session]
    kinds = np.array(["view", "search", "product_view", "add_to_cart"], dtype=object)
    kind = kinds[rng.choice(4, session.shape[0], p=[0.3, 0.2, 0.4, 0.1])]
    kind[step == 0] = "view"
    product = PRODUCTS[rng.integers(0, 12, session.shape[0])]
    product[(kind != "product_view") & (kind != "add_to_cart")] = None
    ev.add(owner[session], days, kind, device.astype(object)[session], product=product)


def _counts(cols: dict[str, npt.NDArray[Any]], n: int) -> tuple[I, I, I]:
    """Per customer, from the final rows: late deliveries, tickets never resolved, offer
    purchases."""
    customer, kind = cols["customer"], cols["kind"]
    late = (kind == "delivery") & (cols["late"] == "yes")
    ticket = cols["ticket_id"].astype(str)
    opened = kind == "ticket_opened"
    still = opened & ~np.isin(ticket, ticket[kind == "ticket_resolved"])
    offers = (kind == "purchase") & (cols["campaign"] == "offer")
    return tuple(  # type: ignore[return-value]
        np.bincount(customer[mask], minlength=n).astype(np.int64) for mask in (late, still, offers)
    )


@attrs.frozen(eq=False)
class _Draw:
    """What every step shares: the window in days, the two random streams and the events."""

    n: int
    span: float
    rng: np.random.Generator
    aftercare: np.random.Generator  # agents, reopenings, returns, offers: a stream of their own
    ev: EventBlocks = attrs.field(factory=EventBlocks)

    @property
    def idx(self) -> I:
        """Every customer's index."""
        return np.arange(self.n)


@attrs.frozen(eq=False)
class _Customers:
    """Per customer: sign-up and consent, then the latent traits and the purchase process.

    ``death`` is the day a customer is gone (``inf`` while alive); the ticket step moves it
    earlier for the planted leavers.
    """

    signup: F
    app_share: F
    marketing: B
    revoke: F
    purchase_rate: F
    dropout: F
    friction: F
    spend_rate: F
    satisfaction: F
    first: F
    converted: B
    death: F


@attrs.frozen(eq=False)
class _Deliveries:
    """Per online order: who, which order and product, its value, when it came and if late."""

    customer: I
    order_id: O
    product: O
    value: F
    delivered: F
    late: B


@attrs.frozen(eq=False)
class _Tickets:
    """Per ticket: who opened it when, and when and whether it was resolved."""

    customer: I
    opened: F
    ticket_id: O
    resolved: B
    resolve_at: F
    unresolved: B


@attrs.frozen(eq=False)
class _Marketing:
    """The preferred channel and open probabilities, and the offers and price-rise notices
    the emails carried."""

    preferred: O
    p_email: F
    p_push: F
    offer_who: I
    offer_at: F
    notice_who: I
    notice_at: F


def _acquisition(d: _Draw) -> tuple[F, F, B, F]:
    """Sign-ups (more later than earlier) and consent: service for all, marketing for 70 %,
    a quarter of whom revoke it. Returns ``signup, app_share, marketing, revoke``."""
    n, idx, rng, ev = d.n, d.idx, d.rng, d.ev
    signup = d.span * rng.random(n) ** 0.8
    app_share = rng.beta(2.0, 2.0, n)
    ev.add(idx, signup, "signup", np.where(rng.random(n) < app_share, "mobile_app", "website"))
    ev.add(idx, signup + 1.0 / 86400, "consent_granted", "website", purpose="service")
    marketing = rng.random(n) < 0.7
    ev.add(idx[marketing], signup[marketing] + 2.0 / 86400, "consent_granted", "website",
           purpose="marketing")  # fmt: skip
    revoke = np.where(
        marketing & (rng.random(n) < 0.25), signup + rng.exponential(120.0, n), np.inf
    )
    revoked = np.isfinite(revoke)
    ev.add(idx[revoked], revoke[revoked], "consent_revoked", "website", purpose="marketing")
    return signup, app_share, marketing, revoke


def _customers(d: _Draw) -> tuple[_Customers, I, F]:
    """Acquisition, latent traits (BG/NBD rates, dropout, friction tied to dropout, spend,
    satisfaction) and the BG/NBD purchase process in weeks from the first purchase.

    Returns the customers and every purchase (buyer, day), first purchases first.
    """
    n, idx, rng, span = d.n, d.idx, d.rng, d.span
    signup, app_share, marketing, revoke = _acquisition(d)
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    drop = np.clip(rng.beta(BGNBD["a"], BGNBD["b"], n), 1e-12, 1.0)
    u = stats.beta.cdf(drop, BGNBD["a"], BGNBD["b"])
    friction = special.ndtr(
        0.9 * special.ndtri(np.clip(u, 1e-9, 1 - 1e-9)) + 0.4 * rng.standard_normal(n)
    )
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], n)
    sat0 = rng.standard_normal(n)

    first = signup + rng.exponential(7.0, n)
    converted = (rng.random(n) < 0.75) & (first < span)
    weeks = np.where(converted, (span - first) / 7.0, 0.0)
    n_rep = rng.poisson(lam * weeks)
    k_death = rng.geometric(drop)
    owner = np.repeat(idx, n_rep)
    rep_days = first[owner] + rng.random(owner.shape[0]) * weeks[owner] * 7.0
    order = np.lexsort((rep_days, owner))
    owner, rep_days = owner[order], rep_days[order]
    rank = np.arange(owner.shape[0]) - np.r_[0, np.cumsum(n_rep)][owner]
    dies_here = rank == k_death[owner] - 1
    death = np.full(n, np.inf)
    death[owner[dies_here]] = rep_days[dies_here]
    keep = rank < k_death[owner]
    death = np.where(converted, death, signup + rng.exponential(240.0, n))
    customers = _Customers(
        signup=signup,
        app_share=app_share,
        marketing=marketing,
        revoke=revoke,
        purchase_rate=lam,
        dropout=drop,
        friction=friction,
        spend_rate=nu,
        satisfaction=sat0,
        first=first,
        converted=converted,
        death=death,
    )
    return customers, np.r_[idx[converted], owner[keep]], np.r_[first[converted], rep_days[keep]]


def _orders(d: _Draw, c: _Customers, buyer: I, buy_day: F) -> _Deliveries:
    """Purchases with their funnel, values, products, and deliveries of online orders (late
    more often for customers with more friction)."""
    rng, ev = d.rng, d.ev
    m = buyer.shape[0]
    value = np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / c.spend_rate[buyer]), 2)
    pick = rng.integers(0, 12, m)
    product, category = PRODUCTS[pick], PRODUCT_CATEGORY[pick]
    order_id = _ids("O", m)
    where = np.array(["website", "mobile_app", "store"], dtype=object)[
        rng.choice(3, m, p=[0.5, 0.35, 0.15])
    ]
    online = where != "store"
    for kind, lead in (("product_view", 20), ("add_to_cart", 10), ("checkout", 2)):
        ev.add(buyer[online], buy_day[online] - lead * MINUTE, kind, where[online],
               product=product[online], category=category[online])  # fmt: skip
    ev.add(buyer, buy_day, "purchase", where, value=value, order_id=order_id, product=product,
           category=category)  # fmt: skip
    d_cust, d_order = buyer[online], order_id[online]
    promised = buy_day[online] + 2.0 + rng.integers(0, 3, d_cust.shape[0])
    late = rng.random(d_cust.shape[0]) < 0.02 + 0.5 * c.friction[d_cust] ** 2
    delay = np.where(late, 1.0 + rng.gamma(2.0, 1.5, d_cust.shape[0]), 0.0)
    delivered = promised + delay - np.where(late, 0.0, rng.random(d_cust.shape[0]))
    ev.add(d_cust, delivered, "delivery", "delivery", order_id=d_order, late=_yes_no(late),
           delivery_delay_days=np.round(delay, 1), product=product[online])  # fmt: skip
    return _Deliveries(d_cust, d_order, product[online], value[online], delivered, late)


def _opened_tickets(d: _Draw, c: _Customers, o: _Deliveries) -> tuple[I, F, O, B]:
    """Tickets opened after late deliveries and in the background while alive; a never-buyer
    whose ticket is never resolved leaves within days (the planted churn driver: this moves
    ``c.death``). Returns ``customer, opened, topic, never`` (never resolved)."""
    rng, idx, death = d.rng, d.idx, c.death
    complain = o.late & (rng.random(o.late.shape[0]) < 0.6)
    alive_days = np.maximum(np.minimum(death, d.span) - c.signup, 0.0)
    n_bg = rng.poisson(alive_days / 365.0 * 0.6 * (0.5 + c.friction))
    bg_owner = np.repeat(idx, n_bg)
    t_cust = np.r_[o.customer[complain], bg_owner]
    t_open = np.r_[
        o.delivered[complain] + rng.exponential(0.5, int(complain.sum())),
        c.signup[bg_owner] + rng.random(bg_owner.shape[0]) * alive_days[bg_owner],
    ]
    topic = np.r_[
        np.full(int(complain.sum()), "delivery", dtype=object),
        TOPICS[rng.choice(4, bg_owner.shape[0], p=[0.3, 0.3, 0.25, 0.15])],
    ]
    ok = t_open < death[t_cust] + SERVICE_TAIL_DAYS
    t_cust, t_open, topic = t_cust[ok], t_open[ok], topic[ok]
    never = rng.random(t_cust.shape[0]) < 0.02 + 0.5 * c.friction[t_cust] ** 2
    leaves = never & ~c.converted[t_cust]
    np.minimum.at(death, t_cust[leaves], t_open[leaves] + rng.exponential(3.0, int(leaves.sum())))
    ok = t_open <= death[t_cust] + np.where(c.converted[t_cust], SERVICE_TAIL_DAYS, 0.0)
    return t_cust[ok], t_open[ok], topic[ok], never[ok]


def _tickets(d: _Draw, c: _Customers, o: _Deliveries) -> _Tickets:
    """Support tickets: opened, replied (by one agent or, transferred, two), resolved (and
    sometimes reopened and resolved again)."""
    rng, span = d.rng, d.span
    t_cust, t_open, topic, never = _opened_tickets(d, c, o)
    k = t_cust.size
    ticket_id = _ids("T", k)
    t_where = TICKET_TOUCHPOINTS[rng.choice(3, k, p=[0.5, 0.3, 0.2])]
    d.ev.add(t_cust, t_open, "ticket_opened", t_where, ticket_id=ticket_id, topic=topic)
    replied = rng.random(k) < 0.92
    reply_at = t_open + rng.exponential(0.2 + 1.5 * c.friction[t_cust])
    resolve_at = np.where(replied, reply_at, t_open) + rng.exponential(
        1.0 + 3.0 * c.friction[t_cust]
    )
    resolved = ~never & (resolve_at < span)
    handling = handle_tickets(d.aftercare, replied, reply_at, resolved, resolve_at, span)
    first_reply = (replied, reply_at, handling.first_agent)
    second_reply = (handling.transferred, handling.transfer_at, handling.last_agent)
    for mask, at, agent in (first_reply, second_reply):
        d.ev.add(t_cust[mask], at[mask], "ticket_replied", t_where[mask],
                 ticket_id=ticket_id[mask], topic=topic[mask],
                 reply_hours=np.round((at - t_open)[mask] * 24.0, 2),
                 agent=agent[mask])  # fmt: skip
    for mask, at in ((resolved, resolve_at), (handling.reopened, handling.again_at)):
        d.ev.add(t_cust[mask], at[mask], "ticket_resolved", t_where[mask],
                 ticket_id=ticket_id[mask], topic=topic[mask],
                 resolution_days=np.round((at - t_open)[mask], 3),
                 agent=handling.last_agent[mask])  # fmt: skip
    unresolved = (~resolved) & (t_open < span)
    return _Tickets(t_cust, t_open, ticket_id, resolved, resolve_at, unresolved)


def _surveys(d: _Draw, c: _Customers, o: _Deliveries, t: _Tickets) -> None:
    """CSAT after deliveries, CES after tickets and NPS in the background, driven by latent
    satisfaction: the base minus late deliveries and unresolved tickets before the answer."""
    rng, span, idx, death = d.rng, d.span, d.idx, c.death
    width = span + 10.0 * SERVICE_TAIL_DAYS + 1000.0
    seen_late = o.late & (o.delivered < span)
    late_c, late_t = o.customer[seen_late], o.delivered[seen_late]
    unres_c, unres_t = t.customer[t.unresolved], t.opened[t.unresolved]

    def latent(who: I, when: F) -> F:
        out: F = (
            c.satisfaction[who]
            - 0.8 * _count_before(who, when, late_c, late_t, width)
            - 1.2 * _count_before(who, when, unres_c, unres_t, width)
            + 0.5 * rng.standard_normal(who.shape[0])
        )
        return out

    ask = rng.random(o.customer.size) < 0.3
    s_c, s_t = o.customer[ask], o.delivered[ask] + rng.exponential(1.0, int(ask.sum()))
    csat = np.clip(np.round(4.0 + 0.8 * (latent(s_c, s_t) - 1.2 * o.late[ask])), 1, 5)
    d.ev.add(s_c, s_t, "survey", "survey", metric="csat", score=csat, order_id=o.order_id[ask])
    k = t.customer.shape[0]
    ask_t = (rng.random(k) < 0.4) & (t.opened < death[t.customer] + SERVICE_TAIL_DAYS)
    c_c = t.customer[ask_t]
    answered = np.where(t.resolved, t.resolve_at, t.opened + 7.0)[ask_t]
    c_t = answered + rng.exponential(0.5, c_c.shape[0])
    effort = latent(c_c, c_t) - 1.5 * t.unresolved[ask_t] - 0.1 * (t.resolve_at - t.opened)[ask_t]
    ces = np.clip(np.round(5.2 + 1.0 * effort), 1, 7)
    d.ev.add(c_c, c_t, "survey", "survey", metric="ces", score=ces, ticket_id=t.ticket_id[ask_t])
    nps_who = idx[rng.random(d.n) < 0.35]
    horizon = np.minimum(death[nps_who] + SERVICE_TAIL_DAYS, span) - c.signup[nps_who] - 14.0
    nps_ok = horizon > 0
    nps_who, horizon = nps_who[nps_ok], horizon[nps_ok]
    nps_t = c.signup[nps_who] + 14.0 + rng.random(nps_who.shape[0]) * horizon
    nps = np.clip(np.round(8.0 + 1.8 * latent(nps_who, nps_t)), 0, 10)
    d.ev.add(nps_who, nps_t, "survey", "survey", metric="nps", score=nps)


def _sends(d: _Draw, c: _Customers, reach: F, per_week: float) -> tuple[I, F]:
    """Messages sent at random while marketing consent lasts (``reach`` days from sign-up)."""
    who = np.repeat(d.idx, d.rng.poisson(reach / 7.0 * per_week))
    return who, c.signup[who] + d.rng.random(who.shape[0]) * reach[who]


def _opens(d: _Draw, c: _Customers, who: I, at: F, p_open: F, channel: str) -> tuple[B, F]:
    """Messages opened (with probability ``p_open`` of the customer, while alive); returns
    which were opened, and when each would have been."""
    opened_at = at + d.rng.exponential(0.25, who.shape[0])
    opens = (d.rng.random(who.shape[0]) < p_open[who]) & (opened_at < c.death[who])
    d.ev.add(who[opens], opened_at[opens], f"{channel}_opened", channel)
    return opens, opened_at


def _marketing(d: _Draw, c: _Customers) -> _Marketing:
    """Emails and pushes while marketing consent lasts; the preferred channel answers. Some
    emails carry an offer or announce a price rise; opened emails are sometimes clicked."""
    rng = d.rng
    preferred = PREFERRED[rng.choice(3, d.n, p=[0.45, 0.35, 0.2])]
    p_email = np.where(preferred == "email", 0.45, 0.12)
    p_push = np.where(preferred == "push", 0.35, 0.06)
    until = np.where(c.marketing, np.minimum(c.revoke, d.span), c.signup)
    reach = np.maximum(until - c.signup, 0.0)
    who, at = _sends(d, c, reach, 0.5)
    campaign = campaigns(d.aftercare, who.shape[0])
    d.ev.add(who, at, "email_sent", "email", campaign=campaign)
    opens, opened_at = _opens(d, c, who, at, p_email, "email")
    clicks = opens & (rng.random(who.shape[0]) < np.where(preferred[who] == "email", 0.35, 0.1))
    d.ev.add(who[clicks], opened_at[clicks] + 10 * MINUTE, "email_clicked", "email")
    pushed, pushed_at = _sends(d, c, reach, 0.3)
    d.ev.add(pushed, pushed_at, "push_sent", "push")
    _opens(d, c, pushed, pushed_at, p_push, "push")
    offer, notice = campaign == "offer", campaign == "price_rise"
    return _Marketing(preferred, p_email, p_push, who[offer], at[offer], who[notice], at[notice])


def _world(d: _Draw, c: _Customers, mk: _Marketing, exits: bool, start_us: int) -> SyntheticWorld:
    """Offer purchases and price-rise exits (the after-care stream), then the log, the truth
    and the customer traits."""
    span, n = d.span, d.n
    first_purchase = np.where(c.converted, c.first, np.inf)
    add_offer_purchases(d.ev, d.aftercare, mk.offer_who, mk.offer_at, first_purchase, c.death,
                        PRODUCTS, PRODUCT_CATEGORY)  # fmt: skip
    exit_day = exit_times(d.aftercare, mk.notice_who, mk.notice_at, c.death)
    cols = d.ev.columns(span)
    if exits:
        cols = leave(cols, exit_day)
    else:
        exit_day = np.full(n, np.inf)
    death = np.minimum(c.death, exit_day)
    n_late, n_unres, offer_purchases = _counts(cols, n)
    stamps = (start_us + np.floor(cols.pop("days") * US_PER_DAY).astype(np.int64)).astype(
        "datetime64[us]"
    )
    ids = _ids("C", n)
    owner_ids, kinds = ids[cols.pop("customer")], cols.pop("kind")
    extra: dict[str, Any] = cols
    log = InteractionLog.from_arrays(customer_id=owner_ids, timestamp=stamps, kind=kinds, **extra)

    def stamp(days: F) -> npt.NDArray[np.datetime64]:
        finite = np.isfinite(days) & (days < span)
        us = start_us + np.floor(np.where(finite, days, 0.0) * US_PER_DAY).astype(np.int64)
        return np.where(finite, us.astype("datetime64[us]"), np.datetime64("NaT", "us"))

    truth = SyntheticTruth(
        time_unit="week",
        **BGNBD,
        **GAMMA_GAMMA,
        customers=ids,
        signup=stamp(c.signup),
        first_purchase=stamp(first_purchase),
        purchase_rate=c.purchase_rate,
        dropout_probability=c.dropout,
        spend_rate=c.spend_rate,
        mean_spend=GAMMA_GAMMA["p"] / c.spend_rate,
        churned=death < span,
        death_time=stamp(death),
        friction=c.friction,
        satisfaction=c.satisfaction,
        final_satisfaction=c.satisfaction - 0.8 * n_late - 1.2 * n_unres,
        late_deliveries=n_late,
        unresolved_tickets=n_unres,
        preferred_channel=mk.preferred,
        email_open_probability=mk.p_email,
        push_open_probability=mk.p_push,
        marketing_consent=c.marketing & (c.revoke >= span),
        exit_time=stamp(exit_day),
        offer_purchases=offer_purchases,
    )
    traits = customer_traits(d.aftercare, ids, c.marketing)
    return SyntheticWorld(log=log, truth=truth, traits=traits)


def synthetic(
    customers: int = 1000,
    *,
    start: str | date | datetime = "2024-01-01",
    end: str | date | datetime = "2025-01-01",
    seed: int = 0,
) -> SyntheticWorld:
    """Generate a plausible customer-experience world with known ground truth.

    Customers sign up over the window (more later than earlier). About three in four go on to a
    first purchase; from then on purchases follow a BG/NBD process with the CDNOW parameters
    (r 0.243, alpha 4.414, a 0.793, b 2.426, rates per week) and order values follow a
    Gamma-Gamma model (p 6.25, q 3.74, gamma 15.44). Customers browse in sessions, online
    orders are delivered (some late), tickets are opened, answered and mostly resolved, surveys
    (NPS, CSAT, CES) reflect a latent satisfaction lowered by late deliveries and unresolved
    tickets, marketing emails and pushes are answered according to a preferred channel, and
    consent is granted and sometimes revoked. A latent friction tied to the dropout probability
    makes churners suffer more late deliveries and unresolved tickets. See
    ``docs/guide/synthetic-data.md``.

    Parameters
    ----------
    customers
        Number of customers (at least 1).
    start, end
        The window (``start <= t < end``); dates or naive strings are taken as UTC.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same world.

    Returns
    -------
    SyntheticWorld
        ``log`` (an :class:`~cxmodel.log.InteractionLog`) and ``truth``
        (:class:`SyntheticTruth`, per-customer arrays aligned to ``log.customers``).

    Raises
    ------
    DataError
        ``customers`` is not a positive integer of at most 10,000,000, or ``end`` is not after
        ``start``.

    Examples
    --------
    >>> world = synthetic(200, seed=1)
    >>> world.log.n_customers, world.truth.time_unit
    (200, 'week')
    >>> bool((world.log.customers == world.truth.customers).all())
    True
    """
    seed = integer(seed, "synthetic()", "seed", minimum=0)
    return generate(customers, start=start, end=end, seed=seed)


#: The most customers a synthetic world holds (about 500 million interactions, 20 GB).
MAX_CUSTOMERS = 10_000_000


def generate(
    customers: int,
    *,
    start: str | date | datetime,
    end: str | date | datetime,
    seed: int,
    exits: bool = True,
) -> SyntheticWorld:
    """:func:`synthetic`, and with ``exits=False`` the same world without the planted exits.

    Without exits nobody leaves at a price-rise notice: every other draw is the same, so the
    two worlds differ only by the rows the leavers would have made (a counterfactual for
    checking the planted churn driver).
    """
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 1:
        raise DataError(f"customers must be a positive integer (got {customers!r})")
    if customers > MAX_CUSTOMERS:  # some 50 interactions each: past this, out of memory
        raise DataError(
            f"customers must be at most {MAX_CUSTOMERS:,} (got {customers:,}): a synthetic "
            "world holds some 50 interactions per customer in memory; generate several "
            "worlds with different seeds for more"
        )
    start_us = to_us(start, timezone_name="UTC", what="start")
    end_us = to_us(end, timezone_name="UTC", what="end")
    if end_us <= start_us:
        raise DataError(f"end must be after start (got start={start!r}, end={end!r})")
    d = _Draw(
        n=int(customers),
        span=(end_us - start_us) / US_PER_DAY,
        rng=np.random.default_rng(seed),
        aftercare=aftercare_rng(seed),
    )
    c, buyer, buy_day = _customers(d)
    orders = _orders(d, c, buyer, buy_day)
    tickets = _tickets(d, c, orders)
    last_day = np.minimum(c.death + SERVICE_TAIL_DAYS, d.span)
    add_returns(d.ev, d.aftercare, orders.customer, orders.delivered, orders.order_id,
                orders.product, orders.value, orders.late, last_day[orders.customer])  # fmt: skip
    _sessions(d.ev, d.rng, c.signup, np.minimum(c.death, d.span), c.app_share)
    _surveys(d, c, orders, tickets)
    return _world(d, c, _marketing(d, c), exits, start_us)
