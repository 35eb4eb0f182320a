"""Exact order statistics of samples spread over partitions: any ranks, any budget and
refinement, any merge tree of the partitions' answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.dask._order_statistics import (
    log_floor,
    log_width,
    merge_samples,
    order_statistics,
    runs,
    sample_in,
)
from tests.dask.frames import merged


@st.composite
def spread_samples(draw: st.DrawFn) -> tuple[list[Any], Any]:
    """Non-negative integers (many ties, some near 2**62) split over 1-5 partitions."""
    pool = draw(st.lists(st.integers(0, 2**62), min_size=1, max_size=6), label="pool")
    picks = st.one_of(st.sampled_from(pool), st.integers(0, 300), st.integers(0, 2**62))
    values = draw(st.lists(picks, min_size=1, max_size=120), label="values")
    n = draw(st.integers(1, 5), label="partitions")
    owner = draw(st.lists(st.integers(0, n - 1), min_size=len(values), max_size=len(values)))
    whole = np.array(values, dtype=np.int64)
    owners = np.array(owner)
    return [np.sort(whole[owners == i]) for i in range(n)], np.sort(whole)


@settings(max_examples=100, deadline=None)
@given(
    spread=spread_samples(),
    data=st.data(),
    budget=st.integers(0, 50),
    refine_bits=st.integers(1, 12),
)
def test_order_statistics_are_exact(
    spread: tuple[list[Any], Any], data: st.DataObject, budget: int, refine_bits: int
) -> None:
    """Any ranks of a sample spread over partitions are its sorted values at those ranks,
    whatever the budget and the refinement (answers merged in any tree)."""
    parts, whole = spread
    ranks = np.array(
        data.draw(st.lists(st.integers(0, len(whole) - 1), min_size=1, max_size=8)),
        dtype=np.int64,
    )
    histogram = merged(data, [runs(np.sort(log_floor(p))) for p in parts], merge_samples)
    rounds = []

    def fetch(queries: Any) -> list[Any]:
        rounds.append(len(queries))
        answers = [[sample_in(p, f, w, s) for _, f, w, s in queries] for p in parts]
        return merged(data, answers, lambda a, b: list(map(merge_samples, a, b)))

    got = order_statistics({"e": histogram}, {"e": ranks}, fetch, budget=budget,
                           refine_bits=refine_bits)  # fmt: skip
    assert got["e"].tolist() == whole[ranks].tolist()
    assert len(rounds) <= 1 + -(-62 // refine_bits)


def test_log_bins_are_consistent() -> None:
    """Every value lies in the bin its floor names, and the floor is its own floor."""
    values = np.array([0, 1, 63, 64, 65, 127, 128, 1000, 2**40 + 12345, 2**62 + 7], dtype=np.int64)
    floors = log_floor(values)
    assert log_floor(floors).tolist() == floors.tolist()
    for v, f in zip(values.tolist(), floors.tolist(), strict=True):
        assert f <= v < f + log_width(f)
