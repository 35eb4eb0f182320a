"""Helpers of the Dask tests: uneven frames, tied rows, customer partitions, random merge
trees, pairs of one-process and Dask calls, field-by-field comparisons of results and metric tables, and of the errors raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, TypeVar

import dask.dataframe as dd
import numpy as np
import pytest
from hypothesis import strategies as st

import dask
from cxmodel.errors import CXModelError
from cxmodel.log import InteractionLog
from cxmodel.metrics import MetricTable

S = TypeVar("S")

# Quantile levels the one-process analyses refuse: text, NaN, outside [0, 1], nested, a number.
BAD_QUANTILES: dict[str, Any] = {
    "text": ["a"],
    "text-of-number": "0.5",
    "nan": [float("nan")],
    "above-one": [0.5, 1.5],
    "below-zero": [-0.1],
    "nested": [[0.5]],
    "bare-number": 0.5,
}


def alike(
    one: Callable[..., Any], many: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Callable[[InteractionLog], Any], Callable[[Any], Any]]:
    """The one-process analysis ``one`` and its Dask counterpart ``many``, each a function of
    its data called with the same further arguments."""
    return (lambda log: one(log, *args, **kwargs), lambda data: many(data, *args, **kwargs))


def from_chunks(chunks: list[Any]) -> Any:
    """A Dask frame whose partitions are ``chunks`` as they are (dtypes may differ)."""
    return dd.from_delayed(
        [dask.delayed(c) for c in chunks], meta=chunks[0].iloc[:0], verify_meta=False
    )


def uneven(frame: Any, sizes: list[int]) -> Any:
    """A Dask frame of ``frame``'s rows split at the given partition sizes (zeros = empty)."""
    edges = np.concatenate([[0], np.cumsum(sizes)])
    chunks = [frame.iloc[a:b] for a, b in pairwise(edges)]
    return dd.from_delayed([dask.delayed(c) for c in chunks], meta=frame.iloc[:0])


def with_ties(frame: Any) -> Any:
    """The frame with some rows moved to the instant of another row of the same customer,
    and some touchpoints missing, so that ties and the missing label are exercised."""
    out = frame.copy()
    rng = np.random.default_rng(5)
    rows = rng.choice(len(out) - 1, size=len(out) // 10, replace=False)
    same = out["customer_id"].to_numpy()[rows] == out["customer_id"].to_numpy()[rows + 1]
    rows = rows[same]
    ts = out["timestamp"].to_numpy().copy()
    ts[rows + 1] = ts[rows]
    out["timestamp"] = ts
    out["touchpoint"] = out["touchpoint"].astype(object)
    out.loc[out.index[rng.random(len(out)) < 0.05], "touchpoint"] = None
    return out


def customer_partitions(rows: Any, part_of: dict[str, int], n: int) -> list[InteractionLog | None]:
    """``n`` partition logs holding the customers ``part_of`` assigns them (None if empty),
    each customer's rows in input order, as :func:`cxmodel.dask.from_dask` builds them."""
    owner = rows["customer_id"].astype(str).map(part_of).to_numpy()
    return [
        InteractionLog.from_pandas(rows[owner == i].reset_index(drop=True))
        if (owner == i).any()
        else None
        for i in range(n)
    ]


def merged(
    data: st.DataObject,
    states: Sequence[S],
    merge: Callable[[S, S], S],
    combine: Callable[[Sequence[S]], S] | None = None,
) -> S:
    """The states merged in an order and a tree shape that hypothesis draws; with
    ``combine``, some runs of adjacent states are merged in one call."""
    level = list(data.draw(st.permutations(list(states)), label="merge order"))
    while len(level) > 1:
        i = data.draw(st.integers(0, len(level) - 2), label="merge at")
        if combine is None or data.draw(st.booleans(), label="pairwise"):
            level[i : i + 2] = [merge(level[i], level[i + 1])]
        else:
            j = data.draw(st.integers(i + 2, len(level)), label="combine up to")
            level[i:j] = [combine(level[i:j])]
    return level[0]


def assert_same(a: Any, b: Any) -> None:
    """Equal attrs results: every field (groups recursively), arrays with the same dtype and
    shape (NaN equal to NaN)."""
    assert type(a) is type(b)
    for field in a.__attrs_attrs__:
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "groups" and x is not None:
            assert len(x) == len(y)
            for g, h in zip(x, y, strict=True):
                assert_same(g, h)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, field.name
            assert x.shape == y.shape, field.name
            if x.dtype.kind == "f":
                np.testing.assert_array_equal(x, y, err_msg=field.name)
            else:
                assert x.tolist() == y.tolist(), field.name
        else:
            assert x == y, field.name


def assert_same_table(a: Any, b: Any) -> None:
    """Equal customer tables: ids, columns in order, values and dtypes, and ``as_of``."""
    assert a.columns == b.columns
    assert a.as_of == b.as_of
    for name in a.columns:
        x, y = a.column(name), b.column(name)
        assert x.dtype == y.dtype, name
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x.tolist() == y.tolist(), name


def assert_tables_equal(a: MetricTable, b: MetricTable) -> None:
    """Same columns in the same order, same rows, equal values (NaN equal to NaN)."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for name in a.columns:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x.tolist() == y.tolist(), name


def assert_same_error(one: Callable[[], Any], mine: Callable[[], Any], name: str) -> None:
    """``mine`` raises the error ``one`` raises: the same class and message, with the
    one-process function ``name()`` named ``cxmodel.dask.name()``."""
    with pytest.raises(CXModelError) as expected:
        one()
    with pytest.raises(CXModelError) as got:
        mine()
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value).replace(f"{name}()", f"cxmodel.dask.{name}()", 1)
