"""The first bad row of a Dask frame in the frame's order, as one process names the first.

One process reads the whole frame and names its first bad row (with the count of the others);
partition tasks run in any order, and after the shuffle by customer each holds rows of many
input partitions, so the first task to fail may hold a later bad row than another. When a task
fails, :func:`first_bad_row` reads the input partitions again, each on its own, and finds the
error one process raises first: the first row a partition's read refuses (partition, then
row), with the count of the rows every partition's read refuses, else the first partition
whose analysis step refuses a row (a survey answer without a score, say), as one process reads
every row before it analyses any. The error is named as :func:`~cxmodel.dask._common.partition_log` names it. This runs
only after a failure: a frame without bad rows is read once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cxmodel._pieces import as_piece
from cxmodel.dask._common import Piece, dask_modules, numbered_partitions, renamed_in_partition
from cxmodel.errors import CXModelError, RowSchemaError, SchemaError
from cxmodel.log import InteractionLog

__all__ = ["Found", "first_bad_row"]

_REPEAT = " is a duplicate of row "

# Where an error was found, (step, partition, row of the partition, repeat), and the error:
# errors sort as one process raises them, the read (step 0) before the analysis (step 1), and
# a row's repeated id (repeat 1, counted in its partition) after the same row named by the
# whole frame's check of the ids (repeat 0, counted over the frame).
Found = tuple[tuple[int, int, int, int], CXModelError]
# A partition's first error (as Found) and the number of rows its read refused.
_Partial = tuple[tuple[int, int, int, int], CXModelError, int]


def _error_of(
    piece: Piece,
    mapping: Mapping[str, str] | None,
    timezone: str | None,
    time_format: str | None,
    task: Callable[..., Any] | None,
    args: tuple[Any, ...],
) -> _Partial | None:
    """The first error of one input partition, read on its own (then ``task(piece, *args)``),
    with the count of the rows its read refuses, or None; the warnings of this second read
    are not raised again. A bad row is named without the count, which the caller adds up."""
    number, frame = piece
    if len(frame) == 0:
        return None
    with as_piece():
        try:
            InteractionLog.from_pandas(
                frame, mapping=mapping, timezone=timezone, time_format=time_format
            )
        except RowSchemaError as error:
            repeat = int(error.reason.startswith("interaction_id ") and _REPEAT in error.reason)
            where = (0, number, error.position, repeat)
            alone = RowSchemaError(str(error), error.position, error.reason, 0, error.source)
            return where, renamed_in_partition(alone, frame, number), error.more + 1
        except CXModelError as error:
            return (0, number, -1, 0), error, 0
        if task is not None:
            try:
                task(piece, *args)
            except CXModelError as error:
                return (1, number, -1, 0), error, 0
    return None


def first_bad_row(
    ddf: Any,
    mapping: Mapping[str, str] | None,
    timezone: str | None,
    time_format: str | None = None,
    task: Callable[..., Any] | None = None,
    *args: Any,
) -> Callable[[], Found | None]:
    """A function that finds the frame's first error in its order (see the module docstring),
    for :func:`~cxmodel.dask._ids.repeats_first` to raise in place of a failed task's error.

    ``task(piece, *args)`` is the analysis's partition task, run after a partition's read
    succeeds; ``None`` for a function that only reads the frame.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "kind": ["view"] * 4,
    ...     "timestamp": ["2024-01-01T00:00Z", "soon", "2024-01-01T00:00Z", "later"]})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     where, error = first_bad_row(dd.from_pandas(frame, npartitions=2), None, None)()
    >>> print(error)
    partition 0, index 1 (row 2 of the partition): timestamp 'soon' is not an ISO-8601 time (expected e.g. '2024-03-01T10:00:00+00:00') (1 more row rejected)
    """

    def find() -> Found | None:
        dask, _ = dask_modules("cxmodel.dask")
        found = dask.compute(
            *(
                dask.delayed(_error_of, pure=True)(
                    piece, mapping, timezone, time_format, task, args
                )
                for piece in numbered_partitions(ddf)
            )
        )
        errors = [f for f in found if f is not None]
        if not errors:
            return None
        where, error, refused = min(errors, key=lambda f: f[0])
        if not refused:
            return where, error
        more = sum(f[2] for f in errors) - 1  # the bad rows of every partition, as one process
        suffix = f" ({more} more row{'s' if more != 1 else ''} rejected)" if more else ""
        return where, SchemaError(f"{error}{suffix}")

    return find
