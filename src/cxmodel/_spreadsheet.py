"""Text cells of the CSV files cxmodel writes, made safe to open in a spreadsheet, and read back.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and a
tab or carriage return before one hides it (CSV injection: a customer id or a payload value
``=HYPERLINK(...)`` in an exported file becomes a link, or a command, when the file is
opened). Following OWASP's advice, a text cell that starts with one of these characters is
written with a single quote before it, which a spreadsheet shows as text and does not display.

So that a file read back gives the text written, a cell that already starts with a single
quote gets one more: the rule is then one-to-one. Reading drops the first character of a
cell that starts with a quote followed by one of those characters or by another quote, and
leaves every other cell as it is (a cell the writer never marked, ``'t Hooft``, keeps its
quote). Numbers written as numbers (a float column's ``-5.0``) are not text and are never
marked.

A column written so holds no text cell a spreadsheet would run and no quote the writer did
not put. A column that holds one (``-5`` as text, ``'t Hooft``, a lone quote) was written by
something else, so its quotes are its data: reading keeps every cell of it as it is, where
dropping the first quote of ``'-)`` would change a customer's words in silence.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "MARK",
    "RISKY",
    "may_hold_marks",
    "spreadsheet_cell",
    "spreadsheet_column",
    "unmarked",
    "unmarked_arrow",
]

MARK = "'"
"""The character put before a text cell a spreadsheet would read as a formula."""

RISKY = ("=", "+", "-", "@", "\t", "\r", MARK)
"""The first characters that get :data:`MARK` before them: a formula's, and the mark itself
(so that a cell that really starts with a quote reads back exactly)."""

_RISKY_CHARS = "".join({"-": "\\-", "\t": "\\t", "\r": "\\r"}.get(c, c) for c in RISKY)
"""The characters of :data:`RISKY` as the inside of a regular expression's class."""

_MARKED = f"^'[{_RISKY_CHARS}]"
"""A cell the writer marked, as a regular expression (RE2 and Python's ``re`` alike)."""

_MARK_ANYWHERE = re.compile(_MARKED[1:])
"""A mark followed by a risky character anywhere in a text: where there is none, no cell of
the text was marked."""


def may_hold_marks(text: str) -> bool:
    """Whether a cell of CSV ``text`` may carry the writer's mark: a quote followed by a
    risky character somewhere in it (one pass of a regular expression over the text, so
    that a file without marks skips :func:`unmarked` and its pass over every cell).

    Examples
    --------
    >>> may_hold_marks("id,note\\nc1,it's fine\\n"), may_hold_marks("id\\n'=1\\n")
    (False, True)
    """
    return _MARK_ANYWHERE.search(text) is not None


def spreadsheet_cell(text: str) -> str:
    """``text`` as written to a CSV cell: with :data:`MARK` before it when it starts with a
    character of :data:`RISKY`.

    Examples
    --------
    >>> spreadsheet_cell("=HYPERLINK(\\"http://x\\")"), spreadsheet_cell("-2+3")
    ('\\'=HYPERLINK("http://x")', "'-2+3")
    >>> spreadsheet_cell("'quoted"), spreadsheet_cell("c-1"), spreadsheet_cell("")
    ("''quoted", 'c-1', '')
    """
    return MARK + text if text.startswith(RISKY) else text


def spreadsheet_column(values: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """An object column of text (``None`` or ``""`` for missing) with every risky text cell
    marked (:func:`spreadsheet_cell`).

    Examples
    --------
    >>> spreadsheet_column(np.array(["@SUM(A1)", None, "ok", "+1"], dtype=object)).tolist()
    ["'@SUM(A1)", None, 'ok', "'+1"]
    """
    out = np.array(values, dtype=object, copy=True)
    out[:] = [spreadsheet_cell(v) if isinstance(v, str) else v for v in out.tolist()]
    return out


_NOT_MARKED = f"^([{_RISKY_CHARS[:-1]}]|'([^{_RISKY_CHARS}]|$))"
"""A cell the writer would have marked and did not, or a quote it did not put (before a
harmless character, or alone), as a regular expression (RE2 and Python's ``re`` alike): a
column holding one was not written with marks."""


def unmarked(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An object column read from CSV with the writer's marks taken off (the first
    character of each text cell that starts with :data:`MARK` followed by a character of
    :data:`RISKY`), when the column was written with marks (it holds no text cell that starts
    with a character of :data:`RISKY` otherwise); any other column is returned as it is.

    Examples
    --------
    >>> unmarked(np.array(["'=1", "''x", "c-1", None], dtype=object)).tolist()
    ['=1', "'x", 'c-1', None]
    >>> unmarked(np.array(["'-)", "'t Hooft"], dtype=object)).tolist()  # not written so
    ["'-)", "'t Hooft"]
    """
    if values.dtype != object:
        return values
    marked = []
    for i, v in enumerate(values.tolist()):
        if isinstance(v, str) and v.startswith(RISKY):
            if v[0] != MARK:
                return values  # a formula the writer would have marked
            if len(v) < 2 or v[1] not in RISKY:
                return values  # a quote the writer did not put
            marked.append(i)
    if not marked:
        return values
    out: npt.NDArray[Any] = values.copy()
    out[marked] = [v[1:] for v in out[marked].tolist()]
    return out


def unmarked_arrow(text: Any) -> Any:
    """A pyarrow string array (or chunked array) read from CSV with the writer's marks taken
    off, as :func:`unmarked`; the array itself when no cell starts with :data:`MARK`, found
    without a regular expression, or when the column was not written with marks.

    Examples
    --------
    >>> import pyarrow as pa
    >>> unmarked_arrow(pa.array(["'+1", None, "''x"])).to_pylist()
    ['+1', None, "'x"]
    >>> unmarked_arrow(pa.array(["'+1", "'x"])).to_pylist()  # not written so
    ["'+1", "'x"]
    """
    import pyarrow.compute as pc

    if not pc.any(pc.starts_with(text, MARK)).as_py():
        return text
    if pc.any(pc.match_substring_regex(text, _NOT_MARKED)).as_py():
        return text
    marked = pc.match_substring_regex(text, _MARKED)
    return pc.if_else(marked, pc.utf8_slice_codeunits(text, 1), text)
