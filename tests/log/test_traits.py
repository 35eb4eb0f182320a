"""Tests of customer traits and usage counts: checked, typed and aligned to the customers of a table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from cxmodel.domain import Customer
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import CustomerTable
from cxmodel.log._traits import align_traits, usage_masks
from tests.log.helpers import AS_OF, PEOPLE, traits_log


class TestTraits:
    def test_from_customers(self) -> None:
        """Traits of Customer objects become columns aligned to the table; a customer without
        a trait has it missing, and a boolean trait with gaps becomes 1/0 with NaN."""
        t = CustomerTable.from_log(traits_log(), as_of=AS_OF, traits=PEOPLE)
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
        t = CustomerTable.from_log(traits_log(), as_of=AS_OF, traits=table)
        assert t.column("plan").tolist() == ["pro", "basic", None, "pro"]
        assert t.column("vip").dtype == np.bool_
        assert t.column("vip").tolist() == [True, False, False, True]

    def test_from_a_data_frame(self) -> None:
        """A pandas DataFrame is a table too."""
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame({"customer_id": ["a", "c"], "country": ["FR", "IR"]})
        t = traits_log().customers_table(AS_OF, traits=frame)
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
            CustomerTable.from_log(traits_log(), as_of=AS_OF, traits=traits)


class TestUsage:
    def test_kinds_and_masks(self) -> None:
        """Counts of a kind (<kind>_count) and of a row mask, at or before as_of only."""
        log = traits_log()
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
            ({"searches": "serch"}, "^usage 'searches': unknown kind 'serch'"),
            ({"late": np.ones(3, bool)}, r"usage 'late': a mask must be a boolean array"),
            ({"returns": "search"}, "usage 'returns' has the name of a customer table column"),
        ],
        ids=["kind-typo", "kind-typo-named", "mask-shape", "built-in-name"],
    )
    def test_bad_usage(self, usage: Any, match: str) -> None:
        with pytest.raises(SchemaError, match=match):
            CustomerTable.from_log(traits_log(), as_of=AS_OF, usage=usage)


class TestAlignTraits:
    def test_order_of_the_customers_and_missing_values(self) -> None:
        """Values follow the customers asked for; one without traits gets None, NaN, and a
        boolean column becomes 1/0 with NaN."""
        ids = np.array(["b", "a"], dtype=object)
        columns = {
            "plan": np.array(["pro", "basic"], dtype=object),
            "age": np.array([45.0, 31.0]),
            "vip": np.array([True, False]),
        }
        out = align_traits(ids, columns, np.array(["a", "b", "c"], dtype=object))
        assert out["plan"].tolist() == ["basic", "pro", None]
        assert out["age"][:2].tolist() == [31.0, 45.0] and np.isnan(out["age"][2])
        assert out["vip"][:2].tolist() == [0.0, 1.0] and np.isnan(out["vip"][2])

    def test_complete_booleans_stay_boolean(self) -> None:
        """When every customer has the trait a boolean column stays boolean."""
        ids = np.array(["a", "b"], dtype=object)
        out = align_traits(ids, {"vip": np.array([True, False])}, np.array(["b"], dtype=object))
        assert np.bool_ == out["vip"].dtype and out["vip"].tolist() == [False]


class TestUsageMasks:
    def test_listed_kinds_are_named_count(self) -> None:
        """A list of kinds gives <kind>_count columns with the kind's rows."""
        log = traits_log()
        ((name, mask),) = usage_masks(log, ["login"])
        assert name == "login_count" and mask.tolist() == log.kind_mask("login").tolist()

    def test_one_kind_alone_is_one_kind(self) -> None:
        """A kind given as text counts that kind, not each of its letters as a kind."""
        log = traits_log()
        ((name, mask),) = usage_masks(log, "login")
        assert name == "login_count" and mask.tolist() == log.kind_mask("login").tolist()

    def test_names_must_be_unique(self) -> None:
        """The same kind listed twice would make two columns of one name."""
        with pytest.raises(SchemaError, match="usage names must be unique"):
            usage_masks(traits_log(), ["login", "login"])


class TestTraitsOfOtherCustomers:
    def test_some_unknown_customers_are_ignored_quietly(self) -> None:
        """Customers of the traits outside the table (not seen yet) are left out, no warning."""
        table = {"customer_id": ["a", "zz"], "plan": ["pro", "basic"]}
        t = CustomerTable.from_log(traits_log(), as_of=AS_OF, traits=table)
        assert t.column("plan").tolist() == ["pro", None, None, None]

    def test_no_customer_in_the_table_warns(self) -> None:
        """Ids written differently ("A" for "a"): every trait was silently missing."""
        table = {"customer_id": ["A", "B"], "plan": ["pro", "basic"]}
        with pytest.warns(DataWarning, match=r"none of the traits' customers \(2\) is in the"):
            t = CustomerTable.from_log(traits_log(), as_of=AS_OF, traits=table)
        assert t.column("plan").tolist() == [None] * 4
