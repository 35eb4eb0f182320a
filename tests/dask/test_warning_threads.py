"""Warnings of partition tasks stay with their task when other threads switch Python's
process-wide warning hooks meanwhile (as pandas and Dask do on the threaded scheduler).

On the local scheduler and no cluster, in a module of its own: a cluster's threads in this
process would switch the hooks while these tests record.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from cxmodel._pieces import warn_counted
from cxmodel.dask._warnings import caught_in
from cxmodel.errors import DataWarning

TEMPLATE = "{missing:,} of {rows:,} rows missing"
WAIT = 10.0  # seconds; an event not set by then is a failure, never a hang


def _wait(event: threading.Event) -> None:
    assert event.wait(WAIT), "the other thread never got there"


def _shown(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    """``fn()`` and the messages of the warnings that reach this (the caller's) recorder."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(r.message) for r in records]


def _on_thread(target: Callable[[], Any]) -> Callable[[], Any]:
    """Start ``target`` on a thread; the returned function joins it and returns its result
    (or raises what it raised)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = target()
        except BaseException as exc:  # re-raised on the test's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(WAIT)
        assert not thread.is_alive(), "the thread did not finish"
        if "error" in box:
            raise box["error"]
        return box.get("out")

    return join


class TestInterleavings:
    """Each test forces, with events, one order of entering and leaving the recorders."""

    def test_a_zero_count_stays_in_its_task_when_another_thread_restores_the_hooks(
        self,
    ) -> None:
        """Another thread enters ``catch_warnings`` before the task and leaves it while the
        task runs, restoring the hooks of before the task: the task's "0 of 3" warning is
        still its own, and the caller sees nothing."""
        other_in, task_in, other_out = threading.Event(), threading.Event(), threading.Event()

        def other() -> None:
            with warnings.catch_warnings():
                other_in.set()
                _wait(task_in)
            other_out.set()

        def task() -> str:
            task_in.set()
            _wait(other_out)
            warn_counted(DataWarning, TEMPLATE, missing=0, rows=3)
            return "done"

        def run() -> tuple[str, Any]:
            join = _on_thread(other)
            _wait(other_in)
            out = caught_in(task)
            join()
            return out

        (out, caught), shown = _shown(run)
        assert shown == []
        assert out == "done"
        assert caught == {(DataWarning, TEMPLATE, 0): {"missing": 0, "rows": 3}}

    def test_a_warning_after_the_task_reaches_the_caller(self) -> None:
        """Another thread enters ``catch_warnings`` while the task runs and leaves it after
        the task, restoring the hooks the task had set: a warning raised afterwards (the
        client's small-sample warning) still reaches the caller."""
        task_in, other_in, task_out = threading.Event(), threading.Event(), threading.Event()

        def other() -> None:
            _wait(task_in)
            with warnings.catch_warnings():
                other_in.set()
                _wait(task_out)

        def task() -> int:
            task_in.set()
            _wait(other_in)
            return 1

        def run() -> tuple[int, Any]:
            join = _on_thread(other)
            out = caught_in(task)
            task_out.set()
            join()
            warnings.warn("12 group(s) have fewer than 30 answers", UserWarning, stacklevel=1)
            return out

        (out, caught), shown = _shown(run)
        assert shown == ["12 group(s) have fewer than 30 answers"]
        assert (out, caught) == (1, {})

    def test_tasks_on_two_threads_run_at_once_and_keep_their_own_warnings(self) -> None:
        """Two tasks overlap (each waits until the other has started) and leave in the order
        they entered, as two threads of one worker do: each task has its own counts, also
        of a plain warning, and the caller sees nothing."""
        first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

        def first() -> Any:
            first_in.set()
            _wait(second_in)
            warn_counted(DataWarning, TEMPLATE, missing=1, rows=5)
            warnings.warn("first plain", UserWarning, stacklevel=1)
            return "first"

        def second() -> Any:
            second_in.set()
            _wait(first_out)
            warn_counted(DataWarning, TEMPLATE, missing=0, rows=7)
            warnings.warn("second plain", UserWarning, stacklevel=1)
            return "second"

        def run() -> tuple[Any, Any]:
            join = _on_thread(lambda: caught_in(second))
            _wait(second_in)
            one = caught_in(first)
            first_out.set()
            return one, join()

        (one, two), shown = _shown(run)
        assert shown == []
        assert one == (
            "first",
            {
                (DataWarning, TEMPLATE, 0): {"missing": 1, "rows": 5},
                (UserWarning, "first plain", 0): {},
            },
        )
        assert two == (
            "second",
            {
                (DataWarning, TEMPLATE, 0): {"missing": 0, "rows": 7},
                (UserWarning, "second plain", 0): {},
            },
        )

    def test_a_warning_of_another_thread_is_not_taken_by_the_task(self) -> None:
        """A warning raised on another thread while a task runs is that thread's: it reaches
        the caller and is not counted in the task."""
        task_in, other_out = threading.Event(), threading.Event()

        def other() -> None:
            _wait(task_in)
            warnings.warn("not the task's", UserWarning, stacklevel=1)
            other_out.set()

        def task() -> None:
            task_in.set()
            _wait(other_out)

        def run() -> tuple[None, Any]:
            join = _on_thread(other)
            out = caught_in(task)
            join()
            return out

        (_, caught), shown = _shown(run)
        assert shown == ["not the task's"]
        assert caught == {}


@contextmanager
def _busy_thread() -> Iterator[None]:
    """Another thread entering and leaving ``catch_warnings`` around pandas work without a
    pause, with the interpreter switching threads every 10 microseconds. (Inside the caller's
    recorder: a thread that entered before the recorder would restore the hooks of before it.)"""
    pd = pytest.importorskip("pandas")
    stop = threading.Event()
    frame = pd.DataFrame({"k": np.arange(2_000) % 17, "v": np.arange(2_000, dtype=float)})

    def churn() -> None:
        while not stop.is_set():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                frame.groupby("k")["v"].agg(["sum", "mean"])

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    join = _on_thread(churn)
    try:
        yield
    finally:
        stop.set()
        join()
        sys.setswitchinterval(interval)


class TestThreadedScheduler:
    RUNS = 25

    @staticmethod
    def _purchases() -> Any:
        """12 purchases of 4 customers in 4 partitions, 2 without a value (in 1 partition),
        each partition read by a pandas task that enters ``catch_warnings`` itself."""
        dd = pytest.importorskip("dask.dataframe")
        pd = pytest.importorskip("pandas")
        n = 12
        frame = pd.DataFrame(
            {
                "customer_id": [f"c{i % 4}" for i in range(n)],
                "kind": "purchase",
                "timestamp": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"),
                "value": [np.nan if i in (4, 5) else float(i + 1) for i in range(n)],
            }
        )

        def read(part: Any) -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                return part.sort_values("timestamp", kind="stable").copy()

        return dd.from_pandas(frame, npartitions=4, sort=False).map_partitions(read)

    def test_one_summed_warning_every_run(self) -> None:
        """Every run of ``rfm_scores`` on the threaded scheduler (4 threads) raises exactly
        the one-process warning, "2 of 12", never a partition's "0 of 3" nor nothing."""
        import dask
        from cxmodel import dask as cxd

        ddf = self._purchases()
        shown: list[list[str]] = []
        with (
            warnings.catch_warnings(record=True) as records,
            dask.config.set(scheduler="threads", num_workers=4),
        ):
            warnings.simplefilter("always")
            with _busy_thread():
                for _ in range(self.RUNS):
                    before = len(records)
                    cxd.rfm_scores(ddf, as_of="2024-02-01T00:00Z")
                    shown.append([str(r.message) for r in records[before:]])
        expected = ["rfm_scores(): 2 of 12 purchases have no 'value' (NaN)"]
        assert [s for s in shown if [m.split(";")[0] for m in s] != expected] == []
