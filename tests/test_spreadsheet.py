"""Text cells of the CSV files cxmodel writes: formulas neutralised, read back exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

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
from cxmodel.io import read_csv

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


class TestColumnsNotWrittenWithMarks:
    """A column written by something else keeps its quotes: it holds a cell the writer would
    have marked (``-5``, ``=1``) or a quote the writer did not put (``'t Hooft``, ``'``), so a
    quote before ``-`` in it (``'-)``, a customer's words) is its data, not a mark."""

    @pytest.mark.parametrize("other", ["'t Hooft", "'", "-5", "=1", "+44 20", "@home", "\tx"])
    def test_a_quote_before_a_formula_character_is_kept(self, other: str) -> None:
        values = np.array(["'-)", other, None, "ok"], dtype=object)
        assert unmarked(values) is values
        assert unmarked_arrow(pa.array(values.tolist(), pa.string())).to_pylist() == list(values)

    @given(st.lists(st.one_of(st.none(), TEXT)))
    def test_a_column_changes_only_when_the_writer_could_have_written_it(
        self, values: list[str | None]
    ) -> None:
        """Reading is one-to-one: a column it changes is exactly what the writer makes of
        the column it gives back."""
        column = np.empty(len(values), dtype=object)
        column[:] = values
        read = unmarked(column)
        arrow = unmarked_arrow(pa.array(values, pa.string())).to_pylist()
        assert arrow == read.tolist()
        if read is not column:
            assert spreadsheet_column(read).tolist() == values

    @pytest.mark.parametrize("engine", ["pyarrow", "python"])
    def test_read_csv_keeps_a_file_written_elsewhere(self, tmp_path: Path, engine: str) -> None:
        path = tmp_path / "answers.csv"
        path.write_text(
            "customer_id,timestamp,kind,comment\n"
            "c1,2024-01-01T00:00:00Z,survey,'-) fine\n"
            "c2,2024-01-02T00:00:00Z,survey,'t was ok\n"
            "c3,2024-01-03T00:00:00Z,survey,'=marked?\n",
            encoding="utf-8",
        )
        log = read_csv(path, engine=engine)  # type: ignore[arg-type]
        assert log.to_pandas()["comment"].tolist() == ["'-) fine", "'t was ok", "'=marked?"]
