"""Dask frames split unevenly, for the Dask tests."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import dask.dataframe as dd
import numpy as np

import dask


def uneven(frame: Any, sizes: list[int]) -> Any:
    """A Dask frame of ``frame``'s rows split at the given partition sizes (zeros = empty)."""
    edges = np.concatenate([[0], np.cumsum(sizes)])
    chunks = [frame.iloc[a:b] for a, b in pairwise(edges)]
    return dd.from_delayed([dask.delayed(c) for c in chunks], meta=frame.iloc[:0])
