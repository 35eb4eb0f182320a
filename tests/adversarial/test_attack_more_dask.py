"""cxmodel.dask attacked with hostile partitionings: twenty one-row partitions, empty ones, every
customer and order split across partitions, integer ids, naive times read in a zone. The merged
answer, and every warning with its counts, must be the one-process answer."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")

import cxmodel as cx  # noqa: E402
from cxmodel import dask as cxd  # noqa: E402
from cxmodel.errors import CXModelError  # noqa: E402
from cxmodel.log import InteractionLog  # noqa: E402
from tests.dask.frames import alike  # noqa: E402

AS_OF = "2024-12-31T00:00Z"
LATE = "2026-12-31T00:00Z"  # two years after the data: warnings with counts


@pytest.fixture(autouse=True, scope="module")
def synchronous() -> Iterator[None]:
    """Dask's synchronous scheduler: no cluster, deterministic and fast."""
    with dask.config.set(scheduler="synchronous"):
        yield


def _split(frame: Any, sizes: list[int]) -> Any:
    """A Dask frame of ``frame``'s rows cut at ``sizes`` (zeros are empty partitions)."""
    edges = np.concatenate([[0], np.cumsum(sizes)])
    chunks = [frame.iloc[a:b] for a, b in pairwise(edges)]
    return dd.from_delayed([dask.delayed(c) for c in chunks], meta=frame.iloc[:0])


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """25 synthetic customers, rows shuffled (every customer and order spread out), cut into
    twenty one-row partitions, two empty ones and the rest."""
    frame = cx.datasets.synthetic(customers=25, seed=3).log.to_pandas()
    rows = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    n = len(rows)
    return InteractionLog.from_pandas(rows), _split(rows, [1] * 20 + [0, 0] + [n - 20])


def _run(call: Callable[[], Any]) -> tuple[Any, list[tuple[str, str]]]:
    """The result of ``call()`` (a frame for results) and its warnings: class name and text,
    the caller's name left out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    said = sorted(
        (type(w.message).__name__, str(w.message).replace("cxmodel.dask.", ""))
        for w in caught
        if type(w.message).__module__.startswith("cxmodel")
    )
    return (out.to_pandas() if hasattr(out, "to_pandas") else out), said


CASES: dict[str, tuple[Callable[[InteractionLog], Any], Callable[[Any], Any]]] = {
    "nps": alike(cx.metrics.nps, cxd.nps),
    "nps-by-month": alike(cx.metrics.nps, cxd.nps, by="touchpoint", period="month"),
    "csat-by-week": alike(cx.metrics.csat, cxd.csat, period="week"),
    "ces-by-channel": alike(cx.metrics.ces, cxd.ces, by="channel"),
    "rfm-scores": alike(cx.segment.rfm_scores, cxd.rfm_scores, as_of=AS_OF),
    "rfm-summary": alike(cx.models.rfm_summary, cxd.rfm_summary),
    "cohorts": alike(cx.metrics.cohort_retention, cxd.cohort_retention, period="month"),
    "lifetimes": alike(cx.metrics.customer_lifetimes, cxd.customer_lifetimes, AS_OF),
    "lifetimes-after-the-data": alike(cx.metrics.customer_lifetimes, cxd.customer_lifetimes, LATE),
    "transitions": alike(cx.journey.transitions, cxd.transitions),
}


class TestOneRowAndEmptyPartitions:
    @pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
    def test_equals_the_whole(self, world: tuple[InteractionLog, Any], case: str) -> None:
        """Same table and same warnings (class, text and counts) as on the whole log."""
        pd = pytest.importorskip("pandas")
        log, frame = world
        whole, partitioned = CASES[case]
        expected, expected_said = _run(lambda: whole(log))
        actual, actual_said = _run(lambda: partitioned(frame))
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(actual, expected)
        else:
            assert actual == expected
        assert actual_said == expected_said


class TestDegenerateFrames:
    def test_no_rows(self) -> None:
        """A frame of empty partitions: the empty NPS (n = 0, value NaN), as for an empty log."""
        frame = cx.datasets.synthetic(customers=5, seed=0).log.to_pandas().iloc[:0]
        parts = cxd.nps(_split(frame, [0, 0]))
        whole = cx.metrics.nps(InteractionLog.from_pandas(frame))
        assert (parts.n, whole.n) == (0, 0)
        assert np.isnan(parts.value) and np.isnan(whole.value)

    def test_integer_ids_sort_as_the_whole(self) -> None:
        """Integer customer ids become text in both, in the same (text) order."""
        frame = cx.datasets.synthetic(customers=20, seed=3).log.to_pandas()
        frame["customer_id"] = frame["customer_id"].str[1:].astype(int)
        whole = cx.segment.rfm_scores(InteractionLog.from_pandas(frame), as_of="2025-01-01T00:00Z")
        parts = cxd.rfm_scores(_split(frame, [7, len(frame) - 7]), as_of="2025-01-01T00:00Z")
        assert parts.customer_id.tolist() == whole.customer_id.tolist()

    def test_naive_times_in_a_zone(self) -> None:
        """Naive timestamps read in Europe/Paris, days in Paris (cxd's ``timezone`` is both):
        the same daily NPS table, an answer at 00:04 Paris time on the 20th on the 20th."""
        pd = pytest.importorskip("pandas")
        frame = cx.datasets.synthetic(customers=20, seed=3).log.to_pandas()
        frame["timestamp"] = frame["timestamp"].dt.tz_localize(None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small groups: SmallSampleWarning in both
            whole = cx.metrics.nps(
                InteractionLog.from_pandas(frame, timezone="Europe/Paris"),
                period="day",
                timezone="Europe/Paris",
            )
            parts = cxd.nps(
                _split(frame, [9, len(frame) - 9]), period="day", timezone="Europe/Paris"
            )
        pd.testing.assert_frame_equal(parts.to_pandas(), whole.to_pandas())


class TestErrorsNameTheRow:
    def test_answers_without_scores(self) -> None:
        """Rows count from 1 (docs/guide/bad-input.md); the second record is row 2, as the
        loader says for a bad score there."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c"],
            timestamp=["2024-01-01T00:00Z"] * 3,
            kind=["view", "survey", "survey"],
            metric=[None, "nps", "nps"],
        )
        with pytest.raises(CXModelError, match=r"^row 2:"):
            cx.metrics.nps(log)
