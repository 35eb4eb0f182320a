"""Diagnostics: positioned, coded messages that render the source line with a caret."""

from __future__ import annotations

import attrs

__all__ = ["Diagnostic", "render_diagnostics"]


@attrs.frozen
class Diagnostic:
    """One problem found in rule or expression text.

    Examples
    --------
    >>> d = Diagnostic("E101", 1, 5, "unexpected character '$'", hint="remove it")
    >>> print(d.render("a > $3"))
    E101 line 1, column 5: unexpected character '$'
        a > $3
            ^
    hint: remove it

    ``subject`` is the name a diagnostic is about, for callers that act on it without reading
    the message: the property of an unknown property (E302), without its qualifier (``valu``
    for ``p.valu``). It is ``None`` for other codes.

    >>> Diagnostic("E302", 2, 30, "unknown property 'p.valu'", subject="valu").subject
    'valu'
    """

    code: str
    line: int
    column: int
    message: str
    hint: str | None = None
    subject: str | None = attrs.field(default=None, kw_only=True)

    def render(self, source: str | None = None) -> str:
        """Return the message, the offending source line with a caret, and the hint."""
        parts = [f"{self.code} line {self.line}, column {self.column}: {self.message}"]
        if source is not None:
            lines = source.splitlines()
            if 1 <= self.line <= len(lines):
                text = lines[self.line - 1]
                stripped = text.lstrip()
                indent = len(text) - len(stripped)
                parts.append("    " + stripped)
                parts.append("    " + " " * max(self.column - 1 - indent, 0) + "^")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, object]:
        """Return the diagnostic as a JSON-ready dict."""
        return attrs.asdict(self)


def render_diagnostics(diagnostics: tuple[Diagnostic, ...], source: str | None) -> str:
    """Render several diagnostics, one block each, separated by blank lines.

    Examples
    --------
    >>> print(render_diagnostics((Diagnostic("E1", 1, 1, "bad"),), None))
    1 error:
    E1 line 1, column 1: bad
    """
    n = len(diagnostics)
    head = f"{n} error{'s' if n != 1 else ''}:"
    return head + "\n" + "\n\n".join(d.render(source) for d in diagnostics)
