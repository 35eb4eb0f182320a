"""The customer table over customer partitions equals the one-process table."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client

from cxmodel import dask as cxd
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same_table, uneven


class TestCustomerTable:
    @pytest.mark.parametrize("as_of", ["2024-12-31T00:00Z", "2024-03-01T00:00Z"])
    def test_equals_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any, as_of: str
    ) -> None:
        """Every customer, column, value and dtype, in customer order; no log travels."""
        got = cxd.customer_table(parts, as_of=as_of)
        assert_same_table(got, world[0].customers_table(as_of))
        assert got.log is None

    def test_from_a_frame_and_errors(
        self, world: tuple[InteractionLog, Any], client: Client
    ) -> None:
        """A frame is shuffled for the call; a naive as_of raises before any work."""
        got = cxd.customer_table(
            uneven(world[1], [0, 50, len(world[1]) - 50]), as_of="2024-06-30T00:00Z"
        )
        assert_same_table(got, world[0].customers_table("2024-06-30T00:00Z"))
        with pytest.raises(SchemaError, match="time zone"):
            cxd.customer_table(world[1], as_of="2024-06-30")
