"""Shared fixtures of the Dask tests: a two-process cluster on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """Two worker processes on 127.0.0.1, closed after the module."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=":0",  # a free port: no clash with a cluster already running
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c
