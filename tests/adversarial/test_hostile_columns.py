"""Columns of any numpy dtype, masked arrays and odd Python numbers given to the log's
constructors: a log or a ``CXModelError`` naming the row, never another exception and never a
value changed without a word."""

from __future__ import annotations

import decimal
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cxmodel.errors import CXModelError, DataWarning, SchemaError
from cxmodel.log import InteractionLog

T = "2024-01-01T00:00:00Z"


def _log(n: int, **columns: Any) -> InteractionLog:
    return InteractionLog.from_arrays(["a"] * n, [T] * n, ["view"] * n, **columns)


class TestColumnRegressions:
    def test_uint64_beyond_int64_keeps_its_digits(self) -> None:
        """A uint64 id past 2**63 was an OverflowError; it is text with its exact digits."""
        log = _log(2, sku=np.array([2**64 - 1, 5], dtype=np.uint64))
        assert log.column("sku").tolist() == [str(2**64 - 1), "5"]

    def test_masked_entries_are_missing(self) -> None:
        """A masked array was a numpy MaskError; a masked entry is a missing value."""
        log = _log(
            2,
            spend=np.ma.masked_array([1.5, 2.5], mask=[True, False]),
            plan=np.ma.masked_array(["gold", "silver"], mask=[False, True]),
        )
        assert log.schema["spend"] == "float"
        assert np.isnan(log.numeric("spend")[0]) and log.numeric("spend")[1] == 2.5
        assert log.column("plan").tolist() == ["gold", None]

    def test_complex_numbers_are_refused(self) -> None:
        """1j was kept as the text '1j'; it is no label nor id: a bad row."""
        with pytest.raises(SchemaError, match=r"row 1: qty 1j is a complex \(column 'qty'\)"):
            _log(1, qty=np.array([1j]))

    def test_signalling_decimal_nan_is_missing(self) -> None:
        """Decimal('sNaN') raised decimal.InvalidOperation while looking for missing values."""
        log = InteractionLog.from_records(
            [{"customer_id": "a", "timestamp": T, "kind": "purchase",
              "value": decimal.Decimal("snan")}]
        )  # fmt: skip
        assert np.isnan(log.numeric("value")[0])


OBJECTS = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(), st.complex_numbers(), st.decimals(),
    st.builds(object), st.timedeltas().map(np.timedelta64),
)  # fmt: skip
DTYPES = st.one_of(
    hnp.scalar_dtypes(),
    st.sampled_from([np.dtype(np.uint64), np.dtype("O"), np.dtype("datetime64[as]")]),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    data=st.data(),
    dtype=DTYPES,
    masked=st.booleans(),
    name=st.sampled_from(["qty", "value", "score", "sentiment", "order_id", "customer_id"]),
)
def test_any_dtype_in_any_column(
    data: st.DataObject, dtype: np.dtype[Any], masked: bool, name: str
) -> None:
    """A column of any numpy dtype (masked or not), as a property, a number column or the
    customer id: a log or a CXModelError."""
    n = data.draw(st.integers(1, 4))
    if dtype.kind == "O":
        values = np.empty(n, dtype=object)
        values[:] = data.draw(st.lists(OBJECTS, min_size=n, max_size=n))
    else:
        values = data.draw(hnp.arrays(dtype, n))
    if masked:
        values = np.ma.masked_array(values, mask=data.draw(hnp.arrays(np.bool_, n)))
    columns = {"customer_id": values} if name == "customer_id" else {name: values}
    base: dict[str, Any] = {"customer_id": ["a"] * n, "timestamp": [T] * n, "kind": ["survey"] * n}
    base.update(columns)
    if name == "score":
        base["metric"] = ["nps"] * n
    for mode in ("raise", "quarantine"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            try:
                log = InteractionLog.from_arrays(errors=mode, **base)
            except CXModelError:
                continue
        assert len(log) + len(log.rejected) == n
        repr(log)
