"""Shared steps of the Dask adapter: the tree merge of partials."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")

from cxmodel import dask as cxd
from cxmodel.errors import SchemaError


class TestTreeMerge:
    @pytest.mark.parametrize("fan_in", [2, 3, 8])
    def test_sum_any_fan_in(self, fan_in: int) -> None:
        """Tree merging 0..29 with any fan-in sums to 435."""
        import dask

        parts = [dask.delayed(i) for i in range(30)]
        assert cxd.tree_merge(lambda a, b: a + b, parts, fan_in).compute(scheduler="sync") == 435

    def test_numpy_integer_fan_in(self) -> None:
        """A fan-in computed with numpy (``np.int64``) acts as an int."""
        import numpy as np

        import dask

        parts = [dask.delayed(i) for i in range(30)]
        merged = cxd.tree_merge(lambda a, b: a + b, parts, np.int64(4))  # type: ignore[arg-type]
        assert merged.compute(scheduler="sync") == 435

    @pytest.mark.parametrize(("parts", "fan_in"), [([], 8), ([1], 1)])
    def test_bad_input(self, parts: list[Any], fan_in: int) -> None:
        """No partials or fan_in < 2 raise SchemaError."""
        with pytest.raises(SchemaError):
            cxd.tree_merge(lambda a, b: a + b, parts, fan_in)


class TestFanIn:
    @pytest.mark.parametrize("fan_in", [1, 0, "8", 2.5, True], ids=repr)
    @pytest.mark.parametrize(
        "fn",
        [cxd.transitions, cxd.step_matrix, cxd.paths, cxd.funnel, cxd.nps],
        ids=lambda fn: fn.__name__,
    )
    def test_bad_fan_in_raises_schema_error(self, fn: Any, fan_in: Any) -> None:
        """A fan_in that is not an int >= 2 raises SchemaError naming the function and the
        value (not a TypeError from comparing it), before any partition is computed."""
        import dask.dataframe as dd
        import pandas as pd

        frame = pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "kind": ["view", "view"],
                "timestamp": pd.to_datetime([0, 1], unit="s", utc=True),
            }
        )
        ddf = dd.from_pandas(frame, npartitions=1)
        args = (["view"],) if fn is cxd.funnel else ()
        with pytest.raises(SchemaError, match=r"fan_in must be an int >= 2.*got"):
            fn(ddf, *args, fan_in=fan_in)
