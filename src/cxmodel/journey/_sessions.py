"""Sessionisation: split each customer's timeline where the gap between events exceeds a limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cxmodel._arguments import flag, interaction_log
from cxmodel._time import DurationLike
from cxmodel.errors import SchemaError
from cxmodel.journey._common import duration_us
from cxmodel.log._columns import NUMERIC_STANDARD, STRING_STANDARD

if TYPE_CHECKING:
    from cxmodel.log import InteractionLog

__all__ = ["sessions"]


def sessions(
    log: InteractionLog,
    *,
    gap: DurationLike = "30m",
    name: str = "session_id",
    overwrite: bool = False,
) -> InteractionLog:
    """Add an integer session column (``session_id`` by default) from time gaps.

    A new session starts at a customer's first event and at every event that follows the
    previous event of the same customer by strictly more than ``gap``. Session ids are
    ``0, 1, 2, ...`` in log order (customer, time, input order) and unique across customers.

    An export often has a ``session_id`` of its own. The journey views use it as it is
    (string or numeric ids alike), so there is no need to call this function; calling it
    would replace those sessions with gap-based ones, which is refused unless asked for.

    Parameters
    ----------
    log : InteractionLog
        The interaction log.
    gap : str or timedelta, default "30m"
        Largest gap that keeps two consecutive events in one session.
    name : str, default "session_id"
        The column to write. The journey views (``count="sessions"``, ``by_session=True``,
        ``hold="session_id"``) read ``session_id``; another name keeps both.
    overwrite : bool, default False
        Replace ``name`` when the log already has such a column.

    Returns
    -------
    InteractionLog
        A new log with a float-typed ``name`` column holding whole numbers.

    Raises
    ------
    SchemaError
        ``name`` is already a column and ``overwrite`` is false, or ``name`` is a required
        column.

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
    >>> exported = log.with_column("session_id", ["s1", "s1", "s1", "s9"])
    >>> sessions(exported)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: sessions(): the log already has a 'session_id' column (string values such as 's1'); the journey views use it as it is. Pass overwrite=True to replace it with sessions cut at gaps > '30m', or name='gap_session_id' to add those as a separate column
    >>> sessions(exported, name="gap_session_id").numeric("gap_session_id").tolist()
    [0.0, 0.0, 1.0, 2.0]
    """
    log = interaction_log(log, "sessions()")
    overwrite = flag(overwrite, "sessions()", "overwrite")
    if not isinstance(name, str) or not name:
        raise SchemaError(f"sessions(): name={name!r}; expected a column name (str)")
    if name in ("customer_id", "timestamp", "kind"):
        raise SchemaError(f"sessions(): name={name!r} is a required column; choose another name")
    if name in STRING_STANDARD or name in NUMERIC_STANDARD:  # overwrite=True would lose it
        raise SchemaError(
            f"sessions(): name={name!r} is a standard column the analyses read (values, "
            "scores, channels ...); choose another name, e.g. 'session_id'"
        )
    if name in log and not overwrite:
        kind = log.schema[name]
        example = log.column(name)[:1].tolist()
        sample = f" such as {example[0]!r}" if example else ""
        raise SchemaError(
            f"sessions(): the log already has a {name!r} column ({kind} values{sample}); the "
            f"journey views use it as it is. Pass overwrite=True to replace it with sessions "
            f"cut at gaps > {gap!r}, or name='gap_{name}' to add those as a separate column"
        )
    limit = duration_us(gap, "sessions()", "gap")
    n = len(log)
    new = np.ones(n, dtype=bool)
    if n > 1:
        cust = log.customer_codes
        t = log.timestamps
        new[1:] = (cust[1:] != cust[:-1]) | ((t[1:] - t[:-1]) > limit)
    ids = np.cumsum(new).astype(np.int64) - 1
    return log.with_column(name, ids.astype(np.float64))
