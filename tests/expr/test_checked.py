"""Tests of parse-check-evaluate in one call, with labelled errors, and of the customer
table's expression namespace."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import TriggerSyntaxError, TriggerTypeError
from cxmodel.expr import evaluate_checked
from cxmodel.expr._checked import table_namespace
from cxmodel.log import CustomerTable, InteractionLog


class TestEvaluateChecked:
    def test_number(self) -> None:
        """want='float' evaluates arithmetic row by row."""
        got = evaluate_checked(
            "driver 'spend'", "value * 2 + 1", {"value": np.array([1.0, 4.0])},
            {"value": "float"}, 2, "float",
        )  # fmt: skip
        assert got.tolist() == [3.0, 9.0]

    def test_constant_is_repeated_on_each_row(self) -> None:
        """A constant expression gives a fresh, writable array of n values."""
        got = evaluate_checked("rule 'all'", "2 + 3", {}, {}, 3, "float")
        assert got.tolist() == [5.0, 5.0, 5.0]
        got[0] = 0.0  # writable: not a broadcast view
        assert got.tolist() == [0.0, 5.0, 5.0]

    def test_syntax_error_carries_the_label(self) -> None:
        """A parse error is re-raised with the label in front of the diagnostics."""
        with pytest.raises(TriggerSyntaxError, match=r"^rule 'VIP': ") as info:
            evaluate_checked("rule 'VIP'", "value >", {}, {"value": "float"}, 1, "bool")
        assert info.value.errors[0].code == "E105"  # type: ignore[attr-defined]

    def test_type_error_carries_the_label(self) -> None:
        """A type-check problem is raised with the label and the rendered diagnostics."""
        with pytest.raises(TriggerTypeError, match=r"^rule 'VIP': 1 error:\nE302") as info:
            evaluate_checked("rule 'VIP'", "valeu > 1", {}, {"value": "float"}, 1, "bool")
        assert info.value.errors[0].hint == "did you mean value?"  # type: ignore[attr-defined]

    def test_condition_where_a_number_is_wanted(self) -> None:
        """want='float' refuses a condition, naming its type."""
        with pytest.raises(TriggerTypeError, match="has type bool; expected a number"):
            evaluate_checked("driver 'x'", "value > 1", {}, {"value": "float"}, 1, "float")

    def test_number_where_a_condition_is_wanted(self) -> None:
        """want='bool' refuses a number."""
        with pytest.raises(TriggerTypeError, match="E306"):
            evaluate_checked("rule 'x'", "value + 1", {}, {"value": "float"}, 1, "bool")


class TestTableNamespace:
    def test_types_of_columns(self) -> None:
        """Integer and float columns are numbers, object columns text, booleans conditions;
        timestamps are left out."""
        log = InteractionLog.from_records(
            [
                {"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "purchase",
                 "value": 10.0, "channel": "web"},
                {"customer_id": "a", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase",
                 "value": 5.0, "channel": "web"},
            ]
        )  # fmt: skip
        table = CustomerTable.from_log(log, as_of="2024-01-10T00:00:00Z")
        columns, schema = table_namespace(table)
        assert (
            schema["frequency"], schema["monetary"], schema["preferred_channel"],
            schema["consent_marketing"],
        ) == ("float", "float", "string", "bool")  # fmt: skip
        assert "first_seen" not in schema and "last_seen" not in schema
        assert columns["frequency"].tolist() == [2]
        assert columns["monetary"].tolist() == [15.0]
        assert set(schema) == set(columns)
