"""The shared argument checks: the right value comes back unchanged, a wrong one raises a
CXModelError whose message names the function, the argument and what was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cxmodel._arguments import (
    customer_table,
    file_path,
    float_array,
    integer,
    interaction_log,
    is_integer,
    mapping_value,
    method_of,
    name_sequence,
    of_type,
    positive_integer,
    random_seed,
    real,
    text_value,
)
from cxmodel.errors import SchemaError, ValueTypeError
from cxmodel.log import InteractionLog

LOG = InteractionLog.from_arrays(["a"], ["2024-01-01T00:00Z"], ["purchase"])


class TestAccepted:
    def test_valid_values_come_back(self) -> None:
        """A value of the right type is returned as is (or in its plain form)."""
        assert interaction_log(LOG, "f()") is LOG
        assert customer_table(LOG.customers_table("2024-01-01T00:00Z"), "f()").columns[0] == (
            "customer_id"
        )
        assert file_path(Path("x.csv"), "f()") == "x.csv"
        assert name_sequence(("a", "b"), "f()", "kinds") == ("a", "b")
        assert integer(np.int64(3), "f()", "top") == 3
        assert mapping_value(None, "f()", "mapping") == {}
        assert float_array([1, 2], "f()", "x").tolist() == [1.0, 2.0]
        assert real(2, "f()", "t") == 2.0
        assert text_value("kind", "f()", "name") == "kind"
        assert of_type(1, int, "f()", "n", "an int") == 1
        assert method_of("x", "upper", "f()", "s", "text") == "x"
        generator = np.random.default_rng(0)
        assert random_seed(generator, "f()", "seed") is generator
        assert random_seed(None, "f()", "seed") is None
        assert random_seed(np.int64(7), "f()", "seed", generator=False) == 7
        assert type(positive_integer(np.int64(5), "f()", "top")) is int
        assert positive_integer(np.uint8(1), "f()", "top") == 1


class TestIsInteger:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (5, True),
            (np.int64(5), True),
            (np.int32(-2), True),
            (True, False),
            (np.bool_(True), False),
            (5.0, False),
            (np.float64(5.0), False),
            ("5", False),
            (None, False),
        ],
        ids=["int", "int64", "int32", "bool", "numpy-bool", "float", "float64", "text", "none"],
    )
    def test_integers_of_any_width_but_not_bools(self, value: object, expected: bool) -> None:
        """Python's and numpy's integers are integers; bools, floats and text are not."""
        assert is_integer(value) is expected


@pytest.mark.parametrize(
    ("check", "error", "message"),
    [
        pytest.param(
            lambda: interaction_log({"a": 1}, "nps()"),
            ValueTypeError,
            r"nps\(\): log must be an InteractionLog; got dict",
            id="log",
        ),
        pytest.param(
            lambda: customer_table(LOG, "cluster()"),
            ValueTypeError,
            r"cluster\(\): table must be a CustomerTable; got InteractionLog",
            id="table",
        ),
        pytest.param(
            lambda: file_path(3, "write_csv()"),
            ValueTypeError,
            r"write_csv\(\): path must be a file path .*got int 3",
            id="path-number",
        ),
        pytest.param(
            lambda: name_sequence(["a", 1], "f()", "kinds"),
            ValueTypeError,
            "kinds must be a name or a sequence of names",
            id="names",
        ),
        pytest.param(
            lambda: integer(True, "f()", "top"), ValueTypeError, "top must be an integer", id="bool"
        ),
        pytest.param(
            lambda: integer(0, "f()", "top", minimum=1),
            SchemaError,
            "top must be at least 1; got 0",
            id="minimum",
        ),
        pytest.param(
            lambda: positive_integer(np.int64(0), "paths()", "top"),
            SchemaError,
            r"paths\(\): top=np.int64\(0\); expected a positive integer",
            id="count-zero",
        ),
        pytest.param(
            lambda: positive_integer(True, "f()", "steps"),
            SchemaError,
            "steps=True; expected a positive integer",
            id="count-bool",
        ),
        pytest.param(
            lambda: positive_integer(3.0, "f()", "steps"),
            SchemaError,
            "steps=3.0; expected a positive integer",
            id="count-float",
        ),
        pytest.param(
            lambda: mapping_value([("a", "b")], "f()", "mapping"),
            ValueTypeError,
            "mapping must be a mapping",
            id="mapping",
        ),
        pytest.param(
            lambda: float_array("junk", "f()", "x"), ValueTypeError, "x must be numbers", id="array"
        ),
        pytest.param(
            lambda: float_array([[1.0]], "f()", "x", ndim=1),
            SchemaError,
            r"x must be a 1-d array or a list of numbers; got shape \(1, 1\)",
            id="array-ndim",
        ),
        pytest.param(
            lambda: real(float("nan"), "f()", "t"),
            SchemaError,
            "t must be a finite number; got nan",
            id="nan",
        ),
        pytest.param(
            lambda: text_value("", "f()", "name"),
            ValueTypeError,
            "name must be non-empty text",
            id="text",
        ),
        pytest.param(
            lambda: method_of(None, "fit", "f()", "model", "a model"),
            ValueTypeError,
            "model must be a model; got NoneType None",
            id="method",
        ),
        pytest.param(
            lambda: random_seed("junk", "f()", "seed"),
            ValueTypeError,
            "seed must be None, an integer or a numpy Generator; got str 'junk'",
            id="seed",
        ),
        pytest.param(
            lambda: random_seed(np.random.default_rng(0), "f()", "seed", generator=False),
            ValueTypeError,
            "seed must be None or an integer; got Generator",
            id="seed-scikit-learn",
        ),
        pytest.param(
            lambda: random_seed(-1, "f()", "seed"),
            SchemaError,
            "seed must be at least 0; got -1",
            id="seed-negative",
        ),
    ],
)
def test_refused(check: Any, error: type[Exception], message: str) -> None:
    """A wrong value raises the named error with a message naming argument and value."""
    with pytest.raises(error, match=message):
        check()
