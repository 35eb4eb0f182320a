"""A hand-written lexer for the expression and trigger languages."""

from __future__ import annotations

import attrs

from cxmodel._arguments import got
from cxmodel.errors import ValueTypeError
from cxmodel.expr._ast import MAX_NUMBER
from cxmodel.expr._diagnostics import Diagnostic

__all__ = ["MAX_SOURCE_CHARS", "Token", "tokenize"]

#: Longest source text accepted (characters); longer text is rejected with E100.
MAX_SOURCE_CHARS = 200_000

_TWO_CHAR = ("==", "!=", "<=", ">=", "??")
_ONE_CHAR = "()[],.=<>+-*/:%"
_DIGITS = "0123456789"  # ASCII only: int() of other Unicode digits is not what was written
_MAX_DIGITS = len(str(MAX_NUMBER))


@attrs.frozen
class Token:
    """A token: ``kind`` is NAME, NUMBER, STRING, OP or EOF; ``text`` its source text."""

    kind: str
    text: str
    line: int
    column: int
    value: object = None


def tokenize(source: str) -> tuple[list[Token], list[Diagnostic]]:
    """Split ``source`` into tokens; problems are returned as diagnostics, not raised.

    Comments run from ``#`` to the end of the line. Whitespace (newlines included) separates
    tokens and is otherwise ignored.

    Examples
    --------
    >>> tokens, errors = tokenize('r.score <= 6 # detractor')
    >>> [t.text for t in tokens]
    ['r', '.', 'score', '<=', '6', '']
    >>> errors
    []
    """
    if not isinstance(source, str):  # len() or `in` would fail on it with a TypeError
        raise ValueTypeError(f"rule and expression text must be a str; got {got(source)}")
    tokens: list[Token] = []
    errors: list[Diagnostic] = []
    if len(source) > MAX_SOURCE_CHARS:
        errors.append(
            Diagnostic(
                "E100",
                1,
                1,
                f"the text is {len(source)} characters long, more than the limit {MAX_SOURCE_CHARS}",
                hint="split the rules into several files",
            )
        )
        return [Token("EOF", "", 1, 1)], errors
    i, line, line_start, n = 0, 1, 0, len(source)
    while i < n:
        ch = source[i]
        col = i - line_start + 1
        item: Token | Diagnostic | None = None
        if ch == "\n":
            line += 1
            line_start = i + 1
            i += 1
        elif ch in " \t\r":
            i += 1
        elif ch == "#":
            while i < n and source[i] != "\n":
                i += 1
        elif ch.isalpha() or ch == "_":
            i, item = _name(source, i, line, col)
        elif ch in _DIGITS:
            i, item = _number(source, i, line, col)
        elif ch in "\"'":
            i, item = _string(source, i, line, col)
        elif source[i : i + 2] in _TWO_CHAR:
            item = Token("OP", source[i : i + 2], line, col)
            i += 2
        elif ch in _ONE_CHAR:
            item = Token("OP", ch, line, col)
            i += 1
        else:
            item = Diagnostic(
                "E101",
                line,
                col,
                f"unexpected character {ch!r}",
                hint="operators are == != < <= > >= + - * / ?? and names use letters, digits and _",
            )
            i += 1
        if isinstance(item, Token):
            tokens.append(item)
        elif item is not None:
            errors.append(item)
    tokens.append(Token("EOF", "", line, i - line_start + 1))
    return tokens, errors


def _name(source: str, i: int, line: int, col: int) -> tuple[int, Token | Diagnostic]:
    """The name starting at ``i`` (letters, digits, ``_``), or why it is not one."""
    j = i + 1
    while j < len(source) and (source[j].isalnum() or source[j] == "_"):
        j += 1
    text = source[i:j]
    if text.isidentifier():
        return j, Token("NAME", text, line, col)
    bad = next((c for k, c in enumerate(text) if not (text[: k + 1]).isidentifier()), source[i])
    return j, Diagnostic(
        "E101",
        line,
        col,
        f"{text!r} is not a name: it contains {bad!r}",
        hint="names use letters, digits (0-9) and _",
    )


def _number(source: str, i: int, line: int, col: int) -> tuple[int, Token | Diagnostic]:
    """The number starting at ``i`` (ASCII digits, one optional fraction, one optional
    exponent such as ``e9`` or ``E-2``), or E109 when it is too large or its exponent has no
    digits."""
    n = len(source)
    j = _digits(source, i)
    if j + 1 < n and source[j] == "." and source[j + 1] in _DIGITS:
        j = _digits(source, j + 1)
    exponent = j < n and source[j] in "eE"
    if exponent:
        k = j + 1 + (j + 1 < n and source[j + 1] in "+-")
        end = _digits(source, k)
        if end == k:
            shown = source[i:k]
            return k, Diagnostic(
                "E109",
                line,
                col,
                f"the number {shown} has no exponent digits",
                hint="write the exponent in digits (1e9, 2.5E-3) or leave it out",
            )
        j = end
    text = source[i:j]
    whole = text.split(".")[0].lstrip("0")
    value: object = None
    if "." in text or exponent:
        value = float(text)  # no digit limit: float() of a long text costs what it reads
    elif len(whole) <= _MAX_DIGITS:
        value = int(text)
    shown = text if len(text) <= 24 else text[:20] + "..."
    if value == 0.0 and text.lower().split("e")[0].strip("0."):
        return j, Diagnostic(
            "E109",
            line,
            col,
            f"the number {shown} is too small: it would be read as 0",
            hint="write 0, or a number of at least 1e-300 in magnitude",
        )
    if value is None or abs(value) > MAX_NUMBER:  # type: ignore[arg-type]
        return j, Diagnostic(
            "E109",
            line,
            col,
            f"the number {shown} is too large",
            hint=f"numbers are limited to {MAX_NUMBER:.0e} in magnitude",
        )
    return j, Token("NUMBER", text, line, col, value)


def _digits(source: str, i: int) -> int:
    """The end of the run of ASCII digits starting at ``i``."""
    n = len(source)
    while i < n and source[i] in _DIGITS:
        i += 1
    return i


def _string(source: str, i: int, line: int, col: int) -> tuple[int, Token | Diagnostic]:
    """The string quoted at ``i`` (a backslash escapes a quote or a backslash), or E103 when
    the line ends first or another character is escaped (``\\n`` would otherwise be read as
    ``n``, quietly: a string holds no line break or tab)."""
    quote, n = source[i], len(source)
    j = i + 1
    chars: list[str] = []
    bad_escape = -1
    while j < n and source[j] != "\n":
        if source[j] == "\\" and j + 1 < n and source[j + 1] != "\n":
            if source[j + 1] not in "\\\"'" and bad_escape < 0:
                bad_escape = j
            chars.append(source[j + 1])
            j += 2
            continue
        if source[j] == quote:
            if bad_escape >= 0:
                return j + 1, Diagnostic(
                    "E103",
                    line,
                    col + bad_escape - i,
                    f"unknown escape {source[bad_escape : bad_escape + 2]!r} in a string",
                    hint="a backslash escapes only \\\" \\' and \\\\ (write \\\\ for a backslash)",
                )
            return j + 1, Token("STRING", source[i : j + 1], line, col, "".join(chars))
        chars.append(source[j])
        j += 1
    return j, Diagnostic(
        "E103",
        line,
        col,
        "unterminated string",
        hint=f"close the string with {quote} on the same line",
    )
