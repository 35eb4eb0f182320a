"""Sessionisation: split each customer's timeline where the gap between events exceeds a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cxmodel._time import DurationLike
from cxmodel.journey._common import window_us

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["sessions"]


def sessions(log: InteractionLog, *, gap: DurationLike = "30m") -> InteractionLog:
    """Add an integer ``session_id`` column.

    A new session starts at a customer's first event and at every event that follows the
    previous event of the same customer by strictly more than ``gap``. Session ids are
    ``0, 1, 2, ...`` in log order (customer, time, input order) and unique across customers.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    gap : str or timedelta, default "30m"
        Largest gap that keeps two consecutive events in one session.

    Returns
    -------
    InteractionLog
        A new log with a float-typed ``session_id`` column holding whole numbers.

    Examples
    --------
    >>> from cxmodel.log import InteractionLog
    >>> log = InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "a", "b"],
    ...     timestamp=["2024-01-01T10:00Z", "2024-01-01T10:20Z", "2024-01-01T12:00Z",
    ...                "2024-01-01T10:05Z"],
    ...     kind=["view", "view", "view", "view"])
    >>> sessions(log).numeric("session_id").tolist()
    [0.0, 0.0, 1.0, 2.0]
    """
    limit = window_us(gap, "gap")
    assert limit is not None
    n = len(log)
    new = np.ones(n, dtype=bool)
    if n > 1:
        cust = log.customer_codes
        t = log.timestamps
        new[1:] = (cust[1:] != cust[:-1]) | ((t[1:] - t[:-1]) > limit)
    ids = np.cumsum(new).astype(np.int64) - 1
    return log.with_column("session_id", ids.astype(np.float64))
