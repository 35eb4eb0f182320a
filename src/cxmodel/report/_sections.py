"""The sections of the CX report, each computed from the log as of the report date.

A builder returns a :class:`ReportSection`, or a one-line reason when the data cannot support
the section. Figures are attached only for results that offer ``.plot(ax=...)``; the decision is
made here, per result, when the section is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any, Protocol

import attrs
import numpy as np
import numpy.typing as npt

from cxmodel._pieces import silenced
from cxmodel._stats import Z95
from cxmodel._sums import grouped_sums
from cxmodel._time import us_to_datetime
from cxmodel.errors import TriggerTypeError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.log._kinds import lookalike_kinds
from cxmodel.report._figures import can_plot
from cxmodel.report._report import KPI, ReportFigure, ReportSection, ReportTable

__all__ = ["ACT_NOW_DAYS", "REPORT_RULES", "SECTIONS", "Context"]

DAY_US = 86_400 * 10**6
CHURN_DAYS = 90
"""Days without any interaction after which a customer counts as churned (lifetimes, contrast)."""
ACT_NOW_DAYS = 30
"""The "act now" section lists the trigger firings of the last this many days."""
SHOWN = 8
"""Rows shown in a section's table or list; the rest are counted."""
RFM_MIN_BUYERS = 5
"""Buyers below which the RFM section is left out: quintile scores cannot rank fewer."""

REPORT_RULES = (
    "churn_risk",
    "detractor_follow_up",
    "vip_opportunity",
    "browse_abandonment",
    "satisfaction_check",
    "payment_escalation",
)
"""The rules of :data:`cxmodel.triggers.EXAMPLE_RULES` behind the report's "act now" section."""

_FUNNEL = ("product_view", "add_to_cart", "checkout", "purchase")
_FEATURE_WORDS = {
    "frequency": "purchases",
    "monetary": "total spend",
    "aov": "average order value",
    "returns": "returns",
    "tickets_total": "support tickets",
    "tickets_open": "open support tickets",
    "last_nps": "last NPS answer (0-10)",
    "last_csat": "last CSAT answer (1-5)",
    "last_ces": "last CES answer (1-7)",
    "mean_sentiment": "sentiment (-1 to 1)",
    "consent_marketing": "marketing consent",
}


def _n(x: float) -> str:
    return f"{round(x):,}"


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({part / whole:.1%})" if whole else f"{part:,}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


#: The months since the first purchase the cohort heatmap shows.
COHORT_MONTHS = 36


def _figure(result: Any, alt: str, **kwargs: Any) -> tuple[ReportFigure, ...]:
    """The figure ``result.plot(ax=ax, **kwargs)`` if the result can plot itself, else none."""
    if not can_plot(result):
        return ()
    return (ReportFigure(lambda ax: result.plot(ax=ax, **kwargs), alt),)


class Context:
    """The log as of the report date, and what several sections share (computed once).

    ``rejected`` is the number of rows the reader set aside from the log the report is of
    (``log.rejected`` of the log given, which the cut at the report date does not keep).
    """

    def __init__(self, log: InteractionLog, as_of_us: int, rejected: int = 0) -> None:
        self.log = log
        self.as_of_us = as_of_us
        self.as_of: datetime = us_to_datetime(as_of_us)
        self.rejected = rejected

    @cached_property
    def kinds(self) -> frozenset[str]:
        """The kinds of interaction present in the log."""
        return frozenset(k for k, n in self.log.summary()["kinds"].items() if n)

    @cached_property
    def lookalikes(self) -> list[tuple[str, str]]:
        """Pairs (standard kind, kind of the log that looks like it but is not: misspelt,
        cased)."""
        return [(k, seen) for k, alike in lookalike_kinds(self.kinds).items() for seen in alike]

    def lacking(self, *kinds: str) -> str:
        """What to say after "the log has no ...": the log's kinds that look like ``kinds``."""
        found = [(k, seen) for k in kinds for standard, seen in self.lookalikes if standard == k]
        if not found:
            return ""
        names = ", ".join(repr(seen) for _, seen in found)
        mapping = ", ".join(f"{seen!r}: {k!r}" for k, seen in found)
        return f" (but it has {names}: read it with kinds={{{mapping}}} if they are the same)"

    @cached_property
    def purchases(self) -> npt.NDArray[np.bool_]:
        if "purchase" not in self.kinds:
            return np.zeros(len(self.log), dtype=bool)
        mask: npt.NDArray[np.bool_] = self.log.kind_mask("purchase")
        return mask

    @cached_property
    def orders(self) -> InteractionLog:
        """The log with one purchase row per order: the lines of an order (same customer and
        order_id, or same instant) merged, for the counts of purchases."""
        return self.log.orders() if "purchase" in self.kinds else self.log

    def counted_in_orders(self, note: str) -> str:
        """The ``note`` of a section that counts purchases on :attr:`orders`, saying how many
        purchase rows were merged into how many orders when any were."""
        merged = len(self.log) - len(self.orders)
        if not merged:
            return note
        rows = int(np.count_nonzero(self.purchases))
        said = (
            f"purchases counted as orders: {_plural(rows, 'purchase row')} are "
            f"{_plural(rows - merged, 'order')} (the lines of an order, same customer and "
            "order_id or same instant, merged)"
        )
        return f"{note}; {said}" if note else said

    @cached_property
    def has_values(self) -> bool:
        if "value" not in self.log or not self.purchases.any():
            return False
        return bool(np.isfinite(self.log.numeric("value")[self.purchases]).any())

    def surveys(self, metric: str) -> InteractionLog | None:
        """Survey answers of one metric (``"nps"``, ``"csat"``, ``"ces"``), or None."""
        if "metric" not in self.log or "score" not in self.log:
            return None
        log = self.log
        codes, names = log.categorical("metric")
        wanted = np.flatnonzero(names == metric)
        if wanted.size == 0:
            return None
        if "survey" not in self.kinds:
            return None
        mask = log.kind_mask("survey") & (codes == wanted[0])
        mask &= np.isfinite(log.numeric("score"))
        return log.filter(mask) if mask.any() else None

    @cached_property
    def table(self) -> CustomerTable:
        return self.orders.customers_table(self.as_of)

    @cached_property
    def churned(self) -> npt.NDArray[np.bool_]:
        """Per customer of :attr:`table`: no interaction in the last ``CHURN_DAYS`` days."""
        recency = self.table.column("last_seen").astype("datetime64[us]").astype(np.int64)
        churned: npt.NDArray[np.bool_] = recency <= self.as_of_us - CHURN_DAYS * DAY_US
        return churned

    @cached_property
    def rfm(self) -> Any:
        from cxmodel.segment import rfm_scores, rfm_segments

        scores = rfm_scores(self.orders, as_of=self.as_of)
        return scores, rfm_segments(scores)

    @cached_property
    def value(self) -> ValueModel | str:
        return _value_model(self)


@attrs.frozen
class ValueModel:
    """Buy-till-you-die results shared by the indicators and the customer value section."""

    buyers: int
    customer_id: npt.NDArray[np.object_]
    p_alive: npt.NDArray[np.float64]
    repeat_mask: npt.NDArray[np.bool_]
    weeks_between: float
    expected_52w: float
    clv: Any = None
    spend_note: str = ""

    @property
    def repeat(self) -> int:
        """How many buyers bought in more than one week (the ``repeat_mask`` rows)."""
        return int(np.count_nonzero(self.repeat_mask))


def _value_model(ctx: Context) -> ValueModel | str:
    from cxmodel.models import BetaGeo, GammaGamma, customer_lifetime_value, rfm_summary

    if not ctx.purchases.any():
        return "the log has no purchases" + ctx.lacking("purchase")
    summary = rfm_summary(ctx.log, as_of=ctx.as_of, freq="W")
    repeat = summary.frequency > 0
    if np.count_nonzero(repeat) < 10:
        return (
            f"only {_plural(int(np.count_nonzero(repeat)), 'customer')} bought in more than "
            "one week (10 needed for the value model)"
        )
    model = BetaGeo()
    model.fit(summary)
    params = model.params_ or {}
    p_alive = np.asarray(
        model.probability_alive(summary.frequency, summary.recency, summary.T), dtype=float
    )
    expected = model.conditional_expected_purchases(
        52, summary.frequency, summary.recency, summary.T
    )
    result = ValueModel(
        buyers=len(summary),
        customer_id=np.asarray(summary.customer_id, dtype=object),
        p_alive=p_alive,
        repeat_mask=repeat,
        weeks_between=float(params["alpha"] / params["r"]),
        expected_52w=float(np.sum(expected)) if np.isfinite(expected).all() else float("nan"),
    )
    if not ctx.has_values:
        return attrs.evolve(result, spend_note="purchases carry no value, so no lifetime value")
    # Gamma-Gamma needs a positive average spend for every repeat buyer: buyers whose repeat
    # purchases are all worth 0 (returns, free orders) are kept out of the spend model and CLV
    zero = repeat & ~(summary.monetary_value > 0)
    spenders = summary.subset(~zero)
    if np.count_nonzero(spenders.frequency > 0) < 10:
        return attrs.evolve(result, spend_note="too few repeat buyers with a positive spend")
    spend = GammaGamma()
    spend.fit(spenders)
    clv = customer_lifetime_value(model, spend, spenders, horizon=12, freq="M", discount_rate=0.01)
    if not np.isfinite(np.asarray(clv.value, dtype=float)).all():
        return attrs.evolve(
            result, spend_note="the value model gives no finite value on this data (degenerate fit)"
        )
    note = ""
    if zero.any():
        note = (
            f"{_plural(int(np.count_nonzero(zero)), 'repeat buyer')} whose purchases are all "
            "worth 0 left out of the lifetime value"
        )
    return attrs.evolve(result, clv=clv, spend_note=note)


# ---------------------------------------------------------------------------------- sections
def overview(ctx: Context) -> ReportSection | str:
    log = ctx.log
    s = log.summary()
    top = sorted(s["kinds"].items(), key=lambda kv: -kv[1])[:8]
    rows = [
        ("interactions", f"{s['rows']:,}"),
        ("customers", f"{s['customers']:,}"),
        ("first", f"{s['first']:%Y-%m-%d}"),
        ("last", f"{s['last']:%Y-%m-%d}"),
        ("top kinds", ", ".join(f"{k} {v:,}" for k, v in top if v)),
    ]
    if "channels" in s:
        rows.append(("channels", ", ".join(f"{k} {v:,}" for k, v in s["channels"].items() if v)))
    last = np.maximum.reduceat(log.timestamps, log.offsets[:-1])
    active_90 = int(np.count_nonzero(last > ctx.as_of_us - 90 * DAY_US))
    rows.append(("active in last 90 days", _share(active_90, log.n_customers)))
    if ctx.rejected:
        rows.append(("rejected rows", f"{ctx.rejected:,} (set aside when read: log.rejected)"))
    lead = (
        f"{_plural(s['customers'], 'customer')} and {_plural(s['rows'], 'interaction')} from "
        f"{s['first']:%d %b %Y} to {s['last']:%d %b %Y}; {active_90 / log.n_customers:.0%} of "
        "the customers were active in the last 90 days."
    )
    if ctx.lookalikes:
        alike = ctx.lookalikes
        rows.append(
            (
                "kinds like standard ones",
                "; ".join(f"{seen!r} ({s['kinds'][seen]:,}) is not {k!r}" for k, seen in alike),
            )
        )
        lead += (
            f" {_plural(len(alike), 'kind')} of the log look like standard kinds but are not "
            "counted as them: map them with kinds= when reading the file."
        )
    return ReportSection("Overview", tuple(rows), lead=lead)


def _interval(ci: tuple[float, float], fmt: Callable[[float], str]) -> str:
    return f"95 % CI {fmt(ci[0])} to {fmt(ci[1])}"


class _Share(Protocol):
    """A share with its 95 % interval: a survey proportion or a customer rate."""

    @property
    def value(self) -> float: ...
    @property
    def ci(self) -> tuple[float, float]: ...


def _share_card(label: str, share: _Share, detail: str) -> KPI:
    """The card of a share: its value and interval as percentages."""
    return KPI(label, _pct(share.value), _interval(share.ci, _pct), detail)


def _survey_cards(ctx: Context) -> list[KPI]:
    from cxmodel.metrics import ces, csat, nps

    cards: list[KPI] = []
    answers = ctx.surveys("nps")
    if answers is not None:
        r = nps(answers)
        cards.append(
            KPI(
                "NPS",
                f"{r.value:+.1f}",
                _interval(r.ci, lambda x: f"{x:+.1f}"),
                f"{_plural(r.n, 'answer')}: {r.promoters:,} promoters, {r.passives:,} passives, "
                f"{r.detractors:,} detractors",
            )
        )
    shares = (
        ("csat", "CSAT (satisfied, 4-5 of 5)", csat),
        ("ces", "CES (found it easy, 5-7 of 7)", ces),
    )
    for metric, label, share_of in shares:
        answers = ctx.surveys(metric)
        if answers is not None:
            share = share_of(answers)
            cards.append(_share_card(label, share, _plural(share.n, "answer")))
    return cards


_LAST_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
"""The last time a log holds: a window cannot end after it."""


def _just_after(when: datetime) -> datetime:
    """The exclusive end of a window that takes in ``when``: a microsecond after it; at the last
    time a log holds (an export's placeholder date, 9999-12-31 23:59:59, as the report date)
    that time itself, the interactions at that instant then falling outside the window."""
    return when + timedelta(microseconds=1) if when < _LAST_TIME else _LAST_TIME


def indicators(ctx: Context) -> ReportSection | str:
    from cxmodel.metrics import churn_rate, repeat_purchase_rate, retention_rate

    cards = _survey_cards(ctx)
    missing: list[str] = []
    if not cards:
        missing.append("no NPS, CSAT or CES: the log has no survey answers" + ctx.lacking("survey"))
    first = int(ctx.log.timestamps.min())
    if first <= ctx.as_of_us - 2 * CHURN_DAYS * DAY_US:
        start = ctx.as_of - timedelta(days=CHURN_DAYS)  # after the first interaction
        # the window is [start, end): it ends just after as_of, so a customer who came back at
        # the report's own time (the data's last day) came back, as the repeat card counts it
        end = _just_after(ctx.as_of)
        window = f"{CHURN_DAYS}d"
        churn = churn_rate(ctx.log, start, end, lookback=window)
        kept = retention_rate(ctx.log, start, end, lookback=window)
        if churn.n:
            base = f"of {_plural(churn.n, 'customer')} active in the {CHURN_DAYS} days before"
            cards.append(
                _share_card(
                    f"Churn, last {CHURN_DAYS} days",
                    churn,
                    f"{churn.numerator:,} {base} did not come back",
                )
            )
            cards.append(
                _share_card(
                    f"Retention, last {CHURN_DAYS} days",
                    kept,
                    f"{kept.numerator:,} {base} came back",
                )
            )
    else:
        missing.append(f"no churn or retention: the log covers less than {2 * CHURN_DAYS} days")
    if ctx.purchases.any():
        repeat = repeat_purchase_rate(ctx.orders, None, _just_after(ctx.as_of))
        cards.append(
            _share_card(
                "Repeat purchase",
                repeat,
                f"{repeat.numerator:,} of {_plural(repeat.n, 'buyer')} bought again",
            )
        )
        value = ctx.value
        if isinstance(value, ValueModel) and value.clv is not None:
            v = np.asarray(value.clv.value, dtype=float)
            # on the scale of the largest value, so that values near 1e300 do not overflow
            scale = float(np.max(np.abs(v))) or 1.0
            mean = scale * float(np.mean(v / scale))
            spread = scale * float(np.std(v / scale, ddof=1)) if v.size > 1 else 0.0
            half = Z95 * spread / np.sqrt(v.size)
            cards.append(
                KPI(
                    "12-month value per buyer",
                    f"{mean:,.2f}",
                    f"95 % CI {mean - half:,.2f} to {mean + half:,.2f}",
                    f"expected, discounted 1 % a month; {_plural(v.size, 'buyer')}",
                )
            )
        else:
            reason = value if isinstance(value, str) else value.spend_note
            missing.append(f"no customer value: {reason}")
    else:
        missing.append(
            "no repeat purchase or customer value: the log has no purchases"
            + ctx.lacking("purchase")
        )
    if not cards:
        return "; ".join(missing)
    return ReportSection(
        "Key indicators",
        cards=tuple(cards),
        note=ctx.counted_in_orders(
            "; ".join(
                [*missing, "intervals: Wald for NPS, Wilson for shares, normal for the mean value"]
            )
        ),
    )


def nps_trend(ctx: Context) -> ReportSection | str:
    from cxmodel.metrics import nps

    answers = ctx.surveys("nps")
    if answers is None:
        return "the log has no NPS answers" + ctx.lacking("survey")
    table = nps(answers, period="month")
    if len(table) < 2:
        return "the NPS answers cover a single month"
    period, value, n = table["period"], table["value"], table["n"]
    low, high = table["ci_low"], table["ci_high"]
    rows = tuple(
        (
            str(period[i]),
            f"{value[i]:+.1f} (95 % CI {low[i]:+.1f} to {high[i]:+.1f}; n {n[i]:,})"
            if n[i]
            else "no answers",
        )
        for i in range(max(len(table) - 6, 0), len(table))
    )
    solid = np.flatnonzero(n >= 30)
    answered = np.flatnonzero(n > 0)
    first, last = (solid[0], solid[-1]) if solid.size >= 2 else (answered[0], answered[-1])
    change = (
        f"{value[first]:+.0f} in {period[first]} to {value[last]:+.0f} in {period[last]} "
        f"({float(value[last] - value[first]):+.0f} points)"
    )
    if solid.size >= 2:
        lead = f"NPS went from {change}, comparing months with at least 30 answers."
    else:  # a move between months of a handful of answers is mostly chance: show their sizes
        lead = (
            f"NPS went from {change}, on {n[first]:,} and {n[last]:,} answers: fewer than two "
            "months have 30 answers, so the change may be chance."
        )
    return ReportSection(
        "NPS over time",
        rows,
        note="by calendar month (UTC), the last 6 months listed",
        lead=lead,
        figures=_figure(table, "NPS by month with its 95 % interval"),
    )


def customer_value(ctx: Context) -> ReportSection | str:
    value = ctx.value
    if isinstance(value, str):
        return value
    buyers = value.buyers
    revenue = float(np.nansum(ctx.log.numeric("value")[ctx.purchases])) if ctx.has_values else 0
    # BG/NBD lets a customer drop out only just after a repeat purchase, so it counts every
    # one-time buyer as certainly active (P(alive) = 1): the figures are of the repeat buyers
    alive = value.p_alive[value.repeat_mask]
    likely_gone = int(np.count_nonzero(alive < 0.5))
    mean_alive = float(np.mean(alive))
    rows = [
        ("buyers", _share(buyers, ctx.log.n_customers)),
        (
            "bought in more than one week (the value model's repeat buyers)",
            _share(value.repeat, buyers),
        ),
    ]
    if ctx.has_values:
        rows.append(("revenue to date", f"{revenue:,.2f}"))
    rows += [
        ("while active, a typical customer buys", f"about every {value.weeks_between:,.0f} weeks"),
        ("probability still active, average repeat buyer", _pct(mean_alive, 0)),
        ("repeat buyers more likely gone than active", _share(likely_gone, value.repeat)),
    ]
    if np.isfinite(value.expected_52w):
        rows.append(("purchases expected in the next 12 months", _n(value.expected_52w)))
    tables: tuple[ReportTable, ...] = ()
    if value.clv is not None:
        clv = value.clv
        v = np.asarray(clv.value, dtype=float)
        top = np.argsort(-v, kind="stable")[: max(1, v.size // 10)]
        rows += [
            ("expected value of today's buyers, 12 months", f"{float(np.sum(v)):,.2f}"),
            ("share of it from the top 10 % of buyers", _pct(float(v[top].sum() / v.sum()), 0)),
        ]
        best = top[:5]
        tables = (
            ReportTable(
                ("Customer", "Expected 12-month value", "Probability still active"),
                tuple(
                    (
                        str(clv.customer_id[i]),
                        f"{v[i]:,.2f}",
                        _pct(float(_alive_of(value, str(clv.customer_id[i]))), 0),
                    )
                    for i in best
                ),
            ),
        )
    lead = (
        f"While active, a typical customer buys about every {value.weeks_between:,.0f} weeks; "
        f"an average repeat buyer is still active with probability {mean_alive:.0%}, and "
        f"{likely_gone:,} of {value.repeat:,} repeat buyers are more likely gone than active."
    )
    note = (
        "buy-till-you-die models (BG/NBD, Gamma-Gamma) fitted on this log; 1 % a month "
        "discount; BG/NBD counts every one-time buyer as still active, so the probability of "
        "being active is given for repeat buyers only"
    )
    if value.spend_note:
        note += f"; {value.spend_note}"
    return ReportSection("Customer value", tuple(rows), note, lead=lead, tables=tables)


def _alive_of(value: ValueModel, customer: str) -> float:
    return float(value.p_alive[np.flatnonzero(value.customer_id == customer)[0]])


def cohorts(ctx: Context) -> ReportSection | str:
    from cxmodel.metrics import cohort_retention

    if not ctx.purchases.any():
        return "the log has no purchases to form cohorts" + ctx.lacking("purchase")
    result = cohort_retention(ctx.log, period="month", as_of=ctx.as_of)
    if len(result.cohorts) < 2:
        return "all first purchases fall in one month"
    rates = result.rates
    rows = []
    for k in (1, 3, 6, 12):
        if k < rates.shape[1] and np.isfinite(rates[:, k]).any():
            seen = np.isfinite(rates[:, k])
            weighted = float(np.sum(result.counts[seen, k]) / np.sum(result.sizes[seen]))
            rows.append(
                (
                    f"bought again {k} month{'s' if k > 1 else ''} after the first purchase",
                    f"{_pct(weighted)} of {_plural(int(seen.sum()), 'cohort')}",
                )
            )
    if not rows:
        return "no cohort is a month old yet"
    lead = (
        f"{len(result.cohorts)} monthly cohorts of first-time buyers; each cell is the share "
        "of a cohort buying in a later month."
    )
    alt = "cohort retention heatmap: cohorts by months since first purchase"
    if rates.shape[1] > COHORT_MONTHS + 1:  # a cell and its text per month: years of them
        alt += f" (the first {COHORT_MONTHS} of {rates.shape[1] - 1:,} months)"
    return ReportSection(
        "Cohort retention",
        tuple(rows),
        note="cohort = month of the first purchase; empty cells have not happened yet",
        lead=lead,
        figures=_figure(result, alt, max_periods=COHORT_MONTHS),
    )


def _nps_groups(ctx: Context) -> npt.NDArray[np.object_] | None:
    if "last_nps" not in ctx.table.columns:
        return None
    score = ctx.table.column("last_nps").astype(float)
    if not np.isfinite(score).any():
        return None
    groups = np.full(score.shape, "no NPS answer", dtype=object)
    groups[score >= 9] = "promoters"
    groups[(score >= 7) & (score < 9)] = "passives"
    groups[score < 7] = "detractors"
    return groups


def survival(ctx: Context) -> ReportSection | str:
    from cxmodel.metrics import customer_lifetimes, kaplan_meier_by

    span_days = (ctx.as_of_us - int(ctx.log.timestamps.min())) / DAY_US
    if span_days <= CHURN_DAYS:
        return f"the log covers {span_days:.0f} days; staying active needs more than {CHURN_DAYS}"
    lifetimes = customer_lifetimes(ctx.log, ctx.as_of, inactivity=f"{CHURN_DAYS}d")
    if not lifetimes.observed.any():
        return f"no customer has been inactive for {CHURN_DAYS} days yet"
    groups = _nps_groups(ctx)
    by = "last NPS answer"
    table_ids = ctx.table.column("customer_id")
    if groups is None:
        groups = np.full(len(table_ids), "all customers", dtype=object)
        by = ""
    position = {c: i for i, c in enumerate(table_ids.tolist())}
    aligned = np.array([groups[position[c]] for c in lifetimes.customers.tolist()], dtype=object)
    names, counts = np.unique(aligned.astype(str), return_counts=True)
    keep = np.isin(aligned.astype(str), names[counts >= 20])
    if not keep.any():
        return "fewer than 20 customers in every group"
    curves = kaplan_meier_by(
        lifetimes.durations[keep], lifetimes.observed[keep], groups=aligned[keep]
    )
    rows = []
    for name, curve in curves.items():
        median = curve.median
        if not np.isfinite(median):
            typical = "more than half still active"
        elif median < 1:
            typical = "half never came back after their first day"
        else:
            typical = f"half have left after {median:,.0f} days"
        size = int(np.count_nonzero(aligned[keep] == name))
        at = min(180.0, span_days)
        rows.append(
            (
                f"{name} ({size:,})",
                f"{_pct(float(curve.at(at)), 0)} still active after {at:.0f} days; {typical}",
            )
        )
    figures: tuple[ReportFigure, ...] = ()
    if all(can_plot(curve) for curve in curves.values()):

        def draw(ax: Any) -> None:
            from cxmodel.plot import plot_survival

            plot_survival(dict(curves), ax=ax)  # one line per group, with its legend

        figures = (ReportFigure(draw, f"share of customers still active by {by or 'day'}"),)
    lead = (
        f"How long customers stay active{', by their last NPS answer' if by else ''}: "
        f"a customer counts as gone after {CHURN_DAYS} days without any interaction."
    )
    return ReportSection(
        "Staying active" + (f", by {by}" if by else ""),
        tuple(rows),
        note="Kaplan-Meier estimate; customers still active are counted until the report date",
        lead=lead,
        figures=figures,
    )


def purchase_funnel(ctx: Context) -> ReportSection | str:
    from cxmodel.journey import funnel

    missing = [step for step in _FUNNEL if step not in ctx.kinds]
    if missing:
        return f"the log has no {', '.join(missing)} interactions" + ctx.lacking(*missing)
    result = funnel(ctx.log, _FUNNEL, window="7d")
    rows = tuple(
        (step, f"{int(count):,} customers ({rate:.1%} of the first step)")
        for step, count, rate in zip(result.steps, result.counts, result.conversion)
    )
    worst = int(np.argmin(result.step_conversion[1:])) + 1 if len(result.steps) > 1 else 0
    lead = (
        f"{result.conversion[-1]:.0%} of the customers who viewed a product bought within 7 "
        f"days; the biggest drop is from {result.steps[worst - 1]} to {result.steps[worst]}."
    )
    return ReportSection(
        "Purchase funnel",
        rows,
        "loose order, all steps within 7 days of the product view",
        lead=lead,
        figures=_figure(result, "purchase funnel: customers reaching each step"),
    )


def _duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "-"
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            return _plural(round(seconds / size), unit)
    return _plural(round(seconds), "second")


def next_steps(ctx: Context) -> ReportSection | str:
    from cxmodel.journey import END, START, transitions

    if len(ctx.kinds) < 2:
        return "every interaction is of one kind, so there is no next step to show"
    result = transitions(ctx.log)
    edges = result.edges()
    inner = (edges["source"] != START) & (edges["target"] != END) & (edges["source"] != END)
    inner &= edges["source"] != edges["target"]
    order = np.flatnonzero(inner)[np.argsort(-edges["count"][inner], kind="stable")]
    median = edges.get("seconds_q0.5", np.full(len(edges["count"]), np.nan))
    rows = tuple(
        (
            f"{edges['source'][i]} -> {edges['target'][i]}",
            f"{edges['p_next'][i]:.0%} of {edges['source'][i]} are followed by it "
            f"({edges['count'][i]:,} times; median {_duration(float(median[i]))} later)",
        )
        for i in order[:SHOWN]
    )
    if not rows:
        return "no customer moves from one kind of interaction to another"
    return ReportSection(
        "Common next steps",
        rows,
        note=f"the {len(rows)} most frequent moves between different kinds of interaction",
        lead="What customers do next: the most frequent moves in their journeys.",
        figures=_figure(result, "transitions between kinds of interaction"),
    )


def friction_points(ctx: Context) -> ReportSection | str:
    from cxmodel.journey import ERROR_KINDS, friction

    if len(ctx.kinds) < 3:
        return "friction needs journeys with at least 3 kinds of interaction"
    errors = tuple(k for k in ERROR_KINDS if k in ctx.kinds)
    contacts = tuple(k for k in ("ticket_opened", "call", "chat") if k in ctx.kinds)
    result = friction(ctx.log, errors=errors, contact_kinds=contacts)
    rows = tuple(
        (
            str(result.labels[i]),
            f"{result.exit_rate[i]:.1%} of {result.events[i]:,} end the journey "
            f"({result.exits[i]:,} exits)"
            + (
                "; nothing ever follows it"  # every event an exit: no next step to rate
                if np.isnan(result.backtrack_rate[i])
                else f"; {result.backtrack_rate[i]:.0%} go back to an earlier step, "
                f"{result.slow_rate[i]:.0%} are slow to move on"
            ),
        )
        for i in range(min(SHOWN, len(result.labels)))
    )
    lead = (
        f"Where journeys stop: {result.labels[0]} is the last interaction of "
        f"{result.exits[0]:,} customers."
    )
    note = "ranked by exits (the last interaction of a customer's journey)"
    for kind, c in result.contacts.items():
        if c["contacts"]:
            note += f"; {c['repeat_rate']:.0%} of {kind} are followed by another contact in 7 days"
    return ReportSection(
        "Friction points",
        rows,
        note,
        lead=lead,
        figures=_figure(result, "friction ranking: exits by kind of interaction"),
    )


def rfm_personas(ctx: Context) -> ReportSection | str:
    if not ctx.purchases.any():
        return "the log has no purchases" + ctx.lacking("purchase")
    scores, segments = ctx.rfm
    buyers = len(scores.customer_id)
    if buyers < RFM_MIN_BUYERS:
        return (
            f"only {_plural(buyers, 'buyer')}; quintile scores need at least {RFM_MIN_BUYERS} "
            "to rank"
        )
    if np.unique(scores.r).size == 1 and np.unique(scores.f).size == 1:
        return (
            f"all {buyers:,} buyers tie on both recency and frequency, so the scores cannot "
            "rank them"
        )
    labels = segments.labels.astype(str)
    names, codes, counts = np.unique(labels, return_inverse=True, return_counts=True)
    codes = codes.ravel()

    def mean(x: npt.NDArray[Any], column: str) -> npt.NDArray[np.float64]:
        values = np.asarray(x, dtype=float)
        ok = np.isfinite(values)
        total = grouped_sums(
            codes[ok],
            values[ok],
            names.size,
            column=column,
            where="cx_report()",
            names=names,
            of="segment",
        )
        n = np.bincount(codes[ok], minlength=names.size)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)

    recency, frequency, money = (
        mean(scores.recency_days, "recency_days"),
        mean(scores.frequency, "frequency"),
        mean(scores.monetary, "monetary"),
    )
    order = np.argsort(-counts, kind="stable")
    total = int(counts.sum())
    persona = []
    for i in order:
        money_text = f", spent {money[i]:,.0f}" if ctx.has_values else ""
        persona.append(
            (
                str(names[i]),
                _share(int(counts[i]), total),
                f"last bought {recency[i]:,.0f} days ago, {frequency[i]:.1f} purchases{money_text}",
            )
        )
    rows = tuple((name, share) for name, share, _ in persona)
    biggest = persona[0]
    lead = (
        f"{len(names)} segments of {total:,} buyers by how recently and how often they buy; "
        f"the largest is {biggest[0]}, {biggest[1].replace(' (', ' buyers (')}."
    )
    return ReportSection(
        "RFM segments and personas",
        rows,
        note=ctx.counted_in_orders(
            "default recency x frequency map, quintile scores; averages per segment"
        ),
        lead=lead,
        tables=(ReportTable(("Segment", "Buyers", "A typical member"), tuple(persona)),),
        figures=_figure(segments, "RFM map: buyers by recency and frequency score"),
    )


def _varies(x: npt.NDArray[np.float64]) -> bool:
    """Whether the values are not all equal (compared, not squared: values near 1e300 do not
    overflow as in a standard deviation)."""
    return bool(x.min() < x.max())


def _finite(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    finite = x[np.isfinite(x)]
    return finite if finite.size else np.zeros(1)


def vip_contrast(ctx: Context) -> ReportSection | str:
    from cxmodel.segment import contrast

    if not ctx.purchases.any():
        return "the log has no purchases" + ctx.lacking("purchase")
    if not ctx.has_values:
        return "VIPs are the top spenders, and the purchases carry no value"
    table = ctx.table
    spend = np.nan_to_num(table.column("monetary").astype(float))
    active = ~ctx.churned & (spend > 0)
    if np.count_nonzero(active) < 20 or np.count_nonzero(ctx.churned) < 2:
        return (
            f"fewer than 20 active buyers or 2 customers without interaction for {CHURN_DAYS}+ days"
        )
    vip = active & (spend >= np.quantile(spend[active], 0.9))
    features = [
        name
        for name in _FEATURE_WORDS
        if name in table.columns
        and _varies(_finite(table.column(name).astype(float)[vip | ctx.churned]))
    ]
    result = contrast(table, vip, ctx.churned, features=features)
    rows = []
    for i in range(min(6, len(result.feature))):
        name = str(result.feature[i])
        words = _FEATURE_WORDS.get(name, name)
        if result.kind[i] == "proportion":
            a, b, d = _pct(result.a[i], 0), _pct(result.b[i], 0), "points"
            diff = f"{100 * result.difference[i]:+.0f}"
            ci = f"{100 * result.low[i]:+.0f} to {100 * result.high[i]:+.0f}"
        else:
            a, b, d = f"{result.a[i]:,.2f}", f"{result.b[i]:,.2f}", ""
            diff = f"{result.difference[i]:+,.2f}"
            ci = f"{result.low[i]:+,.2f} to {result.high[i]:+,.2f}"
        rows.append(
            (words, f"VIPs {a} vs churned {b} ({diff}{' ' + d if d else ''}; 95 % CI {ci})")
        )
    n_vip, n_churned = int(np.count_nonzero(vip)), int(np.count_nonzero(ctx.churned))
    lead = (
        f"What sets the {n_vip:,} VIPs (top 10 % of active buyers by spend) apart from the "
        f"{n_churned:,} churned customers (no interaction for {CHURN_DAYS} days)."
    )
    return ReportSection(
        "VIPs vs churned customers",
        tuple(rows),
        note=ctx.counted_in_orders(
            "ranked by effect size; Welch interval for means, Newcombe for shares"
        ),
        lead=lead,
        figures=_figure(result, "differences between VIPs and churned customers"),
    )


def drivers(ctx: Context) -> ReportSection | str:
    from cxmodel.metrics import experience_drivers

    answers = ctx.surveys("nps")
    if answers is None:
        return "the log has no NPS answers" + ctx.lacking("survey")
    if len(ctx.kinds) < 3:
        return "there are no other kinds of interaction to relate to the NPS answers"
    table = experience_drivers(ctx.log, metric="nps", window="30d", min_n=10)
    if len(table) == 0:
        return "no kind of interaction precedes at least 10 NPS answers"
    order = np.argsort(-np.abs(table["difference"]), kind="stable")[:6]
    rows = tuple(
        (
            f"had {table['driver'][i]} in the 30 days before",
            f"NPS {table['with'][i]:+.0f} vs {table['without'][i]:+.0f} without "
            f"({table['difference'][i]:+.0f}; 95 % CI {table['ci_low'][i]:+.0f} to "
            f"{table['ci_high'][i]:+.0f}; n {table['n_with'][i]:,})",
        )
        for i in order
    )
    lead = (
        "Which experiences go with higher or lower NPS: customers who had an interaction in the "
        "30 days before answering, against those who did not."
    )
    return ReportSection(
        "Experience drivers",
        rows,
        note="associations, not causes; kinds seen before at least 10 answers",
        lead=lead,
        figures=_figure(table, "NPS difference by experience, with 95 % intervals"),
    )


_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T[0-9:.]+(?:[+-]\d{2}:\d{2}|Z)?")


def _reason(because: Any) -> str:
    from cxmodel.triggers import describe_because

    return _DATETIME.sub(r"\1", describe_because(because))


_FIRST_TIME = datetime.min.replace(tzinfo=timezone.utc)


def act_now(ctx: Context) -> ReportSection | str:
    from cxmodel.triggers import EXAMPLE_RULES, RuleSet, evaluate, parse

    runnable, refused = _runnable_rules(
        [parse(EXAMPLE_RULES)[name] for name in REPORT_RULES], ctx.log
    )
    if not runnable:
        return "no example rule fits this log: " + "; ".join(refused)
    rules = RuleSet(tuple(runnable))
    firings = evaluate(rules, ctx.log, as_of=ctx.as_of)
    # the first days of year 1 have no days before them to subtract
    since = ctx.as_of - min(timedelta(days=ACT_NOW_DAYS), ctx.as_of - _FIRST_TIME)
    recent = [f for f in firings if f.time > since]
    customers: dict[str, list[str]] = {name: [] for name in rules.names}
    latest: dict[str, Any] = {}
    for firing in sorted(recent, key=lambda f: f.time, reverse=True):
        if firing.customer_id not in customers[firing.trigger]:
            customers[firing.trigger].append(firing.customer_id)
        latest.setdefault(firing.trigger, firing)
    # a rule anchored on a kind the log has none of cannot fire here: say so, not "0"
    unseen = {
        rule.name: rule.when.kind
        for rule in runnable
        if rule.when.mode == "event" and rule.when.kind not in ctx.kinds
    }
    rows = tuple(
        (
            name,
            f"cannot fire: the log has no {unseen[name]} interactions{ctx.lacking(unseen[name])}"
            if name in unseen
            else f"{len(ids):,} customers in the last {ACT_NOW_DAYS} days",
        )
        for name, ids in customers.items()
    )
    lines = []
    for name, ids in customers.items():
        if not ids:
            continue
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5:,} more" if len(ids) > 5 else "")
        lines.append(
            (name, latest[name].action, f"{len(ids):,}", shown, _reason(latest[name].because))
        )
    quiet = [name for name, ids in customers.items() if not ids and name not in unseen]
    table = ReportTable(
        ("Trigger", "Action", "Customers", "Who (most recent first)", "Why (latest firing)"),
        tuple(lines),
        more=f"no firing of {', '.join(quiet)}" if quiet else "",
    )
    total = len({f.customer_id for f in recent})
    lead = (
        f"{total:,} customers have a trigger that fired in the last {ACT_NOW_DAYS} days, "
        f"from {len(firings):,} firings of the example rules up to the report date."
    )
    figures = _figure(firings, "trigger firings over time") if firings else ()
    note = "example rules named in cxmodel.report.REPORT_RULES, evaluated as of the report"
    if refused:
        note += "; not evaluated: " + "; ".join(refused)
    return ReportSection(
        "Act now (triggers)",
        rows,
        note=note,
        lead=lead,
        tables=(table,) if lines else (),
        figures=figures,
    )


def _runnable_rules(rules: list[Any], log: InteractionLog) -> tuple[list[Any], list[str]]:
    """The rules that type-check against ``log``, and why each other one does not.

    A rule reading a column the log lacks (``p.order_id``) is left out with its reason, so the
    other rules still run and the reader learns which rule is missing and what it needs.
    """
    from cxmodel.triggers import RuleSet, check

    runnable: list[Any] = []
    refused: list[str] = []
    for rule in rules:
        try:
            with silenced():  # evaluate() warns about the runnable ones
                check(RuleSet((rule,)), log)
        except TriggerTypeError as exc:
            reasons = sorted({str(getattr(d, "message", d)) for d in exc.errors})
            refused.append(f"{rule.name} ({', '.join(reasons) or str(exc).splitlines()[0]})")
        else:
            runnable.append(rule)
    return runnable, refused


Builder = Callable[[Context], "ReportSection | str"]
SECTIONS: Sequence[tuple[str, str, Builder]] = (
    ("overview", "Overview", overview),
    ("indicators", "Key indicators", indicators),
    ("nps-trend", "NPS over time", nps_trend),
    ("value", "Customer value", customer_value),
    ("cohorts", "Cohort retention", cohorts),
    ("survival", "Staying active", survival),
    ("funnel", "Purchase funnel", purchase_funnel),
    ("transitions", "Common next steps", next_steps),
    ("friction", "Friction points", friction_points),
    ("rfm", "RFM segments and personas", rfm_personas),
    ("contrast", "VIPs vs churned customers", vip_contrast),
    ("drivers", "Experience drivers", drivers),
    ("actions", "Act now (triggers)", act_now),
)
"""The report's sections in page order: (id in the page, title, builder)."""
