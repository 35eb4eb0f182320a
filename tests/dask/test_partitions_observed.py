"""CustomerPartitions.with_observed_until declares the data observed past its last interaction,
as InteractionLog.with_observed_until does: the Dask analyses that warn about times after the
data read the declared end, and answer as one process does on the declared log.

On the local scheduler, apart from the tests with a module-wide cluster, whose threads in this
process save and restore Python's (process-wide) warning filters while a test records them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("dask.dataframe")

import dask
from cxmodel import dask as cxd
from cxmodel import journey, metrics, models
from cxmodel._time import to_us, us_to_datetime
from cxmodel.datasets import synthetic
from cxmodel.errors import DataError, DataWarning
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same, uneven

_DAY = 86_400_000_000


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, cxd.CustomerPartitions]:
    """A synthetic log and its customer partitions, from rows in random order over uneven
    partitions (two empty)."""
    log = synthetic(customers=80, seed=3).log
    rows = log.to_pandas().sample(frac=1.0, random_state=2).reset_index(drop=True)
    n = len(rows)
    with dask.config.set(scheduler="synchronous"):
        parts = cxd.from_dask(uneven(rows, [n // 3, 0, 5, 0, n - n // 3 - 5]))
    return InteractionLog.from_pandas(rows), parts


def _iso(us: int) -> str:
    return us_to_datetime(us).isoformat()


def _quiet(run: Callable[[], Any]) -> Any:
    """``run()``, asserting that it warns nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run()


# Each analysis, asked about times up to 20 days after the last interaction: (the Dask call,
# the one-process call, the warning it raises on the undeclared data).
_LATE = 20 * _DAY
_ANALYSES: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any, int], Any], str]] = {
    "rfm_summary": (
        lambda parts, at: cxd.rfm_summary(parts, as_of=_iso(at)),
        lambda log, at: models.rfm_summary(log, as_of=_iso(at)),
        "after the",
    ),
    "customer_lifetimes": (
        lambda parts, at: cxd.customer_lifetimes(parts, _iso(at), inactivity="10d"),
        lambda log, at: metrics.customer_lifetimes(log, _iso(at), inactivity="10d"),
        "after the log's last interaction",
    ),
    "cohort_retention": (
        lambda parts, at: cxd.cohort_retention(parts, period="week", as_of=_iso(at)),
        lambda log, at: metrics.cohort_retention(log, period="week", as_of=_iso(at)),
        "after the log's last interaction",
    ),
    "funnel": (
        lambda parts, at: cxd.funnel(parts, ["view", "purchase"], window=f"{at // _DAY}d"),
        lambda log, at: journey.funnel(log, ["view", "purchase"], window=f"{at // _DAY}d"),
        "every window runs past",
    ),
}


def _at(name: str, log: InteractionLog) -> int:
    """The time (or, for the funnel, the window) the analysis is asked about: past the data."""
    assert log.observed_until is not None
    if name == "funnel":  # every window, even the first view's, runs 20 days past the end
        return log.observed_until - int(log.timestamps[log.kind_mask("view")].min()) + _LATE
    return log.observed_until + _LATE


class TestWithObservedUntil:
    @pytest.mark.parametrize("name", list(_ANALYSES), ids=list(_ANALYSES))
    def test_declared_end_is_honoured_like_one_process(
        self, world: tuple[InteractionLog, cxd.CustomerPartitions], name: str
    ) -> None:
        """Undeclared, the Dask analysis warns as one process does; on partitions declared
        observed 30 days past the data it answers without a warning, as one process answers on
        the declared log, with the same result."""
        log, parts = world
        dask_run, one_run, warning = _ANALYSES[name]
        at = _at(name, log)
        assert log.observed_until is not None
        end = log.observed_until + 30 * _DAY
        with dask.config.set(scheduler="synchronous"):
            with pytest.warns(DataWarning, match=warning) as dask_warned:
                undeclared = dask_run(parts, at)
            with pytest.warns(DataWarning, match=warning) as one_warned:
                expected = one_run(log, at)
            assert_same(undeclared, expected)
            assert [str(w.message).split(": ", 1)[1] for w in dask_warned] == [
                str(w.message).split(": ", 1)[1] for w in one_warned
            ]
            declared = parts.with_observed_until(_iso(end))
            got = _quiet(lambda: dask_run(declared, at))
        assert_same(got, _quiet(lambda: one_run(log.with_observed_until(_iso(end)), at)))

    def test_every_partition_log_is_declared(
        self, world: tuple[InteractionLog, cxd.CustomerPartitions]
    ) -> None:
        """Each non-empty partition's log is observed until the declared end (empty ones stay
        None); the original partitions are unchanged; the repr shows the end."""
        log, parts = world
        with dask.config.set(scheduler="synchronous"):
            declared = parts.with_observed_until("2030-01-01T00:00Z")
            logs = dask.compute(*declared.logs)
            before = dask.compute(*parts.logs)
        until = to_us("2030-01-01T00:00Z")
        assert declared.observed_until == until and parts.observed_until is None
        assert [x is None for x in logs] == [x is None for x in before]
        assert {x.observed_until for x in logs if x is not None} == {until}
        assert max(x.observed_until for x in before if x is not None) == log.observed_until
        assert (
            repr(declared)
            == "CustomerPartitions(npartitions=5, observed_until=2030-01-01T00:00:00Z)"
        )

    def test_before_the_last_interaction_is_refused(
        self, world: tuple[InteractionLog, cxd.CustomerPartitions]
    ) -> None:
        """An end before the last interaction of any partition raises the one-process
        DataError, naming the end and the last interaction of all partitions."""
        log, parts = world
        assert log.observed_until is not None
        early = _iso(log.observed_until - 1)
        with pytest.raises(DataError) as one:
            log.with_observed_until(early)
        with dask.config.set(scheduler="synchronous"), pytest.raises(DataError) as many:
            parts.with_observed_until(early)
        assert str(many.value) == f"CustomerPartitions.{one.value}"
        assert "to drop the interactions after it use between(end=...)" in str(many.value)

    def test_no_rows_take_any_end(self) -> None:
        """Partitions without a row take any end, as an empty log does."""
        parts = cxd.CustomerPartitions((dask.delayed(None), dask.delayed(None)))
        with dask.config.set(scheduler="synchronous"):
            declared = parts.with_observed_until("2000-01-01T00:00Z")
            assert dask.compute(*declared.logs) == (None, None)
        assert declared.observed_until == to_us("2000-01-01T00:00Z")
