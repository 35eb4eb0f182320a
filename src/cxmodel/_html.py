"""Shared pieces of the results' ``_repr_html_``: readable cells and a capped row count."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

__all__ = ["MAX_ROWS", "format_value", "html_cell", "more_rows"]

MAX_ROWS = 20
"""The rows a result's HTML shows; the rest are counted in a "… N more rows" line."""


def format_value(value: Any) -> str:
    """A value as short text: floats to 4 significant digits (large ones with thousands
    separators), tuples element by element, anything else as ``str``.

    Examples
    --------
    >>> format_value(-2.127659574468088), format_value((-17.157145922, 12.901826773))
    ('-2.128', '(-17.16, 12.9)')
    >>> format_value(20841.25), format_value(float("nan")), format_value(3), format_value(None)
    ('20,841', 'NaN', '3', 'None')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value) or abs(value) < 1e4:
            return f"{value:.4g}"
        return f"{value:,.0f}"
    return str(value)


def html_cell(value: Any) -> str:
    """:func:`format_value`, escaped for HTML.

    Examples
    --------
    >>> html_cell("<b>"), html_cell(0.98521614)
    ('&lt;b&gt;', '0.9852')
    """
    return html.escape(format_value(value))


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
    return f"<p>… {hidden:,} more row{'s' if hidden != 1 else ''}</p>"
