"""Tests for ticket lifecycles and support metrics on a hand-built log."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    first_contact_resolution,
    one_touch_rate,
    sentiment_by_topic,
    ticket_lifecycles,
    ticket_times,
    ticket_volume,
)


def _log() -> InteractionLog:
    """t1: reply at 1h, resolved at 3h. t2: 2 replies, resolved at 4h, reopened, resolved at
    10h. t3: reply at 5h, still open at as_of (24h). t4: opened, nothing else."""
    rows = [
        ("a", "t1", "ticket_opened", 0, "billing", -0.5),
        ("a", "t1", "ticket_replied", 1, "billing", None),
        ("a", "t1", "ticket_resolved", 3, "billing", 0.5),
        ("b", "t2", "ticket_opened", 0, "delivery", -1.0),
        ("b", "t2", "ticket_replied", 2, "delivery", None),
        ("b", "t2", "ticket_replied", 3, "delivery", None),
        ("b", "t2", "ticket_resolved", 4, "delivery", 0.0),
        ("b", "t2", "ticket_resolved", 10, "delivery", None),
        ("c", "t3", "ticket_opened", 0, "billing", 0.0),
        ("c", "t3", "ticket_replied", 5, "billing", None),
        ("d", "t4", "ticket_opened", 200, "delivery", None),
        ("d", None, "login", 24 + 200, None, None),
    ]
    base = np.datetime64("2024-01-01T00:00:00", "us")
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        ticket_id=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        timestamp=np.array([base + np.timedelta64(r[3], "h") for r in rows]),
        topic=[r[4] for r in rows],
        sentiment=[np.nan if r[5] is None else r[5] for r in rows],
    )


class TestLifecycles:
    def test_times(self) -> None:
        """First reply, first and full resolution in hours; NaN when the event is missing."""
        lc = ticket_lifecycles(_log())
        assert lc.ticket_id.tolist() == ["t1", "t2", "t3", "t4"]
        assert lc.customer_id.tolist() == ["a", "b", "c", "d"]
        np.testing.assert_array_equal(lc.first_reply, [1, 2, 5, np.nan])
        np.testing.assert_array_equal(lc.first_resolution, [3, 4, np.nan, np.nan])
        np.testing.assert_array_equal(lc.full_resolution, [3, 10, np.nan, np.nan])
        assert lc.replies.tolist() == [1, 2, 1, 0]

    def test_censored_resolution(self) -> None:
        """Open tickets are censored at as_of (224h): t3 at 224h, t4 at 24h."""
        t = ticket_times(ticket_lifecycles(_log()), "full_resolution")
        assert t.censored == 2
        assert t.curve.times.tolist() == [3, 10, 24, 224]
        assert t.curve.survival.tolist() == pytest.approx([0.75, 0.5, 0.5, 0.5])
        assert t.median == 10.0 and math.isinf(t.percentiles[0.9])

    def test_rates(self) -> None:
        """One-touch: t1 of {t1, t2}; first-contact resolution: t1 (t2 was reopened)."""
        lc = ticket_lifecycles(_log())
        assert (one_touch_rate(lc).numerator, one_touch_rate(lc).n) == (1, 2)
        assert first_contact_resolution(lc).value == 0.5

    def test_bad_arguments(self) -> None:
        """Unknown columns and time names raise SchemaError."""
        with pytest.raises(SchemaError, match="ticket_column 'case'"):
            ticket_lifecycles(_log(), ticket_column="case")
        with pytest.raises(SchemaError, match="which must be one of"):
            ticket_times(ticket_lifecycles(_log()), "handle")


class TestVolumeAndSentiment:
    def test_volume(self) -> None:
        """Opened tickets by topic and day."""
        t = ticket_volume(_log(), period="day")
        assert t["topic"].tolist() == ["billing", "delivery", "delivery"]
        assert t["period"].tolist() == ["2024-01-01", "2024-01-01", "2024-01-09"]
        assert t["tickets"].tolist() == [2, 1, 1]

    def test_sentiment(self) -> None:
        """Mean sentiment of ticket rows by topic with a t-interval."""
        t = sentiment_by_topic(_log())
        assert t["topic"].tolist() == ["billing", "delivery"]
        assert t["n"].tolist() == [3, 2]
        assert t["mean"].tolist() == pytest.approx([0.0, -0.5])
        assert t["ci_low"][0] < 0 < t["ci_high"][0]
