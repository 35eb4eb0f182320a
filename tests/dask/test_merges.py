"""The partial states of the per-customer Dask analyses merge to the one-process result, for
any partitioning of the customers (empty partitions included) and any merge order and tree.

These call the partial, merge and result functions directly, without a scheduler, so each
hypothesis example costs a few milliseconds; the last test runs the same analyses through
``from_dask`` on random input partitionings that split customers over many partitions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")

from hypothesis import given, settings
from hypothesis import strategies as st

import dask
from cxmodel import dask as cxd
from cxmodel import journey, triggers
from cxmodel.dask._customer_table import customer_table_of, customer_table_partial
from cxmodel.dask._funnel import FunnelPartial, funnel_partial, funnel_result
from cxmodel.dask._journeys import transitions_of
from cxmodel.dask._paths import (
    combine_paths,
    merge_paths,
    path_candidates,
    paths_of,
    paths_partial,
)
from cxmodel.dask._step_matrix import merge_step_matrices, step_matrix_of, step_matrix_partial
from cxmodel.dask._triggers import evaluate_partial, firings_of
from cxmodel.datasets import synthetic
from cxmodel.log import InteractionLog
from cxmodel.triggers._batch import as_of_us
from tests.dask.frames import (
    assert_same,
    assert_same_table,
    customer_partitions,
    merged,
    uneven,
    with_ties,
)

AS_OF = "2024-12-31T00:00Z"
STEPS = ("view", "product_view", "add_to_cart", "purchase")
RULES = triggers.parse(triggers.EXAMPLE_RULES)


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """40 customers with tied instants and missing touchpoints; text columns as Python
    strings, so every partition has its own vocabulary; one ticket topic only one customer
    has (a customer-table column that most partitions lack)."""
    frame = with_ties(synthetic(customers=40, seed=8).log.to_pandas())
    text = [c for c in frame.columns if str(frame[c].dtype) == "category"]
    frame = frame.astype(dict.fromkeys(text, object))
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    opened = np.flatnonzero(frame["kind"].to_numpy() == "ticket_opened")
    frame.loc[opened[0], "topic"] = "rare"
    frame["sentiment"] = np.where(np.arange(len(frame)) % 4 == 0, np.nan, np.sin(len(frame)))
    return InteractionLog.from_pandas(frame), frame


@st.composite
def partitionings(draw: st.DrawFn, customers: list[str]) -> tuple[dict[str, int], int]:
    """An assignment of the customers to 1-6 partitions (some may stay empty)."""
    n = draw(st.integers(1, 6), label="partitions")
    parts = draw(st.lists(st.integers(0, n - 1), min_size=len(customers), max_size=len(customers)))
    return dict(zip(customers, parts, strict=True)), n


def split(world: tuple[InteractionLog, Any], data: st.DataObject) -> list[InteractionLog | None]:
    log, rows = world
    part_of, n = data.draw(partitionings(log.customers.tolist()), label="partitioning")
    return customer_partitions(rows, part_of, n)


FUNNELS: list[dict[str, Any]] = [
    {},
    {"order": "strict", "by": "channel"},
    {"order": "any", "count": "totals", "window": "7d"},
    {"exclude": ["ticket_opened"], "by": "touchpoint", "quantiles": (0.0, 0.37, 1.0)},
    {"hold": "category", "step_windows": ["1d", None, "2d"]},
]


@settings(max_examples=25, deadline=None)
@given(data=st.data(), kwargs=st.sampled_from(FUNNELS))
def test_funnel_partials_merge_exactly(
    world: tuple[InteractionLog, Any], data: st.DataObject, kwargs: dict[str, Any]
) -> None:
    """Counts add, time samples concatenate, drop-offs and groups add by label: any
    partitioning and merge tree gives the one-process funnel."""
    options = {
        "order": kwargs.get("order", "loose"),
        "window": kwargs.get("window"),
        "step_windows": kwargs.get("step_windows"),
        "hold": kwargs.get("hold"),
        "count": kwargs.get("count", "customers"),
    }
    exclude = tuple(kwargs["exclude"]) if "exclude" in kwargs else None
    by = kwargs.get("by")
    partials = [funnel_partial(p, STEPS, exclude, options, by) for p in split(world, data)]
    state = merged(data, partials, FunnelPartial.merge)
    quantiles = kwargs.get("quantiles", (0.5, 0.9))
    got = funnel_result(state, STEPS, by is not None, quantiles)
    assert_same(got, journey.funnel(world[0], list(STEPS), **kwargs))


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_evaluate_partials_merge_exactly(
    world: tuple[InteractionLog, Any], data: st.DataObject
) -> None:
    """The partitions' firings, in any order, are the one-process firings and suppressed
    firings, with the same ids and order."""
    cutoff = as_of_us(AS_OF)
    partials = [evaluate_partial(p, RULES, cutoff, None) for p in split(world, data)]
    got = firings_of(data.draw(st.permutations(partials), label="partition order"))
    one = triggers.evaluate(RULES, world[0], as_of=AS_OF)
    assert got.to_dict() == one.to_dict()
    assert [f.firing_id for f in got.suppressed] == [f.firing_id for f in one.suppressed]


TRANSITIONS: list[dict[str, Any]] = [
    {},
    {"level": "touchpoint", "quantiles": (0.0, 0.37, 1.0)},
    {"by": "channel", "start_end": False},
    {"by": "touchpoint", "level": "touchpoint", "quantiles": (0.5,)},
    {"quantiles": ()},
]


@settings(max_examples=25, deadline=None)
@given(
    data=st.data(),
    kwargs=st.sampled_from(TRANSITIONS),
    budget=st.sampled_from([0, 3, 1 << 20]),
    refine_bits=st.integers(1, 12),
)
def test_transitions_merge_and_select_exactly(
    world: tuple[InteractionLog, Any],
    data: st.DataObject,
    kwargs: dict[str, Any],
    budget: int,
    refine_bits: int,
) -> None:
    """Edge counts and gap histograms merge in any tree; the selection rounds (exact fetches
    or refinements, whatever the budget) give the one-process quantiles, ties included."""
    logs = split(world, data)

    def run(partial: Any, merge: Any, args: tuple[Any, ...]) -> Any:
        return merged(data, [partial(log, *args) for log in logs], merge)

    options = (
        kwargs.get("level", "kind"),
        kwargs.get("start_end", True),
        False,
        kwargs.get("by"),
        kwargs.get("quantiles", (0.25, 0.5, 0.75, 0.9)),
    )
    got = transitions_of(run, *options, budget=budget, refine_bits=refine_bits)
    assert_same(got, journey.transitions(world[0], **kwargs))


PATHS: list[dict[str, Any]] = [
    {"top": 5},
    {"top": 3, "collapse_repeats": True, "max_length": 3, "conversion": "purchase"},
    {"level": "touchpoint", "by": "channel", "top": 4},
    {"max_length": 2, "by": "touchpoint", "conversion": ("touchpoint", "website")},
]


@settings(max_examples=25, deadline=None)
@given(data=st.data(), kwargs=st.sampled_from(PATHS), n_buckets=st.integers(1, 3))
def test_paths_partials_merge_exactly(
    world: tuple[InteractionLog, Any], data: st.DataObject, kwargs: dict[str, Any], n_buckets: int
) -> None:
    """Variants are bucketed by their labels; in each bucket equal variants of different
    partitions become one, with the earlier first unit, in any merge tree (pairwise or many at
    once); the buckets' top candidates give the one-process top variants, ties included."""
    options = (
        kwargs.get("max_length"),
        kwargs.get("collapse_repeats", False),
        kwargs.get("conversion"),
        kwargs.get("level", "kind"),
        False,
    )
    by, top = kwargs.get("by"), kwargs.get("top", 20)
    partials = [paths_partial(p, options, by, n_buckets) for p in split(world, data)]
    candidates = [
        path_candidates(merged(data, [p[b] for p in partials], merge_paths, combine_paths), top)
        for b in range(n_buckets)
    ]
    state = combine_paths(data.draw(st.permutations(candidates), label="bucket order"))
    got = paths_of(state, top, "conversion" in kwargs, by is not None)
    assert_same(got, journey.paths(world[0], **kwargs))


STEP_MATRICES: list[dict[str, Any]] = [
    {"steps": 4},
    {"anchor": "purchase", "steps": 3, "by": "channel"},
    {"level": "touchpoint", "anchor": ("touchpoint", "website"), "steps": 2, "by": "touchpoint"},
]


@settings(max_examples=20, deadline=None)
@given(data=st.data(), kwargs=st.sampled_from(STEP_MATRICES))
def test_step_matrix_partials_merge_exactly(
    world: tuple[InteractionLog, Any], data: st.DataObject, kwargs: dict[str, Any]
) -> None:
    """Rows of the same label add: any partitioning gives the one-process matrix, with a row
    for every category even when a partition lacks it."""
    anchor, steps, level, by = (
        kwargs.get("anchor"),
        kwargs["steps"],
        kwargs.get("level", "kind"),
        kwargs.get("by"),
    )
    partials = [step_matrix_partial(p, anchor, steps, level, by) for p in split(world, data)]
    state = merged(data, partials, merge_step_matrices)
    got = step_matrix_of(state, steps, anchor is not None, by is not None)
    assert_same(got, journey.step_matrix(world[0], **kwargs))


@settings(max_examples=15, deadline=None)
@given(data=st.data(), as_of=st.sampled_from([AS_OF, "2024-04-01T00:00Z", "2019-01-01T00:00Z"]))
def test_customer_tables_concatenate_exactly(
    world: tuple[InteractionLog, Any], data: st.DataObject, as_of: str
) -> None:
    """The partitions' tables, in any order, are the one-process table (a topic column only
    some partitions have is 0 elsewhere)."""
    tables = [customer_table_partial(p, as_of) for p in split(world, data)]
    order = data.draw(st.permutations([t for t in tables if t is not None]), label="order")
    assert_same_table(customer_table_of(order, as_of), world[0].customers_table(as_of))


@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_from_any_input_partitioning(
    world: tuple[InteractionLog, Any], data: st.DataObject
) -> None:
    """Through from_dask (synchronous scheduler): random row order and partition sizes, so
    customers are split over many input partitions, some empty; every analysis equals one
    process."""
    rows = world[1]
    seed = data.draw(st.integers(0, 2**16), label="seed")
    n_parts = data.draw(st.integers(2, 9), label="partitions")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), min_size=n_parts - 1,
                                     max_size=n_parts - 1)))  # fmt: skip
    sizes = np.diff([0, *cuts, len(rows)]).tolist()
    shuffled = rows.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    log = InteractionLog.from_pandas(shuffled)  # ties are ordered by input position
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(shuffled, sizes))
        assert_same(cxd.paths(parts, top=4, by="channel"), journey.paths(log, top=4, by="channel"))
        assert_same(
            cxd.step_matrix(parts, anchor="purchase", steps=3),
            journey.step_matrix(log, anchor="purchase", steps=3),
        )
        assert_same(
            cxd.funnel(parts, STEPS, by="channel"), journey.funnel(log, STEPS, by="channel")
        )
        assert_same_table(cxd.customer_table(parts, as_of=AS_OF), log.customers_table(AS_OF))
        got = cxd.evaluate(RULES, parts, as_of=AS_OF)
        assert got.to_dict() == triggers.evaluate(RULES, log, as_of=AS_OF).to_dict()


def tiny() -> Any:
    """Four customers: a and d view, b and c search, in that order of ids."""
    import pandas as pd

    return pd.DataFrame(
        {
            "customer_id": ["d", "c", "b", "a"],
            "timestamp": pd.to_datetime([0, 1, 2, 3], unit="s", utc=True),
            "kind": ["view", "search", "search", "view"],
            "channel": ["web", "app", "app", "web"],
        }
    )


def test_tied_variants_go_to_the_earliest_first_customer() -> None:
    """Two variants of 2 customers each: 'view' (a, d) comes before 'search' (b, c) because a
    is the first customer, even when a and d are merged from different partitions."""
    rows = tiny()
    logs = customer_partitions(rows, {"a": 1, "b": 0, "c": 1, "d": 0}, 2)
    options = (None, False, None, "kind", False)
    for pair in (logs, logs[::-1]):
        states = [paths_partial(log, options, None)[0] for log in pair]
        got = paths_of(path_candidates(merge_paths(*states), 1), 1, False, False)
        assert got.paths == (("view",),) and got.counts.tolist() == [2]
        assert_same(got, journey.paths(InteractionLog.from_pandas(rows), top=1))


def test_group_matrices_show_every_category() -> None:
    """The 'web' customers never search, and their partition has no 'search' rows: the
    group's matrix still has a 'search' row, as in one process."""
    rows = tiny()
    logs = customer_partitions(rows, {"a": 0, "d": 0, "b": 1, "c": 1}, 2)
    partials = [step_matrix_partial(p, None, 2, "kind", "channel") for p in logs]
    got = step_matrix_of(merge_step_matrices(*partials), 2, False, True)
    assert got.group("web").labels.tolist() == ["search", "view", "END"]
    one = journey.step_matrix(InteractionLog.from_pandas(rows), steps=2, by="channel")
    assert_same(got, one)
