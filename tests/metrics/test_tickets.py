"""Ticket lifecycles: first reply, first and full resolution and replies per ticket, from a
hand-built log."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
from cxmodel.metrics import ticket_lifecycles, ticket_times
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
