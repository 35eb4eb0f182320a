"""Customer traits and usage counts in the CustomerTable, and their use by segments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from cxmodel.domain import Customer
from cxmodel.errors import SchemaError
from cxmodel.log import CustomerTable, InteractionLog
from cxmodel.segment import contrast, profile_segments, rule_segments

AS_OF = "2024-03-01T00:00Z"


def _log() -> InteractionLog:
    """Four customers: searches, a late and an on-time delivery, and rows after as_of."""
    rows = [
        ("a", "2024-01-02", "search", None),
        ("a", "2024-01-03", "search", None),
        ("a", "2024-01-04", "delivery", "yes"),
        ("a", "2024-04-01", "search", None),  # after as_of: not counted
        ("b", "2024-01-05", "delivery", "no"),
        ("b", "2024-01-06", "search", None),
        ("c", "2024-02-01", "login", None),
        ("d", "2024-02-02", "delivery", "yes"),
        ("d", "2024-02-03", "delivery", "yes"),
    ]
    return InteractionLog.from_arrays(
        customer_id=[r[0] for r in rows],
        timestamp=[r[1] + "T00:00Z" for r in rows],
        kind=[r[2] for r in rows],
        late=[r[3] for r in rows],
    )


PEOPLE = [
    Customer("a", traits={"plan": "pro", "age": 31, "newsletter": True}),
    Customer("b", traits={"plan": "basic", "age": 45, "newsletter": False}),
    Customer("d", traits={"plan": "pro", "newsletter": True}),
    Customer("z", traits={"plan": "basic"}),  # not in the log: ignored
]


class TestTraits:
    def test_from_customers(self) -> None:
        """Traits of Customer objects become columns aligned to the table; a customer without
        a trait has it missing, and a boolean trait with gaps becomes 1/0 with NaN."""
        t = CustomerTable.from_log(_log(), as_of=AS_OF, traits=PEOPLE)
        assert t.customer_id.tolist() == ["a", "b", "c", "d"]
        assert t.column("plan").tolist() == ["pro", "basic", None, "pro"]
        age = t.column("age")
        assert age.dtype == np.float64 and age[:2].tolist() == [31.0, 45.0]
        assert math.isnan(age[2]) and math.isnan(age[3])
        news = t.column("newsletter")
        assert news.dtype == np.float64 and news[[0, 1, 3]].tolist() == [1.0, 0.0, 1.0]
        assert t.row("a")["plan"] == "pro"

    def test_from_a_table(self) -> None:
        """A mapping of columns with customer_id gives the same; complete booleans stay bool."""
        table = {
            "customer_id": ["d", "c", "b", "a"],
            "plan": ["pro", None, "basic", "pro"],
            "vip": [True, False, False, True],
        }
        t = CustomerTable.from_log(_log(), as_of=AS_OF, traits=table)
        assert t.column("plan").tolist() == ["pro", "basic", None, "pro"]
        assert t.column("vip").dtype == np.bool_
        assert t.column("vip").tolist() == [True, False, False, True]

    def test_from_a_data_frame(self) -> None:
        """A pandas DataFrame is a table too."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame({"customer_id": ["a", "c"], "country": ["FR", "IR"]})
        t = _log().customers_table(AS_OF, traits=frame)
        assert t.column("country").tolist() == ["FR", None, "IR", None]

    @pytest.mark.parametrize(
        ("traits", "match"),
        [
            ([Customer("a", traits={"age": 31}), Customer("b", traits={"age": "old"})],
             r"customer 'b': trait 'age' is 'old' \(text\) but customer 'a' has 31 \(a number\)"),
            ([Customer("a", traits={"tags": ["x"]})],
             r"customer 'a': trait 'tags' is \['x'\] \(list\); traits are text, numbers"),
            ([Customer("a", traits={"age": math.inf})],
             r"customer 'a': trait 'age' is inf; numbers must be finite"),
            ([Customer("a", traits={"frequency": 3})],
             r"trait 'frequency' has the name of a customer table column"),
            ({"customer_id": ["a", "a"], "plan": ["x", "y"]},
             r"customer 'a' appears more than once"),
            ({"id": ["a"], "plan": ["x"]}, r"no 'customer_id' column"),
            (["a", "b"], r"traits\[0\] is 'str'; expected Customer objects"),
        ],
        ids=["mixed-types", "a-list", "infinite", "built-in-name", "duplicate", "no-id",
             "not-customers"],
    )  # fmt: skip
    def test_bad_traits(self, traits: Any, match: str) -> None:
        with pytest.raises(SchemaError, match=match):
            CustomerTable.from_log(_log(), as_of=AS_OF, traits=traits)


class TestUsage:
    def test_kinds_and_masks(self) -> None:
        """Counts of a kind (<kind>_count) and of a row mask, at or before as_of only."""
        log = _log()
        late = log.kind_mask("delivery") & (log.column("late") == "yes")
        t = log.customers_table(AS_OF, usage={"searches": "search", "late_deliveries": late})
        assert t.column("searches").tolist() == [2, 1, 0, 0]
        assert t.column("late_deliveries").tolist() == [1, 0, 0, 2]
        plain = CustomerTable.from_log(log, as_of="2024-05-01T00:00Z", usage=["search"])
        assert plain.column("search_count").tolist() == [3, 1, 0, 0]

    @pytest.mark.parametrize(
        ("usage", "match"),
        [
            (["serch"], "did you mean 'search'"),
            ({"late": np.ones(3, bool)}, r"usage 'late': a mask must be a boolean array"),
            ({"returns": "search"}, "usage 'returns' has the name of a customer table column"),
        ],
        ids=["kind-typo", "mask-shape", "built-in-name"],
    )
    def test_bad_usage(self, usage: Any, match: str) -> None:
        with pytest.raises(SchemaError, match=match):
            CustomerTable.from_log(_log(), as_of=AS_OF, usage=usage)


class TestSegmentsUseThem:
    def _table(self) -> CustomerTable:
        log = _log()
        late = log.kind_mask("delivery") & (log.column("late") == "yes")
        return log.customers_table(AS_OF, traits=PEOPLE, usage={"late_deliveries": late})

    def test_rule_segments(self) -> None:
        """Rules read traits and usage counts by name."""
        t = self._table()
        seg = rule_segments({"pro, late": 'plan == "pro" and late_deliveries > 0'}, t)
        assert seg.labels.tolist() == ["pro, late", "other", "other", "pro, late"]

    def test_contrast_and_profile(self) -> None:
        """A text trait compares level by level; a usage count as a mean."""
        t = self._table()
        pro = t.column("plan") == "pro"
        c = contrast(t, pro, ~pro, features=["plan", "late_deliveries"])
        row = dict(zip(c.feature.tolist(), zip(c.a.tolist(), c.b.tolist(), strict=True),
                       strict=True))  # fmt: skip
        assert row["plan=pro"] == (1.0, 0.0)
        assert row["late_deliveries"] == (1.5, 0.0)
        prof = profile_segments(np.where(pro, "pro", "other"), t, features=["plan"])
        assert prof.features == ("plan=(missing)", "plan=basic", "plan=pro")
        assert prof.mean[:, 2].tolist() == [0.0, 1.0]
