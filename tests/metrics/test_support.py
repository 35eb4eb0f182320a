"""Tests for ticket lifecycles and support metrics on a hand-built log."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    first_contact_resolution,
    one_touch_rate,
    sentiment_by_topic,
    ticket_lifecycles,
    ticket_times,
    ticket_volume,
)
from tests.metrics.helpers import ticket_log

HOUR = 3_600_000_000


class TestLifecycles:
    def test_censored_resolution(self) -> None:
        """Open tickets are censored at as_of (224h): t3 at 224h, t4 at 24h."""
        t = ticket_times(ticket_lifecycles(ticket_log()), "full_resolution")
        assert t.censored == 2
        assert t.curve.times.tolist() == [3, 10, 24, 224]
        assert t.curve.survival.tolist() == pytest.approx([0.75, 0.5, 0.5, 0.5])
        assert t.median == 10.0 and math.isinf(t.percentiles[0.9])

    def test_median_at_an_exact_half(self) -> None:
        """Six tickets resolved after 1..6 hours: half are resolved by hour 3, so the median
        is 3 h (S(3) = 0.5 exactly; rounding in the product made it 4 h)."""
        hours = [f"2024-01-01T0{h}:00Z" for h in range(1, 7)]
        log = InteractionLog.from_arrays(
            customer_id=[f"c{i}" for i in range(6)] * 2,
            ticket_id=[f"t{i}" for i in range(6)] * 2,
            kind=["ticket_opened"] * 6 + ["ticket_resolved"] * 6,
            timestamp=["2024-01-01T00:00Z"] * 6 + hours,
        )
        assert ticket_times(ticket_lifecycles(log)).median == 3.0

    def test_rates(self) -> None:
        """One-touch: t1 of {t1, t2}; first-contact resolution: t1 (t2 was reopened)."""
        lc = ticket_lifecycles(ticket_log())
        assert (one_touch_rate(lc).numerator, one_touch_rate(lc).n) == (1, 2)
        assert first_contact_resolution(lc).value == 0.5

    @pytest.mark.parametrize(
        "rate", [one_touch_rate, first_contact_resolution], ids=["one-touch", "fcr"]
    )
    def test_no_resolved_ticket_warns(self, rate: Any) -> None:
        """No resolved ticket: NaN with n = 0 and a DataWarning naming the rate, never a quiet
        NaN; the same with by= (a table without rows)."""
        log = ticket_log()
        open_only = ticket_lifecycles(log.filter(~log.kind_mask("ticket_resolved")))
        name = rate.__name__
        with pytest.warns(DataWarning, match=rf"^{name}\(\): 0 items in the denominator"):
            r = rate(open_only)
        assert math.isnan(r.value) and r.n == 0
        with pytest.warns(DataWarning, match=rf"^{name}\(\): 0 items"):
            t = rate(open_only, by="topic")
        assert len(t["n"]) == 0


class TestBreakdowns:
    def test_times_by_topic(self) -> None:
        """One Kaplan-Meier curve per topic, censored at the log's end (224h): billing = t1
        (3h) and t3 (open), delivery = t2 (10h) and t4 (open for 24h)."""
        t = ticket_times(ticket_lifecycles(ticket_log()), "full_resolution", by="topic")
        assert t["topic"].tolist() == ["billing", "delivery"]
        assert t["n"].tolist() == [2, 2] and t["censored"].tolist() == [1, 1]
        assert t["median"].tolist() == [3.0, 10.0]
        assert t["p90"].tolist() == [math.inf, math.inf]

    def test_times_by_period(self) -> None:
        """period= is the calendar period of the opening."""
        t = ticket_times(ticket_lifecycles(ticket_log()), "first_reply", period="day")
        days = t["period"].tolist()
        assert days == [f"2024-01-0{d}" for d in range(1, 10)]  # quiet days are rows of n = 0
        assert t["n"].tolist() == [3, 0, 0, 0, 0, 0, 0, 0, 1]
        assert t["median"][0] == 2.0 and t["median"][-1] == math.inf
        assert np.isnan(t["median"][1:-1]).all()

    def test_filtering_first_keeps_the_censoring_time(self) -> None:
        """Filtering the log to one topic keeps its observation end, so open tickets are
        censored where they are in the whole log (not at the topic's last row, 5h)."""
        log = ticket_log()
        billing = log.filter(log.column("topic") == "billing")
        assert billing.observed_until == log.observed_until == int(log.timestamps.max())
        whole = ticket_lifecycles(log)
        part = ticket_lifecycles(billing)
        assert part.as_of == whole.as_of == int(log.timestamps.min()) + 224 * HOUR
        alone = ticket_times(part, "full_resolution")
        grouped = ticket_times(whole, "full_resolution", by="topic")
        assert alone.curve.times.tolist() == [3.0, 224.0]
        assert alone.median == grouped["median"][0] and alone.n == grouped["n"][0]
        # between(end=...) cuts the observation at end: t3 is then censored at 4h
        early = log.between(end=np.datetime64("2024-01-01T04:00", "us"))
        assert early.observed_until == int(log.timestamps.min()) + 4 * HOUR
        assert ticket_times(ticket_lifecycles(early), "full_resolution").censored == 2

    def test_rates_by_topic_and_period(self) -> None:
        """One-touch and FCR per topic (over resolved tickets) and per opening day."""
        lc = ticket_lifecycles(ticket_log())
        one = one_touch_rate(lc, by="topic")
        assert one["topic"].tolist() == ["billing", "delivery"]
        assert one["numerator"].tolist() == [1, 0] and one["n"].tolist() == [1, 1]
        fcr = first_contact_resolution(lc, by="topic", period="day")
        assert fcr["period"].tolist() == ["2024-01-01", "2024-01-01"]
        assert fcr["value"].tolist() == [1.0, 0.0]
        assert fcr["ci_low"][0] < 1.0 == fcr["ci_high"][0]
        daily = one_touch_rate(lc, period="day")
        assert daily["period"].tolist() == ["2024-01-01"] and daily["value"].tolist() == [0.5]

    def test_labels_fall_back_to_the_first_row_with_a_value(self) -> None:
        """The opening row carries no agent: a ticket takes its first replying agent, and
        '(missing)' without one; labels may also be given per ticket."""
        lc = ticket_lifecycles(ticket_log())
        assert lc.labels("agent").tolist() == ["x", "y", "x", "(missing)"]
        t = one_touch_rate(lc, by="agent")
        assert t["agent"].tolist() == ["x", "y"] and t["value"].tolist() == [1.0, 0.0]
        mine = one_touch_rate(lc, by=["p", "q", "p", None])
        assert mine["by"].tolist() == ["p", "q"]

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"by": "agnt"}, "did you mean 'agent'"),
            ({"by": ["a", "b"]}, "2 labels for 4 tickets"),
            ({"period": "fortnight"}, "period must be one of"),
        ],
        ids=["unknown-column", "short-labels", "bad-period"],
    )
    def test_bad_breakdowns(self, kwargs: dict[str, object], match: str) -> None:
        lc = ticket_lifecycles(ticket_log())
        with pytest.raises(SchemaError, match=match):
            first_contact_resolution(lc, **kwargs)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("percentiles", "match"),
        [
            ((50,), r"got 50.0; did you mean 0\.5\?"),
            ((0.5, 90), r"got 90.0; did you mean 0\.9\?"),
            ((0.0,), r"in \(0, 1\], e.g. .*; got 0.0$"),
            ((-0.1,), "got -0.1$"),
            ((float("nan"),), "got nan$"),
        ],
        ids=["percent", "percent-after-a-share", "zero", "negative", "nan"],
    )
    def test_percentiles_are_shares(self, percentiles: tuple[float, ...], match: str) -> None:
        """A percentile outside (0, 1] is refused: 50 read as a share is never reached and
        used to come out as an inf 'p5000' column."""
        lc = ticket_lifecycles(ticket_log())
        with pytest.raises(SchemaError, match=match):
            ticket_times(lc, percentiles=percentiles, by="topic")


class TestVolumeAndSentiment:
    def test_volume(self) -> None:
        """Opened tickets by topic and day."""
        t = ticket_volume(ticket_log(), period="day")
        days = [f"2024-01-0{d}" for d in range(1, 10)]
        assert t["topic"].tolist() == ["billing"] * 9 + ["delivery"] * 9
        assert t["period"].tolist() == days * 2
        assert t["tickets"].tolist() == [2] + [0] * 8 + [1] + [0] * 7 + [1]

    def test_volume_quiet_periods_are_zero(self) -> None:
        """A month without tickets is a row of 0, in each group: it used to be left out, so the
        mean monthly volume of January-March (3 tickets) read 1.5 instead of 1."""
        log = InteractionLog.from_arrays(
            customer_id=list("abc"),
            timestamp=["2024-01-02T00:00Z", "2024-01-03T00:00Z", "2024-03-31T23:30Z"],
            kind=["ticket_opened"] * 3,
            topic=["refund", None, "refund"],
        )
        t = ticket_volume(log, period="month")
        assert t["topic"].tolist() == ["refund"] * 3 + ["(missing)"] * 3
        assert t["period"].tolist() == ["2024-01", "2024-02", "2024-03"] * 2
        assert t["tickets"].tolist() == [1, 0, 1, 1, 0, 0]
        # 23:30 UTC on 31 March is 1 April in Paris: April becomes a period of its own
        paris = ticket_volume(log, period="month", timezone="Europe/Paris")
        assert paris["period"].tolist()[:4] == ["2024-01", "2024-02", "2024-03", "2024-04"]
        assert paris["tickets"].tolist()[:4] == [1, 0, 0, 1]

    def test_volume_without_tickets_warns(self) -> None:
        """A log without ticket_opened rows gives an empty table with a warning, not quietly."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-02T00:00Z"], ["view"], topic=["x"])
        with pytest.warns(DataWarning, match="'ticket_opened' does not occur"):
            t = ticket_volume(log)
        assert len(t) == 0

    def test_sentiment(self) -> None:
        """Mean sentiment of ticket rows by topic with a t-interval."""
        t = sentiment_by_topic(ticket_log())
        assert t["topic"].tolist() == ["billing", "delivery"]
        assert t["n"].tolist() == [3, 2]
        assert t["mean"].tolist() == pytest.approx([0.0, -0.5])
        assert t["ci_low"][0] < 0 < t["ci_high"][0]


def test_ticket_times_of_a_log_points_to_ticket_lifecycles() -> None:
    from cxmodel.errors import ValueTypeError
    from cxmodel.log import InteractionLog
    from cxmodel.metrics import ticket_times

    log = InteractionLog.from_records(
        [{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "ticket_opened"}]
    )
    with pytest.raises(ValueTypeError, match=r"pass ticket_lifecycles\(log\)"):
        ticket_times(log)  # type: ignore[arg-type]
