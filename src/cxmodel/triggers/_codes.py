"""Object columns and their codes on the streaming engine's columnar path: values held as
numpy object arrays (text kept as Python text, which numpy's own text type is not: it drops
trailing NUL characters), coded by the order they are first seen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["first_seen_codes", "first_seen_recoded", "object_array", "present_and_missing"]


def object_array(values: Iterable[Any]) -> npt.NDArray[Any]:
    """``values`` as a one-dimensional object array, one slot per value (a tuple or a list
    among them stays one value).

    Examples
    --------
    >>> object_array(["a", None, ("b", 1)]).tolist()
    ['a', None, ('b', 1)]
    """
    listed = values if isinstance(values, (list, tuple)) else list(values)
    return np.fromiter(listed, dtype=object, count=len(listed))


def first_seen_codes(
    values: Iterable[Any], coded: Mapping[Any, int] | None = None
) -> tuple[npt.NDArray[np.int64], dict[Any, int]]:
    """Each of ``values`` coded by the order its value is first seen, after the values
    ``coded`` already codes (value -> 0, 1, 2, ...); and the codes by value.

    Examples
    --------
    >>> codes, names = first_seen_codes(["b", "a", "b"])
    >>> codes.tolist(), names
    ([0, 1, 0], {'b': 0, 'a': 1})
    >>> codes, names = first_seen_codes(["c", "a"], {"a": 0, "b": 1})
    >>> codes.tolist(), list(names)
    ([2, 0], ['a', 'b', 'c'])
    """
    listed = values.tolist() if isinstance(values, np.ndarray) else list(values)
    distinct = dict.fromkeys(listed)  # in the order first seen
    if coded:
        names = dict(coded)
        for value in distinct:
            if value not in names:
                names[value] = len(names)
    else:
        names = dict(zip(distinct, range(len(distinct))))
    # a list first: numpy reads it about twice as fast as the same iterator
    return np.array(list(map(names.__getitem__, listed)), dtype=np.int64), names


def first_seen_recoded(
    codes: npt.NDArray[np.integer[Any]], labels: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.int64], dict[Any, int]]:
    """:func:`first_seen_codes` of ``labels[codes]`` (``labels`` distinct, ``codes`` at
    least 0), from the codes alone.

    Examples
    --------
    >>> codes, names = first_seen_recoded(np.array([2, 0, 2]), object_array(["a", "b", "c"]))
    >>> codes.tolist(), names
    ([0, 1, 0], {'c': 0, 'a': 1})
    """
    n = len(codes)
    first = np.full(len(labels), n, dtype=np.int64)  # each label's first row (n: none)
    np.minimum.at(first, codes, np.arange(n))  # linear, where sorting to find them is not
    used = np.flatnonzero(first < n)
    by_first = used[np.argsort(first[used], kind="stable")]
    rank = np.empty(len(labels), dtype=np.int64)
    rank[by_first] = np.arange(len(by_first))
    names = dict(zip(labels[by_first].tolist(), range(len(by_first)), strict=True))
    return rank[codes], names


def present_and_missing(values: npt.NDArray[Any]) -> list[int]:
    """The positions of the first present and the first missing value of a column (floats
    with NaN missing, or objects with ``None`` missing), those there are.

    Examples
    --------
    >>> present_and_missing(np.array([np.nan, 1.0, 2.0]))
    [1, 0]
    >>> present_and_missing(object_array(["a", "b"]))
    [0]
    """
    absent = np.isnan(values) if values.dtype.kind == "f" else values == None  # noqa: E711
    return [
        int(found[0]) for found in (np.flatnonzero(~absent), np.flatnonzero(absent)) if len(found)
    ]
