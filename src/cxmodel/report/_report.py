"""Assemble the CX report from the analyses: overview, value, segments (and more as they apply)."""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs
import numpy as np

from cxmodel._time import TimeLike, to_us, us_to_datetime
from cxmodel.errors import DataError
from cxmodel.log import InteractionLog

__all__ = ["CXReport", "ReportSection", "cx_report"]


@attrs.frozen
class ReportSection:
    """One titled block of the report: rows of (label, value) text."""

    title: str
    rows: tuple[tuple[str, str], ...]
    note: str = ""


@attrs.frozen
class CXReport:
    """A CX report: sections computed from one log as of one instant.

    ``str(report)`` is the plain-text form; ``to_html()`` / ``_repr_html_`` the HTML form.
    """

    as_of: Any
    sections: tuple[ReportSection, ...]

    def __str__(self) -> str:
        width = max((len(label) for s in self.sections for label, _ in s.rows), default=10)
        lines = [f"cxmodel CX report, as of {self.as_of:%Y-%m-%d %H:%M} UTC"]
        for section in self.sections:
            lines += ["", section.title, "-" * len(section.title)]
            lines += [f"  {label:<{width}}  {value}" for label, value in section.rows]
            if section.note:
                lines.append(f"  ({section.note})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Sections as nested dictionaries."""
        return {
            "as_of": self.as_of.isoformat(),
            "sections": {s.title: dict(s.rows) for s in self.sections},
        }

    def to_html(self) -> str:
        """A self-contained HTML page."""
        parts = [
            "<!doctype html><html><head><meta charset='utf-8'><title>CX report</title>",
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
            "td,th{padding:.2em .8em;text-align:left}th{color:#555}</style></head><body>",
            f"<h1>CX report</h1><p>as of {self.as_of:%Y-%m-%d %H:%M} UTC</p>",
        ]
        for section in self.sections:
            rows = "".join(
                f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                for label, value in section.rows
            )
            note = f"<p><small>{html.escape(section.note)}</small></p>" if section.note else ""
            parts.append(f"<h2>{html.escape(section.title)}</h2><table>{rows}</table>{note}")
        parts.append("</body></html>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def _overview(log: InteractionLog, as_of_us: int) -> ReportSection:
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
    last = np.maximum.reduceat(log.timestamps, log.offsets[:-1]) if len(log) else np.empty(0)
    active_90 = int(np.count_nonzero(last > as_of_us - 90 * 86_400 * 10**6))
    rows.append(
        ("active in last 90 days", f"{active_90:,} ({active_90 / max(log.n_customers, 1):.1%})")
    )
    if len(log.rejected):
        rows.append(("rejected rows", f"{len(log.rejected):,}"))
    return ReportSection("Overview", tuple(rows))


def _format_params(params: dict[str, float] | None) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in (params or {}).items())


def _value(log: InteractionLog, as_of: Any) -> ReportSection | None:
    from cxmodel.models import BetaGeo, GammaGamma, customer_lifetime_value, rfm_summary

    if not log.kind_mask("purchase").any():
        return None
    summary = rfm_summary(log, as_of=as_of, freq="W")
    revenue = (
        float(np.nansum(log.numeric("value")[log.kind_mask("purchase")])) if "value" in log else 0.0
    )
    rows = [
        ("buyers", f"{len(summary):,}"),
        (
            "repeat buyers",
            f"{int(np.count_nonzero(summary.frequency > 0)):,} "
            f"({np.mean(summary.frequency > 0):.1%})",
        ),
        ("revenue", f"{revenue:,.2f}"),
    ]
    model = BetaGeo()
    model.fit(summary)
    p_alive = model.probability_alive(summary.frequency, summary.recency, summary.T)
    expected = model.conditional_expected_purchases(
        52, summary.frequency, summary.recency, summary.T
    )
    rows += [
        ("BG/NBD parameters (weeks)", _format_params(model.params_)),
        ("mean P(alive)", f"{float(np.mean(p_alive)):.3f}"),
        ("expected purchases, next 52 weeks", f"{float(np.sum(expected)):,.0f}"),
    ]
    repeat = summary.frequency > 0
    if np.count_nonzero(repeat) >= 10:
        spend = GammaGamma()
        spend.fit(summary)
        clv = customer_lifetime_value(
            model, spend, summary, horizon=12, freq="M", discount_rate=0.01
        )
        top = np.argsort(clv.value)[::-1][:3]
        rows += [
            ("Gamma-Gamma parameters", _format_params(spend.params_)),
            ("12-month CLV, total (1 %/month)", f"{float(np.sum(clv.value)):,.2f}"),
            (
                "highest CLV customers",
                ", ".join(f"{clv.customer_id[i]} ({clv.value[i]:,.0f})" for i in top),
            ),
        ]
    return ReportSection(
        "Customer value", tuple(rows), "buy-till-you-die models fitted on this log"
    )


def _segments(log: InteractionLog, as_of: Any) -> ReportSection | None:
    from cxmodel.segment import rfm_scores, rfm_segments

    if not log.kind_mask("purchase").any():
        return None
    segments = rfm_segments(rfm_scores(log, as_of=as_of))
    names, counts = np.unique(segments.labels.astype(str), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    total = int(counts.sum())
    rows = tuple((str(names[i]), f"{counts[i]:,} ({counts[i] / total:.1%})") for i in order)
    return ReportSection("RFM segments", rows, "default R x F map, quintile scores")


def _quietly(compute: Callable[[], Any]) -> tuple[Any, str]:
    """Run a metric; a small-sample warning becomes a note on the report line, not a warning."""
    from cxmodel.metrics import SmallSampleWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SmallSampleWarning)
        result = compute()
    small = any(issubclass(w.category, SmallSampleWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, SmallSampleWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, ("; small sample, interval unreliable" if small else "")


def _surveys(log: InteractionLog, as_of: Any) -> ReportSection | None:
    from cxmodel.metrics import CESResult, NPSResult, ProportionResult, ces, csat, nps

    if "metric" not in log or "score" not in log:
        return None
    surveys = log.filter(log.kind_mask("survey") & (log.timestamps <= to_us(as_of)))
    if len(surveys) == 0:
        return None
    codes, metrics = surveys.categorical("metric")
    present = set(metrics[np.unique(codes[codes >= 0])].tolist())
    rows: list[tuple[str, str]] = []
    if "nps" in present:
        result, small = _quietly(lambda: nps(surveys))
        assert isinstance(result, NPSResult)
        rows.append(
            (
                "NPS",
                f"{result.value:+.1f} (95 % CI {result.ci[0]:+.1f} .. {result.ci[1]:+.1f}; "
                f"n {result.n:,}: {result.promoters:,} promoters, {result.passives:,} passives, "
                f"{result.detractors:,} detractors{small})",
            )
        )
    if "csat" in present:
        share, small = _quietly(lambda: csat(surveys))
        assert isinstance(share, ProportionResult)
        rows.append(
            (
                "CSAT (4-5 of 5)",
                f"{share.value:.1%} (95 % CI {share.ci[0]:.1%} .. {share.ci[1]:.1%}; "
                f"n {share.n:,}{small})",
            )
        )
    if "ces" in present:
        effort, small = _quietly(lambda: ces(surveys))
        assert isinstance(effort, CESResult)
        rows.append(
            (
                "CES (5-7 of 7 agree)",
                f"{effort.value:.1%} (95 % CI {effort.ci[0]:.1%} .. "
                f"{effort.ci[1]:.1%}; n {effort.n:,}{small})",
            )
        )
    if not rows:
        return None
    return ReportSection("Survey scores", tuple(rows), "Wald interval for NPS, Wilson for shares")


def _journeys(log: InteractionLog, as_of: Any) -> ReportSection | None:
    from cxmodel.journey import funnel

    steps = ("product_view", "add_to_cart", "checkout", "purchase")
    if not all(log.kind_mask(step).any() for step in steps):
        return None
    result = funnel(log.between(end=as_of), steps, window="7d")
    rows = tuple(
        (step, f"{int(count):,} customers ({rate:.1%} of the first step)")
        for step, count, rate in zip(result.steps, result.counts, result.conversion)
    )
    return ReportSection(
        "Purchase funnel", rows, "loose order, all steps within 7 days of the product view"
    )


REPORT_RULES = ("churn_risk", "detractor_follow_up", "vip_opportunity")
"""The rules of :data:`cxmodel.triggers.EXAMPLE_RULES` behind the report's "act now" section."""


def _actions(log: InteractionLog, as_of: Any) -> ReportSection | None:
    from cxmodel.triggers import EXAMPLE_RULES, RuleSet, evaluate, parse

    rules = RuleSet(tuple(parse(EXAMPLE_RULES)[name] for name in REPORT_RULES))
    firings = evaluate(rules, log, as_of=as_of)
    since = as_of - timedelta(days=30)
    recent: dict[str, set[str]] = {name: set() for name in rules.names}
    for firing in firings:
        if firing.time > since:
            recent[firing.trigger].add(firing.customer_id)
    rows = tuple(
        (name, f"{len(customers):,} customers in the last 30 days")
        for name, customers in recent.items()
    )
    return ReportSection(
        "Act now (triggers)",
        rows,
        "example rules named in cxmodel.report.REPORT_RULES, evaluated as of the report",
    )


SECTION_BUILDERS: tuple[Callable[[InteractionLog, Any], ReportSection | None], ...] = (
    _surveys,
    _value,
    _segments,
    _journeys,
    _actions,
)


def cx_report(log: InteractionLog, *, as_of: TimeLike | None = None) -> CXReport:
    """Compute the CX report of ``log`` as of ``as_of`` (default: the log's last interaction).

    Sections that do not apply to the data (no purchases, no surveys, ...) are left out.

    Raises
    ------
    DataError
        When the log is empty.
    """
    if len(log) == 0:
        raise DataError("cx_report() needs a log with at least one interaction")
    as_of_us = int(log.timestamps.max()) if as_of is None else to_us(as_of, what="as_of")
    when = us_to_datetime(as_of_us)
    sections = [_overview(log, as_of_us)]
    for build in SECTION_BUILDERS:
        section = build(log, when)
        if section is not None:
            sections.append(section)
    return CXReport(when, tuple(sections))
