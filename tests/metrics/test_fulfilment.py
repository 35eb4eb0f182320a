"""Return rate and on-time delivery rate on hand-built logs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import RateResult, on_time_delivery_rate, return_rate
from cxmodel.segment import wilson_interval

NAN = math.nan


def _orders() -> InteractionLog:
    """o1 kept; o2 returned after 7 days; o3 returned after 48 days; o4 bought 27 days before
    the end; o5 returned before it was bought (no match); o9 returned, never bought; d buys
    without an order id."""
    rows = [
        ("a", "2024-01-01", "purchase", "o1", "P1"),
        ("a", "2024-01-02", "purchase", "o2", "P2"),
        ("a", "2024-01-09", "return", "o2", None),
        ("b", "2024-01-03", "purchase", "o3", "P1"),
        ("b", "2024-02-20", "return", "o3", None),
        ("c", "2024-01-25", "purchase", "o4", "P2"),
        ("c", "2024-01-26", "return", "o9", None),
        ("d", "2024-01-10", "purchase", None, "P3"),
        ("d", "2024-02-21", "view", None, None),
        ("e", "2024-01-04", "return", "o5", None),
        ("e", "2024-01-05", "purchase", "o5", "P3"),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T00:00Z" for r in rows],
        kind=[r[2] for r in rows],
        order_id=[r[3] for r in rows],
        product=[r[4] for r in rows],
    )


class TestReturnRate:
    def test_all_returns(self) -> None:
        """2 of 5 keyed orders came back; the keyless purchase and the two returns that match
        no earlier purchase are counted in a warning."""
        with pytest.warns(DataWarning, match="1 purchase row.*2 return row"):
            r = return_rate(_orders())
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n, r.value) == (2, 5, 0.4)
        assert r.ci == pytest.approx(wilson_interval(2, 5), abs=1e-12)

    def test_window_leaves_out_orders_not_yet_decided(self) -> None:
        """Within 30 days: o2 only; o4's 30 days end after the log does, so it is left out."""
        with pytest.warns(DataWarning):
            r = return_rate(_orders(), window="30 days")
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n) == (1, 4)
        assert "within 30 days" in r.definition

    def test_nan_says_why(self) -> None:
        """A NaN rate comes with the reason: no purchase in the log, or every order younger
        than the window (both were a silent NaN from n = 0)."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["view"], order_id=["o1"])
        with pytest.warns(DataWarning, match="kind 'purchase' does not occur in the log"):
            assert math.isnan(return_rate(log).value)
        young = InteractionLog.from_arrays(
            customer_id=["a", "a", "b"], kind=["purchase", "return", "purchase"],
            timestamp=["2024-01-01T00:00Z", "2024-01-05T00:00Z", "2024-01-10T00:00Z"],
            order_id=["o1", "o1", "o2"],
        )  # fmt: skip
        with pytest.warns(DataWarning, match=r"all 2 order\(s\) are younger than window='30 days'"):
            r = return_rate(young, window="30 days")
        assert isinstance(r, RateResult) and r.n == 0 and math.isnan(r.value)
        assert return_rate(young).value == 0.5  # without a window: no warning

    def test_by_product_and_month(self) -> None:
        """Groups are the purchase row's product and month."""
        with pytest.warns(DataWarning):
            t = return_rate(_orders(), by="product", period="month")
        assert t["product"].tolist() == ["P1", "P2", "P3"]
        assert t["period"].tolist() == ["2024-01"] * 3
        assert t["numerator"].tolist() == [1, 1, 0] and t["n"].tolist() == [2, 2, 1]

    def test_filtering_keeps_the_window_end(self) -> None:
        """The end of observation survives filter(): o4 stays undecided without the view row."""
        log = _orders()
        no_views = log.filter(~log.kind_mask("view"))
        with pytest.warns(DataWarning):
            a = return_rate(log, window="30 days")
        with pytest.warns(DataWarning):
            b = return_rate(no_views, window="30 days")
        assert isinstance(a, RateResult) and isinstance(b, RateResult)
        assert (a.numerator, a.n) == (b.numerator, b.n)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"order_column": "order"}, "order_column 'order' is not a column"),
            ({"window": "0 days"}, "'0 days' must be positive"),
            ({"by": ["x"]}, "1 labels for a log of 11 rows"),
        ],
        ids=["no-key-column", "empty-window", "short-labels"],
    )
    def test_bad_arguments(self, kwargs: dict[str, object], match: str) -> None:
        with pytest.raises(SchemaError, match=match):
            return_rate(_orders(), **kwargs)  # type: ignore[arg-type]

    @settings(max_examples=30, deadline=None)
    @given(st.permutations(list(range(11))))
    def test_row_order_does_not_matter(self, order: list[int]) -> None:
        """The same rows in any input order give the same rate."""
        log = _orders()
        columns = {name: log.column(name)[order] for name in log.columns}
        shuffled = InteractionLog.from_arrays(**columns)
        with pytest.warns(DataWarning):
            a = return_rate(log, by="product")
        with pytest.warns(DataWarning):
            b = return_rate(shuffled, by="product")
        assert a.to_dict().keys() == b.to_dict().keys()
        for name in ("numerator", "n", "product"):
            assert a[name].tolist() == b[name].tolist()  # type: ignore[index]


def _deliveries(late: list[object]) -> InteractionLog:
    n = len(late)
    return InteractionLog.from_arrays(
        customer_id=[f"c{i}" for i in range(n)],
        timestamp=["2024-01-05T00:00Z"] * (n - 1) + ["2024-02-05T00:00Z"],
        kind=["delivery"] * n,
        late=late,
        touchpoint=["delivery"] * n,
    )


class TestOnTimeDelivery:
    def test_words(self) -> None:
        """Late flags in words, any case; a delivery without one is left out with a warning."""
        log = _deliveries(["no", "yes", "Late", "On Time", None])
        with pytest.warns(DataWarning, match="1 of 5 deliveries"):
            r = on_time_delivery_rate(log)
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n, r.value) == (2, 4, 0.5)

    def test_delays(self) -> None:
        """A number is the delay in days: above 0 is late, 0 or early is on time."""
        log = _deliveries([0.0, 1.5, -0.5, 2.0])
        r = on_time_delivery_rate(log)
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n) == (2, 4)

    def test_bools(self) -> None:
        """A bool column (JSON true/false) is the late flag itself; missing is left out."""
        log = _deliveries([False, True, True, None])
        assert log.schema["late"] == "bool"
        with pytest.warns(DataWarning, match="1 of 4 deliveries"):
            r = on_time_delivery_rate(log)
        assert isinstance(r, RateResult)
        assert (r.numerator, r.n) == (1, 3)

    def test_by_period(self) -> None:
        """One row per month of delivery."""
        t = on_time_delivery_rate(_deliveries(["no", "yes", "no"]), period="month")
        assert t["period"].tolist() == ["2024-01", "2024-02"]  # type: ignore[index]
        assert t["value"].tolist() == [0.5, 1.0]  # type: ignore[index]

    def test_empty(self) -> None:
        """No deliveries: NaN with n = 0, and a warning that the log has none (it was silent)."""
        log = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["view"], late=["no"])
        with pytest.warns(DataWarning, match="kind 'delivery' does not occur in the log"):
            r = on_time_delivery_rate(log)
        assert isinstance(r, RateResult) and r.n == 0 and math.isnan(r.value)

    @pytest.mark.parametrize(
        ("late", "kwargs", "match"),
        [
            (["no", "maybe"], {}, r"row 2: late 'maybe' is not a late flag"),
            (["no"], {"late": "delay"}, "late column 'delay' is not in the log"),
        ],
        ids=["unknown-word", "missing-column"],
    )
    def test_bad_input(self, late: list[object], kwargs: dict[str, str], match: str) -> None:
        with pytest.raises(SchemaError, match=match):
            on_time_delivery_rate(_deliveries(late), **kwargs)  # type: ignore[arg-type]


def test_nan_free_groups() -> None:
    """Every group in a breakdown has n >= 1 (groups without items are not listed)."""
    t = on_time_delivery_rate(_deliveries(["no", "yes", "no"]), by="touchpoint")
    assert np.all(t["n"] >= 1) and not np.isnan(t["value"]).any()  # type: ignore[index]
