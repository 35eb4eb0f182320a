"""Columns typed differently from one partition to the next.

One process types a column once, over the whole frame; a partition read alone types it from
its own rows. Two cases would change an answer without a word, and are refused instead:

* customer ids that are numbers in one partition and text in another. One process reads such
  a column as text and refuses a number whose digits another row holds as text (``7`` and
  ``"7"`` would merge into one customer); partitions read alone never see the other's ids.
* a ``by`` column that is numbers in one partition and text in another. One process reads it
  as text (with a ``DataWarning``); the partitions' groups would be numbers beside text.

Both are found from what the partition tasks see anyway: each reports the type classes of the
column with where it first saw each (a few bytes), and the client compares them. The frame is
not read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._optional import import_optional
from cxmodel.dask._common import row_origin, source_column
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from cxmodel.log._columns import is_missing, show

__all__ = [
    "TypesSeen",
    "by_types",
    "check_by_types",
    "check_id_types",
    "check_logs_by",
    "conflict",
    "customer_column",
    "id_types",
    "merge_types",
    "merged_types",
]

# Where a type class was seen: (partition, row of the partition, the value as shown).
Example = tuple[int, int, str]
# Type class -> where it was first seen, in up to two partitions (the first ones).
TypesSeen = dict[str, tuple[Example, ...]]

_NUMBER, _TEXT = 1, 2
_NUMBER_KINDS = ("integer", "floating", "decimal", "mixed-integer-float")


def customer_column(mapping: Mapping[str, str] | None) -> str:
    """The frame's name of the ``customer_id`` column under ``mapping``.

    Examples
    --------
    >>> customer_column({"user": "customer_id"}), customer_column(None)
    ('user', 'customer_id')
    """
    return source_column(mapping, "customer_id")


def _classes(series: Any) -> npt.NDArray[np.int8]:
    """Per row of a customer id column: 1 for a number, 2 for text, 0 otherwise (missing,
    bools and anything a log refuses)."""
    pd = import_optional("pandas", "cxmodel.dask")
    present = series.notna().to_numpy()
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        by_category = _classes(pd.Series(series.cat.categories))
        return np.where(codes >= 0, by_category[np.maximum(codes, 0)], 0).astype(np.int8)
    kind = series.dtype.kind
    if kind in "iuf":
        return np.where(present, _NUMBER, 0).astype(np.int8)
    if kind != "O" and not isinstance(series.dtype, pd.StringDtype):
        return np.zeros(len(series), dtype=np.int8)
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "string":
        return np.where(present, _TEXT, 0).astype(np.int8)
    if inferred in _NUMBER_KINDS:
        return np.where(present, _NUMBER, 0).astype(np.int8)
    return np.fromiter(  # numbers and text mixed: row by row
        (_class_of(v) for v in series.tolist()), dtype=np.int8, count=len(series)
    )


def _class_of(value: object) -> int:
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, (bool, np.bool_)):
        return 0
    if isinstance(value, (int, np.integer)):
        return _NUMBER
    if isinstance(value, (float, np.floating, Decimal)):  # as a column of Decimals alone
        return _NUMBER if value == value else 0
    return 0


def id_types(
    frame: Any,
    column: str,
    number: int,
    origin: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> TypesSeen:
    """Where a partition's customer ids are numbers and where text: per class, its first row in
    the (first two) input partitions that hold it. ``number`` is the partition's number;
    ``origin``, for rows a shuffle gathered, each row's input partition and position in it.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": ["a", 7, "b"]}, index=[10, 11, 12])
    >>> id_types(frame, "customer_id", 3)
    {'number': ((3, 1, '7 at index 11'),), 'text': ((3, 0, "'a' at index 10"),)}
    """
    if column not in frame.columns or len(frame) == 0:
        return {}
    values = frame[column]
    classes = _classes(values)
    partitions, positions = row_origin(frame, number, origin)
    out: TypesSeen = {}
    for code, name in ((_NUMBER, "number"), (_TEXT, "text")):
        rows = np.flatnonzero(classes == code)
        if not rows.size:
            continue
        rows = rows[np.lexsort((positions[rows], partitions[rows]))]
        firsts = [int(rows[0])]
        other = rows[partitions[rows] != partitions[rows[0]]]
        if other.size:
            firsts.append(int(other[0]))
        out[name] = tuple(
            (
                int(partitions[r]),
                int(positions[r]),
                f"{show(values.iloc[r : r + 1].tolist()[0])} at index "
                f"{show(frame.index[r : r + 1].tolist()[0])}",
            )
            for r in firsts
        )
    return out


def by_types(log: InteractionLog | None, by: str | None, number: int) -> TypesSeen:
    """The type a partition's log gave the ``by`` column, with its first present value: empty
    when the log has no such column or no value in it.

    Examples
    --------
    >>> log = InteractionLog.from_arrays(customer_id=["a", "b"], timestamp=[0, 1],
    ...     kind=["view", "view"], region=[None, 3.5])
    >>> by_types(log, "region", 2)
    {'float': ((2, 1, '3.5'),)}
    """
    if log is None or by is None or by not in log:
        return {}
    kind = log.schema[by]
    if kind == "string":
        codes, categories = log.categorical(by)
        present = np.flatnonzero(codes >= 0)
        values: Any = categories[codes[present[:1]]] if present.size else []
    else:
        column: npt.NDArray[Any] = log.column(by)
        present = np.flatnonzero(~is_missing(column))
        values = column[present[:1]]
    if not present.size:
        return {}
    return {kind: ((number, int(present[0]), show(np.asarray(values).tolist()[0])),)}


def merge_types(a: TypesSeen, b: TypesSeen) -> TypesSeen:
    """Both states: per class, its first rows in the first two partitions that hold it.

    Examples
    --------
    >>> merge_types({"text": ((2, 0, "'a'"),)}, {"text": ((0, 5, "'b'"), (1, 0, "'c'"))})
    {'text': ((0, 5, "'b'"), (1, 0, "'c'"))}
    """
    out = dict(a)
    for name, seen in b.items():
        firsts: dict[int, Example] = {}
        for example in sorted((*out.get(name, ()), *seen)):
            firsts.setdefault(example[0], example)
        out[name] = tuple(firsts.values())[:2]
    return out


def merged_types(states: Sequence[TypesSeen]) -> TypesSeen:
    """Every state merged (:func:`merge_types`)."""
    out: TypesSeen = {}
    for state in states:
        out = merge_types(out, state)
    return out


def conflict(seen: TypesSeen) -> tuple[tuple[str, Example], tuple[str, Example]] | None:
    """Two classes seen in two different partitions, the first such pair in the frame's
    order, or None: one partition types a column once, so two classes in one partition are
    the one-process reading of that partition.

    Examples
    --------
    >>> conflict({"number": ((0, 3, "7"),), "text": ((0, 1, "'a'"),)}) is None
    True
    >>> conflict({"number": ((0, 3, "7"),), "text": ((0, 1, "'a'"), (2, 0, "'7'"))})
    (('number', (0, 3, '7')), ('text', (2, 0, "'7'")))
    """
    names = sorted(seen)
    pairs = [
        ((x, p), (y, q))
        for i, x in enumerate(names)
        for y in names[i + 1 :]
        for p in seen[x]
        for q in seen[y]
        if p[0] != q[0]
    ]
    if not pairs:
        return None
    return min(pairs, key=lambda pair: sorted([pair[0][1], pair[1][1]]))


def _where(example: Example) -> str:
    partition, row, value = example
    return f"partition {partition} ({value}, row {row + 1} of the partition)"


def check_id_types(seen: TypesSeen, column: str, feature: str) -> None:
    """Refuse customer ids that are numbers in one partition and text in another (``column``:
    the frame's name of the column).

    Raises
    ------
    SchemaError
        Naming the column, both types and a row of each.

    Examples
    --------
    >>> check_id_types({"number": ((0, 0, "7 at index 0"),),
    ...     "text": ((1, 4, "'7' at index 9"),)}, "customer_id", "cxmodel.dask.nps()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: cxmodel.dask.nps(): customer_id holds numbers in partition 0 (7 at index 0, row 1 of the partition) and text in partition 1 ('7' at index 9, row 5 of the partition); each partition is read on its own, so a number and the same digits as text in another partition (7 and '7') would be taken for one customer, where one process refuses them: give the column one type in every partition, e.g. ddf['customer_id'] = ddf['customer_id'].astype(str)
    """
    found = conflict(seen)
    if found is None:
        return
    where = dict(found)
    raise SchemaError(
        f"{feature}: {column} holds numbers in {_where(where['number'])} and text in "
        f"{_where(where['text'])}; each partition is read on its own, so a number and the same "
        "digits as text in another partition (7 and '7') would be taken for one customer, "
        "where one process refuses them: give the column one type in every partition, e.g. "
        f"ddf[{column!r}] = ddf[{column!r}].astype(str)"
    )


def check_by_types(seen: TypesSeen, by: str, feature: str) -> None:
    """Refuse a ``by`` column that partitions typed differently (numbers in one, text in
    another).

    Raises
    ------
    SchemaError
        Naming the column, both types, a value of each and what to do.

    Examples
    --------
    >>> check_by_types({"float": ((0, 0, "3.0"),), "string": ((1, 0, "'north'"),)},
    ...     "region", "cxmodel.dask.csat()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: cxmodel.dask.csat(): by='region' is float in some partitions (3.0) and string in others ('north'); each partition is read on its own, so its groups would be numbers in some partitions and text in others, where one process reads the whole column as text: give the column one type in every partition first, e.g. ddf['region'] = ddf['region'].astype(str)
    """
    found = conflict(seen)
    if found is None:
        return
    (first, a), (second, b) = sorted(found, key=lambda pair: pair[1])
    raise SchemaError(
        f"{feature}: by={by!r} is {first} in some partitions ({a[2]}) and {second} in others "
        f"({b[2]}); each partition is read on its own, so its groups would be numbers in some "
        "partitions and text in others, where one process reads the whole column as text: "
        f"give the column one type in every partition first, e.g. ddf[{by!r}] = "
        f"ddf[{by!r}].astype(str)"
    )


def check_logs_by(parts: Any, by: str | None, feature: str) -> None:
    """:func:`check_by_types` over the persisted customer partitions (a small computation:
    the logs are not read again)."""
    if by is None:
        return
    dask = import_optional("dask", feature)
    seen = dask.compute(
        *(dask.delayed(by_types, pure=True)(log, by, n) for n, log in enumerate(parts.logs))
    )
    check_by_types(merged_types(seen), by, feature)
