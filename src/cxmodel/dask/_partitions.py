"""One shuffle by customer, persisted as InteractionLogs that many analyses share."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np

from cxmodel._arguments import mapping_value
from cxmodel._progress import dask_persist
from cxmodel._time import TimeLike, to_us, us_to_datetime
from cxmodel._time_format import time_format as checked_time_format
from cxmodel.dask._bad_rows import first_bad_row
from cxmodel.dask._common import dask_modules, declared_columns, partition_log, shuffle_method
from cxmodel.dask._ids import check_digests, has_ids, id_digest, repeats_first
from cxmodel.dask._types import TypesSeen, check_id_types, customer_column, id_types, merged_types
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._observed import check_observed_end, last_time

__all__ = ["CustomerPartitions", "customer_logs", "from_dask", "log_size"]

_PART = "_cxmodel_partition"
_POS = "_cxmodel_position"


@attrs.frozen(eq=False)
class CustomerPartitions:
    """Interaction logs on a Dask cluster, each customer's whole history in exactly one of them.

    Built by :func:`from_dask`. ``logs`` holds one persisted ``dask.delayed`` object per
    partition: an :class:`~cxmodel.log.InteractionLog`, or ``None`` for an empty partition.
    Every distributed analysis of :mod:`cxmodel.dask` that needs whole customers accepts it in
    place of a Dask DataFrame and then skips the shuffle.

    Attributes
    ----------
    logs : tuple of dask.delayed.Delayed
        The persisted partition logs (``None`` for empty partitions).
    timezone : str or None
        The time zone the logs were read with.
    observed_until : int or None
        The end of the observation declared by :meth:`with_observed_until`, in microseconds
        since the epoch (UTC); ``None``: the data's last interaction, as for a log read in one
        process.
    """

    logs: tuple[Any, ...]
    timezone: str | None = None
    observed_until: int | None = None

    @property
    def npartitions(self) -> int:
        """Number of partitions."""
        return len(self.logs)

    def with_observed_until(self, end: TimeLike) -> CustomerPartitions:
        """These partitions, declared observed until ``end``, as
        :meth:`InteractionLog.with_observed_until <cxmodel.log.InteractionLog.with_observed_until>`
        declares a log: the export covers that time, though nothing happened after its last
        interaction.

        Every partition's log is then observed until ``end``, so the analyses that warn about
        times after the data (``rfm_summary``'s ``as_of``, ``customer_lifetimes``'s ``as_of``,
        ``cohort_retention``'s periods, ``funnel`` windows, and the one-process analyses
        ``map_customers`` runs) read ``end`` as the data's end, in every partition. ``end``
        is checked against the last interaction of all partitions (one small computation).

        Raises
        ------
        DataError
            If an interaction of any partition is later than ``end``.

        Examples
        --------
        >>> import dask, dask.dataframe as dd, pandas as pd
        >>> from cxmodel import dask as cxd
        >>> frame = pd.DataFrame({"customer_id": ["a", "b"], "kind": ["view"] * 2,
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-30"], utc=True)})
        >>> with dask.config.set(scheduler="synchronous"):
        ...     parts = cxd.from_dask(dd.from_pandas(frame, npartitions=2))
        ...     whole = parts.with_observed_until("2024-02-01T00:00Z")
        ...     logs = dask.compute(*whole.logs)
        >>> whole.observed_until == to_us("2024-02-01T00:00Z")
        True
        >>> {log.observed_until for log in logs if log is not None} == {whole.observed_until}
        True
        """
        caller = "CustomerPartitions.with_observed_until()"
        dask, _ = dask_modules(caller)
        until = to_us(end, what="end")
        lasts = dask.compute(*(dask.delayed(_last, pure=True)(log) for log in self.logs))
        last = max((t for t in lasts if t is not None), default=None)
        check_observed_end(last, until, caller=caller)
        logs = tuple(dask.delayed(_observed, pure=True)(log, until) for log in self.logs)
        return attrs.evolve(self, logs=logs, observed_until=until)

    def __repr__(self) -> str:
        if self.observed_until is None:
            return f"CustomerPartitions(npartitions={self.npartitions})"
        until = us_to_datetime(self.observed_until).isoformat().replace("+00:00", "Z")
        return f"CustomerPartitions(npartitions={self.npartitions}, observed_until={until})"


def _last(log: InteractionLog | None) -> int | None:
    """The time of a partition's last interaction (``None`` for an empty partition)."""
    return None if log is None else last_time(log)


def _ends(log: InteractionLog | None) -> tuple[int, int] | None:
    """A partition's last interaction and the end of its observation (``None`` when empty)."""
    last = _last(log)
    if log is None or last is None or log.observed_until is None:
        return None
    return last, log.observed_until


def _as_one_log(dask: Any, logs: tuple[Any, ...]) -> tuple[Any, ...]:
    """The partition logs, observed until the time one log of all their rows would be.

    A log whose timestamps are all dates without a time of day is observed to the end of its
    last day, and a partition's log decides that from its own rows. When some partitions hold
    only dates and others times of day, the column is not one of dates, and every partition is
    declared observed until the last interaction of all (one small computation); otherwise the
    latest end among the partitions is already the one-process end.
    """
    ends = [e for e in dask.compute(*(dask.delayed(_ends, pure=True)(log) for log in logs)) if e]
    whole_days = {until > last for last, until in ends}
    if len(whole_days) < 2:
        return logs
    last = max(last for last, _ in ends)
    return tuple(dask.delayed(_observed, pure=True)(log, last) for log in logs)


def _observed(log: InteractionLog | None, until: int) -> InteractionLog | None:
    """The partition's log, declared observed until ``until``."""
    return None if log is None else log.with_observed_until(us_to_datetime(until))


def _number(frame: Any, partition_info: dict[str, Any] | None = None) -> Any:
    """The partition with its number and each row's position in it (the global input order)."""
    out = frame.copy()
    out[_PART] = np.int64(0 if partition_info is None else partition_info["number"])
    out[_POS] = np.arange(len(frame), dtype=np.int64)
    return out


def log_size(log: InteractionLog) -> int:
    """Bytes a log holds: its arrays and the customer ids and categories of its text columns.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b"], timestamp=[0, 1],
    ...                                  kind=["view", "view"])
    >>> log_size(log) > log.nbytes
    True
    """
    from dask.sizeof import sizeof

    text = [name for name, kind in log.schema.items() if kind == "string"]
    return int(log.nbytes + sum(sizeof(log.categorical(name)[1]) for name in text))


@functools.cache
def _register_sizeof() -> None:
    """Let Dask measure persisted logs by :func:`log_size` (it would count a few bytes for an
    object it does not know), so that workers spill and balance memory by their real size."""
    from dask.sizeof import sizeof

    registry: Any = sizeof
    registry.register(InteractionLog)(log_size)


def _to_log(
    frame: Any,
    number: int,
    numbered: bool,
    mapping: Mapping[str, str] | None,
    timezone: str | None,
    time_format: str | None,
) -> tuple[InteractionLog | None, TypesSeen]:
    """One shuffled partition as a log, its rows back in input order first (ties keep it), and
    the types of its customer ids by input partition (:func:`~cxmodel.dask._types.id_types`);
    a bad row is named by its input partition, index label and position (unshuffled with
    ``numbered=False``: by partition ``number``)."""
    _register_sizeof()  # in the worker process that will hold the log
    origin = None
    if numbered:
        frame = frame.sort_values([_PART, _POS], kind="stable")
        origin = (frame[_PART].to_numpy(np.int64), frame[_POS].to_numpy(np.int64))
        frame = frame.drop(columns=[_PART, _POS])
    ids = id_types(frame, customer_column(mapping), number, origin)
    return partition_log(frame, mapping, timezone, number, origin, time_format), ids


def from_dask(
    ddf: Any,
    *,
    mapping: Mapping[str, str] | None = None,
    timezone: str | None = None,
    time_format: str | None = None,
    partitioned_by_customer: bool = False,
    progress: bool = False,
) -> CustomerPartitions:
    """Shuffle a Dask DataFrame of interactions by customer, once, into persisted logs.

    ``progress=True`` shows Dask's progress bar while the shuffle and the logs are computed.

    The frame (any partitioning, any number of partitions, empty ones included) is shuffled on
    the customer column so that each customer's rows sit in one partition; each partition
    becomes an :class:`~cxmodel.log.InteractionLog` (``mapping``, ``timezone`` and
    ``time_format`` as in :meth:`InteractionLog.from_pandas`) and is persisted on the cluster. Rows keep their
    input order among themselves, so events at the same instant are ordered as in the
    one-process log. A partition that lacks a column the frame declares has it as missing
    values, as in ``ddf.compute()``. With ``partitioned_by_customer=True`` the caller promises that no customer
    spans two partitions and the shuffle is skipped.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Interaction rows (the columns of ``InteractionLog.to_pandas()``, or yours with
        ``mapping``).
    mapping : dict, optional
        Your column names to cxmodel's, e.g. ``{"user": "customer_id"}``.
    timezone : str, optional
        Zone of naive timestamps.
    time_format : str, optional
        The layout of text timestamps that are not ISO-8601, a ``strptime`` format such as
        ``"%m/%d/%Y %H:%M"`` (see :func:`cxmodel.io.read_csv`). The analyses that take a
        Dask DataFrame read ISO-8601 text: give them these partitions instead.
    partitioned_by_customer : bool, default False
        Skip the shuffle.
    progress : bool, default False
        Show Dask's progress bar while the shuffle and the logs are computed.

    Returns
    -------
    CustomerPartitions

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> from cxmodel import dask as cxd
    >>> frame = pd.DataFrame({"customer_id": ["a", "b", "a"], "kind": ["view"] * 3,
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     parts = cxd.from_dask(dd.from_pandas(frame, npartitions=2))
    ...     logs = [log for log in dask.compute(*parts.logs) if log is not None]
    >>> sorted(c for log in logs for c in log.customers.tolist())
    ['a', 'b']
    """
    dask, dd = dask_modules("cxmodel.dask.from_dask()")
    checked_time_format(time_format)  # before any task runs
    if not isinstance(ddf, dd.DataFrame):
        raise SchemaError(
            f"cxmodel.dask.from_dask(): ddf must be a dask.dataframe.DataFrame; got {type(ddf)!r}"
        )
    key = customer_column(mapping_value(mapping, "cxmodel.dask.from_dask()", "mapping"))
    if key not in ddf.columns:
        raise SchemaError(
            f"cxmodel.dask.from_dask(): ddf has no customer column {key!r}; columns: "
            f"{list(ddf.columns)!r} (map yours with mapping={{'your_name': 'customer_id'}})"
        )
    rows = declared_columns(ddf)  # the rows as the user declared them: the ids are checked on it
    numbered = not partitioned_by_customer
    by_customer = rows
    if numbered:
        meta = rows._meta.assign(**{_PART: np.int64(0), _POS: np.int64(0)})
        by_customer = rows.map_partitions(_number, meta=meta).shuffle(
            on=key, shuffle_method=shuffle_method(dask)
        )
    read = [
        dask.delayed(_to_log, pure=True)(part, number, numbered, mapping, timezone, time_format)
        for number, part in enumerate(by_customer.to_delayed())
    ]
    digests: list[Any] = []
    with repeats_first(rows, mapping, first_bad_row(rows, mapping, timezone, time_format)):
        held = dask_persist(dask, *read, progress=progress)
        kept = dask.persist(*(pair[0] for pair in held))
        if has_ids(rows, mapping):  # from the persisted logs: the rows are not read again
            digests = [dask.delayed(id_digest, pure=True)(log) for log in kept]
        types, *digests = dask.compute([pair[1] for pair in held], *digests)
    check_id_types(merged_types(types), key, "cxmodel.dask.from_dask()")
    check_digests(digests, rows, mapping)
    return CustomerPartitions(_as_one_log(dask, tuple(kept)), timezone)


def customer_logs(
    data: Any, mapping: Mapping[str, str] | None, timezone: str | None
) -> CustomerPartitions:
    """``data`` itself when it is a :class:`CustomerPartitions`, else ``from_dask(data)``."""
    if isinstance(data, CustomerPartitions):
        return data
    return from_dask(data, mapping=mapping, timezone=timezone)
