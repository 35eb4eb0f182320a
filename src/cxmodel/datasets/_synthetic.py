"""A synthetic customer-experience world with known ground truth."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import special, stats

from cxmodel._time import US_PER_DAY, to_us
from cxmodel.datasets._events import EventBlocks
from cxmodel.datasets._world import SyntheticTruth, SyntheticWorld
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog

__all__ = ["synthetic"]

F = npt.NDArray[np.float64]
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
        ``customers`` is not a positive integer or ``end`` is not after ``start``.

    Examples
    --------
    >>> world = synthetic(200, seed=1)
    >>> world.log.n_customers, world.truth.time_unit
    (200, 'week')
    >>> bool((world.log.customers == world.truth.customers).all())
    True
    """
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 1:
        raise DataError(f"customers must be a positive integer (got {customers!r})")
    start_us = to_us(start, timezone_name="UTC", what="start")
    end_us = to_us(end, timezone_name="UTC", what="end")
    if end_us <= start_us:
        raise DataError(f"end must be after start (got start={start!r}, end={end!r})")
    n = int(customers)
    span = (end_us - start_us) / US_PER_DAY
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    ev = EventBlocks()
    signup, app_share, marketing, revoke = _acquisition(ev, rng, idx, span)
    lam, drop, friction, nu, sat0 = _latent_traits(rng, n)
    converted, first, death, buyer, buy_day = _purchase_process(rng, idx, signup, span, lam, drop)
    d = _purchases(ev, rng, buyer, buy_day, nu, friction)
    t = _tickets(ev, rng, idx, signup, death, converted, friction, d, span)
    _sessions(ev, rng, signup, np.minimum(death, span), app_share)
    late_c, unres_c = _surveys(ev, rng, idx, signup, death, sat0, d, t, span)
    preferred, p_email, p_push = _marketing(ev, rng, idx, signup, death, marketing, revoke, span)

    cols = ev.columns(span)
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

    n_late = np.bincount(late_c, minlength=n).astype(np.int64)
    n_unres = np.bincount(unres_c, minlength=n).astype(np.int64)
    truth = SyntheticTruth(
        time_unit="week",
        **BGNBD,
        **GAMMA_GAMMA,
        customers=ids,
        signup=stamp(signup),
        first_purchase=stamp(np.where(converted, first, np.inf)),
        purchase_rate=lam,
        dropout_probability=drop,
        spend_rate=nu,
        mean_spend=GAMMA_GAMMA["p"] / nu,
        churned=death < span,
        death_time=stamp(death),
        friction=friction,
        satisfaction=sat0,
        final_satisfaction=sat0 - 0.8 * n_late - 1.2 * n_unres,
        late_deliveries=n_late,
        unresolved_tickets=n_unres,
        preferred_channel=preferred,
        email_open_probability=p_email,
        push_open_probability=p_push,
        marketing_consent=marketing & (revoke >= span),
    )
    return SyntheticWorld(log=log, truth=truth)


def _acquisition(
    ev: EventBlocks, rng: np.random.Generator, idx: I, span: float
) -> tuple[F, F, npt.NDArray[np.bool_], F]:
    """Signups (more later than earlier) and consent: ``(signup, app_share, marketing,
    revoke)``, ``revoke`` infinite when marketing consent is never revoked."""
    n = len(idx)
    signup = span * rng.random(n) ** 0.8
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


def _latent_traits(rng: np.random.Generator, n: int) -> tuple[F, F, F, F, F]:
    """BG/NBD purchase rates and dropout probabilities, friction (tied to dropout), spend
    rates and base satisfaction."""
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    drop = np.clip(rng.beta(BGNBD["a"], BGNBD["b"], n), 1e-12, 1.0)
    u = stats.beta.cdf(drop, BGNBD["a"], BGNBD["b"])
    friction = special.ndtr(
        0.9 * special.ndtri(np.clip(u, 1e-9, 1 - 1e-9)) + 0.4 * rng.standard_normal(n)
    )
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], n)
    sat0 = rng.standard_normal(n)
    return lam, drop, friction, nu, sat0


def _purchase_process(
    rng: np.random.Generator, idx: I, signup: F, span: float, lam: F, drop: F
) -> tuple[npt.NDArray[np.bool_], F, F, I, F]:
    """Conversion and the BG/NBD purchase process (weeks), from the first purchase:
    ``(converted, first, death, buyer, buy_day)``."""
    n = len(idx)
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
    buyer = np.r_[idx[converted], owner[keep]]
    buy_day = np.r_[first[converted], rep_days[keep]]
    return converted, first, death, buyer, buy_day


@attrs.frozen(eq=False)
class _Deliveries:
    """The online orders' deliveries: customer, order id, delivery day, late or not."""

    customer: I
    order_id: O
    delivered: F
    late: npt.NDArray[np.bool_]


def _purchases(
    ev: EventBlocks, rng: np.random.Generator, buyer: I, buy_day: F, nu: F, friction: F
) -> _Deliveries:
    """Purchases with their funnel, values, products and deliveries."""
    m = buyer.shape[0]
    value = np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[buyer]), 2)
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
    late = rng.random(d_cust.shape[0]) < 0.02 + 0.5 * friction[d_cust] ** 2
    delay = np.where(late, 1.0 + rng.gamma(2.0, 1.5, d_cust.shape[0]), 0.0)
    delivered = promised + delay - np.where(late, 0.0, rng.random(d_cust.shape[0]))
    ev.add(d_cust, delivered, "delivery", "delivery", order_id=d_order, late=_yes_no(late),
           delivery_delay_days=np.round(delay, 1), product=product[online])  # fmt: skip
    return _Deliveries(d_cust, d_order, delivered, late)


@attrs.frozen(eq=False)
class _Tickets:
    """The support tickets: customer, opening day, id, resolved or not, resolution day."""

    customer: I
    opened: F
    ticket_id: O
    resolved: npt.NDArray[np.bool_]
    resolve_at: F
    unresolved: npt.NDArray[np.bool_]


def _tickets(
    ev: EventBlocks,
    rng: np.random.Generator,
    idx: I,
    signup: F,
    death: F,
    converted: npt.NDArray[np.bool_],
    friction: F,
    d: _Deliveries,
    span: float,
) -> _Tickets:
    """Support tickets: after late deliveries, and in the background while alive. A
    never-buyer whose ticket is never resolved leaves within days: ``death`` is lowered in
    place (the planted churn driver)."""
    d_cust, late, delivered = d.customer, d.late, d.delivered
    complain = late & (rng.random(late.shape[0]) < 0.6)
    alive_days = np.maximum(np.minimum(death, span) - signup, 0.0)
    n_bg = rng.poisson(alive_days / 365.0 * 0.6 * (0.5 + friction))
    bg_owner = np.repeat(idx, n_bg)
    t_cust = np.r_[d_cust[complain], bg_owner]
    t_open = np.r_[
        delivered[complain] + rng.exponential(0.5, int(complain.sum())),
        signup[bg_owner] + rng.random(bg_owner.shape[0]) * alive_days[bg_owner],
    ]
    topic = np.r_[
        np.full(int(complain.sum()), "delivery", dtype=object),
        TOPICS[rng.choice(4, bg_owner.shape[0], p=[0.3, 0.3, 0.25, 0.15])],
    ]
    ok = t_open < death[t_cust] + SERVICE_TAIL_DAYS
    t_cust, t_open, topic = t_cust[ok], t_open[ok], topic[ok]
    never = rng.random(t_cust.shape[0]) < 0.02 + 0.5 * friction[t_cust] ** 2  # never resolved
    # A never-buyer whose ticket is never resolved leaves within days (planted churn driver).
    leaves = never & ~converted[t_cust]
    np.minimum.at(death, t_cust[leaves], t_open[leaves] + rng.exponential(3.0, int(leaves.sum())))
    ok = t_open <= death[t_cust] + np.where(converted[t_cust], SERVICE_TAIL_DAYS, 0.0)
    t_cust, t_open, topic, never = t_cust[ok], t_open[ok], topic[ok], never[ok]
    k = t_cust.shape[0]
    ticket_id = _ids("T", k)
    t_where = TICKET_TOUCHPOINTS[rng.choice(3, k, p=[0.5, 0.3, 0.2])]
    ev.add(t_cust, t_open, "ticket_opened", t_where, ticket_id=ticket_id, topic=topic)
    replied = rng.random(k) < 0.92
    reply_at = t_open + rng.exponential(0.2 + 1.5 * friction[t_cust])
    ev.add(t_cust[replied], reply_at[replied], "ticket_replied", t_where[replied],
           ticket_id=ticket_id[replied], topic=topic[replied],
           reply_hours=np.round((reply_at - t_open)[replied] * 24.0, 2))  # fmt: skip
    resolve_at = np.where(replied, reply_at, t_open) + rng.exponential(1.0 + 3.0 * friction[t_cust])
    resolved = ~never & (resolve_at < span)
    ev.add(t_cust[resolved], resolve_at[resolved], "ticket_resolved", t_where[resolved],
           ticket_id=ticket_id[resolved], topic=topic[resolved],
           resolution_days=np.round((resolve_at - t_open)[resolved], 3))  # fmt: skip
    unresolved = (~resolved) & (t_open < span)
    return _Tickets(t_cust, t_open, ticket_id, resolved, resolve_at, unresolved)


def _surveys(
    ev: EventBlocks,
    rng: np.random.Generator,
    idx: I,
    signup: F,
    death: F,
    sat0: F,
    d: _Deliveries,
    t: _Tickets,
    span: float,
) -> tuple[I, I]:
    """Surveys driven by latent satisfaction: base minus late deliveries and unresolved
    tickets. Returns the customers of the late deliveries and unresolved tickets counted."""
    n = len(idx)
    d_cust, d_order, delivered, late = d.customer, d.order_id, d.delivered, d.late
    t_cust, t_open, k = t.customer, t.opened, len(t.customer)
    resolved, resolve_at, unresolved = t.resolved, t.resolve_at, t.unresolved
    width = span + 10.0 * SERVICE_TAIL_DAYS + 1000.0
    late_c, late_t = d_cust[late & (delivered < span)], delivered[late & (delivered < span)]
    unres_c, unres_t = t_cust[unresolved], t_open[unresolved]

    def latent(who: I, when: F) -> F:
        out: F = (
            sat0[who]
            - 0.8 * _count_before(who, when, late_c, late_t, width)
            - 1.2 * _count_before(who, when, unres_c, unres_t, width)
            + 0.5 * rng.standard_normal(who.shape[0])
        )
        return out

    ask = rng.random(len(d_cust)) < 0.3
    s_c, s_t = d_cust[ask], delivered[ask] + rng.exponential(1.0, int(ask.sum()))
    csat = np.clip(np.round(4.0 + 0.8 * (latent(s_c, s_t) - 1.2 * late[ask])), 1, 5)
    ev.add(s_c, s_t, "survey", "survey", metric="csat", score=csat, order_id=d_order[ask])
    ask_t = (rng.random(k) < 0.4) & (t_open < death[t_cust] + SERVICE_TAIL_DAYS)
    c_c = t_cust[ask_t]
    c_t = np.where(resolved, resolve_at, t_open + 7.0)[ask_t] + rng.exponential(0.5, c_c.shape[0])
    effort = latent(c_c, c_t) - 1.5 * unresolved[ask_t] - 0.1 * (resolve_at - t_open)[ask_t]
    ces = np.clip(np.round(5.2 + 1.0 * effort), 1, 7)
    ev.add(c_c, c_t, "survey", "survey", metric="ces", score=ces, ticket_id=t.ticket_id[ask_t])
    nps_who = idx[rng.random(n) < 0.35]
    horizon = np.minimum(death[nps_who] + SERVICE_TAIL_DAYS, span) - signup[nps_who] - 14.0
    nps_ok = horizon > 0
    nps_who, horizon = nps_who[nps_ok], horizon[nps_ok]
    nps_t = signup[nps_who] + 14.0 + rng.random(nps_who.shape[0]) * horizon
    nps = np.clip(np.round(8.0 + 1.8 * latent(nps_who, nps_t)), 0, 10)
    ev.add(nps_who, nps_t, "survey", "survey", metric="nps", score=nps)
    return late_c, unres_c


def _marketing(
    ev: EventBlocks,
    rng: np.random.Generator,
    idx: I,
    signup: F,
    death: F,
    marketing: npt.NDArray[np.bool_],
    revoke: F,
    span: float,
) -> tuple[O, F, F]:
    """Emails and pushes while marketing consent lasts; the preferred channel answers.
    Returns ``(preferred, p_email, p_push)``."""
    n = len(idx)
    preferred = PREFERRED[rng.choice(3, n, p=[0.45, 0.35, 0.2])]
    p_email = np.where(preferred == "email", 0.45, 0.12)
    p_push = np.where(preferred == "push", 0.35, 0.06)
    until = np.where(marketing, np.minimum(revoke, span), signup)
    reach = np.maximum(until - signup, 0.0)
    for sent, opened, rate, p_open in (
        ("email_sent", "email_opened", 0.5, p_email),
        ("push_sent", "push_opened", 0.3, p_push),
    ):
        sends = rng.poisson(reach / 7.0 * rate)
        who = np.repeat(idx, sends)
        at = signup[who] + rng.random(who.shape[0]) * reach[who]
        channel = "email" if sent == "email_sent" else "push"
        ev.add(who, at, sent, channel)
        opened_at = at + rng.exponential(0.25, who.shape[0])
        opens = (rng.random(who.shape[0]) < p_open[who]) & (opened_at < death[who])
        ev.add(who[opens], opened_at[opens], opened, channel)
        if sent == "email_sent":
            clicks = opens & (
                rng.random(who.shape[0]) < np.where(preferred[who] == "email", 0.35, 0.1)
            )
            ev.add(who[clicks], opened_at[clicks] + 10 * MINUTE, "email_clicked", "email")
    return preferred, p_email, p_push
