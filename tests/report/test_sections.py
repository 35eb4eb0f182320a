"""Tests of the report's sections: each is left out with a reason when the data cannot support
it, its numbers agree with the analyses it rests on, and its figures of speech are exact."""

from __future__ import annotations

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import DataError
from cxmodel.report import CXReport, cx_report
from cxmodel.report._sections import _duration, _n, _pct, _plural, _share
from tests.report.helpers import section_of


def _only(log: cx.InteractionLog, kinds: tuple[str, ...]) -> cx.InteractionLog:
    mask = np.zeros(len(log), dtype=bool)
    for kind in kinds:
        mask |= log.kind_mask(kind)
    return log.filter(mask)


class TestLeftOut:
    @pytest.mark.parametrize(
        ("kinds", "present", "absent"),
        [
            pytest.param(
                ("purchase",),
                {"Customer value", "Cohort retention", "RFM segments and personas"},
                {"NPS over time", "Purchase funnel", "Experience drivers", "Friction points"},
                id="only-purchases",
            ),
            pytest.param(
                ("survey",),
                {"Key indicators", "NPS over time"},
                {"Customer value", "RFM segments and personas", "Purchase funnel"},
                id="only-surveys",
            ),
            pytest.param(
                ("view", "product_view", "search", "add_to_cart", "checkout"),
                {"Common next steps", "Friction points"},
                {"Customer value", "NPS over time", "Purchase funnel", "Cohort retention"},
                id="only-clickstream",
            ),
        ],
    )
    def test_partial_logs(
        self,
        world_log: cx.InteractionLog,
        kinds: tuple[str, ...],
        present: set[str],
        absent: set[str],
    ) -> None:
        """A log with one family of interactions gets its sections; the rest are left out
        with a one-line reason each, in the text and in the page."""
        report = cx_report(_only(world_log, kinds))
        titles = {s.title for s in report.sections}
        assert present <= titles
        assert not absent & titles
        reasons = {item.title: item.reason for item in report.left_out}
        assert absent <= set(reasons)
        assert all(reason and "\n" not in reason for reason in reasons.values())
        assert "Left out" in str(report)
        page = report.to_html()
        assert all(f"id='left-out-{item.key}'" in page for item in report.left_out)

    def test_no_purchases_or_surveys(self) -> None:
        """Two views: an overview, the triggers and reasons for everything else."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "b"], timestamp=[0, 86_400], kind=["view", "login"]
        )
        report = cx_report(log)
        assert [s.title for s in report.sections] == ["Overview", "Act now (triggers)"]
        reasons = {item.title: item.reason for item in report.left_out}
        assert reasons["Customer value"] == "the log has no purchases"
        assert "no survey answers" in reasons["Key indicators"]

    def test_surveys_without_nps_answers(self) -> None:
        """Survey rows that answer only CSAT, and NPS rows without a score: the analyses now
        refuse a log with no answer to their metric, so the NPS sections must be left out with
        their reason (not fail), and the CSAT card still shows."""
        days = [f"2024-0{m}-0{d}T00:00Z" for m in range(1, 4) for d in range(1, 5)]
        n = len(days)
        log = cx.InteractionLog.from_arrays(
            customer_id=[f"c{i % 4}" for i in range(n)] * 3,
            timestamp=days * 3,
            kind=["purchase"] * n + ["view"] * n + ["survey"] * n,
            value=[10.0] * n + [None] * 2 * n,
            metric=[None] * 2 * n + ["csat"] * (n - 2) + ["nps"] * 2,
            score=[None] * 2 * n + [4.0, 2.0] * ((n - 2) // 2) + [None] * 2,
        )  # fmt: skip
        report = cx_report(log)
        reasons = {item.title: item.reason for item in report.left_out}
        assert reasons["NPS over time"] == "the log has no NPS answers"
        assert reasons["Experience drivers"] == "the log has no NPS answers"
        indicators = section_of(report, "Key indicators")
        assert indicators.cards[0].label.startswith("CSAT")
        assert "NPS over time" in report.to_html()

    def test_rfm_of_too_few_buyers_is_left_out(self) -> None:
        """One buyer, who bought today, is no 'Hibernating' segment: the section says why."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a"] * 3,
            timestamp=["2024-01-02T00:00Z", "2024-02-02T00:00Z", "2024-03-02T00:00Z"],
            kind=["purchase"] * 3,
            value=[10.0, 20.0, 30.0],
        )
        report = cx_report(log)
        reasons = {item.title: item.reason for item in report.left_out}
        assert reasons["RFM segments and personas"] == (
            "only 1 buyer; quintile scores need at least 5 to rank"
        )
        assert str(report).startswith("cxmodel CX report")
        assert "1 customer and 3 interactions" in str(report)

    def test_rfm_of_buyers_who_all_tie_is_left_out(self) -> None:
        """Six buyers with one purchase each at one instant: every score ties, no segments."""
        log = cx.InteractionLog.from_arrays(
            customer_id=list("abcdef"),
            timestamp=["2024-01-02T00:00Z"] * 6,
            kind=["purchase"] * 6,
            value=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        )
        reasons = {item.title: item.reason for item in cx_report(log).left_out}
        assert (
            "all 6 buyers tie on both recency and frequency" in reasons["RFM segments and personas"]
        )

    def test_trigger_rules_the_log_cannot_run_are_named(self) -> None:
        """Purchases without an order id: the rules reading it are named with the reason and
        the other rules still run (the section was left out as '4 errors:')."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "a", "b"],
            timestamp=["2024-01-02T00:00Z", "2024-02-02T00:00Z", "2024-03-02T00:00Z"],
            kind=["purchase"] * 3,
            value=[10.0, 20.0, 30.0],
        )
        section = section_of(cx_report(log), "Act now (triggers)")
        assert "not evaluated: vip_opportunity (unknown property 'p.order_id')" in section.note
        assert "satisfaction_check" in section.note
        assert {"churn_risk", "detractor_follow_up"} <= set(dict(section.rows))
        assert "vip_opportunity" not in dict(section.rows)

    def test_rules_on_kinds_the_log_lacks_say_they_cannot_fire(self) -> None:
        """A purchase-only log: a rule anchored on surveys cannot fire, and the section says
        so instead of "0 customers" (which reads as checked and found no one)."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "a", "b"],
            timestamp=["2024-01-02T00:00Z", "2024-02-02T00:00Z", "2024-03-02T00:00Z"],
            kind=["purchase"] * 3,
            value=[10.0, 20.0, 30.0],
        )
        section = section_of(cx_report(log), "Act now (triggers)")
        rows = dict(section.rows)
        assert rows["detractor_follow_up"] == "cannot fire: the log has no survey interactions"
        assert rows["browse_abandonment"] == (
            "cannot fire: the log has no product_view interactions"
        )
        assert rows["churn_risk"].endswith("customers in the last 30 days")

    def test_misspelt_kinds_are_named_with_the_mapping(self) -> None:
        """An export whose purchases are 'Purchase' and 'purchse' has no 'purchase': the
        overview names the look-alikes with their counts and each section left out for want
        of purchases says which kinds to map, instead of a bare "no purchases"."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "c"],
            timestamp=[0, 86_400, 2 * 86_400, 3 * 86_400],
            kind=["Purchase", "purchse", "Purchase", "view"],
            value=[5.0, 6.0, 7.0, float("nan")],
        )
        report = cx_report(log)
        overview = dict(section_of(report, "Overview").rows)
        assert overview["kinds like standard ones"] == (
            "'Purchase' (2) is not 'purchase'; 'purchse' (1) is not 'purchase'"
        )
        reasons = {item.title: item.reason for item in report.left_out}
        assert reasons["Customer value"] == (
            "the log has no purchases (but it has 'Purchase', 'purchse': read it with "
            "kinds={'Purchase': 'purchase', 'purchse': 'purchase'} if they are the same)"
        )

    def test_kinds_of_their_own_are_not_look_alikes(self, world_log: cx.InteractionLog) -> None:
        """The bundled world's kinds raise no look-alike line."""
        overview = dict(section_of(cx_report(world_log), "Overview").rows)
        assert "kinds like standard ones" not in overview

    def test_empty_log_is_an_error(self) -> None:
        """An empty log cannot be reported on."""
        empty = cx.InteractionLog.from_arrays(customer_id=[], timestamp=[], kind=[])
        with pytest.raises(DataError, match="at least one interaction"):
            cx_report(empty)

    def test_as_of_before_the_log_is_an_error(self, world_log: cx.InteractionLog) -> None:
        """A report date before the first interaction says so."""
        with pytest.raises(DataError, match="at or before as_of"):
            cx_report(world_log, as_of="2000-01-01T00:00:00Z")


def test_cdnow_value_with_zero_spend_buyers(cdnow_report: CXReport) -> None:
    """CDNOW has repeat buyers whose purchases are worth 0: the value section keeps them out of
    the spend model, says so, and the report is built."""
    report = cdnow_report
    value = section_of(report, "Customer value")
    assert "worth 0 left out of the lifetime value" in value.note
    assert "expected value of today's buyers, 12 months" in dict(value.rows)
    assert {"NPS over time", "Purchase funnel"} <= {item.title for item in report.left_out}


def test_churn_risk_count_matches_gap_rule(
    world_log: cx.InteractionLog, world_report: CXReport
) -> None:
    """'churn_risk' customers are those with a 90-day silence ending in the report's last 30 days."""
    line = dict(section_of(world_report, "Act now (triggers)").rows)["churn_risk"]
    as_of = int(world_log.timestamps.max())
    day = 86_400 * 10**6
    t = world_log.timestamps
    codes = world_log.customer_codes
    nxt = np.append(t[1:], np.iinfo(np.int64).max)
    last_of_customer = np.append(codes[1:] != codes[:-1], True)
    nxt[last_of_customer] = np.iinfo(np.int64).max
    due = t + 90 * day
    fires = (nxt > due) & (due <= as_of) & (due > as_of - 30 * day)
    expected = np.unique(codes[fires]).size
    assert line == f"{expected:,} customers in the last 30 days"


class TestNPSTrend:
    def test_months_without_answers_and_small_months(self) -> None:
        """A month between answers says 'no answers' (not '+nan'), and a change between months
        of a handful of answers gives their sizes and says it may be chance."""
        months = ["2024-01-15T00:00Z", "2024-01-16T00:00Z", "2024-03-15T00:00Z"]
        log = cx.InteractionLog.from_arrays(
            customer_id=["a", "b", "c"],
            timestamp=months,
            kind=["survey"] * 3,
            metric=["nps"] * 3,
            score=[0.0, 2.0, 10.0],
        )
        section = section_of(cx_report(log), "NPS over time")
        assert dict(section.rows)["2024-02"] == "no answers"
        assert section.lead == (
            "NPS went from -100 in 2024-01 to +100 in 2024-03 (+200 points), on 2 and 1 "
            "answers: fewer than two months have 30 answers, so the change may be chance."
        )


class TestWording:
    @pytest.mark.parametrize(
        ("seconds", "expected"),
        [(float("inf"), "-"), (59.4, "59 seconds"), (60.0, "1 minute"), (5_400.0, "2 hours"),
         (86_400.0 * 3, "3 days")],
        ids=["unknown", "seconds", "one-minute", "hours-rounded", "days"],
    )  # fmt: skip
    def test_duration(self, seconds: float, expected: str) -> None:
        """A duration reads in its largest whole unit, rounded, singular for one."""
        assert expected == _duration(seconds)

    def test_numbers_and_shares(self) -> None:
        """Counts get thousands separators; a share of nothing is just the count."""
        assert _n(12_345.6) == "12,346"
        assert _pct(0.125) == "12.5%"
        assert _pct(0.126, digits=0) == "13%"
        assert _share(1_200, 4_800) == "1,200 (25.0%)"
        assert _share(3, 0) == "3"
        assert (_plural(1, "answer"), _plural(2, "answer")) == ("1 answer", "2 answers")


def _cards(report: CXReport) -> dict[str, cx.report.KPI]:
    return {card.label: card for card in section_of(report, "Key indicators").cards}


def test_churn_counts_a_return_at_the_report_time() -> None:
    """The churn and retention cards count activity at the report's own time: of the two
    customers active before the last 90 days, the one who came back only at as_of (the data's
    last day) came back, so churn is 1 of 2, not 2 of 2."""
    days = np.array(["2024-01-01", "2024-04-01", "2024-04-15", "2024-07-30"])
    log = cx.InteractionLog.from_arrays(
        customer_id=np.array(["c", "a", "b", "b"]),
        timestamp=days.astype("datetime64[D]").astype("datetime64[us]"),
        kind=np.full(4, "purchase"),
    )
    cards = _cards(cx_report(log))  # as of 2024-07-30, the last interaction
    churn, kept = cards["Churn, last 90 days"], cards["Retention, last 90 days"]
    assert (churn.value, kept.value) == ("50.0%", "50.0%")
    assert churn.detail.startswith("1 of 2 customers")


@pytest.fixture(scope="module")
def cdnow_report() -> CXReport:
    return cx_report(cx.datasets.cdnow())


def test_cdnow_churn_card(cdnow_report: CXReport) -> None:
    """CDNOW as of its last day: 2,057 of the 3,817 customers active in the 90 days before
    1998-04-01 did not come back by 1998-06-30 (the 4 who came back on that day did)."""
    cards = _cards(cdnow_report)
    assert cards["Churn, last 90 days"].detail.startswith("2,057 of 3,817 customers")
    assert cards["Retention, last 90 days"].detail.startswith("1,760 of 3,817 customers")


def test_cdnow_probability_alive_of_repeat_buyers(cdnow_report: CXReport) -> None:
    """BG/NBD counts each of CDNOW's 11,908 one-time buyers as certainly active; the section
    gives the probability of being active for the 11,350 repeat buyers (61 %, 3,723 more likely
    gone), not an 81 % average lifted by one-time buyers of 15 months before."""
    value = section_of(cdnow_report, "Customer value")
    rows = dict(value.rows)
    assert rows["probability still active, average repeat buyer"] == "61%"
    assert rows["repeat buyers more likely gone than active"] == "3,723 (32.8%)"
    assert "3,723 of 11,350 repeat buyers are more likely gone" in value.lead
    assert "one-time buyer" in value.note


def _as_lines(log: cx.InteractionLog) -> cx.InteractionLog:
    """``log`` with every third purchase written as two lines of half its value (same customer,
    instant and order_id), as a line-item export writes an order."""
    import pandas as pd

    frame = log.to_pandas()
    split = np.flatnonzero(frame["kind"].to_numpy() == "purchase")[::3]
    frame.loc[split, "value"] = frame.loc[split, "value"] / 2
    return cx.InteractionLog.from_pandas(pd.concat([frame, frame.iloc[split]], ignore_index=True))


def test_orders_are_counted_and_the_notes_say_so(
    world_log: cx.InteractionLog, world_report: CXReport
) -> None:
    """Repeat purchase, RFM segments and the VIP contrast count orders, not lines: the same as
    on the log without lines, with a note saying how many rows are how many orders, in the text
    and the page; no warning about lines becomes a note."""
    lined = _as_lines(world_log)
    assert lined.orders() == world_log
    report = cx_report(lined)
    purchases = int(np.count_nonzero(lined.kind_mask("purchase")))
    orders = int(np.count_nonzero(world_log.kind_mask("purchase")))
    said = f"purchases counted as orders: {purchases:,} purchase rows are {orders:,} orders"
    for title in ("Key indicators", "RFM segments and personas", "VIPs vs churned customers"):
        got, expected = section_of(report, title), section_of(world_report, title)
        assert got.cards == expected.cards and got.rows == expected.rows, title
        assert got.note.startswith(expected.note) and said in got.note, title
    assert said in str(report) and said in report.to_html(figures=False)
    assert "further lines" not in str(report)
    assert "purchases counted as orders" not in str(world_report)
