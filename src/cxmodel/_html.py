"""How results are shown: readable cells, and capped tables as HTML or as plain text.

The one renderer behind every result's ``_repr_html_`` and ``__repr__``
(:class:`cxmodel._result.Result`): a table shows its first rows and says how many are
hidden; a record shows its figures as a two-column table.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

__all__ = [
    "MAX_ROWS",
    "TEXT_ROWS",
    "TEXT_WIDTH",
    "clip",
    "format_value",
    "html_cell",
    "html_record",
    "html_table",
    "inert",
    "is_number",
    "more_rows",
    "n_rows",
    "printable",
    "text_table",
]

MAX_ROWS = 20
"""The rows a result's HTML shows; the rest are counted in a "… N more rows" line."""

TEXT_ROWS = 5
"""The rows a result's plain ``repr`` shows."""

TEXT_WIDTH = 100
"""The characters a line of a result's plain ``repr`` may take."""

_HTML_CELL = 60  # characters of one HTML cell
_TEXT_CELL = 24  # characters of one text cell


def format_value(value: Any) -> str:
    """A value as short text: floats to 4 significant digits (large ones with thousands
    separators), times to the second, tuples element by element, anything else as ``str``.

    Examples
    --------
    >>> format_value(-2.127659574468088), format_value((-17.157145922, 12.901826773))
    ('-2.128', '(-17.16, 12.9)')
    >>> format_value(20841.25), format_value(float("nan")), format_value(3), format_value(None)
    ('20,841', 'NaN', '3', 'None')
    >>> format_value(np.datetime64("2024-02-18T05:48:58.190809")), format_value(np.datetime64("NaT"))
    ('2024-02-18 05:48:58', 'NaT')
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return "NaT"
        value = value.astype("datetime64[us]")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value) or abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:,.0f}"
    return str(value)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked with ``…``.

    Examples
    --------
    >>> clip("refund, back, money", 12), clip("short", 12)
    ('refund, bac…', 'short')
    """
    return text if len(text) <= width else text[: width - 1] + "…"


def html_cell(value: Any) -> str:
    """:func:`format_value`, escaped for HTML, the characters that would act on the page
    written as their escapes (:func:`inert`), as the plain ``repr`` writes them.

    Examples
    --------
    >>> html_cell("<b>"), html_cell(0.98521614)
    ('&lt;b&gt;', '0.9852')
    """
    return html.escape(inert(format_value(value)))


def _html_clipped(value: Any) -> str:
    return html.escape(clip(inert(format_value(value)), _HTML_CELL))


def more_rows(total: int, shown: int) -> str:
    """The line under a capped table: ``… N more rows`` (empty when every row is shown).

    Examples
    --------
    >>> more_rows(304, 20)
    '<p>… 284 more rows</p>'
    >>> more_rows(3, 20)
    ''
    """
    hidden = total - shown
    if hidden <= 0:
        return ""
    return f"<p>{_hidden(hidden, 'row')}</p>"


def _hidden(n: int, what: str) -> str:
    return f"… {n:,} more {what}{'s' if n != 1 else ''}"


def n_rows(columns: Mapping[Any, Sequence[Any]]) -> int:
    """The length of equal-length ``columns`` (0 without columns).

    Examples
    --------
    >>> n_rows({"step": ["view", "buy"], "n": [10, 4]}), n_rows({})
    (2, 0)
    """
    return len(next(iter(columns.values()))) if columns else 0


def html_table(caption: str, columns: Mapping[Any, Sequence[Any]], total: int) -> str:
    """An HTML table of the first rows of equal-length ``columns`` (all of them are shown),
    under ``caption``, then how many of the ``total`` rows are hidden.

    Examples
    --------
    >>> page = html_table("Funnel (3 rows)", {"step": ["view", "buy"], "n": [10, 4]}, 3)
    >>> page.startswith("<table><caption>Funnel (3 rows)</caption>"), page.count("<tr>")
    (True, 3)
    >>> page.endswith("<p>… 1 more row</p>")
    True
    """
    shown = n_rows(columns)
    head = "".join(f"<th>{html.escape(inert(str(name)))}</th>" for name in columns)
    cells = [[_html_clipped(v) for v in values] for values in columns.values()]
    body = "".join(
        "<tr>" + "".join(f"<td>{col[i]}</td>" for col in cells) + "</tr>" for i in range(shown)
    )
    return (
        f"<table><caption>{html.escape(inert(caption))}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" + more_rows(total, shown)
    )


def html_record(caption: str, figures: Mapping[str, Any]) -> str:
    """A two-column HTML table of named figures under ``caption``.

    Examples
    --------
    >>> html_record("RateResult", {"value": 0.25, "ci": (0.2, 0.31), "n": 400})
    '<table><caption>RateResult</caption><tr><th>value</th><td>0.25</td></tr><tr><th>ci</th><td>(0.2, 0.31)</td></tr><tr><th>n</th><td>400</td></tr></table>'
    """
    body = "".join(
        f"<tr><th>{html.escape(inert(name))}</th><td>{_html_clipped(value)}</td></tr>"
        for name, value in figures.items()
    )
    return f"<table><caption>{html.escape(inert(caption))}</caption>{body}</table>"


def text_table(columns: Mapping[Any, Sequence[Any]], total: int) -> list[str]:
    """The first rows of equal-length ``columns`` as aligned text lines of at most
    :data:`TEXT_WIDTH` characters (columns that do not fit are left out and counted), then
    how many of the ``total`` rows are hidden.

    Numbers are aligned right, everything else left; a cell is cut at 24 characters, and
    characters that would break the layout (newlines, tabs, ...) are shown escaped.

    Examples
    --------
    >>> print("\\n".join(text_table({"step": ["view", "add_to_cart"], "n": [1200, 85]}, 3)))
    step            n
    view         1200
    add_to_cart    85
    … 1 more row
    """
    shown = n_rows(columns)
    lines = [""] * (shown + 1)
    used = 0
    for count, (name, values) in enumerate(columns.items()):
        head = clip(printable(str(name)), _TEXT_CELL)
        cells = [clip(printable(format_value(v)), _TEXT_CELL) for v in values]
        width = max([len(head), *(len(c) for c in cells)])
        if count and used + 2 + width > TEXT_WIDTH:
            break
        right = all(is_number(v) for v in values) and shown > 0
        for i, cell in enumerate([head, *cells]):
            aligned = cell.rjust(width) if right else cell.ljust(width)
            lines[i] += ("  " if count else "") + aligned
        used += (2 if count else 0) + width
    else:
        count = len(columns)
    lines = [line.rstrip() for line in lines]
    notes = []
    if total > shown:
        notes.append(_hidden(total - shown, "row"))
    if count < len(columns):
        notes.append(_hidden(len(columns) - count, "column"))
    if notes:
        lines.append(", ".join(notes))
    return lines


# characters of the data that would act on a page or a figure rather than show: control
# characters (but tab and newlines, whitespace on a page), the bidirectional embeddings,
# overrides and isolates, which reorder the text after them (a right-to-left override in a kind
# reverses the numbers that follow it), the invisible ones that make two names look the same
# ("C001" and "C001" with a zero-width space, a word joiner or a byte-order mark) or break a
# line (the line and paragraph separators), and the noncharacters no XML may hold; the joiners
# of emoji and of Indic and Persian words are kept
_ACTING = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufeff\ufffe\uffff]"
)
_BREAKS = re.compile("[\t\n\r]")


def inert(text: str, *, breaks: bool = False) -> str:
    """``text`` with each character that would act on a page or a figure rather than show
    (:data:`_ACTING`) written as its escape (``\\u202e``); with ``breaks``, tabs and newlines
    too (a label's line of its own, a glyph no font has).

    Examples
    --------
    >>> inert("\\u202eweiv"), inert("a\\x00b"), inert("C1\\u200b"), inert("a\\nb", breaks=True)
    ('\\\\u202eweiv', 'a\\\\x00b', 'C1\\\\u200b', 'a\\\\nb')
    >>> inert("a\\nb"), inert("می\\u200cخواهم") == "می\\u200cخواهم"
    ('a\\nb', True)
    """
    shown = _ACTING.sub(lambda m: repr(m.group())[1:-1], text)
    return _BREAKS.sub(lambda m: repr(m.group())[1:-1], shown) if breaks else shown


def printable(text: str) -> str:
    """``text`` with each character that is not printable written as its escape: text of the
    data shown on a terminal (escape sequences, newlines, bidirectional overrides) shows as
    written instead of acting on it.

    Examples
    --------
    >>> printable("ok"), printable("a\\nb"), printable("\\x1b[2J")
    ('ok', 'a\\\\nb', '\\\\x1b[2J')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a number (a bool is not one here).

    Examples
    --------
    >>> is_number(2.5), is_number(np.int64(3)), is_number(True)
    (True, True, False)
    """
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)
