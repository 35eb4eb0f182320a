"""The check that interaction ids are unique over a whole Dask frame, not only in a partition.

One process refuses a repeated ``interaction_id`` (a bad row, named with the row it repeats);
a partition read alone sees only its own ids. The check has two passes.

The cheap pass rides on the partition tasks an analysis runs anyway: each task also returns a
digest of its log's ids (:func:`id_digest`, the sorted 64-bit hashes of the ids' text), and the
client looks for a hash that two rows share (:func:`check_digests`); the frame is read once.

The exact pass (:func:`check_unique_ids`) runs only when a hash repeats, or when a partition
task fails (a partition refuses its own repeated ids, and the frame's first bad row, a
repeated id or another, is named, :func:`repeats_first`): the frame's ids are shuffled on their value, so that the
rows sharing an id meet in one partition wherever they were read, and only the rows whose id
repeats travel to the client. Two different ids with the same hash pass it: a collision never
gives a false error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional
from cxmodel._progress import dask_compute
from cxmodel.dask._bad_rows import Found
from cxmodel.dask._common import (
    declared_columns,
    renamed_in_partition,
    shuffle_method,
    source_column,
    tree_merge,
)
from cxmodel.dask._types import check_id_types, customer_column, merged_types
from cxmodel.errors import CXModelError, RowSchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._columns import RowErrors, encode_text_column, row_ref, show

__all__ = [
    "Digest",
    "check_digests",
    "check_unique_ids",
    "has_ids",
    "hash_text",
    "id_digest",
    "merged_with_unique_ids",
    "repeats_first",
]

S = TypeVar("S")

Digest = npt.NDArray[np.uint64]

_ID = "_cxmodel_id"
_PART = "_cxmodel_partition"
_POS = "_cxmodel_position"


def _id_rows(frame: Any, column: str, partition_info: dict[str, Any] | None = None) -> Any:
    """The partition's rows that have an id: the id as a log reads it (text: ``7`` and ``"7"``
    are one id), the partition's number and the row's position in it, under the row's index
    label. Ids a log would refuse (a list, say) are left to the partition's read."""
    pd = import_optional("pandas", "cxmodel.dask")
    series = frame[column]
    if series.dtype.kind in "iub":  # numbers without missing values: no Python objects
        values = series.to_numpy()
    else:
        values = series.to_numpy(dtype=object, copy=True)
        values[series.isna().to_numpy()] = None
    codes, categories = encode_text_column(values, column, RowErrors(), as_id=True)
    rows = np.flatnonzero(codes >= 0)
    number = 0 if partition_info is None else partition_info["number"]
    return pd.DataFrame(
        {
            _ID: categories.astype(str)[codes[rows]].astype(object),
            _PART: np.full(rows.size, number, dtype=np.int64),
            _POS: rows.astype(np.int64),
        },
        index=frame.index[rows],
    )


def _repeated(frame: Any) -> Any:
    """The rows whose id another row of the (shuffled) partition also has."""
    return frame[frame[_ID].duplicated(keep=False).to_numpy()]


def check_unique_ids(ddf: Any, mapping: Mapping[str, str] | None) -> None:
    """Refuse a frame in which two rows have the same ``interaction_id``, in one partition or
    in two, as :meth:`InteractionLog.from_pandas <cxmodel.log.InteractionLog.from_pandas>`
    refuses it for the whole frame: the first repeat in the frame's order (partition, then
    row) is named with the row it repeats, by partition, index label and row of the
    partition, with the count of the other repeats. A frame without the column passes.

    The exact pass: a shuffle of the ids. The analyses run it only when the cheap pass
    (:func:`check_digests`) finds a repeated hash or a partition task fails
    (:func:`repeats_first`).

    Raises
    ------
    SchemaError
        Naming the first repeated id and both rows.

    Examples
    --------
    >>> import dask, dask.dataframe as dd, pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "kind": ["view"] * 4,
    ...     "timestamp": ["2024-01-01T00:00Z"] * 4, "interaction_id": ["e1", "e2", "e3", "e1"]})
    >>> with dask.config.set(scheduler="synchronous"):
    ...     check_unique_ids(dd.from_pandas(frame, npartitions=2), None)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: partition 1, index 3 (row 2 of the partition): interaction_id 'e1' is a duplicate of row 1 of partition 0 (index 0) (column 'interaction_id'); ids must be unique
    """
    found = _repeat_error(ddf, mapping)
    if found is not None:
        raise found[1]


def _repeat_error(ddf: Any, mapping: Mapping[str, str] | None) -> Found | None:
    """The error of :func:`check_unique_ids` with where it was found, or None when no id
    repeats."""
    column = source_column(mapping, "interaction_id")
    if column not in ddf.columns:
        return None
    dask = import_optional("dask", "cxmodel.dask")
    pd = import_optional("pandas", "cxmodel.dask")
    meta = pd.DataFrame(
        {
            _ID: pd.Series([], dtype=object),
            _PART: pd.Series([], dtype=np.int64),
            _POS: pd.Series([], dtype=np.int64),
        },
        index=ddf._meta.index[:0],
    )
    ids = declared_columns(ddf).map_partitions(_id_rows, column, meta=meta)
    shuffled = ids.shuffle(on=_ID, shuffle_method=shuffle_method(dask))
    found = shuffled.map_partitions(_repeated, meta=meta).compute()
    return _first_repeat(found) if len(found) else None


def has_ids(ddf: Any, mapping: Mapping[str, str] | None) -> bool:
    """Whether the frame has an ``interaction_id`` column (under ``mapping``'s name for it)."""
    return source_column(mapping, "interaction_id") in ddf.columns


def hash_text(ids: npt.NDArray[np.object_]) -> Digest:
    """64-bit hashes of text, the same in every process (pandas' SipHash under its fixed key).

    Examples
    --------
    >>> first, second, again = hash_text(np.array(["e1", "e2", "e1"], dtype=object)).tolist()
    >>> first == again, first == second
    (True, False)
    """
    pd = import_optional("pandas", "cxmodel.dask")
    return np.asarray(pd.util.hash_array(ids, categorize=False), dtype=np.uint64)


def id_digest(log: InteractionLog | None) -> Digest:
    """The hashes of a partition log's ids (:func:`hash_text`), one per row that has an id;
    empty for an empty partition or a log without the column.

    The log's own encoding of the ids is hashed (``7`` and ``"7"`` are one id, in any
    partition), once per distinct id: the rows are not read again.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b", "c"], timestamp=[0, 1, 2],
    ...     kind=["view"] * 3, interaction_id=["e2", None, "e1"])
    >>> id_digest(log).size, id_digest(None).size
    (2, 0)
    """
    rows = None if log is None else log._rows_in_any_order()  # no order needed: no sort
    if rows is None or "interaction_id" not in rows.strings:
        return np.empty(0, dtype=np.uint64)
    codes, ids = rows.strings["interaction_id"]
    return hash_text(ids)[codes[codes >= 0]]


def check_digests(digests: Sequence[Digest], ddf: Any, mapping: Mapping[str, str] | None) -> None:
    """Refuse the frame when two of its rows have the same id, given the partitions'
    :func:`id_digest`: a hash that two rows share sends the frame to the exact pass
    (:func:`check_unique_ids`), which names the rows, or passes when the hashes collided
    for different ids.

    Raises
    ------
    SchemaError
        As :func:`check_unique_ids`.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> ddf = dd.from_pandas(pd.DataFrame({"interaction_id": ["e1", "e2"]}), npartitions=1)
    >>> digests = [np.array([3, 1], dtype=np.uint64), np.array([2], dtype=np.uint64)]
    >>> check_digests(digests, ddf, None)  # no hash repeats: the frame is not read
    """
    hashes = np.sort(np.concatenate([np.empty(0, dtype=np.uint64), *digests]))
    if np.any(hashes[1:] == hashes[:-1]):
        check_unique_ids(ddf, mapping)


@contextlib.contextmanager
def repeats_first(
    ddf: Any,
    mapping: Mapping[str, str] | None,
    first_bad_row: Callable[[], Found | None] | None = None,
) -> Iterator[None]:
    """Raise the error one process raises first in place of an error of the partition tasks
    run in the block: the frame's first repeated id (:func:`check_unique_ids`) or its first
    bad row (``first_bad_row()``, :func:`cxmodel.dask._bad_rows.first_bad_row`), whichever
    comes first in the frame's order.

    A partition refuses its own repeated ids and other bad rows, but neither an id repeated
    in another partition nor a bad row of a partition whose task has not run. Without either,
    the task's error is raised as it was.
    """
    try:
        yield
    except CXModelError:
        found = [
            f
            for f in (  # a row refused for another reason is named for it, as in one process
                None if first_bad_row is None else first_bad_row(),
                _repeat_error(ddf, mapping) if has_ids(ddf, mapping) else None,
            )
            if f is not None
        ]
        if not found:
            raise
        raise min(found, key=lambda f: f[0])[1] from None


def merged_with_unique_ids(
    dask: Any,
    merge: Callable[[S, S], S],
    parts: Sequence[Any],
    caught: Any,
    ddf: Any,
    mapping: Mapping[str, str] | None,
    *,
    fan_in: int,
    feature: str,
    progress: bool = False,
    first_bad_row: Callable[[], Found | None] | None = None,
) -> tuple[S, Any]:
    """The partitions' states merged in a tree of ``fan_in``, and the warnings ``caught``,
    computed together; ``parts`` are the delayed ``(state, id digest, customer id types)``
    triples of the partition tasks (:func:`id_digest`,
    :func:`~cxmodel.dask._types.id_types`). The frame is refused when two of its rows have
    the same id (:func:`repeats_first`, :func:`check_digests`), wherever they were read, and
    when its customer ids are numbers in one partition and text in another
    (:func:`~cxmodel.dask._types.check_id_types`); a failed task's error gives way to the
    frame's first error (``first_bad_row``, as in :func:`repeats_first`). ``feature`` names the
    public function in the error."""
    tree = tree_merge(merge, [part[0] for part in parts], fan_in)
    with repeats_first(ddf, mapping, first_bad_row):
        state, warned, *found = dask_compute(
            dask, tree, caught, *(part[1:] for part in parts), progress=progress
        )
    check_id_types(merged_types([f[1] for f in found]), customer_column(mapping), feature)
    check_digests([f[0] for f in found], ddf, mapping)
    return state, warned


def _first_repeat(found: Any) -> Found:
    """The error naming the first repeat among ``found``, every row whose id repeats, with
    where it is (a row of the read, :data:`~cxmodel.dask._bad_rows.Found`)."""
    found = found.iloc[np.lexsort((found[_POS].to_numpy(), found[_PART].to_numpy()))]
    ids = found[_ID].to_numpy()
    first = found[_ID].duplicated(keep="first").to_numpy()  # True: a repeat of an earlier row
    repeats = np.flatnonzero(first)
    row = int(repeats[0])
    original = int(np.flatnonzero(ids == ids[row])[0])
    reason = (
        f"interaction_id {show(ids[row])} is a duplicate of row {row_ref(original)} (column "
        "'interaction_id'); ids must be unique"
    )
    error = RowSchemaError(reason, row, reason, int(repeats.size) - 1)
    origin = (found[_PART].to_numpy(np.int64), found[_POS].to_numpy(np.int64))
    where = (0, int(origin[0][row]), int(origin[1][row]), 0)
    return where, renamed_in_partition(error, found, 0, origin)
