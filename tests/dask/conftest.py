"""Shared fixtures of the Dask tests: a two-worker cluster on 127.0.0.1, the synthetic log
with a Dask frame of it, and a shuffled world split into customer partitions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")

from cxmodel import dask as cxd  # noqa: E402
from cxmodel.datasets import synthetic  # noqa: E402
from cxmodel.log import InteractionLog  # noqa: E402
from tests.dask.frames import uneven, with_ties  # noqa: E402


@pytest.fixture(scope="module")
def client(request: pytest.FixtureRequest) -> Iterator[object]:
    """Two workers on 127.0.0.1, closed after the module: worker processes, or threads in
    this process where the test module sets ``IN_PROCESS = True``."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=not getattr(request.module, "IN_PROCESS", False),
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=":0",  # a free port: no clash with a cluster already running
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def data() -> tuple[InteractionLog, Any]:
    """The synthetic log (300 customers) with a random ``region`` (some missing) and a
    5-partition Dask frame of it."""
    frame = synthetic(customers=300, seed=1).log.to_pandas()
    rng = np.random.default_rng(7)
    regions = np.array(["north", "south", "east", None], dtype=object)
    frame["region"] = regions[rng.integers(0, 4, len(frame))]
    log = InteractionLog.from_pandas(frame)
    return log, dd.from_pandas(log.to_pandas(), npartitions=5)


@pytest.fixture(scope="module")
def scattered(data: tuple[InteractionLog, Any]) -> Any:
    """The same rows in random order, so every customer is spread over several partitions."""
    frame = data[0].to_pandas().sample(frac=1.0, random_state=3).reset_index(drop=True)
    return dd.from_pandas(frame, npartitions=7)


@pytest.fixture(scope="module")
def world() -> tuple[InteractionLog, Any]:
    """The one-process log and its rows in random order (every customer spread out)."""
    frame = with_ties(synthetic(customers=150, seed=2).log.to_pandas())
    log = InteractionLog.from_pandas(frame)
    rows = log.to_pandas().sample(frac=1.0, random_state=4).reset_index(drop=True)
    return InteractionLog.from_pandas(rows), rows


@pytest.fixture(scope="module")
def parts(world: tuple[InteractionLog, Any], client: object) -> cxd.CustomerPartitions:
    """One shuffle of unevenly split partitions, two of them empty, shared by the tests."""
    rows = world[1]
    n = len(rows)
    sizes = [n // 2, 0, 7, n // 5, 0, 1, n - n // 2 - n // 5 - 8]
    return cxd.from_dask(uneven(rows, sizes))
