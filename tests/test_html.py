"""The renderer behind every result's HTML view and repr: capped, escaped, width-bound tables."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cxmodel._html import MAX_ROWS, TEXT_WIDTH, html_record, html_table, text_table

CELLS = st.one_of(
    st.text(max_size=60),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
)


@st.composite
def tables(draw: Any) -> tuple[dict[str, list[Any]], int]:
    """Equal-length columns (the shown rows) and a total at least as large."""
    n = draw(st.integers(0, 8))
    names = draw(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=12, unique=True))
    columns = {name: draw(st.lists(CELLS, min_size=n, max_size=n)) for name in names}
    return columns, n + draw(st.integers(0, 3))


class TestTextTable:
    @given(tables())
    def test_lines_fit_the_width(self, table: tuple[dict[str, list[Any]], int]) -> None:
        """Every line fits in ``TEXT_WIDTH`` characters, whatever the cells hold."""
        columns, total = table
        assert all(len(line) <= TEXT_WIDTH for line in text_table(columns, total))

    @given(tables())
    def test_rows_and_notes(self, table: tuple[dict[str, list[Any]], int]) -> None:
        """A header, one line per shown row, and a note when rows or columns are left out."""
        columns, total = table
        shown = len(next(iter(columns.values())))
        lines = text_table(columns, total)
        assert all(len(line.splitlines()) <= 1 for line in lines)  # no cell breaks a line
        body = shown + 1
        assert len(lines) in (body, body + 1)
        hidden_rows = total - shown
        if hidden_rows:
            assert f"… {hidden_rows:,} more row" in lines[-1]

    def test_wide_table_counts_columns_left_out(self) -> None:
        """Columns past the width are counted, not wrapped."""
        columns = {f"column_{i:02d}": [1.5] for i in range(20)}
        lines = text_table(columns, 1)
        assert re.fullmatch(r"… \d+ more columns", lines[-1])
        assert "column_00" in lines[0] and "column_19" not in lines[0]


class TestHtmlTable:
    @given(tables())
    def test_rows_capped_and_text_escaped(self, table: tuple[dict[str, list[Any]], int]) -> None:
        """One header row and one row per shown row; no cell can open a tag."""
        columns, total = table
        shown = len(next(iter(columns.values())))
        page = html_table("caption <i>", columns, total)
        assert page.count("<tr>") == shown + 1
        text = re.sub(r"</?(table|caption|thead|tbody|tr|th|td|p)>", "", page)
        assert "<" not in text

    def test_more_rows_line(self) -> None:
        """Hidden rows are counted under the table."""
        page = html_table("t", {"n": np.arange(MAX_ROWS)}, 1_234)
        assert page.endswith(f"<p>… {1_234 - MAX_ROWS:,} more rows</p>")

    def test_long_cells_are_cut_before_escaping(self) -> None:
        """A long cell is cut to 60 characters of text, never inside an HTML entity."""
        page = html_table("t", {"payload": [{"k": "'" * 100}]}, 1)
        cell = re.search(r"<td>(.*)</td>", page)
        assert cell is not None and cell.group(1).endswith("…")
        assert not re.search(r"&[#\w]*…", cell.group(1))


def test_record_table() -> None:
    """A record is a caption and one row per figure, values short and escaped."""
    assert html_record("X", {"a": 1 / 3, "b": "<"}) == (
        "<table><caption>X</caption><tr><th>a</th><td>0.3333</td></tr>"
        "<tr><th>b</th><td>&lt;</td></tr></table>"
    )
