"""paths on Dask: variant states merge in any tree with ties to the earliest first unit,
and the Dask paths equal the one-process paths."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel import journey
from cxmodel.dask._paths import (
    combine_paths,
    merge_paths,
    path_candidates,
    paths_of,
    paths_partial,
)
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, customer_partitions, merged, uneven
from tests.dask.worlds import (
    OnSmallWorld,
    shuffled_world_fixture,  # noqa: F401 (the module's world)
    split,
    tiny,
)

PATHS: list[dict[str, Any]] = [
    {"top": 5},
    {"top": 3, "collapse_repeats": True, "max_length": 3, "conversion": "purchase"},
    {"level": "touchpoint", "by": "channel", "top": 4},
    {"max_length": 2, "by": "touchpoint", "conversion": ("touchpoint", "website")},
]


class TestPartials(OnSmallWorld):
    """The partitions' partial states, called directly (no scheduler), on a small world."""

    @settings(max_examples=25, deadline=None)
    @given(data=st.data(), kwargs=st.sampled_from(PATHS), n_buckets=st.integers(1, 3))
    def test_paths_partials_merge_exactly(
        self,
        world: tuple[InteractionLog, Any],
        data: st.DataObject,
        kwargs: dict[str, Any],
        n_buckets: int,
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


class TestPaths:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"top": 5},
            {"collapse_repeats": True, "max_length": 3, "conversion": "purchase", "by": "channel"},
            {"level": "touchpoint", "by": "touchpoint", "top": 3},
        ],
    )
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, kwargs: dict[str, Any]
    ) -> None:
        """The top variants, counts, shares and conversion rates, per group too."""
        assert_same(cxd.paths(parts, **kwargs), journey.paths(world[0], **kwargs))

    def test_sessions_from_a_frame(self, world: tuple[InteractionLog, Any], client: Client) -> None:
        """Session paths of a shuffled frame: ties go to the first session in log order."""
        log = journey.sessions(world[0])
        rows = log.to_pandas().sample(frac=1.0, random_state=2).reset_index(drop=True)
        one = journey.paths(InteractionLog.from_pandas(rows), by_session=True, max_length=2)
        got = cxd.paths(uneven(rows, [9, 0, len(rows) - 9]), by_session=True, max_length=2)
        assert_same(got, one)

    def test_checks_as_one_process(self, world: tuple[InteractionLog, Any], parts: Any) -> None:
        """A misspelt conversion kind raises, an absent value warns, bad options raise."""
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            cxd.paths(parts, conversion=("touchpoint", "websit"))
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            journey.paths(world[0], conversion=("touchpoint", "websit"))
        assert [str(w.message) for w in mine] == [str(w.message) for w in theirs]
        assert len(mine) == 1 and "did you mean 'website'" in str(mine[0].message)
        with pytest.raises(SchemaError, match="did you mean 'purchase'"):
            cxd.paths(parts, conversion="purchse")
        with pytest.raises(SchemaError, match="top"):
            cxd.paths(parts, top=0)
        with pytest.raises(SchemaError, match="column name"):
            cxd.paths(parts, by=["a"])


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
