"""Text whose fields are separated by runs of white space (``delimiter="whitespace"``).

Such files (the CDNOW transactions, the output of many command-line tools and fixed-width
exports) align their columns with spaces: one record per line, any run of spaces and tabs
between two fields, white space at the start and end of a line ignored. Quotes are not special:
a ``"`` is a character of its field, so a field cannot hold white space (a value such as
``New York`` splits into two fields and its row is rejected for having one field too many).
"""

from __future__ import annotations

__all__ = ["WHITESPACE", "whitespace_rows"]

WHITESPACE = "whitespace"
"""The ``delimiter`` that separates fields by runs of white space."""


def whitespace_rows(text: str) -> tuple[list[str] | None, list[list[str]]]:
    """The header and the data rows of ``text``: each line split on runs of white space.

    Lines end at ``\\n`` (a ``\\r`` before it is white space); blank lines are skipped and are
    not rows. The header is ``None`` when every line is blank.

    Examples
    --------
    >>> whitespace_rows(" id  date\\tcds\\r\\n 00001 19970101  1\\r\\n\\n 00002 19970112 \\t5\\r\\n")
    (['id', 'date', 'cds'], [['00001', '19970101', '1'], ['00002', '19970112', '5']])
    >>> whitespace_rows('a b\\n"x y" z\\n')
    (['a', 'b'], [['"x', 'y"', 'z']])
    """
    rows = [fields for fields in (line.split() for line in text.split("\n")) if fields]
    if not rows:
        return None, []
    return rows[0], rows[1:]
