"""Ticket lifecycles: first reply, first and full resolution and replies per ticket, from a
hand-built log."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import (
    first_contact_resolution,
    one_touch_rate,
    ticket_lifecycles,
    ticket_times,
)
from tests.metrics.helpers import ticket_log


class TestLifecycles:
    def test_times(self) -> None:
        """First reply, first and full resolution in hours; NaN when the event is missing."""
        lc = ticket_lifecycles(ticket_log())
        assert lc.ticket_id.tolist() == ["t1", "t2", "t3", "t4"]
        assert lc.customer_id.tolist() == ["a", "b", "c", "d"]
        np.testing.assert_array_equal(lc.first_reply, [1, 2, 5, np.nan])
        np.testing.assert_array_equal(lc.first_resolution, [3, 4, np.nan, np.nan])
        np.testing.assert_array_equal(lc.full_resolution, [3, 10, np.nan, np.nan])
        assert lc.replies.tolist() == [1, 2, 1, 0]

    def test_bad_arguments(self) -> None:
        """Unknown columns and time names raise SchemaError."""
        with pytest.raises(SchemaError, match="ticket_column 'case'"):
            ticket_lifecycles(ticket_log(), ticket_column="case")
        with pytest.raises(SchemaError, match="which must be one of"):
            ticket_times(ticket_lifecycles(ticket_log()), "handle")


def _log(rows: list[tuple[str, str, str, str]]) -> InteractionLog:
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        ticket_id=[r[1] for r in rows],
        kind=[r[2] for r in rows],
        timestamp=[r[3] for r in rows],
    )


class TestAwkwardExports:
    def test_resolution_before_opening_counts_at_the_opening(self) -> None:
        """A resolution a minute before the opening (two clocks) was a negative time that
        ticket_times refused as 'durations[0] = -0.0166'; it counts at 0 h, with a warning."""
        log = _log(
            [
                ("a", "t1", "ticket_opened", "2024-01-01T10:00Z"),
                ("a", "t1", "ticket_resolved", "2024-01-01T09:59Z"),
                ("b", "t2", "ticket_opened", "2024-01-01T10:00Z"),
                ("b", "t2", "ticket_resolved", "2024-01-01T12:00Z"),
            ]
        )
        with pytest.warns(
            DataWarning, match=r"1 ticket_replied/ticket_resolved row\(s\) .* 1.0 min"
        ):
            lc = ticket_lifecycles(log)
        assert lc.first_resolution.tolist() == [0.0, 2.0]
        assert ticket_times(lc).curve.times.tolist() == [0.0, 2.0]

    def test_reply_before_opening_is_not_lost(self) -> None:
        """A ticket whose only reply is stamped before its opening was 'never replied'
        (replies 0, one-touch); the reply counts at 0 h."""
        log = _log(
            [
                ("a", "t1", "ticket_opened", "2024-01-01T10:00:30Z"),
                ("a", "t1", "ticket_replied", "2024-01-01T10:00Z"),
                ("a", "t1", "ticket_resolved", "2024-01-01T11:00Z"),
            ]
        )
        with pytest.warns(DataWarning, match="by up to 30 seconds"):
            lc = ticket_lifecycles(log)
        assert lc.first_reply.tolist() == [0.0] and lc.replies.tolist() == [1]

    def test_tickets_without_an_opening_are_counted(self) -> None:
        """A ticket resolved in the export but opened before it is left out, with a count."""
        log = _log(
            [
                ("a", "t1", "ticket_resolved", "2024-01-01T10:00Z"),
                ("b", "t2", "ticket_opened", "2024-01-01T10:00Z"),
                ("b", "t2", "ticket_resolved", "2024-01-01T11:00Z"),
            ]
        )
        with pytest.warns(DataWarning, match=r"1 ticket\(s\) have .* no ticket_opened row"):
            lc = ticket_lifecycles(log)
        assert lc.ticket_id.tolist() == ["t2"]

    def test_a_duplicated_row_is_not_a_reopening(self) -> None:
        """A resolution and a reply exported twice (same ticket, kind and time) count once:
        the ticket was 'reopened' (first-contact resolution 0) and 'touched twice'. Two
        replies stamped before the opening stay two replies."""
        log = _log(
            [
                ("a", "t1", "ticket_opened", "2024-01-01T10:00Z"),
                ("a", "t1", "ticket_replied", "2024-01-01T10:30Z"),
                ("a", "t1", "ticket_replied", "2024-01-01T10:30Z"),
                ("a", "t1", "ticket_resolved", "2024-01-01T11:00Z"),
                ("a", "t1", "ticket_resolved", "2024-01-01T11:00Z"),
                ("b", "t2", "ticket_opened", "2024-01-01T10:00Z"),
                ("b", "t2", "ticket_replied", "2024-01-01T09:58Z"),
                ("b", "t2", "ticket_replied", "2024-01-01T09:59Z"),
            ]
        )
        with (
            pytest.warns(DataWarning, match=r"2 ticket_replied/ticket_resolved row\(s\) repeat"),
            pytest.warns(DataWarning, match="timestamped before their ticket's ticket_opened"),
        ):
            lc = ticket_lifecycles(log)
        assert lc.replies.tolist() == [1, 2] and lc.resolutions.tolist() == [1, 0]
        assert first_contact_resolution(lc).value == one_touch_rate(lc).value == 1.0

    def test_a_ticket_id_opened_by_two_customers(self) -> None:
        """Ticket ids numbered per customer merge two tickets into one; a warning says so."""
        log = _log(
            [
                ("a", "1", "ticket_opened", "2024-01-01T10:00Z"),
                ("a", "1", "ticket_resolved", "2024-01-01T11:00Z"),
                ("b", "1", "ticket_opened", "2024-01-01T10:00Z"),
                ("b", "1", "ticket_resolved", "2024-01-01T12:00Z"),
            ]
        )
        with pytest.warns(DataWarning, match=r"1 ticket id\(s\) are opened by more than one "):
            lc = ticket_lifecycles(log)
        assert len(lc) == 1

    def test_an_earlier_as_of_reads_the_tickets_as_they_stood(self) -> None:
        """With as_of at 3.5 h, t2's resolution at 4 h had not happened (it was counted as
        resolved at 4 h although censored at 3.5 h) and t4, opened at 200 h, did not exist."""
        lc = ticket_lifecycles(ticket_log(), as_of="2024-01-01T03:30Z")
        assert lc.ticket_id.tolist() == ["t1", "t2", "t3"]
        np.testing.assert_array_equal(lc.first_resolution, [3, np.nan, np.nan])
        assert lc.replies.tolist() == [1, 2, 0]
        assert ticket_times(lc).censored == 2

    def test_as_of_outside_the_data(self) -> None:
        """as_of before the first row is refused; after the last, open tickets are counted."""
        with pytest.raises(DataError, match="before the log's first interaction"):
            ticket_lifecycles(ticket_log(), as_of="2023-12-01T00:00Z")
        with pytest.warns(DataWarning, match=r"2 unresolved ticket\(s\) count as open"):
            ticket_lifecycles(ticket_log(), as_of="2024-01-20T00:00Z")
