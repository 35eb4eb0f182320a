"""The customer table over customer partitions equals the one-process table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from distributed import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel import dask as cxd
from cxmodel._time import to_us
from cxmodel.dask._customer_table import customer_table_of, customer_table_partial
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import assert_same_table, uneven
from tests.dask.worlds import OnSmallWorld, split

AS_OF = "2024-12-31T00:00Z"


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

    def test_as_of_long_after_the_data_warns_as_in_one_process(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        """An as_of 60 days after the whole data's end gives the one-process warning, with the
        customers counted over every partition (against the data's end, not each
        partition's); with_observed_until on the log is how one process says it is fine."""
        log = world[0]
        until = log.observed_until
        assert until is not None
        as_of = np.datetime64(until + 60 * 86_400_000_000, "us")
        with pytest.warns(DataWarning) as one:
            expected = log.customers_table(as_of)
        with pytest.warns(DataWarning) as got:
            table = cxd.customer_table(parts, as_of=as_of)
        assert [str(w.message) for w in got] == [
            f"cxmodel.dask.{w.message}".replace("CustomerTable.from_log", "customer_table")
            for w in one
        ]
        assert "customers lost purchases the data saw" in str(one[0].message)
        assert_same_table(table, expected)

    def test_as_of_is_checked_against_every_partition(
        self, world: tuple[InteractionLog, Any], parts: Any
    ) -> None:
        """Before every partition's first interaction: refused as in one process; a partition
        whose customers all came after as_of just holds none of them yet."""
        with pytest.raises(DataError, match=r"cxmodel.dask.customer_table\(\): as_of 2019"):
            cxd.customer_table(parts, as_of="2019-01-01T00:00Z")
        first = int(world[0].timestamps.min())
        as_of = "2024-01-08T00:00Z"  # a week in: some customers have not come yet
        assert first < to_us(as_of)
        assert_same_table(cxd.customer_table(parts, as_of=as_of), world[0].customers_table(as_of))


class TestPartials(OnSmallWorld):
    """The partitions' tables, called directly (no scheduler), on a small world."""

    @settings(max_examples=15, deadline=None)
    @given(data=st.data(), as_of=st.sampled_from([AS_OF, "2024-04-01T00:00Z", "2019-01-01T00:00Z"]))
    def test_customer_tables_concatenate_exactly(
        self, world: tuple[InteractionLog, Any], data: st.DataObject, as_of: str
    ) -> None:
        """The partitions' tables, in any order, are the one-process table (a topic column only
        some partitions have is 0 elsewhere)."""
        partials = [customer_table_partial(p, as_of) for p in split(world, data)]
        tables = [t for t, _, _ in partials if t is not None]
        if as_of.startswith("2019"):  # before every interaction: refused, as in one process
            assert not tables
            with pytest.raises(DataError, match="as_of 2019-01-01T00:00:00Z is before"):
                world[0].customers_table(as_of)
            return
        order = data.draw(st.permutations(tables), label="order")
        assert_same_table(customer_table_of(order, as_of), world[0].customers_table(as_of))
