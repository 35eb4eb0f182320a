"""Tests of feature selection over a customer table: default numeric and boolean columns, text
traits as one indicator per level, the feature matrix, and groups as masks or ids."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.log import CustomerTable
from cxmodel.segment._features import feature_columns, feature_matrix, group_mask
from tests.log.helpers import AS_OF, PEOPLE, traits_log


@pytest.fixture(scope="module")
def table() -> CustomerTable:
    """Customers a, b, c, d: plans pro, basic, (none), pro; ages 31, 45, -, -."""
    return traits_log().customers_table(AS_OF, traits=PEOPLE)


class TestFeatureColumns:
    def test_default_is_every_bool_and_numeric_column(self, table: CustomerTable) -> None:
        """Without names: numbers and booleans, no ids, times or text."""
        names = list(feature_columns(table, None))
        assert "frequency" in names and "consent_marketing" in names and "age" in names
        assert not {"customer_id", "first_seen", "plan", "preferred_channel"} & set(names)

    def test_text_trait_becomes_sorted_level_indicators(self, table: CustomerTable) -> None:
        """plan becomes plan=(missing), plan=basic, plan=pro; a number is kept as it is."""
        cols = feature_columns(table, ["plan", "age"])
        assert list(cols) == ["plan=(missing)", "plan=basic", "plan=pro", "age"]
        assert cols["plan=(missing)"].tolist() == [False, False, True, False]
        assert cols["plan=pro"].tolist() == [True, False, False, True]
        assert cols["age"][:2].tolist() == [31.0, 45.0]

    @pytest.mark.parametrize(
        ("features", "match"),
        [
            ([], "at least one column"),
            (["customer_id"], "feature 'customer_id' has dtype object"),
            (["first_seen"], r"feature 'first_seen' has dtype datetime64\[us\]"),
        ],
        ids=["empty", "ids", "times"],
    )
    def test_bad_features(self, table: CustomerTable, features: list[str], match: str) -> None:
        """No names, the id column or a time column are rejected."""
        with pytest.raises(SchemaError, match=match):
            feature_columns(table, features)


class TestFeatureMatrix:
    def test_columns_side_by_side_as_floats(self) -> None:
        """Booleans become 0/1, one column per feature, in order."""
        m = feature_matrix({"vip": np.array([True, False]), "n": np.array([3, 5])})
        assert m.tolist() == [[1.0, 3.0], [0.0, 5.0]]


class TestGroupMask:
    def test_mask_or_ids(self, table: CustomerTable) -> None:
        """A boolean mask is used as is; ids select their rows."""
        mask = np.array([True, False, False, True])
        assert mask is group_mask(table, mask, "group_a")
        assert group_mask(table, ["c", "b"], "group_a").tolist() == [False, True, True, False]

    @pytest.mark.parametrize(
        ("group", "match"),
        [
            (
                np.array([True, False]),
                r"group_a is a boolean mask of shape \(2,\); expected \(4,\)",
            ),
            (["x", "y"], "group_a names no customer of the table \\(e.g. 'x'\\)"),
        ],
        ids=["mask-length", "unknown-ids"],
    )
    def test_bad_groups(self, table: CustomerTable, group: object, match: str) -> None:
        """A mask of another length, or ids none of which is in the table, are rejected."""
        with pytest.raises(SchemaError, match=match):
            group_mask(table, group, "group_a")

    def test_unknown_ids_are_counted(self, table: CustomerTable) -> None:
        """Ids that are not customers of the table are left out with a warning counting them."""
        with pytest.warns(
            DataWarning, match=r"group_a: 2 of 3 customer ids are not in the table \(e\.g\. 'x'\)"
        ):
            mask = group_mask(table, ["x", "b", "y"], "group_a")
        assert mask.tolist() == [False, True, False, False]
