"""Tests of the lexer: token kinds, values and positions, and the problems it reports."""

from __future__ import annotations

import pytest

from cxmodel.expr._lexer import MAX_SOURCE_CHARS, Token, tokenize


def spans(source: str) -> list[tuple[str, str, int, int]]:
    """Each token's kind, text, line and column."""
    tokens, errors = tokenize(source)
    assert errors == []
    return [(t.kind, t.text, t.line, t.column) for t in tokens]


class TestTokens:
    def test_kinds_and_columns(self) -> None:
        """Names, two-character operators, numbers and strings carry their 1-based column;
        EOF sits one past the last character."""
        expected = [
            ("NAME", "a", 1, 1),
            ("OP", ">=", 1, 3),
            ("NUMBER", "1.5", 1, 6),
            ("OP", "??", 1, 10),
            ("STRING", "'x'", 1, 13),
            ("EOF", "", 1, 16),
        ]
        assert expected == spans("a >= 1.5 ?? 'x'")

    def test_lines_and_comments(self) -> None:
        """Newlines advance the line and reset the column; a comment runs to the line's end."""
        expected = [
            ("NAME", "a", 1, 1),
            ("NAME", "b", 2, 3),
            ("NAME", "d", 3, 1),
            ("EOF", "", 3, 2),
        ]
        assert expected == spans("a\n  b # c == 'not a token'\nd")

    def test_number_values(self) -> None:
        """Whole numbers are ints, numbers with a fraction floats; leading zeros are allowed."""
        tokens, _ = tokenize("007 2.50")
        assert [t.value for t in tokens[:2]] == [7, 2.5]
        assert [int, float] == [type(t.value) for t in tokens[:2]]

    def test_dot_without_digits_is_an_operator(self) -> None:
        """'3.x' is the number 3, the operator '.' and the name x, not a malformed number."""
        expected = [
            ("NUMBER", "3", 1, 1),
            ("OP", ".", 1, 2),
            ("NAME", "x", 1, 3),
            ("EOF", "", 1, 4),
        ]
        assert expected == spans("3.x")

    def test_string_escapes(self) -> None:
        """A backslash takes the next character literally; the token keeps the source text."""
        tokens, _ = tokenize(r'"say \"hi\""')
        assert Token("STRING", r'"say \"hi\""', 1, 1, 'say "hi"') == tokens[0]

    def test_largest_number_is_accepted(self) -> None:
        """10**15 is the largest magnitude accepted."""
        tokens, errors = tokenize("1" + "0" * 15)
        assert (errors, tokens[0].value) == ([], 10**15)


class TestProblems:
    def test_unexpected_character_is_skipped(self) -> None:
        """An unknown character is E101 at its column; the tokens around it are kept."""
        tokens, errors = tokenize("a $ b")
        assert [(e.code, e.line, e.column) for e in errors] == [("E101", 1, 3)]
        assert [t.text for t in tokens] == ["a", "b", ""]

    def test_name_with_a_non_identifier_character(self) -> None:
        """A run of letters and digits that is not an identifier names the bad character."""
        _, errors = tokenize("x\u00b2 > 1")
        assert errors[0].code == "E101"
        assert errors[0].message == "'x\u00b2' is not a name: it contains '\u00b2'"

    def test_too_large_number(self) -> None:
        """A number above 10**15 in magnitude is E109 and yields no token."""
        tokens, errors = tokenize("1" + "0" * 16)
        assert [(e.code, e.line, e.column) for e in errors] == [("E109", 1, 1)]
        assert [t.kind for t in tokens] == ["EOF"]

    @pytest.mark.parametrize(
        ("text", "value"),
        [("1e9", 1e9), ("1.5e3", 1500.0), ("2E-2", 0.02), ("4e+2", 400.0), ("0e5", 0.0)],
    )
    def test_exponents(self, text: str, value: float) -> None:
        """A number may carry an exponent, read as a float (``1e9`` was the number 1 followed
        by the name ``e9``: E105 with a hint about 'and' / 'or')."""
        tokens, errors = tokenize(f"x > {text}")
        assert errors == []
        assert (tokens[2].kind, tokens[2].text, tokens[2].value) == ("NUMBER", text, value)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("1e", "the number 1e has no exponent digits"),
            ("2.5E+", "the number 2.5E+ has no exponent digits"),
            ("1e16", "the number 1e16 is too large"),
            ("1e-400", "the number 1e-400 is too small: it would be read as 0"),
        ],
    )
    def test_bad_exponents(self, text: str, message: str) -> None:
        """An exponent without digits, or one past the number range either way, is E109 at
        the number (1e-400 would otherwise become 0 without a word)."""
        _, errors = tokenize(f"x > {text}")
        assert [(e.code, e.column, e.message) for e in errors] == [("E109", 5, message)]

    def test_unterminated_string_stops_at_the_line(self) -> None:
        """A string still open at the end of its line is E103; the next line lexes as usual."""
        tokens, errors = tokenize('c == "web\nd')
        assert [(e.code, e.line, e.column) for e in errors] == [("E103", 1, 6)]
        assert [(t.text, t.line) for t in tokens[:-1]] == [("c", 1), ("==", 1), ("d", 2)]

    @pytest.mark.parametrize(
        ("text", "column"),
        [('c == "a\\nb"', 8), ('c == "tab\\t"', 10), ("c == 'caf\\u00e9'", 10)],
        ids=["newline", "tab", "unicode"],
    )
    def test_unknown_escape_is_refused(self, text: str, column: int) -> None:
        """A backslash before anything but a quote or a backslash is E103 at the backslash
        (it was read as the bare character: "a\\nb" compared with "anb"); lexing goes on."""
        tokens, errors = tokenize(text + " and d")
        assert [(e.code, e.line, e.column) for e in errors] == [("E103", 1, column)]
        assert "unknown escape" in errors[0].message
        assert [t.text for t in tokens] == ["c", "==", "and", "d", ""]

    def test_quotes_and_backslashes_are_escaped(self) -> None:
        """The escapes a printed rule uses read back as the characters they stand for."""
        tokens, errors = tokenize('"a\\\\b \\" \\\' q"')
        assert errors == []
        assert tokens[0].value == "a\\b \" ' q"

    def test_too_long_source(self) -> None:
        """Text over the length limit is refused whole with E100 and a lone EOF token."""
        tokens, errors = tokenize("a" * (MAX_SOURCE_CHARS + 1))
        assert [e.code for e in errors] == ["E100"]
        assert [Token("EOF", "", 1, 1)] == tokens
