"""Warnings raised on the workers reach the client once, with their counts added up over the
partitions, as the one-process functions raise them."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client

from cxmodel import dask as cxd
from cxmodel import journey
from cxmodel.datasets import synthetic
from cxmodel.errors import DataWarning, counted_warning
from cxmodel.log import InteractionLog
from tests.dask.frames import uneven


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """Sessions whose ids are split: inside some sessions one event carries another id, so
    the rest of the session continues an id its customer used before (one warning's count)."""
    frame = journey.sessions(synthetic(customers=120, seed=6).log).to_pandas()
    ids = frame["session_id"].astype(int).astype(str).to_numpy(dtype=object)
    cust = frame["customer_id"].to_numpy()
    inside = np.flatnonzero(
        (cust[1:-1] == cust[:-2]) & (cust[1:-1] == cust[2:]) & (ids[1:-1] == ids[:-2])
        & (ids[1:-1] == ids[2:])
    ) + 1  # fmt: skip
    ids[inside[::3]] = "interrupting"
    frame["session_id"] = ids
    rows = frame.sample(frac=1.0, random_state=9).reset_index(drop=True)
    return InteractionLog.from_pandas(rows), rows


@pytest.fixture(scope="module")
def parts(world: tuple[InteractionLog, Any], client: Client) -> cxd.CustomerPartitions:
    rows = world[1]
    n = len(rows)
    return cxd.from_dask(uneven(rows, [n // 3, 0, n // 3, 1, n - 2 * (n // 3) - 1]))


def caught(fn: Callable[[], Any]) -> list[tuple[type[Warning], str]]:
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        fn()
    return list(dict.fromkeys((w.category, str(w.message)) for w in records))


CALLS: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
    (
        "transitions",
        lambda log: journey.transitions(log, by_session=True),
        lambda parts: cxd.transitions(parts, by_session=True),
    ),
    (
        "paths",
        lambda log: journey.paths(log, by_session=True, max_length=3),
        lambda parts: cxd.paths(parts, by_session=True, max_length=3),
    ),
    (
        "funnel",
        lambda log: journey.funnel(log, ["view", "purchase"], count="sessions"),
        lambda parts: cxd.funnel(parts, ["view", "purchase"], count="sessions"),
    ),
]


class TestCountedWarnings:
    @pytest.mark.parametrize(("one", "distributed"), [c[1:] for c in CALLS],
                             ids=[c[0] for c in CALLS])  # fmt: skip
    def test_split_sessions_warn_once_with_the_total(
        self,
        world: tuple[InteractionLog, Any],
        parts: Any,
        one: Callable[[Any], Any],
        distributed: Callable[[Any], Any],
    ) -> None:
        """Every partition counts its own split sessions; the client raises one warning with
        the sum, the one-process message."""
        expected = caught(lambda: one(world[0]))
        assert len(expected) == 1 and expected[0][0] is DataWarning
        assert "session_id: " in expected[0][1] and " run(s) " in expected[0][1]
        assert caught(lambda: distributed(parts)) == expected

    def test_map_customers_adds_counts_and_keeps_other_warnings_once(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        """A counted warning of the function adds up over partitions; a plain one is raised
        once, however many partitions raised it."""

        def per_customer(log: InteractionLog) -> Any:
            seen = counted_warning(DataWarning, "{n:,} customer(s) seen", n=log.n_customers)
            warnings.warn(seen, stacklevel=2)
            warnings.warn("plain note", UserWarning, stacklevel=2)
            return log.customers_table("2025-01-01T00:00Z")

        rows = world[1].drop(columns=["session_id"])
        got = caught(lambda: cxd.map_customers(uneven(rows, [100, 0, len(rows) - 100]),
                                               per_customer))  # fmt: skip
        n = world[0].n_customers
        assert got == [(DataWarning, f"{n:,} customer(s) seen"), (UserWarning, "plain note")]


class TestCountsOfCleanPartitions:
    @staticmethod
    def _purchases(values: list[float]) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {
                "customer_id": ["a", "b", "a", "c", "a", "b"],
                "kind": "purchase",
                "timestamp": pd.to_datetime(
                    [
                        "2024-01-01",
                        "2024-01-02",
                        "2024-02-01",
                        "2024-02-03",
                        "2024-03-01",
                        "2024-03-05",
                    ],
                    utc=True,
                ),
                "value": values,
            }
        )

    def test_rows_of_a_partition_without_missing_values_are_counted(self) -> None:
        """'2 of 6 purchases': the partition with no NaN value adds its rows to the total
        (the client said '2 of 4', the rows of the partitions that warned)."""
        import dask
        from cxmodel.segment import rfm_scores

        frame = self._purchases([10.0, np.nan, 5.0, 1.0, np.nan, 3.0])
        as_of = "2024-03-10T00:00Z"
        one = caught(lambda: rfm_scores(InteractionLog.from_pandas(frame), as_of=as_of))
        with dask.config.set(scheduler="synchronous"):
            split = caught(lambda: cxd.rfm_scores(uneven(frame, [2, 0, 2, 2]), as_of=as_of))
        assert split == one
        assert "2 of 6 purchases" in one[0][1]

    def test_clean_partitions_raise_nothing(self) -> None:
        """Partitions that count 0 missing values raise no warning on the client."""
        import dask

        frame = self._purchases([10.0, 2.0, 5.0, 1.0, 4.0, 3.0])
        with dask.config.set(scheduler="synchronous"):
            assert (
                caught(lambda: cxd.rfm_scores(uneven(frame, [2, 2, 2]), as_of="2024-03-10T00:00Z"))
                == []
            )


class TestOrderLines:
    @staticmethod
    def _lines() -> Any:
        """Line-item purchases: a's first order has three lines at one instant, b's one order
        two lines sharing an order_id at two times, c's one order one line."""
        import pandas as pd

        return pd.DataFrame(
            {
                "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
                "kind": "purchase",
                "timestamp": pd.to_datetime(
                    ["2024-01-01 10:00"] * 3
                    + [
                        "2024-02-01 10:00",
                        "2024-01-05 10:00",
                        "2024-01-06 10:00",
                        "2024-01-07 10:00",
                    ],
                    utc=True,
                ),
                "order_id": [None, None, None, None, "o1", "o1", "o2"],
                "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            }
        )

    def test_customer_table_counts_lines_over_partitions(self) -> None:
        """Customer partitions hold each customer's lines together: the client raises the
        one-process warning with the summed counts."""
        import dask

        frame = self._lines()
        one = caught(lambda: InteractionLog.from_pandas(frame).customers_table("2024-03-01T00:00Z"))
        assert [w[1][:40] for w in one] == ["CustomerTable.from_log(): 3 of 7 purchas"]
        with dask.config.set(scheduler="synchronous"):
            split = caught(
                lambda: cxd.customer_table(uneven(frame, [3, 0, 4]), as_of="2024-03-01T00:00Z")
            )
        assert split == one

    def test_rfm_scores_counts_the_lines_each_partition_holds(self) -> None:
        """Lines of one order in one partition add up to the one-process count; lines of one
        order in different partitions are not seen as such (documented)."""
        import dask
        from cxmodel.segment import rfm_scores

        frame = self._lines()
        as_of = "2024-03-01T00:00Z"
        one = caught(lambda: rfm_scores(InteractionLog.from_pandas(frame), as_of=as_of))
        assert one[0][1].startswith("rfm_scores(): 3 of 7 purchases are further lines")
        with dask.config.set(scheduler="synchronous"):
            together = caught(lambda: cxd.rfm_scores(uneven(frame, [4, 0, 3]), as_of=as_of))
            apart = caught(lambda: cxd.rfm_scores(uneven(frame, [2, 3, 2]), as_of=as_of))
        assert together == one
        assert apart[0][1].startswith("rfm_scores(): 1 of 7 purchases are further lines")
