"""The rule language's entry points given hostile arguments besides the text: a non-text
rule, a schema with a misspelt type, kinds that are not names, and rules files that hold no
rule. Each is a ``CXModelError`` (or exit status 2 on the command line), never a
``TypeError`` from the lexer or a check that passes vacuously."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.cli import main
from cxmodel.errors import CXModelError, SchemaError, ValueTypeError
from cxmodel.expr import TYPES, parse_expr
from cxmodel.triggers import EXAMPLE_RULES, parse

RULE = "trigger big:\n    when purchase as p where p.value > 100\n    emit thanks(v = p.value)\n"
DATA = "customer_id,timestamp,kind,value\na,2024-01-01T00:00:00Z,purchase,500\n"


class TestArguments:
    @pytest.mark.parametrize("text", [5, None, b"trigger x:", ["a"]], ids=repr)
    def test_text_that_is_not_text(self, text: Any) -> None:
        """parse(5) was a TypeError from len() in the lexer (parse_expr too)."""
        for function in (parse, parse_expr):
            with pytest.raises(ValueTypeError, match="rule and expression text must be a str"):
                function(text)

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            pytest.param({"schema": {"value": "flaot"}}, SchemaError, "did you mean 'float'",
                         id="misspelt-type"),
            pytest.param({"schema": 5}, ValueTypeError, "schema must be a mapping",
                         id="schema-not-a-mapping"),
            pytest.param({"kinds": [5]}, ValueTypeError, "kinds must be a name",
                         id="kind-not-a-name"),
        ],
    )  # fmt: skip
    def test_checked_sources(self, options: dict[str, Any], error: type, message: str) -> None:
        """A misspelt type was taken (p.value > 100 then failed as a comparison of 'flaot');
        schema=5 passed unchecked; kinds=[5] was a TypeError while sorting."""
        with pytest.raises(error, match=message):
            parse(RULE, **options)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(
        schema=st.one_of(
            st.none(),
            st.dictionaries(
                st.one_of(st.sampled_from(["value", "score", "product", "p"]), st.integers()),
                st.one_of(st.sampled_from([*TYPES, "flaot", "int", ""]), st.integers()),
                max_size=4,
            ),
            st.integers(),
            st.text(max_size=5),
        ),
        kinds=st.one_of(
            st.none(),
            st.lists(st.one_of(st.sampled_from(["purchase", "survey", "view"]), st.integers(),
                               st.text(max_size=4)), max_size=4),
            st.text(max_size=8),
        ),
    )  # fmt: skip
    def test_any_schema_and_kinds(self, schema: Any, kinds: Any) -> None:
        """The example rules with any schema and kinds: rules or a CXModelError."""
        with contextlib.suppress(CXModelError):
            parse(EXAMPLE_RULES, schema=schema, kinds=kinds)


class TestRulesFiles:
    @pytest.mark.parametrize(
        "content", ["", "\n\n", "# only a comment\n", "\ufeff# with a BOM\r\n"], ids=repr
    )
    @pytest.mark.parametrize("command", ["check", "triggers", "explain"])
    def test_a_file_without_rules(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, command: str
    ) -> None:
        """An empty rules file (the wrong file) checked 'OK' and fired nothing, exit 0."""
        rules, data = tmp_path / "rules.cx", tmp_path / "data.csv"
        rules.write_text(content, encoding="utf-8")
        data.write_text(DATA, encoding="utf-8")
        args = {
            "check": ["check", str(rules)],
            "triggers": ["triggers", str(rules), str(data), "--as-of", "2024-02-01T00:00:00Z"],
            "explain": ["explain", str(rules), str(data), "a", "--as-of", "2024-02-01T00:00:00Z"],
        }[command]
        assert main(args) == 2
        assert "holds no rule" in capsys.readouterr().err

    def test_a_directory(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A directory given as the rules file says so, as a data file does."""
        assert main(["check", str(tmp_path)]) == 2
        assert "is a directory; expected a rules file" in capsys.readouterr().err
