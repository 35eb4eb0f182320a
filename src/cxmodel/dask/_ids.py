"""The check that interaction ids are unique over a whole Dask frame, not only in a partition.

One process refuses a repeated ``interaction_id`` (a bad row, named with the row it repeats);
a partition read alone sees only its own ids. The frame's ids are shuffled on their value, so
that the rows sharing an id meet in one partition wherever they were read, and only the rows
whose id repeats travel to the client: the frame itself is never gathered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cxmodel._optional import import_optional
from cxmodel.dask._common import declared_columns, renamed_in_partition, shuffle_method
from cxmodel.errors import RowSchemaError
from cxmodel.log._columns import RowErrors, encode_text_column, row_ref, show

__all__ = ["check_unique_ids"]

_ID = "_cxmodel_id"
_PART = "_cxmodel_partition"
_POS = "_cxmodel_position"


def _source(mapping: Mapping[str, str] | None) -> str:
    """The frame's name of the ``interaction_id`` column under ``mapping``."""
    for source, target in (mapping or {}).items():
        if target == "interaction_id":
            return source
    return "interaction_id"


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
    codes, categories = encode_text_column(values, column, RowErrors())
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
    column = _source(mapping)
    if column not in ddf.columns:
        return
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
    if len(found):
        raise _first_repeat(found)


def _first_repeat(found: Any) -> Exception:
    """The error naming the first repeat among ``found``, every row whose id repeats."""
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
    return renamed_in_partition(error, found, 0, origin)
