"""The customer table over customer partitions: one table per partition, in customer order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from cxmodel._time import TimeLike, as_of_us
from cxmodel.dask._common import dask_modules
from cxmodel.dask._partitions import customer_logs
from cxmodel.dask._whole import customer_order, map_reduce
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.log._customer_table import (
    customers_past_data,
    warn_table_after_data,
    windows_past_data,
)
from cxmodel.log._observed import check_as_of, first_time

__all__ = ["customer_table", "customer_table_of", "customer_table_partial"]

_TOPIC = "tickets_topic_"


def customer_table_partial(
    log: InteractionLog | None, as_of: TimeLike
) -> tuple[CustomerTable | None, int | None, int | None]:
    """The partition's table, without its log (only the table travels), and the partition's
    first and last interaction times (``as_of`` is checked against the earliest first of them
    all: a partition whose customers all came later holds none of them yet; and against the
    latest last, the data's end)."""
    if log is None:
        return None, None, None
    first, last = first_time(log), log.observed_until
    cutoff = as_of_us(as_of)
    if first is not None and first > cutoff:
        return None, first, last
    table = CustomerTable._of_log(log, cutoff, {}, None, None)
    return attrs.evolve(table, log=None), first, last


def _past_data(log: InteractionLog | None, until: int, cutoff: int) -> int:
    """:func:`customers_past_data` of one partition, against the whole data's end."""
    return 0 if log is None else customers_past_data(log, until, cutoff)


def _empty(as_of: TimeLike) -> CustomerTable:
    """The table of no customers, as one process builds it."""
    none = np.empty(0, dtype=object)
    log = InteractionLog.from_arrays(customer_id=none, timestamp=np.empty(0, np.int64), kind=none)
    return attrs.evolve(CustomerTable.from_log(log, as_of=as_of), log=None)


def customer_table_of(tables: Sequence[CustomerTable], as_of: TimeLike) -> CustomerTable:
    """The partitions' tables (different customers each) as one, in customer-id order.

    Columns are in the one-process order; a ``tickets_topic_<topic>`` column that only some
    partitions have (a topic only their customers opened tickets about) is 0 for the others.
    """
    found = [t for t in tables if len(t)]
    if not found:
        return _empty(as_of)
    base = [name for name in found[0].data if not name.startswith(_TOPIC)]
    topics = sorted({name for t in found for name in t.data if name.startswith(_TOPIC)})
    at = base.index("tickets_open") + 1
    names = [*base[:at], *topics, *base[at:]]
    ids, order = customer_order([t.customer_id for t in found])
    data = {}
    for name in names:
        parts = [t.data.get(name, np.zeros(len(t), dtype=np.int64)) for t in found]
        data[name] = np.concatenate(parts)[order]
    return CustomerTable(np.asarray(ids[order], dtype=object), data, found[0].as_of)


def customer_table(
    data: Any,
    *,
    as_of: TimeLike,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    progress: bool = False,
) -> CustomerTable:
    """:meth:`InteractionLog.customers_table` over a Dask DataFrame or
    :class:`CustomerPartitions`.

    Every column of the table is a function of one customer's interactions at or before
    ``as_of``, so each customer partition builds its own table and the tables are concatenated
    on the client in customer-id order. The result equals the one-process table: the same
    customers, order, columns (a ticket-topic column for every topic any customer opened a
    ticket about), values and dtypes. Only the table travels to the client, so its ``log`` is
    ``None`` and :meth:`~cxmodel.log.CustomerTable.profile` is not available.
    ``progress=True`` shows Dask's progress bar while the partitions are computed.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or CustomerPartitions
        Interaction rows, or the logs of :func:`from_dask`.
    as_of : time
        Aware time; later interactions are ignored and customers without any before it are
        left out.
    mapping, timezone : optional
        As in :func:`from_dask`, when ``data`` is a frame.
    progress : bool, default False
        Show Dask's progress bar while the partitions are computed (needs the ``progress``
        extra).

    Returns
    -------
    CustomerTable

    Raises
    ------
    SchemaError
        ``as_of`` is not an aware time.
    DataError
        ``as_of`` is before the first interaction of every partition.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["b", "a", "a"], "kind": ["login"] + ["purchase"] * 2,
    ...     "value": [None, 10.0, 30.0],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-01-01", "2024-01-20"], utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     t = cxd.customer_table(dd.from_pandas(frame, npartitions=2), as_of="2024-01-31T00:00Z")
    >>> t.customer_id.tolist(), t.column("frequency").tolist(), t.column("aov").tolist()
    (['a', 'b'], [2, 0], [20.0, nan])
    """
    cutoff = as_of_us(as_of)  # a bad as_of raises before any work
    feature = "cxmodel.dask.customer_table()"
    dask_modules(feature)
    logs = customer_logs(data, mapping, timezone)  # a frame is shuffled once, for both passes
    parts = map_reduce(
        logs, customer_table_partial, None, (as_of,), feature=feature, progress=progress
    )
    firsts = [first for _, first, _ in parts if first is not None]
    check_as_of(min(firsts, default=None), cutoff, caller=feature)
    table = customer_table_of([t for t, _, _ in parts if t is not None], as_of)
    until = max((last for _, _, last in parts if last is not None), default=None)
    lost = 0
    if windows_past_data(until, cutoff):  # a second pass, only for an as_of past the data
        counts = map_reduce(logs, _past_data, None, (until, cutoff), feature=feature, warn=False)
        lost = sum(counts)
    warn_table_after_data(lost, until, cutoff, caller=feature)
    return table
