"""Tests of diagnostics: the message line, the source line with a caret, the hint."""

from __future__ import annotations

from cxmodel.expr import Diagnostic, render_diagnostics


class TestDiagnostic:
    def test_without_source(self) -> None:
        """Without the source text only the message line is rendered."""
        assert Diagnostic("E1", 2, 3, "bad").render() == "E1 line 2, column 3: bad"

    def test_caret_under_an_indented_line(self) -> None:
        """The source line is shown without its indentation and the caret moves with it."""
        source = "trigger t:\n    when x for days"
        rendered = Diagnostic("E102", 2, 16, "expected a duration", hint="write 90 days").render(
            source
        )
        expected = [
            "E102 line 2, column 16: expected a duration",
            "    when x for days",
            "               ^",
            "hint: write 90 days",
        ]
        assert expected == rendered.split("\n")

    def test_line_outside_the_source(self) -> None:
        """A line number past the end of the source renders no source line and no caret."""
        assert Diagnostic("E1", 5, 1, "bad").render("a\nb") == "E1 line 5, column 1: bad"

    def test_to_dict(self) -> None:
        """The dict form has every field, the hint included."""
        expected = {
            "code": "E1",
            "line": 1,
            "column": 2,
            "message": "m",
            "hint": None,
            "subject": None,
        }
        assert expected == Diagnostic("E1", 1, 2, "m").to_dict()


class TestRenderDiagnostics:
    def test_several(self) -> None:
        """Several diagnostics are counted in the heading and separated by a blank line."""
        found = (Diagnostic("E1", 1, 1, "one"), Diagnostic("E2", 1, 3, "two"))
        expected = "2 errors:\nE1 line 1, column 1: one\n    abc\n    ^\n\nE2 line 1, column 3: two\n    abc\n      ^"
        assert expected == render_diagnostics(found, "abc")
