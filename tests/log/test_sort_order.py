"""The log's row order: one sort of packed keys, or a radix grouping plus a local fix-up,
equals a full lexsort."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cxmodel.log._log as log_module
from cxmodel import InteractionLog
from cxmodel.log._log import (
    _full_sort_order,
    _packed_sort,
    _sort_order,
    _sorted_keys,
    _TimeSteps,
)


def _reference(codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Today's order: stable by (customer, time), ties in input order."""
    return np.lexsort((np.arange(codes.size), times, codes))


@st.composite
def _inputs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(0, 300))
    customers = draw(st.integers(1, 20))
    span = draw(st.sampled_from([1, 3, 50, 10**6, 2**62]))  # 1 and 3: many ties
    seed = draw(st.integers(0, 2**32 - 1))
    layout = draw(st.sampled_from(["shuffled", "time_ordered", "sorted", "few_swaps"]))
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, customers, n).astype(np.int32)
    times = rng.integers(-span, span, n, dtype=np.int64)
    if span <= 10**6 and draw(st.booleans()):  # whole seconds in microseconds: a common step
        times *= 1_000_000
    if layout == "time_ordered":
        times = np.sort(times)
    elif layout == "sorted":
        order = np.lexsort((times, codes))
        codes, times = codes[order], times[order]
    elif layout == "few_swaps" and n > 1:
        times = np.sort(times)
        for _ in range(3):
            i, j = rng.integers(0, n, 2)
            times[[i, j]] = times[[j, i]]
    return codes, times


@settings(max_examples=300, deadline=None)
@given(_inputs())
def test_sort_order_equals_lexsort(data: tuple[np.ndarray, np.ndarray]) -> None:
    codes, times = data
    expected = _reference(codes, times)
    assert _sort_order(codes, times).tolist() == expected.tolist()
    probe = log_module._PROBE
    log_module._PROBE = 0  # never take the shuffled shortcut: exercise the local fix-up
    try:
        assert _sort_order(codes, times).tolist() == expected.tolist()
    finally:
        log_module._PROBE = probe
    assert _full_sort_order(codes, times).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_sorted_keys_are_the_keys_in_that_order(data: tuple[np.ndarray, np.ndarray]) -> None:
    """The codes and times returned with the order are the input's, in that order."""
    codes, times = data
    for probe in (log_module._PROBE, 0):
        saved, log_module._PROBE = log_module._PROBE, probe
        try:
            order, sorted_codes, sorted_times = _sorted_keys(codes, times)
        finally:
            log_module._PROBE = saved
        assert order.tolist() == _reference(codes, times).tolist()
        assert sorted_codes.tolist() == codes[order].tolist()
        assert sorted_times.tolist() == times[order].tolist()


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_radix_path_without_packing(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Keys that do not pack into 64 bits take the radix grouping and local fix-up, with the
    same order and keys (forced here for every input)."""
    codes, times = data
    saved_sort, saved_probe = log_module._packed_sort, log_module._PROBE
    log_module._packed_sort = lambda customers, steps: None
    try:
        for probe in (saved_probe, 0):
            log_module._PROBE = probe
            order, sorted_codes, sorted_times = _sorted_keys(codes, times)
            assert order.tolist() == _reference(codes, times).tolist()
            assert sorted_codes.tolist() == codes[order].tolist()
            assert sorted_times.tolist() == times[order].tolist()
    finally:
        log_module._packed_sort, log_module._PROBE = saved_sort, saved_probe


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_packed_sort_unpacks_the_keys(data: tuple[np.ndarray, np.ndarray]) -> None:
    """When the keys pack, the codes and times unpacked from the sorted keys are the input's
    in the lexsort order; when they do not, there is no packed order."""
    codes, times = data
    if not times.size:
        return
    steps = _TimeSteps.of(times)
    packed = _packed_sort(codes, steps)
    fits = (
        int(codes.max()).bit_length() + steps.span.bit_length() + (times.size - 1).bit_length()
        <= 64
    )
    assert (packed is not None) == fits
    if packed is not None:
        order, sorted_codes, sorted_times = packed
        assert order.tolist() == _reference(codes, times).tolist()
        assert sorted_codes.dtype == np.int32 and sorted_times.dtype == np.int64
        assert sorted_codes.tolist() == codes[order].tolist()
        assert sorted_times.tolist() == times[order].tolist()


def test_packed_sort_of_microsecond_times_over_years() -> None:
    """Times in microseconds over ten years do not pack with 2**20 customers and 50,000 rows
    (20 + 49 + 16 bits): the radix path sorts them, time-ordered or shuffled."""
    rng = np.random.default_rng(3)
    n = 50_000
    codes = rng.integers(0, 2**20, n).astype(np.int32)
    codes[0] = 2**20 - 1
    times = np.sort(rng.integers(0, 10 * 365 * 86_400 * 10**6, n))
    times[0], times[-1] = 0, 10 * 365 * 86_400 * 10**6 + 1
    assert _packed_sort(codes, _TimeSteps.of(times)) is None
    for shuffled in (False, True):
        order = rng.permutation(n) if shuffled else np.arange(n)
        c, t = codes[order], times[order]
        assert _sort_order(c, t).tolist() == _reference(c, t).tolist()


@pytest.mark.parametrize("layout", ["shuffled", "time_ordered"])
def test_log_row_order_with_string_ids(layout: str) -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    ids = np.array([f"c{i}" for i in range(3_000)], dtype=object)
    customer = ids[rng.integers(0, ids.size, n)]
    times = rng.integers(0, 1_000, n)  # many equal times per customer
    if layout == "time_ordered":
        times = np.sort(times)
    log = InteractionLog.from_arrays(customer, times, np.full(n, "view", dtype=object))
    cats = np.unique(customer.astype(str))
    codes = np.searchsorted(cats, customer.astype(str))
    stamps = times.astype(np.int64) * 1_000_000
    assert log.row_order.tolist() == _reference(codes, stamps).tolist()
    assert log.customers.tolist() == cats.tolist()
