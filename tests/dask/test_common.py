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

    @pytest.mark.parametrize(("parts", "fan_in"), [([], 8), ([1], 1)])
    def test_bad_input(self, parts: list[Any], fan_in: int) -> None:
        """No partials or fan_in < 2 raise SchemaError."""
        with pytest.raises(SchemaError):
            cxd.tree_merge(lambda a, b: a + b, parts, fan_in)
