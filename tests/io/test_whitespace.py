"""``delimiter="whitespace"``: fields separated by runs of spaces and tabs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cxmodel as cx
from cxmodel.cli import main
from cxmodel.errors import DataWarning, SchemaError
from cxmodel.io import read_csv

CSV = (
    "customer_id,timestamp,kind,value\n"
    "00001,1997-01-01T00:00:00Z,purchase,11.77\n"
    "00002,1997-01-12T00:00:00Z,purchase,12.00\n"
    "00002,1997-01-12T00:00:00Z,refund,5\n"
)


def _write(tmp_path: Path, text: str, name: str = "data.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


class TestWhitespace:
    @pytest.mark.parametrize(
        "text",
        [
            "customer_id timestamp kind value\n"
            "00001 1997-01-01T00:00:00Z purchase 11.77\n"
            "00002 1997-01-12T00:00:00Z purchase 12.00\n"
            "00002 1997-01-12T00:00:00Z refund 5\n",
            "  customer_id   timestamp  kind  value  \r\n"
            " 00001  1997-01-01T00:00:00Z purchase   11.77\r\n"
            "\r\n"
            "   00002 1997-01-12T00:00:00Z  purchase  12.00 \r\n"
            "00002 1997-01-12T00:00:00Z refund 5\r\n\r\n",
            "customer_id\ttimestamp \t kind\t\tvalue\n"
            "\t00001 \t1997-01-01T00:00:00Z\tpurchase\t11.77\n"
            "00002\t \t1997-01-12T00:00:00Z  \t purchase   12.00\n"
            "  \t  \n"
            "00002 1997-01-12T00:00:00Z\trefund\t5\t\n",
        ],
        ids=["single-spaces", "leading-trailing-crlf-blank", "tabs-and-spaces"],
    )
    def test_reads_as_the_csv(self, tmp_path: Path, text: str) -> None:
        """Runs of spaces and tabs, leading and trailing white space, CRLF and blank lines read
        the log the comma-separated file gives, with the same row numbers."""
        expected = read_csv(_write(tmp_path, CSV, "data.csv"))
        assert read_csv(_write(tmp_path, text), delimiter="whitespace") == expected

    def test_a_missing_value_cannot_be_written(self, tmp_path: Path) -> None:
        """No field is empty: a row without its last value has a field too few and is a bad
        row, never a row with a missing value."""
        text = "customer_id timestamp kind value\na 2024-01-01T00:00:00Z view\n"
        with pytest.raises(SchemaError, match="row 1: the row has 3 fields, expected 4"):
            read_csv(_write(tmp_path, text), delimiter="whitespace")

    def test_quotes_are_not_special(self, tmp_path: Path) -> None:
        """A quote is a character of its field: ``"a"`` keeps its quotes, and a quoted value
        holding a space is two fields, so its row has one too many and is rejected."""
        text = (
            "customer_id timestamp kind city\n"
            '"a" 2024-01-01T00:00:00Z view Paris\n'
            'b 2024-01-01T00:00:00Z view "New York"\n'
        )
        with pytest.warns(DataWarning, match="1 of 2 rows rejected"):
            log = read_csv(_write(tmp_path, text), delimiter="whitespace", errors="quarantine")
        assert log.customers.tolist() == ['"a"']
        assert log.rejected.row.tolist() == [2]
        assert "the row has 5 fields, expected 4" in log.rejected.reason[0]
        assert log.rejected.records[0]["_extra_fields"] == ['York"']

    def test_a_ragged_row_is_named(self, tmp_path: Path) -> None:
        """A row with a field too few is a bad row with its number, as in a CSV."""
        text = "customer_id timestamp kind\na 2024-01-01T00:00:00Z view\nb view\n"
        with pytest.raises(SchemaError, match="row 2: the row has 2 fields, expected 3"):
            read_csv(_write(tmp_path, text), delimiter="whitespace")

    @pytest.mark.parametrize("text", ["", "  \n\t\n"], ids=["empty", "blank"])
    def test_an_empty_file_is_refused(self, tmp_path: Path, text: str) -> None:
        """A file of white space is empty, as for CSV."""
        with pytest.raises(SchemaError, match="the file is empty"):
            read_csv(_write(tmp_path, text), delimiter="whitespace")

    @pytest.mark.parametrize("engine", ["auto", "pyarrow", "python"])
    def test_every_engine_splits_on_white_space(self, tmp_path: Path, engine: str) -> None:
        """The standard library splits the file whatever the engine: the same log."""
        text = "customer_id timestamp kind\na  2024-01-01T00:00:00Z  view\n"
        log = read_csv(_write(tmp_path, text), delimiter="whitespace", engine=engine)  # type: ignore[arg-type]
        assert log.column("kind").tolist() == ["view"]

    @pytest.mark.parametrize("delimiter", ["", ";;", "\n", '"', "spaces", None], ids=repr)
    def test_a_bad_delimiter_names_whitespace(self, tmp_path: Path, delimiter: object) -> None:
        """A delimiter that is neither one character nor "whitespace" says what is accepted."""
        with pytest.raises(SchemaError, match="or 'whitespace' for fields separated by runs"):
            read_csv(_write(tmp_path, CSV), delimiter=delimiter)  # type: ignore[arg-type]

    def test_the_cdnow_master_file(self) -> None:
        """CDNOW's master file as published (whitespace separated, no kind column, CRLF, gzip)
        reads into the log ``cx.datasets.cdnow()`` gives."""
        path = resources.files("cxmodel.datasets").joinpath("data", "cdnow_master.txt.gz")
        log = read_csv(
            str(path),
            delimiter="whitespace",
            kind="purchase",
            mapping={"date": "timestamp", "dollar_value": "value", "number_of_cds": "quantity"},
            dtypes={"quantity": "float"},
            timezone="UTC",
        )
        assert (len(log), log.n_customers) == (69_659, 23_570)
        assert log == cx.datasets.cdnow()
        assert log.observed_until == cx.datasets.cdnow().observed_until

    def test_the_command_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """``--delimiter whitespace`` reads such a file from the command line."""
        path = _write(tmp_path, "customer_id  timestamp  kind\n a  2024-01-01T00:00:00Z\tview\n")
        assert main(["summary", str(path), "--delimiter", "whitespace"]) == 0
        assert "kinds        view 1" in capsys.readouterr().out


_TOKEN = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=6)
_GAP = st.text(" \t", min_size=1, max_size=4)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(_TOKEN, st.sampled_from(["view", "purchase"]), _TOKEN), min_size=1, max_size=8
    ),
    gaps=st.lists(_GAP, min_size=40, max_size=40),
    lead=st.sampled_from(["", " ", "\t ", "   "]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_white_space_reads_as_the_csv(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, str, str]],
    gaps: list[str],
    lead: str,
    newline: str,
) -> None:
    """Whatever runs of spaces and tabs separate the fields, and whatever leads the lines, the
    file reads as the same rows written comma-separated."""
    folder = tmp_path_factory.mktemp("ws")
    table = [("customer_id", "timestamp", "kind", "note")] + [
        (c, f"2024-01-{1 + i % 28:02d}T00:00:00Z", k, n) for i, (c, k, n) in enumerate(rows)
    ]
    spaced = []
    for i, fields in enumerate(table):
        gap = gaps[(4 * i) % 40 : (4 * i) % 40 + 3]
        spaced.append(lead + "".join(f + g for f, g in zip(fields, [*gap, ""], strict=True)))
    commas = [",".join(fields) for fields in table]
    dtypes = {"note": "string"}
    expected = read_csv(_write(folder, "\n".join(commas) + "\n", "d.csv"), dtypes=dtypes)
    text = newline.join(spaced) + newline
    assert read_csv(_write(folder, text), delimiter="whitespace", dtypes=dtypes) == expected
