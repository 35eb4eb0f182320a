"""Text cells of the CSV files cxmodel writes: formulas neutralised, read back exactly."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel._spreadsheet import (
    RISKY,
    spreadsheet_cell,
    spreadsheet_column,
    unmarked,
    unmarked_arrow,
)

ATTACKS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]

# text that starts with the characters that matter more often than st.text() alone would
TEXT = st.one_of(st.text(), st.builds(str.__add__, st.sampled_from(RISKY), st.text()))


class TestCell:
    @pytest.mark.parametrize("attack", ATTACKS)
    def test_a_formula_is_marked(self, attack: str) -> None:
        assert spreadsheet_cell(attack) == "'" + attack

    @pytest.mark.parametrize("text", ["c1", "a=b", "1-2", "", " =1", "é"])
    def test_other_text_is_kept(self, text: str) -> None:
        assert spreadsheet_cell(text) == text

    def test_a_leading_quote_is_doubled(self) -> None:
        assert spreadsheet_cell("'quoted") == "''quoted"
        assert unmarked(np.array(["''quoted"], dtype=object)).tolist() == ["'quoted"]

    def test_quotes_the_writer_never_added_are_kept(self) -> None:
        values = np.array(["'t Hooft", "'", "'a'", None], dtype=object)
        assert unmarked(values).tolist() == values.tolist()

    def test_number_columns_are_not_touched(self) -> None:
        values = np.array([-5.0, 1.0])
        assert unmarked(values) is values

    @given(TEXT)
    def test_round_trip(self, text: str) -> None:
        written = spreadsheet_cell(text)
        assert not written.startswith(RISKY[:-1])  # nothing a spreadsheet runs
        assert unmarked(np.array([written], dtype=object)).tolist() == [text]
        assert unmarked_arrow(pa.array([written])).to_pylist() == [text]

    @given(st.lists(st.one_of(st.none(), TEXT)))
    def test_columns_agree_with_cells(self, values: list[str | None]) -> None:
        column = np.empty(len(values), dtype=object)
        column[:] = values
        marked = spreadsheet_column(column)
        assert marked.tolist() == [None if v is None else spreadsheet_cell(v) for v in values]
        assert unmarked(marked).tolist() == values
        assert unmarked_arrow(pa.array(marked.tolist(), pa.string())).to_pylist() == values

    @given(st.lists(TEXT, min_size=1))
    def test_through_the_csv_module(self, values: list[str]) -> None:
        """Written by csv.writer and read by csv.reader, every cell comes back as written."""
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerow([spreadsheet_cell(v) for v in values])
        (row,) = csv.reader(io.StringIO(buffer.getvalue(), newline=""))
        assert unmarked(np.array(row, dtype=object)).tolist() == values
