"""Columns typed differently from one partition to the next: customer ids of numbers beside
text, and a by= column of numbers beside text, are refused rather than merged."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

import pandas as pd

import dask
from cxmodel import dask as cxd
from cxmodel.dask._types import by_types, conflict, id_types, merge_types
from cxmodel.errors import SchemaError
from cxmodel.log import InteractionLog
from tests.dask.frames import from_chunks


@pytest.fixture(autouse=True, scope="module")
def synchronous() -> Iterator[None]:
    with dask.config.set(scheduler="synchronous"):
        yield


def _answers(ids: list[Any], start: int = 0) -> Any:
    """One NPS answer per id."""
    index = range(start, start + len(ids))
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids, index=index),
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC"),
            "kind": "survey",
            "metric": "nps",
            "score": 9.0,
            "value": 1.0,
        },
        index=index,
    )


class TestIdTypes:
    def test_classes_by_dtype(self) -> None:
        """Numbers (ints, floats, Decimal-free objects), text and a mix, row by row."""
        frame = pd.DataFrame({"customer_id": pd.Series([7, "a", 7.5, None, True], dtype=object)})
        seen = id_types(frame, "customer_id", 4)
        assert seen == {"number": ((4, 0, "7 at index 0"),), "text": ((4, 1, "'a' at index 1"),)}
        ints = pd.DataFrame({"customer_id": np.array([3, 4])})
        assert set(id_types(ints, "customer_id", 0)) == {"number"}
        text = pd.DataFrame({"customer_id": pd.Categorical(["a", "b"])})
        assert set(id_types(text, "customer_id", 0)) == {"text"}

    def test_a_decimal_beside_text_is_a_number(self) -> None:
        """A ``Decimal`` id is a number, beside text as in a column of Decimals alone (where
        pandas infers "decimal"); a NaN ``Decimal`` is missing."""
        alone = pd.DataFrame({"customer_id": pd.Series([Decimal(7)], dtype=object)})
        assert set(id_types(alone, "customer_id", 0)) == {"number"}
        mixed = pd.Series(["a", Decimal("NaN"), Decimal(7)], dtype=object)
        seen = id_types(pd.DataFrame({"customer_id": mixed}), "customer_id", 2)
        assert seen["number"] == ((2, 2, "Decimal('7') at index 2"),)
        assert seen["text"] == ((2, 0, "'a' at index 0"),)

    def test_shuffled_rows_are_named_by_their_input_partition(self) -> None:
        frame = pd.DataFrame({"customer_id": pd.Series(["x", 5, "y"], dtype=object)})
        origin = (np.array([3, 1, 0]), np.array([7, 2, 0]))
        seen = id_types(frame, "customer_id", 9, origin)
        assert seen["text"] == ((0, 0, "'y' at index 2"), (3, 7, "'x' at index 0"))
        assert seen["number"] == ((1, 2, "5 at index 1"),)

    def test_merge_keeps_the_first_two_partitions(self) -> None:
        a = {"text": ((5, 0, "'a'"),)}
        b = {"text": ((2, 3, "'b'"), (2, 1, "'c'")), "number": ((4, 0, "1"),)}
        assert merge_types(a, b) == {
            "text": ((2, 1, "'c'"), (5, 0, "'a'")),
            "number": ((4, 0, "1"),),
        }
        assert merge_types(a, b) == merge_types(b, a)

    def test_both_in_one_partition_is_no_conflict(self) -> None:
        """One partition types its ids once, as one process types that partition."""
        assert conflict({"number": ((1, 0, "7"),), "text": ((1, 2, "'a'"),)}) is None

    @pytest.mark.parametrize("run", ["nps", "rfm_scores", "from_dask", "by_customer"])
    def test_refused(self, run: str) -> None:
        """Customer 7 as a number in partition 1 and as text in partition 2: refused (before,
        nps and rfm_scores took them for one customer)."""
        chunks = [_answers(["a", "b"]), _answers([7, 8], 2), _answers(["7", "c"], 4)]
        call = {
            "nps": cxd.nps,
            "rfm_scores": lambda d: cxd.rfm_scores(d, as_of="2030-01-01T00:00Z", kind="survey"),
            "from_dask": lambda d: dask.compute(*cxd.from_dask(d).logs),
            "by_customer": lambda d: cxd.from_dask(d, partitioned_by_customer=True),
        }[run]
        with pytest.raises(SchemaError) as refused:
            call(from_chunks(chunks))
        message = str(refused.value)
        if run == "from_dask" and "is a number but" in message:  # 7 and '7' met in a partition
            assert "customer_id 7 is a number but row 1 of partition 2 (index 4)" in message
            return
        assert (
            "customer_id holds numbers in partition 1 (7 at index 2, row 1 of the partition) "
            "and text in partition 0 ('a' at index 0, row 1 of the partition)"
        ) in message
        assert message.endswith("ddf['customer_id'] = ddf['customer_id'].astype(str)")

    def test_mapped_column_is_named_as_the_user_names_it(self) -> None:
        chunks = [_answers(["a"]).rename(columns={"customer_id": "user"}), _answers([7], 1)]
        chunks[1] = chunks[1].rename(columns={"customer_id": "user"})
        with pytest.raises(SchemaError, match=r"nps\(\): user holds numbers in partition 1"):
            cxd.nps(from_chunks(chunks), mapping={"user": "customer_id"})

    def test_numbers_of_any_dtype_pass(self) -> None:
        """Ints in one partition and whole floats in another are the same customers, as in
        one process."""
        chunks = [_answers([1, 2]), _answers([1.0, 3.0], 2)]
        whole = InteractionLog.from_pandas(pd.concat(chunks))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small samples
            assert cxd.nps(from_chunks(chunks)).n == len(whole)
            scores = cxd.rfm_scores(from_chunks(chunks), as_of="2030-01-01T00:00Z", kind="survey")
        assert scores.to_pandas()["customer_id"].tolist() == ["1", "2", "3"]


class TestByTypes:
    def test_by_types_of_a_log(self) -> None:
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c"],
            timestamp=[0, 1, 2],
            kind=["view"] * 3,
            region=[None, "north", "south"],
            size=[np.nan, np.nan, np.nan],
        )
        assert by_types(log, "region", 3) == {"string": ((3, 1, "'north'"),)}
        assert by_types(log, "size", 3) == {}  # no value: no type to compare
        assert by_types(log, "absent", 3) == by_types(None, "region", 3) == {}

    def test_missing_in_a_partition_is_no_conflict(self) -> None:
        """A partition without the column (all missing after alignment) groups nothing."""
        chunks = [_answers(["a", "b"]), _answers(["c", "d"], 2)]
        chunks[0]["region"] = "north"
        chunks[1]["region"] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = cxd.nps(from_chunks(chunks), by="region").to_pandas()
        assert table["region"].tolist() == ["north", "(missing)"]

    @pytest.mark.parametrize("run", ["nps", "funnel", "transitions"])
    def test_refused(self, run: str) -> None:
        chunks = [_answers(["a", "b"]), _answers(["c", "d"], 2)]
        chunks[0]["region"], chunks[1]["region"] = 2.5, "north"
        call = {
            "nps": lambda d: cxd.nps(d, by="region"),
            "funnel": lambda d: cxd.funnel(d, ["survey"], by="region"),
            "transitions": lambda d: cxd.transitions(d, by="region"),
        }[run]
        with warnings.catch_warnings(), pytest.raises(SchemaError) as refused:
            warnings.simplefilter("ignore")
            call(from_chunks(chunks))
        # after the shuffle by customer, a partition of 2.5 and 'north' reads both as text
        assert re.match(
            rf"cxmodel\.dask\.{run}\(\): by='region' is float in some partitions \(2\.5\) and "
            r"string in others \('(north|2\.5)'\); ",
            str(refused.value),
        )
